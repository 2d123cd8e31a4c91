"""What a town run returns: counts over time (overall, by district), per-cell maps, first arrivals,
a chronicle; saved as a run folder.

Per-cell snapshots are an xarray Dataset (S, E, Z, R over time, row, column, plus the first
arrival time and the map layers) saved as NetCDF: one self-describing file that any netCDF tool
(xarray, ncdump, Panoply, QGIS) opens, written with SciPy's netCDF-3 writer so it needs no extra
library (Zarr would need zarr and is a folder of chunk files, worth it only for maps too large for
memory, which a town's snapshots are not).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyosan.errors import HyosanError
from hyosan.io import atomic_dir
from hyosan.lattice.events import KINDS, clock
from hyosan.lattice.grid import Lattice
from hyosan.lattice.params import LatticeParams
from hyosan.lattice.report import write_town_report

#: Files a town run folder holds (``summary.json`` says ``"kind": "town"``).
FILES = (
    "summary.json",
    "totals.parquet",
    "totals.csv",
    "districts.parquet",
    "districts.csv",
    "cells.nc",
    "chronicle.md",
)

#: cells.nc above this many bytes of maps is written as NetCDF-4 with zlib (h5netcdf; a country's
#: 280 MB of maps become a few tens); below, as NetCDF-3 (SciPy). xarray opens either.
CELLS_COMPRESS_BYTES = 64 * 2**20


@dataclass(repr=False)
class TownResult:
    lattice: Lattice
    params: LatticeParams
    method: str
    seed: int
    days: float
    totals: list[dict]
    by_district: list[tuple[float, np.ndarray]]
    snapshots: list[tuple[float, np.ndarray]]
    arrival: np.ndarray  # (H, W) days, inf = never reached
    log: list[dict]
    fired: dict[str, int]
    start_clock_s: float = 8 * 3600.0
    events: list = field(default_factory=list)
    seeded_from: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # -- tables ----------------------------------------------------------------------------------
    @property
    def counts(self) -> pd.DataFrame:
        """One row per record time: S, E, Z, R and the sinks and pools (struck, walking, seeded)."""
        return pd.DataFrame(self.totals)

    @property
    def districts(self) -> pd.DataFrame:
        """One row per (record time, district): S, E, Z, R."""
        names = list(self.lattice.district_names)
        rows = []
        for t, arr in self.by_district:
            for i, name in enumerate(names):
                rows.append(
                    {"t": t, "district": name, "S": arr[i, 0], "E": arr[i, 1], "Z": arr[i, 2], "R": arr[i, 3]}
                )
        return pd.DataFrame(rows)

    def district_summary(self) -> pd.DataFrame:
        """Per district: people at the start, first arrival (days), when its people fell under a
        tenth of the start (days, NaN if never: the district held out), people left at the end."""
        lat = self.lattice
        d = self.districts
        out = []
        for i, name in enumerate(lat.district_names):
            cells = (lat.district == i) & ~lat.blocked
            arrival = self.arrival[cells]
            first = float(arrival.min()) if arrival.size and np.isfinite(arrival.min()) else math.nan
            rows = d[d.district == name]
            start = int(lat.population[cells].sum())
            fell = rows[(rows.S < 0.1 * start)] if start else rows.iloc[0:0]
            out.append(
                {
                    "district": name,
                    "people": start,
                    "first_arrival_days": first,
                    "fell_days": float(fell.t.iloc[0]) if len(fell) else math.nan,
                    "humans_left": int(rows.S.iloc[-1]) if len(rows) else 0,
                }
            )
        return pd.DataFrame(out)

    def dataset(self):
        """The per-cell snapshots, first arrivals and map layers as an xarray Dataset."""
        import xarray as xr  # heavy: only needed for the per-cell maps

        lat = self.lattice
        h, w = lat.shape
        times = np.array([t for t, _ in self.snapshots], dtype=np.float64)
        stack = (
            np.stack([a for _, a in self.snapshots]) if self.snapshots else np.zeros((0, 4, h * w), np.int32)
        )
        stack = stack.reshape(len(times), 4, h, w)
        dims = ("time", "row", "col")
        data = {
            name: (dims, stack[:, i].astype(np.int32), {"units": "people"}) for i, name in enumerate("SEZR")
        }
        data["arrival"] = (
            ("row", "col"),
            self.arrival.astype(np.float32),
            {"units": "days", "long_name": "first arrival of infection (inf: never)"},
        )
        data["population"] = (("row", "col"), lat.population, {"units": "people"})
        data["blocked"] = (("row", "col"), lat.blocked.astype(np.int8))
        data["district"] = (("row", "col"), lat.district.astype(np.int16))
        return xr.Dataset(
            data,
            coords={"time": ("time", times, {"units": "days"}), "row": np.arange(h), "col": np.arange(w)},
            attrs={
                "title": f"hyosan town {lat.name}",
                "cell_m": lat.cell_m,
                "method": self.method,
                "seed": self.seed,
                "districts": json.dumps(list(lat.district_names)),
            },
        )

    def chronicle(self) -> list[str]:
        """What happened, in order: arrivals in each district, the timeline's events, districts that
        fell, and who held out."""
        lines: list[tuple[float, str]] = []
        ds = self.district_summary()
        first = ds.dropna(subset=["first_arrival_days"]).sort_values("first_arrival_days")
        for i, row in enumerate(first.itertuples()):
            verb = "The outbreak begins in" if i == 0 else "The outbreak reaches"
            lines.append((row.first_arrival_days, f"{verb} {row.district}."))
        for e in self.log:
            kind = KINDS.get(e["kind"])
            lines.append((e["t"], kind.sentence(e) if kind else (e.get("text") or e["kind"])))
        for row in ds.dropna(subset=["fell_days"]).itertuples():
            lines.append(
                (row.fell_days, f"{row.district} falls: fewer than a tenth of its people are left human.")
            )
        lines.sort(key=lambda x: x[0])
        out = [f"{clock(t, self.start_clock_s)}: {text}" for t, text in lines]
        held = ds[ds.fell_days.isna() & (ds.people > 0)]
        if len(held):
            out.append(
                f"{clock(self.days, self.start_clock_s)}: Holding out: "
                + ", ".join(f"{r.district} ({r.humans_left:,} people)" for r in held.itertuples())
                + "."
            )
        return out

    def summary(self) -> dict[str, Any]:
        last = self.totals[-1] if self.totals else {}
        return {
            "kind": "town",
            "lattice": self.lattice.name,
            "shape": list(self.lattice.shape),
            "cell_m": self.lattice.cell_m,
            "method": self.method,
            "seed": self.seed,
            "days": self.days,
            "params": self.params.as_dict(),
            "people": int(self.lattice.population.sum()),
            "final": {k: int(v) for k, v in last.items() if k != "t"},
            "reactions": self.fired,
            "cells_reached": int(np.isfinite(self.arrival).sum()),
            "events": self.log,
            "seeded_from": self.seeded_from,
            "start_clock_s": self.start_clock_s,
        }

    # -- notebooks (hyosan.notebook) ------------------------------------------------------------
    def __repr__(self) -> str:
        # lazy: loaded only when this runs (a light import of the module above, or a cycle)
        from hyosan.notebook import town_repr

        return town_repr(self)

    def _repr_html_(self) -> str:
        # lazy: loaded only when this runs (a light import of the module above, or a cycle)
        from hyosan.notebook import town_html

        return town_html(self)

    def plot(self, what: str = "totals", **options: Any):
        """People, bitten, zombies and removed over the days (``"districts"``: the people still
        human in each district), the timeline's events marked; returns the Figure."""
        # lazy: loaded only when this runs (a light import of the module above, or a cycle)
        from hyosan.notebook import town_plot

        return town_plot(self, what, **options)

    # -- saving ----------------------------------------------------------------------------------
    def save(self, folder: str | Path, *, report: bool = True) -> Path:
        """Write the run folder whole or not at all; refuses a folder hyosan did not make."""
        folder = Path(folder)
        if folder.exists() and (folder.is_file() or any(folder.iterdir())) and not _is_town_folder(folder):
            raise HyosanError(
                "exists and is not a town run folder; will not overwrite it",
                source=str(folder),
                field="--out",
            )
        with atomic_dir(folder) as tmp:
            (tmp / "summary.json").write_text(
                json.dumps(self.summary(), indent=2, default=_json), encoding="utf-8"
            )
            for name, table in (("totals", self.counts), ("districts", self.districts)):
                table.to_parquet(tmp / f"{name}.parquet", index=False)
                table.to_csv(tmp / f"{name}.csv", index=False)
            self.district_summary().to_csv(tmp / "district_summary.csv", index=False)
            cells = self.dataset()
            if cells.nbytes > CELLS_COMPRESS_BYTES:  # a country: NetCDF-4, the maps zlib-compressed
                maps = {v: {"zlib": True, "complevel": 4, "shuffle": True} for v in cells.data_vars}
                cells.to_netcdf(tmp / "cells.nc", engine="h5netcdf", encoding=maps)
            else:
                cells.to_netcdf(tmp / "cells.nc", engine="scipy")
            (tmp / "chronicle.md").write_text(
                f"# {self.lattice.name}\n\n" + "\n".join(f"- {line}" for line in self.chronicle()) + "\n",
                encoding="utf-8",
            )
            if report:
                write_town_report(self, tmp / "report.html")
        return folder


def _is_town_folder(folder: Path) -> bool:
    """A folder an earlier ``hyosan town`` wrote (its summary.json says ``"kind": "town"``)."""
    try:
        return json.loads((folder / "summary.json").read_text(encoding="utf-8")).get("kind") == "town"
    except (OSError, ValueError, AttributeError):
        return False


def _json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    raise TypeError(type(value).__name__)
