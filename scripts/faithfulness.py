"""Regenerate docs/faithfulness.md: the story beats of Hyosan High measured over seeds 0-9.

    python3 scripts/faithfulness.py            # writes docs/faithfulness.md
    python3 scripts/faithfulness.py --print    # prints the page and each seed's beats

Runs the seeds two at a time (a process pool). tests/test_faithfulness.py compares the page
with the same table computed from its own runs, so a change of behaviour that moves a beat
fails until this script is run on purpose.
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from hyosan.engine import simulate
from hyosan.results.faithfulness import beats, page

SEEDS = list(range(10))
PAGE = Path(__file__).resolve().parent.parent / "docs" / "faithfulness.md"


def run_seed(seed: int) -> dict:
    return beats(simulate(seed=seed))


def measure(seeds: list[int] = SEEDS, workers: int = 2) -> list[dict]:
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(run_seed, seeds))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--print", action="store_true", help="print instead of writing docs/faithfulness.md")
    args = ap.parse_args()
    runs = measure()
    text = page(runs, SEEDS)
    if args.print:
        print(text)
        for r in runs:
            print(json.dumps(r))
    else:
        PAGE.write_text(text, encoding="utf-8")
        print(f"wrote {PAGE}")


if __name__ == "__main__":
    main()
