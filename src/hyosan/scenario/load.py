"""Reading scenarios: TOML files, built-ins, ``--set section.key=value`` overrides, clear errors."""

from __future__ import annotations

import copy
import difflib
import os
import tomllib
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hyosan.errors import HyosanError
from hyosan.io import read_text
from hyosan.scenario.explain import explain
from hyosan.scenario.schema import Scenario


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario, where it came from, and the raw table it was read from."""

    scenario: Scenario
    source: str  # file path or "builtin:NAME"
    base_dir: Path  # folder against which the map path resolves
    name: str  # short name (file stem), used for output folders

    def map_path(self) -> Path:
        # Absolute, but symbolic links are not followed: a loop or a link to a device is then
        # refused by the map loader, naming the file the scenario gave.
        return Path(os.path.abspath(self.base_dir / self.scenario.world.map))


def builtin_dir() -> Path:
    return Path(str(resources.files("hyosan") / "data"))


def builtins() -> dict[str, Path]:
    """Built-in scenarios by name (file stem with '-' for '_')."""
    return {p.stem.replace("_", "-"): p for p in sorted(builtin_dir().glob("*.toml"))}


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def validate(raw: dict[str, Any], source: str) -> Scenario:
    """Validate a raw table; the first problem becomes a HyosanError naming source and field."""
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        message = explain(err, raw, Scenario)  # the field, what is allowed, the nearest valid key
        field = _field(err["loc"])
        # Cross-reference checks name their own field ("population[2].role: ...").
        if ": " in message and field == "(top level)":
            field, message = message.split(": ", 1)
        raise HyosanError(message, source=source, field=field) from None


def parse_value(text: str) -> Any:
    """A ``--set`` value: TOML syntax when it parses (numbers, booleans, arrays), else a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError):
        return text


def event_names(events: list[Any]) -> list[str]:
    """The names of a timeline's events, in order: an event's kind when the timeline has one event
    of that kind (``cordon``), else the kind and its place among those, from 1 (``alarm-2``).

    ``events`` holds tables (a scenario file's ``[[events]]``) or validated events.
    """
    kinds = [str(e.get("kind") if isinstance(e, dict) else getattr(e, "kind", None)) for e in events]
    total = Counter(kinds)
    seen: Counter[str] = Counter()
    names = []
    for kind in kinds:
        seen[kind] += 1
        names.append(kind if total[kind] == 1 else f"{kind}-{seen[kind]}")
    return names


def _event_index(events: list[Any], part: str, key: str) -> int:
    """``events.NAME...``: the index of the event named ``part`` (:func:`event_names`)."""
    names = event_names(events)
    if part in names:
        return names.index(part)
    near = difflib.get_close_matches(part, names, n=1)
    hint = f"did you mean {near[0]!r}? " if near else ""
    raise HyosanError(
        f"no event {part!r}; {hint}events by name: {', '.join(names) or 'none'} "
        "(or by index; hyosan check lists them)",
        source="--set",
        field=key,
    )


def apply_overrides(raw: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    """Set dotted keys (``roles.student.courage``, ``population.0.count``) in a copy of ``raw``.

    A timeline event is addressed by index or by name (``events.5.at``, ``events.cordon.at``;
    :func:`event_names`)."""
    out = copy.deepcopy(raw)
    for key, text in overrides.items():
        parts = key.split(".")
        node: Any = out
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                if i == 1 and parts[0] == "events" and not part.isdigit():
                    part = str(_event_index(node, part, key))
                if not part.isdigit() or int(part) >= len(node):
                    raise HyosanError(f"no item {part!r} in this list", source="--set", field=key)
                if last:
                    node[int(part)] = parse_value(text)
                else:
                    node = node[int(part)]
            elif isinstance(node, dict):
                if last:
                    node[part] = parse_value(text)
                else:
                    node = node.setdefault(part, {})
            else:
                raise HyosanError(f"{'.'.join(parts[:i])} is not a table", source="--set", field=key)
    return out


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """A TOML table; a syntax error (or nesting too deep to parse) names the file, line and column."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HyosanError(f"not valid TOML: {exc}", source=source) from None
    except RecursionError:
        raise HyosanError("not valid TOML: nested too deeply", source=source) from None


def load_scenario(spec: str | Path | None = None, overrides: dict[str, str] | None = None) -> LoadedScenario:
    """A scenario from a file path or a built-in name (default: Hyosan High), with overrides."""
    spec = "hyosan-high" if spec is None else spec
    known = builtins()
    path = Path(spec)
    if str(spec) in known and not os.path.lexists(path):
        path, source = known[str(spec)], f"builtin:{spec}"
    elif os.path.lexists(path):
        source = str(path)
    else:
        raise HyosanError(
            f"no such file or built-in scenario (built-ins: {', '.join(known) or 'none'})",
            source=str(spec),
        )
    raw = parse_toml(read_text(path, source), source)
    if overrides:
        original = raw
        raw = apply_overrides(raw, overrides)
        try:
            scenario = validate(raw, source)
        except HyosanError as exc:
            # Blame the override when the failing field is one that --set touched, or when the
            # file alone is valid (a smaller --set clock.tick makes clock.duration too many ticks).
            field = exc.field or ""
            touched = bool(field) and any(field.startswith(key) or key.startswith(field) for key in overrides)
            if not touched:
                try:
                    validate(original, source)
                    touched = True
                except HyosanError:
                    pass
            if touched:
                raise HyosanError(exc.message, source="--set", field=exc.field) from None
            raise
    else:
        scenario = validate(raw, source)
    name = path.stem.replace("_", "-")
    return LoadedScenario(scenario=scenario, source=source, base_dir=path.parent, name=name)


def parse_assignments(items: list[str] | None, source: str = "--set") -> dict[str, str]:
    """``["a=1", "b.c=x"]`` -> ``{"a": "1", "b.c": "x"}``; malformed items raise HyosanError."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise HyosanError(f"expected KEY=VALUE, got {item!r}", source=source)
        out[key] = value
    return out
