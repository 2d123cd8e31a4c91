"""Senses: zombies see prey and hear noise; humans see threats and hear screams and alarms (numba).

Sight is a line of sight on the same floor within an agent's range, through open doors but not
walls or shut doors. Humans see zombies through windows too; zombies and hunting halfbies go
only for prey they could walk straight to, so prey behind glass does not draw them (it pinned
every zombie of a corridor against its windows for hours, chasing the crowd in the courtyard).
Hearing reads the noise map. The nearest agent in range is
found through the block index, skipping blocks with nobody of interest.
"""

from __future__ import annotations

import math

from hyosan.rules.consts import BLOCK, OPAQUE, T_DOOR, T_WINDOW
from hyosan.rules.doors import shut
from hyosan.rules.jit import kernel_inline
from hyosan.rules.spatial import coords, is_prey, is_threat, rect_total


@kernel_inline
def opaque(c, world, door_state, glass):
    """Whether sight stops at cell ``c``: walls, the void, shut doors, and windows unless
    ``glass`` (the look sees through them)."""
    t = world.tiles[c]
    if OPAQUE[t] or (t == T_WINDOW and not glass):
        return True
    if t == T_DOOR:
        return shut(door_state[world.door_of_cell[c]])
    return False


@kernel_inline
def sees(a, b, world, door_state, W, H, glass=True):
    """Line of sight between two cells of the same floor (Bresenham; endpoints never block),
    through windows if ``glass``.

    The line is traced from the smaller (y, x) end, so sight is symmetric; a diagonal step
    squeezing between two opaque cells that touch by a corner is blocked, as walking there is.
    """
    geo = world.geo
    f, y0, x0 = coords(a, geo)
    f1, y1, x1 = coords(b, geo)
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
            and opaque(base + py * W + x, world, door_state, glass)
            and opaque(base + y * W + px, world, door_state, glass)
        ):
            return False
        if (x != x1 or y != y1) and opaque(base + y * W + x, world, door_state, glass):
            return False
    return True


@kernel_inline
def shut_in(room, bit, world, doors):
    """Whether no line of sight leaves ``room`` now: it is sealed for this kind of sight (``bit``
    1 for humans, who see through windows, 2 for zombies; ``world.sealed``,
    :func:`~hyosan.rules.spatial.sealed_rooms`) and every door of it is shut, with nobody on the
    door's tile. Lines between its cells and cells outside then stop at a wall, a window (for
    zombies) or a shut door: the senses need not trace them (a story's survivors sit barricaded
    for hours, zombies in the corridors all around them)."""
    if room < 0 or (world.sealed[room] & bit) == 0:
        return False
    for k in range(world.room_door_start[room], world.room_door_start[room + 1]):
        d = world.room_door_idx[k]
        if not shut(doors.state[d]) or world.occupancy[doors.cell[d]] != 0:
            return False
    return True


#: Candidates an agent looks at in one tick, nearest first (lines of sight are the costly part:
#: an agent in a corridor lined with full classrooms would otherwise test every one of them).
MAX_LOOKS = 6


@kernel_inline
def nearest_seen(i, want_prey, radius, agents, world, doors, prm, blocks):
    """The nearest agent in sight of ``i`` (prey if ``want_prey`` else threats), or -1.

    Candidates within ``radius`` are gathered from the blocks around ``i`` (empty blocks are
    skipped by their counts) into the block index's buffers; lines of sight are tested nearest
    first, at most ``MAX_LOOKS`` of them.
    """
    if radius <= 0.0:
        return -1
    state, cell, hostile, geo = agents.state, agents.cell, agents.hostile, world.geo
    block_count = blocks.prey if want_prey else blocks.threat
    sat = blocks.sat_prey if want_prey else blocks.sat_threat
    buf_idx, buf_d2 = blocks.buf_idx, blocks.buf_d2
    bw, bh, block = prm.bw, prm.bh, BLOCK
    c = cell[i]
    f, y, x = coords(c, geo)
    r = int(math.ceil(radius))  # noqa: RUF046 (numba's ceil returns a float here)
    by0 = max(0, (y - r) // block)
    by1 = min(bh - 1, (y + r) // block)
    bx0 = max(0, (x - r) // block)
    bx1 = min(bw - 1, (x + r) // block)
    if rect_total(sat, f, by0, bx0, by1, bx1, bw, bh) == 0:
        return -1  # nobody of interest anywhere near: the common case, answered in O(1)
    r2 = radius * radius
    cap = buf_idx.shape[0]
    k = 0
    for by in range(by0, by1 + 1):
        for bx in range(bx0, bx1 + 1):
            b = (f * bh + by) * bw + bx
            if block_count[b] == 0:
                continue
            j = blocks.head[b]
            while j >= 0 and k < cap:
                s = state[j]
                ok = is_prey(s) if want_prey else is_threat(s, hostile[j])
                if ok and j != i:
                    _, yj, xj = coords(cell[j], geo)
                    d2 = float((yj - y) ** 2 + (xj - x) ** 2)
                    if d2 <= r2:
                        buf_idx[k] = j
                        buf_d2[k] = d2
                        k += 1
                j = blocks.next[j]
    for _ in range(min(k, MAX_LOOKS)):
        best = 0
        for m in range(1, k):
            if buf_d2[m] < buf_d2[best]:
                best = m
        j = buf_idx[best]
        if want_prey:
            # Prey shut in a room (not the zombie's) is out of sight: no line to trace.
            room = world.room_of_cell[cell[j]]
            hidden = room >= 0 and room != world.room_of_cell[c] and shut_in(room, 2, world, doors)
        else:
            hidden = False
        if not hidden and sees(c, cell[j], world, doors.state, prm.W, prm.H, not want_prey):
            return j
        buf_d2[best] = math.inf
    return -1


@kernel_inline
def nearest_heard(i, f, radius, agents, world, prm, blocks):
    """The nearest prey on floor ``f`` within ``radius`` metres of ``i`` as seen from above,
    through walls, shut doors and ceilings (a hostile halfbie's sharp hearing: the hidden are
    heard breathing), or -1."""
    if radius <= 0.0 or f < 0 or f >= world.geo[world.geo.shape[0] - 1, 0] + 1:
        return -1
    state, cell, geo = agents.state, agents.cell, world.geo
    bw, bh, block = prm.bw, prm.bh, BLOCK
    _, y, x = coords(cell[i], geo)
    r = int(math.ceil(radius))  # noqa: RUF046 (numba's ceil returns a float here)
    by0 = max(0, (y - r) // block)
    by1 = min(bh - 1, (y + r) // block)
    bx0 = max(0, (x - r) // block)
    bx1 = min(bw - 1, (x + r) // block)
    if rect_total(blocks.sat_prey, f, by0, bx0, by1, bx1, bw, bh) == 0:
        return -1
    if blocks.prey_list[-1] <= (by1 - by0 + 1) * (bx1 - bx0 + 1):
        return _nearest_listed(i, f, y, x, radius * radius, agents, world, blocks)
    best = -1
    bd = radius * radius
    for by in range(by0, by1 + 1):
        for bx in range(bx0, bx1 + 1):
            b = (f * bh + by) * bw + bx
            if blocks.prey[b] == 0:
                continue
            j = blocks.head[b]
            while j >= 0:
                if is_prey(state[j]) and j != i:
                    _, yj, xj = coords(cell[j], geo)
                    d2 = float((yj - y) ** 2 + (xj - x) ** 2)
                    if d2 <= bd:
                        bd = d2
                        best = j
                j = blocks.next[j]
    return best


@kernel_inline
def _nearest_listed(i, f, y, x, r2, agents, world, blocks):
    """:func:`nearest_heard`'s answer from the list of prey instead of the blocks (fewer prey
    than blocks in reach: a story's quiet hours, a few survivors and a hunter's 60 m), the same
    agent: the blocks are walked in order (and each block's list from the highest id), a later
    prey at the same distance replacing an earlier one, so ties go to the highest block, then
    the lowest id."""
    state, cell, geo, prey_list = agents.state, agents.cell, world.geo, blocks.prey_list
    best = -1
    bd = r2
    bb = -1
    for k in range(prey_list[-1]):  # ids in increasing order
        j = prey_list[k]
        if j == i or not is_prey(state[j]):
            continue
        fj, yj, xj = coords(cell[j], geo)
        if fj != f:
            continue
        d2 = float((yj - y) ** 2 + (xj - x) ** 2)
        if d2 > bd:
            continue
        b = world.block_of_cell[cell[j]]
        if d2 < bd or best < 0 or b > bb:
            bd = d2
            best = j
            bb = b
    return best
