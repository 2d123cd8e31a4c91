"""The exact solver's hot loop, versions side by side: ``run_exact`` of each given source file (an
earlier commit's ``src/hyosan/lattice/exact.py``, from ``git show``), and of the installed hyosan
with ``now``, timed from the same state in one process.

What it fixes that a plain timing does not:

- every kernel runs on the *same* arrays (the state is copied into them before each round), since
  arrays at other addresses alone moved one kernel by 2-4 % on the benchmark machine;
- each kernel's set-up (an O(cells) pass, tens of ms on the country) is measured apart (a
  one-reaction call, the least of three) and taken off, so the figure is the loop's;
- the kernels take turns, the order alternating by round; CPU time (``time.process_time``); medians.

The state is the synthetic country (benchmarks/town.py's) with 100 zombies in its most crowded
cell, advanced ``--warm`` reactions by the installed solver (0: the seed itself). Run from the
repository root:

    git show c90de86:src/hyosan/lattice/exact.py > /tmp/exact_c90de86.py
    python benchmarks/town_side_by_side.py now /tmp/exact_c90de86.py --warm 15e6 --events 4e6
    python benchmarks/town_side_by_side.py now /tmp/exact_c90de86.py --warm 0 --events 10e6
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import town
from hyosan.lattice import exact
from hyosan.lattice.city import synthetic_country
from hyosan.lattice.params import LatticeParams


def _kernel(path: str):
    """``run_exact`` of the installed hyosan (``now``) or of a source file (town.py's loader)."""
    return town._positional(exact.run_exact) if path == "now" else town._kernel_from_file(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "kernels", nargs="+", help="'now' or exact-solver source files; the first is the reference"
    )
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--events", type=float, default=4e6, help="reactions a round")
    ap.add_argument("--warm", type=float, default=15e6, help="reactions before the state timed from")
    args = ap.parse_args()
    kernels = {name: _kernel(name) for name in args.kernels}
    lat = synthetic_country()
    params = LatticeParams()
    k = town._k(params)
    small = synthetic_country(60, 100, 1e6, seed=1, cities=5)
    for kernel in kernels.values():  # compile
        town.exact_rate(small, params, 10_000, kernel)
    S, E, Z, R = town._arrays(lat)
    Z[town._seed_cell(lat)] = 100
    arrival = np.full(S.shape, np.inf, np.float32)
    we, ws, width = lat.w_east.ravel(), lat.w_south.ravel(), lat.shape[1]
    t = town._positional(exact.run_exact)(
        S,
        E,
        Z,
        R,
        we,
        ws,
        width,
        k,
        0.0,
        1e9,
        int(args.warm),
        arrival,
        np.zeros(5, np.int64),
        np.random.default_rng(7),
    )
    base = (S, E, Z, R, arrival)
    work = tuple(x.copy() for x in base)

    def call(kernel, events, seed):
        for w, b in zip(work, base, strict=True):
            np.copyto(w, b)
        fired = np.zeros(5, np.int64)
        c0 = time.process_time()
        kernel(*work[:4], we, ws, width, k, t, 1e9, events, work[4], fired, np.random.default_rng(seed))
        return time.process_time() - c0, int(fired.sum())

    setup = {name: min(call(kernel, 1, 1)[0] for _ in range(3)) for name, kernel in kernels.items()}
    busy = int(((E > 0) | (Z > 0)).sum())
    print(
        f"state: {t:.2f} days, {busy} cells with bitten or zombies; set-up (ms): "
        + ", ".join(f"{n} {v * 1e3:.1f}" for n, v in setup.items())
    )
    rates: dict[str, list[float]] = {name: [] for name in kernels}
    for r in range(args.rounds):
        for name in list(kernels) if r % 2 == 0 else list(kernels)[::-1]:
            cpu, n = call(kernels[name], int(args.events), 100 + r)
            rates[name].append(n / (cpu - setup[name]))
    ref = float(np.median(rates[args.kernels[0]]))
    for name, v in rates.items():
        med = float(np.median(v))
        print(
            f"{name}: {med / 1e6:.2f} M/s ({med / ref:.3f}x the first), rounds "
            f"{[round(x / 1e6, 2) for x in v]}"
        )


if __name__ == "__main__":
    main()
