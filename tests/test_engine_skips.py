"""What the engine skips in quiet stretches (issue 25 goal 2) must change nothing: each shortcut
here is checked against the work it stands in for. scripts/fingerprint.py checks whole runs
(every array of Hyosan High 3 h and 24 h in the dark, before and after)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import open_yard, scenario
from hyosan.engine import Simulation
from hyosan.rules.consts import BLOCK, HUMAN, ZOMBIE
from hyosan.rules.senses import nearest_heard, sees, shut_in
from hyosan.rules.spatial import index_zombies, is_prey, rebuild_cells, sealed_rooms
from hyosan.rules.tick import index_all
from hyosan.scenario.load import load_scenario
from hyosan.world import load_ascii_text, room_doors
from hyosan.world.tiles import WALKABLE_LUT, DoorState

ROOMS = """[floor 1F]
#############
#aaa#bbb=ccc#
#aaa#bbb#ccc#
##+###+###.##
#...........#
#############
[rooms]
a: shut (classroom)
b: windowed (classroom)
c: open (classroom)
"""


def test_sealed_rooms_by_what_stops_sight():
    """Walls and a door: sealed for everyone (3); a window: for zombies only (2, humans see
    through glass); an opening: for nobody (0)."""
    w = load_ascii_text(ROOMS, "rooms.txt")
    sealed = sealed_rooms(w.tiles, w.room_id, w.door_of_cell.reshape(w.tiles.shape), room_doors(w))
    by_name = {r.name: int(sealed[r.id]) for r in w.rooms}
    assert by_name == {"shut": 3, "windowed": 2, "open": 0}


@pytest.fixture(scope="module")
def school():
    sim = Simulation(load_scenario("hyosan-high", {"clock.duration": "10min"}), seed=0)
    return sim


@pytest.mark.parametrize(("bit", "glass"), [(1, True), (2, False)])
def test_a_shut_in_room_is_out_of_sight(school, bit, glass):
    """The proof behind the shortcut, on Hyosan High's map: every door shut, no line of sight
    joins a cell of a sealed room and a cell outside it (humans' sight through windows for bit
    1, zombies' for bit 2), for cells up to 20 m apart on each floor."""
    world, W, H = school.arrays.world, school.prm.W, school.prm.H
    doors = school.arrays.doors._replace(state=np.full_like(school.arrays.doors.state, DoorState.CLOSED))
    occupancy = world.occupancy.copy()
    world.occupancy[:] = 0  # nobody on a door's tile
    try:
        rng = np.random.default_rng(0)
        walkable = np.flatnonzero(WALKABLE_LUT[world.tiles] == 1)
        rooms = np.flatnonzero(world.sealed & bit)
        assert rooms.size >= 3
        checked = 0
        for room in rooms:
            assert shut_in(room, bit, world, doors)
            inside = np.flatnonzero(world.room_of_cell == room)
            f = world.geo[inside[0], 0]
            own = doors.cell[
                world.room_door_idx[world.room_door_start[room] : world.room_door_start[room + 1]]
            ]
            outside = walkable[
                (world.room_of_cell[walkable] != room)
                & (world.geo[walkable, 0] == f)
                & ~np.isin(walkable, own)  # someone on its own door's tile: checked at run time
            ]
            for c in rng.choice(inside, size=min(25, inside.size), replace=False):
                y, x = world.geo[c, 1], world.geo[c, 2]
                d = np.hypot(world.geo[outside, 1] - y, world.geo[outside, 2] - x)
                for m in outside[d <= 20.0]:
                    assert not sees(c, m, world, doors.state, W, H, glass), (room, c, m)
                    checked += 1
        assert checked > 1000
        # One door open: not shut in any more.
        room = rooms[0]
        d = world.room_door_idx[world.room_door_start[room]]
        doors.state[d] = DoorState.OPEN
        assert not shut_in(room, bit, world, doors)
    finally:
        world.occupancy[:] = occupancy


def heard_by_blocks(i, f, radius, agents, world, prm, blocks):
    """nearest_heard as it was: blocks in order, each block's list, a later prey at the same
    distance replacing an earlier one."""
    geo, cell = world.geo, agents.cell
    y, x = geo[cell[i], 1], geo[cell[i], 2]
    r = math.ceil(radius)
    best, bd = -1, radius * radius
    for by in range(max(0, (y - r) // BLOCK), min(prm.bh - 1, (y + r) // BLOCK) + 1):
        for bx in range(max(0, (x - r) // BLOCK), min(prm.bw - 1, (x + r) // BLOCK) + 1):
            j = blocks.head[(f * prm.bh + by) * prm.bw + bx]
            while j >= 0:
                if is_prey(agents.state[j]) and j != i:
                    d2 = float((geo[cell[j], 1] - y) ** 2 + (geo[cell[j], 2] - x) ** 2)
                    if d2 <= bd:
                        bd, best = d2, j
                j = blocks.next[j]
    return best


@pytest.fixture(scope="module")
def yard(tmp_path_factory):
    loaded = scenario(
        tmp_path_factory.mktemp("yard"),
        open_yard(40, 30),
        population=[{"role": "student", "count": 60, "areas": ["yard"]}],
        world={"map": "map.txt", "max_per_tile": 4},
    )
    return Simulation(loaded, seed=0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prey=st.integers(0, 40),
    seed=st.integers(0, 2**31),
    radius=st.floats(0.5, 45.0),
)
def test_a_hunters_hearing_from_the_list_is_the_block_walk(yard, prey, seed, radius):
    """Few prey: nearest_heard reads the list of prey; many: the blocks. Either way the agent
    found is the block walk's, ties included (agents crowd onto a few tiles)."""
    rng = np.random.default_rng(seed)
    pop, run = yard.pop, yard.arrays
    n = pop.n
    pop.state[:] = ZOMBIE
    pop.state[rng.choice(n, size=prey, replace=False)] = HUMAN
    yard_cells = np.flatnonzero(run.world.room_of_cell >= 0)
    pop.cell[:] = rng.choice(yard_cells[:40], size=n)  # two rows: many ties
    pop.cell[::3] = rng.choice(yard_cells, size=pop.cell[::3].size)
    index_all(run, yard.prm._replace(humans_wander=False, zombies_wander=False))
    for i in rng.choice(n, size=5, replace=False):
        got = nearest_heard(i, 0, radius, run.agents, run.world, yard.prm, run.blocks)
        assert got == heard_by_blocks(i, 0, radius, run.agents, run.world, yard.prm, run.blocks)


def test_contact_looks_wherever_prey_is_within_a_step(yard):
    """After the cell index is rebuilt, every cell with prey on it or one step (under 2 m) away
    is flagged near; attackers elsewhere are skipped, and would have found nobody."""
    rng = np.random.default_rng(1)
    pop, run = yard.pop, yard.arrays
    w = run.world
    for _ in range(5):
        pop.state[:] = ZOMBIE
        pop.state[rng.choice(pop.n, size=8, replace=False)] = HUMAN
        pop.cell[:] = rng.choice(np.flatnonzero(w.room_of_cell >= 0), size=pop.n)
        rebuild_cells(run.agents, run.cells, yard.prm.W)
        index_zombies(run.agents, run.cells)
        prey_cells = set(pop.cell[(pop.state == HUMAN)].tolist())
        for c in range(w.tiles.size):
            reach = {c} | {
                int(w.nbr_idx[e]) for e in range(w.nbr_start[c], w.nbr_start[c + 1]) if w.nbr_cost[e] < 2
            }
            if reach & prey_cells:
                assert run.cells.near[c] & 1, c


def test_frames_recorded_by_the_kernels_are_the_agents_at_those_ticks(tmp_path):
    """Frames every second for 20 minutes (more than the kernels' buffer holds between two
    returns): each is the agents as a user table photographs them at the same tick."""
    loaded = scenario(
        tmp_path,
        open_yard(12, 10),
        clock={"start": "08:00", "duration": "20min", "frame_every": "1s"},
        population=[{"role": "student", "count": 30, "areas": ["yard"]}],
        events=[{"kind": "patient_zero", "at": "08:01", "area": "yard"}],
    )
    sim = Simulation(loaded, seed=3)
    assert sim.arrays.frames.tick.size < sim.n_ticks
    seen = {}

    def photo(s):
        seen[s.tick] = (s.pop.cell.copy(), s.pop.state.copy())
        return {"agents": s.pop.n}

    sim.collect("photo", photo, 97)
    result = sim.run()
    assert result.frame_ticks.tolist() == list(range(sim.n_ticks + 1))
    assert len(seen) > 10
    for tick, (cells, states) in seen.items():
        assert (result.frame_cells[tick] == cells).all() and (result.frame_states[tick] == states).all()
    assert (result.frame_states[-1] != result.frame_states[0]).any()  # the outbreak happened
