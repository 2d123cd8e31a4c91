"""The lattice's outbreak parameters, in physical units, and their projection to the compartments.

The issue on shared physical units (issue 12) has not landed yet, so the lattice keeps its own small
parameter set here, in days. It is built so that the later issue can wire the school and the
compartment catalogue into it in one place:

- ``beta``: bites per susceptible-zombie pair per day inside one cell (mass action on counts,
  Alemi's Zombietown). A zombie alone in a cell of ``n`` people bites ``beta * n`` of them a day,
  which is the compartment models' ``beta`` for a population of ``n``
  (:meth:`LatticeParams.compartment` / :meth:`LatticeParams.from_compartment`).
- ``alpha``: zombies killed per human bitten (``kappa / beta``, dimensionless), as in Alemi.
- ``eta``: the latent rate, per day (the bitten turn after ``1/eta`` days on average).
- ``mu``: the coupling of two neighbouring cells, dimensionless: a zombie bites (and is killed by)
  the people of a neighbouring cell at ``mu`` times the in-cell rate, times the edge's weight
  (1 on open ground, more on a road, less on a leaky cordon, 0 across water or a closed cordon).
- ``move_s``, ``move_z``: people and zombies walking to a neighbouring cell, per person per day per
  unit edge weight (0 by default: Alemi's model has no movement; the fast-mixing limit uses it).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from hyosan.errors import HyosanError

#: Units of each parameter, as docs/town.md and ``hyosan town --help`` state them.
UNITS = {
    "beta": "1/(person*day)",
    "alpha": "1",
    "eta": "1/day",
    "mu": "1",
    "move_s": "1/day",
    "move_z": "1/day",
}


@dataclass(frozen=True)
class LatticeParams:
    """Rates of the lattice model (see the module docstring for meaning and units)."""

    beta: float = 1.8e-3
    alpha: float = 0.8
    eta: float = 2.0
    mu: float = 0.1
    move_s: float = 0.0
    move_z: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise HyosanError(
                    f"must be a finite number >= 0, got {value!r}", source="params", field=f.name
                )

    def with_(self, source: str = "params", **overrides: object) -> LatticeParams:
        """A copy with some values changed; unknown names and bad values raise HyosanError."""
        known = {f.name for f in fields(self)}
        clean = {}
        for key, value in overrides.items():
            if key not in known:
                raise HyosanError(
                    f"unknown lattice parameter (known: {', '.join(sorted(known))})", source=source, field=key
                )
            try:
                clean[key] = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise HyosanError(f"not a number: {value!r}", source=source, field=key) from None
        try:
            return replace(self, **clean)
        except HyosanError as exc:
            raise HyosanError(exc.message, source=source, field=exc.field) from None

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    # -- projections to the compartment catalogue (hyosan.models "alemi-latent") -----------------
    def compartment(self, n: float) -> dict[str, float]:
        """Parameters of ``alemi-latent`` equal to one isolated cell of ``n`` people.

        In a cell, bite = beta*S*Z and kill = alpha*beta*S*Z; the catalogue writes them
        beta_c/N*S*Z and alpha*beta_c/N*S*Z, so beta_c = beta*n with N = n.
        """
        return {"beta": self.beta * n, "alpha": self.alpha, "eta": self.eta, "N": float(n)}

    @classmethod
    def from_compartment(
        cls, beta: float, alpha: float, eta: float, n: float, **rest: float
    ) -> LatticeParams:
        """The lattice rates whose one cell of ``n`` people is the compartment model (beta per day
        for the whole population of ``n``): the inverse of :meth:`compartment`."""
        if n <= 0:
            raise HyosanError("the reference population must be > 0", source="params", field="N")
        return cls(beta=beta / n, alpha=alpha, eta=eta, **rest)
