"""The outbreak's one set of parameters, in physical units, and what each resolution makes of them.

A scenario gives rates per second of contact (a zombie's bite ``b``, a human's kill ``k``), or
chances per second of contact ``p`` (the same thing: ``r = -ln(1 - p)``). Each resolution turns
them into its own terms (docs/units.md):

- the school's ticks of ``dt`` seconds: during a tick of contact the zombie and its victim race,
  the first event coming at the total rate ``k + b``: something happens with chance
  ``1 - exp(-(k + b) dt)``, a kill with share ``k / (k + b)`` of that, else a bite. The chances per
  contact *time* are then those of the continuous race whatever ``dt`` is (tick independence);
- the compartment models (Alemi's SZR, mass action): if a given zombie-human pair is in contact
  a share ``c`` of the time (measured on the ABM), the pair's bite rate is ``beta = c * b`` and its
  kill rate ``kappa = c * k = alpha * beta`` with ``alpha = k / b``: kills per bite, the ratio of
  the rates, whatever the contact rate.
"""

from __future__ import annotations

import math

#: The compartment models a scenario's rates map onto (``hyosan model NAME --from SCENARIO``).
ALEMI_MODELS = ("alemi", "alemi-latent")
#: The contact rate's measurement on the agents (:func:`hyosan.outbreak.measure_contacts`):
#: runs (seeds) and minutes after the first zombie; the half hour covers Hyosan High's take-off.
CONTACT_SEEDS = 3
CONTACT_MINUTES = 30.0


def rate_of_chance(p: float) -> float:
    """The rate per second (1/s) of an event that happens with chance ``p`` in a second."""
    if p >= 1.0:
        return math.inf
    return -math.log1p(-p)


def chance_of_rate(rate: float, dt: float = 1.0) -> float:
    """The chance that an event of ``rate`` (1/s) happens within ``dt`` seconds."""
    if math.isinf(rate):
        return 1.0
    return -math.expm1(-rate * dt)


def alpha(kill_rate: float, bite_rate: float) -> float:
    """Alemi's alpha (kills per bite in a contact) from the rates: ``k / b``."""
    return kill_rate / bite_rate if bite_rate > 0 else math.inf


def kill_rate_for_alpha(a: float, bite_rate: float) -> float:
    """The kill rate that gives Alemi's ``alpha = a`` with ``bite_rate``."""
    return a * bite_rate


def alemi_rates(kill_rate: float, bite_rate: float, contact_rate: float) -> tuple[float, float]:
    """(beta, kappa) per zombie-human pair per second for Alemi's SZR, from the ABM's rates and
    the measured ``contact_rate`` (the share of a zombie's seconds spent in contact with a
    given human, summed: contacts-seconds per zombie-human pair per second).

    A pair in contact is bitten at ``b`` and kills at ``k``: ``beta = c * b``,
    ``kappa = c * k`` (so ``kappa / beta = alpha``). Multiply by N for the models' per-capita form.
    """
    return contact_rate * bite_rate, contact_rate * kill_rate


# --- the lattice (hyosan.lattice): the same numbers per person-zombie pair per day in one cell ---

#: Seconds in a day: the lattice's unit of time (and the compartment catalogue's).
DAY_S = 86400.0


def mean_incubation_s(distribution: str, median_s: float, sigma: float, min_s: float, max_s: float) -> float:
    """The mean time (s) from a bite to turning of the school's incubation, drawn as
    ``hyosan.populate.draw_incubation`` draws it and then clipped to ``[min_s, max_s]``
    (lognormal of ``median_s`` and ``sigma``; exponential of mean ``median_s``; uniform on
    ``[min_s, max_s]``; fixed ``median_s``). A compartment or a lattice cell turns its bitten at
    the latent rate ``1 / mean`` (exponential waits with the same mean)."""
    lo, hi = float(min_s), float(max_s)
    m = float(median_s)
    if distribution == "uniform":
        return 0.5 * (lo + hi)
    if distribution == "fixed" or (distribution == "lognormal" and (sigma <= 0 or m <= 0)):
        return min(max(m, lo), hi)
    if distribution == "exponential":
        if m <= 0:
            return lo
        return lo + m * (math.exp(-lo / m) - (math.exp(-hi / m) if math.isfinite(hi) else 0.0))
    if distribution != "lognormal":
        raise ValueError(f"unknown incubation distribution {distribution!r}")

    # E[clip(X, lo, hi)] for X = m exp(sigma N): lo P(X < lo) + hi P(X > hi) + E[X; lo <= X <= hi],
    # with E[X; X <= x] = m exp(sigma^2 / 2) Phi((ln(x / m) - sigma^2) / sigma).
    def phi(x: float) -> float:
        return 0.5 * math.erfc(-x / math.sqrt(2.0))

    za = math.log(lo / m) / sigma if lo > 0 else -math.inf
    zb = math.log(hi / m) / sigma if math.isfinite(hi) else math.inf
    middle = m * math.exp(0.5 * sigma * sigma) * (phi(zb - sigma) - phi(za - sigma))
    return lo * phi(za) + (hi * (1.0 - phi(zb)) if math.isfinite(hi) else 0.0) + middle


def lattice_rates(
    bite_rate: float, kill_rate: float, incubation_s: float, contact_s_per_day: float
) -> tuple[float, float, float]:
    """(beta, kappa, eta) of one lattice cell, per day: bites and kills per person-zombie pair per
    day, and the latent rate. ``contact_s_per_day`` is how many seconds a day a given person and a
    given zombie sharing the cell are in contact: the contact rate ``c`` of :func:`alemi_rates` is
    that over :data:`DAY_S`, so ``beta = contact * b`` and ``kappa = contact * k`` (kappa / beta =
    :func:`alpha`), and ``eta = DAY_S / incubation_s`` (0 for an endless incubation)."""
    beta_s, kappa_s = alemi_rates(kill_rate, bite_rate, contact_s_per_day / DAY_S)
    eta = DAY_S / incubation_s if incubation_s > 0 and math.isfinite(incubation_s) else 0.0
    return beta_s * DAY_S, kappa_s * DAY_S, eta
