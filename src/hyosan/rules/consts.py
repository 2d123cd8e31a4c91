"""Integer constants the kernels compile in: states, modes, events, tiles, trait columns, and the
tile tables (walkable, opaque) they read.

numba treats module-level integers as compile-time constants, so the kernels read these names
instead of the IntEnums (which it cannot index arrays with cheaply).
"""

from __future__ import annotations

from hyosan.states import EventKind, Mode, State
from hyosan.world.tiles import OPAQUE_TILE_LUT, WALKABLE_LUT, DoorState, Tile

HUMAN, BITTEN, ZOMBIE, HALFBIE = int(State.HUMAN), int(State.BITTEN), int(State.ZOMBIE), int(State.HALFBIE)
DEAD, ESCAPED, RESCUED = int(State.DEAD), int(State.ESCAPED), int(State.RESCUED)
N_STATES = len(State)

CALM, FLEE, HIDE, HIDDEN, HOLD = Mode.CALM, Mode.FLEE, Mode.HIDE, Mode.HIDDEN, Mode.HOLD
CONFRONT = Mode.CONFRONT
WANDER, CHASE, SEEK, HUNT = Mode.WANDER, Mode.CHASE, Mode.SEEK, Mode.HUNT

EV_BITE, EV_TURN, EV_KILL, EV_DEATH = (
    int(EventKind.BITE),
    int(EventKind.TURN),
    int(EventKind.KILL),
    int(EventKind.DEATH),
)
EV_ESCAPE, EV_RESCUE = int(EventKind.ESCAPE), int(EventKind.RESCUE)
EV_DOOR_SHUT = int(EventKind.DOOR_SHUT)
EV_DOOR_OPEN, EV_DOOR_BREACH, EV_BARRICADE = (
    int(EventKind.DOOR_OPEN),
    int(EventKind.DOOR_BREACH),
    int(EventKind.BARRICADE),
)
EV_HOLD, EV_ALERT = int(EventKind.HOLD), int(EventKind.ALERT)
EV_ISOLATE = int(EventKind.ISOLATE)

T_WALL, T_DOOR, T_STAIRS, T_EXIT = int(Tile.WALL), int(Tile.DOOR), int(Tile.STAIRS), int(Tile.EXIT)
T_WINDOW = int(Tile.WINDOW)
D_OPEN, D_CLOSED, D_LOCKED, D_BARRICADED, D_BROKEN = (
    int(DoorState.OPEN),
    int(DoorState.CLOSED),
    int(DoorState.LOCKED),
    int(DoorState.BARRICADED),
    int(DoorState.BROKEN),
)

# Trait columns of Population.traits.
TR_WALK, TR_RUN, TR_STRENGTH, TR_COURAGE, TR_ALTRUISM, TR_SIGHT, TR_HEARING = range(7)

#: Side of the square blocks of the spatial index (tiles).
BLOCK = 8

#: Per tile code: 1 where an agent can stand, 1 where sight stops (world/tiles.py defines them;
#: every kernel reads these, numba freezes them into the machine code as constants).
WALKABLE = WALKABLE_LUT
OPAQUE = OPAQUE_TILE_LUT
