"""Town scenarios through the ensemble machinery: `hyosan sweep town:...` and `hyosan sensitivity`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hyosan.cli import main

TOWN = """\
[town]
lattice = "grid.npy"
days = 3
[outbreak]
bite_rate = 0.5
kill_rate = 0.15
incubation = "4h"
contact_s = 0.1
[coupling]
mu = 0.5
[[events]]
kind = "seed"
area = "cells:0,0"
zombies = 4
"""


@pytest.fixture
def town_file(tmp_path):
    np.save(tmp_path / "grid.npy", np.full((4, 5), 30.0))
    (tmp_path / "t.toml").write_text(TOWN)
    return tmp_path / "t.toml"


def _run(argv):
    main(argv)  # success returns; a failure would raise SystemExit


def test_sweep_of_a_town_is_stored_and_resumes(town_file, tmp_path):
    out = tmp_path / "sweep"
    argv = [
        "sweep",
        f"town:{town_file}",
        "--runs",
        "3",
        "--vary",
        "kill_rate=0.0,1.0",
        "--workers",
        "1",
        "--out",
        str(out),
        "--quiet",
        "--points",
        "7",
    ]
    _run(argv)
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 6 and (runs["status"] == "ok").all()
    assert {"final_S", "final_Z", "struck", "t_half_S", "cells_reached", "districts_fell"} <= set(
        runs.columns
    )
    # Nobody is created or lost in any run; killing costs zombies (kills at 1/s of contact leave fewer
    # than none).
    total = runs[["final_S", "final_E", "final_Z", "final_R"]].sum(axis=1)
    assert (total == 20 * 30 + 4).all()
    by = runs.groupby("kill_rate")["final_Z"].mean()
    assert by[0.0] > by[1.0]
    bands = pd.read_parquet(out / "bands.parquet")
    assert set(bands["series"]) == {"S", "E", "Z", "R"}
    assert json.loads((out / "sweep.json").read_text())["kind"] == "town"
    before = (out / "runs.parquet").stat().st_mtime_ns
    _run(argv)  # the same command again recomputes nothing
    again = pd.read_parquet(out / "runs.parquet")
    pd.testing.assert_frame_equal(runs.drop(columns="elapsed_s"), again.drop(columns="elapsed_s"))
    assert (out / "report.html").is_file() and before


def test_sensitivity_of_a_town(town_file, tmp_path):
    out = tmp_path / "sa"
    _run(
        [
            "sensitivity",
            f"town:{town_file}",
            "--method",
            "morris",
            "--samples",
            "2",
            "--param",
            "kill_rate=0.0:1.0",
            "--output",
            "final_Z",
            "--workers",
            "1",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    table = pd.read_parquet(out / "sensitivity_final_Z.parquet")
    assert list(table["param"]) == ["kill_rate"] and table["mu_star"].iloc[0] > 0
