"""The studio's heavy half: one page's session, which builds, runs and shows simulations.

Imported by :mod:`hyosan.studio.server` in a thread as the server starts (it pulls in the engine,
the models and pandas). Every command arrives here already parsed and type-checked
(:func:`hyosan.studio.server.parse_message`); a session still checks each value against the
scenario schema or the model before it is "accepted", and reads run folders and maps only from
under its root.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
import shutil
import typing
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel
from starlette.websockets import WebSocket, WebSocketDisconnect

from hyosan import models
from hyosan.engine import Simulation
from hyosan.errors import HyosanError
from hyosan.io import atomic_dir
from hyosan.limits import SEED_MAX
from hyosan.palette import INK, STATE_COLOURS
from hyosan.report.page import run_payload
from hyosan.report.replay import embed_json
from hyosan.report.story import room_labels
from hyosan.results.result import WorldInfo
from hyosan.results.store import load, map_files
from hyosan.results.tables import world_info
from hyosan.scenario import load_scenario
from hyosan.scenario.load import builtins
from hyosan.scenario.resolved import resolved_toml
from hyosan.scenario.timefmt import format_clock
from hyosan.states import STATE_NAMES, Mode
from hyosan.world.tiles import Tile

#: Sections of the scenario offered as controls (and every role's traits), in the page's order.
SECTIONS = ("zombies", "halfbies", "infection", "behaviour")
#: A unit at the start of a field's description ("m/s when chasing", "dB: sharp hearing").
UNIT = re.compile(r"^(m/s|dB|m|s|0-1)(?=[: ])")
#: Updates pushed per second at most while running.
UPDATES_PER_S = 12
#: Points of a compartment model's curve sent per update.
MODEL_POINTS_PER_UPDATE = 4
#: Points of a model's time grid.
MODEL_POINTS = 201
#: Most runs of a stochastic model the studio draws at once.
MAX_MODEL_RUNS = 200
#: Runs of a stochastic model by default (enough for bands).
MODEL_RUNS = 20
#: Quantiles of a model's bands: outer band, inner band, median.
BAND_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: A compartment's colour: the agent state it stands for (the palette's), else ink.
SPECIES_STATE = {"S": "human", "E": "bitten", "I": "bitten", "Z": "zombie", "Q": "halfbie", "R": "dead"}


# -- controls ------------------------------------------------------------------------------------------
def _bounds(info) -> tuple[float | None, float | None]:
    lo = hi = None
    for meta in info.metadata:
        lo = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else lo
        lo = getattr(meta, "gt", None) if getattr(meta, "gt", None) is not None else lo
        hi = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else hi
        hi = getattr(meta, "lt", None) if getattr(meta, "lt", None) is not None else hi
    return lo, hi


def _unit(description: str, lo, hi) -> str:
    found = UNIT.match(description)
    if found:
        return found.group(1)
    if "(1/s)" in description:
        return "1/s"
    if lo == 0 and hi == 1 and re.search(r"\b(chance|share|fraction)\b", description):
        return "0-1"
    return ""


def slider_range(lo, hi, value, integer: bool) -> tuple[float, float]:
    """The slider's span: the schema's range where it has one, else up to a few times the value."""
    a = 0.0 if lo is None else float(lo)
    if hi is not None:
        return a, float(hi)
    top = max(4 * abs(float(value or 0)), 10.0 if integer else 1.0)
    return a, float(math.ceil(top)) if integer else top


def number_control(key, label, value, lo, hi, *, integer=False, unit="", help="", group="") -> dict[str, Any]:
    s_lo, s_hi = slider_range(lo, hi, value, integer)
    return {
        "key": key,
        "label": label,
        "group": group,
        "kind": "number",
        "value": value,
        "min": lo,
        "max": hi,
        "slider_min": s_lo,
        "slider_max": s_hi,
        "step": 1 if integer else "any",
        "unit": unit,
        "help": help,
    }


def _control(key: str, info, value: Any, group: str) -> dict[str, Any] | None:
    """A control for one schema field: a number (slider and box), a choice, a switch or a duration."""
    annotation = info.annotation
    description = info.description or ""
    label = key.split(".")[-1].replace("_", " ")
    spec = {"key": key, "label": label, "group": group, "help": description, "value": value}
    if annotation is bool:
        return {**spec, "kind": "bool", "unit": ""}
    if typing.get_origin(annotation) is typing.Literal:
        return {**spec, "kind": "choice", "unit": "", "choices": list(typing.get_args(annotation))}
    if annotation in (float, int):
        lo, hi = _bounds(info)
        return number_control(
            key,
            label,
            value,
            lo,
            hi,
            integer=annotation is int,
            unit=_unit(description, lo, hi),
            help=description,
            group=group,
        )
    if set(typing.get_args(annotation)) == {str, float}:  # a duration: "90s", "15min"
        return {**spec, "kind": "text", "unit": "time", "help": description + " (e.g. 90s, 15min, 2h)"}
    return None


def _walk(model: BaseModel, prefix: str, group: str) -> list[dict[str, Any]]:
    out = []
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            out += _walk(value, f"{prefix}.{name}", f"{group} · {name}")
            continue
        c = _control(f"{prefix}.{name}", info, value, group)
        if c:
            out.append(c)
    return out


def _event_label(e) -> str:
    where = f" · {e.area}" if e.area not in (None, "*") else (f" · {e.who}" if e.who else "")
    return f"{e.kind.replace('_', ' ')}{where}"


def scenario_controls(loaded, seed: int = 0) -> list[dict[str, Any]]:
    """Controls from the scenario schema, with units, ranges, groups and the current values:
    the run (seed, duration, map), the population's counts, the timeline's events, then every
    value of the zombies, halfbies, infection, behaviour and each role."""
    sc = loaded.scenario
    out: list[dict[str, Any]] = [
        number_control(
            "seed",
            "seed",
            seed,
            0,
            SEED_MAX,
            integer=True,
            group="run",
            help="the run's random seed: the same seed gives the same run",
        ),
        {
            "key": "clock.duration",
            "label": "duration",
            "group": "run",
            "kind": "text",
            "unit": "time",
            "help": "simulated time, e.g. 30min or 2h",
            "value": sc.clock.duration,
        },
        {
            "key": "world.map",
            "label": "map",
            "group": "run",
            "kind": "text",
            "unit": "file",
            "help": "a map file (.tmj or .txt) under the studio's root folder",
            "value": str(sc.world.map),
        },
    ]
    for i, p in enumerate(sc.population):
        where = ", ".join(p.areas)
        label = sc.roles[p.role].label or p.role
        c = number_control(
            f"population.{i}.count",
            f"{label} in {where}",
            p.count,
            0,
            10_000_000,
            integer=True,
            group="population",
            help=f"how many {label} start in {where} ({p.state})",
        )
        c["slider_max"] = float(max(50, 4 * p.count))
        out.append(c)
    for i, e in enumerate(sc.events):
        name = _event_label(e)
        trigger = "at" if e.at is not None else ("after" if e.after is not None else "when")
        help = {
            "at": "clock time it happens, e.g. 08:05",
            "after": "delay after the start (or after 'when' holds), e.g. 90s",
            "when": "condition, e.g. 'infected >= 0.5', 'humans <= 20'",
        }[trigger]
        value = getattr(e, trigger)
        out.append(
            {
                "key": f"events.{i}.{trigger}",
                "label": f"{name}: {trigger}",
                "group": "timeline",
                "kind": "text",
                "unit": "clock" if trigger == "at" else ("time" if trigger == "after" else ""),
                "help": (e.text + " — " if e.text else "") + help,
                "value": value,
                "event": i,
            }
        )
    for section in SECTIONS:
        out += _walk(getattr(sc, section), section, section)
    for role, cfg in sc.roles.items():
        group = f"role: {cfg.label or role}"
        out += [c for c in _walk(cfg, f"roles.{role}", group) if not c["key"].endswith(".label")]
    return out


def model_controls(name: str) -> list[dict[str, Any]]:
    """A model's parameters (unit, meaning and a slider each), then its method, runs, seed, end."""
    m = models.get(name)
    out = [
        number_control(
            p.name,
            p.name,
            p.default,
            0,
            None,
            integer=p.integer,
            unit=p.unit,
            help=p.doc,
            group="parameters",
        )
        for p in m.params
    ]
    for c, p in zip(out, m.params, strict=True):
        c["slider_max"] = float(max(10 * p.default, 1.0)) if p.default > 0 else 1.0
    out += [
        {
            "key": "method",
            "label": "method",
            "group": "run",
            "kind": "choice",
            "choices": list(models.METHODS),
            "value": "ode",
            "unit": "",
            "help": "ode: the mean (one curve); ssa: exact stochastic runs; tau: tau-leaping (faster, close)",
        },
        number_control(
            "runs",
            "runs",
            MODEL_RUNS,
            1,
            MAX_MODEL_RUNS,
            integer=True,
            group="run",
            help="stochastic runs drawn (ssa, tau): their median and 50 % and 90 % bands are shown",
        ),
        number_control(
            "seed",
            "seed",
            0,
            0,
            SEED_MAX,
            integer=True,
            group="run",
            help="the runs' random seed: the same seed gives the same runs",
        ),
        number_control(
            "t_end",
            "end time",
            m.t_end,
            0,
            None,
            unit=m.time_unit,
            group="run",
            help=f"how long to simulate, in {m.time_unit}",
        ),
    ]
    out[-1]["slider_max"] = float(4 * m.t_end)
    return out


# -- what the page draws -------------------------------------------------------------------------------
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
    sc = sim.scenario
    events = []
    for i, e in enumerate(sc.events):
        tick = sc.clock_tick(e.at) if e.at is not None else (sc.ticks(e.after) if e.when is None else None)
        events.append({"index": i, "label": _event_label(e), "text": e.text, "tick": tick})
    return {
        "type": "world",
        "floors": list(w.floors),
        "height": int(tiles.shape[1]),
        "width": int(tiles.shape[2]),
        "tiles": tiles.ravel().tolist(),
        "tile_names": [t.name.lower() for t in Tile],
        "state_names": list(STATE_NAMES),
        "roles": list(sim.pop.role_names),
        "rooms": labels,
        "events": events,
        "clock_start_s": sim.scenario.start_seconds,
        "ticks": sim.n_ticks,
        "tick_s": sim.tick_seconds,
        "updates_per_s": UPDATES_PER_S,
    }


def page_words(exc: HyosanError, labels: dict[str, str]) -> tuple[str, str | None]:
    """An error as the page says it: the control's label, not ``--set: zombies.bite_prob``."""
    key = exc.field
    if key is not None:
        key = re.sub(r"\[(\d+)\]", r".\1", key)
    if key in labels:
        return f"{labels[key]}: {exc.message}", key
    if exc.source == "message":
        return f"the page sent a message the studio cannot read: {exc}", None
    if exc.source in ("--set", "studio", None) or exc.field:
        return (f"{key}: {exc.message}" if key else exc.message), key
    return str(exc), None


def choices_for(paths: list[str]) -> dict[str, str]:
    """What the page offers: the given scenario files, the built-ins, and every compartment model."""
    out = {Path(p).stem.replace("_", "-"): str(Path(p).resolve()) for p in paths}
    out.update({name: name for name in builtins() if name not in out})
    out.update({f"model:{name}": name for name in models.names()})
    return out


@dataclass(eq=False)  # each page's session is itself (hashable by identity)
class Session:
    """One page's studio: what it is building and running."""

    socket: WebSocket
    out: Path
    choices: dict[str, str]
    root: Path
    target: str = ""
    overrides: dict[str, str] = field(default_factory=dict)
    seed: int = 0
    controls: dict[str, dict[str, Any]] = field(default_factory=dict)
    sim: Simulation | None = None
    place: Any = None  # the sim's WorldInfo (where an agent is)
    fired: dict[int, int] = field(default_factory=dict)  # event index -> tick it fired
    inspected: int | None = None
    model: Any = None  # a ModelResult being played out
    model_bands: Any = None  # its quantiles: (quantiles, times, species)
    model_shown: int = 0
    task: asyncio.Task | None = None
    running: bool = False

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send_text(embed_json(message))

    async def error(self, exc: HyosanError | str, op: str | None = None) -> None:
        if isinstance(exc, str):
            exc = HyosanError(exc)
        labels = {k: self._label(c) for k, c in self.controls.items()}
        message, key = page_words(exc, labels)
        await self.send({"type": "error", "message": message, "key": key, "op": op})

    @staticmethod
    def _label(c: dict[str, Any]) -> str:
        group = c.get("group", "")
        return f"{c['label']} ({group})" if group and group not in ("run", "parameters") else c["label"]

    @property
    def is_model(self) -> bool:
        return self.target.startswith("model:")

    async def dispatch(self, op: str, fields: dict[str, Any]) -> None:
        """Act on one parsed command (:func:`hyosan.studio.server.parse_message`)."""
        if op == "load":
            await self.load_target(fields["target"])
            return
        if op == "open":
            await self.open_folder(fields["folder"])
            return
        if not self.target:
            raise HyosanError("choose a scenario or model first")
        if op == "set":
            await self.set_value(fields["key"], fields["value"])
        elif op == "run":
            await self.run(fields.get("ticks", 10))
        elif op == "pause":
            await self.stop()
        elif op == "step":
            await self.stop()
            await self.advance(fields.get("ticks", 10))
        elif op == "reset":
            await self.reset()
        elif op == "save":
            await self.save()
        elif op == "inspect":
            await self.inspect(fields["agent"])

    # -- building -----------------------------------------------------------------------------
    async def load_target(self, target: str) -> None:
        await self.stop()
        if target not in self.choices:
            shown = target if len(target) <= 60 else target[:57] + "..."
            raise HyosanError(
                f"no scenario or model called {shown!r} (choose one of {', '.join(self.choices)})"
            )
        self.target, self.overrides, self.model, self.sim, self.seed = target, {}, None, None, 0
        self.inspected = None
        if self.is_model:
            controls = model_controls(target[6:])
        else:
            loaded = await asyncio.to_thread(load_scenario, self.choices[target])
            self.seed = loaded.scenario.run.seed or 0
            controls = scenario_controls(loaded, self.seed)
        self.controls = {c["key"]: c for c in controls}
        await self.send({"type": "controls", "target": target, "controls": controls})
        await self.reset()

    def inside_root(self, text: str, what: str, key: str | None = None) -> Path:
        """``text`` as a path under the root, symbolic links resolved first; anything else is
        refused with one wording, whether or not it exists (``key``: the control it came from)."""
        where = f"under the studio's root folder {self.root} (start the studio with --root to choose another)"
        refused = (
            HyosanError(f"must be {where}", field=key) if key else HyosanError(f"{what} must be {where}")
        )
        if not text.strip() or "\x00" in text or text.strip().startswith("~"):
            raise refused
        path = Path(text.strip())
        if not path.is_absolute():
            path = self.root / path
        try:
            real = path.resolve()
        except (OSError, RuntimeError, ValueError):
            raise refused from None
        if real != self.root and not real.is_relative_to(self.root):
            raise refused
        return real

    def _model_value(self, key: str, text: str) -> None:
        m = models.get(self.target[6:])
        if key == "method":
            if text not in models.METHODS:
                raise HyosanError(
                    f"{text!r} is not a method; choose one of {', '.join(models.METHODS)}", field=key
                )
            return
        try:
            number = float(text)
        except ValueError:
            raise HyosanError(f"expected a number, got {text!r}", field=key) from None
        if key in ("runs", "seed"):
            c = self.controls[key]
            if not number.is_integer() or not c["min"] <= number <= c["max"]:
                raise HyosanError(
                    f"must be a whole number from {c['min']} to {c['max']}, got {text}", field=key
                )
        elif key == "t_end":
            if not math.isfinite(number) or number <= 0:
                raise HyosanError(f"must be a number above 0, got {text}", field=key)
        else:
            if not math.isfinite(number) or number < 0:
                raise HyosanError(f"must be at least 0, got {text}", field=key)
            m.resolve({key: number}, source="studio")

    def _number(self, key: str, text: str) -> None:
        """A number control's value: a finite number within the schema's range."""
        c = self.controls[key]
        try:
            number = float(text)
        except ValueError:
            raise HyosanError(f"expected a number, got {text!r}", field=key) from None
        if not math.isfinite(number):
            raise HyosanError(f"must be a finite number, got {text}", field=key)
        if c["step"] == 1 and not number.is_integer():
            raise HyosanError(f"must be a whole number, got {text}", field=key)
        lo, hi = c["min"], c["max"]
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            span = f"at least {lo:g}" if hi is None else f"at least {lo:g} and at most {hi:g}"
            raise HyosanError(f"must be {span}, got {text}", field=key)

    async def set_value(self, key: str, value: str | int | float | bool) -> None:
        """Change one value; it is checked (for a scenario: the run is built with it) before it is
        accepted, and a bad one is refused with nothing changed."""
        if key not in self.controls:
            shown = key if len(key) <= 60 else key[:57] + "..."
            raise HyosanError(f"no value {shown!r} in this {'model' if self.is_model else 'scenario'}")
        text = ("true" if value else "false") if isinstance(value, bool) else str(value).strip()
        c = self.controls[key]
        if self.is_model:
            self._model_value(key, text)
            await self.stop()
            self.overrides = {**self.overrides, key: text}
            await self.send({"type": "accepted", "key": key, "value": text})
            await self.reset()
            return
        if c["kind"] == "number":
            self._number(key, text)
        elif c["kind"] == "choice" and text not in [str(v) for v in c["choices"]]:
            raise HyosanError(f"choose one of {', '.join(map(str, c['choices']))}, got {text!r}", field=key)
        elif c["kind"] == "bool" and text not in ("true", "false"):
            raise HyosanError(f"expected true or false, got {text!r}", field=key)
        seed, trial = self.seed, dict(self.overrides)
        if key == "seed":
            seed = int(float(text))
        elif key == "world.map":  # a path: given as a TOML string, whatever it looks like
            trial[key] = json.dumps(str(self.inside_root(text, "a map", key)))
        else:
            trial[key] = text
        await self.stop()
        sim = await self._build(trial, seed)  # raises (and nothing changes) if the value is bad
        self.overrides, self.seed = trial, seed
        await self.send({"type": "accepted", "key": key, "value": text})
        await self._show(sim)

    async def _build(self, overrides: dict[str, str], seed: int) -> Simulation:
        def build():
            loaded = load_scenario(self.choices[self.target], overrides)
            return Simulation(loaded, seed)

        return await asyncio.to_thread(build)

    async def _show(self, sim: Simulation) -> None:
        self.sim, self.fired = sim, {}
        self.place = await asyncio.to_thread(world_info, sim.world)
        if self.inspected is not None and self.inspected >= sim.pop.n:
            self.inspected = None
        await self.send(world_message(sim))
        await self.send(self.frame())

    async def reset(self) -> None:
        await self.stop()
        if self.is_model:
            self.model, self.model_shown = None, 0
            m = models.get(self.target[6:])
            method = self.overrides.get("method", "ode")
            await self.send(
                {
                    "type": "model",
                    "title": m.title,
                    "doc": m.doc,
                    "species": [
                        {
                            "name": s.name,
                            "doc": s.doc,
                            "colour": STATE_COLOURS.get(SPECIES_STATE.get(s.name, ""), INK),
                        }
                        for s in m.species
                    ],
                    "method": method,
                    "runs": 1 if method == "ode" else int(float(self.overrides.get("runs", MODEL_RUNS))),
                    "seed": int(float(self.overrides.get("seed", 0))),
                    "t_end": float(self.overrides.get("t_end", m.t_end)),
                    "time_unit": m.time_unit,
                }
            )
            return
        await self._show(await self._build(self.overrides, self.seed))

    # -- running ------------------------------------------------------------------------------
    def frame(self) -> dict[str, Any]:
        sim = self.sim
        c = sim.counts[sim.tick].sum(axis=1)
        counts = {name: int(c[k]) for k, name in enumerate(STATE_NAMES)}
        out = {
            "type": "frame",
            "tick": int(sim.tick),
            "ticks": int(sim.n_ticks),
            "clock": format_clock(sim.scenario.start_seconds + sim.tick * sim.tick_seconds),
            "counts": counts,
            "cells": sim.pop.cell.tolist(),
            "states": sim.pop.state.tolist(),
            "fired": [{"index": i, "tick": t} for i, t in sorted(self.fired.items())],
            "done": bool(sim.done),
        }
        if self.inspected is not None:
            out["card"] = self.card(self.inspected)
        return out

    def card(self, i: int) -> dict[str, Any]:
        """What the page shows of agent ``i``: name, role, state, where, and who bit it."""
        sim, pop = self.sim, self.sim.pop
        where = self.place.place(np.array([pop.cell[i]])).iloc[0]
        by = int(pop.bitten_by[i])
        bitten_by = None if by == -1 else ("a scenario event" if by == -2 else pop.name(by))
        at = int(pop.bitten_at[i])
        return {
            "agent": i,
            "name": pop.name(i),
            "role": pop.role_names[pop.role[i]],
            "state": STATE_NAMES[pop.state[i]],
            "mode": Mode.name_of(int(pop.mode[i])),
            "floor": None if pd.isna(where["floor"]) else str(where["floor"]),
            "room": None if pd.isna(where["room"]) else str(where["room"]),
            "cell": int(pop.cell[i]),
            "bitten_by": bitten_by,
            "bitten_by_agent": by if by >= 0 else None,
            "bitten_at": format_clock(sim.scenario.start_seconds + at * sim.tick_seconds)
            if at >= 0
            else None,
            "bites": int(pop.bites[i]),
        }

    async def inspect(self, agent: int | None) -> None:
        if self.is_model or self.sim is None:
            raise HyosanError("a compartment model has no agents to inspect")
        if agent is not None and not 0 <= agent < self.sim.pop.n:
            raise HyosanError(f"no agent {agent} (agents are 0 to {self.sim.pop.n - 1})", field="agent")
        self.inspected = agent
        await self.send({"type": "card", "card": None if agent is None else self.card(agent)})

    def _model_run(self):
        name = self.target[6:]
        m = models.get(name)
        params = {
            k: float(v) for k, v in self.overrides.items() if k not in ("method", "runs", "seed", "t_end")
        }
        method = self.overrides.get("method", "ode")
        runs = 1 if method == "ode" else int(float(self.overrides.get("runs", MODEL_RUNS)))
        result = models.simulate(
            name,
            method,
            params=params,
            seed=int(float(self.overrides.get("seed", 0))),
            runs=runs,
            t_end=float(self.overrides.get("t_end", m.t_end)),
            n_points=MODEL_POINTS,
        )
        bands = np.quantile(result.values, BAND_QUANTILES, axis=0)  # (quantiles, times, species)
        return result, bands

    async def advance(self, ticks: int) -> bool:
        """Move on ``ticks`` (a model: a few more points of its curve); False when at the end."""
        if self.is_model:
            if self.model is None:
                self.model, self.model_bands = await asyncio.to_thread(self._model_run)
            n = len(self.model.times)
            start, end = self.model_shown, min(n, self.model_shown + MODEL_POINTS_PER_UPDATE)
            self.model_shown = end
            b = self.model_bands[:, start:end]
            await self.send(
                {
                    "type": "points",
                    "t": self.model.times[start:end].tolist(),
                    "values": {s: b[2, :, k].tolist() for k, s in enumerate(self.model.species)},
                    "bands": {
                        s: [b[q, :, k].tolist() for q in (0, 1, 3, 4)]
                        for k, s in enumerate(self.model.species)
                    }
                    if self.model.runs > 1
                    else None,
                    "runs": self.model.runs,
                    "done": end >= n,
                    "time_unit": self.model.time_unit,
                }
            )
            return end < n
        if self.sim is None or self.sim.done:
            return False
        due = {p.index: p.tick for p in self.sim.timeline.pending}
        await asyncio.to_thread(self.sim.step, ticks)
        left = {p.index for p in self.sim.timeline.pending}
        for i, tick in due.items():
            if i not in left:
                self.fired[i] = (
                    int(tick) if tick is not None and tick <= self.sim.tick else int(self.sim.tick)
                )
        await self.send(self.frame())
        if self.sim.done:
            result = await asyncio.to_thread(self.sim.result)
            await self.send({"type": "replay", "payload": await asyncio.to_thread(run_payload, result)})
        return not self.sim.done

    async def _loop(self, ticks: int) -> None:
        try:
            while self.running and await self.advance(ticks):
                await asyncio.sleep(1 / UPDATES_PER_S)
        except (WebSocketDisconnect, asyncio.CancelledError):
            raise
        except HyosanError as exc:
            await self.error(exc, "run")
        except Exception as exc:  # (a run that fails says so; the session goes on)
            await self.error(HyosanError(f"the run stopped: {type(exc).__name__}: {exc}"), "run")
        finally:
            self.running = False
            with contextlib.suppress(Exception):
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
        if self.is_model:
            raise HyosanError("a compartment model has no scenario file; its values are shown beside it")
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
        path = self.inside_root(folder, "a run folder")
        await self.stop()
        result = await asyncio.to_thread(load, path)
        await self.send(
            {
                "type": "replay",
                "payload": await asyncio.to_thread(run_payload, result),
                "title": result.summary().get("title", ""),
            }
        )
