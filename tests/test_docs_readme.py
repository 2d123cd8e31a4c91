"""README's examples run, in order, as a reader would type them (shorter where a run would take
minutes: each shortening is listed below with the README line it stands for), and their claims
hold. A README command this file does not know fails the test: new examples get checked too."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")

#: README command -> extra arguments, or text replacements, that make it short enough for a test.
SHORT = ["--set", "clock.duration=15min"]
CONSOLE = {
    "hyosan run": [*SHORT, "-q"],
    "hyosan run --seed 7 --set zombies.bite_prob=0.2 --out runs/gentle": [*SHORT, "-q"],
    "hyosan run --set events.cordon.at=10:00 --open": [*SHORT, "-q"],
    "hyosan new my_school --from hyosan-high": [],
    "hyosan check my_school/my_school.toml": [],
    "hyosan run my_school/my_school.toml": [*SHORT, "-q"],
    "hyosan scenarios": [],
    "hyosan report out/hyosan-high": [],
    "hyosan report out/hyosan-high --video run.mp4": ["--video-size", "640x480", "--fps", "4"],
    "hyosan run --checkpoint-at 09:10 --out out/hh": ["--set", "clock.duration=45min", "-q"],
    "hyosan branch out/hh --runs 20 --set events.cordon.at=10:00 --out out/cordon-at-10": {
        "--runs 20": "--runs 2 -q"
    },
    "hyosan model --list": [],
    "hyosan model munz-basic": [],
    "hyosan model alemi --method ssa --runs 200 --seed 1 --plot alemi.png": [],
    "hyosan model munz-quarantine --set kappa=0.05 --set sigma=0.05 --json": [],
    'hyosan model alemi --set alpha=2 --set Z0=5 --stop "Z<1"': [],
    "hyosan model alemi --from hyosan-high": ["--seeds", "1", "--minutes", "3", "-q"],
    "hyosan run --out out/hyosan-high": [*SHORT, "-q"],
    "hyosan town hyosan-city --from out/hyosan-high": ["--days", "1"],
    "hyosan town hyosan-city --method tau --set kill_rate=0.1 --set town.days=30": {
        "town.days=30": "town.days=2"
    },
    "hyosan town synthetic-country": ["--days", "1"],
    "hyosan sweep hyosan-high --runs 50 --vary zombies.bite_prob=0.2:0.8:4 --set clock.duration=2h "
    "--out out/bite-sweep": {"--runs 50": "--runs 2 -q", "clock.duration=2h": "clock.duration=5min"},
    "hyosan model alemi --method ssa --runs 200 --vary alpha=0.5:1.5:5 --out out/alemi-alpha": {
        "--runs 200": "--runs 10 -q"
    },
    "hyosan sensitivity hyosan-high --method sobol --param zombies.bite_prob=0.1:0.9 "
    "--param roles.student.courage=0.1:0.9 --set clock.duration=1h --output survivors_students "
    "--out out/sa": {"clock.duration=1h": "clock.duration=5min --samples 4 -q"},
    "hyosan calibrate examples/boarding_school.toml --out out/bs": {
        "examples/boarding_school.toml": str(ROOT / "examples" / "boarding_school.toml") + " --trials 6"
    },
    "hyosan model out/bs/calibrated.toml --plot bs.png": [],
}
#: Python blocks: README text -> what the test runs instead.
PYTHON = {
    '"clock.duration": "1h"': '"clock.duration": "15min"',
    'Simulation(load_scenario("hyosan-high"), seed=1)': (
        'Simulation(load_scenario("hyosan-high", {"clock.duration": "20min"}), seed=1)'
    ),
    "days=10": "days=2",
}


def blocks(kind: str) -> list[str]:
    return [m.group(1) for m in re.finditer(rf"```{kind}\n(.*?)```", README, re.S)]


def console_commands() -> list[str]:
    out = []
    for block in blocks("console"):
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith("$ "):
                out.append(
                    " ".join(shlex.join(shlex.split(line[2:], comments=True)).split()).replace("'", '"')
                )
    return out


def test_quick_start_has_exactly_two_commands():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", quick, re.S)
    assert block.strip().splitlines() == ["pip install . && hyosan run", "bash scripts/test"]


def test_every_readme_command_is_checked_here():
    assert console_commands() == list(CONSOLE)
    python = "\n".join(blocks("python"))
    for old in PYTHON:
        assert old in python, old


def _shorten(command: str, change) -> list[str]:
    if isinstance(change, dict):
        for old, new in change.items():
            assert old in command
            command = command.replace(old, new)
        change = []
    return shlex.split(command)[1:] + list(change)


@pytest.mark.slow
def test_readme_examples_run_and_say_what_readme_says(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: opened.append(url) or True)
    outputs: dict[str, str] = {}
    for command, change in CONSOLE.items():
        if "--video" in command:
            pytest.importorskip("imageio_ffmpeg")
        code, out, err = run_cli(capsys, *_shorten(command, change))
        assert code == 0, f"{command}: {err}"
        outputs[command] = out

    # the school: the run folder, with its report; the gentler run's seed; --open opened the report
    hh = tmp_path / "out" / "hyosan-high"
    assert {"summary.json", "report.html", "chronicle.md", "scenario.toml"} <= {p.name for p in hh.iterdir()}
    assert json.loads((tmp_path / "runs" / "gentle" / "summary.json").read_text())["seed"] == 7
    assert opened == [(hh / "report.html").as_uri()]
    assert "first turn:" in outputs["hyosan run"] and "human group" in outputs["hyosan run"]
    # hyosan new: the scenario to edit, its map beside it; check lists the timeline by name
    assert (tmp_path / "my_school" / "hyosan_high.tmj").is_file()
    assert "cordon" in outputs["hyosan check my_school/my_school.toml"]
    assert (tmp_path / "out" / "my-school" / "summary.json").is_file()  # the file name, "_" as "-"
    listing = outputs["hyosan scenarios"]
    assert "hyosan-high" in listing and "hyosan-city" in listing and "munz-basic" in listing
    assert (tmp_path / "run.mp4").stat().st_size > 1000
    # branches: a checkpoint at 09:10, futures in a store
    assert (tmp_path / "out" / "hh" / "checkpoint-0910.ckpt").is_file()
    assert (tmp_path / "out" / "cordon-at-10" / "runs.parquet").is_file()
    # the models: the README's claims
    assert (
        "stopped when Z<1 at t = 1.62" in outputs['hyosan model alemi --set alpha=2 --set Z0=5 --stop "Z<1"']
    )
    quarantine = json.loads(outputs["hyosan model munz-quarantine --set kappa=0.05 --set sigma=0.05 --json"])
    assert quarantine["params"]["kappa"] == 0.05 and "r0" in quarantine
    assert (tmp_path / "alemi.png").read_bytes().startswith(b"\x89PNG")
    assert "contact" in outputs["hyosan model alemi --from hyosan-high"]
    # the country by name, and a calibration whose calibrated model runs as is
    assert (tmp_path / "out" / "bs" / "calibration.json").is_file()
    assert (tmp_path / "bs.png").read_bytes().startswith(b"\x89PNG")
    # the town, and the stores of many runs
    assert (tmp_path / "out" / "hyosan-city" / "report.html").is_file()
    for store in ("bite-sweep", "alemi-alpha", "sa"):
        assert (tmp_path / "out" / store / "runs.parquet").is_file(), store
    assert (tmp_path / "out" / "bite-sweep" / "bands.parquet").is_file()

    # the Python blocks, in one namespace, in order
    namespace: dict = {}
    for block in blocks("python"):
        for old, new in PYTHON.items():
            block = block.replace(old, new)
        exec(compile(block, "README.md", "exec"), namespace)
    from hyosan.engine import Simulation

    restored = Simulation.restore(tmp_path / "0840.ckpt")  # "ten minutes from 08:30: 08:40"
    assert restored.scenario.start_seconds + restored.tick * restored.tick_seconds == 8 * 3600 + 40 * 60
    assert repr(restored).split(": ")[1].startswith("08:40:00")
    assert (tmp_path / "runs" / "seed0" / "summary.json").is_file()
    assert namespace["ens"].runs == 200 and 0 <= namespace["ens"].zombies_extinct_fraction <= 1
    # the horde: arrivals at 20 an hour, each rotting at 0.5 an hour: about 40 zombies at the end
    assert abs(namespace["horde"].simulate("ssa", runs=100, seed=0).final["Z"].mean() - 40) < 3
    assert len(namespace["result"].district_summary()) == len(namespace["town"].lattice.district_names)
    assert np.isfinite(namespace["result"].counts["S"]).all()
