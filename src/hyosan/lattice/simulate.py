"""Run a town: the solver between stops, the timeline's events at their times, the records.

:func:`simulate` advances the lattice with the exact solver or tau-leaping from stop to stop (a
record time, a snapshot time, an event, the arrival of evacuees at the camp), applies what happens
at each stop, and returns a :class:`~hyosan.lattice.result.TownResult`. Nothing is created or lost:
at every record, S + E + Z + R + struck + walking = the people at the start + those seeded.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

import numpy as np

from hyosan.errors import HyosanError
from hyosan.lattice.events import TownEvent, area_mask, walking_distance
from hyosan.lattice.exact import KINDS, run_exact
from hyosan.lattice.grid import Lattice
from hyosan.lattice.limits import (
    MAX_EXACT_PEOPLE,
    MAX_EXACT_REACTIONS,
    MAX_TOWN_DAYS,
    MAX_TOWN_RECORDS,
    MAX_TOWN_SNAPSHOT_BYTES,
    check_count,
    check_people,
)
from hyosan.lattice.model import SEZR, LatticeModel
from hyosan.lattice.params import LatticeParams
from hyosan.lattice.result import TownResult
from hyosan.lattice.tau import run_tau

METHODS = ("exact", "tau")
#: Sinks and pools counted by the records besides S, E, Z, R.
TALLIES = ("struck_s", "struck_e", "struck_z", "walking_s", "walking_e", "walking_z", "seeded")


class _Run:
    """The mutable state of one run (counts, effective edges, tallies)."""

    def __init__(
        self,
        lat: Lattice,
        params: LatticeParams,
        model: LatticeModel,
        method: str,
        tau: float,
        gen: np.random.Generator,
    ):
        self.lat = lat
        self.S = lat.population.ravel().astype(np.int32)
        self.E = np.zeros_like(self.S)
        self.Z = np.zeros_like(self.S)
        self.R = np.zeros_like(self.S)
        self.arrival = np.full(self.S.shape, np.inf, np.float32)
        self.cordon_e = np.ones(lat.shape, np.float32)  # multipliers of the base weights
        self.cordon_s = np.ones(lat.shape, np.float32)
        self.isolated: list[tuple[float, tuple[int, int]]] = []  # (until, cell)
        self.k = np.array(list(vars(model.compile(params)).values()), dtype=np.float64)
        self.method = method
        self.tau = tau
        self.gen = gen
        self.fired = np.zeros(len(KINDS), np.int64)
        self.tally = dict.fromkeys(TALLIES, 0)
        self.t = 0.0
        self._weights()

    def _weights(self) -> None:
        we = self.lat.w_east * self.cordon_e
        ws = self.lat.w_south * self.cordon_s
        for until, (y, x) in self.isolated:
            if until > self.t:
                we[y, x] = 0.0
                ws[y, x] = 0.0
                if x > 0:
                    we[y, x - 1] = 0.0
                if y > 0:
                    ws[y - 1, x] = 0.0
        self.w_east = np.ascontiguousarray(we.ravel(), np.float32)
        self.w_south = np.ascontiguousarray(ws.ravel(), np.float32)

    def advance(self, t_stop: float) -> None:
        if t_stop <= self.t:
            return
        width = self.lat.shape[1]
        if self.method == "exact":
            cap = MAX_EXACT_REACTIONS.value()
            left = cap - int(self.fired.sum())
            reached = run_exact(
                self.S,
                self.E,
                self.Z,
                self.R,
                self.w_east,
                self.w_south,
                width,
                self.k,
                self.t,
                t_stop,
                max(left, 0),
                self.arrival,
                self.fired,
                self.gen,
            )
            if reached < t_stop:
                MAX_EXACT_REACTIONS.check(cap + 1, "method", f"exact, by day {reached:.3g}")
        else:
            run_tau(
                self.S,
                self.E,
                self.Z,
                self.R,
                self.w_east,
                self.w_south,
                width,
                self.lat.blocked.ravel(),
                self.k,
                self.t,
                t_stop,
                self.tau,
                self.arrival,
                self.fired,
                self.gen,
            )
        self.t = t_stop


def simulate(
    lattice: Lattice,
    params: LatticeParams | None = None,
    *,
    days: float = 30.0,
    method: str = "exact",
    seed: int = 0,
    events: Sequence[TownEvent] = (),
    record_every: float = 1 / 24,
    snapshot_every: float = 0.5,
    snapshot_times: Sequence[float] | None = None,
    tau: float = 0.05,
    model: LatticeModel = SEZR,
    start_clock_s: float = 8 * 3600.0,
    seeded_from: str | None = None,
) -> TownResult:
    """Simulate ``days`` of an outbreak on ``lattice``; ``events`` include the seeds (kind "seed").

    ``record_every`` and ``snapshot_every`` are in days (counts overall and by district; whole
    per-cell maps), both ending with ``days``; ``snapshot_times`` (days) chooses the maps' times
    instead. ``tau`` is the tau-leaping step in days. Same inputs and seed, same run.
    """
    params = params or LatticeParams()
    if method not in METHODS:
        raise HyosanError(f"unknown method {method!r} (choose from {', '.join(METHODS)})", source="method")
    for name, value in (
        ("days", days),
        ("record_every", record_every),
        ("snapshot_every", snapshot_every),
        ("tau", tau),
    ):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise HyosanError(f"must be a number > 0, got {value!r}", source=name)
    MAX_TOWN_DAYS.check(days, "days")
    check_count(days, record_every, MAX_TOWN_RECORDS, "record_every", None)
    if snapshot_times is None:
        maps = check_count(days, snapshot_every, MAX_TOWN_RECORDS, "snapshot_every", None)
    else:
        maps = len(snapshot_times)
    MAX_TOWN_SNAPSHOT_BYTES.check(
        maps * lattice.n_cells * 16, "snapshot_every", "(fewer maps: --snapshot-every)"
    )
    check_town(lattice, events, method, "events")
    record_times = _grid(days, record_every)
    if snapshot_times is None:
        snapshot_times = _grid(days, snapshot_every)
    else:
        snapshot_times = np.asarray(snapshot_times, float)
        if snapshot_times.ndim != 1 or not np.isfinite(snapshot_times).all():
            raise HyosanError("must be a list of finite times in days", source="snapshot_times")
    if snapshot_times.size and (snapshot_times.min() < 0 or snapshot_times.max() > days):
        raise HyosanError(f"snapshot times must lie in [0, {days:g}] days", source="snapshot_times")
    run = _Run(
        lattice, params, model, method, float(tau), np.random.default_rng(np.random.SeedSequence(seed))
    )
    n_dist = max(len(lattice.district_names), int(lattice.district.max(initial=0)) + 1)
    dist_flat = np.where(lattice.district.ravel() < 0, n_dist, lattice.district.ravel())
    stops: list[tuple[float, int, int, object]] = []  # (time, order, seq, action)
    seq = 0
    for e in sorted(events, key=lambda e: e.t):
        if e.t <= days:
            stops.append((e.t, 0, seq, e))
            seq += 1
    for t in record_times:
        stops.append((float(t), 2, seq, "record"))
        seq += 1
    for t in snapshot_times:
        stops.append((float(t), 3, seq, "snapshot"))
        seq += 1
    heapq.heapify(stops)
    totals, by_district, snaps, log = [], [], [], []
    masks: dict[str, np.ndarray] = {}

    def mask_of(area: str) -> np.ndarray:
        if area not in masks:
            masks[area] = area_mask(lattice, area).ravel()
        return masks[area]

    while stops:
        t, _, _, action = heapq.heappop(stops)
        run.advance(t)
        if action == "record":
            row = {
                "t": t,
                "S": int(run.S.sum(dtype=np.int64)),
                "E": int(run.E.sum(dtype=np.int64)),
                "Z": int(run.Z.sum(dtype=np.int64)),
                "R": int(run.R.sum(dtype=np.int64)),
                **run.tally,
            }
            totals.append(row)
            counts = [
                np.bincount(dist_flat, weights=x, minlength=n_dist + 1)[:n_dist]
                for x in (run.S, run.E, run.Z, run.R)
            ]
            by_district.append((t, np.stack(counts, axis=1).astype(np.int64)))
        elif action == "snapshot":
            snaps.append((t, np.stack([run.S, run.E, run.Z, run.R]).copy()))
        elif isinstance(action, tuple):  # evacuees reach the camp
            _, cell, s, e, z = action
            run.S[cell] += s
            run.E[cell] += e
            run.Z[cell] += z
            if (e or z) and run.arrival[cell] > t:
                run.arrival[cell] = t
            run.tally["walking_s"] -= s
            run.tally["walking_e"] -= e
            run.tally["walking_z"] -= z
        else:
            _apply(action, run, lattice, mask_of, stops, log, t)
        run._weights()
    return TownResult(
        lattice=lattice,
        params=params,
        method=method,
        seed=seed,
        days=float(days),
        totals=totals,
        by_district=by_district,
        snapshots=snaps,
        arrival=run.arrival.reshape(lattice.shape).copy(),
        log=log,
        fired=dict(zip(KINDS, run.fired.tolist(), strict=True)),
        start_clock_s=start_clock_s,
        events=list(events),
        seeded_from=seeded_from,
    )


def check_town(lattice: Lattice, events: Sequence[TownEvent], method: str | None, source: str) -> None:
    """What a run needs of its inputs, checked before anything is allocated: every event's area has
    an open cell of the grid (``events[i].area``), an evacuation's camp is a place, people and
    seeds together fit the int32 counts (summed in Python integers), and an exact run's people
    stay under :data:`~hyosan.lattice.limits.MAX_EXACT_PEOPLE`."""
    people = int(lattice.population.sum(dtype=np.int64))
    for i, e in enumerate(events):
        area_mask(lattice, e.area, source, f"events[{i}].area", need_open=True)
        if e.kind == "evacuate" and e.camp not in lattice.places:
            known = ", ".join(lattice.places) or "none"
            raise HyosanError(
                f"unknown camp place {e.camp!r} (places: {known})", source=source, field=f"events[{i}].camp"
            )
        if e.kind == "seed":
            people += int(e.bitten) + int(e.zombies)
    check_people(people, source, "seeds and population")
    if method == "exact":
        MAX_EXACT_PEOPLE.check(people, "method", "exact: people and seeds")


def _grid(days: float, every: float) -> np.ndarray:
    """0, every, 2 every, ... and ``days`` itself (the end is always recorded)."""
    times = np.arange(0.0, days, every)
    return np.append(times[times < days - 1e-9], days)


def _apply(e: TownEvent, run: _Run, lat: Lattice, mask_of, stops, log, t: float) -> None:
    """Apply one timeline event at time ``t`` and log what it did."""
    if e.kind == "seed":
        cells = np.flatnonzero(mask_of(e.area))
        if cells.size == 0:
            raise HyosanError(f"area {e.area!r} has no open cell", source="events", field="area")
        c = cells[0]
        run.E[c] += e.bitten
        run.Z[c] += e.zombies
        run.tally["seeded"] += e.bitten + e.zombies
        if run.arrival[c] > t:
            run.arrival[c] = t
        log.append(
            {"t": t, "kind": "seed", "area": e.area, "text": e.text, "bitten": e.bitten, "zombies": e.zombies}
        )
    elif e.kind in ("cordon", "lift_cordon"):
        east, south = lat.edges_around(mask_of(e.area).reshape(lat.shape))
        value = e.leak if e.kind == "cordon" else 1.0
        run.cordon_e[east] = value
        run.cordon_s[south] = value
        log.append(
            {
                "t": t,
                "kind": e.kind,
                "area": e.area,
                "text": e.text,
                "leak": value,
                "edges": int(east.sum() + south.sum()),
            }
        )
    elif e.kind == "strike":
        m = mask_of(e.area)
        removed = {}
        for name, arr, frac in (
            ("z", run.Z, e.fraction_z),
            ("s", run.S, e.fraction_s),
            ("e", run.E, e.fraction_s),
        ):
            take = np.floor(frac * arr[m].astype(np.float64) + 0.5).astype(np.int32)
            arr[m] -= take
            removed[name] = int(take.sum(dtype=np.int64))
            run.tally[f"struck_{name}"] += removed[name]
        log.append(
            {
                "t": t,
                "kind": "strike",
                "area": e.area,
                "text": e.text,
                "removed_z": removed["z"],
                "removed_s": removed["s"],
                "removed_e": removed["e"],
            }
        )
    elif e.kind == "evacuate":
        if e.camp not in lat.places:
            raise HyosanError(f"unknown camp place {e.camp!r}", source="events", field="camp")
        camp = lat.places[e.camp]
        cell = camp[0] * lat.shape[1] + camp[1]
        dist = walking_distance(lat, camp).ravel()
        m = mask_of(e.area) & (dist > 0)
        km = lat.cell_m / 1000.0
        walked = {"s": 0, "e": 0, "z": 0}
        for c in np.flatnonzero(m):
            s = int(run.gen.binomial(run.S[c], e.fraction))
            b = int(run.gen.binomial(run.E[c], e.fraction))
            if s + b == 0:
                continue
            run.S[c] -= s
            run.E[c] -= b
            travel = dist[c] * km / e.speed_km_day
            turned = int(run.gen.binomial(b, -math.expm1(-run.k[2] * travel)))
            run.tally["walking_s"] += s
            run.tally["walking_e"] += b - turned
            run.tally["walking_z"] += turned
            walked["s"] += s
            walked["e"] += b
            heapq.heappush(stops, (t + travel, 1, int(c), ("arrive", cell, s, b - turned, turned)))
        run.isolated.append((t + e.isolation + float(np.max(dist[m], initial=0)) * km / e.speed_km_day, camp))
        log.append(
            {
                "t": t,
                "kind": "evacuate",
                "area": e.area,
                "text": e.text,
                "people": walked["s"],
                "bitten": walked["e"],
                "camp": e.camp,
            }
        )
