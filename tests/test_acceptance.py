"""Acceptance on Hyosan High: the story's targets on held-out seeds (issue 23), the fixed-seed
baseline, and docs/faithfulness.md against drift.

CI runs the first 20 held-out seeds (hyosan.results.faithfulness.CI_SEEDS: none of them was
tuned on), each the whole 48-hour school story, two at a time. Twenty runs judge a share only
to within about ±10 points, so each target here is checked with a stated margin below the
page's goal (the page judges the same targets on 100 held-out seeds, docs/faithfulness.md);
each run's numbers must also equal those the page was generated from (tests/data/), so a change
of behaviour fails until scripts/faithfulness.py is rerun on purpose.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from hyosan.engine import simulate
from hyosan.results import faithfulness as fa

ROOT = Path(__file__).resolve().parent.parent
RECORDED = ROOT / "tests" / "data" / "story_held_out.json"
#: Towns run from the first few seeded school runs only (a town run is ~20 s).
TOWNS = 4


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run(job: tuple[int, bool]) -> tuple[dict, dict]:
    seed, town = job
    res = simulate(seed=seed)
    b = fa.beats(res)
    if town:
        b["town"] = fa.town_beats(res, seed=seed)
    return b, res.summary()


@pytest.fixture(scope="module")
def school():
    jobs = [(s, k < TOWNS) for k, s in enumerate(fa.CI_SEEDS)] + [(0, False)]
    with ProcessPoolExecutor(2) as pool:
        out = list(pool.map(_run, jobs))
    runs = [b for b, _ in out[:-1]]
    return runs, out[-1][1]


pytestmark = pytest.mark.slow


def _share(runs, key) -> float:
    return sum(bool(key(r)) for r in runs) / len(runs)


def _not_yet(measured: str):
    """A story target Hyosan High does not meet yet on the held-out seeds (docs/faithfulness.md;
    issue 23 stays open): strict, so meeting it fails here until the mark is removed."""
    return pytest.mark.xfail(strict=True, reason=f"not met yet on held-out seeds 1000-1039: {measured}")


def test_the_outbreak_takes_off_and_the_first_links_hold(school):
    runs, _ = school
    assert _share(runs, lambda r: r["took_off"]) >= 0.95  # goal 97 %
    assert _share(runs, lambda r: r["nurse_bitten_in_infirmary"]) >= 0.9  # goal 90 %


@_not_yet("12 of 40 take-off runs, median 5 min: the school is overrun too fast")
def test_half_the_school_is_bitten_in_the_story_time(school):
    runs, _ = school
    took = [r for r in runs if r["took_off"]]
    half = [r["half_after_first_zombie_s"] for r in took]
    ok = [h for h in half if h is not None and 600 <= h <= 10800]
    assert len(ok) >= 0.8 * len(took), half  # goal 90 %


def test_never_bitten_survivors(school):
    runs, _ = school
    surv = [r["survivors_never_bitten"] for r in runs]
    assert 5 <= np.median(surv) <= 100, surv  # goal 8-80
    s = sum(r["students_survived"] for r in runs)
    assert s >= 0.8 * (s + sum(r["adults_survived"] for r in runs))  # goal 85 %


@_not_yet("18 of 40 runs end with no never-bitten survivor (all or nothing)")
def test_few_runs_end_with_nobody_untouched(school):
    runs, _ = school
    assert _share(runs, lambda r: r["survivors_never_bitten"] == 0) <= 0.2  # goal 10 %


def test_students_outlive_adults(school):
    runs, _ = school
    na, ka = sum(r["adults"] for r in runs), sum(r["adults_survived"] for r in runs)
    ns, ks = sum(r["students"] for r in runs), sum(r["students_survived"] for r in runs)
    pa, ps = ka / na, ks / ns
    se = math.sqrt(pa * (1 - pa) / na + ps * (1 - ps) / ns)
    assert ps - pa > 2 * se, (ps, pa, se)


@_not_yet("a group of 3+ a day on in 21 of 40 runs; 0.49 of those alive reach the rescue")
def test_groups_hold_out_and_reach_the_rescue(school):
    runs, _ = school
    assert _share(runs, lambda r: (r["group_24h"] or 0) >= 3) >= 0.6  # goal 70 %
    shares = [r["reached_rescue"] / r["alive_at_rescue"] for r in runs if r["alive_at_rescue"]]
    assert shares and np.mean(shares) >= 0.6, shares  # goal 70 %


def test_halfbies_are_few_and_pinned_characters_keep_their_kind(school):
    runs, _ = school
    halfbies = [r["halfbies_end"] for r in runs]
    assert np.median(halfbies) <= 6 and max(halfbies) <= 15, halfbies  # the goal itself
    assert all(r["pinned_kept"] for r in runs)


@_not_yet("Gwi-nam bites in 22 of 40 runs")
def test_gwi_nam_hunts(school):
    runs, _ = school
    assert _share(runs, lambda r: r["gwi_nam_bites"] >= 1) >= 0.65  # goal 75 %


@_not_yet("a named 2-5 student survives in 17 of 40 runs")
def test_the_2_5_cast(school):
    runs, _ = school
    assert _share(runs, lambda r: r["cast_2_5_survivor"]) >= 0.5  # goal 50 %


def test_the_school_seeds_the_town(school):
    runs, _ = school
    assert _share(runs, lambda r: r["escaped_bitten"] >= 1) >= 0.85  # goal 90 %
    towns = [r["town"] for r in runs if r.get("town")]
    assert towns and all(t["took_off"] for t in towns), towns
    assert sum(t["camp_never_infected"] > 0 for t in towns) >= len(towns) - 1, towns


def test_each_run_is_the_one_the_page_was_made_from(school):
    """The held-out runs equal those docs/faithfulness.md was generated from (no drift)."""
    runs, _ = school
    recorded = {r["seed"]: r for r in json.loads(RECORDED.read_text(encoding="utf-8"))}
    for r in runs:
        mine = {k: v for k, v in r.items() if k != "town"}
        theirs = {k: v for k, v in recorded[r["seed"]].items() if k != "town"}
        assert mine == theirs, f"seed {r['seed']} drifted: rerun scripts/faithfulness.py on purpose"


def test_seed0_matches_the_baseline(school):
    _, summary0 = school
    base = _script("baseline")
    fresh = base.dumps(summary0)
    committed = base.BASELINE.read_text(encoding="utf-8")
    diff = "".join(
        difflib.unified_diff(
            committed.splitlines(True), fresh.splitlines(True), "committed baseline", "this run"
        )
    )
    assert not diff, "seed 0 changed (scripts/baseline.py rewrites it on purpose):\n" + diff


def test_baseline_diff_shows_a_change():
    """The baseline check can fail, and says where: a changed number appears in the diff."""
    base = _script("baseline")
    committed = json.loads(base.BASELINE.read_text(encoding="utf-8"))
    changed = dict(committed, agents=committed["agents"] + 1)
    diff = list(difflib.unified_diff(base.dumps(committed).splitlines(), base.dumps(changed).splitlines()))
    assert any(line.startswith("+") and '"agents"' in line for line in diff)


def _dead_run(seed: int) -> dict:
    return {
        "seed": seed,
        "bitten": 30,
        "took_off": True,
        "half_after_first_zombie_s": 1200.0,
        "zombies_created": 10,
        "zombies_destroyed": 1,
        "kills_by_never_bitten": 1,
        "max_kills": 1,
        "survivors_never_bitten": 0,
        "adults": 5,
        "adults_survived": 0,
        "students": 20,
        "students_survived": 0,
        "alive_24h": 0,
        "group_24h": 0,
        "alive_at_rescue": 0,
        "reached_rescue": 0,
        "halfbies_end": 1,
        "pinned_kept": True,
        "gwi_nam_bites": 1,
        "nurse_bitten_in_infirmary": True,
        "cast_2_5_survivor": False,
        "escaped_bitten": 0,
    }


def test_the_page_reports_runs_where_nobody_lived():
    """Runs with no survivor at all: a survival gap of no spread and no rescue, reported and not
    met (the standard error is zero; a page once crashed on it); a target met on the tuning seeds
    and missed on the held-out ones is flagged."""
    dead = [_dead_run(1), _dead_run(2)]
    rows = {r["beat"]: r for r in fa.pooled(dead)}
    gap = rows["Never-bitten survival of students above adults"]
    assert "no spread" in gap["value"] and not gap["ok"]
    assert not rows["Never-bitten alive when a rescue begins who reach it"]["ok"]
    assert rows["Halfbies at the end of a run"]["ok"]
    page = fa.page(dead, dead)
    assert "| Halfbies at the end of a run |" in page and "**no (met in tuning)**" not in page
    lucky = [dict(r, survivors_never_bitten=20, students_survived=20) for r in dead]
    assert "**no (met in tuning)**" in fa.page(lucky, dead)
