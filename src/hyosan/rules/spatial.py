"""Who is where: the spatial index the other systems query (numba).

Two linked-list indexes, rebuilt from scratch each tick in O(agents) (cheaper and safer than
updating them on every move):

- by *block* (``BLOCK`` x ``BLOCK`` tiles of one floor), with per-block counts of humans and of
  threats, so that looking for the nearest zombie skips empty blocks at once (senses);
- by *cell*, for adjacency (contact): the prey every tick, the zombies when someone fights back
  (movement keeps the occupancy counts current itself).
"""

from __future__ import annotations

import math

import numpy as np

from hyosan.rules.consts import BITTEN, HALFBIE, HUMAN, OPAQUE, T_DOOR, T_WINDOW, ZOMBIE
from hyosan.rules.jit import kernel, kernel_inline
from hyosan.rules.state import WorldArrays


@kernel_inline
def coords(c, geo):
    """Flat cell -> (floor, y, x), looked up in ``geo`` (integer division is slow in a hot loop)."""
    return geo[c, 0], geo[c, 1], geo[c, 2]


@kernel_inline
def euclid(a, b, geo):
    """Distance in metres between two cells of the same floor (inf across floors)."""
    fa, ya, xa = coords(a, geo)
    fb, yb, xb = coords(b, geo)
    if fa != fb:
        return math.inf
    return math.sqrt((ya - yb) ** 2 + (xa - xb) ** 2)


#: (dy, dx) and cost of each edge of a cell whose edges are its 8 grid neighbours (see
#: :func:`full_cells`), in the walking graph's order N, W, E, S, NW, NE, SW, SE.
EDGE_DY = (-1, 0, 0, 1, -1, -1, 1, 1)
EDGE_DX = (0, -1, 1, 0, -1, 1, -1, 1)
EDGE_COST = (1.0, 1.0, 1.0, 1.0) + (float(np.float32(math.sqrt(2.0))),) * 4
#: The same as arrays, for the kernels: numba freezes a global array into the compiled code as a
#: constant, while a tuple indexed by a run-time number becomes a switch (a wandering agent's step
#: took twice as long through the tuples in a microbenchmark).
EDGE_DY_A = np.array(EDGE_DY, dtype=np.int64)
EDGE_DX_A = np.array(EDGE_DX, dtype=np.int64)
EDGE_COST_A = np.array(EDGE_COST, dtype=np.float32)


@kernel_inline
def full8(c, full):
    """Whether cell ``c``'s edges are exactly its 8 grid neighbours (``full`` from :func:`full_cells`).

    Then edge ``nbr_start[c] + k`` leads to ``c + EDGE_DY[k] * W + EDGE_DX[k]`` at cost
    ``EDGE_COST[k]`` (the ``_A`` arrays in kernels): the kernels need not load ``nbr_idx`` and
    ``nbr_cost`` (large arrays, out of cache on big maps) to know where and how far.
    """
    return full[c] != 0


@kernel_inline
def on_map(s):
    return s == HUMAN or s == BITTEN or s == ZOMBIE or s == HALFBIE


@kernel_inline
def is_threat(s, hostile):
    """Zombies, and halfbies who hunt humans."""
    return s == ZOMBIE or (s == HALFBIE and hostile)


@kernel_inline
def is_prey(s):
    """What zombies go for: humans, bitten or not (only halfbies are out of their reach)."""
    return s == HUMAN or s == BITTEN


@kernel
def rebuild_blocks(agents, world, blocks):
    """Index agents on the map by block; count prey and threats per block and threats per room;
    list the prey."""
    head, nxt, prey, threat = blocks.head, blocks.next, blocks.prey, blocks.threat
    head[:] = -1
    prey[:] = 0
    threat[:] = 0
    room_threats = blocks.room_threats
    room_threats[:] = 0
    state, cell, hostile, prey_list = agents.state, agents.cell, agents.hostile, blocks.prey_list
    n_prey = 0
    for i in range(state.shape[0]):
        s = state[i]
        if not on_map(s):
            continue
        b = world.block_of_cell[cell[i]]
        nxt[i] = head[b]
        head[b] = i
        if is_prey(s):
            prey[b] += 1
            prey_list[n_prey] = i
            n_prey += 1
        elif is_threat(s, hostile[i]):
            threat[b] += 1
            room = world.room_of_cell[cell[i]]
            if room >= 0:
                room_threats[room] += 1
    prey_list[-1] = n_prey


@kernel
def summed_area(counts, sat, bw, bh):
    """Per-floor summed-area table of block counts: any block rectangle's total in four lookups.

    ``sat`` has (bh + 1) x (bw + 1) entries per floor; entry (y, x) holds the total of blocks
    above and left of (y, x).
    """
    floors = counts.shape[0] // (bw * bh)
    for f in range(floors):
        base = f * (bh + 1) * (bw + 1)
        for x in range(bw + 1):
            sat[base + x] = 0
        for y in range(bh):
            row = 0
            sat[base + (y + 1) * (bw + 1)] = 0
            for x in range(bw):
                row += counts[(f * bh + y) * bw + x]
                sat[base + (y + 1) * (bw + 1) + x + 1] = sat[base + y * (bw + 1) + x + 1] + row


@kernel_inline
def rect_total(sat, f, by0, bx0, by1, bx1, bw, bh):
    """Total of blocks by0..by1 x bx0..bx1 (inclusive) on floor f, from a summed-area table."""
    base = f * (bh + 1) * (bw + 1)
    w = bw + 1
    return (
        sat[base + (by1 + 1) * w + bx1 + 1]
        - sat[base + by0 * w + bx1 + 1]
        - sat[base + (by1 + 1) * w + bx0]
        + sat[base + by0 * w + bx0]
    )


@kernel
def rebuild_cells(agents, idx, width):
    """Index the prey (humans, bitten or not) by cell (``idx.touched`` records the heads set, to clear
    them next time).

    ``idx.prey_in[c]`` is 1 where cell c holds prey: contact looks into no other cell's list for
    prey (it turns prey into the bitten, never the reverse, so the lists and flags stay a
    superset meanwhile; the bitten stay prey until they turn). Zombies are indexed only when
    contact needs them (:func:`index_zombies`): late in an outbreak they are most of the agents,
    and most ticks nobody looks for them.
    """
    cell_head, cell_next, touched, prey_in, near = idx.head, idx.next, idx.touched, idx.prey_in, idx.near
    n_touched = touched[-1]
    W = width
    top = near.shape[0] - 1
    for k in range(n_touched):
        c = touched[k]
        cell_head[c] = -1
        prey_in[c] = 0
        for dy in (-W, 0, W):  # the 3 x 3 stamp around it (see below), bit 1 kept
            for m in range(max(0, c + dy - 1), min(top, c + dy + 1) + 1):
                near[m] &= 2
    n_touched = 0
    state, cell = agents.state, agents.cell
    for i in range(state.shape[0]):
        if not is_prey(state[i]):
            continue
        c = cell[i]
        if cell_head[c] == -1:
            touched[n_touched] = c
            n_touched += 1
            prey_in[c] = 1
        cell_next[i] = cell_head[c]
        cell_head[c] = i
    # Where an attacker may find prey within a step: the 3 x 3 cells around each prey's cell (a
    # step of the walking graph under 2 m is one of them, or the cell's bit 1 is set): contact
    # skips every other attacker at the cost of one load (late in a story most have nobody
    # near). Flat offsets wrap across rows and floors at the edges: more cells, never fewer.
    for k in range(n_touched):
        c = touched[k]
        for dy in (-W, 0, W):
            for m in range(max(0, c + dy - 1), min(top, c + dy + 1) + 1):
                near[m] |= 1
    touched[-1] = n_touched


@kernel
def index_zombies(agents, idx):
    """Index the zombies by cell, chained through ``idx.next`` beside the prey's lists (an agent
    is in one list at most: prey or zombie)."""
    zombie_head, cell_next, touched = idx.zombie_head, idx.next, idx.zombie_touched
    n_touched = touched[-1]
    for k in range(n_touched):
        zombie_head[touched[k]] = -1
    n_touched = 0
    state, cell = agents.state, agents.cell
    for i in range(state.shape[0]):
        if state[i] != ZOMBIE:
            continue
        c = cell[i]
        if zombie_head[c] == -1:
            touched[n_touched] = c
            n_touched += 1
        cell_next[i] = zombie_head[c]
        zombie_head[c] = i
    touched[-1] = n_touched


def sealed_rooms(
    tiles: np.ndarray, room: np.ndarray, door_of_cell: np.ndarray, room_doors: list
) -> np.ndarray:
    """uint8 per room: bit 0 where no human's line of sight (through windows) leaves the room
    while its doors are shut, bit 1 where no zombie's does (windows stop a zombie's sight).

    ``tiles``, ``room`` and ``door_of_cell`` are (floors, H, W) grids. A room is sealed when each
    of its cells and their 8 grid neighbours is a cell of the room (no door; no window for bit
    0), a wall or the void, one of the room's own doors, or (bit 1) a window: a line of sight
    (rules/senses.py: steps to grid neighbours on one floor) between a cell inside and one
    outside must pass a neighbour that is not the room's, which stops it unless it is a door
    left open or the line's far end (someone on a door's tile): the senses check those at run
    time (:func:`~hyosan.rules.senses.shut_in`)."""
    n_rooms = len(room_doors)
    if n_rooms == 0:
        return np.zeros(1, dtype=np.uint8)
    sealed = np.full(n_rooms, 3, dtype=np.uint8)
    own = np.zeros((n_rooms, int(door_of_cell.max()) + 2), dtype=bool)  # own[r, door + 1]
    for r, doors in enumerate(room_doors):
        own[r, np.asarray(doors, dtype=np.int64) + 1] = True
    pad = ((0, 0), (1, 1), (1, 1))
    t = np.pad(tiles, pad, constant_values=int(np.flatnonzero(OPAQUE)[0]))
    rm = np.pad(room, pad, constant_values=-1)
    dr = np.pad(door_of_cell, pad, constant_values=-1)
    inside = room >= 0
    f, y, x = np.nonzero(inside)
    r = room[inside]
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            nt = t[f, y + 1 + dy, x + 1 + dx]
            nr = rm[f, y + 1 + dy, x + 1 + dx]
            nd = dr[f, y + 1 + dy, x + 1 + dx]
            window = nt == T_WINDOW
            rest = np.where(nt == T_DOOR, own[r, nd + 1], (OPAQUE[nt] == 1) | ((nr == r) & ~window))
            sealed[r[~(rest & ~window)]] &= 2  # a window lets a human's sight through
            sealed[r[~(rest | window)]] &= 1
    return sealed


def mark_odd_steps(world: WorldArrays, near: np.ndarray) -> None:
    """Bit 1 of ``near`` on cells with a step under 2 m (contact's reach) to a cell outside their
    3 x 3 neighbourhood on the grid (none on maps made of tiles; a user's graph might have some):
    contact always looks around those."""
    n_cells = near.shape[0]
    src = np.repeat(np.arange(n_cells), np.diff(world.nbr_start))
    dst = world.nbr_idx.astype(np.int64)
    geo = world.geo
    far = (
        (geo[src, 0] != geo[dst, 0])
        | (np.abs(geo[src, 1] - geo[dst, 1]) > 1)
        | (np.abs(geo[src, 2] - geo[dst, 2]) > 1)
    )
    near[src[(world.nbr_cost < 2.0) & far]] |= 2


@kernel
def count_occupancy(state, cell, occupancy):
    occupancy[:] = 0
    for i in range(state.shape[0]):
        if on_map(state[i]):
            occupancy[cell[i]] += 1


def geometry(floors: int, height: int, width: int) -> np.ndarray:
    """(floor, y, x) of every flat cell, as int32 columns."""
    f, y, x = np.meshgrid(np.arange(floors), np.arange(height), np.arange(width), indexing="ij")
    return np.stack([f.ravel(), y.ravel(), x.ravel()], axis=1).astype(np.int32)


def block_layout(floors: int, height: int, width: int, block: int) -> tuple[np.ndarray, int, int]:
    """Block index of every flat cell, and the number of blocks per row and column."""
    bw = -(-width // block)
    bh = -(-height // block)
    f, y, x = np.meshgrid(np.arange(floors), np.arange(height), np.arange(width), indexing="ij")
    blocks = (f * bh + y // block) * bw + x // block
    return blocks.ravel().astype(np.int32), bw, bh


def full_cells(nbr_start: np.ndarray, nbr_idx: np.ndarray, nbr_cost: np.ndarray, width: int) -> np.ndarray:
    """uint8 per cell: 1 where the walking graph's edges of the cell are exactly, in this order,
    its 8 grid neighbours ``c + EDGE_DY[k] * width + EDGE_DX[k]`` at costs ``EDGE_COST[k]``."""
    n_cells = nbr_start.size - 1
    full = np.diff(nbr_start) == 8
    cells = np.flatnonzero(full)
    first = nbr_start[cells][:, None] + np.arange(8)
    dst = cells[:, None] + EDGE_DY_A * width + EDGE_DX_A
    same = (nbr_idx[first] == dst).all(axis=1)
    same &= (nbr_cost[first] == np.array(EDGE_COST, dtype=nbr_cost.dtype)).all(axis=1)
    out = np.zeros(n_cells, dtype=np.uint8)
    out[cells[same]] = 1
    return out
