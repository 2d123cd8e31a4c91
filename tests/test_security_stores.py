"""Sweep stores carry digests, one writer per output folder, town folders verify and rebuild
(docs/security.md)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_cli

DATA = Path(__file__).parent / "data"
SRC = Path(__file__).parents[1] / "src"


def flip(path: Path, where: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * where)] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def store(tmp_path, monkeypatch, capsys):
    """A small model sweep's store, written by hyosan (ODE runs in this process)."""
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(
        capsys, "model", "alemi", "--vary", "beta=0.01,0.02", "--out", "st", "--workers",
        "0", "-q",
    )  # fmt: skip
    assert code == 0, err
    return tmp_path / "st"


def test_a_finished_store_has_digests_of_every_file_and_verifies(store, capsys):
    digests = json.loads((store / "digests.json").read_text())
    names = set(digests["sha256"])
    assert {"sweep.json", "runs.parquet", "bands.parquet"} <= names
    assert any(n.startswith("runs/") for n in names)
    assert not (store / ".lock").exists()
    code, out, err = run_cli(capsys, "verify", str(store))
    assert code == 0 and "ok" in out, err


def test_a_flipped_byte_in_any_file_of_a_store_is_named(store, capsys):
    names = sorted(json.loads((store / "digests.json").read_text())["sha256"])
    assert len(names) >= 5
    pristine = store.parent / "pristine"
    shutil.copytree(store, pristine)
    for name in names:
        for where in (0.0, 0.5, 0.999):
            shutil.rmtree(store)
            shutil.copytree(pristine, store)
            flip(store / name, where)
            code, _, err = run_cli(capsys, "verify", str(store))
            assert code == 2 and str(store / name) in err, (name, where, err)


@pytest.mark.parametrize("name", ["runs.parquet", "bands.parquet", "sweep.json"])
def test_report_refuses_a_store_with_a_changed_table(store, capsys, name):
    flip(store / name)
    code, _, err = run_cli(capsys, "report", "st")
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and name in lines[0] and "Traceback" not in err


def test_a_stale_lock_names_the_process_that_held_it(store, capsys):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (store / ".lock").write_text(f"{socket.gethostname()} {dead.pid}", encoding="utf-8")
    code, _, err = run_cli(capsys, "verify", str(store))
    assert code == 2 and f"stale lock of process {dead.pid}" in err
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (store / ".lock").write_text(f"{socket.gethostname()} {alive.pid}", encoding="utf-8")
        code, _, err = run_cli(capsys, "verify", str(store))
        assert code == 2 and f"held by process {alive.pid}" in err and "stale lock" not in err
    finally:
        alive.kill()
        alive.wait()


def test_a_sweep_killed_before_it_ends_is_reported(store, capsys):
    (store / "digests.json").unlink()
    code, _, err = run_cli(capsys, "verify", str(store))
    assert code == 2 and "digests.json: missing (the sweep did not finish" in err


# -- one writer per output folder ---------------------------------------------------------------------
def hyosan(*args: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.Popen(
        [sys.executable, "-m", "hyosan.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_runs_on_one_folder_the_second_is_refused_naming_the_first(tmp_path):
    for p in DATA.iterdir():
        if p.is_file():
            shutil.copy(p, tmp_path / p.name)
    long = ["run", "tiny_outbreak.toml", "--set", "clock.duration=14d", "--set", "clock.frame_every=6h"]
    first = hyosan(*long, "--out", "same", "--no-report", "-q", cwd=tmp_path)
    lock = tmp_path / ".same.hyosan-lock"
    try:
        deadline = time.monotonic() + 300
        while not (lock.exists() and lock.read_text().strip().endswith(f" {first.pid}")):
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        second = hyosan("run", "tiny_outbreak.toml", "--out", "same", "--no-report", "-q", cwd=tmp_path)
        out, err = second.communicate(timeout=300)
        assert second.returncode == 2, (out, err)
        assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
        assert f"another hyosan run (process {first.pid} on {socket.gethostname()})" in err
        assert "same" in err
    finally:
        first.send_signal(signal.SIGKILL)  # a crash: its lock file stays, the kernel frees the flock
        first.wait()
    assert lock.exists() and not (tmp_path / "same").exists()
    third = hyosan("run", "tiny_outbreak.toml", "--out", "same", "--no-report", "-q", cwd=tmp_path)
    out, err = third.communicate(timeout=300)
    assert third.returncode == 0, err  # the dead run's lock was stale: taken over
    assert (tmp_path / "same" / "summary.json").is_file() and not lock.exists()


def test_verify_of_a_missing_folder_names_its_recoverable_old_copy(tmp_path, capsys, monkeypatch):
    from hyosan.engine import Simulation
    from hyosan.results.store import save
    from hyosan.scenario import load_scenario

    for p in DATA.iterdir():
        if p.is_file():
            shutil.copy(p, tmp_path / p.name)
    monkeypatch.chdir(tmp_path)
    loaded = load_scenario(str(tmp_path / "tiny_outbreak.toml"), {"clock.duration": '"1min"'})
    save(Simulation(loaded, seed=1).run(), tmp_path / "run", report=None)
    os.rename(tmp_path / "run", tmp_path / ".run.hyosan-old")  # a crash between the swap's renames
    code, _, err = run_cli(capsys, "verify", "run")
    assert code == 2 and ".run.hyosan-old" in err and "hyosan report run" in err
    code, _, err = run_cli(capsys, "report", "run")
    assert code == 0, err
    code, out, _ = run_cli(capsys, "verify", "run")
    assert code == 0 and "ok" in out
    (tmp_path / "elsewhere").mkdir()
    code, _, err = run_cli(capsys, "verify", "nothing")
    assert code == 2 and "no such folder" in err and "old copy" not in err


# -- town folders ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def town(tmp_path_factory):
    root = tmp_path_factory.mktemp("town")
    from hyosan.cli import main

    cwd = os.getcwd()
    os.chdir(root)
    try:
        main(["town", "--days", "1", "--snapshot-every", "0.5", "--out", "t"])
    except SystemExit as exc:
        assert not exc.code
    finally:
        os.chdir(cwd)
    return root / "t"


def test_a_town_folder_verifies_and_its_report_rebuilds(town, tmp_path, capsys):
    folder = tmp_path / "t"
    shutil.copytree(town, folder)
    code, out, err = run_cli(capsys, "verify", str(folder))
    assert code == 0 and "town run folder" in " ".join(out.split()), err
    before = (folder / "report.html").read_text(encoding="utf-8")
    (folder / "report.html").unlink()
    code, out, err = run_cli(capsys, "report", str(folder))
    assert code == 0, err
    after = (folder / "report.html").read_text(encoding="utf-8")
    # The same page: the map, the frames, the chronicle and the districts come from the folder.
    for part in ("town-data", "Chronicle", "Districts"):
        assert part in after
    data = lambda page: json.loads(page.split('id="town-data">')[1].split("</script>")[0])  # noqa: E731
    a, b = data(before), data(after)
    assert a["frames"] == b["frames"] and a["totals"] == b["totals"] and a["blocked"] == b["blocked"]
    code, out, _ = run_cli(capsys, "verify", str(folder))
    assert code == 0  # the rebuilt report is in the marker


@pytest.mark.parametrize("name", ["cells.nc", "totals.parquet", "summary.json", "chronicle.md"])
def test_a_damaged_town_folder_is_named(town, tmp_path, capsys, name):
    folder = tmp_path / "t"
    shutil.copytree(town, folder)
    flip(folder / name)
    code, _, err = run_cli(capsys, "verify", str(folder))
    assert code == 2 and name in err
    code, _, err = run_cli(capsys, "report", str(folder))
    assert code == 2 and name in err and len(err.strip().splitlines()) == 1
