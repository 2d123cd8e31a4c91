"""hyosan/lattice/params.py by hand: the physical units, their per-day projection, the inverse
projections, and every refusal naming its source and field. Fast and exact: scripts/mutation.py
runs these against every mutant of lattice/params.py."""

from __future__ import annotations

import math

import pytest

from hyosan.errors import HyosanError
from hyosan.lattice.params import UNITS, LatticeParams, clean_values, replace_checked


def test_the_defaults_are_alemi_s_zombietown_stated_in_physical_units():
    p = LatticeParams()
    assert (p.bite_rate, p.kill_rate, p.incubation_s, p.contact_s, p.mu, p.move_s, p.move_z) == (
        0.5,
        0.4,
        43200.0,
        3.6e-3,
        0.1,
        0.0,
        0.0,
    )
    # beta = 3.6e-3 s/day x 0.5/s = 1.8e-3 per pair per day; alpha 0.8; eta 86400 / 43200 = 2
    assert p.beta == pytest.approx(1.8e-3, rel=1e-12)
    assert p.kappa == pytest.approx(1.44e-3, rel=1e-12)
    assert p.alpha == pytest.approx(0.8, rel=1e-12)
    assert p.eta == pytest.approx(2.0, rel=1e-12)
    assert p.rates == (pytest.approx(1.8e-3), pytest.approx(1.44e-3), pytest.approx(2.0))


def test_as_dict_holds_the_parameters_and_their_projections():
    d = LatticeParams(bite_rate=0.25, kill_rate=0.5, incubation_s=3600.0, contact_s=0.02).as_dict()
    assert d["bite_rate"] == 0.25 and d["kill_rate"] == 0.5 and d["contact_s"] == 0.02
    assert d["beta"] == pytest.approx(0.005)
    assert d["kappa"] == pytest.approx(0.01)
    assert d["alpha"] == pytest.approx(2.0)
    assert d["eta"] == pytest.approx(24.0)
    assert set(d) == {"bite_rate", "kill_rate", "incubation_s", "contact_s", "mu", "move_s", "move_z"} | {
        "beta",
        "kappa",
        "alpha",
        "eta",
    }
    assert set(UNITS) == set(d)


def test_an_endless_incubation_means_nobody_turns():
    p = LatticeParams(incubation_s=math.inf)
    assert p.eta == 0.0


def test_one_cell_as_the_compartment_model_and_back():
    p = LatticeParams(bite_rate=0.5, kill_rate=0.25, incubation_s=7200.0, contact_s=0.01)
    c = p.compartment(1000)
    # beta_c = beta * n = 0.005 * 1000; alpha = kappa / beta = 0.5; eta = 12; N = n
    assert c == {
        "beta": pytest.approx(5.0),
        "alpha": pytest.approx(0.5),
        "eta": pytest.approx(12.0),
        "N": 1000.0,
    }
    back = LatticeParams.from_compartment(c["beta"], c["alpha"], c["eta"], 1000, mu=0.3)
    assert back.bite_rate == pytest.approx(0.5)
    assert back.kill_rate == pytest.approx(0.25)
    assert back.incubation_s == pytest.approx(7200.0)
    assert back.contact_s == pytest.approx(0.01)
    assert back.mu == 0.3
    # a cell where nobody bites: alpha reported as 0
    assert LatticeParams(contact_s=0.0).compartment(10)["alpha"] == 0.0


def test_per_day_states_a_model_the_way_the_papers_do():
    p = LatticeParams.per_day(1.8e-3, 0.8, 2.0)
    assert p.bite_rate == 0.5
    assert p.kill_rate == pytest.approx(0.4)
    assert p.incubation_s == pytest.approx(43200.0)
    assert p.contact_s == pytest.approx(3.6e-3)
    q = LatticeParams.per_day(2e-3, 1.0, 0.0, bite_rate=0.25, move_s=1.5)
    assert q.incubation_s == math.inf
    assert q.contact_s == pytest.approx(8e-3)
    assert q.kill_rate == pytest.approx(0.25)
    assert q.move_s == 1.5
    with pytest.raises(HyosanError) as err:
        LatticeParams.per_day(1e-3, 1.0, 1.0, bite_rate=0.0)
    assert err.value.field == "bite_rate"
    with pytest.raises(HyosanError) as err:
        LatticeParams.from_compartment(1.0, 1.0, 1.0, 0)
    assert err.value.field == "N"


@pytest.mark.parametrize(
    "field, value",
    [
        ("bite_rate", -0.1),
        ("kill_rate", math.nan),
        ("contact_s", math.inf),
        ("mu", True),
        ("move_s", "1"),
        ("incubation_s", 0.0),
        ("incubation_s", -5.0),
        ("incubation_s", math.nan),
    ],
)
def test_bad_values_are_refused_naming_the_field(field, value):
    with pytest.raises(HyosanError) as err:
        LatticeParams(**{field: value})
    assert err.value.field == field
    assert err.value.source == "params"
    need = "a number of seconds > 0 (inf: never)" if field == "incubation_s" else "a finite number >= 0"
    assert f"must be {need}" in str(err.value)


def test_zero_is_allowed_where_it_means_none():
    p = LatticeParams(bite_rate=0.0, kill_rate=0.0, contact_s=0.0, mu=0.0)
    assert p.beta == 0.0 and p.alpha == math.inf


def test_clean_values_converts_bite_prob_and_incubation():
    out = clean_values({"bite_prob": 0.5, "incubation": "6min", "mu": "0.25", "move_z": 2}, "town.toml")
    assert out == {
        "bite_rate": pytest.approx(math.log(2.0)),
        "incubation_s": 360.0,
        "mu": 0.25,
        "move_z": 2.0,
    }
    assert clean_values({"incubation": "never"}, "t")["incubation_s"] == math.inf
    assert clean_values({"incubation": " INF "}, "t")["incubation_s"] == math.inf
    assert clean_values({"incubation": 90}, "t")["incubation_s"] == 90.0
    assert clean_values({"incubation_s": "120"}, "t")["incubation_s"] == 120.0
    assert clean_values({"bite_prob": 0.0}, "t")["bite_rate"] == 0.0


@pytest.mark.parametrize(
    "values, field, words",
    [
        ({"beta": 1.0}, "outbreak.beta", "per-day rates are not taken"),
        ({"alpha": 1.0}, "outbreak.alpha", "alpha = kill_rate / bite_rate"),
        ({"eta": 1.0}, "outbreak.eta", "86400 / incubation_s"),
        ({"kappa": 1.0}, "outbreak.kappa", "contact_s * kill_rate"),
        ({"bite_prob": 0.5, "bite_rate": 0.1}, "outbreak.bite_prob", "not both"),
        ({"bite_prob": 1.0}, "outbreak.bite_prob", "must be in [0, 1)"),
        ({"bite_prob": -0.1}, "outbreak.bite_prob", "must be in [0, 1)"),
        ({"bite_prob": True}, "outbreak.bite_prob", "not a number"),
        ({"incubation": "6min", "incubation_s": 5}, "outbreak.incubation", "not both"),
        ({"incubation": "soon"}, "outbreak.incubation", ""),
        ({"mu": "lots"}, "outbreak.mu", "not a number"),
        ({"mu": None}, "outbreak.mu", "not a number"),
        ({"speed": 1.0}, "outbreak.speed", "unknown lattice parameter (known: bite_prob, bite_rate"),
    ],
)
def test_clean_values_refuses_naming_source_and_prefixed_field(values, field, words):
    with pytest.raises(HyosanError) as err:
        clean_values(values, "town.toml", prefix="outbreak.")
    assert err.value.source == "town.toml"
    assert err.value.field == field
    assert words in str(err.value)


def test_with_and_replace_checked_name_the_file_and_the_field():
    p = LatticeParams().with_("cli", bite_prob=0.5, mu=0.2)
    assert p.bite_rate == pytest.approx(math.log(2.0)) and p.mu == 0.2
    q = replace_checked(LatticeParams(), {"contact_s": 0.5}, "town.toml", prefix="outbreak.")
    assert q.contact_s == 0.5
    with pytest.raises(HyosanError) as err:
        replace_checked(LatticeParams(), {"contact_s": -1}, "town.toml", prefix="outbreak.")
    assert err.value.source == "town.toml"
    assert err.value.field == "outbreak.contact_s"
    with pytest.raises(HyosanError) as err:
        LatticeParams().with_("--set", mu=-1)
    assert err.value.source == "--set" and err.value.field == "mu"
