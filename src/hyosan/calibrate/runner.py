"""What a worker does with one of a trial's runs: the resolution run with the trial's values and
the run's seed, its numbers (one row) and its counts over time.

:class:`CalibrationRunner` is a runner of the ensemble machinery (:mod:`hyosan.ensemble.runners`):
small and picklable; a run's outcome depends on its task alone, so a study does not depend on
the executor (a worker keeps only what does not change between runs: a school's validated
scenario and World). Its metrics are those of the sweep's runners (``final_R``,
``survivors_students``, ``t_peak_Z``...) plus every number of the run's summary under its dotted
path (``final.dead``, ``survivors.students.survived``), of which a run returns those the targets
read; its series are the counts the data targets can name, on a grid that holds every observed
time. The shared runners of :mod:`hyosan.ensemble.runners` run the model, the school and the town.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from hyosan.ensemble.runners import (
    SCHOOL_SERIES,
    TOWN_SERIES,
    RunOutput,
    flatten,
    model_output,
    new_session,
    run_model,
    run_town,
    school_output,
    school_simulation,
    town_output,
)
from hyosan.ensemble.spec import RunTask, toml_value

__all__ = ["TOWN_SERIES", "CalibrationRunner", "at_times", "flatten", "series_names"]


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
    the series must hold exactly.

    ``metrics`` names the numbers the targets read: a run's row holds those only (None: all of
    them), so that a school run builds its full Result (tables, milestones) only when a target
    needs a number from it. A worker reads the scenario once per trial and builds the school's
    World once per study (``session``, see :func:`hyosan.ensemble.runners.school_simulation`).
    """

    kind: str
    target: str
    fixed: Mapping[str, str] = field(default_factory=dict)
    method: str | None = None
    t_end: float | None = None
    points: int = 201
    times: tuple[float, ...] = ()
    metrics: tuple[str, ...] | None = None
    session: str = field(default_factory=new_session, compare=False)
    #: The study reads a run's row in memory only: the worker does not encode it as a Parquet file.
    parquet: ClassVar[bool] = False

    def overrides(self, params: Mapping[str, Any]) -> dict[str, str]:
        return {**self.fixed, **{k: toml_value(v) for k, v in params.items()}}

    def __call__(self, task: RunTask) -> RunOutput:
        if self.kind == "model":
            params = {k: float(v) for k, v in self.overrides(task.params).items()}
            res = run_model(self.target, self.method or "ssa", params, task.seed, self.t_end, self.points)
            return self._only(model_output(res, dotted=True))
        if self.kind == "scenario":
            sim = school_simulation(self.target, self.overrides(task.params), task.seed, self.session)
            return school_output(sim, self.points, times=self.times, wanted=self.metrics, dotted=True)
        res = run_town(self.target, self.overrides(task.params), task.seed, self.method, self.points)
        return self._only(town_output(res, dotted=True))

    def _only(self, out: RunOutput) -> RunOutput:
        """The wanted metrics (all of them if one is missing: the targets' error names those there are)."""
        if self.metrics is not None and all(m in out.metrics for m in self.metrics):
            out.metrics = {m: out.metrics[m] for m in self.metrics}
        return out


def at_times(times: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """A run's count at the observed times: exact where the grid holds them, else linear
    between the grid's neighbours (past the end: the last value)."""
    return np.interp(wanted, np.asarray(times, dtype=np.float64), np.asarray(values, dtype=np.float64))
