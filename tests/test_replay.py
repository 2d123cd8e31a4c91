"""The report's animated replay: payload encoding (pure Python) and the player in a real browser."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

import results_school as rs
from hyosan.palette import STATE_COLOURS, TILE_COLOURS, palette
from hyosan.report.replay import (
    decode_cells,
    decode_states,
    embed_json,
    replay_css,
    replay_html,
    replay_js,
    replay_page,
    replay_payload,
    unpack,
)
from hyosan.states import STATE_NAMES, State
from hyosan.world.tiles import DoorState, Tile

L, H, W = 2, 8, 12
F = 30
CLOCK_START = 8 * 3600 + 40 * 60  # 08:40:00
XSS_NAME = "<img src=x onerror=window.pwned=1>"
XSS_ROLE = "</script><script>window.pwned=2</script>"


def cell(floor: int, x: int, y: int) -> int:
    return floor * H * W + y * W + x


def synthetic() -> dict:
    """Two floors, six agents (one off the map throughout, one escaping), three markers.

    Floor 1 is empty from frame 25 on.
    """
    tiles = np.full((L, H, W), Tile.FLOOR, dtype=np.uint8)
    tiles[:, 0, :] = tiles[:, -1, :] = tiles[:, :, 0] = tiles[:, :, -1] = Tile.WALL
    tiles[:, 4, 6] = Tile.DOOR
    tiles[:, 1, 10] = Tile.STAIRS
    tiles[0, 7, 3] = Tile.EXIT
    tiles[1, 3, 3] = Tile.WINDOW
    cells = np.zeros((F, 6), dtype=np.int32)
    states = np.full((F, 6), State.HUMAN, dtype=np.int8)
    for f in range(F):
        cells[f, 0] = cell(0, 1 + f % 10, 2)  # walks along row 2
        cells[f, 1] = cell(0, 5, 5)  # stands still, turns at frame 10
        cells[f, 2] = cell(1, 2 + f % 8, 6) if f < 25 else cell(0, 9, 6)  # on floor 1 until frame 25
        cells[f, 3] = cell(0, 3, 6 if f < 15 else 7)  # escapes at frame 15, stays on the exit tile
        cells[f, 4] = cell(1, 10, 1) if f < 20 else cell(0, 10, 2)  # takes the stairs down
        cells[f, 5] = -1  # rescued before the first frame
    states[10:, 1] = State.ZOMBIE
    states[12:, 0] = State.BITTEN
    states[15:, 3] = State.ESCAPED
    states[:, 5] = State.RESCUED
    times = np.arange(F) * 10.0
    markers = [
        {"time_s": 250.5, "label": "Rescue helicopter", "kind": "rescue", "floor": 1},
        {"time_s": 100.0, "label": f"{XSS_NAME} turns", "kind": "bite", "floor": 0, "agent": 1},
        {"time_s": 150.0, "label": "Alarm", "kind": "alarm"},
    ]
    room_ids = np.full((L, H, W), -1, dtype=np.int16)
    room_ids[0, 1:4, 1:6] = 0  # the science lab, top left of 1F
    room_ids[0, 4:7, 1:11] = 1  # the hall below it
    room_ids[1, 1:7, 1:11] = 2  # the roof
    bitten_s = np.full(6, np.nan)
    bitten_s[0], bitten_s[1] = 120.0, 40.0
    door_cells = [cell(0, 6, 4), cell(1, 6, 4)]
    doors = np.zeros((2, F), dtype=np.uint8)  # floor 1's door stays open
    doors[0, :10] = DoorState.CLOSED
    doors[0, 20:25] = DoorState.BARRICADED
    doors[0, 25:] = DoorState.BROKEN
    return dict(
        tiles=tiles,
        floor_names=["1F", "2F <b>roof</b>"],
        frame_times_s=times,
        frame_cells=cells,
        frame_states=states,
        names=["Lee Cheong-san", XSS_NAME, "Choi Nam-ra", "Yoon Gwi-nam", "Nam On-jo", "Lee Su-hyeok"],
        roles=["student", "student", "student", XSS_ROLE, "teacher", "student"],
        fates=["bitten at 08:42:00", "zombie at 08:41:40", "survived", "escaped at 08:42:30", "survived", ""],
        markers=markers,
        state_names=list(STATE_NAMES),
        clock_start_s=CLOCK_START,
        characters=[0, 4],
        rooms=[
            {"name": "science lab", "floor": 0, "x": 3, "y": 3},
            {"name": "rooftop <i>", "floor": 1, "x": 8, "y": 3},
        ],
        door_cells=door_cells,
        door_states=doors,
        door_state_names=[s.name.lower() for s in DoorState],
        helicopters=[{"floor": 1, "x": 5.0, "y": 3.0, "from_s": 250.5, "to_s": 280.0, "label": "helicopter"}],
        room_ids=room_ids,
        room_names=["science lab", "hall 1F", "rooftop <i>"],
        bitten_by=[XSS_NAME, "the lab rat", "", "", "", ""],
        bitten_s=bitten_s,
    )


def shown_cells(args: dict) -> np.ndarray:
    """The cells the replay shows: the escaped and rescued are off the map."""
    gone = np.isin(args["frame_states"], [State.ESCAPED, State.RESCUED])
    return np.where(gone, -1, args["frame_cells"])


def on_floor(cells: np.ndarray, frame: int, floor: int) -> int:
    c = cells[frame]
    return int(np.count_nonzero((c >= 0) & (c // (H * W) == floor)))


# ---- pure Python ------------------------------------------------------------------------------


def test_embed_json_escapes_script_breakers():
    obj = {"a": "</script><!-- & -->", "b": np.arange(3), "c": np.float32(1.5), "d": [float("nan"), np.inf]}
    text = embed_json(obj)
    assert not set(text) & set("<>&")
    assert "\\u003c/script\\u003e" in text
    assert json.loads(text) == {"a": "</script><!-- & -->", "b": [0, 1, 2], "c": 1.5, "d": [None, None]}
    assert json.loads(embed_json("\u2028 \u2029")) == "\u2028 \u2029"


def test_payload_round_trip_and_markers():
    args = synthetic()
    payload = replay_payload(**args)
    assert payload["format"] == "hyosan-replay/3"
    assert (payload["floors"], payload["height"], payload["width"]) == (L, H, W)
    assert (payload["agents"], payload["frames"]) == (6, F)
    np.testing.assert_array_equal(decode_cells(payload), shown_cells(args))
    assert decode_cells(payload)[15:, 3].tolist() == [-1] * (F - 15)
    np.testing.assert_array_equal(decode_states(payload), args["frame_states"])
    # sorted by time; each jumps to the first frame at or after its time
    assert [(m["time_s"], m["frame"], m["floor"], m["agent"]) for m in payload["markers"]] == [
        (100.0, 10, 0, 1),
        (150.0, 15, -1, -1),
        (250.5, 26, 1, -1),
    ]
    assert payload["characters"] == [0, 4] and payload["rooms"][1]["name"] == "rooftop <i>"
    doors = unpack(payload["doors"], np.uint8, (2, F))
    np.testing.assert_array_equal(doors, args["door_states"])
    assert [(h["from_frame"], h["to_frame"]) for h in payload["helicopters"]] == [(26, 28)]
    np.testing.assert_array_equal(unpack(payload["room_ids"], "<i2", (L, H, W)), args["room_ids"])
    assert payload["bitten_s"] == [120.0, 40.0, None, None, None, None]
    assert payload["bitten_by"][:2] == [XSS_NAME, "the lab rat"]
    assert payload["palette"] == palette()  # the one palette, sent with the data (the studio mounts it)
    assert json.loads(embed_json(payload)) == payload


def test_payload_rejects_inconsistent_arrays():
    args = synthetic()
    with pytest.raises(ValueError, match="frame_cells"):
        replay_payload(**{**args, "frame_states": args["frame_states"][:, :3]})
    with pytest.raises(ValueError, match="names"):
        replay_payload(**{**args, "names": ["only one"]})
    with pytest.raises(ValueError, match="cells must lie"):
        replay_payload(**{**args, "frame_cells": args["frame_cells"] + L * H * W})
    with pytest.raises(ValueError, match="floor names"):
        replay_payload(**{**args, "floor_names": ["1F"]})
    with pytest.raises(ValueError, match="room ids"):
        replay_payload(**{**args, "room_names": ["science lab"]})
    with pytest.raises(ValueError, match="bitten_s"):
        replay_payload(**{**args, "bitten_s": [1.0]})


def test_payload_size_at_hyosan_high_scale():
    """5 floors of 120x60, 1,017 agents, 2,161 frames 10 s apart: well under 10 MB (the time it
    takes is benchmarks/report_build.py's, not a test's)."""
    rng = np.random.default_rng(7)
    n_floors, h, w, n, frames = 5, 60, 120, 1017, 2161
    floor = rng.integers(0, n_floors, n)
    moving = rng.random((frames, n)) < 0.5
    steps = np.where(moving[..., None], rng.integers(-3, 4, (frames, n, 2)), 0)
    x = np.clip(rng.integers(0, w, n) + np.cumsum(steps[..., 0], axis=0), 0, w - 1)
    y = np.clip(rng.integers(0, h, n) + np.cumsum(steps[..., 1], axis=0), 0, h - 1)
    cells = (floor * h * w + y * w + x).astype(np.int32)
    states = np.zeros((frames, n), dtype=np.int8)
    turn = rng.integers(0, frames, n)
    states[np.arange(frames)[:, None] >= turn] = State.ZOMBIE
    leave = rng.integers(0, 3 * frames, n)  # a third of them escape at some point
    gone = np.arange(frames)[:, None] >= leave
    cells[gone], states[gone] = -1, State.ESCAPED
    tiles = rng.integers(0, len(Tile), (n_floors, h, w)).astype(np.uint8)
    names = [f"학생 {i}" for i in range(n)]

    payload = replay_payload(
        tiles,
        [f"{k + 1}F" for k in range(n_floors)],
        np.arange(frames) * 10.0,
        cells,
        states,
        names,
        ["student"] * n,
        ["zombie at 09:12:30"] * n,
        [{"time_s": 60.0 * k, "label": f"bite {k}", "kind": "bite"} for k in range(300)],
        list(STATE_NAMES),
        8 * 3600 + 40 * 60,
    )
    text = embed_json(payload)
    size_mb = len(text.encode("utf-8")) / 1e6
    assert size_mb < 5.0, f"replay payload is {size_mb:.1f} MB"
    np.testing.assert_array_equal(decode_cells(payload), cells)


def test_assets_are_packaged_and_page_is_self_contained():
    js, css = replay_js(), replay_css()
    assert "hyosanReplay" in js and "DecompressionStream" in js
    assert "</script" not in js.lower() and ".replay" in css
    assert 'id="replay"' in replay_html()
    page = replay_page(replay_payload(**synthetic()), title="<Replay & co>")
    assert "<title>&lt;Replay &amp; co&gt;</title>" in page
    assert "Content-Security-Policy" in page
    assert XSS_NAME not in page and XSS_ROLE not in page  # only as \u003c-escaped JSON
    assert "http://" not in page and "https://" not in page
    # The colours are the palette's, injected; the script holds no copy of its own.
    assert '<script type="application/json" id="hyosan-palette">' in page
    for colour in set(STATE_COLOURS.values()) | set(TILE_COLOURS.values()) - {"#ffffff"}:
        assert colour.lower() not in js.lower(), colour


# ---- in the browser ---------------------------------------------------------------------------

READY = "() => window.hyosanReplay && window.hyosanReplay.ready"


@pytest.fixture(scope="module")
def replay_file(tmp_path_factory):
    args = synthetic()
    path = tmp_path_factory.mktemp("replay") / "replay.html"
    path.write_text(replay_page(replay_payload(**args), title="Synthetic replay"), encoding="utf-8")
    return path, args


@pytest.fixture
def replay(browser_page, replay_file):
    path, args = replay_file
    browser_page.open(path, wait_for=READY)
    yield browser_page, args
    assert browser_page.errors() == []
    assert browser_page.offsite_requests() == []


def seek(page, frame: int) -> None:
    page.locator("#replay-time").evaluate(
        "(el, v) => { el.value = String(v); el.dispatchEvent(new Event('input', {bubbles: true})); }", frame
    )


def js(page, expr: str):
    return page.evaluate(f"() => window.hyosanReplay.{expr}")


def test_page_loads_offline_and_draws(replay):
    bp, args = replay
    page = bp.page
    assert bp.requests and all(url.startswith("file:") for url in bp.requests)
    # every floor at once: the view is -1 (all floors) and both floors' agents are drawn
    assert js(page, "frame()") == 0 and js(page, "floor()") == -1 and js(page, "playing()") is False
    assert js(page, "shownFloors()") == [0, 1]
    cells = shown_cells(args)
    assert js(page, "dots()") == on_floor(cells, 0, 0) + on_floor(cells, 0, 1) == 5
    assert page.locator("#replay-clock").text_content() == "08:40:00"
    assert page.locator("#replay-floor option").all_text_contents() == ["All floors", "1F", "2F <b>roof</b>"]
    assert page.locator(".replay-marker").count() == 3
    colours = page.evaluate(
        """() => { const c = document.getElementById('replay-canvas');
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   const seen = new Set();
                   for (let k = 0; k < d.length; k += 4) seen.add((d[k] << 16) | (d[k+1] << 8) | d[k+2]);
                   return [c.width, c.height, seen.size]; }"""
    )
    assert colours[2] >= 5  # floor, wall, door, exit, dots
    assert "building: 5 humans" in page.locator("#replay-counts").text_content()
    # the floors' names are written above them, and the two floors side by side do not overlap
    titles = [b for b in js(page, "labelBoxes()") if b["kind"] == "floor"]
    assert [b["text"] for b in titles] == ["1F", "2F <b>roof</b>"]
    a, b = js(page, "tileBox(0, 11, 7)"), js(page, "tileBox(1, 0, 0)")
    assert a["right"] <= b["left"] or a["bottom"] <= b["top"]


def pixel_at(page, agent: int) -> list[int]:
    return page.evaluate(
        """(i) => { const p = window.hyosanReplay.agentPoint(i);
                    const c = document.getElementById('replay-canvas'); const r = c.getBoundingClientRect();
                    const x = Math.floor((p.x - r.left) * c.width / r.width);
                    const y = Math.floor((p.y - r.top) * c.height / r.height);
                    return Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data.slice(0, 3)); }""",
        agent,
    )


def test_dots_follow_frames_floors_and_states(replay):
    bp, args = replay
    page = bp.page
    cells = shown_cells(args)
    for frame in (0, 9, 15, 20, F - 1):
        seek(page, frame)
        for floor in (0, 1):
            page.select_option("#replay-floor", str(floor))
            assert js(page, "floor()") == floor and js(page, "shownFloors()") == [floor]
            assert js(page, "dots()") == on_floor(cells, frame, floor), (frame, floor)
        page.select_option("#replay-floor", "-1")
        assert js(page, "dots()") == on_floor(cells, frame, 0) + on_floor(cells, frame, 1), frame
    assert on_floor(cells, F - 1, 1) == 0 and on_floor(cells, F - 1, 0) == 4
    page.select_option("#replay-floor", "0")
    seek(page, 5)
    assert pixel_at(page, 1) == [0x1F, 0x6F, 0xE0]  # human blue
    seek(page, 12)
    assert pixel_at(page, 1) == [0xD6, 0x28, 0x28]  # zombie red
    assert js(page, "agentPoint(5)") is None  # off the map: never drawn
    assert js(page, "agentPoint(2)") is None  # on the other floor
    counts = js(page, "counts()")
    assert counts["floor"]["zombie"] == 1 and counts["all"]["rescued"] == 1


def test_every_dot_lies_inside_its_cells_tile(replay):
    """At every frame and on both floors, each drawn agent's dot centre falls inside the tile box
    of its recorded cell (the canvas shows the whole W x H floor), and off-floor agents have none."""
    bp, args = replay
    page = bp.page
    cells = shown_cells(args)
    for frame in range(0, F, 3):
        seek(page, frame)
        for view in (-1, 0, 1):
            page.select_option("#replay-floor", str(view))
            points = page.evaluate(
                """(n) => Array.from({length: n}, (_, i) => window.hyosanReplay.agentPoint(i))""",
                cells.shape[1],
            )
            for agent, point in enumerate(points):
                c = int(cells[frame, agent])
                floor = c // (H * W)
                if c < 0 or view not in (-1, floor):
                    assert point is None, (frame, view, agent)
                    continue
                x, y = c % W, c % (H * W) // W
                box = js(page, f"tileBox({floor}, {x}, {y})")
                assert box["left"] < point["x"] < box["right"], (frame, view, agent, point, box)
                assert box["top"] < point["y"] < box["bottom"], (frame, view, agent, point, box)


def test_play_advances_and_pause_stops(replay):
    bp, _ = replay
    page = bp.page
    page.select_option("#replay-speed", "4")
    page.click("#replay-play")
    page.wait_for_function("() => window.hyosanReplay.frame() >= 1")
    assert js(page, "playing()") is True
    assert page.locator("#replay-play").text_content() == "Pause"
    page.click("#replay-play")
    assert js(page, "playing()") is False
    stopped = js(page, "frame()")
    page.wait_for_timeout(400)
    assert js(page, "frame()") == stopped
    # at 64x it runs to the last frame and stops there
    page.select_option("#replay-speed", "64")
    page.click("#replay-play")
    page.wait_for_function(f"() => window.hyosanReplay.frame() === {F - 1} && !window.hyosanReplay.playing()")
    assert page.locator("#replay-play").text_content() == "Play"


def test_scrubber_moves_frame_and_clock(replay):
    bp, _ = replay
    page = bp.page
    seek(page, 17)
    assert js(page, "frame()") == 17
    assert page.locator("#replay-clock").text_content() == "08:42:50"
    page.focus("#replay-time")
    page.keyboard.press("ArrowLeft")
    assert js(page, "frame()") == 16
    assert page.locator("#replay-clock").text_content() == "08:42:40"


def test_marker_jumps_to_its_floor_and_moment(replay):
    bp, _ = replay
    page = bp.page
    page.locator(".replay-marker").nth(2).click()
    assert js(page, "frame()") == 26 and js(page, "floor()") == 1
    assert page.locator("#replay-floor").input_value() == "1"
    assert page.locator("#replay-clock").text_content() == "08:44:20"
    assert page.locator("#replay-event").text_content() == "08:44:10 Rescue helicopter"
    assert js(page, "helicopters()") == ["helicopter"]  # drawn on the roof at the rescue
    page.locator(".replay-marker").nth(0).click()
    assert js(page, "frame()") == 10 and js(page, "floor()") == 0
    assert js(page, "selected()") == 1  # the marker's agent
    assert page.locator("#replay-event").text_content() == f"08:41:40 {XSS_NAME} turns"
    assert js(page, "helicopters()") == []


def test_event_line_follows_the_playhead(replay):
    bp, _ = replay
    page = bp.page
    line = page.locator("#replay-event")
    assert line.text_content() == ""
    seek(page, 12)
    assert line.text_content() == f"08:41:40 {XSS_NAME} turns"
    seek(page, 16)
    assert line.text_content() == "08:42:30 Alarm"
    seek(page, 3)
    assert line.text_content() == ""
    page.select_option("#replay-speed", "64")
    page.click("#replay-play")
    page.wait_for_function(f"() => window.hyosanReplay.frame() === {F - 1}")
    assert line.text_content() == "08:44:10 Rescue helicopter"


def canvas_hash(page) -> int:
    return page.evaluate(
        """() => { const c = document.getElementById('replay-canvas');
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   let h = 0;
                   for (let k = 0; k < d.length; k += 4) h = (h * 31 + d[k] + 7 * d[k+1] + 13 * d[k+2]) | 0;
                   return h; }"""
    )


def test_room_labels_toggle(replay):
    bp, _ = replay
    page = bp.page
    assert js(page, "labels()") == ["science lab", "rooftop <i>"]  # every floor shown, every room named
    with_labels = canvas_hash(page)
    page.click("#replay-labels")
    assert js(page, "labels()") == [] and canvas_hash(page) != with_labels
    page.click("#replay-labels")
    page.select_option("#replay-floor", "0")
    assert js(page, "labels()") == ["science lab"]
    page.select_option("#replay-floor", "1")
    assert js(page, "labels()") == ["rooftop <i>"]  # drawn on the canvas as text, never markup
    assert page.locator("i").count() == 0


def pixel_at_offset(page, agent: int, dx_tiles: float) -> list[int]:
    return page.evaluate(
        """([i, dx]) => { const p = window.hyosanReplay.agentPoint(i);
                    const t = window.hyosanReplay.tileBox(0, 0, 0);
                    const c = document.getElementById('replay-canvas'); const r = c.getBoundingClientRect();
                    const s = c.width / r.width; const tile = (t.right - t.left) * s;
                    const x = Math.floor((p.x - r.left) * s + dx * tile);
                    const y = Math.floor((p.y - r.top) * s);
                    return Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data.slice(0, 3)); }""",
        [agent, dx_tiles],
    )


def test_characters_drawn_apart_and_followed_across_floors(replay):
    bp, _ = replay
    page = bp.page
    page.click("#replay-labels")  # labels off: only dots near the agents
    assert page.locator("#replay-follow option").all_text_contents() == [
        "nobody",
        "Lee Cheong-san",
        "Nam On-jo",
    ]
    # a named character's dot is bigger than the crowd's: 0.45 tile left of its centre is still its colour
    assert pixel_at_offset(page, 0, -0.45) == [0x1F, 0x6F, 0xE0]
    assert pixel_at_offset(page, 1, -0.45) != [0x1F, 0x6F, 0xE0]
    page.select_option("#replay-follow", "4")  # Nam On-jo, on 2F until frame 20
    assert js(page, "following()") == 4 and js(page, "selected()") == 4 and js(page, "floor()") == 1
    assert js(page, "zoom()") >= 2  # Follow zooms in on her
    assert page.locator("#replay-card h3").text_content() == "Nam On-jo"
    for frame in (0, 10, 19, 22, 25):
        seek(page, frame)  # at 20 she took the stairs down: the view goes with her, centred on her
        assert js(page, "floor()") == (1 if frame < 20 else 0)
        point = js(page, "agentPoint(4)")
        rect = page.locator("#replay-canvas").bounding_box()
        assert point["x"] == pytest.approx(rect["x"] + rect["width"] / 2, abs=2), frame
        assert point["y"] == pytest.approx(rect["y"] + rect["height"] / 2, abs=2), frame
    assert page.locator("#replay-floor").input_value() == "0"
    page.select_option("#replay-floor", "1")  # choosing a floor by hand stops following
    assert js(page, "following()") == -1


def door_pixel(page, x: int, y: int) -> list[int]:
    return page.evaluate(
        """([x, y]) => { const c = document.getElementById('replay-canvas');
                   const r = c.getBoundingClientRect();
                   const t = window.hyosanReplay.tileBox(0, x, y); const s = c.width / r.width;
                   const px = ((t.left - r.left) + 0.2 * (t.right - t.left)) * s;
                   const py = ((t.top - r.top) + 0.5 * (t.bottom - t.top)) * s;
                   const d = c.getContext('2d').getImageData(Math.floor(px), Math.floor(py), 1, 1).data;
                   return Array.from(d.slice(0, 3)); }""",
        [x, y],
    )


def test_doors_show_their_state(replay):
    bp, _ = replay
    page = bp.page
    page.click("#replay-labels")
    door0, door1 = str(cell(0, 6, 4)), str(cell(1, 6, 4))
    expected = {
        0: ("closed", [0xB7, 0x79, 0x1F]),
        12: ("open", [0xF3, 0xE2, 0xBD]),
        22: ("barricaded", [0x4A, 0x2C, 0x0A]),
        27: ("broken", [0xFF, 0x6B, 0x6B]),
    }
    for frame, (state, rgb) in expected.items():
        seek(page, frame)
        doors = js(page, "doors()")
        assert doors[door0] == state and doors[door1] == "open", frame
        assert door_pixel(page, 6, 4) == rgb, frame
    legend = page.locator("#replay-legend").text_content()
    for label in (
        "door open",
        "door shut",
        "door barricaded",
        "door broken",
        "helicopter",
        "named character",
    ):
        assert label in legend


def test_keyboard_controls(replay):
    bp, _ = replay
    page = bp.page
    page.focus("#replay")
    kb = page.keyboard
    kb.press("Space")
    assert js(page, "playing()") is True
    kb.press("Space")
    assert js(page, "playing()") is False
    seek(page, 0)
    page.focus("#replay")
    kb.press("ArrowRight")
    assert js(page, "frame()") == 1
    kb.press("Shift+ArrowRight")
    assert js(page, "frame()") == 11
    kb.press("ArrowLeft")
    assert js(page, "frame()") == 10
    kb.press("End")
    assert js(page, "frame()") == F - 1
    kb.press("Home")
    assert js(page, "frame()") == 0
    kb.press("n")
    assert js(page, "frame()") == 10
    kb.press("n")
    assert js(page, "frame()") == 15
    kb.press("p")
    assert js(page, "frame()") == 10
    kb.press("a")
    assert js(page, "floor()") == -1
    kb.press("]")
    assert js(page, "floor()") == 0
    kb.press("]")
    assert js(page, "floor()") == 1
    kb.press("[")
    assert js(page, "floor()") == 0
    kb.press("a")
    assert js(page, "floor()") == -1
    kb.press("z")
    assert js(page, "zoom()") == pytest.approx(1.5)
    kb.press("0")
    assert js(page, "zoom()") == 1
    kb.press("+")
    assert js(page, "speed()") == 16
    kb.press("-")
    kb.press("-")
    assert js(page, "speed()") == 4
    kb.press("l")
    assert js(page, "labels()") == [] and not page.locator("#replay-labels").is_checked()
    kb.press("f")
    assert js(page, "following()") == 0
    kb.press("f")
    assert js(page, "following()") == 4
    kb.press("Escape")
    assert js(page, "following()") == -1


def test_elements_with_a_replay_time_jump_the_replay(replay):
    bp, _ = replay
    page = bp.page
    page.evaluate(
        """() => { const b = document.createElement('button'); b.id = 'jump'; b.textContent = '08:42:30';
                   b.dataset.replayTime = '150'; b.dataset.replayFloor = '1'; document.body.append(b); }"""
    )
    page.click("#jump")
    assert js(page, "frame()") == 15 and js(page, "floor()") == 1


@pytest.fixture(scope="module")
def crowded_file(tmp_path_factory):
    """30 markers, one a frame, of three kinds: they crowd the timeline on a narrow screen."""
    args = synthetic()
    kinds = ["bite", "alarm", "character"]
    args["markers"] = [{"time_s": 10.0 * f, "label": f"event {f}", "kind": kinds[f % 3]} for f in range(F)]
    path = tmp_path_factory.mktemp("crowded") / "replay.html"
    path.write_text(replay_page(replay_payload(**args), title="Crowded"), encoding="utf-8")
    return path


def marker_boxes(page) -> list[list[float]]:
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('.replay-marker'), b => {"
        " const r = b.getBoundingClientRect(); return [r.left, r.right]; })"
    )


@pytest.mark.parametrize("width", [1440, 390])
def test_markers_group_where_they_overlap_and_have_a_legend(browser, crowded_file, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(crowded_file.resolve().as_uri())
        page.wait_for_function(READY)
        boxes = sorted(marker_boxes(page))
        assert all(a[1] <= b[0] + 0.5 for a, b in itertools.pairwise(boxes)), "markers overlap"
        groups = js(page, "markerGroups()")
        assert sorted(i for g in groups for i in g) == list(range(F))  # every marker is reachable
        assert len(groups) == len(boxes)
        if width == 390:
            assert len(groups) < F
        # each kind has its colour, shown in the legend
        legend = page.evaluate(
            "() => Object.fromEntries(Array.from(document.querySelectorAll('#replay-kinds li'),"
            " li => [li.dataset.kind, getComputedStyle(li.firstChild).backgroundColor]))"
        )
        assert set(legend) == {"bite", "alarm", "character"} and len(set(legend.values())) == 3
        single = page.locator(".replay-marker:not(.replay-group)").first
        if single.count():
            kind = single.get_attribute("data-kind")
            assert single.evaluate("b => getComputedStyle(b).backgroundColor") == legend[kind]
        group = page.locator(".replay-group").first
        if group.count():
            size = int(group.get_attribute("data-count"))
            group.click()
            items = page.locator("#replay-group-list .replay-group-item")
            assert items.count() == size
            target = items.nth(size - 1)
            label = target.text_content()
            target.click()
            frame = int(label.split("event ")[1])
            assert js(page, "frame()") == frame and page.locator("#replay-group-list").is_hidden()
        assert errors == []
    finally:
        context.close()


def test_clicking_a_dot_shows_the_name_as_text(replay):
    bp, _ = replay
    page = bp.page
    seek(page, 12)
    point = js(page, "agentPoint(1)")
    assert js(page, f"agentAt({point['x']}, {point['y']})") == 1
    around = pixel_at_offset(page, 1, 0.75)
    page.mouse.click(point["x"], point["y"])
    assert js(page, "selected()") == 1
    card = page.locator("#replay-card")
    assert card.is_visible() and card.locator("h3").text_content() == XSS_NAME
    rows = dict(
        zip(card.locator("dt").all_text_contents(), card.locator("dd").all_text_contents(), strict=True)
    )
    assert rows == {
        "role": "student",
        "where": "hall 1F, 1F",
        "state": "zombie since 08:41:40",
        "bitten": "at 08:40:40 by the lab rat",
        "at the end": "zombie at 08:41:40",
    }
    assert card.locator("img").count() == 0
    # the one clicked is highlighted: a ring and a halo around its dot
    assert pixel_at_offset(page, 1, 0.75) != around
    seek(page, 5)  # before it was bitten and turned
    rows = dict(
        zip(card.locator("dt").all_text_contents(), card.locator("dd").all_text_contents(), strict=True)
    )
    assert rows["state"] == "human from the start" and rows["bitten"] == "at 08:40:40 by the lab rat"
    seek(page, 2)
    rows = dict(
        zip(card.locator("dt").all_text_contents(), card.locator("dd").all_text_contents(), strict=True)
    )
    assert rows["bitten"] == "not yet (at 08:40:40 by the lab rat)"
    # the agent whose role tries to close the script element
    page.mouse.click(*js(page, "agentPoint(3)").values())
    assert card.locator("h3").text_content() == "Yoon Gwi-nam"
    assert card.locator("dd").first.text_content() == XSS_ROLE
    page.click(".replay-card-close")
    assert js(page, "selected()") == -1 and card.is_hidden()
    # hovering shows who a dot is on the line below the map
    page.mouse.move(point["x"], point["y"])
    assert page.locator("#replay-info").text_content().startswith(f"{XSS_NAME} — student — human")
    assert page.evaluate("() => typeof window.pwned") == "undefined"
    assert page.locator("img").count() == 0


def test_js_decoding_matches_python(replay):
    bp, args = replay
    for agent in range(6):
        track = js(bp.page, f"track({agent})")
        assert track["cells"] == shown_cells(args)[:, agent].tolist()
        assert track["states"] == args["frame_states"][:, agent].tolist()


def test_phone_layout_fills_the_width_and_dots_can_be_tapped(browser, replay_file):
    path, _ = replay_file
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(path.resolve().as_uri())
        page.wait_for_function(READY)
        width = page.evaluate("() => document.getElementById('replay-canvas').getBoundingClientRect().width")
        stage = page.evaluate("() => document.querySelector('.replay-stage').clientWidth")
        assert width == pytest.approx(stage, abs=1) and width > 300  # the replay fills the width
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        assert page.locator("#replay-info").text_content().startswith("Tap a dot to see who it is")
        seek(page, 12)
        page.select_option("#replay-floor", "0")  # one floor, enlarged
        point = js(page, "agentPoint(1)")
        page.touchscreen.tap(point["x"] + 9, point["y"] + 9)  # a finger is never exactly on a 10 px dot
        assert js(page, "selected()") == 1
        assert page.locator("#replay-card h3").text_content() == XSS_NAME
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        assert_labels_fit(page)
        heights = page.locator(".replay-marker").evaluate_all(
            "bs => bs.map(b => b.getBoundingClientRect().height)"
        )
        assert min(heights) >= 20  # touch targets
        assert errors == []
    finally:
        context.close()


def test_the_replay_door_states_are_the_engine_s_at_every_frame(tmp_path):
    """The doors drawn at each frame (rebuilt from the events and the timeline) are the states
    the engine had then: opened, shut to be barricaded, barricaded, broken."""
    from conftest import scenario
    from hyosan.engine import Simulation
    from hyosan.report.story import door_frames

    sections = rs.sections()
    # Everyone hides: the timid shut their classroom's doors and barricade them.
    sections["behaviour"] = {**sections.get("behaviour", {}), "hide_below": 0.99}
    sim = Simulation(scenario(tmp_path, rs.MAP, **sections), seed=rs.SEED)
    every = sim.recorder.frame_every
    sim.collect("doors", lambda s: {f"d{k}": int(v) for k, v in enumerate(s.arrays.doors.state)}, every=every)
    result = sim.run()
    table = result.tables["doors"].set_index("tick")
    cells, drawn = door_frames(result)
    np.testing.assert_array_equal(cells, np.sort(sim.world.door_cells))
    order = np.argsort(sim.world.door_cells)
    for f, tick in enumerate(result.frame_ticks):
        actual = table.loc[int(tick)].to_numpy()[order]
        np.testing.assert_array_equal(drawn[:, f], actual, err_msg=f"frame {f} (tick {tick})")
    kinds = set(result.events["kind"].astype(str))
    assert {"door_shut", "barricade"} <= kinds


# ---- the whole building, zoom, follow, labels, charts ------------------------------------------


def assert_labels_fit(page) -> list[dict]:
    """Every label drawn lies inside the canvas and overlaps no other (their measured boxes)."""
    boxes = js(page, "labelBoxes()")
    rect = page.locator("#replay-canvas").bounding_box()
    for b in boxes:
        assert b["left"] >= rect["x"] - 0.5 and b["right"] <= rect["x"] + rect["width"] + 0.5, b
        assert b["top"] >= rect["y"] - 0.5 and b["bottom"] <= rect["y"] + rect["height"] + 0.5, b
    for a, b in itertools.combinations(boxes, 2):
        apart = (
            a["right"] <= b["left"]
            or b["right"] <= a["left"]
            or a["bottom"] <= b["top"]
            or b["bottom"] <= a["top"]
        )
        assert apart, (a, b)
    return boxes


def test_every_floor_is_drawn_at_once(replay):
    bp, _ = replay
    page = bp.page
    seek(page, 5)
    # a dot on each floor has its state's colour (the palette's human blue)
    assert pixel_at(page, 0) == [0x1F, 0x6F, 0xE0] and pixel_at(page, 2) == [0x1F, 0x6F, 0xE0]
    a, b = js(page, "tileBox(0, 0, 0)"), js(page, "tileBox(1, 0, 0)")
    assert a["right"] - a["left"] == pytest.approx(b["right"] - b["left"])  # one scale for all
    # a double click on a floor enlarges it; the tiles grow
    box = js(page, "tileBox(1, 5, 5)")
    page.mouse.dblclick((box["left"] + box["right"]) / 2, (box["top"] + box["bottom"]) / 2)
    assert js(page, "floor()") == 1 and js(page, "shownFloors()") == [1]
    big = js(page, "tileBox(1, 5, 5)")
    assert big["right"] - big["left"] >= box["right"] - box["left"]


def test_zoom_and_pan(replay):
    bp, _ = replay
    page = bp.page
    page.select_option("#replay-floor", "0")
    before = js(page, "tileBox(0, 6, 4)")
    page.click("#replay-zoom-in")
    page.click("#replay-zoom-in")
    assert js(page, "zoom()") == pytest.approx(2.25)
    after = js(page, "tileBox(0, 6, 4)")
    assert after["right"] - after["left"] == pytest.approx(
        2.25 * (before["right"] - before["left"]), rel=1e-3
    )
    for _ in range(3):
        page.click("#replay-zoom-in")
    after = js(page, "tileBox(0, 6, 4)")
    # drag to pan: the map moves with the pointer
    rect = page.locator("#replay-canvas").bounding_box()
    cx, cy = rect["x"] + rect["width"] / 2, rect["y"] + rect["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 60, cy + 20, steps=4)
    page.mouse.up()
    moved = js(page, "tileBox(0, 6, 4)")
    assert moved["left"] - after["left"] == pytest.approx(60, abs=1.5)
    assert js(page, "selected()") == -1  # a drag is not a click
    # Ctrl+wheel zooms about the pointer: the tile under it stays under it
    page.mouse.move(moved["left"] + 1, moved["top"] + 1)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -200)
    page.keyboard.up("Control")
    page.wait_for_function("() => window.hyosanReplay.zoom() > 7.6")
    again = js(page, "tileBox(0, 6, 4)")
    assert again["left"] <= moved["left"] + 1 <= again["right"]
    assert_labels_fit(page)
    page.click("#replay-zoom-fit")
    assert js(page, "zoom()") == 1 and js(page, "tileBox(0, 6, 4)") == pytest.approx(before)


def test_labels_inside_the_canvas_and_never_overlapping(replay):
    bp, _ = replay
    page = bp.page
    for view in (-1, 0, 1):
        page.select_option("#replay-floor", str(view))
        for frame in (0, 12, 22, F - 1):
            seek(page, frame)
            assert_labels_fit(page)
        page.click("#replay-zoom-in")
        page.click("#replay-zoom-in")
        assert_labels_fit(page)
        page.click("#replay-zoom-fit")


@pytest.fixture(scope="module")
def huddle_file(tmp_path_factory):
    """Eight named characters huddled in a corner by the room's label: their names would collide."""
    args = synthetic()
    n = 8
    cells = np.stack([np.array([cell(0, 1 + k % 3, 1 + k // 3) for k in range(n)], np.int32)] * F)
    names = [
        "Lee Su-hyeok",
        "Choi Nam-ra",
        "Yoon Dae-su",
        "Park Mi-jin",
        "Han Gyeong-su",
        "Jang Ha-ri",
        "Kim Cheol-su",
        "Oh Joon-young",
    ]
    args.update(
        frame_cells=cells,
        frame_states=np.full((F, n), State.HUMAN, np.int8),
        names=names,
        roles=["student"] * n,
        fates=["survived"] * n,
        characters=list(range(n)),
        rooms=[{"name": "science lab", "floor": 0, "x": 1, "y": 1, "w": 5}],
        markers=[],
        bitten_by=None,
        bitten_s=None,
    )
    path = tmp_path_factory.mktemp("huddle") / "replay.html"
    path.write_text(replay_page(replay_payload(**args), title="Huddle"), encoding="utf-8")
    return path


@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)])
def test_huddled_names_are_placed_apart_and_inside(browser, huddle_file, viewport):
    context = browser.new_context(viewport=dict(zip(("width", "height"), viewport, strict=True)))
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(huddle_file.resolve().as_uri())
        page.wait_for_function(READY)
        for view in ("-1", "0"):
            page.select_option("#replay-floor", view)
            boxes = assert_labels_fit(page)
            names = [b["text"] for b in boxes if b["kind"] == "name"]
            assert len(names) >= 4 and len(names) == len(set(names)), names
            if view == "-1":
                assert [b["text"] for b in boxes if b["kind"] == "floor"] == ["1F", "2F <b>roof</b>"]
            for _ in range(3):
                page.click("#replay-zoom-in")
                # the view is redrawn on the next animation frame: wait for two before measuring
                page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
                assert_labels_fit(page)
        page.select_option("#replay-floor", "0")
        page.select_option("#replay-follow", "0")  # following: the name is still placed inside
        boxes = assert_labels_fit(page)
        assert "Lee Su-hyeok" in [b["text"] for b in boxes]  # the followed one's full name, first
        assert errors == []
    finally:
        context.close()


@pytest.fixture(scope="module")
def chart_file(tmp_path_factory):
    """The replay below a chart of the same run (as report.html has them)."""
    from hyosan.report.svg import time_chart

    args = synthetic()
    times = args["frame_times_s"]
    humans = (args["frame_states"] == State.HUMAN).sum(axis=1)
    chart = time_chart(
        times,
        {"human": (humans, "#1f6fe0")},
        title="Humans",
        y_label="agents",
        x_text=lambda t: f"{t:g}",
        x_ticks=[0, 100, 200],
        chart_id="chart-humans",
    )
    page = replay_page(replay_payload(**args), title="Chart").replace(
        '<div id="replay"', chart + '<div id="replay"'
    )
    path = tmp_path_factory.mktemp("chart") / "replay.html"
    path.write_text(page, encoding="utf-8")
    return path


def test_clicking_a_chart_moves_the_playhead(browser_page, chart_file):
    page = browser_page.open(chart_file, wait_for=READY)
    svg = page.locator("#chart-humans")
    box = svg.bounding_box()
    scale = box["width"] / 960
    left, right = 52 * scale, (960 - 16) * scale  # the plot area (svg.PAD_L, svg.PAD_R)
    # a click at 150 s of the 290 s axis shows frame 15 (08:42:30)
    page.mouse.click(box["x"] + left + (right - left) * 150 / 290, box["y"] + box["height"] / 2)
    assert js(page, "frame()") == 15 and page.locator("#replay-clock").text_content() == "08:42:30"
    # the playhead is drawn there on the chart, and moves with the replay
    x = float(page.locator("#chart-humans .replay-playhead").get_attribute("x1"))
    assert x == pytest.approx(52 + (960 - 68) * 150 / 290, abs=0.2)
    seek(page, 29)
    assert float(page.locator("#chart-humans .replay-playhead").get_attribute("x1")) == pytest.approx(
        944, abs=0.2
    )
    assert browser_page.errors() == []
