"""Alemi's one-person-per-site lattice: the statistical-mechanics mode used to find the critical point.

An L x L periodic square lattice holds one person per site: S, Z or R, and nobody moves. At each
step one *active* bond (an S next to a Z) is picked uniformly; with probability 1 / (1 + alpha) the
S turns Z, otherwise the Z is removed. The run ends when no active bond is left. Alemi et al. (2015)
find that zombies win below alpha_c = 0.437 (0.437345866 from a scaling collapse with 2-D
percolation exponents), where the well-mixed model needs alpha < 1.

The active bonds are kept in an array with each bond's position in it, so picking, adding and
removing one are O(1) and a run costs O(L^2).
"""

from __future__ import annotations

import numpy as np

from hyosan.errors import HyosanError
from hyosan.jit import njit, njit_inline

S_, Z_, R_ = 0, 1, 2
#: Alemi et al.'s estimate of the critical kill-to-bite ratio on the square lattice.
ALPHA_C = 0.437345866
#: Rows per column of the line-seeded lattice: the front must travel aspect/2 widths to win.
ASPECT = 4


@njit_inline
def _site(i, d, size):
    """The neighbour of site ``i`` in direction d (0 east, 1 south, 2 west, 3 north), periodic
    on a lattice ``size`` = (height, width)."""
    height, width = size
    y, x = divmod(i, width)
    if d == 0:
        return y * width + (x + 1) % width
    if d == 1:
        return ((y + 1) % height) * width + x
    if d == 2:
        return y * width + (x - 1) % width
    return ((y - 1) % height) * width + x


@njit_inline
def _bond(i, d, size):
    """Bond id: each site owns its east (2i) and south (2i + 1) bonds."""
    if d == 0:
        return 2 * i
    if d == 1:
        return 2 * i + 1
    return 2 * _site(i, d, size) + (0 if d == 2 else 1)


@njit
def _add(b, active, where, count):
    if where[b] < 0:
        active[count] = b
        where[b] = count
        count += 1
    return count


@njit
def _drop(b, active, where, count):
    p = where[b]
    if p >= 0:
        last = active[count - 1]
        active[p] = last
        where[last] = p
        where[b] = -1
        count -= 1
    return count


@njit
def run_bond(state, alpha, gen):
    """Run one outbreak on ``state`` ((height, width) int8 of S/Z/R, changed in place) to the end.

    Returns (bites, kills, steps). Every site that ends Z or R was reached by the zombies except
    the removed ones that started R.
    """
    size = (state.shape[0], state.shape[1])
    n = size[0] * size[1]
    state = state.reshape(n)  # a view: the caller's array changes
    active = np.empty(2 * n, dtype=np.int64)
    where = np.full(2 * n, -1, dtype=np.int64)
    count = 0
    for i in range(n):
        if state[i] != Z_:
            continue
        for d in range(4):
            if state[_site(i, d, size)] == S_:
                count = _add(_bond(i, d, size), active, where, count)
    p_bite = 1.0 / (1.0 + alpha)
    bites = 0
    kills = 0
    while count > 0:
        b = active[int(gen.random() * count)]
        i = b // 2
        j = _site(i, 0 if b % 2 == 0 else 1, size)
        s, z = (i, j) if state[i] == S_ else (j, i)
        if gen.random() < p_bite:
            state[s] = Z_
            bites += 1
            for d in range(4):
                nb = _site(s, d, size)
                bond = _bond(s, d, size)
                if state[nb] == S_:
                    count = _add(bond, active, where, count)
                else:
                    count = _drop(bond, active, where, count)
        else:
            state[z] = R_
            kills += 1
            for d in range(4):
                count = _drop(_bond(z, d, size), active, where, count)
    return bites, kills, bites + kills


def line_outbreak(width: int, alpha: float, gen: np.random.Generator, aspect: int = ASPECT) -> np.ndarray:
    """One run on a periodic lattice ``aspect * width`` rows by ``width`` columns, seeded by a full
    row of zombies (row 0); returns the final states as a (rows, width) int8 array."""
    if width < 4 or aspect < 1:
        raise HyosanError(f"must be at least 4 wide, got {width}", source="bond lattice", field="width")
    state = np.zeros((aspect * width, width), dtype=np.int8)
    state[0] = Z_
    run_bond(state, float(alpha), gen)
    return state


def zombies_win(final: np.ndarray) -> bool:
    """Zombies win when the front reaches the row farthest from the seed row (rows // 2, reached
    from both sides of the periodic strip): a cluster as long as the lattice, a giant one."""
    return bool((final[final.shape[0] // 2] != S_).any())


def win_probability(
    width: int, alpha: float, runs: int, seed: int = 0, aspect: int = ASPECT
) -> tuple[float, float]:
    """(P(zombies win), its binomial standard error) over ``runs`` line-seeded runs."""
    gens = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(runs)]
    wins = np.array([zombies_win(line_outbreak(width, alpha, g, aspect)) for g in gens], dtype=float)
    p = float(wins.mean())
    return p, float(np.sqrt(p * (1 - p) / runs))
