"""Shared pieces of the school-engine benchmarks (school_vs_mesa, school_million, hyosan_high).

- :func:`open_floor` builds the benchmark scenario in memory: one room covering an open floor,
  humans who wander, zombies who bite their neighbours and otherwise wander, on a World made
  from a generated ASCII map (small floors) or straight from arrays (large ones).
- :func:`machine`, :func:`median`, :func:`write_json` and :func:`table` report the figures the
  same way in every script.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import numba
import numpy as np

from hyosan.scenario.load import LoadedScenario, validate
from hyosan.world import Room, World, load_ascii_text
from hyosan.world.tiles import Tile

#: Speed (m/s) of humans and zombies in the open-floor benchmark. With 1.5 m of movement budget
#: per 1 s tick every agent can take exactly one step (1 m, or 1.41 m diagonally) each tick, as
#: in the Mesa model; the engine's defaults (humans 1.3 m/s with jitter, zombies 0.8 m/s) would
#: make agents skip diagonal steps or whole ticks.
STEP_SPEED = 1.5


def open_floor_raw(
    humans: int,
    zombies: int,
    ticks: int,
    *,
    bite_prob: float = 0.5,
    incubation_s: int = 5,
    deaf: bool = False,
) -> dict[str, Any]:
    """The open-floor scenario as a raw table (what a TOML file would hold).

    ``deaf``: every hearing threshold at 140 dB, above the 80 dB scream, so the engine's noise
    floor is over any sound and no scream is stamped on the noise map (nobody listens to noise
    under the "wander" behaviours anyway); the epidemic is the same, draw for draw.
    """
    hearing = {"hearing": 140.0} if deaf else {}
    return {
        "scenario": {"name": "open floor benchmark"},
        "world": {"map": "open-floor.txt", "max_per_tile": 1},  # Mesa's grid: capacity 1 per cell
        "clock": {"start": "08:00", "duration": f"{ticks}s", "tick": "1s", "frame_every": f"{ticks}s"},
        "roles": {"human": {"walk_speed": STEP_SPEED, "strength": 0.0, "jitter": 0.0, **hearing}},
        "zombies": {"bite_prob": bite_prob, "walk_speed": STEP_SPEED, **hearing},
        "halfbies": {"fraction": 0.0},
        "infection": {"incubation": {"distribution": "fixed", "median": f"{incubation_s}s", "min": "1s"}},
        "behaviour": {"humans": "wander", "zombies": "wander"},
        "population": [
            {"role": "human", "count": humans, "areas": ["floor"], "groups": "none"},
            {"role": "human", "count": zombies, "areas": ["floor"], "groups": "none", "state": "zombie"},
        ],
    }


def open_floor(humans: int, zombies: int, ticks: int, **kwargs) -> LoadedScenario:
    """The open-floor scenario, validated as a scenario file would be."""
    raw = open_floor_raw(humans, zombies, ticks, **kwargs)
    scenario = validate(raw, "benchmark:open-floor")
    return LoadedScenario(
        scenario=scenario, source="benchmark:open-floor", base_dir=Path("."), name="open-floor"
    )


def open_floor_ascii(width: int, height: int) -> str:
    """An ASCII map: one room ``a`` (kind hall, not a refuge) covering a width x height floor."""
    row = "a" * width + "\n"
    return f"name: open floor\nsize: {width} x {height}\n[floor 1F]\n{row * height}[rooms]\na: floor (hall)\n"


def open_floor_world_ascii(width: int, height: int) -> World:
    """The open floor through the ASCII loader (slow beyond a few hundred tiles a side)."""
    return load_ascii_text(open_floor_ascii(width, height), source="benchmark:open-floor")


def open_floor_world_arrays(width: int, height: int) -> World:
    """The same World built straight from arrays (what the ASCII loader would produce)."""
    tiles = np.full((1, height, width), Tile.FLOOR, dtype=np.uint8)
    room_id = np.zeros((1, height, width), dtype=np.int16)
    room = Room(0, "floor", 0, "hall", np.arange(width * height, dtype=np.int64))
    empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    return World(
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


def counts(state: np.ndarray) -> dict[str, int]:
    """Humans (uninfected), bitten (incubating), zombies and the dead, from an int8 State array."""
    tally = np.bincount(state, minlength=7)
    return {"humans": int(tally[0]), "bitten": int(tally[1]), "zombies": int(tally[2]), "dead": int(tally[4])}


def kernel_cache_stats() -> dict[str, int]:
    """numba's on-disk cache hits and misses of the engine's main kernel in this process so far."""
    from hyosan.rules.tick import run_ticks

    stats = run_ticks.stats
    return {"cache_hits": sum(stats.cache_hits.values()), "cache_misses": sum(stats.cache_misses.values())}


# -- reporting ---------------------------------------------------------------------------------
def machine(**extra_versions: str) -> dict[str, str]:
    """CPU model, core count and the versions that matter."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in lscpu.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    from hyosan import __version__

    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "numba": numba.__version__,
        "numpy": np.__version__,
        "hyosan": __version__,
        **extra_versions,
    }


def now_utc() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def load() -> float:
    """The 1-minute load average (the machine is shared: figures drop when it is busy)."""
    return os.getloadavg()[0]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median(values: list[float]) -> float:
    return statistics.median(values)


class Clock:
    """Wall and CPU time of a block: ``with Clock() as c: ...; c.wall, c.cpu``."""

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table (reads fine as plain text)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def write_json(path: Path | None, report: dict) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)
    print(f"\nwrote {path}")


def new_report(args: Any, **versions: str) -> dict[str, Any]:
    """The head every script's report starts with: date, machine, settings, load at start."""
    return {
        "date": now_utc(),
        "machine": machine(**versions),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "load_average_start": load(),
    }


def run_row(seed: int, build: Clock, run: Clock, ticks: int, final: dict) -> dict[str, Any]:
    """One timed run as a report row: build and run time, time per tick (wall and CPU), final counts."""
    return {
        "seed": seed,
        "build_s": build.wall,
        "run_s": run.wall,
        "run_cpu_s": run.cpu,
        "tick_s": run.wall / ticks,
        "tick_cpu_s": run.cpu / ticks,
        "final": final,
    }
