"""The ensemble report: fan charts, metrics against parameters, sensitivity bars, in a real browser."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hyosan.ensemble.sensitivity import run_sensitivity
from hyosan.ensemble.sweep import sweep
from hyosan.report.ensemble import SCHOOL_METRICS, build_ensemble_report, write_ensemble_report

TINY = Path(__file__).parent / "data" / "tiny_outbreak.toml"
XSS = "<img src=x onerror=window.pwned=1>"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ens") / "store"
    vary = {"zombies.bite_prob": [0.3, 0.9, 1.5], "scenario.name": [XSS, "plain"]}  # 1.5: those runs fail
    sweep(str(TINY), folder, runs=3, vary=vary, workers=0)
    write_ensemble_report(folder)
    return folder


@pytest.fixture(scope="module")
def sa_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sa") / "store"
    bounds = {"beta": (0.005, 0.015), "alpha": (0.001, 0.01)}
    run_sensitivity("model", "munz-basic", bounds, "final_S", folder, method="morris", samples=4, workers=0)
    write_ensemble_report(folder)
    return folder


def test_report_is_rebuilt_identically_by_the_command(store, tmp_path):
    out = tmp_path / "again.html"
    done = subprocess.run(
        [sys.executable, "-m", "hyosan", "report", str(store), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8") == (store / "report.html").read_text(encoding="utf-8")
    assert XSS not in out.read_text(encoding="utf-8")


def test_not_a_store_is_one_line_and_status_2(tmp_path):
    (tmp_path / "sweep.json").write_text("{nope", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "hyosan", "report", str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "sweep.json" in done.stderr
    with pytest.raises(Exception, match="not a hyosan sweep store"):
        build_ensemble_report(tmp_path / "missing")


def test_ensemble_report_in_the_browser(browser_page, store):
    browser_page.open(store / "report.html")
    page = browser_page.page
    assert browser_page.offsite_requests() == [] and browser_page.errors() == []
    status = json.loads((store / "sweep.json").read_text(encoding="utf-8"))["status"]
    shown = dict(
        page.evaluate(
            "() => Array.from(document.querySelectorAll('[data-store]'),"
            " e => [e.dataset.store, e.textContent])"
        )
    )
    assert shown["finished"] == str(status["finished"]) == "18"
    assert shown["failed"] == str(status["failed"]) == "6" and shown["total"] == "18"
    assert shown["sets"] == "6" and shown["runs"] == "3"
    fans = page.locator("#s-fans img.chart")
    assert fans.count() == 3  # humans, zombies, halfbies
    runs = pd.read_parquet(store / "runs.parquet")
    metrics = [m for m in SCHOOL_METRICS if runs.loc[runs["status"] == "ok", m].notna().any()]
    assert len(metrics) >= 4
    assert page.locator("#s-metrics img.chart").count() == 2 * len(metrics)  # per varied key and metric
    assert all(page.evaluate("() => Array.from(document.images, i => i.complete && i.naturalWidth > 0)"))
    assert page.locator("#s-failed tbody tr").count() == 6
    assert "bite_prob" in page.locator("#s-failed").text_content()
    assert XSS in page.locator("#s-sets").text_content()  # a value with markup, shown as text
    assert page.evaluate("() => typeof window.pwned") == "undefined"


def test_sensitivity_bars_in_the_report(browser_page, sa_store):
    browser_page.open(sa_store / "report.html")
    page = browser_page.page
    assert browser_page.offsite_requests() == [] and browser_page.errors() == []
    section = page.locator("#s-sensitivity")
    assert section.locator("img.chart").count() == 1
    text = section.text_content()
    assert "mu_star" in text and "beta" in text and "alpha" in text
    assert page.locator("#s-fans img.chart").count() == 3  # S, Z, R


def test_fan_charts_warn_when_too_few_runs_make_a_band_and_use_readable_names(store):
    from hyosan.report.ensemble import MIN_RUNS_OUTER, band_warning, metric_label, start_clock

    text = (store / "report.html").read_text(encoding="utf-8")
    assert 'id="band-warning"' in text and "Only 3 runs per set" in text
    assert band_warning(MIN_RUNS_OUTER) == "" and "25-75 % band only" in band_warning(10)
    assert "median only" in band_warning(3)
    assert metric_label("survivors_students") == "students who survived"
    assert metric_label("final_Z") == "Z at the end"
    assert 'alt="students who survived against zombies.bite_prob"' in text
    spec = json.loads((store / "sweep.json").read_text(encoding="utf-8"))
    assert start_clock(spec) == 8 * 3600  # tiny_outbreak starts at 08:00: the fans read clock times
