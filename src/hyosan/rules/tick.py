"""The kernel that advances a run: each tick runs the systems in a fixed order (numba).

    infection -> senses -> movement -> contact -> exits -> counts

A scenario's mechanics (:mod:`hyosan.mechanics`) run their hooks between these phases, in a
tick kernel generated around the same pieces (``before_moving``, ``move_all``,
``contact_phase``, ``end_tick``).

It runs many ticks per call and returns early when Python has work to do: door changes that
alter the humans' routes (the goal fields must be recomputed), or an event buffer half full.
Random draws come from two xoshiro256** states (movement, contact; see rules/rng.py), each its
own stream, so the systems never reshuffle each other's draws.
"""

from __future__ import annotations

from hyosan.rules.consts import (
    BITTEN,
    CALM,
    CHASE,
    CONFRONT,
    ESCAPED,
    EV_ALERT,
    EV_ESCAPE,
    FLEE,
    HALFBIE,
    HIDDEN,
    HIDE,
    HUMAN,
    HUNT,
    RESCUED,
    SEEK,
    T_EXIT,
    TR_COURAGE,
    TR_HEARING,
    TR_SIGHT,
    WANDER,
    ZOMBIE,
)
from hyosan.rules.contact import alert_mode, contact_all, scream
from hyosan.rules.infection import turn_due
from hyosan.rules.jit import kernel, kernel_inline
from hyosan.rules.log import emit
from hyosan.rules.movement import builtin, move_all, settle_modes
from hyosan.rules.noise import heard
from hyosan.rules.rng import below
from hyosan.rules.senses import nearest_heard, nearest_seen, shut_in
from hyosan.rules.spatial import is_threat, rebuild_blocks, rebuild_cells, summed_area


@kernel_inline
def zombie_senses(i, s, now, run, prm):
    """A zombie (or hostile halfbie: Gwi-nam hunts) chases prey in sight, else seeks a sound,
    else wanders. A hostile halfbie also hunts the prey it hears through walls (``hb_hunt``
    metres), walking the shortest way to it (mode HUNT: :mod:`hyosan.rules.hunt`)."""
    agents = run.agents
    if prm.zombies_wander:
        agents.mode[i] = WANDER
        return
    sight = prm.z_sight if s == ZOMBIE else agents.traits[i, TR_SIGHT]
    j = nearest_seen(i, True, sight, agents, run.world, run.doors, prm, run.blocks)
    if j < 0 and s == HALFBIE and prm.hb_hunt > 0.0:
        t = hunt(i, agents, run.world, prm, run.blocks)
        if t >= 0:
            agents.mode[i] = HUNT
            agents.target[i] = t
            return
    if j >= 0:
        agents.mode[i] = CHASE
        agents.target[i] = agents.cell[j]
    elif heard(run.noise, agents.cell[i], now) >= prm.z_hearing:  # halfbies hear sharply too
        agents.mode[i] = SEEK
        agents.target[i] = -1
    else:
        agents.mode[i] = WANDER
        agents.target[i] = -1


@kernel_inline
def hunt(i, agents, world, prm, blocks):
    """The cell of the prey hostile halfbie ``i`` hears (``hb_hunt`` metres, on its floor, else
    one storey up or down), to walk to (:func:`~hyosan.rules.movement.path_step`); -1 if none."""
    f = world.geo[agents.cell[i], 0]
    for df in (0, 1, -1):
        j = nearest_heard(i, f + df, prm.hb_hunt, agents, world, prm, blocks)
        if j >= 0:
            return agents.cell[j]
    return -1


@kernel_inline
def human_senses(i, s, now, run, prm):
    """A human (or friendly halfbie) notes the nearest threat in sight; the calm become alert on
    seeing one, on hearing a loud enough sound or when their leader is; the hidden run when a
    zombie gets into their room; the bravest confront a zombie in sight."""
    if prm.humans_wander:
        return
    agents, world, noise = run.agents, run.world, run.noise
    mode, cell, leader = agents.mode, agents.cell, agents.leader
    room = world.room_of_cell[cell[i]]
    if room >= 0 and run.blocks.room_threats[room] == 0 and shut_in(room, 1, world, run.doors):
        j = -1  # behind shut doors, no threat inside: nothing to see (the search would fail)
    else:
        j = nearest_seen(i, False, agents.traits[i, TR_SIGHT], agents, world, run.doors, prm, run.blocks)
    agents.target[i] = cell[j] if j >= 0 else -1
    if mode[i] == CALM:
        ldr = leader[i]
        noticed = j >= 0 or heard(noise, cell[i], now) >= agents.traits[i, TR_HEARING]
        if noticed or (ldr != i and mode[ldr] != CALM and agents.state[ldr] <= BITTEN):
            mode[i] = FLEE if s == HALFBIE else alert_mode(i, agents, prm)
            emit(run.events, now, EV_ALERT, i, j, cell[i])
            if j >= 0 and heard(noise, cell[i], now) < prm.scream_db - 10.0:
                scream(cell[i], now, world, run.doors, prm, noise)
    elif mode[i] == HIDDEN and j >= 0 and world.room_of_cell[cell[j]] == world.room_of_cell[cell[i]]:
        mode[i] = FLEE  # a zombie got into the hiding place: run
    m = mode[i]
    if s != HALFBIE and agents.traits[i, TR_COURAGE] >= prm.confront:
        # The bravest go to meet a zombie they see, to shield the others (show: the teachers),
        # and take up their own course again when none is in sight.
        if j >= 0 and (m == FLEE or m == HIDE):
            mode[i] = CONFRONT
        elif j < 0 and m == CONFRONT:
            mode[i] = alert_mode(i, agents, prm)


@kernel
def senses_all(now, run, prm):
    """Zombies pick prey or a sound; humans notice zombies, screams and alarms and become alert."""
    state, hostile = run.agents.state, run.agents.hostile
    for i in range(state.shape[0]):
        s = state[i]
        if is_threat(s, hostile[i]):
            zombie_senses(i, s, now, run, prm)
        elif s == HUMAN or s == BITTEN or s == HALFBIE:
            human_senses(i, s, now, run, prm)


@kernel
def exits_all(now, world, agents, prm, ev):
    """Humans (bitten or not) and friendly halfbies on an exit leave for the town, unless cordoned."""
    if prm.cordon or prm.exits == 0:
        return
    state, cell = agents.state, agents.cell
    for i in range(state.shape[0]):
        s = state[i]
        if (s == HUMAN or s == BITTEN or (s == HALFBIE and not agents.hostile[i])) and world.tiles[
            cell[i]
        ] == T_EXIT:
            state[i] = ESCAPED
            agents.fate_tick[i] = now
            world.occupancy[cell[i]] -= 1
            emit(ev, now, EV_ESCAPE, i, -1, cell[i])


@kernel
def count_states(row, agents):
    """row[state, role] = number of agents."""
    row[:, :] = 0
    role, state = agents.role, agents.state
    for i in range(state.shape[0]):
        row[state[i], role[i]] += 1


@kernel
def index_all(run, prm):
    """The block index and its summed-area tables, unless nobody looks around."""
    if prm.humans_wander and prm.zombies_wander:
        return
    blocks = run.blocks
    rebuild_blocks(run.agents, run.world, blocks)
    summed_area(blocks.prey, blocks.sat_prey, prm.bw, prm.bh)
    summed_area(blocks.threat, blocks.sat_threat, prm.bw, prm.bh)


@kernel_inline
def before_moving(now, run, prm):
    """Infection, the spatial index and senses: what each agent knows before it moves."""
    turn_due(now, run.agents, run.events)
    index_all(run, prm)
    senses_all(now, run, prm)


@kernel_inline
def contact_phase(now, run, prm):
    """Modes settle, then contact."""
    world, agents = run.world, run.agents
    settle_modes(world, agents)
    rebuild_cells(agents, run.cells, prm.W)
    offset = below(run.rng_contact, agents.state.shape[0]) if agents.state.shape[0] > 0 else 0
    contact_all(now, offset, world, run.doors, agents, prm, run.noise, run.events, run.cells, run.rng_contact)


@kernel
def record_frame(tick, agents, frames):
    """Photograph the agents (cell, state, mode; off the map: cell -1) as frame ``tick``; True
    when the buffer is full."""
    k = frames.count[0]
    state, cell, mode = agents.state, agents.cell, agents.mode
    frames.tick[k] = tick
    for i in range(state.shape[0]):
        s = state[i]
        frames.cell[k, i] = -1 if s == ESCAPED or s == RESCUED else cell[i]
        frames.state[k, i] = s
        frames.mode[k, i] = mode[i]
    frames.count[0] = k + 1
    return k + 1 == frames.tick.shape[0]


@kernel_inline
def end_tick(now, run, prm):
    """Exits, counts, the frame if one is due; True when Python has work (the routes changed,
    the event buffer is more than half full, or the frame buffer is full)."""
    ev, frames = run.events, run.frames
    exits_all(now, run.world, run.agents, prm, ev)
    count_states(run.counts[now + 1], run.agents)
    full = False
    every = frames.every[0]
    if every > 0 and (now + 1) % every == 0:
        full = record_frame(now + 1, run.agents, frames)
    return full or run.flags.routes_changed[0] != 0 or 2 * ev.count[0] > ev.tick.shape[0]


@kernel_inline
def after_moving(now, run, prm):
    """Modes settle, contact, exits, counts; True when Python has work (the routes changed or
    the event buffer is more than half full)."""
    contact_phase(now, run, prm)
    return end_tick(now, run, prm)


@kernel
def move_all_builtin(now, offset, run, prm, gen):
    """:func:`~hyosan.rules.movement.move_all` with the built-in behaviours, compiled on its own
    (inlined into the tick loop it ran about 5 % slower)."""
    return move_all(now, offset, run, prm, gen, builtin, builtin)


@kernel
def run_ticks(t0, t1, run, prm):
    """Advance from tick ``t0`` towards ``t1`` with the built-in behaviours; returns the next
    tick to run. ``run.counts[t + 1]`` receives the state x role counts after tick ``t``.
    Returns early (after the tick that caused it) when the routes changed or the event buffer
    is more than half full."""
    n = run.agents.state.shape[0]
    for now in range(t0, t1):
        before_moving(now, run, prm)
        offset = below(run.rng_move, n) if n > 0 else 0
        move_all_builtin(now, offset, run, prm, run.rng_move)
        if after_moving(now, run, prm):
            return now + 1
    return t1


@kernel_inline
def run_ticks_with(t0, t1, run, prm, zombie_fn, human_fn):
    """:func:`run_ticks` with behaviour functions (``movement.builtin`` or a user's:
    docs/extending.md) deciding the zombies' and the humans' steps; compiled into the caller,
    a kernel of :mod:`hyosan.behaviours`."""
    n = run.agents.state.shape[0]
    for now in range(t0, t1):
        before_moving(now, run, prm)
        offset = below(run.rng_move, n) if n > 0 else 0
        move_all(now, offset, run, prm, run.rng_move, zombie_fn, human_fn)
        if after_moving(now, run, prm):
            return now + 1
    return t1
