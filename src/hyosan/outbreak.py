"""A compartment model's parameters from a school scenario: the bridge between two resolutions.

``hyosan model alemi --from hyosan-high`` reads the scenario's outbreak section and measures
its contact rate on the agents (docs/units.md):

- ``b``: the zombies' bite rate (``zombies.bite_rate``, or ``bite_prob`` as a rate), 1/s of contact;
- ``k``: the humans' kill rate, each role's ``strength`` (a character's own where pinned)
  weighted by how many of the starting humans have it (the population's composition);
- ``c``: the contact rate, measured on short runs of the scenario (:func:`measure_contacts`):
  the share of the time a given zombie-human pair is in contact. A pair in contact is bitten at
  ``b``, so the bites the zombies make are ``b`` times the contact time, and
  ``c = bites / (b * integral of S Z dt)`` over the measuring window (S: humans never bitten,
  Z: zombies, both counted every tick). The count of bites comes from the contact kernel itself,
  so the estimate needs no model of who stands next to whom, and it is exact in expectation;
- then ``beta = c b`` and ``kappa = c k`` per pair per second (:func:`hyosan.units.alemi_rates`),
  ``alpha = k / b``; the catalogue's Alemi models take the per-capita ``beta N`` in their own
  time unit (days); ``N`` counts the starting humans and zombies, ``Z0`` the starting zombies
  (1, patient zero, when the scenario starts with none); ``eta`` (alemi-latent) is one over the
  mean incubation, clipped as the scenario clips it.

This module sits above the school engine and the compartment catalogue, which know nothing of
each other; the CLI calls it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from hyosan.compartmental.catalogue import get as get_model
from hyosan.engine import Simulation
from hyosan.errors import HyosanError
from hyosan.scenario.load import LoadedScenario, load_scenario
from hyosan.scenario.rates import bite_rate, human_kill_rates, kill_rate, mean_incubation
from hyosan.scenario.schema import Scenario
from hyosan.states import State
from hyosan.units import ALEMI_MODELS, CONTACT_MINUTES, CONTACT_SEEDS, alemi_rates, alpha

#: Seconds in each time unit a catalogue model may use.
SECONDS_PER = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0, "days": 86400.0}
SEEDS, MINUTES, MODELS = CONTACT_SEEDS, CONTACT_MINUTES, ALEMI_MODELS


@dataclass(frozen=True)
class Row:
    """One line of the derivation: a number, its unit and where it came from."""

    name: str
    value: float
    unit: str
    source: str


@dataclass(frozen=True)
class ContactMeasure:
    """The contact rate measured on runs of a scenario, one entry per seed.

    ``bites``: bites of humans by zombies in the window; ``exposure``: the integral of
    S(t) Z(t) dt over the window (pair-seconds); ``kills``: zombies destroyed in the window;
    ``first_zombie_s``: when the first zombie appeared (seconds after the start; nan if none);
    ``window_s``: when the window ended (seconds after the start).
    """

    bite_rate: float
    minutes: float
    seeds: tuple[int, ...]
    bites: tuple[int, ...]
    exposure: tuple[float, ...]
    kills: tuple[int, ...]
    first_zombie_s: tuple[float, ...]
    window_s: tuple[float, ...]

    @property
    def rate(self) -> float:
        """The contact rate over every seed (pooled: all bites over all exposure)."""
        return sum(self.bites) / (self.bite_rate * sum(self.exposure))

    def per_seed(self) -> list[float]:
        """The contact rate of each seed alone (nan where a seed had no exposure)."""
        return [
            b / (self.bite_rate * e) if e > 0 else math.nan
            for b, e in zip(self.bites, self.exposure, strict=True)
        ]

    def as_dict(self) -> dict:
        return {
            "contact_rate": self.rate,
            "per_seed": {
                str(s): (None if math.isnan(v) else v)
                for s, v in zip(self.seeds, self.per_seed(), strict=True)
            },
            "bites": list(self.bites),
            "exposure_pair_s": list(self.exposure),
            "kills": list(self.kills),
            "first_zombie_s": [None if math.isnan(v) else v for v in self.first_zombie_s],
            "window_s": list(self.window_s),
            "minutes": self.minutes,
            "seeds": list(self.seeds),
        }


@dataclass(frozen=True)
class Derivation:
    """A model's parameters derived from a scenario: ``params`` go to the model, ``rows`` say
    where each number came from, ``t_end`` is the scenario's duration in the model's unit."""

    model: str
    scenario: str
    params: dict[str, float]
    t_end: float
    time_unit: str
    contacts: ContactMeasure
    rows: list[Row] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "model": self.model,
            "scenario": self.scenario,
            "params": self.params,
            "t_end": self.t_end,
            "time_unit": self.time_unit,
            "contacts": self.contacts.as_dict(),
            "rows": [
                {"name": r.name, "value": r.value, "unit": r.unit, "source": r.source} for r in self.rows
            ],
        }


# -- the scenario's numbers ------------------------------------------------------------------
def starting(sc: Scenario) -> tuple[int, int]:
    """(humans, zombies) at the start; characters are humans."""
    humans = sum(p.count for p in sc.population if p.state == "human") + len(sc.characters)
    zombies = sum(p.count for p in sc.population if p.state == "zombie")
    return humans, zombies


def load_source(spec: str) -> LoadedScenario:
    """What ``--from`` names: a built-in scenario, a scenario file, or a run folder (its
    ``scenario.toml``, which records the run's seed: the measurement starts from it)."""
    path = Path(spec)
    if path.is_dir():
        if not (path / "scenario.toml").is_file():
            raise HyosanError(
                "not a run folder (no scenario.toml) nor a scenario file", source=spec, field="--from"
            )
        return load_scenario(path / "scenario.toml")
    return load_scenario(spec)


# -- the measurement -------------------------------------------------------------------------
def _zombie_agents(sim: Simulation, start: np.ndarray) -> np.ndarray:
    """Who was (or became) a zombie rather than a halfbie: the starting zombies, and anyone
    else whose turning was drawn to make a zombie."""
    return (start == State.ZOMBIE) | ((start != State.HALFBIE) & ~sim.pop.halfbie.astype(bool))


class RunContacts(NamedTuple):
    """One measuring run: zombie ``bites`` of humans, ``exposure`` (the integral of S Z dt,
    pair-seconds), zombies destroyed (``kills``), the first zombie's time and the window's end
    (seconds after the start; the first is nan when no zombie appeared)."""

    bites: int
    exposure: float
    kills: int
    first_zombie_s: float
    end_s: float


def measure_run(sim: Simulation, window: int) -> RunContacts:
    """Run a fresh simulation until ``window`` ticks after its first zombie appears (or its end)
    and count what the contact rate is measured from (module doc)."""
    if sim.tick != 0:
        raise ValueError("measure_run needs a simulation that has not started")
    dt = sim.tick_seconds
    start = sim.pop.state.copy()
    chunk = max(1, min(60, window))  # never past the window's end: first >= tick - chunk + 1
    first = None
    while True:
        zombies = sim.counts[: sim.tick + 1, State.ZOMBIE].sum(axis=1)
        seen = np.flatnonzero(zombies > 0)
        if seen.size:
            first = int(seen[0])
            break
        if sim.done:
            break
        sim.step(chunk)
    if first is not None:
        sim.run_until(min(sim.n_ticks, max(sim.tick, first + window)))
    end = sim.tick
    counts = sim.counts[:end].astype(np.float64)  # the state before each tick of the window
    exposure = float((counts[:, State.HUMAN].sum(axis=1) * counts[:, State.ZOMBIE].sum(axis=1)).sum() * dt)
    is_zombie = _zombie_agents(sim, start)
    events = sim.result().events
    kills = events[(events["kind"].astype(str) == "kill") & (events["b"] >= 0)]
    return RunContacts(
        bites=int(sim.pop.bites[is_zombie].sum()),
        exposure=exposure,
        kills=int(is_zombie[kills["b"].to_numpy()].sum()),
        first_zombie_s=math.nan if first is None else first * dt,
        end_s=end * dt,
    )


def measure_contacts(loaded: LoadedScenario, seeds: int = SEEDS, minutes: float = MINUTES) -> ContactMeasure:
    """Run the scenario with ``seeds`` seeds (from its ``run.seed``, else 0) until ``minutes``
    after the first zombie appears (or its end), and measure the contact rate (module doc).
    Deterministic for a given scenario and seed."""
    sc = loaded.scenario
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise HyosanError(f"must be a whole number >= 1, got {seeds!r}", source="--seeds")
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not (0 < minutes < math.inf):
        raise HyosanError(f"must be a number of minutes > 0, got {minutes!r}", source="--minutes")
    b = bite_rate(sc.zombies)
    if b <= 0:
        field = "zombies.bite_rate" if sc.zombies.bite_rate is not None else "zombies.bite_prob"
        raise HyosanError("zombies never bite: no contact rate to measure", source=loaded.source, field=field)
    first_seed = sc.run.seed or 0
    window = max(1, round(minutes * 60.0 / sc.tick_seconds))
    chosen = tuple(range(first_seed, first_seed + seeds))
    runs = [measure_run(Simulation(loaded, seed=seed), window) for seed in chosen]
    measure = ContactMeasure(
        bite_rate=b,
        minutes=float(minutes),
        seeds=chosen,
        bites=tuple(r.bites for r in runs),
        exposure=tuple(r.exposure for r in runs),
        kills=tuple(r.kills for r in runs),
        first_zombie_s=tuple(r.first_zombie_s for r in runs),
        window_s=tuple(r.end_s for r in runs),
    )
    if sum(measure.bites) == 0:
        raise HyosanError(
            f"no zombie bit a human in the measuring runs (seeds {chosen[0]}-{chosen[-1]}, "
            f"{minutes:g} min after the first zombie): no contact rate to measure; "
            "try more --seeds or --minutes",
            source=loaded.source,
            field="--from",
        )
    return measure


# -- the derivation --------------------------------------------------------------------------
def derive(model: str, loaded: LoadedScenario, seeds: int = SEEDS, minutes: float = MINUTES) -> Derivation:
    """The parameters of ``model`` (``alemi`` or ``alemi-latent``) from a scenario and the
    contact rate measured on it; ``rows`` give each number, its unit and its origin."""
    if model not in MODELS:
        raise HyosanError(f"derives {' and '.join(MODELS)} only, not {model!r}", source="--from")
    network = get_model(model)
    per = SECONDS_PER[network.time_unit]
    unit = network.time_unit.removesuffix("s")
    sc = loaded.scenario
    src = loaded.source
    roles = human_kill_rates(sc)
    if not roles:
        raise HyosanError("no humans at the start: nothing to derive", source=src, field="population")
    mean = mean_incubation(sc.infection.incubation)
    if model == "alemi-latent" and mean <= 0:
        raise HyosanError("a mean of 0 s: no latent rate", source=src, field="infection.incubation")
    contacts = measure_contacts(loaded, seeds, minutes)
    b, k, c = contacts.bite_rate, kill_rate(sc), contacts.rate
    beta_pair, kappa_pair = alemi_rates(k, b, c)
    a = alpha(k, b)
    humans, zombies = starting(sc)
    z0 = zombies if zombies > 0 else 1
    n = humans + zombies
    params = {"beta": beta_pair * n * per, "alpha": a, "N": float(n), "Z0": float(z0)}
    bite_field = (
        "zombies.bite_rate" if sc.zombies.bite_rate is not None else "zombies.bite_prob (as -ln(1 - p))"
    )
    per_seed = ", ".join(f"{v:.3g}" for v in contacts.per_seed())
    span = (
        f"seeds {contacts.seeds[0]}-{contacts.seeds[-1]}"
        if len(contacts.seeds) > 1
        else f"seed {contacts.seeds[0]}"
    )
    rows = [Row("b (bite)", b, "1/s of contact", bite_field)]
    for role, count, rate in roles:
        label = sc.roles[role].label or f"{role}s"
        rows.append(Row(f"k {label}", rate, "1/s of contact", f"roles.{role}.strength, {count} at the start"))
    rows += [
        Row("k (kill)", k, "1/s of contact", "the roles' kill rates weighted by their numbers"),
        Row(
            "c (contact)",
            c,
            "per pair",
            f"measured: {sum(contacts.bites)} zombie bites / (b x {sum(contacts.exposure):.4g} pair-s "
            f"of S Z), {span}, {contacts.minutes:g} min after the first zombie (per seed: {per_seed})",
        ),
        Row("beta per pair", beta_pair, "1/s", "c b (hyosan.units.alemi_rates)"),
        Row("kappa per pair", kappa_pair, "1/s", "c k"),
        Row("alpha", a, "kills per bite", "k / b"),
        Row("N", n, "people", f"{humans} humans + {zombies} zombies at the start"),
        Row("Z0", z0, "zombies", "zombies at the start" if zombies else "none at the start: patient zero"),
        Row(
            "beta",
            params["beta"],
            f"1/{unit}",
            f"beta per pair x N x {per:g} s/{unit} (the model's per-capita form)",
        ),
        Row("kappa", a * params["beta"], f"1/{unit}", "alpha beta"),
    ]
    if model == "alemi-latent":
        params["eta"] = per / mean
        rows.append(
            Row(
                "eta",
                params["eta"],
                f"1/{unit}",
                f"1 / mean incubation ({mean:.4g} s, infection.incubation clipped)",
            )
        )
    bites, kills = sum(contacts.bites), sum(contacts.kills)
    rows.append(
        Row(
            "ABM kills per bite",
            kills / bites,
            "(check)",
            f"{kills} zombies destroyed / {bites} bites in the window",
        )
    )
    t_end = sc.n_ticks * sc.tick_seconds / per
    return Derivation(
        model=model,
        scenario=src,
        params=params,
        t_end=t_end,
        time_unit=network.time_unit,
        contacts=contacts,
        rows=rows,
    )
