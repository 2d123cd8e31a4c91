"""What a worker does with one of a trial's runs: the resolution run with the trial's values and
the run's seed, its numbers (one row) and its counts over time.

:class:`CalibrationRunner` is a runner of the ensemble machinery (:mod:`hyosan.ensemble.runners`):
small, picklable, holding no state between tasks, so a run's outcome depends on its task alone
and a study does not depend on the executor. Its metrics are those of the sweep's runners
(``final_R``, ``survivors_students``, ``t_peak_Z``...) plus every number of the run's summary
under its dotted path (``final.dead``, ``survivors.students.survived``); its series are the
counts the data targets can name, on a grid that holds every observed time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hyosan.ensemble.runners import (
    SCHOOL_SERIES,
    RunOutput,
    model_metrics,
    school_metrics,
    school_series,
    town_metrics,
)
from hyosan.ensemble.spec import RunTask, toml_value

#: Counts a data target may name, by resolution (a model's are its species).
TOWN_SERIES = ("S", "E", "Z", "R")


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """The numbers of a nested summary by dotted path (lists and text are left out)."""
    out: dict[str, Any] = {}
    if isinstance(value, Mapping):
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(value, bool | int | float | np.integer | np.floating) and prefix:
        out[prefix[:-1]] = value.item() if isinstance(value, np.generic) else value
    return out


def series_names(kind: str, target: str) -> tuple[str, ...]:
    """The counts over time a run of this resolution has."""
    if kind == "model":
        # Imported here: a school study's workers never load the catalogue's solvers.
        from hyosan.compartmental import get

        return get(target).species_names
    return SCHOOL_SERIES if kind == "scenario" else TOWN_SERIES


@dataclass(frozen=True)
class CalibrationRunner:
    """One run of a trial: ``kind`` (model | scenario | town) ``target`` with ``fixed`` values
    and the task's varied ones; ``times`` are the observed times (the resolution's unit) that
    the series must hold exactly."""

    kind: str
    target: str
    fixed: Mapping[str, str] = field(default_factory=dict)
    method: str | None = None
    t_end: float | None = None
    points: int = 201
    times: tuple[float, ...] = ()

    def overrides(self, params: Mapping[str, Any]) -> dict[str, str]:
        return {**self.fixed, **{k: toml_value(v) for k, v in params.items()}}

    def __call__(self, task: RunTask) -> RunOutput:
        if self.kind == "model":
            return self._model(task)
        if self.kind == "scenario":
            return self._school(task)
        return self._town(task)

    def _model(self, task: RunTask) -> RunOutput:
        # Imported here: a school study's workers never load the catalogue's solvers.
        from hyosan.compartmental import get

        net = get(self.target)
        params = {k: float(v) for k, v in self.overrides(task.params).items()}
        res = net.simulate(
            self.method or "ssa",
            params=params,
            t_end=self.t_end,
            runs=1,
            seed=task.seed,
            n_points=self.points,
        )
        metrics = {**flatten(res.summary()), **model_metrics(res)}
        out = RunOutput(metrics=metrics, times=np.asarray(res.times, dtype=np.float64))
        out.series = {name: res.values[0, :, s] for s, name in enumerate(res.species)}
        return out

    def _school(self, task: RunTask) -> RunOutput:
        # Imported here: the engine (numba) loads in the workers of a school study only.
        from hyosan.engine import Simulation
        from hyosan.results.faithfulness import story_numbers
        from hyosan.scenario import load_scenario

        sim = Simulation(load_scenario(self.target, self.overrides(task.params)), seed=task.seed)
        result = sim.run()
        summary = result.summary()
        # The story's numbers (docs/faithfulness.md) too: targets name them story.<name>.
        story = {"story": story_numbers(result)}
        metrics = {**flatten(summary), **flatten(story), **school_metrics(summary)}
        grid = np.rint(np.linspace(0, sim.tick, max(2, self.points))).astype(np.int64)
        extra = np.rint(np.asarray(self.times, dtype=np.float64) / sim.tick_seconds).astype(np.int64)
        ticks = np.unique(np.concatenate([grid, np.clip(extra, 0, sim.tick)]))
        out = RunOutput(metrics=metrics, times=ticks * sim.tick_seconds)
        out.series = school_series(sim.counts[ticks])
        return out

    def _town(self, task: RunTask) -> RunOutput:
        # Imported here: the lattice's numba kernels load in the workers of a town study only.
        from hyosan.lattice.scenario import load_town
        from hyosan.lattice.simulate import simulate

        sc = load_town(self.target, self.overrides(task.params))
        res = simulate(
            sc.lattice,
            sc.params,
            days=sc.days,
            method=self.method or sc.method,
            seed=task.seed,
            events=sc.events,
            record_every=sc.days / (self.points - 1),
            snapshot_every=sc.days,
        )
        counts = res.counts
        metrics = {**flatten(res.summary()), **town_metrics(res)}
        out = RunOutput(metrics=metrics, times=counts["t"].to_numpy(dtype=np.float64))
        out.series = {k: counts[k].to_numpy() for k in TOWN_SERIES}
        return out


def at_times(times: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """A run's count at the observed times: exact where the grid holds them, else linear
    between the grid's neighbours (past the end: the last value)."""
    return np.interp(wanted, np.asarray(times, dtype=np.float64), np.asarray(values, dtype=np.float64))
