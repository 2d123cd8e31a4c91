"""Exact SSA and tau-leaping: agreement with the ODE and with each other, seeds, invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from hyosan import models
from hyosan.compartmental.simulate import run_generators
from hyosan.compartmental.tau import tau_leap


def mean_field_gap(n: int, runs: int) -> float:
    """Largest gap between the SSA ensemble mean of Z/N and the ODE's, over the time grid."""
    m = models.get("alemi")
    params = {"N": n, "Z0": max(1, n // 20), "alpha": 0.5}
    ode = m.simulate("ode", params=params, t_end=30, n_points=61)
    ssa = m.simulate("ssa", params=params, t_end=30, n_points=61, runs=runs, seed=11)
    z = ssa.species.index("Z")
    mean = ssa.values[:, :, z].mean(axis=0)
    return float(np.max(np.abs(mean - ode.values[0, :, z])) / n)


def test_ssa_mean_approaches_ode_as_population_grows():
    small, large = mean_field_gap(100, 300), mean_field_gap(20_000, 60)
    assert large < 0.01
    assert large < small / 3


def test_tau_leap_agrees_with_ssa_in_distribution():
    m = models.get("alemi")
    params = {"N": 100_000, "Z0": 100, "alpha": 0.5}
    kw = {"params": params, "t_end": 12, "n_points": 13, "runs": 300}
    ssa = m.simulate("ssa", seed=1, **kw)
    tau = m.simulate("tau", seed=2, **kw)
    z = ssa.species.index("Z")
    for k in (6, 9, 12):  # during the outbreak and at its end
        result = stats.ks_2samp(ssa.values[:, k, z], tau.values[:, k, z])
        assert result.pvalue > 0.01, (k, result)
    mid_ssa, mid_tau = ssa.values[:, 9, z], tau.values[:, 9, z]
    assert mid_tau.mean() == pytest.approx(mid_ssa.mean(), rel=0.02)
    assert mid_tau.std() == pytest.approx(mid_ssa.std(), rel=0.25)


def test_tau_leap_leaps():
    """At large N the tau-leaper takes far fewer steps than reactions."""
    m = models.get("alemi")
    net = m.compile(m.resolve({"N": 1e6, "Z0": 1000, "alpha": 0.5}), 100.0)
    grid = np.linspace(0, 100, 3)
    x0 = np.rint(net.x0).astype(np.int64)
    arrays = (net.stoich, net.reactants, net.offsets, net.rates, grid, net.strike_times)
    more = (net.strike_species, net.strike_fractions, net.strike_to)
    out, fired, leaps = tau_leap(x0, *arrays, *more, 0.03, 10, run_generators(0, 1)[0])
    assert fired > 1_000_000
    assert leaps < fired / 100
    assert out[-1, 0] == 0  # humans gone, as alpha < 1


@pytest.mark.parametrize("method", ["ssa", "tau"])
def test_same_seed_same_runs_other_seed_other_runs(method):
    m = models.get("munz-basic")
    a = m.simulate(method, runs=4, seed=7, t_end=10)
    b = m.simulate(method, runs=4, seed=7, t_end=10)
    c = m.simulate(method, runs=4, seed=8, t_end=10)
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)
    # Runs within one ensemble differ from each other (independent streams).
    assert not np.array_equal(a.values[0], a.values[1])


def test_runs_are_independent_of_the_ensemble_size():
    """Run k has the same stream whether 3 or 6 runs are asked for (SeedSequence.spawn)."""
    m = models.get("alemi")
    three = m.simulate("ssa", runs=3, seed=4)
    six = m.simulate("ssa", runs=6, seed=4)
    np.testing.assert_array_equal(three.values, six.values[:3])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(models.names()),
    method=st.sampled_from(["ssa", "tau"]),
    scale=st.floats(0.1, 20.0),
    n=st.integers(5, 3000),
    seed=st.integers(0, 2**31),
)
def test_counts_never_negative_and_integral(name, method, scale, n, seed):
    m = models.get(name)
    rates = {p.name: p.default * scale for p in m.params if p.name not in ("N", "Z0", "k", "T")}
    r = m.simulate(method, params={**rates, "N": n}, runs=2, seed=seed, n_points=21)
    assert r.values.dtype == np.int64
    assert (r.values >= 0).all()


def test_ssa_impulsive_fourth_strike_leaves_no_zombies():
    r = models.get("munz-impulsive").simulate("ssa", runs=20, seed=2, t_end=10, n_points=5)
    z = r.species.index("Z")
    assert (r.values[:, -1, z] == 0).all()  # t = 10: just after the fourth strike
    r = models.get("munz-impulsive").simulate("tau", runs=20, seed=2, t_end=10, n_points=5)
    assert (r.values[:, -1, z] == 0).all()


def test_ensemble_statistics():
    r = models.get("alemi").simulate("ssa", runs=200, seed=9, params={"alpha": 0.5})
    # Early on every encounter is a bite (odds 1) or a kill (odds alpha): a random walk from one
    # zombie that hits zero with probability alpha (gambler's ruin), here 1/2.
    assert r.zombies_extinct_fraction == pytest.approx(0.5, abs=0.1)
    bands = r.bands()
    assert set(bands.species) == {"S", "Z", "R"}
    assert len(bands) == 3 * len(r.times)
    ordered = bands[["q05", "q25", "q50", "q75", "q95"]].to_numpy()
    assert (np.diff(ordered, axis=1) >= 0).all()
    stats_ = r.final_stats()
    assert stats_.loc["S", "mean"] == pytest.approx(r.final.S.mean())
    summary = r.summary()
    assert summary["runs"] == 200
    assert summary["zombies_extinct_fraction"] == r.zombies_extinct_fraction
    assert summary["final"]["Z"] == pytest.approx(r.final.Z.mean())
    tidy = r.trajectories
    assert list(tidy.columns) == ["run", "t", "S", "Z", "R"]
    assert len(tidy) == 200 * len(r.times)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(models.names()),
    scale=st.floats(0.1, 20.0),
    n=st.integers(5, 3000),
    epsilon=st.floats(0.01, 3.0),
    n_critical=st.sampled_from([0, 1, 2, 10]),
    seed=st.integers(0, 2**31),
)
def test_tau_leap_never_negative_over_its_controls(name, scale, n, epsilon, n_critical, seed):
    """Large epsilon and small n_critical make leaps that would overshoot: they must be rejected."""
    m = models.get(name)
    rates = {p.name: p.default * scale for p in m.params if p.name not in ("N", "Z0", "k", "T")}
    r = m.simulate(
        "tau", params={**rates, "N": n}, runs=3, seed=seed, n_points=11, epsilon=epsilon, n_critical=n_critical
    )
    assert (r.values >= 0).all()
    # ... and the counts still add up where no reaction creates or removes individuals.
    if name in ("alemi", "munz-basic") and rates.get("Pi", 0.0) == 0.0:
        assert (r.values.sum(axis=2) == r.values[:, :1].sum(axis=2)).all()


@pytest.mark.parametrize("method", ["ssa", "tau"])
def test_each_strike_removes_its_fraction_on_average(method):
    """Strikes at t = 2, 4, 6, 8 remove k n = 0.2, 0.4, 0.6, 0.8 of the zombies. With every rate
    at zero only strikes change Z, so the mean just after strike n is (1 - k n) times the mean just
    before, within 3 standard errors over 300 runs."""
    k, runs = 0.2, 300
    m = models.get("munz-impulsive")
    rates = dict.fromkeys(("beta", "alpha", "zeta", "delta"), 0.0)
    r = m.simulate(method, runs=runs, seed=5, t_end=9, n_points=10, params={**rates, "Z0": 400, "k": k, "T": 2})
    z = r.values[:, :, r.species.index("Z")].astype(float)
    assert np.allclose(r.times, np.arange(10))
    for n in (1, 2, 3, 4):
        before, after = z[:, 2 * n - 1], z[:, 2 * n + 1]  # t = 2n - 1 and 2n + 1
        d = after - (1 - k * n) * before
        se = d.std(ddof=1) / np.sqrt(runs)
        assert abs(d.mean()) < 3 * se + 1e-9, (n, after.mean(), before.mean())
        assert before.mean() > 20  # still zombies to strike


def test_zombies_extinct_fraction_counts_runs_where_humans_remain():
    """Runs ending with no zombies *and* humans left: not those where everyone is gone."""
    import dataclasses

    r = models.get("alemi").simulate("ssa", runs=3, seed=1, t_end=5)
    values = r.values.copy()
    s, z = r.species.index("S"), r.species.index("Z")
    values[:, -1, :] = 0
    values[1, -1, s] = 5  # humans left, no zombies: counts
    values[2, -1, z] = 7  # zombies left: does not
    assert dataclasses.replace(r, values=values).zombies_extinct_fraction == pytest.approx(1 / 3)


@pytest.mark.parametrize("method", ["ssa", "tau"])
def test_a_reaction_of_two_of_one_kind_needs_two(method):
    """Mass action for Z + Z counts pairs, Z (Z - 1): from an odd number, pairwise annihilation
    stops at exactly one zombie, which has nobody to meet."""
    from hyosan.models import Param, Reaction, ReactionNetwork, Species

    net = ReactionNetwork(
        name="pairs",
        title="Zombies destroy each other in pairs",
        source="test",
        time_unit="hours",
        species=(Species("Z", "7", "zombies"), Species("S", "1", "a lone human")),
        params=(Param("c", 1.0, "1/(zombie*hour)", "pair fights"),),
        reactions=(Reaction("fight", {"Z": 2}, {"Z": -2}, "c"),),
        t_end=50.0,
    )
    limit = {"max_steps": 1000} if method == "ssa" else {}  # three fights happen: no runaway
    r = net.simulate(method, runs=20, seed=3, n_points=6, **limit)
    assert (r.final["Z"] == 1).all()


def test_tau_leap_fires_the_right_critical_reaction():
    """While zombies are few, the kill (which uses up a zombie) is critical and fired one at a
    time; the bite is not. Picking the wrong one would turn early kills into bites: the gambler's
    ruin from one zombie (extinct with probability alpha = 1/2) tells."""
    r = models.get("alemi").simulate("tau", runs=300, seed=9, params={"alpha": 0.5})
    assert r.zombies_extinct_fraction == pytest.approx(0.5, abs=0.1)
