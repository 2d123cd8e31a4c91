"""The ``shelter`` event kind (hyosan/lattice/kinds/shelter.py): people in an area stay in, their
edges keep ``factor`` of their weight for ``duration``; the kind is one file, registered by
being there."""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from hyosan.errors import HyosanError
from hyosan.lattice import Lattice, LatticeParams, TownEvent, simulate
from hyosan.lattice.events import KINDS, parse_event
from hyosan.lattice.model import SEZR
from hyosan.lattice.simulate import Town


def test_shelter_is_registered_with_its_fields_and_bounds():
    assert "shelter" in KINDS
    e = parse_event(
        {"kind": "shelter", "after": "1d", "area": "*", "factor": 0.25, "duration": "36h"}, "t.toml", 0
    )
    assert (e.kind, e.t, e.factor, e.duration) == ("shelter", 1.0, 0.25, 1.5)
    for raw, field in (
        ({"factor": 1.5}, "events[3].factor"),
        ({"factor": -0.1}, "events[3].factor"),
        ({"factor": float("nan")}, "events[3].factor"),
        ({"duration": "soon"}, "events[3].duration"),
        ({"leak": 0.1}, "events[3]"),
    ):
        with pytest.raises(HyosanError) as err:
            parse_event({"kind": "shelter", **raw}, "t.toml", 3)
        assert err.value.field == field and err.value.source == "t.toml"


def test_the_edges_touching_the_area_keep_factor_of_their_weight_then_return():
    lat = Lattice.from_population(np.full((5, 6), 10))
    town = Town(lat, LatticeParams(), SEZR, "exact", 0.05, np.random.default_rng(0))
    before_e, before_s = town.w_east.copy(), town.w_south.copy()
    done = TownEvent("shelter", 1.0, "cells:2,2", factor=0.25, duration=2.0).apply(town, 1.0)
    town._weights()
    we, ws = town.w_east.reshape(5, 6), town.w_south.reshape(5, 6)
    touched_e = {(2, 1), (2, 2)}  # the east edges into and out of (2, 2)
    touched_s = {(1, 2), (2, 2)}
    for (y, x), w in np.ndenumerate(we):
        assert w == pytest.approx(before_e.reshape(5, 6)[y, x] * (0.25 if (y, x) in touched_e else 1.0))
    for (y, x), w in np.ndenumerate(ws):
        assert w == pytest.approx(before_s.reshape(5, 6)[y, x] * (0.25 if (y, x) in touched_s else 1.0))
    assert done == {"factor": 0.25, "days": 2.0, "edges": 4}
    stop = heapq.heappop(town.stops)  # the shelter's end, scheduled by the event itself
    assert stop.t == 3.0
    stop.action(stop.t)
    town._weights()
    np.testing.assert_array_equal(town.w_east, before_e)
    np.testing.assert_array_equal(town.w_south, before_s)


@pytest.mark.parametrize("method", ["exact", "tau"])
def test_a_full_shelter_keeps_the_outbreak_out_until_it_ends(method):
    """Zombies that cannot die in one cell, people next door sheltering completely (factor 0):
    nobody next door is bitten while the shelter holds; after it ends they are."""
    lat = Lattice.from_population(np.array([[0, 400]]))
    params = LatticeParams.per_day(beta=0.01, alpha=0.0, eta=1.0, mu=1.0)
    events = [
        TownEvent("seed", 0.0, "cells:0,0", zombies=50),
        TownEvent("shelter", 0.0, "cells:0,1", factor=0.0, duration=3.0),
    ]
    res = simulate(lat, params, days=6, method=method, events=events, record_every=0.25, seed=4)
    during = [r for r in res.totals if r["t"] <= 3.0]
    after = res.totals[-1]
    assert all(r["S"] == 400 for r in during)
    assert after["S"] < 400


def test_half_a_shelter_halves_the_bites_across_on_average():
    """factor 0.5 across the only edge: the first bite across comes after twice the wait (means
    over 300 exact runs, within 15 %)."""
    lat = Lattice.from_population(np.array([[0, 200]]))
    params = LatticeParams.per_day(beta=0.02, alpha=0.0, eta=1.0, mu=0.5)
    waits = {}
    for factor in (1.0, 0.5):
        firsts = []
        for seed in range(300):
            events = [
                TownEvent("seed", 0.0, "cells:0,0", zombies=10),
                TownEvent("shelter", 0.0, "cells:0,1", factor=factor, duration=1000.0),
            ]
            res = simulate(lat, params, days=3, method="exact", events=events, seed=seed, snapshot_every=3)
            firsts.append(res.arrival[0, 1] if np.isfinite(res.arrival[0, 1]) else 3.0)
        waits[factor] = np.mean(firsts)
    # mean wait 1 / (mu beta Z S factor) = 1 / (0.5 * 0.02 * 10 * 200 * f) = 0.05 / f days, far below 3
    assert waits[1.0] == pytest.approx(0.05, rel=0.15)
    assert waits[0.5] == pytest.approx(0.10, rel=0.15)


def test_the_chronicle_names_the_area_as_the_scenario_does():
    lat = Lattice.from_population(np.full((5, 5), 20))
    named = TownEvent("shelter", 0.5, "disc:2,2,1", name="the old market", factor=0.2, duration=2.0)
    plain = TownEvent("shelter", 1.0, "disc:2,2,1", factor=0.5, duration=1.0)
    res = simulate(lat, days=2, events=[named, plain])
    text = "\n".join(res.chronicle())
    assert (
        "People in the old market shelter in place for 2 days: contact with their neighbours falls to 20%."
        in text
    )
    assert "People in a disc of radius 1 cells around (2, 2) shelter in place for 1 day:" in text
    assert "disc:" not in text


def test_a_shelter_off_the_grid_is_refused():
    lat = Lattice.from_population(np.full((3, 3), 20))
    with pytest.raises(HyosanError) as err:
        simulate(lat, days=1, events=[TownEvent("shelter", 0.0, "box:5,5,8,8", factor=0.1, duration=1.0)])
    assert err.value.field == "events[0].area"
