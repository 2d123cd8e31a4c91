"""Reaction networks: a compartment model declared once, solvable by every method.

A :class:`ReactionNetwork` is a list of species, parameters and mass-action reactions, plus
optional scheduled *strikes* (impulsive events that remove a fraction of a compartment at given
times). From that one declaration :meth:`ReactionNetwork.compile` builds the plain arrays that
every solver reads (stoichiometry, reactant indices, rate constants), so adding a model never
needs new solver code.

Rates follow the mass-action convention: a reaction with rate constant ``k`` and reactants
``{S: 1, Z: 1}`` has propensity ``k * S * Z``; a reactant of order ``m`` contributes
``x (x-1) ... (x-m+1) / m!`` stochastically and ``x**m / m!`` deterministically. Rate constants,
initial values and strike fractions are short arithmetic expressions over the parameters (for
instance ``"alpha * beta / N"``), so the catalogue reads like the papers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hyosan.errors import HyosanError

#: The solver ``ReactionNetwork.simulate`` calls: :func:`hyosan.compartmental.simulate.simulate`,
#: installed by that module (the declaration knows nothing of the solvers: no import cycle).
SOLVER: Callable[..., Any] | None = None

#: Most reactant slots one reaction may have (mass action beyond order 3 is not physical).
MAX_REACTANTS = 3

_MATH = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt, "min": min, "max": max}


def evaluate(expr: str, values: Mapping[str, float]) -> float:
    """Evaluate a declared arithmetic expression over parameter values (catalogue code only)."""
    return float(eval(compile(expr, f"<{expr}>", "eval"), {"__builtins__": {}, **_MATH}, dict(values)))


@dataclass(frozen=True)
class Param:
    """A model parameter: default value, unit and meaning."""

    name: str
    default: float
    unit: str
    doc: str
    integer: bool = False


@dataclass(frozen=True)
class Species:
    """A compartment: its letter as in the paper, its initial value (an expression) and meaning."""

    name: str
    initial: str
    doc: str


@dataclass(frozen=True)
class Reaction:
    """A mass-action reaction: reactants (species -> order), net change, rate constant expression."""

    name: str
    reactants: Mapping[str, int]
    change: Mapping[str, int]
    rate: str
    doc: str = ""


@dataclass(frozen=True)
class Strike:
    """Impulsive removal of a fraction of one compartment at t = period, 2 period, 3 period, ...

    ``fraction`` is an expression over the parameters and ``n`` (the strike's number, from 1);
    values above 1 are clamped to 1. Removed individuals go to ``to`` or leave the system.

    ``resets`` are assignments made right after the removal, all from the state just after it,
    e.g. ``(("R", "0"), ("S", "N - Z"))`` (Munz's impulsive eradication). Each is an expression
    over the parameters and the species names that must be linear in the species (the solvers
    apply it as ``const + coef . x``); stochastic counts are rounded and never go below zero.

    Strikes fall at times strictly before the run's end: a strike due at ``t_end`` itself would
    be the first event of a longer run, so a run's final state is never read at a strike instant.
    """

    species: str
    period: str
    fraction: str
    to: str | None = None
    doc: str = ""
    resets: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Compiled:
    """The arrays every solver reads; built by :meth:`ReactionNetwork.compile`."""

    species: tuple[str, ...]
    x0: np.ndarray  # (S,) float64 initial state
    stoich: np.ndarray  # (R, S) int64 net change of each reaction
    reactants: np.ndarray  # (R, MAX_REACTANTS) int64 species index per slot, -1 = empty
    offsets: np.ndarray  # (R, MAX_REACTANTS) int64: earlier slots holding the same species
    rates: np.ndarray  # (R,) float64 rate constants already divided by the m! factors
    strike_times: np.ndarray  # (K,) float64, sorted
    strike_species: np.ndarray  # (K,) int64
    strike_fractions: np.ndarray  # (K,) float64 in [0, 1]
    strike_to: np.ndarray  # (K,) int64, -1 = removed from the system
    reset_const: np.ndarray  # (K, S) float64: after strike k, x[s] = const + coef[k, s] . x; NaN = kept
    reset_coef: np.ndarray  # (K, S, S) float64

    def propensities(self, x: np.ndarray) -> np.ndarray:
        """Deterministic (ODE) reaction rates at state ``x`` (any real values)."""
        a = self.rates.copy()
        for slot in range(self.reactants.shape[1]):
            idx = self.reactants[:, slot]
            used = idx >= 0
            a[used] *= x[idx[used]]
        return a

    def rhs(self, x: np.ndarray) -> np.ndarray:
        """dx/dt = stoich^T a(x)."""
        return self.stoich.T @ self.propensities(x)

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """d(rhs)/dx, exact for mass action."""
        n_r, n_s = self.stoich.shape
        da = np.zeros((n_r, n_s))
        for j in range(n_r):
            slots = [s for s in self.reactants[j] if s >= 0]
            for k, s in enumerate(slots):
                others = slots[:k] + slots[k + 1 :]
                da[j, s] += self.rates[j] * np.prod([x[o] for o in others])
        return self.stoich.T @ da


@dataclass(frozen=True)
class ReactionNetwork:
    """A compartment model: the one declaration every solver works from."""

    name: str
    title: str
    source: str
    time_unit: str
    species: tuple[Species, ...]
    params: tuple[Param, ...]
    reactions: tuple[Reaction, ...]
    strikes: tuple[Strike, ...] = ()
    t_end: float = 10.0
    humans: str = "S"
    zombies: str = "Z"
    r0: str | None = None
    doc: str = ""

    def __post_init__(self) -> None:
        names = {s.name for s in self.species}
        for r in self.reactions:
            unknown = (set(r.reactants) | set(r.change)) - names
            if unknown:
                raise ValueError(f"{self.name}: reaction {r.name} names unknown species {unknown}")
            if sum(r.reactants.values()) > MAX_REACTANTS:
                raise ValueError(f"{self.name}: reaction {r.name} has more than 3 reactants")
        for s in self.strikes:
            if s.species not in names or (s.to is not None and s.to not in names):
                raise ValueError(f"{self.name}: strike names an unknown species")
            if any(target not in names for target, _ in s.resets):
                raise ValueError(f"{self.name}: strike resets an unknown species")

    # -- parameters -------------------------------------------------------------------------
    @property
    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.params}

    @property
    def species_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.species)

    def resolve(self, overrides: Mapping[str, float] | None = None, *, source: str = "params") -> dict:
        """Defaults updated with ``overrides``; rejects unknown names and negative values."""
        values = self.defaults
        for key, value in (overrides or {}).items():
            if key not in values:
                known = ", ".join(values)
                raise HyosanError(
                    f"unknown parameter of model {self.name!r} (known: {known})",
                    source=source,
                    field=key,
                )
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise HyosanError(f"not a number: {value!r}", source=source, field=key) from None
            if not math.isfinite(number) or number < 0:
                raise HyosanError(f"must be a finite number >= 0, got {value!r}", source=source, field=key)
            values[key] = number
        return values

    def r0_value(self, params: Mapping[str, float]) -> float | None:
        """The basic reproduction number where the model's source gives one."""
        if self.r0 is None:
            return None
        try:
            return evaluate(self.r0, params)
        except ZeroDivisionError:
            return math.inf

    def equations(self) -> list[str]:
        """The mean-field ODEs written out from the reactions, e.g. ``S' = Pi - beta*S*Z``."""
        lines = []
        for sp in self.species:
            terms = []
            for r in self.reactions:
                dx = r.change.get(sp.name, 0)
                if not dx:
                    continue
                factors = [f"({r.rate})" if any(c in r.rate for c in "+-/") else r.rate]
                for name, order in r.reactants.items():
                    factors.append(name if order == 1 else f"{name}^{order}/{order}!")
                term = "*".join(factors)
                coeff = "" if abs(dx) == 1 else f"{abs(dx)}*"
                terms.append(("- " if dx < 0 else "+ ") + coeff + term)
            body = " ".join(terms).removeprefix("+ ") if terms else "0"
            lines.append(f"{sp.name}' = {body}")
        return lines

    # -- compilation ------------------------------------------------------------------------
    def compile(self, params: Mapping[str, float], t_end: float) -> Compiled:
        """Arrays for the solvers, with rate constants and strikes evaluated at ``params``."""
        index = {name: i for i, name in enumerate(self.species_names)}
        n_r, n_s = len(self.reactions), len(self.species)
        stoich = np.zeros((n_r, n_s), dtype=np.int64)
        reactants = np.full((n_r, MAX_REACTANTS), -1, dtype=np.int64)
        offsets = np.zeros((n_r, MAX_REACTANTS), dtype=np.int64)
        rates = np.zeros(n_r)
        for j, r in enumerate(self.reactions):
            for name, dx in r.change.items():
                stoich[j, index[name]] = dx
            slot = 0
            factorial = 1
            for name, order in r.reactants.items():
                for m in range(order):
                    reactants[j, slot] = index[name]
                    offsets[j, slot] = m
                    slot += 1
                factorial *= math.factorial(order)
            rates[j] = evaluate(r.rate, params) / factorial
        x0 = np.array([evaluate(s.initial, params) for s in self.species])
        times, sp, frac, to, consts, coefs = [], [], [], [], [], []
        for s in self.strikes:
            period = evaluate(s.period, params)
            if period <= 0:
                continue
            const, coef = self._resets(s, params)
            n = 1
            # Strictly before t_end (with round-off slack): never a strike at the final instant.
            while n * period < t_end * (1.0 - 1e-12):
                times.append(n * period)
                sp.append(index[s.species])
                frac.append(min(1.0, max(0.0, evaluate(s.fraction, {**params, "n": n}))))
                to.append(-1 if s.to is None else index[s.to])
                consts.append(const)
                coefs.append(coef)
                n += 1
        order = np.argsort(times, kind="stable")
        reset_const = np.asarray(consts, dtype=np.float64).reshape(len(times), n_s)[order]
        reset_coef = np.asarray(coefs, dtype=np.float64).reshape(len(times), n_s, n_s)[order]
        return Compiled(
            species=self.species_names,
            x0=x0,
            stoich=stoich,
            reactants=reactants,
            offsets=offsets,
            rates=rates,
            strike_times=np.asarray(times, dtype=np.float64)[order],
            strike_species=np.asarray(sp, dtype=np.int64)[order],
            strike_fractions=np.asarray(frac, dtype=np.float64)[order],
            strike_to=np.asarray(to, dtype=np.int64)[order],
            reset_const=np.ascontiguousarray(reset_const),
            reset_coef=np.ascontiguousarray(reset_coef),
        )

    def _resets(self, strike: Strike, params: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """A strike's resets as ``const`` (S,) and ``coef`` (S, S): x[s] = const[s] + coef[s] . x.

        Read off the expressions at the zero state and at each unit vector, then checked at a
        second point: an expression that is not linear in the species is refused.
        """
        names = self.species_names
        n_s = len(names)
        const = np.full(n_s, np.nan)
        coef = np.zeros((n_s, n_s))

        def at(expr: str, x: np.ndarray) -> float:
            return evaluate(expr, {**params, **dict(zip(names, x.tolist(), strict=True))})

        for target, expr in strike.resets:
            i = names.index(target)
            const[i] = at(expr, np.zeros(n_s))
            coef[i] = [at(expr, np.eye(n_s)[k]) - const[i] for k in range(n_s)]
            probe = np.arange(2.0, 2.0 + n_s) * 7.0
            if not math.isclose(at(expr, probe), const[i] + coef[i] @ probe, rel_tol=1e-9, abs_tol=1e-9):
                raise ValueError(f"{self.name}: strike reset {target} = {expr} is not linear in the species")
        return const, coef

    def simulate(self, method: str = "ode", **kwargs):
        """Solve this model; see :func:`hyosan.compartmental.simulate.simulate`."""
        if SOLVER is None:
            raise RuntimeError("import hyosan.compartmental (it installs the solvers)")
        return SOLVER(self, method=method, **kwargs)
