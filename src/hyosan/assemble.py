"""Assembling a run: a scenario, its world and its population become the kernels' named state.

    Scenario + World + Population ──► Params (kernel units) + Run (named arrays) + route fields

Nothing here runs a tick: :mod:`hyosan.engine` owns the loop. Parameters are projected from the
scenario's units (seconds, metres, dB) into the kernels' (ticks, chances per attack) in one
place, :func:`project_params`.
"""

from __future__ import annotations

import numpy as np

from hyosan.agents import Population
from hyosan.mechanics import kernel_arrays, kernel_params
from hyosan.populate import area_cells
from hyosan.rules.consts import BLOCK, N_STATES, T_EXIT
from hyosan.rules.doors import BARRED_STATES
from hyosan.rules.hunt import hunt_rows
from hyosan.rules.noise import DOOR_LOSS, PER_METRE, WALL_LOSS
from hyosan.rules.spatial import (
    block_layout,
    count_occupancy,
    full_cells,
    geometry,
    mark_odd_steps,
    sealed_rooms,
)
from hyosan.rules.state import (
    Doors,
    Fields,
    Flags,
    Params,
    Run,
    WorldArrays,
    block_index,
    cell_index,
    event_buffer,
    frame_buffer,
    hunts,
    noise_map,
)
from hyosan.rules.tick import count_states
from hyosan.scenario.rates import bite_rate
from hyosan.scenario.schema import Scenario
from hyosan.units import chance_of_rate
from hyosan.world import World, distance_field, room_doors
from hyosan.world.tiles import WALKABLE_LUT, Tile


def project_params(sc: Scenario, world: World, cordon: bool = False) -> Params:
    """The scenario's numbers in kernel units: rates per second of contact stay rates (the
    contact kernel races them over a tick of ``tick_s`` seconds, docs/units.md); a friendly
    halfbie's strike becomes its chance per tick ``1 - exp(-rate * dt)``."""
    z, hb, b, inf = sc.zombies, sc.halfbies, sc.behaviour, sc.infection
    H, W = world.tiles.shape[1], world.tiles.shape[2]
    bw, bh = -(-W // BLOCK), -(-H // BLOCK)
    hearing = [z.hearing] + [r.hearing for r in sc.roles.values()]
    return Params(
        tick_s=float(sc.tick_seconds),
        z_walk=float(z.walk_speed),
        z_run=float(z.run_speed),
        z_sight=float(z.sight),
        z_hearing=float(z.hearing),
        z_bite=min(bite_rate(z), 1e6),
        z_break=float(z.break_rate),
        hb_strength=chance_of_rate(float(hb.strength), float(sc.tick_seconds)),
        hb_speed=float(hb.speed),
        hb_bite=min(bite_rate(hb), 1e6),
        hb_makes=float(hb.bite_makes_halfbie),
        hb_hunt=float(hb.hunt_range),
        hb_break=float(z.break_rate if hb.break_rate is None else hb.break_rate),
        hide_below=float(b.hide_below),
        confront=float(b.confront_above),
        calm_move=float(b.calm_move),
        scream_db=float(b.scream_db),
        batter_db=float(b.batter_db),
        barricade_s=float(sc.ticks(b.barricade_time) * sc.tick_seconds),
        barricade_hp=float(b.barricade_strength),
        follow=float(b.follow_distance),
        sacrifice=float(inf.sacrifice_altruism),
        bitten_strength=float(inf.bitten_strength),
        per_metre=PER_METRE,
        wall_loss=WALL_LOSS,
        door_loss=DOOR_LOSS,
        noise_floor=float(max(1.0, min(hearing))),
        stair_cost=float(world.nbr_cost.max()) if world.nbr_cost.size else 1.0,
        scream_ticks=max(1, sc.ticks(b.scream_duration)),
        batter_ticks=max(1, sc.ticks("5s")),
        humans_wander=b.humans == "wander",  # (a user behaviour keeps the built-in senses)
        zombies_wander=b.zombies == "wander",
        cordon=bool(cordon),
        W=int(W),
        H=int(H),
        bw=int(bw),
        bh=int(bh),
        exits=int(np.count_nonzero(world.tiles == T_EXIT)),
        start_s=float(sc.start_seconds),
        mech=kernel_params(sc.mechanic_list(), sc.mechanic_values(), float(sc.tick_seconds)),
    )


def world_arrays(
    w: World, *, max_per_tile: int = 4, door_capacity: int = 1, refuge_kinds: tuple[str, ...] = ()
) -> WorldArrays:
    """The building for the kernels: the world's graphs, tile classes, rooms' doors, capacities
    (``max_per_tile`` agents on a tile, ``door_capacity`` on a door or stair tile), and which rooms
    are refuges (their kinds)."""
    n_cells = w.n_cells
    tiles = w.tiles.ravel().astype(np.uint8)
    refuge_kinds = set(refuge_kinds)
    refuge_room = np.array([r.kind in refuge_kinds for r in w.rooms], dtype=np.uint8)
    if refuge_room.size == 0:
        refuge_room = np.zeros(1, dtype=np.uint8)
    doors_of_room = room_doors(w)
    starts = np.zeros(len(w.rooms) + 1, dtype=np.int64)
    starts[1:] = np.cumsum([len(d) for d in doors_of_room])
    flat = np.concatenate([np.asarray(d, dtype=np.int64) for d in doors_of_room] or [np.zeros(0, np.int64)])
    cap = np.full(n_cells, max_per_tile, dtype=np.int32)
    cap[(tiles == Tile.DOOR) | (tiles == Tile.STAIRS)] = door_capacity
    F, H, W = w.tiles.shape
    block_of_cell, _, _ = block_layout(F, H, W, BLOCK)
    return WorldArrays(
        nbr_start=w.nbr_start,
        nbr_idx=w.nbr_idx,
        nbr_cost=w.nbr_cost,
        tiles=tiles,
        door_of_cell=w.door_of_cell.astype(np.int32),
        room_of_cell=w.room_id.ravel().astype(np.int32),
        refuge_room=refuge_room,
        room_door_start=starts,
        room_door_idx=flat.astype(np.int64),
        cap=cap,
        snd_start=w.snd_start,
        snd_idx=w.snd_idx,
        block_of_cell=block_of_cell,
        occupancy=np.zeros(n_cells, dtype=np.int32),
        geo=geometry(F, H, W),
        full=full_cells(w.nbr_start, w.nbr_idx, w.nbr_cost, W),
        stair_links=np.asarray(w.stair_links, dtype=np.int64).reshape(-1, 2),
        sealed=sealed_rooms(w.tiles, w.room_id, w.door_of_cell.reshape(w.tiles.shape), doors_of_room),
    )


def build_run(sc: Scenario, w: World, pop: Population, rng_move: np.ndarray, rng_contact: np.ndarray) -> Run:
    """Every array a run's kernels touch, fresh for tick 0."""
    world = world_arrays(
        w,
        max_per_tile=sc.world.max_per_tile,
        door_capacity=sc.world.door_capacity,
        refuge_kinds=tuple(sc.behaviour.refuge_kinds),
    )
    count_occupancy(pop.state, pop.cell, world.occupancy)
    doors = Doors(
        cell=w.door_cells.astype(np.int64),
        state=w.door_state.astype(np.uint8).copy(),
        strength=w.door_strength.astype(np.float32).copy(),
        progress=np.zeros(len(w.door_cells), dtype=np.float32),
    )
    n, n_cells = pop.n, w.n_cells
    F, H, W = w.tiles.shape
    _, bw, bh = block_layout(F, H, W, BLOCK)
    n_blocks = int(world.block_of_cell.max()) + 1 if world.block_of_cell.size else 1
    empty = np.zeros(n_cells, dtype=np.float32)
    run = Run(
        world=world,
        doors=doors,
        agents=pop.arrays(),
        fields=Fields(empty, empty.copy(), empty.copy()),
        noise=noise_map(n_cells, w.snd_idx.size),
        hunts=hunts(hunt_rows(n_cells) if sc.halfbies.hunt_range > 0 else 0, n_cells, w.nbr_idx.size),
        events=event_buffer(max(4096, 4 * n + 1024)),
        flags=Flags(np.zeros(1, dtype=np.int64)),
        blocks=block_index(n, n_blocks, F * (bh + 1) * (bw + 1), len(w.rooms)),
        cells=cell_index(n, n_cells),
        counts=np.zeros((sc.n_ticks + 1, N_STATES, len(pop.role_names)), dtype=np.int32),
        rng_move=rng_move,
        rng_contact=rng_contact,
        frames=frame_buffer(n, max(1, sc.ticks(sc.clock.frame_every)), sc.n_ticks),
    )
    mark_odd_steps(world, run.cells.near)
    mechanics = sc.mechanic_list()
    if mechanics:
        run = run._replace(mech=kernel_arrays(mechanics, sc, w, run, sc.mechanic_values()))
    count_states(run.counts[0], run.agents)
    return run


def human_blocked(world: WorldArrays, doors: Doors, cordon: bool) -> np.ndarray:
    """uint8 per cell, 1 where the humans' routes may not go: what no one can stand on, locked
    and barricaded doors (closed ones they open), and the exits while the cordon holds."""
    blocked = (WALKABLE_LUT[world.tiles] == 0).astype(np.uint8)
    shut = np.isin(doors.state, [int(s) for s in BARRED_STATES])
    blocked[doors.cell[shut]] = 1
    if cordon:
        blocked[world.tiles == Tile.EXIT] = 1
    return blocked


def route_fields(
    sc: Scenario, w: World, world: WorldArrays, doors: Doors, goal_areas: list[str], cordon: bool, source: str
) -> Fields:
    """Walking distances of the humans: to their goals (exits unless cordoned, goal areas), to
    refuge rooms, to chokepoints (doors and stairs, where the bitten hold)."""
    blocked = human_blocked(world, doors, cordon)
    exit_src = [w.exits()] if sc.goals.exits and not cordon else []
    area_src = [part for area in goal_areas for part in area_cells(w, area, source, "goals")]
    refuge_src = [r.cells for r, ok in zip(w.rooms, world.refuge_room, strict=False) if ok]
    choke_src = [np.flatnonzero((world.tiles == Tile.DOOR) | (world.tiles == Tile.STAIRS))]

    def field(parts):
        src = np.unique(np.concatenate(parts)).astype(np.int64) if parts else np.zeros(0, np.int64)
        return distance_field(w.nbr_start, w.nbr_idx, w.nbr_cost, blocked, src)

    goal = field(exit_src + area_src)
    if area_src:
        into_areas(w, blocked, goal, np.concatenate(area_src))
    return Fields(goal, field(refuge_src), field(choke_src))


def into_areas(w: World, blocked: np.ndarray, goal: np.ndarray, area: np.ndarray) -> None:
    """Inside the goal areas the route goes on, away from the ways in: a goal cell's value
    becomes minus its walking distance from the nearest cell where the area is entered, so the
    arrivals walk on and a crowd fills a muster point from the far side, leaving its doorways
    free (at zero, the first to arrive stood in the doorway and the rest queued behind them
    for the whole run)."""
    inside = np.zeros(goal.shape[0], dtype=bool)
    inside[area] = True
    edge_from = np.repeat(np.arange(goal.shape[0]), np.diff(w.nbr_start))
    to = w.nbr_idx
    way_in = np.unique(edge_from[inside[edge_from] & ~inside[to] & (blocked[to] == 0)]).astype(np.int64)
    if way_in.size == 0:
        return
    depth = distance_field(w.nbr_start, w.nbr_idx, w.nbr_cost, (blocked != 0) | ~inside, way_in)
    reached = inside & np.isfinite(depth)
    goal[reached] = -depth[reached]
