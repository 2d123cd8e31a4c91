"""The exact solver: composition-rejection over cells (Slepoy, Thompson & Plimpton 2008), in numba.

Every cell's total propensity ``a`` (its bites, kills, turns and walks, including bites and kills
by the zombies of its neighbours) sits in one of a few dozen groups by its binary exponent: group g
holds cells with ``2^(g-1) <= a < 2^g`` (shifted by :data:`EMIN`). A reaction is drawn by picking a
group in proportion to its sum and then a cell of the group uniformly, accepted with probability
``a / ceiling``, where the group's *ceiling* ``gmax`` is a little above its members' largest ``a``
and below ``2^g`` (so at least one half): the cost of a draw does not grow with the number of
cells. A reaction changes at most two cells and their neighbours, whose propensities are
recomputed and moved between groups in O(1). Cells with nothing to do wait in group 0, never
drawn, so a country where the outbreak is local costs what the outbreak costs.

The group is picked in two steps, so that the pick does not wait for the reaction before it: a
short scan from the largest group over the cumulative sums of *ceilings on the group sums*
(``gcap``: a sum times 1 + 1/64, set afresh only when a sum passes its ceiling or a cell moves
between groups), then the group is kept with probability (its sum) / (its ceiling), read from
where the draw fell inside the group's stretch, else the pick starts again. Groups come out in
proportion to their sums, exactly; the scan's branches depend on numbers that rarely change, so
the processor guesses them ahead instead of waiting for the sums the reaction before has just
changed.

The groups hold *bounds*, not the propensities themselves (the rejection-based SSA of Thanh,
Priami and Zunino 2014). Each cell keeps a bound on its own zombies, ``zb``: a quarter more plus
one, 0 while there are none, reset only when the zombies pass it or fall below about half of it
(``Z <= zb <= 2 Z + 1``, a band with hysteresis). A cell's bound on the zombies around it, ``wzb``,
is the weighted sum of its neighbours' ``zb``, and its bound on its propensity is the propensity
with ``wzb`` in place of the true zombies around. A drawn candidate is a reaction with probability
(true propensity) / (bound), else nothing happens (the clock has moved on all the same: thinning
keeps the process exact). So a zombie that dies or turns touches its neighbours only when its
cell's zombies leave their band, and the true zombies around are summed only when the candidate
falls past the cell's own reactions (a bite, kill or turn inside it needs nothing of the
neighbours). Waiting times are exponential with the total rate: the trajectory is exact
(Gillespie's direct method, with another way to choose the reaction).

What makes it fast (benchmarks/README.md has the ablations, timed side by side):

- the hot loop runs without numba's reference counting (``_nrt=False``: it allocates nothing;
  :func:`run_exact` hands it the working arrays, kept between calls on lattices of the same
  size, :func:`workspace`). With it, every array passed between the inlined helpers cost an
  atomic increment and decrement, half the time;
- the groups are drawn by ceilings on their sums (above) and the members by ceilings on their
  bounds: 1.3 tries a reaction instead of 1.48 with 2^g;
- the group members' bounds are kept in member order (``ma``), so the rejection test reads the
  bound beside the member instead of through it, and each place in ``members`` keeps its cell's
  number and a copy of its S, E and Z, so a candidate's counts load without waiting for the
  cell's number;
- uniform draws come from an inline xoshiro256+ seeded from the run's NumPy generator, its state
  held in registers in the hot loop; a member is drawn from one 64-bit draw with integers only and
  accepted with a second (the float conversions before the bound's load were a chain of ~40
  cycles); the exponential waits are drawn 256 at a time by a ziggurat (one draw, a table look-up
  and a comparison 99 % of the time; ``log`` had been 6.5 % of the time);
- a reaction inside the drawn cell (bite, kill or turn: which one cannot be predicted) changes the
  counts without a branch, and its bound is updated at the place and group known from the draw;
- rare work (moving a cell between groups, new bounds for the neighbours, walking, the periodic
  re-summation) sits in functions of its own, out of the hot loop.

Hand-written in numba because no library offers an exact SSA for a million coupled compartments at
this speed (GillespieSSA-style libraries rebuild the whole propensity vector or hold Python objects).
"""

from __future__ import annotations

import math
import threading
from typing import NamedTuple

import numba
import numpy as np

from hyosan.jit import njit
from hyosan.lattice.kernels import zombies_around
from hyosan.lattice.model import Rates

#: The hot kernels run without numba's reference counting (NRT): they allocate nothing, so there
#: is nothing to count, and the counting cost atomic operations on every array handed between
#: helpers (numba's private ``_nrt`` flag; the cache still follows hyosan.jit's locator).
njit_bare = numba.njit(cache=True, _nrt=False, error_model="numpy")
njit_bare_inline = numba.njit(cache=True, _nrt=False, error_model="numpy", inline="always")

#: Group g >= 1 holds 2^(g+EMIN-1) <= a < 2^(g+EMIN) (group 1 also everything smaller: rates that
#: small, 1e-12 a day, never matter); group 0 holds the idle cells.
EMIN = -40
#: Groups (exponents up to 2^67: propensities of 2e9 people times 2e9 zombies fit).
NG = 108
#: Reaction kinds counted in ``fired``.
KINDS = ("bite", "kill", "turn", "walk_s", "walk_z")
#: Bytes per cell of the kernel's working arrays (kept between calls, :func:`workspace`): ma (8),
#: members (16: each place's cell and its S, E, Z), pos (4), grp (1), zb (4), wzb (8), wsum (4).
WORKSPACE_BYTES_PER_CELL = 45
#: Group sums are recomputed from the cells every so many events (round-off never accumulates).
RESUM_EVERY = 1 << 22
#: Each group's ceiling (a little above its members' largest bound) is recomputed every so many
#: events.
TIGHT_EVERY = 1 << 14
#: A group's ceiling: its members' largest bound times this, at most the group's top.
CEIL_SLACK = 1.03125
#: A group's ceiling on its sum: the sum times this, set afresh whenever a sum passes its ceiling
#: or a cell moves between groups.
GCAP_SLACK = 1.015625
#: Exponential waits drawn at a time.
EXP_BATCH = 256

_U = numba.uint64
_Ui = numba.uintp


@njit_bare_inline
def _rotl(x, k):
    return (x << _U(k)) | (x >> _U(64 - k))


@njit_bare_inline
def uniform(st):
    """A uniform draw on [0, 1) with 53 random bits from xoshiro256+ (Blackman & Vigna), whose
    state is the four words of ``st``."""
    s0 = st[0]
    s1 = st[1]
    s2 = st[2]
    s3 = st[3]
    result = s0 + s3
    t = s1 << _U(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    st[0] = s0
    st[1] = s1
    st[2] = s2
    st[3] = s3
    return (result >> _U(11)) * (1.0 / 9007199254740992.0)


@njit_bare_inline
def _next_raw(s0, s1, s2, s3):
    """xoshiro256+ on a state held in four values: (64-bit output, new state)."""
    result = s0 + s3
    t = s1 << _U(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return result, s0, s1, s2, s3


@njit_bare_inline
def _below(x, n):
    """floor(x * n / 2^64) for a 64-bit draw x and n < 2^32: an index uniform on [0, n) (to 2^-64;
    the product's high word, from two 32-bit halves)."""
    lo = (x & _U(0xFFFFFFFF)) * n
    hi = (x >> _U(32)) * n
    return (hi + (lo >> _U(32))) >> _U(32)


@njit_bare_inline
def _next(s0, s1, s2, s3):
    """:func:`uniform` on a state held in four values (registers in the hot loop: in an array,
    every draw went through memory, since the stores to the cells' arrays might alias it).
    Returns (draw, new state)."""
    result = s0 + s3
    t = s1 << _U(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return (result >> _U(11)) * (1.0 / 9007199254740992.0), s0, s1, s2, s3


@njit
def seed_state(gen, st):
    """Fill the four words of ``st`` from the NumPy generator ``gen`` (SplitMix64 of 64 bits it
    draws), so the same seed gives the same run and successive calls draw fresh streams."""
    x = _U(gen.integers(0, 2**62)) ^ (_U(gen.integers(0, 2**62)) << _U(2))
    for i in range(4):
        x += _U(0x9E3779B97F4A7C15)
        z = x
        z = (z ^ (z >> _U(30))) * _U(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> _U(27))) * _U(0x94D049BB133111EB)
        st[i] = z ^ (z >> _U(31))


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


@njit_bare
def _refill(st, ebuf):
    """``ebuf`` full of standard exponential draws, by the ziggurat (:func:`_ziggurat_tables`; the
    fast path, 99 % of draws, is one 64-bit draw, a table look-up and a comparison: a call to
    ``log`` per draw cost 5 ns). Bits: 8 pick the layer, 53 the point."""
    ke = ZIG_KE
    we = ZIG_WE
    fe = ZIG_FE
    for k in range(ebuf.shape[0]):
        while True:
            s0 = st[0]
            s3 = st[3]
            uniform(st)
            ri = (s0 + s3) >> _U(3)
            idx = ri & _U(0xFF)
            ri >>= _U(8)
            x = np.float64(ri) * we[idx]
            if ri < ke[idx]:
                break
            if idx == 0:  # the tail beyond r: r plus an exponential
                x = ZIG_R - math.log(1.0 - uniform(st))
                break
            if (fe[idx - 1] - fe[idx]) * uniform(st) + fe[idx] < math.exp(-x):
                break
        ebuf[k] = x


@njit_bare_inline
def _zbound(z):
    """A bound on a cell's zombies that its neighbours' bounds count: a quarter more plus one, so
    that a few more can join without touching the neighbours; 0 while there are none (idle
    cells around stay idle)."""
    return z + (z >> 2) + 1 if z > 0 else 0


@njit_bare_inline
def group_of(a):
    if a <= 0.0:
        return 0
    e = math.frexp(a)[1] - EMIN
    if e < 1:
        return 1
    return e if e < NG else NG - 1


@njit_bare_inline
def _rate(s, e, z, wzc, ws, k):
    """Total propensity of a cell with ``s`` people, ``e`` bitten, ``z`` zombies, ``wzc`` zombies
    around (weighted) and edge weights summing to ``ws``, at the rates ``k`` (read by name)."""
    return (
        s * ((k.bite + k.kill) * z + (k.bite_across + k.kill_across) * wzc)
        + k.turn * e
        + (k.hop_s * s + k.hop_z * z) * ws
    )


@njit_bare_inline
def _swap_rows(members, p, q):
    for j in range(4):
        x = members[q * 4 + j]
        members[q * 4 + j] = members[p * 4 + j]
        members[p * 4 + j] = x


@njit_bare_inline
def _sync(cell, S, E, Z, members, pos):
    """The copy of a cell's counts kept beside its place in ``members`` follows the counts."""
    q = pos[cell]
    members[q * 4 + 1] = S[cell]
    members[q * 4 + 2] = E[cell]
    members[q * 4 + 3] = Z[cell]


@njit_bare_inline
def _ceiling(a, top):
    """A group's ceiling above a bound ``a``: a little more (so that it holds for a while), at most
    the largest number below the group's top ``top`` (a power of 2), so that a bound at most the
    ceiling is inside the group."""
    return min(a * CEIL_SLACK, top * (1.0 - 1.0 / 9007199254740992.0))


@njit_bare
def _raise(g, new, gmax, pow2, gsum, old):
    """A member's bound rose above its group's ceiling (still inside the group): the ceiling
    follows. Returns the change of the total."""
    gmax[g] = _ceiling(new, pow2[g])
    gsum[g] += new - old
    return new - old


@njit_bare
def _move(c, new, ma, members, pos, grp, start, gsum, gmax, pow2):
    """Move cell ``c`` (bound ``ma[pos[c]]``) to the group of ``new`` one boundary at a time and set
    its bound to ``new``; returns the new group. All cells sit in ``members``, group g at
    ``[start[g], start[g + 1])`` with group 0 holding the idle cells (propensity 0), so a step up
    swaps c with its group's last member and lowers the boundary, a step down swaps it with the
    first member and raises it. Bounds travel with their members in ``ma``."""
    g = np.int64(grp[c])
    g_new = group_of(new)
    old = ma[pos[c]]
    if g > 0:
        if start[g + 1] - start[g] == 1:
            gsum[g] = 0.0  # the last member leaves: no round-off left behind
        else:
            gsum[g] -= old
    while g < g_new:
        p = pos[c]
        q = start[g + 1] - 1
        other = members[q * 4]
        _swap_rows(members, p, q)
        ma[p] = ma[q]
        pos[other] = p
        pos[c] = q
        start[g + 1] -= 1
        g += 1
    while g > g_new:
        p = pos[c]
        q = start[g]
        other = members[q * 4]
        _swap_rows(members, p, q)
        ma[p] = ma[q]
        pos[other] = p
        pos[c] = q
        start[g] += 1
        g -= 1
    grp[c] = g_new
    ma[pos[c]] = new
    if g_new > 0:
        gsum[g_new] += new
        if new > gmax[g_new]:
            gmax[g_new] = _ceiling(new, pow2[g_new])
    return g_new


@njit_bare_inline
def _set(c, new, ma, members, pos, grp, start, gsum, pow2, gmax):
    """Set cell ``c``'s bound to ``new``: in place when it stays in its group, else moved
    (:func:`_move`). Returns (change of the total, new group or -1 when it stayed)."""
    p = pos[c]
    old = ma[p]
    g = np.int64(grp[c])
    if g > 0 and new <= gmax[g] and (new >= pow2[g - 1] or (g == 1 and new > 0.0)):
        ma[p] = new
        gsum[g] += new - old
        return new - old, -1
    if g > 0 and new < pow2[g] and (new >= pow2[g - 1] or (g == 1 and new > 0.0)):
        ma[p] = new
        return _raise(g, new, gmax, pow2, gsum, old), -1
    if g == 0 and new <= 0.0:
        return 0.0, -1
    return new - old, _move(c, new, ma, members, pos, grp, start, gsum, gmax, pow2)


@njit_bare
def _edge(c, width, w_east, w_south, Z, by_z, u):
    """A neighbour of ``c`` drawn with probability proportional to its edge weight (times its
    zombies when ``by_z``); ``u`` is a uniform draw on [0, 1). -1 when there is none."""
    n0 = c + 1
    n1 = c - 1
    n2 = c + width
    n3 = c - width
    x0 = w_east[c]
    x1 = w_east[n1] if n1 >= 0 else 0.0
    x2 = w_south[c]
    x3 = w_south[n3] if n3 >= 0 else 0.0
    if by_z:
        x0 = x0 * Z[n0] if x0 > 0.0 else 0.0
        x1 = x1 * Z[n1] if x1 > 0.0 else 0.0
        x2 = x2 * Z[n2] if x2 > 0.0 else 0.0
        x3 = x3 * Z[n3] if x3 > 0.0 else 0.0
    total = x0 + x1 + x2 + x3
    if total <= 0.0:
        return -1
    target = u * total
    if x0 > 0.0 and target < x0:
        return n0
    if x1 > 0.0 and target < x0 + x1:
        return n1
    if x2 > 0.0 and target < x0 + x1 + x2:
        return n2
    if x3 > 0.0:
        return n3
    return n2 if x2 > 0.0 else (n1 if x1 > 0.0 else n0)  # round-off at the very top


@njit_bare_inline
def _neighbour(c, d, width, w_east, w_south):
    """(cell, weight) across edge ``d`` (east, west, south, north) of cell ``c``; weight 0 where
    there is no edge (the border's weights are 0, see hyosan.lattice.kernels)."""
    if d == 0:
        return c + 1, np.float64(w_east[c])
    if d == 1:
        return c - 1, np.float64(w_east[c - 1]) if c >= 1 else 0.0
    if d == 2:
        return c + width, np.float64(w_south[c])
    return c - width, np.float64(w_south[c - width]) if c >= width else 0.0


@njit_bare_inline
def _set_at(c, p, g, new, ma, members, pos, grp, start, gsum, pow2, gmax):
    """:func:`_set` for a cell whose place ``p`` and group ``g`` are known (the drawn cell): no load
    of ``pos`` and ``grp``. Returns (change of the total, new group or -1 when it stayed)."""
    old = ma[p]
    if new <= gmax[g] and (new >= pow2[g - 1] or (g == 1 and new > 0.0)):
        ma[p] = new
        gsum[g] += new - old
        return new - old, -1
    if new < pow2[g] and (new >= pow2[g - 1] or (g == 1 and new > 0.0)):
        ma[p] = new
        return _raise(g, new, gmax, pow2, gsum, old), -1
    return new - old, _move(c, new, ma, members, pos, grp, start, gsum, gmax, pow2)


@njit_bare
def _rebound_around(cell, cells, edges, k, w):
    """Cell ``cell``'s zombies left their bound ``zb`` (more than it, or far fewer): a new bound,
    and the neighbours' bounds on their zombies around (``wzb``, summed afresh) and on their
    propensities follow. Returns the change of the total; ``w.span`` follows the busy groups."""
    S, E, Z = cells.S, cells.E, cells.Z
    width, w_east, w_south = edges.width, edges.w_east, edges.w_south
    zb, wzb, wsum, span = w.zb, w.wzb, w.wsum, w.span
    zb[cell] = _zbound(Z[cell])
    change = 0.0
    for d in range(4):
        nb, wt = _neighbour(cell, d, width, w_east, w_south)
        if wt > 0.0:
            wzb[nb] = zombies_around(nb, width, w_east, w_south, zb)[0]
            if S[nb] > 0:  # the bound reads the zombies around only through the people
                new = _rate(S[nb], E[nb], Z[nb], wzb[nb], wsum[nb], k)
                ch, gn = _set(nb, new, w.ma, w.members, w.pos, w.grp, w.start, w.gsum, w.pow2, w.gmax)
                change += ch
                if gn > span[1]:
                    span[1] = gn
                if 0 < gn < span[0]:
                    span[0] = gn
    return change


def run_exact(cells, edges, k, t0, t_stop, fired, gen, max_events=2**63 - 1, resum_every=RESUM_EVERY):
    """Advance the lattice exactly from ``t0`` until ``t_stop``, absorption or ``max_events``.

    ``cells`` (:class:`~hyosan.lattice.kernels.Cells`) are changed in place; ``cells.arrival[c]``
    gets the time infection first reaches cell c (a bite or a zombie walking in; ``t0`` for a cell
    that holds bitten or zombies at the start); ``edges`` is an
    :class:`~hyosan.lattice.kernels.Edges`, ``k`` the rates record
    (:class:`~hyosan.lattice.model.Rates`); ``fired`` counts reactions by :data:`KINDS`. Returns the
    time reached (``t_stop`` unless ``max_events`` stopped it first). The random draws come from
    ``gen`` (a NumPy Generator): the same generator state gives the same run. Every
    ``resum_every`` reactions the group sums are recomputed from the cells (only round-off changes).

    The kernel's working arrays (:data:`WORKSPACE_BYTES_PER_CELL`, a :class:`Work`) are kept between
    calls on a lattice of the same size, one set per thread (:func:`workspace`): a town simulated
    with a record every hour calls this once an hour, and fresh arrays cost more than the set-up
    that fills them (the system zeroes every page on first touch).
    """
    st = np.empty(4, dtype=np.uint64)
    seed_state(gen, st)
    k = Rates(*(float(x) for x in k))
    return _run(
        cells,
        edges,
        k,
        float(t0),
        float(t_stop),
        int(max_events),
        fired,
        st,
        workspace(cells.S.shape[0]),
        resum_every,
    )


_WORK = threading.local()


class Work(NamedTuple):
    """The exact kernel's working arrays, by name: per cell, the bounds in member order (``ma``),
    the members by place with a copy of their S, E, Z (``members``, flat by 4), each cell's place
    (``pos``) and group (``grp``), its zombie bound (``zb``), the bound on the zombies around
    (``wzb``) and its edge weights' sum (``wsum``); per group, where it starts in ``members``
    (``start``), its sum, top, ceiling, ceiling on its sum and their cumulative sums (``gsum``,
    ``pow2``, ``gmax``, ``gcap``, ``capcum``), a fill pointer (``fill``); the exponential waits
    (``ebuf``) and the busy groups (``span``: lowest, highest)."""

    ma: np.ndarray
    members: np.ndarray
    pos: np.ndarray
    grp: np.ndarray
    zb: np.ndarray
    wzb: np.ndarray
    wsum: np.ndarray
    start: np.ndarray
    gsum: np.ndarray
    pow2: np.ndarray
    gmax: np.ndarray
    gcap: np.ndarray
    capcum: np.ndarray
    ebuf: np.ndarray
    fill: np.ndarray
    span: np.ndarray


@njit
def _new_workspace(n):
    """Fresh working arrays (made by numba: NumPy's own allocator asks the system for huge pages,
    whose first touch cost more here than the run saves on them), in :class:`Work`'s order."""
    return (
        np.empty(n),  # ma
        np.empty(4 * n, dtype=np.int32),  # members: (cell, S, E, Z) by place, flat
        np.empty(n, dtype=np.int32),  # pos
        np.zeros(n, dtype=np.int8),  # grp
        np.empty(n, dtype=np.int32),  # zb
        np.empty(n),  # wzb
        np.empty(n, dtype=np.float32),  # wsum
        np.zeros(NG + 1, dtype=np.int64),  # start
        np.zeros(NG),  # gsum
        np.empty(NG + 1),  # pow2
        np.zeros(NG),  # gmax
        np.zeros(NG),  # gcap
        np.zeros(NG + 1),  # capcum
        np.empty(EXP_BATCH),  # ebuf
        np.empty(NG, dtype=np.int64),  # fill
        np.array([NG, 0], dtype=np.int64),  # span
    )


def workspace(n: int) -> Work:
    """The exact kernel's working arrays for ``n`` cells (a :class:`Work`): this thread's set,
    kept from the last call when it has as many cells (the set-up fills them all; only the
    counters it adds to are reset), else made afresh (and the old set let go)."""
    w = getattr(_WORK, "arrays", None)
    if w is None or w.ma.shape[0] != n:
        _WORK.arrays = None  # let the old set go first
        w = Work(*_new_workspace(n))
        _WORK.arrays = w
    else:
        w.start[:] = 0
        w.gsum[:] = 0.0
        w.span[:] = (NG, 0)
    return w


@njit_bare
def _setup(cells, edges, k, w, t0):
    """Every cell's bounds (its zombies, the zombies around, its propensity) and group; the
    groups' members and sums. A cell holding bitten or zombies has been reached by ``t0``."""
    S, E, Z, arrival = cells.S, cells.E, cells.Z, cells.arrival
    width, w_east, w_south = edges.width, edges.w_east, edges.w_south
    ma, members, pos, grp, zb, wzb, wsum = w.ma, w.members, w.pos, w.grp, w.zb, w.wzb, w.wsum
    start, gsum, pow2, gmax, fill, span = w.start, w.gsum, w.pow2, w.gmax, w.fill, w.span
    n = S.shape[0]
    for g in range(NG + 1):
        pow2[g] = math.ldexp(1.0, g + EMIN)
    for c in range(n):
        z = Z[c]
        if (E[c] > 0 or z > 0) and arrival[c] > t0:
            arrival[c] = t0
        zb[c] = _zbound(z)
    for c in range(n):
        wzb[c], wsum[c] = zombies_around(c, width, w_east, w_south, zb)
        value = _rate(S[c], E[c], Z[c], wzb[c], wsum[c], k)
        g = group_of(value)
        grp[c] = g
        start[g + 1] += 1
        if g > 0:
            gsum[g] += value
            if g < span[0]:
                span[0] = g
            if g > span[1]:
                span[1] = g
    for g in range(NG):
        start[g + 1] += start[g]
    for g in range(NG):
        fill[g] = start[g]
    for c in range(n):
        g = grp[c]
        q = fill[g]
        fill[g] = q + 1
        members[q * 4] = c
        members[q * 4 + 1] = S[c]
        members[q * 4 + 2] = E[c]
        members[q * 4 + 3] = Z[c]
        pos[c] = q
        # an idle cell's propensity is 0 (group 0 holds exactly those)
        ma[q] = _rate(S[c], E[c], Z[c], wzb[c], wsum[c], k) if g > 0 else 0.0
    _tighten(ma, start, gmax, pow2, 1, NG - 1)


@njit_bare
def _tighten(ma, start, gmax, pow2, lo, hi):
    """Each group's ceiling ``gmax`` from its members' largest bound (a member that left, or whose
    bound fell, leaves it looser than it need be)."""
    for g in range(lo, hi + 1):
        m = 0.0
        for i in range(start[g], start[g + 1]):
            m = max(m, ma[i])
        gmax[g] = _ceiling(m, pow2[g])


@njit_bare
def _resum_into(ma, start, gsum):
    total = 0.0
    for g in range(1, NG):
        s = 0.0
        for i in range(start[g], start[g + 1]):
            s += ma[i]
        gsum[g] = s
        total += s
    return total


@njit_bare
def _run(cells, edges, k, t0, t_stop, max_events, fired, st, w, resum_every):
    """The hot loop (see the module docstring): reactions from ``t0`` to ``t_stop`` or
    ``max_events``; returns the time reached. Long, and kept so: its state (the generator's four
    words, the busy groups, the total) lives in registers across the loop, which helpers that
    return it cost (benchmarks/README.md, "town: named state")."""
    _setup(cells, edges, k, w, t0)
    S, E, Z, R, arrival = cells.S, cells.E, cells.Z, cells.R, cells.arrival
    width, w_east, w_south = edges.width, edges.w_east, edges.w_south
    ma, members, pos, grp, zb, wzb, wsum = w.ma, w.members, w.pos, w.grp, w.zb, w.wzb, w.wsum
    start, gsum, pow2, gmax, gcap, capcum = w.start, w.gsum, w.pow2, w.gmax, w.gcap, w.capcum
    ebuf, span = w.ebuf, w.span
    total = 0.0
    for g in range(NG):
        total += gsum[g]
    n_bite = 0
    n_kill = 0
    n_turn = 0
    n_walk_s = 0
    n_walk_z = 0
    r0, r1, r2, r3 = st[0], st[1], st[2], st[3]
    t = t0
    events = 0
    resum = resum_every
    tight = TIGHT_EVERY
    ei = EXP_BATCH
    lo = span[0]
    hi = span[1]
    moved = True
    cscale = 0.0
    # One countdown to the next thing that is not a reaction (the end, a re-summation, new
    # ceilings) instead of three counters a reaction.
    chunk = min(max_events, resum, tight)
    left = chunk
    while left > 0:
        if moved:  # only a move between groups can empty the highest or the lowest
            moved = False
            while hi > 0 and start[hi + 1] == start[hi]:
                hi -= 1
            if hi == 0:
                t = t_stop  # nothing can happen any more
                break
            if lo > hi:
                lo = hi
            while start[lo + 1] == start[lo]:
                lo += 1
            # Each busy group's ceiling on its sum (a little above it) and their cumulative sums
            # from the top: the scan below reads only these, which change only here.
            cum = 0.0
            capcum[hi + 1] = 0.0
            for gg in range(hi, lo - 1, -1):
                gcap[gg] = max(gsum[gg], 0.0) * GCAP_SLACK
                cum += gcap[gg]
                capcum[gg] = cum
            cscale = cum * (1.0 / 9007199254740992.0)
        if total <= 0.0:
            total = 0.0
            for g in range(lo, hi + 1):
                total += gsum[g]
        if ei == EXP_BATCH:
            st[0], st[1], st[2], st[3] = r0, r1, r2, r3
            _refill(st, ebuf)
            r0, r1, r2, r3 = st[0], st[1], st[2], st[3]
            ei = 0
        t += ebuf[ei] / total
        ei += 1
        if t >= t_stop:
            t = t_stop
            break
        # Composition: a group in proportion to its ceiling (scanned from the largest
        # propensities; the ceilings change rarely, so the scan waits for nothing of the reaction
        # before), accepted with probability (its sum) / (its ceiling): the place of the draw
        # inside the group's stretch is uniform on it. Groups come in proportion to their sums.
        g_lo = _Ui(lo)
        while True:
            x0, r0, r1, r2, r3 = _next_raw(r0, r1, r2, r3)
            target = np.float64(x0 >> _U(11)) * cscale
            g = _Ui(hi)
            while capcum[g] <= target and g > g_lo:
                g -= _Ui(1)
            if target - capcum[g + _Ui(1)] < gsum[g]:
                break
        # Rejection: a member uniformly, accepted with probability (its bound) / 2^g.
        bound = gmax[g] * (1.0 / 9007199254740992.0)
        first = _Ui(start[g])
        size = _U(start[g + _Ui(1)] - start[g])
        while True:
            # Two draws: the member from the first (integers only: a short chain of dependent
            # operations before the bound is loaded), the acceptance from the second. Once
            # accepted, r is uniform on [0, a): it picks the reaction too.
            x1, r0, r1, r2, r3 = _next_raw(r0, r1, r2, r3)
            x2, r0, r1, r2, r3 = _next_raw(r0, r1, r2, r3)
            i = _Ui(_below(x1, size))
            r = np.float64(x2 >> _U(11)) * bound
            if r < ma[first + i]:
                break
        p = first + i
        p4 = p * _Ui(4)
        cu = _Ui(members[p4])  # unsigned: no test for a negative index on the loads below
        c = np.int64(cu)
        # The reaction: r falls in the cell's in-cell reactions (which need nothing of the
        # neighbours), else in those across its edges (bounded with the neighbours' zombie bounds,
        # wzb; the true zombies around are summed only now), else nowhere: thinning, nothing
        # happens (time has moved on all the same: candidates come at the rate of the bounds).
        # The cell's counts from the copy beside its place: no wait for the cell's number first.
        si = members[p4 + _Ui(1)]
        ei_ = members[p4 + _Ui(2)]
        zi = members[p4 + _Ui(3)]
        s = np.float64(si)
        z = np.float64(zi)
        e = np.float64(ei_)
        bite = s * k.bite * z
        kill_in = bite + s * k.kill * z
        turn = kill_in + k.turn * e
        # The reaction changes one or two cells (c1, c2), the zombies of each by dz1, dz2.
        c1 = c
        c2 = -1
        dz1 = 0
        dz2 = 0
        if r < turn:
            # In the cell: bite (b1 = b2 = 0), kill (b1 = 1, b2 = 0) or turn (b1 = b2 = 1), the
            # counts changed without a branch (which one it is cannot be predicted).
            b1 = np.int32(r >= bite)
            b2 = np.int32(r >= kill_in)
            si += b1 - 1
            ei_ += 1 - b1 - b2
            zi += 2 * b2 - b1
            S[cu] = si
            E[cu] = ei_
            Z[cu] = zi
            members[p4 + _Ui(1)] = si
            members[p4 + _Ui(2)] = ei_
            members[p4 + _Ui(3)] = zi
            R[cu] += b1 - b2
            n_bite += 1 - b1
            n_kill += b1 - b2
            n_turn += b2
            # (no first arrival to note: a cell with zombies in it has been reached)
            new = _rate(np.float64(si), np.float64(ei_), np.float64(zi), wzb[cu], wsum[cu], k)
            change, gn = _set_at(c, p, g, new, ma, members, pos, grp, start, gsum, pow2, gmax)
            total += change
            moved |= gsum[g] > gcap[g]  # the group's sum passed its ceiling: new ceilings
            if gn > hi:
                hi = gn
            if 0 < gn < lo:
                lo = gn
            moved |= gn >= 0
            zc = zi
            b = zb[cu]
            if zc > b or b > 2 * zc + 1:  # false while the zombies did not change
                span[0] = lo
                span[1] = hi
                total += _rebound_around(c, cells, edges, k, w)
                lo = span[0]
                hi = span[1]
                moved = True
        else:
            wzc, wsc = zombies_around(c, width, w_east, w_south, Z)
            bite_x = turn + s * k.bite_across * wzc
            kill_x = bite_x + s * k.kill_across * wzc
            walk_s = kill_x + k.hop_s * s * wsc
            true = walk_s + k.hop_z * z * wsc
            if r >= true:
                continue
            if r < bite_x:
                S[c] -= 1
                E[c] += 1
                if arrival[c] > t:
                    arrival[c] = t
                n_bite += 1
            elif r < kill_x:
                u, r0, r1, r2, r3 = _next(r0, r1, r2, r3)
                c1 = _edge(c, width, w_east, w_south, Z, True, u)
                if c1 < 0:  # round-off left zombies around where there are none
                    continue
                Z[c1] -= 1
                R[c1] += 1
                dz1 = -1
                n_kill += 1
            elif r < walk_s:
                u, r0, r1, r2, r3 = _next(r0, r1, r2, r3)
                c2 = _edge(c, width, w_east, w_south, Z, False, u)
                if c2 < 0:
                    continue
                S[c] -= 1
                S[c2] += 1
                n_walk_s += 1
            else:
                if Z[c] <= 0:  # round-off at the very top of the bound
                    continue
                u, r0, r1, r2, r3 = _next(r0, r1, r2, r3)
                c2 = _edge(c, width, w_east, w_south, Z, False, u)
                if c2 < 0:
                    continue
                Z[c] -= 1
                Z[c2] += 1
                dz1 = -1
                dz2 = 1
                if arrival[c2] > t:
                    arrival[c2] = t
                n_walk_z += 1
            # The changed cells' bounds. A cell whose zombies left their bound (zb) moves its
            # neighbours' bounds too (rare: zb has slack both ways); otherwise the neighbours are
            # untouched, their bounds still hold.
            for m in range(2):
                cell = c1 if m == 0 else c2
                if cell < 0:
                    break
                new = _rate(S[cell], E[cell], Z[cell], wzb[cell], wsum[cell], k)
                if cell == c:
                    change, gn = _set_at(c, p, g, new, ma, members, pos, grp, start, gsum, pow2, gmax)
                else:
                    change, gn = _set(cell, new, ma, members, pos, grp, start, gsum, pow2, gmax)
                _sync(cell, S, E, Z, members, pos)
                total += change
                gc = grp[cell]
                moved |= gsum[gc] > gcap[gc]
                if gn > hi:
                    hi = gn
                if 0 < gn < lo:
                    lo = gn
                moved |= gn >= 0
                dz = dz1 if m == 0 else dz2
                if dz != 0:
                    zc = Z[cell]
                    b = zb[cell]
                    if zc > b or b > 2 * zc + 1:
                        span[0] = lo
                        span[1] = hi
                        total += _rebound_around(cell, cells, edges, k, w)
                        lo = span[0]
                        hi = span[1]
                        moved = True
        left -= 1
        if left == 0:
            events += chunk
            resum -= chunk
            tight -= chunk
            if resum == 0:
                resum = resum_every
                total = _resum_into(ma, start, gsum)
                for gg in range(lo, hi + 1):
                    moved |= gsum[gg] > gcap[gg]  # (round-off only: new ceilings are rarely due)
            if tight == 0:
                tight = TIGHT_EVERY
                _tighten(ma, start, gmax, pow2, lo, hi)
                moved = True
            chunk = min(max_events - events, resum, tight)
            left = chunk
    fired[0] += n_bite
    fired[1] += n_kill
    fired[2] += n_turn
    fired[3] += n_walk_s
    fired[4] += n_walk_z
    return t
