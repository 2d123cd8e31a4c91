"""Building a World straight from arrays at a million agents' scale (2000 x 2000 cells, the floor of
school_million.py): CPU time side by side against an earlier ``src/hyosan/world/world.py`` (from
``git show``) in one process, and each one's peak resident memory in a fresh process of its own.

The rounds alternate the order of the two; the figure is the median CPU time (``time.process_time``)
and the median of the rounds' ratios. Peak memory: VmHWM in a subprocess that imports
hyosan, builds the World once and reports its peak (the import alone is measured too).

    git show 50f0431:src/hyosan/world/world.py > /tmp/world_50f0431.py
    python benchmarks/world_build.py /tmp/world_50f0431.py
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time

import numpy as np

from hyosan.world import world as world_now


def load_module(path: str):
    if path == "now":
        return world_now
    name = "world_" + os.path.basename(path).removesuffix(".py").replace("-", "_").replace(".", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def build(module, width: int, height: int):
    """The open floor of school_common.open_floor_world_arrays, with ``module``'s World."""
    tiles = np.full((1, height, width), 1, dtype=np.uint8)  # Tile.FLOOR
    room_id = np.zeros((1, height, width), dtype=np.int16)
    room = module.Room(0, "floor", 0, "hall", np.arange(width * height, dtype=np.int64))
    empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    return module.World(
        "open floor",
        ["1F"],
        tiles,
        room_id,
        [room],
        empty_i,
        np.zeros(0, dtype=np.uint8),
        empty_f,
        np.zeros((0, 2), dtype=np.int64),
        {},
    )


_PEAK = """
import json, sys, time
sys.path.insert(0, {here!r})
import world_build
module = world_build.load_module({path!r})
world_build.build(module, 40, 40)  # compile, or load numba's cache
before = world_build.hwm_mib()
start = time.process_time()
w = world_build.build(module, {size}, {size})
cpu = time.process_time() - start
print(json.dumps({{"peak_mib": world_build.hwm_mib(), "peak_before_mib": before, "cpu_s": cpu}}))
"""


def hwm_mib() -> float:
    """Peak resident memory of this process, MiB (VmHWM: unlike getrusage's ru_maxrss, it does not
    carry over the parent's peak into a process it started)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak(path: str, size: int) -> dict:
    here = os.path.dirname(os.path.abspath(__file__))
    code = textwrap.dedent(_PEAK.format(here=here, path=path, size=size))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before", help="an earlier world.py source file")
    ap.add_argument("--size", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--peak-only", action="store_true", help="only the peak memory of each")
    args = ap.parse_args()
    if args.peak_only:
        for name, path in (("now", "now"), ("before", args.before)):
            p = peak(path, args.size)
            mib, first = p["peak_mib"], p["peak_before_mib"]
            print(f"{name}: peak {mib:.0f} MiB (after import {first:.0f}), {p['cpu_s']:.2f} s")
        return
    modules = {"now": world_now, "before": load_module(args.before)}
    for m in modules.values():
        build(m, 40, 40)
    print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    times: dict[str, list[float]] = {k: [] for k in modules}
    ratios = []
    for r in range(args.rounds):
        got = {}
        for name in list(modules) if r % 2 == 0 else list(modules)[::-1]:
            start = time.process_time()
            w = build(modules[name], args.size, args.size)
            got[name] = time.process_time() - start
            if name == "now":
                mine = w
            else:
                theirs = w
        for a in ("nbr_start", "nbr_idx", "nbr_cost", "snd_start", "snd_idx", "snd_cost"):
            assert np.array_equal(getattr(mine, a), getattr(theirs, a)), a
        del mine, theirs, w
        for k in modules:
            times[k].append(got[k])
        ratios.append(got["before"] / got["now"])
        print(f"round {r}: now {got['now']:.2f} s, before {got['before']:.2f} s", flush=True)
    peaks = {"now": peak("now", args.size), "before": peak(args.before, args.size)}
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    same = "the same graphs, array for array"
    print(f"\nWorld {args.size} x {args.size} from arrays, {args.rounds} rounds; {same}")
    print("| World build | CPU time, median | rounds | peak RSS (own process; after import) |")
    print("|---|---|---|---|")
    for k in modules:
        p = peaks[k]
        each = ", ".join(f"{x:.2f}" for x in times[k])
        print(
            f"| {k} | {statistics.median(times[k]):.2f} s | {each} | "
            f"{p['peak_mib']:.0f} MiB ({p['peak_before_mib']:.0f}) |"
        )
    print(f"speed-up, median of the rounds: {statistics.median(ratios):.1f}x")


if __name__ == "__main__":
    main()
