"""Building a run's tables from what the recorder captured: counts, events, agents, the timeline
and the map's rooms (schemas in docs/results.md). The recorder (:mod:`hyosan.record`) calls these
once, at the end of a run, to make its :class:`~hyosan.results.result.Result`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hyosan.agents import Population
from hyosan.results.result import BY_SCENARIO, DOOR_KINDS, SCENARIO_NAME, WorldInfo
from hyosan.states import STATE_NAMES, EventKind, State
from hyosan.world import World


@dataclass
class RunRecord:
    """What the recorder captured of a run: counts per tick, the raw events, frames."""

    tick_seconds: float
    role_names: list[str]
    adult_roles: list[str]
    counts: np.ndarray  # (ticks run + 1, states, roles)
    events: pd.DataFrame  # tick, kind, a, b, cell
    agent_state: np.ndarray
    bitten_at: np.ndarray
    fate_tick: np.ndarray
    frame_ticks: np.ndarray
    frame_cells: np.ndarray
    frame_states: np.ndarray
    frame_modes: np.ndarray


def world_info(w: World) -> WorldInfo:
    """The parts of the map a report needs (saved as world.npz)."""
    rooms = pd.DataFrame(
        {
            "id": np.arange(len(w.rooms), dtype=np.int32),
            "name": pd.Series([r.name for r in w.rooms], dtype="string"),
            "kind": pd.Series([r.kind for r in w.rooms], dtype="string"),
            "floor": pd.Series([w.floors[r.floor] for r in w.rooms], dtype="string"),
        }
    )
    return WorldInfo(w.name, list(w.floors), w.tiles.astype(np.uint8), w.room_id.astype(np.int16), rooms)


def counts_table(counts: np.ndarray, role_names: list[str], tick_seconds: float) -> pd.DataFrame:
    """Raw counts (ticks, states, roles) as the tidy table: one row per (tick, role)."""
    t, s, r = counts.shape
    flat = counts.transpose(0, 2, 1).reshape(t * r, s)
    table = pd.DataFrame(flat, columns=list(STATE_NAMES)[:s])
    table.insert(0, "tick", np.repeat(np.arange(t, dtype=np.int32), r))
    table.insert(1, "time_s", table["tick"] * float(tick_seconds))
    table.insert(2, "role", pd.Categorical.from_codes(np.tile(np.arange(r), t), categories=role_names))
    table["human_group"] = table["human"] + table["bitten"]
    table["zombie_group"] = table["zombie"] + table["halfbie"]
    return table


def names_of(ids: np.ndarray, names: np.ndarray, scenario_name: str = "") -> pd.Series:
    ids = np.asarray(ids)
    out = np.where(ids >= 0, names[np.clip(ids, 0, max(len(names) - 1, 0))] if len(names) else "", None)
    out = np.where(ids == BY_SCENARIO, scenario_name or None, out)
    return pd.Series(out, dtype="string")


def events_table(raw: RunRecord, world: WorldInfo, names, roles, scenario_events, halfbie) -> pd.DataFrame:
    """One row per event, agents named, with the door or timeline event, floor, room and position."""
    ev = raw.events
    kind_code = ev["kind"].cat.codes.to_numpy()
    a = ev["a"].to_numpy()
    b = ev["b"].to_numpy()
    is_door = np.isin(kind_code, [int(k) for k in DOOR_KINDS])
    is_scenario = kind_code == EventKind.SCENARIO
    door = np.where(is_door, b, -1)
    timeline_index = np.where(is_scenario, b, -1)
    b = np.where(is_door | is_scenario, -1, b)
    detail = np.full(len(ev), None, dtype=object)
    for i in np.flatnonzero(is_scenario):
        e = scenario_events[int(timeline_index[i])]
        detail[i] = e.text or f"{e.kind}" + (f" ({e.area})" if e.area and e.area != "*" else "")
    # A turn says what the agent became (a halfbie keeps its mind).
    turns = np.flatnonzero(kind_code == EventKind.TURN)
    detail[turns] = np.where(halfbie[a[turns]], "halfbie", "zombie")
    place = world.place(ev["cell"].to_numpy())
    tick = ev["tick"].to_numpy()
    table = pd.DataFrame(
        {
            "tick": tick,
            "time_s": tick * raw.tick_seconds,
            "kind": ev["kind"],
            "a": a,
            "a_name": names_of(a, names, SCENARIO_NAME),
            "a_role": names_of(a, roles),
            "b": b,
            "b_name": names_of(b, names),
            "b_role": names_of(b, roles),
            "door": door.astype(np.int32),
            "timeline": timeline_index.astype(np.int32),
            "detail": pd.Series(detail, dtype="string"),
            "floor": place.floor,
            "room": place.room,
            "x": place.x,
            "y": place.y,
            "cell": ev["cell"].to_numpy(),
        }
    )
    # The kernels log in tick order within a call, calls in order: a stable sort keeps it so.
    return table.sort_values("tick", kind="stable").reset_index(drop=True)


def agents_table(
    pop: Population, raw: RunRecord, world: WorldInfo, names, roles, events: pd.DataFrame
) -> pd.DataFrame:
    """One row per agent: who they were and what became of them."""
    n = pop.n
    dt = raw.tick_seconds
    kind = events["kind"].to_numpy()
    start_place = world.place(raw.frame_cells[0])
    # The last place each agent stood on the map (before escaping or being lifted off).
    cells = raw.frame_cells
    on = cells >= 0
    last_on = np.where(on.any(axis=0), cells.shape[0] - 1 - np.argmax(on[::-1], axis=0), 0)
    last_cell = cells[last_on, np.arange(n)].copy()
    # Where they left, were lifted off, or were destroyed: the event's own cell, to the tile.
    for k, who in (("escape", "a"), ("rescue", "a"), ("death", "a"), ("kill", "b")):
        sel = events[kind == k]
        last_cell[sel[who].to_numpy()] = sel["cell"].to_numpy()
    last_place = world.place(last_cell)
    turned = np.full(n, np.nan)
    turns = events[kind == "turn"]
    turned[turns["a"].to_numpy()] = turns["time_s"].to_numpy()
    kills = np.bincount(events.loc[kind == "kill", "a"].to_numpy(), minlength=n)[:n]
    state0 = raw.frame_states[0]
    fate = raw.agent_state
    fate_s = np.full(n, np.nan)
    final = np.isin(fate, (State.DEAD, State.ESCAPED, State.RESCUED))
    fate_s[final] = raw.fate_tick[final] * dt
    became = np.isin(fate, (State.ZOMBIE, State.HALFBIE))
    fate_s[became] = np.where(np.isnan(turned[became]), 0.0, turned[became])
    bitten_now = fate == State.BITTEN
    fate_s[bitten_now] = raw.bitten_at[bitten_now] * dt
    bitten_s = np.where(raw.bitten_at >= 0, raw.bitten_at * dt, np.nan)
    adult_roles = set(raw.adult_roles)
    group = pop.group
    home = start_place.room.to_numpy(dtype=object)
    # A group is named after the room its members started in (a class: "classroom 2-5").
    group_home = pd.Series(home).groupby(group).agg(lambda s: s.mode().iloc[0] if len(s) else None)
    group_label = np.where(group >= 0, group_home.reindex(group).to_numpy(dtype=object), None)
    states = np.asarray(STATE_NAMES, dtype=object)
    first_patient = pop.bitten_by == BY_SCENARIO
    return pd.DataFrame(
        {
            "agent": np.arange(n, dtype=np.int32),
            "name": pd.Series(names, dtype="string"),
            "character": np.isin(np.arange(n), list(pop.characters)),
            "role": pd.Categorical(roles, categories=raw.role_names),
            "adult": np.isin(roles, list(adult_roles)),
            "group": group.astype(np.int32),
            "group_label": pd.Series(group_label, dtype="string"),
            "start_state": pd.Categorical(states[state0], categories=list(STATE_NAMES)),
            "start_floor": start_place.floor,
            "start_room": start_place.room,
            "fate": pd.Categorical(states[fate], categories=list(STATE_NAMES)),
            "fate_s": fate_s,
            "bitten_s": bitten_s,
            "bitten_by": pop.bitten_by.astype(np.int32),
            "bitten_by_name": names_of(pop.bitten_by, names, SCENARIO_NAME),
            "first_case": first_patient,
            "turned_s": turned,
            "bites": pop.bites.astype(np.int32),
            "kills": kills.astype(np.int32),
            "last_floor": last_place.floor,
            "last_room": last_place.room,
        }
    )


def timeline(scenario_events, tick_seconds: float, events: pd.DataFrame) -> list[dict[str, Any]]:
    """The scenario's timeline events with the time each fired (``fired_s`` None if never)."""
    fired = events[events.kind == "scenario"]
    when = dict(zip(fired["b"].to_numpy().tolist(), (fired["tick"] * tick_seconds).tolist(), strict=True))
    out = []
    for i, e in enumerate(scenario_events):
        out.append(
            {
                "index": i,
                "kind": e.kind,
                "area": e.area,
                "who": e.who,
                "text": e.text,
                "fired_s": when.get(i),
            }
        )
    return out
