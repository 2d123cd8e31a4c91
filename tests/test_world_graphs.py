"""The World's graphs built straight from the tiles (one numba pass, no sort: issue 25) are the
graphs of the sort-based construction they replaced, edge for edge, in the same order: every run
depends on that order (the kernels break ties by it).

The reference below is the construction before issue 25 (NumPy masks, then one lexsort of all
edges); random maps with every tile kind, doors and stair links, and the built-in school.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hyosan.world import STAIR_COST, Tile
from hyosan.world.tiles import WALKABLE_LUT
from hyosan.world.world import default_stair_links, sound_graph, walking_graph

_ORTH = ((-1, 0), (0, -1), (0, 1), (1, 0))
_DIAG = ((-1, -1), (-1, 1), (1, -1), (1, 1))


def _shift(a, dy, dx):
    _, h, w = a.shape
    padded = np.pad(a, ((0, 0), (1, 1), (1, 1)), constant_values=False)
    return padded[:, 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]


def _csr(n, parts):
    src = np.concatenate([p[0] for p in parts])
    dst = np.concatenate([p[1] for p in parts])
    cost = np.concatenate([np.full(p[0].size, p[2], dtype=np.float32) for p in parts])
    key = np.concatenate([np.full(p[0].size, p[3], dtype=np.int64) for p in parts])
    order = np.lexsort((dst, key, src))
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=start[1:])
    return start, dst[order].astype(np.int32), cost[order]


def _links(links, cost, key):
    return [(links[:, 0], links[:, 1], cost, key), (links[:, 1], links[:, 0], cost, key)]


def reference_walking(tiles, links):
    _, _, w = tiles.shape
    walk = WALKABLE_LUT[tiles].astype(bool)
    door = tiles == Tile.DOOR
    flat = np.arange(tiles.size, dtype=np.int64).reshape(tiles.shape)
    parts = []
    for k, (dy, dx) in enumerate(_ORTH + _DIAG):
        ok = walk & _shift(walk, dy, dx)
        if dy and dx:
            ok &= ~door & ~_shift(door, dy, dx) & _shift(walk, dy, 0) & _shift(walk, 0, dx)
        src = flat[ok]
        parts.append((src, src + dy * w + dx, math.sqrt(2.0) if dy and dx else 1.0, k))
    return _csr(tiles.size, parts + _links(links, STAIR_COST, 8))


def reference_sound(tiles, links):
    _, _, w = tiles.shape
    solid = tiles != Tile.VOID
    flat = np.arange(tiles.size, dtype=np.int64).reshape(tiles.shape)
    parts = []
    for k, (dy, dx) in enumerate(_ORTH):
        src = flat[solid & _shift(solid, dy, dx)]
        parts.append((src, src + dy * w + dx, 1.0, k))
    return _csr(tiles.size, parts + _links(links, STAIR_COST, 8))


def same(a, b):
    for x, y in zip(a, b, strict=True):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("seed", range(6))
def test_graphs_equal_the_sorted_construction(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 4)), int(rng.integers(1, 30)), int(rng.integers(1, 30)))
    tiles = rng.choice(np.arange(len(Tile), dtype=np.uint8), size=shape)
    links = default_stair_links(tiles)
    extra = rng.choice(np.flatnonzero(WALKABLE_LUT[tiles.reshape(-1)]), size=(3, 2))
    extra = extra[extra[:, 0] != extra[:, 1]]
    links = np.unique(np.sort(np.concatenate([links, extra]), axis=1), axis=0)
    same(walking_graph(tiles, links), reference_walking(tiles, links))
    same(sound_graph(tiles, links), reference_sound(tiles, links))


def test_school_graphs_equal_the_sorted_construction():
    from hyosan.engine import Simulation
    from hyosan.scenario.load import load_scenario

    world = Simulation(load_scenario("hyosan-high"), seed=0).world
    same((world.nbr_start, world.nbr_idx, world.nbr_cost), reference_walking(world.tiles, world.stair_links))
    same((world.snd_start, world.snd_idx, world.snd_cost), reference_sound(world.tiles, world.stair_links))
