"""The ``shelter`` event: people in an area stay in.

From ``after`` on, for ``duration``, every edge with an end in ``area`` keeps ``factor`` of its
weight: the bites and kills across it and the walking over it drop to that share (the coupling
``mu`` of those cells to their neighbours times ``factor``); inside each cell nothing changes.
Shelters stack with each other and with cordons (the weights multiply), and each ends on its own
(a stop at ``after + duration``). The whole kind is this file: its record (fields and bounds),
its handler and its chronicle sentence::

    [[events]]
    kind = "shelter"
    after = "1d"
    area = "Hyosan-dong"
    factor = 0.2        # a fifth of the contact across the area's edges
    duration = "3d"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hyosan.lattice.events import Event, duration, number, register


@register(
    "shelter", "the edges touching `area` keep `factor` of their weight for `duration` (people stay in)"
)
@dataclass(frozen=True)
class Shelter(Event):
    factor: float = number(0.1, 0, 1, unit="of the weight")
    duration: float = duration(3.0)

    def apply(self, town: Any, t: float) -> dict[str, Any]:
        inside = town.mask(self.area).reshape(town.lat.shape)
        touching_e = inside.copy()  # an east edge touches the area at its cell or the next one east
        touching_e[:, :-1] |= inside[:, 1:]
        touching_s = inside.copy()
        touching_s[:-1, :] |= inside[1:, :]
        key = f"shelter {t!r} {self.area} {id(self)}"
        east, south = town.layer(key)
        east[touching_e] = np.float32(self.factor)
        south[touching_s] = np.float32(self.factor)
        town.schedule(t + self.duration, lambda _t: town.drop_layer(key))
        edges = int((touching_e & (town.lat.w_east > 0)).sum() + (touching_s & (town.lat.w_south > 0)).sum())
        return {"factor": self.factor, "days": self.duration, "edges": edges}

    @classmethod
    def sentence(cls, entry: dict[str, Any]) -> str:
        said = entry.get("text") or ""
        where = entry.get("where") or entry["area"]
        days = f"{entry['days']:g} day" + ("" if entry["days"] == 1 else "s")
        return (said + " " if said else "") + (
            f"People in {where} shelter in place for {days}: contact with their "
            f"neighbours falls to {entry['factor']:.0%}."
        )
