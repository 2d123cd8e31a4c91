"""A user behaviour against the built-in rules, side by side in one run: Hyosan High (6 h).

Goal (issue 11): a user's behaviour, plugged into the kernels from a scenario, runs at 80 % or
more of the built-in behaviour's speed. Three engines take turns, round after round, on the
same seeds (the machine is shared: its speed drifts between phases):

- built-in: no ``behaviour.zombie_step``;
- no_say: a user behaviour that always defers to the built-in rules (the hook's own cost);
- drawn_to_stairs: a user behaviour that sends wandering zombies to doorways and stairs
  (different choices, so a different outbreak: its time is reported, the ratio is the hook's).

    python benchmarks/behaviour_speed.py --rounds 5 --json out.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "behaviours"))

from hyosan.engine import Simulation  # noqa: E402
from hyosan.scenario.load import load_scenario  # noqa: E402
from school_common import Clock, median, new_report, table, write_json  # noqa: E402

ENGINES = {
    "built-in": None,
    "no_say": "drawn_to_stairs:no_say",
    "drawn_to_stairs": "drawn_to_stairs:drawn_to_stairs",
}


def timed(spec: str | None, seed: int) -> float:
    overrides = {"behaviour.zombie_step": spec} if spec else {}
    sim = Simulation(load_scenario("hyosan-high", overrides), seed=seed)
    with Clock() as c:
        sim.run_until(sim.n_ticks)
    return c.cpu  # CPU seconds: waiting for a core on a shared machine is not counted


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    report = new_report(args)
    for spec in ENGINES.values():
        timed(spec, 0)  # compile (or load from the cache) before timing
    times: dict[str, list[float]] = {name: [] for name in ENGINES}
    for r in range(args.rounds):
        for name, spec in ENGINES.items():
            times[name].append(timed(spec, r))
    base = median(times["built-in"])
    rows = []
    for name, values in times.items():
        m = median(values)
        rows.append(
            [name, f"{m:.2f} s", f"{base / m:.2f}x" if name != "drawn_to_stairs" else "(other outbreak)"]
        )
    ratio = median([b / u for b, u in zip(times["built-in"], times["no_say"], strict=True)])
    print(table(["engine", "Hyosan High 6 h (median)", "speed vs built-in"], rows))
    print(f"\nno_say vs built-in, median of paired rounds: {ratio:.2f}x (goal >= 0.80x)")
    report.update(times=times, paired_speed_ratio=ratio)
    write_json(args.json, report)


if __name__ == "__main__":
    main()
