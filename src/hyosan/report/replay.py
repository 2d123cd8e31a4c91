"""The animated replay of a run, for the self-contained HTML report.

:func:`replay_payload` packs a run's map and frames into a compact JSON-able dict; the page embeds
it with :func:`embed_json` in ``<script type="application/json" id="replay-data">`` beside the
markup of :func:`replay_html`, the style of :func:`replay_css` and the script of :func:`replay_js`
(plain ES2020, no libraries, nothing fetched: the page works from ``file://``).
:func:`replay_page` assembles a standalone page holding only the replay.

Payload format (``"format": "hyosan-replay/3"``)::

    floors, height, width   int: L, H, W of the map
    floor_names             [str] * L
    tiles                   base64(zlib(uint8 (L, H, W) tile codes, C order))
    tile_names              [str]: name of each tile code (index = code)
    agents, frames          int: N, F
    times_s                 [float] * F: seconds since time 0
    clock_start_s           float: seconds since midnight of time 0
    cells                   base64(zlib(int32 little-endian (N, F) agent-major, delta-coded along
                            time: d[i, 0] = cell[i, 0], d[i, t] = cell[i, t] - cell[i, t-1])));
                            a cell is floor*H*W + y*W + x, -1 = off the map (so are
                            the escaped and rescued, whatever cell the input gave them)
    states                  base64(zlib(int8 (N, F) agent-major state codes))
    state_names             [str]: name of each state code (index = code)
    names, roles, fates     [str] * N: display text (shown with textContent, never as HTML)
    markers                 [{time_s, label, kind, frame, floor, agent}]: frame = the first frame
                            at or after time_s (the last frame if none), where clicking the
                            marker jumps; floor (-1: none) the floor it shows; agent (-1: none)
                            the agent it is about (selected on a click)
    characters              [int]: the named characters (drawn apart, and offered to follow)
    rooms                   [{name, floor, x, y, size, w}]: where each room's label is drawn
                            (w: the room's width in tiles, 0 if unknown)
    door_cells              [int] * D: flat cell of each door
    doors                   base64(zlib(uint8 (D, F) door-major door state codes))
    door_state_names        [str]: name of each door state code (open, closed, locked, ...)
    helicopters             [{floor, x, y, from_frame, to_frame, label}]: drawn over those frames
    room_ids                base64(zlib(int16 little-endian (L, H, W) room index, -1 none)), or ""
    room_names              [str]: name of each room index (the clicked agent's card says where it is)
    bitten_by, bitten_s     [str] * N, [float | null] * N: who bit each agent and when (seconds
                            since time 0; null: never bitten; "" : nobody named)
    palette                 hyosan.palette.palette(): the colours of states and tiles

The browser inflates the arrays with ``DecompressionStream('deflate')``.
"""

from __future__ import annotations

import base64
import html
import json
import math
import zlib
from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import Any

import numpy as np

from hyosan.palette import palette, palette_json
from hyosan.world.tiles import Tile

FORMAT = "hyosan-replay/3"
#: zlib level of the arrays: 4 packs a 6-hour run of Hyosan High (2,161 frames of 1,017 agents)
#: into 1.5 MB in about 0.1 s; 6 is twice as slow and no smaller, 9 fifteen times as slow for 2 %.
ZLIB_LEVEL = 4
#: States whose agents are drawn nowhere (their cell becomes -1 in the payload).
OFF_MAP_STATES = ("escaped", "rescued")

_SCRIPT_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def _pack(array: np.ndarray) -> str:
    return base64.b64encode(zlib.compress(np.ascontiguousarray(array).tobytes(), ZLIB_LEVEL)).decode("ascii")


def unpack(text: str, dtype: Any, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of the payload's array encoding (``tiles``, ``states``; ``cells`` stays delta-coded)."""
    return np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype=dtype).reshape(shape)


def decode_cells(payload: Mapping[str, Any]) -> np.ndarray:
    """The payload's cells as a (F, N) int32 array, like the ``frame_cells`` it was built from."""
    deltas = unpack(payload["cells"], "<i4", (payload["agents"], payload["frames"]))
    return np.cumsum(deltas, axis=1, dtype=np.int32).T


def decode_states(payload: Mapping[str, Any]) -> np.ndarray:
    """The payload's states as a (F, N) int8 array."""
    return unpack(payload["states"], np.int8, (payload["agents"], payload["frames"])).T


def _strings(values: Sequence[Any], n: int, what: str) -> list[str]:
    out = [str(v) for v in values]
    if len(out) != n:
        raise ValueError(f"replay: {what} has {len(out)} entries for {n} agents")
    return out


def replay_payload(
    tiles: np.ndarray,
    floor_names: Sequence[str],
    frame_times_s: Sequence[float] | np.ndarray,
    frame_cells: np.ndarray,
    frame_states: np.ndarray,
    names: Sequence[str],
    roles: Sequence[str],
    fates: Sequence[str],
    markers: Sequence[Mapping[str, Any]],
    state_names: Sequence[str],
    clock_start_s: float,
    *,
    characters: Sequence[int] = (),
    rooms: Sequence[Mapping[str, Any]] = (),
    door_cells: Sequence[int] | np.ndarray = (),
    door_states: np.ndarray | None = None,
    door_state_names: Sequence[str] = (),
    helicopters: Sequence[Mapping[str, Any]] = (),
    room_ids: np.ndarray | None = None,
    room_names: Sequence[str] = (),
    bitten_by: Sequence[str] | None = None,
    bitten_s: Sequence[float | None] | np.ndarray | None = None,
) -> dict[str, Any]:
    """Pack a run's map and frames into the replay's JSON-able payload (format in the module doc).

    ``tiles`` is (L, H, W) tile codes; ``frame_cells`` (F, N) flat cells (-1 off the map) and
    ``frame_states`` (F, N) state codes at ``frame_times_s`` (F,) seconds since time 0. Agents
    in an :data:`OFF_MAP_STATES` state are put off the map. ``door_states`` is (D, F) codes of
    the ``door_cells`` (D,) at each frame. ``room_ids`` (L, H, W) gives each tile's index in
    ``room_names`` (-1: none); ``bitten_by`` and ``bitten_s`` who bit each agent and when (NaN or
    None: never). Raises ValueError on inconsistent input.
    """
    tiles = np.asarray(tiles)
    if tiles.ndim == 2:
        tiles = tiles[None]
    if tiles.ndim != 3:
        raise ValueError(f"replay: tiles must be (floors, height, width), got shape {tiles.shape}")
    n_floors, height, width = tiles.shape
    if len(floor_names) != n_floors:
        raise ValueError(f"replay: {len(floor_names)} floor names for {n_floors} floors")
    times = np.asarray(frame_times_s, dtype=np.float64).reshape(-1)
    cells = np.asarray(frame_cells)
    states = np.asarray(frame_states)
    n_frames = times.size
    if cells.ndim != 2 or cells.shape[0] != n_frames or states.shape != cells.shape:
        raise ValueError(
            f"replay: frame_cells {cells.shape} and frame_states {states.shape} must both be "
            f"(frames={n_frames}, agents)"
        )
    if n_frames == 0:
        raise ValueError("replay: no frames")
    if n_frames > 1 and np.any(np.diff(times) < 0):
        raise ValueError("replay: frame times must not decrease")
    n_agents = cells.shape[1]
    n_cells = n_floors * height * width
    if cells.size and (cells.min() < -1 or cells.max() >= n_cells):
        raise ValueError(f"replay: cells must lie in [-1, {n_cells})")
    if states.size and (states.min() < 0 or states.max() >= len(state_names)):
        raise ValueError(f"replay: state codes must lie in [0, {len(state_names)})")

    # Escaped and rescued agents are off the map, whatever cell the engine left them on.
    gone = [k for k, name in enumerate(state_names) if name in OFF_MAP_STATES]
    if gone:
        cells = np.where(np.isin(states, gone), -1, cells)
    agent_major = np.ascontiguousarray(cells.T, dtype="<i4")
    deltas = np.empty_like(agent_major)
    deltas[:, :1] = agent_major[:, :1]
    np.subtract(agent_major[:, 1:], agent_major[:, :-1], out=deltas[:, 1:])

    def frame_at(t: float) -> int:
        return min(int(np.searchsorted(times, t - 1e-9, side="left")), n_frames - 1)

    marker_list = []
    for m in markers:
        t = float(m["time_s"])
        marker_list.append(
            {
                "time_s": t,
                "label": str(m["label"]),
                "kind": str(m["kind"]),
                "frame": frame_at(t),
                "floor": int(m.get("floor", -1)),
                "agent": int(m.get("agent", -1)),
            }
        )
    marker_list.sort(key=lambda m: m["time_s"])
    chars = [int(i) for i in characters]
    if any(not 0 <= i < n_agents for i in chars):
        raise ValueError(f"replay: characters must be agents in [0, {n_agents})")
    door_cells = np.asarray(door_cells, dtype=np.int64).reshape(-1)
    doors = (
        np.zeros((door_cells.size, n_frames), np.uint8) if door_states is None else np.asarray(door_states)
    )
    if doors.shape != (door_cells.size, n_frames):
        raise ValueError(
            f"replay: door_states {doors.shape} must be (doors={door_cells.size}, frames={n_frames})"
        )
    if door_cells.size and (door_cells.min() < 0 or door_cells.max() >= n_cells):
        raise ValueError(f"replay: door cells must lie in [0, {n_cells})")
    room_list = [
        {
            "name": str(r["name"]),
            "floor": int(r["floor"]),
            "x": int(r["x"]),
            "y": int(r["y"]),
            "size": int(r.get("size", 1)),
            "w": int(r.get("w", 0)),
        }
        for r in rooms
    ]
    heli_list = [
        {
            "floor": int(h["floor"]),
            "x": float(h["x"]),
            "y": float(h["y"]),
            "label": str(h["label"]),
            "from_frame": frame_at(float(h["from_s"])),
            "to_frame": frame_at(float(h["to_s"])),
        }
        for h in helicopters
    ]
    if room_ids is None:
        rooms_packed = ""
    else:
        room_ids = np.asarray(room_ids)
        if room_ids.shape != tiles.shape:
            raise ValueError(f"replay: room_ids {room_ids.shape} must have the shape of tiles {tiles.shape}")
        if room_ids.size and (room_ids.min() < -1 or room_ids.max() >= len(room_names)):
            raise ValueError(f"replay: room ids must lie in [-1, {len(room_names)})")
        rooms_packed = _pack(room_ids.astype("<i2"))
    by = _strings(bitten_by if bitten_by is not None else [""] * n_agents, n_agents, "bitten_by")
    when = np.full(n_agents, np.nan) if bitten_s is None else np.asarray(bitten_s, dtype=np.float64)
    if when.shape != (n_agents,):
        raise ValueError(f"replay: bitten_s has {when.size} entries for {n_agents} agents")

    return {
        "format": FORMAT,
        "floors": int(n_floors),
        "height": int(height),
        "width": int(width),
        "floor_names": [str(n) for n in floor_names],
        "tiles": _pack(tiles.astype(np.uint8, copy=False)),
        "tile_names": [t.name.lower() for t in Tile],
        "agents": int(n_agents),
        "frames": int(n_frames),
        "times_s": [round(float(t), 3) for t in times],
        "clock_start_s": float(clock_start_s),
        "cells": _pack(deltas),
        "states": _pack(np.ascontiguousarray(states.T, dtype=np.int8)),
        "state_names": [str(s) for s in state_names],
        "names": _strings(names, n_agents, "names"),
        "roles": _strings(roles, n_agents, "roles"),
        "fates": _strings(fates, n_agents, "fates"),
        "markers": marker_list,
        "characters": chars,
        "rooms": room_list,
        "door_cells": door_cells.tolist(),
        "doors": _pack(np.ascontiguousarray(doors, dtype=np.uint8)),
        "door_state_names": [str(n) for n in door_state_names],
        "helicopters": heli_list,
        "room_ids": rooms_packed,
        "room_names": [str(n) for n in room_names],
        "bitten_by": by,
        "bitten_s": [None if not math.isfinite(t) else round(float(t), 3) for t in when],
        "palette": palette(),
    }


def _jsonable(obj: Any) -> Any:
    """NumPy values as Python ones; NaN and infinities as None (JSON has no such numbers)."""
    if isinstance(obj, str | bool | int) or obj is None:
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    raise TypeError(f"embed_json: cannot serialise {type(obj).__name__}")


def embed_json(obj: Any) -> str:
    """``obj`` as JSON safe to place inside ``<script type="application/json">...</script>``.

    ``<``, ``>`` and ``&`` (and the line separators U+2028/9) are written as ``\\u003c``-style
    escapes, so no string can close the script element or open a comment; ``JSON.parse`` reads
    them back unchanged. NumPy arrays and scalars are converted; NaN and infinities become null.
    """
    text = json.dumps(_jsonable(obj), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_SCRIPT_ESCAPES)


def _resource(name: str) -> str:
    return files("hyosan.report").joinpath(name).read_text(encoding="utf-8")


def replay_js() -> str:
    """The replay's script (reads ``#replay-data``, builds the player in ``#replay``)."""
    return _resource("replay.js")


def replay_css() -> str:
    """The replay's style sheet (every rule is scoped under ``.replay``)."""
    return _resource("replay.css")


def replay_html() -> str:
    """The replay's container; the script builds the canvas and controls inside it."""
    return (
        '<div id="replay" class="replay" aria-label="Animated replay of the run">'
        '<noscript><p class="replay-noscript">The replay needs JavaScript.</p></noscript>'
        "</div>"
    )


def palette_script() -> str:
    """``<script type="application/json" id="hyosan-palette">``: hyosan/palette.py's colours, the
    page's one copy of them (the replay reads it when its payload carries none)."""
    text = palette_json().translate(_SCRIPT_ESCAPES)
    return f'<script type="application/json" id="hyosan-palette">{text}</script>'


def replay_data_script(payload: Mapping[str, Any]) -> str:
    """The ``<script type="application/json" id="replay-data">`` element holding ``payload``."""
    return f'<script type="application/json" id="replay-data">{embed_json(payload)}</script>'


#: A Content-Security-Policy for self-contained pages: inline style and script only, nothing
#: fetched (images may be data: or blob: URLs).
PAGE_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; connect-src 'none'; base-uri 'none'; form-action 'none'"
)


def replay_page(payload: Mapping[str, Any], title: str = "hyosan replay") -> str:
    """A standalone, self-contained HTML page holding only the replay of ``payload``."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{PAGE_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>\nbody{{font-family:system-ui,sans-serif;margin:1rem auto;max-width:75rem;padding:0 1rem}}\n"
        f"{replay_css()}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        f"{replay_html()}\n"
        f"{replay_data_script(payload)}\n"
        f"{palette_script()}\n"
        f"<script>\n{replay_js()}</script>\n"
        "</body>\n</html>\n"
    )
