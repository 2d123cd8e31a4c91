"""The town's size limits, checked before anything is allocated (docs/reliability.md lists them).

A mistyped town (a grid declared 100000 x 100000, ``factor = 1e6``, ``days = 1e300``,
``--snapshot-every 1e-300``, seeds that together pass what a count can hold) is refused in one
line naming the file and the field, never answered by a MemoryError, a hang or negative counts.
Each limit is a :class:`hyosan.limits.Limit` (an environment variable raises it), except the one
the kernels cannot go past: counts are int32, so people plus seeds stay below 2**31.
"""

from __future__ import annotations

import math

from hyosan.errors import HyosanError
from hyosan.limits import Limit

#: Cells of a town grid (height x width), as read: a .npy header, a CSV's rows x columns, a raster.
MAX_TOWN_CELLS = Limit("HYOSAN_MAX_TOWN_CELLS", 50_000_000, "the grid's cells (height x width)")
#: Days of one town run.
MAX_TOWN_DAYS = Limit("HYOSAN_MAX_TOWN_DAYS", 36_500, "the town's days")
#: Records (rows of the totals) or per-cell maps of one town run: days / their interval.
MAX_TOWN_RECORDS = Limit("HYOSAN_MAX_TOWN_RECORDS", 1_000_000, "the records or maps (days / interval)")
#: Bytes of the per-cell maps of one run (maps x cells x 16 bytes: S, E, Z, R as int32).
MAX_TOWN_SNAPSHOT_BYTES = Limit(
    "HYOSAN_MAX_TOWN_SNAPSHOT_BYTES", 2 * 2**30, "the per-cell maps' bytes (maps x cells x 16)"
)
#: People and seeds of an exact run (each person is bitten, turns and is killed at most once: the
#: exact solver's work grows with them; tau-leaping's does not).
MAX_EXACT_PEOPLE = Limit(
    "HYOSAN_MAX_EXACT_PEOPLE", 1_000_000_000, "the exact method's people and seeds (use method tau)"
)
#: Reactions the exact solver may make in one run before it stops with an error: a bound on its
#: time (a few minutes at the benchmark's speed), whatever the walking rates.
MAX_EXACT_REACTIONS = Limit(
    "HYOSAN_MAX_EXACT_REACTIONS", 5_000_000_000, "the exact method's reactions (use method tau)"
)

ALL = (
    MAX_TOWN_CELLS,
    MAX_TOWN_DAYS,
    MAX_TOWN_RECORDS,
    MAX_TOWN_SNAPSHOT_BYTES,
    MAX_EXACT_PEOPLE,
    MAX_EXACT_REACTIONS,
)

#: The most people and seeds a town holds: the kernels count in int32 and a cell may end up with
#: everyone (walking, evacuees, seeds); not an environment limit, the arrays cannot hold more.
MAX_TOWN_PEOPLE = 2**31 - 1


def check_people(total: int, source: str, field: str | None = None) -> None:
    """People at the start plus every seed, summed in Python integers (no overflow)."""
    if total > MAX_TOWN_PEOPLE:
        raise HyosanError(
            f"people and seeds would be {total:,}, over the {MAX_TOWN_PEOPLE:,} the town's int32 counts hold",
            source=source,
            field=field,
        )


def check_cell_m(value: object, source: str, field: str = "town.cell_m") -> float:
    """A cell's side in metres: a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not (0 < value < math.inf):
        raise HyosanError(f"must be a finite number of metres > 0, got {value!r}", source=source, field=field)
    return float(value)


def check_count(n: float, every: float, limit: Limit, source: str, field: str | None) -> int:
    """How many times ``0, every, 2 every, ...`` fall before ``n`` (plus the end), checked against
    ``limit`` before any array of them is made."""
    count = math.floor(n / every) + 2 if every > 0 else math.inf
    limit.check(count, source, field)
    return int(count)
