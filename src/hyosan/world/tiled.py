"""Load a school drawn in the Tiled map editor (https://www.mapeditor.org), JSON format (.tmj).

Conventions (docs/maps.md has the walk-through): an orthogonal, finite map, 1 tile = 1 m; each
floor is a top-level group layer named after the floor (bottom floor first), holding exactly one
tile layer and any number of object layers. A tile means what its tileset tile's class says
(``floor``, ``wall``, ``door``...); gid 0 is void. Object layers hold rectangles (or points) of
class ``room``, ``spawn``, ``stairs`` and ``door``; objects of other classes are left alone.

Only the standard library parses the file (json, base64, zlib, gzip). Every error names the
file and the JSON path of the field at fault, e.g. ``layers[2].layers[0].data``.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import gzip
import itertools
import json
import math
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from hyosan import limits
from hyosan.errors import HyosanError
from hyosan.io import decode, read_bytes
from hyosan.world.tiles import WALKABLE_LUT, DoorState, Tile, initial_strength
from hyosan.world.world import Room, World, canonical_links, default_stair_links

#: Tileset tile class -> (tile, door state or None). Classes are matched case-insensitively.
TILE_CLASSES: dict[str, tuple[Tile, DoorState | None]] = {
    "void": (Tile.VOID, None),
    "floor": (Tile.FLOOR, None),
    "wall": (Tile.WALL, None),
    "door": (Tile.DOOR, DoorState.CLOSED),
    "door-closed": (Tile.DOOR, DoorState.CLOSED),
    "door-open": (Tile.DOOR, DoorState.OPEN),
    "door-locked": (Tile.DOOR, DoorState.LOCKED),
    "door-barricaded": (Tile.DOOR, DoorState.BARRICADED),
    "window": (Tile.WINDOW, None),
    "stairs": (Tile.STAIRS, None),
    "exit": (Tile.EXIT, None),
    "outdoor": (Tile.OUTDOOR, None),
}
OBJECT_CLASSES = ("room", "spawn", "stairs", "door")
_GID_MASK = 0x0FFFFFFF  # the top four bits of a gid are flip/rotation flags


def load_tiled(path: str | Path) -> World:
    """Load a Tiled JSON map (``.tmj`` or ``.json``) and its external tilesets."""
    path = Path(path)
    return _Loader(path, _read_json(path)).world()


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a map may hold")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large")
    return value


def parse_json(text: str, source: str) -> Any:
    """JSON as a map or tileset may hold it: no NaN, no infinity, no absurd nesting."""
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise HyosanError(f"not valid JSON: {exc.msg}", source=source, field=where) from None
    except ValueError as exc:
        raise HyosanError(f"not valid JSON: {exc}", source=source) from None
    except RecursionError:
        raise HyosanError("not valid JSON: nested too deeply", source=source) from None


def _read_json(path: Path) -> Any:
    """A JSON file: a regular file under the size cap, UTF-8 (a BOM is fine), finite numbers."""
    return parse_json(decode(read_bytes(path), str(path)), str(path))


def _properties(obj: dict) -> dict[str, Any]:
    """Custom properties as a dict; Tiled writes a list of {name, type, value} (a dict before 1.2)."""
    props = obj.get("properties") or {}
    if isinstance(props, dict):
        return props
    if not isinstance(props, list):
        raise TypeError("properties")
    return {p.get("name"): p.get("value") for p in props if isinstance(p, dict)}


def _class_of(obj: dict) -> tuple[str, str]:
    """(class, key): Tiled calls it ``type`` before 1.9 and from 1.10 on, ``class`` in 1.9."""
    for key in ("type", "class"):
        if isinstance(obj.get(key), str) and obj[key].strip():
            return obj[key].strip().lower(), key
    return "", "type"


class _Loader:
    def __init__(self, path: Path, data: Any):
        self.path = path
        self.source = str(path)
        if not isinstance(data, dict):
            self.fail("a Tiled map is a JSON object", None)
        self.data = data

    def fail(self, message: str, where: str | None, source: str | None = None):
        raise HyosanError(message, source=source or self.source, field=where)

    def get(self, obj: dict, key: str, kind: type | tuple, where: str, default: Any = ...) -> Any:
        value = obj.get(key, default)
        if value is ...:
            self.fail(f"missing '{key}'", where)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            self.fail(f"'{key}' has the wrong type ({type(value).__name__})", f"{where}.{key}".lstrip("."))
        if isinstance(value, int | float) and not isinstance(value, bool) and not abs(value) < 2**31:
            self.fail(f"'{key}' is out of range ({value:.4g})", f"{where}.{key}".lstrip("."))
        return value

    def props(self, obj: dict, where: str) -> dict[str, Any]:
        try:
            return _properties(obj)
        except TypeError:
            self.fail(
                "'properties' must be a list of {name, type, value} (or an object)", f"{where}.properties"
            )

    def world(self) -> World:
        d = self.data
        if d.get("orientation", "orthogonal") != "orthogonal":
            self.fail(f"only orthogonal maps are supported, not {d.get('orientation')!r}", "orientation")
        if d.get("infinite"):
            self.fail("infinite maps are not supported (Map > Map Properties > Infinite: off)", "infinite")
        self.w, self.h = self.get(d, "width", int, ""), self.get(d, "height", int, "")
        self.tw, self.th = self.get(d, "tilewidth", int, ""), self.get(d, "tileheight", int, "")
        if min(self.w, self.h, self.tw, self.th) <= 0:
            self.fail("width, height, tilewidth and tileheight must be positive", "width")
        self._tilesets(self.get(d, "tilesets", list, ""))
        groups = []
        for i, layer in enumerate(self.get(d, "layers", list, "")):
            where = f"layers[{i}]"
            kind = self.get(layer, "type", str, where) if isinstance(layer, dict) else None
            if kind == "group":
                groups.append((where, layer))
            elif kind != "imagelayer":
                self.fail(
                    "each floor must be a top-level group layer (tile and object layers go inside)",
                    f"{where}.type",
                )
        if not groups:
            self.fail("no floors: the map needs top-level group layers, one per floor", "layers")
        cells = len(groups) * self.h * self.w  # checked before the arrays are allocated
        if cells > limits.MAX_MAP_CELLS.value():
            self.fail(
                f"{len(groups)} floors of {self.w} x {self.h} tiles, over the limit of "
                f"{limits.MAX_MAP_CELLS.value()} tiles (raise it with {limits.MAX_MAP_CELLS.name})",
                "width",
            )
        self.floors: list[str] = []
        self.tiles = np.zeros((len(groups), self.h, self.w), dtype=np.uint8)
        self.states = np.zeros(self.tiles.shape, dtype=np.uint8)
        self.strength = np.full(self.tiles.shape, np.nan, dtype=np.float32)
        self.room_id = np.full(self.tiles.shape, -1, dtype=np.int16)
        self.rooms: list[tuple[str, int, str]] = []  # (name, floor, kind)
        self.spawns: dict[str, np.ndarray] = {}
        self.stairs: dict[str, list[tuple[int, tuple[int, int, int, int], str]]] = {}
        self.explicit = np.zeros(self.tiles.shape, dtype=bool)
        objects = []
        for f, (where, group) in enumerate(groups):
            name = self.get(group, "name", str, where).strip()
            if not name or name in self.floors:
                self.fail(f"floor names must be distinct and not empty ({name!r})", f"{where}.name")
            self.floors.append(name)
            objects += self._floor(f, where, group)
        for f, where, obj in objects:  # after all tiles are known
            self._object(f, where, obj)
        return self._build()

    # --- tilesets -------------------------------------------------------------------------
    def _tilesets(self, tilesets: list) -> None:
        self.firstgids: list[int] = []
        self.sets: list[tuple[str, int | None, dict[int, tuple[str, str, str]]]] = []
        for k, ts in enumerate(tilesets):
            where = f"tilesets[{k}]"
            if not isinstance(ts, dict):
                self.fail("a tileset entry is a JSON object", where)
            firstgid = self.get(ts, "firstgid", int, where)
            source, prefix = self.source, f"{where}."
            if "source" in ts:
                file = self.path.parent / self.get(ts, "source", str, where)
                if file.suffix.lower() == ".tsx":
                    self.fail(
                        "XML tilesets (.tsx) are not supported: save the tileset as JSON (.tsj)",
                        f"{where}.source",
                    )
                ts, source, prefix = _read_json(file), str(file), ""
                if not isinstance(ts, dict):
                    self.fail("a tileset is a JSON object", None, source)
            classes = {}
            tiles = ts.get("tiles") or []
            if not isinstance(tiles, list):
                self.fail(f"'tiles' has the wrong type ({type(tiles).__name__})", f"{prefix}tiles", source)
            for m, tile in enumerate(tiles):
                if isinstance(tile, dict) and isinstance(tile.get("id"), int):
                    cls, key = _class_of(tile)
                    classes[tile["id"]] = (cls, source, f"{prefix}tiles[{m}].{key}")
            count = ts.get("tilecount")
            if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
                self.fail(
                    f"'tilecount' must be a whole number >= 0, got {count!r}", f"{prefix}tilecount", source
                )
            self.sets.append((str(ts.get("name", k))[:200], count, classes))
            self.firstgids.append(firstgid)
        order = np.argsort(self.firstgids, kind="stable")
        self.firstgids = [self.firstgids[i] for i in order]
        self.sets = [self.sets[i] for i in order]

    def _meaning(self, gid: int, where: str) -> tuple[Tile, DoorState | None]:
        k = bisect.bisect_right(self.firstgids, gid) - 1
        if k < 0:
            self.fail(f"gid {gid} belongs to no tileset", where)
        name, count, classes = self.sets[k]
        local = gid - self.firstgids[k]
        if count is not None and local >= count:
            self.fail(f"gid {gid} is past the end of tileset {name!r}", where)
        if local not in classes or not classes[local][0]:
            self.fail(
                f"gid {gid} (tile {local} of tileset {name!r}) has no class; give it one of "
                f"{', '.join(TILE_CLASSES)}",
                where,
            )
        cls, source, field = classes[local]
        if cls not in TILE_CLASSES:
            self.fail(
                f"gid {gid} has unknown tile class {cls!r}; expected one of {', '.join(TILE_CLASSES)}",
                field,
                source,
            )
        return TILE_CLASSES[cls]

    # --- layers ---------------------------------------------------------------------------
    def _floor(self, f: int, where: str, group: dict) -> list:
        tile_layers, objects = 0, []
        for j, layer in enumerate(self.get(group, "layers", list, where)):
            here = f"{where}.layers[{j}]"
            kind = self.get(layer, "type", str, here) if isinstance(layer, dict) else None
            if kind == "tilelayer":
                tile_layers += 1
                if tile_layers > 1:
                    self.fail("a floor holds exactly one tile layer", here)
                self._tile_layer(f, here, layer)
            elif kind == "objectgroup":
                for k, obj in enumerate(self.get(layer, "objects", list, here)):
                    objects.append((f, f"{here}.objects[{k}]", obj))
            elif kind != "imagelayer":
                self.fail(f"unexpected {kind!r} layer inside a floor (groups do not nest)", f"{here}.type")
        if tile_layers == 0:
            self.fail("a floor needs one tile layer", f"{where}.layers")
        return objects

    def _tile_layer(self, f: int, where: str, layer: dict) -> None:
        if (layer.get("width", self.w), layer.get("height", self.h)) != (self.w, self.h):
            self.fail(f"layer size differs from the map size {self.w} x {self.h}", f"{where}.width")
        gids = self._decode(layer, f"{where}.data") & _GID_MASK
        uniq, inverse = np.unique(gids, return_inverse=True)
        tiles = np.zeros(uniq.size, dtype=np.uint8)
        states = np.zeros(uniq.size, dtype=np.uint8)
        for i, gid in enumerate(uniq.tolist()):
            if gid:
                tile, state = self._meaning(gid, f"{where}.data")
                tiles[i], states[i] = tile, state or 0
        if not tiles[inverse].any():
            self.fail("empty floor: the tile layer holds no tiles, only void", f"{where}.data")
        self.tiles[f] = tiles[inverse].reshape(self.h, self.w)
        self.states[f] = states[inverse].reshape(self.h, self.w)

    def _decode(self, layer: dict, where: str) -> np.ndarray:
        if "chunks" in layer:
            self.fail("chunked (infinite) layers are not supported", where)
        data = layer.get("data")
        encoding = layer.get("encoding", "csv")
        n = self.w * self.h
        if isinstance(data, list) and encoding == "csv":
            if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**32 for v in data):
                self.fail("tile data must be gids (integers from 0 to 2^32 - 1)", where)
            gids = np.array(data, dtype=np.int64)
        elif isinstance(data, str) and encoding == "base64":
            compression = layer.get("compression", "")
            if compression not in ("", "zlib", "gzip"):
                self.fail(
                    f"unsupported compression {compression!r} (use none, zlib or gzip)",
                    where.replace(".data", ".compression"),
                )
            try:
                raw = base64.b64decode(data, validate=True)
                raw = zlib.decompress(raw) if compression == "zlib" else raw
                raw = gzip.decompress(raw) if compression == "gzip" else raw
            except (binascii.Error, zlib.error, OSError, EOFError) as exc:
                self.fail(f"cannot decode base64/{compression or 'uncompressed'} tile data: {exc}", where)
            if len(raw) != 4 * n:
                self.fail(f"tile data holds {len(raw) // 4} gids, not width x height = {n}", where)
            gids = np.frombuffer(raw, dtype="<u4").astype(np.int64)
        else:
            self.fail(f"tile data must be a JSON array or a base64 string (encoding {encoding!r})", where)
        if gids.size != n:
            self.fail(f"tile data holds {gids.size} gids, not width x height = {n}", where)
        return gids

    # --- objects --------------------------------------------------------------------------
    def _rect(self, obj: dict, where: str) -> tuple[int, int, int, int]:
        """(y0, x0, h, w) in tiles: the tiles whose centres lie in the rectangle (or under the point)."""
        if any(obj.get(k) for k in ("ellipse", "polygon", "polyline", "text", "gid")):
            self.fail("only rectangle and point objects are understood", where)
        if obj.get("rotation"):
            self.fail("rotated objects are not supported", f"{where}.rotation")
        x, y = (self.get(obj, k, (int, float), where) for k in ("x", "y"))
        w, h = (self.get(obj, k, (int, float), where, 0) for k in ("width", "height"))
        if obj.get("point") or (w == 0 and h == 0):
            x0, y0 = math.floor(x / self.tw), math.floor(y / self.th)
            x1, y1 = x0 + 1, y0 + 1
        else:
            x0, x1 = math.ceil(x / self.tw - 0.5), math.ceil((x + w) / self.tw - 0.5)
            y0, y1 = math.ceil(y / self.th - 0.5), math.ceil((y + h) / self.th - 0.5)
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, self.w), min(y1, self.h)
        if x1 <= x0 or y1 <= y0:
            self.fail("the object covers no tile of the map", where)
        return y0, x0, y1 - y0, x1 - x0

    def _object(self, f: int, where: str, obj: Any) -> None:
        if not isinstance(obj, dict):
            self.fail("an object is a JSON object", where)
        cls, _ = _class_of(obj)
        if "template" in obj and not cls:
            self.fail("object templates are not supported: detach the template in Tiled", f"{where}.template")
        if cls not in OBJECT_CLASSES:
            return
        y0, x0, h, w = self._rect(obj, where)
        mask = np.zeros(self.tiles.shape, dtype=bool)
        mask[f, y0 : y0 + h, x0 : x0 + w] = True
        props = self.props(obj, where)
        name = self.get(obj, "name", str, where, "").strip()
        want = {
            "room": self.tiles == Tile.FLOOR,
            "spawn": WALKABLE_LUT[self.tiles].astype(bool),
            "stairs": self.tiles == Tile.STAIRS,
            "door": self.tiles == Tile.DOOR,
        }[cls]
        mask &= want
        if not mask.any():
            what = {"room": "FLOOR", "spawn": "walkable", "stairs": "STAIRS", "door": "DOOR"}[cls]
            self.fail(f"{cls} object {name!r} covers no {what} tile", where)
        if cls in ("room", "spawn") and not name:
            self.fail(f"a {cls} object needs a name", f"{where}.name")
        if cls == "room":
            self._room(f, where, name, str(props.get("kind") or "room"), mask)
        elif cls == "spawn":
            self.spawns[name] = np.union1d(self.spawns.get(name, np.zeros(0, np.int64)), np.flatnonzero(mask))
        elif cls == "stairs":
            link = props.get("link")
            if link is None or isinstance(link, bool) or str(link).strip() == "":
                self.fail("a stairs object needs a custom property 'link'", f"{where}.properties")
            self.stairs.setdefault(str(link).strip(), []).append((f, (y0, x0, h, w), where))
            self.explicit |= mask
        else:
            strength = props.get("strength")
            if (
                isinstance(strength, bool)
                or not isinstance(strength, int | float)
                or not 0 <= strength < math.inf
            ):
                self.fail("a door object needs a custom property 'strength' >= 0", f"{where}.properties")
            self.strength[mask] = strength

    def _room(self, f: int, where: str, name: str, kind: str, mask: np.ndarray) -> None:
        known = [r[0] for r in self.rooms]
        if name in known:
            rid = known.index(name)
            if self.rooms[rid][1:] != (f, kind):
                self.fail(f"room {name!r} is drawn again on another floor or with another kind", where)
        else:
            rid = len(self.rooms)
            if rid >= np.iinfo(self.room_id.dtype).max:
                self.fail(f"more than {rid} rooms", where)
            self.rooms.append((name, f, kind))
        clash = self.room_id[mask]
        if ((clash >= 0) & (clash != rid)).any():
            other = self.rooms[int(clash[clash >= 0][0])][0]
            self.fail(f"room {name!r} overlaps room {other!r}", where)
        self.room_id[mask] = rid

    def _links(self) -> np.ndarray:
        pairs = []
        stairs = self.tiles == Tile.STAIRS
        for link, items in self.stairs.items():
            items = sorted(items)
            floors = [f for f, _, _ in items]
            if len(set(floors)) != len(floors) or len(items) < 2:
                self.fail(f"stairs link {link!r} needs one object on each of two or more floors", items[0][2])
            for (fa, (ya, xa, h, w), _), (fb, (yb, xb, hb, wb), where) in itertools.pairwise(items):
                a, b = stairs[fa, ya : ya + h, xa : xa + w], stairs[fb, yb : yb + hb, xb : xb + wb]
                if (h, w) != (hb, wb) or (a != b).any():
                    self.fail(
                        f"stairs link {link!r}: the two ends must have the same shape, tile for tile", where
                    )
                dy, dx = np.nonzero(a)
                lower = (fa * self.h + ya + dy) * self.w + xa + dx
                upper = (fb * self.h + yb + dy) * self.w + xb + dx
                pairs.append(np.stack([lower, upper], axis=1))
        return canonical_links(np.concatenate(pairs) if pairs else np.zeros((0, 2), np.int64))

    def _build(self) -> World:
        for name in self.spawns:
            if name in {r[0] for r in self.rooms}:
                self.fail(f"spawn area {name!r} has the name of a room", "layers")
        links = self._links()
        links = np.concatenate([links, default_stair_links(self.tiles, self.explicit)])
        doors = np.flatnonzero(self.tiles.reshape(-1) == Tile.DOOR)
        state = self.states.reshape(-1)[doors]
        strength = self.strength.reshape(-1)[doors]
        default = np.array([initial_strength(s) for s in state], dtype=np.float32)
        strength = np.where(np.isnan(strength), default, strength)
        flat_ids = self.room_id.reshape(-1)
        rooms = [Room(i, n, f, k, np.flatnonzero(flat_ids == i)) for i, (n, f, k) in enumerate(self.rooms)]
        name = self.props(self.data, "").get("name") or self.path.stem
        return World(
            str(name),
            self.floors,
            self.tiles,
            self.room_id,
            rooms,
            doors,
            state,
            strength,
            links,
            self.spawns,
        )
