"""Door states as the kernels ask about them: one predicate per question, one place each.

Which states *shut* a door (stop walking, sight and part of the sound) is declared once, by the
world (``world.tiles.CLOSING_STATES``); which *bar* it (humans cannot open it, zombies batter
it down) is declared here. The kernels test a state as a range of codes (two comparisons, the
same machine code as before), and the ranges are derived from those declarations, checked at
import to be exactly them.
"""

from __future__ import annotations

from hyosan.rules.consts import D_BARRICADED, D_CLOSED, D_LOCKED, D_OPEN
from hyosan.rules.jit import kernel_inline
from hyosan.world.tiles import CLOSING_STATES, DoorState

#: Door states humans cannot open (they go round; zombies batter them down).
BARRED_STATES: frozenset[DoorState] = frozenset({DoorState.LOCKED, DoorState.BARRICADED})
#: Door states a hidden human still works on (shuts, then barricades).
WORKABLE_STATES: frozenset[DoorState] = frozenset({DoorState.OPEN, DoorState.CLOSED})


def _range(states: frozenset[DoorState]) -> tuple[int, int]:
    lo, hi = int(min(states)), int(max(states))
    if set(range(lo, hi + 1)) != {int(s) for s in states}:
        raise ImportError(f"door states {sorted(states)} are not consecutive codes")
    return lo, hi


SHUT_LO, SHUT_HI = _range(CLOSING_STATES)
BARRED_LO, BARRED_HI = _range(BARRED_STATES)
WORK_LO, WORK_HI = _range(WORKABLE_STATES)
assert (SHUT_LO, BARRED_LO, BARRED_HI, WORK_LO) == (D_CLOSED, D_LOCKED, D_BARRICADED, D_OPEN)


@kernel_inline
def shut(ds):
    """Whether a door in state ``ds`` stops walking, sight and part of the sound."""
    return ds >= SHUT_LO and ds <= SHUT_HI


@kernel_inline
def barred(ds):
    """Whether humans cannot open a door in state ``ds`` (locked or barricaded)."""
    return ds >= BARRED_LO and ds <= BARRED_HI


@kernel_inline
def workable(ds):
    """Whether a hidden human can still shut and barricade a door in state ``ds``."""
    return ds >= WORK_LO and ds <= WORK_HI


@kernel_inline
def unbar_room(room, run):
    """A group leaving room ``room`` takes its barricades down (the doors are shut, not barred);
    the humans' routes change."""
    world, doors = run.world, run.doors
    for k in range(world.room_door_start[room], world.room_door_start[room + 1]):
        d = world.room_door_idx[k]
        if doors.state[d] == D_BARRICADED:
            doors.state[d] = D_CLOSED
            run.flags.routes_changed[0] = 1
