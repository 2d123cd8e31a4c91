"""The country's outputs: report.html size and build time (goals: under 10 MB, under 10 s) and
cells.nc size, against the report as it was before (one cell a pixel, uncompressed frames) in the
same process, as a ratio of CPU time.

Runs ``hyosan town synthetic-country``'s scenario (1500 x 900 cells, 300 M people, tau-leaping,
a map every 5 days; ``--days`` to shorten it), then builds each report three times (median of
CPU time) and writes the run folder once.

    python benchmarks/report_country.py [--days 60] [--before-ref 50f0431]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hyosan.lattice import report as after
from hyosan.lattice.cli import COUNTRIES, country_scenario
from hyosan.lattice.simulate import simulate

GOAL_S, GOAL_MB = 10.0, 10.0


def before_module(ref: str):
    """lattice/report.py as it was at git ``ref`` (the report of one cell a pixel)."""
    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(
        ["git", "show", f"{ref}:src/hyosan/lattice/report.py"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "report_before.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("report_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cpu(fn) -> tuple[float, object]:
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=COUNTRIES["synthetic-country"][0])
    parser.add_argument("--before-ref", default="50f0431", help="git commit of the report before")
    args = parser.parse_args()
    sc = country_scenario("synthetic-country", {})
    every = COUNTRIES["synthetic-country"][2]
    run_s, result = cpu(
        lambda: simulate(
            sc.lattice, sc.params, days=args.days, method=sc.method, events=sc.events, snapshot_every=every
        )
    )
    print(
        f"{sc.name}: {sc.lattice.shape[0]} x {sc.lattice.shape[1]} cells, {args.days:g} days, "
        f"{len(result.snapshots)} maps; simulated in {run_s:.1f} s CPU"
    )
    before = before_module(args.before_ref)
    with tempfile.TemporaryDirectory() as tmp:
        times: dict[str, list[float]] = {"before": [], "after": []}
        for r in range(3):  # alternate, so both see the same load
            for name in ("before", "after") if r % 2 == 0 else ("after", "before"):
                module = before if name == "before" else after
                dt, _ = cpu(lambda m=module, n=name: m.write_town_report(result, Path(tmp) / f"{n}.html"))
                times[name].append(dt)
        sizes = {n: (Path(tmp) / f"{n}.html").stat().st_size / 1e6 for n in times}
        save_s, _ = cpu(lambda: result.save(Path(tmp) / "run", report=False))
        cells_mb = (Path(tmp) / "run" / "cells.nc").stat().st_size / 1e6
    med = {n: statistics.median(t) for n, t in times.items()}
    for n in ("before", "after"):
        print(
            f"report {n}: {sizes[n]:.1f} MB, build median {med[n]:.2f} s CPU of "
            f"{', '.join(f'{t:.2f}' for t in times[n])}"
        )
    print(f"after/before CPU: {med['after'] / med['before']:.2f}")
    print(
        f"goals: size {sizes['after']:.1f} MB < {GOAL_MB} MB: "
        f"{'met' if sizes['after'] < GOAL_MB else 'MISSED'}; "
        f"build {med['after']:.2f} s < {GOAL_S} s: {'met' if med['after'] < GOAL_S else 'MISSED'}"
    )
    print(f"cells.nc: {cells_mb:.1f} MB (written in {save_s:.1f} s CPU with the tables)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
