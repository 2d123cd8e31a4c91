"""Checkpoints of Hyosan High: the data format (zip of .npy + JSON, checked field by field) against
the pickle hyosan wrote before (a small copy of that writer and reader lives here, and only here),
timed side by side in one process as CPU time.

    PYTHONPATH=src python3 benchmarks/checkpoint.py [--minutes 10] [--rounds 5]

Prints the CPU time of a write and of a restore in each format (median of the rounds, the order
alternating each round), the ratio new / old, and the file sizes. Goal (issue 20): within 1.5x.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle  # the old format, for comparison only: never used on a file from outside
import statistics
import tempfile
import time
from pathlib import Path

from hyosan import __version__
from hyosan.behaviours import tick_kernel
from hyosan.engine import Simulation
from hyosan.scenario.load import load_scenario

OLD_FORMAT = "hyosan-checkpoint/1"


def old_save(sim: Simulation, path: Path) -> None:
    """The writer before issue 20: ``vars(sim)`` minus two attributes, pickled behind a digest."""
    sim.recorder.drain(sim.arrays.events)
    state = {k: v for k, v in vars(sim).items() if k not in ("user_systems", "advance")}
    collectors, sim.recorder.collectors = sim.recorder.collectors, {}
    try:
        payload = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        sim.recorder.collectors = collectors
    digest = hashlib.sha256(payload).hexdigest()
    path.write_bytes(f"{OLD_FORMAT} {__version__} {digest}\n".encode() + payload)


def old_restore(path: Path) -> Simulation:
    """The reader before issue 20 (our own file, written just above)."""
    data = path.read_bytes()
    head, _, payload = data.partition(b"\n")
    assert hashlib.sha256(payload).hexdigest() == head.split()[2].decode()
    state = pickle.loads(payload)  # the benchmark's own file, written above
    sim = Simulation.__new__(Simulation)
    vars(sim).update(state)
    sim.user_systems = []
    sim.advance = tick_kernel(sim.scenario.behaviour, None, sim.loaded.source)
    return sim


def cpu(fn) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=int, default=10, help="simulated minutes before the checkpoint")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    sim = Simulation(load_scenario("hyosan-high"), seed=1)
    sim.step(args.minutes * 60)
    folder = Path(tempfile.mkdtemp())
    new_path, old_path = folder / "new.ckpt", folder / "old.ckpt"
    times = {"write new": [], "write old": [], "restore new": [], "restore old": []}
    sim.checkpoint(new_path)  # warm both paths once (imports, the first allocation)
    old_save(sim, old_path)
    Simulation.restore(new_path)
    old_restore(old_path)
    for r in range(args.rounds):
        order = ("new", "old") if r % 2 == 0 else ("old", "new")
        for kind in order:
            if kind == "new":
                times["write new"].append(cpu(lambda: sim.checkpoint(new_path)))
                times["restore new"].append(cpu(lambda: Simulation.restore(new_path)))
            else:
                times["write old"].append(cpu(lambda: old_save(sim, old_path)))
                times["restore old"].append(cpu(lambda: old_restore(old_path)))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"Hyosan High at +{args.minutes} min, {sim.pop.n} agents; median CPU time of {args.rounds} rounds")
    for op in ("write", "restore"):
        new, old = med[f"{op} new"], med[f"{op} old"]
        print(
            f"  {op:8s} new {new * 1000:7.1f} ms   old (pickle) {old * 1000:7.1f} ms   ratio {new / old:.2f}x"
        )
    print(
        f"  size     new {new_path.stat().st_size / 1e6:.1f} MB   old {old_path.stat().st_size / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
