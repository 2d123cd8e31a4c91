"""Contact: zombies next to humans bite; humans fight back and may kill them (numba).

Each tick every zombie (and hostile halfbie) attacks one uninfected human next to it (same or
adjacent tile, on the walking graph, so never through a wall or a shut door). The human strikes
first: with its strength it kills the zombie (a blow to the head or neck). Otherwise the zombie
bites with its bite probability. The bitten scream; the timid or selfish keep fleeing, those who
hide the bite stay with their group, and selfless ones hold a doorway. Holders and friendly
halfbies also attack zombies next to them.
"""

from __future__ import annotations

from hyosan.rules.consts import (
    BITTEN,
    CALM,
    DEAD,
    EV_BITE,
    EV_HOLD,
    EV_KILL,
    FLEE,
    HALFBIE,
    HIDE,
    HOLD,
    HUMAN,
    I_HUMANS_WANDER,
    I_SCREAM_TICKS,
    I_W,
    I_ZOMBIES_WANDER,
    P_DOOR_LOSS,
    P_HB_BITE,
    P_HB_MAKES,
    P_HB_STRENGTH,
    P_HIDE_BELOW,
    P_HOLD_STRENGTH,
    P_NOISE_FLOOR,
    P_PER_METRE,
    P_SACRIFICE,
    P_SCREAM_DB,
    P_WALL_LOSS,
    P_Z_BITE,
    TR_ALTRUISM,
    TR_COURAGE,
    TR_STRENGTH,
    ZOMBIE,
)
from hyosan.rules.jit import kernel, kernel_inline
from hyosan.rules.log import emit
from hyosan.rules.noise import stamp_noise
from hyosan.rules.rng import uniform
from hyosan.rules.spatial import full8, index_zombies


@kernel_inline
def _in_cell(m, i, want_prey, state, cell_head, cell_next):
    j = cell_head[m]
    while j >= 0:
        s = state[j]
        if j != i and ((want_prey and s == HUMAN) or (not want_prey and s == ZOMBIE)):
            return j
        j = cell_next[j]
    return -1


@kernel_inline
def adjacent(i, want_prey, state, cell, nbr_start, nbr_idx, nbr_cost, cell_head, cell_next):
    """An agent next to ``i`` (same tile or one step, not by stairs): prey or a zombie; -1 if none."""
    c = cell[i]
    j = _in_cell(c, i, want_prey, state, cell_head, cell_next)
    if j >= 0:
        return j
    for e in range(nbr_start[c], nbr_start[c + 1]):
        if nbr_cost[e] < 2.0:
            j = _in_cell(nbr_idx[e], i, want_prey, state, cell_head, cell_next)
            if j >= 0:
                return j
    return -1


@kernel_inline
def adjacent_prey(i, state, cell, nbr_start, nbr_idx, nbr_cost, cell_head, cell_next, prey_in, W, full):
    """``adjacent(i, True, ...)``, looking only into the cells that ``prey_in`` flags."""
    c = cell[i]
    if full8(c, full):
        # The 9 cells at fixed offsets (no nbr_idx loads), most often none with prey.
        if (
            prey_in[c - W - 1]
            | prey_in[c - W]
            | prey_in[c - W + 1]
            | prey_in[c - 1]
            | prey_in[c]
            | prey_in[c + 1]
            | prey_in[c + W - 1]
            | prey_in[c + W]
            | prey_in[c + W + 1]
        ) == 0:
            return -1
    if prey_in[c]:
        j = _in_cell(c, i, True, state, cell_head, cell_next)
        if j >= 0:
            return j
    for e in range(nbr_start[c], nbr_start[c + 1]):
        m = nbr_idx[e]
        if prey_in[m] and nbr_cost[e] < 2.0:
            j = _in_cell(m, i, True, state, cell_head, cell_next)
            if j >= 0:
                return j
    return -1


@kernel
def scream(c, now, world, doors, p, ip, noise):
    """A scream at cell ``c``, unless nobody listens or a scream still rings there (the noise map
    would hardly change, and a crowd's screams would cost one sound propagation each)."""
    if ip[I_HUMANS_WANDER] and ip[I_ZOMBIES_WANDER]:
        return
    if noise[1][c] >= now and noise[0][c] >= p[P_SCREAM_DB] - 3.0:
        return
    noise[6][0] += 1
    stamp_noise(
        c, p[P_SCREAM_DB], now, now + ip[I_SCREAM_TICKS], noise[0], noise[1],
        world[10], world[11], world[3], world[4], doors[1],
        p[P_PER_METRE], p[P_WALL_LOSS], p[P_DOOR_LOSS], p[P_NOISE_FLOOR],
        noise[2], noise[3], noise[4], noise[5], noise[6][0],
    )  # fmt: skip


@kernel
def kill(z, by, now, pop, world, ev):
    state, cell, fate_tick = pop[1], pop[2], pop[17]
    state[z] = DEAD
    fate_tick[z] = now
    world[13][cell[z]] -= 1
    emit(ev, now, EV_KILL, by, z, cell[z])


@kernel
def alert_mode(i, pop, p):
    """Flee or hide: decided by the courage of the group's leader (the group decides together)."""
    ldr = pop[4][i]
    return FLEE if pop[5][ldr, TR_COURAGE] >= p[P_HIDE_BELOW] else HIDE


@kernel
def infect(h, biter, loud, now, world, doors, pop, p, ip, noise, ev):
    """Human ``h`` is bitten by ``biter`` (-2: a scenario event, the lab rat).

    A ``loud`` bite (a zombie's) makes them scream and alarms them; unless they hide the bite,
    their group leaves them behind, and the selfless among those hold the nearest doorway.
    """
    state, cell, group, leader, traits = pop[1], pop[2], pop[3], pop[4], pop[5]
    hides, mode = pop[9], pop[10]
    state[h] = BITTEN
    pop[14][h] = now
    pop[15][h] = now + pop[6][h]
    pop[16][h] = biter
    emit(ev, now, EV_BITE, biter, h, cell[h])
    if loud:
        scream(cell[h], now, world, doors, p, ip, noise)
        if mode[h] == CALM and not ip[I_HUMANS_WANDER]:
            mode[h] = alert_mode(h, pop, p)
    if not hides[h]:
        group[h] = -1
        leader[h] = h
        if traits[h, TR_ALTRUISM] >= p[P_SACRIFICE]:
            mode[h] = HOLD
            emit(ev, now, EV_HOLD, h, -1, cell[h])


@kernel
def bite(h, z, now, world, doors, pop, p, ip, noise, ev, gen):
    """Zombie or hostile halfbie ``z`` bites human ``h``."""
    pop[18][z] += 1
    if pop[1][z] == HALFBIE:
        pop[7][h] = uniform(gen) < p[P_HB_MAKES]
    infect(h, z, True, now, world, doors, pop, p, ip, noise, ev)


@kernel
def contact_all(
    now, offset, world, doors, pop, p, ip, noise, ev, cell_head, cell_next, prey_in, zombie_head,
    zombie_touched, gen,
):  # fmt: skip
    """Every attacker attacks once; every holder and friendly halfbie strikes once.

    ``cell_head``/``cell_next`` index the prey (:func:`~hyosan.rules.spatial.rebuild_cells`); the
    zombies are indexed into ``zombie_head`` the first time a defender looks for one this tick.
    """
    zombies_indexed = False
    nbr_start, nbr_idx, nbr_cost = world[0], world[1], world[2]
    state, cell, traits, hostile, mode = pop[1], pop[2], pop[5], pop[8], pop[10]
    W = ip[I_W]
    n = state.shape[0]
    i = offset - 1
    for _ in range(n):
        i += 1  # round robin from offset, without a division per agent
        if i == n:
            i = 0
        s = state[i]
        if s == ZOMBIE or (s == HALFBIE and hostile[i]):
            h = adjacent_prey(
                i, state, cell, nbr_start, nbr_idx, nbr_cost, cell_head, cell_next, prey_in, W, world[15]
            )
            if h < 0:
                continue
            if uniform(gen) < traits[h, TR_STRENGTH]:
                kill(i, h, now, pop, world, ev)
                continue
            if uniform(gen) < (p[P_Z_BITE] if s == ZOMBIE else p[P_HB_BITE]):
                bite(h, i, now, world, doors, pop, p, ip, noise, ev, gen)
        elif (s == HALFBIE and not hostile[i]) or (s == BITTEN and mode[i] == HOLD):
            if not zombies_indexed:  # (no one turns during contact: the index stays good)
                index_zombies(state, cell, zombie_head, cell_next, zombie_touched)
                zombies_indexed = True
            z = adjacent(i, False, state, cell, nbr_start, nbr_idx, nbr_cost, zombie_head, cell_next)
            if z < 0:
                continue
            strength = (
                p[P_HB_STRENGTH] if s == HALFBIE else min(1.0, traits[i, TR_STRENGTH] * p[P_HOLD_STRENGTH])
            )
            if uniform(gen) < strength:
                kill(z, i, now, pop, world, ev)
