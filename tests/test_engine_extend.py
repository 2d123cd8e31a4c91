"""Extending and branching the engine: user tables, event kinds, checkpoints that resume bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from hyosan import timeline
from hyosan.engine import Simulation
from hyosan.errors import HyosanError
from hyosan.results import load, save
from hyosan.rules.state import Agents
from hyosan.scenario.load import load_scenario

ARRAYS = Agents._fields  # every population array


def corridor(seed=3, **overrides):
    from pathlib import Path

    toml = Path(__file__).parents[1] / "benchmarks" / "ensemble_school.toml"
    return Simulation(load_scenario(toml, {"clock.duration": "40min", **overrides}), seed=seed)


def test_a_restored_checkpoint_continues_bit_for_bit(tmp_path):
    whole = corridor()
    whole.run_until(whole.n_ticks)
    part = corridor()
    part.step(1200)  # 08:20, mid-outbreak
    path = part.checkpoint(tmp_path / "at-0820.ckpt")
    part.step(300)  # the saved run goes on: the checkpoint must not share its arrays
    back = Simulation.restore(path)
    assert back.tick == 1200
    back.run_until(back.n_ticks)
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(back.pop, name), getattr(whole.pop, name), err_msg=name)
    np.testing.assert_array_equal(back.counts, whole.counts)
    a, b = back.result(), whole.result()
    assert a.events.equals(b.events) and a.summary() == b.summary()
    assert (whole.result().events.kind == "bite").sum() > 5  # an outbreak really happened after 08:20


def test_a_damaged_or_foreign_checkpoint_is_refused_in_one_line(tmp_path):
    sim = corridor()
    sim.step(30)
    path = sim.checkpoint(tmp_path / "c.ckpt")
    data = path.read_bytes()
    (tmp_path / "flip.ckpt").write_bytes(data[:-10] + bytes(10))
    with pytest.raises(HyosanError, match=r"flip\.ckpt: damaged checkpoint"):
        Simulation.restore(tmp_path / "flip.ckpt")
    head, rest = data.split(b"\n", 1)
    fmt, _, digest = head.split(b" ")
    (tmp_path / "old.ckpt").write_bytes(b" ".join([fmt, b"0.0.1", digest]) + b"\n" + rest)
    with pytest.raises(HyosanError, match=r"old\.ckpt: a checkpoint of hyosan 0\.0\.1"):
        Simulation.restore(tmp_path / "old.ckpt")
    (tmp_path / "junk.ckpt").write_bytes(b"hello\n")
    with pytest.raises(HyosanError, match="not a hyosan checkpoint"):
        Simulation.restore(tmp_path / "junk.ckpt")


def test_collect_adds_a_table_to_the_result_and_the_folder(tmp_path):
    sim = corridor(**{"clock.duration": "20min"})
    sim.collect(
        "hallway",
        lambda s: {
            "zombies": int((s.pop.state == 2).sum()),
            "noisy_cells": int((s.arrays.noise.until >= s.tick).sum()),
        },
        every=300,
    )
    result = sim.run()
    table = result.tables["hallway"]
    assert table["tick"].tolist() == list(range(0, 1201, 300))
    zombies = result.counts.groupby("tick")["zombie"].sum()
    assert table["zombies"].tolist() == zombies.loc[table["tick"]].tolist()
    again = load(save(result, tmp_path / "run"))
    assert again.tables["hallway"].equals(table)


def test_a_registered_event_kind_is_validated_and_fired():
    fired = []

    @timeline.register("test_blackout", needs_area=True, doc="the lights go out")
    def blackout(sim, index, event):
        fired.append((sim.tick, event.area))
        sim.arrays.doors.state[:] = 2  # every door locked
        sim.arrays.flags.routes_changed[0] = 1
        return -1

    try:
        with pytest.raises(HyosanError, match="needs an 'area'"):
            corridor(**{"events": '[{kind="test_blackout", at="08:05"}]'})
        sim = corridor(**{"events": '[{kind="test_blackout", at="08:05", area="classroom 2"}]'})
        sim.step(400)
        assert fired == [(300, "classroom 2")] and (sim.arrays.doors.state == 2).all()
        assert sim.result().timeline[0]["fired_s"] == 300.0
    finally:
        timeline.HANDLERS.pop("test_blackout")
        timeline.KINDS.pop("test_blackout")


EXAMPLES = __import__("pathlib").Path(__file__).parents[1] / "examples" / "behaviours"


def mean_choke_distance(sim):
    """Mean over minutes of the zombies' mean distance (m) to the nearest door or stair tile."""
    out = []
    while not sim.done:
        sim.step(60)
        z = sim.pop.state == 2
        if z.any():
            out.append(float(sim.arrays.fields.choke[sim.pop.cell[z]].mean()))
    return float(np.mean(out))


@pytest.mark.slow
def test_a_user_behaviour_from_the_scenario_changes_where_zombies_go(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    builtin = mean_choke_distance(corridor(seed=2))
    drawn = corridor(seed=2, **{"behaviour.zombie_step": "drawn_to_stairs:drawn_to_stairs"})
    assert drawn.advance.__module__.startswith("hyosan_behaviour_")  # the cached generated kernel
    assert mean_choke_distance(drawn) < 0.75 * builtin
    # A behaviour that always defers to the built-in rules changes nothing, draw for draw.
    same = corridor(seed=2, **{"behaviour.zombie_step": "drawn_to_stairs:no_say"})
    plain = corridor(seed=2)
    same.run_until(same.n_ticks)
    plain.run_until(plain.n_ticks)
    np.testing.assert_array_equal(same.counts, plain.counts)
    np.testing.assert_array_equal(same.pop.cell, plain.pop.cell)


def test_a_behaviour_that_cannot_be_loaded_names_the_field(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    with pytest.raises(
        HyosanError, match=r"behaviour\.zombie_step: cannot load behaviour 'drawn_to_stairs:nope'"
    ):
        corridor(**{"behaviour.zombie_step": "drawn_to_stairs:nope"})
    with pytest.raises(HyosanError, match=r"behaviour\.human_step"):
        corridor(**{"behaviour.human_step": "flee!"})


EVENTS = '[{kind="patient_zero", at="08:01", area="classroom 1"}, {kind="lock", at="08:30", area="*"}]'


def test_a_fork_is_another_future_of_the_same_past(tmp_path):
    sim = corridor(**{"events": EVENTS})
    sim.step(600)  # 08:10
    path = sim.checkpoint(tmp_path / "c.ckpt")
    a = Simulation.restore(path).fork(1)
    a.run_until(a.n_ticks)
    again = Simulation.restore(path).fork(1)
    again.run_until(again.n_ticks)
    b = Simulation.restore(path).fork(2)
    b.run_until(b.n_ticks)
    np.testing.assert_array_equal(a.counts, again.counts)  # a future is its seed's
    np.testing.assert_array_equal(a.counts[:601], b.counts[:601])  # the shared past
    assert not np.array_equal(a.pop.cell, b.pop.cell)  # two futures
    # --set at the branch point: the lock comes at 08:15 instead of 08:30, an event already past stays.
    early = Simulation.restore(path).fork(1, {"events.1.at": "08:15", "zombies.bite_prob": "0.9"})
    assert early.prm.z_bite == pytest.approx(-np.log(1 - 0.9))  # a chance per second, as a rate
    early.run_until(early.n_ticks)
    assert [t["fired_s"] for t in early.result().timeline] == [60.0, 900.0]
    with pytest.raises(HyosanError, match=r"clock.duration: cannot change after the branch point"):
        Simulation.restore(path).fork(1, {"clock.duration": "2h"})


def test_run_checkpoint_at_then_branch_into_a_store(tmp_path, capsys, monkeypatch):
    import json

    import pandas as pd

    from conftest import run_cli

    monkeypatch.chdir(tmp_path)
    toml = __import__("pathlib").Path(__file__).parents[1] / "benchmarks" / "ensemble_school.toml"
    code, _, err = run_cli(
        capsys,
        "run",
        str(toml),
        "--seed",
        "3",
        "--set",
        "clock.duration=30min",
        "--checkpoint-at",
        "08:03",
        "--out",
        "run",
        "--no-report",
        "-q",
    )
    assert code == 0, err
    assert (tmp_path / "run" / "checkpoint-0803.ckpt").is_file()
    assert "checkpoint-0803.ckpt" in json.loads((tmp_path / "run" / ".hyosan.json").read_text())["files"]
    code, _, err = run_cli(
        capsys, "branch", "run", "--runs", "4", "--workers", "0", "--out", "br", "-q", "--points", "31"
    )
    assert code == 0, err
    runs = pd.read_parquet(tmp_path / "br" / "runs.parquet")
    assert len(runs) == 4 and (runs["status"] == "ok").all() and runs["seed"].nunique() == 4
    bands = pd.read_parquet(tmp_path / "br" / "bands.parquet")
    zombies = bands[bands["series"] == "zombies"]
    past, future = zombies[zombies["t"] < 180], zombies[zombies["t"] > 200]
    assert (past["q05"] == past["q95"]).all()  # one history
    assert (future["q05"] < future["q95"]).any()  # then many
    assert 'data-branch-s="180"' in (tmp_path / "br" / "report.html").read_text()
    code, _, err = run_cli(capsys, "branch", "nowhere", "--out", "x")
    assert code == 2 and "nowhere: no such checkpoint" in err
