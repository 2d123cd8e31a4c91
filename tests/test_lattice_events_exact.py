"""Every town event kind, compartment by compartment, against a hand computation (issue 26).

A test that checks only the total an event removes or moves passes when one compartment takes
another's fraction or rule. Here each kind is applied to a town whose cells hold people (S),
bitten (E), zombies (Z) and removed (R) in different numbers, all at once, and each compartment
is checked on its own: what the kind's documented rule (docs/town.md's kinds table) does to it,
and that the compartments it does not name are left alone. The events act through
:class:`hyosan.lattice.simulate.Town`'s operations, so no solver runs (no kernel compiles): the
numbers are exact. These are the tests ``scripts/mutation.py`` runs against ``lattice/events.py``.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest

from hyosan.lattice import Lattice, LatticeParams, TownEvent
from hyosan.lattice.model import SEZR
from hyosan.lattice.simulate import Town

CALM = LatticeParams.per_day(beta=0.0, alpha=0.0, eta=0.0, mu=0.0)


def _town(shape=(4, 5), *, params=CALM, blocked=None, seed=0, **counts) -> Town:
    """A town whose S, E, Z and R are set cell by cell (``S=array``...), the rest from ``shape``."""
    h, w = shape
    lat = Lattice.from_population(np.zeros(shape, int), blocked=blocked)
    lat.places = {"camp": (h - 1, w - 1), "gate": (0, 0)}
    town = Town(lat, params, SEZR, "exact", 0.05, np.random.default_rng(seed))
    for name in "SEZR":
        if name in counts:
            getattr(town, name)[:] = np.asarray(counts[name], np.int32).ravel()
    return town


def _grid(shape, base):
    """Counts that differ from cell to cell: base + 3 y + x (so a swapped cell shows)."""
    h, w = shape
    return base + 3 * np.arange(h)[:, None] + np.arange(w)[None, :]


def _snapshot(town: Town) -> dict[str, np.ndarray]:
    return {n: getattr(town, n).copy() for n in "SEZR"}


def _half_up(frac: float, n: np.ndarray) -> np.ndarray:
    """The strike's rounding by hand: frac x n to the nearest whole, halves up."""
    return np.array([math.floor(frac * int(v) + 0.5) for v in n.ravel()]).reshape(n.shape)


# -- strike ---------------------------------------------------------------------------------
def test_a_strike_takes_fraction_z_of_zombies_and_fraction_s_of_people_and_of_bitten_only():
    """fraction_z = 0.5 of the zombies, fraction_s = 0.2 of the people and of the bitten, the
    removed untouched, each cell rounded half up: every compartment by hand. The fractions and
    the counts all differ, so a compartment that took another's fraction (the bitten struck with
    fraction_z, the people with fraction_z...) or another's counts fails."""
    shape = (4, 5)
    S, E, Z, R = _grid(shape, 40), _grid(shape, 7), _grid(shape, 11), _grid(shape, 5)
    town = _town(shape, S=S, E=E, Z=Z, R=R)
    area = "box:1,1,2,3"
    inside = np.zeros(shape, bool)
    inside[1:3, 1:4] = True
    done = TownEvent("strike", 1.0, area, fraction_z=0.5, fraction_s=0.2).apply(town, 1.0)
    want_z = _half_up(0.5, Z[inside])
    want_s = _half_up(0.2, S[inside])
    want_e = _half_up(0.2, E[inside])
    got = {n: getattr(town, n).reshape(shape) for n in "SEZR"}
    np.testing.assert_array_equal(got["Z"][inside], Z[inside] - want_z)
    np.testing.assert_array_equal(got["S"][inside], S[inside] - want_s)
    np.testing.assert_array_equal(got["E"][inside], E[inside] - want_e)
    np.testing.assert_array_equal(got["R"], R)  # the removed are never struck
    for name, before in zip("SEZ", (S, E, Z), strict=True):
        np.testing.assert_array_equal(got[name][~inside], before[~inside])  # nothing outside
    assert done == {
        "removed_z": int(want_z.sum()),
        "removed_s": int(want_s.sum()),
        "removed_e": int(want_e.sum()),
    }
    assert town.tally["struck_z"] == want_z.sum()
    assert town.tally["struck_s"] == want_s.sum()
    assert town.tally["struck_e"] == want_e.sum()
    # the three are different numbers (else a swap of tallies would pass)
    assert len({int(want_z.sum()), int(want_s.sum()), int(want_e.sum())}) == 3


def test_a_strike_rounds_each_cell_half_up_not_down_and_not_the_total():
    """Cells of 7, 5 and 3 zombies struck by half: 4 + 3 + 2 = 9 removed (per cell, half up),
    where rounding down gives 3 + 2 + 1 = 6 and rounding the total gives 8; the bitten (odd
    counts) and people struck by a quarter the same way: 9 x 0.25 = 2.25 -> 2, 10 x 0.25 = 2.5 -> 3."""
    town = _town((1, 3), S=[9, 10, 2], E=[10, 9, 6], Z=[7, 5, 3], R=[1, 1, 1])
    done = TownEvent("strike", 0.0, "*", fraction_z=0.5, fraction_s=0.25).apply(town, 0.0)
    np.testing.assert_array_equal(town.Z, [3, 2, 1])
    np.testing.assert_array_equal(town.S, [9 - 2, 10 - 3, 2 - 1])  # 0.5 -> 1
    np.testing.assert_array_equal(town.E, [10 - 3, 9 - 2, 6 - 2])  # 1.5 -> 2
    np.testing.assert_array_equal(town.R, [1, 1, 1])
    assert (done["removed_z"], done["removed_s"], done["removed_e"]) == (9, 6, 7)


def test_a_strike_of_everything_and_of_nothing():
    town = _town((2, 2), S=[5, 6, 7, 8], E=[1, 2, 3, 4], Z=[9, 9, 9, 9], R=[2, 2, 2, 2])
    TownEvent("strike", 0.0, "*", fraction_z=1.0, fraction_s=0.0).apply(town, 0.0)
    np.testing.assert_array_equal(town.Z, 0)
    np.testing.assert_array_equal(town.S, [5, 6, 7, 8])
    np.testing.assert_array_equal(town.E, [1, 2, 3, 4])
    TownEvent("strike", 0.0, "*", fraction_z=0.0, fraction_s=1.0).apply(town, 0.0)
    np.testing.assert_array_equal(town.S, 0)
    np.testing.assert_array_equal(town.E, 0)
    np.testing.assert_array_equal(town.R, [2, 2, 2, 2])
    assert town.tally["struck_z"] == 36 and town.tally["struck_s"] == 26 and town.tally["struck_e"] == 10


def test_a_strike_spares_the_blocked_cells_of_its_area():
    blocked = np.array([[False, True, False]])
    town = _town((1, 3), blocked=blocked, S=[10, 0, 10], Z=[4, 0, 4])
    town.Z[1] = 6  # (a blocked cell never holds anyone; here it does, to show it is not struck)
    TownEvent("strike", 0.0, "*", fraction_z=0.5, fraction_s=0.5).apply(town, 0.0)
    np.testing.assert_array_equal(town.Z, [2, 6, 2])
    np.testing.assert_array_equal(town.S, [5, 0, 5])


# -- seed -----------------------------------------------------------------------------------
def test_a_seed_adds_bitten_to_e_and_zombies_to_z_in_the_first_open_cell_only():
    """bitten 3 and zombies 5 into a box whose first cell (row-major) is blocked: the second cell
    gets E + 3 and Z + 5; S and R nowhere change; the arrival there is the seed's time; the tally
    counts 8 seeded."""
    blocked = np.zeros((3, 4), bool)
    blocked[1, 1] = True
    S = _grid((3, 4), 10)
    town = _town((3, 4), blocked=blocked, S=np.where(blocked, 0, S), E=1, Z=2, R=4)
    before = _snapshot(town)
    done = TownEvent("seed", 0.75, "box:1,1,2,2", bitten=3, zombies=5).apply(town, 0.75)
    c = 1 * 4 + 2  # (1, 2): the first open cell of the box
    want_e, want_z = before["E"].copy(), before["Z"].copy()
    want_e[c] += 3
    want_z[c] += 5
    np.testing.assert_array_equal(town.E, want_e)
    np.testing.assert_array_equal(town.Z, want_z)
    np.testing.assert_array_equal(town.S, before["S"])
    np.testing.assert_array_equal(town.R, before["R"])
    assert done == {"bitten": 3, "zombies": 5}
    assert town.tally["seeded"] == 8
    assert town.arrival[c] == pytest.approx(0.75)
    assert np.isinf(np.delete(town.arrival, c)).all()
    # a later seed does not move the first arrival back; an earlier one would
    TownEvent("seed", 2.0, "box:1,1,2,2", bitten=1).apply(town, 2.0)
    assert town.arrival[c] == pytest.approx(0.75) and town.E[c] == want_e[c] + 1


# -- cordon and lift_cordon ------------------------------------------------------------------------
def test_a_cordon_sets_the_boundary_to_leak_and_touches_no_compartment():
    shape = (4, 5)
    town = _town(shape, S=_grid(shape, 20), E=_grid(shape, 2), Z=_grid(shape, 3), R=_grid(shape, 1))
    before = _snapshot(town)
    base_e, base_s = town.w_east.reshape(shape).copy(), town.w_south.reshape(shape).copy()
    done = TownEvent("cordon", 0.0, "box:1,1,2,2", leak=0.1).apply(town, 0.0)
    town._weights()
    # the boundary of the 2 x 2 box: east edges (1,0), (2,0), (1,2), (2,2); south (0,1), (0,2), (2,1), (2,2)
    around_e = {(1, 0), (2, 0), (1, 2), (2, 2)}
    around_s = {(0, 1), (0, 2), (2, 1), (2, 2)}
    we, ws = town.w_east.reshape(shape), town.w_south.reshape(shape)
    for (y, x), w in np.ndenumerate(we):
        assert w == pytest.approx(base_e[y, x] * (0.1 if (y, x) in around_e else 1.0))
    for (y, x), w in np.ndenumerate(ws):
        assert w == pytest.approx(base_s[y, x] * (0.1 if (y, x) in around_s else 1.0))
    assert done == {"leak": 0.1, "edges": 8}
    for name in "SEZR":
        np.testing.assert_array_equal(getattr(town, name), before[name])
    lifted = TownEvent("lift_cordon", 1.0, "box:1,1,2,2").apply(town, 1.0)
    town._weights()
    np.testing.assert_array_equal(town.w_east.reshape(shape), base_e)
    np.testing.assert_array_equal(town.w_south.reshape(shape), base_s)
    assert lifted == {"leak": 1.0, "edges": 8}
    for name in "SEZR":
        np.testing.assert_array_equal(getattr(town, name), before[name])


def test_a_cordon_and_a_shelter_multiply():
    shape = (3, 3)
    town = _town(shape, S=np.full(9, 5))
    TownEvent("cordon", 0.0, "cells:1,1", leak=0.5).apply(town, 0.0)
    TownEvent("shelter", 0.0, "cells:1,1", factor=0.2, duration=1.0).apply(town, 0.0)
    town._weights()
    we, ws = town.w_east.reshape(shape), town.w_south.reshape(shape)
    assert we[1, 0] == pytest.approx(0.1) and we[1, 1] == pytest.approx(0.1)
    assert ws[0, 1] == pytest.approx(0.1) and ws[1, 1] == pytest.approx(0.1)
    assert we[0, 0] == 1.0 and ws[0, 0] == 1.0
    np.testing.assert_array_equal(town.S, 5)


# -- shelter -----------------------------------------------------------------------------------------
def test_a_shelter_touches_no_compartment():
    shape = (3, 4)
    town = _town(shape, S=_grid(shape, 9), E=_grid(shape, 1), Z=_grid(shape, 4), R=_grid(shape, 2))
    before = _snapshot(town)
    TownEvent("shelter", 0.0, "*", factor=0.3, duration=2.0).apply(town, 0.0)
    for name in "SEZR":
        np.testing.assert_array_equal(getattr(town, name), before[name])


# -- evacuate ---------------------------------------------------------------------------------------
def _strip(n_cells=11, cell_m=1000.0, **counts) -> Town:
    """A strip of ``n_cells`` with the camp at its east end; counts given for the west cell."""
    lat = Lattice.from_population(np.zeros((1, n_cells), int), cell_m=cell_m)
    lat.places = {"camp": (0, n_cells - 1)}
    params = counts.pop("params", CALM)
    town = Town(lat, params, SEZR, "exact", 0.05, np.random.default_rng(counts.pop("seed", 0)))
    for name, value in counts.items():
        getattr(town, name)[0] = value
    return town


def _arrive(town: Town) -> list[float]:
    """Run the stops the events scheduled (arrivals), in order, without the solver; their times."""
    times = []
    while town.stops:
        stop = heapq.heappop(town.stops)
        stop.action(stop.t)
        times.append(stop.t)
    return times


def test_an_evacuation_walks_people_as_people_and_the_bitten_as_bitten_leaving_zombies_and_removed():
    """fraction 1 with nobody turning (eta 0): every person and every bitten person leaves the
    west cell; its zombies and removed stay; on the road they are tallied as walking_s and
    walking_e (walking_z 0); after 10 km at 5 km a day (day 2) they enter the camp as S and E."""
    town = _strip(S=1000, E=40, Z=7, R=3)
    done = TownEvent("evacuate", 0.0, "cells:0,0", fraction=1.0, speed_km_day=5.0, isolation=10.0).apply(
        town, 0.0
    )
    assert done == {"people": 1000, "bitten": 40, "camp": "camp"}
    assert (town.S[0], town.E[0], town.Z[0], town.R[0]) == (0, 0, 7, 3)
    assert (town.tally["walking_s"], town.tally["walking_e"], town.tally["walking_z"]) == (1000, 40, 0)
    assert town.S[10] == 0 and town.E[10] == 0  # not there yet
    assert _arrive(town) == [2.0]
    assert (town.S[10], town.E[10], town.Z[10], town.R[10]) == (1000, 40, 0, 0)
    assert (town.tally["walking_s"], town.tally["walking_e"], town.tally["walking_z"]) == (0, 0, 0)
    assert town.arrival[10] == pytest.approx(2.0)  # the bitten bring the outbreak to the camp
    # the camp is cut off for the isolation after the last arrival: 0 + 10 + 10 km / 5 km a day
    assert town.isolated == [(12.0, (0, 10))]


def test_the_bitten_who_turn_on_the_way_arrive_as_zombies():
    """eta = 2 a day, a walk of 2 days: each bitten turns on the way with 1 - e^-4 = 0.9817;
    of 5,000, the zombies that arrive are within 4 SE of 4,908, the rest arrive bitten; the
    people all arrive as people."""
    params = LatticeParams.per_day(beta=0.0, alpha=0.0, eta=2.0, mu=0.0)
    town = _strip(S=300, E=5000, params=params, seed=4)
    TownEvent("evacuate", 0.0, "cells:0,0", fraction=1.0, speed_km_day=5.0, isolation=1.0).apply(town, 0.0)
    walking_z, walking_e = town.tally["walking_z"], town.tally["walking_e"]
    assert walking_z + walking_e == 5000 and town.tally["walking_s"] == 300
    p = 1.0 - math.exp(-2.0 * 2.0)
    assert abs(walking_z - 5000 * p) < 4 * math.sqrt(5000 * p * (1 - p))
    _arrive(town)
    assert (town.S[10], town.E[10], town.Z[10]) == (300, walking_e, walking_z)


def test_the_chance_to_turn_on_the_way_grows_with_the_distance():
    """From 2 cells away (0.4 day at 5 km/day) and eta 1 a day: 1 - e^-0.4 = 0.3297 of 4,000
    turn on the way (within 4 SE), not the 10-cell walk's 0.865 nor eta's 1 - e^-1 = 0.632."""
    params = LatticeParams.per_day(beta=0.0, alpha=0.0, eta=1.0, mu=0.0)
    town = _strip(n_cells=3, E=4000, params=params, seed=5)
    TownEvent("evacuate", 0.0, "cells:0,0", fraction=1.0, speed_km_day=5.0, isolation=1.0).apply(town, 0.0)
    p = 1.0 - math.exp(-0.4)
    assert abs(town.tally["walking_z"] - 4000 * p) < 4 * math.sqrt(4000 * p * (1 - p))
    assert _arrive(town) == [pytest.approx(0.4)]


def test_an_evacuation_takes_its_fraction_of_people_and_of_bitten_each():
    """fraction 0.3 of 10,000 people and of 4,000 bitten: each within 4 SE of its own 3,000 and
    1,200 (a bitten count drawn with the people's numbers, or the reverse, fails); zombies and
    removed stay, exactly; the ones left are the ones not taken."""
    town = _strip(S=10_000, E=4_000, Z=50, R=20, seed=6)
    done = TownEvent("evacuate", 0.0, "cells:0,0", fraction=0.3, speed_km_day=5.0).apply(town, 0.0)
    assert abs(done["people"] - 3000) < 4 * math.sqrt(10_000 * 0.21)
    assert abs(done["bitten"] - 1200) < 4 * math.sqrt(4_000 * 0.21)
    assert town.S[0] == 10_000 - done["people"] and town.E[0] == 4_000 - done["bitten"]
    assert (town.Z[0], town.R[0]) == (50, 20)


def test_an_evacuation_leaves_the_camp_itself_and_what_cannot_reach_it():
    """Nobody walks out of the camp cell (distance 0) nor out of a cell cut off from it (no path);
    the camp is held apart from the latest arrival on: the farthest reachable cell's walk."""
    blocked = np.array([[False, False, False, True, False, False]])
    lat = Lattice.from_population(np.zeros((1, 6), int), blocked=blocked, cell_m=500.0)
    lat.places = {"camp": (0, 2)}
    town = Town(lat, CALM, SEZR, "exact", 0.05, np.random.default_rng(0))
    town.S[:] = [10, 20, 30, 0, 40, 50]
    town.E[:] = [1, 2, 3, 0, 4, 5]
    TownEvent("evacuate", 1.0, "*", fraction=1.0, speed_km_day=2.0, isolation=3.0).apply(town, 1.0)
    np.testing.assert_array_equal(town.S, [0, 0, 30, 0, 40, 50])
    np.testing.assert_array_equal(town.E, [0, 0, 3, 0, 4, 5])
    # farthest: 2 cells of 0.5 km at 2 km a day = 0.5 day; 1 + 3 + 0.5
    assert town.isolated == [(4.5, (0, 2))]
    assert _arrive(town) == [1.25, 1.5]  # the next cell first, then the one two away
    assert (town.S[2], town.E[2]) == (60, 6)
