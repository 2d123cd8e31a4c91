"""The place where agents live: floors of 1 m tiles, rooms, doors, stairs, and fields over them.

- :class:`World` holds a building as arrays, with the walking and sound graphs derived from it.
- :func:`load_map` reads a map file: Tiled JSON (``.tmj``, ``.json``) or ASCII (``.txt``,
  ``.map``); :func:`load_ascii_text` parses ASCII from a string. docs/maps.md describes both.
- :func:`distance_field` (numba): walking distances from source cells; :func:`room_doors`: the
  doors of each room.
"""

from __future__ import annotations

from pathlib import Path

from hyosan.errors import HyosanError
from hyosan.world.ascii import format_ascii, load_ascii, load_ascii_text
from hyosan.world.fields import distance_field
from hyosan.world.tiled import load_tiled
from hyosan.world.tiles import DEFAULT_DOOR_STRENGTH, WALKABLE, DoorState, Tile, initial_strength
from hyosan.world.world import STAIR_COST, Room, World, room_doors

#: File suffix -> loader.
LOADERS = {".tmj": load_tiled, ".json": load_tiled, ".txt": load_ascii, ".map": load_ascii}


def load_map(path: str | Path) -> World:
    """Load a map file, choosing the format by its suffix (.tmj/.json: Tiled; .txt/.map: ASCII)."""
    path = Path(path)
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise HyosanError(
            f"unknown map format {path.suffix!r}; expected one of {', '.join(LOADERS)}", source=str(path)
        )
    return loader(path)


__all__ = [
    "DEFAULT_DOOR_STRENGTH",
    "LOADERS",
    "STAIR_COST",
    "WALKABLE",
    "DoorState",
    "Room",
    "Tile",
    "World",
    "distance_field",
    "format_ascii",
    "initial_strength",
    "load_ascii",
    "load_ascii_text",
    "load_map",
    "load_tiled",
    "room_doors",
]
