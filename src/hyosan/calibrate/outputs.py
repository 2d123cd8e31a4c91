"""What a finished study writes in its folder, and the calibrated model or scenario.

::

    DIR/config.toml          the config as given
    DIR/study.json           what --resume checks (the study's identity)
    DIR/study.db             Optuna's study (SQLite: every trial, its values, loss, targets)
    DIR/calibration.json     best values, loss, each target in-sample and held-out, the settings
    DIR/trials.csv           one row per trial: number, state, loss, values
    DIR/fit.parquet, fit.csv the best values' runs: sample (in | out), replicate, seed, series, t, value
    DIR/calibrated.toml      the calibrated model, scenario or town, runnable as is:
                             `hyosan model calibrated.toml`, `hyosan run calibrated.toml`,
                             `hyosan town calibrated.toml`
    DIR/<map files>          a school's map, beside its calibrated.toml
    DIR/report.html          the study's report (`hyosan report DIR` rebuilds it)
"""

from __future__ import annotations

import json
import math
import shutil
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w

from hyosan import __version__
from hyosan.calibrate import data as obs_data
from hyosan.calibrate.config import Calibration
from hyosan.calibrate.runner import CalibrationRunner
from hyosan.errors import HyosanError
from hyosan.io import add_to_marker, atomic_path, read_text, write_text

CALIBRATED = "calibrated.toml"


def fit_table(in_records: list[dict[str, Any]], out_records: list[dict[str, Any]]) -> pd.DataFrame:
    """The best values' runs as one long table (in-sample and held-out)."""
    rows = []
    for sample, records in (("in", in_records), ("out", out_records)):
        for r, rec in enumerate(records):
            t = np.asarray(rec["ts.t"], dtype=np.float64)
            for key, values in rec.items():
                if not key.startswith("ts.") or key == "ts.t":
                    continue
                rows.append(
                    pd.DataFrame(
                        {
                            "sample": sample,
                            "replicate": r,
                            "seed": int(rec["seed"]),
                            "series": key[3:],
                            "t": t,
                            "value": np.asarray(values, dtype=np.float64),
                        }
                    )
                )
    if not rows:
        return pd.DataFrame(columns=["sample", "replicate", "seed", "series", "t", "value"])
    return pd.concat(rows, ignore_index=True)


def trials_table(folder: Path) -> pd.DataFrame:
    # Imported here: Optuna loads with the calibrate command (and the report) only.
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Imported here: the study's storage (WAL mode) as the study wrote it.
    from hyosan.calibrate.study import storage

    study = optuna.load_study(study_name="hyosan", storage=storage(folder))
    rows = []
    for t in study.get_trials(deepcopy=False):
        rows.append({"number": t.number, "state": t.state.name.lower(), "loss": t.value, **t.params})
    return pd.DataFrame(rows)


def write_outputs(
    cal: Calibration,
    out: Path,
    summary: dict[str, Any],
    in_records: list[dict[str, Any]],
    out_records: list[dict[str, Any]],
    observed: dict[int, obs_data.Observed],
    runner: CalibrationRunner,
    report: bool = True,
) -> None:
    for i, ob in observed.items():
        row = summary["targets"][i]
        row["observed"] = {"t": ob.times.tolist(), "value": ob.values.tolist(), "column": ob.column}
    names = ["calibration.json", "trials.csv", "fit.parquet", "fit.csv"]
    fit = fit_table(in_records, out_records)
    with atomic_path(out / "fit.parquet") as tmp:
        fit.to_parquet(tmp, index=False)
    with atomic_path(out / "fit.csv") as tmp:
        fit.to_csv(tmp, index=False)
    with atomic_path(out / "trials.csv") as tmp:
        trials_table(out).to_csv(tmp, index=False)
    names += write_calibrated(cal, out, summary["best"]["values"], runner, summary["study"]["seeds"][0])
    summary["calibrated"] = CALIBRATED
    write_text(out / "calibration.json", json.dumps(summary, indent=1, default=_json) + "\n")
    if report:
        # Imported here: matplotlib loads with the report only.
        from hyosan.calibrate.report import write_calibration_report

        write_calibration_report(out)
        names.append("report.html")
    add_to_marker(out, *names)


def _json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value).__name__}")


# -- the calibrated model, scenario or town ------------------------------------------------------
def write_calibrated(
    cal: Calibration, out: Path, values: dict[str, Any], runner: CalibrationRunner, seed: int
) -> list[str]:
    """Write ``calibrated.toml`` (and a school's map beside it); the names written."""
    head = (
        f"# Calibrated by hyosan {__version__} from {cal.source} (`hyosan calibrate`; calibration.json has\n"
        f"# the fit). Fitted: {', '.join(f'{k} = {v:.6g}' for k, v in values.items())}.\n"
    )
    overrides = {**runner.fixed, **{k: _toml(v) for k, v in values.items()}}
    if cal.kind == "model":
        # Imported here: the catalogue loads with a model study only.
        from hyosan.compartmental import get

        net = get(cal.target)
        params = net.resolve({k: float(v) for k, v in overrides.items()})
        table = {
            "model": {"name": cal.target, "method": cal.method(), "t_end": float(runner.t_end), "seed": seed}
        }
        table["params"] = params
        text = head + "# Run it: hyosan model calibrated.toml\n\n" + tomli_w.dumps(table)
        write_text(out / CALIBRATED, text)
        return [CALIBRATED]
    if cal.kind == "scenario":
        # Imported here: the scenario loader and the run folder's map copy, for a school study only.
        from hyosan.results.store import map_files
        from hyosan.scenario import load_scenario
        from hyosan.scenario.resolved import resolved_toml

        loaded = load_scenario(cal.target, overrides)
        names = []
        for src, rel in map_files(loaded.map_path()):
            with atomic_path(out / rel) as tmp:
                shutil.copyfile(src, tmp)
            names.append(rel.as_posix())
        text = resolved_toml(loaded, seed)
        write_text(out / CALIBRATED, head + "# Run it: hyosan run calibrated.toml\n" + text)
        return [CALIBRATED, *names]
    table = town_table(cal.target, overrides)
    write_text(out / CALIBRATED, head + "# Run it: hyosan town calibrated.toml\n\n" + tomli_w.dumps(table))
    return [CALIBRATED]


def _toml(value: Any) -> str:
    # Imported here: spec's TOML text of a value.
    from hyosan.ensemble.spec import toml_value

    return toml_value(value)


def town_table(target: str, overrides: dict[str, str]) -> dict[str, Any]:
    """A town's TOML with the overrides written into it (as ``hyosan town --set`` reads them)."""
    # Imported here: the lattice loads with a town study only.
    from hyosan.lattice.scenario import _COUPLING_KEYS, _OUTBREAK_KEYS, BUILTINS

    if target in BUILTINS:
        text = (resources.files("hyosan") / "data" / "towns" / BUILTINS[target]).read_text(encoding="utf-8")
        base = None
    else:
        text = read_text(target)
        base = Path(target).parent
    data = tomllib.loads(text)
    for key, value in overrides.items():
        head, dot, rest = key.partition(".")
        parsed = tomllib.loads(f"v = {value}")["v"]
        if dot and head in ("town", "outbreak", "coupling"):
            data.setdefault(head, {})[rest] = parsed
        elif key in _OUTBREAK_KEYS:
            data.setdefault("outbreak", {})[key] = parsed
        elif key in _COUPLING_KEYS:
            data.setdefault("coupling", {})[key] = parsed
        else:
            raise HyosanError(
                "expected outbreak.NAME, coupling.NAME or town.NAME", source="fit.set", field=key
            )
    town = data.setdefault("town", {})
    lattice = town.get("lattice")
    if (
        base is not None
        and isinstance(lattice, str)
        and lattice != "hyosan-city"
        and not Path(lattice).is_absolute()
    ):
        town["lattice"] = str((base / lattice).absolute())
    frm = data.get("outbreak", {}).get("from")
    if base is not None and isinstance(frm, str) and not Path(frm).is_absolute() and (base / frm).exists():
        data["outbreak"]["from"] = str((base / frm).absolute())
    return data


def load_model_file(path: str | Path) -> dict[str, Any]:
    """A calibrated model file (``[model]`` name, method, t_end, seed; ``[params]``), checked."""
    source = str(path)
    try:
        data = tomllib.loads(read_text(path, source))
    except tomllib.TOMLDecodeError as exc:
        raise HyosanError(f"not valid TOML: {exc}", source=source) from None
    unknown = set(data) - {"model", "params"}
    if unknown:
        raise HyosanError("unknown section", source=source, field=sorted(unknown)[0])
    model = data.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("name"), str):
        raise HyosanError("missing: the model's name", source=source, field="model.name")
    bad = set(model) - {"name", "method", "t_end", "seed"}
    if bad:
        raise HyosanError("unknown key", source=source, field=f"model.{sorted(bad)[0]}")
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise HyosanError("must be a table", source=source, field="params")
    t_end = model.get("t_end")
    if t_end is not None and (
        isinstance(t_end, bool) or not isinstance(t_end, int | float) or not math.isfinite(t_end)
    ):
        raise HyosanError("must be a number", source=source, field="model.t_end")
    return {
        "name": model["name"],
        "method": model.get("method"),
        "t_end": t_end,
        "seed": model.get("seed"),
        "params": params,
    }
