"""The ensemble report: one self-contained HTML page for a sweep or sensitivity store.

Reads only the store (``sweep.json``, ``runs.parquet``, ``bands.parquet`` and any
``sensitivity_<output>.parquet`` beside them) and shows:

- what ran: target, root seed, runs per set, finished and failed runs (each number tagged
  ``data-store="key"`` with its key in sweep.json's ``status``, so a test can check it);
- the parameter sets, with runs ok and failed and the medians of the main metrics;
- fan charts: per series (humans, zombies, halfbies for a school; every compartment for a
  model), the median and the 25-75 % and 5-95 % bands of every parameter set over time;
- each main metric against each varied parameter (every run a dot, the median a line);
- the sensitivity indices as bars with their 95 % intervals, and their table;
- the failed runs and their errors.

Like the run report it fetches nothing (same Content-Security-Policy) and escapes every value.
"""

from __future__ import annotations

import html
import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

# Off-screen (Agg), but a notebook keeps its inline backend (hyosan.display.headless_backend).
matplotlib.use("Agg" if "ipykernel" not in sys.modules else matplotlib.get_backend())
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hyosan.errors import HyosanError
from hyosan.io import write_text
from hyosan.report.charts import png
from hyosan.report.page import PAGE_CSS, _table
from hyosan.report.replay import PAGE_CSP
from hyosan.scenario.load import load_scenario
from hyosan.scenario.timefmt import format_clock

e = html.escape
#: Series shown as fan charts, in this order, when the store has them.
SCHOOL_SERIES = ("humans", "zombies", "halfbies")
#: Metrics plotted against the varied parameters (school runs), when present.
SCHOOL_METRICS = (
    "survivors_students",
    "survivors_adults",
    "final_zombie",
    "final_halfbie",
    "half_infected_s",
)
MAX_SETS_DRAWN = 12
#: Runs a set needs before its 5-95 % band means more than its lowest and highest run (with n
#: runs the 5th percentile is interpolated between the two lowest until n >= 20), and before its
#: 25-75 % band is more than a guess.
MIN_RUNS_OUTER, MIN_RUNS_INNER = 20, 8
#: Readable names of the metrics and series (the raw column stays in the tables and on hover).
METRIC_LABELS = {
    "survivors_students": "students who survived",
    "survivors_adults": "adults who survived",
    "final_zombie": "zombies at the end",
    "final_halfbie": "halfbies at the end",
    "final_human": "humans at the end",
    "final_dead": "dead at the end",
    "half_infected_s": "time until half were infected (min)",
    "first_turn_s": "time of the first turn (min)",
    "humans": "humans (human and bitten)",
    "zombies": "zombies",
    "halfbies": "halfbies",
    "bites": "bites",
    "turns": "turns",
    "kills": "zombies destroyed",
}


def metric_label(name: str) -> str:
    """A metric's readable name: ``final_Z`` of a model reads "Z at the end"."""
    if name in METRIC_LABELS:
        return METRIC_LABELS[name]
    if name.startswith("final_"):
        return f"{name[6:]} at the end"
    return name.replace("_", " ")


def band_warning(runs_per_set: int) -> str:
    """The warning shown above the fan charts when sets have too few runs for their bands."""
    if runs_per_set >= MIN_RUNS_OUTER:
        return ""
    drawn = "the 25-75 % band only" if runs_per_set >= MIN_RUNS_INNER else "the median only"
    return (
        f'<p class="warn" id="band-warning"><b>Only {runs_per_set} runs per set:</b> too few for the '
        f"5-95 % band (it needs {MIN_RUNS_OUTER}) so {drawn} is drawn"
        + ("" if runs_per_set >= MIN_RUNS_INNER else f" (a 25-75 % band needs {MIN_RUNS_INNER})")
        + ". Run more replicates (--runs) for bands you can trust.</p>"
    )


def start_clock(spec: dict) -> float | None:
    """Seconds since midnight of the school scenario's time 0, or None (a model, or unreadable)."""
    if spec.get("kind") == "branch":
        return spec.get("context", {}).get("start_clock_s")
    if spec.get("kind") != "scenario":
        return None
    try:
        loaded = load_scenario(spec.get("target"), dict(spec.get("context", {}).get("set") or {}))
    except (HyosanError, OSError, ValueError, TypeError):
        return None
    return float(loaded.scenario.start_seconds)


def _colours(n: int) -> list:
    cmap = plt.get_cmap("tab10" if n <= 10 else "viridis")
    return [cmap(i if n <= 10 else i / max(1, n - 1)) for i in range(n)]


def _set_label(row: dict, keys: list[str]) -> str:
    return ", ".join(f"{k}={row[k]}" for k in keys) or "all runs"


def fan_chart(
    bands: pd.DataFrame,
    series: str,
    keys: list[str],
    time_unit: str,
    clock_s: float | None = None,
    branch_s: float | None = None,
) -> str:
    """Median and bands of ``series`` per set; a band is drawn only where every set has runs enough
    for it (:data:`MIN_RUNS_OUTER`, :data:`MIN_RUNS_INNER`). With ``clock_s`` (a school's start
    clock) the time axis reads clock times, as in the run report; with ``branch_s`` (a branch's
    store) a line marks the branch point: the shared past before it, the futures after."""
    part = bands[bands["series"] == series]
    sets = sorted(part["set_id"].unique())[:MAX_SETS_DRAWN]
    fig, ax = plt.subplots(figsize=(10, 3.4))
    scale = 60.0 if time_unit == "s" else 1.0
    fewest = int(part["runs"].min()) if len(part) else 0
    outer, inner = fewest >= MIN_RUNS_OUTER, fewest >= MIN_RUNS_INNER
    for colour, set_id in zip(_colours(len(sets)), sets, strict=True):
        b = part[part["set_id"] == set_id].sort_values("t")
        t = b["t"].to_numpy() / scale
        label = _set_label(b.iloc[0].to_dict(), keys)
        if outer:
            ax.fill_between(t, b["q05"], b["q95"], color=colour, alpha=0.12, lw=0)
        if inner:
            ax.fill_between(t, b["q25"], b["q75"], color=colour, alpha=0.25, lw=0)
        ax.plot(t, b["q50"], color=colour, lw=1.6, label=f"{label} (n={int(b['runs'].iloc[0])})")
    if branch_s is not None:
        ax.axvline(branch_s / scale, color="0.3", ls="--", lw=1, label="branch point")
    shown = "median, 25-75 % and 5-95 %" if outer else "median and 25-75 %" if inner else "median"
    ax.set_title(f"{metric_label(series)}: {shown} of the runs", fontsize=10)
    if time_unit == "s" and clock_s is not None and len(part):
        span = float(part["t"].max())
        step = next((s for s in (300, 600, 900, 1800, 3600, 7200, 14400) if span / s <= 8), 28800)
        ticks = np.arange(-(clock_s % step) % step, span + 1e-9, step)
        ax.set_xticks(ticks / scale)
        ax.set_xticklabels([format_clock(clock_s + v)[:5] for v in ticks])
        ax.set_xlabel("clock time")
    else:
        ax.set_xlabel("minutes from the start" if time_unit == "s" else f"time ({time_unit})")
    ax.set_ylabel(metric_label(series))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return png(fig)


def metric_chart(runs: pd.DataFrame, metric: str, key: str) -> str:
    ok = runs[runs["status"] == "ok"]
    values = ok[key]
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    levels = sorted(values.unique()) if numeric else list(dict.fromkeys(values.astype(str)))
    pos = {v: i for i, v in enumerate(levels)}
    x = values.map(pos).to_numpy(dtype=float) if not numeric else values.to_numpy(dtype=float)
    y = ok[metric].to_numpy(dtype=float) / (60.0 if metric.endswith("_s") else 1.0)
    rng = np.random.default_rng(0)  # jitter only: the same picture every time
    width = (np.diff(levels).min() if numeric and len(levels) > 1 else 1.0) * 0.15
    fig, ax = plt.subplots(figsize=(4.2, 3.0))
    ax.scatter(x + rng.uniform(-width, width, size=x.size), y, s=8, alpha=0.45, color="#2b7bba")
    med = ok.groupby(key, sort=True)[metric].median() / (60.0 if metric.endswith("_s") else 1.0)
    mx = med.index.to_numpy(dtype=float) if numeric else np.array([pos[str(v)] for v in med.index])
    order = np.argsort(mx)
    ax.plot(mx[order], med.to_numpy()[order], color="#c0392b", marker="o", lw=1.5, label="median")
    if not numeric:
        ax.set_xticks(range(len(levels)))
        ax.set_xticklabels(levels)
    ax.set_xlabel(key)
    ax.set_ylabel(metric_label(metric), fontsize=8)
    ax.set_title(f"{metric_label(metric)} against {key}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, frameon=False)
    return png(fig)


def sensitivity_chart(table: pd.DataFrame) -> str:
    sobol = "S1" in table.columns
    fig, ax = plt.subplots(figsize=(6, 0.5 + 0.45 * len(table)))
    y = np.arange(len(table))
    if sobol:
        ax.barh(y - 0.2, table["S1"], 0.4, xerr=table["S1_conf"], label="first order S1", color="#2b7bba")
        ax.barh(y + 0.2, table["ST"], 0.4, xerr=table["ST_conf"], label="total ST", color="#c0392b")
    else:
        ax.barh(y, table["mu_star"], 0.6, xerr=table["mu_star_conf"], label="mu*", color="#2b7bba")
    ax.set_yticks(y)
    ax.set_yticklabels(table["param"])
    ax.invert_yaxis()
    ax.set_title(f"Sensitivity of {table['output'].iloc[0]} ({'Sobol' if sobol else 'Morris'})", fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    ax.grid(alpha=0.3, axis="x")
    return png(fig)


def _num(value: Any, key: str) -> str:
    return f'<span data-store="{e(key)}">{e(str(value))}</span>'


def build_ensemble_report(store: str | Path) -> str:
    """The report of the sweep or sensitivity store at ``store``, as one HTML string."""
    store = Path(store)
    try:
        spec = json.loads((store / "sweep.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HyosanError("no sweep.json: not a hyosan sweep store", source=str(store)) from None
    except json.JSONDecodeError as exc:
        raise HyosanError(f"not valid JSON ({exc.msg})", source=str(store / "sweep.json")) from None
    for name in ("runs.parquet", "bands.parquet"):
        if not (store / name).is_file():
            raise HyosanError(f"missing {name}: run the sweep again to complete it", source=str(store))
    runs = pd.read_parquet(store / "runs.parquet")
    bands = pd.read_parquet(store / "bands.parquet")
    keys = list(spec.get("vary") or {})
    if spec.get("design"):
        keys = list(spec["design"].get("params", keys)) if isinstance(spec["design"], dict) else keys
    keys = [k for k in keys if k in runs.columns]
    status = spec.get("status", {})
    model = spec.get("kind") in ("model", "town")  # series and metrics named by the run, in days
    series = (
        list(dict.fromkeys(bands["series"]))
        if model
        else [s for s in SCHOOL_SERIES if s in set(bands["series"])]
    )
    metrics = (
        [c for c in runs.columns if c.startswith("final_")]
        if model
        else [m for m in SCHOOL_METRICS if m in runs.columns]
    )
    time_unit = spec.get("context", {}).get("time_unit", "days") if model else "s"

    cards = [
        (
            "runs finished",
            _num(status.get("finished", 0), "finished") + " of " + _num(status.get("total", 0), "total"),
        ),
        ("failed", _num(status.get("failed", 0), "failed")),
        ("parameter sets", _num(len(spec.get("sets", [])), "sets")),
        ("runs per set", _num(spec.get("runs"), "runs")),
        ("root seed", _num(spec.get("seed"), "seed")),
    ]
    out = ['<div class="cards">']
    out += [f'<div class="card"><b>{v}</b><span>{e(k)}</span></div>' for k, v in cards]
    out.append("</div>")
    if not status.get("complete", True):
        out.append("<p><b>This sweep is not complete:</b> run the same command again to finish it.</p>")
    sections = [("summary", "Summary", "\n".join(out))]

    per_set = runs.groupby("set_id")
    sets = pd.DataFrame({"set": per_set.size().index})
    for k in keys:
        sets[k] = per_set[k].first().to_numpy()
    sets["ok"] = per_set["status"].apply(lambda s: int((s == "ok").sum())).to_numpy()
    sets["failed"] = per_set["status"].apply(lambda s: int((s != "ok").sum())).to_numpy()
    for m in metrics[:5]:
        scale = 60.0 if m.endswith("_s") else 1.0
        sets[f"median {metric_label(m)}"] = per_set[m].median().to_numpy(dtype=float) / scale
    sections.append(("sets", "Parameter sets", _table(sets)))

    clock_s = start_clock(spec)
    branch_s = spec.get("context", {}).get("branch_s") if spec.get("kind") == "branch" else None
    fewest = int(bands["runs"].min()) if len(bands) else 0
    fans = band_warning(fewest) if len(bands) else ""
    if branch_s is not None:
        fans += (
            f'<p data-branch-s="{branch_s:g}">One history up to the branch point '
            f"({e(format_clock((clock_s or 0) + branch_s))}), then each run's own future.</p>"
        )
    fans += "".join(
        f'<img class="chart" alt="{e(metric_label(s))} over time" '
        f'src="{fan_chart(bands, s, keys, time_unit, clock_s, branch_s)}">'
        for s in series
    )
    if len(set(bands["set_id"])) > MAX_SETS_DRAWN:
        fans += f"<p>The first {MAX_SETS_DRAWN} parameter sets are drawn; bands.parquet has them all.</p>"
    sections.append(("fans", "Over time", fans or "<p>No successful run: no bands.</p>"))

    ok = runs[runs["status"] == "ok"]
    if keys and len(ok):
        charts = [
            f'<img class="chart small" alt="{e(metric_label(m))} against {e(k)}" '
            f'src="{metric_chart(runs, m, k)}">'
            for k in keys
            for m in metrics
            if ok[m].notna().any()
        ]
        sections.append(("metrics", "Metrics against the parameters", "".join(charts)))

    sens = []
    for path in sorted(store.glob("sensitivity_*.parquet")):
        if path.stem.endswith("_s2"):
            continue
        table = pd.read_parquet(path)
        sens.append(f'<img class="chart" alt="sensitivity {e(path.stem)}" src="{sensitivity_chart(table)}">')
        sens.append(_table(table))
    if sens:
        sections.append(("sensitivity", "Sensitivity", "".join(sens)))

    failed = runs[runs["status"] != "ok"]
    if len(failed):
        sections.append(
            ("failed", "Failed runs", _table(failed[["set_id", "replicate", "seed", *keys, "error"]]))
        )

    nav = " ".join(f'<a href="#s-{key}">{e(label)}</a>' for key, label, _ in sections)
    body = "\n".join(
        f'<section id="s-{key}"><h2>{e(label)}</h2>\n{content}</section>' for key, label, content in sections
    )
    target = spec.get("target", "")
    title = f"Ensemble: {Path(str(target)).name if not model else target}"
    sub = f"{spec.get('kind')} {target}; hyosan {spec.get('hyosan')}; created {spec.get('created')}"
    css = PAGE_CSS + "\nimg.chart.small{max-width:32%;min-width:18rem}\n"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{PAGE_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n<main>\n"
        f'<h1>{e(title)}</h1>\n<p class="sub">{e(sub)}</p>\n<nav>{nav}</nav>\n{body}\n</main>\n'
        "</body>\n</html>\n"
    )


def write_ensemble_report(store: str | Path, path: str | Path | None = None) -> Path:
    """Build the store's report and write it atomically (default: ``store/report.html``)."""
    path = Path(path) if path is not None else Path(store) / "report.html"
    write_text(path, build_ensemble_report(store))
    return path
