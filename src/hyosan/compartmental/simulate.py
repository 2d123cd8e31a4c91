"""One entry point for every solver: ``simulate(model, method=..., runs=..., seed=...)``."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from hyosan import limits
from hyosan.compartmental import network
from hyosan.compartmental.catalogue import get
from hyosan.compartmental.network import ReactionNetwork
from hyosan.compartmental.ode import StopCondition, solve_ode
from hyosan.compartmental.result import ModelResult
from hyosan.compartmental.ssa import ssa_direct
from hyosan.compartmental.tau import tau_leap
from hyosan.errors import HyosanError

METHODS = ("ode", "ssa", "tau")


def run_generators(seed: int, runs: int) -> list[np.random.Generator]:
    """One independent generator per run, spawned from one root ``SeedSequence``."""
    return [np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(runs)]


def simulate(
    model: ReactionNetwork | str,
    method: str = "ode",
    *,
    params: Mapping[str, float] | None = None,
    t_end: float | None = None,
    runs: int = 1,
    seed: int = 0,
    n_points: int = 201,
    stop: Iterable[str] = (),
    max_steps: int = 10**10,
    epsilon: float = 0.01,
    n_critical: int = 10,
    source: str = "params",
) -> ModelResult:
    """Solve ``model`` as an ODE (``"ode"``), exactly (``"ssa"``) or by tau-leaping (``"tau"``).

    Parameters
    ----------
    params:
        Overrides of the model's default parameters (unknown or negative values are rejected).
    t_end:
        Simulated time to run (the model's default when None), in the model's time unit.
    runs, seed:
        Stochastic methods run ``runs`` trajectories, each with its own stream spawned from
        ``SeedSequence(seed)``: the same seed gives identical runs.
    n_points:
        Points of the common time grid ``linspace(0, t_end, n_points)``.
    stop:
        ODE only: terminal conditions such as ``"Z<1"`` or ``"S<1"``. The run ends the first time
        one becomes true; one already true at t = 0 is refused. A compartment that starts on the
        threshold (Z(0) = 1 for ``"Z<1"``) and moves across it stops the run at once.
    epsilon, n_critical:
        Tau-leaping's error control and critical-reaction threshold (Cao et al. 2006). Their
        suggested epsilon = 0.03 biases fast exponential growth by about 3 % (explicit leaps lag
        behind); the default 0.01 keeps that under 1 % at twice the cost.
    """
    if isinstance(model, str):
        model = get(model)
    if method not in METHODS:
        raise HyosanError(f"unknown method {method!r} (choose from {', '.join(METHODS)})", source="method")
    values = model.resolve(params, source=source)
    t_end = model.t_end if t_end is None else float(t_end)
    if not math.isfinite(t_end) or t_end <= 0:
        raise HyosanError(f"must be a finite number > 0, got {t_end!r}", source="t_end")
    for value, name in ((runs, "runs"), (n_points, "n_points")):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise HyosanError(f"must be a whole number, got {value!r}", source=name)
    if runs < 1:
        raise HyosanError(f"must be at least 1, got {runs}", source="runs")
    if n_points < 2:
        raise HyosanError(f"must be at least 2, got {n_points}", source="n_points")
    limits.MAX_RUNS.check(runs, "runs")
    limits.MAX_POINTS.check(n_points, "n_points")
    limits.MAX_VALUES.check(runs * n_points * len(model.species_names), "runs")
    if method != "ode":
        limits.check_seed(seed, "seed")
    conditions = tuple(StopCondition.parse(s, model.species_names) for s in stop)
    if conditions and method != "ode":
        raise HyosanError("stop conditions apply to the ODE only", source="stop")
    if method == "ode" and runs > 1:
        raise HyosanError("the ODE is deterministic: use --method ssa or tau for runs > 1", source="runs")
    compiled = model.compile(values, t_end)
    for condition in conditions:
        # A stop condition ends the run when it becomes true: one already true at t = 0 would
        # end it at once (or never, the crossing having happened before the start), so refuse it.
        start = float(compiled.x0[model.species_names.index(condition.species)])
        if condition.holds(start):
            raise HyosanError(
                f"{condition.text()} already holds at t = 0 ({condition.species} = {start:g}): "
                "a stop condition ends the run when it becomes true",
                source="stop",
            )
    grid = np.linspace(0.0, t_end, n_points)
    stopped_by = None
    if method == "ode":
        times, states, stopped_by = solve_ode(compiled, grid, conditions)
        out = states[None, :, :]
        fired = np.zeros(0, dtype=np.int64)
    else:
        times = grid
        # Counts are int64: refuse a population whose counts (or their sums) could overflow.
        x0f = np.asarray(compiled.x0, dtype=np.float64)
        if not np.isfinite(x0f).all() or x0f.sum() > limits.MAX_COUNT:
            raise HyosanError(
                f"the initial population ({x0f.sum():.4g}) is too large for exact "
                f"stochastic counts (at most {limits.MAX_COUNT:.0e}); use --method ode",
                source=source,
            )
        x0 = np.rint(x0f).astype(np.int64)
        out = np.empty((runs, grid.size, x0.size), dtype=np.int64)
        fired = np.empty(runs, dtype=np.int64)
        arrays = (
            compiled.stoich,
            compiled.reactants,
            compiled.offsets,
            compiled.rates,
            grid,
            compiled.strike_times,
            compiled.strike_species,
            compiled.strike_fractions,
            compiled.strike_to,
            compiled.reset_const,
            compiled.reset_coef,
        )
        for r, gen in enumerate(run_generators(seed, runs)):
            if method == "ssa":
                out[r], fired[r], _ = ssa_direct(x0, *arrays, max_steps, gen)
            else:
                out[r], fired[r], _ = tau_leap(x0, *arrays, epsilon, n_critical, gen)
    return ModelResult(
        model=model.name,
        method=method,
        params=values,
        t_end=t_end,
        seed=seed if method != "ode" else None,
        species=model.species_names,
        humans=model.humans,
        zombies=model.zombies,
        times=times,
        values=out,
        reactions_fired=fired,
        r0=model.r0_value(values),
        stopped_by=stopped_by,
        time_unit=model.time_unit,
    )


network.SOLVER = simulate
