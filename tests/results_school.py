"""A small two-floor school whose run exercises every table and section of the results.

Shared by the results and report tests (one run per test process, cached).
"""

from __future__ import annotations

import functools
from pathlib import Path

from conftest import scenario
from hyosan.engine import Simulation

MAP = """\
name: Results school
[floor 1F]
####################
#aaaaaa#ccccccccccc#
#aaaaaa+ccccccccccc#
#aaaaaa#ccccccSccccE
#aaaaaa+ccccccccccc#
####################
[floor 2F]
####################
#bbbbbb#ddddddddddd#
#bbbbbb+ddddddddddd#
#bbbbbb#ddddddSdddd#
#bbbbbb+ddddddddddd#
####################
[rooms]
a: classroom 1-1 (classroom)
b: classroom 2-1 (classroom)
c: hall 1F (corridor)
d: hall 2F (corridor)
"""

#: A character whose name is markup: the report must show it as text and never run it.
XSS = "<img src=x onerror=window.pwned=1>"
SEED = 25


def sections() -> dict:
    return {
        "clock": {"start": "08:00", "duration": "30min", "frame_every": "10s"},
        "infection": {"incubation": {"median": "1min", "sigma": 0.3}},
        "halfbies": {"fraction": 0.1},
        # Students who fight back (kill rate 0.1/s against a bite rate of 0.69/s): the run has
        # kills, now that only a fight makes them.
        "roles": {"student": {"adult": False, "strength": 0.1}},
        "population": [
            {"role": "student", "count": 24, "areas": ["classroom 1-1"]},
            {"role": "student", "count": 24, "areas": ["classroom 2-1"]},
            {"role": "teacher", "count": 3, "areas": ["hall 2F"]},
        ],
        "characters": [
            {"name": XSS, "role": "student", "area": "classroom 1-1"},
            {"name": "Nam On-jo", "role": "student", "area": "classroom 2-1"},
        ],
        "events": [
            {"kind": "patient_zero", "at": "08:01", "who": XSS, "text": "A rat bites a student."},
            {"kind": "alarm", "when": "zombies >= 3", "area": "*", "text": "The bell rings."},
            {"kind": "cordon", "at": "08:02:30", "text": "The army seals the town."},
            {"kind": "rescue", "at": "08:25", "area": "hall 2F", "text": "A helicopter lands."},
            {"kind": "strike", "at": "08:28", "area": "hall 1F", "text": "Soldiers clear the ground floor."},
        ],
    }


def loaded(folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    return scenario(folder, MAP, **sections())


@functools.cache
def _run(folder: str):
    return Simulation(loaded(Path(folder)), seed=SEED).run()


def run_result(tmp_path_factory):
    """The run's Result (the same object within a test process)."""
    return _run(str(tmp_path_factory.getbasetemp() / "results-school"))
