"""Mechanics as modules: the generated tick calls each declared hook in its place and in order; a
user's mechanic, with its own array and parameter, plugs in exactly as a built-in one (so it
costs what a built-in one does: benchmarks/mechanics.py measures it); a bad mechanic is refused
in one line."""

from __future__ import annotations

import re

import numba
import numpy as np
import pytest

from conftest import open_yard
from hyosan.engine import Simulation
from hyosan.errors import HyosanError
from hyosan.mechanics import BUILT_IN, HOOKS, Key, Mechanic, MechanicError, generate, load, resolve
from hyosan.rules.rng import uniform
from hyosan.states import Mode

inline = numba.njit(inline="always", _nrt=False, cache=True)

# -- a user's mechanic that writes down when each of its hooks runs ---------------------------
TICK, SENSE, CHOOSE, STEP, CONTACT = 1, 2, 3, 4, 5


@inline
def _note(code, now, run, prm):
    """Write ``code`` once per hook at tick ``prm.mech.trace_at`` (not twice in a row)."""
    log, n = run.mech.trace, run.mech.trace_n
    if now == prm.mech.trace_at and (n[0] == 0 or log[n[0] - 1] != code) and n[0] < log.shape[0]:
        log[n[0]] = code
        n[0] += 1


@inline
def trace_tick(now, run, prm):
    _note(TICK, now, run, prm)


@inline
def trace_sense(i, s, now, run, prm):
    if i == 0:
        _note(SENSE, now, run, prm)


@inline
def trace_choose(i, now, run, prm, gen):
    if i == 0:
        _note(CHOOSE, now, run, prm)
    return -2  # the step is left to the next in line


@inline
def trace_step(now, run, prm):
    _note(STEP, now, run, prm)


@inline
def trace_contact(now, run, prm):
    _note(CONTACT, now, run, prm)


def _trace_arrays(scenario, world, run, values):
    return {"trace": np.zeros(16, np.int64), "trace_n": np.zeros(1, np.int64)}


TRACE = Mechanic(
    name="trace",
    doc="writes down when its hooks run",
    keys=(Key("trace_at", 0.0, "the tick to trace", unit="ticks", ge=0),),
    arrays={"trace": "int64[16] hook codes in the order they ran", "trace_n": "int64[1] how many"},
    make_arrays=_trace_arrays,
    modes=((40, "traced", "nobody", "a mode declared by a user's mechanic"),),
    hooks={"tick": trace_tick, "sense": trace_sense, "choose": trace_choose, "step": trace_step},
)
# The same, with a contact hook too (a second mechanic: hooks of the list run in its order).
LATE = Mechanic(name="late", doc="its contact hook", hooks={"contact": trace_contact})


# -- a user's copy of the built-in darkness, with its own array and parameter -------------------
@inline
def user_sense(i, s, now, run, prm):
    """What darkness's sense hook reads and writes: an array by room, a parameter, the clock."""
    c = run.agents.cell[i]
    if run.mech.shade[run.world.room_of_cell[c] + 1] == 0 and uniform(run.mech.shade_rng) < prm.mech.shade_p:
        run.agents.target[i] = -1


def _shade_arrays(scenario, world, run, values):
    return {"shade": np.ones(len(world.rooms) + 1, np.uint8), "shade_rng": np.arange(1, 5, dtype=np.uint64)}


SHADE = Mechanic(
    name="shade",
    doc="a user's mechanic with its own array and parameter",
    keys=(Key("shade_p", 0.5, "a chance", ge=0, le=1),),
    arrays={"shade": "uint8 per room", "shade_rng": "uint64[4] its own random stream"},
    make_arrays=_shade_arrays,
    hooks={"sense": user_sense},
)
CLASH = Mechanic(name="clash", doc="declares darkness's key", keys=(Key("dusk", "20:00", "", kind="clock"),))
TWIN_MODE = Mechanic(name="twin", doc="takes a built-in mode's code", modes=((3, "lurk", "zombies", ""),))


def yard(make_scenario, mechanics, **keys):
    return make_scenario(
        open_yard(6, 6),
        clock={"duration": "20s"},
        zombies={"walk_speed": 2.0, "run_speed": 2.0},
        population=[
            {"role": "student", "count": 1, "areas": ["yard"], "state": "zombie"},
            {"role": "student", "count": 6, "areas": ["yard"]},
        ],
        behaviour={"mechanics": mechanics},
        mechanics=keys,
    )


def test_the_generated_tick_calls_each_hook_in_order(make_scenario):
    sim = Simulation(yard(make_scenario, ["test_mechanics:TRACE", "test_mechanics:LATE"], trace_at=3), seed=0)
    sim.run_until(6)
    mech = sim.arrays.mech
    # At tick 3 (the mechanic's own parameter), once each: tick, sense, choose, step, contact.
    assert list(mech.trace[: mech.trace_n[0]]) == [TICK, SENSE, CHOOSE, STEP, CONTACT]
    # The source says the same, with the built-in phases in between.
    text = generate.source(resolve(["test_mechanics:TRACE", "test_mechanics:LATE"]), {})
    order = [
        "m0_tick(now",
        "before_moving(now",
        "m0_sense(i",
        "move_all(now",
        "m0_step(now",
        "contact_phase(now",
        "m1_contact(now",
        "end_tick(now",
    ]
    places = [text.index(call) for call in order]
    assert places == sorted(places)
    assert "k = m0_choose(i, now, run, prm, gen)" in text  # before the behaviour and the built-in step
    assert list(HOOKS) == ["tick", "sense", "choose", "step", "contact"]


def test_a_user_mechanic_declares_a_mode_once(make_scenario):
    Simulation(yard(make_scenario, ["test_mechanics:TRACE", "test_mechanics:LATE"]), seed=0)
    assert Mode.TRACED == 40 and Mode.name_of(40) == "traced"
    assert Mode.names()[Mode.FLEE] == "flee"


def test_a_user_mechanic_plugs_in_as_a_built_in_one(make_scenario):
    """A user's mechanic is the same kind of thing as the built-in darkness: a numba function
    inlined into the generated kernel, called the same way, reading its array and parameter
    from the same named state. So it costs what a built-in one does (the >= 90 % of the issue:
    benchmarks/mechanics.py measures both side by side)."""
    darkness = load("darkness")
    for mech in (darkness, SHADE):
        assert mech.hooks["sense"].targetoptions.get("inline") == "always"
    built_in = generate.source([darkness], {})
    users = generate.source([SHADE], {})

    def shape(text):
        return re.sub(
            r"from \S+ import \w+ as m0_sense  # \w+\.sense", "IMPORT", re.sub(r'""".*?"""', "", text)
        )

    assert shape(built_in) == shape(users)
    sim = Simulation(yard(make_scenario, ["test_mechanics:SHADE"], shade_p=1.0), seed=0)
    assert sim.prm.mech.shade_p == 1.0 and sim.arrays.mech.shade.shape == (len(sim.world.rooms) + 1,)
    sim.arrays.mech.shade[:] = 0  # every place shaded: every target forgotten after the senses
    sim.run_until(5)
    assert (sim.pop.target == -1).all()
    assert not (sim.arrays.mech.shade_rng == np.arange(1, 5)).all()  # its own stream drew


def one_line_error(make_scenario, mechanics, **keys) -> str:
    with pytest.raises(HyosanError) as info:
        Simulation(yard(make_scenario, mechanics, **keys), seed=0)
    text = str(info.value)
    assert "\n" not in text
    return text


def test_a_bad_mechanic_is_refused_in_one_line(make_scenario):
    with pytest.raises(MechanicError, match="unknown hook 'smell'"):
        Mechanic(name="nose", doc="", hooks={"smell": trace_step})
    text = one_line_error(make_scenario, ["darkness", "test_mechanics:CLASH"])
    assert "behaviour.mechanics" in text and "'dusk' clashes with mechanic 'darkness'" in text
    text = one_line_error(make_scenario, ["test_mechanics:TWIN_MODE"])
    assert "mode 'lurk' (code 3) clashes with built-in's mode 'hidden'" in text
    assert "unknown mechanic 'nightfall'" in one_line_error(make_scenario, ["nightfall"])
    assert "listed twice" in one_line_error(make_scenario, ["darkness", "darkness"])
    assert "mechanics.dusk" in one_line_error(make_scenario, [], dusk="19:00")
    assert "mechanics.dark_sight" in one_line_error(make_scenario, ["darkness"], dark_sight=-1.0)
    assert "mechanics.glow: no mechanic in use declares it" in one_line_error(
        make_scenario, ["darkness"], glow=1.0
    )


def test_built_in_mechanics_are_one_module_each():
    assert "darkness" in BUILT_IN and "generate" not in BUILT_IN
    assert load("darkness").name == "darkness"
