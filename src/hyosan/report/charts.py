"""The report's charts, drawn with matplotlib (Agg) and embedded as PNG data URLs."""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection

from hyosan.results import analysis

if TYPE_CHECKING:
    from hyosan.results.result import Result

#: One colour per state, shared by the charts and the replay.
STATE_COLOURS = {
    "human": "#2b7bba", "bitten": "#f2a93b", "zombie": "#c0392b", "halfbie": "#8e44ad",
    "dead": "#555555", "escaped": "#27ae60", "rescued": "#16a085",
}  # fmt: skip
GROUP_COLOURS = {"human_group": "#2b7bba", "zombie_group": "#c0392b"}


def png(fig) -> str:
    """A figure as a ``data:image/png`` URL (and closes it)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _minutes_axis(ax, result: Result) -> None:
    """Label the x axis with clock times (the data are seconds since the start)."""
    span = max(result.duration_s, 1.0)
    step = next((s for s in (60, 300, 600, 900, 1800, 3600, 7200, 14400) if span / s <= 8), 28800)
    first = -(result.start_clock_s % step) % step  # ticks on round clock times (09:00, 09:30)
    ticks = np.arange(first, span + 1e-9, step)
    ax.set_xticks(ticks)
    ax.set_xticklabels([result.clock(t)[:5] for t in ticks])
    ax.set_xlim(0, result.duration_s)
    ax.set_xlabel("clock time")


def counts_chart(result: Result) -> str:
    totals = result.totals()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for state, colour in STATE_COLOURS.items():
        if totals[state].any():
            ax.plot(totals.index, totals[state], label=state, color=colour, lw=1.6)
    ax.set_ylabel("agents")
    ax.set_title("Agents by state")
    ax.legend(ncol=4, fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    _minutes_axis(ax, result)
    return png(fig)


def groups_chart(result: Result) -> str:
    g = analysis.groups_over_time(result)
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.fill_between(g.index, g["human_group"], color=GROUP_COLOURS["human_group"], alpha=0.35, lw=0)
    ax.plot(
        g.index, g["human_group"], color=GROUP_COLOURS["human_group"], label="human group (human, bitten)"
    )
    ax.fill_between(g.index, g["zombie_group"], color=GROUP_COLOURS["zombie_group"], alpha=0.35, lw=0)
    ax.plot(g.index, g["zombie_group"], color=GROUP_COLOURS["zombie_group"],
            label="zombie group (zombies, halfbies)")  # fmt: skip
    ax.set_ylabel("agents")
    ax.set_title("The human group against the zombie group")
    ax.legend(fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    _minutes_axis(ax, result)
    return png(fig)


def survival_chart(result: Result, test: dict) -> str:
    curves = analysis.survival(result, by="adult")
    fig, ax = plt.subplots(figsize=(8, 3.4))
    colours = {"everyone": "#333333", "adults": "#d35400", "students": "#2b7bba"}
    for group, part in curves.groupby("group", sort=False):
        c = colours.get(group, None)
        ax.step(
            part["time_s"], part["survival"], where="post", color=c, label=f"{group} (n={part['n'].iloc[0]})"
        )
        ax.fill_between(part["time_s"], part["lower"], part["upper"], step="post", color=c, alpha=0.12, lw=0)
    title = "Still human (Kaplan-Meier; censored at escape, rescue, end)"
    if test.get("pvalue") is not None:
        title += f"\nlog-rank adults vs students: p = {test['pvalue']:.3g}"
    ax.set_title(title, fontsize=10)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("fraction not yet bitten")
    ax.legend(fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    _minutes_axis(ax, result)
    return png(fig)


def reproduction_chart(result: Result) -> str:
    rt = analysis.reproduction_number(result)
    dist = analysis.offspring(result)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.2), gridspec_kw={"width_ratios": [3, 2]})
    if len(rt):
        ax1.bar(rt["time_s"], rt["R"], width=600 * 0.9, align="edge", color="#c0392b", alpha=0.75)
        ax1.axhline(1, color="k", lw=0.8, ls="--")
    ax1.set_title("Effective reproduction number (10 min cohorts)", fontsize=10)
    ax1.set_ylabel("R")
    ax1.grid(alpha=0.3)
    _minutes_axis(ax1, result)
    ax2.bar(dist.index, dist.to_numpy(), color="#7f8c8d")
    ax2.set_title("Offspring distribution", fontsize=10)
    ax2.set_xlabel("people bitten by one infected agent")
    ax2.set_ylabel("infected agents")
    fig.tight_layout()
    return png(fig)


def tree_chart(result: Result, tree) -> str:
    """The transmission tree as a dendrogram: time across, each line a bite (biter to victim)."""
    fig, ax = plt.subplots(figsize=(9, 4.2))
    if len(tree):
        children: dict[int, list[int]] = {}
        for v, b in zip(tree["agent"].to_numpy(), tree["biter"].to_numpy(), strict=True):
            children.setdefault(int(b), []).append(int(v))
        when = dict(zip(tree["agent"].to_numpy().tolist(), tree["bitten_s"].to_numpy().tolist(), strict=True))
        roots = [int(b) for b in children if b < 0 or b not in when]
        y: dict[int, float] = {}
        order = 0
        # Depth-first, children in time order, so each subtree is a contiguous band of rows.
        stack = [(r, False) for r in sorted(roots, reverse=True)]
        while stack:
            node, done = stack.pop()
            kids = children.get(node, [])
            if done or not kids:
                y[node] = order if not kids else float(np.mean([y[k] for k in kids]))
                order += 0 if kids else 1
                continue
            stack.append((node, True))
            stack.extend((k, False) for k in sorted(kids, key=lambda k: when[k], reverse=True))
        segs = []
        for v, b in zip(tree["agent"].to_numpy(), tree["biter"].to_numpy(), strict=True):
            tb = when.get(int(b), 0.0)
            segs.append([(tb, y[int(b)]), (tb, y[int(v)]), (when[int(v)], y[int(v)])])
        ax.add_collection(LineCollection(segs, colors="#c0392b", linewidths=0.5, alpha=0.6))
        ax.scatter(tree["bitten_s"], [y[int(v)] for v in tree["agent"]], s=3, c="#c0392b")
        ax.set_ylim(-1, order)
    ax.set_yticks([])
    generations = int(tree["generation"].max()) + 1 if len(tree) else 0
    ax.set_title(f"Transmission tree: {len(tree)} bites, {generations} generations", fontsize=10)
    ax.grid(alpha=0.2, axis="x")
    _minutes_axis(ax, result)
    return png(fig)


def heat_chart(result: Result) -> str:
    """Where people were bitten (colour) on each floor's plan (grey)."""
    floors = result.world.shape[0]
    grid = analysis.heat_grid(result, "bitten").astype(float)
    died = analysis.heat_grid(result, "died")
    # Each floor cropped to its building (the part that is not void), drawn to one scale.
    boxes = []
    for f in range(floors):
        ys, xs = np.nonzero(result.world.tiles[f] != 0)
        boxes.append((ys.min(), ys.max() + 1, xs.min(), xs.max() + 1) if ys.size else (0, 1, 0, 1))
    heights = [b[1] - b[0] for b in boxes]
    width = max(b[3] - b[2] for b in boxes)
    fig, axes = plt.subplots(floors, 1, figsize=(8.5, 0.6 * floors + 8.0 * sum(heights) / width),
                             squeeze=False, gridspec_kw={"height_ratios": heights})  # fmt: skip
    top = max(1.0, grid.max())
    for f, ax in enumerate(axes[:, 0]):
        y0, y1, x0, x1 = boxes[f]
        tiles = result.world.tiles[f][y0:y1, x0:x1]
        ax.imshow(np.where(tiles == 2, 0.35, np.where(tiles == 0, 1.0, 0.9)), cmap="gray", vmin=0, vmax=1,
                  interpolation="nearest")  # fmt: skip
        heat = np.ma.masked_equal(grid[f][y0:y1, x0:x1], 0)
        im = ax.imshow(heat, cmap="autumn_r", vmin=0, vmax=top, interpolation="nearest")
        ys, xs = np.nonzero(died[f][y0:y1, x0:x1])
        ax.scatter(xs, ys, s=2, c="k", marker="x", linewidths=0.5)
        ax.set_title(f"{result.world.floors[f]}: bites (colour), zombies destroyed or killed (x)", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=axes[:, 0].tolist(), shrink=0.6, label="bites per tile")
    return png(fig)
