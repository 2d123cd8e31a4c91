"""The named state the kernels read and write: the world, the doors, the agents, the noise map,
the spatial indexes, the event buffer and the parameters.

Each is a ``NamedTuple`` of NumPy arrays (or of numbers, for :class:`Params`): numba compiles a
field read such as ``agents.state`` or ``prm.z_bite`` into the same machine code as a read by
position, so the kernels say what they mean at no cost. Arrays are shared, never copied: the
engine builds these once per run (see :mod:`hyosan.assemble`) and the kernels update them in
place.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class WorldArrays(NamedTuple):
    """The building as the kernels see it (flat cells ``(f*H + y)*W + x``)."""

    nbr_start: np.ndarray  # int64[cells + 1] walking graph (CSR): edges of cell c
    nbr_idx: np.ndarray  # int32[edges] the neighbour an edge leads to
    nbr_cost: np.ndarray  # float32[edges] metres (a stair link costs more)
    tiles: np.ndarray  # uint8[cells] Tile codes
    door_of_cell: np.ndarray  # int32[cells] door id, -1 where no door
    room_of_cell: np.ndarray  # int32[cells] room id, -1 in corridors
    refuge_room: np.ndarray  # uint8[rooms] 1 where the timid hide
    room_door_start: np.ndarray  # int64[rooms + 1] doors of each room (CSR)
    room_door_idx: np.ndarray  # int64[...] door ids
    cap: np.ndarray  # int32[cells] how many may stand on a tile
    snd_start: np.ndarray  # int64[cells + 1] sound graph (CSR)
    snd_idx: np.ndarray  # int32[...] neighbours on the sound graph
    block_of_cell: np.ndarray  # int32[cells] block of the spatial index
    occupancy: np.ndarray  # int32[cells] agents on each tile now (kept by the kernels)
    geo: np.ndarray  # int32[cells, 3] (floor, y, x) of each cell
    full: np.ndarray  # uint8[cells] 1 where a cell's edges are its 8 grid neighbours
    stair_links: np.ndarray  # int64[links, 2] pairs of stair cells a flight joins, floor to floor
    sealed: np.ndarray  # uint8[rooms] 1 where a room's doors, once shut, hide it from sight (senses)


class Doors(NamedTuple):
    """Every door of the building (ids index these arrays)."""

    cell: np.ndarray  # int64 the door's tile
    state: np.ndarray  # uint8 DoorState
    strength: np.ndarray  # float32 hit points left (zombie-seconds of battering)
    progress: np.ndarray  # float32 seconds of barricading done


class Agents(NamedTuple):
    """The population's arrays (:class:`hyosan.agents.Population` holds the same ones)."""

    role: np.ndarray
    state: np.ndarray
    cell: np.ndarray
    group: np.ndarray
    leader: np.ndarray
    traits: np.ndarray  # float32[n, 7], columns named TR_* in rules/consts.py
    incubation: np.ndarray
    halfbie: np.ndarray
    hostile: np.ndarray
    hides_bite: np.ndarray
    pinned: np.ndarray  # bool: a character whose kind (halfbie or not) the scenario pins
    mode: np.ndarray
    budget: np.ndarray
    heading: np.ndarray
    target: np.ndarray
    bitten_at: np.ndarray
    turn_at: np.ndarray
    bitten_by: np.ndarray
    fate_tick: np.ndarray
    bites: np.ndarray


class Fields(NamedTuple):
    """The humans' walking distances (metres) to their goals, to refuges and to chokepoints."""

    goal: np.ndarray
    refuge: np.ndarray
    choke: np.ndarray


class NoiseMap(NamedTuple):
    """The loudest sound heard on each cell and until when, with the stamping workspace."""

    level: np.ndarray  # float32[cells] dB
    until: np.ndarray  # int32[cells] tick it lasts to; -1 silent
    work_level: np.ndarray  # float64[cells]
    work_mark: np.ndarray  # int64[cells]
    work_keys: np.ndarray  # float64 heap
    work_vals: np.ndarray  # int64 heap
    stamps: np.ndarray  # int64[1] sounds stamped so far (marks one stamp's cells)


class Hunts(NamedTuple):
    """The hunting halfbies' walking distances to their prey: a small pool of rows, one a hunter
    (:mod:`hyosan.rules.hunt`), empty when nobody hunts (``hb_hunt`` 0)."""

    dist: np.ndarray  # float32[rows, cells] metres to the prey of the row's hunter
    source: np.ndarray  # int64[rows] the prey's cell the row was made for; -1 none
    owner: np.ndarray  # int64[rows] the hunter using the row; -1 none
    used: np.ndarray  # int64[rows] tick the row was last used
    heap: np.ndarray  # int64[edges + 1] the search's heap


class Blocks(NamedTuple):
    """Agents by block of ``BLOCK`` x ``BLOCK`` tiles, with per-block counts and their
    summed-area tables (senses)."""

    head: np.ndarray
    next: np.ndarray
    prey: np.ndarray
    threat: np.ndarray
    buf_idx: np.ndarray  # candidates one agent looks at
    buf_d2: np.ndarray
    sat_prey: np.ndarray
    sat_threat: np.ndarray
    prey_list: np.ndarray  # int32[n + 1]: the prey on the map, by id (their number in the last entry)
    room_threats: np.ndarray  # int32[rooms]: threats standing in each room


class CellIndex(NamedTuple):
    """Prey (and, on demand, zombies) by cell, for contact."""

    head: np.ndarray  # int32[cells] first prey on a cell
    next: np.ndarray  # int32[n] next agent in the same cell's list
    touched: np.ndarray  # int64[n + 1] heads set (count in the last entry)
    prey_in: np.ndarray  # uint8[cells]
    zombie_head: np.ndarray
    zombie_touched: np.ndarray
    near: np.ndarray  # uint8[cells]: bit 0 where prey may be within a step (3 x 3 around prey); bit 1
    # where a cell has a step that is no grid neighbour (set once): contact looks nowhere else


class EventBuffer(NamedTuple):
    """Events the kernels emit; the recorder drains it between kernel calls."""

    tick: np.ndarray
    kind: np.ndarray
    a: np.ndarray
    b: np.ndarray
    cell: np.ndarray
    count: np.ndarray  # int64[1]
    overflow: np.ndarray  # int64[1] events that did not fit (the engine sizes it so none)


class Flags(NamedTuple):
    """What the kernels tell the engine."""

    routes_changed: np.ndarray  # int64[1]: doors or the cordon changed the humans' routes


class Params(NamedTuple):
    """Every number the kernels use, in kernel units (ticks, metres, dB, rates per second of
    contact; docs/units.md)."""

    tick_s: float  # seconds per tick
    z_walk: float  # zombie speeds, m/s
    z_run: float
    z_sight: float  # m
    z_hearing: float  # dB
    z_bite: float  # a zombie's bite rate per second of contact (1/s)
    z_break: float  # door hit points a battering zombie removes per second
    hb_strength: float  # friendly halfbies' chance to kill per tick of defending (1 - exp(-k dt))
    hb_speed: float
    hb_bite: float  # a hostile halfbie's bite rate per second of contact (1/s)
    hb_makes: float  # chance a hostile halfbie's bite makes a halfbie
    hb_hunt: float  # m: a hostile halfbie hears prey through walls this far (0: it does not hunt)
    hb_break: float  # door hit points a hostile halfbie removes per second of battering
    hide_below: float  # leaders less brave than this hide
    confront: float  # the alert this brave go to meet a zombie they see
    calm_move: float  # chance a calm agent moves in a tick
    scream_db: float
    batter_db: float
    barricade_s: float  # seconds to barricade a door
    barricade_hp: float
    follow: float  # m a follower lets its leader get ahead
    sacrifice: float  # altruism from which the bitten hold a doorway
    bitten_strength: float  # the bitten's kill rate is their strength times this
    per_metre: float  # sound loss, dB
    wall_loss: float
    door_loss: float
    noise_floor: float  # sounds below this are not spread
    stair_cost: float  # metres of the longest stair link
    scream_ticks: int
    batter_ticks: int
    humans_wander: bool  # the "wander" behaviours: nobody looks around
    zombies_wander: bool
    cordon: bool  # exits closed
    W: int  # map width, height (tiles)
    H: int
    bw: int  # blocks per row and per column
    bh: int
    exits: int  # exit tiles on the map (none: no exit pass)
    start_s: float = 0.0  # the clock at tick 0, seconds after midnight (rules/clock.py)
    mech: tuple = ()  # the keys of the scenario's mechanics in kernel units, by name (hyosan.mechanics)


def event_buffer(capacity: int) -> EventBuffer:
    """A fresh buffer able to hold ``capacity`` events."""
    return EventBuffer(
        np.zeros(capacity, dtype=np.int32),
        np.zeros(capacity, dtype=np.int8),
        np.zeros(capacity, dtype=np.int32),
        np.zeros(capacity, dtype=np.int32),
        np.zeros(capacity, dtype=np.int32),
        np.zeros(1, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
    )


def noise_map(n_cells: int, n_edges: int) -> NoiseMap:
    """A silent noise map and the workspace of :func:`~hyosan.rules.noise.stamp_noise`."""
    return NoiseMap(
        np.zeros(n_cells, dtype=np.float32),
        np.full(n_cells, -1, dtype=np.int32),
        np.zeros(n_cells, dtype=np.float64),
        np.zeros(n_cells, dtype=np.int64),
        np.empty(n_edges + n_cells + 1, dtype=np.float64),
        np.empty(n_edges + n_cells + 1, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
    )


def hunts(rows: int, n_cells: int, n_edges: int) -> Hunts:
    """A pool of ``rows`` hunting fields (none: zero rows and no cells)."""
    cells = n_cells if rows else 0
    return Hunts(
        np.full((rows, cells), np.inf, dtype=np.float32),
        np.full(rows, -1, dtype=np.int64),
        np.full(rows, -1, dtype=np.int64),
        np.full(rows, -1, dtype=np.int64),
        np.empty(n_edges + 1 if rows else 0, dtype=np.int64),
    )


def block_index(n_agents: int, n_blocks: int, n_sat: int, n_rooms: int = 1) -> Blocks:
    return Blocks(
        np.full(n_blocks, -1, np.int32),
        np.full(n_agents, -1, np.int32),
        np.zeros(n_blocks, np.int32),
        np.zeros(n_blocks, np.int32),
        np.zeros(64, np.int64),
        np.zeros(64, np.float64),
        np.zeros(n_sat, np.int32),
        np.zeros(n_sat, np.int32),
        np.zeros(n_agents + 1, np.int32),
        np.zeros(max(1, n_rooms), np.int32),
    )


def cell_index(n_agents: int, n_cells: int) -> CellIndex:
    return CellIndex(
        np.full(n_cells, -1, np.int32),
        np.full(n_agents, -1, np.int32),
        np.zeros(n_agents + 1, np.int64),
        np.zeros(n_cells, np.uint8),
        np.full(n_cells, -1, np.int32),
        np.zeros(n_agents + 1, np.int64),
        np.zeros(n_cells, np.uint8),
    )


class Frames(NamedTuple):
    """Frames the tick kernels record every ``every`` ticks, the engine drains between calls: the
    kernel returns only when the buffer is full (or the engine has other work), not every frame."""

    every: np.ndarray  # int64[1] ticks between frames (0: the kernels record none)
    tick: np.ndarray  # int32[K] tick of each frame
    cell: np.ndarray  # int32[K, n] cells (-1: off the map, escaped or rescued)
    state: np.ndarray  # int8[K, n]
    mode: np.ndarray  # int8[K, n]
    count: np.ndarray  # int64[1] frames held


#: Bytes of frames a run's buffer holds at most (a frame is 6 bytes an agent).
FRAME_BUFFER_BYTES = 4 << 20


def frame_buffer(n_agents: int, every: int, ticks: int) -> Frames:
    """A buffer of frames for a run of ``ticks`` ticks: up to an hour of them, within
    :data:`FRAME_BUFFER_BYTES` (at least one)."""
    k = max(1, min(360, ticks // max(1, every) + 1, FRAME_BUFFER_BYTES // (6 * max(1, n_agents))))
    return Frames(
        np.full(1, every, np.int64),
        np.zeros(k, np.int32),
        np.zeros((k, n_agents), np.int32),
        np.zeros((k, n_agents), np.int8),
        np.zeros((k, n_agents), np.int8),
        np.zeros(1, np.int64),
    )


class Run(NamedTuple):
    """All the state of a run the kernels touch, in one place (a checkpoint saves exactly this,
    with the :class:`Params` and the engine's Python-side state)."""

    world: WorldArrays
    doors: Doors
    agents: Agents
    fields: Fields
    noise: NoiseMap
    hunts: Hunts
    events: EventBuffer
    flags: Flags
    blocks: Blocks
    cells: CellIndex
    counts: np.ndarray  # int32[ticks + 1, states, roles]: counts after each tick
    rng_move: np.ndarray  # uint64[4] xoshiro256** state of the movement stream
    rng_contact: np.ndarray  # uint64[4] the contact stream
    frames: Frames
    mech: tuple = ()  # the arrays of the scenario's mechanics, by name (hyosan.mechanics)
