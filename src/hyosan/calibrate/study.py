"""Running a calibration: Optuna's study over the ensemble machinery, stored in SQLite, resumable,
judged at the end on held-out seeds.

::

    config.toml ──► Calibration (checked) ──► the study folder (hyosan's output-folder rules)
        for each trial, one after the other:
            sampler (seeded from the root seed and the trial's index) ──► values ──► a task per
            seed ──► Executor (this process | local processes | Dask) ──► the runs' rows and
            counts ──► targets ──► loss (pruned after the first seeds if hopeless) ──► study.db
        best values ──► the study's seeds again, and fresh held-out seeds ──► every target
            in-sample and held-out ──► calibration.json, fit.parquet, calibrated TOML, report.html

Trials run one after the other and a trial's seeds in parallel, and the sampler of trial ``n``
is seeded from the study's root seed and ``n`` (the count of finished trials): its values
depend only on the trials finished before it, which the study holds. So the executor never
changes the study, and a study killed at any moment (SIGKILL included) and resumed with
``--resume`` proposes what the uninterrupted study would have: the killed trial is marked
failed (Optuna's samplers ignore failed trials) and done again.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hyosan import __version__
from hyosan.calibrate import data as obs_data
from hyosan.calibrate.config import Calibration, load_config
from hyosan.calibrate.runner import CalibrationRunner, series_names
from hyosan.calibrate.targets import Judged, judge, total
from hyosan.ensemble.executors import Executor, check_executor_flags, default_workers, make_executor
from hyosan.ensemble.spec import RunTask, canonical, run_seed
from hyosan.errors import HyosanError
from hyosan.io import MARKER, add_to_marker, check_out_dir, read_marker, write_text

FORMAT = "hyosan-calibration/1"
DB = "study.db"
STUDY_NAME = "hyosan"
#: Files a study folder holds while it runs (SQLite's journal may be left by a killed study).
LIVE_FILES = ("config.toml", "study.json", DB, f"{DB}-journal", f"{DB}-wal", f"{DB}-shm")


def storage(folder: Path):
    """Optuna's RDB storage on the folder's SQLite file, in WAL mode with ``synchronous =
    NORMAL``: a killed process loses nothing committed (the OS holds the writes), and the study
    commits each trial without waiting for the disk (a loaded machine spends ~0.3 s a trial on it
    otherwise)."""
    # Imported here: Optuna (and SQLAlchemy) load with the calibrate command only.
    import sqlite3

    import optuna

    path = str(Path(folder) / DB)

    def connect() -> sqlite3.Connection:
        con = sqlite3.connect(path, timeout=60, check_same_thread=False)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        return con

    return optuna.storages.RDBStorage(f"sqlite:///{path}", engine_kwargs={"creator": connect})


@dataclass
class Progress:
    """Where a study stands, given to a progress callback after every trial."""

    done: int  # finished trials (complete or pruned)
    total: int
    best: float | None
    elapsed_s: float  # this invocation
    left_s: float | None  # estimated, from this invocation's mean trial time
    pruned: int = 0
    last: float | None = None  # the last trial's loss (None if pruned)


@dataclass
class CalibrationResult:
    """What :func:`calibrate` returns (also in ``calibration.json``)."""

    folder: Path
    best_params: dict[str, Any]
    best_loss: float
    targets: list[dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def flagged(self) -> list[str]:
        return [t["name"] for t in self.targets if t.get("flagged")]


# -- seeds ---------------------------------------------------------------------------------------
def study_seeds(cal: Calibration) -> list[int]:
    """The seeds of every trial (the same for all trials: their losses differ by values only)."""
    st = cal.study
    if cal.kind == "model" and cal.method() == "ode":
        return [0]
    if isinstance(st.seeds, list):
        return list(st.seeds)
    return [run_seed(st.seed, {}, r) for r in range(st.seeds)]


def heldout_seeds(cal: Calibration) -> list[int]:
    """Fresh seeds for validation, never the study's (a HyosanError if a given list overlaps)."""
    st = cal.study
    if isinstance(st.heldout, list):
        out = list(st.heldout)
    else:
        out = [run_seed(st.seed, {"heldout": True}, r) for r in range(st.heldout)]
    both = sorted(set(out) & set(study_seeds(cal)))
    if both:
        raise HyosanError(
            f"held-out seeds must never be the study's: {', '.join(map(str, both[:5]))} in both",
            source=cal.source,
            field="study.heldout",
        )
    return out


def sampler_seed(root: int, index: int) -> int:
    """The sampler's seed for the ``index``-th trial."""
    return int(np.random.SeedSequence([int(root), 0x0CA1, int(index)]).generate_state(1, np.uint32)[0])


def make_sampler(cal: Calibration, index: int):
    # Imported here: Optuna (and SQLAlchemy) load with the calibrate command only.
    import optuna

    st = cal.study
    seed = sampler_seed(st.seed, index)
    if st.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if st.sampler == "cmaes":
        try:
            import cmaes  # noqa: F401  (CMA-ES's optimiser: Optuna's sampler needs it)
        except ImportError:
            raise HyosanError(
                'needs the cmaes package: pip install "hyosan[calibrate]"',
                source=cal.source,
                field="study.sampler",
            ) from None
        return optuna.samplers.CmaEsSampler(
            seed=seed, n_startup_trials=st.startup_trials, warn_independent_sampling=False
        )
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=st.startup_trials, multivariate=True)


def make_pruner(cal: Calibration):
    # Imported here: Optuna loads with the calibrate command only.
    import optuna

    st = cal.study
    if st.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)
    if st.pruner == "percentile":
        return optuna.pruners.PercentilePruner(25.0, n_startup_trials=5, n_warmup_steps=0)
    if st.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=st.prune_after, max_resource=len(study_seeds(cal)))
    return optuna.pruners.NopPruner()


def distributions(cal: Calibration) -> dict[str, Any]:
    # Imported here: Optuna loads with the calibrate command only.
    from optuna.distributions import FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for p in cal.parameters:
        if p.integer:
            out[p.key] = IntDistribution(int(p.low), int(p.high), log=p.log)
        else:
            out[p.key] = FloatDistribution(p.low, p.high, log=p.log)
    return out


# -- checks before anything runs -----------------------------------------------------------------
def observed_data(cal: Calibration) -> dict[int, obs_data.Observed]:
    """Every data target's observations; a count the result does not have is refused."""
    names = series_names(cal.kind, cal.target)
    out = {}
    for i, t in enumerate(cal.targets):
        if t.data is None:
            continue
        if t.count not in names:
            raise HyosanError(
                f"no count {t.count!r} in a {cal.kind} run of {Path(cal.target).name} "
                f"(it has: {', '.join(names)})",
                source=cal.source,
                field=f"target[{i}].count",
            )
        path, source = obs_data.resolve(t.data, cal.base_dir)
        out[i] = obs_data.read_observed(path, source, t.column or t.count, seconds=cal.kind == "scenario")
    return out


def t_end_for(cal: Calibration) -> float | None:
    if cal.kind != "model":
        return cal.fit.t_end
    # Imported here: the catalogue loads with a model study only.
    from hyosan.compartmental import get

    return cal.fit.t_end if cal.fit.t_end is not None else get(cal.target).t_end


def check_keys(cal: Calibration, observed: dict[int, obs_data.Observed]) -> CalibrationRunner:
    """The runner of the study, after one load with the ranges' midpoints: an unknown key or a
    value out of its schema's bounds names the config's field, before any folder is touched."""
    mid = {}
    for p in cal.parameters:
        v = math.sqrt(p.low * p.high) if p.log else (p.low + p.high) / 2
        mid[p.key] = round(v) if p.integer else v
    times = sorted({float(t) for ob in observed.values() for t in ob.times})
    fixed = cal.fixed()
    t_end = t_end_for(cal)
    points = cal.fit.points or 201
    if cal.kind == "model":
        # Imported here: the catalogue loads with a model study only.
        from hyosan.compartmental import get

        net = get(cal.target) if cal.target in _catalogue() else None
        if net is None:
            raise HyosanError(
                f"unknown model (known: {', '.join(_catalogue())})", source=cal.source, field="fit.model"
            )
        for i, p in enumerate(cal.parameters):
            if p.key not in net.defaults:
                raise HyosanError(
                    f"not a parameter of {cal.target} (known: {', '.join(net.defaults)})",
                    source=cal.source,
                    field=f"parameter[{i}].key",
                )
        net.resolve(
            {k: float(v) for k, v in fixed.items()} if _numbers(fixed) else fixed,
            source=f"{cal.source}: fit.set",
        )
        if (
            cal.fit.points is None
            and times
            and float(t_end).is_integer()
            and all(float(t).is_integer() for t in times)
        ):
            points = int(10 * t_end) + 1  # every whole time on the grid
        late = [t for t in times if t > t_end]
        if late:
            raise HyosanError(
                f"observed at t = {late[0]:g}, after t_end = {t_end:g}", source=cal.source, field="fit.t_end"
            )
    elif cal.kind == "scenario":
        # Imported here: the scenario loader (pydantic schema) is needed by a school study only.
        from hyosan.scenario import load_scenario

        for i, p in enumerate(cal.parameters):
            try:
                load_scenario(cal.target, {**fixed, p.key: _text(mid[p.key])})
            except HyosanError as exc:
                if exc.source == "--set":
                    raise HyosanError(exc.message, source=cal.source, field=f"parameter[{i}].key") from None
                raise
        try:
            loaded = load_scenario(cal.target, {**fixed, **{k: _text(v) for k, v in mid.items()}})
        except HyosanError as exc:
            if exc.source == "--set":
                raise HyosanError(f"{exc.field}: {exc.message}", source=cal.source, field="fit.set") from None
            raise
        # Imported here: the scenario's clock, for a school study only.
        from hyosan.scenario.timefmt import parse_duration

        if times and max(times) > parse_duration(loaded.scenario.clock.duration):
            raise HyosanError("observed after the scenario's end", source=cal.source, field="target")
    else:
        # Imported here: the lattice loads with a town study only.
        from hyosan.lattice.scenario import load_town

        for i, p in enumerate(cal.parameters):
            try:
                load_town(cal.target, {**fixed, p.key: _text(mid[p.key])})
            except HyosanError as exc:
                if exc.source == "--set":
                    raise HyosanError(exc.message, source=cal.source, field=f"parameter[{i}].key") from None
                raise
    check_metrics(cal)
    return CalibrationRunner(
        kind=cal.kind,
        target=cal.target,
        fixed=fixed,
        method=cal.fit.method,
        t_end=t_end,
        points=points,
        times=tuple(times),
        metrics=tuple(sorted({t.metric for t in cal.targets if t.metric is not None})),
    )


def check_metrics(cal: Calibration) -> None:
    """A summary target's metric must be a column of the runs table (or a dotted path into the
    run's summary, checked on the first trial's runs)."""
    # Imported here: the sweep's runners name the runs table's columns.
    from hyosan.ensemble.runners import ModelRunner, ScenarioRunner, TownRunner, metric_names

    if cal.kind == "model":
        inner = ModelRunner(cal.target, method=cal.method())
    elif cal.kind == "scenario":
        inner = ScenarioRunner(cal.target, fixed=cal.fixed())
    else:
        inner = TownRunner(cal.target)
    known = metric_names(inner)
    for i, t in enumerate(cal.targets):
        if t.metric is not None and "." not in t.metric and t.metric not in known:
            raise HyosanError(
                f"no number {t.metric!r} in a run's results (the runs table has: {', '.join(known)}; or a "
                "dotted path into the run's summary, e.g. final.dead)",
                source=cal.source,
                field=f"target[{i}].metric",
            )


def _catalogue() -> list[str]:
    # Imported here: the catalogue loads with a model study only.
    from hyosan.compartmental import names

    return names()


def _numbers(values: dict[str, str]) -> bool:
    try:
        [float(v) for v in values.values()]
    except ValueError:
        return False
    return True


def _text(value: Any) -> str:
    # Imported here: spec's TOML text of a value.
    from hyosan.ensemble.spec import toml_value

    return toml_value(value)


# -- the folder ----------------------------------------------------------------------------------
def identity(cal: Calibration) -> dict[str, Any]:
    """What must match for ``--resume`` to continue a folder's study (trials may grow)."""
    cfg = cal.config.model_dump(mode="json")
    cfg["study"].pop("trials", None)
    return {"kind": cal.kind, "target": cal.target, "config": cfg}


def open_folder(cal: Calibration, out: Path, resume: bool) -> bool:
    """Create the study folder, or check the one ``--resume`` continues; True if resumed."""
    for tmp in out.glob(".*.tmp") if out.is_dir() and read_marker(out) is not None else ():
        tmp.unlink(missing_ok=True)  # a write a killed study left half done (hyosan's own folder)
    kind = check_out_dir(out, "--out")
    marker = read_marker(out) if kind == "hyosan" else None
    is_study = marker is not None and marker.get("format") == FORMAT
    if resume:
        if not is_study:
            raise HyosanError("holds no calibration study to resume", source=str(out), field="--resume")
        try:
            stored = json.loads((out / "study.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise HyosanError(f"unreadable study.json ({exc})", source=str(out)) from None
        new = json.loads(json.dumps(identity(cal)))
        if stored.get("identity") != new:
            key = next((k for k in new if stored.get("identity", {}).get(k) != new[k]), "config")
            raise HyosanError(
                f"this folder holds a different study ({key} changed): "
                "give the same config, or another --out",
                source=str(out),
                field="--resume",
            )
        return True
    if kind == "hyosan":
        what = "a calibration study: --resume continues it" if is_study else "other hyosan output"
        raise HyosanError(f"holds {what}; give a new or empty folder", source=str(out), field="--out")
    out.mkdir(parents=True, exist_ok=True)
    marker = {"format": FORMAT, "hyosan": __version__, "files": list(LIVE_FILES), "sha256": {}}
    write_text(out / MARKER, json.dumps(marker, indent=1) + "\n")
    write_text(out / "config.toml", cal.text)
    write_text(
        out / "study.json", json.dumps({"identity": identity(cal), "source": cal.source}, indent=1) + "\n"
    )
    return False


# -- running trials ------------------------------------------------------------------------------
def run_seeds(
    executor: Executor, params: dict[str, Any], seeds: list[int], tag: str, first: int = 0
) -> list[dict[str, Any]]:
    """The runs of ``params`` on ``seeds`` through ``executor``, their rows in seed order."""
    for r, seed in enumerate(seeds, start=first):
        executor.submit(
            RunTask(run_id=f"{tag}-{r}", set_id=0, replicate=r, seed=int(seed), params=dict(params))
        )
    outcomes = []
    while executor.pending:
        outcomes.append(executor.next_done())
    outcomes.sort(key=lambda o: o.task.replicate)
    for o in outcomes:
        if o.status != "ok":
            raise HyosanError(
                f"a run failed (seed {o.task.seed}, values {canonical(params)}): {o.error}", source=tag
            )
    return [o.record for o in outcomes]


def _values(trial_params: dict[str, Any], cal: Calibration) -> dict[str, Any]:
    return {
        p.key: (int(trial_params[p.key]) if p.integer else float(trial_params[p.key])) for p in cal.parameters
    }


def _done_states():
    # Imported here: Optuna loads with the calibrate command only.
    from optuna.trial import TrialState

    return (TrialState.COMPLETE, TrialState.PRUNED)


def calibrate(
    config: str | Path | Calibration,
    out: str | Path,
    *,
    resume: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    trials: int | None = None,
    progress: Callable[[Progress], None] | None = None,
    report: bool = True,
) -> CalibrationResult:
    """Fit the config's parameters to its targets; write the study folder ``out``.

    ``workers`` local processes (None: as many as a trial has seeds, at most the cores; 0: this
    process) or a Dask ``scheduler`` ("local" or an address) run each trial's seeds; the study
    is the same whichever runs them. ``resume`` continues the study in ``out``; ``trials``
    overrides the config's number of trials (a resumed study may be given more).
    """
    # Imported here: Optuna (and SQLAlchemy) load with the calibrate command only.
    import optuna
    from optuna.trial import TrialState

    cal = config if isinstance(config, Calibration) else load_config(config)
    check_executor_flags(workers, scheduler)
    if trials is not None and not 1 <= trials <= 100_000:
        raise HyosanError(f"must be from 1 to 100000, got {trials}", source="--trials")
    n_trials = trials if trials is not None else cal.study.trials
    seeds, held = study_seeds(cal), heldout_seeds(cal)
    observed = observed_data(cal)
    runner = check_keys(cal, observed)
    out = Path(out).absolute()
    resumed = open_folder(cal, out, resume)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    store = storage(out)
    study = optuna.create_study(
        study_name=STUDY_NAME,
        storage=store,
        direction="minimize",
        pruner=make_pruner(cal),
        load_if_exists=True,
    )
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)):
        store.set_trial_state_values(t._trial_id, TrialState.FAIL)  # killed mid-trial: done again
    if workers is None and scheduler is None:
        deterministic = cal.kind == "model" and cal.method() == "ode"
        workers = 0 if deterministic else max(1, min(default_workers(), len(seeds)))
    dists = distributions(cal)
    st = cal.study
    prune = st.pruner != "none"
    started = time.perf_counter()
    timed = 0
    # What the progress shows, read from the study once and then kept up to date here: each pass
    # of the loop finishes one trial or raises (reading every trial back costs the storage ~15 ms).
    index = len(study.get_trials(deepcopy=False, states=_done_states()))
    n_pruned = len(study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)))
    best_so_far = min(
        (t.value for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))), default=None
    )
    with make_executor(runner, workers, scheduler) as executor:
        while index < n_trials:
            study.sampler = make_sampler(cal, index)
            trial = study.ask(dists)
            values = _values(trial.params, cal)
            tag = f"trial-{trial.number}"
            try:
                pruned = False
                first = seeds[: st.prune_after] if prune else seeds
                records = run_seeds(executor, values, first, tag)
                if prune:
                    trial.report(total(judge(cal, observed, records)), step=len(records))
                    pruned = trial.should_prune()
                if not pruned and len(records) < len(seeds):
                    records += run_seeds(executor, values, seeds[len(records) :], tag, first=len(records))
                if pruned:
                    study.tell(trial, state=TrialState.PRUNED)
                    loss = None
                else:
                    judged = judge(cal, observed, records)
                    loss = total(judged)
                    trial.set_user_attr("targets", [_brief(j) for j in judged])
                    study.tell(trial, loss)
            except BaseException:
                with contextlib.suppress(Exception):
                    study.tell(trial, state=TrialState.FAIL)
                raise
            timed += 1
            index += 1
            if loss is None:
                n_pruned += 1
            elif best_so_far is None or loss < best_so_far:
                best_so_far = loss
            if progress is not None:
                done = index
                per = (time.perf_counter() - started) / timed
                progress(
                    Progress(
                        done=done,
                        total=n_trials,
                        best=best_so_far,
                        elapsed_s=time.perf_counter() - started,
                        left_s=per * (n_trials - done),
                        pruned=n_pruned,
                        last=loss,
                    )
                )
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if not complete:
            raise HyosanError(
                "every trial was pruned: no best values (prune later or run more trials)", source=str(out)
            )
        best = study.best_trial
        values = _values(best.params, cal)
        in_records = run_seeds(executor, values, seeds, "best")
        out_records = run_seeds(executor, values, held, "heldout") if held else []
    in_judged = judge(cal, observed, in_records)
    out_judged = judge(cal, observed, out_records) if out_records else None
    # Imported here: the outputs (tables, TOML, the report) are written once, at the end.
    from hyosan.calibrate.outputs import write_outputs

    summary = {
        "format": FORMAT,
        "hyosan": __version__,
        "config": cal.source,
        "fit": {
            "kind": cal.kind,
            "target": cal.target,
            "method": cal.fit.method,
            "t_end": runner.t_end,
            "set": cal.fit.set,
        },
        "parameters": [p.model_dump() for p in cal.parameters],
        "study": {
            "trials": n_trials,
            "complete": len(complete),
            "pruned": len(study.get_trials(deepcopy=False, states=(TrialState.PRUNED,))),
            "failed": len(study.get_trials(deepcopy=False, states=(TrialState.FAIL,))),
            "seeds": seeds,
            "heldout_seeds": held,
            "root_seed": st.seed,
            "sampler": st.sampler,
            "pruner": st.pruner,
            "prune_after": st.prune_after if prune else None,
            "storage": DB,
            "resumed": resumed,
        },
        "best": {
            "trial": best.number,
            "values": values,
            "loss": float(best.value),
            "loss_rerun": total(in_judged),
        },
        "targets": targets_table(in_judged, out_judged),
    }
    summary["flagged"] = [t["name"] for t in summary["targets"] if t["flagged"]]
    write_outputs(cal, out, summary, in_records, out_records, observed, runner, report=report)
    return CalibrationResult(
        folder=out,
        best_params=values,
        best_loss=float(best.value),
        targets=summary["targets"],
        summary=summary,
    )


def _brief(j: Judged) -> dict[str, Any]:
    return {
        "name": j.name,
        "loss": j.loss,
        "value": j.value if math.isfinite(j.value) else None,
        "met": j.met,
    }


def targets_table(inside: list[Judged], outside: list[Judged] | None) -> list[dict[str, Any]]:
    """Each target in-sample beside held-out; ``flagged`` when met in-sample, missed held-out."""
    rows = []
    for i, j in enumerate(inside):
        row = {
            "name": j.name,
            "kind": j.kind,
            "weight": j.weight,
            "goal": j.goal,
            "in_sample": j.as_dict(),
            "held_out": outside[i].as_dict() if outside is not None else None,
        }
        row["flagged"] = bool(j.met and outside is not None and not outside[i].met)
        rows.append(row)
    return rows


__all__ = ["CalibrationResult", "Progress", "add_to_marker", "calibrate"]
