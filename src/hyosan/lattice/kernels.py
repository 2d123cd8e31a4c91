"""Shared pieces of the lattice kernels: neighbours across weighted edges and a cell's rates.

A lattice of H x W cells is stored flat (row-major, ``c = y * W + x``). Edge weights live in two
float32 arrays: ``w_east[c]`` joins c to c + 1 and ``w_south[c]`` joins c to c + W; the last column's
east weights, the last row's south weights and every edge touching a blocked cell are 0, so a
kernel never needs to test the border: a zero weight means "no edge".
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from hyosan.jit import njit_inline


class Cells(NamedTuple):
    """The counts the kernels change, flat (``c = y * W + x``): int32 people, bitten, zombies and
    removed, and the time infection first reached each cell (float32, inf: not yet)."""

    S: np.ndarray
    E: np.ndarray
    Z: np.ndarray
    R: np.ndarray
    arrival: np.ndarray


class Edges(NamedTuple):
    """The weighted edges (float32, flat; see the module docstring) and the grid's width."""

    w_east: np.ndarray
    w_south: np.ndarray
    width: int


#: Direction codes: east, west, south, north.
EAST, WEST, SOUTH, NORTH = 0, 1, 2, 3


@njit_inline
def neighbour(c, d, width, w_east, w_south):
    """(cell, weight) across edge ``d`` of cell ``c``; weight 0 (cell -1) where there is no edge.

    No test of the border is needed: west of column 0 reads ``w_east[c - 1]``, the previous row's
    last column (0), or ``w_east[-1]`` for cell 0, the map's last cell (also 0); north of row 0
    reads a weight of the last row the same way.
    """
    if d == 0:
        w = w_east[c]
        n = c + 1
    elif d == 1:
        w = w_east[c - 1]
        n = c - 1
    elif d == 2:
        w = w_south[c]
        n = c + width
    else:
        w = w_south[c - width]
        n = c - width
    return (n, w) if w > 0.0 else (-1, 0.0)


@njit_inline
def zombies_around(c, width, w_east, w_south, Z):
    """(sum over edges of weight * neighbour's zombies, sum of the edge weights) of cell ``c``."""
    wz = 0.0
    wsum = 0.0
    for d in range(4):
        n, w = neighbour(c, d, width, w_east, w_south)
        if n >= 0:
            wz += w * Z[n]
            wsum += w
    return wz, wsum


@njit_inline
def pick_edge(c, width, w_east, w_south, Z, weighted_by_z, u):
    """A neighbour of ``c`` drawn with probability proportional to its edge weight (times its
    zombies when ``weighted_by_z``); ``u`` is a uniform draw on [0, 1). -1 when there is none."""
    total = 0.0
    for d in range(4):
        n, w = neighbour(c, d, width, w_east, w_south)
        if n >= 0:
            total += w * Z[n] if weighted_by_z else w
    target = u * total
    last = -1
    acc = 0.0
    for d in range(4):
        n, w = neighbour(c, d, width, w_east, w_south)
        if n < 0:
            continue
        x = w * Z[n] if weighted_by_z else w
        if x <= 0.0:
            continue
        last = n
        acc += x
        if acc > target:
            return n
    return last
