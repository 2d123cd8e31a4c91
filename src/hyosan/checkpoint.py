"""Checkpoints: a running simulation saved to a file and restored, to continue bit for bit.

A checkpoint is data, never code: a header line (format, hyosan version, SHA-256 of the
payload) then a zip of ``.npy`` arrays (written and read with ``allow_pickle=False``) and one
JSON document (``state.json``) for the scalars, the scenario, the parameters, the timeline's
position, the recorder's state and the random generators' states. Nothing in it is unpickled,
evaluated or imported: every field is read by its declared name, its dtype and shape checked,
index arrays checked against their bounds before a kernel sees them, and an unknown or missing
field is refused in one line naming the file and the field.

What is saved is declared here, not ``vars(sim)``:

- the kernels' named state (``sim.arrays``, a :class:`hyosan.rules.state.Run` of NamedTuples of
  arrays) and ``sim.prm`` (:class:`hyosan.rules.state.Params`) are walked generically by their
  ``_fields``, so an array added to the named state is saved without touching this file; the
  building's static arrays (``run.world`` but ``occupancy``) are rebuilt from the saved map, the
  agents' arrays are the population's;
- the Simulation's own attributes are listed in :data:`SAVED` and :data:`DERIVED` (a test fails
  when Simulation grows an attribute that is in neither).

User systems and collectors are Python functions: they are not saved, add them again after
restoring. A scenario naming a user behaviour (``[behaviour] zombie_step = "module:function"``)
imports that module: such a checkpoint is restored only when the caller says it trusts it
(``Simulation.restore(path, trust_behaviours=True)``). Checkpoints of hyosan before this format
(a pickle) are refused unread, with a line saying how to make a new one.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import typing
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.random import SeedSequence, default_rng

from hyosan import __version__, limits
from hyosan.agents import TRAITS, Population
from hyosan.assemble import build_run, project_params
from hyosan.behaviours import tick_kernel
from hyosan.errors import HyosanError
from hyosan.io import atomic_path, read_bytes
from hyosan.mechanics import kernel_params
from hyosan.record import Recorder
from hyosan.rules.consts import N_STATES
from hyosan.rules.rng import stream
from hyosan.rules.state import Params, Run
from hyosan.scenario.conditions import parse_condition
from hyosan.scenario.load import LoadedScenario, apply_overrides, validate
from hyosan.timeline import Timeline
from hyosan.world import Room, World
from hyosan.world.tiles import DoorState

if TYPE_CHECKING:  # the engine imports this module
    from hyosan.engine import Simulation

FORMAT = "hyosan-checkpoint/2"
#: Formats of older hyosan versions: pickles, never read (they could run code).
PICKLED = ("hyosan-checkpoint/1",)
STATE = "state.json"

#: The Simulation's attributes a checkpoint saves, and how.
SAVED = {
    "loaded": "the scenario as JSON (validated again on restore), its source, folder and name",
    "seed": "an integer",
    "tick": "an integer",
    "world": "the map's own arrays (tiles, rooms, doors, stair links, spawns); World checks them",
    "pop": "the agents' arrays (as run.agents) and their names",
    "arrays": "the kernels' named state, walked by _fields (run.world but occupancy: from the map)",
    "prm": "Params, walked by _fields, each value typed by its annotation",
    "rng": "each NumPy generator's bit-generator state",
    "goal_areas": "a list of area names",
    "timeline": "the pending events (index, tick, waiting on a condition) and who is seeking help",
    "recorder": "frames, drained events and frame_every (user collectors are not saved)",
}
#: The Simulation's attributes rebuilt on restore (not in the file).
DERIVED = {
    "scenario": "loaded.scenario",
    "n_ticks": "the scenario's",
    "tick_seconds": "the scenario's",
    "room_doors": "from the world",
    "advance": "the tick kernel, from the scenario's behaviours",
    "user_systems": "Python functions a user added: not saved, add them again",
}

#: The map's arrays (World's constructor checks their content), with dtype and dimensions.
WORLD_ARRAYS = {
    "tiles": ("uint8", 3),
    "room_id": ("int16", 3),
    "door_cells": ("int64", 1),
    "door_state": ("uint8", 1),
    "door_strength": ("float32", 1),
    "stair_links": ("int64", 2),
    "room_cells": ("int64", 1),
    "room_sizes": ("int64", 1),
    "spawn_cells": ("int64", 1),
    "spawn_sizes": ("int64", 1),
}
#: The population's arrays: dtype and trailing shape (after the agent axis).
POP_ARRAYS = {
    "role": ("int8", ()),
    "state": ("int8", ()),
    "cell": ("int32", ()),
    "group": ("int32", ()),
    "leader": ("int32", ()),
    "traits": ("float32", (len(TRAITS),)),
    "incubation": ("int32", ()),
    "halfbie": ("bool", ()),
    "hostile": ("bool", ()),
    "hides_bite": ("bool", ()),
    "mode": ("int8", ()),
    "budget": ("float32", ()),
    "heading": ("int8", ()),
    "target": ("int32", ()),
    "bitten_at": ("int32", ()),
    "turn_at": ("int32", ()),
    "bitten_by": ("int32", ()),
    "fate_tick": ("int32", ()),
    "bites": ("int32", ()),
    "name_code": ("int32", ()),
}
#: The recorder's arrays: dtype and dimensions.
RECORD_ARRAYS = {
    "frame_cells": ("int32", 2),
    "frame_states": ("int8", 2),
    "frame_modes": ("int8", 2),
    "events_tick": ("int32", 1),
    "events_kind": ("int8", 1),
    "events_a": ("int32", 1),
    "events_b": ("int32", 1),
    "events_cell": ("int32", 1),
}
#: Arrays of the agents and the recorder that index others: checked before any kernel reads them.
#: Bounds are ``[low, high)``, from "n" (agents), "cells", "roles", "states".
BOUNDS = {
    "pop.role": (0, "roles"),
    "pop.state": (0, "states"),
    "pop.cell": (-1, "cells"),
    "pop.group": (-1, "n"),
    "pop.leader": (0, "n"),
    "pop.target": (-1, "cells"),
    "pop.bitten_by": (-2, "n"),
    "pop.heading": (0, 8),
    "recorder.frame_cells": (-1, "cells"),
    "recorder.frame_states": (0, "states"),
    # The kernels' state that indexes (the spatial indexes are rebuilt every tick before use).
    "run.doors.state": (0, "door_states"),
    "run.hunts.owner": (-1, "n"),
    "run.hunts.source": (-1, "cells"),
    "run.events.count": (0, 1),  # drained before saving
    "run.events.overflow": (0, 1),
}
_NUMERIC = "biuf"
#: A version 1.0 .npy header as NumPy writes it, numeric dtypes only (anything else goes to
#: NumPy's own reader, with allow_pickle=False).
_NPY = re.compile(
    rb"\x93NUMPY\x01\x00(..)\{'descr': '([<>|][biuf][1-8]|\|b1)', 'fortran_order': (False|True), "
    rb"'shape': \(((?:\d+, ?)*\d*)\), \} *\n",
    re.DOTALL,
)


# -- writing ---------------------------------------------------------------------------------------
def _leaves(value: Any, prefix: str):
    """(dotted name, array) of every array of a NamedTuple of NamedTuples, by ``_fields``."""
    for name in value._fields:
        item = getattr(value, name)
        if hasattr(item, "_fields"):
            yield from _leaves(item, f"{prefix}.{name}")
        elif isinstance(item, tuple) and not item:
            continue  # an empty record: no mechanics' arrays in this run
        else:
            yield f"{prefix}.{name}", item


def _run_saved(name: str) -> bool:
    """Whether a leaf of the named state is saved: not the agents' (the population's arrays)
    nor the building's static ones (rebuilt from the map); everything else, new ones included."""
    if name.startswith(("run.agents.", "run.frames.")):  # frames: a buffer, drained after every call
        return False
    return not name.startswith("run.world.") or name == "run.world.occupancy"


def _concat(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    sizes = np.array([p.size for p in parts], dtype=np.int64)
    cells = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
    return cells, sizes


def _document(sim: Simulation) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON document and the arrays of ``sim`` (see :data:`SAVED`)."""
    w, pop, rec, tl = sim.world, sim.pop, sim.recorder, sim.timeline
    arrays: dict[str, np.ndarray] = {}
    room_cells, room_sizes = _concat([r.cells for r in w.rooms])
    spawn_cells, spawn_sizes = _concat(list(w.spawns.values()))
    world_arrays = {
        "tiles": w.tiles,
        "room_id": w.room_id,
        "door_cells": w.door_cells,
        "door_state": w.door_state,
        "door_strength": w.door_strength,
        "stair_links": w.stair_links,
        "room_cells": room_cells,
        "room_sizes": room_sizes,
        "spawn_cells": spawn_cells,
        "spawn_sizes": spawn_sizes,
    }
    arrays.update({f"world.{k}": v for k, v in world_arrays.items()})
    arrays.update({f"pop.{k}": getattr(pop, k) for k in POP_ARRAYS})
    arrays.update({k: v for k, v in _leaves(sim.arrays, "run") if _run_saved(k)})
    n = pop.n
    ev = list(zip(*rec._events, strict=True)) if rec._events else [()] * 5
    record = {
        "frame_cells": np.stack(rec.frame_cells) if rec.frame_cells else np.zeros((0, n), np.int32),
        "frame_states": np.stack(rec.frame_states) if rec.frame_states else np.zeros((0, n), np.int8),
        "frame_modes": np.stack(rec.frame_modes) if rec.frame_modes else np.zeros((0, n), np.int8),
    }
    for i, col in enumerate(("tick", "kind", "a", "b", "cell")):
        dtype = RECORD_ARRAYS[f"events_{col}"][0]
        record[f"events_{col}"] = np.concatenate(ev[i]).astype(dtype) if ev[i] else np.zeros(0, dtype)
    arrays.update({f"recorder.{k}": v for k, v in record.items()})
    for k, (_, cells, _) in enumerate(tl.seeking):
        arrays[f"timeline.seeking.{k}.cells"] = np.asarray(cells, dtype=np.int64)
    doc = {
        "format": FORMAT,
        "version": __version__,
        "loaded": {
            "scenario": sim.loaded.scenario.model_dump(mode="json"),
            "source": sim.loaded.source,
            "base_dir": str(sim.loaded.base_dir),
            "name": sim.loaded.name,
        },
        "seed": int(sim.seed),
        "tick": int(sim.tick),
        "goal_areas": list(sim.goal_areas),
        "world": {
            "name": w.name,
            "floors": list(w.floors),
            "rooms": [{"name": r.name, "floor": int(r.floor), "kind": r.kind} for r in w.rooms],
            "spawns": list(w.spawns),
        },
        "pop": {
            "role_names": list(pop.role_names),
            "characters": {str(k): v for k, v in pop.characters.items()},
        },
        "prm": {name: _param_value(sim.prm, name) for name in Params._fields},
        "rng": {name: g.bit_generator.state for name, g in sim.rng.items()},
        "timeline": {
            "pending": [
                {"index": p.index, "tick": p.tick, "waiting": p.when is not None} for p in tl.pending
            ],
            "seeking": [{"agent": int(i), "goals": list(before)} for i, _, before in tl.seeking],
        },
        "recorder": {"frame_every": rec.frame_every, "frame_ticks": [int(t) for t in rec.frame_ticks]},
    }
    return doc, arrays


def encode(sim: Simulation) -> bytes:
    """The bytes of a checkpoint of ``sim`` as it is now (header line and zip)."""
    sim.recorder.drain(sim.arrays.events)
    doc, arrays = _document(sim)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(STATE, json.dumps(doc, allow_nan=True))
        for name, array in arrays.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.ascontiguousarray(array), allow_pickle=False)
    payload = buffer.getvalue()
    digest = hashlib.sha256(payload).hexdigest()
    return f"{FORMAT} {__version__} {digest}\n".encode() + payload


def save_checkpoint(sim: Simulation, path: str | Path) -> Path:
    """Write ``sim`` as it is now to ``path`` (atomically)."""
    path = Path(path)
    data = encode(sim)
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    except OSError as exc:
        raise HyosanError(f"cannot write the checkpoint: {exc.strerror or exc}", source=str(path)) from None
    return path


# -- reading ---------------------------------------------------------------------------------------
class _Reader:
    """The payload of one checkpoint, read field by declared field (each error names the file
    and the field)."""

    def __init__(self, payload: bytes, source: str):
        self.source = source
        try:
            self.zf = zipfile.ZipFile(io.BytesIO(payload))
            names = self.zf.namelist()
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise self.error(f"not a checkpoint's archive ({type(exc).__name__})") from None
        if len(set(names)) != len(names):
            raise self.error("a field appears twice in the archive")
        if STATE not in names:
            raise self.error("missing field", STATE)
        self.payload = memoryview(payload)
        self.infos = {i.filename: i for i in self.zf.infolist()}
        self.unread = {n[: -len(".npy")] for n in names if n.endswith(".npy")}
        other = [n for n in names if n != STATE and not n.endswith(".npy")]
        if other:
            raise self.error("unknown field", other[0])
        for info in self.zf.infolist():  # hyosan stores; a compressed member could be a zip bomb
            if info.compress_type != zipfile.ZIP_STORED or info.file_size != info.compress_size:
                raise self.error("a compressed member (hyosan writes them stored)", info.filename)
        try:
            self.doc = json.loads(self.zf.read(STATE).decode("utf-8"))
        except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, OSError, RecursionError) as exc:
            raise self.error(f"not valid JSON ({type(exc).__name__})", STATE) from None
        if not isinstance(self.doc, dict):
            raise self.error("not a JSON object", STATE)
        self.unused = set(self.doc)

    def error(self, message: str, field: str | None = None) -> HyosanError:
        return HyosanError(message, source=self.source, field=field)

    def get(self, key: str, kind: type | tuple[type, ...]) -> Any:
        """A top-level value of the document, of type ``kind``."""
        if key not in self.doc:
            raise self.error("missing field", key)
        self.unused.discard(key)
        return _typed(self, self.doc[key], kind, key)

    def array(self, name: str, dtype: str, ndim: int | None = None, shape: tuple | None = None) -> np.ndarray:
        """The array ``name``, of ``dtype`` and ``ndim`` dimensions or exactly ``shape``."""
        if name not in self.unread:
            raise self.error("missing field", name)
        self.unread.discard(name)
        try:
            array = self._stored(name)
            if array is None:
                with self.zf.open(f"{name}.npy") as f:
                    array = np.lib.format.read_array(f, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, TypeError) as exc:
            # allow_pickle=False: an object array is refused here, unread.
            raise self.error(f"not a plain numeric array ({str(exc).splitlines()[0][:80]})", name) from None
        if array.dtype.kind not in _NUMERIC or array.dtype != np.dtype(dtype):
            raise self.error(f"dtype {array.dtype}, expected {dtype}", name)
        if ndim is not None and array.ndim != ndim:
            raise self.error(f"{array.ndim} dimensions, expected {ndim}", name)
        if shape is not None and array.shape != tuple(shape):
            raise self.error(f"shape {array.shape}, expected {tuple(shape)}", name)
        return array

    def _stored(self, name: str) -> np.ndarray | None:
        """A stored (uncompressed) member's array read in place: a read-only view of the payload
        (the SHA-256 of the whole payload already vouches for its bytes). None: let NumPy read it."""
        info = self.infos[f"{name}.npy"]
        local = bytes(self.payload[info.header_offset : info.header_offset + 30])
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise ValueError("bad local header")
        start = (
            info.header_offset
            + 30
            + int.from_bytes(local[26:28], "little")
            + int.from_bytes(local[28:30], "little")
        )
        end = start + info.file_size
        if end > len(self.payload) or info.compress_size != info.file_size:
            raise ValueError("member outside the archive")
        head = bytes(self.payload[start : min(end, start + 4096)])
        match = _NPY.match(head)
        if match is None:
            return None  # another .npy header layout: NumPy's reader (allow_pickle=False) decides
        descr, order, shape_text = match.group(2).decode(), match.group(3), match.group(4).decode()
        dtype = np.dtype(descr)
        shape = tuple(int(v) for v in shape_text.replace(" ", "").split(",") if v)
        offset = start + match.end()
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if offset + count * dtype.itemsize != end:
            raise ValueError("the data does not fill the member")
        flat = np.frombuffer(self.payload, dtype=dtype, count=count, offset=offset)
        return flat.reshape(shape, order="F" if order == b"True" else "C")

    def finish(self) -> None:
        if self.unused:
            raise self.error("unknown field", sorted(self.unused)[0])
        if self.unread:
            raise self.error("unknown field", sorted(self.unread)[0])


def _typed(r: _Reader, value: Any, kind: type | tuple[type, ...], field: str) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if not ok:
        names = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
        raise r.error(f"expected {names}, got {type(value).__name__}", field)
    return value


def _keys(r: _Reader, value: dict, expected: set[str], field: str) -> None:
    missing, unknown = expected - set(value), set(value) - expected
    if missing:
        raise r.error("missing field", f"{field}.{sorted(missing)[0]}")
    if unknown:
        raise r.error("unknown field", f"{field}.{sorted(unknown)[0]}")


def _str_list(r: _Reader, value: Any, field: str) -> list[str]:
    _typed(r, value, list, field)
    for i, item in enumerate(value):
        _typed(r, item, str, f"{field}.{i}")
    return value


def _int_in(r: _Reader, value: Any, low: int, high: int, field: str) -> int:
    _typed(r, value, int, field)
    if not low <= value < high:
        raise r.error(f"{value} outside [{low}, {high})", field)
    return value


def _split(r: _Reader, cells: np.ndarray, sizes: np.ndarray, count: int, field: str) -> list[np.ndarray]:
    if sizes.size != count or (sizes < 0).any() or int(sizes.sum()) != cells.size:
        raise r.error("sizes disagree with the cells", field)
    return np.split(cells, np.cumsum(sizes)[:-1]) if count else []


def _bounds(r: _Reader, name: str, array: np.ndarray, sizes: dict[str, int]) -> None:
    low, high = BOUNDS[name]
    high = sizes[high] if isinstance(high, str) else high
    if array.size and (int(array.min()) < low or int(array.max()) >= high):
        raise r.error(f"values outside [{low}, {high})", name)


def _read_loaded(r: _Reader, trust_behaviours: bool) -> LoadedScenario:
    raw = r.get("loaded", dict)
    _keys(r, raw, {"scenario", "source", "base_dir", "name"}, "loaded")
    for key in ("source", "base_dir", "name"):
        _typed(r, raw[key], str, f"loaded.{key}")
    _typed(r, raw["scenario"], dict, "loaded.scenario")
    try:
        scenario = validate(raw["scenario"], r.source)
    except HyosanError as exc:
        raise r.error(
            exc.message, ".".join(["loaded.scenario", *([exc.field] if exc.field else [])])
        ) from None
    named = [v for v in (scenario.behaviour.zombie_step, scenario.behaviour.human_step) if v]
    if named and not trust_behaviours:
        raise r.error(
            f"names the user behaviour {named[0]!r} (a module hyosan would import: code); restore it "
            "from Python with Simulation.restore(path, trust_behaviours=True) if you trust it",
            "loaded.scenario.behaviour",
        )
    return LoadedScenario(
        scenario=scenario, source=raw["source"], base_dir=Path(raw["base_dir"]), name=raw["name"]
    )


def _read_world(r: _Reader) -> World:
    meta = r.get("world", dict)
    _keys(r, meta, {"name", "floors", "rooms", "spawns"}, "world")
    _typed(r, meta["name"], str, "world.name")
    floors = _str_list(r, meta["floors"], "world.floors")
    spawns = _str_list(r, meta["spawns"], "world.spawns")
    rooms_meta = _typed(r, meta["rooms"], list, "world.rooms")
    a = {k: r.array(f"world.{k}", dtype, ndim).copy() for k, (dtype, ndim) in WORLD_ARRAYS.items()}
    room_cells = _split(r, a["room_cells"], a["room_sizes"], len(rooms_meta), "world.room_sizes")
    spawn_cells = _split(r, a["spawn_cells"], a["spawn_sizes"], len(spawns), "world.spawn_sizes")
    n_cells = a["tiles"].size
    limits.MAX_MAP_CELLS.check(n_cells, r.source, "world.tiles")
    for name in ("room_cells", "spawn_cells", "door_cells", "stair_links"):
        if a[name].size and (a[name].min() < 0 or a[name].max() >= n_cells):
            raise r.error("cells outside the map", f"world.{name}")
    rooms = []
    for i, (m, cells) in enumerate(zip(rooms_meta, room_cells, strict=True)):
        _typed(r, m, dict, f"world.rooms.{i}")
        _keys(r, m, {"name", "floor", "kind"}, f"world.rooms.{i}")
        _typed(r, m["name"], str, f"world.rooms.{i}.name")
        _typed(r, m["kind"], str, f"world.rooms.{i}.kind")
        _int_in(r, m["floor"], 0, len(floors), f"world.rooms.{i}.floor")
        rooms.append(Room(i, m["name"], m["floor"], m["kind"], cells))
    try:
        return World(
            meta["name"],
            floors,
            a["tiles"],
            a["room_id"],
            rooms,
            a["door_cells"],
            a["door_state"],
            a["door_strength"],
            a["stair_links"],
            dict(zip(spawns, spawn_cells, strict=True)),
        )
    except (ValueError, IndexError, TypeError) as exc:
        raise r.error(f"not a valid map: {exc}", "world") from None


def _read_pop(r: _Reader, n_cells: int) -> Population:
    meta = r.get("pop", dict)
    _keys(r, meta, {"role_names", "characters"}, "pop")
    role_names = _str_list(r, meta["role_names"], "pop.role_names")
    characters = _typed(r, meta["characters"], dict, "pop.characters")
    state = r.array("pop.state", "int8", 1)
    n = state.size
    limits.MAX_AGENTS.check(n, r.source, "pop.state")
    arrays = {"state": state}
    for name, (dtype, tail) in POP_ARRAYS.items():
        if name != "state":
            arrays[name] = r.array(f"pop.{name}", dtype, shape=(n, *tail))
    arrays = {k: v.copy() for k, v in arrays.items()}  # the kernels write them
    sizes = {"n": n, "cells": n_cells, "roles": len(role_names), "states": N_STATES}
    for key in BOUNDS:
        if key.startswith("pop."):
            _bounds(r, key, arrays[key[4:]], sizes)
    chars = {}
    for key, value in characters.items():
        if not key.isdigit() or not int(key) < n:
            raise r.error("not an agent id", f"pop.characters.{key[:20]}")
        chars[int(key)] = _typed(r, value, str, f"pop.characters.{key}")
    return Population(role_names=list(role_names), characters=chars, **arrays)


def _param_value(prm: Params, name: str) -> Any:
    """A field of Params as JSON holds it: ``mech`` (the mechanics' keys, a record by name) as a
    table of its fields."""
    value = getattr(prm, name)
    if name == "mech":
        return dict(zip(value._fields, value, strict=True)) if value else {}
    return value


def _read_params(r: _Reader, sc) -> Params:
    raw = r.get("prm", dict)
    _keys(r, raw, set(Params._fields), "prm")
    hints = typing.get_type_hints(Params)
    values = {}
    for name in Params._fields:
        if name == "mech":
            continue
        kind = hints[name]
        accepted = (int, float) if kind is float else (kind,)
        values[name] = kind(_typed(r, raw[name], accepted, f"prm.{name}"))
    # The mechanics' keys are the scenario's, in kernel units: rebuilt from it, and the stored
    # values must be those.
    mech = kernel_params(sc.mechanic_list(), sc.mechanic_values(), float(sc.tick_seconds))
    want = dict(zip(mech._fields, mech, strict=True)) if mech else {}
    stored = _typed(r, raw["mech"], dict, "prm.mech")
    _keys(r, stored, set(want), "prm.mech")
    for key, value in want.items():
        if _typed(r, stored[key], (bool, int, float), f"prm.mech.{key}") != value:
            raise r.error("differs from the scenario's value", f"prm.mech.{key}")
    values["mech"] = mech
    return Params(**values)


def _read_rng(r: _Reader, names: tuple[str, ...]) -> dict[str, np.random.Generator]:
    raw = r.get("rng", dict)
    _keys(r, raw, set(names), "rng")
    out = {}
    for name in names:
        g = default_rng(0)
        state = _typed(r, raw[name], dict, f"rng.{name}")
        if state.get("bit_generator") != type(g.bit_generator).__name__:
            raise r.error(f"expected a {type(g.bit_generator).__name__} state", f"rng.{name}")
        try:
            g.bit_generator.state = state
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            raise r.error(f"not a generator state ({type(exc).__name__})", f"rng.{name}") from None
        out[name] = g
    return out


def _read_run(r: _Reader, reference: Run, n: int, n_cells: int) -> Run:
    """The saved values copied into ``reference`` (a fresh Run of the same scenario, world and
    population), each leaf checked against the reference's dtype and shape, and the ones that
    index against their bounds (:data:`BOUNDS`)."""
    sizes = {"n": n, "cells": n_cells, "door_states": len(DoorState)}
    for name, ref in _leaves(reference, "run"):
        if _run_saved(name):
            value = r.array(name, ref.dtype.str, shape=ref.shape)
            if name in BOUNDS:
                _bounds(r, name, value, sizes)
            np.copyto(ref, value)
    return reference


def _read_timeline(r: _Reader, sim: Simulation) -> Timeline:
    raw = r.get("timeline", dict)
    _keys(r, raw, {"pending", "seeking"}, "timeline")
    events = sim.scenario.events
    fresh = Timeline(sim)
    pending = []
    by_index = {p.index: p for p in fresh.pending}
    for k, item in enumerate(_typed(r, raw["pending"], list, "timeline.pending")):
        field = f"timeline.pending.{k}"
        _typed(r, item, dict, field)
        _keys(r, item, {"index", "tick", "waiting"}, field)
        index = _int_in(r, item["index"], 0, len(events), f"{field}.index")
        tick = _typed(r, item["tick"], (int, type(None)), f"{field}.tick")
        waiting = _typed(r, item["waiting"], bool, f"{field}.waiting")
        if (
            index not in by_index
            or (waiting and events[index].when is None)
            or (tick is None and not waiting)
        ):
            raise r.error("not a pending event of the scenario", field)
        p = by_index.pop(index)
        p.tick = tick
        p.when = parse_condition(events[index].when) if waiting else None
        pending.append(p)
    fresh.pending = pending
    for k, item in enumerate(_typed(r, raw["seeking"], list, "timeline.seeking")):
        field = f"timeline.seeking.{k}"
        _typed(r, item, dict, field)
        _keys(r, item, {"agent", "goals"}, field)
        agent = _int_in(r, item["agent"], 0, sim.pop.n, f"{field}.agent")
        cells = r.array(f"{field}.cells", "int64", 1).copy()
        if cells.size and (cells.min() < 0 or cells.max() >= sim.world.n_cells):
            raise r.error("cells outside the map", f"{field}.cells")
        fresh.seeking.append((agent, cells, _str_list(r, item["goals"], f"{field}.goals")))
    return fresh


def _read_recorder(r: _Reader, pop: Population, n_cells: int, tick: int) -> Recorder:
    raw = r.get("recorder", dict)
    _keys(r, raw, {"frame_every", "frame_ticks"}, "recorder")
    rec = Recorder(_int_in(r, raw["frame_every"], 1, 2**31, "recorder.frame_every"))
    ticks = _typed(r, raw["frame_ticks"], list, "recorder.frame_ticks")
    for i, t in enumerate(ticks):
        _int_in(r, t, 0, tick + 1, f"recorder.frame_ticks.{i}")
    a = {}
    for name, (dtype, ndim) in RECORD_ARRAYS.items():
        a[name] = r.array(f"recorder.{name}", dtype, ndim)
    sizes = {"n": pop.n, "cells": n_cells, "states": N_STATES}
    for name in ("frame_cells", "frame_states", "frame_modes"):
        if a[name].shape != (len(ticks), pop.n):
            raise r.error(f"shape {a[name].shape}, expected {(len(ticks), pop.n)}", f"recorder.{name}")
        if f"recorder.{name}" in BOUNDS:
            _bounds(r, f"recorder.{name}", a[name], sizes)
    lengths = {a[f"events_{c}"].size for c in ("tick", "kind", "a", "b", "cell")}
    if len(lengths) != 1:
        raise r.error("event columns of different lengths", "recorder.events_tick")
    rec.frame_ticks = list(ticks)
    rec.frame_cells = list(a["frame_cells"])
    rec.frame_states = list(a["frame_states"])
    rec.frame_modes = list(a["frame_modes"])
    if a["events_tick"].size:
        rec._events = [tuple(a[f"events_{c}"] for c in ("tick", "kind", "a", "b", "cell"))]
    return rec


def _payload(path: Path) -> tuple[bytes, str]:
    source = str(path)
    data = read_bytes(path, source=source)
    head, _, payload = data.partition(b"\n")
    parts = head.decode("ascii", "replace").split(" ")
    if parts[0] in PICKLED:
        raise HyosanError(
            f"a checkpoint of an older hyosan ({parts[0]}, a pickle): not read, as a pickle can run code; "
            "make a new one with `hyosan run SCENARIO --checkpoint-at HH:MM`",
            source=source,
        )
    if len(parts) != 3 or parts[0] != FORMAT:
        raise HyosanError("not a hyosan checkpoint", source=source)
    if parts[1] != __version__:
        raise HyosanError(
            f"a checkpoint of hyosan {parts[1]}; this is {__version__}: rerun to make a new one",
            source=source,
        )
    if hashlib.sha256(payload).hexdigest() != parts[2]:
        raise HyosanError("damaged checkpoint (its checksum does not match)", source=source)
    return payload, source


def read_checkpoint(path: str | Path, cls: type, trust_behaviours: bool = False) -> Simulation:
    """The simulation saved at ``path``, ready to continue (``cls``: the Simulation class).

    Every field is read by its declared name and checked; anything else raises a one-line
    :class:`HyosanError` naming the file and the field."""
    from hyosan.engine import STREAMS  # the engine imports this module

    payload, source = _payload(Path(path))
    r = _Reader(payload, source)
    fmt = r.get("format", str)
    version = r.get("version", str)
    if fmt != FORMAT or version != __version__:
        raise r.error(f"{fmt} of hyosan {version} inside a {FORMAT} file of {__version__}", "format")
    sim = cls.__new__(cls)
    sim.loaded = _read_loaded(r, trust_behaviours)
    sim.scenario = sc = sim.loaded.scenario
    sim.n_ticks, sim.tick_seconds = sc.n_ticks, sc.tick_seconds
    sim.seed = _int_in(r, r.get("seed", int), 0, 2**63, "seed")
    sim.tick = _int_in(r, r.get("tick", int), 0, sim.n_ticks + 1, "tick")
    sim.world = _read_world(r)
    sim.pop = _read_pop(r, sim.world.n_cells)
    sim.goal_areas = _str_list(r, r.get("goal_areas", list), "goal_areas")
    sim.prm = _read_params(r, sc)
    sim.rng = _read_rng(r, STREAMS)
    sim.user_systems = []
    try:
        reference = build_run(sc, sim.world, sim.pop, np.ones(4, np.uint64), np.ones(4, np.uint64))
    except (ValueError, IndexError) as exc:
        raise r.error(f"the population does not fit the map ({exc})", "pop") from None
    sim.arrays = _read_run(r, reference, sim.pop.n, sim.world.n_cells)
    # The rooms' doors, as room_doors(world) gives them: the CSR build_run made from it.
    start, idx = reference.world.room_door_start, reference.world.room_door_idx
    sim.room_doors = [idx[start[i] : start[i + 1]].tolist() for i in range(len(start) - 1)]
    sim.timeline = _read_timeline(r, sim)
    sim.recorder = _read_recorder(r, sim.pop, sim.world.n_cells, sim.tick)
    r.finish()
    sim.advance = tick_kernel(sc.behaviour, None, sim.loaded.source)
    return sim


def load_checkpoint(path: str | Path, cls: type, trust_behaviours: bool = False) -> Simulation:
    """The simulation saved at ``path`` (see :func:`read_checkpoint`)."""
    return read_checkpoint(path, cls, trust_behaviours)


def check_checkpoint(path: str | Path) -> None:
    """Read the checkpoint at ``path`` as a restore would (nothing runs); raise a one-line
    HyosanError naming the file and field at fault (``hyosan verify``)."""
    from hyosan.engine import Simulation  # the engine imports this module

    read_checkpoint(path, Simulation, trust_behaviours=True)


#: Scenario sections a branch may not change: what was built at the start (the map, the
#: population, the clock) is the shared past.
FIXED_AT_BRANCH = ("world", "clock", "roles", "population", "scenario", "run", "goals")


def fork(sim: Simulation, seed: int, overrides: dict[str, str] | None = None) -> Simulation:
    """From now on, another future: fresh random streams from ``seed`` (the kernels' movement
    and contact streams, and the Python-side ones), and ``overrides`` (``--set`` values)
    taking effect now.

    Overrides may change the parameters (zombies, halfbies, infection, behaviour) and the
    timeline: an event not fired yet moves (a cordon an hour earlier: ``events.5.at=09:10``, or
    earlier than now: it fires at once); an event that fired stays in the past. What the
    population drew at the start (incubation times, who turns halfbie) is the shared past too.
    """
    children = SeedSequence([int(seed), sim.tick]).spawn(len(sim.rng) + 2)
    for (name, _), child in zip(sorted(sim.rng.items()), children, strict=False):
        sim.rng[name] = default_rng(child)
    sim.arrays.rng_move[:] = stream(children[-2])
    sim.arrays.rng_contact[:] = stream(children[-1])
    if overrides:
        _apply(sim, overrides)
    return sim


def _apply(sim: Simulation, overrides: dict[str, str]) -> None:
    for key in overrides:
        if key.split(".")[0] in FIXED_AT_BRANCH:
            raise HyosanError(
                f"cannot change after the branch point (one of {', '.join(FIXED_AT_BRANCH)})",
                source="--set",
                field=key,
            )
    raw = sim.scenario.model_dump(mode="json")
    new = validate(apply_overrides(raw, overrides), sim.loaded.source)
    sim.loaded = replace(sim.loaded, scenario=new)
    sim.scenario = new
    sim.prm = project_params(new, sim.world, cordon=sim.prm.cordon)
    sim.advance = tick_kernel(new.behaviour, None, sim.loaded.source)
    pending = {p.index for p in sim.timeline.pending}
    fresh = Timeline(sim)
    fresh.pending = [p for p in fresh.pending if p.index in pending]
    for p in fresh.pending:  # an event moved before now fires at the next step
        if p.tick is not None and p.tick < sim.tick:
            p.tick = sim.tick
    sim.timeline = fresh
    sim.arrays.flags.routes_changed[0] = 1
