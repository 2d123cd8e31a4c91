"""Result: one run as pandas tables (counts, events, agents, frames) plus what the report needs.

A Result is built once from a finished :class:`~hyosan.engine.Simulation` (its recorder's raw
arrays, the population's names and the world's rooms) and is what ``hyosan.simulate`` returns;
:func:`hyosan.results.store.load` rebuilds the same object from a saved run folder. Everything
downstream (analysis, chronicle, report) reads only a Result, never the engine, so a report can
be rebuilt from the folder alone.

Tables (schemas in docs/results.md):

- ``counts``: one row per (tick, role): the number of agents in each state, and the human group
  (human + bitten) and zombie group (zombie + halfbie);
- ``events``: one row per event, agents named, with room, floor and position;
- ``agents``: one row per agent: who they were and what became of them;
- ``frames`` (built on demand): positions, states and modes every ``frame_every``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hyosan.agents import Mode
from hyosan.results import plots
from hyosan.states import EVENT_NAMES, STATE_NAMES, EventKind, State
from hyosan.world.tiles import Tile

if TYPE_CHECKING:
    from pathlib import Path

    from hyosan.engine import Simulation

#: Who bit patient zero: the ``bitten_by`` code of a scenario event (the lab rat).
BY_SCENARIO = -2
#: The name shown for that biter (the scenario's patient_zero event says who or what it was).
SCENARIO_NAME = "(scenario)"
#: Event kinds whose column ``b`` is a door index in the engine's buffer (moved to ``door``).
DOOR_KINDS = (EventKind.DOOR_OPEN, EventKind.DOOR_BREACH, EventKind.BARRICADE)
MODE_NAMES = {
    Mode.CALM: "calm", Mode.FLEE: "flee", Mode.HIDE: "hide", Mode.HIDDEN: "hidden", Mode.HOLD: "hold",
    Mode.WANDER: "wander", Mode.CHASE: "chase", Mode.SEEK: "seek",
}  # fmt: skip


@dataclass
class WorldInfo:
    """The parts of the map a report and the analysis need (saved as world.npz)."""

    name: str
    floors: list[str]
    tiles: np.ndarray  # (floors, H, W) uint8 Tile codes
    room_id: np.ndarray  # (floors, H, W) int16, -1 = no room
    rooms: pd.DataFrame  # id, name, kind, floor

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(v) for v in self.tiles.shape)

    def place(self, cells: np.ndarray) -> pd.DataFrame:
        """Floor, x, y and room name of flat cells (-1 = off the map: all missing)."""
        cells = np.asarray(cells, dtype=np.int64)
        _, h, w = self.shape
        on = cells >= 0
        safe = np.where(on, cells, 0)
        floor = np.where(on, safe // (h * w), -1)
        y = np.where(on, (safe % (h * w)) // w, -1)
        x = np.where(on, safe % w, -1)
        rid = np.where(on, self.room_id.ravel()[safe], -1)
        tile = self.tiles.ravel()[safe]
        room_names = np.asarray([*self.rooms["name"].tolist(), ""], dtype=object)
        # Tiles outside every room get a readable place: a corridor, the stairs, outside.
        generic = np.select(
            [tile == Tile.STAIRS, tile == Tile.OUTDOOR, tile == Tile.EXIT, tile == Tile.DOOR],
            ["stairs", "outside", "an exit", "a doorway"],
            "a corridor",
        ).astype(object)
        place = np.where(rid >= 0, room_names[rid], generic)
        floor_names = np.asarray([*self.floors, None], dtype=object)
        return pd.DataFrame(
            {
                "floor": pd.Series(floor_names[np.where(on, floor, len(self.floors))], dtype="string"),
                "x": pd.Series(x, dtype="Int32").mask(~on),
                "y": pd.Series(y, dtype="Int32").mask(~on),
                "room": pd.Series(np.where(on, place, None), dtype="string"),
                "in_room": rid >= 0,
            }
        )


@dataclass
class Result:
    """One run: its summary, tables and frames. ``hyosan.simulate`` returns one; so does ``load``."""

    summary_data: dict[str, Any]
    scenario_toml: str
    counts: pd.DataFrame
    events: pd.DataFrame
    agents: pd.DataFrame
    world: WorldInfo
    frame_ticks: np.ndarray  # (F,) int32
    frame_cells: np.ndarray  # (F, N) int32 flat cells, -1 off the map
    frame_states: np.ndarray  # (F, N) int8 State
    frame_modes: np.ndarray  # (F, N) int8 Mode
    extra: dict[str, Any] = field(default_factory=dict)

    # -- basic facts --------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """The summary (the content of summary.json; schema in docs/results.md)."""
        return self.summary_data

    @property
    def tick_seconds(self) -> float:
        return float(self.summary_data["tick_s"])

    @property
    def start_clock_s(self) -> float:
        return float(self.summary_data["start_clock_s"])

    @property
    def duration_s(self) -> float:
        return float(self.summary_data["duration_s"])

    @property
    def n_agents(self) -> int:
        return len(self.agents)

    @property
    def role_names(self) -> list[str]:
        return list(self.summary_data["population"])

    @property
    def timeline(self) -> list[dict[str, Any]]:
        """The scenario's timeline events with the time each fired (``fired_s`` None if never)."""
        return self.summary_data.get("timeline", [])

    def clock(self, seconds: float) -> str:
        """Seconds since the start as a clock time, e.g. ``08:41:12``."""
        from hyosan.scenario.timefmt import format_clock

        return format_clock(self.start_clock_s + float(seconds))

    def totals(self) -> pd.DataFrame:
        """Counts summed over roles: one row per tick, a column per state and per group."""
        cols = [*STATE_NAMES, "human_group", "zombie_group"]
        return self.counts.groupby("time_s", sort=True)[cols].sum()

    @cached_property
    def frames(self) -> pd.DataFrame:
        """Positions, states and modes every ``frame_every``: one row per (frame, agent)."""
        f, n = self.frame_cells.shape
        place = self.world.place(self.frame_cells.ravel())
        modes = np.asarray([MODE_NAMES.get(m, str(m)) for m in range(max(MODE_NAMES) + 1)], dtype=object)
        return pd.DataFrame(
            {
                "tick": np.repeat(self.frame_ticks, n),
                "time_s": np.repeat(self.frame_ticks * self.tick_seconds, n),
                "agent": np.tile(np.arange(n, dtype=np.int32), f),
                "floor": place.floor,
                "x": place.x,
                "y": place.y,
                "state": pd.Categorical.from_codes(self.frame_states.ravel(), categories=list(STATE_NAMES)),
                "mode": pd.Categorical(modes[self.frame_modes.ravel()], categories=list(MODE_NAMES.values())),
            }
        )

    # -- notebooks (hyosan.results.plots draws; matplotlib is loaded only when asked) ----------
    def __repr__(self) -> str:
        return plots.short_repr(self)

    def _repr_html_(self) -> str:
        return plots.summary_html(self)

    def plot(self, what: str = "states", **options: Any):
        """The run's main figure: ``"states"``, ``"groups"`` or ``"roles"`` over time, the timeline's
        events marked; options in :func:`hyosan.results.plots.plot`. Returns the Figure."""
        return plots.plot(self, what, **options)

    # -- analysis, chronicle, report, saving ------------------------------------------------
    def tree(self) -> pd.DataFrame:
        """Who bit whom (one row per bitten agent); see :func:`hyosan.results.analysis.transmission_tree`."""
        from hyosan.results.analysis import transmission_tree

        return transmission_tree(self)

    def milestones(self) -> pd.DataFrame:
        from hyosan.results.analysis import milestones

        return milestones(self)

    def chronicle(self) -> str:
        """The narrated timeline as Markdown (written as chronicle.md)."""
        from hyosan.results.chronicle import chronicle

        return chronicle(self)

    def report(self, path: str | Path) -> Path:
        """Write the self-contained HTML report to ``path``."""
        from hyosan.report import write_report

        return write_report(self, path)

    def save(self, folder: str | Path) -> Path:
        """Write the run folder (atomically); see :func:`hyosan.results.store.save`."""
        from hyosan.results.store import save

        return save(self, folder)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_simulation(cls, sim: Simulation) -> Result:
        """Tables from a finished (or paused) simulation."""
        raw = sim.recorder.result()
        w = sim.world
        rooms = pd.DataFrame(
            {
                "id": np.arange(len(w.rooms), dtype=np.int32),
                "name": pd.Series([r.name for r in w.rooms], dtype="string"),
                "kind": pd.Series([r.kind for r in w.rooms], dtype="string"),
                "floor": pd.Series([w.floors[r.floor] for r in w.rooms], dtype="string"),
            }
        )
        world = WorldInfo(w.name, list(w.floors), w.tiles.astype(np.uint8), w.room_id.astype(np.int16), rooms)
        pop = sim.pop
        names = np.asarray(pop.names(), dtype=object)
        roles = np.asarray(raw.role_names, dtype=object)[pop.role]
        summary = raw.summary()
        summary["timeline"] = _timeline(sim, raw.events)
        summary["frame_every_s"] = sim.recorder.frame_every * raw.tick_seconds
        summary["characters"] = sorted(pop.characters.values())
        summary["role_labels"] = {r: (cfg.label or f"{r}s") for r, cfg in sim.scenario.roles.items()}
        events = _events_table(raw, world, names, roles, sim.scenario.events, pop.halfbie)
        agents = _agents_table(sim, raw, world, names, roles, events)
        counts = counts_table(raw.counts, raw.role_names, raw.tick_seconds)
        from hyosan.scenario.resolved import resolved_toml

        result = cls(
            summary_data=summary,
            scenario_toml=resolved_toml(sim.loaded, sim.seed),
            counts=counts,
            events=events,
            agents=agents,
            world=world,
            frame_ticks=raw.frame_ticks,
            frame_cells=raw.frame_cells,
            frame_states=raw.frame_states,
            frame_modes=raw.frame_modes,
            extra={"map_path": str(sim.loaded.map_path())},
        )
        from hyosan.results.analysis import milestones

        result.summary_data["milestones"] = {
            row.key: row.time_s for row in milestones(result).itertuples() if not pd.isna(row.time_s)
        }
        return result


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


def _names_of(ids: np.ndarray, names: np.ndarray, scenario_name: str = "") -> pd.Series:
    ids = np.asarray(ids)
    out = np.where(ids >= 0, names[np.clip(ids, 0, max(len(names) - 1, 0))] if len(names) else "", None)
    out = np.where(ids == BY_SCENARIO, scenario_name or None, out)
    return pd.Series(out, dtype="string")


def _events_table(raw, world: WorldInfo, names, roles, scenario_events, halfbie) -> pd.DataFrame:
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
            "a_name": _names_of(a, names, SCENARIO_NAME),
            "a_role": _names_of(a, roles),
            "b": b,
            "b_name": _names_of(b, names),
            "b_role": _names_of(b, roles),
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


def _agents_table(sim, raw, world: WorldInfo, names, roles, events: pd.DataFrame) -> pd.DataFrame:
    pop = sim.pop
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
            "bitten_by_name": _names_of(pop.bitten_by, names, SCENARIO_NAME),
            "first_case": first_patient,
            "turned_s": turned,
            "bites": pop.bites.astype(np.int32),
            "kills": kills.astype(np.int32),
            "last_floor": last_place.floor,
            "last_room": last_place.room,
        }
    )


def _timeline(sim, events: pd.DataFrame) -> list[dict[str, Any]]:
    fired = events[events.kind == "scenario"]
    when = dict(zip(fired["b"].to_numpy().tolist(), (fired["tick"] * sim.tick_seconds).tolist(), strict=True))
    out = []
    for i, e in enumerate(sim.scenario.events):
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


__all__ = ["EVENT_NAMES", "Result", "WorldInfo", "counts_table"]
