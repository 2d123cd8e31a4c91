"""What a worker reuses between runs (issue 22's overhead): the validated scenario and the World of
a school, the rows a calibration keeps in memory only, the summary without the tables. Each must
give the run a fresh worker would: the same numbers, draw for draw."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hyosan.calibrate.runner import CalibrationRunner
from hyosan.engine import Simulation
from hyosan.ensemble import runners
from hyosan.ensemble.runners import ScenarioRunner, core_summary, school_simulation
from hyosan.ensemble.spec import RunTask
from hyosan.ensemble.store import as_record, encode, execute, work
from hyosan.scenario import load_scenario

TINY = Path(__file__).parent / "data" / "tiny_outbreak.toml"


def _arrays_digest(obj) -> dict[str, str]:
    """SHA-256 of every NumPy array an object holds (attributes, lists, dicts), by path."""
    out: dict[str, str] = {}
    seen: set[int] = set()

    def walk(value, path):
        if id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, np.ndarray):
            out[path] = hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}[{k!r}]")
        elif isinstance(value, list | tuple):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")
        elif hasattr(value, "__dict__"):
            for k, v in vars(value).items():
                walk(v, f"{path}.{k}")

    walk(obj, "world")
    return out


def test_a_worker_builds_a_schools_world_once_and_its_runs_are_fresh_runs():
    session = runners.new_session()
    over = {"zombies.bite_prob": "0.6"}
    first = school_simulation(str(TINY), over, 1, session)
    world, loaded = first.world, first.loaded
    before = _arrays_digest(world)
    assert len(before) > 10  # the walk sees the World's arrays
    first.run()
    # Another seed, other overrides: the same World object (one per map and session) ...
    again = school_simulation(str(TINY), {"zombies.bite_prob": "0.3"}, 2, session)
    assert again.world is world
    assert school_simulation(str(TINY), over, 3, session).loaded is loaded  # one load per overrides
    # ... which no run changed, so that a run on it is the run on a fresh one.
    assert _arrays_digest(world) == before
    shared = again.run().summary()
    fresh = Simulation(load_scenario(str(TINY), {"zombies.bite_prob": "0.3"}), seed=2).run().summary()
    assert shared == fresh
    # A new session (a new sweep or study) reads the files again; no session caches nothing.
    assert school_simulation(str(TINY), over, 1, runners.new_session()).world is not world
    assert school_simulation(str(TINY), over, 1, "").world is not world


def test_worker_caches_are_bounded():
    session = runners.new_session()
    for i in range(runners.LOADED_KEPT + 3):
        school_simulation(str(TINY), {"zombies.bite_prob": str(0.1 + i / 100)}, 0, session)
    assert len(runners._LOADED) <= runners.LOADED_KEPT and len(runners._WORLDS) <= runners.WORLDS_KEPT


def test_summary_without_tables_is_the_results_summary():
    """core_summary (what a sweep's row is built from) is the Result's summary, less the parts
    that need the run's tables (timeline, milestones, characters...)."""
    sim = Simulation(load_scenario("hyosan-high", {"clock.duration": "12min"}), seed=5)
    sim.run_until(sim.n_ticks)
    core = core_summary(sim)
    full = sim.result().summary()
    assert core == {k: full[k] for k in core}
    assert {"final", "survivors", "groups", "events", "first_turn_s"} <= set(core)


def test_a_sweeps_row_is_the_same_with_or_without_the_full_result():
    runner = ScenarioRunner(str(TINY))
    task = RunTask("0" * 16, 0, 0, 11, {"zombies.bite_prob": 0.5})
    light = work(runner, task).record
    kept = work(runner, RunTask("0" * 16, 0, 0, 11, {"zombies.bite_prob": 0.5}, keep=True))
    assert kept.output.kept is not None
    for k in set(light) | set(kept.record):
        if k != "elapsed_s":
            np.testing.assert_equal(light[k], kept.record[k], err_msg=k)


@pytest.mark.parametrize(
    "kind, target, params, extra",
    [
        ("scenario", str(TINY), {"zombies.bite_prob": 0.5}, {"times": (61.0, 333.0)}),
        ("model", "sir", {"beta": 1.5}, {"t_end": 14.0, "method": "ssa"}),
    ],
)
def test_a_calibrations_row_in_memory_is_the_row_the_store_would_encode(kind, target, params, extra):
    """A study reads its runs' rows in memory only: the worker skips the Parquet file, and the row
    (with only the metrics the targets read) holds the values the full, encoded row holds."""
    full = CalibrationRunner(kind=kind, target=target, **extra)
    wanted = ("final.zombie", "survivors_students") if kind == "scenario" else ("final_R", "final.S")
    lean = CalibrationRunner(kind=kind, target=target, metrics=wanted, **extra)
    task = RunTask("t", 0, 0, 9, params)
    encoded = encode(execute(full, task))
    assert encoded.parquet is not None
    light = work(full, task)
    assert light.parquet is None and not CalibrationRunner.parquet
    np.testing.assert_equal({**light.record, "elapsed_s": 0}, {**encoded.record, "elapsed_s": 0})
    row = work(lean, task).record
    assert {k for k in row if not k.startswith("ts.")} - set(encoded.record) == set()
    assert set(wanted) <= set(row) and "agents" not in row and "final_S" not in row
    for k in row:
        if k != "elapsed_s":
            np.testing.assert_equal(row[k], encoded.record[k], err_msg=k)
    # A metric no run has: every metric comes back, so the targets' error can name them.
    odd = CalibrationRunner(kind=kind, target=target, metrics=("final.nothing",), **extra)
    assert set(as_record(execute(odd, task)).record) == set(light.record)


def test_a_school_study_is_the_same_in_this_process_and_on_two_workers(tmp_path):
    """Each worker keeps its own scenario and World: the study must not notice who ran which seed
    (the tiny school, 5 trials of 4 seeds, a summary target and a data target)."""
    from hyosan.calibrate import calibrate

    (tmp_path / "z.csv").write_text("time,count,value\n120,zombies,3\n300,zombies,6\n", encoding="utf-8")
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f"""
[fit]
scenario = "{TINY.as_posix()}"

[study]
trials = 5
seeds = 4
seed = 4
startup_trials = 3
heldout = 2

[[parameter]]
key = "zombies.bite_prob"
low = 0.1
high = 0.9

[[target]]
data = "z.csv"
column = "zombies"
count = "zombies"
likelihood = "poisson"

[[target]]
metric = "survivors_students"
statistic = "mean"
range = [5, 15]
""",
        encoding="utf-8",
    )
    inline = calibrate(cfg, tmp_path / "inline", workers=0, report=False)
    two = calibrate(cfg, tmp_path / "two", workers=2, report=False)
    a, b = (pd.read_csv(tmp_path / n / "trials.csv") for n in ("inline", "two"))
    pd.testing.assert_frame_equal(a, b)
    assert inline.best_params == two.best_params and inline.targets == two.targets
    fits = [pd.read_parquet(tmp_path / n / "fit.parquet") for n in ("inline", "two")]
    pd.testing.assert_frame_equal(*fits)
