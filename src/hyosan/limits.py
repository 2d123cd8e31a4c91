"""Size limits checked before anything is allocated (docs/reliability.md lists them).

A mistyped value (``tick = 1e-12``, a map declared 100000 x 100000, ``--runs 1e9``) must be
refused in one line, not answered by "Unable to allocate 165 GiB" after minutes. Every limit has
a default large enough for any real use of hyosan and an environment variable that raises it::

    HYOSAN_MAX_TICKS=50000000 hyosan run long.toml

Also the seed rule shared by every path (``--seed``, ``run.seed``, the Python API).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hyosan.errors import HyosanError


@dataclass(frozen=True)
class Limit:
    name: str  # environment variable
    default: int
    what: str

    def value(self) -> int:
        text = os.environ.get(self.name, "").strip().replace("_", "")
        return int(text) if text.isdigit() else self.default

    def check(self, n: float, source: str, field: str | None = None) -> None:
        cap = self.value()
        if n > cap:
            raise HyosanError(
                f"{self.what} would be {n:.4g}, over the limit of {cap} (raise it with {self.name})",
                source=source,
                field=field,
            )


#: Ticks of one school run (a year at 1 s ticks would be 31.5 million).
MAX_TICKS = Limit("HYOSAN_MAX_TICKS", 10_000_000, "the number of ticks")
#: Agents of one school run.
MAX_AGENTS = Limit("HYOSAN_MAX_AGENTS", 5_000_000, "the number of agents")
#: Recorded frame values (frames x agents) of one school run: the replay's memory.
MAX_FRAME_VALUES = Limit("HYOSAN_MAX_FRAME_VALUES", 500_000_000, "frames x agents")
#: Tiles of a map (floors x height x width).
MAX_MAP_CELLS = Limit("HYOSAN_MAX_MAP_CELLS", 50_000_000, "the map's tiles (floors x height x width)")
#: Points of a time grid (``--points``).
MAX_POINTS = Limit("HYOSAN_MAX_POINTS", 1_000_000, "the points of the time grid")
#: Stochastic runs of one model call (``--runs``), and values stored (runs x points x species).
MAX_RUNS = Limit("HYOSAN_MAX_RUNS", 10_000_000, "the number of runs")
MAX_VALUES = Limit("HYOSAN_MAX_VALUES", 500_000_000, "runs x points x species")
#: Runs of one sweep (parameter sets x replicates), and parameter sets of one --vary.
MAX_SWEEP_RUNS = Limit("HYOSAN_MAX_SWEEP_RUNS", 10_000_000, "the sweep's runs (sets x replicates)")

ALL = (
    MAX_TICKS,
    MAX_AGENTS,
    MAX_FRAME_VALUES,
    MAX_MAP_CELLS,
    MAX_POINTS,
    MAX_RUNS,
    MAX_VALUES,
    MAX_SWEEP_RUNS,
)

#: Largest population a stochastic model may start with: every count and every sum of counts a
#: reaction can make must stay far from int64's 9.2e18.
MAX_COUNT = 10**15

#: Seeds are NumPy's (non-negative integers), stored in int64 columns: 0 <= seed < 2**63.
SEED_MAX = 2**63 - 1


def check_seed(seed: object, source: str = "seed", field: str | None = None) -> int:
    """A root seed as NumPy's ``SeedSequence`` takes it and an int64 column stores it."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise HyosanError(f"must be an integer from 0 to 2**63 - 1, got {seed!r}", source=source, field=field)
    return seed
