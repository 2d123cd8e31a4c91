"""The exact solver: composition-rejection over cells (Slepoy, Thompson & Plimpton 2008), in numba.

Every cell's total propensity ``a[c]`` (its bites, kills, turns and walks, including bites and
kills by the zombies of its neighbours) sits in one of a few dozen groups by its binary exponent:
group g holds cells with ``2^(g-1) <= a < 2^g`` (shifted by :data:`EMIN`). A reaction is drawn by
picking a group in proportion to its sum (a short scan) and then a cell of the group uniformly,
accepted with probability ``a / 2^g`` (at least one half): the cost of a draw does not grow with the
number of cells. A reaction changes at most two cells and their neighbours, whose propensities are
recomputed and moved between groups in O(1). Cells with nothing to do are in no group, so a
country where the outbreak is local costs what the outbreak costs. Waiting times are exponential
with the total rate: the trajectory is exact (Gillespie's direct method, with another way to
choose the reaction).

Hand-written in numba because no library offers an exact SSA for a million coupled compartments at
this speed (GillespieSSA-style libraries rebuild the whole propensity vector or hold Python objects).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hyosan.lattice.kernels import neighbour, pick_edge, zombies_around

#: Binary exponent of group 1's upper bound; group g holds 2^(g+EMIN-1) <= a < 2^(g+EMIN).
EMIN = -64
#: Groups (exponents up to 2^65: propensities of 2e9 people times 2e9 zombies fit).
NG = 130
#: Reaction kinds counted in ``fired``.
KINDS = ("bite", "kill", "turn", "walk_s", "walk_z")
#: Group sums are recomputed from the cells every so many events (round-off never accumulates).
RESUM_EVERY = 1 << 20


@numba.njit(cache=True, inline="always")
def cell_rate(c, width, w_east, w_south, S, E, Z, k):
    """Total propensity of cell ``c``: its people bitten or fighting (in the cell and across each
    edge), its bitten turning, and walking. ``k`` = (bite, kill, turn, bite_x, kill_x, hop_s, hop_z)."""
    wz, wsum = zombies_around(c, width, w_east, w_south, Z)
    s = float(S[c])
    z = float(Z[c])
    return s * ((k[0] + k[1]) * z + (k[3] + k[4]) * wz) + k[2] * E[c] + (k[5] * s + k[6] * z) * wsum


@numba.njit(cache=True, inline="always")
def group_of(a):
    if a <= 0.0:
        return -1
    e = math.frexp(a)[1] - EMIN
    if e < 1:
        return 1
    return e if e < NG else NG - 1


@numba.njit(cache=True)
def _place(c, g, groups, gcount, pos, grp):
    """Append cell ``c`` to group ``g`` (growing the group's array when full)."""
    members = groups[g]
    if gcount[g] == members.shape[0]:
        bigger = np.empty(max(16, 2 * members.shape[0]), dtype=np.int32)
        bigger[: members.shape[0]] = members
        groups[g] = bigger
        members = bigger
    members[gcount[g]] = c
    pos[c] = gcount[g]
    grp[c] = g
    gcount[g] += 1


@numba.njit(cache=True)
def _unplace(c, groups, gcount, pos, grp):
    """Remove cell ``c`` from its group (the group's last member takes its place)."""
    g = grp[c]
    members = groups[g]
    last = members[gcount[g] - 1]
    members[pos[c]] = last
    pos[last] = pos[c]
    gcount[g] -= 1
    grp[c] = -1


@numba.njit(cache=True)
def _update(c, width, w_east, w_south, S, E, Z, k, a, groups, gcount, gsum, pos, grp, span):
    """Recompute ``a[c]`` and move the cell between groups; returns the change of the total."""
    new = cell_rate(c, width, w_east, w_south, S, E, Z, k)
    old = a[c]
    if new == old:
        return 0.0
    g_old = grp[c]
    g_new = group_of(new)
    if g_old != g_new:
        if g_old >= 0:
            _unplace(c, groups, gcount, pos, grp)
            if gcount[g_old] == 0:
                gsum[g_old] = 0.0
        if g_new >= 0:
            _place(c, g_new, groups, gcount, pos, grp)
            if g_new > span[1]:
                span[1] = g_new
            if g_new < span[0]:
                span[0] = g_new
    if g_old >= 0 and gcount[g_old] > 0:
        gsum[g_old] -= old
    if g_new >= 0:
        gsum[g_new] += new
    a[c] = new
    return new - old


@numba.njit(cache=True)
def _update_around(c, width, w_east, w_south, S, E, Z, k, a, groups, gcount, gsum, pos, grp, span):
    """Update ``c`` and every neighbour whose propensity reads ``Z[c]``."""
    delta = _update(c, width, w_east, w_south, S, E, Z, k, a, groups, gcount, gsum, pos, grp, span)
    for d in range(4):
        n, w = neighbour(c, d, width, w_east, w_south)
        if n >= 0:
            delta += _update(n, width, w_east, w_south, S, E, Z, k, a, groups, gcount, gsum, pos, grp, span)
    return delta


@numba.njit(cache=True)
def run_exact(S, E, Z, R, w_east, w_south, width, k, t0, t_stop, max_events, arrival, fired, gen):
    """Advance the lattice exactly from ``t0`` until ``t_stop``, absorption or ``max_events``.

    Counts are changed in place; ``arrival[c]`` gets the time infection first reaches cell c (a
    bite or a zombie walking in); ``fired`` counts reactions by :data:`KINDS`. Returns the time
    reached (``t_stop`` unless ``max_events`` stopped it first).
    """
    n = S.shape[0]
    a = np.zeros(n)
    grp = np.full(n, -1, dtype=np.int16)
    pos = np.zeros(n, dtype=np.int32)
    groups = [np.empty(16, dtype=np.int32) for _ in range(NG)]
    gcount = np.zeros(NG, dtype=np.int64)
    gsum = np.zeros(NG)
    span = np.array([NG, -1], dtype=np.int64)  # lowest and highest group that may be non-empty
    for c in range(n):
        value = cell_rate(c, width, w_east, w_south, S, E, Z, k)
        if value > 0.0:
            a[c] = value
            g = group_of(value)
            _place(c, g, groups, gcount, pos, grp)
            gsum[g] += value
            span[0] = min(span[0], g)
            span[1] = max(span[1], g)
    total = gsum.sum()
    t = t0
    events = 0
    while events < max_events:
        while span[1] >= 0 and gcount[span[1]] == 0:
            span[1] -= 1
        if span[1] < 0:
            return t_stop  # nothing can happen any more
        while gcount[span[0]] == 0:
            span[0] += 1
        if total <= 0.0:
            total = 0.0
            for g in range(span[0], span[1] + 1):
                total += gsum[g]
        t += gen.standard_exponential() / total
        if t >= t_stop:
            return t_stop
        # Composition: a group in proportion to its sum (scanned from the largest propensities).
        target = gen.random() * total
        g = span[1]
        acc = gsum[g]
        while acc <= target and g > span[0]:
            g -= 1
            acc += gsum[g]
        while gcount[g] == 0:  # round-off ran past the last group with cells
            g += 1
        # Rejection: a member uniformly, accepted with probability a / 2^g.
        bound = math.ldexp(1.0, g + EMIN)
        members = groups[g]
        while True:
            c = members[int(gen.random() * gcount[g])]
            if gen.random() * bound < a[c]:
                break
        # Which of the cell's reactions.
        wz, wsum = zombies_around(c, width, w_east, w_south, Z)
        s = float(S[c])
        z = float(Z[c])
        r = gen.random() * a[c]
        bite = s * (k[0] * z + k[3] * wz)
        kill_in = s * k[1] * z
        kill_x = s * k[4] * wz
        turn = k[2] * E[c]
        walk_s = k[5] * s * wsum
        if r < bite:
            S[c] -= 1
            E[c] += 1
            if arrival[c] > t:
                arrival[c] = t
            total += _update(c, width, w_east, w_south, S, E, Z, k, a, groups, gcount, gsum, pos, grp, span)
            fired[0] += 1
        elif r < bite + kill_in + kill_x:
            victim = c if r < bite + kill_in else pick_edge(c, width, w_east, w_south, Z, True, gen.random())
            Z[victim] -= 1
            R[victim] += 1
            total += _update_around(victim, width, w_east, w_south, S, E, Z, k, a, groups, gcount, gsum,
                                    pos, grp, span)  # fmt: skip
            fired[1] += 1
        elif r < bite + kill_in + kill_x + turn:
            E[c] -= 1
            Z[c] += 1
            total += _update_around(c, width, w_east, w_south, S, E, Z, k, a, groups, gcount, gsum, pos,
                                    grp, span)  # fmt: skip
            fired[2] += 1
        elif r < bite + kill_in + kill_x + turn + walk_s:
            to = pick_edge(c, width, w_east, w_south, Z, False, gen.random())
            S[c] -= 1
            S[to] += 1
            total += _update(c, width, w_east, w_south, S, E, Z, k, a, groups, gcount, gsum, pos, grp, span)
            total += _update(to, width, w_east, w_south, S, E, Z, k, a, groups, gcount, gsum, pos, grp, span)
            fired[3] += 1
        else:
            if Z[c] <= 0:  # round-off at the very top of a[c]
                continue
            to = pick_edge(c, width, w_east, w_south, Z, False, gen.random())
            Z[c] -= 1
            Z[to] += 1
            if arrival[to] > t:
                arrival[to] = t
            total += _update_around(c, width, w_east, w_south, S, E, Z, k, a, groups, gcount, gsum, pos,
                                    grp, span)  # fmt: skip
            total += _update_around(to, width, w_east, w_south, S, E, Z, k, a, groups, gcount, gsum, pos,
                                    grp, span)  # fmt: skip
            fired[4] += 1
        events += 1
        if events % RESUM_EVERY == 0:
            gsum[:] = 0.0
            for g in range(NG):
                for i in range(gcount[g]):
                    gsum[g] += a[groups[g][i]]
            total = gsum.sum()
    return t
