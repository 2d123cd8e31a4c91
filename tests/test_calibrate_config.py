"""Bad calibration configs exit 2 with one line naming the file and the field, before any folder
is made (issue 22's proof)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli

GOOD = """
[fit]
model = "sir"
method = "ssa"
t_end = 10
set = { N = 200, I0 = 4 }

[study]
trials = 2
seeds = 2
seed = 0

[[parameter]]
key = "beta"
low = 0.5
high = 3.0

[[target]]
data = "cases.csv"
count = "I"
"""
DATA = "time,count,value\n1,I,5\n2,I,9\n3,I,14\n"


def write(tmp_path: Path, config: str, data: str = DATA) -> Path:
    (tmp_path / "cases.csv").write_text(data, encoding="utf-8")
    path = tmp_path / "cfg.toml"
    path.write_text(config, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (("[study]", "[study]\ntriales = 3"), "cfg.toml: study.triales", "unknown key"),
        (("[fit]", "[fit]\nmodle = 'sir'"), "cfg.toml: fit.modle", "unknown key"),
        (('key = "beta"', 'key = "betta"'), "cfg.toml: parameter[0].key", "not a parameter of sir"),
        (("high = 3.0", "high = 0.5"), "cfg.toml: parameter[0].high", "empty range"),
        (("high = 3.0", "high = 0.1"), "cfg.toml: parameter[0].high", "inverted range"),
        (('count = "I"', 'count = "Q"'), "cfg.toml: target[0].count", "no count 'Q'"),
        (("seeds = 2", "seeds = 0"), "cfg.toml: study.seeds", "at least one seed"),
        (
            ("seeds = 2", "seeds = [1, 2, 3]\nheldout = [3, 4]"),
            "cfg.toml: study.heldout",
            "never be the study's",
        ),
        (("[study]", "[study]\nsampler = 'grid'"), "cfg.toml: study.sampler", "unknown sampler"),
        (("low = 0.5", "low = 0.5\nlog = true\n"), None, None),  # a valid change: checked below
    ],
)
def test_bad_config_exits_2_naming_file_and_field(tmp_path, capsys, change, where, message):
    cfg = write(tmp_path, GOOD.replace(*change, 1))
    out = tmp_path / "out"
    if where is None:
        code, _, err = run_cli(
            capsys, "calibrate", str(cfg), "-o", str(out), "-q", "--workers", "0", "--no-report"
        )
        assert code == 0, err
        return
    code, _, err = run_cli(capsys, "calibrate", str(cfg), "-o", str(out), "-q")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert where in lines[0] and message in lines[0], lines[0]
    assert "Traceback" not in err
    assert not out.exists()  # nothing made


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("time,count,value\n1,I,5\n2,I\n", "line 3: expected 3 fields"),  # ragged
        ("time,count,value\n1,I,5\n2,I,many\n", "line 3: value is not a number"),
        ("time,count,value\n1,I,5\nsoon,I,4\n", "line 3: time is not a number"),
        ("t,n,v\n1,I,5\n", "expected the header time,count,value"),
        ("time,count,value\n1,J,5\n", "no rows of count 'I'"),
    ],
)
def test_bad_data_file_exits_2_naming_file_and_line(tmp_path, capsys, data, message):
    cfg = write(tmp_path, GOOD, data)
    code, _, err = run_cli(capsys, "calibrate", str(cfg), "-o", str(tmp_path / "out"), "-q")
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "cases.csv" in err and message in err, err


def test_summary_target_on_an_unknown_metric(tmp_path, capsys):
    cfg = write(tmp_path, GOOD + '\n[[target]]\nmetric = "final_Q"\nvalue = 3\n')
    code, _, err = run_cli(capsys, "calibrate", str(cfg), "-o", str(tmp_path / "out"), "-q")
    assert code == 2 and "cfg.toml: target[1].metric" in err and "final_Q" in err


def test_school_config_names_an_unknown_scenario_key(tmp_path, capsys):
    cfg = tmp_path / "school.toml"
    cfg.write_text(
        '[fit]\nscenario = "hyosan-high"\n[study]\ntrials = 1\nseeds = 1\n'
        '[[parameter]]\nkey = "zombies.bite_ratte"\nlow = 0.1\nhigh = 1\n'
        '[[target]]\nmetric = "final_dead"\nvalue = 3\n',
        encoding="utf-8",
    )
    code, _, err = run_cli(capsys, "calibrate", str(cfg), "-o", str(tmp_path / "out"), "-q")
    assert code == 2 and "school.toml: parameter[0].key" in err, err


def test_out_folder_rules(tmp_path, capsys):
    cfg = write(tmp_path, GOOD)
    stranger = tmp_path / "theirs"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine")
    code, _, err = run_cli(capsys, "calibrate", str(cfg), "-o", str(stranger), "-q")
    assert code == 2 and "not written by hyosan" in err
    assert (stranger / "notes.txt").read_text() == "mine"
    code, _, err = run_cli(capsys, "calibrate", str(cfg), "-o", str(tmp_path / "none"), "--resume", "-q")
    assert code == 2 and "no calibration study to resume" in err
    out = tmp_path / "out"
    code, _, err = run_cli(
        capsys, "calibrate", str(cfg), "-o", str(out), "-q", "--workers", "0", "--no-report"
    )
    assert code == 0, err
    # --resume with another config is refused; with more trials it goes on.
    other = write(tmp_path, GOOD.replace("high = 3.0", "high = 4.0"))
    code, _, err = run_cli(capsys, "calibrate", str(other), "-o", str(out), "--resume", "-q")
    assert code == 2 and "different study" in err
    cfg = write(tmp_path, GOOD)
    code, _, err = run_cli(
        capsys, "calibrate", str(cfg), "-o", str(out), "--resume", "-t", "3", "-q", "--workers", "0"
    )
    assert code == 0, err
    assert "trials.csv" in (out / ".hyosan.json").read_text()
