"""A user's mechanic against the built-in one it copies, side by side in one process.

    python benchmarks/mechanics.py --rounds 5

The user's mechanic is darkness's own module written out as a user's file (``user_darkness.py``
in a temporary folder on Python's path, its mechanic renamed): the same hooks, arrays and keys,
compiled from a module outside hyosan into its own generated kernel, as any user's would be.
Workload: Hyosan High, 3 simulated hours, seed 0, with the mechanic on and night all along
(``dusk`` 08:00, ``dawn`` 23:59: the hidden switch their lights off and move, zombies in the dark
go by ear). Each round runs the two, in alternating order; times are CPU seconds of the run
alone (``time.process_time``), after a warm-up that compiles both kernels. Reports the medians
and the median of the paired ratios (user / built-in: the issue asks for a user's mechanic at
90 % or more of a built-in's speed, a ratio of at most 1.11).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hyosan.engine import Simulation
from hyosan.mechanics import darkness
from hyosan.scenario.load import load_scenario

NIGHT = {"mechanics.dusk": "08:00", "mechanics.dawn": "23:59", "clock.duration": "3h"}


def user_copy() -> str:
    """Write darkness as a user's module; returns its ``module:attribute``."""
    folder = Path(tempfile.mkdtemp(prefix="hyosan-bench-"))
    text = Path(darkness.__file__).read_text(encoding="utf-8")
    for old, new in (('name="darkness"', 'name="user-darkness"'), ('"lights_o', '"user_lights_o')):
        text = text.replace(old, new)  # its own name and event kinds (two mechanics may not share them)
    (folder / "user_darkness.py").write_text(text, encoding="utf-8")
    sys.path.insert(0, str(folder))
    return "user_darkness:MECHANIC"


def run(mechanic: str) -> float:
    loaded = load_scenario("hyosan-high", {**NIGHT, "behaviour.mechanics": f'["{mechanic}"]'})
    sim = Simulation(loaded, seed=0)
    t = time.process_time()
    sim.run_until(sim.n_ticks)
    return time.process_time() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    users = user_copy()
    for m in ("darkness", users):  # warm-up: compile (or load) both kernels
        run(m)
    built, user, ratios = [], [], []
    for k in range(args.rounds):
        order = ("darkness", users) if k % 2 == 0 else (users, "darkness")
        got = {m: run(m) for m in order}
        built.append(got["darkness"])
        user.append(got[users])
        ratios.append(got[users] / got["darkness"])
        print(
            f"round {k + 1}: built-in {got['darkness']:.3f} s, user {got[users]:.3f} s, "
            f"ratio {ratios[-1]:.3f}"
        )
    print(
        f"median: built-in {statistics.median(built):.3f} s, user {statistics.median(user):.3f} s, "
        f"paired ratio {statistics.median(ratios):.3f} (user's speed {1 / statistics.median(ratios):.0%} "
        "of the built-in's)"
    )


if __name__ == "__main__":
    main()
