"""hyosan/limits.py: each limit's default, its environment override and its message; the seed
rule. Fast and exact: scripts/mutation.py runs these against every mutant of limits.py."""

from __future__ import annotations

import pytest

from hyosan import limits
from hyosan.errors import HyosanError

DEFAULTS = {
    "HYOSAN_MAX_TICKS": 10_000_000,
    "HYOSAN_MAX_AGENTS": 5_000_000,
    "HYOSAN_MAX_FRAME_VALUES": 500_000_000,
    "HYOSAN_MAX_MAP_CELLS": 50_000_000,
    "HYOSAN_MAX_POINTS": 1_000_000,
    "HYOSAN_MAX_RUNS": 10_000_000,
    "HYOSAN_MAX_VALUES": 500_000_000,
    "HYOSAN_MAX_SWEEP_RUNS": 10_000_000,
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for lim in limits.ALL:
        monkeypatch.delenv(lim.name, raising=False)


def test_each_documented_limit_has_its_default():
    got = {lim.name: lim.value() for lim in limits.ALL}
    for name, default in DEFAULTS.items():
        assert got[name] == default, name


def test_the_environment_raises_a_limit_with_underscores_and_spaces_allowed(monkeypatch):
    monkeypatch.setenv("HYOSAN_MAX_TICKS", " 50_000_000 ")
    assert limits.MAX_TICKS.value() == 50_000_000
    monkeypatch.setenv("HYOSAN_MAX_TICKS", "7")
    assert limits.MAX_TICKS.value() == 7


@pytest.mark.parametrize("junk", ["", "abc", "-5", "1e9", "3.5"])
def test_a_value_that_is_not_a_whole_number_keeps_the_default(monkeypatch, junk):
    monkeypatch.setenv("HYOSAN_MAX_AGENTS", junk)
    assert limits.MAX_AGENTS.value() == 5_000_000


def test_check_passes_at_the_limit_and_refuses_past_it_naming_source_field_and_variable(monkeypatch):
    monkeypatch.setenv("HYOSAN_MAX_POINTS", "100")
    limits.MAX_POINTS.check(100, "model.toml", "points")  # exactly at the cap: allowed
    limits.MAX_POINTS.check(99.5, "model.toml", "points")
    with pytest.raises(HyosanError) as err:
        limits.MAX_POINTS.check(101, "model.toml", "points")
    exc = err.value
    assert exc.source == "model.toml"
    assert exc.field == "points"
    text = str(exc)
    assert "the points of the time grid would be 101" in text
    assert "over the limit of 100" in text
    assert "raise it with HYOSAN_MAX_POINTS" in text


def test_the_message_rounds_a_huge_count_to_four_figures():
    with pytest.raises(HyosanError, match=r"would be 1\.235e\+12,"):
        limits.MAX_RUNS.check(1_234_567_890_123, "--runs")


@pytest.mark.parametrize("seed", [0, 1, 2**31, 2**63 - 1])
def test_seeds_from_0_to_2_63_minus_1_pass_through(seed):
    assert limits.check_seed(seed) == seed
    assert limits.SEED_MAX == 2**63 - 1


@pytest.mark.parametrize("seed", [-1, 2**63, True, False, 1.0, "3", None])
def test_other_seeds_are_refused_naming_source_and_field(seed):
    with pytest.raises(HyosanError) as err:
        limits.check_seed(seed, source="run.toml", field="run.seed")
    assert err.value.source == "run.toml"
    assert err.value.field == "run.seed"
    assert "must be an integer from 0 to 2**63 - 1" in str(err.value)
    assert repr(seed) in str(err.value)


def test_the_count_bound_keeps_sums_far_from_int64():
    assert limits.MAX_COUNT == 10**15
    assert limits.MAX_COUNT * 1000 < 2**63
