"""The place: a grid of cells with people, blocked cells (water, mountains), weighted edges (roads),
districts and named places; built from a NumPy or CSV grid, or a GeoTIFF population raster.

Edges are kept as two float32 arrays (see :mod:`hyosan.lattice.kernels`): ``w_east`` and
``w_south``, 1 on open ground, more along a road, 0 across a border, a blocked cell or the edge of
the map. Anisotropy is per edge: a road running east-west raises ``w_east`` along it only.
"""

from __future__ import annotations

import io
import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from hyosan.errors import HyosanError
from hyosan.io import decode, read_bytes
from hyosan.lattice.limits import MAX_TOWN_CELLS, MAX_TOWN_PEOPLE, check_cell_m


@dataclass
class Lattice:
    """A grid of ``height x width`` cells; every array is (height, width)."""

    population: np.ndarray  # int32 people per cell
    blocked: np.ndarray  # bool
    w_east: np.ndarray  # float32 weight of the edge to (y, x + 1)
    w_south: np.ndarray  # float32 weight of the edge to (y + 1, x)
    district: np.ndarray  # int16 district index, -1 = none
    district_names: tuple[str, ...] = ()
    places: dict[str, tuple[int, int]] = field(default_factory=dict)
    roads: np.ndarray | None = None  # bool, for the map only
    cell_m: float = 1000.0
    name: str = "lattice"

    @classmethod
    def from_population(
        cls,
        population: np.ndarray,
        *,
        blocked: np.ndarray | None = None,
        cell_m: float = 1000.0,
        name: str = "lattice",
        source: str = "population",
    ) -> Lattice:
        """Open ground everywhere (weights 1) except at blocked cells; one district."""
        pop = np.asarray(population)
        if pop.ndim != 2 or min(pop.shape) < 1:
            raise HyosanError(f"needs a 2-D grid, got shape {pop.shape}", source=source, field="population")
        MAX_TOWN_CELLS.check(pop.size, source, "population")
        check_real(pop.dtype, source)
        if not np.isfinite(pop).all() or (pop < 0).any():
            raise HyosanError(
                "people per cell must be finite numbers >= 0", source=source, field="population"
            )
        people = float(pop.sum(dtype=np.float64))
        if people > MAX_TOWN_PEOPLE:
            raise HyosanError(
                f"{people:.4g} people, over the {MAX_TOWN_PEOPLE:,} the town's int32 counts hold",
                source=source,
                field="population",
            )
        cell_m = check_cell_m(cell_m, source, "cell_m")
        blocked = np.zeros(pop.shape, bool) if blocked is None else np.asarray(blocked, bool)
        if blocked.shape != pop.shape:
            raise HyosanError(
                f"blocked cells of shape {blocked.shape} for a grid of {pop.shape}",
                source=source,
                field="blocked",
            )
        lat = cls(
            population=np.where(blocked, 0, np.rint(pop)).astype(np.int32),
            blocked=blocked,
            w_east=np.ones(pop.shape, np.float32),
            w_south=np.ones(pop.shape, np.float32),
            district=np.zeros(pop.shape, np.int16),
            district_names=(name,),
            cell_m=float(cell_m),
            name=name,
        )
        lat.seal()
        return lat

    @property
    def shape(self) -> tuple[int, int]:
        return self.population.shape  # type: ignore[return-value]

    @property
    def n_cells(self) -> int:
        return int(self.population.size)

    def seal(self) -> None:
        """Zero every edge that leaves the map or touches a blocked cell (call after editing)."""
        self.w_east[:, -1] = 0.0
        self.w_south[-1, :] = 0.0
        b = self.blocked
        self.w_east[b] = 0.0
        self.w_east[:, :-1][b[:, 1:]] = 0.0
        self.w_south[b] = 0.0
        self.w_south[:-1, :][b[1:, :]] = 0.0

    def copy(self) -> Lattice:
        return replace(
            self,
            population=self.population.copy(),
            blocked=self.blocked.copy(),
            w_east=self.w_east.copy(),
            w_south=self.w_south.copy(),
            district=self.district.copy(),
            places=dict(self.places),
            roads=None if self.roads is None else self.roads.copy(),
        )

    def edges_around(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Boolean masks of the east and south edges with exactly one end inside ``mask``: the line of
        cell boundaries around a region (a cordon)."""
        m = np.asarray(mask, bool)
        east = np.zeros(self.shape, bool)
        south = np.zeros(self.shape, bool)
        east[:, :-1] = m[:, :-1] != m[:, 1:]
        south[:-1, :] = m[:-1, :] != m[1:, :]
        return east, south

    def coarsen(self, factor: int) -> Lattice:
        """Blocks of ``factor x factor`` cells merged: people summed (totals kept exactly), a block
        blocked only when all its cells are, the majority district, edges reset to open ground."""
        check_factor(factor, self.shape, "coarsen")
        if factor == 1:
            return self.copy()
        pop = coarsen_sum(self.population, factor)
        # Edge blocks are partial: they are blocked when all the cells they do have are.
        h, w = self.shape
        have = coarsen_sum(np.ones((h, w), np.int64), factor)
        blocked = coarsen_sum(self.blocked.astype(np.int64), factor) == have
        lat = Lattice.from_population(pop, blocked=blocked, cell_m=self.cell_m * factor, name=self.name)
        lat.population = pop.astype(np.int32)
        lat.district_names = self.district_names
        lat.district = self.district[::factor, ::factor].copy()
        lat.places = {k: (y // factor, x // factor) for k, (y, x) in self.places.items()}
        return lat


def coarsen_sum(grid: np.ndarray, factor: int) -> np.ndarray:
    """Sum over blocks of ``factor x factor`` (the last row and column of blocks may be partial);
    nothing larger than the grid is allocated, whatever the factor."""
    h, w = grid.shape
    values = grid.astype(np.result_type(grid.dtype, np.int64), copy=False)
    rows = np.add.reduceat(values, np.arange(0, h, factor), axis=0)
    return np.add.reduceat(rows, np.arange(0, w, factor), axis=1)


def check_factor(factor: object, shape: tuple[int, ...], source: str, field: str = "factor") -> int:
    """A coarsening factor: a whole number from 1 to the grid's longer side (one cell in all)."""
    side = max(shape)
    if isinstance(factor, bool) or not isinstance(factor, int | np.integer) or not 1 <= factor <= side:
        raise HyosanError(
            f"must be a whole number from 1 to {side} (the grid's longer side), got {factor!r}",
            source=source,
            field=field,
        )
    return int(factor)


def check_real(dtype: np.dtype, source: str, field: str = "population") -> None:
    """People per cell are real numbers: integers or floats (not complex, text, bytes or records)."""
    if dtype.kind not in "iuf":
        raise HyosanError(
            f"people per cell must be real numbers (integers or floats), got {dtype}",
            source=source,
            field=field,
        )


# -- population input -------------------------------------------------------------------------------
def read_grid(path: str | Path, *, cell_m: float = 1000.0, factor: int = 1) -> Lattice:
    """A plain grid of people per cell: ``.npy`` (2-D array of integers or floats) or ``.csv``
    (comma-separated rows, no header). Negative values mark blocked cells (water, mountains).

    Read through :func:`hyosan.io.read_bytes` (regular files only, size-capped); a ``.npy``'s
    declared shape and a CSV's rows and columns are checked against the town's cell limit before
    any array is made."""
    path = Path(path)
    where = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".csv"):
        raise HyosanError("expected a .npy, .csv or .tif file", source=where, field="population")
    check_cell_m(cell_m, where, "cell_m")
    data = read_bytes(path, where)
    grid = _npy_grid(data, where) if suffix == ".npy" else _csv_grid(data, where)
    if not np.isfinite(grid).all():
        raise HyosanError("every cell needs a number", source=where, field="population")
    check_factor(factor, grid.shape, where)
    blocked = grid < 0
    lat = Lattice.from_population(
        np.where(blocked, 0, grid), blocked=blocked, cell_m=cell_m, name=path.stem, source=where
    )
    return lat.coarsen(factor) if factor > 1 else lat


def _npy_grid(data: bytes, where: str) -> np.ndarray:
    """A 2-D array of real numbers from a ``.npy`` file's bytes: the header's shape and type are
    checked first, then the data is read in place (no allocation before the checks)."""
    f = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except (ValueError, TypeError, SyntaxError) as exc:
        raise HyosanError(f"not a .npy array ({exc})", source=where, field="population") from None
    if len(shape) != 2:
        raise HyosanError(f"needs a 2-D grid, got shape {shape}", source=where, field="population")
    check_real(dtype, where)
    MAX_TOWN_CELLS.check(shape[0] * shape[1], where, "population")
    need = shape[0] * shape[1] * dtype.itemsize
    if len(data) - f.tell() != need:
        raise HyosanError(
            f"the header declares {shape[0]} x {shape[1]} {dtype} ({need} bytes) but the file holds "
            f"{len(data) - f.tell()}",
            source=where,
            field="population",
        )
    order = "F" if fortran else "C"
    grid = np.frombuffer(data, dtype=dtype, offset=f.tell()).reshape(shape, order=order)
    return grid.astype(np.float64)


def _csv_grid(data: bytes, where: str) -> np.ndarray:
    """A grid of numbers from comma-separated rows; its rows x columns checked before parsing."""
    text = decode(data, where)
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise HyosanError("needs a 2-D grid, got an empty file", source=where, field="population")
    MAX_TOWN_CELLS.check(len(lines) * (lines[0].count(",") + 1), where, "population")
    try:
        grid = np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise HyosanError(
            f"cannot read a grid of numbers ({exc})", source=where, field="population"
        ) from None
    if grid.ndim != 2 or min(grid.shape) < 1:
        raise HyosanError(f"needs a 2-D grid, got shape {grid.shape}", source=where, field="population")
    return grid


def regular_file(path: str | Path, where: str) -> None:
    """Refuse anything but an existing regular file (a device, a FIFO, a folder), naming it."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise HyosanError("cannot read: no such file", source=where, field="population") from None
    except (OSError, ValueError) as exc:
        raise HyosanError(f"cannot read ({exc})", source=where, field="population") from None
    if stat.S_ISDIR(st.st_mode):
        raise HyosanError("is a folder, not a file", source=where, field="population")
    if not stat.S_ISREG(st.st_mode):
        raise HyosanError("is not a regular file (a device or a pipe?)", source=where, field="population")


def read_geotiff(path: str | Path, *, factor: int = 1) -> Lattice:
    """A population raster in WorldPop's layout (people per pixel, nodata outside the land), read
    with rasterio (``pip install hyosan[geo]``). Nodata pixels are blocked; ``factor`` merges
    ``factor x factor`` pixels summing their people, so the total is kept."""
    path = Path(path)
    regular_file(path, str(path))
    try:
        import rasterio  # optional extra hyosan[geo], loaded only for raster input
    except ImportError:
        raise HyosanError(
            "reading GeoTIFF needs rasterio: pip install 'hyosan[geo]'", source=str(path), field="population"
        ) from None
    try:
        with rasterio.open(path) as src:
            MAX_TOWN_CELLS.check(src.width * src.height, str(path), "population")
            check_factor(factor, (src.height, src.width), str(path))
            band = src.read(1, masked=True)
            res = abs(float(src.res[0]))
            geographic = bool(src.crs and src.crs.is_geographic)
    except rasterio.errors.RasterioError as exc:
        raise HyosanError(f"not a readable raster ({exc})", source=str(path), field="population") from None
    values = np.asarray(band.filled(0), dtype=np.float64)
    blocked = np.ma.getmaskarray(band) | ~np.isfinite(values)
    values = np.where(blocked, 0.0, values)
    if (values < 0).any():
        raise HyosanError("people per pixel must be >= 0", source=str(path), field="population")
    cell_m = res * 111_320.0 if geographic else res  # degrees at the equator, else metres
    exact = coarsen_sum(values, factor) if factor > 1 else values
    coarse_blocked = blocked
    if factor > 1:
        have = coarsen_sum(np.ones(blocked.shape, np.int64), factor)
        coarse_blocked = coarsen_sum(blocked.astype(np.int64), factor) == have
    lat = Lattice.from_population(
        _round_keeping_total(exact),
        blocked=coarse_blocked,
        cell_m=cell_m * factor,
        name=path.stem,
        source=str(path),
    )
    return lat


def _round_keeping_total(values: np.ndarray) -> np.ndarray:
    """Whole people per cell whose sum is the rounded total (largest remainders get the rest)."""
    floor = np.floor(values)
    short = round(values.sum() - floor.sum())
    if short > 0:
        order = np.argsort(-(values - floor), axis=None, kind="stable")[:short]
        floor.flat[order] += 1
    return floor.astype(np.int64)
