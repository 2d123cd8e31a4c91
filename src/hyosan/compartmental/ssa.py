"""Exact stochastic simulation: Gillespie's direct method, compiled with numba.

The kernel works on integer counts and on the arrays of :class:`~.network.Compiled`, draws
from a NumPy ``Generator`` passed in (no global random state), samples the state on a given time
grid (right-continuous: the value at ``t`` includes every event at times ``<= t``), and applies
scheduled strikes exactly (the process is memoryless, so waiting times are redrawn after a strike).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hyosan.jit import njit, njit_inline
from hyosan.xoshiro import exponential, seed, uniform

_U = numba.uint64
#: The hot loop runs without numba's reference counting (numba's private ``_nrt`` flag; the cache
#: still follows hyosan.jit's locator): it allocates nothing.
njit_bare = numba.njit(cache=True, _nrt=False, error_model="numpy")


@njit_inline
def propensities(x, reactants, offsets, rates, a):
    """Stochastic mass-action propensities into ``a``; returns their sum.

    Unrolled over the (at most three) reactant slots: the generic loop with a ``break`` costs
    the SSA about half its speed.
    """
    total = 0.0
    for j in range(rates.shape[0]):
        value = rates[j]
        s = reactants[j, 0]
        if s >= 0:
            value *= x[s]
            s = reactants[j, 1]
            if s >= 0:
                value *= x[s] - offsets[j, 1]
                s = reactants[j, 2]
                if s >= 0:
                    value *= x[s] - offsets[j, 2]
        if value < 0.0:
            value = 0.0
        a[j] = value
        total += value
    return total


@njit
def apply_strike(x, species, fraction, to, gen):
    """Remove Binomial(x, fraction) individuals of ``species`` (to ``to`` unless it is -1)."""
    n = x[species]
    if n <= 0:
        return
    removed = n if fraction >= 1.0 else gen.binomial(n, fraction)
    x[species] -= removed
    if to >= 0:
        x[to] += removed


@njit
def apply_resets(x, const, coef):
    """After a strike: x[s] = round(const[s] + coef[s] . x) for each s with a finite ``const``.

    All from the state just after the removal; never below zero.
    """
    n_s = x.shape[0]
    old = x.copy()
    for s in range(n_s):
        if math.isnan(const[s]):
            continue
        value = const[s]
        for k in range(n_s):
            value += coef[s, k] * old[k]
        x[s] = max(0, round(value))


@njit
def strike(x, si, s_species, s_fractions, s_to, s_const, s_coef, gen):
    """Strike ``si``: the removal, then its resets."""
    apply_strike(x, s_species[si], s_fractions[si], s_to[si], gen)
    apply_resets(x, s_const[si], s_coef[si])


@njit
def record_until(out, grid, gi, t, x):
    """Write ``x`` into every grid row with time < t; return the next grid index."""
    while gi < grid.shape[0] and grid[gi] < t:
        out[gi, :] = x
        gi += 1
    return gi


@njit_bare
def _react(x, a, out, grid, gi, t, t_stop, fired, max_steps, stoich, reactants, offsets, rates, st):
    """The hot loop: reactions from time ``t`` until the next one would come at or after
    ``t_stop`` (a strike or the grid's end), or ``max_steps`` have fired; the grid rows passed
    are written on the way. Returns (next grid row, time of the last reaction, reactions fired,
    True when the loop stopped at ``t_stop``: then the wait drawn past it is dropped, as the
    process is memoryless).

    What makes it fast (benchmarks/README.md has the figures): no numba reference counting (it
    allocates nothing; with counting, each array handed to the inlined helpers cost atomic
    operations in every iteration); the generator's state in registers and a ziggurat for the
    waits (:mod:`hyosan.xoshiro`); the reaction counted out without a branch; and no loop after
    the choice to step back over reactions of zero propensity (the draw is kept below the
    total instead, which is all that guard was for).
    """
    n_r, n_s = stoich.shape
    n_grid = grid.shape[0]
    r0, r1, r2, r3 = st[0], st[1], st[2], st[3]
    # The next grid time to record at: rows are written before the first reaction past them.
    t_rec = grid[gi] if gi < n_grid else math.inf
    stopped = False
    while fired < max_steps:
        a0 = propensities(x, reactants, offsets, rates, a)
        e, r0, r1, r2, r3 = exponential(r0, r1, r2, r3)
        t_new = t + e / a0 if a0 > 0.0 else math.inf
        if t_new >= t_stop:
            stopped = True
            break
        if t_rec < t_new:
            while gi < n_grid and grid[gi] < t_new:
                for s in range(n_s):
                    out[gi, s] = x[s]
                gi += 1
            t_rec = grid[gi] if gi < n_grid else math.inf
        u, r0, r1, r2, r3 = uniform(r0, r1, r2, r3)
        target = u * a0
        if target >= a0:  # round-off (u * a0 rounded up to a0): stay below the total
            target = np.nextafter(a0, 0.0)
        # The first j whose cumulative propensity passes the target, counted without a branch
        # (which reaction fires cannot be predicted: a branch per reaction was mispredicted
        # about half the time). The partial sums are the ones ``propensities`` added up, in the
        # same order, so with target < a0 the reaction chosen never has a zero propensity.
        j = 0
        cumulative = 0.0
        for k in range(n_r - 1):
            cumulative += a[k]
            j += cumulative <= target
        for s in range(n_s):
            x[s] += stoich[j, s]
        t = t_new
        fired += 1
    st[0], st[1], st[2], st[3] = r0, r1, r2, r3
    return gi, t, fired, stopped


@njit
def ssa_direct(
    x0,
    stoich,
    reactants,
    offsets,
    rates,
    grid,
    s_times,
    s_species,
    s_fractions,
    s_to,
    s_const,
    s_coef,
    max_steps,
    gen,
):
    """One exact trajectory on ``grid``; returns (states on grid, reactions fired, last event time).

    Stops at ``grid[-1]``, on absorption (no reaction possible and no strike left), or after
    ``max_steps`` reactions (then the remaining grid rows hold the last state).

    The waits (a ziggurat) and the choice of reaction draw from an inline xoshiro256+ seeded from
    ``gen`` (:mod:`hyosan.xoshiro`); ``gen`` itself draws the strikes' binomials.
    """
    n_r, n_s = stoich.shape
    x = x0.copy()
    out = np.empty((grid.shape[0], n_s), dtype=np.int64)
    a = np.empty(n_r)
    st = seed(gen)
    t = 0.0
    t_end = grid[-1]
    t_last = 0.0
    gi = 0
    si = 0
    fired = 0
    n_strikes = s_times.shape[0]
    while True:
        # The next scheduled stop: a strike, or the end of the grid.
        t_stop = min(s_times[si], t_end) if si < n_strikes else t_end
        before = fired
        gi, t, fired, stopped = _react(
            x, a, out, grid, gi, t, t_stop, fired, max_steps, stoich, reactants, offsets, rates, st
        )
        if fired > before:
            t_last = t
        if not stopped or si >= n_strikes or s_times[si] > t_end:
            break
        # A strike comes first; the wait is redrawn after it.
        gi = record_until(out, grid, gi, s_times[si], x)
        t = s_times[si]
        strike(x, si, s_species, s_fractions, s_to, s_const, s_coef, gen)
        si += 1
    while gi < grid.shape[0]:
        out[gi, :] = x
        gi += 1
    return out, fired, t_last
