"""Fingerprints of town runs: a SHA-256 of every number a few runs make (totals, districts, maps,
first arrivals, the log's numbers), so that a change to the town's kernels or events can be shown
to leave the runs draw for draw identical. Run it on the tree before and after a change::

    PYTHONPATH=/tmp/before/src python benchmarks/town_fingerprint.py > before.json
    PYTHONPATH=src python benchmarks/town_fingerprint.py --check before.json
"""

from __future__ import annotations

import argparse
import hashlib
import json

import numpy as np

from hyosan.lattice import Lattice, LatticeParams, TownEvent, load_town, simulate


def _digest(result) -> str:
    h = hashlib.sha256()
    for row in result.totals:
        h.update(json.dumps(row, sort_keys=True).encode())
    for t, counts in result.by_district:
        h.update(np.float64(t).tobytes() + np.ascontiguousarray(counts, np.int64).tobytes())
    for t, maps in result.snapshots:
        h.update(np.float64(t).tobytes() + np.ascontiguousarray(maps, np.int32).tobytes())
    h.update(np.ascontiguousarray(result.arrival, np.float32).tobytes())
    for e in result.log:
        h.update(
            json.dumps({k: v for k, v in e.items() if k not in ("where", "text")}, sort_keys=True).encode()
        )
    h.update(json.dumps(result.fired, sort_keys=True).encode())
    return h.hexdigest()


def _tiny_events():
    return [
        TownEvent("seed", 0.0, "*", zombies=3, bitten=2),
        TownEvent("cordon", 0.5, "box:0,0,1,1", leak=0.1),
        TownEvent("strike", 1.0, "disc:1,1,1.5", fraction_z=0.5, fraction_s=0.2),
        TownEvent("evacuate", 1.5, "*", fraction=0.4, camp="camp", isolation=1.0, speed_km_day=5.0),
        TownEvent("lift_cordon", 2.0, "box:0,0,1,1"),
    ]


def runs() -> dict[str, str]:
    out = {}
    city = load_town("hyosan-city")
    for method in ("exact", "tau"):
        for seed in (0, 7):
            res = simulate(city.lattice, city.params, days=8, method=method, seed=seed, events=city.events)
            out[f"city-{method}-{seed}"] = _digest(res)
    lat = Lattice.from_population(np.full((6, 7), 200), blocked=np.eye(6, 7, k=3, dtype=bool))
    lat.places["camp"] = (5, 0)
    walk = LatticeParams(contact_s=0.05, mu=0.4, move_s=0.3, move_z=0.2)
    for method in ("exact", "tau"):
        for seed in (1, 2, 3):
            res = simulate(
                lat, walk, days=4, method=method, seed=seed, events=_tiny_events(), snapshot_every=0.5
            )
            out[f"tiny-walk-{method}-{seed}"] = _digest(res)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", help="a JSON file of fingerprints to compare with")
    args = ap.parse_args()
    now = runs()
    if args.check:
        with open(args.check, encoding="utf-8") as f:
            before = json.load(f)
        diff = [k for k in before if before[k] != now.get(k)]
        print("identical" if not diff else f"DIFFERENT: {', '.join(diff)}")
        raise SystemExit(1 if diff else 0)
    print(json.dumps(now, indent=1))


if __name__ == "__main__":
    main()
