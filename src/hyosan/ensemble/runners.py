"""What a worker does with a run: the runners (school scenario, compartment model, any function).

A runner is a small picklable object, sent to the workers once per task together with a
:class:`~hyosan.ensemble.spec.RunTask`; :func:`execute` calls it and turns whatever happens into
an :class:`Outcome`. Every exception a run raises is caught there and recorded (type, message,
traceback) so that one bad run never stops a sweep; only ``KeyboardInterrupt`` and the like get
through.

A runner returns the run's *metrics* (a flat dict of numbers: one row of the runs table), its
*series* on a common time grid (for the quantile bands; none for a plain function) and, when the
task asks to keep it, the full result for a run folder.

Workers hold no state between tasks and the outcome depends on the task alone, which is what
makes a sweep's results independent of the executor.
"""

from __future__ import annotations

import hashlib
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hyosan.ensemble.spec import RunTask, Value, toml_value
from hyosan.results.summary import SURVIVED
from hyosan.states import STATE_NAMES, State

#: Series of a school run (bands): state counts over all roles; ``humans`` is the human group as
#: the engine's trigger conditions count it (human + bitten).
SCHOOL_SERIES = ("humans", "bitten", "zombies", "halfbies", "dead", "escaped", "rescued")


@dataclass
class RunOutput:
    """What a runner returns for one run."""

    metrics: dict[str, Any]
    times: np.ndarray | None = None  # (T,) the common grid
    series: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (T,)
    kept: Any = None  # a full result to save as a run folder, when the task asked for it


@dataclass
class Outcome:
    """A run's outcome as the store records it (``status`` "ok" or "failed")."""

    task: RunTask
    status: str
    elapsed_s: float
    output: RunOutput | None = None
    error: str | None = None
    traceback: str | None = None
    #: The run's file in the store, encoded where the run ran (see :func:`hyosan.ensemble.store.encode`).
    parquet: bytes | None = None
    #: The same row as a dict (what the sweep's tables are built from).
    record: dict[str, Any] | None = None


def execute(runner: Callable[[RunTask], RunOutput], task: RunTask) -> Outcome:
    """Run one task in a worker; an exception becomes a failed outcome with its error text."""
    start = time.perf_counter()
    try:
        output = runner(task)
    except Exception as exc:
        return Outcome(
            task=task,
            status="failed",
            elapsed_s=time.perf_counter() - start,
            error=f"{type(exc).__name__}: {exc}",
            traceback="".join(traceback.format_exception(exc)),
        )
    return Outcome(task=task, status="ok", elapsed_s=time.perf_counter() - start, output=output)


def _grid(n_ticks: int, points: int) -> np.ndarray:
    """``points`` ticks from 0 to the end, evenly spaced (whole ticks, no repeats)."""
    return np.unique(np.rint(np.linspace(0, n_ticks, max(2, points))).astype(np.int64))


def file_digest(*paths: Path) -> str:
    """SHA-256 of files' contents: a scenario's fingerprint (its TOML and its map)."""
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode())
        h.update(Path(p).read_bytes())
    return h.hexdigest()


@dataclass(frozen=True)
class ScenarioRunner:
    """A school run: ``scenario`` (absolute path or built-in name) with fixed and varied overrides.

    Metrics (one column each): ``agents``; ``final_<state>`` for every state; ``human_group``
    and ``zombie_group`` at the end; ``survivors_adults`` and ``survivors_students`` (human,
    escaped or rescued at the end); ``survived_<role>`` for every role; ``first_turn_s`` and
    ``half_infected_s`` (seconds from the start, NaN if it never happened); ``bites``,
    ``turns``, ``kills``. Series: :data:`SCHOOL_SERIES` at ``points`` evenly spaced ticks.
    """

    scenario: str
    fixed: Mapping[str, str] = field(default_factory=dict)
    points: int = 101

    def overrides(self, params: Mapping[str, Value]) -> dict[str, str]:
        return {**self.fixed, **{k: toml_value(v) for k, v in params.items()}}

    def __call__(self, task: RunTask) -> RunOutput:
        # Imported here: workers of a model sweep never load the engine (numba), nor of a school one SciPy.
        from hyosan.engine import Simulation
        from hyosan.scenario import load_scenario

        sim = Simulation(load_scenario(self.scenario, self.overrides(task.params)), seed=task.seed)
        return school_output(sim, self.points, task.keep)


@dataclass(frozen=True)
class BranchRunner:
    """One future of a branched run: the checkpoint restored, forked with the run's seed and
    its overrides (fixed and varied) taking effect at the branch point, run to the end.

    Metrics and series as :class:`ScenarioRunner`'s; the series start at tick 0, so the shared
    past is in every run's series (the same in all of them) and the futures spread after it.
    """

    checkpoint: str
    fixed: Mapping[str, str] = field(default_factory=dict)
    points: int = 101

    def overrides(self, params: Mapping[str, Value]) -> dict[str, str]:
        return {**self.fixed, **{k: toml_value(v) for k, v in params.items()}}

    def __call__(self, task: RunTask) -> RunOutput:
        # numba and the engine load here, in a worker of a school sweep only (as ScenarioRunner).
        from hyosan.engine import Simulation

        sim = Simulation.restore(self.checkpoint).fork(task.seed, self.overrides(task.params))
        return school_output(sim, self.points, task.keep)


def school_output(sim: Any, points: int, keep: bool) -> RunOutput:
    """Run ``sim`` to the end: its row (from the summary), its series on ``points`` ticks, and
    the Result itself if ``keep``."""
    result = sim.run()
    output = RunOutput(metrics=school_metrics(result.summary()))
    ticks = _grid(sim.tick, points)
    output.times = ticks * sim.tick_seconds
    output.series = school_series(sim.counts[ticks])
    if keep:
        output.kept = result
    return output


def school_series(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Counts (T, states, roles) summed over roles into the named series."""
    c = counts.sum(axis=2).astype(np.int64)
    return {
        "humans": c[:, State.HUMAN] + c[:, State.BITTEN],
        "bitten": c[:, State.BITTEN],
        "zombies": c[:, State.ZOMBIE],
        "halfbies": c[:, State.HALFBIE],
        "dead": c[:, State.DEAD],
        "escaped": c[:, State.ESCAPED],
        "rescued": c[:, State.RESCUED],
    }


def school_metrics(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The runs-table row of a school run (see :class:`ScenarioRunner`), from its summary."""
    metrics: dict[str, Any] = {"agents": summary["agents"]}
    for name, count in summary["final"].items():
        metrics[f"final_{name}"] = count
    groups = summary["groups"]
    metrics["human_group"], metrics["zombie_group"] = groups["human_group"], groups["zombie_group"]
    for label, s in summary["survivors"].items():
        metrics[f"survivors_{label}"] = s["survived"]
    for role, final in summary["final_by_role"].items():
        metrics[f"survived_{role}"] = sum(final[s.name.lower()] for s in SURVIVED)
    for key in ("first_turn_s", "half_infected_s"):
        metrics[key] = float("nan") if summary[key] is None else float(summary[key])
    for kind, column in (("bite", "bites"), ("turn", "turns"), ("kill", "kills")):
        metrics[column] = summary["events"][kind]
    return metrics


@dataclass(frozen=True)
class ModelRunner:
    """A compartment-model run: one trajectory of ``model`` by ``method`` with the run's seed.

    Metrics: ``final_<species>`` for every species; ``peak_<Z>`` and ``t_peak_<Z>`` (the zombie
    compartment's maximum on the grid and when); ``t_half_<S>`` (first grid time at which the
    humans fell to half their initial number, NaN if never); ``zombies_extinct`` (no zombie left
    while humans remain); ``reactions_fired`` (stochastic methods); ``r0`` where the model
    defines it. Series: every species on ``linspace(0, t_end, points)``.
    """

    model: str
    method: str = "ssa"
    fixed: Mapping[str, float] = field(default_factory=dict)
    t_end: float | None = None
    points: int = 101

    def __call__(self, task: RunTask) -> RunOutput:
        # Imported here: workers of a model sweep never load the engine (numba), nor of a school one SciPy.
        from hyosan.compartmental import get

        network = get(self.model)
        params = {**self.fixed, **{k: float(v) for k, v in task.params.items()}}
        res = network.simulate(
            self.method, params=params, t_end=self.t_end, runs=1, seed=task.seed, n_points=self.points
        )
        output = RunOutput(metrics=model_metrics(res), times=np.asarray(res.times, dtype=np.float64))
        output.series = {name: res.values[0, :, s] for s, name in enumerate(res.species)}
        if task.keep:
            output.kept = res
        return output


def model_metrics(res) -> dict[str, Any]:
    """The runs-table row of a model run (see :class:`ModelResult`)."""
    values = res.values[0]  # (T, S)
    stochastic = res.method != "ode"

    def num(v):
        return int(v) if stochastic else float(v)

    metrics: dict[str, Any] = {f"final_{sp}": num(values[-1, s]) for s, sp in enumerate(res.species)}
    z, h = res.species.index(res.zombies), res.species.index(res.humans)
    peak = int(np.argmax(values[:, z]))
    metrics[f"peak_{res.zombies}"] = num(values[peak, z])
    metrics[f"t_peak_{res.zombies}"] = float(res.times[peak])
    half = np.flatnonzero(values[:, h] <= values[0, h] / 2)
    metrics[f"t_half_{res.humans}"] = float(res.times[half[0]]) if half.size else float("nan")
    metrics["zombies_extinct"] = bool(values[-1, z] < 0.5 and values[-1, h] >= 0.5)
    if stochastic:
        metrics["reactions_fired"] = int(res.reactions_fired[0])
    if res.r0 is not None:
        metrics["r0"] = float(res.r0)
    return metrics


@dataclass(frozen=True)
class TownRunner:
    """A town run (the lattice, :mod:`hyosan.lattice`): ``town`` (built-in name or absolute path)
    with fixed and varied overrides (outbreak numbers such as ``kill_rate``, the coupling ``mu``, or
    ``town.days``).

    Metrics: ``final_<S|E|Z|R>``; ``struck`` (removed by strikes); ``peak_Z`` and ``t_peak_Z``
    (days); ``t_half_S`` (days until half the people were bitten, NaN if never);
    ``cells_reached``; ``districts_fell`` (districts left with under a tenth of their people);
    ``reactions``. Series: S, E, Z, R on ``points`` evenly spaced times.
    """

    town: str
    fixed: Mapping[str, str] = field(default_factory=dict)
    method: str | None = None
    points: int = 101

    def overrides(self, params: Mapping[str, Value]) -> dict[str, str]:
        return {**self.fixed, **{k: toml_value(v) for k, v in params.items()}}

    def __call__(self, task: RunTask) -> RunOutput:
        # The lattice's numba kernels load in the worker only when a town runs.
        from hyosan.lattice.scenario import load_town
        from hyosan.lattice.simulate import simulate

        sc = load_town(self.town, self.overrides(task.params))
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
        output = RunOutput(metrics=town_metrics(res), times=counts["t"].to_numpy(dtype=np.float64))
        output.series = {k: counts[k].to_numpy() for k in "SEZR"}
        if task.keep:
            output.kept = res
        return output


#: The metrics of a town run, in order (see :class:`TownRunner`).
TOWN_METRICS = (
    "final_S",
    "final_E",
    "final_Z",
    "final_R",
    "struck",
    "peak_Z",
    "t_peak_Z",
    "t_half_S",
    "cells_reached",
    "districts_fell",
    "reactions",
)


def town_metrics(res) -> dict[str, Any]:
    """The runs-table row of a town run (see :class:`TownRunner`)."""
    c = res.counts
    last = c.iloc[-1]
    metrics: dict[str, Any] = {f"final_{k}": int(last[k]) for k in "SEZR"}
    metrics["struck"] = int(last["struck_s"] + last["struck_e"] + last["struck_z"])
    peak = int(c["Z"].to_numpy().argmax())
    metrics["peak_Z"], metrics["t_peak_Z"] = int(c["Z"].iloc[peak]), float(c["t"].iloc[peak])
    half = np.flatnonzero(c["S"].to_numpy() <= c["S"].iloc[0] / 2)
    metrics["t_half_S"] = float(c["t"].iloc[half[0]]) if half.size else float("nan")
    metrics["cells_reached"] = int(np.isfinite(res.arrival).sum())
    metrics["districts_fell"] = int(res.district_summary()["fell_days"].notna().sum())
    metrics["reactions"] = int(sum(res.fired.values()))
    return metrics


@dataclass(frozen=True)
class FunctionRunner:
    """Any function ``fn(params, seed)`` returning a number or a dict of numbers (the metrics).

    A number becomes the metric ``value``. For process pools and Dask the function must be
    importable by name in the workers (defined at module level).
    """

    fn: Callable[[dict[str, Value], int], Any]

    def __call__(self, task: RunTask) -> RunOutput:
        value = self.fn(dict(task.params), task.seed)
        if isinstance(value, Mapping):
            return RunOutput(metrics=dict(value))
        return RunOutput(metrics={"value": value})


def function_name(fn: Callable) -> str:
    """``module:qualname`` of a function (a sweep's target)."""
    return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"


def metric_names(runner: Callable[[RunTask], RunOutput]) -> list[str]:
    """The metrics a runner's rows will have, known before running (for checking ``--output``)."""
    if isinstance(runner, ScenarioRunner):
        # Imported here: workers of a model sweep never load the engine (numba), nor of a school one SciPy.
        from hyosan.scenario import load_scenario

        roles = list(load_scenario(runner.scenario, dict(runner.fixed)).scenario.roles)
        return [
            "agents",
            *(f"final_{s}" for s in STATE_NAMES),
            "human_group",
            "zombie_group",
            "survivors_adults",
            "survivors_students",
            *(f"survived_{r}" for r in roles),
            "first_turn_s",
            "half_infected_s",
            "bites",
            "turns",
            "kills",
        ]
    if isinstance(runner, TownRunner):
        return list(TOWN_METRICS)
    if isinstance(runner, ModelRunner):
        # Imported here: workers of a model sweep never load the engine (numba), nor of a school one SciPy.
        from hyosan.compartmental import get

        net = get(runner.model)
        names = [
            *(f"final_{s}" for s in net.species_names),
            f"peak_{net.zombies}",
            f"t_peak_{net.zombies}",
            f"t_half_{net.humans}",
            "zombies_extinct",
        ]
        if runner.method != "ode":
            names.append("reactions_fired")
        if net.r0 is not None:
            names.append("r0")
        return names
    return []
