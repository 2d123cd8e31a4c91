"""The town/country lattice: exact solver speed, tau-leaping a country, memory per cell, and
comparisons (the compartment SSA on one cell; a straightforward NumPy lattice).

Figures, one run, side by side:

1. **Exact solver** on a 1500 x 900 country (``synthetic_country``: 300 M people, sea around it):
   reactions per second over ``--events`` reactions, Alemi's defaults (``LatticeParams()``: bites
   0.5 and kills 0.4 per second of contact, 3.6 ms of contact a day, 12 h incubation, so beta
   1.8e-3 a day, alpha 0.8, eta 2 a day; mu 0.1), 100 zombies seeded in the most crowded cell;
   wall and CPU (process) time. Then **side by side** with the solver as it was before its speed
   work (``town_exact_before.py``) and, with ``--prev FILE``, any other version of the solver's
   source (an earlier commit's, from ``git show``): ``--rounds`` rounds of ``--side-events``
   reactions each, the kernels taking turns (the order alternating), CPU time, medians and ratios.
2. **One cell**: the lattice's exact kernel on a single cell against the compartment SSA
   (``alemi-latent``, the same cell projected: beta_c = beta N) - reactions per second of CPU
   time each.
3. **Tau-leaping** the same country for 60 days (step 0.05 day), wall and CPU time; and the same
   with everybody walking (``move_s`` = ``move_z`` = 0.1 a day), where every cell is visited every
   leap, for ``--walk-days`` days.
4. **A straightforward NumPy lattice** (below: whole-grid binomial leaps with array operations,
   the obvious way to write it), timed for ``--numpy-days`` days of the same country and step.
5. **Memory per cell**: the bytes of every array a run holds (the lattice, the run's state, the
   edges with cordons applied) per cell, from the arrays themselves, plus each kernel's working
   arrays (``WORKSPACE_BYTES_PER_CELL``, allocated per call). Peak resident memory was tried and
   does not resolve it: building the lattice's temporaries sets the peak, and the run fits in
   the memory they free. Records and snapshots come on top (16 bytes a cell per snapshot).

Compilation is excluded (a small warm-up first). Run: ``python benchmarks/town.py [--json out.json]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import os
import platform
import resource
import sys
import time

import numpy as np

import town_exact_before  # the exact solver before its speed work, for the side-by-side figure
from hyosan import models
from hyosan.lattice import exact, tau
from hyosan.lattice.city import synthetic_country
from hyosan.lattice.events import TownEvent
from hyosan.lattice.exact import run_exact
from hyosan.lattice.grid import Lattice
from hyosan.lattice.kernels import Cells, Edges
from hyosan.lattice.model import SEZR
from hyosan.lattice.params import LatticeParams
from hyosan.lattice.simulate import Town, simulate

GOAL_EXACT = 20e6
GOAL_TAU_S = 60.0
GOAL_BYTES = 100.0


def _k(params: LatticeParams) -> np.ndarray:
    """The rates as a vector in the record's field order: what kernels before the named state
    took (the kernels now read :class:`~hyosan.lattice.model.Rates` by name, and take this too)."""
    return np.array(SEZR.compile(params), dtype=np.float64)


def _positional(kernel):
    """``kernel`` called the way the solver was called before its state was named (S, E, Z, R,
    w_east, w_south, width, k, t0, t_stop, max_events, arrival, fired, gen), whichever it is: a
    kernel taking named state (``cells`` first) gets its records built from those arrays."""
    if next(iter(inspect.signature(kernel).parameters)) != "cells":
        return kernel

    def call(S, E, Z, R, w_east, w_south, width, k, t0, t_stop, max_events, arrival, fired, gen):
        cells = Cells(S, E, Z, R, arrival)
        return kernel(cells, Edges(w_east, w_south, width), k, t0, t_stop, fired, gen, max_events)

    return call


def _arrays(lat: Lattice):
    S = lat.population.ravel().astype(np.int32)
    return S, np.zeros_like(S), np.zeros_like(S), np.zeros_like(S)


def _seed_cell(lat: Lattice) -> int:
    return int(np.argmax(lat.population.ravel()))


def exact_rate(lat: Lattice, params: LatticeParams, events: int, kernel=run_exact, seed: int = 1) -> dict:
    kernel = _positional(kernel)
    S, E, Z, R = _arrays(lat)
    Z[_seed_cell(lat)] = 100
    arrival = np.full(S.shape, np.inf, np.float32)
    fired = np.zeros(5, np.int64)
    gen = np.random.default_rng(seed)
    wall, cpu = time.perf_counter(), time.process_time()
    t = kernel(
        S,
        E,
        Z,
        R,
        lat.w_east.ravel(),
        lat.w_south.ravel(),
        lat.shape[1],
        _k(params),
        0.0,
        1e9,
        events,
        arrival,
        fired,
        gen,
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = int(fired.sum())
    return {
        "reactions": n,
        "wall_s": wall,
        "cpu_s": cpu,
        "per_s_wall": n / wall,
        "per_s_cpu": n / cpu,
        "sim_days": t,
        "cells_reached": int(np.isfinite(arrival).sum()),
    }


def _kernel_from_file(path: str):
    """``run_exact`` of an exact solver's source file (e.g. an earlier version, from ``git show
    <commit>:src/hyosan/lattice/exact.py > file``), imported as a module of its own."""
    # Named after the file, and registered: numba's cache of it names the module, which must import.
    name = "town_exact_" + "".join(ch if ch.isalnum() else "_" for ch in os.path.basename(path)[:-3])
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return _positional(module.run_exact)


def side_by_side(lat: Lattice, params: LatticeParams, events: int, rounds: int, prev=None) -> dict:
    """The exact solver now and before its speed work (and ``prev``, another version, when given),
    taking turns (order alternating by round), each round from the same start with its own seed:
    medians of the CPU-time rates."""
    kernels = {"now": run_exact, "before": town_exact_before.run_exact}
    if prev is not None:
        kernels["prev"] = prev
    rates: dict[str, list[float]] = {name: [] for name in kernels}
    for r in range(rounds):
        for name in list(kernels) if r % 2 == 0 else list(kernels)[::-1]:
            rates[name].append(exact_rate(lat, params, events, kernels[name], seed=100 + r)["per_s_cpu"])
    med = {name: float(np.median(v)) for name, v in rates.items()}
    out = {
        "events": events,
        "rounds": rounds,
        "now_per_s_cpu": med["now"],
        "before_per_s_cpu": med["before"],
        "ratio": med["now"] / med["before"],
        "rates": rates,
    }
    if prev is not None:
        out["prev_per_s_cpu"] = med["prev"]
        out["ratio_prev"] = med["now"] / med["prev"]
    return out


def one_cell(params: LatticeParams, n: int = 1_000_000, runs: int = 4) -> dict:
    lat = Lattice.from_population(np.array([[n - 10]]))
    k = _k(params)
    total, wall = 0, 0.0
    for r in range(runs):
        S, E, Z, R = _arrays(lat)
        Z[0] = 10
        fired = np.zeros(5, np.int64)
        t0 = time.process_time()
        _positional(run_exact)(
            S,
            E,
            Z,
            R,
            lat.w_east.ravel(),
            lat.w_south.ravel(),
            1,
            k,
            0.0,
            1e9,
            10**12,
            np.full(1, np.inf, np.float32),
            fired,
            np.random.default_rng(r),
        )
        wall += time.process_time() - t0
        total += int(fired.sum())
    model = models.get("alemi-latent")
    p = {**params.compartment(n), "Z0": 10}
    model.simulate(method="ssa", params=p, runs=1, t_end=1e9, n_points=2, seed=99)  # warm-up
    t0 = time.process_time()
    res = model.simulate(method="ssa", params=p, runs=runs, t_end=1e9, n_points=2, seed=0)
    comp_wall = time.process_time() - t0
    comp = int(res.reactions_fired.sum())
    return {"lattice_per_s": total / wall, "compartment_per_s": comp / comp_wall, "N": n, "runs": runs}


def tau_country(lat: Lattice, params: LatticeParams, days: float) -> dict:
    ev = [TownEvent("seed", 0.0, "cells:{},{}".format(*divmod(_seed_cell(lat), lat.shape[1])), zombies=100)]
    wall, cpu = time.perf_counter(), time.process_time()
    r = simulate(
        lat, params, days=days, method="tau", events=ev, record_every=1.0, snapshot_every=days, tau=0.05
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    last = r.counts.iloc[-1]
    return {
        "days": days,
        "wall_s": wall,
        "cpu_s": cpu,
        "people": int(lat.population.sum()),
        "final": {k: int(last[k]) for k in "SEZR"},
        "cells_reached": int(np.isfinite(r.arrival).sum()),
        "reactions": r.fired,
    }


def numpy_lattice(lat: Lattice, params: LatticeParams, days: float, tau: float = 0.05) -> dict:
    """The obvious NumPy version: every leap, binomial draws for every cell of the grid."""
    rng = np.random.default_rng(0)
    k = SEZR.compile(params)
    S = lat.population.astype(np.int64)
    E = np.zeros_like(S)
    Z = np.zeros_like(S)
    R = np.zeros_like(S)
    Z.flat[_seed_cell(lat)] = 100
    we, ws = lat.w_east.astype(np.float64), lat.w_south.astype(np.float64)
    t0 = time.perf_counter()
    for _ in range(round(days / tau)):
        wz = (
            we * np.roll(Z, -1, 1)
            + np.roll(we, 1, 1) * np.roll(Z, 1, 1)
            + ws * np.roll(Z, -1, 0)
            + np.roll(ws, 1, 0) * np.roll(Z, 1, 0)
        )
        bitten = rng.binomial(S, -np.expm1(-(k.bite * Z + k.bite_across * wz) * tau))
        ws_ = (
            we * np.roll(S, -1, 1)
            + np.roll(we, 1, 1) * np.roll(S, 1, 1)
            + ws * np.roll(S, -1, 0)
            + np.roll(ws, 1, 0) * np.roll(S, 1, 0)
        )
        killed = rng.binomial(Z, -np.expm1(-(k.kill * S + k.kill_across * ws_) * tau))
        turned = rng.binomial(E, -np.expm1(-k.turn * tau))
        S -= bitten
        E += bitten - turned
        Z += turned - killed
        R += killed
    wall = time.perf_counter() - t0
    return {"days": days, "wall_s": wall, "per_day_s": wall / days, "projected_60_days_s": 60 * wall / days}


def counted_bytes(lat: Lattice) -> dict:
    """Bytes per cell of every array a run holds: the lattice (people, blocked, edges, districts),
    the run's state (S, E, Z, R, first arrival, the edges with the cordons applied) and each
    kernel's own working arrays."""
    run = Town(lat, LatticeParams(), SEZR, "exact", 0.05, np.random.default_rng(0))
    held = sum(x.nbytes for x in (lat.population, lat.blocked, lat.w_east, lat.w_south, lat.district))
    held += sum(
        x.nbytes
        for x in (
            run.S,
            run.E,
            run.Z,
            run.R,
            run.arrival,
            run.w_east,
            run.w_south,
            *run.layers["cordon"],
        )
    )
    per_cell = held / lat.n_cells
    return {
        "held": per_cell,
        "exact": per_cell + exact.WORKSPACE_BYTES_PER_CELL,
        "tau": per_cell + tau.WORKSPACE_BYTES_PER_CELL,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=30_000_000, help="exact solver: reactions to time")
    ap.add_argument("--side-events", type=int, default=10_000_000, help="side by side: reactions a round")
    ap.add_argument("--rounds", type=int, default=4, help="side by side: rounds (each kernel once a round)")
    ap.add_argument("--walk-days", type=float, default=10.0, help="tau-leaping with walking: days")
    ap.add_argument("--numpy-days", type=float, default=5.0, help="NumPy lattice: days to time")
    ap.add_argument(
        "--prev",
        help="also time this exact solver source file side by side (e.g. an earlier commit's "
        "src/hyosan/lattice/exact.py, from git show)",
    )
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    lat = synthetic_country()
    params = LatticeParams()
    small = synthetic_country(60, 100, 1e6, seed=1, cities=5)  # warm-up: compile every kernel
    exact_rate(small, params, 10_000)
    exact_rate(small, params, 10_000, town_exact_before.run_exact)
    prev = _kernel_from_file(args.prev) if args.prev else None
    if prev is not None:
        exact_rate(small, params, 10_000, prev)
    tau_country(small, params, 1.0)
    tau_country(small, params.with_(move_s=0.1, move_z=0.1), 0.2)
    report = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "load_avg_start": os.getloadavg()[0],
        "cells": lat.n_cells,
    }
    report["exact"] = exact_rate(lat, params, args.events)
    print(
        f"exact 1500x900: {report['exact']['per_s_wall'] / 1e6:.2f} M reactions/s wall "
        f"({report['exact']['per_s_cpu'] / 1e6:.2f} M/s CPU), {report['exact']['reactions']:,} reactions, "
        f"{report['exact']['sim_days']:.1f} days, goal {GOAL_EXACT / 1e6:.0f} M/s"
    )
    report["side_by_side"] = sbs = side_by_side(lat, params, args.side_events, args.rounds, prev)
    print(
        f"exact side by side, {sbs['rounds']} rounds of {sbs['events']:,} reactions (CPU time, medians): "
        f"now {sbs['now_per_s_cpu'] / 1e6:.2f} M/s, before {sbs['before_per_s_cpu'] / 1e6:.2f} M/s, "
        f"ratio {sbs['ratio']:.2f}"
    )
    if prev is not None:
        print(
            f"  and {args.prev}: {sbs['prev_per_s_cpu'] / 1e6:.2f} M/s, now / it {sbs['ratio_prev']:.3f} "
            f"(rounds now {[round(x / 1e6, 2) for x in sbs['rates']['now']]}, "
            f"it {[round(x / 1e6, 2) for x in sbs['rates']['prev']]})"
        )
    report["one_cell"] = one_cell(params)
    oc = report["one_cell"]
    print(
        f"one cell of 1e6 (CPU time): lattice exact {oc['lattice_per_s'] / 1e6:.1f} M/s, compartment SSA "
        f"{oc['compartment_per_s'] / 1e6:.1f} M/s"
    )
    report["tau"] = tau_country(lat, params, 60.0)
    print(
        f"tau 300 M people 60 days: {report['tau']['wall_s']:.1f} s wall "
        f"({report['tau']['cpu_s']:.1f} s CPU), "
        f"{report['tau']['cells_reached']:,} cells reached, goal {GOAL_TAU_S:.0f} s"
    )
    report["tau_walking"] = tau_country(lat, params.with_(move_s=0.1, move_z=0.1), args.walk_days)
    tw = report["tau_walking"]
    print(
        f"tau with walking (every cell every leap), {tw['days']:g} days: {tw['wall_s']:.1f} s wall "
        f"(projected 60 days: {tw['wall_s'] * 60 / tw['days']:.0f} s)"
    )
    report["numpy"] = numpy_lattice(lat, params, args.numpy_days)
    print(
        f"NumPy lattice: {report['numpy']['per_day_s']:.2f} s per day (projected 60 days: "
        f"{report['numpy']['projected_60_days_s']:.0f} s)"
    )
    counted = counted_bytes(lat)
    report["memory"] = counted
    for mode in ("exact", "tau"):
        print(
            f"memory {mode}: {counted[mode]:.0f} bytes per cell (arrays held {counted['held']:.0f} + the "
            f"kernel's working arrays), goal {GOAL_BYTES:.0f}"
        )
    report["load_avg_end"] = os.getloadavg()[0]
    print(f"load average {report['load_avg_start']:.2f} -> {report['load_avg_end']:.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2, default=str)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
