"""The run report: one self-contained page, checked in a real headless browser."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import results_school as rs
from hyosan.engine import Simulation
from hyosan.report import write_report
from hyosan.results import save

READY = "() => window.hyosanReplay && window.hyosanReplay.ready"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    result = rs.run_result(tmp_path_factory)
    folder = save(result, tmp_path_factory.mktemp("report") / "run", report=write_report)
    return result, folder


@pytest.fixture
def report(browser_page, saved):
    result, folder = saved
    browser_page.open(folder / "report.html", wait_for=READY)
    yield browser_page, result, folder
    assert browser_page.errors() == []
    assert browser_page.offsite_requests() == []


def js(page, expr: str):
    return page.evaluate(f"() => window.hyosanReplay.{expr}")


def test_report_is_one_self_contained_file(saved):
    _, folder = saved
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)  # nothing fetched from elsewhere
    assert "Content-Security-Policy" in text and "connect-src 'none'" in text
    assert rs.XSS not in text  # the markup name only appears escaped


def test_opens_offline_and_shows_summary_json_numbers(report):
    bp, _, folder = report
    page = bp.page
    assert bp.requests and all(url.startswith(("file:", "data:", "blob:")) for url in bp.requests)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    shown = page.evaluate(
        "() => Array.from(document.querySelectorAll('[data-summary]'),"
        " e => [e.dataset.summary, e.textContent])"
    )
    assert len(shown) >= 30
    for key, text in shown:
        value = summary
        for part in key.split("."):
            value = value[part]
        assert text == (
            "n/a" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
        ), key
    keys = {k for k, _ in shown}
    assert {"groups.human_group", "groups.zombie_group", "survivors.adults.survived", "final.zombie"} <= keys
    assert page.locator("img.chart").count() >= 3 and page.locator("svg.chart-svg").count() == 2
    assert all(page.evaluate("() => Array.from(document.images, i => i.complete && i.naturalWidth > 0)"))


def test_replay_draws_plays_and_switches_floors(report):
    bp, result, _ = report
    page = bp.page
    assert js(page, "frames()") == len(result.frame_ticks)
    # every floor at once: every agent on the map is drawn
    assert js(page, "floor()") == -1 and js(page, "shownFloors()") == [0, 1]
    assert js(page, "dots()") == int((result.frame_cells[0] >= 0).sum())
    page.select_option("#replay-speed", "64")
    page.click("#replay-play")
    page.wait_for_function("() => window.hyosanReplay.frame() >= 3")
    page.click("#replay-play")
    assert js(page, "playing()") is False
    page.select_option("#replay-floor", "1")
    assert js(page, "floor()") == 1
    frame = js(page, "frame()")
    on_2f = int(((result.frame_cells[frame] >= 20 * 6) & (result.frame_cells[frame] < 2 * 20 * 6)).sum())
    assert js(page, "dots()") == on_2f
    # the scrubber: frame 30 is 5 minutes in, 08:05:00
    page.locator("#replay-time").evaluate(
        "(el) => { el.value = '30'; el.dispatchEvent(new Event('input', {bubbles: true})); }"
    )
    assert js(page, "frame()") == 30 and page.locator("#replay-clock").text_content() == "08:05:00"
    # a marker jumps to its moment (the cordon at 08:02:30 is frame 15)
    marker = page.locator('.replay-marker[title*="seals the town"]')
    marker.click()
    if "replay-group" in marker.get_attribute("class"):  # grouped with its neighbours: pick it from the list
        page.locator('#replay-group-list .replay-group-item:has-text("seals the town")').click()
    assert js(page, "frame()") == 15 and page.locator("#replay-clock").text_content() == "08:02:30"


def test_clicking_an_agent_shows_its_name_as_text(report):
    bp, result, _ = report
    page = bp.page
    agent = int(result.agents.index[result.agents["name"] == rs.XSS][0])
    page.select_option("#replay-floor", "0")
    page.locator("#replay-canvas").scroll_into_view_if_needed()
    point = js(page, f"agentPoint({agent})")
    assert point is not None
    page.mouse.click(point["x"], point["y"])
    card = page.locator("#replay-card")
    assert card.locator("h3").text_content() == rs.XSS
    rows = dict(
        zip(card.locator("dt").all_text_contents(), card.locator("dd").all_text_contents(), strict=True)
    )
    assert rows["role"] == "student" and rows["where"].endswith(", 1F")
    # patient zero: bitten by the timeline's rat at 08:01
    assert rows["bitten"].startswith("not yet (at 08:01:00") or rows["bitten"].startswith("at 08:01:00")
    assert page.evaluate("() => typeof window.pwned") == "undefined"
    # the chronicle and the characters' table show the same name as text, never as an element
    assert rs.XSS in page.locator("#chronicle").text_content()
    assert rs.XSS in page.locator("#s-characters").text_content()
    assert page.locator("main img:not(.chart)").count() == 0


def test_milestones_and_chronicle_times_jump_the_replay(report):
    bp, result, _ = report
    page = bp.page
    cordon = page.locator('#s-milestones tr:has-text("seals the town") a[data-replay-time]')
    assert cordon.text_content() == "08:02:30"
    cordon.click()
    assert js(page, "frame()") == 15 and page.locator("#replay-clock").text_content() == "08:02:30"
    assert "seals the town" in page.locator("#replay-event").text_content()
    rescue = page.locator('#s-milestones tr:has-text("helicopter lands") a[data-replay-time]')
    rescue.click()
    assert js(page, "floor()") == 1 and js(page, "clock()") == "08:25:00"  # the rescue was on 2F
    links = page.locator("#chronicle a[data-replay-time]")
    assert links.count() >= 10
    link = links.nth(5)
    when = link.text_content()
    link.click()
    assert js(page, "clock()") == when[:5] + js(page, "clock()")[5:]  # the frame at or after the line's time
    seconds = float(link.get_attribute("data-replay-time"))
    clock_s = sum(int(p) * k for p, k in zip(when.split(":"), (3600, 60, 1), strict=True))
    assert abs(result.start_clock_s + seconds - clock_s) < 1


def test_replay_names_rooms_and_offers_the_characters(report):
    bp, result, _ = report
    page = bp.page
    assert js(page, "labels()") == ["classroom 1-1", "classroom 2-1"]  # every floor shown
    page.select_option("#replay-floor", "0")
    assert js(page, "labels()") == ["classroom 1-1"]  # rooms only: the corridor is not labelled
    page.select_option("#replay-floor", "1")
    assert js(page, "labels()") == ["classroom 2-1"]
    names = page.locator("#replay-follow option").all_text_contents()
    assert names[0] == "nobody" and sorted(names[1:]) == sorted([rs.XSS, "Nam On-jo"])
    page.select_option("#replay-follow", label="Nam On-jo")
    agent = int(result.agents.index[result.agents["name"] == "Nam On-jo"][0])
    assert js(page, "following()") == agent and js(page, "selected()") == agent
    assert js(page, "zoom()") >= 2


def test_clicking_a_chart_moves_the_replay(report):
    bp, result, _ = report
    page = bp.page
    chart = page.locator("#chart-counts")
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    k = box["width"] / 960
    # the plot spans the run's frames: its middle is the middle of the run
    page.mouse.click(box["x"] + (52 + (960 - 68) / 2) * k, box["y"] + 150 * k)
    times = result.frame_ticks * result.tick_seconds
    middle = int(np.searchsorted(times, (times[0] + times[-1]) / 2))
    assert abs(js(page, "frame()") - middle) <= 1
    for chart_id in ("chart-counts", "chart-groups"):  # the playhead is drawn on every chart
        x = float(page.locator(f"#{chart_id} .replay-playhead").get_attribute("x1"))
        assert x == pytest.approx(52 + (960 - 68) / 2, abs=0.5 + (960 - 68) / len(times))
    assert bp.errors() == []


def test_charts_over_time_mark_the_timeline_and_show_values_on_hover(report):
    bp, result, _ = report
    page = bp.page
    events = page.locator("#chart-counts g.ev").evaluate_all("gs => gs.map(g => g.dataset.event)")
    assert any("bell rings" in t for t in events) and any("seals the town" in t for t in events)
    assert any("helicopter lands" in t for t in events)
    assert page.locator("#chart-groups g.ev").count() == len(events)
    # hovering a slice: its title gives the clock time and every state's count there
    totals = result.totals()
    slices = page.locator("#chart-counts rect.hv")
    assert slices.count() >= 100
    title = slices.nth(60).locator("title").text_content()
    clock, values = title.split(": ", 1)
    t = next(s for s in totals.index if result.clock(s)[:5] == clock)  # the first tick of that minute
    shown = dict(part.rsplit(" ", 1) for part in values.split(", "))
    assert set(shown) <= set(totals.columns) and "human" in shown
    row = totals.loc[totals.index[totals.index.get_indexer([t])[0]] :].iloc[:61]  # within the minute
    for state, n in shown.items():
        assert int(n) in set(row[state].tolist()), state
    box = slices.nth(60).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 5)  # hover works without errors
    page.wait_for_timeout(50)


def test_transmission_by_generation_and_room_and_collapsible(report):
    bp, result, _ = report
    page = bp.page
    tree = result.tree()
    assert page.locator("#gen-room tr.sum td").last.text_content() == str(len(tree))
    by_gen = page.locator("#gen-room tr.sum td").all_text_contents()[1:-1]
    assert [int(v) for v in by_gen] == tree.groupby("generation").size().tolist()
    # every bitten agent appears once in the list: as an entry, or named among those who bit nobody
    entries = page.locator("#tree-list summary, #tree-list li:not(.leaves):not(:has(details))").count()
    leaves = sum(
        int(t.split(" who bit")[0]) for t in page.locator("#tree-list li.leaves").all_text_contents()
    )
    assert entries + leaves == len(tree)


def test_transmission_view_scales_to_a_thousand_bites():
    import numpy as np
    import pandas as pd

    from hyosan.report.charts import TOP_ROOMS, generation_room_table, transmission_tree_html

    rng = np.random.default_rng(3)
    n = 1000
    biter = np.array([-2] + [int(rng.integers(0, max(1, k // 2 + 1))) for k in range(1, n)])
    generation = np.zeros(n, dtype=int)
    for k in range(1, n):
        generation[k] = generation[biter[k]] + 1
    tree = pd.DataFrame(
        {
            "agent": np.arange(n),
            "name": [f"<b>agent {k}</b>" for k in range(n)],
            "role": "student",
            "bitten_s": np.arange(n) * 5.0,
            "biter": biter,
            "generation": generation,
            "room": [f"room {k % 40}" for k in range(n)],
            "offspring": np.bincount(biter[1:], minlength=n),
        }
    )

    class Clock:
        def clock(self, s):
            return f"{8 + int(s) // 3600:02d}:{int(s) // 60 % 60:02d}:{int(s) % 60:02d}"

    table = generation_room_table(tree)
    assert table.count("<tr") == TOP_ROOMS + 3  # header, top rooms, other places, all
    assert f"<td>{n}</td></tr></tbody>" in table
    listing = transmission_tree_html(Clock(), tree)
    assert "<b>agent" not in listing.replace("<b>&lt;b&gt;agent", "")  # names escaped
    assert len(listing) < 400_000
    spreaders = int((tree["offspring"] > 0).sum())
    assert listing.count("<details") == spreaders


def test_report_on_a_phone_scrolls_only_down(browser, saved):
    _, folder = saved
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto((folder / "report.html").resolve().as_uri())
        page.wait_for_function(READY)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        # wide tables scroll inside their own box
        boxes = page.evaluate(
            "() => Array.from(document.querySelectorAll('.scroll'), d => [d.clientWidth, d.scrollWidth])"
        )
        assert boxes and all(client <= 390 for client, _ in boxes)
        assert any(inner > client for client, inner in boxes)
        canvas = page.evaluate("() => document.getElementById('replay-canvas').getBoundingClientRect().width")
        assert canvas > 330
    finally:
        context.close()


MARKUP = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'


def test_a_scenario_named_in_markup_leaves_no_raw_markup_in_the_page(make_scenario, tmp_path, browser_page):
    """The scenario's name and description, a character, a room and an event's text are all markup:
    none of it appears raw anywhere in report.html (title, heading, tables, replay data), and the
    page runs none of it."""
    loaded = make_scenario(
        rs.MAP,
        scenario={"name": MARKUP, "description": MARKUP},
        clock={"duration": "2min"},
        population=[{"role": "student", "count": 6, "areas": ["classroom 1-1"]}],
        characters=[{"name": MARKUP, "role": "student", "area": "classroom 1-1"}],
        events=[{"kind": "patient_zero", "at": "08:00:10", "who": MARKUP, "text": MARKUP}],
    )
    result = Simulation(loaded, seed=0).run()
    assert result.summary()["title"] == MARKUP
    folder = save(result, tmp_path / "run", report=write_report)
    text = (folder / "report.html").read_text(encoding="utf-8")
    for raw in (MARKUP, "<script>window", "<img src=x", 'onerror="window'):
        assert raw not in text, raw
    browser_page.open(folder / "report.html", wait_for=READY)
    assert browser_page.page.evaluate("() => typeof window.pwned") == "undefined"
    assert (
        MARKUP in browser_page.page.title() and MARKUP in browser_page.page.locator("h1").first.text_content()
    )
    assert browser_page.errors() == []
