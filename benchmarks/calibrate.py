"""`hyosan calibrate`'s costs (issue 22; issue 25 goal 7).

1. **Overhead per trial** beyond the runs themselves, Hyosan High trials of 8 seeds: the CPU time
   of a study run in this process (``workers=0``: Optuna's ask and tell, SQLite, the targets,
   encoding each run's row, the best values' rerun) against the CPU time spent inside its runs,
   each run timed as it is called (so both share the same minutes of a loaded machine), as a
   ratio. Goal: under 5 %.
2. **The boarding-school fit** (``examples/boarding_school.toml``, 80 ODE trials): wall and CPU.
3. **Issue 25 goal 7**: one trial of 16 Hyosan High seeds on 2 local worker processes against 1
   (wall time; goal 2 processes at least 1.8x faster), and the trials per hour that gives. The
   machine's load average is printed beside it.

A full Hyosan High run (6 simulated hours) takes seconds; ``--duration`` (default 20min) shortens
the clock so that the script finishes in minutes on a small machine: the overhead is then measured
against shorter runs, so the ratio is an upper bound of the full runs' one.

    PYTHONPATH=src python3 benchmarks/calibrate.py [--duration 20min] [--trials 4] [--skip-parallel]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import hyosan.calibrate.study as study_mod
from hyosan.calibrate import calibrate, load_config
from hyosan.calibrate.config import parse_config
from hyosan.calibrate.runner import CalibrationRunner
from hyosan.calibrate.study import check_keys, observed_data, study_seeds
from hyosan.ensemble.executors import make_executor
from hyosan.ensemble.spec import RunTask

ROOT = Path(__file__).parents[1]

SCHOOL = """
[fit]
scenario = "hyosan-high"
set = {{ "clock.duration" = "{duration}" }}

[study]
trials = {trials}
seeds = {seeds}
seed = 0
startup_trials = 2

[[parameter]]
key = "roles.student.courage"
low = 0.1
high = 0.6

[[parameter]]
key = "zombies.bite_prob"
low = 0.2
high = 0.9

[[target]]
metric = "survivors_students"
statistic = "mean"
range = [40, 120]

[[target]]
metric = "final_zombie"
statistic = "share"
where = "> 50"
value = 0.8
"""


def cpu() -> float:
    t = os.times()
    return t.user + t.system  # this process only: workers=0 runs everything here


@dataclass(frozen=True)
class Timed:
    """The study's runner, with the CPU time of each call added up (this process: workers=0)."""

    inner: CalibrationRunner
    spent: list = field(default_factory=lambda: [0.0, 0])

    def __getattr__(self, name):  # the runner's settings (t_end, fixed...) for the study's outputs
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __call__(self, task):
        c0 = cpu()
        try:
            return self.inner(task)
        finally:
            self.spent[0] += cpu() - c0
            self.spent[1] += 1


def overhead(duration: str, trials: int, seeds: int, tmp: Path) -> None:
    cal = parse_config(SCHOOL.format(duration=duration, trials=trials, seeds=seeds), "bench.toml", ROOT)
    runner = check_keys(cal, observed_data(cal))
    # Warm up: numba's kernels load (or compile) once.
    runner(RunTask("warm", 0, 0, 1, {"roles.student.courage": 0.3, "zombies.bite_prob": 0.5}))
    # Warm up the rest: Optuna, SQLAlchemy and a study's first SQLite database load once a
    # process (about a second of CPU time), not once a trial.
    calibrate(cal, tmp / "warm", workers=0, report=False, trials=1)
    timed = Timed(runner)
    # The study's own runner, timed call by call in the same process and the same minutes as the
    # rest of the study: what is not inside a run is the calibration's overhead.
    study_mod.check_keys = lambda cal, observed: timed
    out = tmp / "overhead"
    c0, w0 = cpu(), time.perf_counter()
    calibrate(cal, out, workers=0, report=False)
    study_cpu, study_wall = cpu() - c0, time.perf_counter() - w0
    runs_cpu, n_runs = timed.spent
    n = trials + 1  # the trials and the best values' rerun
    extra = study_cpu - runs_cpu
    print(
        f"overhead, Hyosan High (clock.duration {duration}), {trials} trials of {seeds} seeds"
        " + the best's rerun:"
        f"\n  study {study_cpu:.2f} s CPU ({study_wall:.2f} s wall), "
        f"of which its {n_runs} runs {runs_cpu:.2f} s"
        f"\n  overhead {extra / n * 1000:.0f} ms CPU per trial = {extra / runs_cpu:.1%} of the runs' CPU time"
        f" (ratio {study_cpu / runs_cpu:.3f})"
    )


def boarding_school(tmp: Path) -> None:
    cal = load_config(ROOT / "examples" / "boarding_school.toml")
    c0, w0 = cpu(), time.perf_counter()
    res = calibrate(cal, tmp / "bs", report=True)
    print(
        f"boarding school (ODE, {cal.study.trials} trials, report included): "
        f"{time.perf_counter() - w0:.1f} s wall, "
        f"{cpu() - c0:.1f} s CPU; beta {res.best_params['beta']:.4f}, gamma {res.best_params['gamma']:.4f}"
    )


def parallel(duration: str, tmp: Path) -> None:
    cal = parse_config(SCHOOL.format(duration=duration, trials=1, seeds=16), "bench.toml", ROOT)
    runner = check_keys(cal, observed_data(cal))
    seeds_ = study_seeds(cal)
    params = {"roles.student.courage": 0.3, "zombies.bite_prob": 0.5}
    times = {}
    for workers in (1, 2, 1, 2):
        with make_executor(runner, workers) as ex:
            # Started and warm (each worker loads the kernels) before the clock starts.
            for r in range(workers):
                ex.submit(RunTask(f"w{r}", 0, r, 1, params))
            while ex.pending:
                ex.next_done()
            w0 = time.perf_counter()
            for r, s in enumerate(seeds_):
                ex.submit(RunTask(f"t{r}", 0, r, s, params))
            while ex.pending:
                ex.next_done()
            times.setdefault(workers, []).append(time.perf_counter() - w0)
    one, two = min(times[1]), min(times[2])
    load = os.getloadavg()
    print(
        f"one trial of 16 Hyosan High seeds (clock.duration {duration}): 1 process {one:.2f} s, 2 processes "
        f"{two:.2f} s (best of 2 each): {one / two:.2f}x; {3600 / two:.0f} trials per hour on 2 processes"
        f"\n  load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", default="20min", help="Hyosan High's clock.duration for the runs")
    ap.add_argument("--trials", type=int, default=4)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--skip-parallel", action="store_true")
    ap.add_argument("--skip-boarding", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hyosan-bench-calibrate-"))
    try:
        print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        overhead(args.duration, args.trials, args.seeds, tmp)
        if not args.skip_boarding:
            boarding_school(tmp)
        if not args.skip_parallel:
            parallel(args.duration, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
