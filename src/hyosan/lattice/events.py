"""Timeline events of a town, in the school's vocabulary (``kind``, ``after``, ``area``, ``text``),
and the registry of their kinds.

- ``cordon``: from ``after`` on, every cell boundary around ``area`` keeps ``leak`` of its weight
  (0: closed, nothing crosses; 0.1: a leaky line, a tenth of the traffic). ``lift_cordon`` ends it.
- ``strike``: at ``after``, ``fraction_z`` of the zombies and ``fraction_s`` of the people (the
  bitten among them) in ``area`` are removed, rounded to whole individuals per cell.
- ``evacuate``: at ``after``, ``fraction`` of the people (and of the bitten, who hide it) in
  ``area`` walk to the ``camp`` cell at ``speed`` along open ground, and the camp is held apart
  (no edges) for ``isolation``; the bitten who turn on the way arrive as zombies, the others turn
  inside the camp.
- ``seed``: at ``after``, ``bitten`` and ``zombies`` enter the cell of ``area``.
- more kinds, one module each in :mod:`hyosan.lattice.kinds` (``shelter``).

An ``area`` is a district name, a place name (``school``, ``hospital``, ``camp``...), ``*`` (the
whole map), ``disc:ROW,COL,RADIUS`` (radius in cells), ``box:ROW0,COL0,ROW1,COL1`` (inclusive) or
``cells:ROW,COL;ROW,COL;...``; an event's optional ``name`` is what the chronicle calls it (else
a description: "a disc of radius 7 cells around (34, 22)").

**A kind is one typed record**: a frozen dataclass subclass of :class:`Event` decorated with
:func:`register`, whose fields (declared with :func:`number`, :func:`whole`, :func:`duration`,
:func:`words`) are its TOML keys with their bounds, whose :meth:`Event.apply` changes the town
through the run's declared operations (:class:`hyosan.lattice.simulate.Town`) and returns what it
did, and whose :meth:`Event.sentence` is its line of the chronicle. :func:`parse_event` reads any
registered kind from its table; nothing else in the package lists the kinds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

from hyosan.errors import HyosanError
from hyosan.lattice.grid import Lattice
from hyosan.scenario.timefmt import parse_duration

DAY = 86400.0
#: The keys every event has; a kind's own are its record's fields.
BASE_KEYS = ("kind", "after", "area", "text", "name")


# -- the fields of a kind's record --------------------------------------------------------------------
def number(default: float, low: float, high: float, *, key: str | None = None, unit: str = "") -> Any:
    """A float field of a kind, in ``[low, high]``; ``key`` is its TOML name when not the field's."""
    return field(
        default=default, metadata={"type": "number", "low": low, "high": high, "key": key, "unit": unit}
    )


def whole(default: int, low: int, high: int, *, unit: str = "") -> Any:
    """A whole-number field in ``[low, high]``."""
    return field(default=default, metadata={"type": "whole", "low": low, "high": high, "unit": unit})


def duration(default_days: float, *, key: str | None = None) -> Any:
    """A duration field, stated as the timeline states them ("2h", "30d", seconds), kept in days."""
    return field(default=default_days, metadata={"type": "duration", "key": key, "unit": "days"})


def words(default: str) -> Any:
    """A text field (a place's name)."""
    return field(default=default, metadata={"type": "words"})


@dataclass(frozen=True)
class Event:
    """One timeline event: when (``t``, days from the start), where (``area``; ``name``, what the
    chronicle calls it) and what a user wrote about it (``text``). A kind's record adds its own
    fields and fills :meth:`apply` and :meth:`sentence`."""

    t: float = 0.0
    area: str = "*"
    text: str = ""
    name: str = ""
    kind: ClassVar[str] = ""
    doc: ClassVar[str] = ""

    def apply(self, town: Any, t: float) -> dict[str, Any]:
        """Change the town at time ``t`` (through ``town``'s operations) and return what was done
        (the numbers of the log's entry)."""
        raise NotImplementedError

    @classmethod
    def sentence(cls, entry: dict[str, Any]) -> str:
        """The chronicle's line for the log ``entry`` this event made (``entry["where"]``: the area
        as the scenario names it)."""
        return entry.get("text") or cls.kind

    @classmethod
    def keys(cls) -> dict[str, Any]:
        """TOML key -> field of the kind's own fields."""
        base = {f.name for f in fields(Event)}
        return {(f.metadata.get("key") or f.name): f for f in fields(cls) if f.name not in base}


#: Registered kinds, by name: their record types.
KINDS: dict[str, type[Event]] = {}


def register(kind: str, doc: str = ""):
    """Class decorator: the frozen dataclass ``cls`` (a subclass of :class:`Event`) is the record of
    events of ``kind``. Refuses a name taken by another kind."""

    def deco(cls: type[Event]) -> type[Event]:
        if kind in KINDS and KINDS[kind] is not cls:
            raise HyosanError(f"the town event kind {kind!r} is registered already", source="register")
        cls.kind = kind
        cls.doc = doc or (cls.__doc__ or "").strip().split("\n")[0]
        KINDS[kind] = cls
        return cls

    return deco


def TownEvent(kind: str, t: float = 0.0, area: str = "*", text: str = "", **values: Any) -> Event:
    """The record of a registered ``kind`` (``TownEvent("seed", 0.0, "school", zombies=3)``):
    the Python way to state what a TOML ``[[events]]`` table states."""
    if kind not in KINDS:
        raise HyosanError(
            f"kind must be one of {', '.join(KINDS)}, got {kind!r}", source="events", field="kind"
        )
    return KINDS[kind](t=t, area=area, text=text, **values)


def parse_event(raw: dict, source: str, index: int) -> Event:
    """A TOML ``[[events]]`` table as its kind's record; bad values name the file and field."""
    where = f"events[{index}]"
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise HyosanError(
            f"kind must be one of {', '.join(KINDS)}, got {kind!r}", source=source, field=f"{where}.kind"
        )
    cls = KINDS[kind]
    own = cls.keys()
    unknown = set(raw) - set(BASE_KEYS) - set(own)
    if unknown:
        raise HyosanError(f"unknown key {sorted(unknown)[0]!r}", source=source, field=where)
    values: dict[str, Any] = {}
    for key in ("after", *own):
        f = own.get(key)
        meta = f.metadata if f is not None else {"type": "duration"}
        if key not in raw:
            continue
        values[f.name if f is not None else "t"] = _value(raw[key], meta, source, f"{where}.{key}")
    for key in ("area", "text", "name"):
        if key in raw:
            if not isinstance(raw[key], str | int | float) or isinstance(raw[key], bool):
                raise HyosanError(f"must be text, got {raw[key]!r}", source=source, field=f"{where}.{key}")
            values[key] = str(raw[key])
    return cls(**values)


def _value(value: Any, meta: dict, source: str, field_: str) -> Any:
    kind = meta["type"]
    if kind == "duration":
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise HyosanError(f"must be a duration, got {value!r}", source=source, field=field_)
        try:
            return parse_duration(value) / DAY
        except (ValueError, TypeError) as exc:
            raise HyosanError(str(exc), source=source, field=field_) from None
    if kind == "words":
        if not isinstance(value, str):
            raise HyosanError(f"must be text, got {value!r}", source=source, field=field_)
        return value
    low, high = meta["low"], meta["high"]
    ok = isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
    if kind == "whole":
        ok = ok and float(value).is_integer()
    if not ok:
        what = "a whole number" if kind == "whole" else "a number"
        raise HyosanError(f"must be {what} in [{low}, {high}], got {value!r}", source=source, field=field_)
    return int(value) if kind == "whole" else float(value)


def kinds_table() -> str:
    """The registered kinds, their keys and bounds as a Markdown table (docs/town.md)."""
    rows = ["| kind | what it does | keys (bounds, unit) |", "|---|---|---|"]
    for name, cls in KINDS.items():
        keys = ", ".join(f"`{k}` ({_bounds(f.metadata)})" for k, f in cls.keys().items())
        rows.append(f"| `{name}` | {cls.doc} | {keys} |")
    return "\n".join(rows)


def _bounds(meta: dict) -> str:
    if meta["type"] == "duration":
        return "a duration"
    if meta["type"] == "words":
        return "a place"
    unit = f" {meta['unit']}" if meta.get("unit") else ""
    if meta["type"] == "whole":
        return f"{meta['low']:,} to {meta['high']:,}{unit}"
    return f"{meta['low']:g} to {meta['high']:g}{unit}"


# -- the built-in kinds ----------------------------------------------------------------------------------
@register("seed", "bitten and zombies enter the first open cell of `area`")
@dataclass(frozen=True)
class Seed(Event):
    bitten: int = whole(0, 0, 2**31 - 1, unit="people")
    zombies: int = whole(0, 0, 2**31 - 1, unit="zombies")

    def apply(self, town: Any, t: float) -> dict[str, Any]:
        c = np.flatnonzero(town.mask(self.area))[0]  # (an area with no open cell is refused before)
        town.add(c, bitten=self.bitten, zombies=self.zombies, t=t)
        return {"bitten": self.bitten, "zombies": self.zombies}

    @classmethod
    def sentence(cls, entry: dict[str, Any]) -> str:
        return (
            entry.get("text")
            or f"{entry['bitten']} bitten and {entry['zombies']} zombies enter {_where(entry)}."
        )


@register("cordon", "every cell boundary around `area` keeps `leak` of its weight (0: closed)")
@dataclass(frozen=True)
class Cordon(Event):
    leak: float = number(0.0, 0, 1e9, unit="of the weight")

    def apply(self, town: Any, t: float) -> dict[str, Any]:
        edges = town.set_boundary(self.area, self.leak)
        return {"leak": self.leak, "edges": edges}

    @classmethod
    def sentence(cls, entry: dict[str, Any]) -> str:
        kind = "closed" if entry["leak"] == 0 else f"leaky ({entry['leak']:g})"
        return entry.get("text") or f"A {kind} cordon goes up around {_where(entry)}."


@register("lift_cordon", "the boundary around `area` opens again")
@dataclass(frozen=True)
class LiftCordon(Event):
    def apply(self, town: Any, t: float) -> dict[str, Any]:
        edges = town.set_boundary(self.area, 1.0)
        return {"leak": 1.0, "edges": edges}

    @classmethod
    def sentence(cls, entry: dict[str, Any]) -> str:
        return entry.get("text") or f"The cordon around {_where(entry)} is lifted."


@register(
    "strike",
    "removes `fraction_z` of the zombies and `fraction_s` of the people and the bitten in `area`, "
    "rounded per cell (half up)",
)
@dataclass(frozen=True)
class Strike(Event):
    fraction_z: float = number(1.0, 0, 1)
    fraction_s: float = number(0.0, 0, 1)

    def apply(self, town: Any, t: float) -> dict[str, Any]:
        m = town.mask(self.area)
        removed = {}
        for name, arr, frac in (
            ("z", town.Z, self.fraction_z),
            ("s", town.S, self.fraction_s),
            ("e", town.E, self.fraction_s),
        ):
            take = np.floor(frac * arr[m].astype(np.float64) + 0.5).astype(np.int32)
            arr[m] -= take
            removed[name] = int(take.sum(dtype=np.int64))
            town.tally[f"struck_{name}"] += removed[name]
        return {"removed_z": removed["z"], "removed_s": removed["s"], "removed_e": removed["e"]}

    @classmethod
    def sentence(cls, entry: dict[str, Any]) -> str:
        said = entry.get("text") or ""
        return (said + " " if said else "") + (
            f"The strike on {_where(entry)} removes {entry['removed_z']:,} "
            f"zombies and {entry['removed_s'] + entry['removed_e']:,} people."
        )


@register(
    "evacuate",
    "`fraction` of the people and of the bitten (who hide it) walk to the `camp` at `speed` km/day "
    "along open ground (breadth-first distance); the camp is cut off for `isolation`; the bitten who "
    "turn on the way arrive as zombies, the others turn inside",
)
@dataclass(frozen=True)
class Evacuate(Event):
    fraction: float = number(1.0, 0, 1)
    camp: str = words("camp")
    speed_km_day: float = number(30.0, 1e-9, 1e9, key="speed", unit="km/day")
    isolation: float = duration(30.0)

    def apply(self, town: Any, t: float) -> dict[str, Any]:
        lat = town.lat
        camp = lat.places[self.camp]  # (an unknown camp is refused before)
        cell = camp[0] * lat.shape[1] + camp[1]
        dist = walking_distance(lat, camp).ravel()
        m = town.mask(self.area) & (dist > 0)
        km = lat.cell_m / 1000.0
        walked = {"s": 0, "e": 0}
        for c in np.flatnonzero(m):
            s = int(town.gen.binomial(town.S[c], self.fraction))
            b = int(town.gen.binomial(town.E[c], self.fraction))
            if s + b == 0:
                continue
            town.S[c] -= s
            town.E[c] -= b
            travel = dist[c] * km / self.speed_km_day
            turned = int(town.gen.binomial(b, -math.expm1(-town.rates.turn * travel)))
            town.walk(int(c), cell, s, b - turned, turned, t + travel)
            walked["s"] += s
            walked["e"] += b
        town.isolate(t + self.isolation + float(np.max(dist[m], initial=0)) * km / self.speed_km_day, camp)
        return {"people": walked["s"], "bitten": walked["e"], "camp": self.camp}

    @classmethod
    def sentence(cls, entry: dict[str, Any]) -> str:
        said = entry.get("text") or ""
        return (said + " " if said else "") + (
            f"{entry['people'] + entry['bitten']:,} people walk out of {_where(entry)} "
            f"to the {entry['camp']}."
        )


def _where(entry: dict[str, Any]) -> str:
    return entry.get("where") or entry["area"]


def describe_area(lat: Lattice, area: str, name: str = "") -> str:
    """What the chronicle calls an area: its ``name`` when the scenario gives one, a district's or
    place's own name, else a description ("a disc of radius 7 cells around (34, 22)")."""
    if name:
        return name
    if area in lat.places or area in lat.district_names:
        return area
    if area == "*":
        return "the whole map"
    try:
        if area.startswith("disc:"):
            y, x, r = _numbers(area[5:], 3, float)
            return f"a disc of radius {r:g} cells around ({y:g}, {x:g})"
        if area.startswith("box:"):
            y0, x0, y1, x1 = _numbers(area[4:], 4, int)
            return f"the cells from ({y0}, {x0}) to ({y1}, {x1})"
        if area.startswith("cells:"):
            pairs = [_numbers(p, 2, int) for p in area[6:].split(";")]
            if len(pairs) == 1:
                return f"the cell ({pairs[0][0]}, {pairs[0][1]})"
            return f"{len(pairs)} cells from ({pairs[0][0]}, {pairs[0][1]})"
    except ValueError:
        pass
    return area


def area_mask(
    lat: Lattice, area: str, source: str = "events", field: str = "area", *, need: str = ""
) -> np.ndarray:
    """The cells an area names (see the module docstring), as a (height, width) bool mask less the
    blocked cells. Coordinates must be finite, a radius >= 0, a box's corners in order; with
    ``need="grid"`` the area must touch the grid (one off the map is refused: an event there would
    do nothing while the chronicle said it happened), with ``need="open"`` hold an open cell."""
    h, w = lat.shape
    mask = np.zeros((h, w), bool)
    try:
        if not isinstance(area, str):
            raise ValueError("must be text")
        if area == "*":
            mask[:] = True
        elif area in lat.places:
            mask[lat.places[area]] = True
        elif area in lat.district_names:
            mask = lat.district == lat.district_names.index(area)
        elif area.startswith("disc:"):
            y, x, r = _numbers(area[5:], 3, float)
            if r < 0:
                raise ValueError("the radius must be >= 0")
            yy, xx = np.ogrid[0:h, 0:w]
            mask = (yy - y) ** 2 + (xx - x) ** 2 <= r * r
        elif area.startswith("box:"):
            y0, x0, y1, x1 = _numbers(area[4:], 4, int)
            if y1 < y0 or x1 < x0:
                raise ValueError("a box runs from its top-left corner to its bottom-right one")
            if y1 >= 0 and x1 >= 0:  # (negative ends would count from the far side)
                mask[max(y0, 0) : y1 + 1, max(x0, 0) : x1 + 1] = True
        elif area.startswith("cells:"):
            for pair in area[6:].split(";"):
                y, x = _numbers(pair, 2, int)
                if not (0 <= y < h and 0 <= x < w):
                    raise ValueError(f"cell {y},{x} is off the map")
                mask[y, x] = True
        else:
            known = ", ".join([*lat.places, *lat.district_names])
            raise ValueError(f"unknown area (known: {known}, '*', disc:, box:, cells:)")
    except ValueError as exc:
        raise HyosanError(f"{area!r}: {exc}", source=source, field=field) from None
    if need in ("grid", "open") and not mask.any():
        raise HyosanError(f"{area!r} lies off the {h} x {w} grid", source=source, field=field)
    mask &= ~lat.blocked
    if need == "open" and not mask.any():
        raise HyosanError(f"{area!r} has only blocked cells of the grid", source=source, field=field)
    return mask


def _numbers(text: str, n: int, cast: type) -> tuple:
    """``n`` comma-separated finite numbers (``cast``: int or float)."""
    parts = text.split(",")
    if len(parts) != n:
        raise ValueError(f"expected {n} comma-separated numbers")
    out = []
    for part in parts:
        try:
            value = cast(part.strip())
        except ValueError:
            raise ValueError(f"not a {'whole ' if cast is int else ''}number: {part.strip()!r}") from None
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {part.strip()!r}")
        out.append(value)
    return tuple(out)


def walking_distance(lat: Lattice, target: tuple[int, int]) -> np.ndarray:
    """Cells walked from every cell to ``target`` over open edges (BFS; -1 where unreachable)."""
    h, w = lat.shape
    dist = np.full(h * w, -1, np.int64)
    start = target[0] * w + target[1]
    dist[start] = 0
    frontier = np.array([start])
    east = lat.w_east.ravel() > 0
    south = lat.w_south.ravel() > 0
    step = 0
    while frontier.size:
        step += 1
        nxt = []
        f = frontier
        nxt.append(f[east[f]] + 1)
        nxt.append(f[(f % w > 0) & east[np.maximum(f - 1, 0)]] - 1)
        nxt.append(f[south[f]] + w)
        nxt.append(f[(f >= w) & south[np.maximum(f - w, 0)]] - w)
        cand = np.unique(np.concatenate(nxt))
        cand = cand[dist[cand] < 0]
        dist[cand] = step
        frontier = cand
    return dist.reshape(h, w)


def clock(t_days: float, start_clock_s: float) -> str:
    """Town time as the chronicle writes it: "Day 2, 14:00" (day 1 is the day the run starts)."""
    s = start_clock_s + t_days * 86400.0
    day = int(s // 86400) + 1
    rest = round(s % 86400) // 60
    return f"Day {day}, {rest // 60:02d}:{rest % 60:02d}"


def _load_kinds() -> None:
    """Import every module of :mod:`hyosan.lattice.kinds`: each registers its kind."""
    import importlib  # (here: the kinds import this module, which must be whole first)
    import pkgutil

    from hyosan.lattice import kinds

    for module in pkgutil.iter_modules(kinds.__path__):
        importlib.import_module(f"{kinds.__name__}.{module.name}")


_load_kinds()
