"""Every rate conversion, exposure integral and derived parameter against a hand computation, at
ticks of 0.5, 1 and 2 s, and on populations that start with halfbies and bitten (issue 26).

These are the fast, exact tests that `scripts/mutation.py` runs against each mutant of
units.py, scenario/rates.py and outbreak.py: each number below is written out by hand from the
formula in docs/units.md, never by calling the function under test a second way.
"""

from __future__ import annotations

import math

import pytest

from conftest import scenario, walled_pairs
from hyosan import units
from hyosan.engine import Simulation
from hyosan.errors import HyosanError
from hyosan.scenario import rates
from hyosan.scenario.load import validate
from hyosan.states import State

TICKS = (0.5, 1.0, 2.0)


# -- units.py: the conversions -----------------------------------------------------------------
@pytest.mark.parametrize("p", [0.0, 0.1, 0.3935, 0.5, 0.9])
def test_a_chance_per_second_becomes_its_rate_and_back(p):
    rate = units.rate_of_chance(p)
    assert rate == pytest.approx(-math.log(1.0 - p), rel=1e-12, abs=1e-15)
    for dt in TICKS:
        # the chance within dt of an event of that rate: 1 - (1 - p)^dt
        assert units.chance_of_rate(rate, dt) == pytest.approx(1.0 - (1.0 - p) ** dt, rel=1e-12, abs=1e-15)


def test_a_certain_event_has_an_infinite_rate_and_a_chance_of_one_whatever_the_tick():
    assert units.rate_of_chance(1.0) == math.inf
    assert units.rate_of_chance(1.5) == math.inf
    for dt in TICKS:
        assert units.chance_of_rate(math.inf, dt) == 1.0
    assert units.chance_of_rate(0.0, 2.0) == 0.0


@pytest.mark.parametrize("dt", TICKS)
def test_the_chance_in_a_tick_is_the_continuous_race_at_every_tick(dt):
    # rate 0.2/s over dt: 1 - e^{-0.2 dt}; 0.5 s -> 0.0951626, 1 s -> 0.1812692, 2 s -> 0.3296800
    hand = {0.5: 0.09516258196404048, 1.0: 0.18126924692201818, 2.0: 0.3296799539643607}
    assert units.chance_of_rate(0.2, dt) == pytest.approx(hand[dt], rel=1e-12)
    # default tick is one second
    assert units.chance_of_rate(0.2) == pytest.approx(hand[1.0], rel=1e-12)


def test_alpha_is_kills_per_bite_and_inverts():
    assert units.alpha(0.05, 0.5) == pytest.approx(0.1)
    assert units.alpha(0.3, 0.2) == pytest.approx(1.5)
    assert units.alpha(0.3, 0.0) == math.inf
    assert units.kill_rate_for_alpha(1.5, 0.2) == pytest.approx(0.3)
    assert units.kill_rate_for_alpha(0.0, 0.2) == 0.0


def test_alemi_rates_are_contact_times_each_rate():
    beta, kappa = units.alemi_rates(kill_rate=0.05, bite_rate=0.5, contact_rate=2e-6)
    assert beta == pytest.approx(1e-6, rel=1e-12)
    assert kappa == pytest.approx(1e-7, rel=1e-12)


def test_lattice_rates_by_hand():
    # b = 0.5/s, k = 0.05/s, contact 864 s a day (1 % of the day), incubation 1 h
    beta, kappa, eta = units.lattice_rates(0.5, 0.05, 3600.0, 864.0)
    assert beta == pytest.approx(0.5 * 864.0, rel=1e-12)  # 432 bites per pair per day
    assert kappa == pytest.approx(0.05 * 864.0, rel=1e-12)  # 43.2
    assert eta == pytest.approx(24.0, rel=1e-12)  # 86400 / 3600
    assert units.lattice_rates(0.5, 0.05, 0.0, 864.0)[2] == 0.0
    assert units.lattice_rates(0.5, 0.05, math.inf, 864.0)[2] == 0.0


def test_mean_incubation_of_each_distribution_by_hand():
    m = units.mean_incubation_s
    assert m("uniform", 99.0, 1.0, 60.0, 180.0) == pytest.approx(120.0)
    assert m("fixed", 90.0, 1.0, 60.0, 180.0) == pytest.approx(90.0)
    assert m("fixed", 30.0, 1.0, 60.0, 180.0) == pytest.approx(60.0)  # clipped up
    assert m("fixed", 300.0, 1.0, 60.0, 180.0) == pytest.approx(180.0)  # clipped down
    assert m("lognormal", 90.0, 0.0, 60.0, 180.0) == pytest.approx(90.0)  # no spread: the median
    assert m("lognormal", 0.0, 1.0, 60.0, 180.0) == pytest.approx(60.0)
    # exponential of mean 100 clipped to [20, 300]: 20 + 100 (e^-0.2 - e^-3)
    assert m("exponential", 100.0, 0.0, 20.0, 300.0) == pytest.approx(
        20.0 + 100.0 * (math.exp(-0.2) - math.exp(-3.0)), rel=1e-12
    )
    # unbounded above: 20 + 100 e^-0.2
    assert m("exponential", 100.0, 0.0, 20.0, math.inf) == pytest.approx(20.0 + 100.0 * math.exp(-0.2))
    assert m("exponential", 0.0, 0.0, 20.0, 300.0) == pytest.approx(20.0)
    # lognormal unclipped: median e^{sigma^2 / 2}
    assert m("lognormal", 100.0, 0.5, 0.0, math.inf) == pytest.approx(100.0 * math.exp(0.125), rel=1e-9)
    with pytest.raises(ValueError, match="unknown incubation"):
        m("gamma", 100.0, 0.5, 0.0, 10.0)


def test_mean_incubation_of_a_clipped_lognormal_matches_numerical_integration():
    from scipy import integrate, stats

    median, sigma, lo, hi = 600.0, 0.8, 120.0, 1800.0
    dist = stats.lognorm(s=sigma, scale=median)
    inner, _ = integrate.quad(lambda x: x * dist.pdf(x), lo, hi)
    hand = lo * dist.cdf(lo) + hi * dist.sf(hi) + inner
    assert units.mean_incubation_s("lognormal", median, sigma, lo, hi) == pytest.approx(hand, rel=1e-7)


# -- scenario/rates.py: the outbreak read once --------------------------------------------------
RAW = {
    "scenario": {"name": "mixed"},
    "world": {"map": "map.txt"},
    "clock": {"start": "08:00", "duration": "10min"},
    "roles": {
        "student": {"adult": False, "strength": 0.02},
        "teacher": {"adult": True, "strength": 0.2},
    },
    "zombies": {"bite_prob": 0.5},
    "population": [
        {"role": "student", "count": 30, "state": "human", "areas": ["cells"], "groups": "none"},
        {"role": "teacher", "count": 10, "state": "human", "areas": ["cells"], "groups": "none"},
        {"role": "student", "count": 5, "state": "halfbie", "areas": ["cells"], "groups": "none"},
        {"role": "teacher", "count": 3, "state": "zombie", "areas": ["cells"], "groups": "none"},
    ],
    "characters": [{"name": "Kim Cheol-su", "role": "teacher", "strength": 0.5, "area": "cells"}],
}


def _sc(**over):
    raw = {**RAW, **over}
    return validate(raw, "mixed.toml")


def test_bite_rate_reads_bite_prob_as_a_chance_per_second_or_bite_rate_as_is():
    sc = _sc()
    assert rates.bite_rate(sc.zombies) == pytest.approx(math.log(2.0), rel=1e-12)
    sc2 = _sc(zombies={"bite_rate": 0.25})
    assert rates.bite_rate(sc2.zombies) == pytest.approx(0.25)


def test_kill_rates_weigh_only_the_starting_humans_not_halfbies_bitten_or_zombies():
    sc = _sc()
    by_role = {r: (n, k) for r, n, k in rates.human_kill_rates(sc)}
    # students: the 30 humans only (the 5 halfbies left out)
    assert by_role["student"] == (30, pytest.approx(0.02))
    # teachers: 10 humans at 0.2 and the pinned character at 0.5 (the 3 zombies left out)
    assert by_role["teacher"][0] == 11
    assert by_role["teacher"][1] == pytest.approx((10 * 0.2 + 0.5) / 11)
    # weighted by the 41 humans: (30 * 0.02 + 10 * 0.2 + 0.5) / 41
    assert rates.kill_rate(sc) == pytest.approx((0.6 + 2.0 + 0.5) / 41)


def test_kill_rates_add_up_groups_of_one_role_and_keep_a_role_of_one():
    """Two groups of human students (30 and 12) count as 42 students, their strengths summed, not
    the last group alone; a role with a single human (one teacher) is a role all the same."""
    sc = _sc(
        population=[
            {"role": "student", "count": 30, "state": "human", "areas": ["cells"], "groups": "none"},
            {"role": "student", "count": 12, "state": "human", "areas": ["cells"], "groups": "none"},
            {"role": "teacher", "count": 1, "state": "human", "areas": ["cells"], "groups": "none"},
            {"role": "student", "count": 4, "state": "halfbie", "areas": ["cells"], "groups": "none"},
        ],
        characters=[],
    )
    by_role = {r: (n, k) for r, n, k in rates.human_kill_rates(sc)}
    assert by_role == {"student": (42, pytest.approx(0.02)), "teacher": (1, pytest.approx(0.2))}
    assert rates.kill_rate(sc) == pytest.approx((42 * 0.02 + 0.2) / 43)


def test_kill_rate_with_nobody_human_is_the_roles_plain_mean():
    sc = _sc(
        population=[{"role": "student", "count": 3, "state": "zombie", "areas": ["cells"], "groups": "none"}],
        characters=[],
    )
    assert rates.human_kill_rates(sc) == []
    assert rates.kill_rate(sc) == pytest.approx((0.02 + 0.2) / 2)


def test_a_pinned_character_without_a_strength_takes_its_role_s():
    sc = _sc(characters=[{"name": "Lee Na-yeon", "role": "student", "area": "cells"}])
    by_role = {r: (n, k) for r, n, k in rates.human_kill_rates(sc)}
    assert by_role["student"] == (31, pytest.approx(0.02))
    assert by_role["teacher"] == (10, pytest.approx(0.2))


def test_mean_incubation_reads_the_scenario_durations():
    sc = _sc(infection={"incubation": {"distribution": "uniform", "min": "1min", "max": "3min"}})
    assert rates.mean_incubation(sc.infection.incubation) == pytest.approx(120.0)
    out = rates.outbreak_of(sc)
    assert out == {
        "bite_rate": pytest.approx(math.log(2.0)),
        "kill_rate": pytest.approx(3.1 / 41),
        "incubation_s": pytest.approx(120.0),
    }


# -- outbreak.py: starting counts, the exposure integral, the derivation -------------------------
def test_starting_counts_humans_with_characters_and_only_zombies_as_zombies():
    from hyosan.outbreak import starting

    # 30 + 10 humans + 1 character; halfbies and bitten are neither
    assert starting(_sc()) == (41, 3)


def _pairs(tmp_path, tick, minutes_pairs=12, **over):
    """Human-zombie pairs, each walled in its own two tiles: the zombie bites; nobody else meets."""
    sections = dict(
        clock={"start": "08:00", "duration": "10min", "tick": f"{tick}s", "frame_every": "10s"},
        population=[
            {
                "role": "student",
                "count": minutes_pairs,
                "state": "human",
                "areas": ["cells"],
                "groups": "none",
            },
            {
                "role": "student",
                "count": minutes_pairs,
                "state": "zombie",
                "areas": ["cells"],
                "groups": "none",
            },
        ],
        roles={"student": {"adult": False, "strength": 0.0}},
        zombies={"bite_rate": 0.0},
    )
    return scenario(tmp_path, walled_pairs(minutes_pairs), **{**sections, **over})


@pytest.mark.parametrize("tick", TICKS)
def test_the_exposure_integral_is_s_times_z_times_seconds_at_every_tick(tmp_path, tick):
    from hyosan.outbreak import measure_run

    # zombies that never bite and humans that never kill: S and Z stay 12 and 12, so the
    # integral of S Z dt over a window of 3 minutes is 12 * 12 * 180 pair-seconds at any tick
    loaded = _pairs(tmp_path, tick)
    sim = Simulation(loaded, seed=1)
    window = round(180 / tick)
    got = measure_run(sim, window)
    assert got.first_zombie_s == 0.0
    assert got.end_s == pytest.approx(180.0)
    assert got.exposure == pytest.approx(12 * 12 * 180.0, rel=1e-12)
    assert got.bites == 0 and got.kills == 0


@pytest.mark.parametrize("tick", (0.5, 2.0))
def test_the_exposure_integral_leaves_out_halfbies_present_at_the_start(tmp_path, tick):
    """12 humans, 12 zombies and 6 halfbies, none of whom bites or kills: the integral of S Z dt
    over 3 minutes is still 12 x 12 x 180 pair-seconds (a halfbie counted as a zombie gives
    12 x 18 x 180, as a human 18 x 12 x 180), and the halfbies' bites count for nobody."""
    from hyosan.outbreak import _zombie_agents, measure_run

    loaded = scenario(
        tmp_path,
        walled_pairs(15),
        clock={"start": "08:00", "duration": "10min", "tick": f"{tick}s", "frame_every": "10s"},
        population=[
            {"role": "student", "count": 12, "state": "human", "areas": ["cells"], "groups": "none"},
            {"role": "student", "count": 12, "state": "zombie", "areas": ["cells"], "groups": "none"},
            {"role": "student", "count": 6, "state": "halfbie", "areas": ["cells"], "groups": "none"},
        ],
        roles={"student": {"adult": False, "strength": 0.0}},
        zombies={"bite_rate": 0.0},
        halfbies={"bite_rate": 0.0, "strength": 0.0},
    )
    sim = Simulation(loaded, seed=2)
    start = sim.pop.state.copy()
    assert (start == State.HALFBIE).sum() == 6
    is_zombie = _zombie_agents(sim, start)
    assert is_zombie[start == State.ZOMBIE].all() and not is_zombie[start == State.HALFBIE].any()
    got = measure_run(sim, round(180 / tick))
    assert got.exposure == pytest.approx(12 * 12 * 180.0, rel=1e-12)
    assert got.bites == 0 and got.kills == 0


@pytest.mark.parametrize("tick", TICKS)
def test_the_school_kernels_get_rates_and_a_halfbie_strike_per_tick(tmp_path, tick):
    """docs/units.md: the kernels keep the bite rates per second (the contact kernel races them
    over the tick) and a friendly halfbie's strike of 0.3/s becomes its chance per tick
    1 - exp(-0.3 dt): 0.1393 at 0.5 s, 0.2592 at 1 s, 0.4512 at 2 s."""
    hand = {0.5: 0.13929202357494222, 1.0: 0.2591817793182821, 2.0: 0.4511883639059736}
    loaded = _pairs(tmp_path, tick, halfbies={"strength": 0.3, "bite_rate": 0.7}, zombies={"bite_prob": 0.5})
    prm = Simulation(loaded, seed=0).prm
    assert prm.tick_s == tick
    assert prm.hb_strength == pytest.approx(hand[tick], rel=1e-12)
    assert prm.z_bite == pytest.approx(math.log(2.0), rel=1e-12)  # a rate, whatever the tick
    assert prm.hb_bite == pytest.approx(0.7, rel=1e-12)


def test_measure_run_refuses_a_started_simulation(tmp_path):
    from hyosan.outbreak import measure_run

    sim = Simulation(_pairs(tmp_path, 1.0), seed=1)
    sim.step(1)
    with pytest.raises(ValueError, match="not started"):
        measure_run(sim, 10)


def test_the_derivation_by_hand(monkeypatch, tmp_path):
    """The derivation's arithmetic on a population with halfbies and bitten at the start, from a
    given contact measurement: every row by hand."""
    from hyosan import outbreak
    from hyosan.scenario.load import LoadedScenario

    (tmp_path / "map.txt").write_text(walled_pairs(4), encoding="utf-8")
    sc = validate(RAW, "mixed.toml")
    loaded = LoadedScenario(scenario=sc, source="mixed.toml", base_dir=tmp_path, name="mixed")
    measure = outbreak.ContactMeasure(
        bite_rate=math.log(2.0),
        minutes=30.0,
        seeds=(0, 1),
        bites=(30, 10),
        exposure=(1.0e6, 3.0e6),
        kills=(2, 2),
        first_zombie_s=(0.0, 0.0),
        window_s=(1800.0, 1800.0),
    )
    monkeypatch.setattr(outbreak, "measure_contacts", lambda *a, **k: measure)
    b = math.log(2.0)
    c = 40 / (b * 4.0e6)  # bites / (b x exposure)
    k = 3.1 / 41
    n = 41 + 3  # humans (with the character) + zombies; halfbies and bitten are not counted
    d = outbreak.derive("alemi", loaded)
    assert measure.rate == pytest.approx(c, rel=1e-12)
    assert d.params["beta"] == pytest.approx(c * b * n * 86400.0, rel=1e-12)
    assert d.params["alpha"] == pytest.approx(k / b, rel=1e-12)
    assert d.params["N"] == n
    assert d.params["Z0"] == 3
    assert d.t_end == pytest.approx(600.0 / 86400.0)
    rows = {r.name: r.value for r in d.rows}
    assert rows["kappa"] == pytest.approx(k / b * c * b * n * 86400.0, rel=1e-12)
    assert rows["kappa per pair"] == pytest.approx(c * k, rel=1e-12)
    assert rows["ABM kills per bite"] == pytest.approx(4 / 40)
    latent = outbreak.derive(
        "alemi-latent",
        LoadedScenario(
            scenario=validate(
                {**RAW, "infection": {"incubation": {"distribution": "fixed", "median": "10min"}}},
                "mixed.toml",
            ),
            source="mixed.toml",
            base_dir=tmp_path,
            name="mixed",
        ),
    )
    assert latent.params["eta"] == pytest.approx(86400.0 / 600.0, rel=1e-12)
    with pytest.raises(HyosanError, match="derives"):
        outbreak.derive("munz-basic", loaded)


def _derived(monkeypatch, tmp_path, raw, model="alemi", seeds=(0, 1), bites=(30, 10), exposure=(1e6, 3e6)):
    """``outbreak.derive`` on ``raw`` with a given contact measurement (no run)."""
    from hyosan import outbreak
    from hyosan.scenario.load import LoadedScenario

    (tmp_path / "map.txt").write_text(walled_pairs(4), encoding="utf-8")
    loaded = LoadedScenario(scenario=validate(raw, "m.toml"), source="m.toml", base_dir=tmp_path, name="m")
    measure = outbreak.ContactMeasure(
        bite_rate=rates.bite_rate(loaded.scenario.zombies),
        minutes=30.0,
        seeds=seeds,
        bites=bites,
        exposure=exposure,
        kills=(2,) * len(seeds),
        first_zombie_s=(0.0,) * len(seeds),
        window_s=(1800.0,) * len(seeds),
    )
    monkeypatch.setattr(outbreak, "measure_contacts", lambda *a, **k: measure)
    return outbreak.derive(model, loaded)


def test_the_derivation_table_says_where_each_number_comes_from(monkeypatch, tmp_path):
    """The table ``hyosan model alemi --from`` prints (docs/units.md): every row's name, unit and
    origin, on the population with halfbies; 40 bites over 4e6 pair-seconds at b = ln 2 give
    4.33e-05 and 4.81e-06 per seed."""
    d = _derived(monkeypatch, tmp_path, RAW)
    assert [(r.name, r.unit, r.source) for r in d.rows] == [
        ("b (bite)", "1/s of contact", "zombies.bite_prob (as -ln(1 - p))"),
        ("k students", "1/s of contact", "roles.student.strength, 30 at the start"),
        ("k teachers", "1/s of contact", "roles.teacher.strength, 11 at the start"),
        ("k (kill)", "1/s of contact", "the roles' kill rates weighted by their numbers"),
        (
            "c (contact)",
            "per pair",
            "measured: 40 zombie bites / (b x 4e+06 pair-s of S Z), seeds 0-1, 30 min after the first "
            "zombie (per seed: 4.33e-05, 4.81e-06)",
        ),
        ("beta per pair", "1/s", "c b (hyosan.units.alemi_rates)"),
        ("kappa per pair", "1/s", "c k"),
        ("alpha", "kills per bite", "k / b"),
        ("N", "people", "41 humans + 3 zombies at the start"),
        ("Z0", "zombies", "zombies at the start"),
        ("beta", "1/day", "beta per pair x N x 86400 s/day (the model's per-capita form)"),
        ("kappa", "1/day", "alpha beta"),
        ("ABM kills per bite", "(check)", "4 zombies destroyed / 40 bites in the window"),
    ]
    assert d.time_unit == "days" and d.scenario == "m.toml" and d.model == "alemi"
    assert d.contacts.bites == (30, 10)
    # one seed, a bite rate given as a rate, no zombie at the start, and the latent model
    raw = {
        **RAW,
        "zombies": {"bite_rate": 0.5},
        "population": [RAW["population"][0]],
        "roles": {**RAW["roles"], "teacher": {"adult": True, "strength": 0.2, "label": "staff"}},
        "infection": {"incubation": {"distribution": "fixed", "median": "10min"}},
    }
    d = _derived(monkeypatch, tmp_path, raw, "alemi-latent", seeds=(7,), bites=(5,), exposure=(2e6,))
    rows = {r.name: (r.unit, r.source) for r in d.rows}
    assert rows["b (bite)"] == ("1/s of contact", "zombies.bite_rate")
    assert rows["k staff"] == ("1/s of contact", "roles.teacher.strength, 1 at the start")
    assert rows["Z0"] == ("zombies", "none at the start: patient zero")
    assert rows["N"] == ("people", "31 humans + 0 zombies at the start")
    assert rows["c (contact)"][1] == (
        "measured: 5 zombie bites / (b x 2e+06 pair-s of S Z), seed 7, 30 min after the first zombie "
        "(per seed: 5e-06)"
    )
    assert rows["eta"] == ("1/day", "1 / mean incubation (600 s, infection.incubation clipped)")
    assert d.params["eta"] == pytest.approx(144.0) and d.params["Z0"] == 1.0 and d.params["N"] == 31.0
    assert d.t_end == pytest.approx(600.0 / 86400.0)


def test_the_measurement_and_the_derivation_as_json_by_hand(monkeypatch, tmp_path):
    """What ``--json`` writes: the contact measurement (a seed with no exposure has no rate: null;
    no first zombie: null) and the derivation, every key by hand."""
    from hyosan.outbreak import ContactMeasure

    m = ContactMeasure(
        bite_rate=0.5,
        minutes=20.0,
        seeds=(4, 5),
        bites=(6, 0),
        exposure=(600.0, 0.0),
        kills=(1, 0),
        first_zombie_s=(30.0, math.nan),
        window_s=(1230.0, 600.0),
    )
    assert m.rate == pytest.approx(6 / (0.5 * 600.0))
    per = m.per_seed()
    assert per[0] == pytest.approx(0.02) and math.isnan(per[1])
    assert m.as_dict() == {
        "contact_rate": pytest.approx(0.02),
        "per_seed": {"4": pytest.approx(0.02), "5": None},
        "bites": [6, 0],
        "exposure_pair_s": [600.0, 0.0],
        "kills": [1, 0],
        "first_zombie_s": [30.0, None],
        "window_s": [1230.0, 600.0],
        "minutes": 20.0,
        "seeds": [4, 5],
    }
    d = _derived(monkeypatch, tmp_path, RAW)
    got = d.as_dict()
    assert set(got) == {"model", "scenario", "params", "t_end", "time_unit", "contacts", "rows"}
    assert (got["model"], got["scenario"], got["time_unit"]) == ("alemi", "m.toml", "days")
    assert got["params"] == d.params and got["t_end"] == d.t_end
    assert got["contacts"] == d.contacts.as_dict()
    assert got["rows"][0] == {
        "name": "b (bite)",
        "value": pytest.approx(math.log(2.0)),
        "unit": "1/s of contact",
        "source": "zombies.bite_prob (as -ln(1 - p))",
    }
    assert len(got["rows"]) == len(d.rows)


def test_measure_contacts_on_walled_pairs_by_hand(tmp_path):
    """Each human walled in with one zombie that bites at 0.5/s: the measurement starts at once
    (zombies from the first tick), runs a window of 2 minutes per seed from the scenario's seed,
    and its rate is the bites over b times the exposure; its arguments and a scenario whose
    zombies never bite are refused in one line."""
    from hyosan.outbreak import measure_contacts

    loaded = _pairs(tmp_path, 1.0, zombies={"bite_rate": 0.5}, run={"seed": 3})
    m = measure_contacts(loaded, seeds=2, minutes=2.0)
    assert m.seeds == (3, 4) and m.minutes == 2.0 and m.bite_rate == 0.5
    assert m.first_zombie_s == (0.0, 0.0) and m.window_s == (120.0, 120.0)
    assert sum(m.bites) > 0
    assert m.rate == pytest.approx(sum(m.bites) / (0.5 * sum(m.exposure)), rel=1e-12)
    # every pair in contact all the time: S Z pair-seconds at least the 12 first-tick pairs' 12 x 12
    assert all(0 < e <= 12 * 12 * 120.0 for e in m.exposure)
    for kwargs, source in (
        ({"seeds": 0}, "--seeds"),
        ({"seeds": True}, "--seeds"),
        ({"seeds": 1.5}, "--seeds"),
        ({"minutes": 0}, "--minutes"),
        ({"minutes": math.inf}, "--minutes"),
        ({"minutes": True}, "--minutes"),
        ({"minutes": "5"}, "--minutes"),
    ):
        with pytest.raises(HyosanError) as err:
            measure_contacts(loaded, **{"seeds": 1, "minutes": 1.0, **kwargs})
        assert err.value.source == source
    with pytest.raises(HyosanError) as err:
        measure_contacts(_pairs(tmp_path, 1.0, zombies={"bite_rate": 0.0}), seeds=1, minutes=1.0)
    assert (err.value.source, err.value.field) == ("test.toml", "zombies.bite_rate")
    assert "never bite" in str(err.value)
    with pytest.raises(HyosanError) as err:
        measure_contacts(_pairs(tmp_path, 1.0, zombies={"bite_prob": 0.0}), seeds=1, minutes=1.0)
    assert err.value.field == "zombies.bite_prob"


def test_measure_contacts_with_no_bite_in_the_window_says_so(tmp_path):
    from hyosan.outbreak import measure_contacts

    # zombies that bite at 1e-9/s: 12 pairs bite nobody in a minute (a chance of about 1e-6)
    loaded = _pairs(tmp_path, 1.0, zombies={"bite_rate": 1e-9})
    with pytest.raises(HyosanError) as err:
        measure_contacts(loaded, seeds=2, minutes=1.0)
    assert (err.value.source, err.value.field) == ("test.toml", "--from")
    assert "seeds 0-1" in str(err.value) and "1 min after the first zombie" in str(err.value)


def test_load_source_reads_a_run_folder_a_file_or_a_name(tmp_path):
    """``--from`` names a run folder (its scenario.toml, which records the run's seed), a scenario
    file or a built-in; a folder without scenario.toml is refused naming it."""
    from hyosan.outbreak import load_source
    from hyosan.scenario.resolved import resolved_toml

    loaded = _pairs(tmp_path, 2.0)
    run = tmp_path / "run"
    run.mkdir()
    with pytest.raises(HyosanError) as err:
        load_source(str(run))
    assert (err.value.source, err.value.field) == (str(run), "--from")
    assert "not a run folder" in str(err.value)
    (run / "map.txt").write_text(walled_pairs(12), encoding="utf-8")
    (run / "scenario.toml").write_text(resolved_toml(loaded, 42), encoding="utf-8")
    from_folder = load_source(str(run))
    assert from_folder.scenario.run.seed == 42 and from_folder.scenario.tick_seconds == 2.0
    from_file = load_source(str(run / "scenario.toml"))
    assert from_file.scenario.run.seed == 42
    assert load_source("hyosan-high").name == "hyosan-high"


def test_the_derivation_refuses_what_it_cannot_derive_before_measuring(monkeypatch, tmp_path):
    """Nobody human at the start (nothing to weigh the kill rate by) and, for alemi-latent, a mean
    incubation of 0 s (no latent rate): refused naming the scenario and the field, before any run."""
    no_humans = {**RAW, "population": [RAW["population"][3]], "characters": []}
    with pytest.raises(HyosanError) as err:
        _derived(monkeypatch, tmp_path, no_humans)
    assert (err.value.source, err.value.field) == ("m.toml", "population")
    assert "no humans at the start" in str(err.value)
    instant = {**RAW, "infection": {"incubation": {"distribution": "fixed", "median": "0s", "min": "0s"}}}
    with pytest.raises(HyosanError) as err:
        _derived(monkeypatch, tmp_path, instant, "alemi-latent")
    assert (err.value.source, err.value.field) == ("m.toml", "infection.incubation")
    assert "no latent rate" in str(err.value)
    assert _derived(monkeypatch, tmp_path, instant, "alemi").params["N"] == 44.0  # alemi needs none
    with pytest.raises(HyosanError) as err:
        _derived(monkeypatch, tmp_path, RAW, "munz-basic")
    assert err.value.source == "--from" and "alemi and alemi-latent only" in str(err.value)


def test_with_no_zombie_at_the_start_patient_zero_is_z0(monkeypatch, tmp_path):
    from hyosan import outbreak
    from hyosan.scenario.load import LoadedScenario

    (tmp_path / "map.txt").write_text(walled_pairs(4), encoding="utf-8")
    raw = {
        **RAW,
        "population": [
            {"role": "student", "count": 20, "state": "human", "areas": ["cells"], "groups": "none"}
        ],
    }
    loaded = LoadedScenario(scenario=validate(raw, "p.toml"), source="p.toml", base_dir=tmp_path, name="p")
    measure = outbreak.ContactMeasure(
        bite_rate=math.log(2.0),
        minutes=30.0,
        seeds=(0,),
        bites=(5,),
        exposure=(1.0e5,),
        kills=(0,),
        first_zombie_s=(60.0,),
        window_s=(1860.0,),
    )
    monkeypatch.setattr(outbreak, "measure_contacts", lambda *a, **k: measure)
    d = outbreak.derive("alemi", loaded)
    assert d.params["Z0"] == 1
    assert d.params["N"] == 21  # 20 students + the character, no zombie


def test_boundaries_below_one_second_are_not_zero():
    """Sub-second values are real values, not the "none" case (mutation testing found these)."""
    # an incubation of half a second: 172800 turns a day, not "never"
    assert units.lattice_rates(0.5, 0.05, 0.5, 864.0)[2] == pytest.approx(172800.0)
    # an exponential incubation of mean 0.5 s clipped to [0.2, 10]: 0.2 + 0.5 (e^-0.4 - e^-20)
    assert units.mean_incubation_s("exponential", 0.5, 0.0, 0.2, 10.0) == pytest.approx(
        0.2 + 0.5 * (math.exp(-0.4) - math.exp(-20.0)), rel=1e-12
    )
    # a lognormal of median 0.5 s, sigma 1, unclipped: 0.5 e^{1/2}
    assert units.mean_incubation_s("lognormal", 0.5, 1.0, 0.0, math.inf) == pytest.approx(
        0.5 * math.exp(0.5), rel=1e-9
    )


def test_a_clipped_lognormal_with_a_floor_under_one_second():
    from scipy import integrate, stats

    median, sigma, lo, hi = 2.0, 1.0, 0.5, 30.0
    dist = stats.lognorm(s=sigma, scale=median)
    inner, _ = integrate.quad(lambda x: x * dist.pdf(x), lo, hi)
    hand = lo * dist.cdf(lo) + hi * dist.sf(hi) + inner
    assert units.mean_incubation_s("lognormal", median, sigma, lo, hi) == pytest.approx(hand, rel=1e-7)
