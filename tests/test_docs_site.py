"""The documentation site builds offline with warnings as errors, every internal link and anchor
resolves, the references are generated from the code, and README points only at pages that exist."""

from __future__ import annotations

import contextlib
import io
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

pytest.importorskip("mkdocs")
pytest.importorskip("material")
pytest.importorskip("mkdocstrings_handlers.python")
yaml = pytest.importorskip("yaml")

from hyosan.cli import main  # noqa: E402
from hyosan.errors import HyosanError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def nav_pages() -> list[str]:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    out: list[str] = []

    def walk(node):
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)

    walk(config["nav"])
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs") / "site"
    buf = io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(buf):
            main(["docs", "--out", str(out)])
    finally:
        os.chdir(cwd)
    return out, buf.getvalue()


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        for key in ("href", "src"):
            if a.get(key):
                self.links.append((tag, a[key]))


def parse(path: Path) -> Links:
    p = Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_the_site_builds_with_every_page(site):
    out, printed = site
    assert f"written: {out / 'index.html'}" in " ".join(printed.split())
    pages = nav_pages()
    assert len(pages) == len(set(pages))
    for page in pages:
        assert (out / page.replace(".md", ".html")).is_file(), page
    # every existing guide is a page of the site, at its own path, and in the navigation
    for md in DOCS.glob("*.md"):
        assert md.name in pages, f"docs/{md.name} is not in mkdocs.yml's nav"
    assert (out / ".hyosan.json").is_file()  # a folder hyosan made: the next build may replace it


def test_every_internal_link_and_anchor_resolves(site):
    out, _ = site
    parsed = {p: parse(p) for p in out.rglob("*.html")}
    checked = 0
    for page, p in parsed.items():
        for tag, link in p.links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//"):
                continue
            if parts.path.startswith("/"):  # 404.html: root-relative, served from the site's root
                target = out / unquote(parts.path).lstrip("/")
            else:
                target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            assert target.is_file(), f"{page.relative_to(out)}: <{tag}> {link}"
            if parts.fragment and target.suffix == ".html" and target in parsed:
                assert unquote(parts.fragment) in parsed[target].ids, f"{page.relative_to(out)}: {link}"
            checked += 1
    assert checked > 1000


def test_the_site_needs_no_network(site):
    out, _ = site
    for page in out.rglob("*.html"):
        p = parse(page)
        remote = [u for tag, u in p.links if tag in ("link", "script", "img") and urlsplit(u).scheme]
        assert not remote, f"{page.relative_to(out)} loads {remote}"


def test_references_are_generated_from_the_code(site):
    import typer

    from hyosan.cli import app
    from hyosan.models import names
    from hyosan.scenario.schema import ZombieConfig

    out, _ = site
    cli = (out / "reference" / "cli.html").read_text(encoding="utf-8")
    root = typer.main.get_command(app)
    for name, command in root.commands.items():
        assert f'id="hyosan-{name}"' in cli, name
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("-"):
                    assert f"<code>{opt}" in cli or f", {opt}" in cli or f"{opt}</code>" in cli, (name, opt)
    assert 'pip install "hyosan[studio]"' in cli.replace("&quot;", '"')
    models = (out / "reference" / "models.html").read_text(encoding="utf-8")
    assert all(f"<code>{n}</code>" in models for n in names())
    keys = (out / "reference" / "scenario-keys.html").read_text(encoding="utf-8")
    for key in ZombieConfig.model_fields:
        assert f"<code>{key}</code>" in keys, key


def test_api_reference_is_read_from_the_docstrings(site):
    from hyosan.engine import Simulation

    out, _ = site
    api = (out / "reference" / "api.html").read_text(encoding="utf-8")
    text = " ".join(re.sub(r"<[^>]+>", " ", api).split())
    for fn in (Simulation, Simulation.step, Simulation.agents):
        first = " ".join((fn.__doc__ or "").strip().split("\n\n")[0].split())
        first = re.sub(r"``?", "", first)[:60]
        assert first and first.split(":")[0] in text, fn
    assert ":func:" not in text and ":class:" not in text  # Sphinx roles shown as code


def test_calibration_tutorial_waits_for_its_page(site):
    out, _ = site
    page = (DOCS / "tutorials" / "calibration.md").read_text(encoding="utf-8")
    assert "](../calibration.md)" in page and "hyosan calibrate" in page
    built = (out / "tutorials" / "calibration.html").exists()
    assert built == (DOCS / "calibration.md").exists()


def test_readme_points_at_pages_that_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pages = set(nav_pages())
    mentioned = set(re.findall(r"docs/([\w./-]+\.md)", readme))
    assert {"studio.md", "units.md", "faithfulness.md", "testing.md"} <= mentioned
    for page in mentioned:
        assert (DOCS / page).is_file(), page
        assert page in pages, f"README points at docs/{page}, which is not in the site's nav"
    # the documentation index lists every guide, in the site's order, and the studio comes before the licence
    listed = re.findall(r"^- `docs/([\w./-]+\.md)`", readme, re.M)
    assert listed == [p for p in nav_pages() if "/" not in p and p not in ("index.md", "getting-started.md")]
    assert "`examples/outbreak_lesson.ipynb`" in readme.split("## Documentation", 1)[1]
    assert readme.index("## Live: hyosan studio") < readme.index("## Licence")
    for path in re.findall(r"`((?:examples|benchmarks)/[\w./-]+)`", readme):
        assert (ROOT / path).exists(), path


def test_docs_refuses_a_folder_it_did_not_make(tmp_path, capsys):
    from conftest import run_cli

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine", encoding="utf-8")
    code, _, err = run_cli(capsys, "docs", "--out", str(tmp_path / "mine"))
    assert code == 2 and "was not written by hyosan" in err and err.count("\n") == 1
    assert (tmp_path / "mine" / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_a_broken_link_stops_the_build(tmp_path, monkeypatch):
    from hyosan import docsite

    copy = tmp_path / "repo"
    copy.mkdir()
    (copy / "mkdocs.yml").write_text((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), encoding="utf-8")
    (copy / "src").symlink_to(ROOT / "src")
    import shutil

    shutil.copytree(DOCS, copy / "docs")
    with (copy / "docs" / "getting-started.md").open("a", encoding="utf-8") as f:
        f.write("\nSee [the missing page](nowhere.md).\n")
    monkeypatch.chdir(copy)
    with pytest.raises(HyosanError) as exc:
        docsite.build(tmp_path / "site")
    assert "the site did not build" in str(exc.value) and "nowhere.md" in str(exc.value)
    assert not (tmp_path / "site").exists()
