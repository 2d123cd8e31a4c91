"""hyosan.world: the two map formats, the World's graphs and masks, and the numba fields."""

from __future__ import annotations

import base64
import gzip
import json
import math
import pickle
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from hyosan.errors import HyosanError
from hyosan.world import (
    DEFAULT_DOOR_STRENGTH,
    DOOR_LOSS,
    HEARING_THRESHOLD,
    PER_METRE,
    STAIR_COST,
    WALL_LOSS,
    DoorState,
    Room,
    Tile,
    World,
    distance_field,
    line_of_sight,
    load_ascii_text,
    load_map,
    sound_field,
    step_away,
    step_toward,
)
from hyosan.world.world import default_stair_links

DATA = Path(__file__).parent / "data"
SQRT2 = math.sqrt(2.0)


def grid(text: str) -> World:
    """A small hand-checked world from ASCII text."""
    return load_ascii_text(text, source="<test>")


def field_from(world: World, *cells, door_state=None) -> np.ndarray:
    sources = np.array([world.cell(*c) for c in cells], dtype=np.int64)
    blocked = world.blocked_mask(door_state)
    return distance_field(world.nbr_start, world.nbr_idx, world.nbr_cost, blocked, sources)


# --- the two formats ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def school() -> World:
    return load_map(DATA / "small_school.txt")


def test_both_formats_load_the_same_school(school):
    for name in ("small_school.tmj", "small_school_b64.tmj"):
        assert load_map(DATA / name).same_as(school), name
    assert school.name == "Small school" and school.floors == ["1F", "2F"] and school.shape == (2, 6, 14)
    states = {
        school.coords(int(c)): DoorState(s) for c, s in zip(school.door_cells, school.door_state, strict=True)
    }
    assert states == {
        (0, 1, 5): DoorState.CLOSED,
        (0, 4, 7): DoorState.LOCKED,
        (1, 1, 5): DoorState.OPEN,
        (1, 3, 5): DoorState.BARRICADED,
    }
    assert school.door_strength.tolist() == [60.0, 180.0, 60.0, 500.0]
    assert {(school.coords(int(a)), school.coords(int(b))) for a, b in school.stair_links} == {
        ((0, 1, 10), (1, 1, 10)),  # above one another
        ((0, 3, 8), (1, 2, 8)),  # listed in [links] / a Tiled stairs object
    }
    lab = school.room_named("science lab")
    assert (lab.kind, lab.floor, lab.cells.size) == ("lab", 0, 12)
    assert school.room_id.reshape(-1)[lab.cells].tolist() == [lab.id] * 12
    assert school.cells_of("yard").size == 2 * 5 + 14 and school.cells_of("hall").size == 15
    assert [school.coords(int(c)) for c in school.exits()] == [(0, 2, 11)]


def test_to_ascii_round_trips(school):
    for name in ("small_school.txt", "small_school.tmj", "small_school_b64.tmj"):
        world = load_map(DATA / name)
        text = world.to_ascii()
        again = load_ascii_text(text)
        assert again.same_as(world) and again.name == world.name and again.to_ascii() == text


def test_same_as_notices_differences(school):
    text = (DATA / "small_school.txt").read_text()
    assert not load_ascii_text(text.replace("2F 5 3: 500", "2F 5 3: 400")).same_as(school)
    assert not load_ascii_text(text.replace("(lab)", "(kitchen)")).same_as(school)
    assert not load_ascii_text(text.replace("#aaaa+", "#aaaa/")).same_as(school)
    assert not load_ascii_text(text.replace("1F 8 3 - 2F 8 2", "")).same_as(school)


def tiled_json() -> dict:
    return json.loads((DATA / "small_school.tmj").read_text())


def write_map(tmp_path: Path, data: dict, name: str = "map.tmj") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("compression", ["", "zlib", "gzip"])
def test_tiled_base64_encodings(tmp_path, school, compression):
    data = tiled_json()
    for group in data["layers"]:
        layer = group["layers"][0]
        raw = np.array(layer["data"], dtype="<u4").tobytes()
        raw = {"": raw, "zlib": zlib.compress(raw), "gzip": gzip.compress(raw)}[compression]
        layer.update(encoding="base64", compression=compression, data=base64.b64encode(raw).decode())
    assert load_map(write_map(tmp_path, data)).same_as(school)


def test_tiled_class_key_points_and_map_name(tmp_path, school):
    data = tiled_json()
    for tile in data["tilesets"][0]["tiles"]:
        tile["class"] = tile.pop("type").upper()  # Tiled 1.9 spelling, any case
    data["properties"] = []
    objects = data["layers"][0]["layers"][1]["objects"]
    objects.append(
        {"id": 50, "name": "gate", "type": "spawn", "point": True, "x": 12 * 32 + 5, "y": 2 * 32 + 30}
    )
    world = load_map(write_map(tmp_path, data, "hyosan_high.json"))
    assert world.name == "hyosan_high" and world.coords(int(world.cells_of("gate")[0])) == (0, 2, 12)
    assert world.tiles.tobytes() == school.tiles.tobytes()


def test_load_map_rejects_unknown_suffix(tmp_path):
    with pytest.raises(HyosanError, match=r"plan\.png.*unknown map format"):
        load_map(tmp_path / "plan.png")


# --- the world's graphs and masks -----------------------------------------------------------


def test_cells_masks_and_read_only_arrays(school):
    c = school.cell(1, 3, 5)
    assert school.coords(c) == (1, 3, 5) and school.door_of_cell[c] == 3
    assert school.coords(np.array([c, 0]))[2].tolist() == [5, 0]
    with pytest.raises(IndexError):
        school.cell(2, 0, 0)
    blocked, opaque = school.blocked_mask(), school.opaque_mask()
    closed, opened = school.cell(0, 1, 5), school.cell(1, 1, 5)
    window = school.cell(0, 2, 5)
    assert (blocked[closed], blocked[opened], blocked[window]) == (1, 0, 1)
    assert (opaque[closed], opaque[opened], opaque[window], opaque[school.cell(0, 0, 0)]) == (1, 0, 0, 1)
    everything_open = np.full(4, DoorState.OPEN, dtype=np.uint8)
    assert school.blocked_mask(everything_open)[closed] == 0
    assert school.blocked_mask(np.full(4, DoorState.BROKEN, dtype=np.uint8))[closed] == 0
    with pytest.raises(ValueError, match="read-only"):
        school.door_state[0] = 0
    copy = pickle.loads(pickle.dumps(school))  # as a worker process receives it
    assert (
        copy.same_as(school) and not copy.nbr_idx.flags.writeable and not copy.spawns["yard"].flags.writeable
    )
    with pytest.raises(HyosanError, match="no room named 'gym'"):
        school.room_named("gym")
    with pytest.raises(HyosanError, match="no room or spawn area named 'roof'"):
        school.cells_of("roof")


def test_walking_graph_rules(school):
    w = school

    def neighbours(f, y, x):
        c = w.cell(f, y, x)
        span = slice(w.nbr_start[c], w.nbr_start[c + 1])
        return {w.coords(int(n)): float(k) for n, k in zip(w.nbr_idx[span], w.nbr_cost[span], strict=True)}

    door = neighbours(0, 1, 5)  # the closed lab door: orthogonal moves only
    assert door == {(0, 1, 4): 1.0, (0, 1, 6): 1.0}
    assert neighbours(0, 1, 6)[(0, 2, 7)] == pytest.approx(SQRT2) and (0, 2, 5) not in neighbours(0, 1, 6)
    stairs = neighbours(0, 3, 8)
    assert stairs[(1, 2, 8)] == STAIR_COST
    corner = neighbours(0, 3, 7)  # (4, 6) is wall, (4, 7) the locked door: no corner-cutting to (4, 8)...
    assert (0, 4, 6) not in corner and (0, 4, 8) not in corner
    wall = w.cell(0, 0, 0)
    assert w.nbr_start[wall] == w.nbr_start[wall + 1]  # non-walkable cells have no edges
    assert w.snd_start[wall + 1] - w.snd_start[wall] == 2  # ...but sound goes through walls
    assert (np.diff(w.nbr_start) >= 0).all() and w.nbr_start[-1] == w.nbr_idx.size


def test_world_rejects_inconsistent_arrays():
    tiles = np.ones((1, 2, 2), dtype=np.uint8)
    tiles[0, 0, 0] = Tile.DOOR
    room_id = np.full(tiles.shape, -1, dtype=np.int16)
    with pytest.raises(ValueError, match="door_cells"):
        World(
            "x", ["A"], tiles, room_id, [], np.zeros(0, np.int64), np.zeros(0, np.uint8), np.zeros(0), [], {}
        )
    with pytest.raises(ValueError, match="floors"):
        World("x", ["A", "B"], tiles, room_id, [], [0], [0], [60.0], np.zeros((0, 2)), {})


# --- distance fields ------------------------------------------------------------------------


def test_distances_by_hand():
    w = grid("[floor A]\n....\n.#..\n....\n[floor B]\n...S\n")
    d = field_from(w, (0, 0, 0))
    assert d[w.cell(0, 0, 3)] == 3.0 and d[w.cell(0, 1, 0)] == 1.0
    assert d[w.cell(0, 2, 0)] == 2.0  # straight down past the wall
    assert d[w.cell(0, 1, 2)] == 3.0  # not 1 + sqrt 2: the diagonal would cut the corner of the wall
    assert d[w.cell(0, 2, 3)] == pytest.approx(3 + SQRT2)
    assert d[w.cell(0, 2, 2)] == 4.0  # every diagonal towards it would cut a corner of the wall
    assert np.isinf(d[w.cell(1, 0, 3)])  # 'S' on B has no partner on A
    w = grid("[floor A]\n..S\n[floor B]\n..S\n")
    d = field_from(w, (0, 0, 0))
    assert d[w.cell(1, 0, 2)] == 2.0 + STAIR_COST and d[w.cell(1, 0, 0)] == 4.0 + STAIR_COST


def test_no_corner_cutting_and_no_diagonal_through_doors():
    w = grid("[floor A]\n.#\n..\n")
    assert field_from(w, (0, 0, 0))[w.cell(0, 1, 1)] == 2.0
    w = grid("[floor A]\n#/#\n...\n")
    d = field_from(w, (0, 0, 1))
    assert d[w.cell(0, 1, 0)] == 2.0 and d[w.cell(0, 1, 1)] == 1.0  # out of the door orthogonally only


@pytest.mark.parametrize(("door", "passes"), [("/", True), ("+", False), ("L", False), ("B", False)])
def test_doors_block_by_state(door, passes):
    w = grid(f"[floor A]\n..{door}..\n")
    d = field_from(w, (0, 0, 0))
    assert (d[w.cell(0, 0, 4)] == 4.0) if passes else np.isinf(d[w.cell(0, 0, 4)])
    opened = field_from(w, (0, 0, 0), door_state=np.array([DoorState.BROKEN], np.uint8))
    assert opened[w.cell(0, 0, 4)] == 4.0


def test_blocked_source_leads_to_the_door_from_both_sides():
    w = grid("[floor A]\n..+..\n")
    d = field_from(w, (0, 0, 2))
    assert d.tolist() == [2.0, 1.0, 0.0, 1.0, 2.0]
    occ = np.zeros(w.n_cells, np.int32)
    args = (d, w.nbr_start, w.nbr_idx, w.blocked_mask(), occ, 1)
    assert step_toward(w.cell(0, 0, 1), *args) == w.cell(0, 0, 1)  # never steps into the shut door


def test_unreachable_cells_are_inf():
    w = grid("[floor A]\n..#..\n..#..\n")
    d = field_from(w, (0, 0, 0))
    assert (
        np.isinf(d[w.cell(0, 1, 4)])
        and np.isinf(d[w.cell(0, 0, 2)])
        and d[w.cell(0, 1, 1)] == pytest.approx(SQRT2)
    )


def test_step_toward_and_away():
    w = grid("[floor A]\n......\n......\n......\n")
    d = field_from(w, (0, 1, 0))
    blocked, occ = w.blocked_mask(), np.zeros(w.n_cells, np.int32)
    cell = w.cell(0, 1, 5)
    path = [cell]
    while d[cell] > 0:
        nxt = step_toward(cell, d, w.nbr_start, w.nbr_idx, blocked, occ, 1)
        assert d[nxt] < d[cell]
        path.append(cell := nxt)
    assert len(path) == 6
    start = w.cell(0, 1, 3)
    best = step_toward(start, d, w.nbr_start, w.nbr_idx, blocked, occ, 1)
    assert best == w.cell(0, 1, 2)
    occ[best] = 1  # full: take the next best (a diagonal), or stay when everything is full
    second = step_toward(start, d, w.nbr_start, w.nbr_idx, blocked, occ, 1)
    assert second in (w.cell(0, 0, 2), w.cell(0, 2, 2)) and d[second] < d[start]
    assert step_toward(start, d, w.nbr_start, w.nbr_idx, blocked, occ, 2) == best
    per_cell = np.ones(w.n_cells, np.int32)
    per_cell[best] = 2  # a capacity per cell works too
    assert step_toward(start, d, w.nbr_start, w.nbr_idx, blocked, occ, per_cell) == best
    occ[:] = 1
    assert step_toward(start, d, w.nbr_start, w.nbr_idx, blocked, occ, 1) == start
    occ[:] = 0
    away = step_away(start, d, w.nbr_start, w.nbr_idx, blocked, occ, 1)
    assert d[away] > d[start] and d[away] == d.reshape(3, 6)[:, 4].max()
    corner = w.cell(0, 0, 5)
    assert step_away(w.cell(0, 1, 5), d, w.nbr_start, w.nbr_idx, blocked, occ, 1) in (corner, w.cell(0, 2, 5))
    assert step_away(corner, d, w.nbr_start, w.nbr_idx, blocked, occ, 1) == corner


TILE_CHOICES = [Tile.FLOOR] * 5 + [
    Tile.WALL,
    Tile.DOOR,
    Tile.DOOR,
    Tile.STAIRS,
    Tile.STAIRS,
    Tile.VOID,
    Tile.WINDOW,
    Tile.EXIT,
    Tile.OUTDOOR,
]


@st.composite
def random_worlds(draw):
    f, h, w = draw(st.integers(1, 2)), draw(st.integers(1, 6)), draw(st.integers(1, 7))
    codes = draw(st.lists(st.sampled_from(TILE_CHOICES), min_size=f * h * w, max_size=f * h * w))
    tiles = np.array(codes, dtype=np.uint8).reshape(f, h, w)
    doors = np.flatnonzero(tiles.reshape(-1) == Tile.DOOR)
    states = draw(st.lists(st.sampled_from(list(DoorState)), min_size=doors.size, max_size=doors.size))
    world = World(
        "random",
        [f"F{i}" for i in range(f)],
        tiles,
        np.full(tiles.shape, -1, np.int16),
        [],
        doors,
        np.array(states, np.uint8),
        np.zeros(doors.size, np.float32),
        default_stair_links(tiles),
        {},
    )
    sources = draw(st.lists(st.integers(0, world.n_cells - 1), min_size=1, max_size=3))
    return world, np.array(sources, dtype=np.int64)


@settings(max_examples=150, deadline=None)
@given(random_worlds())
def test_distance_field_is_bellman_consistent_and_matches_scipy(case):
    w, sources = case
    blocked = w.blocked_mask()
    d = distance_field(w.nbr_start, w.nbr_idx, w.nbr_cost, blocked, sources)
    assert d.dtype == np.float32 and (d[sources] == 0).all()
    src_of_edge = np.repeat(np.arange(w.n_cells), np.diff(w.nbr_start))
    for c in range(w.n_cells):
        if not np.isfinite(d[c]):
            continue
        span = slice(w.nbr_start[c], w.nbr_start[c + 1])
        nbr, cost = w.nbr_idx[span], w.nbr_cost[span]
        ok = ~blocked[nbr].astype(bool) | np.isin(nbr, sources)
        via = d[nbr[ok]] + cost[ok]
        if not blocked[c]:
            assert (d[c] <= via).all()
        assert c in sources or (via == d[c]).any()
    keep = ~blocked[w.nbr_idx].astype(bool)
    graph = csr_matrix(
        (w.nbr_cost[keep].astype(float), (src_of_edge[keep], w.nbr_idx[keep])), shape=(w.n_cells,) * 2
    )
    ref = dijkstra(graph, directed=True, indices=sources, min_only=True)
    np.testing.assert_allclose(d, ref, rtol=1e-5)


@settings(max_examples=100, deadline=None)
@given(random_worlds())
def test_to_ascii_round_trips_random_worlds(case):
    w, _ = case
    if not w.tiles.any(axis=(1, 2)).all():
        with pytest.raises(HyosanError, match="all void"):
            w.to_ascii()
    elif (w.door_state == DoorState.BROKEN).any():
        with pytest.raises(HyosanError, match="broken doors"):
            w.to_ascii()
    else:
        assert load_ascii_text(w.to_ascii()).same_as(w)


def test_to_ascii_refuses_what_it_cannot_write():
    def rooms_world(n, tile=Tile.FLOOR):
        tiles = np.full((1, 1, n), tile, dtype=np.uint8)
        room_id = np.arange(n, dtype=np.int16).reshape(tiles.shape)
        rooms = [Room(i, f"room {i}", 0, "room", [i]) for i in range(n)]
        return World("x", ["A"], tiles, room_id, rooms, [], [], [], np.zeros((0, 2)), {})

    assert load_ascii_text(rooms_world(26).to_ascii()).same_as(rooms_world(26))
    with pytest.raises(HyosanError, match="at most 26 rooms"):
        rooms_world(27).to_ascii()
    with pytest.raises(HyosanError, match="ASCII rooms are FLOOR tiles"):
        rooms_world(2, Tile.EXIT).to_ascii()
    void = World(
        "x", ["A"], np.zeros((1, 1, 1)), np.full((1, 1, 1), -1), [], [], [], [], np.zeros((0, 2)), {}
    )
    with pytest.raises(HyosanError, match="all void"):
        void.to_ascii()


# --- sound and sight ------------------------------------------------------------------------


def hear(world: World, source, level, door_state=None, threshold=HEARING_THRESHOLD):
    cells, levels = np.array([world.cell(*source)], np.int64), np.array([level], np.float64)
    state = world.door_state if door_state is None else door_state
    return sound_field(
        world.snd_start,
        world.snd_idx,
        world.tiles_flat,
        world.door_of_cell,
        state,
        cells,
        levels,
        WALL_LOSS,
        DOOR_LOSS,
        PER_METRE,
        threshold,
    )


def test_sound_fades_and_walls_and_doors_attenuate():
    w = grid("[floor A]\n.........\n[floor B]\n....#....\n[floor C]\n....+....\n")
    for f, loss in ((0, 0.0), (1, WALL_LOSS), (2, DOOR_LOSS)):
        s = hear(w, (f, 0, 0), 80.0)
        assert s[w.cell(f, 0, 0)] == 80.0 and s[w.cell(f, 0, 3)] == 80.0 - 3 * PER_METRE
        assert s[w.cell(f, 0, 8)] == pytest.approx(80.0 - 8 * PER_METRE - loss)
        assert s.reshape(3, -1)[[g for g in range(3) if g != f]].max() == 0.0  # no stairs: floors apart
    opened = hear(w, (2, 0, 0), 80.0, door_state=np.array([DoorState.OPEN], np.uint8))
    assert opened[w.cell(2, 0, 8)] == 72.0


def test_sound_threshold_and_loudest_source():
    w = grid("[floor A]\n" + "." * 40 + "\n")
    s = hear(w, (0, 0, 0), 30.0)
    assert s[10] == 20.0 and (s[11:] == 0).all() and (s[:11] > 0).all()
    assert hear(w, (0, 0, 0), 15.0).max() == 0.0
    cells = np.array([0, 39], np.int64)
    s = sound_field(
        w.snd_start,
        w.snd_idx,
        w.tiles_flat,
        w.door_of_cell,
        w.door_state,
        cells,
        np.array([60.0, 50.0]),
        WALL_LOSS,
        DOOR_LOSS,
        PER_METRE,
        HEARING_THRESHOLD,
    )
    assert s[30] == 41.0 and s[20] == 40.0


def test_line_of_sight():
    w = grid("[floor A]\n.......\n.#.=./.\n.......\n.+.....\n")
    _, h, width = w.shape
    opaque = w.opaque_mask()

    def sees(a, b, mask=opaque):
        return line_of_sight(mask, width, h, 0, *a, *b)

    assert not sees((1, 0), (1, 2)) and sees((0, 0), (0, 6))
    assert sees((1, 2), (1, 4)) and sees((1, 4), (1, 6))  # window, open door
    assert not sees((2, 1), (4, 1)) and sees((1, 1), (1, 0))  # closed door blocks; endpoints never do
    open_all = w.opaque_mask(np.full(2, DoorState.OPEN, np.uint8))
    assert sees((2, 1), (4, 1), open_all)
    corner = grid("[floor A]\n.#\n#.\n")
    assert not line_of_sight(corner.opaque_mask(), 2, 2, 0, 0, 0, 1, 1)


@settings(max_examples=100, deadline=None)
@given(random_worlds(), st.data())
def test_line_of_sight_is_symmetric(case, data):
    w, _ = case
    nf, h, width = w.shape
    f = data.draw(st.integers(0, nf - 1))
    y0, y1 = data.draw(st.integers(0, h - 1)), data.draw(st.integers(0, h - 1))
    x0, x1 = data.draw(st.integers(0, width - 1)), data.draw(st.integers(0, width - 1))
    opaque = w.opaque_mask()
    assert line_of_sight(opaque, width, h, f, y0, x0, y1, x1) == line_of_sight(
        opaque, width, h, f, y1, x1, y0, x0
    )


# --- bad maps -------------------------------------------------------------------------------

BAD_ASCII = [
    ("[floor 1F]\n#..?#\n", "floor 1F, line 2, column 4", "unknown map character '?'"),
    ("[floor 1F]\n#..\t#\n", "floor 1F, line 2, column 4", "tabs"),
    ("[floor 1F]\n#.x.#\n", "floor 1F, line 2, column 3", "room letter 'x' is not declared"),
    ("name: empty\n", "floors", "no floors"),
    ("[floor 1F]\n\n  \n[floor 2F]\n...\n", "floor 1F, line 1", "empty floor"),
    ("size: 3 x 1\n[floor 1F]\n....\n", "floor 1F, line 3", "ragged floor"),
    ("size: 3 x 1\n[floor 1F]\n...\n...\n", "floor 1F, line 4", "ragged floor"),
    ("size: three\n[floor 1F]\n...\n", "line 1", "W x H"),
    ("title: x\n[floor 1F]\n...\n", "line 1", "expected 'name: ...'"),
    ("[floor 1F]\n...\n[attic]\n", "line 3", "unknown section"),
    ("[floor 1F]\n...\n[floor 1F]\n...\n", "line 3", "appears twice"),
    ("[floor 1F]\n.a.\n[floor 2F]\n.a.\n[rooms]\na: lab\n", "rooms", "spans floors"),
    ("[floor 1F]\n...\n[rooms]\na: lab\n", "rooms", "has no tiles"),
    ("[floor 1F]\n.a.\n[rooms]\na: lab\na: gym\n", "rooms, line 5", "declared twice"),
    ("[floor 1F]\n.a.\n[rooms]\nA = lab\n", "rooms, line 4", "letter: name"),
    ("[floor 1F]\n...\n[spawns]\ngate: 1F 2\n", "spawns, line 4", "name: FLOOR x y"),
    ("[floor 1F]\n...\n[spawns]\ngate: 1F 2 0 5 1\n", "spawns, line 4", "outside the map"),
    ("[floor 1F]\n.#.\n[spawns]\ngate: 1F 1 0\n", "spawns, line 4", "no walkable tile"),
    ("[floor 1F]\n.a.\n[rooms]\na: lab\n[spawns]\nlab: 1F 0 0\n", "spawns, line 6", "name of a room"),
    ("[floor 1F]\nS.\n[floor 2F]\nS.\n[links]\n1F 0 0 - 2F 1 0\n", "links, line 6", "not a STAIRS tile"),
    ("[floor 1F]\nS.\n[floor 2F]\nS.\n[links]\n1F 0 0 2F 0 0\n", "links, line 6", "FLOOR x y - FLOOR"),
    ("[floor 1F]\n+.\n[doors]\n1F 0 0: strong\n", "doors, line 4", "number >= 0"),
    ("[floor 1F]\n+.\n[doors]\n1F 1 0: 10\n", "doors, line 4", "not a DOOR tile"),
]


@pytest.mark.parametrize(("text", "field", "message"), BAD_ASCII)
def test_bad_ascii_maps_name_file_and_field(tmp_path, text, field, message):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(HyosanError) as err:
        load_map(path)
    assert err.value.source == str(path) and err.value.field == field
    assert str(err.value).startswith(f"{path}: {field}: ") and message in str(err.value)


def _set(path: str, value):
    """A mutation of the Tiled JSON: set the value at a dotted path like 'layers[0].name'."""

    def apply(data):
        keys = path.replace("[", ".").replace("]", "").split(".")
        target = data
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        last = int(keys[-1]) if keys[-1].isdigit() else keys[-1]
        target[last] = value(target[last]) if callable(value) else value
        return data

    return apply


_FLOOR1 = "layers[0].layers"
_OBJ = "layers[0].layers[1].objects"

BAD_TILED = [
    (
        _set("tilesets[0].tiles[2].type", "portcullis"),
        "tilesets[0].tiles[2].type",
        "gid 3 has unknown tile class",
    ),
    (
        _set("tilesets[0].tiles[1].type", ""),
        "layers[0].layers[0].data",
        "gid 2 (tile 1 of tileset 'school') has no",
    ),
    (_set("tilesets[0].tilecount", 5), "layers[0].layers[0].data", "past the end of tileset"),
    (_set(f"{_FLOOR1}[0].data", lambda d: d[:-1]), "layers[0].layers[0].data", "not width x height = 84"),
    (_set(f"{_FLOOR1}[0].data", lambda d: [*d[:-1], "10"]), "layers[0].layers[0].data", "must be gids"),
    (
        _set(f"{_FLOOR1}[0]", lambda layer: {**layer, "encoding": "base64", "data": "!!"}),
        "layers[0].layers[0].data",
        "cannot decode",
    ),
    (
        _set(
            f"{_FLOOR1}[0]", lambda layer: {**layer, "encoding": "base64", "data": "", "compression": "zstd"}
        ),
        "layers[0].layers[0].compression",
        "unsupported compression",
    ),
    (_set("infinite", True), "infinite", "infinite maps"),
    (_set("orientation", "isometric"), "orientation", "only orthogonal"),
    (_set("layers", lambda ls: [ls[0]["layers"][0], *ls]), "layers[0].type", "top-level group layer"),
    (_set("layers", []), "layers", "no floors"),
    (_set("layers[1].name", "1F"), "layers[1].name", "distinct"),
    (_set(_FLOOR1, lambda ls: [ls[0], *ls]), "layers[0].layers[1]", "exactly one tile layer"),
    (_set(_FLOOR1, lambda ls: ls[1:]), "layers[0].layers", "needs one tile layer"),
    (_set(f"{_FLOOR1}[0].width", 13), "layers[0].layers[0].width", "layer size"),
    (_set("tilesets[0]", {"firstgid": 1, "source": "school.tsx"}), "tilesets[0].source", ".tsx"),
    (_set(_OBJ, lambda objs: [*objs, {**objs[0], "id": 77, "name": "store"}]), f"{_OBJ}[5]", "overlaps room"),
    (_set(f"{_OBJ}[3].properties", []), f"{_OBJ}[3].properties", "custom property 'link'"),
    (_set("layers[1].layers[1].objects[2].width", 64), "layers[1].layers[1].objects[2]", "same shape"),
    (
        _set("layers[1].layers[1].objects[3].properties[0].value", -1),
        "layers[1].layers[1].objects[3].properties",
        "'strength' >= 0",
    ),
    (_set(f"{_OBJ}[0].ellipse", True), f"{_OBJ}[0]", "only rectangle and point"),
    (_set(f"{_OBJ}[0].name", ""), f"{_OBJ}[0].name", "needs a name"),
    (_set(f"{_OBJ}[1].name", "science lab"), "layers", "has the name of a room"),
    (_set(f"{_OBJ}[2].x", 5000), f"{_OBJ}[2]", "covers no tile"),
    (_set(f"{_OBJ}[3].y", 0), f"{_OBJ}[3]", "covers no STAIRS tile"),
    (_set(f"{_OBJ}[0].x", "left"), f"{_OBJ}[0].x", "wrong type"),
    (_set(f"{_FLOOR1}[0].data", lambda d: [0] * len(d)), "layers[0].layers[0].data", "empty floor"),
]


@pytest.mark.parametrize(("mutate", "field", "message"), BAD_TILED)
def test_bad_tiled_maps_name_file_and_field(tmp_path, mutate, field, message):
    path = write_map(tmp_path, mutate(tiled_json()))
    with pytest.raises(HyosanError) as err:
        load_map(path)
    assert err.value.source == str(path) and err.value.field == field
    assert str(err.value).startswith(f"{path}: {field}: ") and message in str(err.value)


def test_bad_external_tileset_and_bad_json(tmp_path):
    data = json.loads((DATA / "small_school_b64.tmj").read_text())
    tileset = json.loads((DATA / "school_tiles.tsj").read_text())
    tileset["tiles"][7]["class"] = "escalator"
    (tmp_path / "school_tiles.tsj").write_text(json.dumps(tileset))
    with pytest.raises(HyosanError) as err:
        load_map(write_map(tmp_path, data))
    assert err.value.source == str(tmp_path / "school_tiles.tsj") and err.value.field == "tiles[7].class"
    (tmp_path / "school_tiles.tsj").unlink()
    with pytest.raises(HyosanError, match=r"school_tiles\.tsj: cannot read"):
        load_map(tmp_path / "map.tmj")
    (tmp_path / "broken.tmj").write_text('{"width": 3,\n "height": }')
    with pytest.raises(HyosanError, match=r"broken\.tmj: line 2, column 12: not valid JSON"):
        load_map(tmp_path / "broken.tmj")


def test_default_door_strengths_are_ordered():
    closed, locked, barricaded = (DEFAULT_DOOR_STRENGTH[s] for s in (1, 2, 3))
    assert 0 < closed < locked < barricaded
