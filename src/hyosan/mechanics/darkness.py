"""Darkness: nights, lights, zombies who see poorly in the dark and hunt by sound, survivors who
move at night (the show: the survivors wait for the dark to move between hideouts).

Off unless a scenario lists it (``[behaviour] mechanics = ["darkness"]``). Then:

- the clock decides night (``dusk`` to ``dawn``; the kernels read the time of day,
  :mod:`hyosan.rules.clock`);
- every room has a light, and the corridors, stairs and grounds one together (array
  ``lights``, one per room plus slot 0: on by default). Timeline events ``lights_off`` and
  ``lights_on`` switch an area's lights (``'*'``: a power cut); humans hidden in a room at night
  switch its light off (``hide_in_dark``);
- a place is dark at night where its light is off. A zombie chasing prey loses sight of it
  when either of them is in the dark and farther than ``dark_sight`` metres: it follows the
  loudest sound it hears instead, else wanders;
- at night, hidden groups whose leader is brave enough (``night_moves``) leave their hideout:
  the leader unbars its doors and the group heads for the goal (exits, goal areas) in the dark.
"""

from __future__ import annotations

import numpy as np

from hyosan.mechanics import EventKindSpec, Key, Mechanic
from hyosan.rules.clock import time_of_day, within
from hyosan.rules.consts import (
    BITTEN,
    CHASE,
    FLEE,
    HIDDEN,
    HUMAN,
    SEEK,
    TR_COURAGE,
    WANDER,
    ZOMBIE,
)
from hyosan.rules.doors import unbar_room
from hyosan.rules.jit import kernel_inline
from hyosan.rules.noise import heard
from hyosan.rules.spatial import euclid


@kernel_inline
def night(now, prm):
    """Whether tick ``now`` falls between dusk and dawn."""
    return within(time_of_day(now, prm), prm.mech.dusk, prm.mech.dawn)


@kernel_inline
def dark(c, now, run, prm):
    """Whether cell ``c`` is dark now: night, and its room's light (the corridors' outside
    rooms) off."""
    return night(now, prm) and run.mech.lights[run.world.room_of_cell[c] + 1] == 0


@kernel_inline
def sense(i, s, now, run, prm):
    """After the built-in senses: a zombie loses prey it cannot see in the dark; at night the
    hidden switch their light off, and groups with a brave enough leader move."""
    agents = run.agents
    if s == ZOMBIE:
        t = agents.target[i]
        if agents.mode[i] == CHASE and t >= 0:
            c = agents.cell[i]
            if (dark(c, now, run, prm) or dark(t, now, run, prm)) and euclid(
                c, t, run.world.geo
            ) > prm.mech.dark_sight:
                agents.target[i] = -1  # too dark to see that far: by ear, else at random
                agents.mode[i] = SEEK if heard(run.noise, c, now) >= prm.z_hearing else WANDER
        return
    if (s == HUMAN or s == BITTEN) and agents.mode[i] == HIDDEN and night(now, prm):
        room = run.world.room_of_cell[agents.cell[i]]
        if room < 0:
            return
        if prm.mech.hide_in_dark:
            run.mech.lights[room + 1] = 0
        ldr = agents.leader[i]
        if agents.target[i] < 0 and agents.traits[ldr, TR_COURAGE] >= prm.mech.night_moves:
            if ldr == i:
                unbar_room(room, run)
            agents.mode[i] = FLEE


def switch_lights(sim, area: str | None, on: bool) -> None:
    """Switch the lights of ``area``: its rooms' ('*': every light, the corridors' too)."""
    lights = sim.arrays.mech.lights
    if area in (None, "*"):
        lights[:] = on
    else:
        lights[np.unique(sim.arrays.world.room_of_cell[sim.area(area)] + 1)] = on


def lights_off(sim, index: int, e) -> int:
    switch_lights(sim, e.area, False)
    return -1


def lights_on(sim, index: int, e) -> int:
    switch_lights(sim, e.area, True)
    return -1


def make_arrays(scenario, world, run, values) -> dict[str, np.ndarray]:
    return {"lights": np.ones(len(world.rooms) + 1, dtype=np.uint8)}


MECHANIC = Mechanic(
    name="darkness",
    doc="nights and lights: zombies see poorly in the dark and hunt by sound; survivors move at night",
    keys=(
        Key("dusk", "19:00", "night falls (clock time)", kind="clock"),
        Key("dawn", "06:30", "night ends (clock time)", kind="clock"),
        Key(
            "dark_sight",
            2.0,
            "how far a zombie sees prey when either is in the dark (lights off at night)",
            unit="m",
            ge=0.0,
            le=100.0,
        ),
        Key(
            "night_moves",
            0.7,
            "at night, hidden groups whose leader has at least this courage leave their hideout "
            "(above 1: never)",
            ge=0.0,
            le=2.0,
        ),
        Key("hide_in_dark", True, "humans hidden in a room at night switch its light off", kind="flag"),
    ),
    arrays={"lights": "uint8[rooms + 1]: 1 where a room's light is on (slot 0: corridors, stairs, grounds)"},
    make_arrays=make_arrays,
    events=(
        EventKindSpec("lights_off", lights_off, True, "switch off the lights of `area` ('*': a power cut)"),
        EventKindSpec("lights_on", lights_on, True, "switch on the lights of `area` ('*': every light)"),
    ),
    hooks={"sense": sense},
)
