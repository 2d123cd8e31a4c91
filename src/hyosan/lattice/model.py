"""The lattice model, declared the way the compartment catalogue declares its models.

A :class:`LatticeModel` is a :class:`~hyosan.compartmental.network.ReactionNetwork` for what
happens inside one cell, plus :class:`Coupling` reactions between a cell and a neighbour and
:class:`Hop` moves to a neighbour. :meth:`LatticeModel.compile` evaluates every rate expression at
the parameters and hands the kernels plain numbers.

The kernels (exact and tau-leaping) are specialised to the shape of :data:`SEZR`: one network of
S, E, Z, R with a bite, a kill and a turn, bites and kills across each edge, and hops of S and Z.
Specialising is what makes them fast (a generic kernel would read the stoichiometry table for every
reaction). :meth:`LatticeModel.compile` checks that a declared model has exactly that shape, with
any rates, and refuses another one, so the declaration and the kernels cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from hyosan.compartmental.network import Param, Reaction, ReactionNetwork, Species, evaluate
from hyosan.errors import HyosanError
from hyosan.lattice.params import UNITS, LatticeParams


@dataclass(frozen=True)
class Coupling:
    """A reaction between a cell (``here``) and a neighbour (``there``) across an edge.

    Its propensity is ``rate * weight(edge) * prod(here reactants) * prod(there reactants)``.
    """

    name: str
    here: Mapping[str, int]
    there: Mapping[str, int]
    change_here: Mapping[str, int]
    change_there: Mapping[str, int]
    rate: str
    doc: str = ""


@dataclass(frozen=True)
class Hop:
    """One of ``species`` walks to a neighbour at ``rate * weight(edge)`` per individual."""

    species: str
    rate: str
    doc: str = ""


class Rates(NamedTuple):
    """What the kernels read, by name: every rate constant evaluated, per day (from the physical
    units by :func:`hyosan.units.lattice_rates`)."""

    bite: float
    kill: float
    turn: float
    bite_across: float  # per unit edge weight
    kill_across: float
    hop_s: float
    hop_z: float


@dataclass(frozen=True)
class LatticeModel:
    name: str
    local: ReactionNetwork
    couplings: tuple[Coupling, ...]
    hops: tuple[Hop, ...]
    doc: str = ""

    def _find(self, reactants: dict, change: dict) -> str:
        for r in self.local.reactions:
            if dict(r.reactants) == reactants and dict(r.change) == change:
                return r.rate
        raise HyosanError(
            f"the lattice kernels need a reaction {reactants} -> {change}", source=f"model {self.name}"
        )

    def compile(self, params: LatticeParams) -> Rates:
        """Evaluate the declared rates at ``params``; refuse a shape the kernels do not implement."""
        if self.local.species_names != ("S", "E", "Z", "R") or len(self.local.reactions) != 3:
            raise HyosanError(
                "the lattice kernels implement S, E, Z, R with bite, kill and turn",
                source=f"model {self.name}",
            )
        values = params.as_dict()
        bite = self._find({"S": 1, "Z": 1}, {"S": -1, "E": 1})
        kill = self._find({"S": 1, "Z": 1}, {"Z": -1, "R": 1})
        turn = self._find({"E": 1}, {"E": -1, "Z": 1})
        across = {}
        for c in self.couplings:
            key = (dict(c.here), dict(c.there), dict(c.change_here), dict(c.change_there))
            if key == ({"S": 1}, {"Z": 1}, {"S": -1, "E": 1}, {}):
                across["bite"] = c.rate
            elif key == ({"S": 1}, {"Z": 1}, {}, {"Z": -1, "R": 1}):
                across["kill"] = c.rate
            else:
                raise HyosanError(
                    f"coupling {c.name!r} has a shape the kernels do not implement",
                    source=f"model {self.name}",
                )
        hops = {h.species: h.rate for h in self.hops}
        if set(hops) - {"S", "Z"} or set(across) != {"bite", "kill"}:
            raise HyosanError(
                "the lattice kernels need bite and kill couplings and hops of S or Z only",
                source=f"model {self.name}",
            )
        return Rates(
            bite=evaluate(bite, values),
            kill=evaluate(kill, values),
            turn=evaluate(turn, values),
            bite_across=evaluate(across["bite"], values),
            kill_across=evaluate(across["kill"], values),
            hop_s=evaluate(hops["S"], values) if "S" in hops else 0.0,
            hop_z=evaluate(hops["Z"], values) if "Z" in hops else 0.0,
        )


def _param(name: str, default: float, doc: str) -> Param:
    return Param(name, default, UNITS[name], doc)


#: The per-day projections of the default outbreak (:class:`LatticeParams`).
_DEFAULTS = LatticeParams().as_dict()

#: One cell: Alemi's SEZR with mass action on counts (no division by N: cells are areas).
CELL = ReactionNetwork(
    name="lattice-cell",
    title="One lattice cell (SEZR, mass action on counts)",
    source="Alemi, Bierbaum, Myers & Sethna (2015), Phys. Rev. E 92, 052801 (Zombietown USA)",
    time_unit="days",
    species=(
        Species("S", "N", "susceptible people in the cell"),
        Species("E", "0", "bitten, turning at rate eta"),
        Species("Z", "Z0", "zombies in the cell"),
        Species("R", "0", "removed zombies"),
    ),
    params=(
        _param(
            "beta",
            _DEFAULTS["beta"],
            "bites per susceptible-zombie pair per day in a cell (contact_s * bite_rate)",
        ),
        _param(
            "kappa",
            _DEFAULTS["kappa"],
            "kills per susceptible-zombie pair per day in a cell (contact_s * kill_rate)",
        ),
        _param(
            "eta", _DEFAULTS["eta"], "latent rate: the bitten turn after 1/eta days (86400 / incubation_s)"
        ),
        Param("N", 1000.0, "people", "people in the cell", integer=True),
        Param("Z0", 1.0, "zombies", "zombies in the cell at the start", integer=True),
    ),
    reactions=(
        Reaction("bite", {"S": 1, "Z": 1}, {"S": -1, "E": +1}, "beta", "a zombie bites a human"),
        Reaction("kill", {"S": 1, "Z": 1}, {"Z": -1, "R": +1}, "kappa", "a human kills a zombie"),
        Reaction("turn", {"E": 1}, {"E": -1, "Z": +1}, "eta", "the bitten turn"),
    ),
    t_end=30.0,
    doc="What happens inside one cell of the lattice; equal to alemi-latent with beta_c = beta N "
    "and alpha = kappa / beta.",
)

#: The town and country model: :data:`CELL` in every cell, bites and kills across edges, walking.
SEZR = LatticeModel(
    name="sezr",
    local=CELL,
    couplings=(
        Coupling(
            "bite across",
            {"S": 1},
            {"Z": 1},
            {"S": -1, "E": +1},
            {},
            "mu * beta",
            "a zombie bites a human of the neighbouring cell",
        ),
        Coupling(
            "kill across",
            {"S": 1},
            {"Z": 1},
            {},
            {"Z": -1, "R": +1},
            "mu * kappa",
            "a human kills a zombie of the neighbouring cell",
        ),
    ),
    hops=(
        Hop("S", "move_s", "people walk to a neighbouring cell"),
        Hop("Z", "move_z", "zombies shamble to a neighbouring cell"),
    ),
    doc="Alemi's Zombietown: SEZR in each cell, the same reactions across each edge at mu times "
    "the rate (times the edge's weight), optional walking.",
)
