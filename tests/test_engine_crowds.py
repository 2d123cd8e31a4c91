"""Crowds keep moving: nobody queues for hours behind people who have arrived, and nobody
follows a leader into a wall (both froze hundreds of Hyosan High's students for the whole run)."""

from __future__ import annotations

import numpy as np

from conftest import agents_where
from hyosan.agents import Mode
from hyosan.engine import Simulation

# A classroom whose one door opens onto the muster yard; a wall between them everywhere else.
YARD = """\
[floor 1F]
############
#aaaaaaaaaa#
#aaaaaaaaaa#
#aaaaaaaaaa#
#####/######
#cccccccccc#
#cccccccccc#
#cccccccccc#
############
[rooms]
a: classroom (classroom)
c: yard (corridor)
"""


def yard(make_scenario, count: int):
    return make_scenario(
        YARD,
        clock={"duration": "2min"},
        goals={"exits": False, "areas": ["yard"]},
        roles={"student": {"courage": 0.6, "jitter": 0.0}},
        population=[{"role": "student", "count": count, "areas": ["classroom"]}],
        events=[{"kind": "alarm", "at": "08:00", "area": "*", "level": 95, "duration": "10s"}],
    )


def test_arrivals_walk_on_into_the_muster_area_and_leave_its_doorway_free(make_scenario):
    """40 students file out of one door into a yard that holds 60: all of them get in. (At the
    yard's edge the first two arrivals stood just outside the door and the rest queued behind
    them in the classroom until the end.)"""
    sim = Simulation(yard(make_scenario, 40), seed=0)
    sim.step(90)
    assert (sim.pop.mode == Mode.FLEE).all()
    assert agents_where(sim, sim.area("yard")).size == 40
    assert agents_where(sim, sim.area("classroom")).size == 0


def test_a_follower_keeps_to_the_route_when_its_leader_is_behind_a_wall(make_scenario):
    """A student whose group leader is already in the yard, straight through the wall below
    them, walks out by the door like everyone else. (Steps that only brought the leader nearer
    as the crow flies led into the classroom's corner, and it stayed there.)"""
    sim = Simulation(yard(make_scenario, 2), seed=0)
    pop, W = sim.pop, sim.world.tiles.shape[2]
    leader, follower = 0, 1
    occupancy = sim.arrays.world.occupancy
    for i, (y, x) in ((leader, (7, 1)), (follower, (1, 10))):
        occupancy[pop.cell[i]] -= 1
        pop.cell[i] = y * W + x
        occupancy[pop.cell[i]] += 1
    pop.group[:] = 0
    pop.leader[:] = leader
    sim.step(30)
    assert np.isin(pop.cell[follower], sim.area("yard"))
