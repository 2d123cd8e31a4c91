"""Fields over the world's graphs: walking distance, loudness, line of sight (numba kernels).

Every kernel takes and returns plain arrays (the CSR graphs and masks of a
:class:`~hyosan.world.world.World`), holds no Python objects and no global state, and is
compiled once and cached on disk. Cells are flat indices ``(f*H + y)*W + x``.

The engine calls :func:`distance_field` several times a simulated minute (to the exits, to the
nearest human, away from the nearest zombie), so it is a multi-source Dijkstra on a binary heap
with lazy deletion, in float32 like its output: 3-5 ms for the ~38,000 walkable cells of a
4 x 100 x 100 school on one core of a 2020s server.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.core import types
from numba.extending import overload

from hyosan.world.tiles import DoorState, Tile

#: Sound defaults, in dB. A scream is about 90-100 dB, a shot 140, a footstep 50-60, a voice 60.
#: Sound spreading through corridors loses a little more than free-field spreading would (which
#: loses 6 dB per doubling of distance, i.e. fast near the source and slowly far away); a flat
#: 1 dB per metre keeps a voice audible across a classroom and a scream along a corridor.
PER_METRE = 1.0
#: A masonry wall between classrooms cuts 40-50 dB; 30 dB per wall tile, so a wall one tile thick
#: (as drawn on most maps) muffles a voice to nothing and a scream to a murmur.
WALL_LOSS = 30.0
#: A closed wooden door cuts 15-25 dB (much less than a wall: gaps around it). Open doors cost
#: nothing.
DOOR_LOSS = 15.0
#: Below about 20 dB a sound is lost in the background noise of a building; cells quieter than
#: this are left at 0 and not expanded, so small sounds cost little to compute.
HEARING_THRESHOLD = 20.0

_WALL = int(Tile.WALL)
_DOOR = int(Tile.DOOR)
_CLOSED = int(DoorState.CLOSED)
_BARRICADED = int(DoorState.BARRICADED)


@numba.njit(cache=True, inline="always")
def _push(keys, vals, n, key, val):
    """Push (key, val) onto the min-heap held in keys[:n], vals[:n]; return the new size."""
    i = n
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        vals[i] = vals[parent]
        i = parent
    keys[i] = key
    vals[i] = val
    return n + 1


@numba.njit(cache=True, inline="always")
def _pop(keys, vals, n):
    """Remove the top of the heap (read it first from keys[0], vals[0]); return the new size."""
    n -= 1
    key = keys[n]
    val = vals[n]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and keys[child + 1] < keys[child]:
            child += 1
        if keys[child] >= key:
            break
        keys[i] = keys[child]
        vals[i] = vals[child]
        i = child
    keys[i] = key
    vals[i] = val
    return n


@numba.njit(cache=True, inline="always")
def _push_packed(heap, n, item):
    """Push an int64 onto the min-heap held in heap[:n]; return the new size."""
    i = n
    while i > 0:
        parent = (i - 1) >> 1
        if heap[parent] <= item:
            break
        heap[i] = heap[parent]
        i = parent
    heap[i] = item
    return n + 1


@numba.njit(cache=True, inline="always")
def _pop_packed(heap, n):
    """Remove the top of the int64 min-heap (read it first from heap[0]); return the new size."""
    n -= 1
    item = heap[n]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and heap[child + 1] < heap[child]:
            child += 1
        if heap[child] >= item:
            break
        heap[i] = heap[child]
        i = child
    heap[i] = item
    return n


@numba.njit(cache=True)
def distance_field(nbr_start, nbr_idx, nbr_cost, blocked, sources):
    """Walking distance (m) from every cell to the nearest source; inf where unreachable.

    Multi-source Dijkstra on a binary heap. Blocked cells are never entered; a source gets 0
    even when blocked and is expanded all the same, so the field to a shut door leads to it
    from both sides (and :func:`step_toward` stops next to it). Costs must be positive.

    A heap entry is one int64: the bits of the float32 distance (which order like the
    non-negative floats they encode) above the cell index (below 2**32). One array instead of
    two makes the heap about a quarter faster; an entry is stale when its distance bits no
    longer match ``dist`` (lazy deletion).
    """
    n = nbr_start.shape[0] - 1
    dist = np.full(n, np.inf, dtype=np.float32)
    bits = dist.view(np.uint32)
    heap = np.empty(nbr_idx.shape[0] + sources.shape[0] + 1, dtype=np.int64)
    size = 0
    for s in sources:
        if s < 0 or s >= n:
            raise IndexError("source cell outside the world")
        if dist[s] > 0:
            dist[s] = 0
            size = _push_packed(heap, size, np.int64(s))
    while size > 0:
        item = heap[0]
        size = _pop_packed(heap, size)
        c = item & 0xFFFFFFFF
        if (item >> 32) != bits[c]:
            continue
        d = dist[c]
        for e in range(nbr_start[c], nbr_start[c + 1]):
            m = nbr_idx[e]
            if blocked[m]:
                continue
            nd = d + nbr_cost[e]
            if nd < dist[m]:
                dist[m] = nd
                size = _push_packed(heap, size, (np.int64(bits[m]) << 32) | m)
    return dist


def _capacity_at(capacity, cell):
    """The capacity of ``cell``: ``capacity`` is one number for every cell, or a per-cell array."""
    return capacity[cell] if isinstance(capacity, np.ndarray) else capacity


@overload(_capacity_at, inline="always")
def _capacity_at_numba(capacity, cell):
    if isinstance(capacity, types.Array):
        return lambda capacity, cell: capacity[cell]
    return lambda capacity, cell: capacity


@numba.njit(cache=True)
def step_toward(cell, dist, nbr_start, nbr_idx, blocked, occupancy, capacity):
    """The free neighbour with the smallest ``dist`` below ``dist[cell]``, else ``cell``.

    Free: not blocked and ``occupancy < capacity`` (one number, or a per-cell array such as a
    lower capacity in doorways). Ties go to the first neighbour in graph order (orthogonal
    before diagonal before stairs).
    """
    best = cell
    best_d = dist[cell]
    for e in range(nbr_start[cell], nbr_start[cell + 1]):
        m = nbr_idx[e]
        if blocked[m] or occupancy[m] >= _capacity_at(capacity, m):
            continue
        if dist[m] < best_d:
            best = m
            best_d = dist[m]
    return best


@numba.njit(cache=True)
def step_away(cell, dist, nbr_start, nbr_idx, blocked, occupancy, capacity):
    """The free neighbour with the largest finite ``dist`` above ``dist[cell]``, else ``cell``."""
    best = cell
    best_d = dist[cell]
    for e in range(nbr_start[cell], nbr_start[cell + 1]):
        m = nbr_idx[e]
        if blocked[m] or occupancy[m] >= _capacity_at(capacity, m):
            continue
        if dist[m] > best_d and dist[m] < np.inf:
            best = m
            best_d = dist[m]
    return best


@numba.njit(cache=True, inline="always")
def sound_loss(m, tiles_flat, door_of_cell, door_state, per_metre, wall_loss, door_loss):
    """dB a sound loses stepping into cell ``m``: per metre, plus a wall's or a shut door's loss."""
    loss = per_metre
    t = tiles_flat[m]
    if t == _WALL:
        loss += wall_loss
    elif t == _DOOR:
        ds = door_state[door_of_cell[m]]
        if ds >= _CLOSED and ds <= _BARRICADED:
            loss += door_loss
    return loss


@numba.njit(cache=True)
def sound_field(
    snd_start,
    snd_idx,
    tiles_flat,
    door_of_cell,
    door_state,
    source_cells,
    source_levels,
    wall_loss,
    door_loss,
    per_metre,
    threshold,
):
    """Loudness (dB) in every cell: the loudest of the sources as heard there, 0 if below threshold.

    From each source at its level, a sound loses ``per_metre`` per step of the sound graph (a
    stair link counts as one step: stairwells carry sound well), ``wall_loss`` on entering a
    WALL cell and ``door_loss`` on entering a shut (closed, locked, barricaded) DOOR cell;
    windows and open or broken doors cost nothing extra. Cells quieter than ``threshold`` are
    not expanded, so the work is proportional to the area that hears the sound.
    """
    n = snd_start.shape[0] - 1
    out = np.zeros(n, dtype=np.float32)  # zeroed pages come free: no O(C) pass for small sounds
    seen = np.zeros(n, dtype=np.uint8)  # 0 unheard, 1 queued at level best[c], 2 final
    best = np.empty(n)
    cap = snd_idx.shape[0] + source_cells.shape[0] + 1
    keys = np.empty(cap)
    vals = np.empty(cap, dtype=np.int64)
    size = 0
    for i in range(source_cells.shape[0]):
        s = source_cells[i]
        if s < 0 or s >= n:
            raise IndexError("sound source outside the world")
        lv = np.float64(source_levels[i])
        if lv >= threshold and (seen[s] == 0 or lv > best[s]):
            best[s] = lv
            seen[s] = 1
            size = _push(keys, vals, size, -lv, s)
    while size > 0:
        c = vals[0]
        lv = -keys[0]
        size = _pop(keys, vals, size)
        if seen[c] == 2:
            continue
        seen[c] = 2
        out[c] = lv
        for e in range(snd_start[c], snd_start[c + 1]):
            m = snd_idx[e]
            if seen[m] == 2:
                continue
            nl = lv - sound_loss(m, tiles_flat, door_of_cell, door_state, per_metre, wall_loss, door_loss)
            if nl >= threshold and (seen[m] == 0 or nl > best[m]):
                best[m] = nl
                seen[m] = 1
                size = _push(keys, vals, size, -nl, m)
    return out


@numba.njit(cache=True)
def line_of_sight(opaque_flat, W, H, f, y0, x0, y1, x1):
    """Whether (y0, x0) sees (y1, x1) on floor ``f``: no opaque cell on the Bresenham line between.

    The endpoints themselves never block (a zombie in a doorway is seen). The line is traced
    from the smaller (y, x) end, so sight is symmetric; a diagonal step squeezing between two
    opaque cells that touch by a corner is blocked, as walking there is.
    """
    if (y1, x1) < (y0, x0):
        y0, x0, y1, x1 = y1, x1, y0, x0
    base = f * H * W
    dx = abs(x1 - x0)
    dy = abs(y1 - y0)
    sx = 1 if x1 > x0 else -1
    sy = 1 if y1 > y0 else -1
    err = dx - dy
    x = x0
    y = y0
    while x != x1 or y != y1:
        e2 = 2 * err
        px = x
        py = y
        if e2 > -dy:
            err -= dy
            x += sx
        if e2 < dx:
            err += dx
            y += sy
        if x != px and y != py and opaque_flat[base + py * W + x] and opaque_flat[base + y * W + px]:
            return False
        if (x != x1 or y != y1) and opaque_flat[base + y * W + x]:
            return False
    return True
