"""Timeline events of a town, in the school's vocabulary (``kind``, ``after``, ``area``, ``text``).

- ``cordon``: from ``after`` on, every cell boundary around ``area`` keeps ``leak`` of its weight
  (0: closed, nothing crosses; 0.1: a leaky line, a tenth of the traffic). ``lift_cordon`` ends it.
- ``strike``: at ``after``, ``fraction_z`` of the zombies and ``fraction_s`` of the people (the
  bitten among them) in ``area`` are removed, rounded to whole individuals per cell.
- ``evacuate``: at ``after``, ``fraction`` of the people (and of the bitten, who hide it) in
  ``area`` walk to the ``camp`` cell at ``speed`` along open ground, and the camp is held apart
  (no edges) for ``isolation``; the bitten who turn on the way arrive as zombies, the others turn
  inside the camp.
- ``seed``: at ``after``, ``bitten`` and ``zombies`` enter the cell of ``area``.

An ``area`` is a district name, a place name (``school``, ``hospital``, ``camp``...), ``*`` (the
whole map), ``disc:ROW,COL,RADIUS`` (radius in cells), ``box:ROW0,COL0,ROW1,COL1`` (inclusive) or
``cells:ROW,COL;ROW,COL;...``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hyosan.errors import HyosanError
from hyosan.lattice.grid import Lattice
from hyosan.scenario.timefmt import parse_duration

KINDS = ("cordon", "lift_cordon", "strike", "evacuate", "seed")
DAY = 86400.0


@dataclass(frozen=True)
class TownEvent:
    """One timeline event; times in days from the start."""

    kind: str
    t: float
    area: str = "*"
    text: str = ""
    leak: float = 0.0
    fraction_z: float = 1.0
    fraction_s: float = 0.0
    fraction: float = 1.0
    camp: str = "camp"
    speed_km_day: float = 30.0
    isolation: float = 30.0
    bitten: int = 0
    zombies: int = 0


_FIELDS = {
    "kind",
    "after",
    "area",
    "text",
    "leak",
    "fraction_z",
    "fraction_s",
    "fraction",
    "camp",
    "speed",
    "isolation",
    "bitten",
    "zombies",
}


def parse_event(raw: dict, source: str, index: int) -> TownEvent:
    """A TOML ``[[events]]`` table as a :class:`TownEvent`; bad values name the file and field."""
    where = f"events[{index}]"
    unknown = set(raw) - _FIELDS
    if unknown:
        raise HyosanError(f"unknown key {sorted(unknown)[0]!r}", source=source, field=where)
    kind = raw.get("kind")
    if kind not in KINDS:
        raise HyosanError(
            f"kind must be one of {', '.join(KINDS)}, got {kind!r}", source=source, field=f"{where}.kind"
        )
    try:
        t = parse_duration(raw.get("after", 0)) / DAY
        isolation = parse_duration(raw.get("isolation", "30d")) / DAY
    except ValueError as exc:
        raise HyosanError(str(exc), source=source, field=f"{where}.after") from None
    numbers = {}
    for key, low, high in (
        ("leak", 0, 1e9),
        ("fraction_z", 0, 1),
        ("fraction_s", 0, 1),
        ("fraction", 0, 1),
        ("speed", 1e-9, 1e9),
        ("bitten", 0, 2**31 - 1),
        ("zombies", 0, 2**31 - 1),
    ):
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                raise HyosanError(
                    f"must be a number in [{low}, {high}], got {value!r}",
                    source=source,
                    field=f"{where}.{key}",
                )
            numbers[key] = value
    return TownEvent(
        kind=kind,
        t=t,
        area=str(raw.get("area", "*")),
        text=str(raw.get("text", "")),
        leak=float(numbers.get("leak", 0.0)),
        fraction_z=float(numbers.get("fraction_z", 1.0)),
        fraction_s=float(numbers.get("fraction_s", 0.0)),
        fraction=float(numbers.get("fraction", 1.0)),
        camp=str(raw.get("camp", "camp")),
        speed_km_day=float(numbers.get("speed", 30.0)),
        isolation=isolation,
        bitten=int(numbers.get("bitten", 0)),
        zombies=int(numbers.get("zombies", 0)),
    )


def area_mask(
    lat: Lattice, area: str, source: str = "events", field: str = "area", *, need_open: bool = False
) -> np.ndarray:
    """The cells an area names (see the module docstring), as a (height, width) bool mask less the
    blocked cells. Coordinates must be finite, a radius >= 0, a box's corners in order; with
    ``need_open`` the area must hold an open cell of the grid (one off the map or on water is
    refused, as an event there would do nothing while the chronicle said it happened)."""
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
    mask &= ~lat.blocked
    if need_open and not mask.any():
        raise HyosanError(
            f"{area!r} has no open cell of the {h} x {w} grid (off the map or on blocked cells)",
            source=source,
            field=field,
        )
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
