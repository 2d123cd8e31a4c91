"""What a run leaves behind: the tables, the run folder, the analysis and the chronicle."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import hyosan
import results_school as rs
from hyosan.engine import Simulation
from hyosan.errors import HyosanError
from hyosan.report import write_report
from hyosan.results import analysis, save
from hyosan.scenario import load_scenario
from hyosan.states import STATE_NAMES, State


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return rs.run_result(tmp_path_factory)


@pytest.fixture(scope="module")
def folder(result, tmp_path_factory):
    return save(result, tmp_path_factory.mktemp("saved") / "run", report=write_report)


# -- the tables --------------------------------------------------------------------------------
def test_run_exercises_every_kind_of_event(result):
    kinds = set(result.events["kind"].astype(str))
    assert {"bite", "turn", "kill", "death", "escape", "rescue", "scenario", "door_open"} <= kinds
    assert (result.agents["fate"] == "halfbie").any()


def test_counts_table_is_time_by_role_with_groups(result):
    c = result.counts
    roles = result.role_names
    assert len(c) == (int(result.duration_s / result.tick_seconds) + 1) * len(roles)
    assert list(c.columns[:3]) == ["tick", "time_s", "role"] and set(STATE_NAMES) <= set(c.columns)
    assert (c["human_group"] == c["human"] + c["bitten"]).all()
    assert (c["zombie_group"] == c["zombie"] + c["halfbie"]).all()
    # every tick accounts for every agent
    assert (c.groupby("tick")[list(STATE_NAMES)].sum().sum(axis=1) == result.n_agents).all()


def test_counts_equal_the_events_replayed(result):
    """Start from tick 0's counts, apply each event's state change: the counts table follows.

    An event logged at tick t happens during tick t, so it shows in the counts from tick t + 1.
    """
    agents = result.agents
    role = agents["role"].cat.codes.to_numpy()
    state = result.frame_states[0].astype(np.int64).copy()
    n_roles = len(result.role_names)
    table = np.zeros((len(STATE_NAMES), n_roles), dtype=np.int64)
    np.add.at(table, (state, role), 1)
    counts = result.counts
    by_tick = {t: g for t, g in result.events.groupby("tick")}
    expected = counts[list(STATE_NAMES)].to_numpy().reshape(-1, n_roles, len(STATE_NAMES))
    change = {
        "bite": ("b", None),
        "turn": ("a", None),
        "kill": ("b", State.DEAD),
        "death": ("a", State.DEAD),
        "escape": ("a", State.ESCAPED),
        "rescue": ("a", State.RESCUED),
    }
    checked = 0
    for tick in range(expected.shape[0]):
        assert (table.T == expected[tick]).all(), f"tick {tick}"
        checked += 1
        for e in by_tick.get(tick, pd.DataFrame()).itertuples():
            if e.kind not in change:
                continue
            col, new = change[e.kind]
            who = getattr(e, col)
            if e.kind == "bite":
                new = State.BITTEN
            elif e.kind == "turn":
                new = State.HALFBIE if e.detail == "halfbie" else State.ZOMBIE
            table[state[who], role[who]] -= 1
            state[who] = new
            table[new, role[who]] += 1
    assert checked == expected.shape[0]
    # ... and the agents table ends where the replay ends.
    assert (np.asarray(STATE_NAMES)[state] == agents["fate"].astype(str).to_numpy()).all()


def test_events_name_the_agents_and_the_place(result):
    ev = result.events
    bites = ev[(ev["kind"] == "bite") & (ev["a"] >= 0)]
    names = result.agents["name"]
    assert (bites["a_name"].to_numpy() == names.iloc[bites["a"]].to_numpy()).all()
    assert (bites["b_name"].to_numpy() == names.iloc[bites["b"]].to_numpy()).all()
    assert bites["room"].notna().all() and bites["floor"].isin(["1F", "2F"]).all()
    first = ev[ev["kind"] == "bite"].iloc[0]
    assert first["a"] == -2 and first["a_name"] == "(scenario)" and first["b_name"] == rs.XSS
    assert first["room"] == "classroom 1-1" and first["clock" if "clock" in ev else "time_s"] == 60.0
    doors = ev[ev["kind"] == "door_open"]
    assert (doors["door"] >= 0).all() and (doors["b"] == -1).all()
    scen = ev[ev["kind"] == "scenario"]
    assert scen["detail"].tolist()[:2] == ["A rat bites a student.", "The army seals the town."]


def test_agents_table(result):
    a = result.agents
    assert len(a) == result.n_agents and (a["agent"] == np.arange(len(a))).all()
    assert a.loc[a["character"], "name"].tolist() == [rs.XSS, "Nam On-jo"]
    assert set(a["role"].astype(str)) == {"student", "teacher"} and a["adult"].sum() == 3
    bitten = a[a["bitten_s"].notna()]
    assert (bitten["bitten_by"] != -1).all() and (a.loc[a["bitten_s"].isna(), "bitten_by"] == -1).all()
    # who bit them, and how many each bit, agree with the bite events
    bites = result.events[result.events["kind"] == "bite"]
    assert (np.bincount(bites["a"][bites["a"] >= 0], minlength=len(a)) == a["bites"]).all()
    gone = a[a["fate"].isin(["dead", "escaped", "rescued"])]
    assert gone["fate_s"].notna().all() and gone["last_room"].notna().all()
    assert a.loc[a["fate"] == "human", "fate_s"].isna().all()
    assert a.loc[a["start_room"] == "classroom 2-1", "group_label"].eq("classroom 2-1").all()


def test_frames_table(result):
    f = result.frames
    n = result.n_agents
    assert len(f) == len(result.frame_ticks) * n
    assert np.diff(result.frame_ticks).max() == 10  # frame_every 10 s at 1 s ticks
    assert f["x"].isna().eq(f["floor"].isna()).all()
    off = f[f["floor"].isna()]
    assert len(off) and off["state"].isin(["escaped", "rescued"]).all()
    last = f[f["tick"] == result.frame_ticks[-1]]
    assert (last["state"].astype(str).to_numpy() == result.agents["fate"].astype(str).to_numpy()).all()


# -- the run folder ----------------------------------------------------------------------------
def test_folder_holds_every_file(folder):
    names = {p.name for p in folder.iterdir()}
    assert {
        "summary.json",
        "scenario.toml",
        "map.txt",
        "counts.parquet",
        "counts.csv",
        "events.parquet",
        "agents.parquet",
        "frames.npz",
        "world.npz",
        "chronicle.md",
        "report.html",
    } <= names
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temporary left


def test_round_trip_gives_equal_tables(result, folder):
    back = hyosan.load(folder)
    assert isinstance(back, hyosan.Result)
    for name in ("counts", "events", "agents"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(result, name), check_categorical=True)
    pd.testing.assert_frame_equal(back.frames, result.frames)
    assert json.loads(json.dumps(result.summary())) == back.summary()
    for name in ("frame_ticks", "frame_cells", "frame_states", "frame_modes"):
        assert np.array_equal(getattr(back, name), getattr(result, name))
    assert np.array_equal(back.world.tiles, result.world.tiles)
    pd.testing.assert_frame_equal(back.world.rooms, result.world.rooms)
    assert back.chronicle() == result.chronicle() == (folder / "chronicle.md").read_text(encoding="utf-8")


def test_csv_tables_read_back(result, folder):
    counts = pd.read_csv(folder / "counts.csv")
    assert (counts[list(STATE_NAMES)].to_numpy() == result.counts[list(STATE_NAMES)].to_numpy()).all()


def test_resolved_scenario_reruns_the_same_run(result, folder):
    """scenario.toml has every default filled in, the seed and the version, and reruns exactly."""
    text = (folder / "scenario.toml").read_text(encoding="utf-8")
    assert f"seed = {rs.SEED}" in text and f'hyosan = "{hyosan.__version__}"' in text
    assert "bite_prob" in text and "frame_every" in text  # defaults written out
    again = Simulation(load_scenario(folder / "scenario.toml"), seed=None).run()
    pd.testing.assert_frame_equal(again.events, result.events)
    assert again.summary()["seed"] == rs.SEED


def test_report_rebuilt_from_the_folder_alone(result, folder, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for p in folder.iterdir():  # without the map and the scenario's source: the folder is enough
        if p.name not in ("map.txt", "report.html"):
            (copy / p.name).write_bytes(p.read_bytes())
    done = subprocess.run(
        [sys.executable, "-m", "hyosan", "report", str(copy)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert (copy / "report.html").read_text(encoding="utf-8") == (folder / "report.html").read_text(
        encoding="utf-8"
    )


def test_an_interrupted_save_keeps_the_old_folder(result, folder, tmp_path, monkeypatch):
    """A save of a *different* result, interrupted after its first files, leaves every byte of
    the old folder as it was, and nothing beside it."""
    import dataclasses

    target = tmp_path / "run"
    save(result, target)
    before = {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file()}
    other = dataclasses.replace(result, summary_data={**result.summary_data, "seed": 99})

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_parquet", boom)  # after summary.json and scenario.toml
    with pytest.raises(KeyboardInterrupt):
        save(other, target)
    after = {p.relative_to(target): p.read_bytes() for p in target.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no half-written folder beside it


@pytest.mark.parametrize("damage", ["missing", "nofile", "badjson"])
def test_report_of_a_bad_folder_is_one_line_and_status_2(folder, tmp_path, damage):
    bad = tmp_path / "bad"
    if damage != "missing":
        bad.mkdir()
        for p in folder.iterdir():
            (bad / p.name).write_bytes(p.read_bytes())
        if damage == "nofile":
            (bad / "events.parquet").unlink()
        else:
            (bad / "summary.json").write_text("{oops", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "hyosan", "report", str(bad)], capture_output=True, text=True
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad.name) in lines[0]
    assert {"nofile": "events.parquet", "badjson": "summary.json", "missing": "no such run folder"}[
        damage
    ] in lines[0]


# -- analysis ----------------------------------------------------------------------------------
def test_every_bitten_agent_has_its_biter_in_the_tree(result):
    tree = result.tree()
    a = result.agents
    assert set(tree["agent"]) == set(a.loc[a["bitten_s"].notna(), "agent"])
    gen = dict(zip(tree["agent"], tree["generation"], strict=True))
    infected = set(tree["agent"]) | set(a.loc[a["start_state"] != "human", "agent"])
    for row in tree.itertuples():
        if row.biter == -2:
            assert row.generation == 0
        else:
            assert row.biter in infected
            assert row.generation == gen.get(row.biter, 0) + 1
            assert a.loc[row.biter, "bitten_s"] <= row.bitten_s  # the biter was infected first
    assert tree["offspring"].sum() == (tree["biter"] >= 0).sum()
    dist = analysis.offspring(result)
    assert dist.sum() == len(infected) and (dist.index * dist).sum() == (tree["biter"] >= 0).sum()


def test_reproduction_number_counts_cohorts(result):
    rt = analysis.reproduction_number(result, window_s=60)
    tree = result.tree()
    assert rt["infected"].sum() == len(tree)
    assert rt["secondary"].sum() == tree["offspring"].sum()
    assert np.allclose(rt["R"], rt["secondary"] / rt["infected"])


def test_kaplan_meier_matches_a_hand_computed_case():
    # times 1, 2, 2+, 3, 4+, 5 (+ = censored). At risk 6, 5, 3, 1 at the events 1, 2, 3, 5:
    # S = 5/6, 5/6 * 4/5, then * 2/3, unchanged at the censoring at 4, then 0 at 5.
    km = analysis.kaplan_meier(np.array([1, 2, 2, 3, 4, 5.0]), np.array([1, 1, 0, 1, 0, 1], dtype=bool))
    assert km["time_s"].tolist() == [0, 1, 2, 3, 4, 5]
    assert np.allclose(km["survival"], [1, 5 / 6, 4 / 6, 4 / 9, 4 / 9, 0])
    assert (km["lower"] <= km["survival"] + 1e-12).all() and (km["survival"] <= km["upper"] + 1e-12).all()


def test_survival_censors_escape_rescue_and_the_end(result):
    t = analysis.survival_times(result)
    a = result.agents.set_index("agent")
    fate = a.loc[t["agent"], "fate"].astype(str).to_numpy()
    bitten = a.loc[t["agent"], "bitten_s"].to_numpy()
    left = np.isin(fate, ["escaped", "rescued"]) & np.isnan(bitten)
    assert not t["observed"][left].any()
    assert np.allclose(t["time_s"][left], a.loc[t["agent"][left], "fate_s"])
    still = (fate == "human") & np.isnan(bitten)
    assert not t["observed"][still].any() and (t["time_s"][still] == result.duration_s).all()
    assert t["observed"][~np.isnan(bitten)].all()
    curves = analysis.survival(result)
    assert set(curves["group"]) == {"everyone", "adults", "students"}
    assert curves.groupby("group")["survival"].apply(lambda s: s.is_monotonic_decreasing).all()


def test_logrank_matches_the_hand_computed_statistic(monkeypatch):
    """Adults 1, 3+, 4, 6 and students 2, 2, 3, 5+, 7 (+ = censored). At each event time the
    adults' expected events are n_A d / n and the variance n_A n_B d (n - d) / (n^2 (n - 1)):

        t   n_A n_B  d   E_A      V
        1    4   5   1   4/9      20/81
        2    3   5   2   3/4      180/448
        3    3   3   1   1/2      1/4      (the adult censored at 3 is still at risk)
        4    2   2   1   1/2      1/4
        6    1   1   1   1/2      1/4
        7    0   1   1   0        0

    O_A = 3, so chi^2 = (O - E)^2 / V = 0.0667507...
    """
    times = pd.DataFrame(
        {
            "agent": range(9),
            "role": ["teacher"] * 4 + ["student"] * 5,
            "adult": [True] * 4 + [False] * 5,
            "time_s": [1, 3, 4, 6, 2, 2, 3, 5, 7.0],
            "observed": [True, False, True, True, True, True, True, False, True],
        }
    )
    monkeypatch.setattr(analysis, "survival_times", lambda result: times)
    expected = 4 / 9 + 3 / 4 + 1 / 2 + 1 / 2 + 1 / 2
    variance = 20 / 81 + 180 / 448 + 1 / 4 + 1 / 4 + 1 / 4
    chi2 = (3 - expected) ** 2 / variance
    for by in ("adult", "role"):
        test = analysis.logrank(None, by=by)
        assert test["statistic"] ** 2 == pytest.approx(chi2, rel=1e-9)
        assert test["pvalue"] == pytest.approx(math.erfc(math.sqrt(chi2 / 2)), rel=1e-9)  # chi^2, 1 dof
    # Ignoring the censoring would give another answer: the censoring matters here.
    monkeypatch.setattr(analysis, "survival_times", lambda result: times.assign(observed=True))
    assert analysis.logrank(None)["statistic"] ** 2 != pytest.approx(chi2, rel=1e-3)


def test_logrank_on_the_run_matches_scipy_on_our_own_grouping(result):
    """The fixture run's adults against its students, with times taken from the agents table here."""
    from scipy import stats

    a = result.agents[result.agents["start_state"] == "human"]
    bitten = a["bitten_s"].to_numpy()
    fate = a["fate"].astype(str).to_numpy()
    gone = np.isin(fate, ["escaped", "rescued", "dead"])
    time = np.where(~np.isnan(bitten), bitten, np.where(gone, a["fate_s"], result.duration_s))
    observed = ~np.isnan(bitten) | (fate == "dead")
    adult = a["adult"].to_numpy(bool)
    data = [
        stats.CensoredData(uncensored=time[m & observed], right=time[m & ~observed]) for m in (adult, ~adult)
    ]
    ref = stats.logrank(*data)
    test = analysis.logrank(result)
    assert test["groups"] == ["adults", "students"]
    assert test["statistic"] == pytest.approx(ref.statistic, rel=1e-9)
    assert test["pvalue"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert observed[adult].any() and observed[~adult].any() and (~observed).any()  # a real test


def test_places_add_up(result):
    rooms = analysis.places(result)
    ev = result.events
    assert rooms["bitten"].sum() == (ev["kind"] == "bite").sum()
    assert rooms["turned"].sum() == (ev["kind"] == "turn").sum()
    assert rooms["died"].sum() == ev["kind"].isin(["kill", "death"]).sum()
    a = result.agents
    assert (
        rooms["survived"].sum()
        == (a["fate"].isin(["human", "escaped", "rescued"]) & (a["start_state"] == "human")).sum()
    )
    floors = analysis.places_by_floor(result)
    assert floors["floor"].tolist() == ["1F", "2F"]
    assert (floors.drop(columns="floor").sum() == rooms.drop(columns=["floor", "room"]).sum()).all()
    grid = analysis.heat_grid(result, "bitten")
    assert grid.shape == result.world.shape and grid.sum() == (ev["kind"] == "bite").sum()


def test_milestones(result):
    m = result.milestones().set_index("key")["time_s"]
    ev = result.events
    assert m["first_bite"] == ev.loc[ev["kind"] == "bite", "time_s"].min() == 60
    assert m["first_turn"] == ev.loc[ev["kind"] == "turn", "time_s"].min()
    assert m["cordon"] == 150 and m["rescue"] == 1500 and m["strike"] == 1680
    bitten = np.sort(result.agents["bitten_s"].dropna())
    assert m["infected_10"] == bitten[int(np.ceil(result.n_agents * 0.1)) - 1]
    assert result.summary()["half_infected_s"] is None and np.isnan(m["infected_50"])  # see below
    assert result.summary()["milestones"] == {k: v for k, v in m.items() if not np.isnan(v)}
    # the last human on 1F: humans there in that frame, none in any later frame
    t = m["last_human_1F"]
    f = result.frames
    human_1f = f[f["state"].isin(["human", "bitten"]) & (f["floor"] == "1F")]
    assert human_1f["time_s"].max() == t


def crowded_classroom(make_scenario, students: int):
    """``students`` students and 6 zombies in one classroom for five minutes, bites certain."""
    return make_scenario(
        rs.MAP,
        clock={"duration": "5min"},
        behaviour={"calm_move": 0.0},
        zombies={"bite_prob": 1.0},
        population=[
            {"role": "student", "count": students, "areas": ["classroom 1-1"]},
            {"role": "student", "count": 6, "areas": ["classroom 1-1"], "state": "zombie"},
        ],
    )


def test_half_infected_milestone(make_scenario):
    """A run where more than half are bitten: the milestone is the bite that makes it half."""
    loaded = crowded_classroom(make_scenario, 29)
    res = Simulation(loaded, seed=5).run()
    bitten = np.sort(res.agents["bitten_s"].dropna().to_numpy())
    assert res.n_agents == 35 and bitten.size >= 18  # half of 35 is 17.5: the 18th bite
    assert len(np.unique(bitten[16:18])) == 2  # the 17th and 18th bites at different times
    half = res.summary()["half_infected_s"]
    assert half == bitten[17] and half > bitten[0]
    m = res.milestones().set_index("key")["time_s"]
    assert m["infected_50"] == half and m["infected_10"] == bitten[3]  # ceil(3.5) = 4th bite


# -- the chronicle -----------------------------------------------------------------------------
def test_chronicle_follows_characters_and_tells_milestones(result):
    text = result.chronicle()
    lines = text.splitlines()
    assert lines[0].startswith("# ") and "the chronicle" in lines[0]
    escaped = rs.XSS.replace("<", "\\<").replace(">", "\\>").replace("=", "=")
    assert f"**{escaped}**" in text and rs.XSS not in text  # markup escaped for Markdown
    assert "- **08:01:00**: A rat bites a student." in lines
    assert any("**Milestone:** first to turn." in line for line in lines)
    # On-jo, in the fixture run, is bitten, turns and dies (destroyed by a human, or in the
    # strike): each at its clock time, in the words of how it happened.
    on_jo = result.agents.set_index("name").loc["Nam On-jo"]
    assert str(on_jo["fate"]) == "dead" and on_jo["bitten_s"] < on_jo["fate_s"]
    ev = result.events
    struck = ((ev["kind"] == "death") & (ev["a_name"] == "Nam On-jo")).any()
    end = "**Nam On-jo** dies" if struck else "**Nam On-jo**, a zombie now, is destroyed"

    def clock(seconds):
        s = 8 * 3600 + int(seconds)
        return f"- **{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}**: "

    turned = result.events[(result.events["kind"] == "turn") & (result.events["a_name"] == "Nam On-jo")]
    assert len(turned) == 1
    for at, said in (
        (on_jo["bitten_s"], "**Nam On-jo** is bitten by"),
        (turned["time_s"].iloc[0], "**Nam On-jo** turns"),
        (on_jo["fate_s"], end),
    ):
        assert any(line.startswith(clock(at) + said) for line in lines), said
    assert lines[-1].startswith("**The end.**")
    times = [line[4:12] for line in lines if line.startswith("- **")]
    assert times == sorted(times)


def test_chronicle_summarises_crowds(make_scenario):
    loaded = crowded_classroom(make_scenario, 30)
    res = Simulation(loaded, seed=0).run()
    bites = (res.events["kind"] == "bite").sum()
    assert bites >= 10
    text = res.chronicle()
    crowd = [line for line in text.splitlines() if "students of classroom 1-1 are bitten" in line]
    assert crowd and sum(int(line.split("**: ")[1].split()[0]) for line in crowd) <= bites
    assert len(text.splitlines()) < 10 + bites  # summarised: fewer lines than bites


def test_video_has_one_frame_per_recorded_frame(result, folder, tmp_path):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    out = tmp_path / "replay.mp4"
    command = ["report", str(folder), "--out", str(tmp_path / "r.html"), "--video", str(out), "--fps", "30"]
    done = subprocess.run([sys.executable, "-m", "hyosan", *command], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert frames == len(result.frame_ticks) and seconds == pytest.approx(frames / 30, abs=0.1)
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    assert tuple(meta["size"]) == (1920, 1080)  # 1080p by default
    first40 = zip(reader, range(40), strict=False)
    images = [np.frombuffer(f, np.uint8).reshape(1080, 1920, 3) for f, _ in first40]
    reader.close()
    header = [img[:81, 960:] for img in images]  # the clock, top right: it changes as time goes
    assert np.abs(header[0].astype(int) - header[30].astype(int)).max() > 100
    footer = images[0][1016:].reshape(-1, 3).astype(int)  # the legend: every state's colour is there
    for colour in ("#2b7bba", "#c0392b", "#8e44ad"):
        rgb = np.array([int(colour[k : k + 2], 16) for k in (1, 3, 5)])
        assert (np.abs(footer - rgb).sum(axis=1) < 40).any(), colour


def test_video_grid_and_labels(result):
    from hyosan.report.video import _Canvas, frames_rgb, grid_layout

    assert grid_layout([(60, 120), (12, 120), (12, 120), (12, 120), (12, 120)], (1920, 1080)) == (2, 7)
    canvas = _Canvas(result, (1280, 720))
    assert canvas.scale >= 10 and len(canvas.overlay_idx[0]) > 0  # room labels drawn
    first = next(frames_rgb(result, (1280, 720)))
    assert first.shape == (720, 1280, 3)
    with pytest.raises(HyosanError, match="does not fit"):
        _Canvas(result, (40, 30))


def test_folder_of_a_tiled_map_carries_its_tilesets(tmp_path):
    """A run on a Tiled map with an external tileset: the folder's scenario.toml still loads."""
    import copy
    import shutil
    from pathlib import Path

    from conftest import BASE
    from hyosan.scenario.load import LoadedScenario, validate

    data = Path(__file__).parent / "data"
    for name in ("small_school_b64.tmj", "school_tiles.tsj"):
        shutil.copy2(data / name, tmp_path / name)
    raw = copy.deepcopy(BASE)
    raw["world"] = {"map": "small_school_b64.tmj"}
    raw["population"] = [{"role": "student", "count": 5, "areas": ["classroom 2-A"]}]
    tiled = LoadedScenario(validate(raw, "t.toml"), "t.toml", tmp_path, "t")
    folder = save(
        Simulation(tiled, seed=1).run(),
        tmp_path / "run",
    )
    assert (folder / "school_tiles.tsj").is_file()
    again = Simulation(load_scenario(folder / "scenario.toml")).run()
    assert again.summary()["final"] == json.loads((folder / "summary.json").read_text())["final"]
