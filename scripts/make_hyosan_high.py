"""Generate the built-in map of Hyosan High: ``src/hyosan/data/hyosan_high.tmj`` (Tiled JSON).

Run ``python scripts/make_hyosan_high.py`` after changing the layout below; it writes the map and
its tileset image, loads the map back with :func:`hyosan.world.load_map` and checks it. The
output is deterministic (tests/test_hyosan_high.py regenerates it and compares byte for byte), so
the committed map and this script cannot drift apart. ``--check`` compares without writing.

The layout is data: rooms are named rectangles with a kind, doors and an initial door state;
the code below only paints them into tiles and writes the Tiled layers.

Numbers chosen, and why ("show" = seen in *All of Us Are Dead*; "guess" = ours)
------------------------------------------------------------------------------
- 1 tile = 1 m (the engine's unit). Every level is 120 x 60 tiles: the school building is
  113 m x 13 m (guess: a typical Korean school wing of ten bays), the grounds in front of it
  take the rest of the ground level. 5 levels: 1F-4F and the rooftop (show: a four-storey
  school whose roof is where the survivors signal for help).
- Each storey: a corridor 3 m wide (guess: usual for Korean schools) along the south side, with
  ten 9 m x 7 m bays on the north side (guess: a classroom of 35 desks is about 63 m2), windows
  on the outer (north) wall and along the corridor. Bays can be joined into larger rooms
  (science lab, teachers' office, library). Classrooms also have windows in their corridor wall,
  between their two doors (guess: usual in Korean schools; through them the zombies in the
  corridor see the class, and the class sees them).
- Two staircases, 5 m x 7 m, at the two ends of the corridor, stacked, linking every storey
  (guess: the usual plan); only the west one goes on up to the rooftop, through a stair house
  whose door is locked at the start (guess: roofs are kept locked).
- 1F: toilet, science supply room (guess: with an inner door to the lab), science lab (two
  bays), infirmary (show: patient zero goes there and bites the nurse), teachers' office (two
  bays), library (three bays). The main entrance (4 m) is in the middle of the corridor's south
  wall, with a side door by each staircase.
- 2F: toilet, classrooms 1-1 ... 1-8, music room. 3F: toilet, 2-1 ... 2-8 (2-5 is the story's
  class), broadcasting room. 4F: toilet, 3-1 ... 3-8, a storage room (to fill the tenth bay).
  The floors of the special rooms are our guess (the show uses them all: science lab and supply
  room, infirmary, teachers' office, library, music room, broadcasting room, toilets).
- Rooftop: the roof slab (a "rooftop" room of FLOOR tiles: the loader makes rooms of FLOOR tiles
  only) inside a parapet, with the stair house in the west corner.
- Ground level, outside the school: the courtyard between the school and the gym (open ground,
  OUTDOOR tiles), the gym (show: a separate 50 m x 19 m building across the courtyard, with two
  double doors facing it and an equipment room), the parking lot east of the courtyard, the
  construction site south of it with a half-built building (walls with gaps and bare pillars;
  show: Cheong-san holds the zombies off in it), and a see-through fence round the grounds with
  two gates on the map edge, the main gate (8 m, south) and the car gate (5 m, east), whose
  EXIT tiles lead to the town.
- Outdoor areas are spawn areas (a "kind" property says "yard" for the reader of the map), not
  rooms: the loader makes rooms of FLOOR tiles only, and OUTDOOR tiles are what they are made of.
  Each storey's corridor is a spawn area too ("corridor 1F" ...), where the PA speakers are.
- Doors at the start (guess, 08:30 on a school day): classes are in session, so every classroom
  door (and the music room's) is shut but not locked (sliding doors; anyone can open them); the
  doors of the offices, library, lab, infirmary, toilets, the school entrances and the gym are
  open; the rooftop door is locked, and is a heavy steel fire door (600 zombie-seconds, guess,
  against 180 for an ordinary locked door).
"""

from __future__ import annotations

import argparse
import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "hyosan" / "data"
MAP_FILE = DATA / "hyosan_high.tmj"
IMAGE_FILE = DATA / "hyosan_high_tiles.png"

W, H = 120, 60  # tiles per level (1 tile = 1 m)
PX = 16  # pixels per tile in the Tiled editor (any size works: the loader divides it out)
LEVELS = ("1F", "2F", "3F", "4F", "rooftop")

# --- the tileset: name -> (tile class the loader reads, colour in the editor) -----------------
TILES: dict[str, tuple[str, tuple[int, int, int]]] = {
    "floor": ("floor", (222, 214, 196)),
    "wall": ("wall", (70, 70, 80)),
    "door": ("door-closed", (160, 100, 40)),
    "door-open": ("door-open", (235, 190, 120)),
    "door-locked": ("door-locked", (150, 30, 30)),
    "door-barricaded": ("door-barricaded", (90, 50, 20)),
    "window": ("window", (150, 200, 235)),
    "stairs": ("stairs", (190, 170, 120)),
    "exit": ("exit", (40, 190, 70)),
    "outdoor": ("outdoor", (150, 185, 120)),
    "fence": ("window", (110, 130, 110)),  # see-through, not walkable: a window to the loader
    "roof": ("floor", (180, 180, 175)),  # the roof slab: walkable floor
}
GID = {name: i + 1 for i, name in enumerate(TILES)}  # gid 0 is void


# --- the layout as data ------------------------------------------------------------------------
@dataclass(frozen=True)
class Room:
    """A room: its interior (FLOOR tiles) x0..x1, y0..y1 inclusive, and its doors."""

    name: str
    kind: str
    level: str
    x0: int
    y0: int
    x1: int
    y1: int
    doors: tuple[tuple[int, int], ...] = ()  # (x, y) of door tiles in its walls
    door: str = "door-open"  # the doors' state at the start (a tileset name)


# The school building (every storey): outer walls x = 3 and 115, y = 2 (north) and 14 (south).
BX0, BX1, BY0, BY1 = 3, 115, 2, 14
ROOM_Y0, ROOM_Y1 = 3, 9  # the rooms: 7 m deep
ROOM_WALL = 10  # the wall between the rooms and the corridor, with their doors
CORRIDOR_Y0, CORRIDOR_Y1 = 11, 13  # 3 m wide
STAIRS_W = (4, 8)  # west staircase, x range (y: ROOM_Y0..ROOM_Y1), open onto the corridor
STAIRS_E = (110, 114)  # east staircase
BAY0, BAY, BAYS = 10, 10, 10  # bay k spans x = 10 + 10k .. 18 + 10k, with a wall at 19 + 10k

# The storeys, west to east: (name, kind, bays, number of doors, door state).
STOREYS: dict[str, list[tuple[str, str, int, int, str]]] = {
    "1F": [
        ("toilet 1F", "toilet", 1, 1, "door-open"),
        ("science supply room", "storage", 1, 1, "door-open"),
        ("science lab", "lab", 2, 2, "door-open"),
        ("infirmary", "infirmary", 1, 1, "door-open"),
        ("teachers' office", "office", 2, 2, "door-open"),
        ("library", "library", 3, 2, "door-open"),
    ],
    "2F": [
        ("toilet 2F", "toilet", 1, 1, "door-open"),
        *[(f"classroom 1-{k}", "classroom", 1, 2, "door") for k in range(1, 9)],
        ("music room", "music", 1, 2, "door"),
    ],
    "3F": [
        ("toilet 3F", "toilet", 1, 1, "door-open"),
        *[(f"classroom 2-{k}", "classroom", 1, 2, "door") for k in range(1, 9)],
        ("broadcasting room", "broadcast", 1, 1, "door-open"),
    ],
    "4F": [
        ("toilet 4F", "toilet", 1, 1, "door-open"),
        *[(f"classroom 3-{k}", "classroom", 1, 2, "door") for k in range(1, 9)],
        ("storage room 4F", "storage", 1, 1, "door-open"),
    ],
}
# Room kinds with windows in their corridor wall (Korean classrooms have them).
CORRIDOR_WINDOWS = {"classroom"}
# An inner door between the science supply room and the lab (in the wall at x = 29).
INNER_DOORS = {"1F": [(29, 6)]}
# 1F doors in the south wall onto the courtyard: the main entrance and a side door per staircase.
ENTRANCES = [(57, BY1), (58, BY1), (59, BY1), (60, BY1), (6, BY1), (112, BY1)]

# The rooftop: the stair house over the west staircase, its locked steel door, the roof slab.
ROOF_DOOR = (6, ROOM_WALL)
ROOF_DOOR_STRENGTH = 600.0
ROOFTOP = [(10, ROOM_Y0, 114, CORRIDOR_Y1), (4, CORRIDOR_Y0, 9, CORRIDOR_Y1)]  # x0, y0, x1, y1

# Ground level outside the school.
GYM = Room("gym", "gym", "1F", 23, 31, 62, 47, doors=((24, 30), (25, 30), (52, 30), (53, 30)))
GYM_WALLS = (14, 30, 63, 48)  # x0, y0, x1, y1 of its outer walls
EQUIPMENT = Room("gym equipment room", "storage", "1F", 15, 31, 21, 47, doors=((22, 44),))
CONSTRUCTION = Room("construction building", "construction", "1F", 91, 43, 115, 55)
CONSTRUCTION_WALLS = (90, 42, 116, 56)
# The construction site's fence (west side at x = 87, north side at y = 39), with two gaps.
SITE_X, SITE_Y = 87, 39
SITE_GAPS = [(x, SITE_Y) for x in range(100, 104)] + [(SITE_X, y) for y in range(49, 53)]
MAIN_GATE = [(x, H - 1) for x in range(40, 48)]  # 8 m, south edge
CAR_GATE = [(W - 1, y) for y in range(24, 29)]  # 5 m, east edge, from the parking lot
# Spawn areas (x0, y0, x1, y1); several rectangles of one name make one area.
SPAWNS: dict[str, list[tuple[int, int, int, int]]] = {
    "courtyard": [(1, 15, 86, 29), (1, 30, 13, 58), (64, 30, 86, 48), (1, 49, 86, 58)],
    "parking lot": [(87, 15, 118, 38)],
    "main gate": [(40, 55, 47, 58)],
}
SPAWN_KIND = {"courtyard": "yard", "parking lot": "yard", "main gate": "yard"}
# Each storey's corridor is a spawn area too: where the PA speakers are (alarms, broadcasts).
CORRIDOR = (STAIRS_W[0], CORRIDOR_Y0, STAIRS_E[1], CORRIDOR_Y1)


def storey_rooms(level: str) -> list[Room]:
    """The rooms of one storey of the school, from ``STOREYS``: bays west to east."""
    rooms, bay = [], 0
    for name, kind, bays, n_doors, state in STOREYS[level]:
        x0 = BAY0 + BAY * bay
        x1 = x0 + BAY * bays - 2
        doors = ((x0 + 1, ROOM_WALL), (x1 - 1, ROOM_WALL))[:n_doors]
        rooms.append(Room(name, kind, level, x0, ROOM_Y0, x1, ROOM_Y1, doors, state))
        bay += bays
    assert bay == BAYS, f"{level}: {bay} bays, not {BAYS}"
    return rooms


def all_rooms() -> list[Room]:
    rooms = [r for level in LEVELS[:-1] for r in storey_rooms(level)]
    return [*rooms, GYM, EQUIPMENT, CONSTRUCTION]


# --- painting ----------------------------------------------------------------------------------
class Canvas:
    """One level's tiles as tileset names (None = void)."""

    def __init__(self) -> None:
        self.grid: list[list[str | None]] = [[None] * W for _ in range(H)]

    def fill(self, x0: int, y0: int, x1: int, y1: int, tile: str | None) -> None:
        for y in range(y0, y1 + 1):
            for x in range(x0, x1 + 1):
                self.grid[y][x] = tile

    def box(self, x0: int, y0: int, x1: int, y1: int, wall: str = "wall", inside: str = "floor") -> None:
        """A rectangle of walls with ``inside`` within."""
        self.fill(x0, y0, x1, y1, wall)
        self.fill(x0 + 1, y0 + 1, x1 - 1, y1 - 1, inside)

    def put(self, cells, tile: str) -> None:
        for x, y in cells:
            self.grid[y][x] = tile

    def gids(self) -> list[int]:
        return [GID[t] if t else 0 for row in self.grid for t in row]


def paint_school(c: Canvas, level: str) -> None:
    """The building shell of a storey, its staircases and its rooms."""
    c.box(BX0, BY0, BX1, BY1)
    c.fill(BX0 + 1, ROOM_Y0, BX1 - 1, ROOM_WALL, "wall")  # solid until rooms are carved out
    for x0, x1 in (STAIRS_W, STAIRS_E):
        c.fill(x0, ROOM_Y0, x1, ROOM_Y1, "stairs")
        c.fill(x0, ROOM_WALL, x1, ROOM_WALL, "floor")  # the stairwell opens onto the corridor
        c.put([(x0 - 1, y) for y in range(ROOM_Y0, ROOM_WALL + 1)], "wall")
        c.put([(x1 + 1, y) for y in range(ROOM_Y0, ROOM_WALL + 1)], "wall")
    for room in storey_rooms(level):
        c.fill(room.x0, room.y0, room.x1, room.y1, "floor")
        c.put([(x, BY0) for x in range(room.x0 + 1, room.x1)], "window")  # outer wall
        if room.kind in CORRIDOR_WINDOWS:  # windows onto the corridor, between the two doors
            c.put([(x, ROOM_WALL) for x in range(room.x0 + 2, room.x1 - 1)], "window")
        c.put(room.doors, room.door)
    c.put(INNER_DOORS.get(level, []), "door-open")
    # Corridor windows on the south wall, between the bays' partitions.
    for x in range(BAY0, BAY0 + BAY * BAYS - 1):
        if (x - BAY0) % BAY not in (BAY - 1, 0):
            c.grid[BY1][x] = "window"


def paint_ground() -> Canvas:
    c = Canvas()
    c.box(0, 0, W - 1, H - 1, wall="fence", inside="outdoor")
    c.put(MAIN_GATE + CAR_GATE, "exit")
    paint_school(c, "1F")
    c.put(ENTRANCES, "door-open")
    # The gym, across the courtyard, with its equipment room.
    c.box(*GYM_WALLS)
    c.fill(EQUIPMENT.x1 + 1, GYM.y0, EQUIPMENT.x1 + 1, GYM.y1, "wall")
    c.put(GYM.doors + EQUIPMENT.doors, "door-open")
    # The construction site: fenced off from the parking lot and the courtyard, with gaps.
    c.fill(SITE_X, SITE_Y, W - 2, SITE_Y, "fence")
    c.fill(SITE_X, SITE_Y, SITE_X, H - 2, "fence")
    c.put(SITE_GAPS, "outdoor")
    # The half-built building: bare walls every few metres, pillars inside, gaps everywhere.
    x0, y0, x1, y1 = CONSTRUCTION_WALLS
    c.box(x0, y0, x1, y1)
    for x in range(x0 + 1, x1):
        for y in (y0, y1):
            if (x - x0) % 6 in (3, 4):
                c.grid[y][x] = "outdoor"
    for y in range(y0 + 1, y1):
        for x in (x0, x1):
            if (y - y0) % 5 in (2, 3):
                c.grid[y][x] = "outdoor"
    for x in range(x0 + 6, x1 - 1, 6):
        for y in range(y0 + 5, y1 - 1, 5):
            c.grid[y][x] = "wall"  # a pillar
    return c


def paint_upper(level: str) -> Canvas:
    c = Canvas()
    paint_school(c, level)
    return c


def paint_rooftop() -> Canvas:
    c = Canvas()
    c.box(BX0, BY0, BX1, BY1, inside="roof")  # the parapet round the roof slab
    x0, x1 = STAIRS_W
    c.box(x0 - 1, BY0, x1 + 1, ROOM_WALL, inside="stairs")  # the stair house
    c.put([ROOF_DOOR], "door-locked")
    return c


# --- Tiled JSON --------------------------------------------------------------------------------
class Ids:
    """Layer and object ids, numbered from 1 as Tiled does (the map records the next free ones)."""

    def __init__(self) -> None:
        self.layer = self.object = 0

    def next_layer(self) -> int:
        self.layer += 1
        return self.layer

    def next_object(self) -> int:
        self.object += 1
        return self.object


def rect_object(ids: Ids, cls: str, name: str, x0: int, y0: int, x1: int, y1: int, **props) -> dict:
    """A Tiled rectangle object covering tiles x0..x1, y0..y1 (inclusive)."""
    obj = {
        "height": (y1 - y0 + 1) * PX,
        "id": ids.next_object(),
        "name": name,
        "rotation": 0,
        "type": cls,
        "visible": True,
        "width": (x1 - x0 + 1) * PX,
        "x": x0 * PX,
        "y": y0 * PX,
    }
    if props:
        obj["properties"] = [
            {"name": k, "type": "float" if isinstance(v, float) else "string", "value": v}
            for k, v in props.items()
        ]
    return obj


def object_layer(ids: Ids, name: str, objects: list[dict]) -> dict:
    return {
        "draworder": "topdown",
        "id": ids.next_layer(),
        "name": name,
        "objects": objects,
        "opacity": 1,
        "type": "objectgroup",
        "visible": True,
        "x": 0,
        "y": 0,
    }


def level_layer(ids: Ids, level: str, canvas: Canvas) -> dict:
    """The group layer of one level: its tiles, then its rooms, spawn areas, stairs and doors."""
    gid = ids.next_layer()
    tiles = {
        "data": canvas.gids(),
        "height": H,
        "id": ids.next_layer(),
        "name": "tiles",
        "opacity": 1,
        "type": "tilelayer",
        "visible": True,
        "width": W,
        "x": 0,
        "y": 0,
    }
    if level == "rooftop":
        rooms = [rect_object(ids, "room", "rooftop", *rect, kind="rooftop") for rect in ROOFTOP]
    else:
        rooms = [
            rect_object(ids, "room", r.name, r.x0, r.y0, r.x1, r.y1, kind=r.kind)
            for r in all_rooms()
            if r.level == level
        ]
    spawns = []
    if level != "rooftop":
        spawns = [rect_object(ids, "spawn", f"corridor {level}", *CORRIDOR, kind="corridor")]
    if level == LEVELS[0]:
        spawns += [
            rect_object(ids, "spawn", name, *rect, kind=SPAWN_KIND[name])
            for name, rects in SPAWNS.items()
            for rect in rects
        ]
    # Stairs: the west flight links every level up to the roof, the east one 1F-4F.
    flights = [("west", STAIRS_W)] + ([("east", STAIRS_E)] if level != "rooftop" else [])
    stairs = [
        rect_object(ids, "stairs", f"{side} stairs", x0, ROOM_Y0, x1, ROOM_Y1, link=side)
        for side, (x0, x1) in flights
    ]
    doors = []
    if level == "rooftop":
        doors = [
            rect_object(ids, "door", "rooftop door", *ROOF_DOOR, *ROOF_DOOR, strength=ROOF_DOOR_STRENGTH)
        ]
    layers = [tiles, object_layer(ids, "rooms", rooms), object_layer(ids, "stairs", stairs)]
    if spawns:
        layers.append(object_layer(ids, "spawns", spawns))
    if doors:
        layers.append(object_layer(ids, "doors", doors))
    return {
        "id": gid,
        "layers": layers,
        "name": level,
        "opacity": 1,
        "type": "group",
        "visible": True,
        "x": 0,
        "y": 0,
    }


def tileset() -> dict:
    return {
        "columns": len(TILES),
        "firstgid": 1,
        "image": IMAGE_FILE.name,
        "imageheight": PX,
        "imagewidth": PX * len(TILES),
        "margin": 0,
        "name": "hyosan school",
        "spacing": 0,
        "tilecount": len(TILES),
        "tileheight": PX,
        "tiles": [{"id": i, "type": cls} for i, (cls, _) in enumerate(TILES.values())],
        "tilewidth": PX,
    }


def build_map() -> dict:
    ids = Ids()
    canvases = {"1F": paint_ground(), "rooftop": paint_rooftop()}
    layers = [level_layer(ids, lv, canvases.get(lv) or paint_upper(lv)) for lv in LEVELS]
    return {
        "compressionlevel": -1,
        "height": H,
        "infinite": False,
        "layers": layers,
        "nextlayerid": ids.layer + 1,
        "nextobjectid": ids.object + 1,
        "orientation": "orthogonal",
        "properties": [{"name": "name", "type": "string", "value": "Hyosan High School"}],
        "renderorder": "right-down",
        "tiledversion": "1.10.2",
        "tileheight": PX,
        "tilesets": [tileset()],
        "tilewidth": PX,
        "type": "map",
        "version": "1.10",
        "width": W,
    }


def map_text(data: dict) -> str:
    """JSON as Tiled writes it, but with each tile layer's data one map row per line (diffable)."""
    rows: dict[str, str] = {}

    def placeholder(layer: dict) -> None:
        if layer.get("type") == "group":
            for sub in layer["layers"]:
                placeholder(sub)
        elif layer.get("type") == "tilelayer":
            key = f"@@data{len(rows)}@@"
            lines = [",".join(str(g) for g in layer["data"][y * W : (y + 1) * W]) for y in range(H)]
            rows[key] = "[\n" + ",\n".join(lines) + "]"
            layer["data"] = key

    data = json.loads(json.dumps(data))
    for layer in data["layers"]:
        placeholder(layer)
    text = json.dumps(data, indent=1, ensure_ascii=False)
    for key, value in rows.items():
        text = text.replace(f'"{key}"', value)
    return text + "\n"


# --- the tileset image (a PNG written with the standard library) -------------------------------
def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _stored_zlib(raw: bytes) -> bytes:
    """zlib data in stored (uncompressed) deflate blocks: the same bytes with any zlib build."""
    out = bytearray(b"\x78\x01")
    for i in range(0, max(len(raw), 1), 65535):
        block = raw[i : i + 65535]
        final = 1 if i + 65535 >= len(raw) else 0
        out += struct.pack("<BHH", final, len(block), 0xFFFF ^ len(block)) + block
    return bytes(out + struct.pack(">I", zlib.adler32(raw)))


def tiles_png() -> bytes:
    """One PX x PX swatch per tile, left to right, with a darker rim (stairs striped)."""
    rows = []
    for y in range(PX):
        row = bytearray(b"\x00")  # filter: none
        for name, (_, rgb) in TILES.items():
            for x in range(PX):
                rim = x in (0, PX - 1) or y in (0, PX - 1)
                stripe = name == "stairs" and y % 4 == 0
                row += bytes(int(v * 0.7) if rim or stripe else v for v in rgb)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", PX * len(TILES), PX, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", _stored_zlib(b"".join(rows)))
        + _chunk(b"IEND", b"")
    )


# --- checks ------------------------------------------------------------------------------------
def _expect(ok: bool, what: str) -> None:
    if not ok:
        raise SystemExit(f"{MAP_FILE.name}: {what}")


def check(path: Path) -> str:
    """Load the written map with the engine's loader and check what the scenario relies on."""
    from hyosan.world import load_map
    from hyosan.world.tiles import Tile

    world = load_map(path)
    _expect(world.floors == list(LEVELS) and world.shape == (len(LEVELS), H, W), "levels")
    for room in all_rooms():
        got = world.room_named(room.name)
        area = (room.x1 - room.x0 + 1) * (room.y1 - room.y0 + 1)
        _expect((got.kind, world.floors[got.floor]) == (room.kind, room.level), room.name)
        _expect(got.cells.size > 0.9 * area, f"{room.name}: {got.cells.size} of {area} tiles")
    linked = {(world.coords(int(a))[0], world.coords(int(b))[0]) for a, b in world.stair_links}
    _expect(linked == {(f, f + 1) for f in range(len(LEVELS) - 1)}, f"stairs link {sorted(linked)}")
    _expect(world.exits().size == len(MAIN_GATE) + len(CAR_GATE), "exit tiles")
    _expect(bool((world.tiles == Tile.STAIRS).any(axis=(1, 2)).all()), "stairs on every level")
    return (
        f"{path.name}: {len(world.floors)} levels of {W} x {H} m, {len(world.rooms)} rooms, "
        f"{len(world.door_cells)} doors, {len(world.stair_links)} stair links, "
        f"{world.exits().size} exit tiles"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the files on disk, write nothing")
    args = parser.parse_args(argv)
    outputs = {MAP_FILE: map_text(build_map()).encode("utf-8"), IMAGE_FILE: tiles_png()}
    if args.check:
        stale = [p.name for p, data in outputs.items() if not p.exists() or p.read_bytes() != data]
        print(f"out of date: {', '.join(stale)}" if stale else "up to date")
        return 1 if stale else 0
    for path, data in outputs.items():
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: an interrupted run never leaves half a map
    print(check(MAP_FILE))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
