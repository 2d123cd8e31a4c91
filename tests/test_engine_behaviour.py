"""The school engine's behaviour on purpose-built small buildings."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run
from hyosan.engine import Simulation
from hyosan.rules.spatial import count_occupancy
from hyosan.states import State

SCHOOL = """\
[floor 1F]
####################
#aaaaaaa#bbbbbbbbbb#
#aaaaaaa#bbbbbbbbbb#
#aaaaaaa#bbbbbbbbbb#
####/#########/#####
#cccccccccccccccccc#
#cccccccccccccccccc#
#ccccccccccccccccccE
####################
[rooms]
a: lab (lab)
b: classroom 1 (classroom)
c: corridor (corridor)
"""


def school_population(students=30, teachers=3, zombies=0):
    pop = [
        {"role": "student", "count": students, "areas": ["classroom 1"]},
        {"role": "teacher", "count": teachers, "areas": ["lab"]},
    ]
    if zombies:
        pop.append({"role": "student", "count": zombies, "areas": ["corridor"], "state": "zombie"})
    return pop


def test_no_patient_zero_nobody_is_ever_infected(make_scenario):
    loaded = make_scenario(SCHOOL, population=school_population())
    sim, res = run(loaded)
    assert (sim.pop.bitten_at == -1).all()
    assert res.counts[["bitten", "zombie", "halfbie"]].to_numpy().sum() == 0
    assert (res.events.kind == "bite").sum() == 0


def test_bite_probability_zero_nobody_is_infected(make_scenario):
    loaded = make_scenario(
        SCHOOL,
        population=school_population(zombies=6),
        zombies={"bite_prob": 0.0},
        halfbies={"bite_prob": 0.0},
        events=[{"kind": "alarm", "at": "08:00", "area": "corridor", "duration": "10min"}],
    )
    sim, res = run(loaded)
    assert (res.events.kind == "bite").sum() == 0
    assert (sim.pop.bitten_at == -1).all()
    # The zombies were among the humans: contact happened, humans even killed some.
    assert (res.events.kind == "kill").sum() > 0


def test_patient_zero_starts_an_outbreak(make_scenario):
    loaded = make_scenario(
        SCHOOL,
        population=school_population(),
        infection={"incubation": {"distribution": "fixed", "median": "30s"}},
        events=[{"kind": "patient_zero", "at": "08:00", "area": "classroom 1"}],
    )
    spread = 0
    for seed in range(4):
        _, res = run(loaded, seed)
        bites = res.events[res.events.kind == "bite"]
        assert bites.a.iloc[0] == -2  # the first bite is the scenario's (the lab rat)
        assert res.summary()["first_turn_s"] == 30.0
        spread += len(bites) > 1
    assert spread >= 3  # it spreads, unless a classmate kills the first zombie at once


BUNKER = """\
[floor 1F]
##############
#aaaa#bbbbbbb#
#aaaaBbbbbbbb#
#aaaa#bbbbbbb#
##############
[rooms]
a: refuge (classroom)
b: hall (corridor)
[doors]
1F 5 2: {strength}
"""


def bunker(make_scenario, strength):
    return make_scenario(
        BUNKER.format(strength=strength),
        population=[
            {"role": "student", "count": 8, "areas": ["refuge"]},
            {"role": "student", "count": 8, "areas": ["hall"], "state": "zombie"},
        ],
        roles={"student": {"strength": 0.0}},
        events=[{"kind": "alarm", "at": "08:00", "area": "refuge", "level": 90, "duration": "10min"}],
    )


def test_strong_barricade_keeps_the_room_safe(make_scenario):
    sim, res = run(bunker(make_scenario, 1e6))
    assert res.summary()["final_by_role"]["student"]["human"] == 8
    assert (res.events.kind == "door_breach").sum() == 0
    # The zombies did come: they battered the door all along.
    assert sim.arrays.doors.strength[0] < 1e6 - 100


def test_weak_barricade_falls(make_scenario):
    sim, res = run(bunker(make_scenario, 20))
    assert (res.events.kind == "door_breach").sum() == 1
    assert (sim.pop.bitten_at >= 0).sum() > 0


HALL = """\
[floor 1F]
##################################################
#aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa#
#aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa#
#aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa#
#aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa#
##################################################
[rooms]
a: hall (corridor)
[spawns]
west: 1F 1 1 10 4
east: 1F 45 1 4 4
"""


def zombie_x(make_scenario, events, seed=0):
    loaded = make_scenario(
        HALL,
        clock={"duration": "90s"},
        population=[{"role": "student", "count": 20, "areas": ["west"], "state": "zombie"}],
        events=events,
    )
    sim, _ = run(loaded, seed)
    return (sim.pop.cell % sim.world.tiles.shape[2]).mean()


def test_noise_draws_zombies(make_scenario):
    alarm = [{"kind": "alarm", "at": "08:00", "area": "east", "level": 90, "duration": "90s"}]
    quiet = [{"kind": "lift_cordon", "at": "08:00"}]  # a no-op event, same streams
    for seed in (0, 1):
        assert zombie_x(make_scenario, alarm, seed) > zombie_x(make_scenario, quiet, seed) + 15


GATE = """\
[floor 1F]
##############
#aaaaaaaaaaaaE
#aaaaaaaaaaaaE
#aaaaaaaaaaaaE
##############
[rooms]
a: yard (corridor)
"""


def gate(make_scenario, cordon: bool):
    events = [{"kind": "alarm", "at": "08:00", "area": "yard", "level": 90, "duration": "30s"}]
    if cordon:
        events.append({"kind": "cordon", "at": "08:00"})
    return make_scenario(
        GATE,
        clock={"duration": "3min"},
        roles={"student": {"courage": 1.0, "jitter": 0.0}},
        population=[{"role": "student", "count": 15, "areas": ["yard"]}],
        events=events,
    )


def test_cordon_stops_escapes(make_scenario):
    _, free = run(gate(make_scenario, cordon=False))
    _, sealed = run(gate(make_scenario, cordon=True))
    assert free.summary()["final"]["escaped"] == 15
    assert sealed.summary()["final"]["escaped"] == 0
    assert (sealed.events.kind == "escape").sum() == 0
    # Under the cordon the exit tiles are closed to humans: nobody even steps onto them.
    sim = Simulation(gate(make_scenario, cordon=True), seed=0)
    exits = sim.world.exits()
    while not sim.done:
        sim.step(1)
        assert not np.isin(sim.pop.cell[sim.pop.state == State.HUMAN], exits).any(), sim.tick


DOORSTEP = """\
[floor 1F]
#######
#aaaaaE
#aaaaaE
#aaaaaE
#######
[rooms]
a: lobby (corridor)
"""


def doorstep(make_scenario, cordon: bool):
    """Twelve humans wandering at random (no senses, no goals: they do not avoid the exits) in a
    lobby of 15 tiles, five of which touch one of three exits, for three minutes."""
    return make_scenario(
        DOORSTEP,
        clock={"duration": "3min"},
        behaviour={"humans": "wander"},
        population=[{"role": "student", "count": 12, "areas": ["lobby"]}],
        events=[{"kind": "cordon", "at": "08:00"}] if cordon else [],
    )


def test_cordon_keeps_wanderers_next_to_an_exit_off_it(make_scenario):
    """Without the cordon the wanderers stumble onto the exits and leave (11 or 12 of 12 in each
    seed tried); under it the exit tiles are closed to them: nobody stands on one at any tick,
    though at most ticks (170 to 178 of 180 in seeds 0 to 3) someone stands right beside one."""
    for seed in (0, 1):
        _, free = run(doorstep(make_scenario, cordon=False), seed)
        assert free.summary()["final"]["escaped"] >= 6
        sim = Simulation(doorstep(make_scenario, cordon=True), seed=seed)
        exits = sim.world.exits()
        beside = exits - 1  # the lobby tile west of each exit (cells are numbered along rows)
        assert (sim.world.tiles.ravel()[beside] == sim.world.tiles.ravel()[sim.pop.cell[0]]).all()
        ticks_beside = 0
        while not sim.done:
            sim.step(1)
            assert not np.isin(sim.pop.cell, exits).any(), sim.tick
            ticks_beside += np.isin(sim.pop.cell, beside).any()
        assert (sim.pop.state == State.HUMAN).all()
        assert ticks_beside > sim.tick // 2


ROOF = """\
[floor 1F]
############
#aaaaaaaaaa#
#aaaaaaaaaa#
#####S######
[floor roof]
############
#rrrrrrrrrr#
#rrrrSrrrrr#
############
[rooms]
a: classroom (classroom)
r: rooftop (rooftop)
"""


def test_rescue_takes_exactly_the_humans_on_the_rooftop(make_scenario):
    loaded = make_scenario(
        ROOF,
        population=[
            {"role": "student", "count": 12, "areas": ["rooftop"]},
            {"role": "student", "count": 10, "areas": ["classroom"]},
            {"role": "student", "count": 2, "areas": ["rooftop"], "state": "zombie"},
            {"role": "student", "count": 1, "areas": ["rooftop"], "state": "halfbie"},
        ],
        events=[
            {"kind": "patient_zero", "at": "08:00", "area": "rooftop"},
            {"kind": "rescue", "at": "08:01", "area": "rooftop"},
        ],
        zombies={"bite_prob": 0.05},  # zombies attack the bitten too: slow bites leave some human
    )
    sim = Simulation(loaded, seed=2)
    sim.run_until(60)
    roof = sim.world.cells_of("rooftop")
    on_roof = np.isin(sim.pop.cell, roof)
    expected = set(np.flatnonzero(on_roof & np.isin(sim.pop.state, (State.HUMAN, State.BITTEN))))
    others = {i: sim.pop.state[i] for i in range(sim.pop.n) if i not in expected}
    sim.step(1)
    rescued = set(np.flatnonzero(sim.pop.state == State.RESCUED))
    assert rescued == expected and len(expected) >= 5
    assert all(sim.pop.state[i] != State.RESCUED for i in others)
    assert set(sim.result().events.a[sim.result().events.kind == "rescue"]) == expected
    # The rescue screens: exactly the bitten among them are isolated.
    ev = sim.result().events
    bitten = {i for i in expected if sim.pop.bitten_at[i] >= 0}
    assert set(ev.a[ev.kind == "isolate"]) == bitten


def test_same_seed_same_run_other_seed_other_run(make_scenario):
    loaded = make_scenario(
        SCHOOL,
        population=school_population(zombies=3),
        events=[{"kind": "alarm", "at": "08:02", "area": "lab"}],
    )
    _, a = run(loaded, 5)
    _, b = run(loaded, 5)
    _, c = run(loaded, 6)
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.frame_cells, b.frame_cells)
    assert a.events.equals(b.events)
    assert not np.array_equal(a.frame_cells, c.frame_cells)


def test_speeds_spread_by_their_own_jitter(make_scenario):
    """``speed_jitter`` spreads walking and running speeds apart from the other traits (a class
    may differ widely in nerve, not in speed); without it speeds spread by ``jitter``."""
    from hyosan.rules.consts import TR_COURAGE, TR_RUN, TR_WALK

    def spreads(**role):
        loaded = make_scenario(
            SCHOOL,
            roles={"student": {"jitter": 0.3, "courage": 0.5, **role}},
            population=[{"role": "student", "count": 100, "areas": ["corridor"]}],
        )
        traits = Simulation(loaded, seed=0).arrays.agents.traits
        cv = traits.std(axis=0) / traits.mean(axis=0)
        return cv[TR_WALK], cv[TR_RUN], cv[TR_COURAGE]

    walk, run_, courage = spreads(speed_jitter=0.05)
    assert 0.04 < walk < 0.06 and 0.04 < run_ < 0.06
    assert 0.22 < courage < 0.38
    walk, run_, courage = spreads()
    assert 0.22 < walk < 0.38 and 0.22 < run_ < 0.38


RUNWAY = "[floor 1F]\n" + "#" * 62 + "\n#" + "a" * 60 + "E\n" + "#" * 62 + "\n[rooms]\na: runway (corridor)\n"


@pytest.mark.parametrize(
    ("speed", "tick"),
    [(3.0, 1.0), (1.5, 2.0), (8.0, 1.0), (6.0, 2.0)],
)
def test_a_runner_covers_its_speed_whatever_the_tick(make_scenario, speed, tick):
    """One human, alarmed at the far end of a 60 m corridor, runs to the exit at its run speed:
    there in 60 m / speed, within 10 % plus two ticks (to hear the alarm and to leave)."""
    loaded = make_scenario(
        RUNWAY,
        clock={"duration": "2min", "tick": f"{tick}s", "frame_every": "10s"},
        roles={"student": {"courage": 1.0, "jitter": 0.0, "run_speed": speed}},
        population=[{"role": "student", "count": 1, "areas": ["runway"]}],
        events=[{"kind": "alarm", "at": "08:00", "area": "runway", "level": 90, "duration": "30s"}],
    )
    sim = Simulation(loaded, seed=0)
    sim.pop.cell[0] = sim.world.cells_of("runway").min()  # the far end, 60 steps from the exit
    count_occupancy(sim.pop.state, sim.pop.cell, sim.arrays.world.occupancy)
    res = sim.run()
    escape = res.events[res.events.kind == "escape"].time_s.tolist()
    assert len(escape) == 1
    assert escape[0] <= 1.1 * 60 / speed + 2 * tick, escape
