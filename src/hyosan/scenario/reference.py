"""The scenario file reference, written from the schema itself (docs/scenarios.md embeds it)."""

from __future__ import annotations

import typing

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from hyosan import mechanics
from hyosan.mechanics import BUILT_IN
from hyosan.scenario.events import KINDS
from hyosan.scenario.schema import Scenario


def _type_name(annotation) -> str:
    text = str(annotation).replace("typing.", "")
    for noise in ("<class '", "'>", "hyosan.scenario.schema."):
        text = text.replace(noise, "")
    if "Annotated[" in text:
        text = text.split("Annotated[", 1)[1].split(",", 1)[0]
    return text


def _default(field) -> str:
    if field.default is not PydanticUndefined:
        value = field.default
    elif field.default_factory is not None:
        value = field.default_factory()
    else:
        return "required"
    if isinstance(value, BaseModel):
        return "(table)"
    return f"`{value!r}`".replace("'", '"')


def _model_of(annotation) -> type[BaseModel] | None:
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        for inner in typing.get_args(arg):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


def _section(title: str, model: type[BaseModel], out: list[str]) -> None:
    doc = (model.__doc__ or "").strip()
    rows = [f"### `{title}`", ""]
    if doc and not doc.startswith("A whole scenario"):
        rows += [doc, ""]
    rows += ["| key | default | meaning |", "|---|---|---|"]
    nested = []
    for name, field in model.model_fields.items():
        sub = _model_of(field.annotation)
        if sub is not None:
            nested.append((f"{title}.{name}" if title else name, sub, field))
            continue
        meaning = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{name}` | {_default(field)} | {meaning} |")
    if len(rows) > 4 + (2 if doc else 0):
        out.append("\n".join(rows))
    for sub_title, sub, field in nested:
        origin = typing.get_origin(field.annotation)
        if origin is list:
            sub_title = f"[[{sub_title}]]"
        elif origin is dict:
            sub_title = f"{sub_title}.NAME"
        _section(sub_title, sub, out)


def _mechanics(out: list[str]) -> None:
    """Each built-in mechanic's keys, units and ranges, modes and event kinds."""
    rows = [
        "### Mechanics (`[behaviour] mechanics`, their keys in `[mechanics]`)",
        "",
        "Off unless listed. A user's mechanic is named `module:attribute` (docs/extending.md).",
    ]
    for name in BUILT_IN:
        m = mechanics.load(name)
        rows += [
            "",
            f"#### `{m.name}`: {m.doc}",
            "",
            "| key | default | range | meaning |",
            "|---|---|---|---|",
        ]
        for k in m.keys:
            default = f"`{k.default!r}`".replace("'", '"').replace("True", "true").replace("False", "false")
            rows.append(f"| `{k.name}` | {default} | {k.range_text()} | {k.doc} |")
        if m.events:
            rows += [
                "",
                "Its timeline event kinds: " + ", ".join(f"`{e.name}` ({e.doc})" for e in m.events) + ".",
            ]
        if m.modes:
            rows += ["", "Its modes: " + ", ".join(f"`{name}` ({doc})" for _, name, _, doc in m.modes) + "."]
    out.append("\n".join(rows))


def markdown() -> str:
    out: list[str] = []
    for name, field in Scenario.model_fields.items():
        sub = _model_of(field.annotation)
        if sub is None:  # the mechanics' keys: their own section below
            continue
        origin = typing.get_origin(field.annotation)
        title = f"[[{name}]]" if origin is list else f"{name}.NAME" if origin is dict else name
        _section(title, sub, out)
    kinds = [
        "### Timeline event kinds (`[[events]] kind`)",
        "",
        "| kind | needs `area` | what it does |",
        "|---|---|---|",
    ]
    kinds += [
        f"| `{k.name}` | {'yes' if k.needs_area else 'no'} | {k.doc} |" for k in KINDS.values() if not k.owner
    ]
    kinds += ["", "A new kind is one handler registered with `hyosan.timeline.register` (docs/extending.md)."]
    out.append("\n".join(kinds))
    _mechanics(out)
    return "\n\n".join(out) + "\n"
