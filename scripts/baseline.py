"""Regenerate the fixed-seed baseline: seed 0's summary of Hyosan High.

    python3 scripts/baseline.py     # rewrites tests/baseline/hyosan_high_seed0.json

tests/test_acceptance.py::test_seed0_matches_the_baseline compares a fresh run with this file
and shows any change as a diff; run this script on purpose when a change of behaviour is meant
(and say so in the commit), as Starsim does with its baseline.
"""

from __future__ import annotations

import json
from pathlib import Path

from hyosan.engine import simulate

BASELINE = Path(__file__).resolve().parent.parent / "tests" / "baseline" / "hyosan_high_seed0.json"


def baseline_summary(summary: dict) -> dict:
    """The summary without what changes with no change of behaviour (the version)."""
    return {k: v for k, v in summary.items() if k != "version"}


def dumps(summary: dict) -> str:
    return json.dumps(baseline_summary(summary), indent=2, sort_keys=True) + "\n"


def main() -> None:
    BASELINE.write_text(dumps(simulate(seed=0).summary()), encoding="utf-8")
    print(f"wrote {BASELINE}")


if __name__ == "__main__":
    main()
