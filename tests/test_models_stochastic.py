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
from hyosan.models import Param, Reaction, ReactionNetwork, Species


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
    more = (net.strike_species, net.strike_fractions, net.strike_to, net.reset_const, net.reset_coef)
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
    for method in ("ssa", "tau"):
        r = models.get("munz-impulsive").simulate(method, runs=20, seed=2, n_points=13)
        z = r.species.index("Z")
        assert r.times[10] == 10.0
        assert (r.values[:, 10, z] == 0).all()  # t = 10: just after the fourth strike


def test_ssa_impulsive_zombies_rebound_and_extinction_is_read_before_strikes():
    """docs/models.md: about a quarter of SSA runs have zombies again at t = 12; the extinct
    fraction is read at t_end, never at a strike instant (t_end = 30 is one: it read 1.0)."""
    m = models.get("munz-impulsive")
    r = m.simulate("ssa", runs=400, seed=1, n_points=13)
    z, s = r.species.index("Z"), r.species.index("S")
    back = (r.values[:, -1, z] > 0).mean()
    assert 0.17 < back < 0.33  # 2 standard errors of 0.25 over 400 runs is 0.043
    assert r.zombies_extinct_fraction == pytest.approx(1 - back)
    long = m.simulate("ssa", runs=400, seed=1, t_end=30.0, n_points=13)
    assert long.times[-1] == 30.0
    last = long.values[:, -1]
    assert long.zombies_extinct_fraction == ((last[:, z] == 0) & (last[:, s] > 0)).mean()
    assert long.zombies_extinct_fraction < 0.5  # strikes stop nothing for good: the dead rise
    # The paper's reset clears the dead: under 4 % of runs have zombies at t = 12 (natural
    # deaths alone feed the dead), a few per cent by t = 30.
    reset = models.get("munz-impulsive-reset")
    assert reset.simulate("ssa", runs=400, seed=1, n_points=13).zombies_extinct_fraction > 0.96
    assert reset.simulate("tau", runs=400, seed=1, n_points=13).zombies_extinct_fraction > 0.96
    late = reset.simulate("ssa", runs=400, seed=1, t_end=30.0, n_points=13).zombies_extinct_fraction
    assert 0.96 <= late <= 0.995  # docs: about 2 %


def test_ssa_strike_resets_apply_to_counts():
    r = models.get("munz-impulsive-reset").simulate("ssa", runs=50, seed=4, n_points=481)
    at = {round(t, 6): k for k, t in enumerate(r.times)}
    s, z, rr = (r.species.index(x) for x in "SZR")
    for strike in (2.5, 5.0, 7.5, 10.0):
        k = at[strike]
        assert (r.values[:, k, rr] == 0).all()
        assert (r.values[:, k, s] == 1000 - r.values[:, k, z]).all()


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


def _two_outcome_result():
    """Four hand-made runs of an SZR: three die out (Z = 0, S left), one takes off."""
    from hyosan.compartmental.result import ModelResult

    times = np.array([0.0, 1.0, 2.0])
    values = np.zeros((4, 3, 3), dtype=np.int64)
    for r in range(3):  # S, Z, R: the zombie is killed at once
        values[r] = [[9, 1, 0], [9, 0, 1], [9, 0, 1]]
    values[3] = [[9, 1, 0], [5, 5, 0], [0, 9, 1]]
    return ModelResult(
        model="alemi",
        method="ssa",
        params={},
        t_end=2.0,
        seed=0,
        species=("S", "Z", "R"),
        humans="S",
        zombies="Z",
        times=times,
        values=values,
    )


def test_conditional_bands_split_runs_by_outcome():
    r = _two_outcome_result()
    np.testing.assert_array_equal(r.zombies_extinct, [True, True, True, False])
    assert r.zombies_extinct_fraction == 0.75 and r.two_outcomes
    cb = r.conditional_bands()
    took = cb[(cb.outcome == "took off") & (cb.species == "Z")]
    assert (took.runs == 1).all()
    for q in ("q05", "q50", "q95", "mean"):
        np.testing.assert_array_equal(took[q], [1, 5, 9])  # the one run that took off
    died = cb[(cb.outcome == "died out") & (cb.species == "Z")]
    assert (died.runs == 3).all()
    np.testing.assert_array_equal(died.q50, [1, 0, 0])
    # The plain median mixes both outcomes and lies flat at 0 after the start.
    np.testing.assert_array_equal(r.bands().query("species == 'Z'").q50, [1, 0, 0])


def test_two_outcome_plot_draws_take_off_bands_and_states_the_extinct_fraction():
    r = _two_outcome_result()
    fig = r.plot()
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "zombies died out in 75% of runs; thin lines: sample runs (died out: dashed)" in labels
    median = next(
        line for line in ax.get_lines() if line.get_label() == "Z (median of the runs that took off)"
    )
    np.testing.assert_array_equal(median.get_ydata(), [1, 5, 9])
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 3 * 3  # three sample runs that died out, one line per species
    single = _two_outcome_result()
    single.values = single.values[[3, 3]]  # every run took off: plain bands, the fraction still said
    labels = [t.get_text() for t in single.plot().axes[0].get_legend().get_texts()]
    assert "Z (median)" in labels and "zombies died out in 0% of runs" in labels


def test_alemi_near_one_has_two_outcomes_and_conditional_bands_show_the_outbreak():
    """alpha = 0.75: about 75 % of runs die out (gambler's ruin), so the plain median of Z is
    flat at 0, while the runs that took off reach Z = Z0 + (1 - alpha) S0 = 250 (mean field)."""
    r = models.get("alemi").simulate("ssa", runs=200, seed=3, params={"alpha": 0.75}, n_points=101)
    assert r.zombies_extinct_fraction == pytest.approx(0.75, abs=0.07)
    assert r.two_outcomes
    k = int(np.searchsorted(r.times, 50.0))
    z = r.bands().query("species == 'Z'").q50.to_numpy()
    assert z[k] == 0
    cb = r.conditional_bands().query("species == 'Z' and outcome == 'took off'")
    assert cb.q50.to_numpy()[k] == pytest.approx(250, rel=0.15)
    labels = [t.get_text() for t in r.plot().axes[0].get_legend().get_texts()]
    assert any(f"zombies died out in {r.zombies_extinct_fraction:.0%} of runs" in x for x in labels)


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
        "tau",
        params={**rates, "N": n},
        runs=3,
        seed=seed,
        n_points=11,
        epsilon=epsilon,
        n_critical=n_critical,
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
    r = m.simulate(
        method, runs=runs, seed=5, t_end=9, n_points=10, params={**rates, "Z0": 400, "k": k, "T": 2}
    )
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


def _one_zombie_among_a_million() -> ReactionNetwork:
    """A million humans born and dying at the same rate (non-critical, so the leaps are long) and
    one zombie, destroyed on meeting a human at rate c S: that kill is critical (it would use up
    the last zombie) and, at about once a day, rare beside two million births and deaths a day."""
    return ReactionNetwork(
        name="one-zombie",
        title="One zombie among a million humans",
        source="test",
        time_unit="days",
        species=(Species("S", "1e6", "humans"), Species("Z", "1", "one zombie")),
        params=(
            Param("b", 1.0, "1/day", "births and natural deaths per human"),
            Param("c", 1e-6, "1/(human*day)", "the zombie destroyed by a human"),
        ),
        reactions=(
            Reaction("birth", {"S": 1}, {"S": 1}, "b"),
            Reaction("death", {"S": 1}, {"S": -1}, "b"),
            Reaction("kill", {"S": 1, "Z": 1}, {"Z": -1}, "c"),
        ),
        t_end=20.0,
    )


def test_tau_leap_fires_the_right_critical_reaction_between_large_leaps():
    """With one zombie the kill is the only critical reaction; it fires at rate c S = 1/day (S
    stays within 0.2 % of 1e6 over a day), so the zombie is gone by day 1 in 1 - e^-1 = 63.2 % of
    runs (binomial SE 2.4 % over 400 runs: within 3 SE) and by day 20 in all (each survives with
    e^-20). The leaper really leaps there: a handful of leaps for some 40 million reactions, each
    leap ending when the critical reaction's exact waiting time comes first. Picking the one
    critical reaction among the non-critical ones instead would fire a birth, never the kill."""
    net = _one_zombie_among_a_million()
    compiled = net.compile({"b": 1.0, "c": 1e-6}, 20.0)
    grid = np.linspace(0.0, 20.0, 21)
    x0 = np.rint(compiled.x0).astype(np.int64)
    arrays = (compiled.stoich, compiled.reactants, compiled.offsets, compiled.rates, grid)
    more = (compiled.strike_times, compiled.strike_species, compiled.strike_fractions)
    resets = (compiled.strike_to, compiled.reset_const, compiled.reset_coef)
    out, fired, leaps = tau_leap(x0, *arrays, *more, *resets, 0.01, 10, run_generators(1, 1)[0])
    assert fired > 10_000_000 and leaps < 100, (fired, leaps)
    assert out[-1, 1] == 0

    runs = 400
    r = net.simulate("tau", runs=runs, seed=12, n_points=21)
    assert np.allclose(r.times, np.arange(21))
    gone = r.values[:, :, r.species.index("Z")] == 0
    p = 1 - np.exp(-1.0)
    se = np.sqrt(p * (1 - p) / runs)
    assert abs(gone[:, 1].mean() - p) < 3 * se, gone[:, 1].mean()
    assert gone[:, -1].all()
