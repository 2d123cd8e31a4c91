"""Process-level promises: a killed sweep leaves no workers behind; warnings stay hidden unless
asked for (docs/reliability.md, sections 5 and 6)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = """
import time
from hyosan.ensemble.executors import LocalExecutor

executor = LocalExecutor(runner=print, workers=1)
print(executor._ping.result(timeout=120), flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_exit_when_the_sweep_is_killed():
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    parent = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, text=True, env=env)
    try:
        worker = int(parent.stdout.readline())
        assert alive(worker)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(worker), "the worker outlived its sweep"
    finally:
        parent.kill()


@pytest.mark.parametrize("verbose", [False, True], ids=["quiet", "verbose"])
def test_library_warnings_are_hidden_unless_asked_for(tmp_path, verbose):
    """A zero-tick run draws empty charts (matplotlib warns): users see no warning unless -v."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src"), "PYTHONWARNINGS": "default"}
    scenario = Path(__file__).parent / "data" / "tiny_outbreak.toml"
    args = [
        sys.executable,
        "-m",
        "hyosan",
        *(["-v"] if verbose else []),
        "run",
        str(scenario),
        "--set",
        "clock.duration=0",
        "-q",
        "--out",
        str(tmp_path / "run"),
    ]
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert ("Warning" in proc.stderr) == verbose, proc.stderr
