"""Fingerprints of school runs, array by array: proof that a refactoring keeps runs identical.

    python scripts/fingerprint.py > before.json     # on the old code
    python scripts/fingerprint.py --check before.json   # on the new code: lists what differs

Runs Hyosan High (two seeds, 3 h; one seed 24 h in the dark), the ensemble benchmark's corridor
school (with a checkpoint taken and resumed part-way when the engine can), and the open-floor
benchmark; hashes the final population arrays, the counts and the events table of each.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from hyosan.engine import Simulation  # noqa: E402
from hyosan.rules.state import Agents  # noqa: E402
from hyosan.scenario.load import load_scenario  # noqa: E402
from school_common import open_floor, open_floor_world_arrays  # noqa: E402

POP = Agents._fields  # every population array


def digest(a) -> str:
    a = np.ascontiguousarray(np.asarray(a))
    return hashlib.sha256(str(a.dtype).encode() + str(a.shape).encode() + a.tobytes()).hexdigest()[:16]


def fingerprint(sim: Simulation) -> dict[str, str]:
    sim.run_until(sim.n_ticks)
    out = {name: digest(getattr(sim.pop, name)) for name in POP}
    out["counts"] = digest(sim.counts)
    sim.recorder.drain(sim.arrays.events)
    ev = sim.recorder.events()
    for col in ("tick", "kind", "a", "b", "cell"):
        out[f"events.{col}"] = digest(
            ev[col].cat.codes.to_numpy() if col == "kind" else ev[col].to_numpy().astype(np.int64)
        )
    out["doors"] = digest(
        np.concatenate([sim.arrays.doors.state.astype(np.float64), sim.arrays.doors.strength])
    )
    return out


def cases():
    for seed in (0, 1):
        yield (
            f"hyosan-high/{seed}",
            lambda s=seed: Simulation(load_scenario("hyosan-high", {"clock.duration": "3h"}), seed=s),
        )
    # A day and a night in the dark (the darkness mechanic's generated kernel), most of it the
    # quiet hours a long story has: what the engine skips there must change nothing either.
    yield (
        "hyosan-high-dark-24h/0",
        lambda: Simulation(
            load_scenario("hyosan-high", {"clock.duration": "24h", "behaviour.mechanics": '["darkness"]'}),
            seed=0,
        ),
    )
    yield "corridor/3", lambda: Simulation(load_scenario(ROOT / "benchmarks/ensemble_school.toml"), seed=3)
    yield (
        "open-floor/5",
        lambda: Simulation(open_floor(2000, 20, 300), seed=5, world=open_floor_world_arrays(80, 80)),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", type=Path, help="compare with a saved fingerprint; exit 1 on a difference")
    args = ap.parse_args()
    got = {name: fingerprint(make()) for name, make in cases()}
    if not args.check:
        print(json.dumps(got, indent=1))
        return
    want = json.loads(args.check.read_text())
    bad = [f"{case}: {k}" for case in want for k in want[case] if got.get(case, {}).get(k) != want[case][k]]
    print("\n".join(bad) if bad else "identical: every array of every case")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
