"""Alemi's bond lattice (hyosan.lattice.bond): the fast kernel runs the same process as the plain
numba version of the algorithm that benchmarks/bond_lattice.py times it against, site for site.

Both draw from the same inline xoshiro256+, so equal seeds must give equal runs: a kernel that
picked another bond, mixed up bite and kill, or left a bond active (or dropped one that is) would
end elsewhere. Widths that are powers of two (neighbours by a mask) and others (by a division).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from hyosan.errors import HyosanError
from hyosan.lattice import bond

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bond_lattice import reference_run


@pytest.mark.parametrize("width", [4, 6, 16, 33])
@pytest.mark.parametrize("alpha", [0.2, bond.ALPHA_C, 0.8])
def test_same_runs_as_the_plain_algorithm(width, alpha):
    for s in range(4):
        ours = np.zeros((bond.ASPECT * width, width), dtype=np.int8)
        ours[0] = bond.Z_
        theirs = ours.copy()
        got = bond.run_bond(ours, alpha, np.random.default_rng(s))
        want = reference_run(theirs, alpha, np.random.default_rng(s))
        assert tuple(got) == tuple(want)
        np.testing.assert_array_equal(ours, theirs)


def test_scattered_start_ends_with_no_active_bond():
    rng = np.random.default_rng(5)
    state = rng.choice(np.array([bond.S_, bond.Z_, bond.R_], dtype=np.int8), size=(40, 24), p=[0.8, 0.1, 0.1])
    start = state.copy()
    theirs = state.copy()
    bites, kills, steps = bond.run_bond(state, 0.5, np.random.default_rng(1))
    assert (bites, kills, steps) == tuple(reference_run(theirs, 0.5, np.random.default_rng(1)))
    np.testing.assert_array_equal(state, theirs)
    # Counts add up: each bite turns an S, each kill removes a Z.
    assert (start == bond.S_).sum() - (state == bond.S_).sum() == bites
    assert (state == bond.R_).sum() - (start == bond.R_).sum() == kills
    # No S is left next to a Z (periodic).
    s, z = state == bond.S_, state == bond.Z_
    for axis in (0, 1):
        for shift in (1, -1):
            assert not (s & np.roll(z, shift, axis=axis)).any()


def test_seeds_differ_and_repeat():
    a = bond.line_outbreak(16, bond.ALPHA_C, np.random.default_rng(3))
    b = bond.line_outbreak(16, bond.ALPHA_C, np.random.default_rng(3))
    c = bond.line_outbreak(16, bond.ALPHA_C, np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_too_wide_is_refused():
    with pytest.raises(HyosanError, match="width"):
        bond.line_outbreak(2, 0.4, np.random.default_rng(0))
