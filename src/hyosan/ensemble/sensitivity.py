"""Global sensitivity analysis with SALib: Sobol indices or Morris elementary effects.

    Design (method, parameter ranges, samples, seed) ──sample()──► points ──► runs (the sweep
    machinery: executors, resumable store) ──► one output per point ──► SALib analyse ──► table

- **Sobol** (Saltelli's scheme, ``SALib.sample.sobol``): ``samples * (D + 2)`` points for D
  parameters (``samples * (2D + 2)`` with second-order indices); first-order ``S1`` (the share of
  the output's variance due to the parameter alone) and total ``ST`` (including all its
  interactions), each with a 95 % bootstrap half-width. ``samples`` must be a power of two
  (the Sobol sequence's balance).
- **Morris** (``SALib.sample.morris``): ``samples`` trajectories of ``D + 1`` points on a grid
  of ``levels`` levels; ``mu_star`` (mean absolute elementary effect: overall influence),
  ``mu_star_conf``, ``mu`` and ``sigma`` (spread: non-linearity or interactions). A cheap screen.

:func:`sensitivity` analyses any Python function of a parameter dict; :func:`run_sensitivity`
analyses a metric of a school scenario or a compartment model, with every sample point run
``runs`` times (the output is the mean over them) and stored as a sweep, so an interrupted
analysis resumes and a second ``output`` of the same design reuses every run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyosan import limits
from hyosan.errors import HyosanError
from hyosan.io import save_figure

METHODS = ("sobol", "morris")


def parse_params(items: Sequence[str] | None, source: str = "--param") -> dict[str, tuple[float, float]]:
    """``["k=0.1:0.9"]`` -> ``{"k": (0.1, 0.9)}``; LO < HI, both finite numbers."""
    out: dict[str, tuple[float, float]] = {}
    for item in items or []:
        key, sep, text = item.partition("=")
        key = key.strip()
        lo_text, colon, hi_text = text.partition(":")
        if not sep or not key or not colon or ":" in hi_text:
            raise HyosanError(f"expected KEY=LO:HI, got {item!r}", source=source)
        try:
            lo, hi = float(lo_text), float(hi_text)
        except ValueError:
            raise HyosanError(f"LO and HI must be numbers, got {text!r}", source=source, field=key) from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise HyosanError(f"need finite LO < HI, got {text!r}", source=source, field=key)
        if key in out:
            raise HyosanError("given twice", source=source, field=key)
        out[key] = (lo, hi)
    if not out:
        raise HyosanError("give at least one parameter range, KEY=LO:HI", source=source)
    return out


@dataclass(frozen=True)
class Design:
    """A sensitivity design: method, parameter ranges, sample size and seed."""

    method: str
    params: dict[str, tuple[float, float]]
    samples: int
    seed: int = 0
    second_order: bool = False
    levels: int = 4

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise HyosanError(
                f"unknown method {self.method!r} (choose from {', '.join(METHODS)})", source="--method"
            )
        if self.method == "sobol" and (self.samples < 2 or self.samples & (self.samples - 1)):
            raise HyosanError(
                f"Sobol needs a power of two (64, 128, ...), got {self.samples}", source="--samples"
            )
        if self.method == "morris" and self.samples < 2:
            raise HyosanError(f"Morris needs at least 2 trajectories, got {self.samples}", source="--samples")
        if self.method == "morris" and (self.levels < 2 or self.levels % 2):
            raise HyosanError(f"must be an even number >= 2, got {self.levels}", source="--levels")
        limits.check_seed(self.seed, "--seed")
        # The sample points, before SALib allocates them: Sobol N(2D + 2) (N(D + 2) without S2),
        # Morris N(D + 1).
        d = len(self.params)
        per = (2 * d + 2 if self.second_order else d + 2) if self.method == "sobol" else d + 1
        limits.MAX_SWEEP_RUNS.check(self.samples * per, "--samples")

    @property
    def names(self) -> list[str]:
        return list(self.params)

    def problem(self) -> dict[str, Any]:
        return {
            "num_vars": len(self.params),
            "names": self.names,
            "bounds": [list(b) for b in self.params.values()],
        }

    def sample(self) -> np.ndarray:
        """The sample matrix (points x parameters), the same for the same design."""
        # Imported here: SALib loads SciPy: only for a sensitivity analysis.
        from SALib.sample import morris, sobol

        if self.method == "sobol":
            return sobol.sample(
                self.problem(), self.samples, calc_second_order=self.second_order, seed=self.seed
            )
        return morris.sample(self.problem(), self.samples, num_levels=self.levels, seed=self.seed)

    def analyse(
        self, X: np.ndarray, Y: np.ndarray, output: str = "value"
    ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """SALib's indices as a table (one row per parameter), and Sobol's S2 pairs if asked."""
        # Imported here: SALib loads SciPy: only for a sensitivity analysis.
        from SALib.analyze import morris, sobol

        Y = np.asarray(Y, dtype=np.float64)
        if self.method == "sobol":
            res = sobol.analyze(self.problem(), Y, calc_second_order=self.second_order, seed=self.seed)
            cols = ("S1", "S1_conf", "ST", "ST_conf")
        else:
            res = morris.analyze(self.problem(), X, Y, num_levels=self.levels, seed=self.seed)
            cols = ("mu", "mu_star", "mu_star_conf", "sigma")
        table = pd.DataFrame({"output": output, "param": self.names})
        for c in cols:
            table[c] = np.asarray(res[c], dtype=np.float64)
        table["output"] = table["output"].astype("string")
        table["param"] = table["param"].astype("string")
        s2 = None
        if self.method == "sobol" and self.second_order:
            rows = [
                {
                    "output": output,
                    "param_i": a,
                    "param_j": b,
                    "S2": res["S2"][i, j],
                    "S2_conf": res["S2_conf"][i, j],
                }
                for i, a in enumerate(self.names)
                for j, b in enumerate(self.names)
                if j > i
            ]
            s2 = pd.DataFrame(rows)
        return table, s2

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "params": {k: list(v) for k, v in self.params.items()},
            "samples": self.samples,
            "seed": self.seed,
            "second_order": self.second_order,
            "levels": self.levels if self.method == "morris" else None,
        }


@dataclass
class SensitivityResult:
    """The indices (``table``), the design, its points ``X`` and outputs ``Y``."""

    design: Design
    output: str
    X: np.ndarray
    Y: np.ndarray
    table: pd.DataFrame
    s2: pd.DataFrame | None = None
    folder: Path | None = None
    files: list[Path] = field(default_factory=list)

    def plot(self, path: str | Path | None = None):
        """A bar chart: S1 and ST (Sobol) or mu* and sigma (Morris) per parameter, with 95 % bars."""
        # Imported here: matplotlib is heavy: loaded when a figure is drawn.
        from hyosan.display import subplots

        t = self.table
        n = len(t)
        fig, ax = subplots(figsize=(7.5, 1.2 + 0.55 * n * 1.6), dpi=110)
        y = np.arange(n)
        if self.design.method == "sobol":
            bars = (("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total ST"))
            ax.set_xlabel(f"Sobol index of {self.output}")
        else:
            bars = (("mu_star", "mu_star_conf", "mu* (influence)"), ("sigma", None, "sigma (interactions)"))
            ax.set_xlabel(f"elementary effect on {self.output}")
        h = 0.38
        for k, (col, conf, label) in enumerate(bars):
            err = t[conf].to_numpy() if conf else None
            ax.barh(y + (k - 0.5) * h, t[col].to_numpy(), height=h, xerr=err, capsize=3, label=label)
        ax.set_yticks(y, t["param"].tolist())
        ax.invert_yaxis()
        ax.axvline(0, color="black", linewidth=0.8)
        ax.legend(loc="best")
        ax.grid(axis="x", alpha=0.3)
        points = len(self.Y)
        ax.set_title(f"{self.design.method.capitalize()} sensitivity of {self.output} ({points} points)")
        fig.tight_layout()
        if path is not None:
            save_figure(fig, path)
        return fig

    def write(self, folder: str | Path) -> list[Path]:
        """``sensitivity_<output>.parquet`` (and ``_s2``), ``.png`` and ``.svg`` chart, and
        ``design_<output>.parquet`` (each sample point and its output value)."""
        # Imported here: workers of a model sweep never load the engine (numba), nor of a school one SciPy.
        from hyosan.ensemble.store import write_table

        folder = Path(folder)
        stem = f"sensitivity_{_safe(self.output)}"
        files = [folder / f"{stem}.parquet"]
        write_table(self.table, files[0], csv=False)
        if self.s2 is not None:
            files.append(folder / f"{stem}_s2.parquet")
            write_table(self.s2, files[-1], csv=False)
        points = pd.DataFrame(self.X, columns=self.design.names)
        points.insert(0, "point", np.arange(len(points), dtype=np.int64))
        points[self.output] = self.Y
        files.append(folder / f"design_{_safe(self.output)}.parquet")
        write_table(points, files[-1], csv=False)
        for ext in ("png", "svg"):
            files.append(folder / f"{stem}.{ext}")
            self.plot(files[-1])
        self.folder, self.files = folder, files
        return files


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def unique_points(X: np.ndarray, names: Sequence[str]) -> tuple[list[dict[str, float]], np.ndarray]:
    """The distinct rows of ``X`` as parameter dicts, and for each row its index among them."""
    # Imported here: workers of a model sweep never load the engine (numba), nor of a school one SciPy.
    from hyosan.ensemble.spec import canonical

    index: dict[str, int] = {}
    sets: list[dict[str, float]] = []
    rows = np.empty(len(X), dtype=np.int64)
    for i, row in enumerate(X):
        point = {n: float(v) for n, v in zip(names, row, strict=True)}
        key = canonical(point)
        if key not in index:
            index[key] = len(sets)
            sets.append(point)
        rows[i] = index[key]
    return sets, rows


@dataclass(frozen=True)
class _Unseeded:
    """``fn(params)`` as a run function ``(params, seed) -> value`` (picklable if ``fn`` is)."""

    fn: Callable[[dict[str, float]], float]

    def __call__(self, params: dict[str, float], seed: int) -> float:
        return self.fn(params)


def sensitivity(
    fn: Callable[[dict[str, float]], float],
    params: Mapping[str, tuple[float, float]],
    *,
    method: str = "sobol",
    samples: int = 1024,
    seed: int = 0,
    second_order: bool = False,
    levels: int = 4,
    workers: int | None = 0,
    scheduler: str | None = None,
) -> SensitivityResult:
    """Sensitivity indices of any function ``fn(params) -> number`` over ``params`` ranges.

    ``workers=0`` (the default) evaluates in this process; more workers or a Dask ``scheduler``
    send the points to the same executors as the sweeps (``fn`` must then be importable by name).
    """
    # Imported here: workers of a model sweep never load the engine (numba), nor of a school one SciPy.
    from hyosan.ensemble.executors import make_executor
    from hyosan.ensemble.runners import FunctionRunner
    from hyosan.ensemble.spec import RunTask
    from hyosan.ensemble.sweep import run_tasks

    design = Design(
        method, {k: (float(a), float(b)) for k, (a, b) in params.items()}, samples, seed, second_order, levels
    )
    X = design.sample()
    sets, rows = unique_points(X, design.names)
    values = np.full(len(sets), np.nan)
    errors: list[str] = []

    def take(outcome) -> None:
        if outcome.status == "ok":
            values[outcome.task.set_id] = float(outcome.output.metrics["value"])
        else:
            errors.append(outcome.error or "failed")

    tasks = [RunTask(run_id=str(i), set_id=i, replicate=0, seed=seed, params=p) for i, p in enumerate(sets)]
    with make_executor(FunctionRunner(_Unseeded(fn)), workers, scheduler) as executor:
        run_tasks(tasks, executor, take)
    if errors:
        raise HyosanError(
            f"{len(errors)} of {len(sets)} points failed, first: {errors[0]}", source="sensitivity"
        )
    Y = values[rows]
    table, s2 = design.analyse(X, Y)
    return SensitivityResult(design, "value", X, Y, table, s2)


def run_sensitivity(
    kind: str,
    target: str,
    params: Mapping[str, tuple[float, float]],
    output: str,
    out: str | Path,
    *,
    method: str = "sobol",
    samples: int = 64,
    runs: int = 1,
    seed: int = 0,
    second_order: bool = False,
    levels: int = 4,
    fixed: Mapping[str, Any] | None = None,
    solver: str = "ode",
    t_end: float | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress=None,
) -> tuple[SensitivityResult, Any]:
    """Sensitivity of ``output`` (a runs-table metric) of a scenario (``kind="scenario"``) or a
    compartment model (``kind="model"``, solved by ``solver``). The runs are stored at ``out``
    as a sweep; returns the result (written there too) and the sweep's result."""
    # Imported here: workers of a model sweep never load the engine (numba), nor of a school one SciPy.
    from hyosan.ensemble.runners import metric_names
    from hyosan.ensemble.sweep import model_spec, run_sweep, scenario_spec, town_spec

    design = Design(method, dict(params), samples, seed, second_order, levels)
    X = design.sample()
    sets, rows = unique_points(X, design.names)
    common = {"runs": runs, "seed": seed, "sets": sets, "design": design.to_json()}
    if kind == "scenario":
        spec, runner = scenario_spec(target, fixed=fixed, **common)
    elif kind == "model":
        spec, runner = model_spec(target, method=solver, fixed=fixed, t_end=t_end, **common)
    elif kind == "town":
        spec, runner = town_spec(target, fixed=fixed, **common)
    else:
        raise ValueError(f"unknown kind {kind!r}")
    known = metric_names(runner)
    if output not in known:
        raise HyosanError(f"no such metric (choose from {', '.join(known)})", source="--output", field=output)
    sweep = run_sweep(spec, runner, out, workers=workers, scheduler=scheduler, progress=progress)
    ok = sweep.runs[sweep.runs["status"] == "ok"]
    per_set = ok.groupby("set_id")[output].mean()
    values = per_set.reindex(range(len(sets))).to_numpy(dtype=np.float64)
    missing = int(np.isnan(values).sum())
    if missing:
        raise HyosanError(
            f"{missing} of {len(sets)} sample points have no value (their runs failed, or the event never "
            f"happened); see {Path(out) / 'runs.parquet'} or choose another metric",
            source="--output",
            field=output,
        )
    Y = values[rows]
    table, s2 = design.analyse(X, Y, output)
    result = SensitivityResult(design, output, X, Y, table, s2)
    result.write(out)
    return result, sweep
