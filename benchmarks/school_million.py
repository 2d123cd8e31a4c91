"""A million agents on the school engine: ticks per second, bytes per agent, build times, memory.

The open-floor model of school_vs_mesa.py scaled up a hundredfold at the same density: a
2000 x 2000 floor (one agent per cell at most), 1,000,000 humans who wander and 1,000 zombies
who bite a neighbour with probability 0.5 (else wander), turning 5 ticks after the bite.

Figures:

- ticks per second over ``--ticks`` ticks (1 s each; the run is timed in chunks, to show the
  speed as the epidemic grows), numba compilation excluded (a small warm-up run comes first);
  the run is "deaf" (hearing thresholds above the 80 dB scream, so bites stamp no noise; nobody
  listens to noise under these behaviours and the epidemic is the same draw for draw). The run
  as configured, where every bite's scream is spread over the noise map, is then timed for at
  most ``--screams-budget`` seconds of wall time;
- core state bytes per agent (``Population.core_bytes_per_agent()``), the engine's own per-agent
  working arrays (spatial index, event buffer), and the per-cell arrays (the World's graphs and
  the engine's maps), which grow with the floor, not with the agents;
- the time to build the World (straight from arrays: the ASCII loader takes tens of seconds and
  gigabytes at this size; ``--ascii`` times it too, in a separate process), the population, and
  the whole Simulation; peak resident memory (getrusage) after each stage.

    python benchmarks/school_million.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from hyosan.engine import Simulation
from hyosan.populate import build_population
from school_common import (
    Clock,
    counts,
    kernel_cache_stats,
    load,
    median,
    new_report,
    open_floor,
    open_floor_world_arrays,
    open_floor_world_ascii,
    peak_rss_mb,
    table,
    write_json,
)

GOAL_TICKS_PER_S = 10.0
GOAL_CORE_BYTES = 100.0


def rss_mb() -> float:
    """Resident memory now, MiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory(sim: Simulation) -> dict:
    """Bytes of the run's arrays: the population's, the engine's per agent, and per cell."""
    seen: set[int] = set()

    def total(arrays) -> int:
        out = 0
        for a in arrays:
            key = a.__array_interface__["data"][0] if isinstance(a, np.ndarray) else None
            if key is not None and key not in seen:
                seen.add(key)
                out += a.nbytes
        return out

    w, n, cells, a = sim.world, sim.pop.n, sim.world.n_cells, sim.arrays
    core = total(v for v in vars(sim.pop).values() if isinstance(v, np.ndarray))
    per_agent = {
        "spatial index (block and cell lists)": total(
            [a.blocks.next, a.cells.next, a.cells.touched, a.cells.zombie_touched]
        ),
        f"event buffer ({a.events.tick.size:,} events)": total(a.events),
    }
    world_arrays = [
        w.tiles,
        w.room_id,
        w.door_of_cell,
        w.nbr_start,
        w.nbr_idx,
        w.nbr_cost,
        w.snd_start,
        w.snd_idx,
        w.snd_cost,
    ]
    per_cell = {
        "World: walking graph (CSR)": total([w.nbr_start, w.nbr_idx, w.nbr_cost]),
        "World: sound graph (CSR)": total([w.snd_start, w.snd_idx, w.snd_cost]),
        "World: tiles, rooms, masks": total(world_arrays),
        "engine: map copies, capacity, occupancy, coordinates, blocks, full cells": total(a.world),
        "engine: noise map and its workspace": total(a.noise),
        "engine: distance fields (goal, refuge, chokepoints)": total(a.fields),
        "engine: cell index heads (prey, zombies), prey flags": total(
            [a.cells.head, a.cells.prey_in, a.cells.zombie_head]
        ),
        "engine: block counts": total(a.blocks),
    }
    frames = sum(a.nbytes for a in sim.recorder.frame_cells + sim.recorder.frame_states)
    return {
        "agents": n,
        "cells": cells,
        "core_bytes_per_agent": sim.pop.core_bytes_per_agent(),
        "core_bytes": core,
        "engine_per_agent_bytes": per_agent,
        "engine_bytes_per_agent": sum(per_agent.values()) / n,
        "per_cell_bytes": per_cell,
        "per_cell_total_bytes": sum(per_cell.values()),
        "bytes_per_cell": sum(per_cell.values()) / cells,
        "frames_bytes": frames,
        "counts_bytes": sim.counts.nbytes,
    }


def timed_run(sim: Simulation, ticks: int, chunk: int, budget_s: float | None = None) -> dict:
    """Run ``ticks`` ticks in chunks (stopping early past ``budget_s``); wall and CPU per chunk."""
    chunks = []
    while sim.tick < ticks:
        start = sim.tick
        with Clock() as clock:
            sim.step(min(chunk, ticks - sim.tick))
        done = sim.tick - start
        chunks.append(
            {
                "from": start,
                "ticks": done,
                "wall_s": clock.wall,
                "cpu_s": clock.cpu,
                "ticks_per_s": done / clock.wall,
                **counts(sim.pop.state),
            }
        )
        print(
            f"  ticks {start}-{sim.tick}: {done / clock.wall:.2f} ticks/s "
            f"({chunks[-1]['zombies']:,} zombies, {chunks[-1]['bitten']:,} bitten)",
            flush=True,
        )
        if budget_s is not None and sum(c["wall_s"] for c in chunks) > budget_s:
            break
    wall = sum(c["wall_s"] for c in chunks)
    cpu = sum(c["cpu_s"] for c in chunks)
    done = sum(c["ticks"] for c in chunks)
    return {
        "ticks": done,
        "wall_s": wall,
        "cpu_s": cpu,
        "ticks_per_s": done / wall,
        "ticks_per_cpu_s": done / cpu,
        "chunks": chunks,
        "final": counts(sim.pop.state),
    }


_ASCII = """
import json, resource, sys, time
sys.path.insert(0, {here!r})
from school_common import open_floor_world_ascii
start = time.perf_counter()
open_floor_world_ascii({size}, {size})
print(json.dumps({{"wall_s": time.perf_counter() - start,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def ascii_world(size: int) -> dict:
    """The World through the ASCII loader, in a fresh process (its memory peak stays out of ours)."""
    code = textwrap.dedent(_ASCII.format(here=str(Path(__file__).parent), size=size))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", type=int, default=2000, help="side of the square floor (cells)")
    parser.add_argument("--humans", type=int, default=1_000_000)
    parser.add_argument("--zombies", type=int, default=1_000)
    parser.add_argument("--ticks", type=int, default=100)
    parser.add_argument("--chunk", type=int, default=10, help="ticks per timed chunk")
    parser.add_argument("--reps", type=int, default=1, help="deaf runs (seeds seed, seed+1, ...)")
    parser.add_argument(
        "--screams-budget",
        type=float,
        default=60.0,
        help="wall seconds for the run as configured (0: skip it)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ascii", action="store_true", help="also time the ASCII loader (slow)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    report: dict = {**new_report(args), "notes": []}
    print("machine:", ", ".join(f"{k} {v}" for k, v in report["machine"].items()), flush=True)
    print(f"load average (1 min) at start: {report['load_average_start']:.2f}", flush=True)

    # Warm-up on a small floor: the kernels' types do not depend on sizes, so this compiles (or
    # loads from numba's cache) everything the big run needs.
    with Clock() as clock:
        small = open_floor_world_ascii(50, 50)
        Simulation(open_floor(500, 5, 5), seed=0, world=small).run_until(5)
    report["warm_up"] = {"wall_s": clock.wall, **kernel_cache_stats()}
    print(f"warm-up (small floor, 5 ticks): {clock.wall:.2f} s", flush=True)

    with Clock() as clock:
        world = open_floor_world_arrays(args.size, args.size)
    report["world_build_s"] = clock.wall
    report["peak_rss_mb_after_world"] = peak_rss_mb()
    report["rss_mb_after_world"] = rss_mb()
    print(
        f"World {args.size} x {args.size} from arrays: {clock.wall:.2f} s, "
        f"peak RSS {report['peak_rss_mb_after_world']:.0f} MiB",
        flush=True,
    )

    deaf = open_floor(args.humans, args.zombies, args.ticks, deaf=True)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(args.seed).spawn(2)]
    with Clock() as clock:
        pop = build_population(deaf.scenario, world, *rngs, source=deaf.source)
    report["population_build_s"] = clock.wall
    del pop
    print(f"population of {args.humans + args.zombies:,}: {clock.wall:.2f} s", flush=True)

    runs, builds = [], []
    for rep in range(args.reps):
        with Clock() as clock:
            sim = Simulation(deaf, seed=args.seed + rep, world=world)
        builds.append(clock.wall)
        if rep == 0:
            report["memory"] = memory(sim)
            report["peak_rss_mb_after_build"] = peak_rss_mb()
            report["rss_mb_after_build"] = rss_mb()
            print(
                f"Simulation build: {clock.wall:.2f} s, peak RSS {report['peak_rss_mb_after_build']:.0f} MiB",
                flush=True,
            )
        print(f"deaf run, seed {args.seed + rep}:", flush=True)
        runs.append(timed_run(sim, args.ticks, args.chunk))
        del sim
    report["simulation_build_s"] = median(builds)
    report["deaf"] = runs
    if args.screams_budget > 0:
        loud = open_floor(args.humans, args.zombies, args.ticks)
        sim = Simulation(loud, seed=args.seed, world=world)
        print(f"as configured (screams), seed {args.seed}, at most {args.screams_budget:.0f} s:", flush=True)
        report["screams"] = timed_run(sim, args.ticks, 1, budget_s=args.screams_budget)
        del sim
    report["peak_rss_mb"] = peak_rss_mb()
    if args.ascii:
        report["ascii_world"] = ascii_world(args.size)
    report["load_average_end"] = load()

    mem = report["memory"]
    rate = median([r["ticks_per_s"] for r in runs])
    cpu_rate = median([r["ticks_per_cpu_s"] for r in runs])
    chunk_rates = [c["ticks_per_s"] for r in runs for c in r["chunks"]]
    report["summary"] = {
        "ticks_per_s": rate,
        "ticks_per_cpu_s": cpu_rate,
        "chunk_ticks_per_s_min": min(chunk_rates),
        "chunk_ticks_per_s_max": max(chunk_rates),
    }
    rows = [
        [
            "ticks per second (deaf, whole run, wall)",
            f"{rate:.2f} (chunks of {args.chunk}: {min(chunk_rates):.2f} to {max(chunk_rates):.2f})",
            f">= {GOAL_TICKS_PER_S:.0f}",
        ],
        ["ticks per CPU second (deaf)", f"{cpu_rate:.2f}", ""],
    ]
    if "screams" in report:
        s = report["screams"]
        rows.append(
            [
                f"ticks per second as configured (screams; first {s['ticks']} ticks)",
                f"{s['ticks_per_s']:.3f}",
                f">= {GOAL_TICKS_PER_S:.0f}",
            ]
        )
    rows += [
        ["core state bytes per agent", f"{mem['core_bytes_per_agent']:.0f}", f"< {GOAL_CORE_BYTES:.0f}"],
        ["engine working arrays per agent", f"{mem['engine_bytes_per_agent']:.0f} bytes", ""],
        [
            "per-cell arrays (World + engine)",
            f"{mem['per_cell_total_bytes'] / 2**20:.0f} MiB = {mem['bytes_per_cell']:.0f} bytes/cell",
            "",
        ],
        ["build World from arrays", f"{report['world_build_s']:.2f} s", ""],
        ["build population", f"{report['population_build_s']:.2f} s", ""],
        ["build Simulation (population + engine arrays)", f"{report['simulation_build_s']:.2f} s", ""],
        [
            "peak RSS",
            f"{report['peak_rss_mb']:.0f} MiB (after World {report['peak_rss_mb_after_world']:.0f}, "
            f"after Simulation {report['peak_rss_mb_after_build']:.0f})",
            "",
        ],
        ["RSS after Simulation build", f"{report['rss_mb_after_build']:.0f} MiB", ""],
    ]
    if "ascii_world" in report:
        a = report["ascii_world"]
        rows.append(
            [
                "build World through the ASCII loader (own process)",
                f"{a['wall_s']:.1f} s, peak RSS {a['peak_rss_mb']:.0f} MiB",
                "",
            ]
        )
    print(
        f"\n{args.humans:,} humans + {args.zombies:,} zombies on {args.size} x {args.size}, "
        f"{args.ticks} ticks, {args.reps} deaf run(s)"
    )
    start, end = report["load_average_start"], report["load_average_end"]
    print(f"load average (1 min): {start:.2f} at start, {end:.2f} at end")
    print(f"final (deaf, seed {args.seed}): {runs[0]['final']}")
    print(
        "per-agent engine arrays:",
        ", ".join(f"{k} {v / mem['agents']:.0f} B" for k, v in mem["engine_per_agent_bytes"].items()),
    )
    print("per-cell arrays:", ", ".join(f"{k} {v / 2**20:.0f} MiB" for k, v in mem["per_cell_bytes"].items()))
    print()
    print(table(["figure", "hyosan", "goal"], rows))
    write_json(args.json, report)


if __name__ == "__main__":
    main()
