"""The ``hyosan`` command: a thin shell over the Python API (parse, call, print).

Mistakes a user can make raise :class:`hyosan.HyosanError`; :func:`main` prints them on one
line (``error: SOURCE: FIELD: message``) and exits with status 2, never with a traceback.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
import time
import warnings
import webbrowser
from pathlib import Path
from typing import Annotated

import typer
import typer.core
from rich.console import Console
from rich.table import Table

from hyosan import __version__
from hyosan.errors import HyosanError
from hyosan.io import add_to_marker, atomic_path, check_out_dir, claim_file, recover
from hyosan.limits import check_seed
from hyosan.scenario.load import parse_assignments
from hyosan.units import ALEMI_MODELS, CONTACT_MINUTES, CONTACT_SEEDS

app = typer.Typer(
    name="hyosan",
    help="Simulate zombie outbreaks: a whole school of agents, or the classic compartment models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"hyosan {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show library warnings (hidden by default).")
    ] = False,
) -> None:
    """hyosan: zombie outbreaks as agents in a school, or as ODEs and exact stochastic models."""
    if verbose:
        warnings.resetwarnings()
        warnings.simplefilter("default")


#: Figure formats of --plot (matplotlib's common ones).
FIGURE_SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg", ".eps", ".ps", ".tif", ".tiff", ".webp")


def _catalogue_table() -> Table:
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan import models

    table = Table(title="Compartment models (hyosan model NAME)", title_justify="left")
    for column in ("model", "title", "species", "parameters (defaults)"):
        table.add_column(column)
    for name in models.names():
        m = models.get(name)
        params = ", ".join(f"{p.name}={p.default:g}" for p in m.params)
        table.add_row(name, m.title, "".join(m.species_names), params)
    return table


@app.command()
def model(
    name: Annotated[
        str | None,
        typer.Argument(help="Model name (see --list), or a calibrated model's TOML (hyosan calibrate)."),
    ] = None,
    method: Annotated[
        str, typer.Option("--method", "-m", help="ode | ssa (exact Gillespie) | tau (tau-leaping).")
    ] = "ode",
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", "-s", help="Override a parameter: KEY=VALUE (repeatable)."),
    ] = None,
    t_end: Annotated[
        float | None, typer.Option("--t-end", help="Simulated time (model's time unit).")
    ] = None,
    runs: Annotated[int, typer.Option("--runs", "-n", help="Stochastic runs (ensemble).")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Root seed of the ensemble.")] = 0,
    points: Annotated[int, typer.Option("--points", help="Points of the output time grid.")] = 201,
    stop: Annotated[
        list[str] | None,
        typer.Option("--stop", help="ODE only: stop once e.g. 'Z<1' turns true (not at t = 0). Repeatable."),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write a figure of the trajectories (PNG, SVG, PDF).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    list_: Annotated[bool, typer.Option("--list", help="List the model catalogue.")] = False,
    vary: Annotated[
        list[str] | None,
        typer.Option("--vary", "-v", help="Sweep a parameter: KEY=LO:HI:STEPS or KEY=V1,V2,..."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", help="Ensemble: local processes (default: all cores).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Ensemble on Dask: 'local' or tcp://HOST:PORT.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Ensemble: store folder (runs.parquet, bands.parquet).")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar (ensemble), no measuring line (--from).")
    ] = False,
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="alemi, alemi-latent: derive the parameters from a scenario (built-in name, TOML file "
            "or run folder) and the contact rate measured on its agents; --set still overrides them.",
        ),
    ] = None,
    seeds: Annotated[
        int | None,
        typer.Option(
            "--seeds", help=f"With --from: school runs measured, from the scenario's seed ({CONTACT_SEEDS})."
        ),
    ] = None,
    minutes: Annotated[
        float | None,
        typer.Option(
            "--minutes", help=f"With --from: minutes measured after the first zombie ({CONTACT_MINUTES:g})."
        ),
    ] = None,
) -> None:
    """Solve a classic compartment model (Munz 2009, Alemi 2015) as an ODE or stochastically.

    With --vary, --out, --workers or --scheduler the runs go through the ensemble machinery
    (one run per replicate and parameter set, resumable) and write the same store as
    `hyosan sweep`.

    With --from SCENARIO (alemi and alemi-latent) the parameters come from a school scenario:
    the bite rate, the humans' kill rates weighted by their numbers, N and Z0 from its
    population, the latent rate from its incubation, and the contact rate measured on short
    runs of it (docs/units.md). The derivation is printed as a table; --t-end defaults to the
    scenario's duration.
    """
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan import models

    if list_:
        if as_json:
            print(json.dumps({n: models.get(n).title for n in models.names()}, indent=2))
        else:
            console.print(_catalogue_table())
        return
    if name is None:
        raise HyosanError("give a model name or --list", source="model")
    if name.endswith(".toml"):  # a calibrated model (hyosan calibrate): its values under --set's
        # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
        from hyosan.calibrate.outputs import load_model_file

        spec = load_model_file(name)
        name = spec["name"]
        method = spec["method"] if method == "ode" and spec["method"] else method
        t_end = spec["t_end"] if t_end is None else t_end
        seed = spec["seed"] if seed == 0 and spec["seed"] is not None else seed
        set_ = [f"{k}={v!r}" for k, v in spec["params"].items()] + list(set_ or [])
    check_seed(seed, "--seed")
    if plot is not None:
        claim_file(plot, FIGURE_SUFFIXES, "--plot")
    overrides = parse_assignments(set_)
    derivation = None
    if from_ is not None:
        models.get(name).resolve(overrides, source="--set")  # a mistake in --set before measuring
        derivation = _derive(name, from_, seeds, minutes, quiet, to_stderr=as_json)
        t_end = derivation.t_end if t_end is None else t_end
        varied = {item.partition("=")[0].strip() for item in vary or ()}
        derived = {k: repr(v) for k, v in derivation.params.items() if k not in varied}
        overrides = {**derived, **overrides}
    elif seeds is not None or minutes is not None:
        raise HyosanError("applies only with --from", source="--seeds" if seeds is not None else "--minutes")
    if vary or out is not None or workers is not None or scheduler is not None:
        if stop or plot is not None:
            raise HyosanError(
                "does not apply to a stored ensemble (its bands are in bands.parquet)",
                source="--stop" if stop else "--plot",
            )
        # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
        from hyosan.ensemble.cli import model_ensemble

        model_ensemble(
            name,
            method=method,
            params=overrides,
            t_end=t_end,
            runs=runs,
            seed=seed,
            points=points,
            vary=vary,
            workers=workers,
            scheduler=scheduler,
            out=out,
            quiet=quiet,
            as_json=as_json,
        )
        return
    network = models.get(name)
    try:
        result = network.simulate(
            method,
            params=overrides,
            t_end=t_end,
            runs=runs,
            seed=seed,
            n_points=points,
            stop=stop or (),
            source="--set",
        )
    except HyosanError as exc:  # the API names its arguments; the user typed flags
        flag = {
            "runs": "--runs",
            "n_points": "--points",
            "t_end": "--t-end",
            "seed": "--seed",
            "method": "--method",
            "stop": "--stop",
        }.get(exc.source or "")
        if flag is None:
            raise
        raise HyosanError(exc.message, source=flag, field=exc.field) from None
    if plot is not None:
        result.plot(plot, title=f"{network.title} ({method})")
    summary = result.summary()
    if as_json:
        if derivation is not None:
            summary["from"] = derivation.as_dict()
        print(json.dumps(summary, indent=2))
        return
    _print_summary(network, summary, result, plot)


def _derive(name: str, spec: str, seeds: int | None, minutes: float | None, quiet: bool, to_stderr: bool):
    """``--from``: the model's parameters from a scenario, the derivation printed as a table
    (on stderr when stdout carries JSON)."""
    # Imported here: loaded by the command that needs it (the school engine): `hyosan --help`
    # and the plain model commands stay quick.
    from hyosan.outbreak import derive, load_source

    if name not in ALEMI_MODELS:
        raise HyosanError(f"derives {' and '.join(ALEMI_MODELS)} only, not {name!r}", source="--from")
    loaded = load_source(spec)
    out = err_console if to_stderr else console
    seeds = CONTACT_SEEDS if seeds is None else seeds
    minutes = CONTACT_MINUTES if minutes is None else minutes
    if not quiet:
        err_console.print(
            f"measuring the contact rate on {loaded.source}: {seeds} run(s), "
            f"{minutes:g} min after the first zombie"
        )
    derivation = derive(name, loaded, seeds=seeds, minutes=minutes)
    table = Table(
        title=f"{name} from {loaded.scenario.scenario.name} ({loaded.source})", title_justify="left"
    )
    for column in ("quantity", "value", "unit", "from"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for row in derivation.rows:
        table.add_row(row.name, f"{row.value:.4g}", row.unit, row.source)
    out.print(table)
    return derivation


def _print_summary(network, summary: dict, result, plot: Path | None) -> None:
    console.print(f"[bold]{network.title}[/bold] ({network.source})")
    console.print("  " + "; ".join(network.equations()))
    params = ", ".join(f"{k}={v:g}" for k, v in summary["params"].items())
    console.print(f"  parameters: {params}")
    runs = summary["runs"]
    table = Table(
        title=f"{summary['method']} at t = {summary['t_final']:g} {summary['time_unit']}"
        + (f", mean of {runs} runs" if runs > 1 else ""),
        title_justify="left",
    )
    table.add_column("species")
    table.add_column("final", justify="right")
    if runs > 1:
        table.add_column("5%", justify="right")
        table.add_column("95%", justify="right")
        stats = result.final_stats()
    for sp in network.species:
        row = [f"{sp.name} ({sp.doc})", f"{summary['final'][sp.name]:.4g}"]
        if runs > 1:
            row += [f"{stats.loc[sp.name, 'q05']:.4g}", f"{stats.loc[sp.name, 'q95']:.4g}"]
        table.add_row(*row)
    console.print(table)
    if "r0" in summary:
        console.print(f"  R0 = {summary['r0']:.4g}")
    if "zombies_extinct_fraction" in summary:
        console.print(f"  zombies died out in {summary['zombies_extinct_fraction']:.1%} of runs")
    if "stopped_by" in summary:
        console.print(
            f"  stopped when {summary['stopped_by']} at t = {summary['t_final']:g} {summary['time_unit']}"
        )
    if plot is not None:
        console.print(f"  figure written to {plot}")


@app.command()
def run(
    scenario: Annotated[
        str | None, typer.Argument(help="Scenario file or built-in name (default: hyosan-high).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Root seed (default: the scenario's run.seed, else 0).")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", "-s", help="Override a scenario value: section.key=value (repeatable)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Run folder to write (default: out/<scenario>/): new, empty, or one hyosan wrote "
            "(replaced whole).",
        ),
    ] = None,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write report.html into the run folder.")
    ] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    checkpoint_at: Annotated[
        str | None,
        typer.Option(
            "--checkpoint-at",
            help="Also save the run as it is at this clock time (HH:MM) into the run folder, "
            "to branch from (hyosan branch).",
        ),
    ] = None,
    open_: Annotated[
        bool, typer.Option("--open", help="Open report.html in a web browser when the run is done.")
    ] = False,
) -> None:
    """Run a school outbreak (Hyosan High by default) and write its run folder.

    The folder holds summary.json, the tables (counts, events, agents as Parquet and CSV), the
    frames, the resolved scenario.toml, chronicle.md and report.html; it is written whole or not
    at all. Frames are recorded every clock.frame_every (--set clock.frame_every=5s).
    """
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan.engine import Simulation
    from hyosan.report import write_report
    from hyosan.results.store import save
    from hyosan.scenario import load_scenario
    from hyosan.scenario.timefmt import format_clock

    if seed is not None:
        check_seed(seed, "--seed")
    if open_ and not report:
        raise HyosanError("opens the report: drop --no-report", source="--open")
    loaded = load_scenario(scenario, parse_assignments(set_))
    folder = out if out is not None else Path("out") / loaded.name
    # Refuse a bad --out before the run, not after it.
    recover(folder.absolute())
    check_out_dir(folder, "--out" if out is not None else None)
    from hyosan.io import lock_out_dir  # one writer a folder: held until the command ends

    lock_out_dir(folder, "--out" if out is not None else None)
    pause = None if checkpoint_at is None else checkpoint_tick(loaded.scenario, checkpoint_at)
    start = loaded.scenario.start_seconds
    saved: dict[str, bytes] = {}
    if quiet:
        result = run_to_end(Simulation(loaded, seed=seed), pause, saved)
    else:
        # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from hyosan.warmup import USUAL_COMPILE, kernels_cached

        columns = (
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[clock]}"),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
        )
        name = loaded.scenario.scenario.name
        with Progress(*columns, console=err_console, transient=True, redirect_stdout=False) as bar:
            # A first run compiles the kernels: say so, or the bar looks frozen for a minute.
            first = f"{name}: starting"
            if not kernels_cached():
                first = (
                    f"compiling the kernels (first run only, usually {USUAL_COMPILE}; "
                    "`hyosan warmup` does it ahead)"
                )
            task = bar.add_task(first, total=None, clock="", status="")
            sim = Simulation(loaded, seed=seed)
            tick_s = sim.tick_seconds

            def progress(tick: int) -> None:
                c = sim.counts[tick].sum(axis=1)
                status = f"humans {c[0] + c[1]}  zombies {c[2]}  halfbies {c[3]}"
                bar.update(
                    task,
                    description=name,
                    total=sim.n_ticks,
                    completed=tick,
                    clock=format_clock(start + tick * tick_s),
                    status=status,
                )

            result = run_to_end(sim, pause, saved, progress)
            bar.update(task, description=f"{name}: writing the run folder", total=None, status="")
    with err_console.status("writing the run folder" + (" and its report" if report else "")):
        source = "--out" if out is not None else None
        save(result, folder, report=write_report if report else None, source=source)
    for name, data in saved.items():  # the checkpoint, beside the run it belongs to
        with atomic_path(folder / name) as tmp:
            tmp.write_bytes(data)
        add_to_marker(folder, name)
    _print_run(result.summary(), folder, report)
    for name in saved:
        console.print(f"  checkpoint: {folder / name} (hyosan branch {folder / name} --runs 20 --set ...)")
    if open_:
        open_in_browser(folder / "report.html")


def open_in_browser(path: Path) -> None:
    """``--open``: show a written page in the default browser (or say where it is if none opens)."""
    if not webbrowser.open(path.absolute().as_uri()):
        err_console.print(f"no web browser to open; the report is {path}", markup=False)


def checkpoint_tick(scenario, at: str) -> int:
    """The tick of clock time ``at`` (--checkpoint-at), strictly inside the run."""
    try:
        tick = scenario.clock_tick(at)
    except (ValueError, TypeError) as exc:
        raise HyosanError(f"expected a clock time such as 09:10 ({exc})", source="--checkpoint-at") from None
    if not 0 < tick < scenario.n_ticks:
        raise HyosanError(f"{at} is not inside the run", source="--checkpoint-at")
    return tick


def run_to_end(sim, pause: int | None, saved: dict[str, bytes], progress=None):
    """Run ``sim`` to the end, saving a checkpoint's bytes into ``saved`` at tick ``pause``."""
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    import tempfile

    if pause is not None:
        sim.run_until(pause, progress)
        with tempfile.TemporaryDirectory() as tmp:
            path = sim.checkpoint(Path(tmp) / "c.ckpt")
            clock = sim.scenario.start_seconds + pause * sim.tick_seconds
            saved[f"checkpoint-{int(clock // 3600):02d}{int(clock % 3600 // 60):02d}.ckpt"] = (
                path.read_bytes()
            )
    return sim.run(progress)


@app.command()
def warmup() -> None:
    """Compile hyosan's numba kernels now (a first run otherwise spends about a minute on it).

    Runs the school engine for a few simulated minutes and each compartment solver once; the
    compiled code is kept in hyosan's kernel cache (~/.cache/hyosan, or $HYOSAN_CACHE_DIR) for
    every later run.
    """
    # hyosan's modules are imported by the command that needs them: --help stays quick.
    from hyosan.warmup import USUAL_COMPILE, kernels_cached
    from hyosan.warmup import warmup as compile_all

    was = "cached already" if kernels_cached() else f"compiling: usually {USUAL_COMPILE}"
    t0 = time.perf_counter()
    with err_console.status(f"warming up ({was})") as status:
        times = compile_all(lambda part: status.update(f"warming up: {part} ({was})"))
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in times.items())
    console.print(f"kernels ready in {time.perf_counter() - t0:.1f} s ({parts})")


@app.command()
def studio(
    scenarios: Annotated[
        list[str] | None,
        typer.Argument(help="Scenario files to offer (the built-ins and models always are)."),
    ] = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (this machine only by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8765,
    out: Annotated[Path, typer.Option("--out", "-o", help="Where saved scenarios go.")] = Path("out/studio"),
    root: Annotated[
        Path | None,
        typer.Option(
            "--root", help="The folder whose run folders and maps the page may open (default: this one)."
        ),
    ] = None,
    browser: Annotated[bool, typer.Option("--open/--no-open", help="Open the page in a web browser.")] = True,
) -> None:
    """A live local web app: pick a scenario or a model, change its values, run, pause, step and
    watch it respond; save the scenario you built, open a finished run folder.

    The address it prints holds a secret token: only a page opened from it can use the studio.

    Closing the page stops its run.

    Needs the studio extra: pip install "hyosan\\[studio]".
    """
    try:
        # The light half (Starlette, uvicorn): the engine and models load while the page opens.
        from hyosan.studio.server import new_token, serve, studio_url
    except ImportError:
        raise HyosanError('needs the studio extra: pip install "hyosan[studio]"', source="studio") from None
    for path in scenarios or []:
        if not Path(path).is_file():
            raise HyosanError("no such scenario file", source=path)
    if root is not None and not root.is_dir():
        raise HyosanError("no such folder", source="--root")
    token = new_token()
    url = studio_url(host, port, token)
    if host not in ("127.0.0.1", "localhost", "::1"):
        err_console.print(
            f"warning: listening on {host}: anyone who can reach this machine and has the address can use it"
        )
    console.print(f"hyosan studio at {url} (Ctrl-C stops it)", soft_wrap=True, markup=False)
    sys.stdout.flush()
    serve(
        list(scenarios or []),
        out,
        token=token,
        host=host,
        port=port,
        root=root,
        on_ready=(lambda: webbrowser.open(url)) if browser else None,
    )


@app.command("report")
def report_cmd(
    folder: Annotated[
        Path,
        typer.Argument(
            help="A run folder (hyosan run), a sweep store (hyosan sweep, sensitivity) or a calibration "
            "study (hyosan calibrate)."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Where to write the report (default: FOLDER/report.html)."),
    ] = None,
    video: Annotated[
        Path | None,
        typer.Option(
            "--video", help='Also render the replay as a video (.mp4; pip install "hyosan[video]").'
        ),
    ] = None,
    fps: Annotated[int, typer.Option("--fps", help="Video frames per second (one per recorded frame).")] = 24,
    video_size: Annotated[
        str, typer.Option("--video-size", help="Video width x height in pixels, e.g. 1280x720.")
    ] = "1920x1080",
) -> None:
    """Rebuild the self-contained HTML report of a run folder (optionally a video too), or of a
    sweep or sensitivity store (fan charts, metrics against the parameters, sensitivity bars)."""
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan.report import write_report
    from hyosan.results.store import load

    if fps < 1 or fps > 240:
        raise HyosanError(f"must be between 1 and 240, got {fps}", source="--fps")
    if out is not None:
        claim_file(out, (".html", ".htm"), "--out")
    if video is not None:
        claim_file(video, (".mp4",), "--video")
    recover(folder.absolute())
    if (folder / "calibration.json").is_file() and (folder / "study.db").is_file():
        # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
        from hyosan.calibrate.report import write_calibration_report

        if video is not None:
            raise HyosanError("a calibration study has no replay to render", source="--video")
        path = write_calibration_report(folder, out)
        console.print(f"written: {path} ({path.stat().st_size / 1e6:.1f} MB)")
        return
    if (folder / "sweep.json").is_file():
        # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
        from hyosan.report.ensemble import write_ensemble_report
        from hyosan.verify import check_store_tables

        if video is not None:
            raise HyosanError("a sweep store has no replay to render; give a run folder", source="--video")
        check_store_tables(folder)
        path = write_ensemble_report(folder, out)
        console.print(f"written: {path} ({path.stat().st_size / 1e6:.1f} MB)")
        return
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan.verify import is_town_folder

    if is_town_folder(folder):  # a town run folder (hyosan town): its own report
        # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
        from hyosan.lattice.folder import rebuild_town_report
        from hyosan.results.store import check_digests

        if video is not None:
            raise HyosanError("a town run has no replay to render", source="--video")
        # lazy: loaded only when this runs (a light import of the module above, or a cycle)
        from hyosan.io import read_marker

        inputs = tuple(f for f in (read_marker(folder) or {}).get("files", []) if f != "report.html")
        check_digests(folder, inputs)
        path = rebuild_town_report(folder, out)
        if out is None:
            add_to_marker(folder, "report.html")
        console.print(f"written: {path} ({path.stat().st_size / 1e6:.1f} MB)")
        return
    result = load(folder)
    with err_console.status("building the report (charts, transmission tree, replay)"):
        path = write_report(result, out if out is not None else folder / "report.html")
    if out is None:
        add_to_marker(folder, "report.html")
    console.print(
        f"written: {path} ({path.stat().st_size / 1e6:.1f} MB, "
        f"built in {result.extra['report_build_s']:.1f} s)"
    )
    if video is not None:
        # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
        from hyosan.report.video import write_video

        width, sep, height = video_size.lower().partition("x")
        if not (sep and width.isdigit() and height.isdigit()):
            raise HyosanError(f"expected WIDTHxHEIGHT (1920x1080), got {video_size!r}", source="--video-size")
        # lazy: loaded only when this runs (a light import of the module above, or a cycle)
        from hyosan.progress import frames_bar

        with frames_bar(err_console, f"video {video.name}") as bar:
            write_video(result, video, fps=fps, size=(int(width), int(height)), progress=bar)
        console.print(f"written: {video}")


def _print_run(summary: dict, folder: Path, report: bool = True) -> None:
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan.scenario.timefmt import format_clock, format_duration
    from hyosan.states import STATE_NAMES

    start = summary["start_clock_s"]
    console.print(
        f"[bold]{summary['title']}[/bold]  seed {summary['seed']}, "
        f"{format_duration(summary['duration_s'])} from {format_clock(start)}, {summary['agents']} agents"
    )
    table = Table(title="Final state by role", title_justify="left")
    table.add_column("role")
    shown = [s for s in STATE_NAMES if summary["final"][s]]
    for s in shown:
        table.add_column(s, justify="right")
    for role, states in summary["final_by_role"].items():
        table.add_row(role, *[str(states[s]) for s in shown])
    table.add_row("[bold]all[/bold]", *[f"[bold]{summary['final'][s]}[/bold]" for s in shown])
    console.print(table)

    def when(key: str) -> str:
        t = summary[key]
        return "never" if t is None else f"{format_clock(start + t)} (+{format_duration(t)})"

    console.print(f"  first turn: {when('first_turn_s')}")
    console.print(f"  half the school infected: {when('half_infected_s')}")
    for label, s in summary["survivors"].items():
        if s["total"]:
            console.print(
                f"  {label}: {s['survived']} of {s['total']} survived, never bitten ({s['fraction']:.0%})"
            )
    g = summary["groups"]
    console.print(
        f"  human group {g['human_group']} vs zombie group {g['zombie_group']}; "
        f"escaped {g['escaped']}, rescued {g['rescued']}, dead {g['dead']}"
    )
    console.print(
        f"  written: {folder}/ (summary.json, tables, chronicle.md" + (", report.html)" if report else ")")
    )


@app.command()
def scenarios() -> None:
    """List what hyosan has built in: school scenarios (hyosan run NAME), towns (hyosan town NAME)
    and compartment models (hyosan model NAME)."""
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    import tomllib
    from importlib import resources

    from hyosan.lattice.scenario import BUILTINS as TOWNS
    from hyosan.scenario import builtins, load_scenario

    table = Table(title="Built-in scenarios (hyosan run NAME)", title_justify="left")
    table.add_column("name")
    table.add_column("title")
    table.add_column("description")
    for name in builtins():
        sc = load_scenario(name).scenario
        table.add_row(name, sc.scenario.name, sc.scenario.description)
    console.print(table)
    towns = Table(title="Built-in towns (hyosan town NAME)", title_justify="left")
    for column in ("name", "title", "days", "outbreak from"):
        towns.add_column(column)
    for name, file in TOWNS.items():
        data = tomllib.loads(
            (resources.files("hyosan") / "data" / "towns" / file).read_text(encoding="utf-8")
        )
        town = data.get("town", {})
        towns.add_row(
            name,
            str(town.get("name", name)),
            f"{town.get('days', '')}",
            str(data.get("outbreak", {}).get("from", "")),
        )
    console.print(towns)
    console.print(_catalogue_table())


@app.command()
def check(
    scenario: Annotated[str, typer.Argument(help="Scenario file (or built-in name) to validate.")],
    set_: Annotated[
        list[str] | None, typer.Option("--set", "-s", help="Override a value before checking.")
    ] = None,
) -> None:
    """Validate a scenario and its map without running it: one line per problem, exit status 2."""
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan.engine import Simulation
    from hyosan.scenario import load_scenario

    loaded = load_scenario(scenario, parse_assignments(set_))
    sim = Simulation(loaded, seed=0)
    w = sim.world
    roles = ", ".join(f"{(sim.pop.role == i).sum()} {r}" for i, r in enumerate(sim.pop.role_names))
    console.print(f"[green]ok[/green] {loaded.source}: {loaded.scenario.scenario.name}")
    console.print(
        f"  map {loaded.map_path().name}: {len(w.floors)} floors, {len(w.rooms)} rooms, "
        f"{len(w.door_cells)} doors, {len(w.exits())} exit tiles"
    )
    console.print(f"  {sim.pop.n} agents: {roles}; {len(loaded.scenario.events)} timeline events")
    if loaded.scenario.events:
        console.print(_events_table(loaded.scenario.events))


def _events_table(events) -> Table:
    """The timeline, each event with its index and name: what --set events.NAME.KEY addresses."""
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan.scenario.load import event_names
    from hyosan.scenario.timefmt import format_duration

    table = Table(title="Timeline (--set events.NAME.at=HH:MM, or events.INDEX.at)", title_justify="left")
    names = event_names(events)
    table.add_column("index", justify="right", min_width=5)
    for column, longest in (("name", names), ("kind", [e.kind for e in events])):
        table.add_column(column, no_wrap=True, min_width=max(map(len, longest)))  # whole: --set takes them
    table.add_column("when", min_width=10)
    table.add_column("area", overflow="fold", min_width=10)
    table.add_column("says")
    for i, (name, e) in enumerate(zip(names, events, strict=True)):
        parts = [f"at {e.at}"] if e.at is not None else []
        parts += [f"when {e.when}"] if e.when else []
        if e.after is not None:
            parts.append(f"after {e.after if isinstance(e.after, str) else format_duration(e.after)}")
        table.add_row(str(i), name, e.kind, ", ".join(parts), e.area or e.who or "", e.text)
    return table


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="Name of the new scenario (and of its folder).")],
    from_: Annotated[
        str, typer.Option("--from", help="The scenario to start from: a built-in name or a scenario file.")
    ] = "hyosan-high",
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder to write (default: ./NAME): new, or empty."),
    ] = None,
) -> None:
    """Start a scenario of your own: copy a built-in (or any scenario file) and its map into a new
    folder, to edit and run.

    Writes NAME/NAME.toml (the scenario, comments kept, pointing at the copied map) and the map
    with its tileset files. Refuses a folder holding files hyosan did not write, or files edited
    since hyosan new wrote them. Then: hyosan check NAME/NAME.toml, hyosan run NAME/NAME.toml.
    """
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan.scenario.starter import new_scenario

    path = new_scenario(name, from_, out)
    files = sorted(p.name for p in path.parent.iterdir() if not p.name.startswith("."))
    console.print(f"written: {path.parent}/ ({', '.join(files)})", markup=False)
    console.print(
        f"  edit {path}, then: hyosan check {path}; hyosan run {path}", markup=False, soft_wrap=True
    )


@app.command()
def docs(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Folder for the built site: new, empty, or one hyosan docs wrote."),
    ] = Path("site"),
    serve: Annotated[
        bool, typer.Option("--serve", help="Serve the site with live reload instead of building it.")
    ] = False,
    port: Annotated[int, typer.Option("--port", help="Port of --serve (127.0.0.1 only).")] = 8000,
) -> None:
    """Build the documentation site (MkDocs) and print the path of its index.html, or serve it
    with --serve at http://127.0.0.1:8000/.

    Needs a source checkout (mkdocs.yml beside docs/) and the docs extra: pip install
    "hyosan[docs]". The build needs no network and stops at the first warning (a broken link, a
    page left out of the navigation).
    """
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan import docsite

    if serve:
        console.print(f"hyosan docs at http://127.0.0.1:{port}/ (Ctrl-C stops it)", markup=False)
        docsite.serve(port)
        return
    with err_console.status("building the documentation site"):
        index = docsite.build(out, "--out")
    console.print(f"written: {index} (open it in a browser)", markup=False)


@app.command()
def verify(
    folder: Annotated[
        Path,
        typer.Argument(
            help="A run folder (hyosan run, hyosan town), a sweep store (hyosan sweep) or a .ckpt."
        ),
    ],
) -> None:
    """Check a run folder, a town run folder or a sweep store and name every damaged file (exit
    status 2 if any).

    Read-only: a run folder's files are checked against the digests hyosan recorded and read back,
    its checkpoints read field by field; a store's files against its digests.json, its run files,
    tables and kept runs read whole, a lock a killed sweep left named with its process. A missing
    folder whose old copy a crash left aside says how to get it back.
    """
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan.verify import verify as check_folder

    report = check_folder(folder)
    if report.ok:
        console.print(f"[green]ok[/green] {folder}: {report.kind}, {report.checked} files checked")
        return
    for line in report.problems:
        err_console.print(f"damaged: {line}", markup=False)
    raise typer.Exit(2)


from hyosan.ensemble.cli import branch as _branch  # noqa: E402
from hyosan.ensemble.cli import sensitivity as _sensitivity  # noqa: E402
from hyosan.ensemble.cli import sweep as _sweep  # noqa: E402

app.command("sweep")(_sweep)
app.command("sensitivity")(_sensitivity)
app.command("branch")(_branch)

from hyosan.lattice.cli import town as _town  # noqa: E402

app.command("town")(_town)

from hyosan.calibrate.cli import calibrate as _calibrate  # noqa: E402

app.command("calibrate")(_calibrate)


def _fail(message: str, code: int = 2) -> SystemExit:
    err_console.print("error: " + " ".join(message.split()), markup=False)
    return SystemExit(code)


#: How --help names what an option takes (Typer would print Python's type names).
_METAVARS = {"int": "INTEGER", "float": "NUMBER", "str": "TEXT", "Path": "PATH", "list[str]": "TEXT"}


def plain_metavars(command) -> None:
    """``--help`` as people read it: flags show no type, values show TEXT, INTEGER, PATH.

    Typer writes Python's type names after every option (``--quiet <bool>``, ``--set
    <list[str]>``), which reads as if a flag took a value.
    """
    for param in command.params:
        if param.metavar is not None or not isinstance(param, typer.core._TyperParameter):
            continue
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            param.metavar = ""
        elif isinstance(param, typer.core.TyperArgument):
            param.metavar = (param.name or "value").upper()
            param.display_type_rich = lambda ctx: None  # its name says it; no "<str>" after it
        elif not param.type_descriptor.is_choice:
            param.metavar = _METAVARS.get(param.bare_type().removeprefix("typing."), "VALUE")
    get_help_option = command.get_help_option

    def help_option(ctx):
        option = get_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        plain_metavars(sub)


_BRACKET = re.compile(r"(?<!\\)\[")


def tidy_help(command) -> None:
    """``--help`` without accidents: a docstring's paragraphs re-flowed to the terminal (its own
    line breaks fall mid-sentence there), and brackets shown as typed (rich would read
    ``pip install "hyosan[studio]"`` as markup and drop ``[studio]``)."""
    if command.help:
        paragraphs = re.split(r"\n\s*\n", inspect.cleandoc(command.help))
        command.help = "\n\n".join(_BRACKET.sub(r"\\[", " ".join(p.split())) for p in paragraphs)
    for param in command.params:
        if getattr(param, "help", None):
            param.help = _BRACKET.sub(r"\\[", " ".join(param.help.split()))
    for sub in getattr(command, "commands", {}).values():
        tidy_help(sub)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: every error a user can cause is one line on stderr, exit status 2.

    - :class:`HyosanError` (bad models, parameters, files, flags) as ``error: SOURCE: FIELD: message``;
    - the CLI framework's usage errors (an unknown flag, a value of the wrong type) as one line
      plus a hint (``see `hyosan run --help```), where Typer would draw a box;
    - an ``OSError`` that escaped a write path, as one line naming the path.

    Library warnings are hidden unless ``hyosan --verbose`` (``-v``) asks for them.
    """
    try:
        command = typer.main.get_command(app)
        plain_metavars(command)
        tidy_help(command)
        with warnings.catch_warnings():  # restored afterwards (main may run inside a test)
            warnings.simplefilter("ignore")
            code = command(args=argv, prog_name="hyosan", standalone_mode=False)
    except HyosanError as exc:
        raise _fail(str(exc)) from None
    except typer.TyperException as exc:  # Typer's own (vendored) click exceptions
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError":
            console.print(ctx.get_help() if ctx is not None else "", markup=False)
            raise SystemExit(2) from None
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        raise _fail(f"{exc.format_message()}{hint}", 2) from None
    except (typer.Abort, KeyboardInterrupt):
        raise _fail("interrupted", 130) from None
    except OSError as exc:
        # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
        import errno

        if exc.errno == errno.EPIPE:
            raise SystemExit(1) from None
        # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
        from hyosan.io import os_error

        raise _fail(str(os_error(exc, doing="failed"))) from None
    finally:
        from hyosan.io import release_out_locks  # the --out folder a run held

        release_out_locks()
    if isinstance(code, int) and code:
        raise SystemExit(code)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
