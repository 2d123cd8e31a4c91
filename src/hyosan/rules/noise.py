"""Noise: screams, battering and alarms spread through the building and fade (numba).

The building keeps one *noise map*: for every cell the loudest sound heard there (dB) and the
tick until which it lasts. A new sound is *stamped* onto it: the same attenuation as
:func:`hyosan.world.fields.sound_field` (per metre, walls, shut doors), expanded only while
louder than the quietest ear (``floor``), written where it beats what is already heard. The
work is proportional to the area that hears the sound, with preallocated workspace, so the
kernel can stamp a scream the tick it happens.
"""

from __future__ import annotations

import numpy as np

from hyosan.rules.jit import kernel, kernel_inline
from hyosan.world.fields import _pop, _push, sound_loss


@kernel_inline
def heard(noise_level, noise_until, c, now):
    """Loudness at cell ``c`` now (0 when the sound there has faded)."""
    return noise_level[c] if noise_until[c] >= now else 0.0


@kernel
def stamp_noise(
    src,
    level,
    now,
    until,
    noise_level,
    noise_until,
    snd_start,
    snd_idx,
    tiles,
    door_of_cell,
    door_state,
    per_metre,
    wall_loss,
    door_loss,
    floor,
    work_level,
    work_mark,
    work_keys,
    work_vals,
    stamp,
):
    """Spread a sound of ``level`` dB from ``src``, heard until tick ``until``; returns cells reached.

    ``work_*`` are scratch arrays (cells; heap of at least the sound graph's edge count);
    ``stamp`` must differ between calls (cells whose ``work_mark`` equals it were reached).
    """
    if level < floor:
        return 0
    size = 0
    work_level[src] = level
    work_mark[src] = stamp
    size = _push(work_keys, work_vals, size, -level, src)
    reached = 0
    while size > 0:
        c = work_vals[0]
        lv = -work_keys[0]
        size = _pop(work_keys, work_vals, size)
        if lv < work_level[c]:
            continue  # a stale heap entry
        reached += 1
        if noise_until[c] < now or lv >= noise_level[c]:
            noise_level[c] = lv
            noise_until[c] = until
        elif lv >= noise_level[c] - 1.0 and until > noise_until[c]:
            noise_until[c] = until
        for e in range(snd_start[c], snd_start[c + 1]):
            m = snd_idx[e]
            nl = lv - sound_loss(m, tiles, door_of_cell, door_state, per_metre, wall_loss, door_loss)
            if nl < floor:
                continue
            if work_mark[m] != stamp or nl > work_level[m]:
                work_mark[m] = stamp
                work_level[m] = nl
                size = _push(work_keys, work_vals, size, -nl, m)
    return reached


def noise_workspace(n_cells: int, n_edges: int):
    """Scratch arrays for :func:`stamp_noise`."""
    return (
        np.zeros(n_cells, dtype=np.float64),
        np.zeros(n_cells, dtype=np.int64),
        np.empty(n_edges + n_cells + 1, dtype=np.float64),
        np.empty(n_edges + n_cells + 1, dtype=np.int64),
    )
