"""The run report: one self-contained HTML file (no network, works from file://).

Sections: the summary (each number carries ``data-summary="key.path"``, the key in
summary.json it shows), the milestones, the charts (matplotlib PNGs as data URLs), the
transmission tree, survival, places, the chronicle (Markdown rendered with HTML disabled, so
names containing markup stay text) and the animated replay (:mod:`hyosan.report.replay`).
Every string from a scenario or a run goes through :func:`html.escape` or the replay's
``textContent``; nothing user-written is ever parsed as HTML.
"""

from __future__ import annotations

import html
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from markdown_it import MarkdownIt

from hyosan.io import write_text
from hyosan.report import charts, story
from hyosan.report.replay import (
    PAGE_CSP,
    embed_json,
    palette_script,
    replay_css,
    replay_data_script,
    replay_html,
    replay_js,
    replay_payload,
)
from hyosan.report.svg import SVG_CSS
from hyosan.report.theme import PAGE_CSS
from hyosan.results import analysis
from hyosan.scenario.timefmt import format_duration
from hyosan.states import STATE_NAMES

if TYPE_CHECKING:
    from hyosan.results.result import Result

e = html.escape


def _num(value: Any, key: str, fmt: str = "{}") -> str:
    """A number from summary.json, tagged with its key so a test can check the page shows it."""
    shown = "n/a" if value is None else fmt.format(value)
    return f'<span data-summary="{e(key)}">{e(shown)}</span>'


def _table(frame: pd.DataFrame, caption: str = "", max_rows: int | None = None) -> str:
    frame = frame if max_rows is None else frame.head(max_rows)
    head = "".join(f"<th>{e(str(c))}</th>" for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for v in row:
            number = isinstance(v, int | float | np.number) and not isinstance(v, bool)
            if isinstance(v, float):
                v = "" if np.isnan(v) else f"{v:.3g}"
            elif v is None or v is pd.NA:
                v = ""
            cells.append(f"<td>{e(str(v))}</td>" if number else f'<td class="t">{e(str(v))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{e(caption)}</caption>" if caption else ""
    # Each table scrolls inside its own box: a wide one never makes the page scroll sideways.
    body = "".join(rows)
    table = f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="scroll">{table}</div>'


def _when(result: Result, seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and np.isnan(seconds)):
        return "never"
    return f"{result.clock(seconds)} (+{format_duration(seconds)})"


def _jump(result: Result, seconds: float, text: str, floor: int = -1) -> str:
    """A link that jumps the replay to ``seconds`` since the start (and to ``floor`` if >= 0)."""
    where = f' data-replay-floor="{floor}"' if floor >= 0 else ""
    return (
        f'<a href="#s-replay" class="jump" data-replay-time="{seconds:g}"{where} '
        f'title="Show this moment in the replay">{e(text)}</a>'
    )


def _milestones_table(result: Result, milestones: pd.DataFrame, markers: list[dict]) -> str:
    floor_at = {m["time_s"]: m["floor"] for m in markers}
    rows = []
    for m in milestones.itertuples():
        if pd.isna(m.time_s):
            when = "never"
        else:
            t = float(m.time_s)
            when = _jump(result, t, result.clock(t), floor_at.get(t, -1)) + f" (+{e(format_duration(t))})"
        rows.append(f'<tr><td class="t">{e(str(m.label))}</td><td class="t">{when}</td></tr>')
    return (
        '<div class="scroll"><table><thead><tr><th>milestone</th><th>clock</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


_CHRONICLE_TIME = re.compile(r"<li><strong>(\d\d):(\d\d):(\d\d)</strong>")


def _chronicle_html(result: Result) -> str:
    """The chronicle as HTML (markup in names stays text); each line's time jumps the replay."""
    rendered = MarkdownIt("commonmark", {"html": False}).render(result.chronicle())

    def link(match: re.Match) -> str:
        h, m, sec = (int(g) for g in match.groups())
        since = (h * 3600 + m * 60 + sec - result.start_clock_s) % 86400
        return f"<li><strong>{_jump(result, since, match.group(0)[12:20])}</strong>"

    return _CHRONICLE_TIME.sub(link, rendered)


def _summary_section(result: Result, test: dict) -> str:
    s = result.summary()
    cards = [
        ("agents", _num(s["agents"], "agents")),
        ("human group at the end", _num(s["groups"]["human_group"], "groups.human_group")),
        ("zombie group at the end", _num(s["groups"]["zombie_group"], "groups.zombie_group")),
        ("escaped", _num(s["groups"]["escaped"], "groups.escaped")),
        ("rescued", _num(s["groups"]["rescued"], "groups.rescued")),
        ("dead", _num(s["groups"]["dead"], "groups.dead")),
    ]
    for label, v in s["survivors"].items():
        cards.append(
            (
                f"{label} survived, never bitten",
                _num(v["survived"], f"survivors.{label}.survived")
                + " of "
                + _num(v["total"], f"survivors.{label}.total"),
            )
        )
    bitten = s.get("bitten_alive", {})
    if bitten:
        cards.append(("bitten: rescued and isolated", _num(bitten.get("rescued"), "bitten_alive.rescued")))
        cards.append(("bitten: escaped", _num(bitten.get("escaped"), "bitten_alive.escaped")))
    out = ['<div class="cards">']
    out += [f'<div class="card"><b>{v}</b><span>{e(k)}</span></div>' for k, v in cards]
    out.append("</div>")
    rows = []
    for state in STATE_NAMES:
        cells = "".join(
            f"<td>{_num(s['final_by_role'][r][state], f'final_by_role.{r}.{state}')}</td>"
            for r in s["final_by_role"]
        )
        rows.append(
            f"<tr><td>{e(state)}</td>{cells}<td>{_num(s['final'][state], f'final.{state}')}</td></tr>"
        )
    head = "".join(f"<th>{e(r)}</th>" for r in s["final_by_role"])
    out.append(
        f'<div class="scroll"><table><caption>Final state by role</caption><thead><tr><th>state</th>'
        f"{head}"
        f"<th>all</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    first = s["first_turn_s"]
    half = s["half_infected_s"]
    out.append(
        "<p>First turn: " + _num(first, "first_turn_s", "{:g}") + f" s, {e(_when(result, first))}. "
        "Half of everyone infected: "
        + _num(half, "half_infected_s", "{:g}")
        + f" s, {e(_when(result, half))}.</p>"
    )
    if test.get("pvalue") is not None:
        out.append(
            f"<p>Adults vs students, time to being bitten: log-rank z = {test['statistic']:.3g}, "
            f"p = {test['pvalue']:.3g}.</p>"
        )
    return "\n".join(out)


def run_payload(result: Result) -> dict:
    """The replay's payload of a run (what report.html embeds; the studio sends it too)."""
    return _payload(result, result.milestones())


def _payload(result: Result, milestones: pd.DataFrame) -> dict:
    a = result.agents
    door_cells, door_states = story.door_frames(result)
    fates = [
        f"{f}" + ("" if pd.isna(t) or f == "human" else f" at {result.clock(t)}")
        for f, t in zip(a["fate"].astype(str), a["fate_s"], strict=True)
    ]
    return replay_payload(
        tiles=result.world.tiles,
        floor_names=result.world.floors,
        frame_times_s=result.frame_ticks * result.tick_seconds,
        frame_cells=result.frame_cells,
        frame_states=result.frame_states,
        names=a["name"].astype(str).tolist(),
        roles=a["role"].astype(str).tolist(),
        fates=fates,
        markers=story.markers(result, milestones),
        state_names=list(STATE_NAMES),
        clock_start_s=result.start_clock_s,
        characters=a.index[a["character"].to_numpy(dtype=bool)].tolist(),
        rooms=story.room_labels(result),
        door_cells=door_cells,
        door_states=door_states,
        door_state_names=story.DOOR_STATE_NAMES,
        helicopters=story.helicopters(result),
        room_ids=result.world.room_id,
        room_names=result.world.rooms["name"].astype(str).tolist(),
        bitten_by=["" if pd.isna(n) else str(n) for n in a["bitten_by_name"]],
        bitten_s=a["bitten_s"].to_numpy(dtype=float),
    )


def build_report(result: Result) -> str:
    """The report of ``result`` as one HTML string."""
    s = result.summary()
    test = analysis.logrank(result, by="adult")
    milestones = result.milestones()
    tree = result.tree()
    chronicle = _chronicle_html(result)
    payload = _payload(result, milestones)
    by_floor = analysis.places_by_floor(result)
    rooms = analysis.places(result)
    rooms = rooms[rooms["room"].isin(result.world.rooms["name"])]  # rooms, not corridors
    gens = tree.groupby("generation").size().rename("bitten").reset_index() if len(tree) else pd.DataFrame()
    spreaders = (
        tree.sort_values("offspring", ascending=False).head(10)[
            ["name", "role", "generation", "offspring", "fate"]
        ]
        if len(tree)
        else pd.DataFrame()
    )
    columns = ["name", "role", "start_room", "fate", "fate_s", "bitten_by_name", "bites", "kills"]
    chars = result.agents[result.agents["character"]][columns].copy()
    chars["fate_s"] = [
        _when(result, t) if f != "human" else "" for f, t in zip(chars["fate"], chars["fate_s"], strict=True)
    ]
    chars = chars.rename(columns={"fate_s": "when", "bitten_by_name": "bitten by"})
    title = f"{s['title']}: seed {s['seed']}"
    sections = [
        ("summary", "Summary", _summary_section(result, test)),
        ("replay", "Replay", replay_html()),
        ("milestones", "Milestones", _milestones_table(result, milestones, payload["markers"])),
        ("charts", "Over time", charts.counts_svg(result) + charts.groups_svg(result)),
        (
            "survival",
            "Survival",
            f'<img class="chart" alt="survival curves" src="{charts.survival_chart(result, test)}">',
        ),
        (
            "tree",
            "Transmission",
            f'<img class="chart" alt="reproduction number" src="{charts.reproduction_chart(result)}">'
            + charts.generation_room_table(tree)
            + f"<details open><summary>Who bit whom ({len(tree)} bites)</summary>"
            + charts.transmission_tree_html(result, tree)
            + "</details>"
            + _table(gens, "Bitten per generation")
            + _table(spreaders, "Who bit the most"),
        ),
        ("characters", "Characters", _table(chars)),
        (
            "places",
            "Places",
            f'<img class="chart" alt="heat maps" src="{charts.heat_chart(result)}">'
            + _table(by_floor, "By floor")
            + f"<details><summary>By room</summary>{_table(rooms)}</details>",
        ),
        ("chronicle", "Chronicle", f'<div class="chronicle" id="chronicle">{chronicle}</div>'),
    ]
    nav = " ".join(f'<a href="#s-{key}">{e(label)}</a>' for key, label, _ in sections)
    body = "\n".join(
        f'<section id="s-{key}"><h2>{e(label)}</h2>\n{content}</section>' for key, label, content in sections
    )
    sub = (
        f"{s['agents']} agents, {format_duration(s['duration_s'])} from {result.clock(0)}; "
        f"hyosan {s['version']}; scenario {s['scenario']}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{PAGE_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>{PAGE_CSS}\n{SVG_CSS}\n{replay_css()}</style>\n</head>\n<body>\n<main>\n"
        f'<h1>{e(s["title"])}</h1>\n<p class="sub">{e(sub)}</p>\n<nav>{nav}</nav>\n{body}\n</main>\n'
        f"{replay_data_script(payload)}\n{palette_script()}\n"
        f'<script type="application/json" id="summary-data">{embed_json(s)}</script>\n'
        f"<script>\n{replay_js()}</script>\n</body>\n</html>\n"
    )


def write_report(result: Result, path: str | Path) -> Path:
    """Build the report and write it atomically; returns the path."""
    t0 = time.perf_counter()
    text = build_report(result)
    write_text(path, text)
    result.extra["report_build_s"] = time.perf_counter() - t0
    return Path(path)
