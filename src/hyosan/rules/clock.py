"""The clock in the kernels: the time of day at a tick, and whether it lies in a span of the day.

``prm.start_s`` is the scenario's start (seconds after midnight) and ``prm.tick_s`` the tick, so
any kernel can tell night from day without Python's help.
"""

from __future__ import annotations

from hyosan.rules.jit import kernel_inline

DAY_S = 86400.0


@kernel_inline
def time_of_day(now, prm):
    """Seconds after midnight at tick ``now``."""
    return (prm.start_s + now * prm.tick_s) % DAY_S


@kernel_inline
def within(t, start, end):
    """Whether the time of day ``t`` lies in ``[start, end)``, a span that may wrap midnight
    (19:00 to 06:30)."""
    if start <= end:
        return t >= start and t < end
    return t >= start or t < end
