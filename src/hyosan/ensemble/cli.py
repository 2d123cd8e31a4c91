"""The ``hyosan sweep`` and ``hyosan sensitivity`` commands, and ``hyosan model``'s ensemble path.

Thin: parse the flags, call :mod:`hyosan.ensemble`, show a rich progress bar on stderr (runs
done, failed, time left; ``--quiet`` turns it off) and print a table. ``hyosan.cli`` registers
the commands. Ctrl-C stops the workers, keeps every finished run and exits with status 130;
running the same command again finishes the sweep.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from hyosan.errors import HyosanError
from hyosan.scenario.load import parse_assignments

console = Console()
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

# -- shared options -------------------------------------------------------------------------------
Runs = Annotated[int, typer.Option("--runs", "-n", help="Replicates of every parameter set.")]
Vary = Annotated[
    list[str] | None,
    typer.Option(
        "--vary", "-v", help="Vary a value: KEY=LO:HI:STEPS or KEY=V1,V2,... (repeatable; cross product)."
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Fix a value for every run: KEY=VALUE (repeatable)."),
]
Seed = Annotated[int, typer.Option("--seed", help="Root seed: each run's seed derives from it and the run.")]
Workers = Annotated[
    int | None,
    typer.Option("--workers", "-w", help="Local worker processes (default: all cores; 0 = in this process)."),
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler", help="Dask: 'local' for a local cluster of --workers processes, or tcp://HOST:PORT."
    ),
]
Points = Annotated[int, typer.Option("--points", help="Points of the time grid of the bands.")]
Keep = Annotated[
    int, typer.Option("--keep", help="Keep full run folders of the first K replicates of each set.")
]
Retry = Annotated[
    bool, typer.Option("--retry-failed", help="Run failed runs again (finished ones are skipped).")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@contextlib.contextmanager
def progress_bar(title: str, quiet: bool, target: str | None = None) -> Iterator[Callable | None]:
    """A rich progress bar on stderr fed by the sweep's tally (None when quiet), 80 columns wide at
    most. Before the first run it says how many runs on how many workers and, when an earlier sweep
    of ``target`` was timed, about how long; otherwise the estimate follows the first run."""
    if quiet:
        yield None
        return
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    import time

    from hyosan.progress import (
        LONG_S,
        duration_text,
        estimate_s,
        estimate_text,
        new_progress,
        remembered_run_s,
    )

    with new_progress(err_console) as bar:
        # Shown at once: starting worker processes (and their numba kernels) takes seconds.
        task = bar.add_task("starting the workers", total=None, failed=0)
        started = None
        per_run = remembered_run_s(target) if target else None

        def update(tally) -> None:
            nonlocal started
            todo = tally.total - tally.skipped
            if started is None:
                started = time.monotonic()
                bar.update(task, description=title, total=tally.total, completed=tally.skipped)
                kept = f" ({tally.skipped} already in the store)" if tally.skipped else ""
                if per_run is not None:
                    line = f"{estimate_text(todo, per_run, tally.workers)}{kept}; {tally.executor}"
                    long = estimate_s(todo, per_run, tally.workers) > LONG_S
                else:
                    line = f"{todo} runs on {tally.executor}{kept}; an estimate follows the first run"
                    long = todo > tally.workers
                if todo:
                    bar.console.print(line + ("; Ctrl+C stops, the same command resumes" if long else ""))
            elif tally.done == 1 and per_run is None and todo > 1:
                took = time.monotonic() - started
                left = estimate_s(todo - 1, took, tally.workers)
                bar.console.print(
                    f"the first run took {duration_text(took)}: about {duration_text(left)} more "
                    f"for the other {todo - 1}"
                )
            bar.update(task, completed=tally.finished, failed=tally.failed)

        yield update


def _interrupted(out: Path) -> typer.Exit:
    err_console.print(f"interrupted: finished runs are kept in {out}; run the same command again to finish")
    return typer.Exit(130)


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


#: Metrics shown in the summary table (medians over a set's runs), by kind of sweep.
SHOWN = {
    "scenario": (
        "survivors_adults",
        "survivors_students",
        "final_zombie",
        "final_halfbie",
        "half_infected_s",
    ),
    "town": ("final_S", "final_Z", "struck", "t_half_S", "districts_fell"),
}


#: Column headers in words, so a narrow terminal wraps them between words, never inside one.
HEADERS = {
    "survivors_adults": "adults survived",
    "survivors_students": "students survived",
    "final_zombie": "zombies at end",
    "final_halfbie": "halfbies at end",
    "half_infected_s": "half infected (s)",
    "first_turn_s": "first turn (s)",
}


def header(column: str) -> str:
    """A table header that never breaks inside a word: a word a line (``zombies.`` / ``bite`` /
    ``prob``), a metric in words (``students`` / ``survived``)."""
    if column in HEADERS:
        text = HEADERS[column]
    else:
        section, dot, key = column.rpartition(".")
        text = f"{section}. {key.replace('_', ' ')}" if dot else key.replace("_", " ")
    return "\n".join(text.split())  # a word a line: as narrow as its longest word


def print_sweep(result, as_json: bool = False) -> None:
    """One row per parameter set: runs ok / failed and the median of a few metrics."""
    # Imported here: pandas loads when a table is printed: --help stays quick.
    import pandas as pd

    runs, spec = result.runs, result.spec
    params = spec.param_names
    if spec.kind == "model":
        shown = [c for c in runs.columns if c.startswith("final_")]
    else:
        shown = [c for c in SHOWN.get(spec.kind, ()) if c in runs.columns]
        if not shown:
            shown = [
                c
                for c in runs.columns
                if c not in (*params, "run_id", "set_id", "replicate", "seed", "status", "error", "elapsed_s")
            ][:6]
    ok = runs[runs["status"] == "ok"]
    medians = ok.groupby("set_id")[shown].median(numeric_only=False) if len(ok) and shown else None
    rows = []
    for set_id, values in enumerate(spec.sets):
        mine = runs[runs["set_id"] == set_id]
        row = {
            "set_id": set_id,
            **values,
            "ok": int((mine["status"] == "ok").sum()),
            "failed": int((mine["status"] != "ok").sum()),
        }
        for c in shown:
            v = medians.loc[set_id, c] if medians is not None and set_id in medians.index else None
            row[c] = None if v is None or pd.isna(v) else float(v)
        rows.append(row)
    if as_json:
        t = result.tally
        print(
            json.dumps(
                {
                    "out": str(result.folder),
                    **result.status(),
                    "skipped": t.skipped,
                    "ran": t.done,
                    "sets": rows,
                },
                indent=2,
                default=str,
            )
        )
        return
    table = Table(
        title=f"{spec.target}: {spec.runs} runs per set, median of each metric",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 0, 0, 1),
        pad_edge=False,  # room for every column at 80 wide
    )
    for col in ("set", *params, "ok", "failed", *shown):
        head = header(col)
        table.add_column(
            head,
            justify="left" if col == "set" else "right",
            overflow="fold",
            min_width=max(len(w) for w in head.split()),
        )  # wrap between words only
    limit = 40
    for row in rows[:limit]:
        failed = f"[red]{row['failed']}[/red]" if row["failed"] else "0"
        table.add_row(
            str(row["set_id"]),
            *(_fmt(row[p]) for p in params),
            str(row["ok"]),
            failed,
            *(_fmt(row[c]) for c in shown),
        )
    console.print(table)
    if len(rows) > limit:
        console.print(f"  ... and {len(rows) - limit} more sets (all in runs.parquet)")
    s = result.status()
    t = result.tally
    console.print(
        f"  {s['finished']} of {s['total']} runs finished ({t.skipped} from before, {t.done} now), "
        f"{s['failed']} failed"
    )
    if s["failed"]:
        first = result.failed.iloc[0]
        console.print(f"  first failure (run {first['run_id']}): {first['error']}", markup=False)
    console.print(f"  written: {result.folder}/runs.parquet, bands.parquet")


def _run_stored(
    spec, runner, folder: Path, title: str, workers, scheduler, retry_failed: bool, quiet: bool, as_json: bool
) -> None:
    """Run a sweep into its store with a progress bar, then write its report and print its table."""
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan.ensemble.sweep import run_sweep

    try:
        with progress_bar(title, quiet or as_json, target=_timing_key(spec.kind, spec.target)) as bar:
            result = run_sweep(
                spec,
                runner,
                folder,
                workers=workers,
                scheduler=scheduler,
                retry_failed=retry_failed,
                progress=bar,
            )
    except KeyboardInterrupt:
        raise _interrupted(folder) from None
    _remember(spec.kind, spec.target, result.runs)
    _report(folder, as_json)
    print_sweep(result, as_json)


def _timing_key(kind: str, target: str) -> str:
    return f"{kind}:{target}"


def _remember(kind: str, target: str, runs) -> None:
    """Keep the median time of this sweep's runs: the estimate before the next sweep of ``target``."""
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    from hyosan.progress import remember_run_s

    if "elapsed_s" in runs and "status" in runs:
        ok = runs.loc[runs["status"] == "ok", "elapsed_s"].dropna()
        if len(ok):
            remember_run_s(_timing_key(kind, target), float(ok.median()))


def _report(folder: Path, as_json: bool) -> None:
    """The store's HTML report (fan charts, metrics against parameters, sensitivity bars)."""
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan.report.ensemble import write_ensemble_report

    if as_json:
        write_ensemble_report(folder)
        return
    with err_console.status("writing the report (fan charts, metrics, sensitivity)", spinner="dots"):
        path = write_ensemble_report(folder)
    console.print(f"  report: {path}")


def _default_out(name: str, suffix: str) -> Path:
    return Path("out") / f"{Path(name).stem.replace('_', '-')}-{suffix}"


# -- commands -------------------------------------------------------------------------------------
def sweep(
    scenario: Annotated[
        str | None, typer.Argument(help="Scenario file or built-in name (default: hyosan-high).")
    ] = None,
    runs: Runs = 10,
    vary: Vary = None,
    set_: SetOpt = None,
    seed: Seed = 0,
    workers: Workers = None,
    scheduler: Scheduler = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Store folder (default: out/<scenario>-sweep/).")
    ] = None,
    points: Points = 101,
    keep: Keep = 0,
    retry_failed: Retry = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
) -> None:
    """Run a scenario many times over a grid of values: a resumable store of runs and bands.

    A town (the lattice) is named town:NAME (town:hyosan-city, or town:my-town.toml)."""
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan.ensemble.spec import parse_vary
    from hyosan.ensemble.sweep import scenario_spec, town_spec

    make = scenario_spec
    if scenario is not None and scenario.startswith("town:"):  # a town (the lattice)
        make, scenario = town_spec, scenario.removeprefix("town:")
    spec, runner = make(
        scenario,
        runs=runs,
        vary=parse_vary(vary),
        fixed=parse_assignments(set_),
        seed=seed,
        points=points,
        keep=keep,
    )
    folder = out if out is not None else _default_out(scenario or "hyosan-high", "sweep")
    _run_stored(
        spec,
        runner,
        folder,
        f"sweep {Path(spec.target).stem}",
        workers,
        scheduler,
        retry_failed,
        quiet,
        as_json,
    )


def branch(
    source: Annotated[
        Path,
        typer.Argument(
            help="A checkpoint (.ckpt), or a run folder holding one (hyosan run --checkpoint-at)."
        ),
    ],
    runs: Runs = 20,
    vary: Vary = None,
    set_: SetOpt = None,
    seed: Seed = 0,
    workers: Workers = None,
    scheduler: Scheduler = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Store folder (default: out/<checkpoint>-branch/).")
    ] = None,
    points: Points = 101,
    keep: Keep = 0,
    retry_failed: Retry = False,
    quiet: Quiet = False,
    as_json: AsJson = False,
) -> None:
    """Continue one history into many futures: each run restores the checkpoint, takes its own
    seed from the branch point on, and applies --set/--vary there (Hyosan High's cordon at 10:00
    instead of 13:00: --set events.cordon.at=10:00). The store and its report are a sweep's, with
    the branch point marked; the shared past is in every run's series."""
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan.ensemble.spec import parse_vary
    from hyosan.ensemble.sweep import branch_spec

    checkpoint = find_checkpoint(source)
    spec, runner = branch_spec(
        checkpoint,
        runs=runs,
        vary=parse_vary(vary),
        fixed=parse_assignments(set_),
        seed=seed,
        points=points,
        keep=keep,
    )
    folder = out if out is not None else _default_out(checkpoint.stem, "branch")
    _run_stored(
        spec, runner, folder, f"branch {checkpoint.name}", workers, scheduler, retry_failed, quiet, as_json
    )


def find_checkpoint(source: Path) -> Path:
    """A checkpoint file, or the one checkpoint in a run folder."""
    if source.is_dir():
        found = sorted(source.glob("*.ckpt"))
        if len(found) != 1:
            why = "no checkpoint in it" if not found else f"{len(found)} checkpoints in it; give one"
            raise HyosanError(f"{why} (hyosan run --checkpoint-at HH:MM writes one)", source=str(source))
        return found[0]
    if source.exists() and not source.is_file():
        raise HyosanError("not a regular file (a checkpoint is a file)", source=str(source))
    if not source.is_file():
        raise HyosanError("no such checkpoint or run folder", source=str(source))
    return source


def model_ensemble(
    name: str,
    *,
    method: str,
    params: dict[str, str],
    t_end: float | None,
    runs: int,
    seed: int,
    points: int,
    vary: list[str] | None,
    workers: int | None,
    scheduler: str | None,
    out: Path | None,
    keep: int = 0,
    retry_failed: bool = False,
    quiet: bool = False,
    as_json: bool = False,
) -> None:
    """``hyosan model NAME --vary/--out/--workers/--scheduler``: the model as a stored sweep."""
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan.ensemble.spec import parse_vary
    from hyosan.ensemble.sweep import model_spec

    fixed = {}
    for key, text in params.items():
        try:
            fixed[key] = float(text)
        except ValueError:
            raise HyosanError(f"expected a number, got {text!r}", source="--set", field=key) from None
    spec, runner = model_spec(
        name,
        method=method,
        runs=runs,
        vary=parse_vary(vary),
        fixed=fixed,
        t_end=t_end,
        seed=seed,
        points=points,
        keep=keep,
    )
    folder = out if out is not None else _default_out(spec.target, "sweep")
    _run_stored(
        spec, runner, folder, f"{spec.target} ({method})", workers, scheduler, retry_failed, quiet, as_json
    )


def sensitivity(
    target: Annotated[
        str,
        typer.Argument(
            help="Scenario file or built-in name, model:NAME for a compartment model, town:NAME for a town."
        ),
    ],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="A parameter's range: KEY=LO:HI (repeatable).")
    ] = None,
    output: Annotated[str, typer.Option("--output", help="The metric analysed (a runs-table column).")] = "",
    method: Annotated[str, typer.Option("--method", "-m", help="sobol (S1, ST) or morris (mu*).")] = "sobol",
    samples: Annotated[
        int | None,
        typer.Option("--samples", help="Sobol: base sample, a power of two (64); Morris: trajectories (10)."),
    ] = None,
    runs: Annotated[
        int, typer.Option("--runs", "-n", help="Runs per sample point (the output is their mean).")
    ] = 1,
    seed: Seed = 0,
    set_: SetOpt = None,
    second_order: Annotated[bool, typer.Option("--second-order", help="Sobol: also S2 (pairs).")] = False,
    levels: Annotated[int, typer.Option("--levels", help="Morris: grid levels (even).")] = 4,
    solver: Annotated[str, typer.Option("--solver", help="model: ode | ssa | tau.")] = "ode",
    t_end: Annotated[float | None, typer.Option("--t-end", help="model: simulated time.")] = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder (default: out/<target>-sensitivity/).")
    ] = None,
    quiet: Quiet = False,
    as_json: AsJson = False,
) -> None:
    """Global sensitivity (SALib): Sobol first and total order indices, or Morris mu*."""
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan.ensemble.sensitivity import parse_params, run_sensitivity

    if not output:
        raise HyosanError("name the metric to analyse, e.g. --output final_zombie", source="--output")
    bounds = parse_params(param)
    kind, name = (
        ("model", target.removeprefix("model:")) if target.startswith("model:") else ("scenario", target)
    )
    if target.startswith("town:"):
        kind, name = "town", target.removeprefix("town:")
    fixed: dict[str, Any] = parse_assignments(set_)
    if kind == "model":
        try:
            fixed = {k: float(v) for k, v in fixed.items()}
        except ValueError:
            raise HyosanError("model parameters are numbers", source="--set") from None
    if samples is None:
        samples = 64 if method == "sobol" else 10
    folder = out if out is not None else _default_out(name, "sensitivity")
    try:
        key = _timing_key(kind, name)
        with progress_bar(f"{method} {Path(name).stem}", quiet or as_json, target=key) as bar:
            result, sweep_result = run_sensitivity(
                kind,
                name,
                bounds,
                output,
                folder,
                method=method,
                samples=samples,
                runs=runs,
                seed=seed,
                second_order=second_order,
                levels=levels,
                fixed=fixed,
                solver=solver,
                t_end=t_end,
                workers=workers,
                scheduler=scheduler,
                progress=bar,
            )
    except KeyboardInterrupt:
        raise _interrupted(folder) from None
    _remember(kind, name, sweep_result.runs)
    _report(folder, as_json)
    if as_json:
        table = result.table.drop(columns="output").set_index("param")
        print(
            json.dumps(
                {
                    "out": str(folder),
                    "method": method,
                    "output": output,
                    "points": len(result.Y),
                    "indices": table.to_dict(orient="index"),
                },
                indent=2,
            )
        )
        return
    t = Table(
        title=f"{method.capitalize()} sensitivity of {output} ({len(result.Y)} points, "
        f"{runs} run{'s' if runs > 1 else ''} each)",
        title_justify="left",
    )
    cols = [c for c in result.table.columns if c != "output"]
    for c in cols:
        t.add_column(header(c), justify="left" if c == "param" else "right")
    for row in result.table.itertuples(index=False):
        d = row._asdict()
        t.add_row(*(str(d[c]) if c == "param" else f"{d[c]:.3f}" for c in cols))
    console.print(t)
    failed = int((sweep_result.runs["status"] != "ok").sum())
    if failed:
        console.print(f"  {failed} runs failed (the mean of the others was used); see runs.parquet")
    console.print("  written: " + ", ".join(str(p) for p in result.files))
