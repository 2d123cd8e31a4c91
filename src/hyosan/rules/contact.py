"""Contact: zombies next to humans bite; humans fight back and may kill them (numba).

Each tick every zombie (and hostile halfbie) attacks one human next to it, bitten or not (same
or adjacent tile, on the walking graph, so never through a wall or a shut door), one not yet
bitten first: only halfbies are out of its reach. The two race (docs/units.md): the human kills
at its kill rate ``k`` (strength, per second of contact: a blow to the head or neck), the zombie
bites at its bite rate ``b``; within a tick of ``dt`` seconds something happens with chance
``1 - exp(-(k + b) dt)``, a kill with share ``k / (k + b)``, else a bite. The same rates hold
for everyone: a holder, a teacher who confronts, a student cornered.

A first bite infects: the bitten scream; the timid or selfish keep fleeing, those who hide the
bite stay with their group, and selfless ones hold a doorway. A bite on the already bitten
overwhelms them: they turn at once (show: worse bites turn faster), which ends any holding.
Friendly halfbies, whom zombies ignore, strike a zombie next to them only while a human is next
to them too (they defend, they do not hunt).
"""

from __future__ import annotations

import math

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
    TR_ALTRUISM,
    TR_COURAGE,
    TR_STRENGTH,
    ZOMBIE,
)
from hyosan.rules.infection import turn
from hyosan.rules.jit import kernel, kernel_inline
from hyosan.rules.log import emit
from hyosan.rules.noise import stamp_noise
from hyosan.rules.rng import uniform
from hyosan.rules.spatial import full8, index_zombies, is_threat


@kernel_inline
def _in_cell(m, i, want_prey, state, head, nxt):
    """The first agent but ``i`` in cell ``m``'s list (prey if ``want_prey`` else a zombie), or -1."""
    j = head[m]
    while j >= 0:
        s = state[j]
        if j != i and ((want_prey and (s == HUMAN or s == BITTEN)) or (not want_prey and s == ZOMBIE)):
            return j
        j = nxt[j]
    return -1


@kernel_inline
def adjacent(i, want_prey, agents, world, head, nxt):
    """An agent next to ``i`` (same tile or one step, not by stairs): prey or a zombie; -1 if none.
    ``head``/``nxt``: the cell index's lists of that kind."""
    state = agents.state
    c = agents.cell[i]
    j = _in_cell(c, i, want_prey, state, head, nxt)
    if j >= 0:
        return j
    for e in range(world.nbr_start[c], world.nbr_start[c + 1]):
        if world.nbr_cost[e] < 2.0:
            j = _in_cell(world.nbr_idx[e], i, want_prey, state, head, nxt)
            if j >= 0:
                return j
    return -1


@kernel_inline
def _fresh_in_cell(m, i, state, head, nxt):
    """In cell ``m``'s list: the first human not yet bitten, else the first bitten one (-1 if
    neither), and whether it is fresh (never bitten)."""
    bitten = -1
    j = head[m]
    while j >= 0:
        s = state[j]
        if j != i:
            if s == HUMAN:
                return j, True
            if s == BITTEN and bitten < 0:
                bitten = j
        j = nxt[j]
    return bitten, False


@kernel_inline
def adjacent_prey(i, agents, world, idx, W):
    """The prey attacker ``i`` goes for: a human next to it (same tile or one step, not by
    stairs) not yet bitten, else a bitten one; -1 if none. Only the cells that
    ``idx.prey_in`` flags are looked into.

    A zombie turns to fresh prey rather than biting its last victim again (a bite on the bitten
    overwhelms them, so re-biting turned a crowd in seconds, whatever the incubation); with
    nobody else within reach it does overwhelm the bitten, and so holding a doorway ends."""
    state, prey_in = agents.state, idx.prey_in
    c = agents.cell[i]
    if full8(c, world.full):
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
    bitten = -1
    if prey_in[c]:
        j, fresh = _fresh_in_cell(c, i, state, idx.head, idx.next)
        if fresh:
            return j
        bitten = j
    for e in range(world.nbr_start[c], world.nbr_start[c + 1]):
        m = world.nbr_idx[e]
        if prey_in[m] and world.nbr_cost[e] < 2.0:
            j, fresh = _fresh_in_cell(m, i, state, idx.head, idx.next)
            if fresh:
                return j
            if bitten < 0:
                bitten = j
    return bitten


@kernel
def scream(c, now, world, doors, prm, noise):
    """A scream at cell ``c``, unless nobody listens or a scream still rings there (the noise map
    would hardly change, and a crowd's screams would cost one sound propagation each)."""
    if prm.humans_wander and prm.zombies_wander:
        return
    if noise.until[c] >= now and noise.level[c] >= prm.scream_db - 3.0:
        return
    stamp_noise(c, prm.scream_db, now, now + prm.scream_ticks, noise, world, doors.state, prm)


@kernel
def kill(z, by, now, agents, world, ev):
    """Agent ``by`` kills ``z`` (a zombie or a human: the dead are the same)."""
    agents.state[z] = DEAD
    agents.fate_tick[z] = now
    world.occupancy[agents.cell[z]] -= 1
    emit(ev, now, EV_KILL, by, z, agents.cell[z])


@kernel
def alert_mode(i, agents, prm):
    """Flee or hide: decided by the courage of the group's leader (the group decides together)."""
    ldr = agents.leader[i]
    return FLEE if agents.traits[ldr, TR_COURAGE] >= prm.hide_below else HIDE


@kernel
def infect(h, biter, loud, now, world, doors, agents, prm, noise, ev):
    """Human ``h`` is bitten by ``biter`` (-2: a scenario event, the lab rat).

    A ``loud`` bite (a zombie's) makes them scream and alarms them; unless they hide the bite,
    their group leaves them behind, and the selfless among those hold the nearest doorway.
    """
    cell, mode = agents.cell, agents.mode
    agents.state[h] = BITTEN
    agents.bitten_at[h] = now
    agents.turn_at[h] = now + agents.incubation[h]
    agents.bitten_by[h] = biter
    emit(ev, now, EV_BITE, biter, h, cell[h])
    if loud:
        scream(cell[h], now, world, doors, prm, noise)
        if mode[h] == CALM and not prm.humans_wander:
            mode[h] = alert_mode(h, agents, prm)
    if not agents.hides_bite[h]:
        agents.group[h] = -1
        agents.leader[h] = h
        if agents.traits[h, TR_ALTRUISM] >= prm.sacrifice:
            mode[h] = HOLD
            emit(ev, now, EV_HOLD, h, -1, cell[h])


@kernel
def bite(h, z, now, world, doors, agents, prm, noise, ev, gen):
    """Zombie or hostile halfbie ``z`` bites human ``h``; the already bitten are overwhelmed
    (they turn at once). A halfbie's bite makes a halfbie with chance ``hb_makes``, except in
    characters whose kind the scenario pins (Nam-ra stays a halfbie, a ``halfbie = false`` one
    never becomes one)."""
    if agents.state[h] == BITTEN:
        turn(h, now, agents, ev)  # overwhelmed: no longer prey, this very tick
        return
    agents.bites[z] += 1
    if agents.state[z] == HALFBIE:
        makes = uniform(gen) < prm.hb_makes  # drawn for everyone: the stream stays the same
        if not agents.pinned[h]:  # a character the scenario pins keeps their kind
            agents.halfbie[h] = makes
    infect(h, z, True, now, world, doors, agents, prm, noise, ev)


@kernel
def contact_all(now, offset, world, doors, agents, prm, noise, ev, idx, gen):
    """Every attacker attacks once; every friendly halfbie with a human beside it strikes once.

    ``idx`` indexes the prey (:func:`~hyosan.rules.spatial.rebuild_cells`); the zombies are
    indexed into it the first time a defender looks for one this tick.
    """
    if idx.touched[-1] == 0:
        return  # no prey on the map: nobody attacks, nobody defends (and nothing is drawn)
    zombies_indexed = False
    state, traits, hostile, near, cell = agents.state, agents.traits, agents.hostile, idx.near, agents.cell
    n = state.shape[0]
    i = offset - 1
    for _ in range(n):
        i += 1  # round robin from offset, without a division per agent
        if i == n:
            i = 0
        s = state[i]
        if (s != ZOMBIE and s != HALFBIE) or near[cell[i]] == 0:
            continue  # no prey within a step (idx.near): the common case, one load
        if is_threat(s, hostile[i]):
            h = adjacent_prey(i, agents, world, idx, prm.W)
            if h < 0:
                continue
            k = traits[h, TR_STRENGTH]
            if state[h] == BITTEN:
                k *= prm.bitten_strength
            total = k + (prm.z_bite if s == ZOMBIE else prm.hb_bite)
            if uniform(gen) >= -math.expm1(-total * prm.tick_s):
                continue  # nothing this tick
            if uniform(gen) * total < k:
                kill(i, h, now, agents, world, ev)
            else:
                bite(h, i, now, world, doors, agents, prm, noise, ev, gen)
        elif s == HALFBIE and not hostile[i]:
            # A friendly halfbie defends: it strikes only while a human is next to it.
            if adjacent_prey(i, agents, world, idx, prm.W) < 0:
                continue
            if not zombies_indexed:  # (those who turn during contact are missed: a tick's delay)
                index_zombies(agents, idx)
                zombies_indexed = True
            z = adjacent(i, False, agents, world, idx.zombie_head, idx.next)
            if z < 0:
                continue
            if uniform(gen) < prm.hb_strength:
                kill(z, i, now, agents, world, ev)
