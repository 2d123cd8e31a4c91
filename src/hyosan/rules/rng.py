"""The kernels' random numbers: xoshiro256** on a 4-word state array (numba, inlined).

numba supports NumPy ``Generator`` arguments, but every draw through one goes through a function
pointer and touches the generator's reference count (two atomic operations): profiling the
school engine showed half its time in those. A xoshiro256** generator (Blackman & Vigna) whose
state is a plain ``uint64[4]`` array inlines into the kernels at about a nanosecond a draw.
Each stream's state comes from its own ``SeedSequence`` child (``generate_state(4, uint64)``),
so streams stay independent and runs reproducible.
"""

from __future__ import annotations

import numba
import numpy as np

from hyosan.rules.jit import kernel_inline

_U = numba.uint64


@kernel_inline
def _rotl(x, k):
    return (x << _U(k)) | (x >> _U(64 - k))


@kernel_inline
def next_u64(s):
    """The next 64 random bits of state ``s`` (advanced in place)."""
    result = _rotl(s[1] * _U(5), 7) * _U(9)
    t = s[1] << _U(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@kernel_inline
def uniform(s):
    """A float in [0, 1) with 53 random bits."""
    return float(next_u64(s) >> _U(11)) * (1.0 / 9007199254740992.0)


@kernel_inline
def below(s, n):
    """An integer in [0, n) (n > 0; the bias is below 2**-50 for any n a kernel uses)."""
    return min(int(uniform(s) * n), n - 1)


@kernel_inline
def below8(s):
    """``below(s, 8)``, bit for bit (the top 3 of the 53 bits ``uniform`` keeps), with no float
    conversion: a wandering agent's direction."""
    return numba.int64(next_u64(s) >> _U(61))  # (int() would stay unsigned)


def stream(seed_sequence: np.random.SeedSequence) -> np.ndarray:
    """A fresh state for one stream; never all zero."""
    state = seed_sequence.generate_state(4, np.uint64)
    if not state.any():
        state[0] = 1
    return state
