"""``hyosan studio`` in Chromium: pick a scenario, change a value, run and see the counts change;
bad values refused, pause, step, reset, save, models, an opened run folder; closing the page stops it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from studio_launch import launch

TINY = Path(__file__).parent / "data" / "tiny_outbreak.toml"
READY = "() => window.hyosanStudio && window.hyosanStudio.connected() && window.hyosanStudio.tick() === 0"


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    out = tmp_path_factory.mktemp("studio")
    root = tmp_path_factory.getbasetemp()  # run folders the tests open are made under it
    with launch(str(TINY), "--out", str(out), "--root", str(root)) as running:
        yield running, out


def js(page, expr: str):
    return page.evaluate(f"() => window.hyosanStudio.{expr}")


def set_value(page, key: str, value: str) -> None:
    """Find the control by its key in the search box (which opens its group), then type a value."""
    page.fill("#search", key)
    page.locator(f'#controls [data-key="{key}"]').fill(value)
    page.locator(f'#controls [data-key="{key}"]').dispatch_event("change")


def test_studio_changes_a_value_runs_and_the_counts_change(browser, studio):
    st, out = studio
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(90_000)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(st.page("target=tiny-outbreak"))
    page.wait_for_function(READY, timeout=60_000)
    assert js(page, "target()") == "tiny-outbreak"
    # controls come from the schema, with units and ranges
    bite = page.locator('#controls [data-key="zombies.bite_prob"]')
    assert bite.get_attribute("min") == "0" and bite.get_attribute("max") == "1"
    assert "m/s" in page.locator('label[for="c-zombies.run_speed"]').text_content()
    assert page.locator('#controls select[data-key="behaviour.humans"] option').count() == 2
    # a bad value is refused with a clear message, and the old value stays
    set_value(page, "zombies.bite_prob", "1.5")
    page.wait_for_function("() => window.hyosanStudio.lastError() !== ''")
    assert (
        "bite prob (zombies): must be at least 0 and at most 1, got 1.5"
        in page.locator("#error").text_content()
    )
    assert bite.input_value() == "0.5"
    # a good one is taken
    set_value(page, "zombies.bite_prob", "0.9")
    page.wait_for_function(
        "() => document.querySelector('[data-key=\"zombies.bite_prob\"]').dataset.last === '0.9'"
    )
    assert js(page, "lastError()") == ""
    page.wait_for_function(READY)
    before = js(page, "counts()")
    page.click("#run")
    page.wait_for_function("() => window.hyosanStudio.tick() >= 300", timeout=60_000)
    after = js(page, "counts()")
    assert after != before and after["human"] < before["human"]  # the outbreak moves
    assert js(page, "points()") > 5
    page.click("#pause")
    page.wait_for_function("() => !window.hyosanStudio.running()")
    paused = js(page, "tick()")
    page.wait_for_timeout(300)
    assert js(page, "tick()") == paused
    page.select_option("#speed", "5")
    page.click("#step")
    page.wait_for_function(f"() => window.hyosanStudio.tick() === {min(paused + 5, 600)}")
    page.click("#reset")
    page.wait_for_function("() => window.hyosanStudio.tick() === 0")
    # save the scenario built: a new folder with the resolved scenario and its map
    page.click("#save")
    page.wait_for_function("() => window.hyosanStudio.saved() !== ''")
    saved = Path(js(page, "saved()"))
    assert saved.is_file() and saved.parent.parent == out and (saved.parent / "small_school.txt").is_file()
    assert "bite_prob = 0.9" in saved.read_text(encoding="utf-8")
    # run to the end: the replay of the run appears
    page.select_option("#speed", "60")
    page.click("#run")
    page.wait_for_function("() => window.hyosanReplay && window.hyosanReplay.ready", timeout=60_000)
    assert page.locator("#replay-box").is_visible()
    assert errors == []
    assert st.status()["sessions"] == 1
    context.close()  # closing the page ends the session and its run
    for _ in range(50):
        if st.status() == {"sessions": 0, "running": 0}:
            break
        time.sleep(0.1)
    assert st.status() == {"sessions": 0, "running": 0}


def test_studio_runs_a_compartment_model_and_opens_a_run_folder(browser, studio, tmp_path_factory):
    import results_school as rs
    from hyosan.results import save

    st, _ = studio
    folder = save(rs.run_result(tmp_path_factory), tmp_path_factory.mktemp("opened") / "run", report=None)
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        page.goto(st.page("target=model:alemi"))
        page.wait_for_function("() => window.hyosanStudio && window.hyosanStudio.target() === 'model:alemi'")
        set_value(page, "alpha", "-1")
        page.wait_for_function("() => window.hyosanStudio.lastError() !== ''")
        assert "must be at least 0" in js(page, "lastError()")
        set_value(page, "beta", "2")
        page.wait_for_function("() => document.querySelector('[data-key=\"beta\"]').dataset.last === '2'")
        page.click("#run")
        page.wait_for_function("() => window.hyosanStudio.points() >= 40", timeout=30_000)
        series = js(page, "series()")
        assert set(series) == {"S", "Z", "R"} and series["S"][0] > series["S"][-1]
        page.fill("#folder", str(folder))
        page.click("#open")
        page.wait_for_function("() => window.hyosanReplay && window.hyosanReplay.ready", timeout=30_000)
        assert page.evaluate("() => window.hyosanReplay.frames()") == len(
            rs.run_result(tmp_path_factory).frame_ticks
        )
    finally:
        context.close()


def open_page(browser, st, target: str):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(90_000)  # a loaded test machine: builds and steps may take a while
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(st.page(f"target={target}"))
    return context, page, errors


def accepted(page, key: str, value: str) -> None:
    page.wait_for_function(
        f"() => document.querySelector('#controls [data-key=\"{key}\"]').dataset.last === '{value}'"
    )


def test_studio_controls_of_every_kind(browser, studio):
    st, _ = studio
    context, page, errors = open_page(browser, st, "tiny-outbreak")
    try:
        page.wait_for_function(READY, timeout=60_000)
        # grouped: the run, the population, the timeline, then the schema's tables and each role
        groups = page.locator("#controls details").evaluate_all("ds => ds.map(d => d.dataset.group)")
        assert groups[:3] == ["run", "population", "timeline"]
        assert {"zombies", "halfbies", "infection", "behaviour", "role: teachers"} <= set(groups)
        # searchable: only matching values stay, in opened groups
        page.fill("#search", "courage")
        shown = page.locator("#controls .ctl:visible").evaluate_all("rs => rs.map(r => r.dataset.search)")
        assert len(shown) >= 2 and all("courage" in text for text in shown), shown
        assert page.locator("#controls details:visible").count() < len(groups)
        page.fill("#search", "")
        # a slider beside each number box, with the schema's range and unit
        page.fill("#search", "zombies.bite_prob")
        slider = page.locator('#controls [data-slider="zombies.bite_prob"]')
        assert slider.get_attribute("min") == "0" and slider.get_attribute("max") == "1"
        assert "(m/s)" in page.locator('label[for="c-zombies.run_speed"]').text_content()
        slider.evaluate("s => { s.value = '0.7'; s.dispatchEvent(new Event('input')); }")
        slider.dispatch_event("change")
        accepted(page, "zombies.bite_prob", "0.7")
        assert page.locator('#controls [data-key="zombies.bite_prob"]').input_value() == "0.7"
        # a switch, a choice, a duration
        page.fill("#search", "roles.teacher.adult")
        page.locator('#controls [data-key="roles.teacher.adult"]').uncheck()
        accepted(page, "roles.teacher.adult", "false")
        page.fill("#search", "behaviour.humans")
        page.select_option('#controls [data-key="behaviour.humans"]', "wander")
        accepted(page, "behaviour.humans", "wander")
        set_value(page, "clock.duration", "5min")
        accepted(page, "clock.duration", "5min")
        page.wait_for_function("() => window.hyosanStudio.tick() === 0")
        # the seed, the population and the timeline's events
        set_value(page, "seed", "7")
        accepted(page, "seed", "7")
        set_value(page, "population.0.count", "5")
        accepted(page, "population.0.count", "5")
        page.wait_for_function("() => (window.hyosanStudio.counts() || {}).human === 8")
        assert js(page, "events()")[0]["tick"] == 60
        set_value(page, "events.0.at", "08:02")
        accepted(page, "events.0.at", "08:02")
        page.wait_for_function("() => window.hyosanStudio.events()[0].tick === 120")
        # an error in the page's words, beside its control, and the value in force comes back
        set_value(page, "population.0.count", "-3")
        page.wait_for_function("() => window.hyosanStudio.lastError() !== ''")
        why = page.locator('#controls [data-ctl="population.0.count"] .why').text_content()
        assert why.startswith("students in classroom 2-A (population): must be at least 0")
        assert "--set" not in why and "population.0" not in why
        assert page.locator('#controls [data-key="population.0.count"]').input_value() == "5"
        # one live chart per state, with tick labels and the timeline's events, above the fold
        assert js(page, "charts()") == ["human", "bitten", "zombie", "halfbie", "dead", "escaped", "rescued"]
        for chart in page.locator("#charts figure").all():
            assert chart.locator("text").count() >= 4
            assert chart.locator("line.ev").count() == 1
            assert chart.bounding_box()["y"] + chart.bounding_box()["height"] <= 900
        speed = page.locator("#speed option").all_text_contents()
        assert "1 min a step (up to 12 min a second)" in speed
        assert "school time simulated per step" in page.locator("#speed-box").text_content()
        assert errors == []
    finally:
        context.close()


def test_studio_shows_a_model_as_a_model_and_a_scenario_as_a_building(browser, studio, tmp_path_factory):
    import results_school as rs
    from hyosan.results import save

    st, _ = studio
    folder = save(rs.run_result(tmp_path_factory), tmp_path_factory.mktemp("view") / "run", report=None)
    context, page, errors = open_page(browser, st, "hyosan-high")
    try:
        page.wait_for_function(READY, timeout=120_000)
        assert js(page, "view()") == "scenario" and page.locator("#live").is_visible()
        for chart in page.locator("#charts figure").all():  # Hyosan High: charts above the fold too
            assert chart.bounding_box()["y"] + chart.bounding_box()["height"] <= 900
        assert js(page, "events()")[0]["tick"] is not None
        due = [e for e in js(page, "events()") if e["tick"] is not None]  # 'when' events: marked once fired
        assert len(due) >= 5
        assert page.locator("#charts figure").first.locator("line.ev").count() == len(due)
        page.select_option("#target", "model:alemi")
        page.wait_for_function("() => window.hyosanStudio.view() === 'model'", timeout=30_000)
        assert not page.locator("#live").is_visible() and not page.locator("#building").is_visible()
        assert not page.locator("#save").is_visible()
        assert js(page, "charts()") == ["S", "Z", "R"]
        assert "bite rate" in page.locator('#controls [data-ctl="beta"] .help').text_content()
        page.select_option('#controls [data-key="method"]', "ssa")
        accepted(page, "method", "ssa")
        for key, value in (("runs", "12"), ("seed", "3"), ("t_end", "50")):
            set_value(page, key, value)
            accepted(page, key, value)
        page.wait_for_function("() => window.hyosanStudio.model().t_end === 50")
        info = page.locator("#model-info").text_content()
        assert "12 runs" in info and "seed 3" in info and "end time 50 days" in info
        page.click("#run")
        page.wait_for_function("() => window.hyosanStudio.points() >= 201", timeout=60_000)
        bands = js(page, "bands()")
        assert set(bands) == {"S", "Z", "R"} and len(bands["Z"]) == 4
        assert max(bands["Z"][3]) > max(bands["Z"][0])  # the runs differ: a real band
        assert page.locator("#charts polygon.band").count() == 6
        last = page.locator("#charts figure").first.locator("text").all_text_contents()
        assert last[-3:] == ["0", "20", "40"]  # the time axis spans the end time chosen (50 days)
        # an opened run folder: its replay is the view, not the live building
        page.fill("#folder", str(folder))
        page.click("#open")
        page.wait_for_function("() => window.hyosanReplay && window.hyosanReplay.ready", timeout=30_000)
        assert js(page, "view()") == "replay" and not page.locator("#scene").is_visible()
        page.select_option("#target", "tiny-outbreak")
        page.wait_for_function("() => window.hyosanStudio.view() === 'scenario'", timeout=30_000)
        assert page.locator("#live").is_visible() and not page.locator("#replay-box").is_visible()
        assert errors == []
    finally:
        context.close()


def test_studio_inspects_and_follows_an_agent(browser, studio):
    st, _ = studio
    context, page, errors = open_page(browser, st, "tiny-outbreak")
    try:
        page.wait_for_function(READY, timeout=60_000)
        page.select_option("#speed", "30")
        while js(page, "counts()")["zombie"] == 0:  # step until someone has turned
            tick = js(page, "tick()")
            assert tick < 600, "nobody turned in the tiny outbreak"
            page.click("#step")
            page.wait_for_function(f"() => window.hyosanStudio.tick() > {tick}")
        states = js(page, "states()")
        zombie = next(i for i, s in enumerate(states) if s == 2 and js(page, f"agentFloor({i})") >= 0)
        page.evaluate(f"() => window.hyosanStudio.showFloor(window.hyosanStudio.agentFloor({zombie}))")
        point = js(page, f"agentPoint({zombie})")
        page.mouse.click(point["x"], point["y"])
        page.wait_for_function("() => window.hyosanStudio.card() !== null")
        card = js(page, "card()")
        assert card["state"] == "zombie" and card["bitten_by"] and card["bitten_at"]
        text = page.locator("#card").text_content()
        for part in (card["name"], card["role"], "zombie", card["bitten_by"]):
            assert part in text
        assert card["room"] and card["room"] in text
        # follow it: the view stays on its floor and the card follows each step
        page.click("#follow")
        assert js(page, "following()")
        before = js(page, "tick()")
        assert before < 600
        page.select_option("#speed", "5")
        page.click("#step")
        page.wait_for_function(f"() => window.hyosanStudio.tick() > {before}")
        assert js(page, "floor()") == js(page, f"agentFloor({card['agent']})")
        assert js(page, "card()")["agent"] == card["agent"]
        if card.get("bitten_by_agent") is not None:  # who bit it, one click away
            page.click("#inspect-biter")
            page.wait_for_function(f"() => window.hyosanStudio.card().agent === {card['bitten_by_agent']}")
        page.click("#close-card")
        page.wait_for_function("() => window.hyosanStudio.card() === null")
        assert not page.locator("#card").is_visible()
        assert errors == []
    finally:
        context.close()


def test_studio_js_holds_no_colours_of_its_own():
    """The page's colours come from palette.py (sent in the page), never from a copy in studio.js."""
    import re

    from hyosan.palette import palette
    from hyosan.studio.server import page_html

    source = (Path(__file__).parent.parent / "src/hyosan/studio/studio.js").read_text(encoding="utf-8")
    assert not re.search(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b|rgb\(", source)
    assert json.dumps(palette(), sort_keys=True) in page_html()
