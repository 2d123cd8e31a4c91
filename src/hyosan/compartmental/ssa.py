"""Exact stochastic simulation: Gillespie's direct method, compiled with numba.

The kernel works on integer counts and on the arrays of :class:`~.network.Compiled`, draws
from a NumPy ``Generator`` passed in (no global random state), samples the state on a given time
grid (right-continuous: the value at ``t`` includes every event at times ``<= t``), and applies
scheduled strikes exactly (the process is memoryless, so waiting times are redrawn after a strike).
"""

from __future__ import annotations

import math

import numpy as np

from hyosan.jit import njit, njit_inline


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
    """
    n_r, n_s = stoich.shape
    x = x0.copy()
    out = np.empty((grid.shape[0], n_s), dtype=np.int64)
    a = np.empty(n_r)
    t = 0.0
    t_end = grid[-1]
    t_last = 0.0
    gi = 0
    si = 0
    fired = 0
    n_strikes = s_times.shape[0]
    # The next scheduled stop: a strike, or the end of the grid.
    t_stop = min(s_times[0], t_end) if n_strikes else t_end
    while fired < max_steps:
        a0 = propensities(x, reactants, offsets, rates, a)
        t_new = t + gen.standard_exponential() / a0 if a0 > 0.0 else math.inf
        if t_new >= t_stop:
            if si >= n_strikes or s_times[si] > t_end:
                break
            # A strike comes first; the process is memoryless, so the wait is redrawn after.
            gi = record_until(out, grid, gi, s_times[si], x)
            t = s_times[si]
            strike(x, si, s_species, s_fractions, s_to, s_const, s_coef, gen)
            si += 1
            t_stop = min(s_times[si], t_end) if si < n_strikes else t_end
            continue
        if grid[gi] < t_new:
            gi = record_until(out, grid, gi, t_new, x)
        target = gen.random() * a0
        j = 0
        cumulative = a[0]
        while cumulative <= target and j < n_r - 1:
            j += 1
            cumulative += a[j]
        # Guard against round-off picking a reaction whose propensity is zero.
        while a[j] == 0.0 and j > 0:
            j -= 1
        for s in range(n_s):
            x[s] += stoich[j, s]
        t = t_new
        t_last = t_new
        fired += 1
    while gi < grid.shape[0]:
        out[gi, :] = x
        gi += 1
    return out, fired, t_last
