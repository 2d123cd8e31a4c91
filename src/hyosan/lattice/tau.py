"""Tau-leaping for whole countries: binomial leaps of a fixed length over the live cells, in numba.

Each leap of length ``tau`` draws, for every cell near the outbreak, how many of its people are
bitten (binomial: never more than there are), how many of the zombies of the cell and of each
neighbour its people kill (binomial per source), how many of its bitten turn, and how many walk to
each neighbour; then it applies them all at once (Tian & Burrage's binomial leap). A zombie killed
twice in one leap (by two cells) is killed once: the second kill does not happen, so nobody is
created or lost. Only *live* cells (with bitten or zombies) and their neighbours are visited, so a
country costs what its outbreak front costs, unless people walk (then every cell is visited).
"""

from __future__ import annotations

import math

import numpy as np

from hyosan.jit import njit, njit_inline
from hyosan.lattice.kernels import neighbour, zombies_around

#: Bytes per cell the kernel allocates while it runs: d_s, d_e, d_z, kills, stamp (4 each) and the
#: cells to visit (4 when every cell is visited; 5 per live cell otherwise).
WORKSPACE_BYTES_PER_CELL = 24


@njit_inline
def _p(rate, tau):
    return -math.expm1(-rate * tau)


@njit
def _split(count, c, width, w_east, w_south, d_s, gen, out):
    """Send ``count`` walkers from ``c`` to its neighbours in proportion to the edge weights."""
    total = 0.0
    for d in range(4):
        n, w = neighbour(c, d, width, w_east, w_south)
        total += w
    left = count
    for d in range(4):
        n, w = neighbour(c, d, width, w_east, w_south)
        if n < 0 or left == 0:
            continue
        m = left if w >= total else gen.binomial(left, w / total)
        total -= w
        left -= m
        out[n] += m
        d_s[c] -= m


@njit
def run_tau(cells, edges, blocked, k, t0, t_stop, tau, fired, gen):
    """Leap from ``t0`` to ``t_stop`` in steps of at most ``tau``; the counts (``cells``, a
    :class:`~hyosan.lattice.kernels.Cells`) change in place.

    ``edges`` is an :class:`~hyosan.lattice.kernels.Edges`, ``k`` the rates record
    (:class:`~hyosan.lattice.model.Rates`, read by name); ``fired`` counts reactions by kind;
    ``cells.arrival`` gets the end time of the leap in which infection first reached a cell.
    Returns the number of leaps.
    """
    S, E, Z, R, arrival = cells.S, cells.E, cells.Z, cells.R, cells.arrival
    w_east, w_south, width = edges.w_east, edges.w_south, edges.width
    n = S.shape[0]
    d_s = np.zeros(n, dtype=np.int32)
    d_e = np.zeros(n, dtype=np.int32)
    d_z = np.zeros(n, dtype=np.int32)
    kills = np.zeros(n, dtype=np.int32)
    stamp = np.full(n, -1, dtype=np.int32)
    dense = k.hop_s > 0.0
    live = np.empty(0, dtype=np.int32)
    if not dense:
        count = 0
        for c in range(n):
            if E[c] > 0 or Z[c] > 0:
                count += 1
        live = np.empty(count, dtype=np.int32)
        count = 0
        for c in range(n):
            if E[c] > 0 or Z[c] > 0:
                live[count] = c
                count += 1
    visit = np.empty(n if dense else 0, dtype=np.int32)
    if dense:
        m = 0
        for c in range(n):
            if not blocked[c]:
                visit[m] = c
                m += 1
        visit = visit[:m]
    t = t0
    leaps = 0
    while t < t_stop - 1e-12:
        h = min(tau, t_stop - t)
        if not dense:
            if live.shape[0] == 0:
                break
            # The cells to visit: the live ones and their neighbours, each once.
            visit = np.empty(5 * live.shape[0], dtype=np.int32)
            m = 0
            for i in range(live.shape[0]):
                c = live[i]
                if stamp[c] != leaps:
                    stamp[c] = leaps
                    visit[m] = c
                    m += 1
                for d in range(4):
                    nb, w = neighbour(c, d, width, w_east, w_south)
                    if nb >= 0 and stamp[nb] != leaps:
                        stamp[nb] = leaps
                        visit[m] = nb
                        m += 1
            visit = visit[:m]
        for i in range(visit.shape[0]):
            c = visit[i]
            s = S[c]
            z = Z[c]
            wz, wsum = zombies_around(c, width, w_east, w_south, Z)
            bitten = 0
            if s > 0 and (z > 0 or wz > 0.0):
                bitten = gen.binomial(s, _p(k.bite * z + k.bite_across * wz, h))
                d_s[c] -= bitten
                d_e[c] += bitten
                fired[0] += bitten
                if z > 0:
                    kills[c] += gen.binomial(z, _p(k.kill * s, h))
                for d in range(4):
                    nb, w = neighbour(c, d, width, w_east, w_south)
                    if nb >= 0 and Z[nb] > 0:
                        kills[nb] += gen.binomial(Z[nb], _p(k.kill_across * w * s, h))
            if E[c] > 0:
                turned = gen.binomial(E[c], _p(k.turn, h))
                d_e[c] -= turned
                d_z[c] += turned
                fired[2] += turned
            if wsum > 0.0:
                if k.hop_s > 0.0 and s - bitten > 0:
                    walkers = gen.binomial(s - bitten, _p(k.hop_s * wsum, h))
                    fired[3] += walkers
                    _split(walkers, c, width, w_east, w_south, d_s, gen, d_s)
                if k.hop_z > 0.0 and z > 0:
                    walkers = gen.binomial(z, _p(k.hop_z * wsum, h))
                    fired[4] += walkers
                    _split(walkers, c, width, w_east, w_south, d_z, gen, d_z)
        t += h
        leaps += 1
        # Apply: kills last, never more than the zombies there are.
        m = 0
        for i in range(visit.shape[0]):
            c = visit[i]
            S[c] += d_s[c]
            E[c] += d_e[c]
            Z[c] += d_z[c]
            if (d_e[c] > 0 or d_z[c] > 0) and arrival[c] > t:
                arrival[c] = t
            killed = min(kills[c], Z[c])
            Z[c] -= killed
            R[c] += killed
            fired[1] += killed
            d_s[c] = 0
            d_e[c] = 0
            d_z[c] = 0
            kills[c] = 0
            if not dense and (E[c] > 0 or Z[c] > 0):
                visit[m] = c  # compacted in place: the next leap's live cells
                m += 1
        if not dense:
            live = visit[:m].copy()
    return leaps
