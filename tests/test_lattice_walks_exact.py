"""The town's solvers across edges, each against a hand computation (issue 26, item 2).

docs/town.md's table of reactions across an edge of weight w: people and zombies walk to a
neighbour at ``move_s w`` and ``move_z w`` (a road, weight 3, three times as fast as open ground;
walkers choose among the edges in proportion to their weights), a bite across makes a bitten
person *here* and a kill across removes a zombie *there*; a cell's first arrival is when
infection first reached it (a bite, or a zombie walking in). Each test runs both solvers on a
strip of two or three cells where only the reaction under test can happen, so its number is
known by hand. They were written for the curated kernel mutants of scripts/mutants.py that the
older tests let through (walking not weighted by the edge, walkers split evenly, no arrival on a
bite across or a zombie walking in, zombies walking while they should stand still...).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hyosan.lattice import Lattice, LatticeParams, TownEvent, simulate

METHODS = ("exact", "tau")


def _strip(people: list[int], east: list[float]) -> Lattice:
    """A 1 x n strip with ``people`` per cell and east edge weights ``east`` (n - 1 of them)."""
    lat = Lattice.from_population(np.array([people]))
    lat.w_east[0, : len(east)] = np.asarray(east, np.float32)
    lat.seal()
    return lat


def _final(r) -> np.ndarray:
    """The last map: (S, E, Z, R) x cells."""
    return r.snapshots[-1][1]


@pytest.mark.parametrize("method", METHODS)
def test_people_walk_across_a_road_at_three_times_move_s(method):
    """Two cells joined by a road (weight 3), 20,000 people in the first, move_s = 1 a day and
    nothing else: each person hops at 3 a day, so after 0.1 day the second cell holds
    (1 - e^-0.6) / 2 = 22.56 % of them (within 4 SE); a walk that ignored the weight gives
    (1 - e^-0.2) / 2 = 9.1 %."""
    n, t = 20_000, 0.1
    lat = _strip([n, 0], [3.0])
    params = LatticeParams.per_day(beta=0.0, alpha=0.0, eta=0.0, mu=0.0, move_s=1.0)
    r = simulate(lat, params, days=t, method=method, seed=1, tau=0.001, snapshot_times=[t])
    there = _final(r)[0, 1]
    p = (1.0 - math.exp(-2 * 3.0 * t)) / 2
    assert abs(there - n * p) < 4 * math.sqrt(n * p * (1 - p)), there
    assert _final(r)[0].sum() == n


@pytest.mark.parametrize("method", METHODS)
def test_walkers_choose_their_edge_in_proportion_to_its_weight(method):
    """100,000 people in the middle of three cells, the west edge of weight 1 and the east of 3:
    of those who leave in 0.005 day (about 2 %), three in four go east (within 4 SE), and as
    many leave as the total rate 4 move_s says (1 - e^-0.02 of them)."""
    n, t = 100_000, 0.005
    lat = _strip([0, n, 0], [1.0, 3.0])
    params = LatticeParams.per_day(beta=0.0, alpha=0.0, eta=0.0, mu=0.0, move_s=1.0)
    r = simulate(lat, params, days=t, method=method, seed=2, tau=0.0005, snapshot_times=[t])
    west, _, east = _final(r)[0]
    left = west + east
    p_leave = 1.0 - math.exp(-4.0 * t)
    assert abs(left - n * p_leave) < 4 * math.sqrt(n * p_leave), left
    assert abs(east / left - 0.75) < 4 * math.sqrt(0.75 * 0.25 / left), (west, east)


@pytest.mark.parametrize("method", METHODS)
def test_a_bite_across_marks_the_first_arrival_and_zombies_that_may_not_walk_stay(method):
    """50 zombies next to 1,000 people who cannot fight back (kill 0), nobody walking, nobody
    turning: the people are bitten across the edge (mu beta w S Z), in their own cell, which is
    then reached (a finite first arrival within the day); the zombies stay where they are, all 50."""
    lat = _strip([0, 1000], [1.0])
    params = LatticeParams.per_day(beta=0.01, alpha=0.0, eta=0.0, mu=0.5)
    r = simulate(
        lat,
        params,
        days=1.0,
        method=method,
        seed=3,
        events=[TownEvent("seed", 0.0, "cells:0,0", zombies=50)],
        snapshot_times=[1.0],
    )
    S, E, Z, R = _final(r)
    assert E[1] > 0 and S[1] + E[1] == 1000 and E[0] == 0 and S[0] == 0
    assert (Z[0], Z[1], R.sum()) == (50, 0, 0)
    assert r.arrival[0, 0] == 0.0
    assert 0.0 < r.arrival[0, 1] <= 1.0


@pytest.mark.parametrize("method", METHODS)
def test_a_kill_across_removes_the_neighbours_zombie(method):
    """1,000 people who never get bitten (bite rate tiny) next to 50 zombies, kill across at mu
    kappa: the zombies destroyed are the neighbour's (its Z falls, its R rises by as many); the
    people's cell gains no zombie and no removed."""
    lat = _strip([1000, 0], [1.0])
    params = LatticeParams(bite_rate=1e-12, kill_rate=0.5, incubation_s=math.inf, contact_s=0.01, mu=0.5)
    r = simulate(
        lat,
        params,
        days=1.0,
        method=method,
        seed=4,
        events=[TownEvent("seed", 0.0, "cells:0,1", zombies=50)],
        snapshot_times=[1.0],
    )
    S, E, Z, R = _final(r)
    assert S[0] + E[0] == 1000 and S[1] + E[1] == 0
    assert (Z[0], R[0]) == (0, 0)
    assert R[1] > 0 and Z[1] + R[1] == 50
    # 1,000 x 0.5 x 0.01 x 0.5 = 2.5 kills per zombie per day: nearly all are gone
    assert R[1] > 40


@pytest.mark.parametrize("method", METHODS)
def test_zombies_walking_in_mark_the_first_arrival(method):
    """Nobody to bite: 100 zombies walk at move_z = 5 a day along three cells; every cell they
    have reached by day 1 has a finite first arrival, the far one no earlier than the middle one
    (they pass through it), and the arrival of the cell they started in is 0. One solver call for
    the whole day: each call also marks the cells that hold zombies when it starts, which would
    hide a walk that marked nothing."""
    lat = _strip([0, 0, 0], [1.0, 1.0])
    params = LatticeParams.per_day(beta=0.0, alpha=0.0, eta=0.0, mu=0.0, move_z=5.0)
    r = simulate(
        lat,
        params,
        days=1.0,
        method=method,
        seed=5,
        tau=0.01,
        events=[TownEvent("seed", 0.0, "cells:0,0", zombies=100)],
        record_every=1.0,  # one solver call: no later start to mark the cells that hold zombies
        snapshot_times=[1.0],
    )
    Z = _final(r)[2]
    assert Z.sum() == 100 and Z[1] > 0 and Z[2] > 0
    arrival = r.arrival[0]
    assert arrival[0] == 0.0
    assert 0.0 < arrival[1] <= arrival[2] <= 1.0


@pytest.mark.parametrize("method", METHODS)
def test_a_zombie_killed_from_three_cells_at_once_is_killed_once(method):
    """Five zombies among 1,000 people with 1,000 more on each side, kills far faster than a leap
    (5,000 a zombie a day from each cell) and bites next to none: within one leap (0.05 day) the
    people of all three cells kill the same five zombies; they die once: Z = 0 and R = 5, never a
    negative count (docs/town.md: a zombie killed from two cells in one leap is killed once)."""
    lat = _strip([1000, 1000, 1000], [1.0, 1.0])
    params = LatticeParams(bite_rate=1e-12, kill_rate=0.5, incubation_s=math.inf, contact_s=10.0, mu=1.0)
    r = simulate(
        lat,
        params,
        days=0.05,
        method=method,
        seed=6,
        events=[TownEvent("seed", 0.0, "cells:0,1", zombies=5)],
        snapshot_times=[0.05],
    )
    S, E, Z, R = _final(r)
    assert (Z.tolist(), R.tolist()) == ([0, 0, 0], [0, 5, 0])
    assert S.sum() + E.sum() == 3000


@pytest.mark.parametrize("method", METHODS)
def test_zombies_that_may_not_walk_stay_when_their_cells_draws_are_thinned(method):
    """20 zombies among 1,000 people beside a cell of 50 zombies, nobody walking, no kills, no
    turning: the exact solver bounds the zombies around by more than there are (50 -> 63) and
    throws away the draws that fall between (thinning: nothing happens); a thinned draw must not
    become a reaction, so after a day the zombies are still 50 and 20, exactly."""
    lat = _strip([0, 1000], [1.0])
    params = LatticeParams.per_day(beta=0.002, alpha=0.0, eta=0.0, mu=0.5)
    r = simulate(
        lat,
        params,
        days=1.0,
        method=method,
        seed=7,
        events=[
            TownEvent("seed", 0.0, "cells:0,0", zombies=50),
            TownEvent("seed", 0.0, "cells:0,1", zombies=20),
        ],
        snapshot_times=[1.0],
    )
    S, E, Z, R = _final(r)
    assert E[1] > 0 and S[1] + E[1] == 1000
    assert (Z.tolist(), R.tolist()) == ([50, 20], [0, 0])


@pytest.mark.parametrize("method", METHODS)
def test_the_bitten_turn_at_eta_whatever_cuts_the_leaps(method):
    """10,000 bitten alone in a cell, eta = 1 a day, records every 0.01 day (tau-leaping's leaps of
    0.05 day cut to 0.01): by day 0.1, 1 - e^-0.1 = 9.52 % have turned (within 4 SE); a cut leap
    that turned them with a whole leap's chance would give 1 - e^-0.5 = 39 %."""
    lat = _strip([0], [])
    params = LatticeParams.per_day(beta=0.0, alpha=0.0, eta=1.0, mu=0.0)
    r = simulate(
        lat,
        params,
        days=0.1,
        method=method,
        seed=8,
        events=[TownEvent("seed", 0.0, "cells:0,0", bitten=10_000)],
        record_every=0.01,
        snapshot_times=[0.1],
    )
    p = 1.0 - math.exp(-0.1)
    turned = int(_final(r)[2, 0])
    assert abs(turned - 10_000 * p) < 4 * math.sqrt(10_000 * p * (1 - p)), turned


@pytest.mark.parametrize("method", METHODS)
def test_people_bitten_in_a_leap_do_not_also_walk_away(method):
    """1,000 people among 1,000 zombies, bitten at 1,000 a day each and walking at 100: a leap of
    0.05 day bites every one of them (a chance of 1 - e^-50), so none is left to walk: S stays 0
    in both cells, never negative, and the bitten stay put; the exact solver lets a few walk
    first (a tenth of the rate), never more people than there are."""
    lat = _strip([1000, 0], [1.0])
    params = LatticeParams.per_day(beta=1.0, alpha=0.0, eta=0.0, mu=0.0, move_s=100.0)
    r = simulate(
        lat,
        params,
        days=0.05,
        method=method,
        seed=9,
        events=[TownEvent("seed", 0.0, "cells:0,0", zombies=1000)],
        snapshot_times=[0.05],
    )
    S, E, Z, R = _final(r)
    assert (S >= 0).all() and S.sum() + E.sum() == 1000 and Z.sum() == 1000 and R.sum() == 0
    if method == "tau":
        assert (S.tolist(), E.tolist()) == ([0, 0], [1000, 0])
