"""``hyosan calibrate``: thin, parse the flags, call :func:`hyosan.calibrate.calibrate`, show
progress on stderr and the result as tables (or one JSON object)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


def calibrate(
    config: Annotated[Path, typer.Argument(help="The calibration config (TOML; docs/calibration.md).")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="The study folder (new or empty; default: CONFIG's name + '-calibration' here). It holds "
            "study.db (Optuna's SQLite storage), calibration.json, calibrated.toml, report.html.",
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Continue the study in --out (after an interruption, or with more --trials)."
        ),
    ] = False,
    trials: Annotated[
        int | None,
        typer.Option("--trials", "-t", help="Trials to run in all (default: the config's study.trials)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            help="Local processes running a trial's seeds (default: one per seed, at most the cores; 0: this "
            "process). The study does not depend on it.",
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Run the seeds on Dask: 'local' or tcp://HOST:PORT (same study)."),
    ] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Do not write report.html.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress line.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print calibration.json's content.")] = False,
) -> None:
    """Fit a compartment model, a school scenario or a town to data or targets (Optuna).

    The config names what to fit (\\[fit]: a model, scenario or town, and fixed values), the
    parameters (\\[\\[parameter]]: key, low, high, log, integer), the targets (\\[\\[target]]:
    observed counts in a CSV judged by a Poisson, negative binomial or normal likelihood, or a
    statistic over runs with a value or a range; each with a weight) and the study (\\[study]:
    trials, seeds per trial, root seed, sampler tpe, cmaes or random, pruner, held-out seeds).

    Trials run one after the other, a trial's seeds in parallel; the study is stored in
    OUT/study.db after every trial, so an interrupted study continues with --resume. At the end
    the best values run again on fresh held-out seeds and every target is shown in-sample beside
    held-out; one met in-sample and missed held-out is flagged. `hyosan report OUT` rebuilds
    report.html.
    """
    # Imported here: Optuna and the study load with this command only (`hyosan --help` stays quick).
    from hyosan.calibrate import calibrate as run_study
    from hyosan.calibrate import load_config

    cal = load_config(config)
    folder = out if out is not None else Path(f"{config.stem}-calibration")
    if quiet or as_json:
        progress = None
        status = None
    else:
        status = err_console.status(f"calibrating {config.name}: starting", spinner="dots")
        status.start()

        def progress(p) -> None:
            best = "-" if p.best is None else f"{p.best:.6g}"
            last = "pruned" if p.last is None else f"{p.last:.6g}"
            pruned = f" · {p.pruned} pruned" if p.pruned else ""
            status.update(
                f"trial {p.done}/{p.total} · best loss {best} · last {last}{pruned} · "
                f"{_duration(p.left_s)} left"
            )

    try:
        result = run_study(
            cal,
            folder,
            resume=resume,
            workers=workers,
            scheduler=scheduler,
            trials=trials,
            progress=progress,
            report=not no_report,
        )
    except KeyboardInterrupt:
        if status is not None:
            status.stop()
        err_console.print(f"interrupted: the study is kept in {folder}; --resume continues it")
        raise typer.Exit(130) from None
    finally:
        if status is not None:
            status.stop()
    if as_json:
        print(json.dumps(result.summary, indent=1))
        return
    s = result.summary
    table = Table(title=f"best values (trial {s['best']['trial']}, loss {s['best']['loss']:.6g})")
    table.add_column("parameter")
    table.add_column("value", justify="right")
    for k, v in result.best_params.items():
        table.add_row(k, f"{v:.6g}" if isinstance(v, float) else str(v))
    console.print(table)
    held = bool(s["study"]["heldout_seeds"])
    t2 = Table(title="targets: in-sample" + (" and held-out" if held else ""))
    for col in ("target", "goal", "in-sample", "met"):
        t2.add_column(col)
    if held:
        t2.add_column("held-out")
        t2.add_column("met")
    for t in result.targets:
        ins, hout = t["in_sample"], t["held_out"]
        row = [t["name"], t["goal"], _value(t, ins), "yes" if ins["met"] else "no"]
        if held:
            flag = " [red](flagged)[/red]" if t["flagged"] else ""
            row += [_value(t, hout), ("yes" if hout["met"] else "no") + flag]
        t2.add_row(*row)
    console.print(t2)
    if result.flagged:
        names = ", ".join(result.flagged)
        err_console.print(f"flagged: met on the study's seeds, missed on fresh ones: {names}", markup=False)
    console.print(f"written: {result.folder} (calibration.json, {s['calibrated']}, report.html, study.db)")


def _value(target: dict, judged: dict) -> str:
    v = judged["value"]
    if v is None:
        return "-"
    if target["kind"] == "data":
        return f"{v:.0%} of points in the 90 % interval (loss {judged['loss']:.4g})"
    return f"{v:.4g}"
