"""Hyosan High, six simulated hours: wall time of a whole run, numba compilation apart.

Runs the built-in scenario ``hyosan-high`` as it stands (it is still being tuned) with a few
seeds and reports, per seed:

- the build, ``Simulation(loaded, seed)`` (reads the map, places the population, builds the
  engine's arrays and distance fields);
- the run, ``.run()`` (every tick, the recorder, and the Result's tables), wall and CPU time;
- the speed-up over real time: simulated seconds / wall seconds of build + run;

and, for the first seed, what the run leaves behind: the time to write the run folder without
its report (tables, frames, chronicle), the time to build report.html, and its size (goals: under
5 s and under 10 MB).

numba compilation is measured apart, in fresh processes: one with an empty numba cache (a
temporary ``HYOSAN_CACHE_DIR``: nothing under src/ is touched), whose first build + run includes
compiling every kernel, then the same process's second run (warm); and one more fresh process on
the cache just filled (what a user's second ``hyosan run`` pays to load the cached kernels).
Compilation = cold first run - warm run in the same process.

    python benchmarks/hyosan_high.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from school_common import Clock, load, median, new_report, table, write_json

GOAL_RUN_S = 5.0
GOAL_SPEEDUP = 4000.0
GOAL_REPORT_S = 5.0
GOAL_REPORT_MB = 10.0

_FRESH = """
import json, sys, time
start = time.perf_counter()
from hyosan.engine import Simulation
from hyosan.scenario.load import load_scenario
out = {"import_s": time.perf_counter() - start}
loaded = load_scenario("hyosan-high")
for key in ("first", "second"):
    start = time.perf_counter()
    sim = Simulation(loaded, seed=0)
    middle = time.perf_counter()
    sim.run()
    out[key] = {"build_s": middle - start, "run_s": time.perf_counter() - middle}
print(json.dumps(out))
"""


def fresh_process(cache: str) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache, "HYOSAN_CACHE_DIR": cache}
    code = textwrap.dedent(_FRESH)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def compilation() -> dict:
    """Cold (empty cache) and cached first runs, each in a fresh process."""
    with tempfile.TemporaryDirectory(prefix="hyosan-numba-") as cache:
        cold = fresh_process(cache)
        cached = fresh_process(cache)

    def total(run: dict) -> float:
        return run["build_s"] + run["run_s"]

    return {
        "cold": cold,
        "cached": cached,
        "compile_s": total(cold["first"]) - total(cold["second"]),
        "cache_load_s": total(cached["first"]) - total(cached["second"]),
    }


def outputs(result) -> dict:
    """Time the run folder (without the report) and the report; the report's size."""
    from hyosan.report import build_report
    from hyosan.results import save

    with tempfile.TemporaryDirectory(prefix="hyosan-report-") as tmp:
        with Clock() as folder:
            save(result, Path(tmp) / "run")  # no report.html: timed on its own below
        with Clock() as page:
            text = build_report(result)
    return {"folder_s": folder.wall, "report_s": page.wall, "report_mb": len(text.encode()) / 1e6}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--reps", type=int, default=1, help="runs per seed")
    parser.add_argument("--no-compile", action="store_true", help="skip the fresh-process compile timing")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    report: dict = new_report(args)
    print("machine:", ", ".join(f"{k} {v}" for k, v in report["machine"].items()), flush=True)
    print(f"load average (1 min) at start: {report['load_average_start']:.2f}", flush=True)
    if not args.no_compile:
        report["compilation"] = comp = compilation()
        print(
            f"numba: compile {comp['compile_s']:.1f} s (empty cache), "
            f"load from cache {comp['cache_load_s']:.2f} s",
            flush=True,
        )

    from hyosan.engine import Simulation
    from hyosan.scenario.load import load_scenario

    loaded = load_scenario("hyosan-high")
    sc = loaded.scenario
    simulated_s = sc.n_ticks * sc.tick_seconds
    with Clock() as clock:
        Simulation(loaded, seed=args.seeds[0]).run()
    report["warm_up_s"] = clock.wall
    print(f"warm-up run (this process): {clock.wall:.2f} s", flush=True)

    runs = []
    for seed in args.seeds:
        for _ in range(args.reps):
            with Clock() as build:
                sim = Simulation(loaded, seed=seed)
            with Clock() as run:
                result = sim.run()
            total = build.wall + run.wall
            runs.append(
                {
                    "seed": seed,
                    "agents": sim.pop.n,
                    "ticks": sim.tick,
                    "build_s": build.wall,
                    "run_s": run.wall,
                    "run_cpu_s": run.cpu,
                    "total_s": total,
                    "speedup": simulated_s / total,
                    "final": result.summary()["final"],
                }
            )
            if len(runs) == 1:
                report["outputs"] = outputs(result)
            print(f"seed {seed}: build {build.wall:.2f} s, run {run.wall:.2f} s", flush=True)
    report["runs"] = runs
    report["simulated_s"] = simulated_s
    report["load_average_end"] = load()
    med = {k: median([r[k] for r in runs]) for k in ("build_s", "run_s", "run_cpu_s", "total_s")}
    med["speedup"] = simulated_s / med["total_s"]
    med["speedup_run_only"] = simulated_s / med["run_s"]
    med["speedup_cpu"] = simulated_s / med["run_cpu_s"]
    report["summary"] = med

    def fates(final: dict) -> str:
        return ", ".join(f"{k} {v}" for k, v in final.items() if v)

    rows = [
        [
            str(r["seed"]),
            f"{r['build_s']:.2f} s",
            f"{r['run_s']:.2f} s",
            f"{r['run_cpu_s']:.2f} s",
            f"{r['total_s']:.2f} s",
            f"{r['speedup']:,.0f}x",
            fates(r["final"]),
        ]
        for r in runs
    ]
    rows.append(
        [
            "median",
            f"{med['build_s']:.2f} s",
            f"{med['run_s']:.2f} s",
            f"{med['run_cpu_s']:.2f} s",
            f"{med['total_s']:.2f} s",
            f"{med['speedup']:,.0f}x",
            "",
        ]
    )
    hours = simulated_s / 3600
    agents, ticks = runs[0]["agents"], runs[0]["ticks"]
    print(f"\nHyosan High: {agents:,} agents, {hours:g} simulated hours ({ticks:,} ticks)")
    print(f"goal: Simulation(...).run() under about {GOAL_RUN_S:.0f} s, {GOAL_SPEEDUP:,.0f}x real time")
    if "compilation" in report:
        comp = report["compilation"]
        print(
            f"numba compilation (fresh process, empty cache): {comp['compile_s']:.1f} s; "
            f"first run on a filled cache pays {comp['cache_load_s']:.2f} s to load it; "
            f"import hyosan {comp['cold']['import_s']:.2f} s"
        )
    out = report["outputs"]
    print(
        f"run folder without the report: {out['folder_s']:.2f} s; report.html: built in "
        f"{out['report_s']:.2f} s (goal < {GOAL_REPORT_S:g} s), {out['report_mb']:.2f} MB "
        f"(goal < {GOAL_REPORT_MB:g} MB)"
    )
    start, end = report["load_average_start"], report["load_average_end"]
    print(f"load average (1 min): {start:.2f} at start, {end:.2f} at end ({time.strftime('%H:%M')})")
    print()
    print(table(["seed", "build", "run", "run CPU", "build + run", "vs real time", "final"], rows))
    write_json(args.json, report)


if __name__ == "__main__":
    main()
