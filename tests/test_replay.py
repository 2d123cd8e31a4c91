"""The report's animated replay: payload encoding (pure Python) and the player in a real browser."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from hyosan.report.replay import (
    decode_cells,
    decode_states,
    embed_json,
    replay_css,
    replay_html,
    replay_js,
    replay_page,
    replay_payload,
)
from hyosan.states import STATE_NAMES, State
from hyosan.world.tiles import Tile

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
        {"time_s": 250.5, "label": "Rescue helicopter", "kind": "rescue"},
        {"time_s": 100.0, "label": f"{XSS_NAME} turns", "kind": "bite"},
        {"time_s": 150.0, "label": "Alarm", "kind": "alarm"},
    ]
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
    assert payload["format"] == "hyosan-replay/1"
    assert (payload["floors"], payload["height"], payload["width"]) == (L, H, W)
    assert (payload["agents"], payload["frames"]) == (6, F)
    np.testing.assert_array_equal(decode_cells(payload), shown_cells(args))
    assert decode_cells(payload)[15:, 3].tolist() == [-1] * (F - 15)
    np.testing.assert_array_equal(decode_states(payload), args["frame_states"])
    # sorted by time; each jumps to the first frame at or after its time
    assert [(m["time_s"], m["frame"]) for m in payload["markers"]] == [(100.0, 10), (150.0, 15), (250.5, 26)]
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


def test_payload_size_and_speed_at_hyosan_high_scale():
    """5 floors of 120x60, 1,017 agents, 2,161 frames 10 s apart: well under 10 MB and 1 s."""
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

    start = time.perf_counter()
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
    elapsed = time.perf_counter() - start
    size_mb = len(text.encode("utf-8")) / 1e6
    assert size_mb < 5.0, f"replay payload is {size_mb:.1f} MB"
    assert elapsed < 1.5, f"payload took {elapsed:.2f} s"
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
    assert js(page, "frame()") == 0 and js(page, "floor()") == 0 and js(page, "playing()") is False
    assert js(page, "dots()") == on_floor(shown_cells(args), 0, 0) == 3
    assert page.locator("#replay-clock").text_content() == "08:40:00"
    assert page.locator("#replay-floor option").all_text_contents() == ["1F", "2F <b>roof</b>"]
    assert page.locator(".replay-marker").count() == 3
    colours = page.evaluate(
        """() => { const c = document.getElementById('replay-canvas');
                   const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   const seen = new Set();
                   for (let k = 0; k < d.length; k += 4) seen.add((d[k] << 16) | (d[k+1] << 8) | d[k+2]);
                   return [c.width, c.height, seen.size]; }"""
    )
    assert colours[0] % W == 0 and colours[1] % H == 0 and colours[0] // W == colours[1] // H  # crisp tiles
    assert colours[2] >= 5  # floor, wall, door, exit, dots
    assert "3 humans" in page.locator("#replay-counts").text_content()


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
            assert js(page, "floor()") == floor
            assert js(page, "dots()") == on_floor(cells, frame, floor), (frame, floor)
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


def test_marker_jumps_to_its_moment(replay):
    bp, _ = replay
    page = bp.page
    page.locator(".replay-marker").nth(2).click()
    assert js(page, "frame()") == 26
    assert page.locator("#replay-clock").text_content() == "08:44:20"
    assert page.locator("#replay-event").text_content() == "08:44:10 Rescue helicopter"
    page.locator(".replay-marker").nth(0).click()
    assert js(page, "frame()") == 10
    assert page.locator("#replay-event").text_content() == f"08:41:40 {XSS_NAME} turns"


def test_clicking_a_dot_shows_the_name_as_text(replay):
    bp, _ = replay
    page = bp.page
    seek(page, 12)
    point = js(page, "agentPoint(1)")
    assert js(page, f"agentAt({point['x']}, {point['y']})") == 1
    page.mouse.click(point["x"], point["y"])
    assert js(page, "selected()") == 1
    info = page.locator("#replay-info")
    assert info.text_content() == f"{XSS_NAME} — student — zombie — zombie at 08:41:40"
    assert info.locator("img").count() == 0
    # the agent whose role tries to close the script element
    page.mouse.click(*js(page, "agentPoint(3)").values())
    assert info.text_content().startswith(f"Yoon Gwi-nam — {XSS_ROLE} — human")
    assert page.evaluate("() => typeof window.pwned") == "undefined"
    assert page.locator("img").count() == 0


def test_js_decoding_matches_python(replay):
    bp, args = replay
    for agent in range(6):
        track = js(bp.page, f"track({agent})")
        assert track["cells"] == shown_cells(args)[:, agent].tolist()
        assert track["states"] == args["frame_states"][:, agent].tolist()
