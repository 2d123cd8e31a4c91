"""The published results of Munz et al. (2009) and Alemi et al. (2015), from the ODE solver."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyosan import models


def final(result) -> dict[str, float]:
    return result.final.iloc[0].to_dict()


def first_time_below(result, species: str, threshold: float) -> float:
    tr = result.trajectory
    below = tr[species].to_numpy() < threshold
    assert below.any(), f"{species} never fell below {threshold}"
    return float(tr.t.to_numpy()[np.argmax(below)])


def test_catalogue_lists_every_model_with_docs():
    assert models.names() == [
        "munz-basic",
        "munz-latent",
        "munz-quarantine",
        "munz-treatment",
        "munz-impulsive",
        "alemi",
        "alemi-latent",
    ]
    for name in models.names():
        m = models.get(name)
        assert m.source and m.doc and m.time_unit
        assert all(p.unit and p.doc for p in m.params)
        assert len(m.equations()) == len(m.species)


def test_munz_basic_defaults_zombies_win():
    m = models.get("munz-basic")
    assert m.defaults == {
        "Pi": 0.0,
        "beta": 0.0095,
        "alpha": 0.005,
        "zeta": 0.0001,
        "delta": 0.0001,
        "N": 500.0,
        "Z0": 1.0,
    }
    end = final(m.simulate("ode", t_end=30))
    assert end["S"] < 1e-3
    assert end["Z"] > 200


def test_munz_basic_conserves_population_without_births():
    tr = models.get("munz-basic").simulate("ode", t_end=30).trajectory
    total = tr[["S", "Z", "R"]].sum(axis=1)
    np.testing.assert_allclose(total, 501.0, rtol=1e-6)


def test_munz_basic_conserves_population_stochastically():
    r = models.get("munz-basic").simulate("ssa", runs=5, seed=3, t_end=30)
    totals = r.values.sum(axis=2)
    assert (totals == 501).all()


def test_munz_basic_disease_free_equilibrium_is_unstable():
    m = models.get("munz-basic")
    params = m.resolve({"Pi": 0, "delta": 0})
    net = m.compile(params, 1.0)
    dfe = np.array([params["N"], 0.0, 0.0])
    np.testing.assert_allclose(net.rhs(dfe), 0.0)  # it is an equilibrium ...
    eigenvalues = np.linalg.eigvals(net.jacobian(dfe))
    assert eigenvalues.real.max() > 0  # ... and an unstable one
    # Munz's characteristic polynomial: -lambda (lambda^2 + (zeta - (beta - alpha) N) lambda - beta zeta N)
    b, a, z, n = params["beta"], params["alpha"], params["zeta"], params["N"]
    expected = sorted([0.0, *np.roots([1.0, z - (b - a) * n, -b * z * n]).real])
    np.testing.assert_allclose(sorted(eigenvalues.real), expected, atol=1e-9)


def test_munz_latent_zombies_win_later_than_basic():
    basic = models.get("munz-basic").simulate("ode", t_end=2000, n_points=20001)
    latent = models.get("munz-latent").simulate("ode", t_end=2000, n_points=20001)
    assert final(latent)["S"] < 1e-3 and final(latent)["Z"] > 200
    assert first_time_below(latent, "S", 250) > 10 * first_time_below(basic, "S", 250)
    assert first_time_below(latent, "S", 1) > first_time_below(basic, "S", 1)


def test_munz_quarantine_r0_formula():
    m = models.get("munz-quarantine")
    p = m.resolve({"kappa": 0.02, "sigma": 0.01})
    expected = p["beta"] * p["N"] * p["rho"] / ((p["rho"] + p["kappa"]) * (p["alpha"] * p["N"] + p["sigma"]))
    assert m.simulate("ode", params={"kappa": 0.02, "sigma": 0.01}).r0 == pytest.approx(expected)


@settings(max_examples=40, deadline=None)
@given(
    kappa=st.floats(0.0, 0.05),
    sigma=st.floats(0.0, 0.5),
    rho=st.floats(0.001, 0.05),
    beta=st.floats(0.001, 0.02),
)
def test_munz_quarantine_r0_is_the_stability_threshold(kappa, sigma, rho, beta):
    """R0 < 1 exactly when the disease-free equilibrium is stable (no births, deaths, resurrection)."""
    m = models.get("munz-quarantine")
    p = m.resolve({"kappa": kappa, "sigma": sigma, "rho": rho, "beta": beta, "delta": 0, "zeta": 0})
    r0 = m.r0_value(p)
    if abs(r0 - 1) < 1e-3:
        return
    net = m.compile(p, 1.0)
    dfe = np.array([p["N"], 0, 0, 0, 0], dtype=float)
    jac = net.jacobian(dfe)
    infected = [1, 2]  # I and Z: the linearised infection subsystem
    growth = np.linalg.eigvals(jac[np.ix_(infected, infected)]).real.max()
    assert (growth > 0) == (r0 > 1)


def test_munz_quarantine_eradicates_when_r0_below_one():
    m = models.get("munz-quarantine")
    r = m.simulate("ode", t_end=1000, params={"kappa": 0.05, "sigma": 0.05, "delta": 0})
    assert r.r0 < 1
    end = final(r)
    assert end["I"] + end["Z"] < 0.01
    assert end["S"] > 0.99 * 500


def test_munz_quarantine_does_not_eradicate_when_r0_above_one():
    m = models.get("munz-quarantine")
    r = m.simulate("ode", t_end=5000)
    assert r.r0 > 1
    end = final(r)
    assert end["S"] < 1
    assert end["Z"] > 100


def test_munz_treatment_coexistence_at_c_over_beta():
    m = models.get("munz-treatment")
    r = m.simulate("ode", t_end=20000, params={"Pi": 0, "delta": 0})
    end = final(r)
    c, beta = r.params["c"], r.params["beta"]
    assert end["S"] == pytest.approx(c / beta, rel=1e-4)
    assert end["Z"] > 1 and end["I"] > 1  # zombies persist beside the humans


def test_munz_impulsive_fourth_strike_leaves_no_zombies():
    m = models.get("munz-impulsive")
    assert m.defaults["k"] == 0.25 and m.defaults["T"] == 2.5 and m.defaults["N"] == 1000
    r = m.simulate("ode", t_end=10, n_points=401)
    tr = r.trajectory
    z = dict(zip(tr.t.round(6), tr.Z, strict=True))
    for strike in (2.5, 5.0, 7.5):
        assert z[strike] > 0  # fractions 0.25, 0.5, 0.75 leave some
    assert z[10.0] == 0.0  # k n = 1 at the fourth


def test_munz_impulsive_strikes_remove_fraction_k_n():
    m = models.get("munz-impulsive")
    r = m.simulate("ode", t_end=5.0, n_points=2001)
    tr = r.trajectory.set_index(r.trajectory.t.round(6))
    before = tr.loc[round(2.5 - 0.0025, 6), "Z"]
    after = tr.loc[2.5, "Z"]
    assert after == pytest.approx(0.75 * before, rel=0.01)


@pytest.mark.parametrize("alpha", [0.2, 0.5, 0.8])
def test_alemi_alpha_below_one_humans_vanish(alpha):
    r = models.get("alemi").simulate("ode", t_end=400, params={"alpha": alpha, "Z0": 5})
    end = final(r)
    s0, z0 = 995.0, 5.0
    assert end["S"] < 1e-3
    assert end["Z"] == pytest.approx(z0 + (1 - alpha) * s0, rel=1e-4)


@pytest.mark.parametrize("alpha", [1.5, 2.0, 4.0])
def test_alemi_alpha_above_one_humans_survive(alpha):
    r = models.get("alemi").simulate("ode", t_end=2000, params={"alpha": alpha, "Z0": 5})
    end = final(r)
    s0, z0 = 995.0, 5.0
    assert end["Z"] < 1e-3
    assert end["S"] == pytest.approx(s0 - z0 / (alpha - 1), rel=1e-4)


def test_alemi_latent_reaches_the_same_final_state():
    plain = final(models.get("alemi").simulate("ode", t_end=400, params={"alpha": 0.5}))
    latent = final(models.get("alemi-latent").simulate("ode", t_end=400, params={"alpha": 0.5}))
    assert latent["E"] < 1e-3
    assert latent["Z"] == pytest.approx(plain["Z"], rel=1e-3)


def test_stop_condition_ends_the_ode_early():
    r = models.get("alemi").simulate("ode", t_end=400, params={"alpha": 2.0, "Z0": 5}, stop=["Z<1"])
    assert r.stopped_by == "Z<1"
    assert r.times[-1] < 400
    assert final(r)["Z"] == pytest.approx(1.0, abs=1e-6)


def test_custom_model_needs_no_solver_code():
    """A user-declared model (logistic-free immigration-death) runs on all three solvers."""
    from hyosan.models import Param, Reaction, ReactionNetwork, Species

    net = ReactionNetwork(
        name="immigration-death",
        title="Zombies wander in and rot",
        source="test",
        time_unit="hours",
        species=(Species("Z", "0", "zombies"), Species("S", "1", "a lone human")),
        params=(Param("lam", 20.0, "1/hour", "arrivals"), Param("mu", 0.5, "1/hour", "decay")),
        reactions=(
            Reaction("arrive", {}, {"Z": +1}, "lam"),
            Reaction("rot", {"Z": 1}, {"Z": -1}, "mu"),
        ),
        t_end=40.0,
    )
    ode = net.simulate("ode")
    assert final(ode)["Z"] == pytest.approx(40.0, rel=1e-6)  # lam / mu
    ssa = net.simulate("ssa", runs=400, seed=5)
    z = ssa.final["Z"]
    # Stationary distribution is Poisson(lam / mu): mean = variance = 40.
    assert z.mean() == pytest.approx(40.0, abs=1.5)
    assert z.var() == pytest.approx(40.0, rel=0.2)
    tau = net.simulate("tau", runs=400, seed=5)
    assert tau.final["Z"].mean() == pytest.approx(40.0, abs=1.5)


def test_docs_catalogue_is_in_sync():
    from pathlib import Path

    from hyosan.compartmental.catalogue import markdown

    text = (Path(__file__).parents[1] / "docs" / "models.md").read_text(encoding="utf-8")
    start = text.index("-->\n", text.index("<!-- catalogue:start")) + 4
    end = text.index("<!-- catalogue:end -->")
    assert text[start:end] == markdown(), "regenerate docs/models.md's catalogue section"
