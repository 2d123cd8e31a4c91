"""Decisions and movement: who goes where this tick, opening, barricading and battering doors (numba).

Humans: the calm shuffle inside their room; the alert *flee* along the goal field (exits and
goal areas; inside one they walk on, away from its ways in) and away from the nearest zombie in
sight, closing on their group's leader along the route; the timid *hide* in the nearest refuge
room and barricade its doors; bitten altruists *hold* the nearest doorway. Zombies: chase prey
in sight, else head up the loudest sound, else wander; a shut door in their way is battered
until it breaks. Hostile halfbies also *hunt* prey they hear, down a walking-distance field
(:func:`path_step`). Every agent moves as far as its speed
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
    CONFRONT,
    D_BARRICADED,
    D_BROKEN,
    D_CLOSED,
    D_OPEN,
    EV_BARRICADE,
    EV_DOOR_BREACH,
    EV_DOOR_OPEN,
    EV_DOOR_SHUT,
    FLEE,
    HALFBIE,
    HIDDEN,
    HIDE,
    HOLD,
    HUMAN,
    HUNT,
    SEEK,
    T_DOOR,
    T_EXIT,
    T_STAIRS,
    TR_RUN,
    TR_WALK,
    WALKABLE,
    WANDER,
)
from hyosan.rules.doors import barred, shut, workable
from hyosan.rules.hunt import hunt_row
from hyosan.rules.jit import kernel, kernel_inline
from hyosan.rules.log import emit
from hyosan.rules.noise import heard, stamp_noise
from hyosan.rules.rng import below, below8, uniform
from hyosan.rules.spatial import EDGE_COST_A, EDGE_DX_A, EDGE_DY_A, coords, euclid, full8, is_threat

# Wandering headings (dy, dx), clockwise from north (arrays: see spatial.EDGE_DY_A).
_DY = np.array((-1, -1, 0, 1, 1, 1, 0, -1), dtype=np.int64)
_DX = np.array((0, 1, 1, 1, 0, -1, -1, -1), dtype=np.int64)
# Where each heading's edge is among the edges of a cell with all 8 grid neighbours (spatial.full8).
_HEADING_EDGE = np.array((0, 5, 2, 7, 3, 6, 1, 4), dtype=np.int64)


@kernel_inline
def human_may_enter(m, world, door_state, cordon):
    """Walkable, not a locked or barricaded door (a closed one they open), no exit under cordon."""
    t = world.tiles[m]
    if not WALKABLE[t]:
        return False
    if t == T_DOOR:
        ds = door_state[world.door_of_cell[m]]
        return not barred(ds)
    if t == T_EXIT and cordon:
        return False
    return True


@kernel_inline
def zombie_may_enter(m, world, door_state):
    """Walkable and not a shut door (zombies batter shut doors, they do not open them)."""
    t = world.tiles[m]
    if not WALKABLE[t]:
        return False
    if t == T_DOOR:
        return not shut(door_state[world.door_of_cell[m]])
    return True


@kernel_inline
def free_for_human(m, world, door_state, cordon):
    """Room on tile ``m`` and a human may enter it."""
    return world.occupancy[m] < world.cap[m] and human_may_enter(m, world, door_state, cordon)


@kernel_inline
def finite(d):
    return d if d < math.inf else 1e9


@kernel_inline
def position(e, c, nbr_start):
    """Edge ``e`` of cell ``c`` as the step functions return it: its position among the cell's
    edges (``move_all`` needs no ``nbr_start`` to follow it on a full cell); -1 for no edge."""
    return e - nbr_start[c] if e >= 0 else -1


@kernel_inline
def downhill(c, field, world, door_state, cordon):
    """The edge to the free neighbour a human may enter with the lowest ``field`` below ``field[c]``."""
    best = -1
    bd = field[c]
    for e in range(world.nbr_start[c], world.nbr_start[c + 1]):
        m = world.nbr_idx[e]
        if field[m] < bd and world.occupancy[m] < world.cap[m]:
            if human_may_enter(m, world, door_state, cordon):
                bd = field[m]
                best = e
    return best


@kernel_inline
def follow_leader(i, c, mode, field, world, door_state, agents, prm):
    """The edge down the route (``field``) that brings agent ``i`` nearest its group's leader,
    when the leader is ahead on the route, on this floor, and the group has spread out (a
    leader behind its followers, at the back of a full room, is not waited for); -1 otherwise.
    Only steps down the route count: the straight line to a leader runs through walls."""
    ldr = agents.leader[i]
    s = agents.state[ldr]
    lc = agents.cell[ldr]
    if ldr == i or not (s == HUMAN or s == BITTEN) or agents.mode[ldr] != mode or field[lc] >= field[c]:
        return -1
    d0 = euclid(c, lc, world.geo)
    best = -1
    if d0 > prm.follow and d0 < math.inf:
        bd = d0
        for e in range(world.nbr_start[c], world.nbr_start[c + 1]):
            m = world.nbr_idx[e]
            if field[m] >= field[c] or not free_for_human(m, world, door_state, prm.cordon):
                continue
            d = euclid(m, lc, world.geo)
            if d < bd - 0.01:
                bd = d
                best = e
    return best


@kernel_inline
def away_from(c, threat, field, world, door_state, prm):
    """The edge away from the zombie at ``threat``, preferring ground that also brings the goal
    nearer; -1 when no step improves on standing."""
    geo = world.geo
    best = -1
    bs = euclid(c, threat, geo) - 0.5 * finite(field[c])
    for e in range(world.nbr_start[c], world.nbr_start[c + 1]):
        m = world.nbr_idx[e]
        if not free_for_human(m, world, door_state, prm.cordon):
            continue
        s = euclid(m, threat, geo)
        if s == math.inf:
            s = 20.0  # stairs away from the zombie's floor: the best escape
        s -= 0.5 * finite(field[m])
        if s > bs + 0.01:
            bs = s
            best = e
    return best


@kernel_inline
def toward(c, target, world, door_state, cordon):
    """A human's edge from ``c`` towards the zombie at cell ``target`` (to confront it); -1 when
    already next to it or no step brings it nearer."""
    d0 = euclid(c, target, world.geo)
    if d0 <= 1.5 and touches(c, target, world):
        return -1
    best = -1
    bd = d0 - 0.01
    for e in range(world.nbr_start[c], world.nbr_start[c + 1]):
        m = world.nbr_idx[e]
        if not free_for_human(m, world, door_state, cordon):
            continue
        d = euclid(m, target, world.geo)
        if d < bd:
            bd = d
            best = e
    return best


@kernel_inline
def random_step(c, mode, world, door_state, prm, gen):
    """A random step's position among the cell's edges, or -1: CALM agents shuffle within their
    room, HIDDEN ones with nothing to barricade now and then, everybody under "wander"."""
    wander = prm.humans_wander
    if not wander and mode != CALM and uniform(gen) >= prm.calm_move:
        return -1  # (CALM agents rolled already in move_all)
    if full8(c, world.full):  # the cell ahead without loading nbr_start or nbr_idx
        k = below8(gen)
        m = c + EDGE_DY_A[k] * prm.W + EDGE_DX_A[k]
    else:
        e0 = world.nbr_start[c]
        n = world.nbr_start[c + 1] - e0
        if n == 0:
            return -1
        k = below(gen, n)
        m = world.nbr_idx[e0 + k]
    if not free_for_human(m, world, door_state, prm.cordon):
        return -1
    if not wander:
        # The calm stay in their room: no doors, stairs or exits.
        t = world.tiles[m]
        if t == T_DOOR or t == T_EXIT or t == T_STAIRS:
            return -1
        room = world.room_of_cell[c]
        if room >= 0 and world.room_of_cell[m] != room:
            return -1
    return k


@kernel_inline
def human_step(i, c, mode, threat, fields, world, door_state, agents, prm, gen):
    """Which of its cell's edges agent ``i`` (a human or friendly halfbie) takes next (its position
    among the cell's edges), or -1."""
    nbr_start = world.nbr_start
    if (mode == FLEE or mode == HIDE) and not prm.humans_wander:
        field = fields.goal if mode == FLEE else fields.refuge
        best = follow_leader(i, c, mode, field, world, door_state, agents, prm)
        if best >= 0:
            return position(best, c, nbr_start)
        if threat >= 0 and euclid(c, threat, world.geo) <= 6.0:
            best = away_from(c, threat, field, world, door_state, prm)
            if best >= 0:
                return position(best, c, nbr_start)
        return position(downhill(c, field, world, door_state, prm.cordon), c, nbr_start)
    if mode == CONFRONT and not prm.humans_wander:
        if threat < 0:
            return position(downhill(c, fields.goal, world, door_state, prm.cordon), c, nbr_start)
        return position(toward(c, threat, world, door_state, prm.cordon), c, nbr_start)
    if mode == HOLD and not prm.humans_wander:
        t = world.tiles[c]
        if t == T_DOOR or t == T_STAIRS:
            return -1
        return position(downhill(c, fields.choke, world, door_state, prm.cordon), c, nbr_start)
    return random_step(c, mode, world, door_state, prm, gen)


@kernel_inline
def barricade_work(i, c, now, world, doors, prm, ev, flags):
    """A hidden human works on the first unbarricaded door of its room; returns the position of
    the edge to take among its cell's edges, -1 to stay, or -2 with nothing left to barricade."""
    room = world.room_of_cell[c]
    if room < 0:
        return -2
    for k in range(world.room_door_start[room], world.room_door_start[room + 1]):
        d = world.room_door_idx[k]
        ds = doors.state[d]
        if not workable(ds):
            continue
        dc = doors.cell[d]
        if world.occupancy[dc] > 0:
            continue
        if euclid(c, dc, world.geo) <= 1.5:
            if ds == D_OPEN:
                doors.state[d] = D_CLOSED  # shut it first: zombies can no longer walk in
                emit(ev, now, EV_DOOR_SHUT, i, d, dc)
            doors.progress[d] += prm.tick_s
            if doors.progress[d] >= prm.barricade_s:
                doors.state[d] = D_BARRICADED
                doors.strength[d] = max(doors.strength[d], prm.barricade_hp)
                emit(ev, now, EV_BARRICADE, i, d, dc)
                flags.routes_changed[0] = 1
            return -1
        return position(toward_in_room(c, dc, room, world), c, world.nbr_start)
    return -2  # nothing left to barricade


@kernel_inline
def toward_in_room(c, dc, room, world):
    """The edge from ``c`` nearer to cell ``dc`` that stays inside ``room``; -1 if none."""
    best = -1
    bd = euclid(c, dc, world.geo)
    for e in range(world.nbr_start[c], world.nbr_start[c + 1]):
        m = world.nbr_idx[e]
        if (
            world.room_of_cell[m] != room
            or world.occupancy[m] >= world.cap[m]
            or not WALKABLE[world.tiles[m]]
        ):
            continue
        d2 = euclid(m, dc, world.geo)
        if d2 < bd - 0.01:
            bd = d2
            best = e
    return best


@kernel
def batter(d, rate, now, world, doors, prm, noise, ev, flags):
    """A zombie batters door ``d`` (``rate`` hit points a second): wears its strength, makes
    noise, breaks it at zero."""
    doors.strength[d] -= rate * prm.tick_s
    dc = doors.cell[d]
    if noise.until[dc] < now + 1:
        stamp_noise(dc, prm.batter_db, now, now + prm.batter_ticks, noise, world, doors.state, prm)
    if doors.strength[d] <= 0.0:
        doors.strength[d] = 0.0
        if barred(doors.state[d]):
            flags.routes_changed[0] = 1
        doors.state[d] = D_BROKEN
        emit(ev, now, EV_DOOR_BREACH, -1, d, dc)


@kernel_inline
def touches(c, m, world):
    """Whether cells ``c`` and ``m`` are one and the same or one step apart (not by stairs): where
    contact reaches. A diagonal past a doorway's jamb is no step, though 1.4 m as the crow flies."""
    if c == m:
        return True
    for e in range(world.nbr_start[c], world.nbr_start[c + 1]):
        if world.nbr_idx[e] == m and world.nbr_cost[e] < 2.0:
            return True
    return False


@kernel_inline
def chase_step(c, target, now, world, doors, prm, noise, ev, flags):
    """A zombie's step towards its prey at cell ``target``; battering a shut door in the way."""
    geo, door_state = world.geo, doors.state
    d0 = euclid(c, target, geo)
    if d0 <= 1.5 and touches(c, target, world):
        return -1  # next to its prey: contact does the rest
    best = -1
    bd = d0 - 0.01
    door_hit = -1
    door_d = d0 - 0.01
    for e in range(world.nbr_start[c], world.nbr_start[c + 1]):
        m = world.nbr_idx[e]
        t = world.tiles[m]
        if not WALKABLE[t]:
            continue
        d = euclid(m, target, geo)
        if t == T_DOOR and shut(door_state[world.door_of_cell[m]]):
            if d < door_d:
                door_d = d
                door_hit = world.door_of_cell[m]
            continue
        if d < bd and world.occupancy[m] < world.cap[m]:
            bd = d
            best = e
    if best < 0 and door_hit >= 0:
        batter(door_hit, prm.z_break, now, world, doors, prm, noise, ev, flags)
    return position(best, c, world.nbr_start)


@kernel_inline
def seek_step(c, now, world, doors, prm, noise, ev, flags):
    """A zombie's step up the loudest sound; battering a shut door the sound comes through."""
    door_state = doors.state
    best = -1
    bl = heard(noise, c, now)
    door_hit = -1
    for e in range(world.nbr_start[c], world.nbr_start[c + 1]):
        m = world.nbr_idx[e]
        t = world.tiles[m]
        if not WALKABLE[t]:
            continue
        lv = heard(noise, m, now)
        if lv <= bl:
            continue
        if t == T_DOOR and shut(door_state[world.door_of_cell[m]]):
            door_hit = world.door_of_cell[m]
            best = -1
            bl = lv
            continue
        if world.occupancy[m] < world.cap[m]:
            bl = lv
            best = e
            door_hit = -1
    if door_hit >= 0:
        batter(door_hit, prm.z_break, now, world, doors, prm, noise, ev, flags)
    return position(best, c, world.nbr_start)


@kernel_inline
def wander_step(i, c, world, door_state, heading, prm, gen):
    """A wandering zombie keeps its heading, turning now and then or when blocked."""
    if uniform(gen) < 0.1:
        heading[i] = below8(gen)
    is_full = full8(c, world.full)
    W, H = prm.W, prm.H
    for _attempt in range(3):
        h = heading[i]
        if is_full:  # the heading's edge, known without a search
            k = _HEADING_EDGE[h]
            m = c + _DY[h] * W + _DX[h]
        else:
            k = -1
            f, y, x = coords(c, world.geo)
            ny = y + _DY[h]
            nx = x + _DX[h]
            if 0 <= ny < H and 0 <= nx < W:
                m = (f * H + ny) * W + nx
                e0 = world.nbr_start[c]
                for e in range(e0, world.nbr_start[c + 1]):
                    if world.nbr_idx[e] == m:
                        k = e - e0
                        break
        if k >= 0:
            if world.occupancy[m] < world.cap[m] and zombie_may_enter(m, world, door_state):
                return k
        heading[i] = below8(gen)
    return -1


@kernel_inline
def path_step(i, c, prey, now, world, doors, hunts, prm, noise, ev, flags):
    """A hunting halfbie's step down the walking distance to ``prey`` (:mod:`hyosan.rules.hunt`):
    round walls, through doors (it opens a closed one, batters a locked or barricaded one:
    ``hb_break``), or -1 (there, or blocked by a crowd)."""
    if hunts.owner.shape[0] == 0:  # no pool (hunting switched on after the run was built)
        return chase_step(c, prey, now, world, doors, prm, noise, ev, flags)
    k = hunt_row(i, c, prey, now, world, hunts)
    dist = hunts.dist
    best = -1
    bd = dist[k, c]
    door_hit = -1
    for e in range(world.nbr_start[c], world.nbr_start[c + 1]):
        m = world.nbr_idx[e]
        d = dist[k, m]
        if d >= bd:
            continue
        if world.tiles[m] == T_DOOR:
            ds = doors.state[world.door_of_cell[m]]
            if barred(ds):
                bd = d
                best = -1
                door_hit = world.door_of_cell[m]
                continue
        if world.occupancy[m] < world.cap[m]:
            bd = d
            best = e
            door_hit = -1
    if door_hit >= 0:
        batter(door_hit, prm.hb_break, now, world, doors, prm, noise, ev, flags)
    return position(best, c, world.nbr_start)


@kernel_inline
def zombie_step(i, c, now, world, doors, agents, hunts, prm, noise, ev, flags, gen):
    """The position among its cell's edges of the edge zombie ``i`` takes next, or -1 (it may
    batter a door instead)."""
    mode, target = agents.mode[i], agents.target[i]
    if mode == CHASE and target >= 0:
        return chase_step(c, target, now, world, doors, prm, noise, ev, flags)
    if mode == HUNT and target >= 0:
        return path_step(i, c, target, now, world, doors, hunts, prm, noise, ev, flags)
    if mode == SEEK:
        return seek_step(c, now, world, doors, prm, noise, ev, flags)
    return wander_step(i, c, world, doors.state, agents.heading, prm, gen)


@kernel_inline
def speed_of(i, s, zombie_like, agents, prm):
    """Metres per second agent ``i`` (in state ``s``) moves at in its current mode."""
    m0 = agents.mode[i]
    if s == HALFBIE:
        return prm.hb_speed
    if zombie_like:
        return prm.z_walk if m0 == WANDER else prm.z_run
    if m0 == FLEE or m0 == HIDE or m0 == CONFRONT:
        return agents.traits[i, TR_RUN]
    return agents.traits[i, TR_WALK]


@kernel_inline
def builtin(i, now, run, prm, gen):
    """The built-in behaviour, as a behaviour function: no say (-2), the engine's own step."""
    return -2


@kernel_inline
def next_edge(i, now, zombie_like, run, prm, gen, zombie_fn, human_fn):
    """The position among its cell's edges of the edge agent ``i`` takes next, or -1.

    A behaviour function (``zombie_fn`` or ``human_fn``: :func:`builtin`, or a user's, see
    docs/extending.md) decides first; -2 from it leaves the step to the built-in rules.
    """
    world, doors, agents = run.world, run.doors, run.agents
    c = agents.cell[i]
    if zombie_like:
        k = zombie_fn(i, now, run, prm, gen)
        if k == -2:
            k = zombie_step(
                i, c, now, world, doors, agents, run.hunts, prm, run.noise, run.events, run.flags, gen
            )
        return k
    k = human_fn(i, now, run, prm, gen)
    if k != -2:
        return k
    if agents.mode[i] == HIDDEN:
        k = barricade_work(i, c, now, world, doors, prm, run.events, run.flags)
    if k == -2:
        k = human_step(
            i, c, agents.mode[i], agents.target[i], run.fields, world, doors.state, agents, prm, gen
        )
    return k


@kernel_inline
def walk(i, now, zombie_like, run, prm, gen, zombie_fn, human_fn):
    """Agent ``i`` takes steps while its movement budget lasts: as many as its speed covers in a
    tick (every step costs at least 1 m, so the loop ends)."""
    world, doors, agents, ev = run.world, run.doors, run.agents, run.events
    cell, budget, mode = agents.cell, agents.budget, agents.mode
    W = prm.W
    # Not even an orthogonal step left: decide nothing (deciding has side effects).
    while budget[i] >= 1.0:
        c = cell[i]
        k = next_edge(i, now, zombie_like, run, prm, gen, zombie_fn, human_fn)
        if k < 0:
            break
        if full8(c, world.full):  # where and how far, without loading nbr_start, nbr_idx, nbr_cost
            cost = EDGE_COST_A[k]
            m = c + EDGE_DY_A[k] * W + EDGE_DX_A[k]
        else:
            e = world.nbr_start[c] + k
            cost = world.nbr_cost[e]
            m = world.nbr_idx[e]
        if budget[i] < cost:
            break
        if world.tiles[m] == T_DOOR and doors.state[world.door_of_cell[m]] == D_CLOSED:
            # Opening a closed door takes the rest of the tick; the agent walks through next tick.
            doors.state[world.door_of_cell[m]] = D_OPEN
            emit(ev, now, EV_DOOR_OPEN, i, world.door_of_cell[m], m)
            budget[i] = 0.0
            break
        world.occupancy[c] -= 1
        world.occupancy[m] += 1
        cell[i] = m
        budget[i] -= cost
        if mode[i] == CALM or mode[i] == HIDDEN:
            break  # the calm shuffle one tile at a time


@kernel_inline
def move_all(now, offset, run, prm, gen, zombie_fn, human_fn):
    """Every agent on the map decides and moves, starting from agent ``offset`` (round robin)."""
    agents, tiles = run.agents, run.world.tiles
    state, hostile, budget = agents.state, agents.hostile, agents.budget
    tick_s = prm.tick_s
    n = state.shape[0]
    i = offset - 1
    for _ in range(n):
        i += 1  # round robin from offset, without a division per agent
        if i == n:
            i = 0
        s = state[i]
        zombie_like = is_threat(s, hostile[i])
        if not (zombie_like or s == HUMAN or s == BITTEN or s == HALFBIE):
            continue
        speed = speed_of(i, s, zombie_like, agents, prm)
        # Budget carried over is capped (no sprint after standing still), but one step must
        # always be affordable in time: a diagonal, or on a stair tile the flight of stairs.
        most = max(speed * tick_s, 1.5)
        if tiles[agents.cell[i]] == T_STAIRS:
            most = max(most, prm.stair_cost)
        budget[i] = min(budget[i] + speed * tick_s, most)
        if agents.mode[i] == CALM and not prm.humans_wander and uniform(gen) >= prm.calm_move:
            continue  # the calm mostly stand still (decided here: the step functions cost more)
        walk(i, now, zombie_like, run, prm, gen, zombie_fn, human_fn)
    return 0


@kernel
def settle_modes(world, agents):
    """After moving: the hiding who reached a refuge room are hidden."""
    state, cell, mode = agents.state, agents.cell, agents.mode
    for i in range(state.shape[0]):
        if mode[i] == HIDE and (state[i] == HUMAN or state[i] == BITTEN):
            room = world.room_of_cell[cell[i]]
            if room >= 0 and world.refuge_room[room]:
                mode[i] = HIDDEN
