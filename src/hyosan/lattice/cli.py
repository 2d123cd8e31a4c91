"""The ``hyosan town`` command (registered by hyosan.cli; this module never imports it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hyosan.errors import HyosanError

console = Console()

#: Built-in countries, generated rather than stored (1500 x 900 cells of 3.2 km, 300 M people):
#: name -> (days, method, days between maps). A country's maps are thinned to about a dozen.
COUNTRIES = {"synthetic-country": (60.0, "tau", 5.0)}
#: The nine regions of a country (its districts): the land's bounding box cut in three each way.
REGIONS = ("north-west", "north", "north-east", "west", "centre", "east", "south-west", "south", "south-east")


def country_scenario(name: str, overrides: dict[str, str]):
    """The built-in country ``name`` as a town scenario: the synthetic country cut into nine named
    regions, its most crowded cell "the capital", Hyosan city's outbreak (the school's, through
    ``--set`` as for a town), a hundred infected arriving in the capital and, on day 10, the
    capital's region sealed by a leaky cordon."""
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    from dataclasses import replace

    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    import numpy as np

    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    from hyosan.lattice.city import synthetic_country
    from hyosan.lattice.events import TownEvent
    from hyosan.lattice.scenario import load_town

    days, method, _ = COUNTRIES[name]
    town = load_town("hyosan-city", {"town.days": str(days), "town.method": method, **overrides})
    lat = synthetic_country()
    land = ~lat.blocked
    ys, xs = np.nonzero(land)
    row = np.clip((np.arange(lat.shape[0]) - ys.min()) * 3 // (ys.max() - ys.min() + 1), 0, 2)
    col = np.clip((np.arange(lat.shape[1]) - xs.min()) * 3 // (xs.max() - xs.min() + 1), 0, 2)
    lat.district = np.where(land, row[:, None] * 3 + col[None, :], -1).astype(np.int16)
    lat.district_names = REGIONS
    capital = np.unravel_index(int(np.argmax(np.where(land, lat.population, -1))), lat.shape)
    lat.places = {"the capital": (int(capital[0]), int(capital[1]))}
    lat.name = "Synthetic country"
    region = REGIONS[int(lat.district[capital])]
    events = [
        TownEvent("seed", 0.02, "the capital", zombies=100, text="A hundred infected arrive in the capital."),
        TownEvent(
            "cordon",
            10.0,
            region,
            leak=0.05,
            text=f"The government seals the {region} region around the capital; some slip through.",
        ),
    ]
    return replace(town, name="Synthetic country", lattice=lat, events=events, source=f"built-in {name}")


def _assignments(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise HyosanError(f"expected KEY=VALUE, got {item!r}", source="--set")
        out[key.strip()] = value.strip()
    return out


def town(
    scenario: Annotated[
        str,
        typer.Argument(
            help="Town scenario file or built-in name: hyosan-city (a town of 177,005 people) or "
            "synthetic-country (300 million people on 1500 x 900 cells, 60 days, tau-leaping)."
        ),
    ] = "hyosan-city",
    from_: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="A school run folder: its infected escapes seed the school's cell, and its outbreak "
            "(bite and kill rates, incubation) is the town's.",
        ),
    ] = None,
    method: Annotated[str | None, typer.Option("--method", "-m", help="exact | tau (tau-leaping).")] = None,
    days: Annotated[float | None, typer.Option("--days", help="Days to simulate.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Root seed.")] = 0,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            "-s",
            help="Override an outbreak value in physical units (kill_rate=0.1 per s of contact, "
            "incubation=30min, contact_s=0.2 s a day), the coupling (mu=0.5) or a town key (town.days=10).",
        ),
    ] = None,
    snapshot_every: Annotated[
        float | None,
        typer.Option(
            "--snapshot-every", help="Days between maps (default: 0.25 for a town, 5 for a country)."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Run folder (default: out/<town>/).")
    ] = None,
    report: Annotated[bool, typer.Option("--report/--no-report", help="Write report.html.")] = True,
) -> None:
    """Run the town or country lattice (Alemi's Zombietown: S, E, Z, R per cell, coupled neighbours).

    Writes a run folder: summary.json, totals and districts (Parquet and CSV), cells.nc (per-cell
    maps, NetCDF; compressed for a country), chronicle.md and report.html (animated map, charts by
    district). With --from, the school run's infected escapes enter the school's cell at their
    escape times and its outbreak parameters (bite and kill rates per second of contact,
    incubation) are the town's (school -> town in one story).
    """
    # The lattice loads numba kernels: imported when the command runs, so `hyosan --help` stays quick.
    from hyosan.lattice.scenario import load_town, on_school_clock, school_escapes
    from hyosan.lattice.simulate import simulate

    if scenario in COUNTRIES:
        if from_ is not None:
            raise HyosanError("a country is not seeded from a school run", source="--from")
        sc = country_scenario(scenario, _assignments(set_))
        every = COUNTRIES[scenario][2]
    else:
        sc = load_town(scenario, _assignments(set_), school=from_)
        every = 0.25
    if snapshot_every is not None:
        every = snapshot_every
    events = list(sc.events)
    start = 8 * 3600.0
    if from_ is not None:
        seeds, start = school_escapes(from_)
        events = [e for e in events if e.kind != "seed"] + seeds
        # One clock: the town's cordon falls when the school's did.
        school = json.loads((Path(from_) / "summary.json").read_text(encoding="utf-8"))
        events = on_school_clock(events, school.get("timeline", []))
    status = console.status(
        f"simulating {sc.name}: {sc.lattice.n_cells:,} cells, {days if days is not None else sc.days:g} days"
    )
    with status:
        result = simulate(
            sc.lattice,
            sc.params,
            days=days if days is not None else sc.days,
            method=method or sc.method,
            seed=seed,
            events=events,
            snapshot_every=every,
            start_clock_s=start,
            seeded_from=str(from_) if from_ else None,
        )
    folder = (
        out if out is not None else Path("out") / (scenario if scenario in COUNTRIES else sc.lattice.name)
    )
    with console.status(f"writing {folder}/ (tables, maps" + (", report)" if report else ")")):
        result.save(folder, report=report)
    s = result.summary()
    console.print(
        f"[bold]{sc.name}[/bold]  {s['shape'][0]} x {s['shape'][1]} cells of {s['cell_m']:g} m, "
        f"{s['people']:,} people, {s['days']:g} days, {s['method']}, seed {seed}"
    )
    if from_ is not None:
        console.print(
            f"  seeded by {len([e for e in events if e.kind == 'seed'])} infected escapes from {from_}"
        )
    table = Table(title="Districts", title_justify="left")
    for col in ("district", "people", "first arrival (days)", "fell (days)", "humans left"):
        table.add_column(col, justify="left" if col == "district" else "right")
    for row in result.district_summary().itertuples():
        table.add_row(
            row.district,
            f"{row.people:,}",
            _days(row.first_arrival_days),
            _days(row.fell_days),
            f"{row.humans_left:,}",
        )
    console.print(table)
    final = s["final"]
    console.print(
        f"  final: S {final['S']:,}  E {final['E']:,}  Z {final['Z']:,}  R {final['R']:,}  "
        f"struck {final['struck_s'] + final['struck_e'] + final['struck_z']:,}"
    )
    console.print(
        f"  written: {folder}/ (summary.json, totals, districts, cells.nc, chronicle.md"
        + (", report.html)" if report else ")")
    )


def _days(value: float) -> str:
    return "never" if value != value else f"{value:.2f}"
