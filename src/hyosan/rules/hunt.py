"""Hostile halfbies hunt by walking distance (numba): Gwi-nam goes round walls, not into them.

A zombie chases what it sees, so a step that brings it nearer as the crow flies is the right
one. A hostile halfbie also hunts prey it only hears, through walls and ceilings
(``halfbies.hunt_range``), and the straight line to a room behind a wall runs into the wall:
a greedy chase got stuck behind walls for hours. So a hunter walks down a walking-distance
field to its prey instead (:func:`hunt_row`; the step down it is
:func:`hyosan.rules.movement.path_step`).

The fields live in a small pool (:class:`~hyosan.rules.state.Hunts`, a few rows of one float32
a cell, built once per run), a row per hunter, the least recently used row going to a new
hunter. A row is recomputed only when the prey has moved on (another floor, another room or
more than :data:`MOVED_ON` metres) or the hunter stands where the row does not reach, and the
search stops :data:`MARGIN` metres of walking beyond the hunter, so it costs the area between
them. The row's cells all lead downhill to the prey: a cell the search did not settle holds a
distance through a settled neighbour, which is smaller.

Doors do not stop the search: a hunter keeps its mind, so it opens a closed door (as humans
do, a tick's work), and batters a locked or barricaded one (``halfbies.break_rate``) until it
breaks.
"""

from __future__ import annotations

import math

import numpy as np

from hyosan.rules.consts import WALKABLE
from hyosan.rules.jit import kernel, kernel_inline
from hyosan.rules.spatial import euclid
from hyosan.world.fields import _pop_packed, _push_packed

#: Hunters at once with a field of their own (a run's pool, within :data:`POOL_BYTES`; more take
#: turns, least recent first, and each turn recomputes a field: at 8 rows, Hyosan High's seed 3,
#: with 30-odd hunters, ran 2.7 times as long).
ROWS = 64
#: The most memory the pool may take (bytes).
POOL_BYTES = 64 << 20
#: Metres the prey may move (on its floor, in its room or corridor) before its field is redone.
MOVED_ON = 3.0
#: Metres of walking the search goes on past the hunter, so a detour around a crowd stays on it.
MARGIN = 12.0
#: Heap keys are distances in 1/256 m (the bits of the cell below them).
_SCALE = 256.0


@kernel_inline
def _key(d, m):
    return (np.int64(d * _SCALE) << 32) | np.int64(m)


def hunt_rows(n_cells: int) -> int:
    """How many rows a run's pool gets on a map of ``n_cells`` cells."""
    return max(1, min(ROWS, POOL_BYTES // (4 * max(1, n_cells))))


@kernel
def hunt_field(k, prey, hunter, world, hunts):
    """Walking distances (m) to cell ``prey`` into row ``k`` of the pool, over every walkable
    tile (doors too, whatever their state), until ``MARGIN`` metres past cell ``hunter``."""
    dist, heap = hunts.dist, hunts.heap
    nbr_start, nbr_idx, nbr_cost, tiles = world.nbr_start, world.nbr_idx, world.nbr_cost, world.tiles
    for m in range(dist.shape[1]):
        dist[k, m] = math.inf
    dist[k, prey] = 0.0
    size = _push_packed(heap, 0, _key(0.0, prey))
    limit = math.inf
    while size > 0:
        item = heap[0]
        size = _pop_packed(heap, size)
        c = item & 0xFFFFFFFF
        d = dist[k, c]
        if (item >> 32) != np.int64(d * _SCALE):
            continue  # stale: the cell was reached by a shorter way since
        if d > limit:
            break
        if c == hunter:
            limit = d + MARGIN
        for e in range(nbr_start[c], nbr_start[c + 1]):
            m = nbr_idx[e]
            if not WALKABLE[tiles[m]]:
                continue
            nd = d + nbr_cost[e]
            if nd < dist[k, m]:
                dist[k, m] = nd
                size = _push_packed(heap, size, _key(nd, m))
    return 0


@kernel_inline
def hunt_slot(i, now, hunts):
    """The pool's row of hunter ``i``: its own, else the least recently used one (cleared)."""
    owner, used = hunts.owner, hunts.used
    oldest = 0
    for k in range(owner.shape[0]):
        if owner[k] == i:
            used[k] = now
            return k
        if used[k] < used[oldest]:
            oldest = k
    owner[oldest] = i
    used[oldest] = now
    hunts.source[oldest] = -1
    return oldest


@kernel_inline
def moved_on(a, b, world):
    """Whether prey now at cell ``b`` has moved on from cell ``a``, where its field was made."""
    geo, room = world.geo, world.room_of_cell
    if geo[a, 0] != geo[b, 0] or room[a] != room[b]:
        return True
    return euclid(a, b, geo) > MOVED_ON


@kernel_inline
def hunt_row(i, c, prey, now, world, hunts):
    """The pool's row that leads hunter ``i`` at cell ``c`` to ``prey``, made anew when the
    prey has moved on or the row does not reach ``c``."""
    k = hunt_slot(i, now, hunts)
    src = hunts.source[k]
    if src < 0 or moved_on(src, prey, world) or not hunts.dist[k, c] < math.inf:
        hunt_field(k, prey, c, world, hunts)
        hunts.source[k] = prey
    return k
