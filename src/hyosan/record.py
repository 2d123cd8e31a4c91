"""What a run writes while it goes (events, frames, user tables) and the one Result it ends with.

The recorder does not know the simulation: the engine hands it the event buffer to drain, the
population to photograph, and at the end a :class:`RunInfo` (what the run was) to build the
:class:`~hyosan.results.result.Result` from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hyosan.agents import Population
from hyosan.results import analysis
from hyosan.results.result import Result
from hyosan.results.summary import summarise
from hyosan.results.tables import (
    RunRecord,
    agents_table,
    counts_table,
    events_table,
    timeline,
    world_info,
)
from hyosan.rules.state import EventBuffer, Frames
from hyosan.states import EVENT_NAMES, State
from hyosan.world import World


@dataclass
class RunInfo:
    """What a run was: the facts its Result records beside the arrays."""

    scenario_key: str
    title: str
    seed: int
    version: str
    tick_seconds: float
    start_seconds: float
    role_names: list[str]
    adult_roles: list[str]
    role_labels: dict[str, str]
    scenario_events: list[Any]  # the scenario's timeline (EventConfig)
    scenario_toml: str  # the resolved scenario.toml
    map_path: str


@dataclass
class Collector:
    """A user table: ``fn(sim)`` every ``every`` ticks gives a dict (one row) or a DataFrame."""

    name: str
    fn: Callable[[Any], Any]
    every: int
    rows: list[pd.DataFrame] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        return pd.concat(self.rows, ignore_index=True) if self.rows else pd.DataFrame({"tick": []})


class Recorder:
    """Collects a run's events and frames (the counts live in the run's own array)."""

    def __init__(self, frame_every: int):
        self.frame_every = max(1, int(frame_every))
        self._events: list[tuple[np.ndarray, ...]] = []
        self.frame_ticks: list[int] = []
        self.frame_cells: list[np.ndarray] = []
        self.frame_states: list[np.ndarray] = []
        self.frame_modes: list[np.ndarray] = []
        self.collectors: dict[str, Collector] = {}

    def drain(self, ev: EventBuffer) -> None:
        """Move the kernels' event buffer into the record and empty it."""
        k = int(ev.count[0])
        if ev.overflow[0]:
            raise RuntimeError(f"event buffer overflowed by {ev.overflow[0]} events")
        if k:
            self._events.append(tuple(a[:k].copy() for a in (ev.tick, ev.kind, ev.a, ev.b, ev.cell)))
            ev.count[0] = 0

    def frame(self, tick: int, pop: Population) -> None:
        if self.frame_ticks and self.frame_ticks[-1] == tick:
            return
        self.frame_ticks.append(tick)
        # Those who left (escaped, rescued) keep their last cell in the engine; a frame shows them
        # off the map (-1).
        gone = (pop.state == State.ESCAPED) | (pop.state == State.RESCUED)
        self.frame_cells.append(np.where(gone, -1, pop.cell).astype(np.int32))
        self.frame_states.append(pop.state.copy())
        self.frame_modes.append(pop.mode.copy())

    def take_frames(self, frames: Frames) -> None:
        """Move the frames the kernels recorded (:class:`~hyosan.rules.state.Frames`) into the
        record and empty the buffer."""
        k = int(frames.count[0])
        for j in range(k):
            tick = int(frames.tick[j])
            if self.frame_ticks and self.frame_ticks[-1] == tick:
                continue
            self.frame_ticks.append(tick)
            self.frame_cells.append(frames.cell[j].copy())
            self.frame_states.append(frames.state[j].copy())
            self.frame_modes.append(frames.mode[j].copy())
        frames.count[0] = 0

    def add_collector(self, name: str, fn: Callable[[Any], Any], every: int) -> None:
        if not name.isidentifier() or name in ("counts", "events", "agents"):
            raise ValueError(f"a table needs a new name that is an identifier, not {name!r}")
        self.collectors[name] = Collector(name, fn, every)

    def periods(self) -> list[int]:
        """How often each user table wants a row (ticks)."""
        return [c.every for c in self.collectors.values()]

    def collect(self, tick: int, sim: Any, only: str | None = None) -> None:
        """Run the user collectors due at ``tick`` (``only``: just that one)."""
        for c in self.collectors.values():
            if (only is None or c.name == only) and tick % c.every == 0:
                if c.rows and int(c.rows[-1]["tick"].iloc[-1]) == tick:
                    continue
                row = c.fn(sim)
                frame = row.copy() if isinstance(row, pd.DataFrame) else pd.DataFrame([row])
                frame.insert(0, "tick", tick)
                c.rows.append(frame)

    def events(self) -> pd.DataFrame:
        cols = ("tick", "kind", "a", "b", "cell")
        if self._events:
            data = {c: np.concatenate([e[i] for e in self._events]) for i, c in enumerate(cols)}
        else:
            data = {c: np.zeros(0, dtype=np.int32) for c in cols}
        frame = pd.DataFrame(data)
        frame["kind"] = pd.Categorical.from_codes(frame["kind"].astype(np.int8), categories=list(EVENT_NAMES))
        return frame

    def record(self, info: RunInfo, pop: Population, counts: np.ndarray, tick: int) -> RunRecord:
        """The raw record of the run so far (``counts`` up to ``tick``)."""
        if self.frame_ticks[-1] != tick:
            self.frame(tick, pop)
        return RunRecord(
            tick_seconds=info.tick_seconds,
            role_names=list(info.role_names),
            adult_roles=list(info.adult_roles),
            counts=counts[: tick + 1].copy(),
            events=self.events(),
            agent_state=pop.state.copy(),
            bitten_at=pop.bitten_at.copy(),
            fate_tick=pop.fate_tick.copy(),
            frame_ticks=np.asarray(self.frame_ticks, dtype=np.int32),
            frame_cells=np.stack(self.frame_cells),
            frame_states=np.stack(self.frame_states),
            frame_modes=np.stack(self.frame_modes),
        )

    def result(self, info: RunInfo, pop: Population, world: World, counts: np.ndarray, tick: int) -> Result:
        """The run so far as its one :class:`~hyosan.results.result.Result`."""
        raw = self.record(info, pop, counts, tick)
        winfo = world_info(world)
        names = np.asarray(pop.names(), dtype=object)
        roles = np.asarray(raw.role_names, dtype=object)[pop.role]
        meta = {
            "scenario": info.scenario_key,
            "title": info.title,
            "seed": info.seed,
            "version": info.version,
            "tick_s": info.tick_seconds,
            "start_clock_s": info.start_seconds,
        }
        summary = summarise(
            meta=meta,
            counts=raw.counts,
            events=raw.events,
            agent_role=pop.role,
            agent_state=raw.agent_state,
            bitten_at=raw.bitten_at,
            role_names=raw.role_names,
            adult_roles=raw.adult_roles,
        )
        summary["timeline"] = timeline(info.scenario_events, raw.tick_seconds, raw.events)
        summary["frame_every_s"] = self.frame_every * raw.tick_seconds
        summary["characters"] = sorted(pop.characters.values())
        summary["role_labels"] = dict(info.role_labels)
        events = events_table(raw, winfo, names, roles, info.scenario_events, pop.halfbie)
        result = Result(
            summary_data=summary,
            scenario_toml=info.scenario_toml,
            counts=counts_table(raw.counts, raw.role_names, raw.tick_seconds),
            events=events,
            agents=agents_table(pop, raw, winfo, names, roles, events),
            world=winfo,
            frame_ticks=raw.frame_ticks,
            frame_cells=raw.frame_cells,
            frame_states=raw.frame_states,
            frame_modes=raw.frame_modes,
            extra={"map_path": info.map_path},
            tables={name: c.table() for name, c in self.collectors.items()},
        )
        result.summary_data["milestones"] = {
            row.key: row.time_s for row in analysis.milestones(result).itertuples() if not pd.isna(row.time_s)
        }
        return result
