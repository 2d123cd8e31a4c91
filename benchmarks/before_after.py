"""The engine before and after a change, side by side in one run: the same work on two source
trees, taking turns round after round (the shared machine's speed drifts between phases).

    python benchmarks/before_after.py --before af601c6 --rounds 5

``--before`` is a git revision (checked out into a temporary worktree); the "after" tree is this
checkout, or ``--after`` another revision. Workloads (each timed in a fresh process, after a
warm-up that fills numba's cache):

- open floor: 10,000 humans and 10 zombies wandering on 200 x 200 (school_vs_mesa's workload),
  100 ticks: milliseconds per tick;
- Hyosan High: the built-in scenario, 6 simulated hours, seed 0: seconds.

Times are CPU seconds of the run alone (``time.process_time``: on a shared machine, waiting for
a core is not counted). Reports the medians and the median of the paired per-round ratios
(after / before time: under 1.05 is "within 5 %").
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import sys, time, json
sys.path.insert(0, sys.argv[2])
from school_common import open_floor, open_floor_world_arrays
from hyosan.engine import Simulation
from hyosan.scenario.load import load_scenario
work = sys.argv[1]
if work == "open-floor":
    sim = Simulation(open_floor(10_000, 10, 100), seed=0, world=open_floor_world_arrays(200, 200))
    t = time.process_time(); sim.run_until(sim.n_ticks); dt = time.process_time() - t
    print(json.dumps({"value": dt / 100 * 1000, "unit": "ms/tick"}))
else:
    sim = Simulation(load_scenario("hyosan-high"), seed=0)
    t = time.process_time(); sim.run_until(sim.n_ticks); dt = time.process_time() - t
    print(json.dumps({"value": dt, "unit": "s"}))
"""


def measure(tree: Path, work: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, work, str(tree / "benchmarks")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tree,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["value"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="af601c6", help="git revision of the 'before' tree")
    ap.add_argument("--after", help="git revision of the 'after' tree (default: this checkout)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        before, after = Path(tmp) / "before", Path(tmp) / "after"
        for tree, rev in ((before, args.before), (after, args.after)):
            if rev:
                subprocess.run(
                    ["git", "worktree", "add", "-q", "--detach", str(tree), rev], cwd=ROOT, check=True
                )
        try:
            trees = {"before": before, "after": after if args.after else ROOT}
            works = ("open-floor", "hyosan-high")
            for tree in trees.values():  # compile (or load) the kernels once per tree
                for work in works:
                    measure(tree, work)
            times = {(t, w): [] for t in trees for w in works}
            for _ in range(args.rounds):
                for work in works:
                    for name, tree in trees.items():
                        times[name, work].append(measure(tree, work))
        finally:
            for tree in (before, after):
                if tree.exists():
                    subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
    report = {"before": args.before, "rounds": args.rounds, "load_average": os.getloadavg()[0]}
    print(f"| workload | before ({args.before}) | after | after / before (median of paired rounds) |")
    print("|---|---|---|---|")
    for work in works:
        b, a = times["before", work], times["after", work]
        ratio = statistics.median(x / y for x, y in zip(a, b, strict=True))
        unit = "ms/tick" if work == "open-floor" else "s"
        mb, ma = statistics.median(b), statistics.median(a)
        print(f"| {work} | {mb:.3f} {unit} | {ma:.3f} {unit} | {ratio:.3f} |")
        report[work] = {"before": b, "after": a, "ratio": ratio}
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
