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
from typing import Any

import numpy as np
import pandas as pd

from hyosan.results import analysis, plots
from hyosan.results import chronicle as narrated
from hyosan.scenario.timefmt import format_day_clock
from hyosan.states import EVENT_NAMES, STATE_NAMES, EventKind, Mode
from hyosan.world.tiles import Tile

#: Who bit patient zero: the ``bitten_by`` code of a scenario event (the lab rat).
BY_SCENARIO = -2
#: The name shown for that biter (the scenario's patient_zero event says who or what it was).
SCENARIO_NAME = "(scenario)"
#: Event kinds whose column ``b`` is a door index in the engine's buffer (moved to ``door``).
DOOR_KINDS = (EventKind.DOOR_OPEN, EventKind.DOOR_SHUT, EventKind.DOOR_BREACH, EventKind.BARRICADE)


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
    #: User tables collected with ``Simulation.collect`` (name -> DataFrame, a ``tick`` column).
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

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

        return format_day_clock(self.start_clock_s + float(seconds))

    def totals(self) -> pd.DataFrame:
        """Counts summed over roles: one row per tick, a column per state and per group."""
        cols = [*STATE_NAMES, "human_group", "zombie_group"]
        return self.counts.groupby("time_s", sort=True)[cols].sum()

    @cached_property
    def frames(self) -> pd.DataFrame:
        """Positions, states and modes every ``frame_every``: one row per (frame, agent)."""
        f, n = self.frame_cells.shape
        place = self.world.place(self.frame_cells.ravel())
        names = Mode.names()
        modes = np.asarray([Mode.name_of(m) for m in range(max(names) + 1)], dtype=object)
        return pd.DataFrame(
            {
                "tick": np.repeat(self.frame_ticks, n),
                "time_s": np.repeat(self.frame_ticks * self.tick_seconds, n),
                "agent": np.tile(np.arange(n, dtype=np.int32), f),
                "floor": place.floor,
                "x": place.x,
                "y": place.y,
                "state": pd.Categorical.from_codes(self.frame_states.ravel(), categories=list(STATE_NAMES)),
                "mode": pd.Categorical(modes[self.frame_modes.ravel()], categories=list(names.values())),
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
        return analysis.transmission_tree(self)

    def milestones(self) -> pd.DataFrame:
        return analysis.milestones(self)

    def chronicle(self) -> str:
        """The narrated timeline as Markdown (written as chronicle.md)."""
        return narrated.chronicle(self)


__all__ = ["EVENT_NAMES", "Result", "WorldInfo"]
