"""Calibration of the school against Alemi's SZR (issue 12 item 5): on an open floor where
everyone wanders (no halfbies, no holders, turning at once), the school's rates give Alemi's
alpha = k / b (docs/units.md), and the fraction of humans bitten agrees with the SSA ensemble.

In the SZR every zombie-human meeting ends in a bite or a kill at rates proportional to the same
S Z, so the final size depends on alpha (and N, Z0), not on the contact rate: the contact rate
sets only the clock (docs/units.md), and the comparison needs no fitted time scale.
"""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from conftest import open_yard, scenario
from hyosan.compartmental.simulate import simulate as model_simulate
from hyosan.engine import Simulation

HUMANS = 120
BITE = 0.5  # 1/s
FLOOR = open_yard(30, 30)


def open_floor(tmp_path, alpha: float, seed: int) -> tuple[int, int, int]:
    """(humans bitten, bites, kills) on the open floor with kill rate alpha * BITE."""
    folder = tmp_path / f"a{alpha}-{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    loaded = scenario(
        folder,
        FLOOR,
        clock={"start": "08:00", "duration": "3h", "frame_every": "10min"},
        roles={"student": {"adult": False, "strength": alpha * BITE, "jitter": 0.0, "walk_speed": 1.0}},
        zombies={"bite_rate": BITE, "walk_speed": 1.0},
        halfbies={"fraction": 0.0},
        infection={
            "incubation": {"distribution": "fixed", "median": "1s", "min": "1s"},
            "hide_bite": 0.0,
            "sacrifice_altruism": 1.0,
        },
        behaviour={"humans": "wander", "zombies": "wander"},
        population=[
            {"role": "student", "count": HUMANS, "areas": ["yard"], "groups": "none"},
            {"role": "student", "count": 1, "areas": ["yard"], "groups": "none", "state": "zombie"},
        ],
    )
    res = Simulation(loaded, seed=seed).run()
    kinds = res.events.kind.value_counts()
    bitten = int((res.agents["bitten_s"].notna() & (res.agents["start_state"] == "human")).sum())
    return bitten, int(kinds.get("bite", 0)), int(kinds.get("kill", 0))


def _ensemble(args):
    tmp, alpha, seeds = args
    return [open_floor(tmp, alpha, s) for s in seeds]


@pytest.fixture(scope="module")
def floors(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("floors")
    jobs = [(tmp, a, range(k, 12, 2)) for a in (1.2, 2.0) for k in (0, 1)] + [(tmp, 0.5, range(3))]
    with ProcessPoolExecutor(2) as pool:
        out = list(pool.map(_ensemble, jobs))
    return {1.2: np.array(out[0] + out[1]), 2.0: np.array(out[2] + out[3]), 0.5: np.array(out[4])}


def ssa_bitten(alpha: float, runs: int = 400) -> tuple[float, float]:
    res = model_simulate(
        "alemi", "ssa", params={"alpha": alpha, "N": HUMANS + 1, "Z0": 1}, t_end=1000.0, runs=runs, seed=1
    )
    s_end = res.final["S"].to_numpy()
    frac = (HUMANS - s_end) / HUMANS
    return float(frac.mean()), float(frac.std(ddof=1) / math.sqrt(runs))


pytestmark = pytest.mark.slow


@pytest.mark.parametrize("alpha", [1.2, 2.0])
def test_fraction_bitten_agrees_with_the_alemi_ssa(floors, alpha):
    runs = floors[alpha]
    frac = runs[:, 0] / HUMANS
    mean, se = frac.mean(), frac.std(ddof=1) / math.sqrt(len(frac))
    ssa_mean, ssa_se = ssa_bitten(alpha)
    assert abs(mean - ssa_mean) <= 2 * math.hypot(se, ssa_se), (alpha, mean, se, ssa_mean, ssa_se)


def test_below_alpha_one_everyone_is_bitten(floors):
    assert (floors[0.5][:, 0] == HUMANS).all(), floors[0.5]


def test_kills_per_bite_is_alpha(floors):
    runs = floors[2.0]
    assert runs[:, 2].sum() / runs[:, 1].sum() == pytest.approx(2.0, rel=0.15)
