"""What a run writes while it goes (counts, events, frames) and the RunResult it ends with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hyosan.states import EVENT_NAMES, STATE_NAMES, EventKind, State

if TYPE_CHECKING:
    from hyosan.engine import Simulation

#: Final states in which a human counts as a survivor.
SURVIVED = (State.HUMAN, State.ESCAPED, State.RESCUED)


class Recorder:
    """Collects a simulation's events and frames; the counts live in the simulation's array."""

    def __init__(self, sim: Simulation):
        self.sim = sim
        self.frame_every = max(1, sim.scenario.ticks(sim.scenario.clock.frame_every))
        self._events: list[tuple[np.ndarray, ...]] = []
        self.frame_ticks: list[int] = []
        self.frame_cells: list[np.ndarray] = []
        self.frame_states: list[np.ndarray] = []
        self.frame_modes: list[np.ndarray] = []

    def drain(self) -> None:
        """Move the kernel's event buffer into the record and empty it."""
        ev = self.sim.events
        k = int(ev[5][0])
        if ev[5][1]:
            raise RuntimeError(f"event buffer overflowed by {ev[5][1]} events")
        if k:
            self._events.append(tuple(a[:k].copy() for a in ev[:5]))
            ev[5][0] = 0

    def frame(self, tick: int) -> None:
        if self.frame_ticks and self.frame_ticks[-1] == tick:
            return
        self.frame_ticks.append(tick)
        # Those who left (escaped, rescued) keep their last cell in the engine; a frame shows them
        # off the map (-1).
        gone = (self.sim.pop.state == State.ESCAPED) | (self.sim.pop.state == State.RESCUED)
        self.frame_cells.append(np.where(gone, -1, self.sim.pop.cell).astype(np.int32))
        self.frame_states.append(self.sim.pop.state.copy())
        self.frame_modes.append(self.sim.pop.mode.copy())

    def events(self) -> pd.DataFrame:
        self.drain()
        cols = ("tick", "kind", "a", "b", "cell")
        if self._events:
            data = {c: np.concatenate([e[i] for e in self._events]) for i, c in enumerate(cols)}
        else:
            data = {c: np.zeros(0, dtype=np.int32) for c in cols}
        frame = pd.DataFrame(data)
        frame["kind"] = pd.Categorical.from_codes(frame["kind"].astype(np.int8), categories=list(EVENT_NAMES))
        return frame

    def result(self) -> RunResult:
        sim = self.sim
        if self.frame_ticks[-1] != sim.tick:
            self.frame(sim.tick)
        from hyosan import __version__

        return RunResult(
            scenario=sim.scenario.scenario.name,
            scenario_key=sim.loaded.name,
            seed=sim.seed,
            version=__version__,
            tick_seconds=sim.tick_seconds,
            start_seconds=sim.scenario.start_seconds,
            ticks_run=sim.tick,
            role_names=list(sim.pop.role_names),
            adult_roles=[r for r, cfg in sim.scenario.roles.items() if cfg.adult],
            counts=sim.counts[: sim.tick + 1].copy(),
            events=self.events(),
            agent_role=sim.pop.role.copy(),
            agent_state=sim.pop.state.copy(),
            bitten_at=sim.pop.bitten_at.copy(),
            fate_tick=sim.pop.fate_tick.copy(),
            frame_ticks=np.asarray(self.frame_ticks, dtype=np.int32),
            frame_cells=np.stack(self.frame_cells),
            frame_states=np.stack(self.frame_states),
            frame_modes=np.stack(self.frame_modes),
        )


@dataclass
class RunResult:
    """The outcome of one run: counts per tick, events, final agent states, frames, summary."""

    scenario: str
    scenario_key: str
    seed: int
    version: str
    tick_seconds: float
    start_seconds: float
    ticks_run: int
    role_names: list[str]
    adult_roles: list[str]
    counts: np.ndarray  # (ticks_run + 1, states, roles)
    events: pd.DataFrame
    agent_role: np.ndarray
    agent_state: np.ndarray
    bitten_at: np.ndarray
    fate_tick: np.ndarray
    frame_ticks: np.ndarray
    frame_cells: np.ndarray
    frame_states: np.ndarray
    frame_modes: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_agents(self) -> int:
        return int(self.agent_state.size)

    def seconds(self, tick: int | None) -> float | None:
        return None if tick is None else float(tick) * self.tick_seconds

    def first_turn_tick(self) -> int | None:
        turns = self.events.tick[self.events.kind == EventKind.TURN.name.lower()]
        return int(turns.min()) if len(turns) else None

    def half_infected_tick(self) -> int | None:
        """The tick by which half of all agents had been bitten (None if never)."""
        bitten = np.sort(self.bitten_at[self.bitten_at >= 0])
        need = (self.n_agents + 1) // 2
        return int(bitten[need - 1]) if self.n_agents and bitten.size >= need else None

    def final_counts(self) -> dict[str, int]:
        last = self.counts[-1].sum(axis=1)
        return {name: int(last[s]) for s, name in enumerate(STATE_NAMES)}

    def final_by_role(self) -> dict[str, dict[str, int]]:
        last = self.counts[-1]
        return {
            role: {name: int(last[s, r]) for s, name in enumerate(STATE_NAMES)}
            for r, role in enumerate(self.role_names)
        }

    def survivors(self) -> dict[str, dict[str, float]]:
        """Adults vs students (every role that is not an adult): how many survived."""
        adult = np.isin(self.agent_role, [self.role_names.index(r) for r in self.adult_roles])
        alive = np.isin(self.agent_state, SURVIVED)
        out = {}
        for label, mask in (("adults", adult), ("students", ~adult)):
            total = int(mask.sum())
            kept = int((mask & alive).sum())
            out[label] = {"total": total, "survived": kept, "fraction": kept / total if total else None}
        return out

    def groups(self) -> dict[str, int]:
        """The human group (humans, bitten) vs the zombie group (zombies, halfbies) at the end."""
        last = self.counts[-1].sum(axis=1)
        return {
            "human_group": int(last[State.HUMAN] + last[State.BITTEN]),
            "zombie_group": int(last[State.ZOMBIE] + last[State.HALFBIE]),
            "escaped": int(last[State.ESCAPED]),
            "rescued": int(last[State.RESCUED]),
            "dead": int(last[State.DEAD]),
        }

    def summary(self) -> dict[str, Any]:
        """The JSON-able summary written to summary.json."""
        population = {r: int((self.agent_role == i).sum()) for i, r in enumerate(self.role_names)}
        kinds = self.events.kind.value_counts()
        return {
            "scenario": self.scenario_key,
            "title": self.scenario,
            "seed": self.seed,
            "version": self.version,
            "duration_s": self.ticks_run * self.tick_seconds,
            "tick_s": self.tick_seconds,
            "start_clock_s": self.start_seconds,
            "agents": self.n_agents,
            "population": population,
            "final": self.final_counts(),
            "final_by_role": self.final_by_role(),
            "first_turn_s": self.seconds(self.first_turn_tick()),
            "half_infected_s": self.seconds(self.half_infected_tick()),
            "survivors": self.survivors(),
            "groups": self.groups(),
            "events": {k: int(kinds.get(k, 0)) for k in EVENT_NAMES},
        }
