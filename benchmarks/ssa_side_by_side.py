"""The exact SSA's kernel, versions side by side: ``ssa_direct`` of the installed hyosan (``now``) and
of earlier versions of ``src/hyosan/compartmental/ssa.py`` (from ``git show``), on Alemi's SZR
(``alemi``: alpha 0.8, beta 1, Z0 = 10) at N = 1e6, run to absorption, in one process.

Each round calls every kernel once per seed of the round (the same seeds for all), in turns whose
order alternates by round; a kernel's figure is reactions fired / CPU time (``time.process_time``)
over the round, and the table gives the median of the rounds and the median of the rounds' ratios
against the first kernel. Compilation is excluded (a warm-up call on a small N first). Run from
the repository root:

    git show 50f0431:src/hyosan/compartmental/ssa.py > /tmp/ssa_50f0431.py
    python benchmarks/ssa_side_by_side.py /tmp/ssa_50f0431.py now --rounds 7
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time

import numpy as np

from hyosan import models
from hyosan.compartmental import ssa


def kernel(path: str):
    """``ssa_direct`` of the installed hyosan (``now``) or of a source file."""
    if path == "now":
        return ssa.ssa_direct
    name = "ssa_" + os.path.basename(path).removesuffix(".py").replace("-", "_").replace(".", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.ssa_direct


def arrays(n: float, alpha: float):
    m = models.get("alemi")
    net = m.compile(m.resolve({"N": n, "Z0": 10, "alpha": alpha}), 1e9)
    grid = np.array([0.0, 1e9])
    x0 = np.rint(net.x0).astype(np.int64)
    rest = (net.stoich, net.reactants, net.offsets, net.rates, grid, net.strike_times, net.strike_species)
    rest += (net.strike_fractions, net.strike_to, net.reset_const, net.reset_coef)
    return x0, rest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kernels", nargs="+", help="'now' or ssa.py source files; the first is the reference")
    ap.add_argument("--n", type=float, default=1e6)
    ap.add_argument("--alpha", type=float, default=0.8)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=3, help="trajectories per kernel and round")
    args = ap.parse_args()
    kernels = {name: kernel(name) for name in args.kernels}
    x0, rest = arrays(args.n, args.alpha)
    sx0, srest = arrays(1000, args.alpha)
    for k in kernels.values():  # compile, or load numba's cache
        k(sx0, *srest, 10**12, np.random.default_rng(0))
    print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    rates: dict[str, list[float]] = {name: [] for name in kernels}
    ratios: dict[str, list[float]] = {name: [] for name in kernels}
    names = list(kernels)
    for r in range(args.rounds):
        seeds = [1000 * r + s for s in range(args.seeds)]
        got = {}
        for name in names if r % 2 == 0 else names[::-1]:
            fired = 0
            start = time.process_time()
            for s in seeds:
                out, f, _ = kernels[name](x0, *rest, 10**12, np.random.default_rng(s))
                assert out[-1, 0] == 0 or out[-1, 1] == 0, "not absorbed"
                fired += f
            got[name] = fired / (time.process_time() - start)
        for name in names:
            rates[name].append(got[name])
            ratios[name].append(got[name] / got[names[0]])
        print(f"round {r}: " + ", ".join(f"{n} {got[n] / 1e6:.1f} M/s" for n in names), flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print(f"\nalemi, N = {args.n:g}, alpha = {args.alpha}, {args.rounds} rounds of {args.seeds} trajectories")
    print("| kernel | reactions/s of CPU time, median | rounds | ratio to the first, median |")
    print("|---|---|---|---|")
    for name in names:
        rounds = ", ".join(f"{x / 1e6:.1f}" for x in rates[name])
        print(
            f"| {name} | {statistics.median(rates[name]) / 1e6:.1f} M | {rounds} | "
            f"{statistics.median(ratios[name]):.2f}x |"
        )


if __name__ == "__main__":
    main()
