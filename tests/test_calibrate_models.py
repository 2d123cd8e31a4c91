"""The Kermack-McKendrick models of the catalogue (SIR, SEIR), checked against their analytic
results: the final-size relation r = 1 - exp(-R0 r), and the SEIR's early growth rate."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from hyosan import models


def final_size(r0: float) -> float:
    """The root in (0, 1) of r = 1 - exp(-R0 r) (R0 > 1)."""
    return brentq(lambda r: r - 1 + math.exp(-r0 * r), 1e-9, 1.0)


@pytest.mark.parametrize("r0", [1.5, 2.0, 4.0])
def test_sir_final_size_relation(r0):
    n = 1e7  # I0 / N -> 0: the relation is exact in that limit
    res = models.get("sir").simulate(
        "ode", params={"beta": r0 * 0.5, "gamma": 0.5, "N": n, "I0": 1}, t_end=400, n_points=401
    )
    end = res.trajectory.iloc[-1]
    assert end["I"] < 1e-3 * n  # the epidemic is over
    assert end["R"] / n == pytest.approx(final_size(r0), abs=2e-4)
    assert res.r0 == pytest.approx(r0)
    np.testing.assert_allclose(res.values.sum(axis=2), n, rtol=1e-9)  # S + I + R = N


def test_sir_below_threshold_no_epidemic():
    res = models.get("sir").simulate("ode", params={"beta": 0.4, "gamma": 0.5, "N": 1e5, "I0": 10}, t_end=200)
    assert res.trajectory["I"].max() <= 10 + 1e-9  # R0 = 0.8: I only falls
    assert res.trajectory.iloc[-1]["R"] < 60  # about I0 / (1 - R0) = 50 ever infected


def test_seir_same_final_size_whatever_the_latent_period():
    n, r0 = 1e7, 2.5
    for sigma in (0.2, 1.0, 5.0):
        res = models.get("seir").simulate(
            "ode", params={"beta": r0 * 0.4, "gamma": 0.4, "sigma": sigma, "N": n, "I0": 1}, t_end=800
        )
        end = res.trajectory.iloc[-1]
        assert end["R"] / n == pytest.approx(final_size(r0), abs=5e-4), sigma
        np.testing.assert_allclose(res.values[0].sum(axis=1), n, rtol=1e-9)


def test_seir_early_growth_rate():
    """While S ~ N, E and I grow as exp(lambda t), lambda the largest root of
    (lambda + sigma)(lambda + gamma) = sigma beta."""
    beta, gamma, sigma, n = 1.2, 0.3, 0.5, 1e12
    lam = (-(sigma + gamma) + math.sqrt((sigma - gamma) ** 2 + 4 * sigma * beta)) / 2
    res = models.get("seir").simulate(
        "ode", params={"beta": beta, "gamma": gamma, "sigma": sigma, "N": n, "I0": 1}, t_end=40, n_points=401
    )
    tr = res.trajectory
    late = tr[(tr.t >= 20) & (tr.t <= 40)]  # the transient has died out, S still ~ N
    slope = np.polyfit(late.t, np.log(late.I), 1)[0]
    assert slope == pytest.approx(lam, rel=1e-3)


def test_sir_ssa_mean_agrees_with_ode():
    params = {"beta": 1.66, "gamma": 0.45, "N": 763, "I0": 10}
    ode = models.get("sir").simulate("ode", params=params, t_end=14, n_points=15)
    ssa = models.get("sir").simulate("ssa", params=params, t_end=14, n_points=15, runs=200, seed=3)
    i = ssa.species.index("I")
    peak_ssa = ssa.values[:, :, i].mean(axis=0).max()
    peak_ode = ode.values[0, :, i].max()
    assert peak_ssa == pytest.approx(peak_ode, rel=0.08)
