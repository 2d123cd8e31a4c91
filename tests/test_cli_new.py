"""`hyosan new`: an editable scenario (and its map) to start from, written only where nothing of
the user's is lost; timeline events by name in --set, listed by `hyosan check`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import run_cli
from hyosan.errors import HyosanError
from hyosan.scenario import load_scenario
from hyosan.scenario.load import apply_overrides, event_names

DATA = Path(__file__).parent / "data"


def test_new_from_the_builtin_copies_scenario_and_map(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "new", "my-school", "--from", "hyosan-high")
    assert code == 0, err
    folder = tmp_path / "my-school"
    assert sorted(p.name for p in folder.iterdir()) == [
        ".hyosan.json",
        "hyosan_high.tmj",
        "hyosan_high_tiles.png",  # the tileset image the Tiled map names
        "my-school.toml",
    ]
    assert "written: my-school/" in out and "hyosan run my-school/my-school.toml" in out
    builtin = load_scenario("hyosan-high")
    mine = load_scenario(folder / "my-school.toml")
    assert mine.name == "my-school" and mine.map_path() == folder / "hyosan_high.tmj"
    assert mine.scenario.model_dump() == builtin.scenario.model_dump()  # the same scenario, editable
    text = (folder / "my-school.toml").read_text(encoding="utf-8")
    assert "# Hyosan High: the built-in scenario" in text  # comments kept
    assert (folder / "hyosan_high.tmj").read_bytes() == builtin.map_path().read_bytes()
    # an edit takes effect, and `hyosan check` reads the copy
    (folder / "my-school.toml").write_text(text.replace('at = "13:00"', 'at = "10:00"'), encoding="utf-8")
    assert load_scenario(folder / "my-school.toml").scenario.events[5].at == "10:00"
    code, out, err = run_cli(capsys, "check", "my-school/my-school.toml")
    assert code == 0, err
    assert "cordon" in out and "at 10:00" in out


def test_new_points_the_copy_at_its_map(tmp_path, capsys):
    src = tmp_path / "mine"
    (src / "maps").mkdir(parents=True)
    shutil.copy(DATA / "small_school.txt", src / "maps" / "small_school.txt")
    text = (DATA / "tiny_outbreak.toml").read_text(encoding="utf-8")
    (src / "tiny.toml").write_text(
        text.replace('"small_school.txt"', '"maps/small_school.txt"'), encoding="utf-8"
    )
    out = tmp_path / "copies" / "t2"
    code, _, err = run_cli(capsys, "new", "t2", "--from", str(src / "tiny.toml"), "--out", str(out))
    assert code == 0, err
    assert 'map = "small_school.txt"' in (out / "t2.toml").read_text(encoding="utf-8")
    assert load_scenario(out / "t2.toml").map_path() == out / "small_school.txt"


def test_new_never_writes_over_what_is_not_its_own(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_cli(capsys, "new", "s", "--from", str(DATA / "tiny_outbreak.toml"))[0] == 0
    # unchanged since hyosan new wrote it: written again
    assert run_cli(capsys, "new", "s", "--from", str(DATA / "tiny_outbreak.toml"))[0] == 0
    # edited: refused, the edit kept
    path = tmp_path / "s" / "s.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n# mine\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "new", "s")
    assert (
        code == 2
        and err.strip() == "error: s: you edited s.toml since hyosan new wrote it: give a new folder"
    )
    assert path.read_text(encoding="utf-8").endswith("# mine\n")
    # a folder of the user's, a file, a run folder: refused, untouched
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("mine", encoding="utf-8")
    code, _, err = run_cli(capsys, "new", "notes")
    assert code == 2 and "was not written by hyosan" in err and err.count("\n") == 1
    run = tmp_path / "run"
    run.mkdir()
    (run / ".hyosan.json").write_text(json.dumps({"format": "hyosan-run/1", "files": []}), encoding="utf-8")
    code, _, err = run_cli(capsys, "new", "x", "--out", "run")
    assert code == 2 and "error: --out: run: holds a run or a store" in err
    # a name that is a path, an unknown source: one line each
    code, _, err = run_cli(capsys, "new", "../up")
    assert code == 2 and err.startswith("error: new: ../up: a scenario name is")
    code, _, err = run_cli(capsys, "new", "y", "--from", "nowhere.toml")
    assert code == 2 and "nowhere.toml: no such file or built-in scenario" in err
    assert not (tmp_path / "y").exists() and not (tmp_path.parent / "up").exists()


def test_events_by_name_and_by_index_are_the_same_event():
    raw = {"events": [{"kind": "alarm"}, {"kind": "cordon"}, {"kind": "alarm"}, {"kind": "rescue"}]}
    assert event_names(raw["events"]) == ["alarm-1", "cordon", "alarm-2", "rescue"]
    by_name = apply_overrides(raw, {"events.cordon.at": "10:00", "events.alarm-2.area": "hall"})
    by_index = apply_overrides(raw, {"events.1.at": "10:00", "events.2.area": "hall"})
    assert by_name == by_index and by_name["events"][1]["at"] == "10:00"
    assert raw["events"][1] == {"kind": "cordon"}  # the original is untouched
    with pytest.raises(HyosanError) as exc:
        apply_overrides(raw, {"events.cordn.at": "10:00"})
    assert str(exc.value) == (
        "--set: events.cordn.at: no event 'cordn'; did you mean 'cordon'? events by name: alarm-1, cordon, "
        "alarm-2, rescue (or by index; hyosan check lists them)"
    )


def test_set_by_event_name_moves_the_cordon_of_hyosan_high():
    by_name = load_scenario("hyosan-high", {"events.cordon.at": "10:00"}).scenario
    by_index = load_scenario("hyosan-high", {"events.5.at": "10:00"}).scenario
    assert by_name.events[5].kind == "cordon" and by_name.events[5].at == "10:00"
    assert by_name.model_dump() == by_index.model_dump()
    names = event_names(by_name.events)
    assert names[:6] == ["patient_zero", "alarm-1", "alarm-2", "alarm-3", "alarm-4", "cordon"]
    assert names[-2:] == ["rescue-1", "rescue-2"]


def test_check_lists_the_timeline_with_index_and_name(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = run_cli(capsys, "check", "hyosan-high")
    assert code == 0, err
    rows = [line for line in out.splitlines() if line.startswith("│")]
    cells = [[c.strip() for c in row.strip("│").split("│")] for row in rows]
    listed = [(c[0], c[1]) for c in cells if c[0]]
    events = load_scenario("hyosan-high").scenario.events
    assert listed == [(str(i), n) for i, n in enumerate(event_names(events))]
    cordon = next(c for c in cells if c[1] == "cordon")
    assert cordon[2:4] == ["cordon", "at 13:00"]
