"""Invariants of the school engine on many random small worlds (hypothesis), checked every tick."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from conftest import scenario
from hyosan.engine import Simulation
from hyosan.errors import HyosanError
from hyosan.populate import draw_incubation
from hyosan.rules.consts import TR_RUN, TR_WALK
from hyosan.scenario.schema import IncubationConfig
from hyosan.states import State
from hyosan.world.tiles import WALKABLE_LUT, DoorState, Tile


def building_rows(draw, w: int, h: int, wall_x: int, left: str, right: str) -> list[list[str]]:
    """One floor: a dividing wall with doors in random states, obstacles on the right."""
    rows = [["#"] * w] + [
        ["#"] + [left if x < wall_x else right for x in range(1, w - 1)] + ["#"] for _ in range(h - 2)
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
    return rows


@st.composite
def buildings(draw, floors: int = 1):
    """A building of one or two floors, each of two rooms; the first floor has an exit, and on
    two floors stairs tiles above one another join them (one to three flights)."""
    w = draw(st.integers(9, 18))
    h = draw(st.integers(6, 11))
    wall_x = draw(st.integers(3, w - 5))
    plans = [building_rows(draw, w, h, wall_x, "ac"[f], "bd"[f]) for f in range(floors)]
    plans[0][draw(st.integers(1, h - 2))][w - 1] = "E"
    if floors > 1:
        for _ in range(draw(st.integers(1, 3))):
            y, x = draw(st.integers(1, h - 2)), draw(st.sampled_from([1, w - 2]))
            for plan in plans:
                plan[y][x] = "S"
    text = "".join(
        f"[floor {f + 1}F]\n" + "\n".join("".join(r) for r in plan) + "\n" for f, plan in enumerate(plans)
    )
    rooms = "a: left (classroom)\nb: right (corridor)\n"
    if floors > 1:
        rooms += "c: upper left (classroom)\nd: upper right (corridor)\n"
    return f"{text}[rooms]\n{rooms}"


SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def make_sim(folder, map_text, humans, others, zombies, halfbies, halfbie_fraction, per_tile, seed, speeds):
    (walk, run), (zwalk, zrun), hb = speeds
    upstairs = "upper left" if "upper" in map_text else "left"
    loaded = scenario(
        folder,
        map_text,
        clock={"duration": "80s"},
        world={"map": "map.txt", "max_per_tile": per_tile},
        roles={"student": {"walk_speed": walk, "run_speed": run, "strength": 0.1},
               "teacher": {"walk_speed": walk, "run_speed": run, "adult": True}},
        zombies={"walk_speed": zwalk, "run_speed": zrun, "bite_prob": 0.6, "break_rate": 20.0},
        halfbies={"fraction": halfbie_fraction, "speed": hb, "bite_prob": 0.5},
        infection={"incubation": {"median": "8s", "sigma": 0.8, "min": "2s"}},
        population=[
            {"role": "student", "count": humans, "areas": ["left"]},
            {"role": "teacher", "count": others, "areas": [upstairs]},
            {"role": "student", "count": zombies, "areas": ["right"], "state": "zombie"},
            {"role": "student", "count": halfbies, "areas": ["right"], "state": "halfbie"},
        ],
        events=[{"kind": "alarm", "at": "08:00", "area": "left", "duration": "20s"}],
    )  # fmt: skip
    try:
        return Simulation(loaded, seed=seed)
    except HyosanError as exc:
        assume("do not fit" not in str(exc))  # too many agents for the rooms drawn
        raise


def check_every_tick(sim: Simulation) -> None:
    """Run ``sim`` to the end one tick at a time, checking the invariants after every tick."""
    tiles = sim.world.tiles.ravel()
    world = sim.world
    cap = sim.arrays.world.cap
    door_cells = sim.arrays.doors.cell
    n = sim.pop.n
    was_halfbie = sim.pop.state == State.HALFBIE
    links = {(int(a), int(b)) for a, b in world.stair_links} | {
        (int(b), int(a)) for a, b in world.stair_links
    }
    # The most an agent may walk in one tick: its budget cap (a step is always affordable; a flight
    # of stairs too, from a stairs tile).
    traits, prm = sim.arrays.agents.traits, sim.prm
    top_speed = max(traits[:, TR_WALK].max(), traits[:, TR_RUN].max(), prm.z_walk, prm.z_run, prm.hb_speed)
    reach = max(top_speed * prm.tick_s, 1.5, prm.stair_cost)
    src_of_edge = np.repeat(np.arange(world.n_cells), np.diff(world.nbr_start))
    seen_events = 0
    while not sim.done:
        before = sim.pop.state.copy()
        cell_before = sim.pop.cell.copy()
        doors_before = sim.arrays.doors.state.copy()
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
        # Whoever changed floor went from a stairs tile to the stairs tile linked to it.
        moved = on_map & (cell != cell_before)
        for i in np.flatnonzero(moved):
            a, b = int(cell_before[i]), int(cell[i])
            if a // (world.shape[1] * world.shape[2]) != b // (world.shape[1] * world.shape[2]):
                assert tiles[a] == tiles[b] == Tile.STAIRS and (a, b) in links, (i, a, b)
                event("an agent took the stairs")
        # Whoever moved walked there through walkable tiles and doors open at some point in
        # the tick, no farther than one tick's budget allows (several steps a tick when fast).
        if moved.any():
            passable = np.ones(world.n_cells, bool)
            passable[:] = WALKABLE_LUT[tiles].astype(bool)
            shut = ~np.isin(doors_before, (DoorState.OPEN, DoorState.BROKEN)) & ~np.isin(
                sim.arrays.doors.state, (DoorState.OPEN, DoorState.BROKEN)
            )
            passable[door_cells[shut]] = False
            keep = passable[world.nbr_idx] & passable[src_of_edge]
            graph = csr_matrix(
                (world.nbr_cost[keep].astype(float), (src_of_edge[keep], world.nbr_idx[keep])),
                shape=(world.n_cells,) * 2,
            )
            starts = cell_before[moved]
            dist = dijkstra(graph, indices=starts, limit=reach + 1e-6)
            walked = dist[np.arange(starts.size), cell[moved]]
            assert np.isfinite(walked).all() and (walked <= reach + 1e-6).all(), walked
            if (walked >= 2).any():
                event("an agent took several steps in a tick")
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


POPULATION = dict(
    humans=st.integers(1, 12),
    others=st.integers(0, 8),
    zombies=st.integers(1, 4),
    halfbies=st.integers(0, 2),
    halfbie_fraction=st.sampled_from([0.0, 0.5, 1.0]),
    per_tile=st.integers(1, 3),
    seed=st.integers(0, 10_000),
)


@SETTINGS
@given(map_text=buildings(), **POPULATION)
def test_invariants_hold_every_tick(tmp_path_factory, map_text, **pop):
    """At most one step a tick on one floor: every crossing of a door is seen."""
    speeds = ((0.7, 1.0), (0.8, 1.0), 1.0)
    sim = make_sim(tmp_path_factory.mktemp("w"), map_text, **pop, speeds=speeds)
    check_every_tick(sim)


@SETTINGS
@given(
    map_text=buildings(floors=2),
    speed=st.floats(1.2, 3.5),
    **POPULATION,
)
def test_invariants_hold_every_tick_when_fast_and_on_stairs(tmp_path_factory, map_text, speed, **pop):
    """Several steps a tick (up to 3.5 m/s) on two floors joined by stairs."""
    speeds = ((speed / 2, speed), (speed / 2, speed), speed)
    sim = make_sim(tmp_path_factory.mktemp("w"), map_text, **pop, speeds=speeds)
    check_every_tick(sim)


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
