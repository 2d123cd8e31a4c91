"""A run at a glance, for notebooks: a short repr, an HTML card view and the main figure.

:class:`~hyosan.results.Result` calls these for ``repr(result)``, ``result._repr_html_()``
(Jupyter shows it) and ``result.plot()``. They read only the Result, never the report, so a
Result stays independent of :mod:`hyosan.report`.

matplotlib is imported inside the functions that draw: a Result that is never plotted (a sweep's
thousand runs in worker processes) does not pay its import.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hyosan.display import cards_html, png_data_url
from hyosan.io import save_figure
from hyosan.palette import GROUP_COLOURS, STATE_COLOURS

if TYPE_CHECKING:
    from hyosan.results.result import Result

# The state and group colours are hyosan's one palette (hyosan/palette.py).
#: Milestone keys (first word) marked on the figures: the timeline's events and "no humans left".
TIMELINE_KEYS = ("patient", "alarm", "broadcast", "cordon", "lift", "rescue", "strike", "goal", "no")


def short_repr(result: Result) -> str:
    """One line: what ran, and how it ended."""
    s = result.summary()
    g = s["groups"]
    return (
        f"<Result {s.get('title', '?')!s}, seed {s.get('seed')}: {s['agents']} agents over "
        f"{result.duration_s / 3600:g} h from {result.clock(0)}; human group {g['human_group']}, "
        f"zombie group {g['zombie_group']}, escaped {g['escaped']}, rescued {g['rescued']}, "
        f"dead {g['dead']}>"
    )


def timeline_events(result: Result) -> list[tuple[float, str]]:
    """The timeline's events as they fired: (seconds since the start, label)."""
    ms = result.milestones()
    keep = ms[ms["key"].str.split("_").str[0].isin(TIMELINE_KEYS) & ms["time_s"].notna()]
    return [(float(t), str(label)) for t, label in zip(keep["time_s"], keep["label"], strict=True)]


def plot(
    result: Result,
    what: str = "states",
    *,
    ax: Any = None,
    events: bool = True,
    clock: bool = True,
    path: str | Path | None = None,
    figsize: tuple[float, float] = (8, 3.6),
):
    """The main figure of a run; returns the matplotlib Figure.

    ``what``: ``"states"`` (agents in each state over time), ``"groups"`` (the human group
    against the zombie group) or ``"roles"`` (the human group of each role). ``events`` marks
    the timeline's events (alarm, cordon, rescue) with dashed lines; ``clock`` labels the time
    axis with clock times (else minutes from the start). ``ax`` draws into existing axes;
    ``path`` also saves the figure (PNG, SVG, PDF).
    """
    from hyosan.display import subplots  # lazy: matplotlib, see the module's docstring

    if what not in ("states", "groups", "roles"):
        raise ValueError(f"what must be 'states', 'groups' or 'roles', not {what!r}")
    fig = None
    if ax is None:
        fig, ax = subplots(figsize=figsize)
    else:
        fig = ax.figure
    totals = result.totals()
    t = totals.index.to_numpy(dtype=float)
    if what == "states":
        for state, colour in STATE_COLOURS.items():
            if totals[state].any():
                ax.plot(t, totals[state], label=state, color=colour, lw=1.6)
        ax.set_title("Agents by state")
    elif what == "groups":
        for key, label in (
            ("human_group", "human group (human, bitten)"),
            ("zombie_group", "zombie group (zombies, halfbies)"),
        ):
            ax.fill_between(t, totals[key], color=GROUP_COLOURS[key], alpha=0.3, lw=0)
            ax.plot(t, totals[key], color=GROUP_COLOURS[key], label=label)
        ax.set_title("The human group against the zombie group")
    else:
        by_role = result.counts.pivot_table(
            index="time_s", columns="role", values="human_group", aggfunc="sum", observed=True
        )
        for role in by_role.columns:
            ax.plot(by_role.index, by_role[role], label=f"{role}s still human", lw=1.6)
        ax.set_title("The human group by role")
    if events:
        mark_events(ax, timeline_events(result))
    ax.set_xlim(0, result.duration_s)
    if clock:
        span = max(result.duration_s, 1.0)
        step = next((s for s in (60, 300, 600, 900, 1800, 3600, 7200, 14400) if span / s <= 8), 28800)
        ticks = np.arange(-(result.start_clock_s % step) % step, span + 1e-9, step)
        ax.set_xticks(ticks)
        ax.set_xticklabels([result.clock(v)[:5] for v in ticks])
        ax.set_xlabel("clock time")
    else:
        ax.set_xlabel("seconds from the start")
    ax.set_ylabel("agents")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False, ncol=2)
    if path is not None:
        save_figure(fig, path)
    return fig


def summary_html(result: Result) -> str:
    """The run as cards (who is left, who survived, when it turned) and the groups over time."""
    s = result.summary()
    g = s["groups"]
    cards: list[tuple[str, Any]] = [
        ("agents", s["agents"]),
        ("human group", g["human_group"]),
        ("zombie group", g["zombie_group"]),
        ("escaped", g["escaped"]),
        ("rescued", g["rescued"]),
        ("dead", g["dead"]),
    ]
    for label, v in s.get("survivors", {}).items():
        cards.append((f"{label} survived", f"{v['survived']} of {v['total']}"))
    if s.get("first_turn_s") is not None:
        cards.append(("first turn", result.clock(s["first_turn_s"])))
    chart = png_data_url(plot(result, "groups", figsize=(6.4, 2.4)))
    note = f"seed {s.get('seed')}, {result.duration_s / 3600:g} h from {result.clock(0)}"
    return cards_html(str(s.get("title", "hyosan run")), cards, chart, note)


def mark_events(ax, events: list[tuple[float, str]]) -> None:
    """Dashed lines at the timeline's events, numbered as in the SVG charts' lists."""
    for k, (t, _) in enumerate(events, start=1):
        ax.axvline(t, color="#444", lw=0.8, ls="--", alpha=0.7)
        ax.annotate(
            str(k),
            (t, 1.0),
            xycoords=("data", "axes fraction"),
            ha="center",
            va="bottom",
            fontsize=7,
            color="#444",
        )
