"""The ASCII map format: one character per tile, for tests and quick sketches (docs/maps.md).

A file is a few ``key: value`` headers, then sections::

    name: Tiny school
    [floor 1F]
    ##########
    #aaa+....E
    [rooms]
    a: science lab (lab)

Lines starting with ``;`` are comments, anywhere (``#`` is a wall, so it cannot start one).
Optional sections ``[spawns]``, ``[links]`` and ``[doors]`` say what the grid cannot; coordinates
there are ``x y``, counted from 0 (column, and row under the floor header). :func:`format_ascii`
writes any world the loaders can make, so :func:`format_ascii` round-trips.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from hyosan import limits
from hyosan.errors import HyosanError
from hyosan.io import read_text
from hyosan.world.tiles import WALKABLE_LUT, DoorState, Tile, initial_strength
from hyosan.world.world import Room, World, canonical_links, default_stair_links

#: Character -> (tile, door state or None). Lowercase letters are FLOOR tiles of a room.
CHARS: dict[str, tuple[Tile, DoorState | None]] = {
    " ": (Tile.VOID, None),
    ".": (Tile.FLOOR, None),
    "#": (Tile.WALL, None),
    "+": (Tile.DOOR, DoorState.CLOSED),
    "/": (Tile.DOOR, DoorState.OPEN),
    "L": (Tile.DOOR, DoorState.LOCKED),
    "B": (Tile.DOOR, DoorState.BARRICADED),
    "=": (Tile.WINDOW, None),
    "S": (Tile.STAIRS, None),
    "E": (Tile.EXIT, None),
    ",": (Tile.OUTDOOR, None),
}
_TILE_CHAR = {tile: ch for ch, (tile, state) in CHARS.items() if state is None}
_DOOR_CHAR = {state: ch for ch, (tile, state) in CHARS.items() if state is not None}
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_SECTIONS = ("rooms", "spawns", "links", "doors")
_LINK = re.compile(r"(.+?\s\d+\s+\d+)\s+-\s+(.+)")  # the first ' - ' after 'FLOOR x y'
_ROOM = re.compile(r"([a-z])\s*:\s*(.+?)\s*(?:\(([^()]*)\))?\s*$")


def load_ascii(path: str | Path) -> World:
    """Load an ASCII map file (``.txt`` or ``.map``)."""
    path = Path(path)
    # A regular file under the size cap, UTF-8 with or without a BOM; errors name the file.
    return load_ascii_text(read_text(path), source=str(path))


def load_ascii_text(text: str, source: str = "<string>") -> World:
    """Parse an ASCII map; errors name ``source`` and the floor, line and column at fault."""
    return _Parser(text, source).world()


class _Parser:
    def __init__(self, text: str, source: str):
        self.source = source
        self.headers: dict[str, tuple[int, str]] = {}
        self.floors: dict[str, tuple[int, list[tuple[int, str]]]] = {}
        self.entries: dict[str, list[tuple[int, str]]] = {s: [] for s in _SECTIONS}
        section: str | tuple[str, str] | None = None  # a section name, or ("floor", name)
        for lineno, line in enumerate(text.splitlines(), 1):
            if line.startswith(";"):
                continue
            if line.startswith("["):
                section = self._header(lineno, line)
            elif section is None:
                if line.strip():
                    key, sep, value = line.partition(":")
                    if not sep or key.strip() not in ("name", "size"):
                        self.fail(
                            "expected 'name: ...', 'size: W x H' or a [section] header", f"line {lineno}"
                        )
                    self.headers[key.strip()] = (lineno, value.strip())
            elif isinstance(section, str):
                if line.strip():
                    self.entries[section].append((lineno, line.strip()))
            else:
                self.floors[section[1]][1].append((lineno, line.rstrip(" ")))

    def fail(self, message: str, where: str):
        raise HyosanError(message, source=self.source, field=where)

    def _header(self, lineno: int, line: str) -> str | tuple[str, str]:
        inner = line.rstrip()
        if not inner.endswith("]"):
            self.fail("a section header must end with ']'", f"line {lineno}")
        inner = inner[1:-1].strip()
        if inner in _SECTIONS:
            return inner
        kind, _, name = inner.partition(" ")
        name = name.strip()
        if kind != "floor" or not name:
            self.fail(
                f"unknown section [{inner}]; expected [floor NAME], [rooms], [spawns], [links] or [doors]",
                f"line {lineno}",
            )
        if name in self.floors:
            self.fail(f"floor {name!r} appears twice", f"line {lineno}")
        self.floors[name] = (lineno, [])
        return ("floor", name)

    def world(self) -> World:
        if not self.floors:
            self.fail("no floors: a map needs at least one [floor NAME] section", "floors")
        for name, (lineno, rows) in self.floors.items():
            while rows and not rows[-1][1].strip():
                rows.pop()
            if not rows:
                self.fail("empty floor: no tiles, only void", f"floor {name}, line {lineno}")
        self.names = list(self.floors)
        h = max(len(rows) for _, rows in self.floors.values())
        w = max(len(text) for _, rows in self.floors.values() for _, text in rows)
        if "size" in self.headers:
            w, h = self._size()
        if len(self.names) * h * w > limits.MAX_MAP_CELLS.value():  # before the arrays are allocated
            self.fail(
                f"{len(self.names)} floors of {w} x {h} tiles, over the limit of "
                f"{limits.MAX_MAP_CELLS.value()} tiles (raise it with {limits.MAX_MAP_CELLS.name})",
                f"line {self.headers['size'][0]}" if "size" in self.headers else "floors",
            )
        self.tiles = np.zeros((len(self.names), h, w), dtype=np.uint8)
        states = np.zeros(self.tiles.shape, dtype=np.uint8)
        letters = np.full(self.tiles.shape, -1, dtype=np.int16)
        first_use: dict[str, tuple[int, str]] = {}
        for f, (name, (_, rows)) in enumerate(self.floors.items()):
            for y, (lineno, text) in enumerate(rows):
                for x, ch in enumerate(text):
                    if ch in CHARS:
                        tile, state = CHARS[ch]
                        self.tiles[f, y, x] = tile
                        states[f, y, x] = state or 0
                    elif ch in _LETTERS:
                        self.tiles[f, y, x] = Tile.FLOOR
                        letters[f, y, x] = _LETTERS.index(ch)
                        first_use.setdefault(ch, (f, f"floor {name}, line {lineno}, column {x + 1}"))
                    else:
                        hint = " (use spaces, not tabs)" if ch == "\t" else ""
                        self.fail(
                            f"unknown map character {ch!r}{hint}",
                            f"floor {name}, line {lineno}, column {x + 1}",
                        )
        rooms, room_id = self._rooms(letters, first_use)
        doors = np.flatnonzero(self.tiles.reshape(-1) == Tile.DOOR)
        door_state = states.reshape(-1)[doors]
        strength = np.array([initial_strength(s) for s in door_state], dtype=np.float32)
        for cell, value in self._doors():
            strength[np.searchsorted(doors, cell)] = value
        explicit = self._links()
        exclude = np.zeros(self.tiles.size, dtype=bool)
        exclude[explicit.reshape(-1)] = True
        links = np.concatenate([explicit, default_stair_links(self.tiles, exclude.reshape(self.tiles.shape))])
        name = self.headers.get("name", (0, ""))[1]
        if not name:
            name = "untitled" if self.source.startswith("<") else Path(self.source).stem
        return World(
            name,
            self.names,
            self.tiles,
            room_id,
            rooms,
            doors,
            door_state,
            strength,
            links,
            self._spawns(rooms),
        )

    def _size(self) -> tuple[int, int]:
        lineno, value = self.headers["size"]
        match = re.fullmatch(r"([0-9]{1,9})\s*x\s*([0-9]{1,9})", value)
        if not match:
            self.fail(f"size must read 'W x H', not {value!r}", f"line {lineno}")
        sw, sh = int(match[1]), int(match[2])
        for name, (_, rows) in self.floors.items():
            for y, (row_line, text) in enumerate(rows):
                if len(text) > sw or y >= sh:
                    self.fail(
                        f"ragged floor: row {y} is {len(text)} wide, outside the declared size {sw} x {sh}",
                        f"floor {name}, line {row_line}",
                    )
        return sw, sh

    def _rooms(self, letters: np.ndarray, first_use: dict[str, tuple[int, str]]):
        declared: dict[str, tuple[str, str]] = {}
        for lineno, text in self.entries["rooms"]:
            match = _ROOM.fullmatch(text)
            if not match or not match[2]:
                self.fail(f"expected 'letter: name (kind)', not {text!r}", f"rooms, line {lineno}")
            if match[1] in declared or match[2] in {n for n, _ in declared.values()}:
                self.fail(f"room {match[1]!r} or {match[2]!r} declared twice", f"rooms, line {lineno}")
            declared[match[1]] = (match[2], (match[3] or "room").strip() or "room")
        for ch, (_, where) in first_use.items():
            if ch not in declared:
                self.fail(f"room letter {ch!r} is not declared in [rooms]", where)
        rooms: list[Room] = []
        room_id = np.full(letters.shape, -1, dtype=np.int16)
        for ch, (room_name, kind) in declared.items():
            mask = letters == _LETTERS.index(ch)
            on = np.flatnonzero(mask.any(axis=(1, 2)))
            if on.size != 1:
                problem = "has no tiles" if on.size == 0 else f"spans floors {[self.names[f] for f in on]}"
                self.fail(f"room {ch!r} ({room_name}) {problem}", "rooms")
            room_id[mask] = len(rooms)
            rooms.append(Room(len(rooms), room_name, int(on[0]), kind, np.flatnonzero(mask.reshape(-1))))
        return rooms, room_id

    def _place(self, tokens: list[str], n_numbers: int) -> tuple[int, list[int]] | None:
        """Split 'FLOOR NAME n1 ... nk' (floor names may hold spaces); None if it does not parse."""
        floor = " ".join(tokens[:-n_numbers])
        if floor not in self.names or not all(re.fullmatch(r"[0-9]{1,9}", t) for t in tokens[-n_numbers:]):
            return None
        return self.names.index(floor), [int(t) for t in tokens[-n_numbers:]]

    def _cell(self, text: str, where: str, want: Tile) -> int:
        placed = self._place(text.split(), 2)
        if placed is None:
            self.fail(f"expected 'FLOOR x y', not {text!r}", where)
        f, (x, y) = placed
        _, h, w = self.tiles.shape
        if x >= w or y >= h or self.tiles[f, y, x] != want:
            self.fail(f"{text!r} is not a {want.name} tile", where)
        return (f * h + y) * w + x

    def _spawns(self, rooms: list[Room]) -> dict[str, np.ndarray]:
        spawns: dict[str, list[np.ndarray]] = {}
        _, h, w = self.tiles.shape
        for lineno, text in self.entries["spawns"]:
            where = f"spawns, line {lineno}"
            name, _, rest = text.rpartition(":")
            tokens = rest.split()
            placed = (self._place(tokens, 4) if len(tokens) >= 5 else None) or self._place(tokens, 2)
            if not name.strip() or placed is None:
                self.fail(f"expected 'name: FLOOR x y [w h]', not {text!r}", where)
            f, (x, y, *size) = placed
            sw, sh = size or (1, 1)
            if x + sw > w or y + sh > h or sw == 0 or sh == 0:
                self.fail(f"spawn rectangle {x} {y} {sw} {sh} is outside the map ({w} x {h})", where)
            if name.strip() in {r.name for r in rooms}:
                self.fail(f"spawn area {name.strip()!r} has the name of a room", where)
            block = np.zeros(self.tiles.shape, dtype=bool)
            block[f, y : y + sh, x : x + sw] = True
            cells = np.flatnonzero(block.reshape(-1) & WALKABLE_LUT[self.tiles.reshape(-1)].astype(bool))
            if not cells.size:
                self.fail("spawn rectangle covers no walkable tile", where)
            spawns.setdefault(name.strip(), []).append(cells)
        return {k: np.concatenate(v) for k, v in spawns.items()}

    def _links(self) -> np.ndarray:
        pairs = []
        for lineno, text in self.entries["links"]:
            where = f"links, line {lineno}"
            match = _LINK.fullmatch(text)
            if not match:
                self.fail(f"expected 'FLOOR x y - FLOOR x y', not {text!r}", where)
            a, b = self._cell(match[1], where, Tile.STAIRS), self._cell(match[2], where, Tile.STAIRS)
            if a == b:
                self.fail("a stair link needs two different cells", where)
            pairs.append((a, b))
        return canonical_links(np.array(pairs, dtype=np.int64))

    def _doors(self) -> list[tuple[int, float]]:
        out = []
        for lineno, text in self.entries["doors"]:
            where = f"doors, line {lineno}"
            place, _, value = text.rpartition(":")
            cell = self._cell(place, where, Tile.DOOR)
            try:
                strength = float(value)
            except ValueError:
                strength = math.nan
            if not (0.0 <= strength < math.inf):
                self.fail(f"door strength must be a number >= 0, not {value.strip()!r}", where)
            out.append((cell, strength))
        return out


def _rectangles(mask2d: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Cover a 2-d mask with rectangles (x, y, w, h): row runs, merged down when they line up."""
    done: list[tuple[int, int, int, int]] = []
    open_: dict[tuple[int, int], tuple[int, int]] = {}  # (x, w) -> (y0, h)
    for y in range(mask2d.shape[0] + 1):
        runs = set()
        if y < mask2d.shape[0]:
            padded = np.concatenate([[0], mask2d[y].astype(np.int8), [0]])
            edges = np.flatnonzero(np.diff(padded))
            runs = {(int(a), int(b - a)) for a, b in zip(edges[::2], edges[1::2], strict=True)}
        for key in list(open_):
            if key not in runs:
                y0, hh = open_.pop(key)
                done.append((key[0], y0, key[1], hh))
        for key in runs:
            y0, hh = open_.get(key, (y, 0))
            open_[key] = (y0, hh + 1)
    return sorted(done, key=lambda r: (r[1], r[0]))


def format_ascii(world: World) -> str:
    """Write ``world`` in the ASCII format; HyosanError if the format cannot hold it."""
    _, h, w = world.shape
    if len(world.rooms) > len(_LETTERS):
        raise HyosanError(
            f"the ASCII format holds at most 26 rooms, not {len(world.rooms)}", source=world.name
        )
    if not world.tiles.any(axis=(1, 2)).all():
        raise HyosanError("the ASCII format cannot hold a floor that is all void", source=world.name)
    if (world.door_state == DoorState.BROKEN).any():
        raise HyosanError("the ASCII format cannot hold broken doors", source=world.name)
    grid = np.array([_TILE_CHAR.get(Tile(t), "?") for t in range(len(Tile))])[world.tiles]
    grid.reshape(-1)[world.door_cells] = [_DOOR_CHAR[DoorState(s)] for s in world.door_state]
    for room in world.rooms:
        if (world.tiles_flat[room.cells] != Tile.FLOOR).any() or "(" in room.kind or ")" in room.kind:
            raise HyosanError(
                f"room {room.name!r}: ASCII rooms are FLOOR tiles with a kind free of '()'", source=world.name
            )
        grid.reshape(-1)[room.cells] = _LETTERS[room.id]
    lines = [f"name: {world.name}", f"size: {w} x {h}"]
    for f, floor in enumerate(world.floors):
        rows = ["".join(row).rstrip(" ") for row in grid[f]]
        while rows and not rows[-1]:
            rows.pop()
        lines += [f"[floor {floor}]", *rows]
    if world.rooms:
        lines += ["[rooms]", *(f"{_LETTERS[r.id]}: {r.name} ({r.kind})" for r in world.rooms)]
    spawns = []
    for name, cells in world.spawns.items():
        mask = np.zeros(world.n_cells, dtype=bool)
        mask[cells] = True
        for f, floor in enumerate(world.floors):
            for x, y, rw, rh in _rectangles(mask.reshape(world.shape)[f]):
                spawns.append(f"{name}: {floor} {x} {y} {rw} {rh}")
    if spawns:
        lines += ["[spawns]", *spawns]
    explicit = _explicit_links(world)
    if explicit.size:
        lines.append("[links]")
        for a, b in explicit:
            (fa, ya, xa), (fb, yb, xb) = world.coords(int(a)), world.coords(int(b))
            lines.append(f"{world.floors[fa]} {xa} {ya} - {world.floors[fb]} {xb} {yb}")
    strong = [
        (c, s, st)
        for c, s, st in zip(world.door_cells, world.door_strength, world.door_state, strict=True)
        if s != np.float32(initial_strength(st))
    ]
    if strong:
        lines.append("[doors]")
        for c, s, _ in strong:
            f, y, x = world.coords(int(c))
            lines.append(f"{world.floors[f]} {x} {y}: {float(s)!r}")
    return "\n".join(lines) + "\n"


def _explicit_links(world: World) -> np.ndarray:
    """The stair links the [links] section must list for the loader to rebuild all of them."""
    links = world.stair_links
    auto = {tuple(p) for p in default_stair_links(world.tiles).tolist()}
    explicit = np.array([p for p in links.tolist() if tuple(p) not in auto], dtype=np.int64).reshape(-1, 2)
    exclude = np.zeros(world.n_cells, dtype=bool)
    exclude[explicit.reshape(-1)] = True
    rebuilt = canonical_links(
        np.concatenate([explicit, default_stair_links(world.tiles, exclude.reshape(world.shape))])
    )
    return explicit if np.array_equal(rebuilt, links) else links
