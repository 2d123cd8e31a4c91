"""The kernels' event buffer (:class:`~hyosan.rules.state.EventBuffer`): preallocated arrays the
engine drains between kernel calls."""

from __future__ import annotations

from hyosan.rules.jit import kernel_inline


@kernel_inline
def emit(ev, tick, kind, a, b, c):
    """Append one event (tick, kind, agents a and b, cell) to the buffer ``ev``."""
    k = ev.count[0]
    if k < ev.tick.shape[0]:
        ev.tick[k] = tick
        ev.kind[k] = kind
        ev.a[k] = a
        ev.b[k] = b
        ev.cell[k] = c
        ev.count[0] = k + 1
    else:
        ev.overflow[0] += 1  # counted: the engine sizes the buffer so this never happens
