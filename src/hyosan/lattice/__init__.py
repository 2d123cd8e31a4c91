"""The town and the country: a lattice of cells with S, E, Z, R counts coupled to their neighbours.

Alemi et al.'s Zombietown (2015) with an exact composition-rejection solver and tau-leaping, the
one-person-per-site bond lattice, cordons, strikes, evacuations and seeding from a school run.
See docs/town.md.
"""

from hyosan.lattice.city import generate_hyosan, load_hyosan, synthetic_country
from hyosan.lattice.events import TownEvent
from hyosan.lattice.grid import Lattice, read_geotiff, read_grid
from hyosan.lattice.model import CELL, SEZR, Coupling, Hop, LatticeModel
from hyosan.lattice.params import LatticeParams
from hyosan.lattice.result import TownResult
from hyosan.lattice.scenario import load_town, school_escapes
from hyosan.lattice.simulate import METHODS, simulate

__all__ = [
    "CELL",
    "METHODS",
    "SEZR",
    "Coupling",
    "Hop",
    "Lattice",
    "LatticeModel",
    "LatticeParams",
    "TownEvent",
    "TownResult",
    "generate_hyosan",
    "load_hyosan",
    "load_town",
    "read_geotiff",
    "read_grid",
    "school_escapes",
    "simulate",
    "synthetic_country",
]
