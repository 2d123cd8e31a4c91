"""Nobody stands still for ever: crowds do not queue for hours behind people who have arrived,
followers do not walk into walls after their leader, zombies are not pinned to windows or to a
doorway's jamb, and a zombie in a crowd goes for fresh prey. Each of these froze or sped up
Hyosan High's outbreak in some seeds."""

from __future__ import annotations

import numpy as np

from conftest import agents_where, place
from hyosan.agents import Mode
from hyosan.engine import Simulation
from hyosan.states import State

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
    pop = sim.pop
    leader, follower = 0, 1
    place(sim, leader, 7, 1)
    place(sim, follower, 1, 10)
    pop.group[:] = 0
    pop.leader[:] = leader
    sim.step(30)
    assert np.isin(pop.cell[follower], sim.area("yard"))


# A hall and a yard with a window between them and no way through.
GLASS = """\
[floor 1F]
############
#hhhhhhhhhh#
#==========#
#cccccccccc#
############
[rooms]
h: hall (corridor)
c: yard (corridor)
"""


def test_prey_behind_glass_does_not_draw_a_zombie(make_scenario):
    """Humans see a zombie through a window and are alarmed; the zombie, which cannot get
    through, does not chase them (every zombie of a corridor stood against its windows for
    hours, chasing the crowd outside)."""
    loaded = make_scenario(
        GLASS,
        clock={"duration": "1min"},
        population=[
            {"role": "student", "count": 1, "areas": ["yard"]},
            {"role": "student", "count": 1, "areas": ["hall"], "state": "zombie"},
        ],
    )
    sim = Simulation(loaded, seed=0)
    place(sim, 0, 3, 5)
    place(sim, 1, 1, 5)
    sim.step(2)
    assert sim.pop.mode[0] != Mode.CALM  # the student saw it
    assert sim.pop.mode[1] != Mode.CHASE


CLOSET = """\
[floor 1F]
#####
#aaa#
#####
[rooms]
a: closet (classroom)
"""


def test_a_zombie_goes_for_fresh_prey_before_its_last_victim(make_scenario):
    """A zombie sharing a tile with someone it has bitten, a fresh human beside them: it bites
    the fresh one, and the bitten one turns at the end of the incubation, not at once (biting
    the same victim again turned fleeing crowds in seconds)."""
    loaded = make_scenario(
        CLOSET,
        clock={"duration": "1min"},
        roles={"student": {"strength": 0.0}},
        zombies={"bite_prob": 0.9},
        infection={"hide_bite": 0.0, "incubation": {"distribution": "fixed", "median": "10min"}},
        population=[{"role": "student", "count": 3, "areas": ["closet"]}],
    )
    sim = Simulation(loaded, seed=0)
    zombie, bitten, fresh = 0, 1, 2
    place(sim, zombie, 1, 2, State.ZOMBIE)
    place(sim, bitten, 1, 2, State.BITTEN)
    place(sim, fresh, 1, 3)
    sim.pop.mode[zombie] = Mode.WANDER
    sim.pop.turn_at[bitten] = 10_000
    sim.pop.bitten_at[bitten] = 0
    for _ in range(20):
        sim.step(1)
        if sim.pop.state[fresh] != State.HUMAN:
            break
    assert sim.pop.state[fresh] == State.BITTEN and sim.pop.bitten_by[fresh] == zombie
    assert sim.pop.state[bitten] == State.BITTEN  # not overwhelmed while fresh prey was there


DOORWAY = """\
[floor 1F]
#####
#aaa#
##/##
#ccc#
#####
[rooms]
a: classroom (classroom)
c: hall (corridor)
"""


def test_a_zombie_beside_a_doorway_steps_in_front_of_it(make_scenario):
    """A bitten student holds the doorway; a zombie stands diagonally beside it, 1.4 m away but
    no step from it (nobody walks past a door's jamb). The zombie steps in front of the door and
    overwhelms the holder. (It stood there for hours: next to its prey as the crow flies, out of
    reach on foot.)"""
    loaded = make_scenario(
        DOORWAY,
        clock={"duration": "1min"},
        roles={"student": {"strength": 0.0}},
        infection={"hide_bite": 0.0, "incubation": {"distribution": "fixed", "median": "10min"}},
        population=[{"role": "student", "count": 2, "areas": ["hall"]}],
    )
    sim = Simulation(loaded, seed=0)
    holder, zombie = 0, 1
    place(sim, holder, 2, 2, State.BITTEN)
    place(sim, zombie, 3, 1, State.ZOMBIE)
    sim.pop.mode[holder] = Mode.HOLD
    sim.pop.mode[zombie] = Mode.WANDER
    sim.pop.turn_at[holder] = 10_000
    sim.pop.bitten_at[holder] = 0
    sim.step(30)
    assert sim.pop.state[holder] == State.ZOMBIE
