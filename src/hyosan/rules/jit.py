"""How the engine's kernels are compiled.

Every kernel is ``numba.njit(cache=True, _nrt=False)``: numba's reference counting, which it
applies to every array handed to a function or taken out of a tuple, costs two atomic
operations per array per call; in the per-agent loops that was half of the run time (measured
with perf). None of these functions allocates an array, so they need no reference counting.
"""

from __future__ import annotations

import numba

import hyosan.jit  # noqa: F401  (hyosan's kernel cache: one folder per kernel source)

kernel = numba.njit(cache=True, _nrt=False)
#: For the small per-agent functions in the hot loops: inlined into their caller, so that the
#: dozens of arrays they take are not copied into a call frame for every agent and step.
kernel_inline = numba.njit(cache=True, _nrt=False, inline="always")
