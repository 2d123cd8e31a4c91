"""Property-based fuzzing of the town's loaders (docs/reliability.md, "Fuzzing").

Whatever the town tables, TOML text, grid file or ``--set`` value, the loader either returns a
town or raises HyosanError in one line; never another exception, never a hang. A town that loads
also passes the run's own checks and runs a few simulated minutes (a 5 x 6 grid, small limits),
so nothing a loader accepts breaks the run. 6,000 examples in all, about a millisecond each
(measured: ``pytest tests/test_lattice_fuzz.py --durations=0``; the note in docs/reliability.md);
``HYOSAN_FUZZ_SCALE=20`` multiplies every budget.
"""

from __future__ import annotations

import contextlib
import io
import os
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyosan.errors import HyosanError
from hyosan.lattice.grid import read_grid
from hyosan.lattice.scenario import load_town, town_of
from hyosan.lattice.simulate import simulate
from test_lattice_hostile import BASE, npy_header
from test_reliability_fuzz import fuzz, mutations, one_line

TOWN = tomllib.loads(BASE)
TOWN["events"].append({"kind": "cordon", "after": "2h", "area": "box:0,0,2,2", "leak": 0.1})
TOWN["events"].append({"kind": "strike", "after": "3h", "area": "disc:2,3,1.5", "fraction_z": 0.5})

#: Small limits, so that an example that passes allocates and computes little.
SMALL = {
    "HYOSAN_MAX_TOWN_CELLS": "2000",
    "HYOSAN_MAX_TOWN_RECORDS": "2000",
    "HYOSAN_MAX_EXACT_PEOPLE": "100000",
    "HYOSAN_MAX_EXACT_REACTIONS": "20000",
    "HYOSAN_MAX_FILE_BYTES": "100000",
}


@contextlib.contextmanager
def small_limits():
    old = {k: os.environ.get(k) for k in SMALL}
    os.environ.update(SMALL)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


FOLDER: list[Path] = []


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("town_fuzz")
    FOLDER[:] = [root]
    np.save(root / "grid.npy", np.full((5, 6), 10.0))
    (root / "town.toml").write_text(BASE, encoding="utf-8")
    return root


def loads_or_refuses(make, source: str | None = None) -> None:
    """``make()`` gives a town (which then runs briefly) or raises one line of HyosanError."""
    with small_limits():
        try:
            sc = make()
        except HyosanError as exc:
            one_line(exc)
            if source is not None:  # the town file, a flag, or a grid file it names
                assert str(exc).startswith((source, "--set", str(FOLDER[0]), "method")), str(exc)
            return
        try:
            simulate(
                sc.lattice,
                sc.params,
                days=min(sc.days, 0.01),
                method=sc.method,
                events=sc.events,
                snapshot_every=0.01,
            )
        except HyosanError as exc:  # what only the run can know (its reaction cap)
            one_line(exc)


@fuzz(3700)
@given(raw=mutations(TOWN))
def test_town_tables_load_or_fail_in_one_line(folder, raw):
    if not isinstance(raw, dict):
        raw = {"value": raw}
    loads_or_refuses(lambda: town_of(raw, "t.toml", folder), "t.toml")


KEYS = st.sampled_from(
    [
        "mu",
        "kill_rate",
        "bite_rate",
        "bite_prob",
        "incubation",
        "contact_s",
        "move_s",
        "move_z",
        "town.days",
        "town.factor",
        "town.cell_m",
        "town.method",
        "town.lattice",
        "town.name",
        "outbreak.from",
        "coupling.mu",
        "outbreak.beta",
        "speed",
        "town.size",
    ]
)
VALUES = st.one_of(
    st.sampled_from(
        ["nan", "inf", "-inf", "0", "-1", "1e300", "1e-300", "2.5", "3", "tau", "exact", "/dev/zero"]
    ),
    st.sampled_from(["grid.npy", "hyosan-city", "town.toml", "10min", "never", "1000000", "2147483648"]),
    st.floats().map(repr),
    st.integers(-(2**64), 2**64).map(str),
    st.text(max_size=12),
)


@fuzz(300)
@given(overrides=st.dictionaries(KEYS, VALUES, max_size=3))
def test_town_set_overrides_load_or_fail_in_one_line(folder, overrides):
    def make():
        old = Path.cwd()
        os.chdir(folder)
        try:
            return load_town("town.toml", overrides)
        finally:
            os.chdir(old)

    loads_or_refuses(make)


@fuzz(600)
@given(junk=st.binary(max_size=200) | st.text(max_size=200).map(str.encode), at=st.integers(0, len(BASE)))
def test_town_text_parses_or_fails_in_one_line(folder, junk, at):
    data = BASE.encode()[:at] + junk + BASE.encode()[at:]
    path = folder / f"text_{abs(hash((junk, at))) % 1000}.toml"
    path.write_bytes(data)
    loads_or_refuses(lambda: load_town(str(path)), str(path))


def _npy(shape, descr, data: bytes) -> bytes:
    return npy_header(shape, descr) + data


NPY = st.one_of(
    st.builds(
        _npy,
        st.tuples(st.integers(-3, 70), st.integers(-3, 70))
        | st.tuples(st.integers(0, 10**9), st.integers(0, 10**9))
        | st.tuples(st.integers(0, 5)),
        st.sampled_from(["<f8", "<i4", "<u2", "|b1", "<c16", "<U3", "|S2", "|O", "<f2", "zz", "<V8"]),
        st.binary(max_size=300),
    ),
    st.binary(max_size=300),
    st.integers(1, 12)
    .flatmap(
        lambda w: st.lists(
            st.lists(st.floats(-5, 1e6) | st.integers(-5, 2**40), min_size=w, max_size=w),
            min_size=1,
            max_size=8,
        )
    )
    .map(lambda rows: _saved(np.array(rows, dtype=np.float64))),
)


def _saved(grid: np.ndarray) -> bytes:
    f = io.BytesIO()
    np.save(f, grid)
    return f.getvalue()


@fuzz(900)
@given(data=NPY, factor=st.integers(1, 4))
def test_npy_grids_read_or_fail_in_one_line(folder, data, factor):
    path = folder / "fuzz.npy"
    path.write_bytes(data)
    with small_limits():
        try:
            lat = read_grid(path, factor=factor)
        except HyosanError as exc:
            one_line(exc)
            return
    assert lat.population.dtype == np.int32 and (lat.population >= 0).all()
    assert lat.population.sum(dtype=np.int64) < 2**31


CSV = st.one_of(
    st.text(alphabet="0123456789.,-e\n nainf#", max_size=200),
    st.lists(st.lists(st.integers(-5, 2**33), min_size=3, max_size=3), min_size=1, max_size=6).map(
        lambda rows: "\n".join(",".join(map(str, r)) for r in rows)
    ),
    st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
)


@fuzz(600)
@given(text=CSV)
def test_csv_grids_read_or_fail_in_one_line(folder, text):
    path = folder / "fuzz.csv"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    with small_limits():
        try:
            lat = read_grid(path)
        except HyosanError as exc:
            one_line(exc)
            return
    assert lat.population.sum(dtype=np.int64) < 2**31
