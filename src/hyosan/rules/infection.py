"""Infection: the bitten turn when their incubation is over, into zombies or halfbies.

Incubation times, who would become a halfbie, who would be a hostile one and who would hide a
bite are drawn for every agent when the run is built (``hyosan.populate``, from the infection
stream), so adding an agent or a rule never reshuffles them; the kernel only reads them.
"""

from __future__ import annotations

from hyosan.rules.consts import BITTEN, CHASE, EV_TURN, FLEE, HALFBIE, WANDER, ZOMBIE
from hyosan.rules.jit import kernel
from hyosan.rules.log import emit


@kernel
def turn(i, now, agents, ev):
    """Bitten agent ``i`` turns, into a zombie or a halfbie (event TURN: a turned, bitten by b)."""
    state, mode = agents.state, agents.mode
    if agents.halfbie[i]:
        state[i] = HALFBIE
        mode[i] = CHASE if agents.hostile[i] else FLEE
    else:
        state[i] = ZOMBIE
        mode[i] = WANDER
    agents.turn_at[i] = now
    agents.group[i] = -1
    agents.leader[i] = i
    agents.target[i] = -1
    emit(ev, now, EV_TURN, i, agents.bitten_by[i], agents.cell[i])


@kernel
def turn_due(now, agents, ev):
    """Every bitten agent whose incubation is over turns."""
    state = agents.state
    for i in range(state.shape[0]):
        if state[i] == BITTEN and agents.turn_at[i] <= now:
            turn(i, now, agents, ev)
