"""A school scenario's outbreak numbers in physical units, read one way for every resolution.

The school projects them into its kernels (:mod:`hyosan.assemble`), the compartment models derive
their rates from them (``hyosan model alemi --from``, :mod:`hyosan.outbreak`) and the town takes
them for its cells (:mod:`hyosan.lattice.scenario`). docs/units.md maps them both ways.

- the bite rate: ``bite_rate``, or ``bite_prob`` as a chance per second (rate = -ln(1 - p));
- the humans' kill rate: each role's ``strength`` (1/s of contact), a character's own where pinned,
  weighted by the number of starting humans;
- the mean incubation in seconds, clipped as the population's draws are.
"""

from __future__ import annotations

from hyosan.scenario.schema import IncubationConfig, Scenario
from hyosan.scenario.timefmt import parse_duration
from hyosan.units import mean_incubation_s, rate_of_chance


def bite_rate(cfg) -> float:
    """A zombie's (or hostile halfbie's) bite rate per second of contact, from ``bite_rate`` or
    else ``bite_prob`` (a chance per second)."""
    return float(cfg.bite_rate) if cfg.bite_rate is not None else rate_of_chance(float(cfg.bite_prob))


def human_kill_rates(sc: Scenario) -> list[tuple[str, int, float]]:
    """(role, starting humans, their mean kill rate in 1/s) for each role with humans: the role's
    ``strength``, a character's own where pinned."""
    count = dict.fromkeys(sc.roles, 0)
    total = dict.fromkeys(sc.roles, 0.0)
    for p in sc.population:
        if p.state == "human":
            count[p.role] += p.count
            total[p.role] += p.count * float(sc.roles[p.role].strength)
    for ch in sc.characters:
        count[ch.role] += 1
        total[ch.role] += float(ch.strength if ch.strength is not None else sc.roles[ch.role].strength)
    return [(r, count[r], total[r] / count[r]) for r in sc.roles if count[r] > 0]


def kill_rate(sc: Scenario) -> float:
    """The humans' kill rate (1/s), weighted by the population's composition (with nobody human
    at the start, the roles' plain mean)."""
    rates = human_kill_rates(sc)
    n = sum(c for _, c, _ in rates)
    if n:
        return sum(c * k for _, c, k in rates) / n
    strengths = [float(r.strength) for r in sc.roles.values()]
    return sum(strengths) / len(strengths) if strengths else 0.0


def mean_incubation(cfg: IncubationConfig) -> float:
    """The mean incubation in seconds (:func:`hyosan.units.mean_incubation_s` of the scenario's
    distribution; the rounding to whole ticks left out)."""
    median, lo, hi = parse_duration(cfg.median), parse_duration(cfg.min), parse_duration(cfg.max)
    return mean_incubation_s(cfg.distribution, median, float(cfg.sigma), lo, hi)


def outbreak_of(sc: Scenario) -> dict[str, float]:
    """``bite_rate``, ``kill_rate`` and ``incubation_s`` of a validated school scenario."""
    return {
        "bite_rate": bite_rate(sc.zombies),
        "kill_rate": kill_rate(sc),
        "incubation_s": mean_incubation(sc.infection.incubation),
    }
