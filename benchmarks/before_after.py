"""The engine before and after a change, side by side in one run: the same work on two source
trees, taking turns round after round (the shared machine's speed drifts between phases).

    python benchmarks/before_after.py --before af601c6 --rounds 5

``--before`` is a git revision (checked out into a temporary worktree); the "after" tree is this
checkout, or ``--after`` another revision. Workloads (each timed in a fresh process, after a
warm-up that fills numba's cache):

- open floor: 10,000 humans and 10 zombies wandering on 200 x 200 (school_vs_mesa's workload),
  100 ticks: milliseconds per tick;
- Hyosan High: the built-in scenario, 6 simulated hours, seed 0: seconds;
- hyosan-high-48h: the same scenario over 48 simulated hours with the darkness mechanic
  (``--set clock.duration=48h --set 'behaviour.mechanics=["darkness"]'``), seed 0: seconds
  (``--works`` picks the workloads).

Times are CPU seconds of the run alone (``time.process_time``: on a shared machine, waiting for
a core is not counted). Reports the medians and the median of the paired per-round ratios
(after / before time: under 1.05 is "within 5 %").

Two ways to pair the rounds:

- ``--same-process`` (the default): both trees in one Python process, the "before" package
  copied under the name ``hyosan_before``; each round runs the two engines back to back, in
  alternating order, so a pair is timed milliseconds apart under the same load and the same
  interpreter state. On a busy shared machine this is the steadier measure.
- ``--processes``: a fresh process per tree, workload and round (the tree's own ``hyosan``
  package, nothing renamed); pairs are seconds apart, so the machine's load drifts between them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
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
LONG = {"clock.duration": "48h", "behaviour.mechanics": '["darkness"]'}
if work == "open-floor":
    sim = Simulation(open_floor(10_000, 10, 100), seed=0, world=open_floor_world_arrays(200, 200))
    t = time.process_time(); sim.run_until(sim.n_ticks); dt = time.process_time() - t
    print(json.dumps({"value": dt / 100 * 1000, "unit": "ms/tick"}))
else:
    sim = Simulation(load_scenario("hyosan-high", LONG if work == "hyosan-high-48h" else None), seed=0)
    t = time.process_time(); sim.run_until(sim.n_ticks); dt = time.process_time() - t
    print(json.dumps({"value": dt, "unit": "s"}))
"""


SAME = r"""
import sys, time, json
before_root, rounds, works = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
sys.path.insert(1, before_root)
import school_common as sc_after, school_common_before as sc_before
from hyosan.engine import Simulation as SimAfter
from hyosan.scenario.load import load_scenario as load_after
from hyosan_before.engine import Simulation as SimBefore
from hyosan_before.scenario.load import load_scenario as load_before
LONG = {"clock.duration": "48h", "behaviour.mechanics": '["darkness"]'}
def builder(Sim, sc, load, work):
    if work == "open-floor":
        return lambda: Sim(sc.open_floor(10_000, 10, 100), seed=0, world=sc.open_floor_world_arrays(200, 200))
    loaded = load("hyosan-high", LONG if work == "hyosan-high-48h" else None)
    return lambda: Sim(loaded, seed=0)
engines = {(tree, w): builder(*parts, w) for w in works for tree, parts in
           (("before", (SimBefore, sc_before, load_before)), ("after", (SimAfter, sc_after, load_after)))}
def timed(build):
    sim = build()
    t = time.process_time(); sim.run_until(sim.n_ticks); return time.process_time() - t
for build in engines.values():  # compile (or load) the kernels
    timed(build)
times = {f"{t}/{w}": [] for t, w in engines}
for r in range(rounds):
    for w in works:
        order = ("before", "after") if r % 2 == 0 else ("after", "before")
        for t in order:
            dt = timed(engines[t, w])
            times[f"{t}/{w}"].append(dt / 100 * 1000 if w == "open-floor" else dt)
print(json.dumps(times))
"""


def rename_package(tree: Path, dest: Path) -> None:
    """Copy ``tree``'s hyosan package (and its benchmarks' school_common) into ``dest`` as
    ``hyosan_before``, its imports of itself renamed, so it loads beside the "after" tree's."""
    pkg = dest / "hyosan_before"
    shutil.copytree(tree / "src" / "hyosan", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(tree / "benchmarks" / "school_common.py", dest / "school_common_before.py")
    rules = (
        (re.compile(r"\bhyosan(?=\.[a-z_])(?!\.(?:toml|json|html|txt|py)\b)"), "hyosan_before"),
        (re.compile(r"\bfrom hyosan import\b"), "from hyosan_before import"),
        (re.compile(r"\bimport hyosan$", re.M), "import hyosan_before"),
        (re.compile(r"files\(\"hyosan\"\)"), 'files("hyosan_before")'),
    )
    for path in [*pkg.rglob("*.py"), dest / "school_common_before.py"]:
        text = path.read_text(encoding="utf-8")
        for pattern, repl in rules:
            text = pattern.sub(repl, text)
        path.write_text(text, encoding="utf-8")


def measure_same_process(before: Path, rev: str, after: Path, rounds: int, works) -> dict:
    # Kept between runs (per revision), so that numba's cache of its kernels stays valid.
    sha = subprocess.run(
        ["git", "rev-parse", rev], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    copy = Path(tempfile.gettempdir()) / f"hyosan-before-{sha[:12]}"
    if not (copy / "school_common_before.py").exists():
        rename_package(before, copy)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(after / "src"), str(after / "benchmarks")])}
    out = subprocess.run(
        [sys.executable, "-c", SAME, str(copy), str(rounds), ",".join(works)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=after,
    )
    raw = json.loads(out.stdout.strip().splitlines()[-1])
    return {tuple(k.split("/")): v for k, v in raw.items()}


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
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--same-process", dest="same", action="store_true", default=True)
    mode.add_argument("--processes", dest="same", action="store_false")
    ap.add_argument(
        "--works",
        default="open-floor,hyosan-high",
        help="comma-separated workloads: open-floor, hyosan-high (6 h), hyosan-high-48h",
    )
    args = ap.parse_args()
    works = tuple(args.works.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        before, after = Path(tmp) / "before", Path(tmp) / "after"
        for tree, rev in ((before, args.before), (after, args.after)):
            if rev:  # an export of the revision (no worktree: the repository's list is shared)
                tree.mkdir()
                archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True)
                subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
        trees = {"before": before, "after": after if args.after else ROOT}
        if args.same:
            times = measure_same_process(trees["before"], args.before, trees["after"], args.rounds, works)
        else:
            for tree in trees.values():  # compile (or load) the kernels once per tree
                for work in works:
                    measure(tree, work)
            times = {(t, w): [] for t in trees for w in works}
            for _ in range(args.rounds):
                for work in works:
                    for name, tree in trees.items():
                        times[name, work].append(measure(tree, work))
    report = {
        "before": args.before,
        "after": args.after or "this checkout",
        "mode": "same process" if args.same else "processes",
        "rounds": args.rounds,
        "load_average": os.getloadavg()[0],
    }
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
