"""Simulation: one run of a scenario with one seed; the loop between the kernels and Python.

    Scenario + World ──► Population ──► assemble: Params + Run ──► run_ticks (numba) ──► Recorder ──► Result

The Python loop runs between kernel calls only: at timeline events (:mod:`hyosan.timeline`),
frames, user tables and systems, checks of trigger conditions, and when doors changed the
humans' routes. Randomness: one root ``SeedSequence(seed)`` spawned into one stream per system
(population, infection, timeline, movement, contact), so a new event or rule never reshuffles
another system's draws.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyosan import __version__
from hyosan.agents import Population
from hyosan.assemble import build_run, project_params, route_fields
from hyosan.behaviours import tick_kernel
from hyosan.checkpoint import fork, load_checkpoint, save_checkpoint
from hyosan.errors import HyosanError
from hyosan.limits import check_seed
from hyosan.populate import area_cells, build_population
from hyosan.record import Recorder, RunInfo
from hyosan.results.result import Result
from hyosan.results.tables import world_info
from hyosan.rules.log import emit
from hyosan.rules.rng import stream
from hyosan.scenario.load import LoadedScenario, load_scenario
from hyosan.scenario.resolved import resolved_toml
from hyosan.states import STATE_NAMES, EventKind, Mode, State
from hyosan.timeline import Timeline
from hyosan.world import World, load_map, room_doors
from hyosan.world.tiles import DoorState

STREAMS = ("population", "infection", "timeline", "movement", "contact")


class Simulation:
    """One run of a scenario with one seed. ``run()`` to the end, or ``step(n)`` ticks at a time.

    ``sim.arrays`` is the run's named state (:class:`hyosan.rules.state.Run`: world, doors,
    agents, noise, counts...), ``sim.prm`` the kernels' parameters, ``sim.pop`` the population.
    """

    def __init__(
        self,
        loaded: LoadedScenario,
        seed: int | None = None,
        world: World | None = None,
        behaviours: dict[str, Callable] | None = None,
    ):
        self.loaded = loaded
        self.scenario = sc = loaded.scenario
        # No seed given: the scenario's own (a saved run's scenario.toml records it), else 0.
        self.seed = check_seed(seed if seed is not None else (sc.run.seed or 0))
        self.world = world if world is not None else load_map(loaded.map_path())
        children = np.random.SeedSequence(self.seed).spawn(len(STREAMS))
        # Python-side systems draw from NumPy generators, the kernels from xoshiro states.
        self.rng = {name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)}
        kernel_rng = {name: stream(child) for name, child in zip(STREAMS, children, strict=True)}
        self.pop: Population = build_population(
            sc, self.world, self.rng["population"], self.rng["infection"], source=loaded.source
        )
        self.tick = 0
        self.n_ticks = sc.n_ticks
        self.tick_seconds = sc.tick_seconds
        self.user_systems: list[tuple[Callable[[Simulation], None], int]] = []
        self.arrays = build_run(sc, self.world, self.pop, kernel_rng["movement"], kernel_rng["contact"])
        self.prm = project_params(sc, self.world)
        # The tick kernel: the built-in one, or one calling the scenario's or the given behaviours.
        self.advance = tick_kernel(sc.behaviour, behaviours, loaded.source)
        self.goal_areas = list(sc.goals.areas)
        self.room_doors = room_doors(self.world)
        self.refresh_routes()
        self.timeline = Timeline(self)
        self.recorder = Recorder(sc.ticks(sc.clock.frame_every))
        self.recorder.frame(0, self.pop)
        self.arrays.frames.every[0] = self.recorder.frame_every  # the kernels record the frames

    # -- what handlers and systems look at --------------------------------------------------
    @property
    def counts(self) -> np.ndarray:
        """(ticks + 1, states, roles): the counts after every tick run so far."""
        return self.arrays.counts

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

    def area(self, area: str | None) -> np.ndarray:
        """The cells of a room or spawn area (every cell for None or '*')."""
        if area in (None, "*"):
            return np.arange(self.world.n_cells)
        return np.concatenate(area_cells(self.world, area, self.loaded.source, "events.area"))

    def doors_of(self, area: str | None) -> np.ndarray:
        """Door ids in an area, or of the rooms it touches (every door for None or '*')."""
        if area in (None, "*"):
            return np.arange(len(self.arrays.doors.state))
        cells = self.area(area)
        ids = {int(d) for d in self.world.door_of_cell[cells] if d >= 0}
        for r in self.world.rooms:
            if np.isin(r.cells, cells).any():
                ids.update(self.room_doors[r.id])
        return np.array(sorted(ids), dtype=np.int64)

    def refresh_routes(self) -> None:
        """Recompute the humans' distance fields (doors or the cordon changed)."""
        a = self.arrays
        new = route_fields(
            self.scenario, self.world, a.world, a.doors, self.goal_areas, self.prm.cordon, self.loaded.source
        )
        for old, fresh in zip(a.fields, new, strict=True):
            old[:] = fresh
        a.flags.routes_changed[0] = 0

    # -- declared operations: how timeline handlers and systems change a run ----------------
    def set_params(self, **values: Any) -> None:
        """Change kernel parameters by name (``cordon=True``): the one place ``prm`` is rebound;
        a change to the cordon recomputes the humans' routes."""
        unknown = sorted(set(values) - set(self.prm._fields))
        if unknown:
            raise HyosanError(f"no kernel parameter {unknown[0]!r}", source="set_params", field=unknown[0])
        self.prm = self.prm._replace(**values)
        if "cordon" in values:
            self.arrays.flags.routes_changed[0] = 1

    def set_doors(self, ids: np.ndarray, state: DoorState) -> None:
        """Doors ``ids`` (but broken ones) become ``state``; barricaded ones at least as strong as
        a barricade; the humans' routes are recomputed."""
        doors = self.arrays.doors
        ids = ids[doors.state[ids] != DoorState.BROKEN]
        doors.state[ids] = state
        if state == DoorState.BARRICADED:
            doors.strength[ids] = np.maximum(doors.strength[ids], self.prm.barricade_hp)
        self.arrays.flags.routes_changed[0] = 1

    def set_goals(self, areas: list[str]) -> None:
        """The alert humans' goal areas (besides the exits) become ``areas``."""
        self.goal_areas = list(areas)
        self.arrays.flags.routes_changed[0] = 1

    def set_mode(self, who: np.ndarray | int, mode: int) -> None:
        """Agents ``who`` (ids or a mask) switch to ``mode`` (:data:`hyosan.states.Mode`)."""
        self.pop.mode[who] = mode

    def remove(self, who: np.ndarray, state: State, kind: EventKind) -> None:
        """Agents ``who`` leave the map for good in ``state`` (dead, rescued...): their fate
        tick, the tile's occupancy, and an event ``kind`` each."""
        pop, occupancy = self.pop, self.arrays.world.occupancy
        for i in who:
            pop.state[i] = state
            pop.fate_tick[i] = self.tick
            occupancy[pop.cell[i]] -= 1
            emit(self.arrays.events, self.tick, int(kind), int(i), -1, pop.cell[i])

    # -- extending ---------------------------------------------------------------------------
    def add_system(self, system: Callable[[Simulation], None], every: int = 1) -> None:
        """Run a Python function ``system(sim)`` after every ``every`` ticks (slower: the kernel
        returns to Python that often)."""
        self.user_systems.append((system, max(1, int(every))))

    def collect(self, name: str, fn: Callable[[Simulation], Any], every: int = 60) -> None:
        """Add a table ``name`` to the Result: every ``every`` ticks (and at tick 0), ``fn(sim)``
        gives a row (a dict) or rows (a DataFrame), stamped with the tick. Like Mesa's
        DataCollector; saved as ``tables/<name>.parquet`` in the run folder."""
        self.recorder.add_collector(name, fn, max(1, int(every)))
        self.recorder.collect(self.tick, self, only=name)

    # -- checkpoints ------------------------------------------------------------------------
    def checkpoint(self, path: str | Path) -> Path:
        """Save the run as it is now; :meth:`restore` continues it bit for bit."""
        return save_checkpoint(self, path)

    def fork(self, seed: int, overrides: dict[str, str] | None = None) -> Simulation:
        """Another future from now: fresh random streams from ``seed``, ``overrides`` taking
        effect now (see :func:`hyosan.checkpoint.fork`). Returns ``self``."""
        return fork(self, check_seed(seed), overrides)

    @classmethod
    def restore(cls, path: str | Path, trust_behaviours: bool = False) -> Simulation:
        """A run saved by :meth:`checkpoint` (user systems and collectors must be added again).

        A checkpoint is data, checked field by field (:mod:`hyosan.checkpoint`); one whose
        scenario names a user behaviour (a module to import) is refused unless
        ``trust_behaviours``."""
        return load_checkpoint(path, cls, trust_behaviours)

    # -- running ----------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.tick >= self.n_ticks

    def _next_stop(self, limit: int) -> int:
        """The next tick Python has work at: a timeline event, a user system or table (frames
        are recorded by the kernels, which return when their buffer is full)."""
        nxt = self.timeline.next_stop(self.tick, limit)
        for k in [*(k for _, k in self.user_systems), *self.recorder.periods()]:
            nxt = min(nxt, (self.tick // k + 1) * k)
        return max(nxt, self.tick + 1)

    def step(self, n: int = 1) -> None:
        """Advance ``n`` ticks (or to the end)."""
        self.run_until(min(self.n_ticks, self.tick + n))

    def run_until(self, limit: int, progress: Callable[[int], None] | None = None) -> None:
        while self.tick < limit:
            self.timeline.fire_due(self)
            if self.arrays.flags.routes_changed[0]:
                self.refresh_routes()
            stop = self._next_stop(limit)
            self.tick = int(self.advance(self.tick, stop, self.arrays, self.prm))
            self.recorder.drain(self.arrays.events)
            self.recorder.take_frames(self.arrays.frames)
            if self.arrays.flags.routes_changed[0]:
                self.refresh_routes()
            if self.tick % self.recorder.frame_every == 0:
                self.recorder.frame(self.tick, self.pop)
            self.recorder.collect(self.tick, self)
            for system, k in self.user_systems:
                if self.tick % k == 0:
                    system(self)
            if progress is not None:
                progress(self.tick)

    def run(self, progress: Callable[[int], None] | None = None) -> Result:
        """Run to the end; returns the :class:`~hyosan.results.Result` (tables, frames, summary)."""
        self.run_until(self.n_ticks, progress)
        return self.result()

    def info(self) -> RunInfo:
        sc = self.scenario
        return RunInfo(
            scenario_key=self.loaded.name,
            title=sc.scenario.name,
            seed=self.seed,
            version=__version__,
            tick_seconds=self.tick_seconds,
            start_seconds=sc.start_seconds,
            role_names=list(self.pop.role_names),
            adult_roles=[r for r, cfg in sc.roles.items() if cfg.adult],
            role_labels={r: (cfg.label or f"{r}s") for r, cfg in sc.roles.items()},
            scenario_events=list(sc.events),
            scenario_toml=resolved_toml(self.loaded, self.seed),
            map_path=str(self.loaded.map_path()),
        )

    def result(self) -> Result:
        """The run so far as its one Result."""
        self.recorder.drain(self.arrays.events)
        return self.recorder.result(self.info(), self.pop, self.world, self.counts, self.tick)

    # -- notebooks (hyosan.notebook) ------------------------------------------------------------
    def __repr__(self) -> str:
        # lazy: loaded only when this runs (a light import of the module above, or a cycle)
        from hyosan.notebook import simulation_repr

        return simulation_repr(self)

    def _repr_html_(self) -> str:
        # lazy: loaded only when this runs (a light import of the module above, or a cycle)
        from hyosan.notebook import simulation_html

        return simulation_html(self)

    def plot(self, **options: Any):
        """Agents in each state from the start to now; returns the Figure (``path=`` saves it)."""
        # lazy: loaded only when this runs (a light import of the module above, or a cycle)
        from hyosan.notebook import simulation_plot

        return simulation_plot(self, **options)

    def agents(self) -> pd.DataFrame:
        """Every agent now, readable: ``agent``, ``name``, ``role``, ``state`` and ``mode`` by name,
        ``floor``, ``room`` (a room's name, else "a corridor", "stairs", "outside"...), ``x``, ``y``
        (missing when off the map: escaped or rescued), ``bites``. Reads ``pop`` and ``world`` only."""
        pop = self.pop
        place = world_info(self.world).place(pop.cell)
        modes = [Mode.name_of(m) for m in range(max(Mode.names()) + 1)]
        return pd.DataFrame(
            {
                "agent": np.arange(pop.n),
                "name": pd.Series(pop.names(), dtype="string"),
                "role": pd.Categorical.from_codes(pop.role, categories=pop.role_names),
                "state": pd.Categorical.from_codes(pop.state, categories=list(STATE_NAMES)),
                "mode": pd.Categorical.from_codes(pop.mode, categories=modes),
                "floor": place["floor"],
                "room": place["room"],
                "x": place["x"],
                "y": place["y"],
                "bites": pop.bites,
            }
        )


def simulate(
    scenario: str | Path | None = None,
    *,
    seed: int | None = None,
    overrides: dict[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Result:
    """Run a scenario (a file or a built-in name; Hyosan High by default) to the end.

    Returns a :class:`~hyosan.results.Result`; ``hyosan.results.save(result, folder)`` writes
    the run folder.
    """
    loaded = load_scenario(scenario, overrides)
    return Simulation(loaded, seed=seed).run(progress)
