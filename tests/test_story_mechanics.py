"""The story's mechanisms (issue 23): event times on later days, the scripted bite, hideouts
(groups leave when the way is clear) and homegoing (bite-hiders go home before the cordon).

Every scenario here lists the same mechanics as Hyosan High, so they share its compiled kernel."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import place
from hyosan.engine import Simulation
from hyosan.errors import HyosanError
from hyosan.scenario.timefmt import format_day_clock, parse_day_clock
from hyosan.states import Mode, State
from hyosan.world.tiles import DoorState

MECHANICS = ["darkness", "hideouts", "homegoing"]

ROOMS = """\
[floor 1F]
############################
#hhhhh#cccccccccccccc#yyyyy#
#hhhhh/cccccccccccccc/yyyyy#
#hhhhh#cccccccccccccc#yyyyyE
############################
[rooms]
h: hideout (refuge)
c: corridor (corridor)
y: roof (yard)
"""


def story(make_scenario, events=(), population=None, characters=(), **sections):
    base = {
        "clock": {"start": "08:00", "duration": "10min"},
        "roles": {
            "student": {"courage": 0.1, "jitter": 0.0, "strength": 0.0},
            "nurse": {"adult": True, "courage": 0.1, "jitter": 0.0, "strength": 0.0},
        },
        "zombies": {"walk_speed": 0.01, "run_speed": 0.01, "sight": 6.0},
        "behaviour": {"mechanics": MECHANICS, "refuge_kinds": ["refuge"], "zombies": "wander"},
        "goals": {"exits": False, "areas": []},
        "population": [{"role": "student", "count": 3, "areas": ["hideout"]}]
        if population is None
        else population,
        "characters": list(characters),
        "events": list(events),
    }
    base.update(sections)
    return make_scenario(ROOMS, **base)


# -- times on later days -------------------------------------------------------------------------
def test_event_times_on_later_days(make_scenario):
    assert parse_day_clock("day 2 04:00") == (2, 4 * 3600.0)
    assert parse_day_clock("13:40") == (None, 13 * 3600 + 40 * 60.0)
    assert format_day_clock(86400 + 3600) == "day 2 01:00:00" and format_day_clock(3600) == "01:00:00"
    loaded = story(
        make_scenario, events=[{"kind": "cordon", "at": "day 2 08:01"}, {"kind": "cordon", "at": "07:59"}]
    )
    sc = loaded.scenario
    assert sc.clock_tick("day 2 08:01") == 86400 + 60  # a day and a minute after the 08:00 start
    assert sc.clock_tick("07:59") == 86400 - 60  # a bare time before the start: the next day
    assert sc.clock_tick("day 1 07:00") == 0  # before the start on day 1: at once
    with pytest.raises(ValueError, match="days count from 1"):
        parse_day_clock("day 0 04:00")


def test_a_bad_day_time_names_the_field(make_scenario):
    with pytest.raises(HyosanError, match=r"events\.0\.at"):
        story(make_scenario, events=[{"kind": "cordon", "at": "day two 04:00"}])


# -- the scripted bite ---------------------------------------------------------------------------
def _bite_scenario(make_scenario, **bite):
    return story(
        make_scenario,
        population=[{"role": "nurse", "count": 1, "areas": ["corridor"]}],
        characters=[{"name": "Hyeon-ju", "role": "student", "area": "hideout", "incubation": "10s"}],
        events=[
            {"kind": "patient_zero", "at": "08:00", "who": "Hyeon-ju"},
            {"kind": "bite", "at": "08:00:10", "by": "Hyeon-ju", **bite},
        ],
    )


def test_the_scripted_bite_happens_at_the_turn(make_scenario):
    sim = Simulation(_bite_scenario(make_scenario, who="role:nurse"), seed=0)
    p0 = sim.pop.find("Hyeon-ju")
    nurse = int(np.flatnonzero(sim.pop.role == sim.pop.role_names.index("nurse"))[0])
    sim.run_until(9)
    assert sim.pop.state[nurse] == State.HUMAN
    sim.run_until(12)
    assert sim.pop.state[p0] == State.ZOMBIE
    assert sim.pop.state[nurse] == State.BITTEN and sim.pop.bitten_by[nurse] == p0
    assert sim.pop.bites[p0] == 1


def test_no_scripted_bite_from_the_dead(make_scenario):
    sim = Simulation(_bite_scenario(make_scenario, who="role:nurse"), seed=0)
    p0 = sim.pop.find("Hyeon-ju")
    sim.run_until(5)
    sim.pop.state[p0] = State.DEAD  # killed before she could turn
    sim.run_until(15)
    assert (sim.pop.state == State.BITTEN).sum() == 0


@pytest.mark.parametrize(
    ("bite", "field"),
    [
        ({"who": "role:janitor"}, r"events\[1\]\.who: .*roles: student, teacher, nurse"),
        ({"who": "Nobody"}, r"events\[1\]\.who: no character named 'Nobody'"),
        ({}, r"events\.1: .*a bite needs 'by'"),
    ],
)
def test_a_bad_scripted_bite_names_the_field(make_scenario, bite, field):
    with pytest.raises(HyosanError, match=field):
        _bite_scenario(make_scenario, **bite)


def test_a_bite_by_someone_unknown_names_the_field(make_scenario):
    with pytest.raises(HyosanError, match=r"events\[1\]\.by: no character named 'Nobody'"):
        story(
            make_scenario,
            events=[
                {"kind": "cordon", "at": "08:00"},
                {"kind": "bite", "at": "08:01", "by": "Nobody", "area": "hideout"},
            ],
        )


# -- hideouts ----------------------------------------------------------------------------------
def _hidden_group(make_scenario, zombie_at):
    loaded = story(
        make_scenario,
        population=[
            {"role": "student", "count": 3, "areas": ["hideout"]},
            {"role": "student", "count": 1, "areas": ["corridor"], "state": "zombie"},
        ],
        events=[
            {"kind": "barricade", "at": "08:00", "area": "hideout"},
            {"kind": "muster", "at": "08:00:05", "area": "roof"},
        ],
    )
    sim = Simulation(loaded, seed=0)
    place(sim, 3, *zombie_at)
    sim.set_mode(np.arange(3), Mode.HIDDEN)
    return sim


def test_a_hidden_group_waits_while_a_zombie_is_near_its_way(make_scenario):
    sim = _hidden_group(make_scenario, (2, 9))  # in the corridor, 3 m from the hideout's door
    sim.run_until(120)
    assert (sim.pop.mode[:3] == Mode.HIDDEN).all()
    door = sim.doors_of("hideout")
    assert (sim.arrays.doors.state[door] == DoorState.BARRICADED).all()


def test_a_hidden_group_leaves_together_when_the_way_is_clear(make_scenario):
    sim = _hidden_group(make_scenario, (2, 9))
    sim.run_until(60)
    assert (sim.pop.mode[:3] == Mode.HIDDEN).all()
    sim.pop.state[3] = State.DEAD  # the zombie is gone: the way is clear
    sim.arrays.world.occupancy[sim.pop.cell[3]] -= 1
    sim.run_until(100)  # the leader looks every 30 s
    assert (sim.pop.mode[:3] == Mode.FLEE).all()
    assert not (sim.arrays.doors.state[sim.doors_of("hideout")] == DoorState.BARRICADED).any()
    sim.run_until(200)
    assert np.isin(sim.pop.cell[:3], sim.area("roof")).all()


def test_hidden_groups_stay_put_without_a_muster(make_scenario):
    loaded = story(make_scenario, events=[{"kind": "barricade", "at": "08:00", "area": "hideout"}])
    sim = Simulation(loaded, seed=0)
    sim.set_mode(np.arange(3), Mode.HIDDEN)
    sim.run_until(200)
    assert (sim.pop.mode[:3] == Mode.HIDDEN).all()


# -- homegoing ---------------------------------------------------------------------------------
def _bitten_in_the_corridor(make_scenario, incubation, events=()):
    loaded = story(
        make_scenario,
        population=[],
        characters=[{"name": "Ji-min", "role": "student", "area": "corridor", "incubation": incubation}],
        infection={"hide_bite": 1.0},
        events=[{"kind": "patient_zero", "at": "08:00", "who": "Ji-min"}, *events],
    )
    return Simulation(loaded, seed=0)


def test_a_bite_hider_who_feels_well_goes_home(make_scenario):
    sim = _bitten_in_the_corridor(make_scenario, "1h")
    result = sim.run()
    assert sim.pop.state[0] == State.ESCAPED
    assert (result.events["kind"] == "escape").sum() == 1


def test_one_about_to_turn_does_not_go_home(make_scenario):
    sim = _bitten_in_the_corridor(make_scenario, "5min")  # home_after is 20 min
    sim.run_until(200)
    assert sim.pop.state[0] == State.BITTEN


def test_nobody_goes_home_through_the_cordon(make_scenario):
    sim = _bitten_in_the_corridor(make_scenario, "1h", events=[{"kind": "cordon", "at": "08:00"}])
    sim.run()
    assert sim.pop.state[0] != State.ESCAPED
