"""Tile and door codes shared by the world, its loaders and the numba kernels.

Tiles are stored as ``uint8`` codes in ``World.tiles``; doors keep their state in a separate
array so that the map (which never changes during a run) and the door states (which do) stay
apart. The lookup tables here let NumPy classify a whole map in one indexing operation.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Tile(IntEnum):
    """What a 1 m x 1 m tile is made of."""

    VOID = 0  # outside the map: nothing, not even sound, goes there
    FLOOR = 1
    WALL = 2
    DOOR = 3  # its state (open, closed...) lives in the door arrays
    WINDOW = 4  # not walkable, but transparent
    STAIRS = 5  # joined to another floor by a stair link
    EXIT = 6  # leaving the building through here counts as escaping
    OUTDOOR = 7  # ground outside the building


class DoorState(IntEnum):
    """The state of a door; changes during a run (closed by humans, broken by zombies)."""

    OPEN = 0
    CLOSED = 1
    LOCKED = 2
    BARRICADED = 3
    BROKEN = 4


#: Hit points of a door, in zombie-seconds of battering: one zombie battering for one second
#: removes one point, so ``n`` zombies break a door of ``s`` points in ``s / n`` seconds. A
#: closed classroom door holds one zombie for about a minute, a locked one for three, a
#: barricaded one (desks piled behind it) for ten.
DEFAULT_DOOR_STRENGTH: dict[DoorState, float] = {
    DoorState.CLOSED: 60.0,
    DoorState.LOCKED: 180.0,
    DoorState.BARRICADED: 600.0,
}

#: Tile types an agent can stand on.
WALKABLE: frozenset[Tile] = frozenset({Tile.FLOOR, Tile.DOOR, Tile.STAIRS, Tile.EXIT, Tile.OUTDOOR})

#: Door states that stop walking (and sight, and part of the sound).
CLOSING_STATES: frozenset[DoorState] = frozenset({DoorState.CLOSED, DoorState.LOCKED, DoorState.BARRICADED})

#: Lookup tables indexed by a tile or door code: ``WALKABLE_LUT[world.tiles]`` is a walkable mask.
WALKABLE_LUT = np.array([Tile(t) in WALKABLE for t in range(len(Tile))], dtype=np.uint8)
OPAQUE_TILE_LUT = np.array([Tile(t) in (Tile.WALL, Tile.VOID) for t in range(len(Tile))], dtype=np.uint8)
CLOSING_LUT = np.array([DoorState(s) in CLOSING_STATES for s in range(len(DoorState))], dtype=np.uint8)


def initial_strength(state: DoorState | int) -> float:
    """Hit points a door gets when a map does not say otherwise.

    An open door gets the strength of a closed one (someone may shut it during the run); a
    broken door has none left.
    """
    state = DoorState(state)
    if state == DoorState.OPEN:
        return DEFAULT_DOOR_STRENGTH[DoorState.CLOSED]
    return DEFAULT_DOOR_STRENGTH.get(state, 0.0)
