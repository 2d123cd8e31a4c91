"""The story's mechanics: holding a doorway, hidden bites, halfbies, sight, names, user systems."""

from __future__ import annotations

import re

import numpy as np

from conftest import place, run
from hyosan.agents import Mode
from hyosan.engine import Simulation
from hyosan.states import State
from hyosan.world.tiles import Tile

CORRIDOR = """\
[floor 1F]
####################
#aaaaaaa#bbbbbbbbbb#
#aaaaaaa#bbbbbbbbbb#
#aaaaaaa/bbbbbbbbbb#
#aaaaaaa#bbbbbbbbbb#
####################
[rooms]
a: classroom (classroom)
b: hall (corridor)
"""


def hero(make_scenario, hide_bite: float, altruism: float):
    return make_scenario(
        CORRIDOR,
        clock={"duration": "3min"},
        infection={"hide_bite": hide_bite, "incubation": {"distribution": "fixed", "median": "10min"}},
        population=[{"role": "student", "count": 10, "areas": ["classroom"]}],
        characters=[{"name": "Lee Cheong-san", "role": "student", "area": "classroom", "altruism": altruism}],
        events=[{"kind": "patient_zero", "at": "08:00", "who": "Lee Cheong-san"}],
    )


def test_bitten_altruist_holds_a_doorway(make_scenario):
    sim = Simulation(hero(make_scenario, hide_bite=0.0, altruism=1.0), seed=0)
    i = sim.pop.find("Lee Cheong-san")
    sim.run_until(60)
    assert sim.pop.mode[i] == Mode.HOLD
    assert sim.pop.group[i] == -1  # the bite was seen: he left his group
    door = sim.world.tiles.ravel()[sim.pop.cell[i]]
    assert door in (Tile.DOOR, Tile.STAIRS)
    where = sim.pop.cell[i]
    sim.run_until(180)
    assert sim.pop.cell[i] == where  # and stays there
    assert (sim.result().events.kind == "hold").sum() == 1


def test_hidden_bite_stays_with_the_group(make_scenario):
    sim = Simulation(hero(make_scenario, hide_bite=1.0, altruism=1.0), seed=0)
    i = sim.pop.find("Lee Cheong-san")
    group = sim.pop.group[i]
    assert group >= 0
    sim.run_until(60)
    assert sim.pop.state[i] == State.BITTEN
    assert sim.pop.group[i] == group and sim.pop.mode[i] != Mode.HOLD


def test_selfish_bitten_do_not_hold(make_scenario):
    sim = Simulation(hero(make_scenario, hide_bite=0.0, altruism=0.0), seed=0)
    sim.run_until(60)
    assert sim.pop.mode[sim.pop.find("Lee Cheong-san")] != Mode.HOLD


WALLED = """\
[floor 1F]
#############
#aaaaa{sep}bbbbb#
#aaaaa{sep}bbbbb#
#aaaaa{sep}bbbbb#
#############
[rooms]
a: left (classroom)
b: right (classroom)
"""


def chasing(make_scenario, separator: str) -> tuple[bool, bool]:
    """Whether the zombie on the far side of ``separator`` chased, and the students saw it."""
    loaded = make_scenario(
        WALLED.format(sep=separator),
        clock={"duration": "30s"},
        behaviour={"calm_move": 0.0},
        population=[
            {"role": "student", "count": 4, "areas": ["left"]},
            {"role": "student", "count": 1, "areas": ["right"], "state": "zombie"},
        ],
        zombies={"sight": 10.0},
    )
    sim = Simulation(loaded, seed=0)
    chased = seen = False
    while not sim.done:
        sim.step(1)
        chased |= bool((sim.pop.mode[sim.pop.state == State.ZOMBIE] == Mode.CHASE).any())
        seen |= bool((sim.pop.mode[sim.pop.state == State.HUMAN] != Mode.CALM).any())
    return chased, seen


def test_humans_see_zombies_through_windows_and_zombies_chase_only_what_they_can_reach(make_scenario):
    """A wall hides each side from the other; through a window the students see the zombie and
    are alarmed, but the zombie, which cannot get through, does not chase them."""
    assert chasing(make_scenario, "#") == (False, False)
    assert chasing(make_scenario, "=") == (False, True)


def test_halfbies_ignored_by_zombies_and_friendly_ones_fight(make_scenario):
    def halfbies_among_zombies(humans: int):
        return make_scenario(
            CORRIDOR,
            clock={"duration": "3min"},
            halfbies={"hostile_fraction": 0.0, "strength": 0.5, "fraction": 0.0},
            roles={"student": {"strength": 0.0}},
            population=[
                {"role": "student", "count": 4, "areas": ["hall"], "state": "halfbie"},
                {"role": "student", "count": 12, "areas": ["hall"], "state": "zombie"},
                {"role": "student", "count": humans, "areas": ["hall"]},
            ],
            world={"map": "map.txt", "max_per_tile": 3},
        )

    # Alone with zombies, friendly halfbies are left alone and leave them alone (they defend,
    # they do not hunt).
    sim, res = run(halfbies_among_zombies(0), seed=1)
    assert (res.events.kind == "kill").sum() == 0 and (res.events.kind == "bite").sum() == 0
    assert (sim.pop.state[:4] == State.HALFBIE).all()
    # With humans beside them they strike (the humans, strength 0, kill nothing themselves).
    sim, res = run(halfbies_among_zombies(8), seed=1)
    kills = res.events[res.events.kind == "kill"]
    assert len(kills) > 0
    assert set(kills.a) <= set(range(4))  # the halfbies (agents 0-3) did the killing
    assert not set(res.events.b[res.events.kind == "bite"]) & set(range(4))  # never bitten
    assert (sim.pop.state[:4] == State.HALFBIE).all()


def test_hostile_halfbies_hunt_humans(make_scenario):
    loaded = make_scenario(
        CORRIDOR,
        clock={"duration": "5min"},
        roles={"student": {"strength": 0.0}},
        halfbies={"hostile_fraction": 1.0, "bite_prob": 1.0, "bite_makes_halfbie": 1.0},
        infection={"incubation": {"distribution": "fixed", "median": "5s"}},
        population=[
            {"role": "student", "count": 10, "areas": ["classroom"]},
            {"role": "student", "count": 1, "areas": ["hall"], "state": "halfbie"},
        ],
        events=[{"kind": "alarm", "at": "08:00", "area": "classroom", "duration": "5min"}],
    )
    sim, res = run(loaded, seed=0)
    bites = res.events[res.events.kind == "bite"]
    assert len(bites) > 0 and bites.a.iloc[0] == 10
    # A halfbie's bite made halfbies here (bite_makes_halfbie = 1): no zombies at all.
    assert (sim.pop.state == State.ZOMBIE).sum() == 0
    assert (sim.pop.state == State.HALFBIE).sum() > 1


def test_generated_korean_names_and_characters(make_scenario):
    sim = Simulation(hero(make_scenario, hide_bite=0.0, altruism=1.0), seed=3)
    names = sim.pop.names()
    assert "Lee Cheong-san" in names
    generated = [n for n in names if n != "Lee Cheong-san"]
    assert all(re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]*-[a-z]+", n) for n in generated)
    assert len(set(n.split()[0] for n in generated)) > 1  # several family names


def test_user_systems_run_in_the_pipeline(make_scenario):
    sim = Simulation(hero(make_scenario, hide_bite=0.0, altruism=1.0), seed=0)
    seen = []
    sim.add_system(lambda s: seen.append(s.tick), every=30)
    sim.run()
    assert seen == [30, 60, 90, 120, 150, 180]


STAIRS = """\
[floor 1F]
########
#S....E#
########
[floor 2F]
########
#Saaaaa#
########
[rooms]
a: classroom (classroom)
"""


def test_slow_runners_take_the_stairs(make_scenario):
    """A flight of stairs costs more than a second's run: it must still be climbable."""
    loaded = make_scenario(
        STAIRS,
        clock={"duration": "2min"},
        roles={"student": {"courage": 1.0, "jitter": 0.0, "run_speed": 1.2, "walk_speed": 1.0}},
        population=[{"role": "student", "count": 3, "areas": ["classroom"]}],
        events=[{"kind": "alarm", "at": "08:00:05", "area": "classroom", "duration": "10s"}],
    )
    _, res = run(loaded)
    assert res.summary()["final"]["escaped"] == 3


def test_school_wide_alarm_is_heard_everywhere(make_scenario):
    loaded = make_scenario(
        STAIRS,
        clock={"duration": "30s"},
        population=[{"role": "student", "count": 3, "areas": ["classroom"]}],
        events=[{"kind": "alarm", "at": "08:00", "area": "*", "level": 70, "duration": "20s"}],
    )
    sim = Simulation(loaded, seed=0)
    sim.step(1)
    walkable = sim.world.tiles.ravel() != Tile.VOID
    assert (sim.arrays.noise.level[walkable] == 70).all()
    assert (sim.pop.mode != Mode.CALM).all()  # everybody heard it


HIDEOUT = """\
[floor 1F]
############
#Shhhhhhhhh#
############
[floor 2F]
############
#Scccc#aaaa#
#cccccBaaaa#
#cccc.#aaaa#
############
[rooms]
h: hall (corridor)
c: landing (corridor)
a: hideout (classroom)
[doors]
2F 6 2: 150
"""


def hideout(make_scenario, hunt_range: float):
    return make_scenario(
        HIDEOUT,
        clock={"duration": "4min"},
        roles={"student": {"strength": 0.0}},
        halfbies={"hostile_fraction": 1.0, "bite_prob": 1.0, "hunt_range": hunt_range, "break_rate": 5.0},
        infection={"incubation": {"distribution": "fixed", "median": "10min"}},
        population=[
            {"role": "student", "count": 1, "areas": ["hall"], "state": "halfbie"},
            {"role": "student", "count": 2, "areas": ["hideout"]},
        ],
    )


def test_hostile_halfbies_hunt_the_hidden_through_walls_and_floors(make_scenario):
    """Gwi-nam hunts (show): a hostile halfbie hears the hidden one storey up, takes the stairs,
    breaks their barricade (150 hit points at 5 a second) and bites."""
    _, res = run(hideout(make_scenario, hunt_range=30.0), seed=0)
    ev = res.events
    breach = ev[ev.kind == "door_breach"]
    bites = ev[(ev.kind == "bite") & (ev.a == 0)]
    assert len(breach) == 1 and len(bites) >= 1
    assert breach.time_s.iloc[0] >= 30  # the barricade held the 30 s it is worth
    assert bites.time_s.iloc[0] > breach.time_s.iloc[0]


RING = """\
[floor 1F]
#############
#hhhhhhhhhhh#
#h#########h#
#h#aaaaaaa#h#
#h#aaaaaaa#h#
#h####B####h#
#hhhhhhhhhhh#
#############
[rooms]
h: ring (corridor)
a: hideout (classroom)
[doors]
1F 6 5: 20
"""


def ring_hunt(make_scenario, hunters: int) -> Simulation:
    """``hunters`` hostile halfbies on the ring's top row, above the hideout where two hide."""
    loaded = make_scenario(
        RING,
        clock={"duration": "2min"},
        roles={"student": {"strength": 0.0}},
        halfbies={"hostile_fraction": 1.0, "bite_prob": 1.0, "hunt_range": 30.0, "break_rate": 5.0},
        infection={"incubation": {"distribution": "fixed", "median": "10min"}},
        population=[{"role": "student", "count": 2 + hunters, "areas": ["hideout"]}],
    )
    sim = Simulation(loaded, seed=0)
    for h in range(hunters):
        place(sim, h, 1, 6 + h, State.HALFBIE)  # the top of the ring
        sim.pop.hostile[h] = True
        sim.pop.mode[h] = Mode.CHASE
    return sim


def test_a_hunter_walks_round_the_walls_to_its_prey(make_scenario):
    """Gwi-nam goes round, not into, the wall between him and the hidden: the hunter starts on
    the far side of a ring corridor from the hideout's only door (the straight line to the door
    and to the prey runs into the wall), walks round, breaks the barricade and bites."""
    sim = ring_hunt(make_scenario, 1)
    h = 0
    sim.step(1)
    assert sim.pop.mode[h] == Mode.HUNT  # it hears them through the wall
    res = sim.run()
    ev = res.events
    breach = ev[ev.kind == "door_breach"]
    bites = ev[(ev.kind == "bite") & (ev.a == h)]
    assert len(breach) == 1 and len(bites) >= 1
    # 12 m round at 4 m/s, then 20 hit points at 5 a second: at the door within seconds (a
    # greedy chase stays at the top of the ring, where no step brings the door nearer)
    assert breach.time_s.iloc[0] <= 15
    assert bites.time_s.iloc[0] > breach.time_s.iloc[0]


def test_hunters_take_turns_with_a_pool_smaller_than_their_number(make_scenario, monkeypatch):
    """With one field for two hunters (a pool smaller than the hunters: they take turns, each
    turn a new field), both still walk round to the hideout's door."""
    import hyosan.assemble

    monkeypatch.setattr(hyosan.assemble, "hunt_rows", lambda n_cells: 1)
    sim = ring_hunt(make_scenario, 2)
    assert sim.arrays.hunts.dist.shape[0] == 1
    W = sim.world.tiles.shape[2]
    sim.step(12)
    inside = np.isin(sim.pop.cell[:2], sim.area("hideout"))
    at_door = sim.pop.cell[:2] == 5 * W + 6
    assert (inside | at_door).all(), sim.pop.cell[:2]


def test_halfbies_that_do_not_hunt_leave_the_hidden_alone(make_scenario):
    _, res = run(hideout(make_scenario, hunt_range=0.0), seed=0)
    ev = res.events
    assert (ev.kind == "bite").sum() == 0 and (ev.kind == "door_breach").sum() == 0


def test_a_loner_keeps_out_of_the_group(make_scenario):
    loaded = make_scenario(
        CORRIDOR,
        population=[{"role": "student", "count": 5, "areas": ["classroom"]}],
        characters=[
            {"name": "Yoon Gwi-nam", "role": "student", "area": "classroom", "alone": True},
            {"name": "Lee Su-hyeok", "role": "student", "area": "classroom"},
        ],
    )
    sim = Simulation(loaded, seed=0)
    g, s = sim.pop.find("Yoon Gwi-nam"), sim.pop.find("Lee Su-hyeok")
    assert sim.pop.group[s] == sim.pop.group[0] >= 0
    assert sim.pop.group[g] == -1 and sim.pop.leader[g] == g


def pinned_bitten_by_a_halfbie(make_scenario, pinned_halfbie: bool, makes: float):
    """A character whose kind the scenario pins, shut in a small yard with a hostile halfbie."""
    from conftest import open_yard

    return make_scenario(
        open_yard(3, 3),
        clock={"duration": "1min"},
        roles={"student": {"strength": 0.0}},
        halfbies={"hostile_fraction": 1.0, "bite_prob": 1.0, "bite_makes_halfbie": makes},
        infection={"incubation": {"distribution": "fixed", "median": "5s"}},
        population=[{"role": "student", "count": 1, "areas": ["yard"], "state": "halfbie"}],
        characters=[
            {
                "name": "Choi Nam-ra",
                "role": "student",
                "area": "yard",
                "halfbie": pinned_halfbie,
                "alone": True,
            }
        ],
    )


def test_pinned_characters_keep_their_kind_when_a_halfbie_bites(make_scenario):
    """A halfbie's bite re-draws whether the bitten becomes a halfbie, but not for a character
    the scenario pins (issue 23: Nam-ra, a friendly halfbie, became a zombie)."""
    for pinned, makes, becomes in ((True, 0.0, State.HALFBIE), (False, 1.0, State.ZOMBIE)):
        sim, res = run(pinned_bitten_by_a_halfbie(make_scenario, pinned, makes), seed=0)
        i = sim.pop.find("Choi Nam-ra")
        bites = res.events[(res.events.kind == "bite") & (res.events.b == i)]
        assert len(bites) >= 1 and bites.a.iloc[0] == 0  # the halfbie bit her
        assert sim.pop.state[i] == becomes


def test_chronicle_tells_a_killed_halfbie_as_a_halfbie(make_scenario):
    """A halfbie who is killed is told as one (issue 23: "turns ... a zombie now, is destroyed")."""
    from conftest import open_yard
    from hyosan.results.chronicle import chronicle

    loaded = make_scenario(
        open_yard(4, 4),
        clock={"duration": "3min"},
        roles={"student": {"strength": 1.0, "courage": 1.0}},
        halfbies={"bite_prob": 0.01},
        infection={"incubation": {"distribution": "fixed", "median": "5s"}},
        population=[{"role": "student", "count": 8, "areas": ["yard"]}],
        characters=[
            {"name": "Yoon Gwi-nam", "role": "student", "area": "yard", "halfbie": True, "hostile": True}
        ],
        events=[{"kind": "patient_zero", "at": "08:00", "who": "Yoon Gwi-nam"}],
    )
    sim, res = run(loaded, seed=0)
    i = sim.pop.find("Yoon Gwi-nam")
    assert sim.pop.state[i] == State.DEAD  # he turned, then was killed
    text = chronicle(res)
    assert "**Yoon Gwi-nam** turns" in text and "keeps their mind: a halfbie" in text
    assert "**Yoon Gwi-nam**, a halfbie now, is destroyed" in text
    assert "a zombie now" not in text
