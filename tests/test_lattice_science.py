"""The lattice's science: Alemi's critical point, one cell = the compartment model, fast mixing ->
the well-mixed model, a leaky cordon delays in proportion to its leak."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hyosan import models
from hyosan.lattice.bond import ALPHA_C, win_probability
from hyosan.lattice.events import TownEvent
from hyosan.lattice.exact import run_exact
from hyosan.lattice.grid import Lattice
from hyosan.lattice.kernels import Cells, Edges
from hyosan.lattice.model import SEZR
from hyosan.lattice.params import LatticeParams
from hyosan.lattice.simulate import simulate


def _exact(S, E, Z, R, w_east, w_south, width, k, t0, t_stop, max_events, arrival, fired, gen, *resum):
    """The exact kernel on these arrays (its named state made of them); ``resum``: resum_every."""
    cells = Cells(S, E, Z, R, arrival)
    return run_exact(cells, Edges(w_east, w_south, width), k, t0, t_stop, fired, gen, max_events, *resum)


def _exact_final(lat: Lattice, params: LatticeParams, z0: dict, runs: int, seed: int, t_end: float = 200.0):
    """Final (S, E, Z, R) totals of ``runs`` exact runs straight through the kernel."""
    k = SEZR.compile(params)
    out = np.empty((runs, 4), np.int64)
    gens = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(runs)]
    for r, gen in enumerate(gens):
        S = lat.population.ravel().astype(np.int32)
        E, Z, R = (np.zeros_like(S) for _ in range(3))
        for c, n in z0.items():
            Z[c] = n
        arrival = np.full(S.shape, np.inf, np.float32)
        fired = np.zeros(5, np.int64)
        _exact(
            S,
            E,
            Z,
            R,
            lat.w_east.ravel(),
            lat.w_south.ravel(),
            lat.shape[1],
            k,
            0.0,
            t_end,
            10**9,
            arrival,
            fired,
            gen,
        )
        out[r] = S.sum(), E.sum(), Z.sum(), R.sum()
    return out


def test_bond_lattice_critical_point():
    """Alemi's alpha_c = 0.437: below it the chance that zombies win rises with the lattice, above
    it the chance falls. Widths 8 and 32 (strips 4 widths long), 400 line-seeded runs each."""
    assert 0.40 < ALPHA_C < 0.48
    runs = 400
    p8, se8 = win_probability(8, 0.40, runs, seed=1)
    p32, se32 = win_probability(32, 0.40, runs, seed=2)
    assert p32 - p8 > 3 * np.hypot(se8, se32), (p8, p32)
    q8, sq8 = win_probability(8, 0.48, runs, seed=3)
    q32, sq32 = win_probability(32, 0.48, runs, seed=4)
    assert q8 - q32 > 3 * np.hypot(sq8, sq32), (q8, q32)


def test_one_cell_equals_the_compartment_model_in_distribution():
    """One isolated cell of n people is alemi-latent with beta_c = beta n (the stated projection):
    the final number of humans has the same distribution (two-sample KS over 600 runs each)."""
    n, z0, runs = 60, 2, 600
    params = LatticeParams.per_day(beta=0.02, alpha=0.7, eta=1.5)
    lat = Lattice.from_population(np.array([[n - z0]]))
    lattice = _exact_final(lat, params, {0: z0}, runs, seed=5)
    comp = models.get("alemi-latent").simulate(
        method="ssa", params={**params.compartment(n), "Z0": z0}, runs=runs, seed=6, t_end=200.0, n_points=2
    )
    final_s = comp.values[:, -1, comp.species.index("S")]
    assert stats.ks_2samp(lattice[:, 0], final_s).pvalue > 1e-3
    assert abs(lattice[:, 0].mean() - final_s.mean()) < 4 * np.hypot(
        lattice[:, 0].std(), final_s.std()
    ) / np.sqrt(runs)
    # The projection and its inverse agree.
    back = LatticeParams.from_compartment(**{k: v for k, v in params.compartment(n).items() if k != "N"}, n=n)
    assert back.beta == pytest.approx(params.beta)


def test_two_cells_fully_coupled_are_one_well_mixed_population():
    """Two cells joined by an edge of weight 1 with mu = 1: every person meets every zombie at the
    in-cell rate, so the totals are exactly alemi-latent of both cells (beta_c = beta N). The state
    after one day matches in distribution (KS on S, E, Z, R, 800 runs each); with mu = 0.5 it does
    not. Checks the bites and kills across the edge and the solver's bounds on the zombies around."""
    runs, day = 800, 1.0
    params = LatticeParams.per_day(beta=0.03, alpha=0.4, eta=2.0, mu=1.0)
    lat = Lattice.from_population(np.array([[28, 30]]))
    comp = models.get("alemi-latent").simulate(
        method="ssa", params={**params.compartment(60), "Z0": 2}, runs=runs, seed=12, t_end=day, n_points=2
    )
    well = comp.values[:, -1, :]  # S, E, Z, R: the catalogue's order is the lattice's
    assert comp.species == ("S", "E", "Z", "R")
    coupled = _exact_final(lat, params, {0: 2}, runs, seed=11, t_end=day)
    assert min(stats.ks_2samp(coupled[:, i], well[:, i]).pvalue for i in range(4)) > 1e-3
    weaker = _exact_final(lat, params.with_(mu=0.5), {0: 2}, runs, seed=11, t_end=day)
    assert min(stats.ks_2samp(weaker[:, i], well[:, i]).pvalue for i in range(4)) < 1e-3


def test_cells_far_apart_in_rate_are_each_drawn_at_their_own_rate():
    """48 cells whose only reaction is turning (bitten people and nobody to bite: each of a cell's
    E0 bitten turns after an exponential time of rate eta, on its own), E0 from 1 to 30,000: their
    rates span 15 of the exact solver's groups, several cells to a group, and as they empty they
    move down between groups while the ceilings the solver draws groups and members by go stale.
    After a time T each cell's bitten left are Binomial(E0, exp(-eta T)) in each run, so over 150
    runs each cell's total is Binomial(150 E0, exp(-eta T)): a chi-square over the cells, and the
    spread of the runs about the mean, show that every cell is drawn at its own rate."""
    runs, eta = 150, 2.0
    lat = Lattice.from_population(np.ones((6, 8)))
    k = SEZR.compile(LatticeParams.per_day(beta=0.01, alpha=0.5, eta=eta, mu=0.3))
    e0 = np.unique(np.round(np.geomspace(1, 30_000, 60)).astype(np.int32))[-48:]
    e0 = np.random.default_rng(0).permutation(e0)
    t_end = np.log(2.0) / eta  # half of them turn
    p = np.exp(-eta * t_end)
    left = np.empty((runs, e0.size))
    for r, gen in enumerate(np.random.default_rng(s) for s in np.random.SeedSequence(21).spawn(runs)):
        S = np.zeros(e0.size, np.int32)
        E, Z, R = e0.copy(), np.zeros_like(S), np.zeros_like(S)
        fired = np.zeros(5, np.int64)
        arrival = np.full(S.shape, np.inf, np.float32)
        we, ws = lat.w_east.ravel(), lat.w_south.ravel()
        _exact(S, E, Z, R, we, ws, lat.shape[1], k, 0.0, t_end, 10**9, arrival, fired, gen)
        assert fired[2] == (e0 - E).sum() == Z.sum() and fired.sum() == fired[2]  # turns only
        left[r] = E
    z = (left.sum(axis=0) - runs * e0 * p) / np.sqrt(runs * e0 * p * (1 - p))
    assert stats.chi2.sf((z**2).sum(), e0.size) > 1e-3, z
    assert np.abs(z).max() < 4.5, z
    spread = (((left - e0 * p) ** 2) / (e0 * p * (1 - p))).mean()  # 1 for binomials
    assert abs(spread - 1.0) < 5 * np.sqrt(2.0 / left.size), spread


@pytest.mark.slow
def test_fast_mixing_tends_to_the_well_mixed_model():
    """With people and zombies walking fast between 4 cells, the outbreak is the well-mixed SEZR of
    all 4 cells with beta_c = beta x (people per cell); without walking or coupling it stays in
    its cell and the ending differs."""
    per_cell, runs, days = 30, 300, 30.0  # compared after 30 days (people walk on forever)
    lat = Lattice.from_population(np.full((2, 2), per_cell))
    lat.population[0, 0] -= 2
    base = LatticeParams.per_day(beta=0.04, alpha=0.6, eta=2.0, mu=0.0)
    fast = _exact_final(lat, base.with_(move_s=20.0, move_z=20.0), {0: 2}, runs, seed=7, t_end=days)
    still = _exact_final(lat, base, {0: 2}, runs, seed=8, t_end=days)
    comp = models.get("alemi-latent").simulate(
        method="ssa",
        params={
            "beta": base.beta * per_cell,
            "alpha": base.alpha,
            "eta": base.eta,
            "N": 4 * per_cell,
            "Z0": 2,
        },
        runs=runs,
        seed=9,
        t_end=days,
        n_points=2,
    )
    well = comp.values[:, -1, comp.species.index("S")]
    se = np.hypot(fast[:, 0].std(), well.std()) / np.sqrt(runs)
    assert abs(fast[:, 0].mean() - well.mean()) < 4 * se, (fast[:, 0].mean(), well.mean())
    assert still[:, 0].mean() - well.mean() > 8 * se  # the three other cells are never reached


def test_leaky_cordon_delays_in_proportion_to_its_leak():
    """Two cells, zombies that cannot be killed on one side: the first bite across a cordon that
    keeps a fraction ``leak`` of the edge comes after an exponential time of mean 1/(mu beta leak Z S).
    Ten times less leak, ten times the wait (mean over 400 runs, within 15 %)."""
    params = LatticeParams.per_day(beta=0.01, alpha=0.0, eta=1.0, mu=0.5)
    k = SEZR.compile(params)
    means = {}
    for leak in (0.2, 0.02):
        waits = []
        for gen in (np.random.default_rng(s) for s in np.random.SeedSequence(int(leak * 100)).spawn(400)):
            S = np.array([0, 50], np.int32)
            Z = np.array([20, 0], np.int32)
            E, R = np.zeros(2, np.int32), np.zeros(2, np.int32)
            arrival = np.full(2, np.inf, np.float32)
            _exact(
                S,
                E,
                Z,
                R,
                np.array([leak, 0.0], np.float32),
                np.zeros(2, np.float32),
                2,
                k,
                0.0,
                1e6,
                1,
                arrival,
                np.zeros(5, np.int64),
                gen,
            )
            waits.append(arrival[1])
        means[leak] = np.mean(waits)
        expected = 1.0 / (params.mu * params.beta * leak * 20 * 50)
        assert means[leak] == pytest.approx(expected, rel=0.15)
    assert means[0.02] / means[0.2] == pytest.approx(10.0, rel=0.2)


def test_fast_mixing_tau_leaping_follows_the_well_mixed_ode():
    """Large populations walking fast between 4 cells: the mean of 10 tau-leaping runs follows the
    ODE of alemi-latent for all 4 cells to within 2 % at every record; without walking it does not."""
    per, z0, days = 5000, 500, 12.0
    lat = Lattice.from_population(np.full((2, 2), per))
    lat.population[0, 0] -= z0
    params = LatticeParams.per_day(beta=1.0 / per, alpha=0.6, eta=2.0, mu=0.0, move_s=50.0, move_z=50.0)
    ode = models.get("alemi-latent").simulate(
        method="ode",
        params={"beta": 1.0, "alpha": 0.6, "eta": 2.0, "N": 4 * per, "Z0": z0},
        t_end=days,
        n_points=5,
    )
    expected = ode.values[0][:, 0]
    seed = [TownEvent("seed", 0.0, "cells:0,0", zombies=z0)]

    def mean_s(p):
        runs = [
            simulate(
                lat,
                p,
                days=days,
                method="tau",
                tau=0.01,
                events=seed,
                record_every=3.0,
                snapshot_every=days,
                seed=s,
            )
            .counts["S"]
            .to_numpy()
            for s in range(10)
        ]
        return np.mean(runs, axis=0)

    np.testing.assert_allclose(mean_s(params), expected, rtol=0.02)
    assert mean_s(params.with_(move_s=0.0, move_z=0.0))[-1] > 1.5 * expected[-1]


def test_resumming_the_sums_changes_only_round_off():
    """The exact solver recomputes its group sums and the zombies around its busy cells from the
    cells every few million reactions, so round-off never accumulates. Doing it every 7 reactions
    gives the same 5000 reactions draw for draw (on a lattice with walking, kills across edges,
    blocked cells and cells moving between groups; the clock differs in its last bits), so the
    recomputation agrees with what was kept up to date. (Runs to a fixed time drift apart after
    thousands of recomputations, when a last bit tips a comparison.)"""
    rng = np.random.default_rng(3)
    lat = Lattice.from_population(
        rng.integers(0, 60, (6, 7)).astype(float), blocked=rng.random((6, 7)) < 0.15
    )
    params = LatticeParams.per_day(beta=0.05, alpha=0.6, eta=3.0, mu=0.4, move_s=0.5, move_z=0.5)
    k = SEZR.compile(params)
    seeded = int(np.argmax(lat.population.ravel()))
    for seed in range(8):
        runs = []
        for every in (1 << 22, 7):
            S = lat.population.ravel().astype(np.int32)
            E, Z, R = (np.zeros_like(S) for _ in range(3))
            Z[seeded] = 5
            arrival = np.full(S.shape, np.inf, np.float32)
            fired = np.zeros(5, np.int64)
            t = _exact(
                S,
                E,
                Z,
                R,
                lat.w_east.ravel(),
                lat.w_south.ravel(),
                lat.shape[1],
                k,
                0.0,
                1e9,
                5000,
                arrival,
                fired,
                np.random.default_rng(seed),
                every,
            )
            runs.append((t, S, E, Z, R, fired))
        first, often = runs
        assert first[0] == pytest.approx(often[0], rel=1e-12)
        for a, b in zip(first[1:], often[1:], strict=True):
            np.testing.assert_array_equal(a, b)
        assert first[5].sum() == 5000 and first[5][1] > 0 and first[5][2] > 0  # kills and turns too


def _workspace(n: int) -> dict:
    """The exact kernel's working arrays, as :func:`hyosan.lattice.exact.run_exact` allocates
    them, kept here so that a test can read them after a run."""
    from hyosan.lattice import exact

    return {
        "ma": np.empty(n),
        "members": np.empty(4 * n, np.int32),
        "pos": np.empty(n, np.int32),
        "grp": np.zeros(n, np.int8),
        "zb": np.empty(n, np.int32),
        "wzb": np.empty(n),
        "wsum": np.empty(n, np.float32),
        "start": np.zeros(exact.NG + 1, np.int64),
        "gsum": np.zeros(exact.NG),
        "pow2": np.empty(exact.NG + 1),
        "gmax": np.zeros(exact.NG),
        "gcap": np.zeros(exact.NG),
        "capcum": np.zeros(exact.NG + 1),
        "ebuf": np.empty(exact.EXP_BATCH),
        "fill": np.empty(exact.NG, np.int64),
        "span": np.array([exact.NG, 0], np.int64),
    }


@pytest.mark.parametrize("events", [1, 300, 3000, 20000])
def test_exact_bounds_stay_above_the_true_rates(events):
    """The exact solver's bounds, read after a run stopped at a given number of reactions (on a
    lattice with walking, kills across edges and blocked cells): each cell's zombie bound zb keeps
    its hysteresis band Z <= zb <= 2 Z + 1 (0 where there are none, so idle cells stay idle); the
    bound on the zombies around is exactly the weighted sum of the neighbours' zb, so at least the
    true one; each cell's bound on its propensity is exactly the propensity at those bounds, at
    least the true propensity, and sits in its group; the group sums are the sums of the bounds; each
    group's ceiling (the acceptance test's denominator) is at least its members' bounds and at most
    the group's top, so the rejection stays exact."""
    from hyosan.lattice import exact
    from hyosan.lattice.kernels import zombies_around

    rng = np.random.default_rng(events)
    lat = Lattice.from_population(
        rng.integers(0, 400, (9, 11)).astype(float), blocked=rng.random((9, 11)) < 0.1
    )
    params = LatticeParams.per_day(beta=0.01, alpha=0.7, eta=3.0, mu=0.3, move_s=0.2, move_z=0.4)
    ks = SEZR.compile(params)
    S = lat.population.ravel().astype(np.int32)
    E, Z, R = (np.zeros_like(S) for _ in range(3))
    Z[int(np.argmax(S))] = 30
    n = S.size
    width = lat.shape[1]
    we, ws = lat.w_east.ravel(), lat.w_south.ravel()
    fired = np.zeros(5, np.int64)
    st = np.empty(4, np.uint64)
    exact.seed_state(np.random.default_rng(1), st)
    w = _workspace(n)
    exact._run(
        Cells(S, E, Z, R, np.full(n, np.inf, np.float32)),
        Edges(we, ws, width),
        ks,
        0.0,
        1e9,
        events,
        fired,
        st,
        exact.Work(**w),
        1 << 22,
    )
    assert (fired.sum() == events and fired[1] > 0) or events < 3000
    assert (w["zb"] >= Z).all() and (w["zb"] <= 2 * Z + 1).all() and (w["zb"][Z == 0] == 0).all()
    start, ma, pos = w["start"], w["ma"], w["pos"]
    rec = w["members"].reshape(n, 4)
    assert (rec[pos, 0] == np.arange(n)).all()
    assert (rec[pos, 1:] == np.stack([S, E, Z], axis=1)).all()  # the copies of the counts
    k0, k1, k2, k3, k4, k5, k6 = ks.bite, ks.kill, ks.turn, ks.bite_across, ks.kill_across, ks.hop_s, ks.hop_z
    for c in range(n):
        wzb, wsum = zombies_around(c, width, we, ws, w["zb"])
        wz = zombies_around(c, width, we, ws, Z)[0]
        assert w["wzb"][c] == wzb >= wz
        bound = ma[pos[c]]
        assert bound == exact._rate(S[c], E[c], Z[c], wzb, w["wsum"][c], ks)
        s, z = float(S[c]), float(Z[c])
        true = s * (k0 + k1) * z + s * (k3 + k4) * wz + k2 * E[c] + (k5 * s + k6 * z) * wsum
        assert bound >= true * (1 - 1e-12)
        g = int(w["grp"][c])
        assert start[g] <= pos[c] < start[g + 1]
        assert g == exact.group_of(bound)
    for g in range(1, exact.NG):
        assert w["gsum"][g] == pytest.approx(ma[start[g] : start[g + 1]].sum(), rel=1e-9, abs=1e-9)
        if start[g + 1] > start[g]:  # the group's ceiling: at least every member's bound, at most 2^g
            assert ma[start[g] : start[g + 1]].max() <= w["gmax"][g] <= w["pow2"][g]


def test_the_kept_working_arrays_carry_nothing_from_the_run_before():
    """The exact solver keeps its working arrays between calls on lattices of the same size
    (hyosan.lattice.exact.workspace). A run on one lattice after a run on another of the same size
    is draw for draw the run on fresh arrays: nothing of the first run leaks into the second."""
    from hyosan.lattice import exact

    params = LatticeParams.per_day(beta=0.02, alpha=0.6, eta=2.0, mu=0.4, move_s=0.3, move_z=0.2)
    k = SEZR.compile(params)

    def run(pop, seed):
        lat = Lattice.from_population(pop)
        S = lat.population.ravel().astype(np.int32)
        E, Z, R = (np.zeros_like(S) for _ in range(3))
        Z[int(np.argmax(S))] = 7
        fired = np.zeros(5, np.int64)
        arrival = np.full(S.shape, np.inf, np.float32)
        we, ws = lat.w_east.ravel(), lat.w_south.ravel()
        t = _exact(
            S, E, Z, R, we, ws, lat.shape[1], k, 0.0, 1e9, 4000, arrival, fired, np.random.default_rng(seed)
        )
        return t, S, E, Z, R, fired, arrival

    rng = np.random.default_rng(4)
    first, second = rng.integers(0, 300, (2, 7, 9)).astype(float)
    exact._WORK.arrays = None
    fresh = run(second, 1)
    exact._WORK.arrays = None
    run(first, 2)
    kept = exact.workspace(63)
    after = run(second, 1)
    assert exact.workspace(63).ma is kept.ma  # the same arrays, used again
    for a, b in zip(fresh, after, strict=True):
        np.testing.assert_array_equal(a, b)
    assert fresh[5].sum() == 4000


def test_the_member_draw_is_uniform():
    """``_below(x, n)`` (the exact solver's member index from a 64-bit draw): its ends, and
    uniform counts for a few sizes (chi-square)."""
    from hyosan.lattice import exact

    assert exact._below(np.uint64(0), np.uint64(7)) == 0
    assert exact._below(np.uint64(2**64 - 1), np.uint64(7)) == 6
    assert exact._below(np.uint64(2**64 - 1), np.uint64(2**32 - 1)) == 2**32 - 2
    x = np.random.default_rng(5).integers(0, 2**64, 200_000, dtype=np.uint64, endpoint=False)
    for n in (3, 7, 1000):
        idx = np.array([exact._below(v, np.uint64(n)) for v in x[: 60 * n if n > 100 else 30_000]])
        assert idx.min() >= 0 and idx.max() < n
        assert stats.chisquare(np.bincount(idx, minlength=n)).pvalue > 1e-4


def test_the_exact_solvers_waits_are_exponential():
    """The exact solver's waits come from a ziggurat (hyosan.lattice.exact._refill): 400,000
    draws match the standard exponential (Kolmogorov-Smirnov), in the tail beyond the base layer
    too (r = 7.7: about 180 draws), and the same generator state gives the same draws."""
    from hyosan.lattice import exact

    st = np.empty(4, np.uint64)
    exact.seed_state(np.random.default_rng(11), st)
    again = st.copy()
    buf = np.empty(400_000)
    exact._refill(st, buf)
    assert stats.kstest(buf, "expon").pvalue > 1e-3
    tail = (buf > exact.ZIG_R).sum()
    expected = buf.size * np.exp(-exact.ZIG_R)
    assert abs(tail - expected) < 4 * np.sqrt(expected)
    assert stats.kstest(buf[buf > exact.ZIG_R] - exact.ZIG_R, "expon").pvalue > 1e-3
    assert np.mean(buf) == pytest.approx(1.0, abs=0.01)
    buf2 = np.empty(400_000)
    exact._refill(again, buf2)
    np.testing.assert_array_equal(buf, buf2)
