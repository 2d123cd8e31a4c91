"""``hyosan studio``: a live local web app to build a scenario, run it and watch it respond.

Stack: Starlette (routes and a WebSocket) served by uvicorn, both small and well kept, in the
optional extra ``hyosan[studio]``. A WebSocket suits a live view: the page sends commands
(load, set, run, pause, step, reset, save, open) and the server pushes every update (the agents'
cells and states, the counts) as the simulation runs, with no polling. Solara or Panel would
bring a widget framework and a second way of drawing; here the page draws with a canvas like the
report's replay, and a finished run or an opened run folder is shown by the replay itself
(``replay.js``).

One session per open page: closing it (the WebSocket closes) stops its run. The server binds
127.0.0.1 unless told otherwise, and accepts WebSockets only from its own page's origin (a web
page elsewhere cannot drive it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import typing
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import uvicorn
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from hyosan import models
from hyosan.engine import Simulation
from hyosan.errors import HyosanError
from hyosan.io import atomic_dir
from hyosan.report.page import run_payload
from hyosan.report.replay import PAGE_CSP, embed_json, replay_css, replay_js
from hyosan.report.story import room_labels
from hyosan.results.result import WorldInfo
from hyosan.results.store import load, map_files
from hyosan.scenario import load_scenario
from hyosan.scenario.load import builtins
from hyosan.scenario.resolved import resolved_toml
from hyosan.scenario.timefmt import format_clock
from hyosan.states import STATE_NAMES
from hyosan.world.tiles import Tile

#: Sections of the scenario offered as controls (and every role's traits).
SECTIONS = ("zombies", "halfbies", "behaviour")
#: A unit at the start of a field's description ("m/s when chasing", "dB: sharp hearing").
UNIT = re.compile(r"^(m/s|dB|m|s|0-1)(?=[: ])")
#: Updates pushed per second at most while running.
UPDATES_PER_S = 12
#: Points of a compartment model's curve sent per update.
MODEL_POINTS_PER_UPDATE = 4


def _bounds(info) -> tuple[float | None, float | None]:
    lo = hi = None
    for meta in info.metadata:
        lo = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else lo
        lo = getattr(meta, "gt", None) if getattr(meta, "gt", None) is not None else lo
        hi = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else hi
        hi = getattr(meta, "lt", None) if getattr(meta, "lt", None) is not None else hi
    return lo, hi


def _control(key: str, info, value: Any) -> dict[str, Any] | None:
    """A control for one schema field: a number (with its bounds), a choice or a switch."""
    annotation = info.annotation
    description = info.description or ""
    found = UNIT.match(description)
    unit = found.group(1) if found else ""
    spec = {
        "key": key,
        "label": key.split(".")[-1].replace("_", " "),
        "help": description,
        "unit": unit,
        "value": value,
    }
    if annotation is bool:
        return {**spec, "kind": "bool"}
    if typing.get_origin(annotation) is typing.Literal:
        return {**spec, "kind": "choice", "choices": list(typing.get_args(annotation))}
    if annotation in (float, int):
        lo, hi = _bounds(info)
        return {**spec, "kind": "number", "min": lo, "max": hi, "step": 1 if annotation is int else "any"}
    return None


def scenario_controls(loaded) -> list[dict[str, Any]]:
    """Controls from the scenario schema, with units, ranges and the scenario's current values."""
    sc = loaded.scenario
    out = []
    for section in SECTIONS:
        model = type(getattr(sc, section))
        for name, info in model.model_fields.items():
            c = _control(f"{section}.{name}", info, getattr(getattr(sc, section), name))
            if c:
                out.append(c)
    for role, cfg in sc.roles.items():
        for name, info in type(cfg).model_fields.items():
            if name in ("label",):
                continue
            c = _control(f"roles.{role}.{name}", info, getattr(cfg, name))
            if c:
                out.append(c)
    out.append(
        {
            "key": "clock.duration",
            "label": "duration",
            "kind": "text",
            "unit": "",
            "help": "simulated time, e.g. 30min or 2h",
            "value": sc.clock.duration,
        }
    )
    return out


def model_controls(name: str) -> list[dict[str, Any]]:
    m = models.get(name)
    out = [
        {
            "key": p.name,
            "label": p.name,
            "kind": "number",
            "min": 0,
            "max": None,
            "step": "any",
            "value": p.default,
            "unit": "",
            "help": getattr(p, "description", "") or "",
        }
        for p in m.params
    ]
    out.append(
        {
            "key": "method",
            "label": "method",
            "kind": "choice",
            "choices": list(models.METHODS),
            "value": "ode",
            "unit": "",
            "help": "ode, exact stochastic (ssa) or tau-leaping",
        }
    )
    return out


def world_message(sim: Simulation) -> dict[str, Any]:
    w = sim.world
    tiles = np.asarray(w.tiles, dtype=np.uint8)
    rooms = pd.DataFrame(
        {
            "id": range(len(w.rooms)),
            "name": [r.name for r in w.rooms],
            "kind": [r.kind for r in w.rooms],
            "floor": [w.floors[r.floor] for r in w.rooms],
        }
    )
    info = WorldInfo(w.name, list(w.floors), tiles, w.room_id, rooms)
    labels = room_labels(SimpleNamespace(world=info))
    return {
        "type": "world",
        "floors": list(w.floors),
        "height": int(tiles.shape[1]),
        "width": int(tiles.shape[2]),
        "tiles": tiles.ravel().tolist(),
        "tile_names": [t.name.lower() for t in Tile],
        "state_names": list(STATE_NAMES),
        "rooms": labels,
        "clock_start_s": sim.scenario.start_seconds,
        "ticks": sim.n_ticks,
        "tick_s": sim.tick_seconds,
    }


@dataclass(eq=False)  # each page's session is itself (hashable by identity)
class Session:
    """One page's studio: what it is building and running."""

    socket: WebSocket
    out: Path
    choices: dict[str, str]
    target: str = ""
    overrides: dict[str, str] = field(default_factory=dict)
    seed: int = 0
    sim: Simulation | None = None
    model: Any = None  # a ModelResult being played out
    model_shown: int = 0
    task: asyncio.Task | None = None
    running: bool = False

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send_text(embed_json(message))

    async def error(self, message: str) -> None:
        await self.send({"type": "error", "message": message})

    # -- building -----------------------------------------------------------------------------
    async def load_target(self, target: str) -> None:
        await self.stop()
        if target not in self.choices:
            raise HyosanError(
                f"no such scenario or model (choose one of {', '.join(self.choices)})", source="studio"
            )
        self.target, self.overrides, self.model, self.sim = target, {}, None, None
        if target.startswith("model:"):
            await self.send({"type": "controls", "target": target, "controls": model_controls(target[6:])})
            await self.reset()
        else:
            loaded = await asyncio.to_thread(load_scenario, self.choices[target])
            await self.send({"type": "controls", "target": target, "controls": scenario_controls(loaded)})
            await self.reset()

    async def set_value(self, key: str, value: str) -> None:
        """Change one value; a bad one is refused (the message says why) and nothing changes."""
        value = str(value).strip()
        trial = {**self.overrides, key: value}
        if self.target.startswith("model:"):
            names = [p.name for p in models.get(self.target[6:]).params]
            if key == "method":
                if value not in models.METHODS:
                    raise HyosanError(
                        f"{value!r} is not a method; choose one of {', '.join(models.METHODS)}",
                        source="studio",
                        field="method",
                    )
            elif key not in names:
                raise HyosanError(f"no parameter {key!r} (parameters: {', '.join(names)})", source="studio")
            else:
                try:
                    number = float(value)
                except ValueError:
                    raise HyosanError(
                        f"expected a number, got {value!r}", source="studio", field=key
                    ) from None
                if not number >= 0:
                    raise HyosanError(f"must be at least 0, got {value}", source="studio", field=key)
        else:
            await asyncio.to_thread(load_scenario, self.choices[self.target], trial)  # validates
        self.overrides = trial
        await self.send({"type": "accepted", "key": key, "value": value})
        await self.reset()

    async def reset(self) -> None:
        await self.stop()
        if self.target.startswith("model:"):
            self.model, self.model_shown = None, 0
            await self.send({"type": "model", "species": list(models.get(self.target[6:]).species_names)})
            return
        loaded = await asyncio.to_thread(load_scenario, self.choices[self.target], self.overrides)
        self.sim = await asyncio.to_thread(Simulation, loaded, self.seed)
        await self.send(world_message(self.sim))
        await self.send(self.frame())

    # -- running ------------------------------------------------------------------------------
    def frame(self) -> dict[str, Any]:
        sim = self.sim
        c = sim.counts[sim.tick].sum(axis=1)
        counts = {name: int(c[k]) for k, name in enumerate(STATE_NAMES)}
        return {
            "type": "frame",
            "tick": int(sim.tick),
            "ticks": int(sim.n_ticks),
            "clock": format_clock(sim.scenario.start_seconds + sim.tick * sim.tick_seconds),
            "counts": counts,
            "cells": sim.pop.cell.tolist(),
            "states": sim.pop.state.tolist(),
            "done": bool(sim.done),
        }

    async def advance(self, ticks: int) -> bool:
        """Move on ``ticks`` (a model: a few more points of its curve); False when at the end."""
        if self.target.startswith("model:"):
            if self.model is None:
                params = {k: float(v) for k, v in self.overrides.items() if k != "method"}
                method = self.overrides.get("method", "ode")
                self.model = await asyncio.to_thread(
                    models.simulate, self.target[6:], method, params=params, seed=self.seed
                )
            start, end = (
                self.model_shown,
                min(len(self.model.times), self.model_shown + MODEL_POINTS_PER_UPDATE),
            )
            self.model_shown = end
            values = self.model.values[0, start:end]
            await self.send(
                {
                    "type": "points",
                    "t": self.model.times[start:end].tolist(),
                    "values": {s: values[:, k].tolist() for k, s in enumerate(self.model.species)},
                    "done": end >= len(self.model.times),
                    "time_unit": self.model.time_unit,
                }
            )
            return end < len(self.model.times)
        if self.sim is None or self.sim.done:
            return False
        await asyncio.to_thread(self.sim.step, ticks)
        await self.send(self.frame())
        if self.sim.done:
            result = await asyncio.to_thread(self.sim.result)
            await self.send({"type": "replay", "payload": await asyncio.to_thread(run_payload, result)})
        return not self.sim.done

    async def _loop(self, ticks: int) -> None:
        try:
            while self.running and await self.advance(ticks):
                await asyncio.sleep(1 / UPDATES_PER_S)
        finally:
            self.running = False
            await self.send({"type": "paused"})

    async def run(self, ticks: int) -> None:
        if self.running:
            return
        self.running = True
        self.task = asyncio.create_task(self._loop(max(1, int(ticks))))

    async def stop(self) -> None:
        self.running = False
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await self.task
            self.task = None

    # -- files ----------------------------------------------------------------------------------
    async def save(self) -> None:
        """The scenario as built (defaults filled in) and its map, in a new folder under ``out``."""
        if self.target.startswith("model:"):
            raise HyosanError(
                "a compartment model has no scenario file; its values are shown above", source="studio"
            )
        loaded = load_scenario(self.choices[self.target], self.overrides)
        stem = loaded.name + "-studio"
        k = 1
        while (self.out / (stem + (f"-{k}" if k > 1 else ""))).exists():  # never over anything
            k += 1
        folder = self.out / (stem + (f"-{k}" if k > 1 else ""))
        self.out.mkdir(parents=True, exist_ok=True)
        with atomic_dir(folder) as tmp:
            (tmp / "scenario.toml").write_text(resolved_toml(loaded, self.seed), encoding="utf-8")
            for src, rel in map_files(loaded.map_path()):
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, tmp / rel)
        await self.send({"type": "saved", "path": str(folder / "scenario.toml")})

    async def open_folder(self, folder: str) -> None:
        await self.stop()
        result = await asyncio.to_thread(load, Path(folder).expanduser())
        await self.send(
            {
                "type": "replay",
                "payload": await asyncio.to_thread(run_payload, result),
                "title": result.summary().get("title", ""),
            }
        )


def choices_for(paths: list[str]) -> dict[str, str]:
    """What the page offers: the given scenario files, the built-ins, and every compartment model."""
    out = {Path(p).stem.replace("_", "-"): str(Path(p).resolve()) for p in paths}
    out.update({name: name for name in builtins() if name not in out})
    out.update({f"model:{name}": name for name in models.names()})
    return out


def page_html() -> str:
    studio = files("hyosan.studio")
    return (
        studio.joinpath("studio.html")
        .read_text(encoding="utf-8")
        .replace("/*REPLAY_CSS*/", replay_css())
        .replace("/*STUDIO_JS*/", studio.joinpath("studio.js").read_text(encoding="utf-8"))
        .replace("/*REPLAY_JS*/", replay_js())
        .replace("<!--CSP-->", PAGE_CSP.replace("connect-src 'none'", "connect-src 'self'"))
    )


def create_app(paths: list[str], out: Path) -> Starlette:
    """The studio app: the page at ``/``, a session per WebSocket at ``/ws``, ``/status`` for tests."""
    choices = choices_for(paths)
    sessions: set[Session] = set()

    async def index(request):
        return HTMLResponse(page_html())

    async def status(request):
        return JSONResponse({"sessions": len(sessions), "running": sum(s.running for s in sessions)})

    async def ws(socket: WebSocket):
        host = socket.headers.get("host", "")
        origin = socket.headers.get("origin", "")
        if origin and origin.split("://", 1)[-1] != host:  # only the studio's own page
            await socket.close(code=1008)
            return
        await socket.accept()
        session = Session(socket, out, choices)
        sessions.add(session)
        try:
            await session.send({"type": "choices", "choices": list(choices)})
            while True:
                message = json.loads(await socket.receive_text())
                op = message.get("op")
                try:
                    if op == "load":
                        await session.load_target(str(message.get("target", "")))
                    elif op == "set":
                        await session.set_value(str(message["key"]), message.get("value", ""))
                    elif op == "run":
                        await session.run(int(message.get("ticks", 10)))
                    elif op == "pause":
                        await session.stop()
                    elif op == "step":
                        await session.stop()
                        await session.advance(int(message.get("ticks", 10)))
                    elif op == "reset":
                        await session.reset()
                    elif op == "save":
                        await session.save()
                    elif op == "open":
                        await session.open_folder(str(message.get("folder", "")))
                    else:
                        await session.error(f"unknown command {op!r}")
                except HyosanError as exc:
                    await session.error(str(exc))
                except (ValueError, KeyError, TypeError) as exc:
                    await session.error(f"{op}: {exc}")
        except WebSocketDisconnect:
            pass
        finally:
            session.running = False  # the page is gone: its run stops
            sessions.discard(session)
            if session.task is not None:
                session.task.cancel()

    return Starlette(routes=[Route("/", index), Route("/status", status), WebSocketRoute("/ws", ws)])


def serve(paths: list[str], out: Path, host: str = "127.0.0.1", port: int = 8765) -> None:
    uvicorn.run(create_app(paths, out), host=host, port=port, log_level="warning")
