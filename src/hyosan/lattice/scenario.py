"""Town scenarios (TOML) and seeding a town from a school run folder.

A town scenario has a ``[town]`` table (name, lattice, days, method), ``[params]`` (the rates of
:class:`~hyosan.lattice.params.LatticeParams`) and ``[[events]]`` (see
:mod:`hyosan.lattice.events`). ``hyosan-city`` is the built-in one.
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from hyosan.errors import HyosanError
from hyosan.lattice.city import load_hyosan
from hyosan.lattice.events import DAY, TownEvent, parse_event
from hyosan.lattice.grid import Lattice, read_geotiff, read_grid
from hyosan.lattice.params import LatticeParams

BUILTINS = {"hyosan-city": "hyosan_city.toml"}
_TOWN_KEYS = {"name", "lattice", "days", "method", "cell_m", "factor"}


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
        return lat.coarsen(factor) if factor > 1 else lat
    path = Path(spec)
    if path.suffix.lower() in (".tif", ".tiff"):
        return read_geotiff(path, factor=factor)
    return read_grid(path, cell_m=cell_m, factor=factor)


def load_town(name: str, overrides: dict[str, str] | None = None) -> TownScenario:
    """A built-in town (``hyosan-city``) or a town TOML file; ``overrides`` set params or town keys
    (``beta=0.03``, ``town.days=10``)."""
    if name in BUILTINS:
        text = (resources.files("hyosan") / "data" / "towns" / BUILTINS[name]).read_text(encoding="utf-8")
        source = f"built-in {name}"
        base = None
    else:
        path = Path(name)
        if not path.is_file():
            raise HyosanError(f"no such file or built-in town (built-in: {', '.join(BUILTINS)})", source=name)
        text = path.read_text(encoding="utf-8")
        source = str(path)
        base = path.parent
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HyosanError(f"not valid TOML ({exc})", source=source) from None
    unknown = set(data) - {"town", "params", "events"}
    if unknown:
        raise HyosanError(f"unknown section {sorted(unknown)[0]!r}", source=source)
    town = dict(data.get("town", {}))
    params = dict(data.get("params", {}))
    for key, value in (overrides or {}).items():
        if key.startswith("town."):
            town[key[5:]] = _number(value) if key[5:] not in ("method", "lattice", "name") else value
        else:
            params[key.removeprefix("params.")] = value
    bad = set(town) - _TOWN_KEYS
    if bad:
        raise HyosanError(f"unknown key {sorted(bad)[0]!r}", source=source, field="town")
    spec = str(town.get("lattice", "hyosan-city"))
    if base is not None and spec != "hyosan-city" and not Path(spec).is_absolute():
        spec = str(base / spec)
    days = town.get("days", 30)
    if isinstance(days, bool) or not isinstance(days, int | float) or not (0 < days < math.inf):
        raise HyosanError(f"must be a number of days > 0, got {days!r}", source=source, field="town.days")
    factor = town.get("factor", 1)
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
        raise HyosanError(f"must be a whole number >= 1, got {factor!r}", source=source, field="town.factor")
    lattice = load_lattice(spec, source, cell_m=float(town.get("cell_m", 1000.0)), factor=factor)
    return TownScenario(
        name=str(town.get("name", lattice.name)),
        lattice=lattice,
        params=LatticeParams().with_(source=source, **params),
        events=[parse_event(e, source, i) for i, e in enumerate(data.get("events", []))],
        days=float(days),
        method=str(town.get("method", "exact")),
        source=source,
    )


def _number(value: str) -> float | int | str:
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


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
    escapes = events[events["kind"].astype(str) == "escape"].merge(agents, left_on="a", right_on="agent")
    infected = escapes[escapes["bitten_s"].notna() & (escapes["bitten_s"] <= escapes["time_s"])]
    seeds = [
        TownEvent(
            "seed", float(row.time_s) / DAY, area, text=f"{row.name} escapes the school, bitten.", bitten=1
        )
        for row in infected.itertuples()
    ]
    return seeds, start
