"""Integer constants the kernels compile in: states, modes, events, tiles, parameter slots.

numba treats module-level integers as compile-time constants, so the kernels read these names
instead of the IntEnums (which it cannot index arrays with cheaply).
"""

from __future__ import annotations

from hyosan.agents import Mode
from hyosan.states import EventKind, State
from hyosan.world.tiles import DoorState, Tile

HUMAN, BITTEN, ZOMBIE, HALFBIE = int(State.HUMAN), int(State.BITTEN), int(State.ZOMBIE), int(State.HALFBIE)
DEAD, ESCAPED, RESCUED = int(State.DEAD), int(State.ESCAPED), int(State.RESCUED)
N_STATES = len(State)

CALM, FLEE, HIDE, HIDDEN, HOLD = Mode.CALM, Mode.FLEE, Mode.HIDE, Mode.HIDDEN, Mode.HOLD
WANDER, CHASE, SEEK = Mode.WANDER, Mode.CHASE, Mode.SEEK

EV_BITE, EV_TURN, EV_KILL, EV_DEATH = (
    int(EventKind.BITE),
    int(EventKind.TURN),
    int(EventKind.KILL),
    int(EventKind.DEATH),
)
EV_ESCAPE, EV_RESCUE = int(EventKind.ESCAPE), int(EventKind.RESCUE)
EV_DOOR_OPEN, EV_DOOR_BREACH, EV_BARRICADE = (
    int(EventKind.DOOR_OPEN),
    int(EventKind.DOOR_BREACH),
    int(EventKind.BARRICADE),
)
EV_HOLD, EV_ALERT = int(EventKind.HOLD), int(EventKind.ALERT)

T_WALL, T_DOOR, T_STAIRS, T_EXIT = int(Tile.WALL), int(Tile.DOOR), int(Tile.STAIRS), int(Tile.EXIT)
D_OPEN, D_CLOSED, D_LOCKED, D_BARRICADED, D_BROKEN = (
    int(DoorState.OPEN),
    int(DoorState.CLOSED),
    int(DoorState.LOCKED),
    int(DoorState.BARRICADED),
    int(DoorState.BROKEN),
)

# Trait columns of Population.traits.
TR_WALK, TR_RUN, TR_STRENGTH, TR_COURAGE, TR_ALTRUISM, TR_SIGHT, TR_HEARING = range(7)

# Slots of the float parameter vector (see engine.build_params).
(
    P_TICK_S,
    P_Z_WALK,
    P_Z_RUN,
    P_Z_SIGHT,
    P_Z_HEARING,
    P_Z_BITE,
    P_Z_BREAK,
    P_HB_STRENGTH,
    P_HB_SPEED,
    P_HB_BITE,
    P_HB_MAKES,
    P_HIDE_BELOW,
    P_CALM_MOVE,
    P_SCREAM_DB,
    P_BATTER_DB,
    P_BARRICADE_S,
    P_BARRICADE_HP,
    P_FOLLOW,
    P_SACRIFICE,
    P_PER_METRE,
    P_WALL_LOSS,
    P_DOOR_LOSS,
    P_NOISE_FLOOR,
    P_HOLD_STRENGTH,
    P_STAIR_COST,
    N_PARAMS,
) = range(26)

# Slots of the integer parameter vector.
(
    I_SCREAM_TICKS,
    I_BATTER_TICKS,
    I_CORDON,
    I_HUMANS_WANDER,
    I_ZOMBIES_WANDER,
    I_W,
    I_H,
    I_BLOCK,
    I_BW,
    I_BH,
    I_EXITS,
    N_IPARAMS,
) = range(12)

#: Side of the square blocks of the spatial index (tiles).
BLOCK = 8
