"""What a sweep is: the varied values, their cross product, and each run's identity and seed.

A run is identified by its *parameters* (the varied keys and their values, as a canonical JSON
object) and its *replicate* number; nothing else. Its id and its seed are both derived from a
SHA-256 of that identity, the seed mixed with the sweep's root seed through
``numpy.random.SeedSequence``. So a run's result never depends on which executor ran it, how
many workers there were, in what order the runs finished or which other runs the sweep holds,
and a resumed sweep finds its finished runs by name. Python's ``hash()`` is never used: it is
salted per process.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hyosan import limits
from hyosan.errors import HyosanError

#: Column names of the runs table that a varied key may not take.
RESERVED = ("run_id", "set_id", "replicate", "seed", "status", "error", "elapsed_s")

Value = bool | int | float | str


def parse_scalar(text: str) -> Value:
    """A value as ``--set`` reads it: TOML when it parses (numbers, booleans), else a string."""
    # Imported here: workers of a model sweep never load the engine (numba), nor of a school one SciPy.
    from hyosan.scenario.load import parse_value

    value = parse_value(text)
    if not isinstance(value, bool | int | float | str):
        raise HyosanError(f"expected a number, true/false or a word, got {text!r}", source="--vary")
    return value


def toml_value(value: Value) -> str:
    """The text of a value for a scenario override (``--set`` syntax, read back as TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("nan" if math.isnan(value) else f"{value:+}")
    return json.dumps(value)  # a TOML basic string


def _number(text: str, key: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise HyosanError(f"{what} must be a number, got {text!r}", source="--vary", field=key) from None
    if not math.isfinite(value):
        raise HyosanError(f"{what} must be finite, got {text!r}", source="--vary", field=key)
    return value


def linspace_values(key: str, lo_text: str, hi_text: str, steps_text: str) -> list[Value]:
    """``LO:HI:STEPS``: STEPS evenly spaced values from LO to HI inclusive.

    Integers stay integers when both ends are integers and every step lands on one (a count
    such as ``population.0.count=10:50:5``); floats are rounded to 12 significant digits so
    that ``0.1:0.5:5`` gives 0.3, not 0.30000000000000004, in tables and run ids.
    """
    lo, hi = _number(lo_text, key, "LO"), _number(hi_text, key, "HI")
    steps_text = steps_text.strip()
    if not re.fullmatch(r"[0-9]{1,12}", steps_text) or int(steps_text) < 1:
        raise HyosanError(
            f"STEPS must be a whole number >= 1, got {steps_text!r}", source="--vary", field=key
        )
    steps = int(steps_text)
    limits.MAX_SWEEP_RUNS.check(steps, "--vary", key)  # before linspace allocates them
    if steps == 1 and lo != hi:
        raise HyosanError("one STEP needs LO == HI (or give two steps or more)", source="--vary", field=key)
    grid = np.linspace(lo, hi, steps)
    as_int = all(t.strip().lstrip("+-").isdigit() for t in (lo_text, hi_text))
    if as_int and np.all(grid == np.round(grid)):
        return [int(v) for v in np.round(grid)]
    return [float(f"{v:.12g}") for v in grid]


def parse_vary(items: Sequence[str] | None, source: str = "--vary") -> dict[str, list[Value]]:
    """``["k=0.1:0.5:3", "j=a,b"]`` -> ``{"k": [0.1, 0.3, 0.5], "j": ["a", "b"]}`` (order kept).

    ``KEY=LO:HI:STEPS`` is a range when LO and HI are numbers; anything with commas is a list
    (``KEY=V1,V2,...``); a lone value is a list of one. Values are TOML as for ``--set``. Clock
    times contain colons: give them as a list (``clock.start=08:00,08:30``).
    """
    out: dict[str, list[Value]] = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key or not text:
            raise HyosanError(f"expected KEY=LO:HI:STEPS or KEY=V1,V2,..., got {item!r}", source=source)
        if key in out:
            raise HyosanError("varied twice", source=source, field=key)
        if key in RESERVED or key.startswith("ts."):
            raise HyosanError("this name is taken by a column of the runs table", source=source, field=key)
        parts = text.split(":")
        ranged = "," not in text and len(parts) > 1 and _looks_numeric(parts[0])
        if ranged and len(parts) != 3:
            raise HyosanError(f"a range is LO:HI:STEPS, got {text!r}", source=source, field=key)
        if ranged:
            values = linspace_values(key, *parts)
        else:
            texts = [t.strip() for t in text.split(",")]
            if any(not t for t in texts):
                raise HyosanError(f"empty value in {text!r}", source=source, field=key)
            values = [parse_scalar(t) for t in texts]
        if len({canonical(v) for v in values}) != len(values):
            raise HyosanError(f"a value appears twice in {text!r}", source=source, field=key)
        out[key] = values
    return out


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return not (len(text) > 1 and text.startswith("0") and text[1].isdigit())  # "08" is a clock


def canonical(value: Any) -> str:
    """The canonical JSON of a value or parameter dict (sorted keys, no spaces, floats by repr)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True)


def identity_digest(params: Mapping[str, Value], replicate: int) -> bytes:
    """SHA-256 of a run's identity: its parameters and replicate number."""
    text = canonical({"params": dict(params), "replicate": int(replicate)})
    return hashlib.sha256(text.encode("utf-8")).digest()


def run_id(params: Mapping[str, Value], replicate: int) -> str:
    """A run's name in the store: 16 hex digits of its identity's digest."""
    return identity_digest(params, replicate).hex()[:16]


def run_seed(root: int, params: Mapping[str, Value], replicate: int) -> int:
    """The run's seed: ``SeedSequence([root, *digest words])`` drawn down to 63 bits.

    63 bits so that it fits a signed 64-bit Parquet column; the engine and the compartment
    solvers accept any non-negative integer as a seed.
    """
    words = np.frombuffer(identity_digest(params, replicate), dtype="<u4")
    state = np.random.SeedSequence([int(root), *(int(w) for w in words)]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


@dataclass(frozen=True)
class RunTask:
    """One run to do: what a worker receives (small and picklable)."""

    run_id: str
    set_id: int
    replicate: int
    seed: int
    params: dict[str, Value]
    keep: bool = False


@dataclass(frozen=True)
class SweepSpec:
    """A sweep: what to run (``kind``, ``target``), the parameter sets, replicates and root seed.

    ``sets`` is the list of parameter sets in order (``set_id`` is the position): the cross
    product of ``vary`` for a sweep, the sample points of a sensitivity design. ``context`` holds
    everything else that shapes a run's result (fixed overrides, the scenario's fingerprint,
    solver options); a store refuses to mix runs of different contexts.
    """

    kind: str  # "scenario" | "model" | "function"
    target: str
    runs: int
    seed: int
    sets: tuple[dict[str, Value], ...]
    context: dict[str, Any] = field(default_factory=dict)
    vary: dict[str, list[Value]] = field(default_factory=dict)
    design: dict[str, Any] | None = None
    keep: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.runs, bool) or not isinstance(self.runs, int) or self.runs < 1:
            raise HyosanError(f"must be at least 1, got {self.runs}", source="--runs")
        limits.check_seed(self.seed, "--seed")
        limits.MAX_SWEEP_RUNS.check(len(self.sets) * self.runs, "--runs")
        if self.keep < 0:
            raise HyosanError(f"must be >= 0, got {self.keep}", source="--keep")

    @property
    def param_names(self) -> list[str]:
        names: dict[str, None] = {}
        for s in self.sets:
            names.update(dict.fromkeys(s))
        return list(names)

    @property
    def total(self) -> int:
        return len(self.sets) * self.runs

    def tasks(self) -> list[RunTask]:
        """Every run of the sweep, set by set, replicate by replicate."""
        return [
            RunTask(
                run_id=run_id(params, r),
                set_id=i,
                replicate=r,
                seed=run_seed(self.seed, params, r),
                params=dict(params),
                keep=r < self.keep,
            )
            for i, params in enumerate(self.sets)
            for r in range(self.runs)
        ]

    def identity(self) -> dict[str, Any]:
        """What must match for a store to take this sweep's runs (replicates and keep may change)."""
        return {
            "kind": self.kind,
            "target": self.target,
            "seed": self.seed,
            "context": self.context,
            "vary": self.vary,
            "design": self.design,
            "sets": [dict(s) for s in self.sets],
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.identity(), "runs": self.runs, "keep": self.keep}


def cross_product(vary: Mapping[str, Sequence[Value]]) -> tuple[dict[str, Value], ...]:
    """Every combination of the varied values, the first key varying slowest; ``({},)`` if none."""
    keys = list(vary)
    limits.MAX_SWEEP_RUNS.check(math.prod(len(v) for v in vary.values()), "--vary")  # before listing them
    return tuple(dict(zip(keys, combo, strict=True)) for combo in itertools.product(*vary.values()))
