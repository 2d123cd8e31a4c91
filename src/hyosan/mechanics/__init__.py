"""Mechanics as modules: what a school mechanic declares, and the registry of them.

A mechanic (darkness, or a user's) is one module holding one :class:`Mechanic`. It declares

- its scenario **keys** (:class:`Key`: a default, a unit, a range, a meaning), read from the
  scenario's ``[mechanics]`` table; they feed the pydantic validation and the generated scenario
  reference, and reach the kernels in kernel units as ``prm.mech.<key>``;
- its **arrays** (name and meaning, and a function making them for a run), nested into the
  kernels' named state as ``run.mech.<name>``;
- its **modes** (added to the one registry, :data:`hyosan.states.Mode`);
- its **timeline event kinds** (a handler each, like :func:`hyosan.timeline.register`'s);
- the **hooks** it fills, numba functions inlined into the tick kernel that
  :mod:`hyosan.mechanics.generate` writes for the scenario's ordered list of mechanics
  (``[behaviour] mechanics = ["darkness", "my_module:MECHANIC"]``); see :data:`HOOKS`.

A built-in mechanic and a user's plug in the same way: the registry knows the built-ins by
name, a user's is named ``module:attribute``. Keys and arrays of the mechanics a scenario uses
share one namespace each (``prm.mech``, ``run.mech``), so a clash is refused, as is a hook
that does not exist; each in one line naming the mechanic.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np

from hyosan.scenario.events import KINDS, KindSpec, register_kind
from hyosan.scenario.timefmt import parse_clock, parse_duration
from hyosan.states import Mode

#: The hooks a mechanic may fill, in the order the generated tick calls them, with their
#: signatures. ``tick``: once at the start of a tick; ``sense``: for every agent on the map,
#: after the built-in senses (it may change ``run.agents.mode`` and ``target``); ``choose``:
#: before the built-in step, like a behaviour (the position of the edge to take, -1 to stay,
#: -2 to leave it to the next); ``step``: once after everyone moved; ``contact``: once after the
#: built-in contact, before exits and counts.
HOOKS: dict[str, str] = {
    "tick": "fn(now, run, prm)",
    "sense": "fn(i, s, now, run, prm)",
    "choose": "fn(i, now, run, prm, gen) -> int",
    "step": "fn(now, run, prm)",
    "contact": "fn(now, run, prm)",
}

KeyKind = Literal["number", "clock", "duration", "flag"]


@dataclass(frozen=True)
class Key:
    """A scenario key of a mechanic: ``[mechanics] name = value``.

    ``kind``: a ``number`` (in ``unit``, within ``ge``..``le``), a ``clock`` time ("19:00",
    seconds after midnight in the kernels), a ``duration`` ("90s", ticks in the kernels) or a
    ``flag`` (true or false)."""

    name: str
    default: float | str | bool
    doc: str
    unit: str = ""
    ge: float | None = None
    le: float | None = None
    kind: KeyKind = "number"

    def check(self, value: Any) -> Any:
        """``value`` if valid for this key, else ValueError saying why."""
        if self.kind == "flag":
            if not isinstance(value, bool):
                raise ValueError(f"expected true or false, got {value!r}")
        elif self.kind == "clock":
            if not isinstance(value, str):
                raise ValueError(f"expected a clock time such as '19:00', got {value!r}")
            parse_clock(value)
        elif self.kind == "duration":
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise ValueError(f"expected a duration such as '90s', got {value!r}")
            if not np.isfinite(parse_duration(value)) or parse_duration(value) < 0:
                raise ValueError(f"expected a finite duration, got {value!r}")
        else:
            if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
                raise ValueError(f"expected a number, got {value!r}")
            if self.ge is not None and value < self.ge:
                raise ValueError(f"{value!r} is below {self.ge}")
            if self.le is not None and value > self.le:
                raise ValueError(f"{value!r} is above {self.le}")
        return value

    def kernel_value(self, value: Any, tick_s: float) -> float | int | bool:
        """``value`` in kernel units: seconds after midnight, ticks, a float or a bool."""
        if self.kind == "flag":
            return bool(value)
        if self.kind == "clock":
            return float(parse_clock(value))
        if self.kind == "duration":
            return max(0, round(parse_duration(value) / tick_s))
        return float(value)

    def range_text(self) -> str:
        if self.kind != "number":
            return {"clock": "a clock time", "duration": "a duration", "flag": "true or false"}[self.kind]
        lo = "" if self.ge is None else f"{self.ge:g}"
        hi = "" if self.le is None else f"{self.le:g}"
        return f"{lo}..{hi}" + (f" {self.unit}" if self.unit else "")


@dataclass(frozen=True)
class EventKindSpec:
    """A timeline event kind a mechanic adds: ``handler(sim, index, event) -> cell`` (the cell
    the chronicle places it at, -1 for none), as :func:`hyosan.timeline.register` takes."""

    name: str
    handler: Callable[[Any, int, Any], int]
    needs_area: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Mechanic:
    """One mechanic: everything it adds, declared in one place (see the module's docstring).

    ``make_arrays(scenario, world, run, values)`` returns the arrays named in ``arrays`` for a
    run (``world``: the :class:`~hyosan.world.World`; ``run``: the built-in named state so far;
    ``values``: this mechanic's keys as the scenario gives them)."""

    name: str
    doc: str
    keys: tuple[Key, ...] = ()
    arrays: dict[str, str] = field(default_factory=dict)
    make_arrays: Callable[..., dict[str, np.ndarray]] | None = None
    modes: tuple[tuple[int, str, str, str], ...] = ()  # (code, name, who, meaning)
    events: tuple[EventKindSpec, ...] = ()
    hooks: dict[str, Callable] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.hooks) - set(HOOKS))
        if unknown:
            raise MechanicError(
                f"mechanic {self.name!r}: unknown hook {', '.join(map(repr, unknown))}; "
                f"the hooks are {', '.join(HOOKS)}"
            )
        names = [k.name for k in self.keys]
        odd = [n for n in [*names, *self.arrays] if "__" in n or not n.isidentifier()]
        if odd:
            raise MechanicError(
                f"mechanic {self.name!r}: {odd[0]!r} is not a name (letters, digits, single _)"
            )
        twice = sorted({n for n in names if names.count(n) > 1} | (set(names) & set(self.arrays)))
        if twice:
            raise MechanicError(f"mechanic {self.name!r}: {', '.join(twice)} declared twice")
        if self.arrays and self.make_arrays is None:
            raise MechanicError(f"mechanic {self.name!r}: declares arrays but no make_arrays")


class MechanicError(ValueError):
    """A mechanic that cannot be used (unknown hook, a clash with another one, not found)."""


#: Modules of this package that are not mechanics.
_NOT_MECHANICS = ("__init__", "generate")
#: The built-in mechanics: name -> ``module:attribute``, one module each in this package, its
#: mechanic named ``MECHANIC`` (a new built-in is one new file); imported when a scenario uses one.
BUILT_IN: dict[str, str] = {
    p.stem: f"hyosan.mechanics.{p.stem}:MECHANIC"
    for p in sorted(Path(__file__).parent.glob("*.py"))
    if p.stem not in _NOT_MECHANICS
}


def load(spec: str) -> Mechanic:
    """The mechanic named ``spec``: a built-in's name, or ``module:attribute``."""
    target = BUILT_IN.get(spec, spec)
    module_name, sep, attr = target.partition(":")
    if not sep:
        raise MechanicError(
            f"unknown mechanic {spec!r}; built-in: {', '.join(BUILT_IN)}, or give 'module:attribute'"
        )
    try:
        mech = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise MechanicError(f"cannot load mechanic {spec!r}: {exc}") from None
    if not isinstance(mech, Mechanic):
        raise MechanicError(f"{spec!r} is not a hyosan.mechanics.Mechanic")
    return mech


def resolve(specs: list[str] | tuple[str, ...]) -> list[Mechanic]:
    """The mechanics named in ``specs``, in order, checked together: no mechanic twice, no key,
    array, mode or event kind declared by two of them (nor a key or array named like another's
    array or key), a mode code or name taken by none of the built-in modes. Registers their
    modes and event kinds."""
    mechanics = [load(s) for s in specs]
    owner: dict[str, str] = {}
    seen: set[str] = set()
    for m in mechanics:
        if m.name in seen:
            raise MechanicError(f"mechanic {m.name!r} is listed twice")
        seen.add(m.name)
        for what, name in [("key", k.name) for k in m.keys] + [("array", a) for a in m.arrays]:
            if name in owner:
                raise MechanicError(f"mechanic {m.name!r}: {what} {name!r} clashes with {owner[name]}")
            owner[name] = f"mechanic {m.name!r}'s {what}"
        for ev in m.events:
            if ev.name in owner or (ev.name in KINDS and KINDS[ev.name].owner != m.name):
                raise MechanicError(f"mechanic {m.name!r}: event kind {ev.name!r} is taken")
            owner[ev.name] = f"mechanic {m.name!r}'s event kind"
    for m in mechanics:
        for code, name, who, doc in m.modes:
            try:
                Mode.declare(code, name, who, doc, owner=f"mechanic {m.name!r}")
            except ValueError as exc:
                raise MechanicError(f"mechanic {m.name!r}: {exc}") from None
        for ev in m.events:
            register_kind(KindSpec(ev.name, ev.needs_area, ev.doc, owner=m.name))
    return mechanics


def key_values(mechanics: list[Mechanic], given: dict[str, Any]) -> dict[str, Any]:
    """Every key of ``mechanics``: the scenario's value, else the default; each checked. An
    unknown key is a ValueError naming it."""
    keys = {k.name: k for m in mechanics for k in m.keys}
    unknown = sorted(set(given) - set(keys))
    if unknown:
        raise ValueError(
            f"mechanics.{unknown[0]}: no mechanic in use declares it"
            + (f" (their keys: {', '.join(keys)})" if keys else " (none in use: [behaviour] mechanics)")
        )
    out = {}
    for name, key in keys.items():
        try:
            out[name] = key.check(given.get(name, key.default))
        except ValueError as exc:
            raise ValueError(f"mechanics.{name}: {exc}") from None
    return out


def record_class(name: str, fields: tuple[str, ...]) -> type:
    """A NamedTuple class for ``fields``, one per set of fields, named after them
    (``MechParams__dusk__dawn``) and reachable by that name in this module from any process:
    numba's cache indexes and checkpoints pickle it by name, and another process (which never
    built this set of fields) rebuilds it from the name (the module's ``__getattr__``)."""
    qualname = "__".join((name, *fields))
    cls = globals().get(qualname)
    if cls is None:
        cls = NamedTuple(qualname, [(f, Any) for f in fields])
        cls.__module__, cls.__qualname__ = __name__, qualname
        globals()[qualname] = cls
    return cls


def __getattr__(attr: str) -> type:
    base, *fields = attr.split("__")
    if base in ("MechParams", "MechArrays") and fields:
        return record_class(base, tuple(fields))
    raise AttributeError(attr)


def kernel_params(mechanics: list[Mechanic], values: dict[str, Any], tick_s: float) -> tuple:
    """``prm.mech``: every key of ``mechanics`` in kernel units, by name (``()`` for none)."""
    keys = [k for m in mechanics for k in m.keys]
    if not keys:
        return ()
    cls = record_class("MechParams", tuple(k.name for k in keys))
    return cls(*(k.kernel_value(values[k.name], tick_s) for k in keys))


def kernel_arrays(mechanics: list[Mechanic], scenario: Any, world: Any, run: Any, values: dict) -> tuple:
    """``run.mech``: every array of ``mechanics``, by name (``()`` for none)."""
    arrays: dict[str, np.ndarray] = {}
    for m in mechanics:
        if not m.arrays:
            continue
        made = m.make_arrays(scenario, world, run, values)
        if set(made) != set(m.arrays):
            raise MechanicError(
                f"mechanic {m.name!r}: make_arrays gave {sorted(made)}, it declares {sorted(m.arrays)}"
            )
        arrays.update({name: np.asarray(made[name]) for name in m.arrays})
    if not arrays:
        return ()
    return record_class("MechArrays", tuple(arrays))(*arrays.values())


__all__ = ["BUILT_IN", "HOOKS", "EventKindSpec", "Key", "Mechanic", "MechanicError", "load", "resolve"]
