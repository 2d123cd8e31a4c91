"""Decisions and movement: who goes where this tick, opening, barricading and battering doors (numba).

Humans: the calm shuffle inside their room; the alert *flee* along the goal field (exits and
goal areas) and away from the nearest zombie in sight, following their group's leader; the
timid *hide* in the nearest refuge room and barricade its doors; bitten altruists *hold* the
nearest doorway. Zombies: chase prey in sight, else head up the loudest sound, else wander;
a shut door in their way is battered until it breaks. Every agent moves as far as its speed
allows (1 m orthogonal, 1.41 m diagonal, a stair link costs more), never into a wall, a full
tile or a shut door; humans open closed doors (a tick's work) but not locked or barricaded ones.
"""

from __future__ import annotations

import math

import numpy as np

from hyosan.rules.consts import (
    BITTEN,
    CALM,
    CHASE,
    D_BARRICADED,
    D_BROKEN,
    D_CLOSED,
    D_LOCKED,
    D_OPEN,
    EV_BARRICADE,
    EV_DOOR_BREACH,
    EV_DOOR_OPEN,
    FLEE,
    HALFBIE,
    HIDDEN,
    HIDE,
    HOLD,
    HUMAN,
    I_BATTER_TICKS,
    I_CORDON,
    I_H,
    I_HUMANS_WANDER,
    I_W,
    P_BARRICADE_HP,
    P_BARRICADE_S,
    P_BATTER_DB,
    P_CALM_MOVE,
    P_DOOR_LOSS,
    P_FOLLOW,
    P_HB_SPEED,
    P_NOISE_FLOOR,
    P_PER_METRE,
    P_STAIR_COST,
    P_TICK_S,
    P_WALL_LOSS,
    P_Z_BREAK,
    P_Z_RUN,
    P_Z_WALK,
    SEEK,
    T_DOOR,
    T_EXIT,
    T_STAIRS,
    TR_RUN,
    TR_WALK,
    WANDER,
    ZOMBIE,
)
from hyosan.rules.jit import kernel, kernel_inline
from hyosan.rules.log import emit
from hyosan.rules.noise import heard, stamp_noise
from hyosan.rules.rng import below, below8, uniform
from hyosan.rules.spatial import EDGE_COST_A, EDGE_DX_A, EDGE_DY_A, coords, euclid, full8

# Wandering headings (dy, dx), clockwise from north (arrays: see spatial.EDGE_DY_A).
_DY = np.array((-1, -1, 0, 1, 1, 1, 0, -1), dtype=np.int64)
_DX = np.array((0, 1, 1, 1, 0, -1, -1, -1), dtype=np.int64)
# Where each heading's edge is among the edges of a cell with all 8 grid neighbours (spatial.full8).
_HEADING_EDGE = np.array((0, 5, 2, 7, 3, 6, 1, 4), dtype=np.int64)
_MAX_STEPS = 4  # steps per tick at most (a sprinting zombie covers 4 m in a second)


@kernel_inline
def walkable(t):
    return t == 1 or t == 3 or t == 5 or t == 6 or t == 7


@kernel_inline
def shut(ds):
    return ds == D_CLOSED or ds == D_LOCKED or ds == D_BARRICADED


@kernel_inline
def human_may_enter(m, tiles, door_of_cell, door_state, cordon):
    """Walkable, not a locked or barricaded door (a closed one they open), no exit under cordon."""
    t = tiles[m]
    if not walkable(t):
        return False
    if t == T_DOOR:
        ds = door_state[door_of_cell[m]]
        return not (ds == D_LOCKED or ds == D_BARRICADED)
    if t == T_EXIT and cordon:
        return False
    return True


@kernel_inline
def zombie_may_enter(m, tiles, door_of_cell, door_state):
    t = tiles[m]
    if not walkable(t):
        return False
    if t == T_DOOR:
        return not shut(door_state[door_of_cell[m]])
    return True


@kernel_inline
def finite(d):
    return d if d < math.inf else 1e9


@kernel_inline
def position(e, c, nbr_start):
    """Edge ``e`` of cell ``c`` as the step functions return it: its position among the cell's
    edges (``move_all`` needs no ``nbr_start`` to follow it on a full cell); -1 for no edge."""
    return e - nbr_start[c] if e >= 0 else -1


@kernel_inline
def downhill(c, field, nbr_start, nbr_idx, tiles, door_of_cell, door_state, cap, occupancy, cordon):
    """The edge to the free neighbour a human may enter with the lowest ``field`` below ``field[c]``."""
    best = -1
    bd = field[c]
    for e in range(nbr_start[c], nbr_start[c + 1]):
        m = nbr_idx[e]
        if field[m] < bd and occupancy[m] < cap[m]:
            if human_may_enter(m, tiles, door_of_cell, door_state, cordon):
                bd = field[m]
                best = e
    return best


@kernel_inline
def human_step(
    i, c, mode, threat, goal, refuge, choke, nbr_start, nbr_idx, full, tiles, door_of_cell, room_of_cell,
    cap, occupancy, door_state, cell, leader, state, modes, geo, W, follow, calm_move, wander, cordon, gen,
):  # fmt: skip
    """Which of its cell's edges agent ``i`` (a human or friendly halfbie) takes next (its position
    ``k`` among the cell's edges), or -1.

    Takes plain arrays, not the tuples they live in: taking an array out of a tuple inside the
    per-agent loop costs two atomic reference-count updates per array and agent.
    """
    best = -1
    if (mode == FLEE or mode == HIDE) and not wander:
        field = goal if mode == FLEE else refuge
        # Follow the leader when it is ahead on the route, on this floor, and the group has spread
        # out (a leader behind its followers, at the back of a full room, is not waited for).
        ldr = leader[i]
        if (
            ldr != i
            and (state[ldr] == HUMAN or state[ldr] == BITTEN)
            and modes[ldr] == mode
            and field[cell[ldr]] < field[c]
        ):
            lc = cell[ldr]
            d0 = euclid(c, lc, geo)
            if d0 > follow and d0 < math.inf:
                bd = d0
                for e in range(nbr_start[c], nbr_start[c + 1]):
                    m = nbr_idx[e]
                    if occupancy[m] >= cap[m] or not human_may_enter(
                        m, tiles, door_of_cell, door_state, cordon
                    ):
                        continue
                    d = euclid(m, lc, geo)
                    if d < bd - 0.01:
                        bd = d
                        best = e
                if best >= 0:
                    return position(best, c, nbr_start)
        if threat >= 0 and euclid(c, threat, geo) <= 6.0:
            # Away from the zombie, preferring ground that also brings the goal nearer.
            here = euclid(c, threat, geo) - 0.5 * finite(field[c])
            bs = here
            for e in range(nbr_start[c], nbr_start[c + 1]):
                m = nbr_idx[e]
                if occupancy[m] >= cap[m] or not human_may_enter(m, tiles, door_of_cell, door_state, cordon):
                    continue
                s = euclid(m, threat, geo)
                if s == math.inf:
                    s = 20.0  # stairs away from the zombie's floor: the best escape
                s -= 0.5 * finite(field[m])
                if s > bs + 0.01:
                    bs = s
                    best = e
            if best >= 0:
                return position(best, c, nbr_start)
        best = downhill(c, field, nbr_start, nbr_idx, tiles, door_of_cell, door_state, cap, occupancy, cordon)
        return position(best, c, nbr_start)
    if mode == HOLD and not wander:
        t = tiles[c]
        if t == T_DOOR or t == T_STAIRS:
            return -1
        best = downhill(c, choke, nbr_start, nbr_idx, tiles, door_of_cell, door_state, cap, occupancy, cordon)
        return position(best, c, nbr_start)
    # CALM, HIDDEN with nothing to barricade, or the "wander" behaviour: a random step.
    if not wander and mode != CALM and uniform(gen) >= calm_move:
        return -1  # (CALM agents rolled already in move_all)
    if full8(c, full):  # the cell ahead without loading nbr_start or nbr_idx
        k = below8(gen)
        m = c + EDGE_DY_A[k] * W + EDGE_DX_A[k]
    else:
        e0 = nbr_start[c]
        n = nbr_start[c + 1] - e0
        if n == 0:
            return -1
        k = below(gen, n)
        m = nbr_idx[e0 + k]
    if occupancy[m] >= cap[m] or not human_may_enter(m, tiles, door_of_cell, door_state, cordon):
        return -1
    if not wander:
        # The calm stay in their room: no doors, stairs or exits.
        t = tiles[m]
        if t == T_DOOR or t == T_EXIT or t == T_STAIRS:
            return -1
        room = room_of_cell[c]
        if room >= 0 and room_of_cell[m] != room:
            return -1
    return k


@kernel_inline
def barricade_work(
    i, c, now, nbr_start, nbr_idx, tiles, room_of_cell, room_door_start, room_door_idx, cap, occupancy,
    door_cells, door_state, door_strength, door_progress, geo, tick_s, barricade_s, barricade_hp, ev, flags,
):  # fmt: skip
    """A hidden human works on the first unbarricaded door of its room; returns the position of
    the edge to take among its cell's edges, -1 to stay, or -2 with nothing left to barricade."""
    room = room_of_cell[c]
    if room < 0:
        return -2
    for k in range(room_door_start[room], room_door_start[room + 1]):
        d = room_door_idx[k]
        ds = door_state[d]
        if ds != D_OPEN and ds != D_CLOSED:
            continue
        dc = door_cells[d]
        if occupancy[dc] > 0:
            continue
        if euclid(c, dc, geo) <= 1.5:
            if ds == D_OPEN:
                door_state[d] = D_CLOSED  # shut it first: zombies can no longer walk in
            door_progress[d] += tick_s
            if door_progress[d] >= barricade_s:
                door_state[d] = D_BARRICADED
                door_strength[d] = max(door_strength[d], barricade_hp)
                emit(ev, now, EV_BARRICADE, i, d, dc)
                flags[0] = 1
            return -1
        # Walk towards the door, staying inside the room.
        best = -1
        bd = euclid(c, dc, geo)
        for e in range(nbr_start[c], nbr_start[c + 1]):
            m = nbr_idx[e]
            if room_of_cell[m] != room or occupancy[m] >= cap[m] or not walkable(tiles[m]):
                continue
            d2 = euclid(m, dc, geo)
            if d2 < bd - 0.01:
                bd = d2
                best = e
        return position(best, c, nbr_start)
    return -2  # nothing left to barricade


@kernel
def batter(d, now, world, doors, p, ip, noise, ev, flags):
    """A zombie batters door ``d``: wears its strength, makes noise, breaks it at zero."""
    door_cells, door_state, door_strength = doors[0], doors[1], doors[2]
    door_strength[d] -= p[P_Z_BREAK] * p[P_TICK_S]
    dc = door_cells[d]
    noise_level, noise_until = noise[0], noise[1]
    if noise_until[dc] < now + 1:
        noise[6][0] += 1
        stamp_noise(
            dc, p[P_BATTER_DB], now, now + ip[I_BATTER_TICKS], noise_level, noise_until,
            world[10], world[11], world[3], world[4], door_state,
            p[P_PER_METRE], p[P_WALL_LOSS], p[P_DOOR_LOSS], p[P_NOISE_FLOOR],
            noise[2], noise[3], noise[4], noise[5], noise[6][0],
        )  # fmt: skip
    if door_strength[d] <= 0.0:
        door_strength[d] = 0.0
        if door_state[d] == D_LOCKED or door_state[d] == D_BARRICADED:
            flags[0] = 1
        door_state[d] = D_BROKEN
        emit(ev, now, EV_DOOR_BREACH, -1, d, dc)


@kernel_inline
def zombie_step(
    i, c, mode, target, now, nbr_start, nbr_idx, full, tiles, door_of_cell, cap, occupancy, door_state,
    heading, geo, noise_level, noise_until, W, H, world, doors, p, ip, noise, ev, flags, gen,
):  # fmt: skip
    """The position among its cell's edges of the edge zombie ``i`` takes next, or -1 (it may
    batter a door instead: the tuples are only handed on to :func:`batter`)."""
    if mode == CHASE and target >= 0:
        d0 = euclid(c, target, geo)
        if d0 <= 1.5:
            return -1  # next to its prey: contact does the rest
        best = -1
        bd = d0 - 0.01
        door_hit = -1
        door_d = d0 - 0.01
        for e in range(nbr_start[c], nbr_start[c + 1]):
            m = nbr_idx[e]
            t = tiles[m]
            if not walkable(t):
                continue
            d = euclid(m, target, geo)
            if t == T_DOOR and shut(door_state[door_of_cell[m]]):
                if d < door_d:
                    door_d = d
                    door_hit = door_of_cell[m]
                continue
            if d < bd and occupancy[m] < cap[m]:
                bd = d
                best = e
        if best < 0 and door_hit >= 0:
            batter(door_hit, now, world, doors, p, ip, noise, ev, flags)
        return position(best, c, nbr_start)
    if mode == SEEK:
        here = heard(noise_level, noise_until, c, now)
        best = -1
        bl = here
        door_hit = -1
        for e in range(nbr_start[c], nbr_start[c + 1]):
            m = nbr_idx[e]
            t = tiles[m]
            if not walkable(t):
                continue
            lv = heard(noise_level, noise_until, m, now)
            if lv <= bl:
                continue
            if t == T_DOOR and shut(door_state[door_of_cell[m]]):
                door_hit = door_of_cell[m]
                best = -1
                bl = lv
                continue
            if occupancy[m] < cap[m]:
                bl = lv
                best = e
                door_hit = -1
        if door_hit >= 0:
            batter(door_hit, now, world, doors, p, ip, noise, ev, flags)
        return position(best, c, nbr_start)
    # Wander: keep a heading, turn now and then or when blocked.
    if uniform(gen) < 0.1:
        heading[i] = below8(gen)
    is_full = full8(c, full)
    for _attempt in range(3):
        h = heading[i]
        if is_full:  # the heading's edge, known without a search
            k = _HEADING_EDGE[h]
            m = c + _DY[h] * W + _DX[h]
        else:
            k = -1
            f, y, x = coords(c, geo)
            ny = y + _DY[h]
            nx = x + _DX[h]
            if 0 <= ny < H and 0 <= nx < W:
                m = (f * H + ny) * W + nx
                e0 = nbr_start[c]
                for e in range(e0, nbr_start[c + 1]):
                    if nbr_idx[e] == m:
                        k = e - e0
                        break
        if k >= 0:
            if occupancy[m] < cap[m] and zombie_may_enter(m, tiles, door_of_cell, door_state):
                return k
        heading[i] = below8(gen)
    return -1


@kernel
def move_all(now, offset, world, doors, pop, fields, p, ip, noise, ev, flags, gen):
    """Every agent on the map decides and moves, starting from agent ``offset`` (round robin)."""
    W, H = ip[I_W], ip[I_H]
    nbr_start, nbr_idx, nbr_cost, tiles, door_of_cell = world[0], world[1], world[2], world[3], world[4]
    room_of_cell, room_door_start, room_door_idx = world[5], world[7], world[8]
    cap, occupancy, geo, full = world[9], world[13], world[14], world[15]
    door_cells, door_state, door_strength, door_progress = doors
    state, cell, leader, traits, hostile = pop[1], pop[2], pop[4], pop[5], pop[8]
    mode, budget, heading, target = pop[10], pop[11], pop[12], pop[13]
    noise_level, noise_until = noise[0], noise[1]
    goal, refuge, choke = fields
    tick_s = p[P_TICK_S]
    calm_move = p[P_CALM_MOVE]
    follow = p[P_FOLLOW]
    stair_cost = p[P_STAIR_COST]
    barricade_s, barricade_hp = p[P_BARRICADE_S], p[P_BARRICADE_HP]
    humans_wander = ip[I_HUMANS_WANDER] != 0
    cordon = ip[I_CORDON] != 0
    n = state.shape[0]
    i = offset - 1
    for _ in range(n):
        i += 1  # round robin from offset, without a division per agent
        if i == n:
            i = 0
        s = state[i]
        m0 = mode[i]
        zombie_like = s == ZOMBIE or (s == HALFBIE and hostile[i])
        if zombie_like:
            if s == HALFBIE:
                speed = p[P_HB_SPEED]
            elif m0 == WANDER:
                speed = p[P_Z_WALK]
            else:
                speed = p[P_Z_RUN]
        elif s == HUMAN or s == BITTEN or s == HALFBIE:
            if s == HALFBIE:
                speed = p[P_HB_SPEED]
            elif m0 == FLEE or m0 == HIDE:
                speed = traits[i, TR_RUN]
            else:
                speed = traits[i, TR_WALK]
        else:
            continue
        # Budget carried over is capped (no sprint after standing still), but one step must
        # always be affordable in time: a diagonal, or on a stair tile the flight of stairs.
        most = max(speed * tick_s, 1.5)
        if tiles[cell[i]] == T_STAIRS:
            most = max(most, stair_cost)
        budget[i] = min(budget[i] + speed * tick_s, most)
        if m0 == CALM and not humans_wander and uniform(gen) >= calm_move:
            continue  # the calm mostly stand still (decided here: the step functions cost more)
        for _ in range(_MAX_STEPS):
            if budget[i] < 1.0:
                break  # not even an orthogonal step left: decide nothing (deciding has side effects)
            c = cell[i]
            if zombie_like:
                k = zombie_step(
                    i, c, mode[i], target[i], now, nbr_start, nbr_idx, full, tiles, door_of_cell, cap,
                    occupancy, door_state, heading, geo, noise_level, noise_until, W, H, world, doors, p, ip,
                    noise, ev, flags, gen,
                )  # fmt: skip
            else:
                k = -2
                if mode[i] == HIDDEN:
                    k = barricade_work(
                        i, c, now, nbr_start, nbr_idx, tiles, room_of_cell, room_door_start, room_door_idx,
                        cap, occupancy, door_cells, door_state, door_strength, door_progress, geo, tick_s,
                        barricade_s, barricade_hp, ev, flags,
                    )  # fmt: skip
                if k == -2:
                    k = human_step(
                        i, c, mode[i], target[i], goal, refuge, choke, nbr_start, nbr_idx, full, tiles,
                        door_of_cell, room_of_cell, cap, occupancy, door_state, cell, leader, state, mode,
                        geo, W, follow, calm_move, humans_wander, cordon, gen,
                    )  # fmt: skip
            if k < 0:
                break
            if full8(c, full):  # where and how far, without loading nbr_start, nbr_idx, nbr_cost
                cost = EDGE_COST_A[k]
                m = c + EDGE_DY_A[k] * W + EDGE_DX_A[k]
            else:
                e = nbr_start[c] + k
                cost = nbr_cost[e]
                m = nbr_idx[e]
            if budget[i] < cost:
                break
            if tiles[m] == T_DOOR and door_state[door_of_cell[m]] == D_CLOSED:
                # Opening a closed door takes the rest of the tick; the agent walks through next tick.
                door_state[door_of_cell[m]] = D_OPEN
                emit(ev, now, EV_DOOR_OPEN, i, door_of_cell[m], m)
                budget[i] = 0.0
                break
            occupancy[c] -= 1
            occupancy[m] += 1
            cell[i] = m
            budget[i] -= cost
            if mode[i] == CALM or mode[i] == HIDDEN:
                break  # the calm shuffle one tile at a time
    return 0


@kernel
def settle_modes(world, pop):
    """After moving: the hiding who reached a refuge room are hidden."""
    room_of_cell, refuge_room = world[5], world[6]
    state, cell, mode = pop[1], pop[2], pop[10]
    for i in range(state.shape[0]):
        if mode[i] == HIDE and (state[i] == HUMAN or state[i] == BITTEN):
            room = room_of_cell[cell[i]]
            if room >= 0 and refuge_room[room]:
                mode[i] = HIDDEN
