"""Darkness (hyosan/mechanics/darkness.py): at night zombies lose prey in the dark and go by ear,
lights switch by events and by the hidden, hidden groups move at night; off unless listed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from conftest import place
from hyosan.engine import Simulation
from hyosan.scenario.load import load_scenario
from hyosan.states import Mode, State
from hyosan.world.tiles import DoorState

HALL = """\
[floor 1F]
######################
#aaaaaaaaaaaaaaaaaaaa#
#aaaaaaaaaaaaaaaaaaaa#
#aaaaaaaaaaaaaaaaaaaa#
####/#################
#bbbbbbbb#############
#bbbbbbbb#############
######################
[rooms]
a: hall (corridor)
b: music room (refuge)
"""


def hall(make_scenario, start="22:00", events=(), humans="wander", **keys):
    """A zombie at one end of the hall, a human 10 m away at the other (the human does not flee:
    ``humans = "wander"``), darkness on."""
    return make_scenario(
        HALL,
        clock={"start": start, "duration": "2min"},
        roles={"student": {"strength": 0.0, "sight": 30.0, "walk_speed": 0.01, "run_speed": 0.01}},
        zombies={"sight": 30.0, "walk_speed": 0.01, "run_speed": 0.01},
        behaviour={"mechanics": ["darkness"], "humans": humans, "refuge_kinds": ["refuge"]},
        population=[
            {"role": "student", "count": 1, "areas": ["hall"], "state": "zombie"},
            {"role": "student", "count": 1, "areas": ["hall"]},
        ],
        events=list(events),
        mechanics=keys,
    )


def zombie_mode_after(sim: Simulation, ticks: int = 3) -> int:
    place(sim, 0, 2, 1)
    place(sim, 1, 2, 11)
    sim.run_until(ticks)
    return int(sim.pop.mode[0])


LIGHTS_OFF = {"kind": "lights_off", "at": "00:00", "area": "*"}


def test_zombies_see_poorly_in_the_dark_and_go_by_ear(make_scenario):
    # Lights on at night, or lights off by day: it sees the human 10 m away and chases.
    assert zombie_mode_after(Simulation(hall(make_scenario), seed=0)) == Mode.CHASE
    by_day = hall(make_scenario, start="12:00", events=[{**LIGHTS_OFF, "at": "12:00"}])
    assert zombie_mode_after(Simulation(by_day, seed=0)) == Mode.CHASE
    # A power cut at night: too dark to see 10 m (dark_sight 2 m); silence: it wanders.
    dark = hall(make_scenario, events=[{**LIGHTS_OFF, "at": "22:00"}])
    sim = Simulation(dark, seed=0)
    assert zombie_mode_after(sim) == Mode.WANDER
    assert (sim.arrays.mech.lights == 0).all()
    # ... it hunts by sound: with an alarm ringing it follows the sound.
    alarm = {"kind": "alarm", "at": "22:00", "area": "*", "duration": "5min", "level": 95.0}
    loud = hall(make_scenario, events=[{**LIGHTS_OFF, "at": "22:00"}, alarm])
    assert zombie_mode_after(Simulation(loud, seed=0)) == Mode.SEEK
    # ... and sees what is close enough (dark_sight 20 m).
    sharp = hall(make_scenario, events=[{**LIGHTS_OFF, "at": "22:00"}], dark_sight=20.0)
    assert zombie_mode_after(Simulation(sharp, seed=0)) == Mode.CHASE
    # Dawn: the same power cut no longer matters.
    morning = hall(make_scenario, start="06:29", events=[{**LIGHTS_OFF, "at": "06:29"}], dawn="06:30")
    sim = Simulation(morning, seed=0)
    assert zombie_mode_after(sim, ticks=3) == Mode.WANDER
    sim.run_until(70)
    assert sim.pop.mode[0] == Mode.CHASE


def test_lights_switch_by_room(make_scenario):
    loaded = hall(
        make_scenario,
        events=[
            {"kind": "lights_off", "at": "22:00", "area": "music room"},
            {"kind": "lights_off", "at": "22:00", "area": "hall"},
            {"kind": "lights_on", "at": "22:00:30", "area": "hall"},
        ],
    )
    sim = Simulation(loaded, seed=0)
    rooms = {r.name: r.id for r in sim.world.rooms}
    lights = sim.arrays.mech.lights
    assert lights.shape == (len(sim.world.rooms) + 1,) and (lights == 1).all()  # on by default
    sim.run_until(5)
    assert lights[rooms["music room"] + 1] == 0 and lights[rooms["hall"] + 1] == 0
    sim.run_until(40)
    assert lights[rooms["music room"] + 1] == 0 and lights[rooms["hall"] + 1] == 1


def hideout(make_scenario, start: str, night_moves: float):
    """The human hidden alone in the music room, its door barricaded, the zombie far off."""
    loaded = hall(make_scenario, start=start, humans="flee", night_moves=night_moves)
    sim = Simulation(loaded, seed=0)
    place(sim, 0, 1, 20)  # out of sight of the hideout
    place(sim, 1, 6, 4)
    sim.pop.group[1], sim.pop.leader[1] = -1, 1
    sim.set_mode(1, Mode.HIDDEN)
    sim.set_doors(np.arange(len(sim.arrays.doors.state)), DoorState.BARRICADED)
    sim.run_until(2)
    music = 1 + next(r.id for r in sim.world.rooms if r.name == "music room")
    return sim, sim.arrays.mech.lights[music]


def test_the_hidden_switch_their_light_off_and_brave_ones_move_at_night(make_scenario):
    sim, light = hideout(make_scenario, "23:00", night_moves=0.0)
    assert light == 0  # hiding in the dark
    assert sim.pop.mode[1] == Mode.FLEE  # a brave enough leader: the group moves at night
    assert (sim.arrays.doors.state != DoorState.BARRICADED).all()  # the barricade taken down
    assert sim.pop.state[1] == State.HUMAN
    stays, light = hideout(make_scenario, "23:00", night_moves=2.0)
    assert stays.pop.mode[1] == Mode.HIDDEN and light == 0
    assert (stays.arrays.doors.state == DoorState.BARRICADED).all()
    day, light = hideout(make_scenario, "12:00", night_moves=0.0)
    assert day.pop.mode[1] == Mode.HIDDEN and light == 1


def test_off_unless_a_scenario_lists_it():
    sim = Simulation(
        load_scenario(str(Path(__file__).parent / "data" / "tiny_outbreak.toml"), {"clock.duration": "1min"}),
        seed=0,
    )
    assert sim.prm.mech == () and sim.arrays.mech == ()
    assert sim.prm.start_s == sim.scenario.start_seconds  # the clock is in the kernels' state


def test_a_checkpoint_of_a_run_in_the_dark_continues_bit_for_bit(make_scenario, tmp_path):
    """The mechanics' keys (prm.mech) and arrays (run.mech: the lights) are saved and restored."""
    events = [{"kind": "lights_off", "at": "22:00:30", "area": "*"}]

    def fresh():
        sim = Simulation(hall(make_scenario, events=events, humans="flee"), seed=4)
        place(sim, 0, 2, 1)
        place(sim, 1, 2, 11)
        return sim

    whole = fresh()
    whole.run_until(whole.n_ticks)
    part = fresh()
    part.run_until(45)  # the lights are off by now
    path = part.checkpoint(tmp_path / "dark.ckpt")
    back = Simulation.restore(path)
    assert back.prm.mech == part.prm.mech and back.prm.mech
    for name in back.arrays.mech._fields:
        np.testing.assert_array_equal(getattr(back.arrays.mech, name), getattr(part.arrays.mech, name))
    back.run_until(back.n_ticks)
    for name in ("state", "cell", "mode"):
        np.testing.assert_array_equal(getattr(back.pop, name), getattr(whole.pop, name), err_msg=name)
    np.testing.assert_array_equal(back.counts, whole.counts)
