"""Homegoing: the bitten who hide their bite and still feel well go home before the town is
sealed (the show: the virus leaves the school with people who hide a bite, and reaches the
hospital and the town). Their escapes are what seeds a town run from the school
(``hyosan town ... --from RUN``).

Off unless a scenario lists it (``[behaviour] mechanics = ["homegoing"]``). Then a bitten
agent who hides the bite (``infection.hide_bite``) and will not turn for at least
``home_after`` leaves their group and walks (running) to the nearest exit of the map, through
doors they can open; on an exit they leave the map (an escape: state escaped, an ``escape``
event), whether or not the scenario's ``[goals] exits`` sends anyone else there. Once the
cordon holds, the exits are shut and those still on their way give up and hide.
"""

from __future__ import annotations

import numpy as np

from hyosan.mechanics import Key, Mechanic
from hyosan.rules.consts import BITTEN, ESCAPED, EV_ESCAPE, FLEE, HIDE, T_EXIT
from hyosan.rules.jit import kernel_inline
from hyosan.rules.log import emit
from hyosan.rules.movement import free_for_human, position
from hyosan.world.fields import distance_field


@kernel_inline
def sense(i, s, now, run, prm):
    """A bite-hider who feels well (their turn is ``home_after`` off or more) sets off home;
    under the cordon those on their way hide instead."""
    agents, going = run.agents, run.mech.going
    if s != BITTEN:
        return
    if going[i]:
        if prm.cordon:
            going[i] = 0
            agents.mode[i] = HIDE
        else:
            agents.mode[i] = FLEE
        return
    if prm.cordon or not agents.hides_bite[i] or agents.turn_at[i] - now < prm.mech.home_after:
        return
    if not run.mech.home[agents.cell[i]] < np.inf:
        return  # no way out from here
    going[i] = 1
    agents.group[i] = -1
    agents.leader[i] = i
    agents.mode[i] = FLEE


@kernel_inline
def choose(i, now, run, prm, gen):
    """The step home: down the walking distance to the exits, onto a free tile a human may
    enter; -2 for anyone not going home (the next behaviour decides)."""
    if not run.mech.going[i] or run.agents.state[i] != BITTEN:
        return -2
    world, home = run.world, run.mech.home
    c = run.agents.cell[i]
    best = -1
    bd = home[c]
    for e in range(world.nbr_start[c], world.nbr_start[c + 1]):
        m = world.nbr_idx[e]
        if home[m] < bd and free_for_human(m, world, run.doors.state, prm.cordon):
            bd = home[m]
            best = e
    return position(best, c, world.nbr_start)


@kernel_inline
def contact(now, run, prm):
    """Those going home who stand on an exit leave the map (unless the cordon holds)."""
    if prm.cordon:
        return
    agents, world, going = run.agents, run.world, run.mech.going
    for i in range(agents.state.shape[0]):
        if going[i] and agents.state[i] == BITTEN and world.tiles[agents.cell[i]] == T_EXIT:
            agents.state[i] = ESCAPED
            agents.fate_tick[i] = now
            world.occupancy[agents.cell[i]] -= 1
            going[i] = 0
            emit(run.events, now, EV_ESCAPE, i, -1, agents.cell[i])


def make_arrays(scenario, world, run, values) -> dict[str, np.ndarray]:
    exits = world.exits().astype(np.int64)
    blocked = np.zeros(world.n_cells, dtype=np.uint8)
    home = (
        distance_field(world.nbr_start, world.nbr_idx, world.nbr_cost, blocked, exits)
        if exits.size
        else np.full(world.n_cells, np.inf)
    )
    return {"home": home, "going": np.zeros(run.agents.state.shape[0], dtype=np.uint8)}


MECHANIC = Mechanic(
    name="homegoing",
    doc="the bitten who hide the bite and feel well go home before the cordon, seeding the town",
    keys=(
        Key(
            "home_after",
            "20min",
            "a bite-hider goes home while their turn is at least this far off",
            kind="duration",
        ),
    ),
    arrays={
        "home": "float64[cells]: walking distance to the nearest exit (walls only)",
        "going": "uint8[agents]: 1 while on the way home",
    },
    make_arrays=make_arrays,
    hooks={"sense": sense, "choose": choose, "contact": contact},
)
