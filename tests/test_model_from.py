"""``hyosan model alemi --from SCENARIO`` (issue 12 item 1): the compartment model's parameters
derived from a school scenario and the contact rate measured on its agents (docs/units.md)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import tomli_w

from conftest import open_yard, run_cli, scenario, walled_pairs
from hyosan import models
from hyosan.engine import Simulation
from hyosan.errors import HyosanError
from hyosan.outbreak import derive, measure_contacts, measure_run
from hyosan.populate import draw_incubation
from hyosan.results.store import save
from hyosan.rules.spatial import count_occupancy
from hyosan.scenario.load import load_scenario
from hyosan.scenario.rates import kill_rate, mean_incubation
from hyosan.scenario.schema import IncubationConfig
from hyosan.units import alemi_rates

DAY = 86400.0
#: An open yard, 14 x 14 tiles: everyone wanders, so zombies meet humans within minutes.
YARD = open_yard(14, 14)


def yard_raw(**changes) -> dict:
    """A small scenario on YARD: 40 students (kill rate 0.02/s) and 8 teachers (0.1/s), bitten
    at 08:01 (patient zero) or, with ``horde=N``, N zombies from the start; other keywords
    replace (or update, for a table) a section."""
    horde = changes.pop("horde", 0)
    raw = {
        "scenario": {"name": "Yard"},
        "world": {"map": "yard.txt"},
        "clock": {"start": "08:00", "duration": "15min", "frame_every": "60s"},
        "roles": {
            "student": {"strength": 0.02, "walk_speed": 1.0},
            "teacher": {"adult": True, "strength": 0.1, "walk_speed": 1.0},
        },
        "zombies": {"bite_rate": 0.5, "walk_speed": 1.0},
        "halfbies": {"fraction": 0.0},
        "infection": {"incubation": {"distribution": "fixed", "median": "10s", "min": "1s"}},
        "behaviour": {"humans": "wander", "zombies": "wander"},
        "population": [
            {"role": "student", "count": 40, "areas": ["yard"], "groups": "none"},
            {"role": "teacher", "count": 8, "areas": ["yard"], "groups": "none"},
        ],
    }
    if horde:
        raw["population"].append(
            {"role": "student", "count": horde, "areas": ["yard"], "groups": "none", "state": "zombie"}
        )
    else:
        raw["events"] = [{"kind": "patient_zero", "at": "08:01", "area": "yard"}]
    for key, value in changes.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    return raw


@pytest.fixture
def yard(tmp_path):
    """Write a yard scenario (yard_raw's keywords) and return its path."""

    def make(name: str = "yard.toml", map_text: str = YARD, **changes):
        (tmp_path / name).with_suffix(".txt").write_text(map_text, encoding="utf-8")
        raw = yard_raw(**changes)
        raw["world"]["map"] = (tmp_path / name).with_suffix(".txt").name
        path = tmp_path / name
        path.write_text(tomli_w.dumps(raw), encoding="utf-8")
        return path

    return make


# -- the derivation ---------------------------------------------------------------------------
def test_derived_rates_are_the_units_mapping_of_the_scenario_and_the_measured_contact_rate(yard):
    loaded = load_scenario(str(yard()))
    d = derive("alemi", loaded, seeds=2, minutes=5)
    b, k = 0.5, (40 * 0.02 + 8 * 0.1) / 48  # the bite rate; the kill rates weighted by numbers
    assert kill_rate(loaded.scenario) == pytest.approx(k)
    c = d.contacts.rate
    assert c > 0
    beta_pair, kappa_pair = alemi_rates(k, b, c)
    n = 48  # everyone starts human; patient zero is the first zombie
    assert d.params["beta"] == pytest.approx(beta_pair * n * DAY)  # per-capita, per day
    assert d.params["alpha"] == pytest.approx(k / b)
    assert d.params["alpha"] * d.params["beta"] == pytest.approx(kappa_pair * n * DAY)
    assert (d.params["N"], d.params["Z0"]) == (48, 1)
    assert d.t_end == pytest.approx(15 * 60 / DAY)  # the scenario's duration, in days
    rows = {r.name: r for r in d.rows}
    assert rows["c (contact)"].value == c and rows["k teachers"].value == pytest.approx(0.1)
    assert "patient zero" in rows["Z0"].source


def test_starting_zombies_give_z0_and_n(yard):
    d = derive("alemi", load_scenario(str(yard(horde=3))), seeds=1, minutes=3)
    assert (d.params["N"], d.params["Z0"]) == (51, 3)
    assert d.contacts.first_zombie_s == (0.0,)


def test_the_latent_rate_is_one_over_the_mean_incubation(yard):
    inc = {"distribution": "lognormal", "median": "40s", "sigma": 1.0, "min": "5s", "max": "10min"}
    path = yard(infection={"incubation": inc})
    d = derive("alemi-latent", load_scenario(str(path)), seeds=1, minutes=5)
    assert d.params["eta"] == pytest.approx(DAY / mean_incubation(IncubationConfig(**inc)))


@pytest.mark.parametrize(
    "inc",
    [
        {"distribution": "lognormal", "median": "6min", "sigma": 1.6, "min": "5s", "max": "1h"},
        {"distribution": "lognormal", "median": "2min", "sigma": 0.5, "min": "90s", "max": "3min"},
        {"distribution": "exponential", "median": "2min", "min": "30s", "max": "5min"},
        {"distribution": "uniform", "median": "2min", "min": "30s", "max": "5min"},
        {"distribution": "fixed", "median": "2min", "min": "3min", "max": "1h"},
    ],
)
def test_mean_incubation_is_the_mean_of_the_populations_draws(inc):
    cfg = IncubationConfig(**inc)
    draws = draw_incubation(cfg, 400_000, 0.01, np.random.default_rng(1)) * 0.01
    se = draws.std() / math.sqrt(draws.size)
    assert abs(mean_incubation(cfg) - draws.mean()) <= 4 * se + 0.01


# -- the measurement ----------------------------------------------------------------------------
def test_the_contact_rate_is_reproducible_for_a_seed_and_positive(yard):
    loaded = load_scenario(str(yard(horde=2)))
    one = measure_contacts(loaded, seeds=3, minutes=4)
    again = measure_contacts(loaded, seeds=3, minutes=4)
    assert one == again  # every count, seed for seed
    assert one.seeds == (0, 1, 2)
    assert one.rate > 0 and all(r > 0 for r in one.per_seed())
    assert len(set(one.exposure)) == 3  # the seeds differ
    assert one.first_zombie_s == (0.0,) * 3 and one.window_s == (240.0,) * 3
    other = measure_contacts(load_scenario(str(yard(horde=2)), {"run.seed": "5"}), seeds=1, minutes=4)
    assert other.seeds == (5,)  # from the scenario's seed


def test_the_window_starts_at_the_first_zombie(yard):
    m = measure_contacts(load_scenario(str(yard())), seeds=1, minutes=2)
    # Bitten at 08:01 (tick 60), incubation 10 s: a zombie from the 71st tick, 2 minutes measured.
    assert m.first_zombie_s == (71.0,) and m.window_s == (191.0,)


PAIRS = 200
#: Pairs of tiles walled off from each other: one human and one zombie in each, nobody moves.
PAIR_MAP = walled_pairs(PAIRS)


def test_the_measured_contact_rate_is_the_share_of_time_a_pair_is_in_contact(tmp_path):
    """Where the geometry is known the estimate (bites / (b * integral of S Z dt)) must find it:
    each human is walled in with one zombie and nobody moves, so the pairs in contact are the
    humans never bitten, S(t), and the true contact rate is the integral of S dt over that of
    S Z dt (zombies never die: no kills; the bitten turn when bitten again, which Z counts)."""
    still = {"walk_speed": 0.001, "run_speed": 0.001}
    loaded = scenario(
        tmp_path,
        PAIR_MAP,
        clock={"start": "08:00", "duration": "2min", "frame_every": "60s"},
        roles={"student": {"adult": False, "strength": 0.0, "jitter": 0.0, **still}},
        zombies={"bite_rate": 0.02, **still},
        halfbies={"fraction": 0.0},
        infection={"incubation": {"distribution": "fixed", "median": "1h"}, "hide_bite": 0.0},
        behaviour={"humans": "wander", "zombies": "wander"},
        population=[
            {"role": "student", "count": PAIRS, "areas": ["cells"], "groups": "none"},
            {"role": "student", "count": PAIRS, "areas": ["cells"], "groups": "none", "state": "zombie"},
        ],
    )
    bites, exposure, truth = 0, 0.0, 0.0
    for seed in range(3):
        sim = Simulation(loaded, seed=seed)
        left = np.flatnonzero(sim.world.room_id.ravel() == 0)[::2]
        sim.pop.cell[:PAIRS] = left  # humans on the left tile of each pair, zombies on the right
        sim.pop.cell[PAIRS:] = left + 1
        count_occupancy(sim.pop.state, sim.pop.cell, sim.arrays.world.occupancy)
        run = measure_run(sim, window=sim.n_ticks)
        counts = sim.counts[: sim.tick].astype(float)
        s, z = counts[:, 0].sum(axis=1), counts[:, 2].sum(axis=1)
        bites += run.bites
        exposure += run.exposure
        truth += s.sum() / (s * z).sum() * run.exposure  # contact-seconds, weighted like the estimate
        assert run.exposure == pytest.approx((s * z).sum())
    measured = bites / (0.02 * exposure)
    expected = truth / exposure
    # Poisson error of the bites (about 3 x 120); a per-tick chance 1 - exp(-b) instead of b
    # would shift it by 1 %.
    assert measured == pytest.approx(expected, rel=3 / math.sqrt(bites))
    assert 1 / (2 * PAIRS) < measured < 1 / PAIRS  # Z grows from PAIRS as the bitten turn


FLOOR = open_yard(30, 30)


def half_time(values: np.ndarray, times: np.ndarray, humans: int) -> np.ndarray:
    """When S first falls to half the humans, in each run (nan where it never does)."""
    below = values <= humans / 2
    return np.where(below.any(axis=1), times[below.argmax(axis=1)], np.nan)


def test_the_derived_model_keeps_the_schools_clock(yard):
    """The point of measuring the contact rate: the derived beta sets the model's clock to the
    school's. On an open floor of wanderers (121 people, one zombie, alpha = 0.5), the time until
    half the humans are bitten, in the runs where the outbreak takes off, is the same in the
    agents and in the SSA of the derived model (median within 25 %; a contact rate off by a
    factor of two, or a unit lost on the way to days, would fail)."""
    humans, alpha_, b = 120, 0.5, 0.5
    path = yard(
        "floor.toml",
        FLOOR,
        clock={"duration": "10min"},
        roles={"student": {"strength": alpha_ * b, "jitter": 0.0, "walk_speed": 1.0}},
        population=[
            {"role": "student", "count": humans, "areas": ["yard"], "groups": "none"},
            {"role": "student", "count": 1, "areas": ["yard"], "groups": "none", "state": "zombie"},
        ],
        infection={"incubation": {"distribution": "fixed", "median": "1s", "min": "1s"}, "hide_bite": 0.0},
        events=[],
    )
    loaded = load_scenario(str(path))
    d = derive("alemi", loaded, seeds=12, minutes=10)
    assert d.params["alpha"] == pytest.approx(alpha_) and d.params["N"] == humans + 1
    abm = []
    for seed in range(12):
        sim = Simulation(loaded, seed=seed)
        sim.run_until(sim.n_ticks)
        s = sim.counts[:, 0].sum(axis=1)
        abm.append(half_time(s[None, :], np.arange(s.size) * 1.0, humans)[0])
    abm = np.array(abm)
    res = models.get("alemi").simulate("ssa", params=d.params, t_end=d.t_end, runs=400, seed=1, n_points=601)
    ssa = half_time(res.values[:, :, 0], res.times * DAY, humans)
    assert np.isfinite(abm).sum() >= 6 and np.isfinite(ssa).sum() >= 100
    ratio = np.nanmedian(ssa) / np.nanmedian(abm)
    assert 0.8 < ratio < 1.25, (np.nanmedian(ssa), np.nanmedian(abm))


# -- the command --------------------------------------------------------------------------------
def test_the_command_prints_the_derivation_and_runs_the_model(yard, capsys, tmp_path):
    path = yard()
    code, out, err = run_cli(capsys, "model", "alemi", "--from", str(path), "--seeds", "2", "--minutes", "5")
    assert code == 0, err
    for text in ("c (contact)", "beta per pair", "alpha", "k teachers", "measured:", "1/day", "Alemi SZR"):
        assert text in out
    assert "measuring the contact rate" in err
    assert "ode at t = 0.0104167 days" in out  # the scenario's 15 minutes
    png = tmp_path / "fig.png"
    more = ["--stop", "S<24", "--plot", str(png), "-q"]
    code, out, err = run_cli(
        capsys, "model", "alemi", "--from", str(path), "--seeds", "2", "--minutes", "5", *more
    )
    assert code == 0 and err == ""
    assert "stopped when S<24" in out and png.read_bytes()[:4] == b"\x89PNG"


def test_help_says_what_from_does(capsys):
    code, out, _ = run_cli(capsys, "model", "--help")
    assert code == 0
    text = " ".join(out.split())
    for flag in ("--from", "--seeds", "--minutes", "contact rate", "docs/units.md"):
        assert flag in text


def test_json_carries_the_derivation_and_ssa_uses_it(yard, capsys):
    path = yard()
    args = ["model", "alemi", "--from", str(path), "--seeds", "2", "--minutes", "5", "--json"]
    code, out, err = run_cli(capsys, *args, "--method", "ssa", "--runs", "20")
    assert code == 0, err
    data = json.loads(out)  # stdout is one JSON object; the table went to stderr
    assert "c (contact)" in err
    derived = data["from"]["params"]
    assert data["params"] == pytest.approx(derived)
    assert data["runs"] == 20 and data["t_end"] == pytest.approx(15 * 60 / DAY)
    assert data["from"]["contacts"]["seeds"] == [0, 1]
    assert sum(data["final"].values()) == pytest.approx(48)  # S + Z + R = N
    again = json.loads(run_cli(capsys, *args, "--method", "ssa", "--runs", "20")[1])
    assert again == data


def test_set_overrides_a_derived_value(yard, capsys):
    args = ["model", "alemi-latent", "--from", str(yard()), "--seeds", "1", "--minutes", "5", "--json"]
    plain = json.loads(run_cli(capsys, *args)[1])
    code, out, _ = run_cli(capsys, *args, "--set", "alpha=3", "--set", "N=100", "--t-end", "0.5")
    assert code == 0
    data = json.loads(out)
    assert data["params"]["alpha"] == 3 and data["params"]["N"] == 100 and data["t_end"] == 0.5
    assert data["params"]["beta"] == plain["params"]["beta"] == plain["from"]["params"]["beta"]
    assert data["params"]["eta"] == plain["params"]["eta"]
    assert data["from"]["params"]["alpha"] == pytest.approx((40 * 0.02 + 8 * 0.1) / 48 / 0.5)


def test_a_stored_ensemble_gets_the_derived_values(yard, capsys, tmp_path):
    store = tmp_path / "store"
    args = ["model", "alemi", "--from", str(yard()), "--seeds", "1", "--minutes", "5", "--method", "ssa"]
    more = ["--runs", "2", "--vary", "alpha=0.5,2", "--out", str(store), "--workers", "0", "-q"]
    code, _, err = run_cli(capsys, *args, *more)
    assert code == 0, err
    context = json.loads((store / "sweep.json").read_text(encoding="utf-8"))["context"]
    d = derive("alemi", load_scenario(str(yard())), seeds=1, minutes=5)
    assert context["set"] == pytest.approx({k: v for k, v in d.params.items() if k != "alpha"})
    assert context["t_end"] == pytest.approx(d.t_end)
    runs = pd.read_parquet(store / "runs.parquet")
    assert sorted(runs["alpha"].unique()) == [0.5, 2.0]  # --vary wins over the derived alpha


def test_a_run_folder_measures_its_own_scenario_from_its_seed(yard, capsys, tmp_path):
    loaded = load_scenario(str(yard()))
    folder = save(Simulation(loaded, seed=7).run(), tmp_path / "run", report=None)
    code, out, err = run_cli(capsys, "model", "alemi", "--from", str(folder), "--seeds", "1", "--json", "-q")
    assert code == 0, err
    data = json.loads(out)
    assert data["from"]["contacts"]["seeds"] == [7]
    again = measure_contacts(load_scenario(str(yard()), {"run.seed": "7"}), seeds=1)
    assert data["from"]["contacts"]["contact_rate"] == again.rate


# -- mistakes -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["model", "alemi", "--from", "no-such-school"], "no-such-school"),
        (["model", "munz-basic", "--from", "hyosan-high"], "--from"),
        (["model", "alemi", "--seeds", "2"], "--seeds"),
        (["model", "alemi", "--minutes", "2"], "--minutes"),
        (["model", "alemi", "--from", "{yard}", "--seeds", "0"], "--seeds"),
        (["model", "alemi", "--from", "{yard}", "--minutes", "-1"], "--minutes"),
        (["model", "alemi", "--from", "{yard}", "--minutes", "nan"], "--minutes"),
        (["model", "alemi", "--from", "{bad}"], "bad.toml: zombies.bite_rate"),
        (["model", "alemi", "--from", "{dir}"], "not a run folder"),
        (["model", "alemi-latent", "--from", "{zero}"], "zero.toml: infection.incubation"),
        (["model", "alemi", "--from", "{yard}", "--set", "beta=-1"], "--set: beta"),
    ],
)
def test_mistakes_are_one_line_naming_file_and_field(yard, capsys, tmp_path, args, where):
    (tmp_path / "empty").mkdir()
    names = {
        "{yard}": str(yard()),
        "{bad}": str(yard("bad.toml", zombies={"bite_rate": -1})),
        "{dir}": str(tmp_path / "empty"),
        "{zero}": str(
            yard(
                "zero.toml", infection={"incubation": {"distribution": "fixed", "median": "0s", "min": "0s"}}
            )
        ),
    }
    code, out, err = run_cli(capsys, *[names.get(a, a) for a in args], "-q")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and where in err, err
    assert "Traceback" not in err and out == ""


def test_a_scenario_where_nobody_is_bitten_says_so(yard):
    loaded = load_scenario(str(yard(zombies={"bite_rate": 0.0})))
    with pytest.raises(HyosanError, match="never bite"):
        measure_contacts(loaded, seeds=1, minutes=1)
