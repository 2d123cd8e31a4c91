"""Shared helpers: small scenarios built in memory on ASCII maps."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from browser import browser, browser_page  # noqa: F401  (fixtures: one browser per test process)
from hyosan.engine import Simulation
from hyosan.scenario.load import LoadedScenario, validate

BASE = {
    "scenario": {"name": "test"},
    "clock": {"start": "08:00", "duration": "10min", "frame_every": "10s"},
    "roles": {"student": {"adult": False}, "teacher": {"adult": True, "courage": 0.8}},
}


def open_yard(width: int, height: int, name: str = "yard") -> str:
    """A map of one open room, ``width`` x ``height`` tiles inside its walls."""
    wall = "#" * (width + 2) + "\n"
    rows = ("#" + "a" * width + "#\n") * height
    return "[floor 1F]\n" + wall + rows + wall + f"[rooms]\na: {name} (yard)\n"


def walled_pairs(pairs: int) -> str:
    """A map of ``pairs`` pairs of tiles, each pair walled off from the others (one room, "cells")."""
    wall = "#" * (3 * pairs + 1) + "\n"
    return "[floor 1F]\n" + wall + "#" + "aa#" * pairs + "\n" + wall + "[rooms]\na: cells (cell)\n"


def scenario(tmp_path: Path, map_text: str, **sections) -> LoadedScenario:
    """A validated scenario on ``map_text`` (written to tmp_path/map.txt); sections override BASE."""
    (tmp_path / "map.txt").write_text(map_text, encoding="utf-8")
    raw = copy.deepcopy(BASE)
    raw["world"] = {"map": "map.txt"}
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    return LoadedScenario(
        scenario=validate(raw, "test.toml"), source="test.toml", base_dir=tmp_path, name="test"
    )


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """``hyosan ARGS`` in this process: (exit status, stdout, stderr)."""
    from hyosan.cli import main

    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def run(loaded: LoadedScenario, seed: int = 0) -> tuple[Simulation, object]:
    sim = Simulation(loaded, seed=seed)
    return sim, sim.run()


@pytest.fixture
def make_scenario(tmp_path):
    return lambda map_text, **sections: scenario(tmp_path, map_text, **sections)


def place(sim: Simulation, i: int, y: int, x: int, state: int | None = None) -> None:
    """Put agent ``i`` on tile (y, x) of the ground floor (keeping the occupancy counts), in
    ``state`` if given."""
    occupancy = sim.arrays.world.occupancy
    occupancy[sim.pop.cell[i]] -= 1
    sim.pop.cell[i] = y * sim.world.tiles.shape[2] + x
    occupancy[sim.pop.cell[i]] += 1
    if state is not None:
        sim.pop.state[i] = state


def agents_where(sim: Simulation, cells: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.isin(sim.pop.cell, cells))
