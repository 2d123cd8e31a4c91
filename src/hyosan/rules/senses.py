"""Senses: zombies see prey and hear noise; humans see threats and hear screams and alarms (numba).

Sight is a line of sight on the same floor within an agent's range, through open doors and
windows but not walls or shut doors. Hearing reads the noise map. The nearest agent in range is
found through the block index, skipping blocks with nobody of interest.
"""

from __future__ import annotations

import math

import numba

from hyosan.rules.consts import D_BARRICADED, D_CLOSED, T_DOOR, T_WALL
from hyosan.rules.spatial import coords, is_prey, is_threat


@numba.njit(cache=True, inline="always")
def opaque(c, tiles, door_of_cell, door_state):
    t = tiles[c]
    if t == T_WALL or t == 0:
        return True
    if t == T_DOOR:
        ds = door_state[door_of_cell[c]]
        return ds >= D_CLOSED and ds <= D_BARRICADED
    return False


@numba.njit(cache=True)
def sees(a, b, W, H, tiles, door_of_cell, door_state):
    """Line of sight between two cells of the same floor (Bresenham; endpoints never block)."""
    f, y0, x0 = coords(a, W, H)
    f1, y1, x1 = coords(b, W, H)
    if f != f1:
        return False
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
        if (
            x != px
            and y != py
            and opaque(base + py * W + x, tiles, door_of_cell, door_state)
            and opaque(base + y * W + px, tiles, door_of_cell, door_state)
        ):
            return False
        if (x != x1 or y != y1) and opaque(base + y * W + x, tiles, door_of_cell, door_state):
            return False
    return True


@numba.njit(cache=True)
def nearest_seen(
    i,
    want_prey,
    radius,
    state,
    cell,
    hostile,
    W,
    H,
    block,
    bw,
    bh,
    block_head,
    block_next,
    block_count,
    tiles,
    door_of_cell,
    door_state,
):
    """The nearest agent in sight of agent ``i`` (prey if ``want_prey`` else threats), or -1."""
    if radius <= 0.0:
        return -1
    c = cell[i]
    f, y, x = coords(c, W, H)
    r = math.ceil(radius)
    by0 = max(0, (y - r) // block)
    by1 = min(bh - 1, (y + r) // block)
    bx0 = max(0, (x - r) // block)
    bx1 = min(bw - 1, (x + r) // block)
    best = -1
    best_d2 = radius * radius + 1e-9
    for by in range(by0, by1 + 1):
        for bx in range(bx0, bx1 + 1):
            b = (f * bh + by) * bw + bx
            if block_count[b] == 0:
                continue
            j = block_head[b]
            while j >= 0:
                s = state[j]
                if want_prey:
                    ok = is_prey(s)
                else:
                    ok = is_threat(s, hostile[j])
                if ok and j != i:
                    _, yj, xj = coords(cell[j], W, H)
                    d2 = float((yj - y) ** 2 + (xj - x) ** 2)
                    if d2 < best_d2 and sees(c, cell[j], W, H, tiles, door_of_cell, door_state):
                        best = j
                        best_d2 = d2
                j = block_next[j]
    return best
