"""The town's report.html in a real browser: self-contained, animated, overlays drawn, charts over
time overall and by district with the events, colour scales, the school report's look, a phone
layout; and the country run by name from the CLI, its outputs sized for it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import run_cli
from hyosan.lattice.city import load_hyosan
from hyosan.lattice.events import TownEvent
from hyosan.lattice.params import LatticeParams
from hyosan.lattice.report import build_town_report, map_factor
from hyosan.lattice.simulate import simulate
from hyosan.report.theme import PAGE_CSS

READY = "() => window.townReady === true"
XSS = "<img src=x onerror=window.pwned=1>"


@pytest.fixture(scope="module")
def town_result():
    lat = load_hyosan()
    events = [
        TownEvent("seed", 0.0, "school", zombies=5, text=XSS),
        TownEvent("cordon", 0.5, "Hyosan-dong", leak=0.0, text="The army seals Hyosan-dong."),
        TownEvent("strike", 1.0, "disc:34,22,4", fraction_z=0.9, fraction_s=0.5, text="The army strikes."),
        TownEvent("evacuate", 1.2, "Riverside", fraction=0.5),
    ]
    return simulate(
        lat,
        LatticeParams.per_day(beta=0.05, alpha=0.3, eta=24.0, mu=0.3),
        days=3,
        events=events,
        seed=1,
        snapshot_every=0.25,
    )


@pytest.fixture(scope="module")
def town_folder(tmp_path_factory, town_result):
    folder = tmp_path_factory.mktemp("town") / "run"
    town_result.save(folder)
    return folder


def _pixel(page, y, x):
    return page.evaluate(
        f"() => Array.from(document.getElementById('map').getContext('2d').getImageData({x}, {y}, 1, 1).data)"
    )


def _data(page):
    return page.evaluate("() => JSON.parse(document.getElementById('town-data').textContent)")


def _seek(page, k: int) -> None:
    page.locator("#frame").evaluate(f"(el) => {{ el.value = '{k}'; el.dispatchEvent(new Event('input')); }}")


def test_report_is_self_contained_and_animates(browser_page, town_folder):
    page = browser_page.open(town_folder / "report.html", wait_for=READY)
    assert browser_page.errors() == [] and browser_page.offsite_requests() == []
    assert page.evaluate("() => window.pwned") is None  # the chronicle's text is text, never markup
    data = _data(page)
    assert len(data["frames"]) == 13 and data["factor"] == 1
    first = page.locator("#clock").text_content()
    assert first.startswith("Day 1, 08:00")
    _seek(page, 8)
    assert page.evaluate("() => window.townFrame") == 8
    assert page.locator("#clock").text_content().startswith("Day 1, 08:00") is False
    # The cordon is drawn (amber) once up, the strike disc, and the river is water blue.
    scale = page.evaluate("() => document.getElementById('map').width") // data["width"]
    assert len(data["cordons"]) == 1 and len(data["strikes"]) == 1
    lat = load_hyosan()
    ry, rx = np.argwhere(lat.blocked & (np.arange(lat.shape[0])[:, None] > 15))[0]
    r, g, b, _ = _pixel(page, ry * scale + scale // 2, rx * scale + scale // 2)
    assert b > r and b > g  # blocked cells (the river) are blue
    cy, cx, _ = next(e for e in data["cordons"][0]["edges"] if e[2] == 0)

    def amber(rgb):
        return rgb[0] > 200 and 130 < rgb[1] < 200 and rgb[2] < 80

    assert amber(_pixel(page, cy * scale + scale // 2, (cx + 1) * scale))  # up at day 1, 20:00
    _seek(page, 0)
    assert not amber(_pixel(page, cy * scale + scale // 2, (cx + 1) * scale))  # and not before
    page.locator("#play").click()
    page.wait_for_function("() => window.townFrame > 1", timeout=5000)  # it plays on its own
    assert browser_page.errors() == []


def test_report_shows_districts_and_chronicle(browser_page, town_folder):
    page = browser_page.open(town_folder / "report.html", wait_for=READY)
    text = page.locator("body").inner_text()
    assert "Hyosan-dong" in text and "The outbreak begins in Hyosan-dong." in text
    assert XSS in text
    # readable column names, times as the chronicle writes them
    headers = page.locator("#districts th").all_text_contents()
    assert headers == [
        "district",
        "people at the start",
        "first infected",
        "fell (under a tenth human)",
        "people left",
    ]
    assert "first_arrival_days" not in page.content() and "humans_left" not in text
    row = page.locator("#districts tr:has-text('Hyosan-dong') td").all_text_contents()
    assert row[2].startswith("Day 1, ")


def test_charts_over_time_with_the_events_and_a_playhead(browser_page, town_folder, town_result):
    page = browser_page.open(town_folder / "report.html", wait_for=READY)
    ids = page.locator("svg.chart-svg").evaluate_all("s => s.map(x => x.id)")
    assert ids == ["chart-totals", "chart-district-S", "chart-district-Z"]
    # each compartment overall, each district in the district charts
    series = page.locator("#chart-totals polyline").evaluate_all("p => p.map(x => x.dataset.series)")
    assert series == ["people (S)", "bitten (E)", "zombies (Z)", "removed (R)"]
    districts = page.locator("#chart-district-Z polyline").evaluate_all("p => p.map(x => x.dataset.series)")
    assert districts == list(town_result.lattice.district_names)
    # the events, in the scenario's words (markup in them stays text)
    events = page.locator("#chart-totals g.ev").evaluate_all("g => g.map(x => x.dataset.event)")
    assert "The army seals Hyosan-dong." in events and "The army strikes." in events and XSS in events
    # the last point of the people line is the run's last count
    last = page.locator("#chart-totals polyline").first.get_attribute("points").split()[-1]
    assert float(last.split(",")[0]) == pytest.approx(960 - 16, abs=0.2)
    # a click on a chart moves the map there; the playhead follows
    page.locator("#chart-totals").scroll_into_view_if_needed()
    box = page.locator("#chart-totals").bounding_box()
    k = box["width"] / 960
    page.mouse.click(box["x"] + (52 + (960 - 68) * 0.5) * k, box["y"] + 150 * k)
    assert page.evaluate("() => window.townFrame") == 6  # day 1.5 of 3: the seventh map
    x = float(page.locator("#chart-totals .town-playhead").get_attribute("x1"))
    assert x == pytest.approx(52 + (960 - 68) * 0.5, abs=0.5)
    assert browser_page.errors() == []


def test_colour_scales_and_the_school_report_s_look(browser_page, town_folder):
    page = browser_page.open(town_folder / "report.html", wait_for=READY)
    scales = page.locator(".scale")
    assert scales.count() == 2
    assert "people per 150 m cell" in scales.nth(0).inner_text()
    assert "zombies per 150 m cell" in scales.nth(1).inner_text()
    ticks = scales.nth(0).locator(".ticks span").all_text_contents()
    assert ticks[0] == "0" and len(ticks) == 5
    # the light theme of the school's report: its style sheet, its background
    assert PAGE_CSS.strip() in page.content()
    assert page.evaluate("() => getComputedStyle(document.body).backgroundColor") == "rgb(250, 250, 250)"
    assert page.locator('meta[name="viewport"]').count() == 1


def test_phone_layout_has_no_sideways_scroll(browser, town_folder):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto((town_folder / "report.html").resolve().as_uri())
        page.wait_for_function(READY)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        width = page.locator("#map").bounding_box()["width"]
        assert 330 <= width <= 390  # the map fills the phone's width
        chart = page.locator("#chart-totals").bounding_box()
        assert chart["x"] >= 0 and chart["x"] + chart["width"] <= 390
        assert errors == []
    finally:
        context.close()


def test_a_country_s_map_is_drawn_in_blocks():
    assert map_factor((48, 64)) == 1
    assert map_factor((900, 1500)) == 2  # 750 x 450 blocks: 337,500 cells
    assert map_factor((3000, 4000)) == 6  # 500 x 667 blocks


def test_report_of_a_lattice_too_big_for_one_cell_a_pixel(town_result, monkeypatch):
    """Above the cells' limit the map is drawn in blocks: 2 x 2 here, each the sum of its people."""
    import base64
    import zlib

    from hyosan.lattice import report

    monkeypatch.setattr(report, "MAX_MAP_CELLS", 48 * 64 // 4)
    html = build_town_report(town_result)
    data = json.loads(html.split('id="town-data">')[1].split("</script>")[0])
    assert data["factor"] == 2 and (data["height"], data["width"]) == (24, 32)
    lat = town_result.lattice
    blocked = np.frombuffer(zlib.decompress(base64.b64decode(data["blocked"])), np.uint8).reshape(24, 32)
    assert (blocked == lat.blocked.reshape(24, 2, 32, 2).all(axis=(1, 3))).all()
    _, first = town_result.snapshots[0]
    people = ((first[0] + first[1]).reshape(48, 64) * ~lat.blocked).reshape(24, 2, 32, 2).sum(axis=(1, 3))
    shown = np.frombuffer(zlib.decompress(base64.b64decode(data["frames"][0]["s"])), np.uint8).reshape(24, 32)
    assert shown.flat[np.argmax(people)] == shown.max() and ((shown > 0) == (people > 0)).all()
    assert "blocks of 2 x 2 cells" in html


def test_the_country_runs_by_name_with_outputs_sized_for_it(capsys, tmp_path):
    import xarray as xr

    out = tmp_path / "country"
    code, stdout, err = run_cli(
        capsys, "town", "synthetic-country", "--days", "2", "--snapshot-every", "1", "--out", str(out)
    )
    assert code == 0, err
    assert "Synthetic country" in stdout and "900 x 1500 cells" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["people"] > 299e6 and summary["method"] == "tau"
    # the regions are the districts; the seed in the capital is the scenario's sentence
    for region in ("north-west", "centre", "south-east"):
        assert region in stdout
    assert summary["events"][0]["text"] == "A hundred infected arrive in the capital."
    # cells.nc: every cell, compressed (3 maps of 4 int32 layers raw would be 65 MB)
    size = (out / "cells.nc").stat().st_size
    assert size < 40e6, size
    with xr.open_dataset(out / "cells.nc") as ds:
        assert ds["S"].shape == (3, 900, 1500)
        assert int(ds["S"].isel(time=0).sum()) + int(ds["E"].isel(time=0).sum()) > 299e6
    report = (out / "report.html").stat().st_size
    assert report < 10e6, report
