"""The systems run each tick, in a fixed order: infection, senses, movement, contact, exits.

Each system is a numba function over the population and world arrays (one file each); the
timeline (scenario events) runs in Python between kernel calls. :mod:`hyosan.rules.tick`
composes them into the kernel that advances a run by many ticks per call.
"""
