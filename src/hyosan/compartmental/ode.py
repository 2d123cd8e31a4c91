"""Deterministic solution of a reaction network with SciPy's ``solve_ivp``.

Strikes are applied as jumps between integration segments; ``stop`` conditions such as
``"Z<1"`` become terminal events (the trajectory ends when one is crossed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from hyosan.compartmental.network import Compiled
from hyosan.errors import HyosanError

_STOP = re.compile(r"^\s*([A-Za-z_]\w*)\s*(<|>)\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class StopCondition:
    """A terminal event: ``species < threshold`` or ``species > threshold``."""

    species: str
    below: bool
    threshold: float

    @classmethod
    def parse(cls, text: str, species: tuple[str, ...], source: str = "--stop") -> StopCondition:
        match = _STOP.match(text)
        if not match:
            raise HyosanError(f"expected SPECIES<VALUE or SPECIES>VALUE, got {text!r}", source=source)
        name, op, value = match.groups()
        if name not in species:
            raise HyosanError(
                f"unknown species {name!r} (known: {', '.join(species)})", source=source, field=name
            )
        return cls(name, op == "<", float(value))

    def event(self, index: int):
        sign = 1.0 if self.below else -1.0

        def crossing(t, x):
            return sign * (x[index] - self.threshold)

        crossing.terminal = True
        crossing.direction = -1.0
        return crossing


def solve_ode(
    net: Compiled,
    grid: np.ndarray,
    stop: tuple[StopCondition, ...] = (),
    method: str = "LSODA",
    rtol: float = 1e-8,
    atol: float = 1e-9,
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Integrate on ``grid``; returns (times, states, the stop condition that ended it or None).

    The returned times are the grid points reached, plus the stop time when a stop condition
    ended the run early.
    """
    index = {name: i for i, name in enumerate(net.species)}
    events = [c.event(index[c.species]) for c in stop]
    t_end = float(grid[-1])
    # Segment boundaries: each strike time inside (0, t_end].
    strikes = [(t, k) for k, t in enumerate(net.strike_times) if 0.0 < t <= t_end]
    x = net.x0.astype(float).copy()
    t0 = 0.0
    times: list[np.ndarray] = [grid[:1]]
    states: list[np.ndarray] = [x[None, :].copy()]
    stopped_by = None
    boundaries = [t for t, _ in strikes] + ([t_end] if not strikes or strikes[-1][0] < t_end else [])
    strike_at = {t: k for t, k in strikes}
    for t1 in boundaries:
        inside = grid[(grid > t0) & (grid <= t1)]
        if t1 > t0:
            sol = solve_ivp(
                lambda _t, y: net.rhs(y),
                (t0, t1),
                x,
                method=method,
                t_eval=inside,
                events=events or None,
                jac=lambda _t, y: net.jacobian(y),
                rtol=rtol,
                atol=atol,
            )
            if not sol.success:
                raise RuntimeError(f"ODE solver failed: {sol.message}")
            times.append(sol.t)
            states.append(sol.y.T)
            x = sol.y[:, -1].copy() if sol.y.shape[1] else x
            if sol.status == 1:  # a terminal event fired
                for condition, t_ev, y_ev in zip(stop, sol.t_events, sol.y_events, strict=True):
                    if len(t_ev):
                        stopped_by = (
                            f"{condition.species}{'<' if condition.below else '>'}{condition.threshold:g}"
                        )
                        times.append(t_ev[:1])
                        states.append(y_ev[:1])
                        break
                break
        t0 = t1
        if t1 in strike_at:
            k = strike_at[t1]
            s = net.strike_species[k]
            removed = x[s] * net.strike_fractions[k]
            x[s] -= removed
            if net.strike_to[k] >= 0:
                x[net.strike_to[k]] += removed
            # Right-continuous: the grid value at a strike time is the state after the jump.
            if times[-1].size and times[-1][-1] == t1:
                states[-1] = states[-1].copy()
                states[-1][-1] = x
    # Counts cannot be negative: clip the integrator's round-off (of order atol) at zero.
    return np.concatenate(times), np.clip(np.concatenate(states, axis=0), 0.0, None), stopped_by
