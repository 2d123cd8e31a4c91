"""The town's report.html in a real browser: self-contained, animated, overlays drawn."""

from __future__ import annotations

import numpy as np
import pytest

from hyosan.lattice.city import load_hyosan
from hyosan.lattice.events import TownEvent
from hyosan.lattice.params import LatticeParams
from hyosan.lattice.simulate import simulate

READY = "() => window.townReady === true"


@pytest.fixture(scope="module")
def town_folder(tmp_path_factory):
    lat = load_hyosan()
    events = [
        TownEvent("seed", 0.0, "school", zombies=5, text="<img src=x onerror=window.pwned=1>"),
        TownEvent("cordon", 0.5, "Hyosan-dong", leak=0.0),
        TownEvent("strike", 1.0, "disc:34,22,4", fraction_z=0.9, fraction_s=0.5),
        TownEvent("evacuate", 1.2, "Riverside", fraction=0.5),
    ]
    r = simulate(
        lat,
        LatticeParams.per_day(beta=0.05, alpha=0.3, eta=24.0, mu=0.3),
        days=3,
        events=events,
        seed=1,
        snapshot_every=0.25,
    )
    folder = tmp_path_factory.mktemp("town") / "run"
    r.save(folder)
    return folder


def _pixel(page, y, x):
    return page.evaluate(
        f"() => Array.from(document.getElementById('map').getContext('2d').getImageData({x}, {y}, 1, 1).data)"
    )


def test_report_is_self_contained_and_animates(browser_page, town_folder):
    page = browser_page.open(town_folder / "report.html", wait_for=READY)
    assert browser_page.errors() == [] and browser_page.offsite_requests() == []
    assert page.evaluate("() => window.pwned") is None  # the chronicle's text is text, never markup
    frames = page.evaluate("() => D.frames.length")
    assert frames == 13
    first = page.locator("#clock").text_content()
    assert first.startswith("Day 1, 08:00")
    page.locator("#frame").evaluate("(el) => { el.value = '8'; el.dispatchEvent(new Event('input')); }")
    assert page.evaluate("() => window.townFrame") == 8
    assert page.locator("#clock").text_content().startswith("Day 1, 08:00") is False
    # The cordon is drawn (yellow) once up, the strike disc, and the river is blue.
    scale = page.evaluate("() => scale")
    assert page.evaluate("() => D.cordons.length") == 1 and page.evaluate("() => D.strikes.length") == 1
    lat = load_hyosan()
    ry, rx = np.argwhere(lat.blocked & (np.arange(lat.shape[0])[:, None] > 15))[0]
    r, g, b, _ = _pixel(page, ry * scale + scale // 2, rx * scale + scale // 2)
    assert b > r and b > g  # blocked cells (the river) are blue
    cy, cx, _ = page.evaluate("() => D.cordons[0].edges.find(e => e[2] === 0)")
    r, g, b, _ = _pixel(page, cy * scale + scale // 2, (cx + 1) * scale)
    assert r > 200 and g > 180 and b < 80  # the cordon line is yellow once it is up (day 1, 20:00)
    page.locator("#frame").evaluate("(el) => { el.value = '0'; el.dispatchEvent(new Event('input')); }")
    r, g, b, _ = _pixel(page, cy * scale + scale // 2, (cx + 1) * scale)
    assert not (r > 200 and g > 180 and b < 80)  # and not before
    page.locator("#play").click()
    page.wait_for_function("() => window.townFrame > 1", timeout=5000)  # it plays on its own
    assert browser_page.errors() == []


def test_report_shows_districts_and_chronicle(browser_page, town_folder):
    page = browser_page.open(town_folder / "report.html", wait_for=READY)
    text = page.locator("body").inner_text()
    assert "Hyosan-dong" in text and "The outbreak begins in Hyosan-dong." in text
    assert "<img src=x" in text
