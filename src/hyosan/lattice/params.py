"""The lattice's outbreak parameters: the shared physical units, and their projection to a cell.

A town takes the same outbreak numbers as the school and the compartment models (docs/units.md):

- ``bite_rate``: a zombie's bites per second of contact (1/s; the school's ``zombies.bite_rate``);
- ``kill_rate``: a person's kills per second of contact with a zombie (1/s; the school's roles'
  ``strength``);
- ``incubation_s``: the mean time from a bite to turning, in seconds (the school's
  ``infection.incubation``, its mean: :func:`hyosan.units.mean_incubation_s`);

plus what only the lattice has:

- ``contact_s``: seconds a day a given person and a given zombie sharing a cell are in contact
  (s/day): the contact rate that turns rates per second of contact into mass action;
- ``mu``: the coupling of two neighbouring cells, dimensionless: a zombie bites (and is killed by)
  the people of a neighbouring cell at ``mu`` times the in-cell rate, times the edge's weight
  (1 on open ground, more on a road, less on a leaky cordon, 0 across water or a closed cordon);
- ``move_s``, ``move_z``: people and zombies walking to a neighbouring cell, per person per day per
  unit edge weight (0 by default: Alemi's model has no movement; the fast-mixing limit uses it).

:func:`hyosan.units.lattice_rates` projects them to what a cell's reactions read, per day:
``beta = contact_s * bite_rate`` (bites per person-zombie pair per day), ``kappa = contact_s *
kill_rate`` (kills), ``alpha = kappa / beta = kill_rate / bite_rate`` and ``eta = 86400 /
incubation_s`` (the latent rate). The defaults are Alemi's Zombietown (beta 1.8e-3 a day, alpha 0.8,
eta 2 a day) stated that way: bites 0.5/s, kills 0.4/s, 3.6 ms of contact a day, 12 h incubation.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from hyosan import units
from hyosan.errors import HyosanError
from hyosan.scenario.timefmt import parse_duration

#: Units of each parameter (and of the per-day projections the kernels read), as docs/town.md and
#: ``hyosan town --help`` state them.
UNITS = {
    "bite_rate": "1/s of contact",
    "kill_rate": "1/s of contact",
    "incubation_s": "s",
    "contact_s": "s/day",
    "mu": "1",
    "move_s": "1/day",
    "move_z": "1/day",
    "beta": "1/(person*day)",
    "kappa": "1/(person*day)",
    "alpha": "1",
    "eta": "1/day",
}
#: Per-day rates of the lattice before the shared units: refused, with the way to state them now.
_OLD = {
    "beta": "contact_s * bite_rate",
    "alpha": "kill_rate / bite_rate",
    "eta": "86400 / incubation_s",
    "kappa": "contact_s * kill_rate",
}


@dataclass(frozen=True)
class LatticeParams:
    """The outbreak in physical units plus the lattice's coupling (see the module docstring)."""

    bite_rate: float = 0.5
    kill_rate: float = 0.4
    incubation_s: float = 43200.0
    contact_s: float = 3.6e-3
    mu: float = 0.1
    move_s: float = 0.0
    move_z: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
            if f.name == "incubation_s":
                ok = ok and value > 0  # math.inf: nobody turns
            else:
                ok = ok and math.isfinite(value)
            if not ok:
                need = (
                    "a number of seconds > 0 (inf: never)"
                    if f.name == "incubation_s"
                    else "a finite number >= 0"
                )
                raise HyosanError(f"must be {need}, got {value!r}", source="params", field=f.name)

    # -- the projection to a cell, per day (hyosan.units.lattice_rates) --------------------------
    @property
    def rates(self) -> tuple[float, float, float]:
        """(beta, kappa, eta) per day: :func:`hyosan.units.lattice_rates` of these numbers."""
        return units.lattice_rates(self.bite_rate, self.kill_rate, self.incubation_s, self.contact_s)

    @property
    def beta(self) -> float:
        return self.rates[0]

    @property
    def kappa(self) -> float:
        return self.rates[1]

    @property
    def alpha(self) -> float:
        return units.alpha(self.kill_rate, self.bite_rate)

    @property
    def eta(self) -> float:
        return self.rates[2]

    def with_(self, source: str = "params", **overrides: object) -> LatticeParams:
        """A copy with some values changed; unknown names, old per-day names and bad values raise
        HyosanError naming ``source`` and the field. ``bite_prob`` (a chance per second of contact)
        sets ``bite_rate``; ``incubation`` takes a duration ("6min", "1h", or seconds)."""
        return replace_checked(self, overrides, source)

    def as_dict(self) -> dict[str, float]:
        """The parameters and their per-day projections (what the model's rate expressions read)."""
        beta, kappa, eta = self.rates
        return {**asdict(self), "beta": beta, "kappa": kappa, "alpha": self.alpha, "eta": eta}

    # -- the compartment catalogue (hyosan.models "alemi-latent") --------------------------------
    def compartment(self, n: float) -> dict[str, float]:
        """Parameters of ``alemi-latent`` equal to one isolated cell of ``n`` people.

        In a cell, bite = beta*S*Z and kill = kappa*S*Z; the catalogue writes them
        beta_c/N*S*Z and alpha*beta_c/N*S*Z, so beta_c = beta*n with N = n, alpha = kappa/beta.
        """
        beta, kappa, eta = self.rates
        return {"beta": beta * n, "alpha": kappa / beta if beta > 0 else 0.0, "eta": eta, "N": float(n)}

    @classmethod
    def per_day(
        cls, beta: float, alpha: float, eta: float, *, bite_rate: float = 0.5, **rest: float
    ) -> LatticeParams:
        """The parameters whose cell has Alemi's per-day ``beta``, ``alpha`` and ``eta``, for a
        zombie biting at ``bite_rate`` per second of contact (the contact time makes up the rest):
        the inverse of :attr:`rates`, for stating a model the way the papers do."""
        if bite_rate <= 0:
            raise HyosanError("must be > 0", source="params", field="bite_rate")
        return cls(
            bite_rate=bite_rate,
            kill_rate=units.kill_rate_for_alpha(alpha, bite_rate),
            incubation_s=units.DAY_S / eta if eta > 0 else math.inf,
            contact_s=beta / bite_rate,
            **rest,
        )

    @classmethod
    def from_compartment(
        cls, beta: float, alpha: float, eta: float, n: float, **rest: float
    ) -> LatticeParams:
        """The lattice parameters whose one cell of ``n`` people is the compartment model (beta per
        day for the whole population of ``n``): the inverse of :meth:`compartment`."""
        if n <= 0:
            raise HyosanError("the reference population must be > 0", source="params", field="N")
        return cls.per_day(beta / n, alpha, eta, **rest)


def _number(value: object, source: str, key: str) -> float:
    if isinstance(value, bool):
        raise HyosanError(f"not a number: {value!r}", source=source, field=key)
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise HyosanError(f"not a number: {value!r}", source=source, field=key) from None


def clean_values(values: dict[str, Any], source: str, prefix: str = "") -> dict[str, float]:
    """Outbreak and coupling values as given (a TOML table, ``--set``) to :class:`LatticeParams`
    fields: ``bite_prob`` becomes ``bite_rate`` (``-ln(1 - p)``), ``incubation`` a duration in
    seconds; both forms of one number, the lattice's old per-day rates, unknown names and bad
    values are refused in one line naming ``source`` and the field (``prefix`` + name)."""
    known = {f.name for f in fields(LatticeParams)}
    out: dict[str, float] = {}
    for key, value in values.items():
        field = prefix + key
        if key in _OLD:
            raise HyosanError(
                f"per-day rates are not taken: state the outbreak in physical units ({key} = "
                f"{_OLD[key]}; rates in 1/s of contact, incubation in s, contact_s in s/day; docs/town.md)",
                source=source,
                field=field,
            )
        if key == "bite_prob":
            if "bite_rate" in values:
                raise HyosanError(
                    "give bite_rate (1/s) or bite_prob (chance per second), not both",
                    source=source,
                    field=field,
                )
            p = _number(value, source, field)
            if not 0 <= p < 1:
                raise HyosanError(
                    f"a chance per second must be in [0, 1), got {p!r}", source=source, field=field
                )
            out["bite_rate"] = units.rate_of_chance(p)
        elif key in ("incubation", "incubation_s"):
            if "incubation" in values and "incubation_s" in values:
                raise HyosanError("give incubation or incubation_s, not both", source=source, field=field)
            if isinstance(value, str) and key == "incubation":
                if value.strip().lower() in ("inf", "never"):
                    out["incubation_s"] = math.inf
                    continue
                try:
                    out["incubation_s"] = parse_duration(value)
                except ValueError as exc:
                    raise HyosanError(str(exc), source=source, field=field) from None
            else:
                out["incubation_s"] = _number(value, source, field)
        elif key in known:
            out[key] = _number(value, source, field)
        else:
            names = ", ".join(sorted(known | {"bite_prob", "incubation"}))
            raise HyosanError(
                f"unknown lattice parameter (known: {names})",
                source=source,
                field=field,
            )
    return out


def replace_checked(
    params: LatticeParams, values: dict[str, Any], source: str, prefix: str = ""
) -> LatticeParams:
    """``params`` with ``values`` (see :func:`clean_values`) put in, every value checked."""
    clean = clean_values(values, source, prefix)
    try:
        return replace(params, **clean)
    except HyosanError as exc:
        raise HyosanError(exc.message, source=source, field=prefix + (exc.field or "")) from None
