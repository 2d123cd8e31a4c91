"""The World: floors of 1 m tiles, rooms, doors and stairs, with the graphs agents move on.

A World is what a map file becomes, and it never changes during a run: door states that change
(a door shut, a door broken) live in the engine's own copy of the door arrays, which the
kernels read (``hyosan.rules``). Its arrays are made read-only so that one World can be shared
by many runs.

Cells are numbered flat, ``c = (f*H + y)*W + x``, so the numba kernels can work on plain 1-d
arrays. Two graphs in CSR form are derived:

- the walking graph: 8-connected within a floor between walkable tiles (cost 1 orthogonal,
  sqrt 2 diagonal), no corner-cutting (a diagonal move needs both orthogonal cells walkable),
  no diagonal move into or out of a door, plus every stair link both ways at ``STAIR_COST``.
  Doors are in the graph whatever their state; the kernels decide who may pass at run time.
- the sound graph: 4-connected over every non-VOID tile (walls included: sound goes through
  them, losing ``WALL_LOSS``), plus the stair links. ``snd_cost`` is in metres (1 per grid
  step, ``STAIR_COST`` per stair link); the noise map (``hyosan.rules.noise``) counts steps
  and does not read it, so it is derived when asked for, not kept.

Both are built straight from the tiles by one numba pass (count, then fill: :func:`_grid_csr`),
with no sort and no per-edge temporaries: a 2000 x 2000 floor in about a second and within its
own arrays' memory (benchmarks/world_build.py; the sort it replaced took 12 s and a 2.4 GB peak).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from hyosan.errors import HyosanError
from hyosan.jit import njit
from hyosan.world.tiles import WALKABLE_LUT, DoorState, Tile

#: Walking cost of a stair link, in metres of level floor. A storey (about 3.5 m, some 20 steps)
#: takes a hurried walker as long as roughly 10-12 m of corridor; the stairwell's own STAIRS
#: tiles, drawn on both floors and walked like floor, already account for most of that, so the
#: link itself adds about 4 m. One number the engine can scale (say, for climbing up vs down).
STAIR_COST = 4.0

_ORTH = ((-1, 0), (0, -1), (0, 1), (1, 0))
# Arrays made read-only once the World is built: one World is shared by every run.
_ARRAYS = (
    "tiles",
    "room_id",
    "door_cells",
    "door_state",
    "door_strength",
    "stair_links",
    "door_of_cell",
    "nbr_start",
    "nbr_idx",
    "nbr_cost",
    "snd_start",
    "snd_idx",
)
_DIAG = ((-1, -1), (-1, 1), (1, -1), (1, 1))
#: Tiles sound travels through: all but VOID.
_SOLID_LUT = np.array([t != Tile.VOID for t in range(len(Tile))], dtype=np.uint8)
DOOR = int(Tile.DOOR)
SQRT2_F32 = np.float32(math.sqrt(2.0))


#: Grid directions in each cell's edge order (N, W, E, S, then NW, NE, SW, SE) as (dy, dx).
_DIRS = np.array(_ORTH + _DIAG, dtype=np.int64)


@njit
def _grid_csr(tiles, ok_lut, walking, link_src, link_dst, link_cost):
    """CSR (start, idx, cost) of a grid graph built straight from the tiles, in two passes over
    the cells (count, then fill), with no sort and no per-edge temporaries.

    A cell's edges come in the order the kernels break ties by: the grid neighbours (N, W, E, S;
    then, when ``walking``, NW, NE, SW, SE, with no corner-cutting and no diagonal into or out of
    a door), then its links (``link_src`` sorted, with ``link_dst`` within a source). ``ok_lut``
    says which tiles take part.
    """
    nf, h, w = tiles.shape
    n = nf * h * w
    flat = tiles.reshape(n)
    n_dir = 8 if walking else 4
    start = np.empty(n + 1, dtype=np.int64)
    start[0] = 0
    n_links = link_src.shape[0]
    for _pass in range(2):
        if _pass == 1:
            idx = np.empty(start[n], dtype=np.int32)
            cost = np.empty(start[n], dtype=np.float32)
        li = 0
        e = 0
        for c in range(n):
            if ok_lut[flat[c]]:
                rest = c % (h * w)
                y = rest // w
                x = rest - y * w
                for k in range(n_dir):
                    dy = _DIRS[k, 0]
                    dx = _DIRS[k, 1]
                    yy = y + dy
                    xx = x + dx
                    if yy < 0 or yy >= h or xx < 0 or xx >= w:
                        continue
                    m = c + dy * w + dx
                    if not ok_lut[flat[m]]:
                        continue
                    if dy != 0 and dx != 0:
                        if flat[c] == DOOR or flat[m] == DOOR:
                            continue
                        if not ok_lut[flat[c + dy * w]] or not ok_lut[flat[c + dx]]:
                            continue
                    if _pass == 1:
                        idx[e] = m
                        cost[e] = SQRT2_F32 if dy != 0 and dx != 0 else np.float32(1.0)
                    e += 1
            while li < n_links and link_src[li] == c:
                if _pass == 1:
                    idx[e] = link_dst[li]
                    cost[e] = link_cost
                e += 1
                li += 1
            if _pass == 0:
                start[c + 1] = e
    return start, idx, cost


def _links_sorted(links: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each stair link both ways, sorted by source then destination."""
    src = np.concatenate([links[:, 0], links[:, 1]]).astype(np.int64)
    dst = np.concatenate([links[:, 1], links[:, 0]]).astype(np.int64)
    order = np.lexsort((dst, src))
    return src[order], dst[order]


def walking_graph(tiles: np.ndarray, links: np.ndarray):
    """CSR walking graph over all cells of ``tiles`` (F, H, W); see the module docstring."""
    src, dst = _links_sorted(np.asarray(links, dtype=np.int64).reshape(-1, 2))
    return _grid_csr(np.ascontiguousarray(tiles), WALKABLE_LUT, True, src, dst, np.float32(STAIR_COST))


def sound_graph(tiles: np.ndarray, links: np.ndarray):
    """CSR sound graph: 4-connected over non-VOID cells plus stair links (cost in metres)."""
    src, dst = _links_sorted(np.asarray(links, dtype=np.int64).reshape(-1, 2))
    return _grid_csr(np.ascontiguousarray(tiles), _SOLID_LUT, False, src, dst, np.float32(STAIR_COST))


def default_stair_links(tiles: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
    """(L, 2) links between STAIRS tiles at the same (y, x) on adjacent floors.

    Cells where ``exclude`` (same shape as ``tiles``) is true take no part: they are linked
    explicitly by the map.
    """
    stairs = tiles == Tile.STAIRS
    if exclude is not None:
        stairs &= ~exclude
    _, h, w = tiles.shape
    pairs = []
    for f in range(tiles.shape[0] - 1):
        ys, xs = np.nonzero(stairs[f] & stairs[f + 1])
        lower = (f * h + ys.astype(np.int64)) * w + xs
        pairs.append(np.stack([lower, lower + h * w], axis=1))
    return canonical_links(np.concatenate(pairs) if pairs else np.zeros((0, 2), np.int64))


def canonical_links(links: np.ndarray) -> np.ndarray:
    """Links as sorted unique pairs ``(a, b)`` with ``a < b``."""
    links = np.asarray(links, dtype=np.int64).reshape(-1, 2)
    return np.unique(np.sort(links, axis=1), axis=0).reshape(-1, 2)


def sorted_unique(cells) -> np.ndarray:
    """``np.unique`` of a list of cells (int64), in one pass when it is sorted already (what
    loaders and arrays hand over: a room of a million cells took seconds to sort again)."""
    a = np.asarray(cells, dtype=np.int64).reshape(-1)
    if a.size < 2 or bool((a[1:] > a[:-1]).all()):
        return a
    return np.unique(a)


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


@dataclass
class Room:
    """A named room: its FLOOR cells (flat indices, sorted) on one floor."""

    id: int
    name: str
    floor: int
    kind: str
    cells: np.ndarray

    def __post_init__(self) -> None:
        self.cells = _frozen(sorted_unique(self.cells))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Room):
            return NotImplemented
        same = (self.id, self.name, self.floor, self.kind) == (other.id, other.name, other.floor, other.kind)
        return same and np.array_equal(self.cells, other.cells)


@dataclass(eq=False)
class World:
    """A building: tiles on floors, rooms, doors as loaded, stair links, spawn areas."""

    name: str
    floors: list[str]
    tiles: np.ndarray = field(repr=False)
    room_id: np.ndarray = field(repr=False)
    rooms: list[Room] = field(repr=False)
    door_cells: np.ndarray = field(repr=False)
    door_state: np.ndarray = field(repr=False)
    door_strength: np.ndarray = field(repr=False)
    stair_links: np.ndarray = field(repr=False)
    spawns: dict[str, np.ndarray] = field(repr=False)
    door_of_cell: np.ndarray = field(init=False, repr=False)
    nbr_start: np.ndarray = field(init=False, repr=False)
    nbr_idx: np.ndarray = field(init=False, repr=False)
    nbr_cost: np.ndarray = field(init=False, repr=False)
    snd_start: np.ndarray = field(init=False, repr=False)
    snd_idx: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.floors = list(self.floors)
        self.tiles = np.asarray(self.tiles, dtype=np.uint8)
        if self.tiles.ndim != 3 or 0 in self.tiles.shape or self.tiles.max() >= len(Tile):
            raise ValueError(
                f"tiles must be a non-empty (F, H, W) array of Tile codes, not {self.tiles.shape}"
            )
        if len(self.floors) != self.tiles.shape[0] or len(set(self.floors)) != len(self.floors):
            raise ValueError(f"floors {self.floors} must be {self.tiles.shape[0]} distinct names")
        self.room_id = np.asarray(self.room_id, dtype=np.int16)
        if self.room_id.shape != self.tiles.shape:
            raise ValueError("room_id must have the shape of tiles")
        self._check_rooms()
        self._check_doors()
        self._check_links_and_spawns()
        flat_tiles = self.tiles.reshape(-1)
        self.door_of_cell = np.full(flat_tiles.size, -1, dtype=np.int32)
        self.door_of_cell[self.door_cells] = np.arange(self.door_cells.size, dtype=np.int32)
        self.nbr_start, self.nbr_idx, self.nbr_cost = walking_graph(self.tiles, self.stair_links)
        self.snd_start, self.snd_idx, _ = sound_graph(self.tiles, self.stair_links)
        for name in _ARRAYS:
            setattr(self, name, _frozen(getattr(self, name)))

    def __setstate__(self, state: dict) -> None:
        """Unpickling (a worker process) gives writable copies: make them read-only again."""
        self.__dict__.update(state)
        arrays = (
            [getattr(self, n) for n in _ARRAYS] + [r.cells for r in self.rooms] + list(self.spawns.values())
        )
        for a in arrays:
            a.flags.writeable = False

    def _check_doors(self) -> None:
        doors = np.flatnonzero(self.tiles.reshape(-1) == Tile.DOOR)
        self.door_cells = np.asarray(self.door_cells, dtype=np.int64)
        self.door_state = np.asarray(self.door_state, dtype=np.uint8)
        self.door_strength = np.asarray(self.door_strength, dtype=np.float32)
        if not np.array_equal(self.door_cells, doors):
            raise ValueError("door_cells must list every DOOR tile, sorted")
        if self.door_state.shape != doors.shape or self.door_strength.shape != doors.shape:
            raise ValueError("door_state and door_strength need one entry per door")
        if doors.size and self.door_state.max() >= len(DoorState):
            raise ValueError(f"unknown door state {int(self.door_state.max())}")

    def _check_links_and_spawns(self) -> None:
        flat_tiles = self.tiles.reshape(-1)
        self.stair_links = canonical_links(self.stair_links)
        ends = self.stair_links.reshape(-1)
        if ends.size and (ends.min() < 0 or ends.max() >= flat_tiles.size):
            raise ValueError("stair link outside the map")
        if (
            not WALKABLE_LUT[flat_tiles[ends]].all()
            or (self.stair_links[:, 0] == self.stair_links[:, 1]).any()
        ):
            raise ValueError("stair links must join two different walkable cells")
        self.spawns = {str(k): _frozen(sorted_unique(v)) for k, v in self.spawns.items()}
        for name, cells in self.spawns.items():
            if cells.size and (cells[0] < 0 or cells[-1] >= flat_tiles.size):
                raise ValueError(f"spawn area {name!r} outside the map")
            if name in self._room_by_name:
                raise ValueError(f"spawn area {name!r} has the name of a room")

    def _check_rooms(self) -> None:
        self._room_by_name: dict[str, Room] = {}
        flat_ids = self.room_id.reshape(-1)
        covered = 0
        for i, room in enumerate(self.rooms):
            if room.id != i or room.name in self._room_by_name:
                raise ValueError(f"room {room.name!r}: ids must be 0..n-1 in order and names unique")
            if room.cells.size and not (flat_ids[room.cells] == i).all():
                raise ValueError(f"room {room.name!r}: room_id disagrees with its cells")
            if room.cells.size and (self.coords(room.cells)[0] != room.floor).any():
                raise ValueError(f"room {room.name!r}: cells outside floor {room.floor}")
            self._room_by_name[room.name] = room
            covered += room.cells.size
        if covered != int((flat_ids >= 0).sum()) or flat_ids.max(initial=-1) >= len(self.rooms):
            raise ValueError("room_id marks cells that belong to no room")

    @property
    def snd_cost(self) -> np.ndarray:
        """The sound graph's edge lengths in metres (1 a grid step, ``STAIR_COST`` a stair link),
        derived from the tiles when asked for: no kernel reads them (the noise map counts steps),
        so a World does not keep them (16 bytes a cell)."""
        cost = sound_graph(self.tiles, self.stair_links)[2]
        cost.flags.writeable = False
        return cost

    # --- geometry -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        """(F, H, W): floors, rows, columns."""
        return self.tiles.shape  # type: ignore[return-value]

    @property
    def n_cells(self) -> int:
        """F * H * W: the length of every per-cell array."""
        return self.tiles.size

    @property
    def tiles_flat(self) -> np.ndarray:
        """``tiles`` as a flat (C,) array, as the kernels take it."""
        return self.tiles.reshape(-1)

    def cell(self, f, y, x):
        """Flat index of (floor, row, column); works on ints and on arrays."""
        nf, h, w = self.shape
        if np.any(
            (np.asarray(f) < 0)
            | (np.asarray(f) >= nf)
            | (np.asarray(y) < 0)
            | (np.asarray(y) >= h)
            | (np.asarray(x) < 0)
            | (np.asarray(x) >= w)
        ):
            raise IndexError(f"cell ({f}, {y}, {x}) outside a world of shape {self.shape}")
        return (f * h + y) * w + x

    def coords(self, c):
        """(floor, row, column) of a flat cell index; works on ints and on arrays."""
        _, h, w = self.shape
        f, rest = divmod(c, h * w)
        y, x = divmod(rest, w)
        if np.ndim(c) == 0:
            return int(f), int(y), int(x)
        return f, y, x

    # --- areas ----------------------------------------------------------------------------
    def room_named(self, name: str) -> Room:
        """The room called ``name``; HyosanError naming the known rooms if there is none."""
        try:
            return self._room_by_name[name]
        except KeyError:
            known = ", ".join(sorted(self._room_by_name)) or "none"
            raise HyosanError(
                f"no room named {name!r} (rooms: {known})", source=self.name, field="room"
            ) from None

    def cells_of(self, area_name: str) -> np.ndarray:
        """Flat cells of a room or of a spawn area, by name."""
        if area_name in self._room_by_name:
            return self._room_by_name[area_name].cells
        if area_name in self.spawns:
            return self.spawns[area_name]
        known = ", ".join(sorted([*self._room_by_name, *self.spawns])) or "none"
        raise HyosanError(
            f"no room or spawn area named {area_name!r} (known: {known})", source=self.name, field="area"
        )

    def exits(self) -> np.ndarray:
        """Flat cells of the EXIT tiles."""
        return np.flatnonzero(self.tiles_flat == Tile.EXIT)

    # --- comparison and text --------------------------------------------------------------
    def same_as(self, other: World) -> bool:
        """True when both hold the same building, whatever their names and room numbering."""
        arrays = ("tiles", "door_cells", "door_state", "door_strength", "stair_links")
        if self.floors != other.floors or not all(
            np.array_equal(getattr(self, a), getattr(other, a)) for a in arrays
        ):
            return False
        if (
            self.spawns.keys() != other.spawns.keys()
            or self._room_by_name.keys() != other._room_by_name.keys()
        ):
            return False
        if not all(np.array_equal(v, other.spawns[k]) for k, v in self.spawns.items()):
            return False
        for name, room in self._room_by_name.items():
            twin = other._room_by_name[name]
            if (room.kind, room.floor) != (twin.kind, twin.floor) or not np.array_equal(
                room.cells, twin.cells
            ):
                return False
        return True

    def __repr__(self) -> str:
        return (
            f"World({self.name!r}, floors={self.floors}, shape={self.shape}, rooms={len(self.rooms)}, "
            f"doors={self.door_cells.size}, stair_links={len(self.stair_links)})"
        )


def room_doors(world: World) -> list[list[int]]:
    """The doors of each room (ids, sorted): door tiles orthogonally next to one of its cells."""
    H, W = world.tiles.shape[1:]
    out = []
    for room in world.rooms:
        f, rem = np.divmod(room.cells, H * W)
        y, x = np.divmod(rem, W)
        found: set[int] = set()
        for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            yy, xx = y + dy, x + dx
            ok = (yy >= 0) & (yy < H) & (xx >= 0) & (xx < W)
            nb = (f[ok] * H + yy[ok]) * W + xx[ok]
            found.update(int(d) for d in world.door_of_cell[nb] if d >= 0)
        out.append(sorted(found))
    return out
