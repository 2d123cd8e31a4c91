"""Measure Hyosan High against the story's targets over many seeds; regenerate docs/faithfulness.md.

    python3 scripts/faithfulness.py                     # the page: tuning + held-out seeds + robustness
    python3 scripts/faithfulness.py --seeds 0-19        # print the targets over seeds 0-19
    python3 scripts/faithfulness.py --seeds 0-9 --set halfbies.fraction=0.004 --town

Seeds run in a process pool (``--workers``, all cores by default). ``--json FILE`` appends each
run's beats (one JSON object a line) for later pooling. The page's seeds are
hyosan.results.faithfulness's TUNING_SEEDS and HELD_OUT_SEEDS; tests/test_acceptance.py runs
the first 20 held-out seeds in CI and checks the same targets with its stated margins.
"""

from __future__ import annotations

import argparse
import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from hyosan.engine import simulate
from hyosan.results import faithfulness as fa

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "faithfulness.md"
#: Each held-out run's beats: tests/test_acceptance.py checks its runs against them (drift).
RECORDED = ROOT / "tests" / "data" / "story_held_out.json"
#: The tuned or guessed numbers the robustness table moves by -20 % and +20 %.
ROBUST_KEYS = {
    "behaviour.hide_below": 0.437,
    "behaviour.barricade_strength": 18200.0,
    "zombies.bite_prob": 0.371,
    "infection.hide_bite": 0.2,
    "halfbies.bite_prob": 0.5034,
    "roles.student.courage": 0.29,
}


#: What the last change of the story's mechanisms moved (written by hand; the tables are measured).
NOTES: list[str] = []


def run_seed(job: tuple[int, dict[str, str], bool]) -> dict:
    seed, overrides, town = job
    res = simulate(seed=seed, overrides=overrides or None)
    b = fa.beats(res)
    if town:
        b["town"] = fa.town_beats(res, seed=seed)
    return b


def measure(seeds, overrides=None, town=False, workers=None) -> list[dict]:
    jobs = [(s, dict(overrides or {}), town) for s in seeds]
    with ProcessPoolExecutor(workers or os.cpu_count()) as pool:
        return list(pool.map(run_seed, jobs))


def _seeds(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b) + 1)) if b else [int(a)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", help="print the targets over these seeds (e.g. 0-19 or 1,5,9)")
    ap.add_argument("--set", action="append", default=[], help="KEY=VALUE override (repeatable)")
    ap.add_argument("--town", action="store_true", help="also run the town each school run seeds")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--json", help="append each run's beats to this file (JSON lines)")
    ap.add_argument(
        "--held-out", type=int, default=len(fa.HELD_OUT_SEEDS), help="the page: this many held-out seeds"
    )
    ap.add_argument("--no-robustness", action="store_true", help="the page: leave the robustness table out")
    args = ap.parse_args()
    overrides = dict(kv.split("=", 1) for kv in args.set)
    if args.seeds:
        runs = measure(_seeds(args.seeds), overrides, args.town, args.workers)
        if args.json:
            with open(args.json, "a", encoding="utf-8") as f:
                for r in runs:
                    f.write(json.dumps({"set": overrides, **r}) + "\n")
        for row in fa.pooled(runs):
            print(f"{'ok ' if row['ok'] else 'NO '} {row['beat']}: {row['value']} (goal {row['target']})")
        return
    tuning = measure(fa.TUNING_SEEDS, town=True, workers=args.workers)
    held = measure(fa.HELD_OUT_SEEDS[: args.held_out], town=True, workers=args.workers)
    robust = []
    for key, value in [] if args.no_robustness else ROBUST_KEYS.items():
        for change in (-0.2, 0.2):
            runs = measure(fa.HELD_OUT_SEEDS[:20], {key: str(value * (1 + change))}, workers=args.workers)
            robust.append(
                {
                    "key": key,
                    "change": f"{change:+.0%}",
                    "runs": len(runs),
                    "takeoff": sum(r["took_off"] for r in runs) / len(runs),
                    "none_left": sum(r["survivors_never_bitten"] == 0 for r in runs) / len(runs),
                    "median": float(sorted(r["survivors_never_bitten"] for r in runs)[len(runs) // 2]),
                }
            )
    PAGE.write_text(fa.page(tuning, held, robust, NOTES), encoding="utf-8")
    RECORDED.write_text(json.dumps(held, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {PAGE} and {RECORDED}")


if __name__ == "__main__":
    main()
