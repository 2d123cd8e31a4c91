"""The ``hyosan`` command: a thin shell over the Python API (parse, call, print).

Mistakes a user can make raise :class:`hyosan.HyosanError`; :func:`main` prints them on one
line (``error: SOURCE: FIELD: message``) and exits with status 2, never with a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hyosan import __version__
from hyosan.errors import HyosanError

app = typer.Typer(
    name="hyosan",
    help="Simulate zombie outbreaks: a whole school of agents, or the classic compartment models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def parse_assignments(items: list[str] | None, source: str = "--set") -> dict[str, str]:
    """``["a=1", "b.c=x"]`` -> ``{"a": "1", "b.c": "x"}``; malformed items raise HyosanError."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise HyosanError(f"expected KEY=VALUE, got {item!r}", source=source)
        out[key] = value
    return out


def _version(value: bool) -> None:
    if value:
        console.print(f"hyosan {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """hyosan: zombie outbreaks as agents in a school, or as ODEs and exact stochastic models."""


def _catalogue_table() -> Table:
    from hyosan import models

    table = Table(title="Compartment models", title_justify="left")
    for column in ("model", "title", "species", "parameters (defaults)"):
        table.add_column(column)
    for name in models.names():
        m = models.get(name)
        params = ", ".join(f"{p.name}={p.default:g}" for p in m.params)
        table.add_row(name, m.title, "".join(m.species_names), params)
    return table


@app.command()
def model(
    name: Annotated[str | None, typer.Argument(help="Model name (see --list).")] = None,
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
        typer.Option("--stop", help="ODE only: stop when e.g. 'Z<1' or 'S<1' (repeatable)."),
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
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Ensemble: no progress bar.")] = False,
) -> None:
    """Solve a classic compartment model (Munz 2009, Alemi 2015) as an ODE or stochastically.

    With --vary, --out, --workers or --scheduler the runs go through the ensemble machinery
    (one run per replicate and parameter set, resumable) and write the same store as
    `hyosan sweep`.
    """
    from hyosan import models

    if list_:
        if as_json:
            print(json.dumps({n: models.get(n).title for n in models.names()}, indent=2))
        else:
            console.print(_catalogue_table())
        return
    if name is None:
        raise HyosanError("give a model name or --list", source="model")
    if vary or out is not None or workers is not None or scheduler is not None:
        if stop or plot is not None:
            raise HyosanError("does not apply to a stored ensemble (its bands are in bands.parquet)",
                              source="--stop" if stop else "--plot")  # fmt: skip
        from hyosan.ensemble.cli import model_ensemble

        model_ensemble(name, method=method, params=parse_assignments(set_), t_end=t_end, runs=runs, seed=seed,
                       points=points, vary=vary, workers=workers, scheduler=scheduler, out=out, quiet=quiet,
                       as_json=as_json)  # fmt: skip
        return
    network = models.get(name)
    overrides = parse_assignments(set_)
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
    if plot is not None:
        result.plot(plot, title=f"{network.title} ({method})")
    summary = result.summary()
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    _print_summary(network, summary, result, plot)


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
        console.print(f"  stopped when {summary['stopped_by']}")
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
        Path | None, typer.Option("--out", "-o", help="Run folder to write (default: out/<scenario>/).")
    ] = None,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write report.html into the run folder.")
    ] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run a school outbreak (Hyosan High by default) and write its run folder.

    The folder holds summary.json, the tables (counts, events, agents as Parquet and CSV), the
    frames, the resolved scenario.toml, chronicle.md and report.html; it is written whole or not
    at all. Frames are recorded every clock.frame_every (--set clock.frame_every=5s).
    """
    from hyosan.engine import Simulation
    from hyosan.results.store import save
    from hyosan.scenario import load_scenario
    from hyosan.scenario.timefmt import format_clock

    loaded = load_scenario(scenario, parse_assignments(set_))
    sim = Simulation(loaded, seed=seed)
    start = loaded.scenario.start_seconds
    tick_s = sim.tick_seconds
    if quiet:
        result = sim.run()
    else:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[clock]}"),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err_console, transient=True) as bar:
            task = bar.add_task(loaded.scenario.scenario.name, total=sim.n_ticks, clock="", status="")

            def progress(tick: int) -> None:
                c = sim.counts[tick].sum(axis=1)
                status = f"humans {c[0] + c[1]}  zombies {c[2]}  halfbies {c[3]}"
                bar.update(task, completed=tick, clock=format_clock(start + tick * tick_s), status=status)

            result = sim.run(progress)
    folder = out if out is not None else Path("out") / loaded.name
    save(result, folder, report=report)
    _print_run(result.summary(), folder, report)


@app.command("report")
def report_cmd(
    folder: Annotated[
        Path, typer.Argument(help="A run folder (hyosan run) or a sweep store (hyosan sweep, sensitivity).")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Where to write the report (default: FOLDER/report.html)."),
    ] = None,
    video: Annotated[
        Path | None,
        typer.Option("--video", help="Also render the replay as a video (.mp4; extra hyosan\\[video])."),
    ] = None,
    fps: Annotated[int, typer.Option("--fps", help="Video frames per second (one per recorded frame).")] = 24,
) -> None:
    """Rebuild the self-contained HTML report of a run folder (optionally a video too), or of a
    sweep or sensitivity store (fan charts, metrics against the parameters, sensitivity bars)."""
    from hyosan.results.store import load

    if (folder / "sweep.json").is_file():
        from hyosan.report.ensemble import write_ensemble_report

        if video is not None:
            raise HyosanError("a sweep store has no replay to render; give a run folder", source="--video")
        path = write_ensemble_report(folder, out)
        console.print(f"written: {path} ({path.stat().st_size / 1e6:.1f} MB)")
        return
    result = load(folder)
    path = result.report(out if out is not None else folder / "report.html")
    console.print(f"written: {path} ({path.stat().st_size / 1e6:.1f} MB, "
                  f"built in {result.extra['report_build_s']:.1f} s)")  # fmt: skip
    if video is not None:
        from hyosan.report.video import write_video

        write_video(result, video, fps=fps)
        console.print(f"written: {video}")


def _print_run(summary: dict, folder: Path, report: bool = True) -> None:
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
            console.print(f"  {label}: {s['survived']} of {s['total']} survived ({s['fraction']:.0%})")
    g = summary["groups"]
    console.print(
        f"  human group {g['human_group']} vs zombie group {g['zombie_group']}; "
        f"escaped {g['escaped']}, rescued {g['rescued']}, dead {g['dead']}"
    )
    console.print(f"  written: {folder}/ (summary.json, tables, chronicle.md"
                  + (", report.html)" if report else ")"))  # fmt: skip


@app.command()
def scenarios() -> None:
    """List the built-in scenarios."""
    from hyosan.scenario import builtins, load_scenario

    table = Table(title="Built-in scenarios", title_justify="left")
    table.add_column("name")
    table.add_column("title")
    table.add_column("description")
    for name in builtins():
        sc = load_scenario(name).scenario
        table.add_row(name, sc.scenario.name, sc.scenario.description)
    console.print(table)


@app.command()
def check(
    scenario: Annotated[str, typer.Argument(help="Scenario file (or built-in name) to validate.")],
    set_: Annotated[
        list[str] | None, typer.Option("--set", "-s", help="Override a value before checking.")
    ] = None,
) -> None:
    """Validate a scenario and its map without running it: one line per problem, exit status 2."""
    from hyosan.engine import Simulation
    from hyosan.scenario import load_scenario

    loaded = load_scenario(scenario, parse_assignments(set_))
    sim = Simulation(loaded, seed=0)
    w = sim.world
    roles = ", ".join(f"{(sim.pop.role == i).sum()} {r}" for i, r in enumerate(sim.pop.role_names))
    console.print(f"[green]ok[/green] {loaded.source}: {loaded.scenario.scenario.name}")
    console.print(f"  map {loaded.map_path().name}: {len(w.floors)} floors, {len(w.rooms)} rooms, "
                  f"{len(w.door_cells)} doors, {len(w.exits())} exit tiles")  # fmt: skip
    console.print(f"  {sim.pop.n} agents: {roles}; {len(loaded.scenario.events)} timeline events")


from hyosan.ensemble.cli import sensitivity as _sensitivity  # noqa: E402
from hyosan.ensemble.cli import sweep as _sweep  # noqa: E402

app.command("sweep")(_sweep)
app.command("sensitivity")(_sensitivity)

from hyosan.lattice.cli import town as _town  # noqa: E402

app.command("town")(_town)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: user errors become one line on stderr and exit status 2.

    Typer (standalone mode) already reports bad flags on one usage line with status 2; what is
    left is :class:`HyosanError`, raised by the API for bad models, parameters and files.
    """
    try:
        app(args=argv, prog_name="hyosan")
    except HyosanError as exc:
        err_console.print(f"error: {exc}", markup=False)
        raise SystemExit(2) from None


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
