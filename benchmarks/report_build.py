"""Hyosan High's report.html: build time (median of 3) and size; goals under 5 s and 10 MB.

Runs the built-in scenario once (seed 0), or reads a run folder given with ``--folder``, then
times :func:`hyosan.report.build_report` three times and writes the page once.

    python benchmarks/report_build.py [--folder out/hyosan-high] [--seed 0]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from hyosan.report import build_report, write_report
from hyosan.results.store import load

GOAL_S, GOAL_MB = 5.0, 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, help="a run folder of Hyosan High (default: run seed --seed)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.folder:
        result = load(args.folder)
    else:
        import hyosan  # only to run the scenario when no folder is given

        result = hyosan.simulate("hyosan-high", seed=args.seed)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        build_report(result)
        times.append(time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_report(result, Path(tmp) / "report.html")
        size_mb = path.stat().st_size / 1e6
    build_s = statistics.median(times)
    print(
        f"report.html of {result.n_agents} agents, {len(result.frame_ticks)} frames, "
        f"{len(result.tree())} bites"
    )
    print(
        f"build: median {build_s:.2f} s of {', '.join(f'{t:.2f}' for t in times)} (goal < {GOAL_S} s): "
        f"{'met' if build_s < GOAL_S else 'MISSED'}"
    )
    print(f"size: {size_mb:.2f} MB (goal < {GOAL_MB} MB): {'met' if size_mb < GOAL_MB else 'MISSED'}")


if __name__ == "__main__":
    main()
