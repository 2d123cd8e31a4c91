"""`hyosan calibrate`'s costs (issue 22; issue 25 goal 7).

1. **Overhead per trial** beyond the simulation itself, Hyosan High trials of 8 seeds, before and
   after side by side in this process: the same study (``workers=0``, so that this process's CPU
   time holds everything) run with the runner as it was before the overhead work (a copy below:
   each run reads and validates the scenario, builds the World, builds the full Result and
   encodes its row as a Parquet file) and with today's (World and scenario reused across seeds
   and trials, the summary without the tables, the targets' metrics only, no Parquet). The
   simulation itself is the CPU time inside ``Simulation.run_until`` (the ticks: kernels,
   timeline, routes, frames), timed call by call; everything else the study spends is overhead
   (reading the scenario, building the World and the population, the summary and the row,
   Optuna's ask and tell, SQLite, the targets, the best values' rerun). Goal: under 5 %. The two
   studies must find the same best values with the same loss (checked).
2. **The boarding-school fit** (``examples/boarding_school.toml``, 80 ODE trials): wall and CPU.
3. **Issue 25 goal 7**: one trial of 16 Hyosan High seeds on 2 local worker processes against 1
   (each pool started and warm first; wall time and the workers' CPU time), and the trials per
   hour of ``examples/hyosan_high_calibrate.toml`` on 2 processes: a few of its trials timed (8
   seeds of the full 6 h runs, its pruner), the rerun and held-out seeds excluded. The machine's
   load average is printed beside each figure.

``--duration`` sets Hyosan High's clock for parts 1 and 3's 16-seed trial (default 6h, the
scenario's own: full runs, ~2.3 s each on an idle core; 1h for a quicker check).

    PYTHONPATH=src python3 benchmarks/calibrate.py [--duration 6h] [--trials 3] [--skip-parallel]
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

import hyosan.calibrate.study as study_mod
from hyosan.calibrate import calibrate, load_config
from hyosan.calibrate.config import parse_config
from hyosan.calibrate.runner import CalibrationRunner
from hyosan.calibrate.study import check_keys, observed_data, study_seeds
from hyosan.engine import Simulation
from hyosan.ensemble.executors import make_executor
from hyosan.ensemble.runners import RunOutput, flatten, school_metrics, school_series
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
    return time.process_time()  # this process only: workers=0 runs everything here


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@dataclass(frozen=True)
class BeforeRunner(CalibrationRunner):
    """The school runner of ``hyosan calibrate`` before the overhead work (commit 86249fb's
    ``CalibrationRunner._school``, kept for this figure): every run reads and validates the
    scenario, builds the World, builds the full Result (tables, milestones) for its summary, and
    returns every number of it; the worker encodes its row as a Parquet file."""

    parquet: ClassVar[bool] = True

    def __call__(self, task: RunTask) -> RunOutput:
        from hyosan.scenario import load_scenario

        sim = Simulation(load_scenario(self.target, self.overrides(task.params)), seed=task.seed)
        result = sim.run()
        summary = result.summary()
        metrics = {**flatten(summary), **school_metrics(summary)}
        grid = np.rint(np.linspace(0, sim.tick, max(2, self.points))).astype(np.int64)
        extra = np.rint(np.asarray(self.times, dtype=np.float64) / sim.tick_seconds).astype(np.int64)
        ticks = np.unique(np.concatenate([grid, np.clip(extra, 0, sim.tick)]))
        out = RunOutput(metrics=metrics, times=ticks * sim.tick_seconds)
        out.series = school_series(sim.counts[ticks])
        return out


class Clock:
    """CPU time inside ``Simulation.run_until`` (the simulation itself) and inside the runner's
    calls, added up while installed."""

    def __init__(self):
        self.ticks = self.runs = 0.0
        self.n = 0

    def install(self):
        original = Simulation.run_until
        clock = self

        def run_until(sim, limit, progress=None):
            c0 = cpu()
            try:
                return original(sim, limit, progress)
            finally:
                clock.ticks += cpu() - c0

        Simulation.run_until = run_until
        return original

    def wrap(self, runner):
        clock = self

        @dataclass(frozen=True)
        class Timed:
            inner: Any

            def __getattr__(self, name):  # the runner's settings (t_end, parquet...) for the study
                if name == "inner":
                    raise AttributeError(name)
                return getattr(self.inner, name)

            def __call__(self, task):
                c0 = cpu()
                try:
                    return self.inner(task)
                finally:
                    clock.runs += cpu() - c0
                    clock.n += 1

        return Timed(runner)


def one_study(cal, runner, out: Path) -> dict[str, Any]:
    clock = Clock()
    timed = clock.wrap(runner)
    original = clock.install()
    keys = study_mod.check_keys
    study_mod.check_keys = lambda cal, observed: timed
    marks: list[tuple[float, float]] = []  # (CPU, CPU in the ticks) as each trial ends
    try:
        c0, w0 = cpu(), time.perf_counter()
        res = calibrate(
            cal, out, workers=0, report=False, progress=lambda _: marks.append((cpu(), clock.ticks))
        )
        study_cpu, wall = cpu() - c0, time.perf_counter() - w0
    finally:
        Simulation.run_until = original
        study_mod.check_keys = keys
    return {
        "cpu": study_cpu,
        "wall": wall,
        "ticks": clock.ticks,
        "runs": clock.runs,
        "n": clock.n,
        "best": res.best_params,
        "loss": res.best_loss,
        # The trials after the first, trial by trial (the study's setup and outputs left out).
        "trial_cpu": [b[0] - a[0] for a, b in itertools.pairwise(marks)],
        "trial_ticks": [b[1] - a[1] for a, b in itertools.pairwise(marks)],
    }


def overhead(duration: str, trials: int, seeds: int, tmp: Path) -> None:
    cal = parse_config(SCHOOL.format(duration=duration, trials=trials, seeds=seeds), "bench.toml", ROOT)
    after = check_keys(cal, observed_data(cal))
    before = BeforeRunner(**{f.name: getattr(after, f.name) for f in fields(after)})
    # Warm up: numba's kernels load (or compile) once; Optuna, SQLAlchemy and a study's first
    # SQLite database load once a process (about a second of CPU time), not once a trial.
    after(RunTask("warm", 0, 0, 1, {"roles.student.courage": 0.3, "zombies.bite_prob": 0.5}))
    calibrate(cal, tmp / "warm", workers=0, report=False, trials=1)
    print(
        f"overhead, Hyosan High (clock.duration {duration}), {trials} trials of {seeds} seeds"
        " + the best's rerun"
    )
    figures = {}
    for name, runner in (("before", before), ("after", after)):
        print(f"  {name}: load average {load()}", flush=True)
        f = figures[name] = one_study(cal, runner, tmp / name)
        extra = f["cpu"] - f["ticks"]
        t_cpu, t_ticks = sum(f["trial_cpu"]), sum(f["trial_ticks"])
        f["per_trial"] = (t_cpu - t_ticks) / len(f["trial_cpu"])
        f["share"] = (t_cpu - t_ticks) / t_ticks
        print(
            f"  {name}: study {f['cpu']:.2f} s CPU ({f['wall']:.1f} s wall), {f['n']} runs; inside "
            f"the runs' ticks {f['ticks']:.2f} s, in the runner outside them {f['runs'] - f['ticks']:.2f} s, "
            f"outside the runner {f['cpu'] - f['runs']:.2f} s (the whole study: {extra / f['ticks']:.1%})"
            f"\n  {name}: trials 2-{trials}: overhead {f['per_trial'] * 1000:.0f} ms CPU per trial = "
            f"{f['share']:.1%} of the simulation's CPU time ({t_ticks / len(f['trial_cpu']):.2f} s a trial)",
            flush=True,
        )
    b, a = figures["before"], figures["after"]
    same = b["best"] == a["best"] and b["loss"] == a["loss"]
    print(
        f"  after/before: overhead per trial {a['per_trial'] / b['per_trial']:.2f}x; "
        f"study CPU per simulated CPU second {(a['cpu'] / a['ticks']) / (b['cpu'] / b['ticks']):.3f}x; "
        f"same best values and loss: {same}"
    )
    if not same:
        raise SystemExit(f"the studies differ: {b['best']} {b['loss']} against {a['best']} {a['loss']}")


def boarding_school(tmp: Path) -> None:
    cal = load_config(ROOT / "examples" / "boarding_school.toml")
    c0, w0 = cpu(), time.perf_counter()
    res = calibrate(cal, tmp / "bs", report=True)
    print(
        f"boarding school (ODE, {cal.study.trials} trials, report included): "
        f"{time.perf_counter() - w0:.1f} s wall, "
        f"{cpu() - c0:.1f} s CPU; beta {res.best_params['beta']:.4f}, gamma {res.best_params['gamma']:.4f}"
    )


@dataclass(frozen=True)
class CpuTimed:
    """The study's runner, adding the CPU time the run took in its worker to the row (``cpu_s``)."""

    inner: CalibrationRunner
    parquet: ClassVar[bool] = False

    def __call__(self, task: RunTask) -> RunOutput:
        c0 = time.process_time()
        out = self.inner(task)
        out.metrics["cpu_s"] = time.process_time() - c0
        return out


def makespan(costs: list[float], workers: int) -> float:
    """The time ``workers`` idle cores take for runs of these costs, each run going to the first
    worker free, in order (what the executor does)."""
    free = [0.0] * workers
    for c in costs:
        i = int(np.argmin(free))
        free[i] += c
    return max(free)


def parallel(duration: str, tmp: Path) -> None:
    cal = parse_config(SCHOOL.format(duration=duration, trials=1, seeds=16), "bench.toml", ROOT)
    runner = CpuTimed(check_keys(cal, observed_data(cal)))
    seeds_ = study_seeds(cal)
    params = {"roles.student.courage": 0.3, "zombies.bite_prob": 0.5}
    walls: dict[int, list[float]] = {}
    cpus: dict[int, list[list[float]]] = {}
    for workers in (1, 2, 1, 2):
        with make_executor(runner, workers) as ex:
            # Started and warm (each worker loads the kernels, the scenario and the World) first.
            for r in range(workers):
                ex.submit(RunTask(f"w{r}", 0, r, 1, params))
            while ex.pending:
                ex.next_done()
            before = load()
            w0 = time.perf_counter()
            for r, s in enumerate(seeds_):
                ex.submit(RunTask(f"t{r}", 0, r, s, params))
            done = []
            while ex.pending:
                done.append(ex.next_done())
            walls.setdefault(workers, []).append(time.perf_counter() - w0)
            done.sort(key=lambda o: o.task.replicate)
            cpus.setdefault(workers, []).append([o.record["cpu_s"] for o in done])
            c = sum(cpus[workers][-1])
            print(
                f"  {workers} process(es): {walls[workers][-1]:.2f} s wall, the runs {c:.2f} s CPU "
                f"({c / walls[workers][-1] / workers:.0%} of {workers} core(s)); load average {before}",
                flush=True,
            )
    one, two = min(walls[1]), min(walls[2])
    per1 = np.mean([sum(c) for c in cpus[1]]) / 16
    per2 = np.mean([sum(c) for c in cpus[2]]) / 16
    # On idle cores a run's wall time is its CPU time: the ratio the same runs would give there.
    idle = [sum(c) / makespan(c, 2) for c in cpus[2]]
    print(
        f"one trial of 16 Hyosan High seeds (clock.duration {duration}): 1 process {one:.2f} s, 2 processes "
        f"{two:.2f} s wall (best of 2 each): {one / two:.2f}x measured here; a run's CPU time {per1:.2f} s "
        f"on 1 process, {per2:.2f} s on 2 ({per2 / per1:.3f}x); on 2 idle cores these runs' CPU times "
        f"give {', '.join(f'{x:.2f}x' for x in idle)} (their sum over their makespan on 2 workers)"
        f"\n  load average {load()} on {os.cpu_count()} cores"
    )


def trials_per_hour(tmp: Path, trials: int) -> None:
    """Trials of examples/hyosan_high_calibrate.toml on 2 local processes, timed one by one."""
    cal = load_config(ROOT / "examples" / "hyosan_high_calibrate.toml")
    stamps: list[float] = []
    c0 = cpu()
    w0 = time.perf_counter()
    calibrate(
        cal,
        tmp / "hh",
        workers=2,
        trials=trials,
        report=False,
        progress=lambda p: stamps.append(time.perf_counter()),
    )
    total = time.perf_counter() - w0
    # The first trial also starts the 2 workers (each imports hyosan, loads the kernels, the
    # scenario and the World): timed apart from the rest.
    per = np.diff(stamps)
    print(
        f"examples/hyosan_high_calibrate.toml on 2 processes: {trials} trials; the first (the workers "
        f"starting) done {stamps[0] - w0:.1f} s after the start, then {np.mean(per):.1f} s a trial "
        f"({', '.join(f'{x:.1f}' for x in per)}): {3600 / np.mean(per):.0f} trials per hour; the whole "
        f"call {total:.1f} s wall with the best values' 8 seeds and 16 held-out ones; this process "
        f"{cpu() - c0:.1f} s CPU\n  load average {load()} on {os.cpu_count()} cores"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", default="6h", help="Hyosan High's clock.duration for the runs")
    ap.add_argument("--trials", type=int, default=4, help="trials of each study (at least 2)")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--hh-trials", type=int, default=4, help="trials of the example config timed")
    ap.add_argument("--skip-overhead", action="store_true")
    ap.add_argument("--skip-parallel", action="store_true")
    ap.add_argument("--skip-boarding", action="store_true")
    ap.add_argument("--skip-hh", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hyosan-bench-calibrate-"))
    try:
        print(f"load average at the start: {load()}")
        if not args.skip_overhead:
            overhead(args.duration, args.trials, args.seeds, tmp)
        if not args.skip_boarding:
            boarding_school(tmp)
        if not args.skip_parallel:
            parallel(args.duration, tmp)
        if not args.skip_hh:
            trials_per_hour(tmp, args.hh_trials)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
