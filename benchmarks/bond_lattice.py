"""Alemi's bond lattice (hyosan.lattice.bond, the critical-point mode): events per second of CPU time
against a plain numba version of the same algorithm, side by side in one process.

The reference (:func:`reference_run`, below) is the algorithm as one writes it first in numba: the
active bonds in an int64 array with each bond's position in another, neighbours by ``divmod``,
every neighbour's bond added or dropped through the position array, one uniform draw for the bond
(``int(u * count)``) and one for bite or kill. It draws from the same inline xoshiro256+ as
hyosan's kernel, and picks the bond from the same 64-bit draw, so the two give the *same* run,
site for site: the script checks it (and tests/test_bond_lattice.py does, on small lattices).
Optionally, earlier versions of ``src/hyosan/lattice/bond.py`` (from ``git show``) run too, on
their own draws (same seeds, other runs).

Each round runs every kernel on the same line-seeded strips (``4 L`` rows by ``L`` columns, the
seed row zombies) for the round's seeds, in turns whose order alternates by round; a kernel's
figure is events (bites + kills) / CPU time (``time.process_time``) over the round, the strip's
allocation included; medians of the rounds and of the rounds' ratios against the reference.

    git show 50f0431:src/hyosan/lattice/bond.py > /tmp/bond_50f0431.py
    python benchmarks/bond_lattice.py --before /tmp/bond_50f0431.py
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time

import numba
import numpy as np

from hyosan.lattice import bond
from hyosan.xoshiro import below, next_raw, seed, uniform

S_, Z_, R_ = bond.S_, bond.Z_, bond.R_


@numba.njit(cache=True)
def _site(i, d, height, width):
    y, x = divmod(i, width)
    if d == 0:
        return y * width + (x + 1) % width
    if d == 1:
        return ((y + 1) % height) * width + x
    if d == 2:
        return y * width + (x - 1) % width
    return ((y - 1) % height) * width + x


@numba.njit(cache=True)
def _bond(i, d, height, width):
    if d == 0:
        return 2 * i
    if d == 1:
        return 2 * i + 1
    return 2 * _site(i, d, height, width) + (0 if d == 2 else 1)


@numba.njit(cache=True)
def _add(b, active, where, count):
    if where[b] < 0:
        active[count] = b
        where[b] = count
        count += 1
    return count


@numba.njit(cache=True)
def _drop(b, active, where, count):
    p = where[b]
    if p >= 0:
        last = active[count - 1]
        active[p] = last
        where[last] = p
        where[b] = -1
        count -= 1
    return count


@numba.njit(cache=True)
def reference_run(state, alpha, gen):
    """The plain version: (bites, kills, steps), ``state`` changed in place like ``run_bond``."""
    height, width = state.shape
    n = height * width
    flat = state.reshape(n)
    active = np.empty(2 * n, dtype=np.int64)
    where = np.full(2 * n, -1, dtype=np.int64)
    count = 0
    for i in range(n):
        if flat[i] != Z_:
            continue
        for d in range(4):
            if flat[_site(i, d, height, width)] == S_:
                count = _add(_bond(i, d, height, width), active, where, count)
    r0, r1, r2, r3 = seed(gen)
    p_bite = 1.0 / (1.0 + alpha)
    bites = 0
    kills = 0
    while count > 0:
        raw, r0, r1, r2, r3 = next_raw(r0, r1, r2, r3)
        b = active[below(raw, count)]
        i = b // 2
        j = _site(i, 0 if b % 2 == 0 else 1, height, width)
        s, z = (i, j) if flat[i] == S_ else (j, i)
        u, r0, r1, r2, r3 = uniform(r0, r1, r2, r3)
        if u < p_bite:
            flat[s] = Z_
            bites += 1
            for d in range(4):
                nb = _site(s, d, height, width)
                b2 = _bond(s, d, height, width)
                if flat[nb] == S_:
                    count = _add(b2, active, where, count)
                else:
                    count = _drop(b2, active, where, count)
        else:
            flat[z] = R_
            kills += 1
            for d in range(4):
                count = _drop(_bond(z, d, height, width), active, where, count)
    return bites, kills, bites + kills


def load_kernel(path: str):
    name = "bond_" + os.path.basename(path).removesuffix(".py").replace("-", "_").replace(".", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.run_bond


def strip(width: int, aspect: int = bond.ASPECT) -> np.ndarray:
    state = np.zeros((aspect * width, width), dtype=np.int8)
    state[0] = Z_
    return state


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--alpha", type=float, default=bond.ALPHA_C, help="kill-to-bite ratio (default alpha_c)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=4, help="runs per kernel and round")
    ap.add_argument("--before", nargs="*", default=[], help="earlier bond.py source files to time too")
    args = ap.parse_args()
    kernels = {"plain numba reference": reference_run, "hyosan": bond.run_bond}
    for path in args.before:
        kernels[path] = load_kernel(path)
    for k in kernels.values():  # compile, or load numba's cache
        k(strip(8), args.alpha, np.random.default_rng(0))
    names = list(kernels)
    print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    for size in args.sizes:
        rates: dict[str, list[float]] = {n: [] for n in names}
        ratios: dict[str, list[float]] = {n: [] for n in names}
        for r in range(args.rounds):
            seeds = [1000 * r + s for s in range(args.seeds)]
            got, finals = {}, {}
            for name in names if r % 2 == 0 else names[::-1]:
                events = 0
                start = time.process_time()
                for s in seeds:
                    state = strip(size)
                    events += kernels[name](state, args.alpha, np.random.default_rng(s))[2]
                got[name] = events / (time.process_time() - start)
                finals[name] = (events, state)
            ref_events, ref_state = finals[names[0]]
            hy_events, hy_state = finals["hyosan"]
            assert ref_events == hy_events and np.array_equal(ref_state, hy_state), "not the same runs"
            for name in names:
                rates[name].append(got[name])
                ratios[name].append(got[name] / got[names[0]])
            print(
                f"L = {size}, round {r} ({ref_events:,} events): "
                + ", ".join(f"{n} {got[n] / 1e6:.1f} M/s" for n in names),
                flush=True,
            )
        for name in names:
            each = ", ".join(f"{x / 1e6:.1f}" for x in rates[name])
            rows.append(
                f"| {size} | {name} | {statistics.median(rates[name]) / 1e6:.1f} M | {each} | "
                f"{statistics.median(ratios[name]):.2f}x |"
            )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print(f"\nalpha = {args.alpha}, {args.rounds} rounds of {args.seeds} runs per size and kernel")
    print("| L | kernel | events/s of CPU time, median | rounds | ratio to the reference, median |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
