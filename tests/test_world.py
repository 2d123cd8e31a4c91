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

from hyosan.assemble import world_arrays
from hyosan.errors import HyosanError
from hyosan.rules.noise import DOOR_LOSS, PER_METRE, WALL_LOSS, stamp_noise
from hyosan.rules.senses import sees
from hyosan.rules.state import Params, noise_map
from hyosan.world import (
    STAIR_COST,
    DoorState,
    Room,
    Tile,
    World,
    distance_field,
    format_ascii,
    load_ascii_text,
    load_map,
)
from hyosan.world.tiles import CLOSING_LUT, OPAQUE_TILE_LUT, WALKABLE_LUT
from hyosan.world.world import default_stair_links

DATA = Path(__file__).parent / "data"
SQRT2 = math.sqrt(2.0)


def grid(text: str) -> World:
    """A small hand-checked world from ASCII text."""
    return load_ascii_text(text, source="<test>")


def blocked_mask(world: World, door_state=None) -> np.ndarray:
    """1 where walking is impossible: not walkable, or a shut (closed, locked, barricaded) door."""
    state = world.door_state if door_state is None else door_state
    mask = 1 - WALKABLE_LUT[world.tiles_flat]
    mask[world.door_cells] = CLOSING_LUT[state]
    return mask.astype(np.uint8)


def field_from(world: World, *cells, door_state=None) -> np.ndarray:
    sources = np.array([world.cell(*c) for c in cells], dtype=np.int64)
    blocked = blocked_mask(world, door_state)
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
        text = format_ascii(world)
        again = load_ascii_text(text)
        assert again.same_as(world) and again.name == world.name and format_ascii(again) == text


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


def test_unreachable_cells_are_inf():
    w = grid("[floor A]\n..#..\n..#..\n")
    d = field_from(w, (0, 0, 0))
    assert (
        np.isinf(d[w.cell(0, 1, 4)])
        and np.isinf(d[w.cell(0, 0, 2)])
        and d[w.cell(0, 1, 1)] == pytest.approx(SQRT2)
    )


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
    blocked = blocked_mask(w)
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
            format_ascii(w)
    elif (w.door_state == DoorState.BROKEN).any():
        with pytest.raises(HyosanError, match="broken doors"):
            format_ascii(w)
    else:
        assert load_ascii_text(format_ascii(w)).same_as(w)


def test_to_ascii_refuses_what_it_cannot_write():
    def rooms_world(n, tile=Tile.FLOOR):
        tiles = np.full((1, 1, n), tile, dtype=np.uint8)
        room_id = np.arange(n, dtype=np.int16).reshape(tiles.shape)
        rooms = [Room(i, f"room {i}", 0, "room", [i]) for i in range(n)]
        return World("x", ["A"], tiles, room_id, rooms, [], [], [], np.zeros((0, 2)), {})

    assert load_ascii_text(format_ascii(rooms_world(26))).same_as(rooms_world(26))
    with pytest.raises(HyosanError, match="at most 26 rooms"):
        format_ascii(rooms_world(27))
    with pytest.raises(HyosanError, match="ASCII rooms are FLOOR tiles"):
        format_ascii(rooms_world(2, Tile.EXIT))
    void = World(
        "x", ["A"], np.zeros((1, 1, 1)), np.full((1, 1, 1), -1), [], [], [], [], np.zeros((0, 2)), {}
    )
    with pytest.raises(HyosanError, match="all void"):
        format_ascii(void)


# --- sound and sight: the engine's own kernels (rules/noise.py, rules/senses.py) ------------


def params(world: World, floor: float = 20.0) -> Params:
    """Kernel parameters for the sound tests: the documented losses, a 20 dB noise floor."""
    _, h, width = world.shape
    values = dict.fromkeys(Params._fields, 0.0)
    values.update(
        per_metre=PER_METRE,
        wall_loss=WALL_LOSS,
        door_loss=DOOR_LOSS,
        noise_floor=floor,
        W=width,
        H=h,
        humans_wander=False,
        zombies_wander=False,
        cordon=False,
    )
    return Params(**values)


def hear(world: World, source, level, door_state=None, floor=20.0):
    """The noise map after stamping one sound of ``level`` dB at ``source`` (heard at tick 0)."""
    wa = world_arrays(world)
    noise = noise_map(world.n_cells, world.snd_idx.size)
    state = (world.door_state if door_state is None else door_state).astype(np.uint8)
    stamp_noise(world.cell(*source), level, 0, 10, noise, wa, state, params(world, floor))
    return np.where(noise.until >= 0, noise.level, 0.0)


def test_sound_fades_and_walls_and_doors_attenuate():
    w = grid("[floor A]\n.........\n[floor B]\n....#....\n[floor C]\n....+....\n")
    for f, loss in ((0, 0.0), (1, WALL_LOSS), (2, DOOR_LOSS)):
        s = hear(w, (f, 0, 0), 80.0)
        assert s[w.cell(f, 0, 0)] == 80.0 and s[w.cell(f, 0, 3)] == 80.0 - 3 * PER_METRE
        assert s[w.cell(f, 0, 8)] == pytest.approx(80.0 - 8 * PER_METRE - loss)
        assert s.reshape(3, -1)[[g for g in range(3) if g != f]].max() == 0.0  # no stairs: floors apart
    opened = hear(w, (2, 0, 0), 80.0, door_state=np.array([DoorState.OPEN], np.uint8))
    assert opened[w.cell(2, 0, 8)] == 72.0
    locked = hear(w, (2, 0, 0), 80.0, door_state=np.array([DoorState.LOCKED], np.uint8))
    assert locked[w.cell(2, 0, 8)] == pytest.approx(80.0 - 8 * PER_METRE - DOOR_LOSS)


def test_sound_stops_at_the_noise_floor_and_keeps_the_louder():
    w = grid("[floor A]\n" + "." * 40 + "\n")
    s = hear(w, (0, 0, 0), 30.0)
    assert s[10] == 20.0 and (s[11:] == 0).all() and (s[:11] > 0).all()
    assert hear(w, (0, 0, 0), 15.0).max() == 0.0
    wa, prm = world_arrays(w), params(w)
    noise = noise_map(w.n_cells, w.snd_idx.size)
    stamp_noise(0, 60.0, 0, 10, noise, wa, w.door_state, prm)
    stamp_noise(39, 50.0, 0, 10, noise, wa, w.door_state, prm)
    assert noise.level[30] == 41.0 and noise.level[20] == 40.0


def opaque_mask(world: World, door_state) -> np.ndarray:
    mask = OPAQUE_TILE_LUT[world.tiles_flat].copy()
    mask[world.door_cells] = CLOSING_LUT[door_state]
    return mask


def reference_sight(opaque, width, f, h, y0, x0, y1, x1) -> bool:
    """Sight by the textbook rule, in plain Python: no opaque cell strictly between on the
    Bresenham line traced from the smaller (y, x) end, and no squeezing between two opaque cells
    that touch at a corner."""
    if (y1, x1) < (y0, x0):
        y0, x0, y1, x1 = y1, x1, y0, x0
    at = lambda y, x: bool(opaque[(f * h + y) * width + x])  # noqa: E731
    dx, dy = abs(x1 - x0), abs(y1 - y0)
    sx, sy = (1 if x1 > x0 else -1), (1 if y1 > y0 else -1)
    err, x, y = dx - dy, x0, y0
    while (x, y) != (x1, y1):
        e2, px, py = 2 * err, x, y
        if e2 > -dy:
            err, x = err - dy, x + sx
        if e2 < dx:
            err, y = err + dx, y + sy
        if x != px and y != py and at(py, x) and at(y, px):
            return False
        if (x, y) != (x1, y1) and at(y, x):
            return False
    return True


def test_sight_through_windows_and_open_doors_not_walls_or_shut_doors():
    w = grid("[floor A]\n.......\n.#.=./.\n.......\n.+.....\n.......\n")
    _, h, width = w.shape
    wa = world_arrays(w)

    def see(a, b, state=w.door_state):
        return sees(w.cell(0, *a), w.cell(0, *b), wa, state, width, h)

    assert not see((1, 0), (1, 2)) and see((0, 0), (0, 6))
    assert see((1, 2), (1, 4)) and see((1, 4), (1, 6))  # window, open door
    assert not see((2, 1), (4, 1)) and see((1, 1), (1, 0))  # closed door blocks; endpoints never do
    assert see((2, 1), (4, 1), np.full(2, DoorState.OPEN, np.uint8))
    corner = grid("[floor A]\n.#\n#.\n")
    assert not sees(0, 3, world_arrays(corner), corner.door_state, 2, 2)


@settings(max_examples=150, deadline=None)
@given(random_worlds(), st.data())
def test_sight_is_symmetric_and_matches_a_reference(case, data):
    w, _ = case
    nf, h, width = w.shape
    wa = world_arrays(w)
    f = data.draw(st.integers(0, nf - 1))
    y0, y1 = data.draw(st.integers(0, h - 1)), data.draw(st.integers(0, h - 1))
    x0, x1 = data.draw(st.integers(0, width - 1)), data.draw(st.integers(0, width - 1))
    a, b = w.cell(f, y0, x0), w.cell(f, y1, x1)
    ab = sees(a, b, wa, w.door_state, width, h)
    assert ab == sees(b, a, wa, w.door_state, width, h)
    assert ab == reference_sight(opaque_mask(w, w.door_state), width, f, h, y0, x0, y1, x1)
