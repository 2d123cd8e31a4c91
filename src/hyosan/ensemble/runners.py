"""What a worker does with a run: the runners (school scenario, compartment model, any function).

A runner is a small picklable object, sent to the workers once per task together with a
:class:`~hyosan.ensemble.spec.RunTask`; :func:`execute` calls it and turns whatever happens into
an :class:`Outcome`. Every exception a run raises is caught there and recorded (type, message,
traceback) so that one bad run never stops a sweep; only ``KeyboardInterrupt`` and the like get
through.

A runner returns the run's *metrics* (a flat dict of numbers: one row of the runs table), its
*series* on a common time grid (for the quantile bands; none for a plain function) and, when the
task asks to keep it, the full result for a run folder.

A run's outcome depends on its task alone, which is what makes a sweep's results independent
of the executor. The one thing a worker keeps between tasks is what a school run is built from
and does not change (:func:`school_simulation`): the validated scenario of each set of overrides
and the World of each map, made once per worker per sweep and shared, read-only, by its runs.
"""

from __future__ import annotations

import collections
import hashlib
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hyosan import __version__
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


def _grid(n_ticks: int, points: int, extra: np.ndarray | None = None) -> np.ndarray:
    """``points`` ticks from 0 to the end, evenly spaced (whole ticks, no repeats), and ``extra``."""
    grid = np.rint(np.linspace(0, n_ticks, max(2, points))).astype(np.int64)
    return np.unique(grid if extra is None else np.concatenate([grid, extra]))


def file_digest(*paths: Path) -> str:
    """SHA-256 of files' contents: a scenario's fingerprint (its TOML and its map)."""
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode())
        h.update(Path(p).read_bytes())
    return h.hexdigest()


def new_session() -> str:
    """A fresh key for the workers' caches: one per runner made (one per sweep or study)."""
    return uuid.uuid4().hex


#: Validated scenarios and Worlds a worker keeps between the runs of a sweep or study, by
#: (session, scenario, overrides) and (session, map file), the least recently used dropped first.
_LOADED: collections.OrderedDict[tuple, Any] = collections.OrderedDict()
_WORLDS: collections.OrderedDict[tuple, Any] = collections.OrderedDict()
LOADED_KEPT, WORLDS_KEPT = 8, 2


def _remember(cache: collections.OrderedDict, key: tuple, make: Callable[[], Any], kept: int) -> Any:
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    value = make()
    cache[key] = value
    while len(cache) > kept:
        cache.popitem(last=False)
    return value


def school_simulation(scenario: str, overrides: Mapping[str, str], seed: int, session: str = "") -> Any:
    """A school run ready to start: ``scenario`` with ``overrides`` and ``seed``.

    Its scenario is read and validated once per worker for each (``session``, overrides), and its
    World built once per worker for each (``session``, map file): every run of a trial (the same
    overrides) or of a sweep (the same map) after the first starts from them. Neither changes
    during a run (the run's doors, agents and fields are its own arrays), so a run on a shared
    World is the run on a fresh one, draw for draw. ``session`` is the runner's: a new sweep or
    study reads the files again; an empty session caches nothing.
    """
    # Imported here: workers of a model sweep never load the engine (numba), nor of a school one SciPy.
    from hyosan.engine import Simulation
    from hyosan.scenario import load_scenario
    from hyosan.world import load_map

    if not session:
        return Simulation(load_scenario(scenario, dict(overrides)), seed=seed)
    key = (session, str(scenario), tuple(sorted(overrides.items())))
    loaded = _remember(_LOADED, key, lambda: load_scenario(scenario, dict(overrides)), LOADED_KEPT)
    path = loaded.map_path()
    world = _remember(_WORLDS, (session, str(path)), lambda: load_map(path), WORLDS_KEPT)
    return Simulation(loaded, seed=seed, world=world)


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
    #: What a worker's cache of scenarios and worlds is keyed by (see :func:`school_simulation`).
    session: str = field(default_factory=new_session, compare=False)

    def overrides(self, params: Mapping[str, Value]) -> dict[str, str]:
        return {**self.fixed, **{k: toml_value(v) for k, v in params.items()}}

    def __call__(self, task: RunTask) -> RunOutput:
        sim = school_simulation(self.scenario, self.overrides(task.params), task.seed, self.session)
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


def school_output(
    sim: Any,
    points: int,
    keep: bool = False,
    times: tuple[float, ...] = (),
    wanted: tuple[str, ...] | None = None,
    dotted: bool = False,
) -> RunOutput:
    """Run ``sim`` to the end: its row, its series on ``points`` ticks (and at ``times``,
    seconds), and the Result itself if ``keep``.

    The row is :func:`school_metrics` (with ``dotted``, also every number of the run's summary by
    its dotted path, :func:`flatten`); with ``wanted``, only those metrics. The full Result (its
    tables, the milestones) is built only when kept or when a wanted number needs it: the runs
    table's columns come from :func:`core_summary`, the part of the summary the arrays give.
    """
    # Imported here: the story's numbers with the engine, in a worker of a school sweep only.
    from hyosan.results.faithfulness import story_numbers

    sim.run_until(sim.n_ticks)
    # Every number of the summary (dotted, none named) includes the milestones: the full Result.
    result = sim.result() if keep or (dotted and wanted is None) else None

    def row(summary: Mapping[str, Any], full: Any = None) -> dict[str, Any]:
        metrics = school_metrics(summary)
        if not dotted:
            return metrics
        # With the full Result, the story's numbers too (docs/faithfulness.md): story.<name>.
        story = {"story": story_numbers(full)} if full is not None else {}
        return {**flatten(summary), **flatten(story), **metrics}

    metrics = row(result.summary(), result) if result is not None else row(core_summary(sim))
    if wanted is not None:
        if result is None and any(m not in metrics for m in wanted):
            result = sim.result()
            metrics = row(result.summary(), result)
        if all(m in metrics for m in wanted):  # else all of them: the error names those there are
            metrics = {m: metrics[m] for m in wanted}
    output = RunOutput(metrics=metrics)
    extra = np.rint(np.asarray(times, dtype=np.float64) / sim.tick_seconds).astype(np.int64)
    ticks = _grid(sim.tick, points, np.clip(extra, 0, sim.tick))
    output.times = ticks * sim.tick_seconds
    output.series = school_series(sim.counts[ticks])
    if keep:
        output.kept = result
    return output


def core_summary(sim: Any) -> dict[str, Any]:
    """The part of a school run's summary that its arrays give (:func:`~hyosan.results.summary.summarise`:
    final counts, survivors, groups, events...), as :meth:`Simulation.result` computes it, without
    building the run's tables (a tenth of a second for a six-hour Hyosan High run)."""
    # Imported here: the summary with the engine, in a worker of a school sweep only.
    from hyosan.results.summary import summarise

    sim.recorder.drain(sim.arrays.events)
    sc, pop = sim.scenario, sim.pop
    meta = {
        "scenario": sim.loaded.name,
        "title": sc.scenario.name,
        "seed": sim.seed,
        "version": __version__,
        "tick_s": sim.tick_seconds,
        "start_clock_s": sc.start_seconds,
    }
    return summarise(
        meta=meta,
        counts=sim.counts[: sim.tick + 1],
        events=sim.recorder.events(),
        agent_role=pop.role,
        agent_state=pop.state,
        bitten_at=pop.bitten_at,
        role_names=list(pop.role_names),
        adult_roles=[r for r, cfg in sc.roles.items() if cfg.adult],
    )


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """The numbers of a nested summary by dotted path (lists and text are left out)."""
    out: dict[str, Any] = {}
    if isinstance(value, Mapping):
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(value, bool | int | float | np.integer | np.floating) and prefix:
        out[prefix[:-1]] = value.item() if isinstance(value, np.generic) else value
    return out


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
        params = {**self.fixed, **{k: float(v) for k, v in task.params.items()}}
        res = run_model(self.model, self.method, params, task.seed, self.t_end, self.points)
        output = model_output(res)
        if task.keep:
            output.kept = res
        return output


def run_model(
    model: str, method: str, params: Mapping[str, float], seed: int, t_end: float | None, points: int
) -> Any:
    """One trajectory of a catalogue model (the sweep's and the calibration's runners)."""
    # Imported here: workers of a model sweep never load the engine (numba), nor of a school one SciPy.
    from hyosan.compartmental import get

    return get(model).simulate(method, params=dict(params), t_end=t_end, runs=1, seed=seed, n_points=points)


def model_output(res: Any, dotted: bool = False) -> RunOutput:
    """A model run's row (:func:`model_metrics`; with ``dotted``, also every number of its
    summary by dotted path) and every species on its time grid."""
    metrics = model_metrics(res)
    if dotted:
        metrics = {**flatten(res.summary()), **metrics}
    output = RunOutput(metrics=metrics, times=np.asarray(res.times, dtype=np.float64))
    output.series = {name: res.values[0, :, s] for s, name in enumerate(res.species)}
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
        res = run_town(self.town, self.overrides(task.params), task.seed, self.method, self.points)
        output = town_output(res)
        if task.keep:
            output.kept = res
        return output


#: The counts over time of a town run (its series).
TOWN_SERIES = ("S", "E", "Z", "R")


def run_town(town: str, overrides: Mapping[str, str], seed: int, method: str | None, points: int) -> Any:
    """One town run (:func:`hyosan.lattice.simulate.simulate`): ``town`` with ``overrides``, by
    ``method`` (None: the town's own), recorded at ``points`` evenly spaced times. The sweep's and
    the calibration's runners both run a town through here."""
    # The lattice's numba kernels load in the worker only when a town runs.
    from hyosan.lattice.scenario import load_town
    from hyosan.lattice.simulate import simulate

    sc = load_town(town, dict(overrides))
    return simulate(
        sc.lattice,
        sc.params,
        days=sc.days,
        method=method or sc.method,
        seed=seed,
        events=sc.events,
        record_every=sc.days / (points - 1),
        snapshot_every=sc.days,
    )


def town_output(res: Any, dotted: bool = False) -> RunOutput:
    """A town run's row (:func:`town_metrics`; with ``dotted``, also every number of its summary
    by dotted path) and its series :data:`TOWN_SERIES` on the recorded times."""
    counts = res.counts
    metrics = town_metrics(res)
    if dotted:
        metrics = {**flatten(res.summary()), **metrics}
    output = RunOutput(metrics=metrics, times=counts["t"].to_numpy(dtype=np.float64))
    output.series = {k: counts[k].to_numpy() for k in TOWN_SERIES}
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
