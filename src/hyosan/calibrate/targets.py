"""Judging a trial: each target's statistic and loss over the trial's runs, and whether it is met.

The loss of a trial is the weighted sum of its targets' losses:

- a **data** target: the negative log-likelihood of the observed counts given the mean over the
  trial's runs of the simulated count at the observed times (:mod:`hyosan.calibrate.data`). It
  is *met* when at least ``coverage`` (default 80 %) of the observations lie in the 90 %
  predictive interval of that likelihood around the mean.
- a **summary** target: a statistic over the runs (mean, median, sd, a quantile, the share of
  runs where a condition holds) of one number of each run. Its loss is ``(d / scale)^2``, ``d``
  the distance from the target value (or from the range, 0 inside it) and ``scale`` (default:
  the larger of 1 and the target's magnitude) its unit; met inside the range, or within
  ``tolerance`` of the value (default a tenth of the scale).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from hyosan.calibrate import data as obs_data
from hyosan.calibrate.config import Calibration
from hyosan.calibrate.runner import at_times
from hyosan.errors import HyosanError

#: The loss of a statistic that has no value (every run's number missing: NaN): large and
#: finite, since the optimiser must be told a loss.
MISSING_LOSS = 1e9


@dataclass
class Judged:
    """One target judged on some runs."""

    name: str
    kind: str  # "data" | "summary"
    weight: float
    loss: float
    met: bool
    value: float  # the statistic (summary) or the coverage (data)
    goal: str  # the target as text
    extra: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "weight": self.weight,
            "loss": self.loss,
            "weighted_loss": self.weight * self.loss,
            "met": self.met,
            "value": None if not math.isfinite(self.value) else self.value,
            "goal": self.goal,
            **self.extra,
        }


def metric_values(records: list[dict[str, Any]], metric: str, source: str, fieldname: str) -> np.ndarray:
    if records and metric not in records[0]:
        known = sorted(k for k in records[0] if not k.startswith("ts.") and "." not in k)
        raise HyosanError(
            f"no number {metric!r} in a run's results (the runs table has: {', '.join(known)}; or a "
            "dotted path into the run's summary)",
            source=source,
            field=fieldname,
        )
    return np.asarray(
        [np.nan if r.get(metric) is None else float(r[metric]) for r in records], dtype=np.float64
    )


def statistic(values: np.ndarray, stat: str, q: float | None, where) -> float:
    if stat == "share":
        return float(np.mean([where.holds(v) for v in values])) if values.size else math.nan
    finite = values[np.isfinite(values)]
    if not finite.size:
        return math.nan
    if stat == "mean":
        return float(finite.mean())
    if stat == "median":
        return float(np.median(finite))
    if stat == "sd":
        return float(finite.std(ddof=1)) if finite.size > 1 else 0.0
    return float(np.quantile(finite, q))


def mean_at(records: list[dict[str, Any]], count: str, times: np.ndarray) -> np.ndarray:
    """The mean over runs of ``count`` at ``times``."""
    rows = [at_times(np.asarray(r["ts.t"]), np.asarray(r[f"ts.{count}"]), times) for r in records]
    return np.mean(rows, axis=0)


def judge(
    cal: Calibration, observed: dict[int, obs_data.Observed], records: list[dict[str, Any]]
) -> list[Judged]:
    """Every target of ``cal`` on ``records`` (the runs' rows, in replicate order)."""
    out = []
    for i, t in enumerate(cal.targets):
        name = cal.target_name(i)
        if t.data is not None:
            ob = observed[i]
            mu = mean_at(records, t.count, ob.times)
            loss, nuisance = obs_data.loss(t.likelihood, ob.values, mu)
            lo, hi = obs_data.interval(t.likelihood, mu, nuisance)
            inside = float(np.mean((ob.values >= lo) & (ob.values <= hi)))
            extra = {"likelihood": t.likelihood, "count": t.count, "column": ob.column, **nuisance}
            extra["mean"] = [float(v) for v in mu]
            goal = f"{t.likelihood} likelihood; >= {t.coverage:.0%} of points in the 90 % interval"
            out.append(Judged(name, "data", t.weight, loss, inside >= t.coverage, inside, goal, extra))
            continue
        values = metric_values(records, t.metric, cal.source, f"target[{i}].metric")
        stat = statistic(values, t.statistic, t.q, cal.where.get(i))
        if t.range is not None:
            lo, hi = t.range
            centre = (lo + hi) / 2
            goal = f"{lo:g} to {hi:g}"
        else:
            lo = hi = centre = float(t.value)
            goal = f"{centre:g}"
        scale = t.scale or max(1.0, abs(centre))
        tol = 0.0 if t.range is not None else (t.tolerance if t.tolerance is not None else 0.1 * scale)
        if t.range is None:
            goal += f" (± {tol:g})"
        if math.isfinite(stat):
            d = max(lo - stat, stat - hi, 0.0)
            loss, met = (d / scale) ** 2, d <= tol
        else:
            loss, met = MISSING_LOSS, False
        extra = {"metric": t.metric, "statistic": t.statistic, "runs": int(values.size)}
        if t.q is not None:
            extra["q"] = t.q
        if t.where is not None:
            extra["where"] = t.where
        out.append(Judged(name, "summary", t.weight, loss, met, stat, goal, extra))
    return out


def total(judged: list[Judged]) -> float:
    value = float(sum(j.weight * j.loss for j in judged))
    return value if math.isfinite(value) else MISSING_LOSS
