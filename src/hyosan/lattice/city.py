"""Built-in places: the synthetic city of Hyosan around the school, and synthetic countries.

Hyosan is fictional (the series' town), so its map is generated, by :func:`generate_hyosan` from
fixed numbers and a fixed seed; the output is committed (``data/towns/hyosan_city.npz``) and a test
checks that the generator still makes exactly it. The layout (ours, guessed from the story):

- 48 x 64 cells of 150 m (7.2 km x 9.6 km), about 190,000 people;
- the river crossing the city from west to east, blocked except at two bridges;
- districts around their centres (nearest centre): Hyosan-dong with the school south of the
  river, the hospital district and the old town north of it, the market, the station, the
  riverside flats, the hills (few people);
- roads out (weight 3 along them: people and zombies travel faster along a road): the main road
  north-south over the east bridge, the east-west avenue south of the river, the road west over the
  west bridge;
- the mountain in the north-west corner (blocked: nobody lives there and nobody crosses it);
- the camp site outside the city at the east end of the avenue (no people until the evacuation),
  a district of its own.
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np

from hyosan.lattice.grid import Lattice

HEIGHT, WIDTH = 48, 64
CELL_M = 150.0
#: District name -> (row, column of its centre, people per cell at the centre).
DISTRICTS = {
    "Hyosan-dong": (34, 22, 160),
    "Old town": (12, 30, 200),
    "Hospital district": (16, 46, 150),
    "Market": (30, 40, 220),
    "Station": (40, 52, 140),
    "Riverside": (26, 10, 120),
    "North hills": (5, 52, 30),
}
PLACES = {"school": (34, 22), "hospital": (16, 46), "camp": (30, 63), "station": (40, 52)}
SEED = 2022  # the year the series came out


def _river_row(x: np.ndarray) -> np.ndarray:
    """The river's northern bank: a gentle meander across the city."""
    return np.rint(22 + 3.0 * np.sin(x / 9.0) + 1.5 * np.sin(x / 4.0 + 1.0)).astype(int)


def generate_hyosan() -> Lattice:
    """Hyosan city, made from the numbers above (deterministic: same output on every machine)."""
    rng = np.random.default_rng(SEED)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    names = tuple(DISTRICTS)
    centres = np.array([(y, x) for y, x, _ in DISTRICTS.values()], float)
    d2 = (yy[..., None] - centres[:, 0]) ** 2 + (xx[..., None] - centres[:, 1]) ** 2
    district = np.argmin(d2, axis=-1).astype(np.int16)
    peak = np.array([p for _, _, p in DISTRICTS.values()], float)
    dist = np.sqrt(d2[yy, xx, district])
    density = peak[district] * np.exp(-dist / 9.0)
    noise = rng.gamma(4.0, 0.25, size=(HEIGHT, WIDTH))  # mean 1: blocks differ
    pop = np.rint(density * noise).astype(np.int64)
    blocked = np.zeros((HEIGHT, WIDTH), bool)
    bank = _river_row(np.arange(WIDTH))
    for x in range(WIDTH):  # two cells wide, and no diagonal gap where the river bends
        lo = min(bank[x], bank[max(x - 1, 0)])
        hi = max(bank[x], bank[max(x - 1, 0)]) + 2
        blocked[lo:hi, x] = True
    mountain = (yy / 10.0) ** 2 + (xx / 14.0) ** 2 < 1.0
    blocked |= mountain
    roads = np.zeros((HEIGHT, WIDTH), bool)
    roads[:, 48] = True  # the main road north-south, over the east bridge
    roads[bank[48] + 3 : bank[48] + 4, :] = False
    avenue = 30
    roads[avenue, :] = True  # the avenue, east out of town to the camp
    roads[26, :20] = True  # the road west
    roads[bank[14] - 1 : bank[14] + 3, 14] = True  # the west bridge
    roads[: bank[48] + 3, 48] = True
    for x in (14, 48):  # bridges: the river is open where a road crosses it
        blocked[bank[x] - 1 : bank[x] + 3, x] = False
    roads &= ~mountain
    camp = PLACES["camp"]
    pop[camp] = 0
    pop[blocked] = 0
    lat = Lattice.from_population(pop, blocked=blocked, cell_m=CELL_M, name="hyosan-city")
    # Roads: weight 3 along a road (both ends on it), in the road's direction only.
    lat.w_east[:, :-1][roads[:, :-1] & roads[:, 1:]] = 3.0
    lat.w_south[:-1, :][roads[:-1, :] & roads[1:, :]] = 3.0
    # Bridges are the only way over: the river banks are blocked around them.
    lat.seal()
    district[camp] = len(names)  # the camp is a district of its own (one cell)
    lat.district = district
    lat.district_names = (*names, "Camp")
    lat.places = dict(PLACES)
    lat.roads = roads
    return lat


def save_builtin(lat: Lattice, path) -> None:
    """Write a generated city as the committed package data (npz arrays + JSON of names)."""
    np.savez_compressed(
        path,
        population=lat.population,
        blocked=lat.blocked,
        w_east=lat.w_east,
        w_south=lat.w_south,
        district=lat.district,
        roads=lat.roads if lat.roads is not None else np.zeros(lat.shape, bool),
        meta=np.array(
            json.dumps(
                {
                    "names": list(lat.district_names),
                    "places": lat.places,
                    "cell_m": lat.cell_m,
                    "name": lat.name,
                }
            )
        ),
    )


def load_hyosan() -> Lattice:
    """The committed Hyosan city (package data written by :func:`save_builtin`)."""
    with (resources.files("hyosan") / "data" / "towns" / "hyosan_city.npz").open("rb") as fh:
        data = np.load(fh, allow_pickle=False)
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays.pop("meta")))
    return Lattice(
        population=arrays["population"],
        blocked=arrays["blocked"],
        w_east=arrays["w_east"],
        w_south=arrays["w_south"],
        district=arrays["district"],
        district_names=tuple(meta["names"]),
        places={k: tuple(v) for k, v in meta["places"].items()},
        roads=arrays["roads"],
        cell_m=float(meta["cell_m"]),
        name=meta["name"],
    )


def synthetic_country(
    height: int = 900, width: int = 1500, people: float = 300e6, seed: int = 0, cities: int = 400
) -> Lattice:
    """A country for the speed goals: sea around an irregular coast (blocked), a rural background
    and ``cities`` cities with lognormal sizes, scaled to ``people`` in all (rounded per cell)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.ogrid[0:height, 0:width]
    # Coast: an ellipse with a wobbly radius.
    angle = np.arctan2(yy - height / 2, (xx - width / 2) * height / width)
    wobble = 1 + 0.08 * np.sin(5 * angle) + 0.05 * np.sin(11 * angle + 1)
    r = np.hypot((yy - height / 2) / (height / 2), (xx - width / 2) / (width / 2))
    sea = r > 0.95 * wobble
    density = rng.gamma(2.0, 0.5, size=(height, width))
    cy = rng.integers(0, height, cities)
    cx = rng.integers(0, width, cities)
    size = rng.lognormal(0.0, 1.2, cities)
    bumps = np.zeros((height, width))
    for y, x, s in zip(cy, cx, size, strict=True):
        rad = int(3 + 4 * np.sqrt(s))
        y0, y1, x0, x1 = (
            max(0, y - 3 * rad),
            min(height, y + 3 * rad),
            max(0, x - 3 * rad),
            min(width, x + 3 * rad),
        )
        gy, gx = np.mgrid[y0:y1, x0:x1]
        bumps[y0:y1, x0:x1] += 40 * s * np.exp(-((gy - y) ** 2 + (gx - x) ** 2) / (2 * rad**2))
    density = (density + bumps) * ~sea
    density *= people / density.sum()
    lat = Lattice.from_population(np.rint(density), blocked=sea, cell_m=3200.0, name="country")
    return lat
