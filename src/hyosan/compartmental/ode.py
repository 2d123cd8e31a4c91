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

    def holds(self, value: float) -> bool:
        """Whether the condition is true of a compartment's ``value``."""
        return value < self.threshold if self.below else value > self.threshold

    def text(self) -> str:
        return f"{self.species}{'<' if self.below else '>'}{self.threshold:g}"

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
    # Segment boundaries: each strike time inside (0, t_end) (compile schedules none at t_end).
    strikes = [(t, k) for k, t in enumerate(net.strike_times) if 0.0 < t < t_end]
    x = net.x0.astype(float).copy()
    t0 = 0.0
    times: list[np.ndarray] = [grid[:1]]
    states: list[np.ndarray] = [x[None, :].copy()]
    stopped_by = None
    boundaries = [t for t, _ in strikes] + ([t_end] if not strikes or strikes[-1][0] < t_end else [])
    strike_at = {t: k for t, k in strikes}
    for t1 in boundaries:
        inside = grid[(grid > t0) & (grid < t1)]
        if t1 > t0:
            # Always evaluate at t1 itself: the state there starts the next segment.
            sol = solve_ivp(
                lambda _t, y: net.rhs(y),
                (t0, t1),
                x,
                method=method,
                t_eval=np.append(inside, t1),
                events=events or None,
                jac=lambda _t, y: net.jacobian(y),
                rtol=rtol,
                atol=atol,
            )
            if not sol.success:
                raise RuntimeError(f"ODE solver failed: {sol.message}")
            ts = np.asarray(sol.t, dtype=float)
            ys = np.asarray(sol.y, dtype=float).reshape(len(x), -1).T  # SciPy gives [] if no point
            if sol.status == 1:  # a terminal event fired before t1
                times.append(ts)
                states.append(ys)
                for condition, t_ev, y_ev in zip(stop, sol.t_events, sol.y_events, strict=True):
                    if len(t_ev):
                        op = "<" if condition.below else ">"
                        stopped_by = f"{condition.species}{op}{condition.threshold:g}"
                        times.append(t_ev[:1])
                        states.append(y_ev[:1])
                        break
                break
            x = ys[-1].copy()
            on_grid = np.isin(ts, grid)
            times.append(ts[on_grid])
            states.append(ys[on_grid])
        t0 = t1
        if t1 in strike_at:
            k = strike_at[t1]
            s = net.strike_species[k]
            removed = x[s] * net.strike_fractions[k]
            x[s] -= removed
            if net.strike_to[k] >= 0:
                x[net.strike_to[k]] += removed
            reset = ~np.isnan(net.reset_const[k])
            if reset.any():
                x = np.where(reset, np.clip(net.reset_const[k] + net.reset_coef[k] @ x, 0.0, None), x)
            # Right-continuous: the grid value at a strike time is the state after the jump.
            if times[-1].size and times[-1][-1] == t1:
                states[-1] = states[-1].copy()
                states[-1][-1] = x
    # Counts cannot be negative: clip the integrator's round-off (of order atol) at zero.
    return np.concatenate(times), np.clip(np.concatenate(states, axis=0), 0.0, None), stopped_by
