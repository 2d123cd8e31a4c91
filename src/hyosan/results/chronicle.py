"""The chronicle: a run told in plain English, as Markdown.

It follows the named characters to their fates, tells the milestones and the timeline's
events, and keeps to a readable length by summarising crowds: bites close in time among the
members of one group become one line ("14 students of classroom 2-5 are bitten in a corridor
on 2F within 2 minutes"), and what is left is counted in a status line every half hour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hyosan.scenario.timefmt import format_duration

if TYPE_CHECKING:
    from hyosan.results.result import Result

#: Bites among one group within this window are told together...
CROWD_WINDOW_S = 120.0
#: ...when there are at least this many of them.
CROWD_MIN = 5
#: A status line (who is left) every this often, with the bites not told otherwise.
STATUS_EVERY_S = 1800.0
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md(text: object) -> str:
    """User text (names, room names) made inert in Markdown: its specials are escaped."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def the(room: str) -> str:
    """A room's name as a noun phrase: "the science lab", but "classroom 2-5" (numbered)."""
    return md(room) if any(ch.isdigit() for ch in room) else f"the {md(room)}"


def where(room: object, floor: object) -> str:
    """A place as a phrase: "in the science lab", "in classroom 2-5", "on the stairs of 2F"."""
    if room is None or pd.isna(room):
        return "off the map"
    room, floor = str(room), str(floor)
    generic = {
        "a corridor": f"in a corridor on {floor}",
        "stairs": f"on the stairs of {floor}",
        "outside": "outside",
        "an exit": "at an exit",
        "a doorway": f"in a doorway on {floor}",
    }
    if room in generic:
        return generic[room]
    return f"in {the(room)}"


@dataclass(order=True)
class Line:
    time_s: float
    order: int  # ties: timeline first, then milestones, characters, crowds, status
    text: str


def _role_label(result: Result, role: str, count: int) -> str:
    if count == 1:
        return md(role)
    labels = result.summary().get("role_labels", {})
    return md(labels.get(role) or f"{role}s")


def chronicle(result: Result) -> str:
    """The chronicle of ``result`` as Markdown."""
    s = result.summary()
    ev = result.events
    agents = result.agents
    lines: list[Line] = []

    # The timeline's events (one line for several that fire together with the same kind).
    fired = [t for t in result.timeline if t["fired_s"] is not None]
    by_moment: dict[tuple[str, float], list[dict]] = {}
    for t in fired:
        by_moment.setdefault((t["kind"], t["fired_s"]), []).append(t)
    for (kind, t), items in by_moment.items():
        first = items[0]
        text = (
            md(first["text"])
            if first["text"]
            else md(kind.replace("_", " ").capitalize())
            + (f" ({md(first['area'])})" if first["area"] and first["area"] != "*" else "")
        )
        if len(items) > 1:
            text += f" (The same in {len(items) - 1} more place{'s' if len(items) > 2 else ''}.)"
        lines.append(Line(t, 0, text))

    # Milestones (the timeline's own are told above).
    zero = {t["fired_s"] for t in fired if t["kind"] == "patient_zero"}
    for m in result.milestones().itertuples():
        if m.key == "first_bite" and m.time_s in zero:
            continue
        if pd.isna(m.time_s) or m.key.split("_")[0] in {
            "patient",
            "alarm",
            "broadcast",
            "cordon",
            "lift",
            "rescue",
            "strike",
            "goal",
        }:
            continue
        lines.append(Line(float(m.time_s), 1, f"**Milestone:** {md(m.label)}."))

    # The named characters, to their fates.
    chars = agents[agents["character"]]
    told_bites: set[int] = set()
    for c in chars.itertuples():
        name = f"**{md(c.name)}**"
        mine = ev[(ev["a"] == c.agent) | (ev["b"] == c.agent)]
        killed = 0
        # What they are when they fall: a zombie or a halfbie (as they began, or as they turned).
        kind = c.start_state if c.start_state in ("zombie", "halfbie") else "zombie"
        for e in mine.itertuples():
            place = where(e.room, e.floor)
            if e.kind == "bite" and e.b == c.agent:
                told_bites.add(int(c.agent))
                if e.a >= 0:  # a bite by the scenario (the lab rat) is told by its timeline event
                    lines.append(Line(e.time_s, 2, f"{name} is bitten by {_who(agents, e.a)} {place}."))
            elif e.kind == "bite" and e.a == c.agent:
                lines.append(Line(e.time_s, 2, f"{name} bites {_who(agents, e.b)} {place}."))
                told_bites.add(int(e.b))
            elif e.kind == "turn" and e.a == c.agent:
                kind = "halfbie" if e.detail == "halfbie" else "zombie"
                mind = ", but keeps their mind: a halfbie" if kind == "halfbie" else ""
                lines.append(Line(e.time_s, 2, f"{name} turns {place}{mind}."))
            elif e.kind == "hold" and e.a == c.agent:
                lines.append(
                    Line(e.time_s, 2, f"{name}, bitten, stays behind to hold the zombies off {place}.")
                )
            elif e.kind == "kill" and e.a == c.agent:
                killed += 1
                if killed == 1:
                    lines.append(Line(e.time_s, 2, f"{name} fights back and kills a zombie {place}."))
            elif e.kind == "kill" and e.b == c.agent:
                lines.append(Line(e.time_s, 2, f"{name}, a {kind} now, is destroyed {place}."))
            elif e.kind == "death" and e.a == c.agent:
                lines.append(Line(e.time_s, 2, f"{name} dies {place}."))
            elif e.kind == "escape" and e.a == c.agent:
                lines.append(Line(e.time_s, 2, f"{name} escapes the school {place}."))
            elif e.kind == "rescue" and e.a == c.agent:
                lines.append(Line(e.time_s, 2, f"{name} is rescued {place}."))
            elif e.kind == "isolate" and e.a == c.agent:
                lines.append(
                    Line(e.time_s, 2, f"{name}, found bitten at the screening, is isolated {place}.")
                )
        if killed > 1:
            last = mine[(mine["kind"] == "kill") & (mine["a"] == c.agent)]["time_s"].max()
            lines.append(Line(float(last), 2, f"{name} has now killed {killed} zombies."))

    # Crowds: bites among one group close in time.
    bites = ev[ev["kind"] == "bite"]
    bites = bites[~bites["b"].isin(list(told_bites))]
    victims = agents.set_index("agent").loc[bites["b"].to_numpy()]
    key = victims["group_label"].fillna(victims["start_room"]).fillna("").to_numpy(dtype=object)
    crowd = np.zeros(len(bites), dtype=bool)
    times = bites["time_s"].to_numpy()
    roles = victims["role"].astype(str).to_numpy()
    rooms, floors = bites["room"].to_numpy(dtype=object), bites["floor"].to_numpy(dtype=object)
    for k in pd.unique(key):
        idx = np.flatnonzero(key == k)
        start = 0
        while start < idx.size:
            end = start
            while end + 1 < idx.size and times[idx[end + 1]] - times[idx[start]] <= CROWD_WINDOW_S:
                end += 1
            sel = idx[start : end + 1]
            if sel.size >= CROWD_MIN:
                crowd[sel] = True
                role = pd.Series(roles[sel]).mode().iloc[0]
                room = pd.Series(rooms[sel]).mode().iloc[0]
                floor = floors[sel][0]
                span = times[sel[-1]] - times[sel[0]]
                of = f" of {the(k)}" if k else ""
                within = f" within {format_duration(max(span, 1))}" if span >= 60 else " at once"
                lines.append(
                    Line(
                        times[sel[0]],
                        3,
                        f"{sel.size} {_role_label(result, role, sel.size)}{of} "
                        f"are bitten {where(room, floor)}{within}.",
                    )
                )
            start = end + 1

    # Status every half hour, with the bites not told otherwise.
    totals = result.totals()
    untold = times[~crowd]
    t = STATUS_EVERY_S
    while t <= result.duration_s + 1e-9:
        row = totals.iloc[totals.index.get_indexer([t], method="ffill")[0]]
        n_untold = int(((untold > t - STATUS_EVERY_S) & (untold <= t)).sum())
        more = f" {n_untold} more bitten here and there since the last count." if n_untold else ""
        status = (
            f"*{int(row['human_group'])} still human, {int(row['zombie'])} zombies, "
            f"{int(row['halfbie'])} halfbies; {int(row['escaped'])} escaped, "
            f"{int(row['rescued'])} rescued, {int(row['dead'])} dead.*"
        )
        lines.append(Line(t, 4, status + more))
        if row["human_group"] == 0 and row["zombie"] + row["halfbie"] == 0:
            break
        t += STATUS_EVERY_S

    lines.sort()
    out = [f"# {md(s['title'])}: the chronicle", "", _opening(result), ""]
    out += [f"- **{result.clock(line.time_s)}**: {line.text}" for line in lines]
    out += ["", _ending(result), ""]
    return "\n".join(out)


def _who(agents: pd.DataFrame, i: int) -> str:
    row = agents.iloc[int(i)]
    name = md(row["name"])
    return f"**{name}**" if row["character"] else f"{name} ({md(row['role'])})"


def _opening(result: Result) -> str:
    s = result.summary()
    pop = ", ".join(f"{n} {_role_label(result, r, n)}" for r, n in s["population"].items() if n)
    return (
        f"{s['agents']} people ({pop}) at {md(s['title'])}, from {result.clock(0)} for "
        f"{format_duration(s['duration_s'])}; seed {s['seed']}, hyosan {s['version']}."
    )


def _ending(result: Result) -> str:
    s = result.summary()
    parts = []
    for label, v in s["survivors"].items():
        if v["total"]:
            parts.append(f"{v['survived']} of {v['total']} {label}")
    g = s["groups"]
    b = s.get("bitten_alive", {})
    bitten = ""
    if any(b.values()):
        bitten = (
            f" Bitten, no survivors: {b.get('rescued', 0)} rescued and isolated, "
            f"{b.get('escaped', 0)} escaped, {b.get('human', 0)} still among the humans."
        )
    return (
        f"**The end.** Survived, never bitten: {', '.join(parts)}.{bitten} The human group ends at "
        f"{g['human_group']}, the zombie group at {g['zombie_group']}; {g['escaped']} escaped, "
        f"{g['rescued']} were rescued and {g['dead']} are dead."
    )
