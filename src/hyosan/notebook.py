"""What a running Simulation, a town run and a sweep show in a notebook: a short ``repr``, cards
of numbers with a small chart (``_repr_html_``) and ``plot()``.

The school's Result and the models' ModelResult do the same in their own modules
(:mod:`hyosan.results.plots`, :mod:`hyosan.compartmental.result`); every figure comes from
:func:`hyosan.display.subplots`, so it shows itself once under a cell, without ``%matplotlib``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hyosan.display import cards_html, png_data_url, subplots
from hyosan.io import save_figure
from hyosan.palette import STATE_COLOURS

if TYPE_CHECKING:
    from hyosan.engine import Simulation
    from hyosan.ensemble.sweep import SweepResult
    from hyosan.lattice.result import TownResult

#: The town's compartments, their words and colours (the states they stand for in the school).
TOWN_SERIES = {
    "S": ("people", STATE_COLOURS["human"]),
    "E": ("bitten", STATE_COLOURS["bitten"]),
    "Z": ("zombies", STATE_COLOURS["zombie"]),
    "R": ("removed", STATE_COLOURS["dead"]),
}


def _n(v: Any) -> str:
    return f"{int(v):,}"


# -- a running Simulation ------------------------------------------------------------------------
def _sim_clock(sim: Simulation) -> str:
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    from hyosan.scenario.timefmt import format_clock

    return format_clock(sim.scenario.start_seconds + sim.tick * sim.tick_seconds)


def _sim_states(sim: Simulation) -> dict[str, int]:
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    from hyosan.states import STATE_NAMES

    now = sim.counts[sim.tick].sum(axis=1)
    return {name: int(now[i]) for i, name in enumerate(STATE_NAMES) if now[i]}


def simulation_repr(sim: Simulation) -> str:
    """``<Simulation Hyosan High, seed 1: 08:40:00, tick 600 of 21600; human 1012, zombie 1>``"""
    states = ", ".join(f"{k} {v}" for k, v in _sim_states(sim).items())
    return (
        f"<Simulation {sim.scenario.scenario.name}, seed {sim.seed}: {_sim_clock(sim)}, "
        f"tick {sim.tick} of {sim.n_ticks}; {states}>"
    )


def simulation_plot(sim: Simulation, *, path: str | Path | None = None, figsize=(8, 3.6)):
    """Agents in each state from the start to now (clock time on the axis); returns the Figure."""
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    from hyosan.scenario.timefmt import format_clock
    from hyosan.states import STATE_NAMES

    fig, ax = subplots(figsize=figsize)
    counts = sim.counts[: sim.tick + 1].sum(axis=2)
    t = np.arange(sim.tick + 1) * sim.tick_seconds
    for i, name in enumerate(STATE_NAMES):
        if counts[:, i].any():
            ax.plot(t, counts[:, i], label=name, color=STATE_COLOURS[name], lw=1.6)
    span = max(float(t[-1]), 1.0)
    ax.set_xlim(0, span)
    ticks = np.linspace(0, span, 5)
    ax.set_xticks(ticks)
    ax.set_xticklabels([format_clock(sim.scenario.start_seconds + v)[:5] for v in ticks])
    ax.set_xlabel("clock time")
    ax.set_ylabel("agents")
    ax.set_title(f"{sim.scenario.scenario.name} so far ({_sim_clock(sim)})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False, ncol=2)
    if path is not None:
        save_figure(fig, path)
    return fig


def simulation_html(sim: Simulation) -> str:
    cards: list[tuple[str, Any]] = [("clock", _sim_clock(sim)), ("done", f"{sim.tick / sim.n_ticks:.0%}")]
    cards += list(_sim_states(sim).items())
    chart = png_data_url(simulation_plot(sim, figsize=(6.4, 2.4))) if sim.tick else None
    note = f"seed {sim.seed}, tick {sim.tick} of {sim.n_ticks} ({sim.tick_seconds:g} s each)"
    return cards_html(f"{sim.scenario.scenario.name} (running)", cards, chart, note)


# -- a town run ------------------------------------------------------------------------------------
def _town_final(town: TownResult) -> dict[str, int]:
    last = town.totals[-1] if town.totals else {}
    return {k: int(last.get(k, 0)) for k in TOWN_SERIES}


def town_repr(town: TownResult) -> str:
    """``<TownResult Hyosan city (exact, seed 1): 10 days, 177,029 people; end: people 1,234, ...>``"""
    final = ", ".join(f"{TOWN_SERIES[k][0]} {_n(v)}" for k, v in _town_final(town).items())
    reached = int(np.isfinite(town.arrival).sum())
    return (
        f"<TownResult {town.lattice.name} ({town.method}, seed {town.seed}): {town.days:g} days, "
        f"{_n(town.lattice.population.sum())} people; end: {final}; {reached:,} cells reached>"
    )


def town_plot(
    town: TownResult,
    what: str = "totals",
    *,
    events: bool = True,
    path: str | Path | None = None,
    figsize=(8, 3.6),
):
    """``"totals"``: people, bitten, zombies and removed over the days, the timeline's events
    marked with dashed lines; ``"districts"``: the people still human in each district. Returns
    the Figure; ``path`` also saves it."""
    if what not in ("totals", "districts"):
        raise ValueError(f"what must be 'totals' or 'districts', not {what!r}")
    fig, ax = subplots(figsize=figsize)
    if what == "totals":
        counts = town.counts
        for key, (label, colour) in TOWN_SERIES.items():
            if key in counts and counts[key].any():
                ax.plot(counts["t"], counts[key], label=label, color=colour, lw=1.6)
        ax.set_title(f"{town.lattice.name}: the outbreak over time")
    else:
        d = town.districts
        for name, rows in d.groupby("district", sort=False):
            ax.plot(rows["t"], rows["S"], label=str(name), lw=1.3)
        ax.set_title(f"{town.lattice.name}: people still human by district")
    if events:
        for e in town.log:
            ax.axvline(e["t"], color="#555", ls="--", lw=0.8)
            ax.annotate(
                f"{e['kind']}: {e['area']}" if e.get("area") else str(e["kind"]),
                (e["t"], 1),
                xycoords=("data", "axes fraction"),
                rotation=90,
                va="top",
                ha="right",
                fontsize=7,
                color="#555",
            )
    ax.set_xlim(0, town.days)
    ax.set_xlabel("days")
    ax.set_ylabel("people")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False, ncol=2)
    if path is not None:
        save_figure(fig, path)
    return fig


def town_html(town: TownResult) -> str:
    final = _town_final(town)
    ds = town.district_summary()
    cards: list[tuple[str, Any]] = [("people at the start", _n(town.lattice.population.sum()))]
    cards += [(f"{TOWN_SERIES[k][0]} at the end", _n(v)) for k, v in final.items()]
    cards.append(("cells reached", f"{int(np.isfinite(town.arrival).sum()):,}"))
    cards.append(("districts fallen", f"{int(ds['fell_days'].notna().sum())} of {len(ds)}"))
    chart = png_data_url(town_plot(town, figsize=(6.4, 2.4)))
    note = f"{town.method}, seed {town.seed}, {town.days:g} days, cells of {town.lattice.cell_m:g} m"
    return cards_html(str(town.lattice.name), cards, chart, note)


# -- a sweep ---------------------------------------------------------------------------------------
def _sweep_sets(result: SweepResult) -> str:
    names = ", ".join(result.spec.vary) if result.spec.vary else "no varied parameter"
    return f"{len(result.spec.sets)} parameter set{'s' if len(result.spec.sets) != 1 else ''}: {names}"


def sweep_repr(result: SweepResult) -> str:
    """``<SweepResult model alemi: 10 of 10 runs, 2 parameter sets: alpha; 0 failed; out/a>``"""
    s = result.status()
    return (
        f"<SweepResult {result.spec.kind} {result.spec.target}: {s['finished']} of {s['total']} runs, "
        f"{_sweep_sets(result)}; {s['failed']} failed; {result.folder}>"
    )


def _set_label(result: SweepResult, set_id: int) -> str:
    params = result.spec.sets[set_id] if set_id < len(result.spec.sets) else {}
    shown = {k: v for k, v in params.items() if k in (result.spec.vary or params)}
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()) or "runs"


def sweep_plot(
    result: SweepResult,
    series: str | list[str] | None = None,
    *,
    path: str | Path | None = None,
    figsize: tuple[float, float] | None = None,
):
    """Fan charts: for each series (all by default) and each parameter set, the median over the
    runs with the 25-75 % and 5-95 % bands. Returns the Figure; ``path`` also saves it."""
    bands = result.bands
    available = list(dict.fromkeys(bands["series"])) if len(bands) else []
    chosen = available if series is None else [series] if isinstance(series, str) else list(series)
    unknown = [s for s in chosen if s not in available]
    if unknown or not chosen:
        raise ValueError(f"series must be among {available}, not {unknown or chosen}")
    fig, axes = subplots(
        1, len(chosen), figsize=figsize or (4.2 * len(chosen) + 0.6, 3.4), squeeze=False, sharex=True
    )
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    import matplotlib

    colours = [c["color"] for c in matplotlib.rcParams["axes.prop_cycle"]]
    for ax, name in zip(axes[0], chosen, strict=True):
        rows = bands[bands["series"] == name]
        for k, (set_id, band) in enumerate(rows.groupby("set_id", sort=True)):
            colour = colours[k % len(colours)]
            t = band["t"].to_numpy(dtype=float)
            ax.fill_between(t, band["q05"], band["q95"], color=colour, alpha=0.12, lw=0)
            ax.fill_between(t, band["q25"], band["q75"], color=colour, alpha=0.28, lw=0)
            ax.plot(t, band["q50"], color=colour, lw=1.5, label=_set_label(result, int(set_id)))
        ax.set_title(name)
        ax.set_xlabel("time")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7, frameon=False, title="median, 25-75 %, 5-95 %", title_fontsize=7)
    fig.suptitle(f"{result.spec.target}: {result.status()['finished']} runs", fontsize=10)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig


def sweep_html(result: SweepResult) -> str:
    s = result.status()
    cards: list[tuple[str, Any]] = [
        ("runs finished", f"{s['finished']} of {s['total']}"),
        ("failed", s["failed"]),
        ("parameter sets", len(result.spec.sets)),
        ("replicates", result.spec.runs),
    ]
    chart = png_data_url(sweep_plot(result)) if len(result.bands) else None
    return cards_html(
        f"sweep of {result.spec.target}", cards, chart, f"{_sweep_sets(result)}; {result.folder}"
    )
