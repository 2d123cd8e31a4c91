"""A user behaviour: wandering zombies drift towards doorways and stairwells.

Plug it in from a scenario (with this folder on Python's path)::

    [behaviour]
    zombie_step = "drawn_to_stairs:drawn_to_stairs"

or from Python: ``Simulation(loaded, behaviours={"zombies": drawn_to_stairs})``.
See docs/extending.md.
"""

import numba

from hyosan.rules.consts import WANDER
from hyosan.rules.rng import uniform


@numba.njit(inline="always", _nrt=False)
def drawn_to_stairs(i, now, run, prm, gen):
    """Zombie ``i``: while it wanders, two steps in three go down the chokepoint field (towards
    the nearest door or stair tile, with room on it); anything else is left to the built-in rules."""
    agents, world = run.agents, run.world
    if agents.mode[i] != WANDER or uniform(gen) < 1.0 / 3.0:
        return -2
    c = agents.cell[i]
    choke = run.fields.choke
    start = world.nbr_start[c]
    best, best_d = -2, choke[c]
    for e in range(start, world.nbr_start[c + 1]):
        m = world.nbr_idx[e]
        if choke[m] < best_d and world.occupancy[m] < world.cap[m] and world.tiles[m] != 2:
            best, best_d = e - start, choke[m]
    return best


@numba.njit(inline="always", _nrt=False)
def no_say(i, now, run, prm, gen):
    """A behaviour that always leaves the step to the built-in rules (for the speed benchmark:
    what the hook itself costs)."""
    return -2
