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
        "sir",
        "seir",
        "munz-basic",
        "munz-latent",
        "munz-quarantine",
        "munz-treatment",
        "munz-impulsive",
        "munz-impulsive-reset",
        "alemi",
        "alemi-latent",
    ]
    for name in models.names():
        m = models.get(name)
        assert isinstance(m.source, str) and m.source and m.doc and m.time_unit
        assert m.source.startswith(("Kermack ", "Munz, ", "Alemi, ")), m.source
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


def test_munz_latent_collapse_is_228_times_later_and_its_default_t_end_shows_it():
    """docs/models.md: humans fall below 1 % of N at t = 1015 days, 228x the basic model's 4.46."""
    latent = models.get("munz-latent")
    assert latent.t_end == 1500
    default = latent.simulate("ode", n_points=150001)  # the default t_end, step 0.01 day
    assert final(default)["S"] < 0.01 * 500  # the collapse is on screen
    basic = models.get("munz-basic").simulate("ode", n_points=1001)  # its default t_end = 10
    t_basic = first_time_below(basic, "S", 5.0)
    t_latent = first_time_below(default, "S", 5.0)
    assert t_basic == pytest.approx(4.46, abs=0.01)
    assert t_latent == pytest.approx(1015, abs=1)
    assert t_latent / t_basic == pytest.approx(228, abs=1)


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


def test_munz_quarantine_eradication_holds_for_good_only_without_resurrection():
    """R0 < 1 eradicates over a horizon; with zeta > 0 the dead rise and humans are gone by 1e5."""
    m = models.get("munz-quarantine")
    quarantine = {"kappa": 0.05, "sigma": 0.05}
    short = m.simulate("ode", t_end=1000, params={**quarantine, "delta": 0})
    assert short.r0 == pytest.approx(0.17, abs=0.005)
    assert final(short)["I"] + final(short)["Z"] < 0.01  # gone at the horizon ...
    assert final(short)["S"] > 0.99 * 500
    assert m.defaults["zeta"] > 0
    long = final(m.simulate("ode", t_end=1e5, params=quarantine))
    assert long["S"] < 1e-3  # ... but the dead rise: doomsday by t = 1e5
    assert long["Z"] == pytest.approx(0.5, abs=0.01)
    long = final(m.simulate("ode", t_end=1e5, params={**quarantine, "delta": 0}))
    assert long["S"] < 1e-3  # even with no natural deaths: killed zombies rise again
    # zeta = 0 (and no natural deaths): eradicated for good, humans intact at t = 1e5.
    good = final(m.simulate("ode", t_end=1e5, params={**quarantine, "zeta": 0, "delta": 0}))
    assert good["I"] + good["Z"] < 1e-6
    assert good["S"] > 0.99 * 500


def test_munz_treatment_coexistence_at_c_over_beta():
    m = models.get("munz-treatment")
    r = m.simulate("ode", t_end=20000, params={"Pi": 0, "delta": 0})
    end = final(r)
    c, beta = r.params["c"], r.params["beta"]
    assert end["S"] == pytest.approx(c / beta, rel=1e-4)
    assert end["Z"] > 1 and end["I"] > 1  # zombies persist beside the humans


def test_munz_impulsive_fourth_strike_leaves_no_zombies_then_they_rebound():
    m = models.get("munz-impulsive")
    assert m.defaults["k"] == 0.25 and m.defaults["T"] == 2.5 and m.defaults["N"] == 1000
    assert m.t_end == 12
    r = m.simulate("ode", n_points=481)  # step 0.025: every strike time is on the grid
    tr = r.trajectory
    z = dict(zip(tr.t.round(6), tr.Z, strict=True))
    for strike in (2.5, 5.0, 7.5):
        assert z[strike] > 0  # fractions 0.25, 0.5, 0.75 leave some
    assert z[10.0] == 0.0  # k n = 1 at the fourth
    # The dead (R) still rise at rate zeta: the zombies come back (docs: Z(12) = 1.33).
    assert z[12.0] == pytest.approx(1.33, abs=0.005)
    assert (np.diff(tr.Z.to_numpy()[tr.t.to_numpy() >= 10.0]) > 0).all()


def test_munz_impulsive_reset_is_the_papers_eradication():
    """Strikes that also clear the dead (R = 0, S = N - Z) end the outbreak: no rebound."""
    m = models.get("munz-impulsive-reset")
    assert m.defaults == models.get("munz-impulsive").defaults
    r = m.simulate("ode", n_points=481)
    tr = r.trajectory.set_index(r.trajectory.t.round(6))
    for strike in (2.5, 5.0, 7.5, 10.0):
        assert tr.loc[strike, "R"] == 0.0
        assert tr.loc[strike, "S"] == pytest.approx(1000 - tr.loc[strike, "Z"], abs=1e-9)
    assert tr.loc[10.0, "Z"] == 0.0
    assert tr.loc[12.0, "Z"] < 0.01  # docs: Z < 0.01 at t = 12 (only natural deaths feed R)
    # Strikes are scheduled strictly before t_end: none at the final instant.
    net = m.compile(m.resolve(), 10.0)
    np.testing.assert_array_equal(net.strike_times, [2.5, 5.0, 7.5])
    assert np.isnan(net.reset_const[0]).tolist() == [False, True, False]  # S and R reset, Z kept
    np.testing.assert_array_equal(net.reset_coef[0, 0], [0.0, -1.0, 0.0])  # S = N - Z


def test_strike_final_state_is_never_a_strike_instant():
    """t_end = 10 is a strike time: the run ends just before it (Z > 0), in every solver."""
    m = models.get("munz-impulsive")
    r = m.simulate("ode", t_end=10.0, n_points=401)
    assert final(r)["Z"] == pytest.approx(0.975, abs=0.005)  # the state just before the 4th strike
    assert r.times[-1] == 10.0


def test_strike_resets_must_be_linear():
    from hyosan.models import Param, Reaction, ReactionNetwork, Species, Strike

    net = ReactionNetwork(
        name="bad",
        title="bad",
        source="test",
        time_unit="days",
        species=(Species("S", "10", "s"), Species("Z", "1", "z")),
        params=(Param("T", 1.0, "days", "period"),),
        reactions=(Reaction("bite", {"S": 1, "Z": 1}, {"S": -1, "Z": 1}, "0.1"),),
        strikes=(Strike("Z", "T", "0.5", None, "", resets=(("S", "S * Z"),)),),
    )
    with pytest.raises(ValueError, match="not linear"):
        net.compile(net.resolve(), 5.0)


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


def test_readme_stop_example_stops_after_the_start():
    """README: `hyosan model alemi --set alpha=2 --set Z0=5 --stop "Z<1"` ends at t = 1.62."""
    r = models.get("alemi").simulate("ode", params={"alpha": 2.0, "Z0": 5}, stop=["Z<1"])
    assert r.stopped_by == "Z<1"
    assert r.times[-1] == pytest.approx(1.62, abs=0.01)
    assert final(r)["S"] == pytest.approx(991, abs=1)


def test_stop_condition_true_at_start_is_refused():
    from hyosan.errors import HyosanError

    with pytest.raises(HyosanError, match="already holds at t = 0"):
        models.get("alemi").simulate("ode", params={"alpha": 2.0, "Z0": 5}, stop=["Z<10"])
    with pytest.raises(HyosanError, match="already holds at t = 0"):
        models.get("alemi").simulate("ode", stop=["S>10"])


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
    assert "Source: ReactionNetwork(" not in markdown()
    for name in models.names():
        assert f"Source: {models.get(name).source}. Time unit" in markdown()
