"""Where a school tick's time goes: CPU time per system, per tick, with the agents each system
looked at and changed, for Hyosan High (the built-in scenario, 6 h) and the million agents of
school_million.py.

The tick is a copy of ``hyosan.rules.tick.run_ticks`` (the built-in behaviours) that calls the
same system kernels in the same order, with the thread's CPU clock (``clock_gettime``,
``CLOCK_THREAD_CPUTIME_ID``, about 0.3 µs a reading) read between them; the counting passes
(which agents a system looked at, which it changed) run outside the timed stretches. Draws are
the engine's own, so the run is the same run, draw for draw (the script checks the final counts
against a plain run). The engine's Python side (timeline, route fields, recorder) is timed as the
run's CPU time less the kernel's.

    python benchmarks/profile_tick.py --json benchmarks/results/profile_tick.json
    python benchmarks/profile_tick.py --only million --ticks 30
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import time
from pathlib import Path

import numba
import numpy as np

from hyosan.engine import Simulation
from hyosan.rules.consts import BITTEN, DEAD, ESCAPED, HALFBIE, HUMAN, RESCUED, ZOMBIE
from hyosan.rules.contact import contact_all
from hyosan.rules.infection import turn_due
from hyosan.rules.movement import settle_modes
from hyosan.rules.rng import below
from hyosan.rules.spatial import rebuild_cells
from hyosan.rules.tick import (
    count_states,
    exits_all,
    index_all,
    move_all_builtin,
    record_frame,
    senses_all,
)
from hyosan.scenario.load import load_scenario
from school_common import open_floor, open_floor_world_arrays

SYSTEMS = (
    "infection",
    "block index",
    "senses",
    "movement",
    "settle",
    "cell index",
    "contact",
    "exits",
    "counts",
    "frames",
)
_libc = ctypes.CDLL(None)
_clock_gettime = _libc.clock_gettime
_clock_gettime.argtypes = [ctypes.c_int, ctypes.c_void_p]
_clock_gettime.restype = ctypes.c_int
CLOCK_THREAD_CPUTIME_ID = 3


@numba.njit(cache=True)
def cpu_ns(ts):
    _clock_gettime(CLOCK_THREAD_CPUTIME_ID, ts.ctypes.data)
    return ts[0] * 1_000_000_000 + ts[1]


@numba.njit(cache=True)
def _present(state):
    n = 0
    for s in state:
        if s != DEAD and s != ESCAPED and s != RESCUED:
            n += 1
    return n


@numba.njit(cache=True)
def _count(state, a, b):
    n = 0
    for s in state:
        if s == a or s == b:
            n += 1
    return n


@numba.njit(cache=True)
def _changed(x, saved):
    n = 0
    for i in range(x.shape[0]):
        if x[i] != saved[i]:
            n += 1
    return n


@numba.njit(cache=True)
def profiled_ticks(t0, t1, run, prm, ns, looked, changed, ts, buf):
    """``run_ticks`` with a clock between the systems: ns[k], looked[k], changed[k] accumulate
    system k's CPU time and agents (SYSTEMS order)."""
    agents, ev = run.agents, run.events
    state, cell, mode = agents.state, agents.cell, agents.mode
    n = state.shape[0]
    for now in range(t0, t1):
        # infection: the bitten, and those who turned
        bitten = _count(state, BITTEN, BITTEN)
        c = cpu_ns(ts)
        turn_due(now, agents, ev)
        ns[0] += cpu_ns(ts) - c
        looked[0] += bitten
        changed[0] += bitten - _count(state, BITTEN, BITTEN)
        present = _present(state)
        c = cpu_ns(ts)
        index_all(run, prm)
        ns[1] += cpu_ns(ts) - c
        looked[1] += 0 if prm.humans_wander and prm.zombies_wander else present
        buf[:] = mode
        c = cpu_ns(ts)
        senses_all(now, run, prm)
        ns[2] += cpu_ns(ts) - c
        looked[2] += present
        changed[2] += _changed(mode, buf)
        buf[:] = cell
        c = cpu_ns(ts)
        offset = below(run.rng_move, n) if n > 0 else 0
        move_all_builtin(now, offset, run, prm, run.rng_move)
        ns[3] += cpu_ns(ts) - c
        looked[3] += present
        changed[3] += _changed(cell, buf)
        buf[:] = mode
        c = cpu_ns(ts)
        settle_modes(run.world, agents)
        ns[4] += cpu_ns(ts) - c
        looked[4] += n
        changed[4] += _changed(mode, buf)
        c = cpu_ns(ts)
        rebuild_cells(agents, run.cells, prm.W)
        ns[5] += cpu_ns(ts) - c
        looked[5] += n
        attackers = _count(state, ZOMBIE, HALFBIE)
        before = ev.count[0]
        c = cpu_ns(ts)
        offset = below(run.rng_contact, n) if n > 0 else 0
        contact_all(now, offset, run.world, run.doors, agents, prm, run.noise, ev, run.cells, run.rng_contact)
        ns[6] += cpu_ns(ts) - c
        looked[6] += attackers
        changed[6] += ev.count[0] - before
        humans = _count(state, HUMAN, BITTEN)
        c = cpu_ns(ts)
        exits_all(now, run.world, agents, prm, ev)
        ns[7] += cpu_ns(ts) - c
        looked[7] += humans
        changed[7] += humans - _count(state, HUMAN, BITTEN)
        c = cpu_ns(ts)
        count_states(run.counts[now + 1], agents)
        ns[8] += cpu_ns(ts) - c
        looked[8] += n
        full = False
        every = run.frames.every[0]
        if every > 0 and (now + 1) % every == 0:
            c = cpu_ns(ts)
            full = record_frame(now + 1, agents, run.frames)
            ns[9] += cpu_ns(ts) - c
            looked[9] += n
        if full or run.flags.routes_changed[0] != 0 or 2 * ev.count[0] > ev.tick.shape[0]:
            return now + 1
    return t1


def profile(sim: Simulation, ticks: int) -> dict:
    """Run ``sim`` for ``ticks`` ticks (from where it stands) through the profiled tick;
    per-system figures."""
    ns = np.zeros(len(SYSTEMS), np.int64)
    looked = np.zeros(len(SYSTEMS), np.int64)
    changed = np.zeros(len(SYSTEMS), np.int64)
    ts = np.zeros(2, np.int64)
    buf = np.zeros(sim.pop.n, np.int64)
    kernel_s = [0.0]

    def advance(t0, t1, run, prm):
        start = time.process_time()
        out = profiled_ticks(t0, t1, run, prm, ns, looked, changed, ts, buf)
        kernel_s[0] += time.process_time() - start
        return out

    routes_s = [0.0]
    refresh = sim.refresh_routes

    def timed_refresh():
        start = time.process_time()
        refresh()
        routes_s[0] += time.process_time() - start

    sim.advance = advance
    sim.refresh_routes = timed_refresh
    t0 = sim.tick
    start = time.process_time()
    sim.run_until(min(sim.n_ticks, t0 + ticks))
    total = time.process_time() - start
    done = sim.tick - t0
    systems = {
        name: {
            "us_per_tick": ns[k] / 1e3 / done,
            "share": ns[k] / 1e9 / total,
            "looked_per_tick": looked[k] / done,
            "changed_per_tick": changed[k] / done,
        }
        for k, name in enumerate(SYSTEMS)
    }
    clock_overhead = kernel_s[0] - ns.sum() / 1e9
    return {
        "ticks": done,
        "cpu_s": total,
        "us_per_tick": total / done * 1e6,
        "systems": systems,
        "kernel_other_us_per_tick": clock_overhead / done * 1e6,
        "python_us_per_tick": (total - kernel_s[0]) / done * 1e6,
        "routes_us_per_tick": routes_s[0] / done * 1e6,
        "final": np.bincount(sim.pop.state, minlength=7).tolist(),
    }


def table(name: str, p: dict) -> str:
    lines = [
        f"{name}: {p['ticks']} ticks, {p['us_per_tick']:.1f} µs of CPU a tick",
        "| system | µs a tick | share | agents looked at a tick | changed a tick |",
        "|---|---|---|---|---|",
    ]
    for sysname, s in p["systems"].items():
        lines.append(
            f"| {sysname} | {s['us_per_tick']:.1f} | {100 * s['share']:.1f} % | "
            f"{s['looked_per_tick']:,.0f} | {s['changed_per_tick']:,.1f} |"
        )
    lines.append(
        f"| clock readings and counting passes | {p['kernel_other_us_per_tick']:.1f} | "
        f"{100 * p['kernel_other_us_per_tick'] / p['us_per_tick']:.1f} % | | |"
    )
    lines.append(
        f"| engine's Python side (timeline, recorder; route fields {p['routes_us_per_tick']:.1f}) | "
        f"{p['python_us_per_tick']:.1f} | {100 * p['python_us_per_tick'] / p['us_per_tick']:.1f} % | | |"
    )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=("school", "million"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ticks", type=int, default=40, help="ticks of the million-agent run")
    ap.add_argument("--duration", default="6h", help="Hyosan High's clock duration")
    ap.add_argument(
        "--window",
        default=None,
        help="profile only the ticks from A to B hours into Hyosan High ('6,7'; run plainly before A)",
    )
    ap.add_argument(
        "--no-check", action="store_true", help="skip the plain run the profiled one is checked against"
    )
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    out: dict = {"load_average_start": os.getloadavg()[0]}
    print(f"load average at start: {out['load_average_start']:.2f}", flush=True)
    if args.only != "million":
        sc = load_scenario("hyosan-high", {"clock.duration": args.duration})
        Simulation(sc, seed=args.seed).run_until(60)  # compile, or load numba's cache
        profile(Simulation(sc, seed=args.seed), 60)  # compile the profiled tick (not cacheable)
        sim = Simulation(sc, seed=args.seed)
        a, b = (0.0, sim.n_ticks / 3600) if args.window is None else map(float, args.window.split(","))
        t0, t1 = round(a * 3600 / sim.tick_seconds), min(sim.n_ticks, round(b * 3600 / sim.tick_seconds))
        sim.run_until(t0)
        p = profile(sim, t1 - t0)
        if not args.no_check:
            plain = Simulation(sc, seed=args.seed)
            plain.run_until(t1)
            assert p["final"] == np.bincount(plain.pop.state, minlength=7).tolist(), "not the same run"
        out["hyosan_high"] = p
        print(table(f"Hyosan High, seed {args.seed}, ticks {t0} to {t1}", p), flush=True)
        if args.json:
            args.json.write_text(json.dumps(out, indent=1))
    if args.only != "school":
        world = open_floor_world_arrays(2000, 2000)
        sim = Simulation(open_floor(1_000_000, 1_000, args.ticks, deaf=True), seed=args.seed, world=world)
        out["million"] = profile(sim, args.ticks)
        print(table("1,000,000 humans + 1,000 zombies on 2000 x 2000 (deaf)", out["million"]), flush=True)
    out["load_average_end"] = os.getloadavg()[0]
    print(f"load average at end: {out['load_average_end']:.2f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
