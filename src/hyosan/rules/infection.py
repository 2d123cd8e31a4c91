"""Infection: the bitten turn when their incubation is over, into zombies or halfbies.

Incubation times, who would become a halfbie, who would be a hostile one and who would hide a
bite are drawn for every agent when the run is built (from the infection stream), so adding an
agent or a rule never reshuffles them; the kernel only reads them.
"""

from __future__ import annotations

import numpy as np

from hyosan.rules.consts import BITTEN, CHASE, EV_TURN, FLEE, HALFBIE, WANDER, ZOMBIE
from hyosan.rules.jit import kernel
from hyosan.rules.log import emit
from hyosan.scenario.schema import IncubationConfig
from hyosan.scenario.timefmt import parse_duration


@kernel
def turn_due(now, pop, ev):
    """Every bitten agent whose incubation is over turns (event TURN: a turned, bitten by b)."""
    state, cell, group, leader, halfbie, hostile, mode, turn_at, bitten_by = (
        pop[1], pop[2], pop[3], pop[4], pop[7], pop[8], pop[10], pop[15], pop[16]
    )  # fmt: skip
    for i in range(state.shape[0]):
        if state[i] == BITTEN and turn_at[i] <= now:
            if halfbie[i]:
                state[i] = HALFBIE
                mode[i] = CHASE if hostile[i] else FLEE
            else:
                state[i] = ZOMBIE
                mode[i] = WANDER
            group[i] = -1
            leader[i] = i
            pop[13][i] = -1
            emit(ev, now, EV_TURN, i, bitten_by[i], cell[i])


def draw_incubation(
    cfg: IncubationConfig, n: int, tick_seconds: float, rng: np.random.Generator
) -> np.ndarray:
    """``n`` incubation times in ticks (at least 1), from the configured distribution."""
    median = parse_duration(cfg.median)
    lo, hi = parse_duration(cfg.min), parse_duration(cfg.max)
    if cfg.distribution == "lognormal":
        seconds = median * np.exp(cfg.sigma * rng.standard_normal(n))
    elif cfg.distribution == "exponential":
        seconds = rng.exponential(median, n)
    elif cfg.distribution == "uniform":
        seconds = rng.uniform(lo, hi, n)
    else:
        seconds = np.full(n, median)
    seconds = np.clip(seconds, lo, hi)
    return np.maximum(1, np.rint(seconds / tick_seconds)).astype(np.int32)
