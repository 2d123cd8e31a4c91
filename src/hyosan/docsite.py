"""The documentation site (MkDocs + Material + mkdocstrings): its generated pages and its build.

This module is also the site's MkDocs hook (``hooks:`` in mkdocs.yml): at build time it writes the
reference pages from the code itself, so they cannot drift from it:

- ``reference/scenario-keys.md``: every scenario key, default and unit, from the schema
  (:func:`hyosan.scenario.reference.markdown`, which docs/scenarios.md embeds too);
- ``reference/models.md``: the compartment-model catalogue (equations, parameters, sources);
- ``reference/cli.md``: every ``hyosan`` command, its arguments and options, from the CLI itself.

:func:`build` builds the site (``hyosan docs``) with warnings as errors, so a broken link, a
missing page or a page left out of the navigation stops the build.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

from hyosan.errors import HyosanError

#: The source checkout this module sits in (mkdocs.yml and docs/ live there, not in the wheel).
REPO = Path(__file__).resolve().parents[2]
#: The marker format of a folder ``hyosan docs`` wrote.
DOCS_FORMAT = "hyosan-docs/1"

GENERATED_NOTE = (
    "> Generated from the code when the site is built (`src/hyosan/docsite.py`): it cannot drift from it."
)


def scenario_keys_page() -> str:
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    from hyosan.scenario.reference import markdown

    return (
        "# Scenario keys\n\n"
        f"{GENERATED_NOTE}\n\n"
        "Every key of a scenario file, its type, default and meaning (units in the meaning). "
        "The guide to writing scenarios is [Scenarios](../scenarios.md); any key can be changed "
        "from the command line with `--set section.key=value` "
        "([Change a value or an event](../how-to/set-values.md)).\n\n" + markdown()
    )


def models_page() -> str:
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    from hyosan.compartmental.catalogue import markdown
    from hyosan.models import names

    listing = "\n".join(f"- `{n}`" for n in names())
    return (
        "# Model catalogue\n\n"
        f"{GENERATED_NOTE}\n\n"
        "The compartment models `hyosan model NAME` and `hyosan.models.get(NAME)` know:\n\n"
        f"{listing}\n\n"
        "How to solve them and what the solvers guarantee: [Compartment models](../models.md).\n\n"
        + markdown()
    )


def _cell(text: str) -> str:
    """Help text for a Markdown table cell: rich's escapes undone, pipes escaped, one line."""
    return " ".join(text.replace("\\[", "[").split()).replace("|", "\\|")


def _paragraphs(text: str) -> str:
    text = text.replace("\\[", "[").partition("\f")[0]
    return "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip())


def cli_page() -> str:
    """Every command of ``hyosan`` with its usage, help and a table of its arguments and options."""
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    import typer

    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    from hyosan.cli import app, plain_metavars

    root = typer.main.get_command(app)
    plain_metavars(root)
    lines = [
        "# Command line",
        "",
        GENERATED_NOTE,
        "",
        "`hyosan COMMAND --help` prints the same. Mistakes (a bad flag, file or value) print one "
        "line naming the problem and exit with status 2.",
        "",
    ]
    ctx = root.context_class(root, info_name="hyosan")  # Typer's own click, not the click package
    for name in root.list_commands(ctx):
        command = root.get_command(ctx, name)
        sub = command.context_class(command, info_name=name, parent=ctx)
        usage = " ".join(command.collect_usage_pieces(sub))
        lines += [f"## hyosan {name}", "", "```", f"hyosan {name} {usage}", "```", ""]
        lines += [_paragraphs(command.help or ""), ""]
        rows = []
        for param in command.params:
            if param.param_type_name == "argument":
                label = (param.metavar or param.name or "").upper()
                help_text = getattr(param, "help", None) or ""
                rows.append((f"`{label}`", "", "required" if param.required else "", _cell(help_text)))
                continue
            names = " / ".join([", ".join(param.opts), ", ".join(param.secondary_opts)]).strip(" /")
            default = param.default
            shown = ""
            if param.show_default is not False and default not in (None, (), []) and not callable(default):
                shown = f"`{str(default).lower() if isinstance(default, bool) else default}`"
                if isinstance(default, bool) and param.secondary_opts:
                    shown = f"`{param.opts[0] if default else param.secondary_opts[0]}`"
                elif isinstance(default, bool) and not default:
                    shown = ""
            rows.append(
                (f"`{names}`", f"`{param.metavar}`" if param.metavar else "", shown, _cell(param.help or ""))
            )
        if rows:
            lines += ["| argument or option | takes | default | meaning |", "|---|---|---|---|"]
            lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
            lines.append("")
    return "\n".join(lines)


#: Pages written at build time, by their path in the site.
GENERATED: dict[str, Callable[[], str]] = {
    "reference/scenario-keys.md": scenario_keys_page,
    "reference/models.md": models_page,
    "reference/cli.md": cli_page,
}


# -- the MkDocs hook -------------------------------------------------------------------------------
def on_files(files, config):
    """MkDocs hook: add the generated reference pages."""
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    from mkdocs.structure.files import File

    for path, make in GENERATED.items():
        existing = files.get_file_from_path(path)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, path, content=make()))
    return files


_ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|exc|obj):(<code>)")


def on_page_content(html, page, config, files):
    """MkDocs hook: docstrings' Sphinx roles (``:func:`x```) shown as plain code, not as ``:func:``."""
    return _ROLE.sub(r"\1", html)


# -- building --------------------------------------------------------------------------------------
def config_file() -> Path:
    """mkdocs.yml of the source checkout (the current folder's, else the one beside this package)."""
    for candidate in (Path.cwd() / "mkdocs.yml", REPO / "mkdocs.yml"):
        if candidate.is_file() and (candidate.parent / "docs").is_dir():
            return candidate
    raise HyosanError(
        "needs a source checkout of hyosan (mkdocs.yml beside docs/): run it from there", source="docs"
    )


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(" ".join(record.getMessage().split()))


def build(out: str | Path, source: str | None = None) -> Path:
    """Build the site into ``out`` (a new folder, or one ``hyosan docs`` wrote: replaced whole) with
    warnings as errors; returns the path of its index.html. The first warning becomes the error."""
    try:
        # lazy: loaded only when this runs (a light import of the module above, or a cycle)
        # lazy: loaded only when this runs (a light import of the module above, or a cycle)
        from mkdocs.commands.build import build as mkdocs_build
        from mkdocs.config import load_config
        from mkdocs.exceptions import MkDocsException
    except ImportError:
        raise HyosanError('needs the docs extra: pip install "hyosan[docs]"', source="docs") from None
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    from hyosan.io import atomic_dir

    yml = config_file()
    caught = _Warnings()
    logger = logging.getLogger("mkdocs")
    with atomic_dir(out, source, fmt=DOCS_FORMAT) as tmp:
        logger.addHandler(caught)
        try:
            config = load_config(str(yml), site_dir=str(tmp), strict=True)
            mkdocs_build(config)
        except (MkDocsException, SystemExit) as exc:
            first = caught.messages[0] if caught.messages else str(exc)
            raise HyosanError(f"the site did not build: {first}", source=str(yml.name)) from None
        finally:
            logger.removeHandler(caught)
    return Path(out) / "index.html"


def serve(port: int) -> None:
    """Serve the site at http://127.0.0.1:PORT/ with live reload (MkDocs' own server)."""
    try:
        # lazy: loaded only when this runs (a light import of the module above, or a cycle)
        from mkdocs.commands.serve import serve as mkdocs_serve
    except ImportError:
        raise HyosanError('needs the docs extra: pip install "hyosan[docs]"', source="docs") from None
    mkdocs_serve(str(config_file()), dev_addr=f"127.0.0.1:{port}", strict=True)
