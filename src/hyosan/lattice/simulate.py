"""Run a town: the solver between stops, the timeline's events at their times, the records.

:func:`simulate` advances the lattice with the exact solver or tau-leaping from stop to stop (a
record time, a snapshot time, an event, the arrival of evacuees at the camp), applies what happens
at each stop, and returns a :class:`~hyosan.lattice.result.TownResult`. Nothing is created or lost:
at every record, S + E + Z + R + struck + walking = the people at the start + those seeded.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from hyosan.errors import HyosanError
from hyosan.lattice.events import Event, area_mask, describe_area
from hyosan.lattice.exact import KINDS, run_exact
from hyosan.lattice.grid import Lattice
from hyosan.lattice.kernels import Cells, Edges
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


#: Among stops at one time: events, then arrivals at the camp, then records, then maps.
EVENT, ARRIVAL, RECORD, SNAPSHOT = 0, 1, 2, 3


@dataclass(order=True)
class Stop:
    """A time the solver stops at, and what happens then: the stop queue's one type."""

    t: float
    order: int
    seq: int
    action: Callable[[float], None] = field(compare=False)


class Town:
    """The mutable state of one run and the operations events change it through.

    Counts (``S``, ``E``, ``Z``, ``R``: flat int32), first arrivals, tallies, the rates record
    (``rates.turn``...), the run's generator; edge weights are the lattice's times every *layer*
    of multipliers (the cordon's, each shelter's) with isolated cells cut off. Operations:
    :meth:`mask`, :meth:`add`, :meth:`set_boundary`, :meth:`layer`, :meth:`drop_layer`,
    :meth:`walk`, :meth:`isolate`, :meth:`schedule`.
    """

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
        # multipliers of the base weights, by layer; the cordon's is always there (first)
        self.layers: dict[str, tuple[np.ndarray, np.ndarray]] = {
            "cordon": (np.ones(lat.shape, np.float32), np.ones(lat.shape, np.float32))
        }
        self.isolated: list[tuple[float, tuple[int, int]]] = []  # (until, cell)
        self.rates = model.compile(params)
        self.method = method
        self.tau = tau
        self.gen = gen
        self.fired = np.zeros(len(KINDS), np.int64)
        self.tally = dict.fromkeys(TALLIES, 0)
        self.t = 0.0
        self.stops: list[Stop] = []
        self._seq = 0
        self._masks: dict[str, np.ndarray] = {}
        self._weights()

    # -- what events do ------------------------------------------------------------------------
    def mask(self, area: str) -> np.ndarray:
        """The open cells of ``area``, flat (cached by area)."""
        if area not in self._masks:
            self._masks[area] = area_mask(self.lat, area).ravel()
        return self._masks[area]

    def add(self, cell: int, *, bitten: int = 0, zombies: int = 0, t: float) -> None:
        """Bitten and zombies enter ``cell`` from outside at time ``t`` (tallied as seeded)."""
        self.E[cell] += bitten
        self.Z[cell] += zombies
        self.tally["seeded"] += bitten + zombies
        if self.arrival[cell] > t:
            self.arrival[cell] = t

    def set_boundary(self, area: str, value: float) -> int:
        """The cordon's multiplier on every edge around ``area`` set to ``value``; returns how many."""
        east, south = self.lat.edges_around(self.mask(area).reshape(self.lat.shape))
        ce, cs = self.layers["cordon"]
        ce[east] = value
        cs[south] = value
        return int(east.sum() + south.sum())

    def layer(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The (east, south) multipliers of layer ``key``, made (all 1) when new."""
        if key not in self.layers:
            self.layers[key] = (np.ones(self.lat.shape, np.float32), np.ones(self.lat.shape, np.float32))
        return self.layers[key]

    def drop_layer(self, key: str) -> None:
        self.layers.pop(key, None)

    def walk(self, origin: int, cell: int, s: int, e: int, z: int, at: float) -> None:
        """``s`` people, ``e`` bitten and ``z`` zombies left ``origin`` walking; they enter ``cell``
        at time ``at``."""
        self.tally["walking_s"] += s
        self.tally["walking_e"] += e
        self.tally["walking_z"] += z

        def arrive(t: float) -> None:
            self.S[cell] += s
            self.E[cell] += e
            self.Z[cell] += z
            if (e or z) and self.arrival[cell] > t:
                self.arrival[cell] = t
            self.tally["walking_s"] -= s
            self.tally["walking_e"] -= e
            self.tally["walking_z"] -= z

        self.schedule(at, arrive, ARRIVAL, origin)

    def isolate(self, until: float, cell: tuple[int, int]) -> None:
        """``cell`` has no edges until ``until`` (days)."""
        self.isolated.append((until, cell))

    def schedule(
        self, t: float, action: Callable[[float], None], order: int = EVENT, seq: int | None = None
    ) -> None:
        """Run ``action(t)`` at time ``t``; among stops at one time, by ``order`` then ``seq``
        (the order of scheduling unless given)."""
        if seq is None:
            seq = self._seq
            self._seq += 1
        heapq.heappush(self.stops, Stop(t, order, seq, action))

    # -- the solver between stops ------------------------------------------------------------------
    def _weights(self) -> None:
        we = self.lat.w_east
        ws = self.lat.w_south
        for east, south in self.layers.values():
            we = we * east
            ws = ws * south
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
        cells = Cells(self.S, self.E, self.Z, self.R, self.arrival)
        edges = Edges(self.w_east, self.w_south, self.lat.shape[1])
        if self.method == "exact":
            cap = MAX_EXACT_REACTIONS.value()
            left = cap - int(self.fired.sum())
            reached = run_exact(cells, edges, self.rates, self.t, t_stop, self.fired, self.gen, max(left, 0))
            if reached < t_stop:
                MAX_EXACT_REACTIONS.check(cap + 1, "method", f"exact, by day {reached:.3g}")
        else:
            run_tau(
                cells,
                edges,
                self.lat.blocked.ravel(),
                self.rates,
                self.t,
                t_stop,
                self.tau,
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
    events: Sequence[Event] = (),
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
    snapshot_bytes = maps * lattice.n_cells * 16
    if snapshot_bytes > MAX_TOWN_SNAPSHOT_BYTES.value():
        raise HyosanError(
            f"{maps} maps of {lattice.n_cells:,} cells would take {snapshot_bytes / 2**30:.1f} GiB; "
            f"take fewer (--snapshot-every) or raise {MAX_TOWN_SNAPSHOT_BYTES.name}",
            source="snapshot_every",
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
    run = Town(
        lattice, params, model, method, float(tau), np.random.default_rng(np.random.SeedSequence(seed))
    )
    n_dist = max(len(lattice.district_names), int(lattice.district.max(initial=0)) + 1)
    dist_flat = np.where(lattice.district.ravel() < 0, n_dist, lattice.district.ravel())
    totals: list[dict] = []
    by_district: list[tuple[float, np.ndarray]] = []
    snaps: list[tuple[float, np.ndarray]] = []
    log: list[dict] = []

    def record(t: float) -> None:
        counts = {
            name: int(x.sum(dtype=np.int64))
            for name, x in zip("SEZR", (run.S, run.E, run.Z, run.R), strict=True)
        }
        totals.append({"t": t, **counts, **run.tally})
        per = [
            np.bincount(dist_flat, weights=x, minlength=n_dist + 1)[:n_dist]
            for x in (run.S, run.E, run.Z, run.R)
        ]
        by_district.append((t, np.stack(per, axis=1).astype(np.int64)))

    def snapshot(t: float) -> None:
        snaps.append((t, np.stack([run.S, run.E, run.Z, run.R]).copy()))

    for e in sorted(events, key=lambda e: e.t):
        if e.t <= days:
            run.schedule(e.t, _firing(e, run, log))
    for t in record_times:
        run.schedule(float(t), record, RECORD)
    for t in snapshot_times:
        run.schedule(float(t), snapshot, SNAPSHOT)
    while run.stops:
        stop = heapq.heappop(run.stops)
        run.advance(stop.t)
        stop.action(stop.t)
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


def check_town(lattice: Lattice, events: Sequence[Event], method: str | None, source: str) -> None:
    """What a run needs of its inputs, checked before anything is allocated: every event's area has
    an open cell of the grid (``events[i].area``), an evacuation's camp is a place, people and
    seeds together fit the int32 counts (summed in Python integers), and an exact run's people
    stay under :data:`~hyosan.lattice.limits.MAX_EXACT_PEOPLE`."""
    people = int(lattice.population.sum(dtype=np.int64))
    for i, e in enumerate(events):
        area_mask(lattice, e.area, source, f"events[{i}].area", need="open" if e.kind == "seed" else "grid")
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


def _firing(e: Event, run: Town, log: list[dict]) -> Callable[[float], None]:
    """The action of event ``e``'s stop: its kind's handler, and its entry in the log (the area
    also as the scenario names it, ``where``, for the chronicle)."""

    def fire(t: float) -> None:
        done = e.apply(run, t)
        entry = {
            "t": t,
            "kind": e.kind,
            "area": e.area,
            "where": describe_area(run.lat, e.area, e.name),
            "text": e.text,
        }
        log.append({**entry, **done})

    return fire
