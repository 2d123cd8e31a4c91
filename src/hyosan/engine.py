"""Simulation: builds a run from a scenario, runs the systems in order, records what happens.

    Scenario + World ──► Population + arrays ──► run_ticks (numba) ──► Recorder ──► RunResult

The Python loop here runs between kernel calls only: at timeline events, frames, checks of
trigger conditions, and when doors changed the humans' routes. Randomness: one root
``SeedSequence(seed)`` spawned into one stream per system (population, infection, timeline,
movement, contact), so a new event or rule never reshuffles another system's draws.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from hyosan.agents import Population
from hyosan.errors import HyosanError
from hyosan.populate import area_cells, build_population
from hyosan.record import Recorder
from hyosan.results.result import MODE_NAMES, Result, WorldInfo
from hyosan.rules import consts as K
from hyosan.rules.contact import infect
from hyosan.rules.log import emit, event_buffer
from hyosan.rules.noise import noise_workspace, stamp_noise
from hyosan.rules.rng import stream
from hyosan.rules.spatial import block_layout, count_occupancy, full_cells, geometry
from hyosan.rules.tick import count_states, run_ticks
from hyosan.scenario.conditions import holds, parse_condition
from hyosan.scenario.load import LoadedScenario, load_scenario
from hyosan.states import STATE_NAMES, EventKind, State
from hyosan.world import World, distance_field, load_map
from hyosan.world.fields import DOOR_LOSS, PER_METRE, WALL_LOSS
from hyosan.world.tiles import WALKABLE_LUT, DoorState, Tile

STREAMS = ("population", "infection", "timeline", "movement", "contact")
#: Trigger conditions are checked this often (ticks) while an event waits on one.
CONDITION_EVERY = 10
#: A holder's strength is multiplied by this (the story's Cheong-san fights like three).
HOLD_STRENGTH = 3.0


class Simulation:
    """One run of a scenario with one seed. ``run()`` to the end, or ``step(n)`` ticks at a time."""

    def __init__(self, loaded: LoadedScenario, seed: int | None = None, world: World | None = None):
        self.loaded = loaded
        self.scenario = sc = loaded.scenario
        # No seed given: the scenario's own (a saved run's scenario.toml records it), else 0.
        self.seed = int(seed if seed is not None else (sc.run.seed or 0))
        self.world = world if world is not None else load_map(loaded.map_path())
        children = np.random.SeedSequence(self.seed).spawn(len(STREAMS))
        # Python-side systems draw from NumPy generators, the kernels from xoshiro states.
        self.rng = {name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)}
        self.kernel_rng = {name: stream(child) for name, child in zip(STREAMS, children, strict=True)}
        self.pop: Population = build_population(
            sc, self.world, self.rng["population"], self.rng["infection"], source=loaded.source
        )
        self.tick = 0
        self.n_ticks = sc.n_ticks
        self.tick_seconds = sc.tick_seconds
        self.user_systems: list[tuple[Callable[[Simulation], None], int]] = []
        self._build_arrays()
        self._build_timeline()
        self.recorder = Recorder(self)
        self.recorder.frame(0)

    # -- construction -----------------------------------------------------------------------
    def _build_arrays(self) -> None:
        sc, w, pop = self.scenario, self.world, self.pop
        n_cells = w.n_cells
        tiles = w.tiles.ravel().astype(np.uint8)
        room_of_cell = w.room_id.ravel().astype(np.int32)
        refuge_kinds = set(sc.behaviour.refuge_kinds)
        refuge_room = np.array([r.kind in refuge_kinds for r in w.rooms], dtype=np.uint8)
        if refuge_room.size == 0:
            refuge_room = np.zeros(1, dtype=np.uint8)
        self.room_doors = self._room_doors()
        starts = np.zeros(len(w.rooms) + 1, dtype=np.int64)
        starts[1:] = np.cumsum([len(d) for d in self.room_doors])
        flat = np.concatenate(
            [np.asarray(d, dtype=np.int64) for d in self.room_doors] or [np.zeros(0, np.int64)]
        )
        cap = np.full(n_cells, sc.world.max_per_tile, dtype=np.int32)
        cap[(tiles == Tile.DOOR) | (tiles == Tile.STAIRS)] = sc.world.door_capacity
        self.occupancy = np.zeros(n_cells, dtype=np.int32)
        count_occupancy(pop.state, pop.cell, self.occupancy)
        H, W = w.tiles.shape[1], w.tiles.shape[2]
        block_of_cell, bw, bh = block_layout(w.tiles.shape[0], H, W, K.BLOCK)
        self.world_arrays = (
            w.nbr_start, w.nbr_idx, w.nbr_cost, tiles, w.door_of_cell.astype(np.int32), room_of_cell,
            refuge_room, starts, flat.astype(np.int64), cap, w.snd_start, w.snd_idx, block_of_cell,
            self.occupancy, geometry(w.tiles.shape[0], H, W),
            full_cells(w.nbr_start, w.nbr_idx, w.nbr_cost, W),
        )  # fmt: skip
        self.door_state = w.door_state.astype(np.uint8).copy()
        self.door_strength = w.door_strength.astype(np.float32).copy()
        self.doors = (w.door_cells.astype(np.int64), self.door_state, self.door_strength,
                      np.zeros(len(w.door_cells), dtype=np.float32))  # fmt: skip
        n = pop.n
        self.pop_arrays = (
            pop.role, pop.state, pop.cell, pop.group, pop.leader, pop.traits, pop.incubation,
            pop.halfbie, pop.hostile, pop.hides_bite, pop.mode, pop.budget, pop.heading, pop.target,
            pop.bitten_at, pop.turn_at, pop.bitten_by, pop.fate_tick, pop.bites,
        )  # fmt: skip
        self.noise_level = np.zeros(n_cells, dtype=np.float32)
        self.noise_until = np.full(n_cells, -1, dtype=np.int32)
        self.noise = (self.noise_level, self.noise_until, *noise_workspace(n_cells, w.snd_idx.size),
                      np.zeros(1, dtype=np.int64))  # fmt: skip
        self.events = event_buffer(max(4096, 4 * n + 1024))
        self.flags = np.zeros(2, dtype=np.int64)
        n_blocks = int(block_of_cell.max()) + 1 if block_of_cell.size else 1
        self.blocks = (np.full(n_blocks, -1, np.int32), np.full(n, -1, np.int32),
                       np.zeros(n_blocks, np.int32), np.zeros(n_blocks, np.int32),
                       np.zeros(64, np.int64), np.zeros(64, np.float64),
                       np.zeros(w.tiles.shape[0] * (bh + 1) * (bw + 1), np.int32),
                       np.zeros(w.tiles.shape[0] * (bh + 1) * (bw + 1), np.int32))  # fmt: skip
        # Cell index: prey heads, the next in a cell's list (prey or zombie), touched prey heads, prey
        # flags; zombie heads and touched zombie heads (rules/spatial.py).
        self.cells = (np.full(n_cells, -1, np.int32), np.full(n, -1, np.int32), np.zeros(n + 1, np.int64),
                      np.zeros(n_cells, np.uint8), np.full(n_cells, -1, np.int32),
                      np.zeros(n + 1, np.int64))  # fmt: skip
        self.counts = np.zeros((self.n_ticks + 1, K.N_STATES, len(pop.role_names)), dtype=np.int32)
        count_states(self.counts[0], self.pop_arrays)
        self.params = self._params()
        self.iparams = np.zeros(K.N_IPARAMS, dtype=np.int64)
        ip = self.iparams
        ip[K.I_SCREAM_TICKS] = max(1, sc.ticks(sc.behaviour.scream_duration))
        ip[K.I_BATTER_TICKS] = max(1, sc.ticks("5s"))
        ip[K.I_HUMANS_WANDER] = sc.behaviour.humans == "wander"
        ip[K.I_ZOMBIES_WANDER] = sc.behaviour.zombies == "wander"
        ip[K.I_W], ip[K.I_H], ip[K.I_BLOCK], ip[K.I_BW], ip[K.I_BH] = W, H, K.BLOCK, bw, bh
        ip[K.I_EXITS] = int(np.count_nonzero(self.world.tiles == K.T_EXIT))  # none: no exit pass
        self.goal_areas = list(sc.goals.areas)
        self.fields = self._fields()

    def _params(self) -> np.ndarray:
        sc = self.scenario
        z, hb, b, inf = sc.zombies, sc.halfbies, sc.behaviour, sc.infection
        p = np.zeros(K.N_PARAMS, dtype=np.float64)
        p[K.P_TICK_S] = self.tick_seconds
        p[K.P_Z_WALK], p[K.P_Z_RUN], p[K.P_Z_SIGHT] = z.walk_speed, z.run_speed, z.sight
        p[K.P_Z_HEARING], p[K.P_Z_BITE], p[K.P_Z_BREAK] = z.hearing, z.bite_prob, z.break_rate
        p[K.P_HB_STRENGTH], p[K.P_HB_SPEED], p[K.P_HB_BITE] = hb.strength, hb.speed, hb.bite_prob
        p[K.P_HB_MAKES] = hb.bite_makes_halfbie
        p[K.P_HIDE_BELOW], p[K.P_CALM_MOVE], p[K.P_SCREAM_DB] = b.hide_below, b.calm_move, b.scream_db
        p[K.P_BATTER_DB], p[K.P_BARRICADE_S] = b.batter_db, sc.ticks(b.barricade_time) * self.tick_seconds
        p[K.P_BARRICADE_HP], p[K.P_FOLLOW], p[K.P_SACRIFICE] = (
            b.barricade_strength,
            b.follow_distance,
            inf.sacrifice_altruism,
        )
        p[K.P_PER_METRE], p[K.P_WALL_LOSS], p[K.P_DOOR_LOSS] = PER_METRE, WALL_LOSS, DOOR_LOSS
        hearing = [z.hearing] + [r.hearing for r in sc.roles.values()]
        p[K.P_NOISE_FLOOR] = max(1.0, min(hearing))
        p[K.P_HOLD_STRENGTH] = HOLD_STRENGTH
        p[K.P_STAIR_COST] = float(self.world.nbr_cost.max()) if self.world.nbr_cost.size else 1.0
        return p

    def _room_doors(self) -> list[list[int]]:
        """Doors of each room: door tiles orthogonally next to one of its cells."""
        w = self.world
        H, W = w.tiles.shape[1:]
        door_of_cell = w.door_of_cell
        out = []
        for room in w.rooms:
            f, rem = np.divmod(room.cells, H * W)
            y, x = np.divmod(rem, W)
            found: set[int] = set()
            for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                yy, xx = y + dy, x + dx
                ok = (yy >= 0) & (yy < H) & (xx >= 0) & (xx < W)
                nb = (f[ok] * H + yy[ok]) * W + xx[ok]
                found.update(int(d) for d in door_of_cell[nb] if d >= 0)
            out.append(sorted(found))
        return out

    def _human_blocked(self) -> np.ndarray:
        tiles = self.world_arrays[3]
        blocked = (WALKABLE_LUT[tiles] == 0).astype(np.uint8)
        shut = np.isin(self.door_state, (DoorState.LOCKED, DoorState.BARRICADED))
        blocked[self.doors[0][shut]] = 1
        if self.iparams[K.I_CORDON]:
            blocked[tiles == Tile.EXIT] = 1
        return blocked

    def _fields(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distance fields of the humans: to their goals, to refuge rooms, to chokepoints."""
        w, sc = self.world, self.scenario
        blocked = self._human_blocked()
        tiles = self.world_arrays[3]
        goal_src = [w.exits()] if sc.goals.exits and not self.iparams[K.I_CORDON] else []
        for area in self.goal_areas:
            goal_src += area_cells(w, area, self.loaded.source, "goals")
        refuge_src = [r.cells for r, ok in zip(w.rooms, self.world_arrays[6], strict=False) if ok]
        choke_src = [np.flatnonzero((tiles == Tile.DOOR) | (tiles == Tile.STAIRS))]

        def field(parts):
            src = np.unique(np.concatenate(parts)).astype(np.int64) if parts else np.zeros(0, np.int64)
            return distance_field(w.nbr_start, w.nbr_idx, w.nbr_cost, blocked, src)

        return field(goal_src), field(refuge_src), field(choke_src)

    # -- the timeline ------------------------------------------------------------------------
    def _build_timeline(self) -> None:
        sc = self.scenario
        self.pending: list[dict] = []
        for i, e in enumerate(sc.events):
            item = {"index": i, "event": e, "tick": None, "when": None}
            if e.at is not None:
                item["tick"] = sc.clock_tick(e.at)
            elif e.when is not None:
                item["when"] = parse_condition(e.when)
            else:
                item["tick"] = sc.ticks(e.after)
            self.pending.append(item)
        for e in sc.events:
            if e.area not in (None, "*"):
                area_cells(self.world, e.area, self.loaded.source, "events.area")

    def metrics(self) -> dict[str, float]:
        """What trigger conditions look at, measured now."""
        by_state = self.counts[self.tick].sum(axis=1)  # the kernel's counts, current to this tick
        return {
            "infected": float(np.count_nonzero(self.pop.bitten_at >= 0)) / max(1, self.pop.n),
            "humans": float(by_state[State.HUMAN] + by_state[State.BITTEN]),
            "zombies": float(by_state[State.ZOMBIE]),
            "halfbies": float(by_state[State.HALFBIE]),
            "dead": float(by_state[State.DEAD]),
            "escaped": float(by_state[State.ESCAPED]),
        }

    def _fire_due(self) -> None:
        metrics = None
        for item in list(self.pending):
            if item["tick"] is None and item["when"] is not None and self.tick % CONDITION_EVERY == 0:
                metrics = metrics or self.metrics()
                if holds(item["when"], metrics):
                    e = item["event"]
                    item["tick"] = self.tick + (self.scenario.ticks(e.after) if e.after is not None else 0)
                    item["when"] = None
            if item["tick"] is not None and item["tick"] <= self.tick:
                self.pending.remove(item)
                self._apply(item["index"], item["event"])

    def _area(self, area: str | None) -> np.ndarray:
        if area in (None, "*"):
            return np.arange(self.world.n_cells)
        return np.concatenate(area_cells(self.world, area, self.loaded.source, "events.area"))

    def _doors_of(self, area: str | None) -> np.ndarray:
        if area in (None, "*"):
            return np.arange(len(self.door_state))
        cells = self._area(area)
        ids = {int(d) for d in self.world.door_of_cell[cells] if d >= 0}
        for r in self.world.rooms:
            if np.isin(r.cells, cells).any():
                ids.update(self.room_doors[r.id])
        return np.array(sorted(ids), dtype=np.int64)

    def _apply(self, index: int, e) -> None:
        """Carry out timeline event ``index`` now."""
        pop, now, ev = self.pop, self.tick, self.events
        center = -1
        if e.kind == "patient_zero":
            if e.who is not None:
                i = pop.find(e.who)
            else:
                cells = self._area(e.area)
                cand = np.flatnonzero((pop.state == State.HUMAN) & np.isin(pop.cell, cells))
                if cand.size == 0:
                    raise HyosanError(
                        "nobody there to bite", source=self.loaded.source, field=f"events[{index}]"
                    )
                i = int(self.rng["timeline"].choice(cand))
            if pop.state[i] == State.HUMAN:
                # The lab rat's bite is quiet: nobody screams, patient zero carries on.
                infect(i, -2, False, now, self.world_arrays, self.doors, self.pop_arrays, self.params,
                       self.iparams, self.noise, ev)  # fmt: skip
            center = int(pop.cell[i])
        elif e.kind in ("alarm", "broadcast") and e.area == "*":
            # A school-wide bell: every tile hears it at its level, nothing to propagate.
            until = now + self.scenario.ticks(e.duration)
            ring = self.world_arrays[3] != Tile.VOID
            self.noise_level[ring] = np.maximum(
                self.noise_level[ring] * (self.noise_until[ring] >= now), e.level
            )
            self.noise_until[ring] = np.maximum(self.noise_until[ring], until)
        elif e.kind in ("alarm", "broadcast"):
            cells = self._area(e.area)
            walkable = cells[WALKABLE_LUT[self.world_arrays[3][cells]] == 1]
            center = int(
                (walkable if walkable.size else cells)[len(walkable if walkable.size else cells) // 2]
            )
            self.noise[6][0] += 1
            stamp_noise(center, e.level, now, now + self.scenario.ticks(e.duration), self.noise_level,
                        self.noise_until, self.world.snd_start, self.world.snd_idx, self.world_arrays[3],
                        self.world_arrays[4], self.door_state, PER_METRE, WALL_LOSS, DOOR_LOSS,
                        self.params[K.P_NOISE_FLOOR], *self.noise[2:6], self.noise[6][0])  # fmt: skip
        if e.kind in ("broadcast", "goal"):
            self.goal_areas = [e.area]
            self.flags[0] = 1
            humanlike = np.isin(pop.state, (State.HUMAN, State.BITTEN)) & (pop.mode != K.HOLD)
            pop.mode[humanlike] = K.FLEE
        elif e.kind in ("lock", "unlock", "open", "close", "barricade"):
            ids = self._doors_of(e.area)
            ids = ids[self.door_state[ids] != DoorState.BROKEN]
            new = {"lock": DoorState.LOCKED, "unlock": DoorState.CLOSED, "open": DoorState.OPEN,
                   "close": DoorState.CLOSED, "barricade": DoorState.BARRICADED}[e.kind]  # fmt: skip
            self.door_state[ids] = new
            if new == DoorState.BARRICADED:
                self.door_strength[ids] = np.maximum(self.door_strength[ids], self.params[K.P_BARRICADE_HP])
            self.flags[0] = 1
        elif e.kind in ("cordon", "lift_cordon"):
            self.iparams[K.I_CORDON] = e.kind == "cordon"
            self.flags[0] = 1
        elif e.kind in ("rescue", "strike"):
            cells = self._area(e.area)
            here = np.isin(pop.cell, cells)
            if e.kind == "rescue":
                who = here & np.isin(pop.state, (State.HUMAN, State.BITTEN))
                new_state, kind = State.RESCUED, K.EV_RESCUE
            else:
                who = here & np.isin(pop.state, (State.HUMAN, State.BITTEN, State.ZOMBIE, State.HALFBIE))
                new_state, kind = State.DEAD, K.EV_DEATH
            for i in np.flatnonzero(who):
                pop.state[i] = new_state
                pop.fate_tick[i] = now
                self.occupancy[pop.cell[i]] -= 1
                emit(ev, now, kind, i, -1, pop.cell[i])
        emit(ev, now, int(EventKind.SCENARIO), -1, index, center)
        if self.flags[0]:
            self._refresh_fields()

    def _refresh_fields(self) -> None:
        goal, refuge, choke = self._fields()
        for old, new in zip(self.fields, (goal, refuge, choke), strict=True):
            old[:] = new
        self.flags[0] = 0

    # -- running ----------------------------------------------------------------------------
    def add_system(self, system: Callable[[Simulation], None], every: int = 1) -> None:
        """Run a Python function ``system(sim)`` after every ``every`` ticks (slower: the kernel
        returns to Python that often)."""
        self.user_systems.append((system, max(1, int(every))))

    @property
    def done(self) -> bool:
        return self.tick >= self.n_ticks

    def _next_stop(self, limit: int) -> int:
        nxt = limit
        for item in self.pending:
            if item["tick"] is not None:
                nxt = min(nxt, max(item["tick"], self.tick + 1))
            elif item["when"] is not None:
                nxt = min(nxt, (self.tick // CONDITION_EVERY + 1) * CONDITION_EVERY)
        every = self.recorder.frame_every
        nxt = min(nxt, (self.tick // every + 1) * every)
        for _, k in self.user_systems:
            nxt = min(nxt, (self.tick // k + 1) * k)
        return max(nxt, self.tick + 1)

    def step(self, n: int = 1) -> None:
        """Advance ``n`` ticks (or to the end)."""
        self.run_until(min(self.n_ticks, self.tick + n))

    def run_until(self, limit: int, progress: Callable[[int], None] | None = None) -> None:
        while self.tick < limit:
            self._fire_due()
            stop = self._next_stop(limit)
            self.tick = int(run_ticks(
                self.tick, stop, self.world_arrays, self.doors, self.pop_arrays, self.fields,
                self.params, self.iparams, self.noise, self.events, self.flags, self.blocks,
                self.cells, self.counts, self.kernel_rng["movement"], self.kernel_rng["contact"],
            ))  # fmt: skip
            self.recorder.drain()
            if self.flags[0]:
                self._refresh_fields()
            if self.tick % self.recorder.frame_every == 0:
                self.recorder.frame(self.tick)
            for system, k in self.user_systems:
                if self.tick % k == 0:
                    system(self)
            if progress is not None:
                progress(self.tick)

    def run(self, progress: Callable[[int], None] | None = None) -> Result:
        """Run to the end; returns the :class:`~hyosan.results.Result` (tables, frames, summary)."""
        self.run_until(self.n_ticks, progress)
        return self.result()

    def result(self) -> Result:
        """The run so far as a Result (the recorder's raw arrays: ``self.recorder.result()``)."""
        return Result.from_simulation(self)

    def agents(self) -> pd.DataFrame:
        """Every agent now, readable: ``agent``, ``name``, ``role``, ``state`` and ``mode`` by name,
        ``floor``, ``room`` (a room's name, else "a corridor", "stairs", "outside"...), ``x``, ``y``
        (missing when off the map: escaped or rescued), ``bites``. Reads ``pop`` and ``world`` only."""
        pop, w = self.pop, self.world
        rooms = pd.DataFrame({"id": range(len(w.rooms)), "name": [r.name for r in w.rooms],
                              "kind": [r.kind for r in w.rooms],
                              "floor": [w.floors[r.floor] for r in w.rooms]})  # fmt: skip
        place = WorldInfo(w.name, list(w.floors), w.tiles, w.room_id, rooms).place(pop.cell)
        modes = [MODE_NAMES.get(m, str(m)) for m in range(max(MODE_NAMES) + 1)]
        return pd.DataFrame({
            "agent": np.arange(pop.n), "name": pd.Series(pop.names(), dtype="string"),
            "role": pd.Categorical.from_codes(pop.role, categories=pop.role_names),
            "state": pd.Categorical.from_codes(pop.state, categories=list(STATE_NAMES)),
            "mode": pd.Categorical.from_codes(pop.mode, categories=modes),
            "floor": place["floor"], "room": place["room"], "x": place["x"], "y": place["y"],
            "bites": pop.bites,
        })  # fmt: skip


def simulate(scenario: str | Path | None = None, *, seed: int | None = None,
             overrides: dict[str, str] | None = None,
             progress: Callable[[int], None] | None = None) -> Result:  # fmt: skip
    """Run a scenario (a file or a built-in name; Hyosan High by default) to the end.

    Returns a :class:`~hyosan.results.Result`; ``result.save(folder)`` writes the run folder.
    """
    loaded = load_scenario(scenario, overrides)
    return Simulation(loaded, seed=seed).run(progress)
