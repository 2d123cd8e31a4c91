"""Hideouts: survivors hide as groups, and leave a hideout together only when the way is clear
(the show: the 2-5 students wait in the music room, the broadcasting room and the library for a
moment when the corridor is empty, and move between hideouts as one group).

Off unless a scenario lists it (``[behaviour] mechanics = ["hideouts"]``). Then:

- a timeline event ``muster`` (an ``area``: the rooftop, a rescue point) makes that area the
  humans' goal. Those already out in the open (calm, fleeing, looking for a refuge) head for it
  at once; a group hidden behind its barricade waits;
- the leader of a hidden group looks every ``check_every`` along the route to the muster area
  (the walking route, doors ignored, ``route_look`` metres of it): when no zombie or hunting
  halfbie is within ``clear_radius`` of it, the leader takes the barricade down and the group
  leaves together (its members follow the leader out; a group whose leader is gone decides
  for itself);
- a hideout that fails (a zombie inside) is fled at once, as without this mechanic.

With ``darkness`` too, groups that leave at night walk where zombies see poorly.
"""

from __future__ import annotations

import numpy as np

from hyosan.mechanics import EventKindSpec, Key, Mechanic
from hyosan.rules.consts import BITTEN, BLOCK, CALM, FLEE, HIDDEN, HIDE, HUMAN
from hyosan.rules.doors import unbar_room
from hyosan.rules.jit import kernel_inline
from hyosan.rules.spatial import coords, rect_total
from hyosan.states import State
from hyosan.world.fields import distance_field


@kernel_inline
def threat_near(c, radius, run, prm):
    """Whether a zombie or hunting halfbie is within about ``radius`` metres of cell ``c`` on its
    floor (the blocks of the spatial index that the box reaches: up to a block more)."""
    f, y, x = coords(c, run.world.geo)
    r = int(radius)
    by0 = max(0, (y - r) // BLOCK)
    by1 = min(prm.bh - 1, (y + r) // BLOCK)
    bx0 = max(0, (x - r) // BLOCK)
    bx1 = min(prm.bw - 1, (x + r) // BLOCK)
    return rect_total(run.blocks.sat_threat, f, by0, bx0, by1, bx1, prm.bw, prm.bh) > 0


@kernel_inline
def route_clear(c, run, prm):
    """Whether the route from cell ``c`` towards the muster area is clear of threats for its
    first ``route_look`` metres (every few metres looked at); False with no route."""
    route, world = run.mech.route, run.world
    if not route[c] < np.inf:
        return False
    cur = c
    walked = 0.0
    since = 1e9
    while True:
        if since >= 4.0:
            if threat_near(cur, prm.mech.clear_radius, run, prm):
                return False
            since = 0.0
        if route[cur] <= 0.0 or walked >= prm.mech.route_look:
            return True
        best = -1
        bd = route[cur]
        for e in range(world.nbr_start[cur], world.nbr_start[cur + 1]):
            m = world.nbr_idx[e]
            if route[m] < bd:
                bd = route[m]
                best = m
        if best < 0:
            return True
        step = route[cur] - bd
        walked += step
        since += step
        cur = best


@kernel_inline
def sense(i, s, now, run, prm):
    """After a muster: hidden members follow their leader out; a hidden leader (or one whose
    leader is gone) leaves when the route is clear, taking the barricade down."""
    agents = run.agents
    if run.mech.mustered[0] == 0 or not (s == HUMAN or s == BITTEN) or agents.mode[i] != HIDDEN:
        return
    ldr = agents.leader[i]
    if ldr != i and (agents.state[ldr] == HUMAN or agents.state[ldr] == BITTEN):
        lm = agents.mode[ldr]
        if lm == FLEE:
            agents.mode[i] = FLEE  # the group leaves together
        if lm == HIDDEN or lm == FLEE:
            return
    if (now + i) % max(1, prm.mech.check_every) != 0:
        return
    c = agents.cell[i]
    if route_clear(c, run, prm):
        room = run.world.room_of_cell[c]
        if room >= 0:
            unbar_room(room, run)
        agents.mode[i] = FLEE


def muster(sim, index: int, e) -> int:
    """The humans' goal becomes ``e.area``: the walking route there (doors ignored: a group
    judges the way, then opens it) for the hidden to look along; those out in the open go."""
    w = sim.world
    cells = sim.area(e.area)
    blocked = np.zeros(w.n_cells, dtype=np.uint8)
    route = distance_field(w.nbr_start, w.nbr_idx, w.nbr_cost, blocked, np.unique(cells).astype(np.int64))
    mech = sim.arrays.mech
    mech.route[:] = route
    mech.mustered[0] = 1
    sim.set_goals([e.area])
    pop = sim.pop
    out = np.isin(pop.state, (State.HUMAN, State.BITTEN)) & np.isin(pop.mode, (CALM, FLEE, HIDE))
    sim.set_mode(out, FLEE)
    return -1


def make_arrays(scenario, world, run, values) -> dict[str, np.ndarray]:
    return {
        "route": np.full(world.n_cells, np.inf),
        "mustered": np.zeros(1, dtype=np.uint8),
    }


MECHANIC = Mechanic(
    name="hideouts",
    doc="hidden groups leave a hideout together, when the route to the muster area is clear",
    keys=(
        Key(
            "clear_radius",
            8.0,
            "a route is clear when no zombie or hunting halfbie is within this distance of it",
            unit="m",
            ge=0.0,
            le=100.0,
        ),
        Key(
            "route_look", 120.0, "how far along its route a hidden group looks", unit="m", ge=0.0, le=10000.0
        ),
        Key("check_every", "30s", "how often a hidden group's leader looks along the route", kind="duration"),
    ),
    arrays={
        "route": "float64[cells]: walking distance to the muster area, doors ignored (inf before a muster)",
        "mustered": "uint8[1]: 1 once a muster event has fired",
    },
    make_arrays=make_arrays,
    events=(
        EventKindSpec(
            "muster",
            muster,
            True,
            "the survivors make for `area`: those in the open at once, hidden groups when the way is clear",
        ),
    ),
    hooks={"sense": sense},
)
