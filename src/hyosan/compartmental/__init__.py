"""Well-mixed compartment models: one declaration, three solvers (ODE, exact SSA, tau-leap)."""

from hyosan.compartmental.catalogue import CATALOGUE, get, names
from hyosan.compartmental.network import Param, Reaction, ReactionNetwork, Species, Strike
from hyosan.compartmental.result import ModelResult
from hyosan.compartmental.simulate import METHODS, simulate

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
