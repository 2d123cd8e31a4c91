"""A town run folder read back (``hyosan verify`` and ``hyosan report`` on what ``hyosan town``
wrote): the TownResult its report needs, from ``summary.json``, the tables and ``cells.nc``.

Every file is read as data (JSON, Parquet, netCDF through xarray's SciPy engine) and checked
against the others: a damaged or inconsistent file is a one-line HyosanError naming it. What a
folder does not hold (the map's roads and named places) comes from the built-in Hyosan city when
the folder is of it, else the report draws without them.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd

from hyosan.errors import HyosanError
from hyosan.io import read_bytes
from hyosan.lattice.grid import Lattice
from hyosan.lattice.params import LatticeParams
from hyosan.lattice.result import TownResult

COUNTS = ("S", "E", "Z", "R")


def _damaged(path: Path, why: str) -> HyosanError:
    return HyosanError(f"damaged town run file: {why}", source=str(path))


def _summary(folder: Path) -> dict:
    path = folder / "summary.json"
    try:
        summary = json.loads(read_bytes(path).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise _damaged(path, f"not JSON ({type(exc).__name__})") from None
    need = {"kind": str, "lattice": str, "method": str, "seed": int, "days": (int, float), "events": list}
    if not isinstance(summary, dict) or summary.get("kind") != "town":
        raise _damaged(path, "not a town run's summary")
    for key, kind in need.items():
        if not isinstance(summary.get(key), kind):
            raise _damaged(path, f"field {key} missing or of the wrong type")
    return summary


def _table(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for a damaged file
        raise _damaged(path, f"not a readable Parquet table ({type(exc).__name__})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise _damaged(path, f"no column {missing[0]}")
    return frame


def _cells(folder: Path):
    import xarray as xr  # heavy: only for the per-cell maps

    path = folder / "cells.nc"
    try:
        with xr.open_dataset(path, engine="scipy") as opened:
            ds = opened.load()
    except Exception as exc:  # the netCDF reader raises many types for a damaged file
        raise _damaged(path, f"not a readable netCDF file ({type(exc).__name__})") from None
    for name in (*COUNTS, "arrival", "population", "blocked", "district"):
        if name not in ds:
            raise _damaged(path, f"no variable {name}")
    shape = ds["population"].shape
    if len(shape) != 2 or any(ds[n].shape != shape for n in ("arrival", "blocked", "district")):
        raise _damaged(path, "maps of different shapes")
    if any(ds[n].shape != (ds.sizes.get("time", 0), *shape) for n in COUNTS):
        raise _damaged(path, "snapshots of the wrong shape")
    return ds


def load_town_folder(folder: str | Path) -> TownResult:
    """The TownResult of a town run folder (raises a one-line HyosanError naming a bad file)."""
    folder = Path(folder)
    summary = _summary(folder)
    totals = _table(folder / "totals.parquet", ("t", *COUNTS))
    districts = _table(folder / "districts.parquet", ("t", "district", *COUNTS))
    ds = _cells(folder)
    try:
        names = tuple(json.loads(str(ds.attrs.get("districts", "[]"))))
        if not all(isinstance(n, str) for n in names):
            raise ValueError("not names")
    except (ValueError, TypeError, RecursionError):
        raise _damaged(folder / "cells.nc", "attribute districts is not a list of names") from None
    population = ds["population"].to_numpy().astype(np.int32)
    blocked = ds["blocked"].to_numpy().astype(bool)
    district = ds["district"].to_numpy().astype(np.int16)
    if district.size and (district.max() >= len(names) or district.min() < -1):
        raise _damaged(folder / "cells.nc", "district index outside the districts")
    cell_m = float(ds.attrs.get("cell_m", math.nan))
    if not math.isfinite(cell_m) or cell_m <= 0:
        raise _damaged(folder / "cells.nc", "attribute cell_m is not a positive number")
    lat = Lattice(
        population=population,
        blocked=blocked,
        w_east=np.ones(population.shape, np.float32),
        w_south=np.ones(population.shape, np.float32),
        district=district,
        district_names=names,
        cell_m=cell_m,
        name=summary["lattice"],
    )
    lat.seal()
    _builtin_layers(lat)
    if list(summary.get("shape", lat.shape)) != list(lat.shape):
        raise _damaged(folder / "summary.json", "shape disagrees with cells.nc")
    times = ds["time"].to_numpy().astype(np.float64)
    stack = np.stack([ds[n].to_numpy() for n in COUNTS], axis=1).astype(np.int32)
    snapshots = [(float(t), stack[i].reshape(4, -1)) for i, t in enumerate(times)]
    by_district = []
    for t, rows in districts.groupby("t", sort=True):
        arr = np.zeros((len(names), 4), np.int64)
        for row in rows.itertuples(index=False):
            if row.district not in names:
                raise _damaged(folder / "districts.parquet", f"unknown district {str(row.district)[:40]!r}")
            arr[names.index(row.district)] = [getattr(row, c) for c in COUNTS]
        by_district.append((float(t), arr))
    known = {f.name for f in fields(LatticeParams)}
    raw = summary.get("params") if isinstance(summary.get("params"), dict) else {}
    try:
        params = LatticeParams(**{k: v for k, v in raw.items() if k in known})
    except (TypeError, ValueError, HyosanError):
        raise _damaged(folder / "summary.json", "params are not a town's parameters") from None
    fired = summary.get("reactions") if isinstance(summary.get("reactions"), dict) else {}
    return TownResult(
        lattice=lat,
        params=params,
        method=summary["method"],
        seed=summary["seed"],
        days=float(summary["days"]),
        totals=totals.to_dict("records"),
        by_district=by_district,
        snapshots=snapshots,
        arrival=ds["arrival"].to_numpy().astype(np.float64),
        log=[e for e in summary["events"] if isinstance(e, dict) and isinstance(e.get("kind"), str)],
        fired=fired,
        start_clock_s=float(summary.get("start_clock_s") or 8 * 3600.0),
        seeded_from=summary.get("seeded_from"),
    )


def _builtin_layers(lat: Lattice) -> None:
    """Roads and named places of the built-in Hyosan city, when the folder is of it."""
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    from hyosan.lattice.city import load_hyosan

    city = load_hyosan()
    if city.name == lat.name and city.shape == lat.shape:
        lat.places = dict(city.places)
        lat.roads = city.roads


def rebuild_town_report(folder: str | Path, out: str | Path | None = None) -> Path:
    """Write a town run folder's report.html again (``hyosan report DIR``)."""
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    from hyosan.lattice.report import write_town_report

    folder = Path(folder)
    return write_town_report(load_town_folder(folder), out if out is not None else folder / "report.html")
