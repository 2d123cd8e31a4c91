"""What the replay draws besides the dots: room labels, doors, the helicopter, the markers.

Everything here reads a :class:`~hyosan.results.result.Result` (and, for the doors' states at the
start, the map file the run copied into its folder) and returns plain lists and arrays for
:func:`hyosan.report.replay.replay_payload`.

Door states are rebuilt from the events: each door starts as the map has it; a ``door_open``
event opens it, ``door_shut`` shuts it (a human about to barricade it), ``barricade``
barricades it, ``door_breach`` breaks it; a timeline ``lock``, ``unlock``, ``open``, ``close``
or ``barricade`` event sets the doors of its area (everywhere, a room by name, or
``kind:...``). Every change of a door's state is one of these, so the replay's doors are exact.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hyosan.errors import HyosanError
from hyosan.world import load_map
from hyosan.world.tiles import DoorState, Tile

if TYPE_CHECKING:
    from hyosan.results.result import Result

#: Door state codes in the payload (index = code); the replay draws closed and locked as "shut".
DOOR_STATE_NAMES = [s.name.lower() for s in DoorState]
_DOOR_EVENT_STATE = {
    "door_open": DoorState.OPEN,
    "door_shut": DoorState.CLOSED,
    "barricade": DoorState.BARRICADED,
    "door_breach": DoorState.BROKEN,
}
_TIMELINE_DOOR_STATE = {
    "lock": DoorState.LOCKED,
    "unlock": DoorState.CLOSED,
    "open": DoorState.OPEN,
    "close": DoorState.CLOSED,
    "barricade": DoorState.BARRICADED,
}
#: How long the helicopter is drawn at a rescue, in seconds from the moment it lands.
HELICOPTER_S = 300.0

#: Marker kind of each milestone key (by its first word): the replay colours markers by kind.
_MILESTONE_KIND = {"first": None, "infected": "spread", "last": "floor lost", "no": "end"}


def room_labels(result: Result) -> list[dict[str, Any]]:
    """One label per room (corridors need none): its name and the room tile nearest its centre."""
    rid = result.world.room_id
    out = []
    names = result.world.rooms["name"].astype(str).tolist()
    kinds = result.world.rooms["kind"].astype(str).tolist()
    for k, name in enumerate(names):
        if kinds[k] == "corridor":
            continue
        f, y, x = np.nonzero(rid == k)
        if f.size == 0:
            continue
        floor = int(np.bincount(f).argmax())  # a room on one floor (the most of it, if not)
        on = f == floor
        ys, xs = y[on], x[on]
        j = int(np.argmin((ys - ys.mean()) ** 2 + (xs - xs.mean()) ** 2))
        out.append(
            {
                "name": name,
                "floor": floor,
                "x": int(xs[j]),
                "y": int(ys[j]),
                "size": int(on.sum()),
                "w": int(xs.max() - xs.min() + 1),
            }
        )
    return out


def _map_path(result: Result) -> Path | None:
    path = result.extra.get("map_path")
    if path and Path(path).is_file():
        return Path(path)
    folder = result.extra.get("folder")
    if folder:
        try:
            name = tomllib.loads(result.scenario_toml)["world"]["map"]
        except (tomllib.TOMLDecodeError, KeyError, TypeError):
            return None
        candidate = Path(folder) / Path(str(name)).name
        if candidate.is_file():
            return candidate
    return None


def initial_door_states(result: Result, door_cells: np.ndarray) -> np.ndarray | None:
    """The doors' states at the start, from the world or the run's map; None if unknown."""
    known = getattr(result.world, "door_state", None)
    if known is not None and len(known) == len(door_cells):
        return np.asarray(known, dtype=np.uint8)
    path = _map_path(result)
    if path is None:
        return None
    try:
        world = load_map(path)
    except (HyosanError, OSError, ValueError):
        return None
    if not np.array_equal(np.asarray(world.door_cells), door_cells):
        return None  # the map changed since the run
    return np.asarray(world.door_state, dtype=np.uint8)


def _area_doors(result: Result, area: str | None, door_cells: np.ndarray) -> np.ndarray:
    """Indices of the doors of a timeline event's area: all, a room by name, or ``kind:...``."""
    if area in (None, "*"):
        return np.arange(door_cells.size)
    rooms = result.world.rooms
    if area.startswith("kind:"):
        ids = rooms.loc[rooms["kind"] == area[5:], "id"].to_numpy()
    else:
        ids = rooms.loc[rooms["name"] == area, "id"].to_numpy()
    if ids.size == 0:
        return np.zeros(0, dtype=np.int64)
    _, h, w = result.world.shape
    inside = np.isin(result.world.room_id.ravel(), ids)
    f, rest = np.divmod(door_cells, h * w)
    y, x = np.divmod(rest, w)
    touch = np.zeros(door_cells.size, dtype=bool)
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        yy, xx = np.clip(y + dy, 0, h - 1), np.clip(x + dx, 0, w - 1)
        touch |= inside[f * h * w + yy * w + xx]
    return np.flatnonzero(touch)


def door_frames(result: Result) -> tuple[np.ndarray, np.ndarray]:
    """Door cells (D,) and their states at every frame (D, F) as :class:`DoorState` codes.

    A door whose first state is unknown (no map to read it from) starts closed.
    """
    door_cells = np.flatnonzero(result.world.tiles.ravel() == Tile.DOOR)
    times = result.frame_ticks * result.tick_seconds
    n_frames = times.size
    states = np.empty((door_cells.size, n_frames), dtype=np.uint8)
    if door_cells.size == 0:
        return door_cells, states
    current = initial_door_states(result, door_cells)
    current = np.full(door_cells.size, DoorState.CLOSED, np.uint8) if current is None else current.copy()
    changes: list[tuple[float, np.ndarray, int]] = []
    ev = result.events
    for row in ev[ev["kind"].isin(list(_DOOR_EVENT_STATE))].itertuples():
        if 0 <= row.door < door_cells.size:
            changes.append((float(row.time_s), np.array([row.door]), int(_DOOR_EVENT_STATE[row.kind])))
    for item in result.timeline:
        new = _TIMELINE_DOOR_STATE.get(item["kind"])
        if new is not None and item["fired_s"] is not None:
            changes.append((float(item["fired_s"]), _area_doors(result, item["area"], door_cells), int(new)))
    changes.sort(key=lambda c: c[0])
    k = 0
    for f in range(n_frames):
        # A frame at tick t shows the state before tick t runs: events of tick t come after it.
        while k < len(changes) and changes[k][0] < times[f] - 1e-9:
            _, ids, new = changes[k]
            if new != DoorState.BROKEN:
                ids = ids[current[ids] != DoorState.BROKEN]  # a broken door stays broken
            current[ids] = new
            k += 1
        states[:, f] = current
    return door_cells, states


def helicopters(result: Result) -> list[dict[str, Any]]:
    """Where and when the helicopter is drawn: one entry per rescue that lifted someone off."""
    ev = result.events
    out = []
    for item in result.timeline:
        if item["kind"] != "rescue" or item["fired_s"] is None:
            continue
        t = float(item["fired_s"])
        lifted = ev[(ev["kind"] == "rescue") & (ev["time_s"] == t)]
        if len(lifted):  # where the lifted stood
            floor_name = lifted["floor"].mode().iloc[0]
            here = lifted[lifted["floor"] == floor_name]
            floor = result.world.floors.index(str(floor_name))
            x, y = float(here["x"].astype(float).mean()), float(here["y"].astype(float).mean())
        else:  # nobody left to lift: it lands in the middle of its area all the same
            room = next((r for r in room_labels(result) if r["name"] == item["area"]), None)
            if room is None:
                continue
            floor, x, y = room["floor"], float(room["x"]), float(room["y"])
        out.append(
            {
                "floor": floor,
                "x": x,
                "y": y,
                "from_s": t,
                "to_s": t + HELICOPTER_S,
                "label": item["text"] or "helicopter",
            }
        )
    return out


def _floor_of(result: Result, name: Any) -> int:
    if name is None or (isinstance(name, float) and math.isnan(name)) or name is pd.NA:
        return -1
    try:
        return result.world.floors.index(str(name))
    except ValueError:
        return -1


def markers(result: Result, milestones: pd.DataFrame) -> list[dict[str, Any]]:
    """The timeline's markers: milestones and the named characters' bites and turns.

    Each has ``time_s``, ``label``, ``kind`` (its colour in the replay), ``floor`` (-1: the whole
    building) and ``agent`` (-1: nobody in particular), so a click can show where it happened.
    """
    ev = result.events
    out = []
    bites = ev[ev["kind"] == "bite"]
    for m in milestones.itertuples():
        if pd.isna(m.time_s):
            continue
        key = str(m.key)
        word = key.split("_")[0]
        kind = _MILESTONE_KIND.get(word, word)
        floor, agent = -1, -1
        if key in ("first_bite", "first_turn"):
            kind = key.split("_")[1]
            row = ev[ev["kind"] == kind].head(1)
            if len(row):
                floor = _floor_of(result, row["floor"].iloc[0])
                agent = int(row["b"].iloc[0] if kind == "bite" else row["a"].iloc[0])
        elif word == "infected":
            at = bites[bites["time_s"] == m.time_s].head(1)
            if len(at):
                floor = _floor_of(result, at["floor"].iloc[0])
        elif word == "last":
            floor = _floor_of(result, key.removeprefix("last_human_"))
        else:
            fired = ev[(ev["kind"] == "scenario") & (ev["time_s"] == m.time_s) & ev["floor"].notna()]
            lifted = ev[(ev["kind"] == "rescue") & (ev["time_s"] == m.time_s)]
            where = lifted if len(lifted) else fired
            if len(where):
                floor = _floor_of(result, where["floor"].mode().iloc[0])
        out.append(
            {"time_s": float(m.time_s), "label": str(m.label), "kind": kind, "floor": floor, "agent": agent}
        )
    chars = set(result.agents.loc[result.agents["character"], "agent"].tolist())
    for row in ev[(ev["kind"] == "bite") & ev["b"].isin(chars)].itertuples():
        out.append(
            {
                "time_s": float(row.time_s),
                "label": f"{row.b_name} is bitten",
                "kind": "character",
                "floor": _floor_of(result, row.floor),
                "agent": int(row.b),
            }
        )
    for row in ev[(ev["kind"] == "turn") & ev["a"].isin(chars)].itertuples():
        out.append(
            {
                "time_s": float(row.time_s),
                "label": f"{row.a_name} turns",
                "kind": "character",
                "floor": _floor_of(result, row.floor),
                "agent": int(row.a),
            }
        )
    merged: dict[float, dict] = {}  # one marker per moment: several at once would hide each other
    for m in sorted(out, key=lambda m: m["time_s"]):
        if m["time_s"] in merged:
            if m["label"] not in merged[m["time_s"]]["label"]:
                merged[m["time_s"]]["label"] += "; " + m["label"]
            if merged[m["time_s"]]["floor"] < 0:
                merged[m["time_s"]]["floor"] = m["floor"]
        else:
            merged[m["time_s"]] = dict(m)
    return list(merged.values())
