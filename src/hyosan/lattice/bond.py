"""Alemi's one-person-per-site lattice: the statistical-mechanics mode used to find the critical point.

An L x L periodic square lattice holds one person per site: S, Z or R, and nobody moves. At each
step one *active* bond (an S next to a Z) is picked uniformly; with probability 1 / (1 + alpha) the
S turns Z, otherwise the Z is removed. The run ends when no active bond is left. Alemi et al. (2015)
find that zombies win below alpha_c = 0.437 (0.437345866 from a scaling collapse with 2-D
percolation exponents), where the well-mixed model needs alpha < 1.

The active bonds are kept in an array with each bond's position in it, so picking, adding and
removing one are O(1) and a run costs O(L^2). The hot loop (:func:`_run`) runs without numba's
reference counting, on 32-bit bond ids, with an inline xoshiro256+ (an index from a 64-bit draw
by a multiplication), neighbours found without a division on widths that are powers of two, and
looks a bond up only when the states say it is active; benchmarks/bond_lattice.py times it
against a plain numba version of the same algorithm.
"""

from __future__ import annotations

import numba
import numpy as np

from hyosan.errors import HyosanError
from hyosan.jit import njit, njit_inline
from hyosan.xoshiro import below, next_raw, seed, uniform

S_, Z_, R_ = 0, 1, 2
#: Alemi et al.'s estimate of the critical kill-to-bite ratio on the square lattice.
ALPHA_C = 0.437345866
#: Rows per column of the line-seeded lattice: the front must travel aspect/2 widths to win.
ASPECT = 4


#: The hot loop runs without numba's reference counting (numba's private ``_nrt`` flag; the cache
#: still follows hyosan.jit's locator): it allocates nothing.
njit_bare = numba.njit(cache=True, _nrt=False, error_model="numpy")


@njit_inline
def _col(i, width, mask):
    """The column of site ``i``: a mask when the width is a power of two (``mask`` = width - 1),
    else a division (``mask`` = -1)."""
    return i & mask if mask >= 0 else i % width


@njit_inline
def _east(i, width, mask):
    return i + 1 - width if _col(i, width, mask) == width - 1 else i + 1


@njit_inline
def _west(i, width, mask):
    return i - 1 + width if _col(i, width, mask) == 0 else i - 1


@njit_inline
def _south(i, width, n):
    j = i + width
    return j - n if j >= n else j


@njit_inline
def _north(i, width, n):
    j = i - width
    return j + n if j < 0 else j


@njit_inline
def _add(b, active, where, count):
    active[count] = b
    where[b] = count
    return count + 1


@njit_inline
def _drop(b, active, where, count):
    p = where[b]
    last = active[count - 1]
    active[p] = last
    where[last] = p
    return count - 1


@njit_inline
def _drop_if(cond, b, active, where, count):
    """:func:`_drop` when ``cond``, without a branch: else the last entry is written onto
    itself (``where[b]`` of an inactive bond is read but not used)."""
    p = where[b] if cond else count - 1
    last = active[count - 1]
    active[p] = last
    where[last] = p
    return count - cond


@njit_inline
def _add_if(cond, b, active, where, count):
    """:func:`_add` when ``cond``, without a branch: else the entry past the last is written
    (unused) and ``where[b]``, never read while ``b`` is inactive."""
    active[count] = b
    where[b] = count
    return count + cond


@njit_inline
def _after_bite(k, bond, active, where, count):
    """A bite made one end of ``bond`` Z; ``k`` is the other end's state: to an S the bond
    becomes active, to a Z it stops being so (the drop first: it reads ``where[bond]``, which
    the add's unused write would spoil). Which neighbour is what cannot be predicted: without
    branches."""
    count = _drop_if(k == Z_, bond, active, where, count)
    return _add_if(k == S_, bond, active, where, count)


@njit_bare
def _seed_bonds(state, width, mask, active, where):
    """The active bonds of the starting state (an S next to a Z), in site order, then east, south,
    west, north, after the dummy in ``active[0]``; returns their number plus one."""
    n = state.shape[0]
    count = 1  # after the dummy
    for i in range(n):
        if state[i] != Z_:
            continue
        e, s, w, nn = _east(i, width, mask), _south(i, width, n), _west(i, width, mask), _north(i, width, n)
        if state[e] == S_:
            count = _add(2 * i, active, where, count)
        if state[s] == S_:
            count = _add(2 * i + 1, active, where, count)
        if state[w] == S_:
            count = _add(2 * w, active, where, count)
        if state[nn] == S_:
            count = _add(2 * nn + 1, active, where, count)
    return count


@njit_bare
def _run(state, width, p_bite, active, where, count, st):
    """Steps until no active bond is left (``count`` 1: the dummy alone); returns (bites, kills).

    Only bonds that are active are ever looked up or dropped: their states say which (after a
    bite the new zombie's bonds to S become active and those to Z stop being so; after a kill the
    removed zombie's bonds to S stop), so ``where`` is read only where it holds a position and
    needs no filling.
    """
    n = state.shape[0]
    mask = width - 1 if width & (width - 1) == 0 else -1
    r0, r1, r2, r3 = st[0], st[1], st[2], st[3]
    bites = 0
    kills = 0
    while count > 1:
        raw, r0, r1, r2, r3 = next_raw(r0, r1, r2, r3)
        b = active[1 + below(raw, count - 1)]
        i = b >> 1
        j = _south(i, width, n) if b & 1 else _east(i, width, mask)
        if state[i] == S_:
            s, z = i, j
        else:
            s, z = j, i
        u, r0, r1, r2, r3 = uniform(r0, r1, r2, r3)
        if u < p_bite:
            state[s] = Z_
            bites += 1
            e, so, w, no = (
                _east(s, width, mask),
                _south(s, width, n),
                _west(s, width, mask),
                _north(s, width, n),
            )
            # The new zombie's bonds: to S they become active, to Z they stop being so.
            count = _after_bite(state[e], 2 * s, active, where, count)
            count = _after_bite(state[so], 2 * s + 1, active, where, count)
            count = _after_bite(state[w], 2 * w, active, where, count)
            count = _after_bite(state[no], 2 * no + 1, active, where, count)
        else:
            state[z] = R_
            kills += 1
            e, so, w, no = (
                _east(z, width, mask),
                _south(z, width, n),
                _west(z, width, mask),
                _north(z, width, n),
            )
            # The removed zombie's bonds to S stop being active.
            count = _drop_if(state[e] == S_, 2 * z, active, where, count)
            count = _drop_if(state[so] == S_, 2 * z + 1, active, where, count)
            count = _drop_if(state[w] == S_, 2 * w, active, where, count)
            count = _drop_if(state[no] == S_, 2 * no + 1, active, where, count)
    st[0], st[1], st[2], st[3] = r0, r1, r2, r3
    return bites, kills


@njit
def run_bond(state, alpha, gen):
    """Run one outbreak on ``state`` ((height, width) int8 of S/Z/R, changed in place) to the end.

    Returns (bites, kills, steps). Every site that ends Z or R was reached by the zombies except
    the removed ones that started R. Draws come from an inline xoshiro256+ seeded from ``gen``
    (:mod:`hyosan.xoshiro`).
    """
    height, width = state.shape
    n = height * width
    flat = state.reshape(n)  # a view: the caller's array changes
    # active[0] holds a dummy bond (id 2n, at 0), the active bonds follow; ``count`` includes the
    # dummy, so the branch-free updates (_drop_if) always find an entry before ``count``.
    active = np.empty(2 * n + 1, dtype=np.int32)
    where = np.empty(2 * n + 1, dtype=np.int32)  # read only where a bond is active: never filled
    active[0] = 2 * n
    where[2 * n] = 0
    mask = width - 1 if width & (width - 1) == 0 else -1
    count = _seed_bonds(flat, width, mask, active, where)
    st = seed(gen)
    bites, kills = _run(flat, width, 1.0 / (1.0 + alpha), active, where, count, st)
    return bites, kills, bites + kills


def line_outbreak(width: int, alpha: float, gen: np.random.Generator, aspect: int = ASPECT) -> np.ndarray:
    """One run on a periodic lattice ``aspect * width`` rows by ``width`` columns, seeded by a full
    row of zombies (row 0); returns the final states as a (rows, width) int8 array."""
    if width < 4 or aspect < 1:
        raise HyosanError(f"must be at least 4 wide, got {width}", source="bond lattice", field="width")
    if 2 * aspect * width * width >= 2**31:
        raise HyosanError(f"{width} is too wide (bond ids are 32-bit)", source="bond lattice", field="width")
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
