"""The lattice takes the outbreak's one set of parameters in physical units (docs/units.md,
docs/town.md): its cells' rates are what hyosan.units derives from them, equal to the compartment
model's for one cell; a town takes them from a school scenario or run; bad or mixed units are
refused in one line naming the file and the field."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from hyosan import models, units
from hyosan.cli import main
from hyosan.errors import HyosanError
from hyosan.lattice.model import SEZR
from hyosan.lattice.params import LatticeParams
from hyosan.lattice.scenario import load_town
from hyosan.populate import draw_incubation
from hyosan.scenario import load_scenario
from hyosan.scenario.rates import outbreak_of
from hyosan.scenario.resolved import resolved_toml
from hyosan.scenario.schema import IncubationConfig
from hyosan.scenario.timefmt import parse_duration


@pytest.mark.parametrize(
    "bite, kill, incubation, contact",
    [(0.5, 0.4, 43200.0, 3.6e-3), (0.693, 0.02, 360.0, 0.1), (2.0, 0.0, 7.5, 12.0), (0.1, 3.0, 1e6, 0.5)],
)
def test_cell_rates_are_what_units_derive(bite, kill, incubation, contact):
    """beta, kappa and the latent rate the kernels read are hyosan.units' projection of the same
    numbers (through alemi_rates with the contact share c = contact_s / 86400), and one cell of n
    people is then alemi-latent with the compartment models' own projection: beta_c / N = beta,
    alpha beta_c / N = kappa (alpha = k / b), eta = 1 / mean incubation."""
    p = LatticeParams(bite_rate=bite, kill_rate=kill, incubation_s=incubation, contact_s=contact, mu=0.3)
    k = SEZR.compile(p)
    beta_s, kappa_s = units.alemi_rates(kill, bite, contact / units.DAY_S)
    assert k.bite == pytest.approx(beta_s * 86400, rel=1e-12) == pytest.approx(contact * bite)
    assert k.kill == pytest.approx(kappa_s * 86400, rel=1e-12) == pytest.approx(contact * kill)
    assert k.turn == pytest.approx(86400 / incubation, rel=1e-12)
    assert (k.bite, k.kill, k.turn) == units.lattice_rates(bite, kill, incubation, contact)
    assert k.bite_across == pytest.approx(0.3 * k.bite) and k.kill_across == pytest.approx(0.3 * k.kill)
    n = 250
    comp = p.compartment(n)
    assert comp["alpha"] == pytest.approx(units.alpha(kill, bite))
    cell = models.get("alemi-latent")
    rates = {r.name: r.rate for r in cell.reactions}
    assert set(rates) >= {"bite", "kill"}
    assert comp["beta"] / comp["N"] == pytest.approx(k.bite)
    assert comp["alpha"] * comp["beta"] / comp["N"] == pytest.approx(k.kill)
    assert comp["eta"] == pytest.approx(k.turn)
    # Stated the papers' way (per day) and back.
    back = LatticeParams.per_day(k.bite, comp["alpha"], k.turn, bite_rate=bite)
    assert back.contact_s == pytest.approx(contact) and back.kill_rate == pytest.approx(kill)
    assert back.incubation_s == pytest.approx(incubation)


@pytest.mark.parametrize(
    "cfg",
    [
        IncubationConfig(distribution="lognormal", median="6min", sigma=1.6, min="5s", max="1h"),
        IncubationConfig(distribution="lognormal", median="2min", sigma=0.5, min="1min", max="3min"),
        IncubationConfig(distribution="exponential", median="10min", min="30s", max="20min"),
        IncubationConfig(distribution="uniform", min="1min", max="5min"),
        IncubationConfig(distribution="fixed", median="2h", max="1h"),
    ],
)
def test_mean_incubation_is_the_mean_the_school_draws(cfg):
    """The latent rate is one over the mean incubation: the mean of what the school draws (its own
    sampler, at a fine tick), within 4 standard errors."""
    ticks = draw_incubation(cfg, 400_000, 0.01, np.random.default_rng(4)) * 0.01
    expected = units.mean_incubation_s(
        cfg.distribution,
        *(units_of(cfg.median), cfg.sigma, units_of(cfg.min), units_of(cfg.max)),
    )
    assert abs(ticks.mean() - expected) <= 4 * ticks.std() / math.sqrt(ticks.size) + 0.01


def units_of(duration: str) -> float:
    return parse_duration(duration)


def test_a_town_takes_the_school_outbreak():
    """`outbreak.from = "hyosan-high"` (the built-in city) takes the school's bite rate, the mean
    kill rate of its people (students 0.02/s, adults more) and the mean incubation."""
    sc = load_scenario("hyosan-high").scenario
    school = outbreak_of(sc)
    assert school["bite_rate"] == pytest.approx(units.rate_of_chance(sc.zombies.bite_prob))
    strengths = [
        sc.roles[p.role].strength for p in sc.population for _ in range(p.count) if p.state == "human"
    ]
    strengths += [c.strength if c.strength is not None else sc.roles[c.role].strength for c in sc.characters]
    assert school["kill_rate"] == pytest.approx(np.mean(strengths))
    assert 0.02 < school["kill_rate"] < 0.08
    city = load_town("hyosan-city").params
    assert (city.bite_rate, city.kill_rate, city.incubation_s) == pytest.approx(
        (school["bite_rate"], school["kill_rate"], school["incubation_s"])
    )
    assert city.beta == pytest.approx(city.contact_s * school["bite_rate"])
    assert city.eta == pytest.approx(86400 / school["incubation_s"])


def _run_folder(path, **overrides):
    path.mkdir(parents=True)
    (path / "scenario.toml").write_text(resolved_toml(load_scenario("hyosan-high", overrides), 0))
    return path


def test_the_school_bite_rate_sets_the_town_beta(tmp_path):
    """Halve the school's bite rate and the town's beta halves (kappa, eta unchanged); a town file
    may name a school scenario file or run folder, relative to itself; its own values win."""
    slow = _run_folder(tmp_path / "slow", **{"zombies.bite_prob": str(-math.expm1(-0.25))})
    fast = _run_folder(tmp_path / "fast", **{"zombies.bite_prob": str(-math.expm1(-0.5))})
    a = load_town("hyosan-city", school=slow).params
    b = load_town("hyosan-city", school=fast).params
    assert a.bite_rate == pytest.approx(0.25) and b.bite_rate == pytest.approx(0.5)
    assert b.beta == pytest.approx(2 * a.beta) and a.beta == pytest.approx(0.1 * 0.25)
    assert (a.kappa, a.eta) == pytest.approx((b.kappa, b.eta))
    np.save(tmp_path / "grid.npy", np.full((3, 3), 20.0))
    town = tmp_path / "t.toml"
    town.write_text(
        '[town]\nlattice = "grid.npy"\n[outbreak]\nfrom = "slow"\ncontact_s = 2.0\nkill_rate = 0.1\n'
    )
    p = load_town(str(town)).params
    assert (p.bite_rate, p.kill_rate, p.contact_s) == pytest.approx((0.25, 0.1, 2.0))
    assert p.beta == pytest.approx(0.5) and p.incubation_s == pytest.approx(a.incubation_s)
    assert load_town(str(town), {"bite_rate": "1.0"}).params.beta == pytest.approx(2.0)
    assert load_town(str(town), school=fast).params.beta == pytest.approx(1.0)


def test_town_command_from_a_school_run_uses_its_outbreak(tmp_path):
    """`hyosan town hyosan-city --from RUN`: the run's bite rate (changed here) is the town's."""
    folder = _run_folder(tmp_path / "school", **{"zombies.bite_prob": str(-math.expm1(-0.3))})
    pd.DataFrame({"time_s": [60.0], "kind": ["escape"], "a": [0]}).to_parquet(folder / "events.parquet")
    pd.DataFrame({"agent": [0], "name": ["Kim"], "bitten_s": [30.0]}).to_parquet(folder / "agents.parquet")
    (folder / "summary.json").write_text("{}")
    out = tmp_path / "town"
    main(["town", "hyosan-city", "--from", str(folder), "--days", "0.1", "--no-report", "--out", str(out)])
    params = json.loads((out / "summary.json").read_text())["params"]
    assert params["bite_rate"] == pytest.approx(0.3) and params["beta"] == pytest.approx(0.03)


BAD = [
    ("[outbreak]\nbite_rate = 0.5\nbite_prob = 0.3\n", "outbreak.bite_prob", "not both"),
    ('[outbreak]\nincubation = "6 parsecs"\n', "outbreak.incubation", "not a duration"),
    ('[outbreak]\nincubation_s = "6min"\n', "outbreak.incubation_s", "not a number"),
    ('[outbreak]\nkill_rate = "0.1/s"\n', "outbreak.kill_rate", "not a number"),
    ("[outbreak]\nkill_rate = -0.1\n", "outbreak.kill_rate", ">= 0"),
    ("[outbreak]\nbite_prob = 1.5\n", "outbreak.bite_prob", "chance"),
    ("[outbreak]\nbeta = 0.05\n", "outbreak.beta", "per-day rates are not taken"),
    ("[outbreak]\nmu = 0.3\n", "outbreak.mu", "unknown key"),
    ("[coupling]\nkill_rate = 0.3\n", "coupling.kill_rate", "unknown key"),
    ("[params]\nbeta = 0.05\nalpha = 0.3\n", "params", "physical units"),
    ('[outbreak]\nfrom = "no-such-school"\n', "outbreak.from", "no such school"),
]


@pytest.mark.parametrize("text, field, words", BAD)
def test_bad_or_mixed_units_are_refused_naming_file_and_field(tmp_path, capsys, text, field, words):
    path = tmp_path / "bad.toml"
    np.save(tmp_path / "grid.npy", np.full((2, 2), 5.0))
    path.write_text('[town]\nlattice = "grid.npy"\n' + text)
    with pytest.raises(HyosanError) as err:
        load_town(str(path))
    message = str(err.value)
    assert "\n" not in message and words in message and field in message
    assert message.startswith(str(path)) or "outbreak.from" in message
    with pytest.raises(SystemExit) as bad:
        main(["town", str(path), "--days", "0.1", "--no-report", "--out", str(tmp_path / "o")])
    assert bad.value.code == 2
    out = capsys.readouterr().err
    assert out.count("\n") == 1 and field in out and "Traceback" not in out
    assert not (tmp_path / "o").exists()


def test_an_outbreak_that_is_not_a_table_is_refused(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('outbreak = 0.5\n[town]\nlattice = "hyosan-city"\n')
    with pytest.raises(HyosanError, match="must be a table") as err:
        load_town(str(path))
    assert err.value.field == "outbreak"


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("beta", "0.05", "per-day"),
        ("alpha", "0.3", "kill_rate / bite_rate"),
        ("outbreak.incubation", "2 weeks", "not a duration"),
    ],
)
def test_bad_overrides_are_refused(key, value, words):
    with pytest.raises(HyosanError, match=words) as err:
        load_town("hyosan-city", {key: value})
    assert err.value.source == "--set" and key.split(".")[-1] in (err.value.field or "")
