"""The exact solver as it was before its speed work (issue 13), kept for benchmarks/town.py to time
side by side with hyosan.lattice.exact: the same algorithm (composition-rejection with bounds and
thinning), with numba's reference counting in the hot loop, the bounds read through the members,
NumPy's Generator for every draw and the helpers inlined. Not used by hyosan.

The exact solver: composition-rejection over cells (Slepoy, Thompson & Plimpton 2008), in numba.

Every cell's total propensity ``a[c]`` (its bites, kills, turns and walks, including bites and
kills by the zombies of its neighbours) sits in one of a few dozen groups by its binary exponent:
group g holds cells with ``2^(g-1) <= a < 2^g`` (shifted by :data:`EMIN`). A reaction is drawn by
picking a group in proportion to its sum (a short scan) and then a cell of the group uniformly,
accepted with probability ``a / 2^g`` (at least one half): the cost of a draw does not grow with the
number of cells. A reaction changes at most two cells and their neighbours, whose propensities are
recomputed and moved between groups in O(1). Cells with nothing to do wait in group 0, never
drawn, so a country where the outbreak is local costs what the outbreak costs.

The groups hold *bounds*, not the propensities themselves (the rejection-based SSA of Thanh,
Priami and Zunino 2014): a cell's bound counts the zombies around it as ``wzb >= wz``, a quarter
more plus one per edge. A drawn cell is accepted with probability (true propensity) / (bound),
else nothing happens (its bound is tightened and the clock has moved on: thinning keeps the
process exact). So a zombie that dies or turns next door does not touch its neighbours' bounds
unless they are exceeded, which saves most of the updates of a reaction. Waiting times are exponential
with the total rate: the trajectory is exact (Gillespie's direct method, with another way to
choose the reaction).

Hand-written in numba because no library offers an exact SSA for a million coupled compartments at
this speed (GillespieSSA-style libraries rebuild the whole propensity vector or hold Python objects).
"""

from __future__ import annotations

import math

import numpy as np

from hyosan.jit import njit, njit_inline
from hyosan.lattice.kernels import neighbour, pick_edge, zombies_around

#: Group g >= 1 holds 2^(g+EMIN-1) <= a < 2^(g+EMIN) (group 1 also everything smaller: rates that
#: small, 1e-12 a day, never matter); group 0 holds the idle cells.
EMIN = -40
#: Groups (exponents up to 2^67: propensities of 2e9 people times 2e9 zombies fit).
NG = 108
#: Reaction kinds counted in ``fired``.
KINDS = ("bite", "kill", "turn", "walk_s", "walk_z")
#: Bytes per cell the kernel allocates while it runs: a (8), grp (2), pos (4), members (4), wz (8),
#: wzb (8), wsum (4).
WORKSPACE_BYTES_PER_CELL = 38
#: Relative slack of the bound on the neighbours' zombies (see :func:`run_exact`).
SLACK = 0.25
#: Group sums are recomputed from the cells every so many events (round-off never accumulates).
RESUM_EVERY = 1 << 20


@njit_inline
def cell_rate(c, S, E, Z, wz, wsum, k):
    """Total propensity of cell ``c``: its people bitten or fighting (in the cell and across each
    edge), its bitten turning, and walking. ``wz[c]`` is the weighted sum of the neighbours'
    zombies and ``wsum[c]`` the sum of the cell's edge weights (both kept up to date by the
    caller); ``k`` = (bite, kill, turn, bite_x, kill_x, hop_s, hop_z)."""
    s = float(S[c])
    z = float(Z[c])
    return s * ((k[0] + k[1]) * z + (k[3] + k[4]) * wz[c]) + k[2] * E[c] + (k[5] * s + k[6] * z) * wsum[c]


@njit_inline
def _bound(wz, wsum):
    """A bound on the zombies around a cell that a few more can join without a new bound: a
    quarter more, plus one on every edge; 0 while there are none (idle cells stay idle)."""
    return wz + SLACK * wz + wsum if wz > 0.0 else 0.0


@njit_inline
def group_of(a):
    if a <= 0.0:
        return 0
    e = math.frexp(a)[1] - EMIN
    if e < 1:
        return 1
    return e if e < NG else NG - 1


@njit_inline
def _move(c, g_new, members, start, pos, grp):
    """Move cell ``c`` to group ``g_new`` one boundary at a time: all cells sit in ``members``,
    group g at ``[start[g], start[g + 1])`` with group 0 holding the idle cells (propensity 0), so a
    step up swaps c with its group's last member and lowers the boundary, a step down swaps it with
    the first member and raises it. Propensities mostly change by a factor under two: one step."""
    g = grp[c]
    while g < g_new:
        p = pos[c]
        q = start[g + 1] - 1
        other = members[q]
        members[q] = c
        members[p] = other
        pos[other] = p
        pos[c] = q
        start[g + 1] -= 1
        g += 1
    while g > g_new:
        p = pos[c]
        q = start[g]
        other = members[q]
        members[q] = c
        members[p] = other
        pos[other] = p
        pos[c] = q
        start[g] += 1
        g -= 1
    grp[c] = g_new


@njit_inline
def _update(c, S, E, Z, wz, wzb, wsum, k, a, members, start, gsum, pos, grp, span):
    """Recompute the bound ``a[c]`` (with ``wzb``, raised first if the zombies around passed it)
    and move the cell between groups; returns the change of the total."""
    if wzb[c] < wz[c]:
        wzb[c] = _bound(wz[c], wsum[c])
    new = cell_rate(c, S, E, Z, wzb, wsum, k)
    old = a[c]
    if new == old:
        return 0.0
    g_old = grp[c]
    g_new = group_of(new)
    if g_old != g_new:
        _move(c, g_new, members, start, pos, grp)
        if g_new > span[1]:
            span[1] = g_new
        if 0 < g_new < span[0]:
            span[0] = g_new
        if g_old > 0 and start[g_old + 1] == start[g_old]:
            gsum[g_old] = 0.0
        elif g_old > 0:
            gsum[g_old] -= old
    elif g_old > 0:
        gsum[g_old] -= old
    if g_new > 0:
        gsum[g_new] += new
    a[c] = new
    return new - old


@njit
def run_exact(S, E, Z, R, w_east, w_south, width, k, t0, t_stop, max_events, arrival, fired, gen):
    """Advance the lattice exactly from ``t0`` until ``t_stop``, absorption or ``max_events``.

    Counts are changed in place; ``arrival[c]`` gets the time infection first reaches cell c (a
    bite or a zombie walking in); ``fired`` counts reactions by :data:`KINDS`. Returns the time
    reached (``t_stop`` unless ``max_events`` stopped it first).
    """
    n = S.shape[0]
    a = np.zeros(n)
    grp = np.zeros(n, dtype=np.int16)
    pos = np.empty(n, dtype=np.int32)
    members = np.empty(n, dtype=np.int32)
    start = np.zeros(NG + 1, dtype=np.int64)
    gsum = np.zeros(NG)
    span = np.array([NG, 0], dtype=np.int64)  # lowest and highest busy group (may be stale: empty)
    wz = np.empty(n)
    wsum = np.empty(n, dtype=np.float32)
    wzb = np.empty(n)
    for c in range(n):
        wz[c], wsum[c] = zombies_around(c, width, w_east, w_south, Z)
        wzb[c] = _bound(wz[c], wsum[c])
    for c in range(n):
        value = cell_rate(c, S, E, Z, wzb, wsum, k)
        g = group_of(value)
        a[c] = value
        grp[c] = g
        start[g + 1] += 1
        if g > 0:
            gsum[g] += value
            span[0] = min(span[0], g)
            span[1] = max(span[1], g)
    for g in range(NG):
        start[g + 1] += start[g]
    fill = start[:NG].copy()
    for c in range(n):
        g = grp[c]
        members[fill[g]] = c
        pos[c] = fill[g]
        fill[g] += 1
    total = gsum.sum()
    t = t0
    events = 0
    resum = RESUM_EVERY
    while events < max_events:
        while span[1] > 0 and start[span[1] + 1] == start[span[1]]:
            span[1] -= 1
        if span[1] == 0:
            return t_stop  # nothing can happen any more
        if span[0] > span[1]:
            span[0] = span[1]
        while start[span[0] + 1] == start[span[0]]:
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
        while start[g + 1] == start[g]:  # round-off ran past the last group with cells
            g += 1
        # Rejection: a member uniformly, accepted with probability a / 2^g.
        bound = math.ldexp(1.0, g + EMIN)
        first = start[g]
        size = start[g + 1] - first
        while True:
            x = gen.random() * size
            i = int(x)
            c = members[first + i]
            # The fraction of x is a fresh uniform: accept with it, and once accepted, bound *
            # fraction is uniform on [0, a[c]): it picks the reaction too (one draw for both).
            r = (x - i) * bound
            if r < a[c]:
                break
        # Thinning: a[c] is a bound (the zombies around counted as wzb >= wz); the candidate is a
        # reaction with probability a_true / a[c], else nothing happens (time has moved on all the
        # same: candidates come at the rate of the bounds). Then the bound is tightened.
        if r >= cell_rate(c, S, E, Z, wz, wsum, k):
            wzb[c] = _bound(wz[c], wsum[c])
            total += _update(c, S, E, Z, wz, wzb, wsum, k, a, members, start, gsum, pos, grp, span)
            continue
        # Which of the cell's reactions.
        s = float(S[c])
        z = float(Z[c])
        bite = s * (k[0] * z + k[3] * wz[c])
        kill_in = s * k[1] * z
        kill_x = s * k[4] * wz[c]
        turn = k[2] * E[c]
        walk_s = k[5] * s * wsum[c]
        # The reaction changes one or two cells (c1, c2), the zombies of each by dz1, dz2.
        c2 = -1
        dz1 = 0
        dz2 = 0
        if r < bite:
            S[c] -= 1
            E[c] += 1
            if arrival[c] > t:
                arrival[c] = t
            c1 = c
            fired[0] += 1
        elif r < bite + kill_in + kill_x:
            c1 = c if r < bite + kill_in else pick_edge(c, width, w_east, w_south, Z, True, gen.random())
            Z[c1] -= 1
            R[c1] += 1
            dz1 = -1
            fired[1] += 1
        elif r < bite + kill_in + kill_x + turn:
            E[c] -= 1
            Z[c] += 1
            c1 = c
            dz1 = 1
            fired[2] += 1
        elif r < bite + kill_in + kill_x + turn + walk_s:
            c1 = c
            c2 = pick_edge(c, width, w_east, w_south, Z, False, gen.random())
            S[c1] -= 1
            S[c2] += 1
            fired[3] += 1
        else:
            if Z[c] <= 0:  # round-off at the very top of a[c]
                continue
            c1 = c
            c2 = pick_edge(c, width, w_east, w_south, Z, False, gen.random())
            Z[c1] -= 1
            Z[c2] += 1
            dz1 = -1
            dz2 = 1
            if arrival[c2] > t:
                arrival[c2] = t
            fired[4] += 1
        # Update the changed cells, and the neighbours of a cell whose zombies changed (their
        # propensities read them). One code path for all reactions keeps the kernel small.
        for m in range(2):
            cell = c1 if m == 0 else c2
            if cell < 0:
                break
            dz = dz1 if m == 0 else dz2
            total += _update(cell, S, E, Z, wz, wzb, wsum, k, a, members, start, gsum, pos, grp, span)
            if dz == 0:
                continue
            for d in range(4):
                nb, w = neighbour(cell, d, width, w_east, w_south)
                if nb >= 0:
                    wz[nb] += w * dz
                    # Only a neighbour with people whose zombies around passed their bound needs a
                    # new bound: fewer zombies leave the bound valid (thinning absorbs it).
                    if dz > 0 and S[nb] > 0 and wz[nb] > wzb[nb]:
                        total += _update(
                            nb, S, E, Z, wz, wzb, wsum, k, a, members, start, gsum, pos, grp, span
                        )
        events += 1
        resum -= 1
        if resum == 0:
            resum = RESUM_EVERY
            for c in range(n):
                if wz[c] != 0.0:
                    wz[c] = zombies_around(c, width, w_east, w_south, Z)[0]
                    if wzb[c] < wz[c]:
                        wzb[c] = _bound(wz[c], wsum[c])
                        total += _update(
                            c, S, E, Z, wz, wzb, wsum, k, a, members, start, gsum, pos, grp, span
                        )
            gsum[:] = 0.0
            for g in range(1, NG):
                for i in range(start[g], start[g + 1]):
                    gsum[g] += a[members[i]]
            total = gsum.sum()
    return t
