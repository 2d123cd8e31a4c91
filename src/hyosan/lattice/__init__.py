"""The town and the country: a lattice of cells with S, E, Z, R counts coupled to their neighbours.

Alemi et al.'s Zombietown (2015) with an exact composition-rejection solver and tau-leaping, the
one-person-per-site bond lattice, cordons, strikes, evacuations and seeding from a school run.
See docs/town.md.
"""

import importlib

#: Each public name and the module that defines it: imported on first use (PEP 562), so that
#: ``hyosan.cli``, which registers ``hyosan town``, does not load the solvers and their numba
#: kernels at start-up (``hyosan studio`` and ``--help`` print at once).
_WHERE = {
    "generate_hyosan": "city",
    "load_hyosan": "city",
    "synthetic_country": "city",
    "TownEvent": "events",
    "Lattice": "grid",
    "read_geotiff": "grid",
    "read_grid": "grid",
    "CELL": "model",
    "SEZR": "model",
    "Coupling": "model",
    "Hop": "model",
    "LatticeModel": "model",
    "LatticeParams": "params",
    "TownResult": "result",
    "load_town": "scenario",
    "school_escapes": "scenario",
    "METHODS": "simulate",
    "simulate": "simulate",
}


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'hyosan.lattice' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"hyosan.lattice.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


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
