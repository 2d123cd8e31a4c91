"""Fast inline random draws for the hot loops of the exact solvers (numba): xoshiro256+ (Blackman
& Vigna) on a state of four 64-bit words that the loop keeps in registers, seeded from the run's
NumPy ``Generator`` (:func:`seed`), and a ziggurat for the standard exponential (Marsaglia &
Tsang 2000) with no ``log`` on its fast path.

numba can draw from a NumPy ``Generator`` directly, but every draw then goes through a function
pointer (and, with ``standard_exponential``, ``log``): in the compartment SSA those two draws were
a third of a reaction's cost. The state-in-values form (each helper returns the draw and the new
state) lets LLVM keep the four words in registers; with the state in an array, every draw went
through memory. The same seed gives the same stream; successive seedings of one ``Generator``
give fresh streams.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hyosan.jit import njit, njit_inline

_U = numba.uint64


def _ziggurat_tables(n: int = 256, r: float = 7.69711747013104972, v: float = 3.949659822581572e-3):
    """Marsaglia & Tsang's (2000) ziggurat for the standard exponential: ``n`` layers of area ``v``
    under exp(-x), the base layer reaching to ``r``, for 53-bit draws. Layer i spans [0, x_i); a
    draw j (53 bits) in layer i is the point j * WE[i], accepted at once when j < KE[i] (the point
    lies under the layer above, so under the curve), else tested against the curve with FE."""
    m = 2.0**53
    ke = np.zeros(n, np.uint64)
    we = np.zeros(n)
    fe = np.zeros(n)
    q = v / math.exp(-r)
    ke[0] = np.uint64((r / q) * m)
    we[0] = q / m
    we[n - 1] = r / m
    fe[0] = 1.0
    fe[n - 1] = math.exp(-r)
    x_next = r
    x = r
    for i in range(n - 2, 0, -1):
        x = -math.log(v / x + math.exp(-x))
        ke[i + 1] = np.uint64((x / x_next) * m)
        x_next = x
        fe[i] = math.exp(-x)
        we[i] = x / m
    ke[1] = 0
    return ke, we, fe


ZIG_KE, ZIG_WE, ZIG_FE = _ziggurat_tables()
ZIG_R = 7.69711747013104972


@njit_inline
def _rotl(x, k):
    return (x << _U(k)) | (x >> _U(64 - k))


@njit_inline
def next_raw(s0, s1, s2, s3):
    """xoshiro256+ (Blackman & Vigna) on a state held in four values, kept in registers by the hot
    loop: (64 random bits, the new state)."""
    result = s0 + s3
    t = s1 << _U(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return result, s0, s1, s2, s3


@njit_inline
def uniform(s0, s1, s2, s3):
    """A uniform draw on [0, 1) with 53 random bits (the top ones of :func:`_next_raw`'s), and
    the new state."""
    raw, s0, s1, s2, s3 = next_raw(s0, s1, s2, s3)
    return (raw >> _U(11)) * (1.0 / 9007199254740992.0), s0, s1, s2, s3


@njit
def _exp_tail(idx, x, s0, s1, s2, s3):
    """The ziggurat's rare cases (about 1 % of draws), out of line: (the draw, or -1.0 to draw
    again, and the new state)."""
    u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
    if idx == 0:  # the tail beyond r: r plus an exponential
        return ZIG_R - math.log(1.0 - u), s0, s1, s2, s3
    if (ZIG_FE[idx - 1] - ZIG_FE[idx]) * u + ZIG_FE[idx] < math.exp(-x):
        return x, s0, s1, s2, s3
    return -1.0, s0, s1, s2, s3


@njit_inline
def exponential(s0, s1, s2, s3):
    """A standard exponential draw by the ziggurat (:func:`_ziggurat_tables`): 99 % of the time
    one 64-bit draw (3 low bits dropped, 8 pick the layer, 53 the point), a table look-up and a
    comparison, with no ``log``. Returns (the draw, the new state)."""
    while True:
        raw, s0, s1, s2, s3 = next_raw(s0, s1, s2, s3)
        ri = raw >> _U(3)
        idx = ri & _U(0xFF)
        ri >>= _U(8)
        x = np.float64(ri) * ZIG_WE[idx]
        if ri < ZIG_KE[idx]:
            return x, s0, s1, s2, s3
        x, s0, s1, s2, s3 = _exp_tail(idx, x, s0, s1, s2, s3)
        if x >= 0.0:
            return x, s0, s1, s2, s3


@njit
def seed(gen):
    """Four words of xoshiro256+ state from the NumPy generator ``gen`` (SplitMix64 of 64 bits it
    draws): the same seed gives the same trajectory, and never an all-zero state."""
    x = _U(gen.integers(0, 2**62)) ^ (_U(gen.integers(0, 2**62)) << _U(2))
    st = np.empty(4, dtype=np.uint64)
    for i in range(4):
        x += _U(0x9E3779B97F4A7C15)
        z = x
        z = (z ^ (z >> _U(30))) * _U(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> _U(27))) * _U(0x94D049BB133111EB)
        st[i] = z ^ (z >> _U(31))
    return st


@njit_inline
def below(raw, n):
    """An index uniform on [0, n) from 64 random bits ``raw`` (n < 2**32): the high word of
    raw * n, from two 32-bit halves (no float conversion, no division; off uniform by < 2**-32)."""
    lo = (raw & _U(0xFFFFFFFF)) * _U(n)
    hi = (raw >> _U(32)) * _U(n)
    return np.int64((hi + (lo >> _U(32))) >> _U(32))
