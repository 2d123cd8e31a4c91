"""Ensembles: seeds, executors, the resumable store, failures, sensitivity and the commands.

The sweeps run ``tests/data/tiny_outbreak.toml`` (23 people on the small test school, about
10 ms a run), so that process pools and a Dask cluster can be tested in seconds.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import run_cli
from hyosan.ensemble.runners import metric_names
from hyosan.ensemble.sensitivity import sensitivity
from hyosan.ensemble.spec import parse_vary, run_id, run_seed
from hyosan.ensemble.sweep import function_sweep, model_spec, model_sweep, scenario_spec, sweep
from hyosan.errors import HyosanError

TINY = Path(__file__).parent / "data" / "tiny_outbreak.toml"
#: A sweep with a value the scenario loader rejects (bite_prob 1.5 > 1): those runs fail.
VARY = {"zombies.bite_prob": [0.3, 0.9, 1.5], "roles.teacher.courage": [0.2, 0.8]}


def stable(frame: pd.DataFrame) -> pd.DataFrame:
    """A runs table without its one timing column (the rest must not depend on who ran it)."""
    return frame.drop(columns="elapsed_s")


# -- seeds and specs ---------------------------------------------------------------------------------
def test_seeds_depend_on_the_run_only():
    a = {"zombies.bite_prob": 0.3, "roles.teacher.courage": 0.8}
    b = dict(reversed(list(a.items())))  # the same parameters in another order
    assert run_seed(7, a, 0) == run_seed(7, b, 0) and run_id(a, 0) == run_id(b, 0)
    seeds = {run_seed(7, a, r) for r in range(50)} | {run_seed(7, {**a, "x": 1}, 0), run_seed(8, a, 0)}
    assert len(seeds) == 52  # replicates, parameters and the root seed all change it
    assert all(0 <= s < 2**63 for s in seeds)
    # Fixed value: a change in the derivation would silently change every stored sweep's runs.
    assert run_id({"beta": 0.01}, 3) == "cd7fab05ad30d030"


def test_seeds_are_the_same_in_every_process():
    """A run's seed is derived from the run alone: another process (another worker, a resumed
    sweep tomorrow) derives the same one."""
    code = "from hyosan.ensemble.spec import run_seed; print(run_seed(7, {'zombies.bite_prob': 0.3}, 2))"
    here = run_seed(7, {"zombies.bite_prob": 0.3}, 2)
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert int(out.stdout) == here


def test_vary_syntax():
    got = parse_vary(["a=0.1:0.5:5", "b=10:50:5", "c=flee,wander", "d=true", "clock.start=08:00,08:30"])
    assert got == {
        "a": [0.1, 0.2, 0.3, 0.4, 0.5],
        "b": [10, 20, 30, 40, 50],
        "c": ["flee", "wander"],
        "d": [True],
        "clock.start": ["08:00", "08:30"],
    }
    assert all(isinstance(v, int) for v in got["b"])
    for bad in ("a", "a=", "a=0.1:0.5", "a=0:x:3", "a=0:1:0", "a=1,,2", "a=1,1", "seed=1,2"):
        with pytest.raises(HyosanError) as info:
            parse_vary([bad])
        assert info.value.source == "--vary"


# -- executors give the same answer ------------------------------------------------------------------
def test_same_sweep_same_results_on_every_executor(tmp_path):
    """1 local worker, 2 local workers and a Dask LocalCluster (2 processes): identical stores."""
    args = {"runs": 3, "vary": VARY, "set": {"clock.duration": "5min"}, "points": 21}
    results = {
        name: sweep(TINY, tmp_path / name, workers=w, scheduler=s, **args)
        for name, w, s in (("one", 1, None), ("two", 2, None), ("dask", 2, "local"))
    }
    one = results["one"]
    assert one.tally.executor == "local processes, 1 worker"
    assert results["dask"].tally.executor.startswith("Dask")
    assert len(one.runs) == 18 and one.complete
    assert (one.runs["status"] == "failed").sum() == 6  # the bite_prob = 1.5 sets
    assert one.runs["seed"].nunique() == 18
    for name in ("two", "dask"):
        other = results[name]
        pd.testing.assert_frame_equal(stable(one.runs), stable(other.runs))
        pd.testing.assert_frame_equal(one.bands, other.bands)
        on_disk = pd.read_parquet(tmp_path / name / "runs.parquet")
        pd.testing.assert_frame_equal(stable(on_disk), stable(one.runs))
    # The outbreak differs between runs (the seeds do something) and the bands are ordered.
    ok = one.runs[one.runs.status == "ok"]
    assert ok["bites"].nunique() > 1
    b = one.bands
    assert set(b["series"]) == {"humans", "bitten", "zombies", "halfbies", "dead", "escaped", "rescued"}
    assert (b["q05"] <= b["q25"]).all() and (b["q25"] <= b["q50"]).all() and (b["q75"] <= b["q95"]).all()
    assert set(b["set_id"]) == {0, 1, 2, 3}  # no band for the failed sets
    humans = b[(b.set_id == 0) & (b.series == "humans")]
    assert humans["t"].iloc[-1] == 300.0 and humans["q50"].iloc[0] == 23  # everyone human at 08:00


# -- failures ---------------------------------------------------------------------------------------
def test_a_failing_run_is_recorded_and_the_rest_go_on(tmp_path):
    res = sweep(TINY, tmp_path / "s", runs=2, vary={"zombies.bite_prob": [0.5, 1.5]}, workers=0, points=5)
    runs = res.runs
    assert res.complete and list(runs["status"]) == ["ok", "ok", "failed", "failed"]
    failed = runs[runs.status == "failed"]
    assert failed["error"].str.contains("zombies.bite_prob: must be at least 0 and at most 1, got 1.5").all()
    assert failed["final_zombie"].isna().all() and runs["error"].isna().sum() == 2
    assert runs.loc[runs.status == "ok", "agents"].eq(23).all()
    # The metrics known before running (to check --output) are the ones the runs have.
    _, runner = scenario_spec(TINY, runs=1)
    assert metric_names(runner) == list(runs.columns[runs.columns.get_loc("elapsed_s") + 1 :])
    # The traceback is kept in the run's own file.
    one = pd.read_parquet(tmp_path / "s" / "runs" / f"{failed.run_id.iloc[0]}.parquet")
    assert "Traceback" in one["traceback"].iloc[0]
    status = json.loads((tmp_path / "s" / "sweep.json").read_text())["status"]
    assert status == {"total": 4, "finished": 4, "failed": 2, "complete": True, "interrupted": False}
    # Failures are results: a rerun skips them, unless asked to retry.
    again = sweep(TINY, tmp_path / "s", runs=2, vary={"zombies.bite_prob": [0.5, 1.5]}, workers=0, points=5)
    assert again.tally.skipped == 4 and again.tally.done == 0
    retry = sweep(
        TINY,
        tmp_path / "s",
        runs=2,
        vary={"zombies.bite_prob": [0.5, 1.5]},
        workers=0,
        points=5,
        retry_failed=True,
    )
    assert retry.tally.skipped == 2 and retry.tally.failed == 2


def die_on_two(params: dict, seed: int) -> float:
    """Kills its worker process for x == 2 (as a segfault or the OOM killer would)."""
    if params["x"] == 2:
        os._exit(3)
    return params["x"] * 10.0 + seed % 7


def die_on_thirty(params: dict, seed: int) -> float:
    if params["x"] == 30:
        os._exit(3)
    return params["x"] * 10.0


def test_a_killed_worker_process_loses_nothing(tmp_path):
    res = function_sweep(die_on_two, tmp_path / "f", vary={"x": [1, 2, 3]}, runs=1, workers=2)
    runs = res.runs.set_index("x")
    assert list(runs["status"]) == ["ok", "failed", "ok"]
    assert runs.loc[2, "error"].startswith("WorkerDied")
    assert runs.loc[3, "value"] == 30 + runs.loc[3, "seed"] % 7


def test_whole_sweep_of_bad_values_is_a_user_error(tmp_path):
    with pytest.raises(HyosanError) as info:
        sweep(TINY, tmp_path / "s", vary={"zombies.bite_prob": [2.0, 3.0]}, workers=0)
    assert info.value.source == "--vary" and info.value.field == "zombies.bite_prob"
    assert not (tmp_path / "s").exists()  # refused before anything ran


# -- the store: resume, refuse, keep ---------------------------------------------------------------------
def test_kill_and_resume_recomputes_nothing(tmp_path):
    """Kill the command (and its workers) part way, run it again: the store of an uninterrupted sweep."""
    out = tmp_path / "killed"
    args = [
        sys.executable,
        "-m",
        "hyosan",
        "sweep",
        str(TINY),
        "--runs",
        "20",
        "--vary",
        "zombies.bite_prob=0.3,0.9",
        "--set",
        "clock.duration=2h",
        "--points",
        "11",
        "--out",
        str(out),
        "--quiet",
        "--json",
    ]
    proc = subprocess.Popen(
        [*args, "--workers", "1"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    runs_dir = out / "runs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if runs_dir.is_dir() and len(list(runs_dir.glob("*.parquet"))) >= 4:
            break
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in runs_dir.glob("*.parquet")}
    assert 4 <= len(before) < 40, "the sweep should have been killed part way"
    assert not (out / "runs.parquet").exists()  # killed: no consolidation happened

    again = subprocess.run([*args, "--workers", "2"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["finished"] == 40 and report["complete"] and report["skipped"] == len(before)
    assert report["ran"] == 40 - len(before)
    for p in runs_dir.glob("*.parquet"):
        if p.name in before:  # not recomputed: the very same file
            assert (p.stat().st_mtime_ns, p.read_bytes()) == before[p.name]
    reference = sweep(
        TINY,
        tmp_path / "whole",
        runs=20,
        vary={"zombies.bite_prob": [0.3, 0.9]},
        set={"clock.duration": "2h"},
        points=11,
        workers=0,
    )
    pd.testing.assert_frame_equal(stable(pd.read_parquet(out / "runs.parquet")), stable(reference.runs))
    pd.testing.assert_frame_equal(pd.read_parquet(out / "bands.parquet"), reference.bands)


def test_store_refuses_another_sweep_and_grows_with_runs(tmp_path, capsys):
    out = tmp_path / "s"
    base = [
        "sweep",
        str(TINY),
        "--vary",
        "zombies.bite_prob=0.3,0.6",
        "--runs",
        "2",
        "--workers",
        "0",
        "--points",
        "5",
        "--out",
        str(out),
        "--quiet",
    ]
    assert run_cli(capsys, *base)[0] == 0
    for change, field in ((["--seed", "1"], "seed"), (["--set", "clock.duration=5min"], "context.set")):
        code, _, err = run_cli(capsys, *base, *change)
        assert code == 2 and len(err.strip().splitlines()) == 1
        assert err.startswith(f"error: {out / 'sweep.json'}: {field}: this folder holds a different sweep")
    code, _, err = run_cli(capsys, *base[:3], "zombies.bite_prob=0.3,0.7", *base[4:])
    assert code == 2 and "--vary changed" in err
    # More replicates reuse the finished ones (a run's identity does not include the count).
    code, out_text, _ = run_cli(capsys, *base[:5], "3", *base[6:], "--json")
    assert code == 0 and json.loads(out_text)["skipped"] == 4 and json.loads(out_text)["ran"] == 2


def test_keep_writes_run_folders_for_the_first_replicates(tmp_path):
    res = sweep(TINY, tmp_path / "s", runs=2, vary={"zombies.bite_prob": [0.4]}, keep=1, workers=0, points=5)
    kept = list((tmp_path / "s" / "keep").iterdir())
    first = res.runs[res.runs.replicate == 0].iloc[0]
    assert [p.name for p in kept] == [first.run_id]
    summary = json.loads((kept[0] / "summary.json").read_text())
    assert summary["seed"] == first.seed and summary["final"]["zombie"] == first.final_zombie
    res = model_sweep("munz-basic", tmp_path / "m", method="tau", runs=2, keep=1, workers=0, t_end=2)
    assert (tmp_path / "m" / "keep" / res.runs.run_id[0] / "trajectory.parquet").exists()


# -- the classic models ---------------------------------------------------------------------------------
def test_model_ensemble_command_writes_the_same_kind_of_store(tmp_path, capsys):
    out = tmp_path / "m"
    args = [
        "model",
        "munz-basic",
        "--method",
        "ssa",
        "--runs",
        "4",
        "--vary",
        "beta=0.008,0.012",
        "--t-end",
        "5",
        "--points",
        "11",
        "--out",
        str(out),
        "--workers",
        "1",
    ]
    code, text, err = run_cli(capsys, *args)
    assert code == 0, err
    assert "munz-basic" in text and "8 of 8 runs finished" in text
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 8 and (runs.status == "ok").all() and runs.seed.nunique() == 8
    assert {"beta", "final_S", "final_Z", "final_R", "peak_Z", "t_half_S", "zombies_extinct"} <= set(runs)
    assert (runs.final_S + runs.final_Z + runs.final_R).between(490, 520).all()
    _, runner = model_spec("munz-basic", method="ssa", runs=1)
    assert metric_names(runner) == list(runs.columns[runs.columns.get_loc("elapsed_s") + 1 :])
    bands = pd.read_parquet(out / "bands.parquet")
    assert set(bands.series) == {"S", "Z", "R"} and len(bands) == 2 * 3 * 11 and (bands.runs == 4).all()
    spec = json.loads((out / "sweep.json").read_text())
    assert spec["kind"] == "model" and spec["context"]["method"] == "ssa" and spec["runs"] == 4
    # The API gives the same runs, and a rerun of the command recomputes none.
    api = model_sweep(
        "munz-basic",
        tmp_path / "api",
        method="ssa",
        runs=4,
        vary={"beta": [0.008, 0.012]},
        t_end=5,
        points=11,
        workers=0,
    )
    pd.testing.assert_frame_equal(stable(runs), stable(api.runs))
    code, text, _ = run_cli(capsys, *args, "--json")
    assert code == 0 and json.loads(text)["skipped"] == 8


# -- sensitivity --------------------------------------------------------------------------------------
def ishigami(p: dict[str, float], a: float = 7.0, b: float = 0.1) -> float:
    return math.sin(p["x1"]) + a * math.sin(p["x2"]) ** 2 + b * p["x3"] ** 4 * math.sin(p["x1"])


def test_sobol_indices_of_ishigami():
    """Analytic values (a = 7, b = 0.1): S1 = (0.314, 0.442, 0), ST = (0.558, 0.442, 0.244)."""
    res = sensitivity(ishigami, {k: (-math.pi, math.pi) for k in ("x1", "x2", "x3")}, samples=1024, seed=1)
    t = res.table.set_index("param")
    np.testing.assert_allclose(t["S1"], [0.314, 0.442, 0.0], atol=0.04)
    np.testing.assert_allclose(t["ST"], [0.558, 0.442, 0.244], atol=0.04)
    assert len(res.Y) == 1024 * 5


def test_morris_of_a_linear_function_is_exact():
    res = sensitivity(
        lambda p: 2 * p["a"] - 0.5 * p["b"] + 0 * p["c"],
        {k: (0, 1) for k in "abc"},
        method="morris",
        samples=8,
        seed=3,
    )
    t = res.table.set_index("param")
    np.testing.assert_allclose(t["mu_star"], [2, 0.5, 0], atol=1e-9)
    np.testing.assert_allclose(t["mu"], [2, -0.5, 0], atol=1e-9)
    np.testing.assert_allclose(t["sigma"], [0, 0, 0], atol=1e-9)


def test_sensitivity_command_writes_table_chart_and_parquet(tmp_path, capsys):
    out = tmp_path / "sa"
    args = [
        "sensitivity",
        "model:munz-basic",
        "--param",
        "beta=0.005:0.015",
        "--param",
        "alpha=0.001:0.01",
        "--output",
        "final_S",
        "--samples",
        "16",
        "--t-end",
        "5",
        "--workers",
        "0",
        "--out",
        str(out),
    ]
    code, text, err = run_cli(capsys, *args)
    assert code == 0, err
    assert "Sobol sensitivity of final_S" in text and "beta" in text
    table = pd.read_parquet(out / "sensitivity_final_S.parquet")
    assert list(table.columns) == ["output", "param", "S1", "S1_conf", "ST", "ST_conf"]
    assert list(table.param) == ["beta", "alpha"]
    assert (out / "sensitivity_final_S.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "sensitivity_final_S.svg").exists()
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 16 * 4
    # Another output of the same design reuses every run.
    code, text, _ = run_cli(capsys, *args[:6], "--output", "peak_Z", *args[8:], "--json")
    assert code == 0 and set(json.loads(text)["indices"]) == {"beta", "alpha"}
    assert pd.read_parquet(out / "runs.parquet")["elapsed_s"].equals(runs["elapsed_s"])


# -- one-line errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "start"),
    [
        (
            ["sweep", str(TINY), "--vary", "zombies.bite_prob=0.1:0.5"],
            "error: --vary: zombies.bite_prob: a range",
        ),
        (["sweep", str(TINY), "--vary", "nonsense"], "error: --vary: expected KEY=LO:HI:STEPS"),
        (
            ["sweep", str(TINY), "--vary", "zombies.bite_prob=0.1,0.2", "--scheduler", "nowhere"],
            "error: --scheduler",
        ),
        (["sweep", str(TINY), "--workers", "-1"], "error: --workers"),
        (["sweep", str(TINY), "--runs", "0"], "error: --runs"),
        (["sweep", "no-such.toml"], "error: no-such.toml"),
        (["model", "munz-basic", "--method", "ssa", "--vary", "beta=a,b"], "error: --vary: beta"),
        (["model", "munz-basic", "--vary", "gamma=1,2"], "error: --vary"),
        (["model", "munz-basic", "--runs", "3", "--out", "x"], "error: --runs: the ODE is deterministic"),
        (["sensitivity", str(TINY), "--param", "zombies.bite_prob=0.1", "--output", "x"], "error: --param"),
        (
            ["sensitivity", str(TINY), "--param", "zombies.bite_prob=0.1:0.5", "--output", "x"],
            "error: --output: x",
        ),
        (
            ["sensitivity", str(TINY), "--param", "a=0:1", "--output", "bites", "--samples", "10"],
            "error: --samples",
        ),
    ],
)
def test_bad_flags_give_one_line_and_status_2(capsys, tmp_path, args, start):
    code, _, err = run_cli(capsys, *args, "--out", str(tmp_path / "o"), "--quiet")
    assert code == 2
    assert err.startswith(start) and len(err.strip().splitlines()) == 1, err


def test_tables_from_memory_equal_tables_from_the_files(tmp_path):
    """The runs written by this process are not read back to build the tables: the rows kept in
    memory must equal what a later invocation reads from the files."""
    from hyosan.ensemble.store import Store, bands_frame

    res = sweep(str(TINY), tmp_path / "s", runs=2, vary={"zombies.bite_prob": [0.4, 1.5]}, workers=0)
    assert (res.runs["status"] != "ok").sum() == 2  # failed rows too
    runs, series = Store(tmp_path / "s").read_runs(res.spec)
    pd.testing.assert_frame_equal(runs, res.runs)
    pd.testing.assert_frame_equal(bands_frame(runs, series, res.spec), res.bands)


def test_worker_encodes_the_row_the_store_writes(tmp_path):
    """A worker hands back its run's file ready to write: its bytes read back as the row kept in
    memory, and a worker process imports neither SciPy's solvers nor Dask nor matplotlib (each up to
    a second of start-up in every worker of every sweep)."""
    import io

    import pyarrow.parquet as pq

    from hyosan.ensemble.runners import ScenarioRunner
    from hyosan.ensemble.spec import RunTask
    from hyosan.ensemble.store import work

    outcome = work(ScenarioRunner(str(TINY)), RunTask("0" * 16, 0, 0, 7, {"zombies.bite_prob": 0.4}))
    assert outcome.status == "ok" and outcome.output.series == {}  # the series went into the row
    row = pq.read_table(io.BytesIO(outcome.parquet)).to_pylist()[0]
    np.testing.assert_equal(row, outcome.record)  # (NaN equals NaN here)
    assert row["ts.t"][0] == 0 and row["seed"] == 7 and row["run_id"] == "0" * 16

    heavy = ["scipy.integrate", "scipy.stats", "dask", "distributed", "matplotlib"]
    code = (
        "import sys; from hyosan.ensemble.store import work; import hyosan.engine, hyosan.scenario; "
        f"print(sorted(set(sys.modules) & set({heavy!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_dask_sends_quick_runs_in_chunks_and_splits_one_whose_worker_died():
    """Quick runs travel several to a Dask task; when a worker dies in a chunk, its runs go again
    one per task (then alone, with nothing beside it), and only the run that kills its worker fails."""
    import dask
    import distributed  # noqa: F401  (before config.set: its defaults would go when the block ends)

    from hyosan.ensemble.executors import make_executor
    from hyosan.ensemble.runners import FunctionRunner
    from hyosan.ensemble.spec import RunTask
    from hyosan.ensemble.sweep import run_tasks

    tasks = [RunTask(f"{x:016x}", x, 0, x, {"x": x}) for x in range(1, 41)]
    outcomes = []
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):  # one death per attempt
        with make_executor(FunctionRunner(die_on_thirty), workers=2, scheduler="local") as executor:
            run_tasks(tasks, executor, outcomes.append)
            # 4 single runs first (their time unknown), then chunks; the dead chunk's runs alone.
            assert executor.submitted < len(tasks) - 4 and "0" * 14 + "1e" in executor.alone
    by_x = {o.task.params["x"]: o for o in outcomes}
    assert sorted(by_x) == list(range(1, 41))
    assert [x for x, o in by_x.items() if o.status != "ok"] == [30]
    assert "KilledWorker" in by_x[30].error
    assert all(o.record["value"] == 10.0 * x for x, o in by_x.items() if x != 30)
