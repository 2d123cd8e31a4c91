"""Tau-leaping when its leaps are cut short by a record time or a strike (issue 26).

A leap that would pass a record time or a strike is shortened to end there; its firings must then
be drawn for the shortened leap. Here records fall every 0.01 days (so nearly every leap is cut)
or every day, and strikes fall between records; in every case the tau-leaping runs must agree in
distribution with the exact SSA at each record and just after each strike.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hyosan import models

RUNS = 400
# Munz's impulsive strikes with an outbreak under way: T = 1.37 days puts the strikes at 1.37,
# 2.74, 4.11 (between the records at whole days, and off the 0.01-day grid too).
PARAMS = {"N": 2000, "Z0": 20, "k": 0.2, "T": 1.37, "beta": 0.0009, "alpha": 0.0004}


def _final(method: str, n_points: int, seed: int) -> np.ndarray:
    r = models.get("munz-impulsive").simulate(
        method, runs=RUNS, seed=seed, t_end=5.0, n_points=n_points, params=PARAMS
    )
    assert r.times[-1] == pytest.approx(5.0)
    # the state at whole days 1..5 (every 100th point of the dense grid)
    step = (n_points - 1) // 5
    return r.values[:, step::step, :].astype(float), r.species


@pytest.fixture(scope="module")
def exact():
    return _final("ssa", 6, seed=11)


@pytest.mark.parametrize("n_points", [6, 501])
def test_tau_with_leaps_cut_by_records_and_strikes_matches_the_exact_ssa(exact, n_points):
    ssa, species = exact
    tau, species_tau = _final("tau", n_points, seed=12)
    assert list(species) == list(species_tau)
    assert tau.shape == ssa.shape
    for d in range(ssa.shape[1]):  # days 1..5
        for s, name in enumerate(species):
            a, b = ssa[:, d, s], tau[:, d, s]
            if a.std() == 0 and b.std() == 0:
                assert a.mean() == b.mean(), (name, d + 1)
                continue
            # means within 4 standard errors of their difference, and the same distribution (KS)
            se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
            assert abs(a.mean() - b.mean()) < 4 * se + 0.5, (name, d + 1, a.mean(), b.mean())
            assert stats.ks_2samp(a, b).pvalue > 1e-4, (name, d + 1, a.mean(), b.mean())


def test_cut_leaps_still_move_the_outbreak():
    """The dense grid cuts nearly every leap: the outbreak must still move as much as with sparse
    records (a cut leap that fired nothing, or fired for the whole leap, would not)."""
    sparse, species = _final("tau", 6, seed=21)
    dense, _ = _final("tau", 501, seed=22)
    z = list(species).index("Z")
    s = list(species).index("S")
    assert sparse[:, 0, s].mean() < PARAMS["N"] - 5  # people were bitten by day 1
    for col in (s, z):
        a, b = sparse[:, -1, col], dense[:, -1, col]
        se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        assert abs(a.mean() - b.mean()) < 4 * se + 0.5


@pytest.mark.parametrize("method", ["ssa", "tau"])
@pytest.mark.parametrize("model", ["munz-basic", "munz-impulsive"])
def test_a_record_is_the_state_at_its_time_as_if_the_run_ended_there(method, model):
    """A record inside a run is an exact snapshot: the state at t = 2.6 recorded on the way to
    t = 5 is, draw for draw, the final state of the same run stopped at 2.6 (a leap that passed
    the record and recorded the state from before it would lag behind by up to a leap)."""
    params = {**PARAMS, "delta": 0.05, "N": 100_000, "Z0": 200}
    if model == "munz-basic":
        params = {k: v for k, v in params.items() if k not in ("k", "T")}
    m = models.get(model)
    whole = m.simulate(method, runs=8, seed=3, t_end=5.0, n_points=3, params=params)  # 0, 2.5, 5
    cut = m.simulate(method, runs=8, seed=3, t_end=2.5, n_points=2, params=params)  # 0, 2.5
    assert whole.times[1] == pytest.approx(2.5) and cut.times[-1] == pytest.approx(2.5)
    np.testing.assert_array_equal(whole.values[:, 1, :], cut.values[:, -1, :])
    assert (whole.values[:, 1, 0] < params["N"] - 1000).all()  # the outbreak had moved
