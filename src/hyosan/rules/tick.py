"""The kernel that advances a run: each tick runs the systems in a fixed order (numba).

    infection -> senses -> movement -> contact -> exits -> counts

It runs many ticks per call and returns early when Python has work to do: door changes that
alter the humans' routes (the goal fields must be recomputed), or an event buffer half full.
Random draws come from two xoshiro256** states passed in (movement, contact; see rules/rng.py),
each its own stream, so the systems never reshuffle each other's draws.
"""

from __future__ import annotations

from hyosan.rules.consts import (
    BITTEN,
    BLOCK,
    CALM,
    CHASE,
    ESCAPED,
    EV_ALERT,
    EV_ESCAPE,
    FLEE,
    HALFBIE,
    HIDDEN,
    HUMAN,
    I_BH,
    I_BW,
    I_CORDON,
    I_EXITS,
    I_H,
    I_HUMANS_WANDER,
    I_W,
    I_ZOMBIES_WANDER,
    P_SCREAM_DB,
    P_Z_HEARING,
    P_Z_SIGHT,
    SEEK,
    T_EXIT,
    TR_HEARING,
    TR_SIGHT,
    WANDER,
    ZOMBIE,
)
from hyosan.rules.contact import alert_mode, contact_all, scream
from hyosan.rules.infection import turn_due
from hyosan.rules.jit import kernel
from hyosan.rules.log import emit
from hyosan.rules.movement import move_all, settle_modes
from hyosan.rules.noise import heard
from hyosan.rules.rng import below
from hyosan.rules.senses import nearest_seen
from hyosan.rules.spatial import rebuild_blocks, rebuild_cells, summed_area


@kernel
def senses_all(now, world, doors, pop, p, ip, noise, ev, blocks):
    """Zombies pick prey or a sound; humans notice zombies, screams and alarms and become alert."""
    tiles, door_of_cell, room_of_cell, geo = world[3], world[4], world[5], world[14]
    door_state = doors[1]
    state, cell, leader, traits, hostile, mode, target = (
        pop[1],
        pop[2],
        pop[4],
        pop[5],
        pop[8],
        pop[10],
        pop[13],
    )
    block_head, block_next, block_prey, block_threat, buf_idx, buf_d2, sat_prey, sat_threat = blocks
    noise_level, noise_until = noise[0], noise[1]
    W, H, bw, bh = ip[I_W], ip[I_H], ip[I_BW], ip[I_BH]
    for i in range(state.shape[0]):
        s = state[i]
        if s == ZOMBIE or (s == HALFBIE and hostile[i]):
            if ip[I_ZOMBIES_WANDER]:
                mode[i] = WANDER
                continue
            sight = p[P_Z_SIGHT] if s == ZOMBIE else traits[i, TR_SIGHT]
            j = nearest_seen(
                i, True, sight, state, cell, hostile, geo, W, H, BLOCK, bw, bh, block_head,
                block_next, block_prey, sat_prey, tiles, door_of_cell, door_state, buf_idx, buf_d2,
            )  # fmt: skip
            if j >= 0:
                mode[i] = CHASE
                target[i] = cell[j]
            elif s == ZOMBIE and heard(noise_level, noise_until, cell[i], now) >= p[P_Z_HEARING]:
                mode[i] = SEEK
                target[i] = -1
            else:
                mode[i] = WANDER
                target[i] = -1
        elif s == HUMAN or s == BITTEN or s == HALFBIE:
            if ip[I_HUMANS_WANDER]:
                continue
            j = nearest_seen(
                i, False, traits[i, TR_SIGHT], state, cell, hostile, geo, W, H, BLOCK, bw, bh,
                block_head, block_next, block_threat, sat_threat, tiles, door_of_cell, door_state,
                buf_idx, buf_d2,
            )  # fmt: skip
            target[i] = cell[j] if j >= 0 else -1
            if mode[i] == CALM:
                ldr = leader[i]
                noticed = j >= 0 or heard(noise_level, noise_until, cell[i], now) >= traits[i, TR_HEARING]
                if noticed or (ldr != i and mode[ldr] != CALM and state[ldr] <= BITTEN):
                    mode[i] = FLEE if s == HALFBIE else alert_mode(i, pop, p)
                    emit(ev, now, EV_ALERT, i, j, cell[i])
                    if j >= 0 and heard(noise_level, noise_until, cell[i], now) < p[P_SCREAM_DB] - 10.0:
                        scream(cell[i], now, world, doors, p, ip, noise)
            elif mode[i] == HIDDEN and j >= 0 and room_of_cell[cell[j]] == room_of_cell[cell[i]]:
                mode[i] = FLEE  # a zombie got into the hiding place: run


@kernel
def exits_all(now, world, pop, ip, ev):
    """Humans (bitten or not) and friendly halfbies on an exit leave for the town, unless cordoned."""
    if ip[I_CORDON] or ip[I_EXITS] == 0:
        return
    tiles, occupancy = world[3], world[13]
    state, cell, hostile, fate_tick = pop[1], pop[2], pop[8], pop[17]
    for i in range(state.shape[0]):
        s = state[i]
        if (s == HUMAN or s == BITTEN or (s == HALFBIE and not hostile[i])) and tiles[cell[i]] == T_EXIT:
            state[i] = ESCAPED
            fate_tick[i] = now
            occupancy[cell[i]] -= 1
            emit(ev, now, EV_ESCAPE, i, -1, cell[i])


@kernel
def count_states(row, pop):
    """row[state, role] = number of agents."""
    row[:, :] = 0
    role, state = pop[0], pop[1]
    for i in range(state.shape[0]):
        row[state[i], role[i]] += 1


@kernel
def run_ticks(
    t0, t1, world, doors, pop, fields, p, ip, noise, ev, flags, blocks, cells, counts, gen_move, gen_contact
):
    """Advance from tick ``t0`` towards ``t1``; returns the next tick to run.

    ``counts[t + 1]`` receives the state x role counts after tick ``t``. Returns early (after
    the tick that caused it) when ``flags[0]`` is raised (routes changed) or the event buffer is
    more than half full.
    """
    n = pop[1].shape[0]
    block_head, block_next, block_prey, block_threat = blocks[:4]
    cell_head, cell_next, touched, prey_in, zombie_head, zombie_touched = cells
    for now in range(t0, t1):
        turn_due(now, pop, ev)
        if not (ip[I_HUMANS_WANDER] and ip[I_ZOMBIES_WANDER]):  # else nobody looks around
            rebuild_blocks(
                pop[1], pop[2], pop[8], world[12], block_head, block_next, block_prey, block_threat
            )
            summed_area(block_prey, blocks[6], ip[I_BW], ip[I_BH])
            summed_area(block_threat, blocks[7], ip[I_BW], ip[I_BH])
        senses_all(now, world, doors, pop, p, ip, noise, ev, blocks)
        offset = below(gen_move, n) if n > 0 else 0
        move_all(now, offset, world, doors, pop, fields, p, ip, noise, ev, flags, gen_move)
        settle_modes(world, pop)
        rebuild_cells(pop[1], pop[2], cell_head, cell_next, touched, prey_in)
        offset = below(gen_contact, n) if n > 0 else 0
        contact_all(
            now, offset, world, doors, pop, p, ip, noise, ev, cell_head, cell_next, prey_in, zombie_head,
            zombie_touched, gen_contact,
        )  # fmt: skip
        exits_all(now, world, pop, ip, ev)
        count_states(counts[now + 1], pop)
        if flags[0] or 2 * ev[5][0] > ev[0].shape[0]:
            return now + 1
    return t1
