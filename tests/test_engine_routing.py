"""The engine's own routing and contact, through the engine: locked and closed doors on the way
out, and the bite chance per attack with contacts held fixed."""

from __future__ import annotations

import math

import pytest

from hyosan.engine import Simulation
from hyosan.states import State
from hyosan.world.tiles import DoorState

# A yard above a hall with the exit at its far left. The short way out is the door at x = 2,
# right above the exit; the detour is the door at x = 14, across the yard and back along the hall.
YARD = """\
[floor 1F]
################
#aaaaaaaaaaaaaa#
#aaaaaaaaaaaaaa#
##{near}###########{far}#
#cccccccccccccc#
Ecccccccccccccc#
################
[rooms]
a: yard (corridor)
c: hall (corridor)
"""

#: Every courage-1 human is out within this many seconds of the alarm (the detour is ~30 m).
ESCAPE_WITHIN_S = 60.0


def fleeing(make_scenario, near: str, far: str, count: int = 15):
    return make_scenario(
        YARD.format(near=near, far=far),
        clock={"duration": "2min"},
        roles={"student": {"courage": 1.0, "jitter": 0.0}},
        population=[{"role": "student", "count": count, "areas": ["yard"]}],
        events=[{"kind": "alarm", "at": "08:00", "area": "yard", "level": 90, "duration": "30s"}],
    )


def cells_visited(sim: Simulation) -> set[int]:
    """Run to the end, one tick at a time; every cell any agent stood on."""
    seen: set[int] = set()
    while not sim.done:
        sim.step(1)
        on_map = sim.pop.state == State.HUMAN
        seen.update(int(c) for c in sim.pop.cell[on_map])
    return seen


@pytest.mark.parametrize("seed", [0, 1])
def test_a_locked_door_sends_everyone_round_by_the_open_detour(make_scenario, seed):
    sim = Simulation(fleeing(make_scenario, "L", "/"), seed=seed)
    near, far = (int(c) for c in sim.arrays.doors.cell)
    seen = cells_visited(sim)
    res = sim.result()
    esc = res.events[res.events.kind == "escape"]
    assert len(esc) == 15 and res.summary()["final"]["escaped"] == 15
    assert esc["time_s"].max() <= ESCAPE_WITHIN_S
    assert near not in seen and far in seen  # nobody stood in the locked doorway; all went round
    assert sim.arrays.doors.state[0] == DoorState.LOCKED and (res.events.kind == "door_open").sum() == 0


@pytest.mark.parametrize("seed", [0, 1])
def test_a_closed_door_that_is_the_only_way_is_opened(make_scenario, seed):
    sim = Simulation(fleeing(make_scenario, "+", "#"), seed=seed)
    (door,) = (int(c) for c in sim.arrays.doors.cell)
    seen = cells_visited(sim)
    res = sim.result()
    opened = res.events[res.events.kind == "door_open"]
    assert len(opened) >= 1 and sim.arrays.doors.state[0] in (DoorState.OPEN, DoorState.BROKEN)
    assert door in seen and res.summary()["final"]["escaped"] == 15
    assert res.events[res.events.kind == "escape"]["time_s"].max() <= ESCAPE_WITHIN_S


def pockets(n: int) -> str:
    """``n`` two-cell pockets walled off from each other: a human's cell beside a zombie's."""
    rows = ["####"]
    for _ in range(n):
        rows += ["#..#", "####"]
    return "[floor 1F]\n" + "\n".join(rows) + "\n"


@pytest.mark.parametrize("chance", [0.3, 0.75])
def test_bites_per_attack_match_the_configured_chance(make_scenario, chance):
    """With contacts fixed (isolated pairs, nobody can move or kill), one tick of contact gives
    one attack per zombie, and bites per attack equal the chance the configured bite rate gives
    in a tick, ``1 - exp(-rate * dt)`` (docs/units.md), within 3 standard errors."""
    n = 150
    h = 2 * n + 1
    loaded = make_scenario(
        pockets(n) + f"[spawns]\nleft: 1F 1 0 1 {h}\nright: 1F 2 0 1 {h}\n",
        world={"map": "map.txt", "max_per_tile": 1},
        roles={"student": {"strength": 0.0}},
        halfbies={"fraction": 0.0},
        population=[
            {"role": "student", "count": n, "areas": ["left"]},
            {"role": "student", "count": n, "areas": ["right"], "state": "zombie"},
        ],
    )
    bites = attacks = 0
    for seed in range(4):
        sim = Simulation(loaded, seed=seed)
        # The rate (per second of contact) that gives this chance in one tick.
        sim.prm = sim.prm._replace(z_bite=-math.log1p(-chance) / sim.tick_seconds)
        x = sim.pop.cell % sim.world.shape[2]
        zombie = sim.pop.state == State.ZOMBIE
        assert (x[zombie] == 2).all() and (x[~zombie] == 1).all()  # every pair in place
        sim.step(1)
        ev = sim.result().events
        assert (ev.kind == "kill").sum() == 0 and (ev.kind == "bite").sum() == (
            sim.pop.state == State.BITTEN
        ).sum()
        bites += int((ev.kind == "bite").sum())
        attacks += n  # every zombie has exactly one human beside it and attacks once
    se = math.sqrt(chance * (1 - chance) / attacks)
    assert abs(bites / attacks - chance) < 3 * se, (bites, attacks)
