"""The report's charts, drawn with matplotlib (Agg) and embedded as PNG data URLs."""

from __future__ import annotations

import base64
import html
import io
import sys
from typing import TYPE_CHECKING

import matplotlib

# Off-screen (Agg), but a notebook keeps its inline backend (hyosan.display.headless_backend).
matplotlib.use("Agg" if "ipykernel" not in sys.modules else matplotlib.get_backend())
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection

from hyosan.report import svg
from hyosan.results import analysis
from hyosan.results.plots import GROUP_COLOURS, STATE_COLOURS, mark_events, timeline_events

if TYPE_CHECKING:
    from hyosan.results.result import Result


def png(fig) -> str:
    """A figure as a ``data:image/png`` URL (and closes it)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def clock_ticks(result: Result) -> np.ndarray:
    """Seconds since the start that fall on round clock times (09:00, 09:30), about 8 of them."""
    span = max(result.duration_s, 1.0)
    step = next((s for s in (60, 300, 600, 900, 1800, 3600, 7200, 14400) if span / s <= 8), 28800)
    first = -(result.start_clock_s % step) % step
    return np.arange(first, span + 1e-9, step)


def _minutes_axis(ax, result: Result) -> None:
    """Label the x axis with clock times (the data are seconds since the start)."""
    ticks = clock_ticks(result)
    ax.set_xticks(ticks)
    ax.set_xticklabels([result.clock(t)[:5] for t in ticks])
    ax.set_xlim(0, result.duration_s)
    ax.set_xlabel("clock time")


def _svg_time(result: Result, x, lines, *, title, y_label, chart_id, fill=False) -> str:
    return svg.time_chart(
        x,
        lines,
        title=title,
        y_label=y_label,
        x_text=lambda t: result.clock(t)[:5],
        x_ticks=clock_ticks(result),
        events=timeline_events(result),
        chart_id=chart_id,
        fill=fill,
    )


def counts_svg(result: Result) -> str:
    """Agents by state over time, interactive (hover for the numbers at a moment)."""
    totals = result.totals()
    lines = {s: (totals[s].to_numpy(), c) for s, c in STATE_COLOURS.items() if totals[s].any()}
    return _svg_time(
        result,
        totals.index.to_numpy(),
        lines,
        title="Agents by state",
        y_label="agents",
        chart_id="chart-counts",
    )


def groups_svg(result: Result) -> str:
    """The human group against the zombie group, interactive."""
    g = analysis.groups_over_time(result)
    lines = {
        "human group (human, bitten)": (g["human_group"].to_numpy(), GROUP_COLOURS["human_group"]),
        "zombie group (zombies, halfbies)": (g["zombie_group"].to_numpy(), GROUP_COLOURS["zombie_group"]),
    }
    return _svg_time(
        result,
        g.index.to_numpy(),
        lines,
        title="The human group against the zombie group",
        y_label="agents",
        chart_id="chart-groups",
        fill=True,
    )


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
    ax.plot(
        g.index,
        g["zombie_group"],
        color=GROUP_COLOURS["zombie_group"],
        label="zombie group (zombies, halfbies)",
    )
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
    ax.set_title(title, fontsize=10, pad=14)
    ax.set_ylim(-0.02, 1.02)
    mark_events(ax, timeline_events(result))
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
    mark_events(ax1, timeline_events(result))
    ax1.set_title("Effective reproduction number (10 min cohorts)", fontsize=10, pad=14)
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
    fig, axes = plt.subplots(
        floors,
        1,
        figsize=(8.5, 0.6 * floors + 8.0 * sum(heights) / width),
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )
    top = max(1.0, grid.max())
    for f, ax in enumerate(axes[:, 0]):
        y0, y1, x0, x1 = boxes[f]
        tiles = result.world.tiles[f][y0:y1, x0:x1]
        ax.imshow(
            np.where(tiles == 2, 0.35, np.where(tiles == 0, 1.0, 0.9)),
            cmap="gray",
            vmin=0,
            vmax=1,
            interpolation="nearest",
        )
        heat = np.ma.masked_equal(grid[f][y0:y1, x0:x1], 0)
        im = ax.imshow(heat, cmap="autumn_r", vmin=0, vmax=top, interpolation="nearest")
        ys, xs = np.nonzero(died[f][y0:y1, x0:x1])
        ax.scatter(xs, ys, s=2, c="k", marker="x", linewidths=0.5)
        ax.set_title(f"{result.world.floors[f]}: bites (colour), zombies destroyed or killed (x)", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=axes[:, 0].tolist(), shrink=0.6, label="bites per tile")
    return png(fig)


def _esc(text) -> str:
    return html.escape(str(text))


#: Rooms shown by name in the generation-by-room table; the rest are summed as "other places".
TOP_ROOMS = 14


def generation_room_table(tree) -> str:
    """Bites by generation (columns) and by the room they happened in (rows), as a heat table.

    Scales to any number of bites: a thousand bites are at most ``TOP_ROOMS + 1`` rows of a dozen
    generations. Each cell's title says what it counts.
    """
    if not len(tree):
        return "<p>Nobody was bitten.</p>"
    room = tree["room"].astype("string").fillna("elsewhere")
    top = room.value_counts().head(TOP_ROOMS).index
    room = room.where(room.isin(top), "other places")
    table = tree.assign(room=room).pivot_table(
        index="room", columns="generation", values="agent", aggfunc="count", fill_value=0
    )
    table = table.loc[table.sum(axis=1).sort_values(ascending=False).index]
    peak = max(1, int(table.to_numpy().max()))
    head = "".join(f"<th>{int(g)}</th>" for g in table.columns)
    rows = []
    for name, counts in table.iterrows():
        cells = []
        for g, n in counts.items():
            alpha = 0 if n == 0 else 0.12 + 0.88 * n / peak
            colour = "#fff" if alpha > 0.6 else "#222"
            title = f"{int(n)} bitten in {_esc(name)}, generation {int(g)}"
            cells.append(
                f'<td style="background:rgba(192,57,43,{alpha:.2f});color:{colour}" '
                f'title="{title}">{int(n) or ""}</td>'
            )
        rows.append(f'<tr><td class="t">{_esc(name)}</td>{"".join(cells)}<td>{int(counts.sum())}</td></tr>')
    totals = "".join(f"<td>{int(v)}</td>" for v in table.sum(axis=0))
    return (
        '<div class="scroll"><table class="heat" id="gen-room"><caption>Bites by generation (across) and '
        f"by the room they happened in</caption><thead><tr><th>room \\ generation</th>{head}"
        f"<th>all</th></tr>"
        f'</thead><tbody>{"".join(rows)}<tr class="sum"><td class="t">all</td>{totals}'
        f"<td>{len(tree)}</td></tr></tbody></table></div>"
    )


#: Names listed for the victims who bit nobody, under each biter, before "and N more".
MAX_LEAVES = 12


def transmission_tree_html(result: Result, tree) -> str:
    """Who bit whom as a collapsible list: each biter a ``<details>`` holding those they bit.

    Those who bit nobody are named in one line under their biter, so a thousand bites make a few
    hundred nested entries, opened one level deep. Each time jumps the replay there.
    """
    if not len(tree):
        return ""
    when = dict(zip(tree["agent"].tolist(), tree["bitten_s"].tolist(), strict=True))
    info = {int(r.agent): r for r in tree.itertuples()}
    children: dict[int, list[int]] = {}
    for v, b in zip(tree["agent"].tolist(), tree["biter"].tolist(), strict=True):
        children.setdefault(int(b), []).append(int(v))
    for kids in children.values():
        kids.sort(key=lambda k: when[k])
    downstream: dict[int, int] = {}
    for v in sorted(info, key=lambda k: -info[k].generation):  # deepest first
        downstream[v] = sum(1 + downstream.get(k, 0) for k in children.get(v, []))

    def jump(seconds: float) -> str:
        return (
            f'<a href="#s-replay" class="jump" data-replay-time="{seconds:g}">'
            f"{_esc(result.clock(seconds))}</a>"
        )

    def node(v: int, depth: int) -> str:
        r = info[v]
        kids = children.get(v, [])
        where = f" in {_esc(r.room)}" if isinstance(r.room, str) else ""
        head = (
            f"<b>{_esc(r.name)}</b> ({_esc(r.role)}), bitten {jump(r.bitten_s)}{where}, "
            f"gen. {int(r.generation)}"
        )
        if not kids:
            return f"<li>{head}</li>"
        spreaders = [k for k in kids if children.get(k)]
        leaves = [k for k in kids if not children.get(k)]
        parts = [node(k, depth + 1) for k in spreaders]
        if leaves:
            names = ", ".join(_esc(info[k].name) for k in leaves[:MAX_LEAVES])
            more = f" and {len(leaves) - MAX_LEAVES} more" if len(leaves) > MAX_LEAVES else ""
            parts.append(f'<li class="leaves">{len(leaves)} who bit nobody: {names}{more}</li>')
        opened = " open" if depth < 1 else ""
        return (
            f"<li><details{opened}><summary>{head}: bit {len(kids)}, {downstream[v]} in all downstream"
            f"</summary><ul>{''.join(parts)}</ul></details></li>"
        )

    roots = [k for k in children if k < 0 or k not in info]
    items = "".join(node(v, 0) for r in roots for v in children[r])
    return f'<ul class="tree" id="tree-list">{items}</ul>'
