"""Observed data: a CSV of counts over time (``time,count,value``), and the likelihoods that
judge a simulated mean against it.

The file has a header ``time,count,value`` and one row per observation; lines starting with
``#`` are comments (a citation). ``time`` is in the resolution's unit: days for a compartment
model or a town, seconds from the start for a school (or a duration such as ``15min``).
``builtin:NAME`` names a file shipped with hyosan (``builtin:boarding_school_1978.csv``).

Likelihoods (the negative log-likelihood is the target's loss):

- ``poisson``: each count ~ Poisson(mean);
- ``negbin``: negative binomial with that mean and a dispersion ``k`` fitted by maximum
  likelihood for each trial (variance mean + mean^2 / k);
- ``normal``: Normal(mean, sigma) with sigma fitted (the root-mean-square residual).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from hyosan.errors import HyosanError
from hyosan.io import read_text
from hyosan.scenario.timefmt import parse_duration

BUILTIN = "builtin:"
HEADER = ("time", "count", "value")


@dataclass(frozen=True)
class Observed:
    """One count's observations, in time order."""

    column: str
    times: np.ndarray  # (n,) float64
    values: np.ndarray  # (n,) float64


def builtin_path(name: str) -> Path:
    return Path(str(resources.files("hyosan") / "data" / name))


def resolve(spec: str, base_dir: Path) -> tuple[Path, str]:
    """The data file a target names (``builtin:NAME`` or a path relative to the config)."""
    if spec.startswith(BUILTIN):
        name = spec[len(BUILTIN) :]
        path = builtin_path(name)
        if "/" in name or not path.is_file():
            raise HyosanError(f"no built-in data file {name!r}", source=spec)
        return path, spec
    path = Path(spec)
    if not path.is_absolute():
        path = base_dir / path
    return path, str(path)


def read_observed(path: Path, source: str, column: str, seconds: bool = False) -> Observed:
    """The rows of ``column`` in a ``time,count,value`` CSV; a ragged, non-numeric or
    duplicated row names the file and its line."""
    text = read_text(path, source)
    rows = [
        (n, line)
        for n, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not rows:
        raise HyosanError("no rows (expected a header time,count,value)", source=source)
    reader = csv.reader(io.StringIO("\n".join(line for _, line in rows)))
    parsed = list(reader)
    header = tuple(h.strip().lower() for h in parsed[0])
    if header != HEADER:
        raise HyosanError(
            f"expected the header time,count,value, got {','.join(parsed[0])!r}",
            source=source,
            field=f"line {rows[0][0]}",
        )
    times, values, counts = [], [], set()
    for (lineno, _), cells in zip(rows[1:], parsed[1:], strict=True):
        where = f"line {lineno}"
        if len(cells) != 3:
            raise HyosanError(
                f"expected 3 fields (time,count,value), got {len(cells)}", source=source, field=where
            )
        t_text, name, v_text = (c.strip() for c in cells)
        counts.add(name)
        if name != column:
            continue
        try:
            t = float(t_text)
        except ValueError:
            if not seconds:
                raise HyosanError(f"time is not a number: {t_text!r}", source=source, field=where) from None
            try:
                t = parse_duration(t_text)
            except ValueError:
                raise HyosanError(
                    f"time is not a number or a duration: {t_text!r}", source=source, field=where
                ) from None
        try:
            v = float(v_text)
        except ValueError:
            raise HyosanError(f"value is not a number: {v_text!r}", source=source, field=where) from None
        if not math.isfinite(t) or t < 0:
            raise HyosanError(
                f"time must be a finite number >= 0, got {t_text!r}", source=source, field=where
            )
        if not math.isfinite(v) or v < 0:
            raise HyosanError(
                f"value must be a finite count >= 0, got {v_text!r}", source=source, field=where
            )
        if t in times:
            raise HyosanError(f"time {t_text} of {column!r} appears twice", source=source, field=where)
        times.append(t)
        values.append(v)
    if not times:
        known = ", ".join(sorted(counts)) or "none"
        raise HyosanError(f"no rows of count {column!r} (the file has: {known})", source=source)
    order = np.argsort(times)
    return Observed(column, np.asarray(times)[order], np.asarray(values)[order])


# -- likelihoods ---------------------------------------------------------------------------------
def _floor(mu: np.ndarray) -> np.ndarray:
    """A mean of zero where a count was seen is impossible; a tiny floor keeps the loss finite
    (and large), so the optimiser is told how wrong, not just that."""
    return np.maximum(np.asarray(mu, dtype=np.float64), 1e-3)


def negbin_dispersion(y: np.ndarray, mu: np.ndarray) -> float:
    """The maximum-likelihood dispersion k of a negative binomial with means ``mu``."""
    # Imported here: SciPy's optimiser and statistics load with the first data target.
    from scipy.optimize import minimize_scalar
    from scipy.stats import nbinom

    mu = _floor(mu)

    def nll(logk: float) -> float:
        k = math.exp(logk)
        return -float(nbinom.logpmf(y, k, k / (k + mu)).sum())

    res = minimize_scalar(nll, bounds=(-6.0, 12.0), method="bounded", options={"xatol": 1e-6})
    return float(math.exp(res.x))


def loss(likelihood: str, y: np.ndarray, mu: np.ndarray) -> tuple[float, dict[str, float]]:
    """The negative log-likelihood of ``y`` given means ``mu``, and the fitted nuisance
    parameters (``k`` of negbin, ``sigma`` of normal)."""
    # Imported here: SciPy's statistics load with the first data target.
    from scipy.stats import nbinom, norm, poisson

    mu = _floor(mu)
    if likelihood == "poisson":
        return -float(poisson.logpmf(np.rint(y), mu).sum()), {}
    if likelihood == "negbin":
        k = negbin_dispersion(np.rint(y), mu)
        return -float(nbinom.logpmf(np.rint(y), k, k / (k + mu)).sum()), {"k": k}
    sigma = max(float(np.sqrt(np.mean((y - mu) ** 2))), 1e-6 * max(1.0, float(np.abs(y).max())))
    return -float(norm.logpdf(y, mu, sigma).sum()), {"sigma": sigma}


def interval(likelihood: str, mu: np.ndarray, nuisance: dict[str, float], level: float = 0.9):
    """The central ``level`` predictive interval of each observation (for coverage)."""
    # Imported here: SciPy's statistics load with the first data target.
    from scipy.stats import nbinom, norm, poisson

    mu = _floor(mu)
    lo, hi = (1 - level) / 2, (1 + level) / 2
    if likelihood == "poisson":
        return poisson.ppf(lo, mu), poisson.ppf(hi, mu)
    if likelihood == "negbin":
        k = nuisance["k"]
        return nbinom.ppf(lo, k, k / (k + mu)), nbinom.ppf(hi, k, k / (k + mu))
    return norm.ppf(lo, mu, nuisance["sigma"]), norm.ppf(hi, mu, nuisance["sigma"])
