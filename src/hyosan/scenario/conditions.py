"""Trigger conditions of timeline events: ``"infected >= 0.5"``, ``"humans <= 20"``."""

from __future__ import annotations

import operator
import re

#: What a condition can look at (all measured on the live population each tick).
METRICS = {
    "infected": "fraction of the population ever bitten (0-1)",
    "humans": "humans (bitten or not) still on the map",
    "zombies": "zombies on the map",
    "halfbies": "halfbies on the map",
    "dead": "agents dead for good",
    "escaped": "humans who left through an exit",
}
OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq}
_COND = re.compile(r"^\s*([a-z_]+)\s*(>=|<=|==|>|<)\s*([-+0-9.eE]+)\s*$")


def parse_condition(text: str) -> tuple[str, str, float]:
    """``"infected >= 0.5"`` -> ``("infected", ">=", 0.5)``; ValueError when malformed."""
    match = _COND.match(text)
    if not match:
        raise ValueError(f"not a condition: {text!r} (write e.g. 'infected >= 0.5')")
    metric, op, value = match.groups()
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r} in {text!r} (known: {', '.join(METRICS)})")
    return metric, op, float(value)


def holds(condition: tuple[str, str, float], metrics: dict[str, float]) -> bool:
    metric, op, value = condition
    return OPS[op](metrics[metric], value)
