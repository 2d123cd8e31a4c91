"""The kernels' event buffer: preallocated arrays the engine drains between kernel calls."""

from __future__ import annotations

import numpy as np

from hyosan.rules.jit import kernel_inline


@kernel_inline
def emit(ev, tick, kind, a, b, c):
    """Append one event to the buffer ``ev = (tick, kind, a, b, cell, count)``."""
    k = ev[5][0]
    if k < ev[0].shape[0]:
        ev[0][k] = tick
        ev[1][k] = kind
        ev[2][k] = a
        ev[3][k] = b
        ev[4][k] = c
        ev[5][0] = k + 1
    else:
        ev[5][1] += 1  # overflow: counted, the engine sizes the buffer so this never happens


def event_buffer(capacity: int):
    """A fresh buffer able to hold ``capacity`` events."""
    return (
        np.zeros(capacity, dtype=np.int32),
        np.zeros(capacity, dtype=np.int8),
        np.zeros(capacity, dtype=np.int32),
        np.zeros(capacity, dtype=np.int32),
        np.zeros(capacity, dtype=np.int32),
        np.zeros(2, dtype=np.int64),
    )
