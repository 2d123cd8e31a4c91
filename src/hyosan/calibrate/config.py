"""A calibration's TOML: what to fit, the parameters and their ranges, the targets, the study.

::

    [fit]                      # exactly one of model, scenario, town
    model = "sir"              # a catalogue model (method: ode | ssa | tau; t_end in its time unit)
    method = "ode"
    t_end = 14
    set = { N = 763, I0 = 1 }  # fixed values: any key `--set` accepts

    [study]
    trials = 80                # trials of the optimiser (complete or pruned)
    seeds = 8                  # seeds per trial: a count (derived from `seed`) or a list of seeds
    seed = 0                   # the study's root seed: run seeds and the sampler's draws
    sampler = "tpe"            # tpe (Optuna's default) | cmaes | random
    pruner = "none"            # none | median | percentile | hyperband
    prune_after = 4            # seeds run before a trial may be pruned
    heldout = 16               # fresh seeds for validation: a count or a list (never the study's)

    [[parameter]]
    key = "beta"               # a model parameter, or a scenario / town key as --set takes it
    low = 0.5
    high = 4.0
    log = true                 # sample on a log scale
    integer = false

    [[target]]                 # data: observed counts over time
    name = "in bed"
    data = "builtin:boarding_school_1978.csv"   # CSV: time,count,value (relative to this file)
    column = "in_bed"          # the rows of the file to use (default: the value of `count`)
    count = "I"                # the result's count compared with them
    likelihood = "poisson"     # poisson | negbin (dispersion fitted) | normal (sigma fitted)
    weight = 1.0

    [[target]]                 # summary: a statistic over a trial's runs
    metric = "final_R"         # any number of a run: the runs table's columns, or a dotted path
                               # into the run's summary (summary.json), e.g. "final.dead"
    statistic = "mean"         # mean | median | sd | quantile (q = 0.9) | share (where = "> 0")
    value = 500                # a target value (tolerance: |stat - value| <= tolerance is met)
    range = [400, 600]         # ... or a range (met inside it)

Every mistake is a :class:`~hyosan.errors.HyosanError` naming the file and the field
(``boarding.toml: parameter[1].high: ...``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from hyosan import limits
from hyosan.errors import HyosanError
from hyosan.io import read_text
from hyosan.scenario.load import parse_toml

SAMPLERS = ("tpe", "cmaes", "random")
PRUNERS = ("none", "median", "percentile", "hyperband")
LIKELIHOODS = ("poisson", "negbin", "normal")
STATISTICS = ("mean", "median", "sd", "quantile", "share")
METHODS = ("ode", "ssa", "tau")
#: Most trials and seeds one study may ask for.
MAX_TRIALS = 100_000
MAX_SEEDS = 10_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class Fit(_Strict):
    model: str | None = None
    scenario: str | None = None
    town: str | None = None
    method: str | None = None
    t_end: float | None = None
    points: int | None = None
    set: dict[str, Any] = {}

    @model_validator(mode="after")
    def _one(self) -> Fit:
        given = [k for k in ("model", "scenario", "town") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of model, scenario, town")
        if self.method is not None and self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.t_end is not None and not (math.isfinite(self.t_end) and self.t_end > 0):
            raise ValueError(f"t_end must be a finite number > 0, got {self.t_end}")
        if self.points is not None and not 2 <= self.points <= 100_001:
            raise ValueError(f"points must be from 2 to 100001, got {self.points}")
        return self


class Study(_Strict):
    trials: int = 50
    seeds: int | list[int] = 8
    seed: int = 0
    sampler: str = "tpe"
    pruner: str = "none"
    prune_after: int = 2
    startup_trials: int = 10
    heldout: int | list[int] = 0


class Parameter(_Strict):
    key: str
    low: float
    high: float
    log: bool = False
    integer: bool = False


class Target(_Strict):
    name: str | None = None
    weight: float = 1.0
    # data
    data: str | None = None
    column: str | None = None
    count: str | None = None
    likelihood: str = "poisson"
    coverage: float = 0.8
    # summary
    metric: str | None = None
    statistic: str = "mean"
    q: float | None = None
    where: str | None = None
    value: float | None = None
    range: list[float] | None = None
    tolerance: float | None = None
    scale: float | None = None


class Config(_Strict):
    fit: Fit
    study: Study = Study()
    parameter: list[Parameter]
    target: list[Target]


@dataclass(frozen=True)
class Where:
    """``where = "> 0"``: the share of runs whose metric compares so with the value."""

    op: str
    value: float

    def holds(self, x: float) -> bool:
        return {
            ">": x > self.value,
            ">=": x >= self.value,
            "<": x < self.value,
            "<=": x <= self.value,
            "==": x == self.value,
            "!=": x != self.value,
        }[self.op]


@dataclass
class Calibration:
    """A checked calibration config (see the module's docstring)."""

    source: str  # the file it was read from (or "<config>")
    base_dir: Path  # relative data files resolve against it
    text: str  # the TOML as given (copied into the study folder)
    config: Config
    kind: str  # "model" | "scenario" | "town"
    target: str  # model name, scenario (built-in name or absolute path), town
    where: dict[int, Where] = field(default_factory=dict)

    @property
    def fit(self) -> Fit:
        return self.config.fit

    @property
    def study(self) -> Study:
        return self.config.study

    @property
    def parameters(self) -> list[Parameter]:
        return self.config.parameter

    @property
    def targets(self) -> list[Target]:
        return self.config.target

    def method(self) -> str:
        return self.fit.method or "ssa"

    def fixed(self) -> dict[str, str]:
        """The fixed values as ``--set`` text (TOML values)."""
        # Imported here: spec imports the scenario loader lazily too.
        from hyosan.ensemble.spec import toml_value

        out = {}
        for key, value in self.fit.set.items():
            out[key] = toml_value(value) if isinstance(value, bool | int | float | str) else str(value)
        return out

    def target_name(self, i: int) -> str:
        t = self.targets[i]
        if t.name:
            return t.name
        if t.data is not None:
            return f"{t.column or t.count} ({Path(t.data).name})"
        return f"{t.statistic} of {t.metric}"


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _clean(msg: str) -> str:
    return msg.removeprefix("Value error, ")


def load_config(path: str | Path) -> Calibration:
    """Read and check a calibration TOML (every mistake names the file and the field)."""
    p = Path(path)
    source = str(path)
    text = read_text(p, source)
    return parse_config(text, source, p.parent.absolute())


def parse_config(text: str, source: str, base_dir: Path) -> Calibration:
    raw = parse_toml(text, source)
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err["loc"]
        if err["type"] == "extra_forbidden":
            raise HyosanError("unknown key", source=source, field=_loc(loc)) from None
        if err["type"] == "missing":
            raise HyosanError("missing", source=source, field=_loc(loc)) from None
        raise HyosanError(_clean(err["msg"]), source=source, field=_loc(loc)) from None
    fit = cfg.fit
    kind = next(k for k in ("model", "scenario", "town") if getattr(fit, k) is not None)
    target = getattr(fit, kind)
    if kind == "scenario" and not target.replace("-", "").isalnum():
        target = str((base_dir / target).absolute())  # a file beside the config
    elif kind == "town" and target != "hyosan-city":
        target = str((base_dir / target).absolute())
    if kind != "model" and fit.method is not None and kind == "scenario":
        raise HyosanError("a school scenario has no solver method", source=source, field="fit.method")
    cal = Calibration(source=source, base_dir=base_dir, text=text, config=cfg, kind=kind, target=target)
    _check_study(cal)
    _check_parameters(cal)
    _check_targets(cal)
    return cal


def seed_list(value: int | list[int], what: str, source: str) -> int:
    """The number of seeds a study field gives (checking a list's seeds)."""
    if isinstance(value, list):
        if len(set(value)) != len(value):
            raise HyosanError("a seed appears twice", source=source, field=what)
        for s in value:
            if s < 0 or s >= 2**63:
                raise HyosanError(f"a seed must be from 0 to 2**63 - 1, got {s}", source=source, field=what)
        return len(value)
    return value


def _check_study(cal: Calibration) -> None:
    st, src = cal.study, cal.source
    if not 1 <= st.trials <= MAX_TRIALS:
        raise HyosanError(
            f"must be from 1 to {MAX_TRIALS}, got {st.trials}", source=src, field="study.trials"
        )
    n = seed_list(st.seeds, "study.seeds", src)
    if n < 1:
        raise HyosanError("a trial needs at least one seed", source=src, field="study.seeds")
    if n > MAX_SEEDS:
        raise HyosanError(f"at most {MAX_SEEDS} seeds, got {n}", source=src, field="study.seeds")
    h = seed_list(st.heldout, "study.heldout", src)
    if h < 0 or h > MAX_SEEDS:
        raise HyosanError(f"must be from 0 to {MAX_SEEDS}, got {h}", source=src, field="study.heldout")
    limits.check_seed(st.seed, f"{src}: study.seed")
    if st.sampler not in SAMPLERS:
        raise HyosanError(
            f"unknown sampler {st.sampler!r} (known: {', '.join(SAMPLERS)})",
            source=src,
            field="study.sampler",
        )
    if st.pruner not in PRUNERS:
        raise HyosanError(
            f"unknown pruner {st.pruner!r} (known: {', '.join(PRUNERS)})", source=src, field="study.pruner"
        )
    if st.pruner != "none" and not 1 <= st.prune_after < n:
        raise HyosanError(
            f"must be from 1 to seeds - 1 ({n - 1}) to prune after the first seeds, got {st.prune_after}",
            source=src,
            field="study.prune_after",
        )
    if st.startup_trials < 0:
        raise HyosanError("must be >= 0", source=src, field="study.startup_trials")
    if isinstance(st.seeds, list) and isinstance(st.heldout, list):
        both = sorted(set(st.seeds) & set(st.heldout))
        if both:
            raise HyosanError(
                f"held-out seeds must never be the study's: {', '.join(map(str, both[:5]))} in both",
                source=src,
                field="study.heldout",
            )
    if cal.kind == "model" and cal.method() == "ode" and (n > 1 or h > 0):
        raise HyosanError(
            "the ODE is deterministic: one seed per trial and no held-out seeds (use method = ssa)",
            source=src,
            field="study.seeds" if n > 1 else "study.heldout",
        )


def _check_parameters(cal: Calibration) -> None:
    src = cal.source
    if not cal.parameters:
        raise HyosanError("give at least one [[parameter]] to fit", source=src, field="parameter")
    seen = set()
    for i, p in enumerate(cal.parameters):
        where = f"parameter[{i}]"
        if not p.key.strip():
            raise HyosanError("empty key", source=src, field=f"{where}.key")
        if p.key in seen:
            raise HyosanError(f"{p.key!r} is fitted twice", source=src, field=f"{where}.key")
        if p.key in cal.fit.set:
            raise HyosanError(f"{p.key!r} is also fixed in fit.set", source=src, field=f"{where}.key")
        seen.add(p.key)
        for end in ("low", "high"):
            if not math.isfinite(getattr(p, end)):
                raise HyosanError("must be finite", source=src, field=f"{where}.{end}")
        if p.high < p.low:
            raise HyosanError(
                f"inverted range: high {p.high:g} < low {p.low:g}", source=src, field=f"{where}.high"
            )
        if p.high == p.low:
            raise HyosanError(f"empty range: low = high = {p.low:g}", source=src, field=f"{where}.high")
        if p.log and p.low <= 0:
            raise HyosanError("a log scale needs low > 0", source=src, field=f"{where}.low")
        if p.integer and (p.low != round(p.low) or p.high != round(p.high)):
            raise HyosanError("an integer range needs whole ends", source=src, field=f"{where}.low")


def _check_targets(cal: Calibration) -> None:
    src = cal.source
    if not cal.targets:
        raise HyosanError("give at least one [[target]]", source=src, field="target")
    for i, t in enumerate(cal.targets):
        where = f"target[{i}]"
        if not (math.isfinite(t.weight) and t.weight > 0):
            raise HyosanError("must be a finite number > 0", source=src, field=f"{where}.weight")
        is_data, is_summary = t.data is not None, t.metric is not None
        if is_data == is_summary:
            raise HyosanError(
                "a target is either data (data = FILE, count = ...) or a summary (metric = ...)",
                source=src,
                field=where,
            )
        if is_data:
            if t.count is None:
                raise HyosanError(
                    "missing: the result's count to compare with", source=src, field=f"{where}.count"
                )
            if t.likelihood not in LIKELIHOODS:
                raise HyosanError(
                    f"unknown likelihood {t.likelihood!r} (known: {', '.join(LIKELIHOODS)})",
                    source=src,
                    field=f"{where}.likelihood",
                )
            if not 0 < t.coverage <= 1:
                raise HyosanError("must be in (0, 1]", source=src, field=f"{where}.coverage")
            for key in ("statistic", "q", "where", "value", "range", "tolerance", "scale"):
                if key in t.model_fields_set:
                    raise HyosanError("applies to a summary target only", source=src, field=f"{where}.{key}")
            continue
        for key in ("column", "count", "likelihood", "coverage"):
            if key in t.model_fields_set:
                raise HyosanError("applies to a data target only", source=src, field=f"{where}.{key}")
        if t.statistic not in STATISTICS:
            raise HyosanError(
                f"unknown statistic {t.statistic!r} (known: {', '.join(STATISTICS)})",
                source=src,
                field=f"{where}.statistic",
            )
        if t.statistic == "quantile" and (t.q is None or not 0 <= t.q <= 1):
            raise HyosanError("a quantile needs q from 0 to 1", source=src, field=f"{where}.q")
        if t.statistic != "quantile" and t.q is not None:
            raise HyosanError("applies to statistic = quantile only", source=src, field=f"{where}.q")
        if t.statistic == "share":
            cal.where[i] = parse_where(t.where, src, f"{where}.where")
        elif t.where is not None:
            raise HyosanError("applies to statistic = share only", source=src, field=f"{where}.where")
        if (t.value is None) == (t.range is None):
            raise HyosanError("give a value or a range [low, high]", source=src, field=where)
        if t.range is not None:
            if len(t.range) != 2 or not all(math.isfinite(v) for v in t.range):
                raise HyosanError("a range is [low, high]", source=src, field=f"{where}.range")
            if t.range[1] < t.range[0]:
                raise HyosanError("inverted range: high < low", source=src, field=f"{where}.range")
        elif not math.isfinite(t.value):
            raise HyosanError("must be finite", source=src, field=f"{where}.value")
        for key in ("tolerance", "scale"):
            v = getattr(t, key)
            if v is not None and not (math.isfinite(v) and v > 0):
                raise HyosanError("must be a finite number > 0", source=src, field=f"{where}.{key}")


_OPS = (">=", "<=", "==", "!=", ">", "<")


def parse_where(text: str | None, source: str, fieldname: str) -> Where:
    if text is None:
        raise HyosanError(
            'a share needs where = "> 0" (an operator and a number)', source=source, field=fieldname
        )
    s = text.strip()
    for op in _OPS:
        if s.startswith(op):
            try:
                value = float(s[len(op) :])
            except ValueError:
                break
            return Where(op, value)
    raise HyosanError(
        f"expected an operator and a number such as '> 0', got {text!r}", source=source, field=fieldname
    )
