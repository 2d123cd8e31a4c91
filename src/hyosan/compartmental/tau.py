"""Tau-leaping for very large populations, compiled with numba; counts never go negative.

Implements the adaptive, non-negative scheme of Cao, Gillespie and Petzold (J. Chem. Phys. 124,
044109, 2006): the leap ``tau`` bounds the expected relative change of every reactant species by
``epsilon``; reactions within ``n_critical`` firings of exhausting a reactant are *critical* and
fire at most once per leap, exactly; a leap that would still make a count negative is halved and
retried; when the leap would be shorter than a few exact steps, the kernel takes exact SSA steps.
"""

from __future__ import annotations

import math

import numpy as np

from hyosan.compartmental.ssa import propensities, record_until, strike
from hyosan.jit import njit

#: Exact steps taken in a row when leaping does not pay (Cao et al. suggest 100).
SSA_BURST = 100


@njit
def _leap_size(x, stoich, reactants, offsets, a, critical, epsilon):
    """Cao-Gillespie-Petzold tau over the non-critical reactions (inf when none moves)."""
    n_r, n_s = stoich.shape
    tau = math.inf
    for i in range(n_s):
        # g_i: the highest order of a reaction that consumes species i (HOR), with the
        # correction for reactions needing several copies of i.
        g = 0.0
        is_reactant = False
        for j in range(n_r):
            order = 0
            copies = 0
            for slot in range(reactants.shape[1]):
                s = reactants[j, slot]
                if s < 0:
                    break
                order += 1
                if s == i:
                    copies += 1
            if copies == 0:
                continue
            is_reactant = True
            gij = float(order)
            for m in range(1, copies):
                if x[i] - m > 0:
                    gij += m / (x[i] - m)
            if gij > g:
                g = gij
        if not is_reactant:
            continue
        mu = 0.0
        sigma2 = 0.0
        for j in range(n_r):
            if critical[j]:
                continue
            v = stoich[j, i]
            mu += v * a[j]
            sigma2 += v * v * a[j]
        bound = max(epsilon * x[i] / g, 1.0)
        if mu != 0.0:
            tau = min(tau, bound / abs(mu))
        if sigma2 > 0.0:
            tau = min(tau, bound * bound / sigma2)
    return tau


@njit
def tau_leap(
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
    epsilon,
    n_critical,
    gen,
):
    """One tau-leaping trajectory on ``grid``; returns (states on grid, reactions fired, leaps)."""
    n_r, n_s = stoich.shape
    x = x0.copy()
    trial = np.empty(n_s, dtype=np.int64)
    fires = np.zeros(n_r, dtype=np.int64)
    out = np.empty((grid.shape[0], n_s), dtype=np.int64)
    a = np.empty(n_r)
    critical = np.zeros(n_r, dtype=np.bool_)
    t = 0.0
    t_end = grid[-1]
    gi = 0
    si = 0
    fired = 0
    leaps = 0
    n_strikes = s_times.shape[0]
    while t < t_end:
        # The state at a record time holds every firing up to it: a leap never passes a record
        # (nor a strike, nor the end), so records are exact snapshots of the trajectory.
        while gi < grid.shape[0] and grid[gi] <= t:
            out[gi, :] = x
            gi += 1
        t_stop = min(t_end, s_times[si] if si < n_strikes else math.inf)
        if gi < grid.shape[0]:
            t_stop = min(t_stop, grid[gi])
        a0 = propensities(x, reactants, offsets, rates, a)
        if a0 <= 0.0:
            # Nothing can happen before the next strike (or the end).
            gi = record_until(out, grid, gi, t_stop, x)
            t = t_stop
            if si < n_strikes and s_times[si] <= t:
                strike(x, si, s_species, s_fractions, s_to, s_const, s_coef, gen)
                si += 1
            continue
        # Critical reactions: fewer than n_critical firings from exhausting a reactant.
        a0_crit = 0.0
        for j in range(n_r):
            critical[j] = False
            if a[j] <= 0.0:
                continue
            for s in range(n_s):
                v = stoich[j, s]
                if v < 0 and x[s] // (-v) < n_critical:
                    critical[j] = True
            if critical[j]:
                a0_crit += a[j]
        tau1 = _leap_size(x, stoich, reactants, offsets, a, critical, epsilon)
        if tau1 < 10.0 / a0:
            # Leaping does not pay: take exact steps (same algorithm as the SSA kernel).
            for _ in range(SSA_BURST):
                t_new = t - math.log(1.0 - gen.random()) / a0
                if t_new >= t_stop:
                    break
                gi = record_until(out, grid, gi, t_new, x)
                target = gen.random() * a0
                j = 0
                cumulative = a[0]
                while cumulative <= target and j < n_r - 1:
                    j += 1
                    cumulative += a[j]
                while a[j] == 0.0 and j > 0:
                    j -= 1
                for s in range(n_s):
                    x[s] += stoich[j, s]
                t = t_new
                fired += 1
                a0 = propensities(x, reactants, offsets, rates, a)
                if a0 <= 0.0:
                    break
            else:
                continue
            # Broke out: the next strike (or the end) comes first, or nothing can happen.
            gi = record_until(out, grid, gi, t_stop, x)
            t = t_stop
            if si < n_strikes and s_times[si] <= t:
                strike(x, si, s_species, s_fractions, s_to, s_const, s_coef, gen)
                si += 1
            continue
        while True:
            tau2 = -math.log(1.0 - gen.random()) / a0_crit if a0_crit > 0.0 else math.inf
            tau = min(tau1, tau2)
            fire_critical = tau2 <= tau1
            if t + tau >= t_stop:
                tau = t_stop - t
                fire_critical = False
            for s in range(n_s):
                trial[s] = x[s]
            total = 0
            for j in range(n_r):
                if critical[j] or a[j] <= 0.0:
                    fires[j] = 0
                else:
                    fires[j] = gen.poisson(a[j] * tau)
            if fire_critical:
                target = gen.random() * a0_crit
                cumulative = 0.0
                for j in range(n_r):
                    if critical[j]:
                        cumulative += a[j]
                        if cumulative > target:
                            fires[j] += 1
                            break
            negative = False
            for j in range(n_r):
                if fires[j] == 0:
                    continue
                total += fires[j]
                for s in range(n_s):
                    trial[s] += fires[j] * stoich[j, s]
            for s in range(n_s):
                if trial[s] < 0:
                    negative = True
            if not negative:
                break
            tau1 = tau1 / 2.0
        t_new = t + tau
        gi = record_until(out, grid, gi, t_new, x)
        for s in range(n_s):
            x[s] = trial[s]
        t = t_new
        fired += total
        leaps += 1
        if si < n_strikes and s_times[si] <= t:
            strike(x, si, s_species, s_fractions, s_to, s_const, s_coef, gen)
            si += 1
    while gi < grid.shape[0]:
        out[gi, :] = x
        gi += 1
    return out, fired, leaps
