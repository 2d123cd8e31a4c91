"""``hyosan studio`` in Chromium: pick a scenario, change a value, run and see the counts change;
bad values refused, pause, step, reset, save, models, an opened run folder; closing the page stops it."""

from __future__ import annotations

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
