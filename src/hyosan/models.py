"""The classic compartment models: ``hyosan.models.get("alemi").simulate(method="ssa", runs=100)``.

A thin public face over :mod:`hyosan.compartmental`; see there for declaring a model of your own.
"""

from hyosan.compartmental import (
    CATALOGUE,
    METHODS,
    ModelResult,
    Param,
    Reaction,
    ReactionNetwork,
    Species,
    Strike,
    get,
    names,
    simulate,
)

__all__ = [
    "CATALOGUE",
    "METHODS",
    "ModelResult",
    "Param",
    "Reaction",
    "ReactionNetwork",
    "Species",
    "Strike",
    "get",
    "names",
    "simulate",
]
