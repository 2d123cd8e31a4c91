"""Invariants of the school engine on many random small worlds (hypothesis), checked every tick."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from conftest import scenario
from hyosan.engine import Simulation
from hyosan.errors import HyosanError
from hyosan.populate import draw_incubation
from hyosan.scenario.schema import IncubationConfig
from hyosan.states import State
from hyosan.world.tiles import WALKABLE_LUT, DoorState, Tile


@st.composite
def buildings(draw):
    """A one- or two-room building: a dividing wall with doors in random states, obstacles, an exit."""
    w = draw(st.integers(9, 18))
    h = draw(st.integers(6, 11))
    wall_x = draw(st.integers(3, w - 5))
    rows = [["#"] * w] + [
        ["#"] + ["a" if x < wall_x else "b" for x in range(1, w - 1)] + ["#"] for _ in range(h - 2)
    ]
    rows.append(["#"] * w)
    for y in range(1, h - 1):
        rows[y][wall_x] = "#"
    door_rows = draw(st.lists(st.integers(1, h - 2), min_size=1, max_size=2, unique=True))
    for y in door_rows:
        rows[y][wall_x] = draw(st.sampled_from("+/LB"))
    for _ in range(draw(st.integers(0, 4))):
        y, x = draw(st.integers(2, h - 3)), draw(st.integers(wall_x + 2, w - 2))
        rows[y][x] = "#"
    rows[draw(st.integers(1, h - 2))][w - 1] = "E"
    text = "\n".join("".join(r) for r in rows)
    return f"[floor 1F]\n{text}\n[rooms]\na: left (classroom)\nb: right (corridor)\n"


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    map_text=buildings(),
    humans=st.integers(1, 12),
    others=st.integers(0, 8),
    zombies=st.integers(1, 4),
    halfbies=st.integers(0, 2),
    halfbie_fraction=st.sampled_from([0.0, 0.5, 1.0]),
    per_tile=st.integers(1, 3),
    seed=st.integers(0, 10_000),
)
def test_invariants_hold_every_tick(
    tmp_path_factory, map_text, humans, others, zombies, halfbies, halfbie_fraction, per_tile, seed
):
    slow = {"walk_speed": 0.7, "run_speed": 1.0}  # at most one step a tick: every crossing is seen
    loaded = scenario(
        tmp_path_factory.mktemp("w"),
        map_text,
        clock={"duration": "80s"},
        world={"map": "map.txt", "max_per_tile": per_tile},
        roles={"student": {**slow, "strength": 0.1}, "teacher": {**slow, "adult": True}},
        zombies={"walk_speed": 0.8, "run_speed": 1.0, "bite_prob": 0.6, "break_rate": 20.0},
        halfbies={"fraction": halfbie_fraction, "speed": 1.0, "bite_prob": 0.5},
        infection={"incubation": {"median": "8s", "sigma": 0.8, "min": "2s"}},
        population=[
            {"role": "student", "count": humans, "areas": ["left"]},
            {"role": "teacher", "count": others, "areas": ["right"]},
            {"role": "student", "count": zombies, "areas": ["right"], "state": "zombie"},
            {"role": "student", "count": halfbies, "areas": ["right"], "state": "halfbie"},
        ],
        events=[{"kind": "alarm", "at": "08:00", "area": "left", "duration": "20s"}],
    )
    try:
        sim = Simulation(loaded, seed=seed)
    except HyosanError as exc:
        assume("do not fit" not in str(exc))  # too many agents for the rooms drawn
        raise
    tiles = sim.world.tiles.ravel()
    cap = sim.arrays.world.cap
    door_cells = sim.arrays.doors.cell
    n = sim.pop.n
    was_halfbie = sim.pop.state == State.HALFBIE
    seen_events = 0
    while not sim.done:
        before = sim.pop.state.copy()
        tick = sim.tick
        sim.step(1)
        st_, cell = sim.pop.state, sim.pop.cell
        # The population is conserved across states.
        assert sim.counts[sim.tick].sum() == n
        on_map = np.isin(st_, (State.HUMAN, State.BITTEN, State.ZOMBIE, State.HALFBIE))
        # Nobody stands in a wall (or anywhere not walkable).
        assert WALKABLE_LUT[tiles[cell[on_map]]].all()
        # No more agents on a tile than allowed, and the engine's occupancy agrees.
        occupancy = np.bincount(cell[on_map], minlength=tiles.size)
        assert (occupancy <= cap).all()
        np.testing.assert_array_equal(occupancy, sim.arrays.world.occupancy)
        # Nobody is in a doorway whose door is closed, locked or barricaded.
        in_door = np.isin(cell[on_map], door_cells)
        doors = sim.world.door_of_cell[cell[on_map][in_door]]
        assert np.isin(sim.arrays.doors.state[doors], (DoorState.OPEN, DoorState.BROKEN)).all()
        # Halfbies are never bitten nor turned (they may leave, or be killed attacking a human).
        assert np.isin(st_[was_halfbie], (State.HALFBIE, State.ESCAPED, State.DEAD)).all()
        was_halfbie |= st_ == State.HALFBIE
        events = sim.recorder.events()
        new = events.iloc[seen_events:]
        seen_events = len(events)
        for _, e in new[new.kind == "bite"].iterrows():
            assert e.tick == tick
            assert before[e.b] == State.HUMAN
            biter_was = State.ZOMBIE if sim.pop.turn_at[e.a] == tick else before[e.a]  # turned this tick
            assert e.a == -2 or biter_was in (State.ZOMBIE, State.HALFBIE)
        # Turning happens the drawn incubation after the bite, or sooner when a second attack
        # overwhelms the bitten (they turn at once, on a tick they were attacked).
        for _, e in new[new.kind == "turn"].iterrows():
            assert 0 <= e.tick - sim.pop.bitten_at[e.a] <= sim.pop.incubation[e.a]
    assert sim.tick == sim.n_ticks
    assert not (tiles[sim.pop.cell] == Tile.WALL).any()


def test_incubation_follows_the_configured_lognormal():
    cfg = IncubationConfig(distribution="lognormal", median="2min", sigma=1.2, min="0.001s", max="1000h")
    ticks = draw_incubation(cfg, 20_000, 0.01, np.random.default_rng(1))
    seconds = ticks * 0.01
    result = stats.kstest(seconds, stats.lognorm(s=1.2, scale=120).cdf)
    assert result.pvalue > 0.01
    assert np.median(seconds) == np.float64(np.median(seconds))  # finite
    assert abs(np.median(seconds) - 120) < 5


def test_incubation_is_clipped_and_other_distributions():
    cfg = IncubationConfig(distribution="lognormal", median="2min", sigma=3, min="30s", max="10min")
    ticks = draw_incubation(cfg, 5000, 1.0, np.random.default_rng(2))
    assert ticks.min() == 30 and ticks.max() == 600
    fixed = draw_incubation(
        IncubationConfig(distribution="fixed", median="45s"), 10, 1.0, np.random.default_rng(0)
    )
    assert (fixed == 45).all()
    expo = draw_incubation(
        IncubationConfig(distribution="exponential", median="60s", min="0s", max="100h"),
        20_000,
        0.01,
        np.random.default_rng(3),
    )
    assert stats.kstest(expo * 0.01, stats.expon(scale=60).cdf).pvalue > 0.01
