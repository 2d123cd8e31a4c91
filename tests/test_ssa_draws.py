"""The exact SSA's own draws (an inline xoshiro256+ and a ziggurat for the waits, hyosan.xoshiro):
the waits and the choice of reaction have exactly the distributions of Gillespie's direct method.

Each test compares the SSA with a distribution known in closed form or computed exactly, so a
bias in the waits (the ziggurat's tables), in the reaction's choice, or in the seeding would fail.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from hyosan import models
from hyosan.compartmental.simulate import run_generators
from hyosan.jit import njit
from hyosan.models import Param, Reaction, ReactionNetwork, Species
from hyosan.xoshiro import exponential, seed


def pooled(observed: np.ndarray, expected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bins expecting more than 5 counts, and the others pooled into one (when they expect any)."""
    keep = expected > 5
    obs, exp = observed[keep], expected[keep]
    if expected[~keep].sum() > 0:
        obs, exp = np.append(obs, observed[~keep].sum()), np.append(exp, expected[~keep].sum())
    return obs, exp


def decay(x0: int, t_end: float) -> ReactionNetwork:
    return ReactionNetwork(
        name="decay",
        title="Zombies fall apart",
        source="test",
        time_unit="days",
        species=(Species("Z", str(x0), "zombies"),),
        params=(Param("k", 1.0, "1/day", "decay"),),
        reactions=(Reaction("decay", {"Z": 1}, {"Z": -1}, "k"),),
        t_end=t_end,
    )


def test_waits_give_the_binomial_of_independent_exponential_lifetimes():
    """Z -> 0 at rate k per zombie: Z(t) is Binomial(Z0, exp(-k t)) at every t."""
    z0, runs = 40, 4000
    r = decay(z0, 2.0).simulate("ssa", runs=runs, seed=5, n_points=5)
    for k, t in enumerate(r.times):
        if t == 0:
            continue
        observed = np.bincount(r.values[:, k, 0], minlength=z0 + 1)
        expected = stats.binom.pmf(np.arange(z0 + 1), z0, math.exp(-t)) * runs
        obs, exp = pooled(observed, expected)
        assert stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue > 1e-3, (t, obs, exp)


def test_the_exponential_draws_are_standard_exponential():
    @njit
    def draws(gen, n):
        s0, s1, s2, s3 = seed(gen)
        out = np.empty(n)
        for i in range(n):
            out[i], s0, s1, s2, s3 = exponential(s0, s1, s2, s3)
        return out

    x = draws(np.random.default_rng(3), 400_000)
    assert stats.kstest(x, "expon").pvalue > 1e-3
    assert abs(x.mean() - 1) < 5 * 1 / math.sqrt(x.size)
    # The tail beyond the ziggurat's base layer (r = 7.7) is drawn too, at its rate.
    tail = (x > 7.69711747013104972).sum()
    assert stats.poisson.cdf(tail, x.size * math.exp(-7.69711747013104972)) > 1e-4
    assert stats.poisson.sf(tail - 1, x.size * math.exp(-7.69711747013104972)) > 1e-4


def szr_final_humans(n: int, z0: int, alpha: float) -> np.ndarray:
    """Exact distribution of the humans left when Alemi's SZR ends (no S or no Z), from the jump
    chain: each step is a bite with probability 1 / (1 + alpha), whatever the counts."""
    bite = 1 / (1 + alpha)
    s0 = n - z0
    # p[s, z]: probability of passing through (s, z); z <= z0 + (s0 - s).
    p = np.zeros((s0 + 1, n + 1))
    p[s0, z0] = 1.0
    final = np.zeros(s0 + 1)
    for s in range(s0, -1, -1):
        for z in range(n, -1, -1):
            q = p[s, z]
            if q == 0:
                continue
            if s == 0 or z == 0:
                final[s] += q
                continue
            p[s - 1, z + 1] += q * bite
            p[s, z - 1] += q * (1 - bite)
    return final


def test_reaction_choice_gives_the_exact_final_size_distribution():
    n, z0, alpha, runs = 30, 2, 0.8, 6000
    m = models.get("alemi")
    r = m.simulate("ssa", params={"N": n, "Z0": z0, "alpha": alpha}, runs=runs, seed=9, n_points=2, t_end=1e6)
    s = r.species.index("S")
    expected = szr_final_humans(n, z0, alpha) * runs
    observed = np.bincount(r.values[:, -1, s], minlength=expected.size)
    obs, exp = pooled(observed, expected)
    assert stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue > 1e-3


def test_streams_differ_by_run_and_repeat_by_seed():
    gens = run_generators(4, 2)
    a = [seed(g) for g in gens]
    again = [seed(g) for g in run_generators(4, 2)]
    np.testing.assert_array_equal(a, again)
    assert not np.array_equal(a[0], a[1])
    # A second seeding of the same generator draws a fresh stream.
    assert not np.array_equal(seed(gens[0]), a[0])
