"""A study folder's report.html: optimisation history, parameter importance (Optuna's),
the fit against the data with bands over seeds, the targets in-sample beside held-out.

Self-contained like the other reports (inline PNG charts, no script, the same page style); it
reads only the folder (calibration.json, fit.parquet, study.db), so ``hyosan report DIR``
rebuilds it.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hyosan.errors import HyosanError
from hyosan.io import add_to_marker, write_text
from hyosan.palette import GROUP_COLOURS, INK, STATE_COLOURS
from hyosan.report.charts import png
from hyosan.report.page import PAGE_CSS, _table
from hyosan.report.replay import PAGE_CSP

e = html.escape
IN_COLOUR = STATE_COLOURS["human"]
OUT_COLOUR = STATE_COLOURS["bitten"]
DATA_COLOUR = INK
BEST_COLOUR = GROUP_COLOURS["zombie_group"]


def _load(folder: Path) -> dict[str, Any]:
    path = folder / "calibration.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HyosanError(
            "no calibration.json: not a finished calibration study", source=str(folder)
        ) from None
    except ValueError as exc:
        raise HyosanError(f"not valid JSON ({exc})", source=str(path)) from None
    if not isinstance(data, dict) or data.get("format") != "hyosan-calibration/1":
        raise HyosanError("not a hyosan calibration", source=str(path))
    return data


def _study(folder: Path):
    # Imported here: Optuna loads with the calibrate command (and this report) only.
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if not (folder / "study.db").is_file():
        raise HyosanError("missing study.db", source=str(folder))
    # Imported here: the study's storage (WAL mode) as the study wrote it.
    from hyosan.calibrate.study import storage

    return optuna.load_study(study_name="hyosan", storage=storage(folder))


def history_chart(study) -> str:
    # Imported here: Optuna loads with the calibrate command (and this report) only.
    from optuna.trial import TrialState

    done = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    fig, ax = plt.subplots(figsize=(8, 3.4))
    if done:
        x = np.array([t.number for t in done])
        y = np.array([t.value for t in done])
        ax.scatter(x, y, s=12, color=IN_COLOUR, alpha=0.7, label="trial loss")
        ax.step(x, np.minimum.accumulate(y), where="post", color=BEST_COLOUR, label="best so far")
        if y.min() > 0 and y.max() / y.min() > 100:
            ax.set_yscale("log")
    pruned = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.PRUNED]
    for t in pruned:
        ax.axvline(t.number, color="#bbbbbb", lw=0.6, zorder=0)
    ax.set_xlabel("trial")
    ax.set_ylabel("loss")
    ax.set_title("Optimisation history" + (f" ({len(pruned)} pruned: grey)" if pruned else ""))
    ax.legend(loc="upper right", fontsize=8)
    return png(fig)


def importance(study) -> dict[str, float]:
    """Optuna's parameter importance (its default evaluator, PED-ANOVA); empty when the study is
    too small for it."""
    # Imported here: Optuna loads with the calibrate command (and this report) only.
    import optuna
    from optuna.trial import TrialState

    done = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    if len(done) < 2:
        return {}
    try:
        return optuna.importance.get_param_importances(study)
    except (RuntimeError, ValueError, ZeroDivisionError):
        return {}


def importance_chart(imp: dict[str, float]) -> str:
    fig, ax = plt.subplots(figsize=(8, 0.5 + 0.4 * len(imp)))
    names = list(imp)[::-1]
    ax.barh(names, [imp[n] for n in names], color=IN_COLOUR)
    ax.set_xlim(0, 1)
    ax.set_xlabel("importance (Optuna, PED-ANOVA; normalised)")
    ax.set_title("Parameter importance")
    return png(fig)


def band(frame: pd.DataFrame) -> pd.DataFrame:
    g = frame.groupby("t")["value"]
    return pd.DataFrame(
        {
            "q05": g.quantile(0.05),
            "q50": g.quantile(0.5),
            "q95": g.quantile(0.95),
            "mean": g.mean(),
            "runs": g.size(),
        }
    )


def fit_chart(fit: pd.DataFrame, target: dict[str, Any], unit: str) -> str:
    count = target["in_sample"]["count"]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for sample, colour, label in (("in", IN_COLOUR, "study seeds"), ("out", OUT_COLOUR, "held-out seeds")):
        rows = fit[(fit["sample"] == sample) & (fit["series"] == count)]
        if not len(rows):
            continue
        b = band(rows)
        n = int(b["runs"].max())
        if n > 1:
            ax.fill_between(
                b.index,
                b["q05"],
                b["q95"],
                color=colour,
                alpha=0.18,
                lw=0,
                label=f"{label}: 5-95 % ({n} runs)",
            )
        ax.plot(b.index, b["mean"], color=colour, lw=1.6, label=f"{label}: mean" if n > 1 else label)
    ob = target.get("observed") or {}
    ax.scatter(
        ob.get("t", []),
        ob.get("value", []),
        color=DATA_COLOUR,
        s=18,
        zorder=5,
        label=f"observed {ob.get('column', '')}",
    )
    ax.set_xlabel(f"t ({unit})")
    ax.set_ylabel(count)
    ax.set_title(f"{target['name']}: {count} against the data")
    ax.legend(loc="upper right", fontsize=8)
    return png(fig)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def targets_frame(targets: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for t in targets:
        ins, out = t["in_sample"], t.get("held_out")
        if t["kind"] == "data":
            what = "share of points in the 90 % interval"
        else:
            what = ins.get("statistic", "") + (f" (q {ins['q']:g})" if ins.get("q") is not None else "")
            what += f" of {ins.get('metric')}" + (f" where {ins['where']}" if ins.get("where") else "")
        rows.append(
            {
                "target": t["name"],
                "kind": t["kind"],
                "goal": t["goal"],
                "weight": t["weight"],
                "measured as": what,
                "in-sample": _fmt(ins["value"]),
                "loss": _fmt(ins["loss"]),
                "met": _fmt(ins["met"]),
                "held-out": _fmt(out["value"]) if out else "-",
                "held-out loss": _fmt(out["loss"]) if out else "-",
                "met held-out": _fmt(out["met"]) if out else "-",
                "flag": "met in-sample, missed held-out" if t.get("flagged") else "",
            }
        )
    return pd.DataFrame(rows)


def build_calibration_report(folder: str | Path) -> str:
    folder = Path(folder)
    data = _load(folder)
    study = _study(folder)
    fit_path = folder / "fit.parquet"
    fit = pd.read_parquet(fit_path) if fit_path.is_file() else pd.DataFrame()
    st, best = data["study"], data["best"]
    kind = data["fit"]["kind"]
    unit = "s" if kind == "scenario" else "days"
    cards = [
        ("best loss", _fmt(best["loss"])),
        ("trials", f"{st['complete']} complete" + (f", {st['pruned']} pruned" if st.get("pruned") else "")),
        ("seeds per trial", str(len(st["seeds"]))),
        ("held-out seeds", str(len(st["heldout_seeds"]))),
        (
            "sampler",
            st["sampler"] + ("" if st.get("pruner") in (None, "none") else f", {st['pruner']} pruner"),
        ),
        ("targets flagged", str(len(data.get("flagged", [])))),
    ]
    out = ['<div class="cards">']
    out += [f'<div class="card"><b>{e(v)}</b><span>{e(k)}</span></div>' for k, v in cards]
    out.append("</div>")
    if data.get("flagged"):
        out.append(
            "<p><b>Flagged:</b> met on the study's seeds and missed on fresh ones: "
            + e(", ".join(data["flagged"]))
            + ". The fit holds for the seeds it was tuned on, not beyond them.</p>"
        )
    sections = [("summary", "Summary", "\n".join(out))]
    ranges = {p["key"]: p for p in data.get("parameters", [])}
    params = pd.DataFrame(
        [
            {
                "parameter": k,
                "best": v,
                "low": ranges.get(k, {}).get("low"),
                "high": ranges.get(k, {}).get("high"),
                "scale": "log" if ranges.get(k, {}).get("log") else "linear",
            }
            for k, v in best["values"].items()
        ]
    )
    calibrated = data.get("calibrated")
    note = (
        f"<p>The calibrated {e(kind)}: <code>{e(calibrated)}</code> (runnable as is).</p>"
        if calibrated
        else ""
    )
    sections.append(("best", "Best values", _table(params) + note))
    sections.append(("targets", "Targets: in-sample and held-out", _table(targets_frame(data["targets"]))))
    charts = [
        f'<img class="chart" alt="fit of {e(t["name"])}" src="{fit_chart(fit, t, unit)}">'
        for t in data["targets"]
        if t["kind"] == "data" and len(fit)
    ]
    if charts:
        sections.append(("fit", "The fit against the data", "".join(charts)))
    sections.append(
        (
            "history",
            "Optimisation history",
            f'<img class="chart" alt="optimisation history" src="{history_chart(study)}">',
        )
    )
    imp = importance(study)
    if imp:
        body = f'<img class="chart" alt="parameter importance" src="{importance_chart(imp)}">'
        body += _table(pd.DataFrame({"parameter": list(imp), "importance": list(imp.values())}))
    else:
        body = "<p>Too few complete trials for Optuna's importance.</p>"
    sections.append(("importance", "Parameter importance", body))
    nav = " ".join(f'<a href="#s-{key}">{e(label)}</a>' for key, label, _ in sections)
    body = "\n".join(
        f'<section id="s-{key}"><h2>{e(label)}</h2>\n{content}</section>' for key, label, content in sections
    )
    target = data["fit"]["target"]
    title = f"Calibration: {Path(str(target)).name if kind != 'model' else target}"
    sub = f"{kind} {target}; {data.get('config')}; hyosan {data.get('hyosan')}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{PAGE_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>{PAGE_CSS}</style>\n</head>\n<body>\n<main>\n"
        f'<h1>{e(title)}</h1>\n<p class="sub">{e(sub)}</p>\n<nav>{nav}</nav>\n{body}\n</main>\n'
        "</body>\n</html>\n"
    )


def is_calibration(folder: str | Path) -> bool:
    return (Path(folder) / "calibration.json").is_file() and (Path(folder) / "study.db").is_file()


def write_calibration_report(folder: str | Path, path: str | Path | None = None) -> Path:
    """Build the study's report and write it atomically (default: ``folder/report.html``)."""
    folder = Path(folder)
    target = Path(path) if path is not None else folder / "report.html"
    write_text(target, build_calibration_report(folder))
    if path is None:
        add_to_marker(folder, "report.html")
    return target
