"""Scenario files: loading, overrides, errors naming file and field, and the reference docs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hyosan.errors import HyosanError
from hyosan.scenario import load_scenario
from hyosan.scenario.load import apply_overrides, parse_value
from hyosan.scenario.timefmt import format_clock, parse_clock, parse_duration

MAP = "[floor 1F]\n#######\n#aaaaaE\n#######\n[rooms]\na: yard (yard)\n"
GOOD = """
[world]
map = "map.txt"
[roles.student]
[[population]]
role = "student"
count = 3
areas = ["yard"]
"""


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "map.txt").write_text(MAP)
    (tmp_path / "good.toml").write_text(GOOD)
    return tmp_path


def test_durations_and_clocks():
    assert parse_duration("90s") == 90
    assert parse_duration("15min") == 900
    assert parse_duration("1h30min") == 5400
    assert parse_duration(45) == 45
    assert parse_clock("08:40") == 8 * 3600 + 40 * 60
    assert format_clock(parse_clock("08:40:12")) == "08:40:12"
    for bad in ("soon", "5 parsecs", "-3s", ""):
        with pytest.raises(ValueError):
            parse_duration(bad)
    with pytest.raises(ValueError):
        parse_clock("25:00")


def test_defaults_filled_in(folder):
    sc = load_scenario(folder / "good.toml").scenario
    assert sc.zombies.bite_prob == 0.5
    assert sc.clock.tick == "1s" and sc.n_ticks == 6 * 3600
    assert sc.roles["student"].walk_speed == 1.3


def test_overrides(folder):
    sc = load_scenario(
        folder / "good.toml",
        {"zombies.bite_prob": "0.1", "population.0.count": "2", "roles.student.adult": "true"},
    ).scenario
    assert sc.zombies.bite_prob == 0.1
    assert sc.population[0].count == 2
    assert sc.roles["student"].adult is True
    assert parse_value("'08:00'") == "08:00" and parse_value("08h") == "08h"
    with pytest.raises(HyosanError, match="no item '5'"):
        apply_overrides({"population": [{}]}, {"population.5.count": "1"})


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (GOOD.replace("count = 3", "count = -1"), "population.0.count"),
        (GOOD + "[zombies]\nbite_prob = 3\n", "zombies.bite_prob"),
        (GOOD + "[zombies]\nbite_probability = 0.3\n", "zombies.bite_probability"),
        (GOOD.replace('role = "student"', 'role = "janitor"'), "population[0].role"),
        (GOOD + "[clock]\nduration = 'forever'\n", "clock.duration"),
        (GOOD + "[[events]]\nkind = 'alarm'\narea = 'yard'\n", "events.0"),
        (GOOD + "[[events]]\nkind = 'rescue'\nat = '09:00'\n", "events.0"),
        (GOOD + "[[events]]\nkind = 'goal'\nwhen = 'mood > 3'\narea = 'yard'\n", "events.0"),
        ("[world\n", None),
    ],
)
def test_bad_files_name_file_and_field(folder, text, field):
    path = folder / "bad.toml"
    path.write_text(text)
    with pytest.raises(HyosanError) as info:
        load_scenario(path)
    assert str(path) in str(info.value)
    if field:
        assert info.value.field == field


def test_bad_override_blames_the_flag(folder):
    with pytest.raises(HyosanError) as info:
        load_scenario(folder / "good.toml", {"zombies.bite_prob": "lots"})
    assert info.value.source == "--set" and info.value.field == "zombies.bite_prob"


def test_unknown_area_is_reported_at_build(folder):
    from hyosan.engine import Simulation

    (folder / "bad.toml").write_text(GOOD.replace('"yard"]', '"gym"]'))
    with pytest.raises(HyosanError, match="gym") as info:
        Simulation(load_scenario(folder / "bad.toml"))
    assert "population[0].areas" in str(info.value)


def test_check_and_run_commands(folder):
    ok = subprocess.run(
        [sys.executable, "-m", "hyosan", "check", str(folder / "good.toml")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ok.returncode == 0 and "ok" in ok.stdout
    (folder / "bad.toml").write_text(GOOD + "[zombies]\nsight = -2\n")
    for command in ("check", "run"):
        bad = subprocess.run(
            [sys.executable, "-m", "hyosan", command, str(folder / "bad.toml")],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert bad.returncode == 2
        assert (
            bad.stderr.strip() == f"error: {folder / 'bad.toml'}: zombies.sight: "
            "must be at least 0 and at most 100, got -2 (m: poor vision)"
        )
    out = folder / "out"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "hyosan",
            "run",
            str(folder / "good.toml"),
            "--set",
            "clock.duration=2min",
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert (out / "summary.json").exists()


def test_docs_reference_is_in_sync():
    from hyosan.scenario.reference import markdown

    text = (Path(__file__).parents[1] / "docs" / "scenarios.md").read_text(encoding="utf-8")
    start = text.index("<!-- reference:start -->\n") + len("<!-- reference:start -->\n")
    end = text.index("<!-- reference:end -->")
    assert text[start:end] == markdown(), "regenerate docs/scenarios.md's reference section"


def test_scenarios_lists_the_builtins():
    from hyosan.scenario import builtins

    assert "hyosan-high" in builtins()
    proc = subprocess.run(
        [sys.executable, "-m", "hyosan", "scenarios"], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0
    assert "hyosan-high" in proc.stdout and "Hyosan High" in proc.stdout
