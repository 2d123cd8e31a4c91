"""Running a sweep: the spec's runs through an executor into the store, resumable.

    SweepSpec ──tasks()──► skip those finished in the store ──► Executor ──► outcomes, as they
    finish ──► Store.write (one file per run) ──► consolidate: runs.parquet, bands.parquet

The Python API: :func:`sweep` (a school scenario), :func:`model_sweep` (a compartment model)
and :func:`function_sweep` (any function of the parameters and a seed). Each builds a
:class:`~hyosan.ensemble.spec.SweepSpec` and a runner, and calls :func:`run_sweep`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hyosan import limits
from hyosan.ensemble.executors import Executor, check_executor_flags, make_executor
from hyosan.ensemble.runners import (
    BranchRunner,
    FunctionRunner,
    ModelRunner,
    Outcome,
    ScenarioRunner,
    TownRunner,
    file_digest,
    function_name,
)
from hyosan.ensemble.spec import RunTask, SweepSpec, Value, cross_product, parse_vary
from hyosan.ensemble.store import Store
from hyosan.errors import HyosanError


@dataclass
class Tally:
    """Where a sweep stands, as given to a progress callback after every run."""

    total: int
    skipped: int = 0  # finished before this invocation
    done: int = 0  # finished now, ok or failed
    failed: int = 0  # failed now
    executor: str = ""
    workers: int = 1  # runs at a time

    @property
    def finished(self) -> int:
        return self.skipped + self.done


@dataclass(repr=False)
class SweepResult:
    """The outcome of :func:`run_sweep`: the store's folder and its two tables."""

    folder: Path
    spec: SweepSpec
    runs: pd.DataFrame
    bands: pd.DataFrame
    tally: Tally
    interrupted: bool = False

    @property
    def complete(self) -> bool:
        return len(self.runs) == self.spec.total

    @property
    def failed(self) -> pd.DataFrame:
        return self.runs[self.runs["status"] != "ok"]

    def status(self) -> dict[str, Any]:
        return {
            "total": self.spec.total,
            "finished": len(self.runs),
            "failed": int((self.runs["status"] != "ok").sum()),
            "complete": self.complete,
        }

    # -- notebooks (hyosan.notebook) ------------------------------------------------------------
    def __repr__(self) -> str:
        # lazy: loaded only when this runs (a light import of the module above, or a cycle)
        from hyosan.notebook import sweep_repr

        return sweep_repr(self)

    def _repr_html_(self) -> str:
        # lazy: loaded only when this runs (a light import of the module above, or a cycle)
        from hyosan.notebook import sweep_html

        return sweep_html(self)

    def plot(self, series: str | list[str] | None = None, **options: Any):
        """Fan charts (median, 25-75 % and 5-95 %) of each series per parameter set; the Figure."""
        # lazy: loaded only when this runs (a light import of the module above, or a cycle)
        from hyosan.notebook import sweep_plot

        return sweep_plot(self, series, **options)


def run_tasks(
    tasks: Sequence[RunTask],
    executor: Executor,
    on_outcome: Callable[[Outcome], None],
) -> None:
    """Every task through ``executor``; ``on_outcome`` sees each outcome as it finishes."""
    for task in tasks:
        executor.submit(task)
    while executor.pending:
        on_outcome(executor.next_done())


def run_sweep(
    spec: SweepSpec,
    runner: Callable[[RunTask], Any],
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    retry_failed: bool = False,
    progress: Callable[[Tally], None] | None = None,
) -> SweepResult:
    """Run what ``spec`` still lacks in the store at ``out``; rebuild its tables; return them.

    Finished runs (failed ones too, unless ``retry_failed``) are skipped: their results would be
    the same. On ``KeyboardInterrupt`` the workers are stopped, the tables are rebuilt from what
    finished, and the interrupt goes on up (``SweepResult`` is then not returned).
    """
    check_executor_flags(workers, scheduler)  # every flag before the store is touched
    made_folder = not Path(out).exists()
    fresh = made_folder or (Path(out).is_dir() and not any(Path(out).iterdir()))
    store = Store.open(out, spec)
    try:
        tasks = spec.tasks()
        finished = store.finished_ids()
        if retry_failed:
            finished -= store.failed_ids(finished & {t.run_id for t in tasks})
        todo = [t for t in tasks if t.run_id not in finished]
        tally = Tally(total=len(tasks), skipped=len(tasks) - len(todo))
        try:
            executor = make_executor(runner, workers, scheduler) if todo else None
        except HyosanError:
            if fresh:  # an unreachable scheduler: leave no empty store behind
                store.close()
                store.remove_new(made_folder)
            raise
        interrupted = False
        try:
            if executor is not None:
                with executor:
                    tally.executor = executor.describe()
                    tally.workers = int(getattr(executor, "workers", 1) or 1)
                    if progress is not None:
                        progress(tally)

                    def record(outcome: Outcome) -> None:
                        store.write(outcome)
                        tally.done += 1
                        tally.failed += outcome.status != "ok"
                        if progress is not None:
                            progress(tally)

                    run_tasks(todo, executor, record)
            elif progress is not None:
                progress(tally)
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            runs, bands = store.consolidate(spec)
            result = SweepResult(store.folder, spec, runs, bands, tally, interrupted)
            store.write_spec(spec, status={**result.status(), "interrupted": interrupted})
    finally:
        store.close()
    return result


# -- building sweeps ------------------------------------------------------------------------------
def _vary(vary: Mapping[str, Sequence[Value]] | Sequence[str] | None) -> dict[str, list[Value]]:
    if vary is None:
        return {}
    if isinstance(vary, Mapping):
        return {str(k): list(v) for k, v in vary.items()}
    return parse_vary(list(vary))


def _first_valid(sets: Sequence[Mapping[str, Value]], check: Callable[[Mapping[str, Value]], None]) -> None:
    """Raise the first set's error if *no* parameter set passes ``check`` (a typo in a key, say).

    A set that fails while others pass is left to fail in its runs, which are then recorded as
    failed with the error: a sweep over a range may well cross values the model rejects.
    """
    first: HyosanError | None = None
    for params in sets:
        try:
            check(params)
            return
        except HyosanError as exc:
            first = first or exc
    if first is not None:
        raise first


def scenario_spec(
    scenario: str | Path | None,
    *,
    runs: int,
    vary: Mapping[str, Sequence[Value]] | Sequence[str] | None = None,
    fixed: Mapping[str, str] | None = None,
    seed: int = 0,
    points: int = 101,
    keep: int = 0,
    sets: Sequence[Mapping[str, Value]] | None = None,
    design: dict[str, Any] | None = None,
) -> tuple[SweepSpec, ScenarioRunner]:
    """The spec and runner of a school sweep (``sets`` instead of ``vary`` for a design)."""
    # Imported here: workers of a model sweep never load the engine (numba), nor of a school one SciPy.
    from hyosan.scenario import load_scenario
    from hyosan.scenario.load import builtins

    fixed = dict(fixed or {})
    vary_ = _vary(vary)
    loaded = load_scenario(scenario, fixed)  # the fixed overrides are checked here, once
    both = set(vary_) & set(fixed)
    if both:
        raise HyosanError("given both to --set and --vary", source="--vary", field=sorted(both)[0])
    if points < 2:
        raise HyosanError(f"must be at least 2, got {points}", source="--points")
    limits.MAX_POINTS.check(points, "--points")
    builtin = loaded.source.startswith("builtin:")
    toml_path = builtins()[loaded.source.removeprefix("builtin:")] if builtin else Path(loaded.source)
    target = loaded.source if builtin else str(Path(loaded.source).resolve())
    runner = ScenarioRunner(scenario=loaded.name if builtin else target, fixed=fixed, points=points)
    if sets is None:
        sets = cross_product(vary_)
    sets = tuple(dict(s) for s in sets)

    def check(params: Mapping[str, Value]) -> None:
        try:
            load_scenario(runner.scenario, runner.overrides(params))
        except HyosanError as exc:  # the loader blames --set for every override
            if exc.source == "--set" and any((exc.field or "").startswith(k) for k in params):
                raise HyosanError(exc.message, source="--vary", field=exc.field) from None
            raise

    _first_valid(sets, check)
    context = {"set": fixed, "points": points, "fingerprint": file_digest(toml_path, loaded.map_path())}
    spec = SweepSpec(
        kind="scenario",
        target=target,
        runs=runs,
        seed=seed,
        sets=sets,
        context=context,
        vary=vary_,
        design=design,
        keep=keep,
    )
    return spec, runner


def branch_spec(
    checkpoint: str | Path,
    *,
    runs: int,
    vary: Mapping[str, Sequence[Value]] | Sequence[str] | None = None,
    fixed: Mapping[str, str] | None = None,
    seed: int = 0,
    points: int = 101,
    keep: int = 0,
) -> tuple[SweepSpec, BranchRunner]:
    """The spec and runner of a branch: ``runs`` futures of one checkpointed history for every
    combination of the ``vary`` values, with the ``fixed`` overrides, all from the branch point."""
    from hyosan.checkpoint import load_checkpoint  # the engine (numba): a branch needs it here
    from hyosan.engine import Simulation

    path = Path(checkpoint).resolve()
    fixed = dict(fixed or {})
    vary_ = _vary(vary)
    both = set(vary_) & set(fixed)
    if both:
        raise HyosanError("given both to --set and --vary", source="--vary", field=sorted(both)[0])
    if points < 2:
        raise HyosanError(f"must be at least 2, got {points}", source="--points")
    limits.MAX_POINTS.check(points, "--points")
    sim = load_checkpoint(path, Simulation)
    runner = BranchRunner(checkpoint=str(path), fixed=fixed, points=points)
    sets = tuple(dict(s) for s in cross_product(vary_))

    def check(params: Mapping[str, Value]) -> None:
        load_checkpoint(path, Simulation).fork(0, runner.overrides(params))

    _first_valid(sets, check)
    branch_s = sim.tick * sim.tick_seconds
    context = {
        "set": fixed,
        "points": points,
        "fingerprint": file_digest(path),
        "branch_s": branch_s,
        "start_clock_s": sim.scenario.start_seconds,
        "scenario": sim.loaded.name,
    }
    spec = SweepSpec(
        kind="branch",
        target=str(path),
        runs=runs,
        seed=seed,
        sets=sets,
        context=context,
        vary=vary_,
        keep=keep,
    )
    return spec, runner


def model_spec(
    model: str,
    *,
    method: str = "ssa",
    runs: int,
    vary: Mapping[str, Sequence[Value]] | Sequence[str] | None = None,
    fixed: Mapping[str, float] | None = None,
    t_end: float | None = None,
    seed: int = 0,
    points: int = 101,
    keep: int = 0,
    sets: Sequence[Mapping[str, Value]] | None = None,
    design: dict[str, Any] | None = None,
) -> tuple[SweepSpec, ModelRunner]:
    """The spec and runner of a compartment-model sweep: one trajectory per run."""
    # Imported here: workers of a model sweep never load the engine (numba), nor of a school one SciPy.
    from hyosan.compartmental import METHODS, get

    network = get(model)
    if method not in METHODS:
        raise HyosanError(f"unknown method {method!r} (choose from {', '.join(METHODS)})", source="--method")
    if method == "ode" and runs > 1:
        raise HyosanError("the ODE is deterministic: use --method ssa or tau for runs > 1", source="--runs")
    if points < 2:
        raise HyosanError(f"must be at least 2, got {points}", source="--points")
    limits.MAX_POINTS.check(points, "--points")
    fixed_ = {
        k: float(v)
        for k, v in network.resolve(dict(fixed or {}), source="--set").items()
        if k in (fixed or {})
    }
    vary_ = _vary(vary)
    for key, values in vary_.items():
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
            raise HyosanError("model parameters are numbers", source="--vary", field=key)
    both = set(vary_) & set(fixed_)
    if both:
        raise HyosanError("given both to --set and --vary", source="--vary", field=sorted(both)[0])
    t_end_ = network.t_end if t_end is None else float(t_end)
    runner = ModelRunner(model=network.name, method=method, fixed=fixed_, t_end=t_end_, points=points)
    if sets is None:
        sets = cross_product(vary_)
    sets = tuple(dict(s) for s in sets)

    def check(params: Mapping[str, Value]) -> None:
        network.resolve({**fixed_, **{k: float(v) for k, v in params.items()}}, source="--vary")

    _first_valid(sets, check)
    fingerprint = hashlib.sha256(repr(network).encode()).hexdigest()
    context = {"set": fixed_, "method": method, "t_end": t_end_, "points": points, "fingerprint": fingerprint}
    spec = SweepSpec(
        kind="model",
        target=network.name,
        runs=runs,
        seed=seed,
        sets=sets,
        context=context,
        vary=vary_,
        design=design,
        keep=keep,
    )
    return spec, runner


def town_spec(
    town: str,
    *,
    runs: int,
    vary: Mapping[str, Sequence[Value]] | Sequence[str] | None = None,
    fixed: Mapping[str, str] | None = None,
    method: str | None = None,
    seed: int = 0,
    points: int = 101,
    keep: int = 0,
    sets: Sequence[Mapping[str, Value]] | None = None,
    design: dict[str, Any] | None = None,
) -> tuple[SweepSpec, TownRunner]:
    """The spec and runner of a town sweep (``town``: a built-in town or a town TOML file)."""
    # Imported here: workers of a model sweep never load the engine (numba), nor of a school one SciPy.
    from hyosan.lattice.scenario import BUILTINS, load_town
    from hyosan.lattice.simulate import METHODS

    fixed = {k: str(v) for k, v in (fixed or {}).items()}
    vary_ = _vary(vary)
    load_town(town, fixed)  # the fixed overrides are checked here, once
    both = set(vary_) & set(fixed)
    if both:
        raise HyosanError("given both to --set and --vary", source="--vary", field=sorted(both)[0])
    if method is not None and method not in METHODS:
        raise HyosanError(f"unknown method {method!r} (choose from {', '.join(METHODS)})", source="--method")
    if points < 2:
        raise HyosanError(f"must be at least 2, got {points}", source="--points")
    target = town if town in BUILTINS else str(Path(town).resolve())
    runner = TownRunner(town=target, fixed=fixed, method=method, points=points)
    sets = tuple(dict(s) for s in (cross_product(vary_) if sets is None else sets))
    _first_valid(sets, lambda params: load_town(target, runner.overrides(params)))
    text = target if town in BUILTINS else Path(target).read_text(encoding="utf-8")
    context = {
        "set": fixed,
        "method": method,
        "points": points,
        "fingerprint": hashlib.sha256(text.encode()).hexdigest(),
    }
    spec = SweepSpec(
        kind="town",
        target=target,
        runs=runs,
        seed=seed,
        sets=sets,
        context=context,
        vary=vary_,
        design=design,
        keep=keep,
    )
    return spec, runner


def function_spec(
    fn: Callable[[dict[str, Value], int], Any],
    *,
    runs: int,
    vary: Mapping[str, Sequence[Value]] | Sequence[str] | None = None,
    seed: int = 0,
    sets: Sequence[Mapping[str, Value]] | None = None,
    design: dict[str, Any] | None = None,
) -> tuple[SweepSpec, FunctionRunner]:
    """The spec and runner of a sweep over any function ``fn(params, seed)``."""
    vary_ = _vary(vary)
    sets = tuple(dict(s) for s in (cross_product(vary_) if sets is None else sets))
    spec = SweepSpec(
        kind="function", target=function_name(fn), runs=runs, seed=seed, sets=sets, vary=vary_, design=design
    )
    return spec, FunctionRunner(fn)


def sweep(
    scenario: str | Path | None,
    out: str | Path,
    *,
    runs: int = 10,
    vary: Mapping[str, Sequence[Value]] | Sequence[str] | None = None,
    set: Mapping[str, str] | None = None,
    seed: int = 0,
    points: int = 101,
    keep: int = 0,
    workers: int | None = None,
    scheduler: str | None = None,
    retry_failed: bool = False,
    progress: Callable[[Tally], None] | None = None,
) -> SweepResult:
    """Run a school scenario ``runs`` times for every combination of the ``vary`` values.

    ``vary``: ``{"zombies.bite_prob": [0.2, 0.5]}`` or the flags' strings
    (``["zombies.bite_prob=0.2:0.8:4"]``); ``set``: fixed overrides as for ``hyosan run --set``.
    Results go to the store at ``out`` (see :mod:`hyosan.ensemble.store`); calling again with
    the same arguments finishes an interrupted sweep and recomputes nothing.
    """
    spec, runner = scenario_spec(
        scenario, runs=runs, vary=vary, fixed=set, seed=seed, points=points, keep=keep
    )
    return run_sweep(
        spec, runner, out, workers=workers, scheduler=scheduler, retry_failed=retry_failed, progress=progress
    )


def branch(
    checkpoint: str | Path,
    out: str | Path,
    *,
    runs: int = 10,
    vary: Mapping[str, Sequence[Value]] | Sequence[str] | None = None,
    set: Mapping[str, str] | None = None,
    seed: int = 0,
    points: int = 101,
    keep: int = 0,
    workers: int | None = None,
    scheduler: str | None = None,
    retry_failed: bool = False,
    progress: Callable[[Tally], None] | None = None,
) -> SweepResult:
    """Continue one history (a checkpoint: ``hyosan run --checkpoint-at``) into ``runs`` futures,
    each with its own seed after the branch point, with ``set`` (and each ``vary`` combination)
    taking effect there. Results go to a store at ``out``, as a sweep's."""
    spec, runner = branch_spec(
        checkpoint, runs=runs, vary=vary, fixed=set, seed=seed, points=points, keep=keep
    )
    return run_sweep(
        spec, runner, out, workers=workers, scheduler=scheduler, retry_failed=retry_failed, progress=progress
    )


def model_sweep(
    model: str,
    out: str | Path,
    *,
    method: str = "ssa",
    runs: int = 10,
    vary: Mapping[str, Sequence[Value]] | Sequence[str] | None = None,
    set: Mapping[str, float] | None = None,
    t_end: float | None = None,
    seed: int = 0,
    points: int = 101,
    keep: int = 0,
    workers: int | None = None,
    scheduler: str | None = None,
    retry_failed: bool = False,
    progress: Callable[[Tally], None] | None = None,
) -> SweepResult:
    """A compartment model's ensemble over the ``vary`` grid: the same store as :func:`sweep`."""
    spec, runner = model_spec(
        model,
        method=method,
        runs=runs,
        vary=vary,
        fixed=set,
        t_end=t_end,
        seed=seed,
        points=points,
        keep=keep,
    )
    return run_sweep(
        spec, runner, out, workers=workers, scheduler=scheduler, retry_failed=retry_failed, progress=progress
    )


def function_sweep(
    fn: Callable[[dict[str, Value], int], Any],
    out: str | Path,
    *,
    runs: int = 1,
    vary: Mapping[str, Sequence[Value]] | Sequence[str] | None = None,
    seed: int = 0,
    workers: int | None = None,
    scheduler: str | None = None,
    retry_failed: bool = False,
    progress: Callable[[Tally], None] | None = None,
) -> SweepResult:
    """Any function ``fn(params, seed) -> number or dict of numbers`` over the ``vary`` grid.

    With process or Dask workers ``fn`` must be importable by name (defined at module level).
    """
    spec, runner = function_spec(fn, runs=runs, vary=vary, seed=seed)
    return run_sweep(
        spec, runner, out, workers=workers, scheduler=scheduler, retry_failed=retry_failed, progress=progress
    )
