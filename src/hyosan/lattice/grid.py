"""The place: a grid of cells with people, blocked cells (water, mountains), weighted edges (roads),
districts and named places; built from a NumPy or CSV grid, or a GeoTIFF population raster.

Edges are kept as two float32 arrays (see :mod:`hyosan.lattice.kernels`): ``w_east`` and
``w_south``, 1 on open ground, more along a road, 0 across a border, a blocked cell or the edge of
the map. Anisotropy is per edge: a road running east-west raises ``w_east`` along it only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from hyosan.errors import HyosanError


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
        if not np.issubdtype(pop.dtype, np.number) or not np.isfinite(pop).all() or (pop < 0).any():
            raise HyosanError(
                "people per cell must be finite numbers >= 0", source=source, field="population"
            )
        if pop.sum() >= 2**31 or pop.max(initial=0) >= 2**31:
            raise HyosanError("too many people for int32 counts", source=source, field="population")
        blocked = np.zeros(pop.shape, bool) if blocked is None else np.asarray(blocked, bool)
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
        if factor < 1:
            raise HyosanError(f"must be >= 1, got {factor}", source="coarsen", field="factor")
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
    """Sum over blocks of ``factor x factor`` (the last row and column of blocks may be partial)."""
    h, w = grid.shape
    hp, wp = -(-h // factor) * factor, -(-w // factor) * factor
    padded = np.zeros((hp, wp), dtype=np.result_type(grid.dtype, np.int64))
    padded[:h, :w] = grid
    return padded.reshape(hp // factor, factor, wp // factor, factor).sum(axis=(1, 3))


# -- population input -------------------------------------------------------------------------------
def read_grid(path: str | Path, *, cell_m: float = 1000.0, factor: int = 1) -> Lattice:
    """A plain grid of people per cell: ``.npy`` (2-D array) or ``.csv`` (comma-separated rows, no
    header). Negative values mark blocked cells (water, mountains)."""
    path = Path(path)
    if not path.is_file():
        raise HyosanError("no such file", source=str(path), field="population")
    try:
        if path.suffix.lower() == ".npy":
            grid = np.load(path, allow_pickle=False)
        elif path.suffix.lower() == ".csv":
            grid = np.loadtxt(path, delimiter=",", ndmin=2)
        else:
            raise HyosanError("expected a .npy, .csv or .tif file", source=str(path), field="population")
    except (ValueError, OSError) as exc:
        raise HyosanError(
            f"cannot read a grid of numbers ({exc})", source=str(path), field="population"
        ) from None
    grid = np.asarray(grid, dtype=np.float64)
    if grid.ndim != 2:
        raise HyosanError(f"needs a 2-D grid, got shape {grid.shape}", source=str(path), field="population")
    if not np.isfinite(grid).all():
        raise HyosanError("every cell needs a number", source=str(path), field="population")
    blocked = grid < 0
    lat = Lattice.from_population(
        np.where(blocked, 0, grid), blocked=blocked, cell_m=cell_m, name=path.stem, source=str(path)
    )
    return lat.coarsen(factor) if factor > 1 else lat


def read_geotiff(path: str | Path, *, factor: int = 1) -> Lattice:
    """A population raster in WorldPop's layout (people per pixel, nodata outside the land), read
    with rasterio (``pip install hyosan[geo]``). Nodata pixels are blocked; ``factor`` merges
    ``factor x factor`` pixels summing their people, so the total is kept."""
    path = Path(path)
    if not path.is_file():
        raise HyosanError("no such file", source=str(path), field="population")
    try:
        import rasterio  # optional extra hyosan[geo], loaded only for raster input
    except ImportError:
        raise HyosanError(
            "reading GeoTIFF needs rasterio: pip install 'hyosan[geo]'", source=str(path), field="population"
        ) from None
    try:
        with rasterio.open(path) as src:
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
