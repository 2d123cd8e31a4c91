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
    help="Simulate zombie outbreaks: classic compartment models, and (soon) a whole school.",
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
    """hyosan: zombie outbreaks as ODEs, exact stochastic simulations and (soon) agents."""


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
) -> None:
    """Solve a classic compartment model (Munz 2009, Alemi 2015) as an ODE or stochastically."""
    from hyosan import models

    if list_:
        if as_json:
            print(json.dumps({n: models.get(n).title for n in models.names()}, indent=2))
        else:
            console.print(_catalogue_table())
        return
    if name is None:
        raise HyosanError("give a model name or --list", source="model")
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
