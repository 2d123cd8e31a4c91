"""Town scenarios (TOML), a school's outbreak parameters, and seeding a town from a school run.

A town scenario has a ``[town]`` table (name, lattice, days, method), ``[outbreak]`` (the shared
outbreak parameters in physical units, or ``from`` a school scenario or run folder: see
:class:`~hyosan.lattice.params.LatticeParams`), ``[coupling]`` (``mu``, ``move_s``, ``move_z``) and
``[[events]]`` (see :mod:`hyosan.lattice.events`). ``hyosan-city`` is the built-in one.
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import pandas as pd

from hyosan.errors import HyosanError
from hyosan.io import read_text
from hyosan.lattice.city import load_hyosan
from hyosan.lattice.events import DAY, TownEvent, parse_event
from hyosan.lattice.grid import Lattice, check_factor, read_geotiff, read_grid
from hyosan.lattice.limits import MAX_TOWN_DAYS, check_cell_m
from hyosan.lattice.params import LatticeParams, clean_values, replace_checked
from hyosan.lattice.simulate import METHODS, check_town
from hyosan.scenario import builtins, load_scenario
from hyosan.scenario.rates import outbreak_of

BUILTINS = {"hyosan-city": "hyosan_city.toml"}
_TOWN_KEYS = {"name", "lattice", "days", "method", "cell_m", "factor"}
#: The outbreak's own numbers (physical units) and the lattice's coupling: where a bare --set name goes.
_OUTBREAK_KEYS = {"bite_rate", "bite_prob", "kill_rate", "incubation", "incubation_s", "contact_s"}
_COUPLING_KEYS = {"mu", "move_s", "move_z"}


@dataclass
class TownScenario:
    name: str
    lattice: Lattice
    params: LatticeParams
    events: list[TownEvent]
    days: float
    method: str
    source: str


def load_lattice(spec: str, source: str, *, cell_m: float = 1000.0, factor: int = 1) -> Lattice:
    if spec == "hyosan-city":
        lat = load_hyosan()
        check_factor(factor, lat.shape, source)
        return lat.coarsen(factor) if factor > 1 else lat
    if not isinstance(spec, str) or not spec.strip() or "\x00" in spec:
        raise HyosanError(
            f"must name a grid file or hyosan-city, got {spec!r}", source=source, field="town.lattice"
        )
    path = Path(spec)
    if path.suffix.lower() in (".tif", ".tiff"):
        return read_geotiff(path, factor=factor)
    return read_grid(path, cell_m=cell_m, factor=factor)


def load_town(
    name: str, overrides: dict[str, str] | None = None, *, school: str | Path | None = None
) -> TownScenario:
    """A built-in town (``hyosan-city``) or a town TOML file.

    ``overrides`` set outbreak, coupling or town keys (``outbreak.bite_rate=0.6``, ``kill_rate=0.1``,
    ``mu=0.2``, ``town.days=10``). ``school`` (a school run folder or scenario) replaces the town's
    ``outbreak.from``: the outbreak's bite and kill rates and incubation come from it, under what
    the town's ``[outbreak]`` states itself and the overrides.
    """
    if name in BUILTINS:
        text = (resources.files("hyosan") / "data" / "towns" / BUILTINS[name]).read_text(encoding="utf-8")
        source = f"built-in {name}"
        base = None
    else:
        path = Path(name)
        if not path.exists() and not path.is_symlink():
            raise HyosanError(f"no such file or built-in town (built-in: {', '.join(BUILTINS)})", source=name)
        text = read_text(path)  # regular files only, size-capped: not a device or a pipe
        source = str(path)
        base = path.parent
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HyosanError(f"not valid TOML ({exc})", source=source) from None
    return town_of(data, source, base, overrides, school=school)


def town_of(
    data: dict,
    source: str,
    base: Path | None = None,
    overrides: dict[str, str] | None = None,
    *,
    school: str | Path | None = None,
) -> TownScenario:
    """A town from its TOML tables (``data``, read from ``source``; relative paths from ``base``):
    :func:`load_town` after the reading. Every value is checked; a bad one raises HyosanError
    naming ``source`` (or ``--set``) and the field."""
    if "params" in data:
        raise HyosanError(
            "a town states its outbreak in physical units now: [outbreak] (bite_rate, kill_rate in 1/s of "
            "contact, incubation, contact_s in s/day, or from = a school scenario) and [coupling] "
            "(mu, move_s, move_z); see docs/town.md",
            source=source,
            field="params",
        )
    unknown = set(data) - {"town", "outbreak", "coupling", "events"}
    if unknown:
        raise HyosanError(f"unknown section {sorted(unknown)[0]!r}", source=source)
    for section in ("town", "outbreak", "coupling"):
        if not isinstance(data.get(section, {}), dict):
            raise HyosanError("must be a table", source=source, field=section)
    town = dict(data.get("town", {}))
    sections = {"outbreak": dict(data.get("outbreak", {})), "coupling": dict(data.get("coupling", {}))}
    set_values: dict[str, dict[str, object]] = {"outbreak": {}, "coupling": {}}
    for key, value in (overrides or {}).items():
        head, dot, rest = key.partition(".")
        if dot and head == "town":
            town[rest] = _number(value) if rest not in ("method", "lattice", "name") else value
        elif dot and head in set_values:
            set_values[head][rest] = value if rest == "from" else _number(value)
        elif not dot and key in _OUTBREAK_KEYS:
            set_values["outbreak"][key] = _number(value)
        elif not dot and key in _COUPLING_KEYS:
            set_values["coupling"][key] = _number(value)
        else:
            clean_values({key: value}, "--set")  # names the field: old per-day rates, unknown names
            raise HyosanError(
                "expected outbreak.NAME, coupling.NAME or town.NAME", source="--set", field=key
            )  # pragma: no cover - clean_values raised already
    bad = set(town) - _TOWN_KEYS
    if bad:
        raise HyosanError(f"unknown key {sorted(bad)[0]!r}", source=source, field="town")
    params = town_params(sections, set_values, source, base, school)
    spec = town.get("lattice", "hyosan-city")
    if not isinstance(spec, str):
        raise HyosanError(
            f"must name a grid file or hyosan-city, got {spec!r}", source=source, field="town.lattice"
        )
    if base is not None and spec != "hyosan-city" and not Path(spec).is_absolute():
        spec = str(base / spec)
    days = town.get("days", 30)
    if isinstance(days, bool) or not isinstance(days, int | float) or not (0 < days < math.inf):
        raise HyosanError(f"must be a number of days > 0, got {days!r}", source=source, field="town.days")
    MAX_TOWN_DAYS.check(days, source, "town.days")
    factor = town.get("factor", 1)
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
        raise HyosanError(f"must be a whole number >= 1, got {factor!r}", source=source, field="town.factor")
    cell_m = check_cell_m(town.get("cell_m", 1000.0), source)
    method = town.get("method", "exact")
    if method not in METHODS:
        raise HyosanError(
            f"must be one of {', '.join(METHODS)}, got {method!r}", source=source, field="town.method"
        )
    raw_events = data.get("events", [])
    if not isinstance(raw_events, list) or not all(isinstance(e, dict) for e in raw_events):
        raise HyosanError("must be a list of tables ([[events]])", source=source, field="events")
    events = [parse_event(e, source, i) for i, e in enumerate(raw_events)]
    try:
        lattice = load_lattice(spec, source, cell_m=cell_m, factor=factor)
    except HyosanError as exc:
        if exc.field == "factor":  # the grid's own limit on the factor, named as the town states it
            raise HyosanError(exc.message, source=source, field="town.factor") from None
        raise
    check_town(lattice, events, None, source)  # the exact method's cap: at the run (--method may change it)
    return TownScenario(
        name=str(town.get("name", lattice.name)),
        lattice=lattice,
        params=params,
        events=events,
        days=float(days),
        method=method,
        source=source,
    )


def town_params(
    sections: dict[str, dict[str, object]],
    overrides: dict[str, dict[str, object]],
    source: str,
    base: Path | None = None,
    school: str | Path | None = None,
) -> LatticeParams:
    """The town's parameters, each number from the first that gives it: ``--set``, the town's own
    ``[outbreak]``/``[coupling]``, the school (``school``, else ``outbreak.from``), the defaults."""
    outbreak = dict(sections["outbreak"])
    coupling = dict(sections["coupling"])
    origin = overrides["outbreak"].pop("from", None) or outbreak.pop("from", None)
    outbreak.pop("from", None)
    if school is not None:
        origin, where = school, "--from"
    else:
        where = source
    values: dict[str, object] = {}
    if origin is not None:
        if not isinstance(origin, str | Path) or not str(origin).strip():
            raise HyosanError(
                "must name a school scenario or run folder", source=source, field="outbreak.from"
            )
        ref = Path(origin)
        if base is not None and not ref.is_absolute() and (base / ref).exists():
            ref = base / ref
        field = None if school is not None else "outbreak.from"
        values.update(school_outbreak(ref if ref.exists() else str(origin), where, field))
    params = LatticeParams()
    for table, src, prefix in (
        (values, where, "outbreak."),
        (_without_mixed(outbreak, overrides["outbreak"]), source, "outbreak."),
        (coupling, source, "coupling."),
        (overrides["outbreak"], "--set", "outbreak."),
        (overrides["coupling"], "--set", "coupling."),
    ):
        allowed = _OUTBREAK_KEYS if prefix == "outbreak." else _COUPLING_KEYS
        for key in sorted(set(table) - allowed):
            clean_values({key: table[key]}, src, prefix)  # an old per-day rate: says how to state it
            names = ", ".join(sorted(allowed | ({"from"} if prefix == "outbreak." else set())))
            raise HyosanError(
                f"unknown key (known: {names})",
                source=src,
                field=prefix + key,
            )
        params = replace_checked(params, table, src, prefix)
    return params


def _without_mixed(table: dict[str, object], override: dict[str, object]) -> dict[str, object]:
    """The file's values less those a --set gives in the other form (``bite_prob`` for
    ``bite_rate``, ``incubation`` for ``incubation_s``): the override replaces the number."""
    pairs = {
        "bite_rate": "bite_prob",
        "bite_prob": "bite_rate",
        "incubation": "incubation_s",
        "incubation_s": "incubation",
    }
    drop = {k for k in override} | {pairs[k] for k in override if k in pairs}
    return {k: v for k, v in table.items() if k not in drop}


def school_outbreak(spec: str | Path, source: str = "--from", field: str | None = None) -> dict[str, float]:
    """The outbreak parameters of a school: a built-in school scenario (``hyosan-high``), a school
    scenario file, or a school run folder (its resolved ``scenario.toml``).

    - ``bite_rate``: the zombies' bite rate per second of contact (``bite_prob`` converted by
      :func:`hyosan.units.rate_of_chance`);
    - ``kill_rate``: the mean kill rate (``strength``, 1/s of contact) of the school's people at the
      start: every human of the population with their role's strength, every character with theirs;
    - ``incubation_s``: the mean of the incubation (:func:`hyosan.units.mean_incubation_s`).

    Read by :func:`hyosan.scenario.rates.outbreak_of`, as the compartment models' ``--from`` reads them.
    """
    path = Path(spec)
    if path.is_dir():
        if not (path / "scenario.toml").is_file():
            raise HyosanError(
                f"not a school run folder (no scenario.toml in {str(path)!r})", source=source, field=field
            )
        path = path / "scenario.toml"
    elif str(spec) not in builtins() and not path.is_file():
        raise HyosanError(
            f"no such school scenario or run folder {str(spec)!r} (built-in: {', '.join(builtins())})",
            source=source,
            field=field,
        )
    loaded = load_scenario(path if path.is_file() else str(spec))
    return outbreak_of(loaded.scenario)


def _number(value: str) -> float | int | str:
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def escape_seeds(events: pd.DataFrame, agents: pd.DataFrame, area: str = "school") -> list[TownEvent]:
    """Seed events from a school run's events and agents tables: every escape of an agent who
    had been bitten by then enters ``area`` as one bitten person at the escape time."""
    escapes = events[events["kind"].astype(str) == "escape"].merge(agents, left_on="a", right_on="agent")
    infected = escapes[escapes["bitten_s"].notna() & (escapes["bitten_s"] <= escapes["time_s"])]
    return [
        TownEvent(
            "seed", float(row.time_s) / DAY, area, text=f"{row.name} escapes the school, bitten.", bitten=1
        )
        for row in infected.itertuples()
    ]


def on_school_clock(events: list, timeline: list[dict]) -> list:
    """The town's timeline on the school's clock (one story, one clock): the town's cordon falls
    when the school's did (the school run's first ``cordon`` event), if the school had one."""
    fired = [t["fired_s"] for t in timeline if t.get("kind") == "cordon" and t.get("fired_s") is not None]
    if not fired:
        return list(events)
    return [replace(e, t=float(fired[0]) / DAY) if e.kind == "cordon" else e for e in events]


def school_escapes(folder: str | Path, area: str = "school") -> tuple[list[TownEvent], float]:
    """Seed events from a school run folder: every escape (events of kind ``escape``) of an agent
    who had been bitten by then enters ``area`` as one bitten person at the escape time. Returns the
    events and the school's start clock (seconds after midnight)."""
    folder = Path(folder)
    for name in ("summary.json", "events.parquet", "agents.parquet"):
        if not (folder / name).is_file():
            raise HyosanError(f"not a school run folder (no {name})", source=str(folder), field="--from")
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        events = pd.read_parquet(folder / "events.parquet", columns=["time_s", "kind", "a"])
        agents = pd.read_parquet(folder / "agents.parquet", columns=["agent", "name", "bitten_s"])
    except (ValueError, OSError, KeyError) as exc:
        raise HyosanError(
            f"cannot read the run's tables ({exc})", source=str(folder), field="--from"
        ) from None
    start = float(summary.get("start_clock_s", 8 * 3600.0))
    seeds = escape_seeds(events, agents, area)
    return seeds, start
