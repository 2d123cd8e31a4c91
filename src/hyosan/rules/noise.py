"""Noise: screams, battering and alarms spread through the building and fade (numba).

The building keeps one *noise map* (:class:`~hyosan.rules.state.NoiseMap`): for every cell the
loudest sound heard there (dB) and the tick until which it lasts. A new sound is *stamped* onto
it: from its source it loses ``per_metre`` per step of the sound graph (a stair link counts as
one step: stairwells carry sound well), ``wall_loss`` entering a wall and ``door_loss`` entering
a shut door; it is expanded only while louder than the quietest ear (``noise_floor``) and written
where it beats what is already heard. The work is proportional to the area that hears the sound,
with preallocated workspace, so the kernel can stamp a scream the tick it happens.
"""

from __future__ import annotations

from hyosan.rules.consts import T_DOOR, T_WALL
from hyosan.rules.doors import shut
from hyosan.rules.jit import kernel, kernel_inline
from hyosan.world.fields import _pop, _push

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


@kernel_inline
def heard(noise, c, now):
    """Loudness at cell ``c`` now (0 when the sound there has faded)."""
    return noise.level[c] if noise.until[c] >= now else 0.0


@kernel_inline
def sound_loss(m, world, door_state, prm):
    """dB a sound loses stepping into cell ``m``: per metre, plus a wall's or a shut door's loss."""
    loss = prm.per_metre
    t = world.tiles[m]
    if t == T_WALL:
        loss += prm.wall_loss
    elif t == T_DOOR:
        if shut(door_state[world.door_of_cell[m]]):
            loss += prm.door_loss
    return loss


@kernel
def stamp_noise(src, level, now, until, noise, world, door_state, prm):
    """Spread a sound of ``level`` dB from cell ``src``, heard until tick ``until``; returns the
    number of cells it reached."""
    if level < prm.noise_floor:
        return 0
    noise.stamps[0] += 1
    stamp = noise.stamps[0]
    work_level, work_mark, keys, vals = noise.work_level, noise.work_mark, noise.work_keys, noise.work_vals
    work_level[src] = level
    work_mark[src] = stamp
    size = _push(keys, vals, 0, -level, src)
    reached = 0
    while size > 0:
        c = vals[0]
        lv = -keys[0]
        size = _pop(keys, vals, size)
        if lv < work_level[c]:
            continue  # a stale heap entry
        reached += 1
        if noise.until[c] < now or lv >= noise.level[c]:
            noise.level[c] = lv
            noise.until[c] = until
        elif lv >= noise.level[c] - 1.0 and until > noise.until[c]:
            noise.until[c] = until
        for e in range(world.snd_start[c], world.snd_start[c + 1]):
            m = world.snd_idx[e]
            nl = lv - sound_loss(m, world, door_state, prm)
            if nl < prm.noise_floor:
                continue
            if work_mark[m] != stamp or nl > work_level[m]:
                work_mark[m] = stamp
                work_level[m] = nl
                size = _push(keys, vals, size, -nl, m)
    return reached
