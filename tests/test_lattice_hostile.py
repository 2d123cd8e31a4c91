"""The town's bad-input corpus: careless or hostile town files, grids and flags (docs/reliability.md).

Every case runs ``hyosan town`` in this process and asserts what the school's corpus asserts:
exit status 2, one line on stderr naming the file or flag and the field, no traceback, nothing
written or changed. Each fails before the solver runs (but the reaction cap's, which stops a
run of a few hundred reactions), so the whole corpus takes seconds.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import pytest

from hyosan.errors import HyosanError
from hyosan.lattice import Lattice, TownEvent, simulate
from hyosan.lattice.grid import coarsen_sum, read_grid
from test_reliability_corpus import assert_refused

BASE = """\
[town]
name = "Tinytown"
lattice = "grid.npy"
days = 2
cell_m = 250
method = "exact"

[outbreak]
contact_s = 0.5

[coupling]
mu = 0.2

[[events]]
kind = "seed"
after = "1h"
area = "cells:1,1"
zombies = 3
"""


def npy_header(shape: tuple, descr: str = "<f8") -> bytes:
    """A .npy version 1.0 header declaring ``shape`` (the data after it is up to the case)."""
    h = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}"
    h = h + " " * (117 - len(h)) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode()


@pytest.fixture
def town_dir(tmp_path, monkeypatch):
    """A working folder with a 5 x 6 grid (10 people a cell) and the town file above."""
    np.save(tmp_path / "grid.npy", np.full((5, 6), 10.0))
    (tmp_path / "town.toml").write_text(BASE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def edit(old: str, new: str):
    def change(root: Path) -> list[str]:
        text = (root / "town.toml").read_text(encoding="utf-8")
        assert old in text, old
        (root / "town.toml").write_text(text.replace(old, new), encoding="utf-8")
        return ["town.toml"]

    return change


def event(body: str):
    def change(root: Path) -> list[str]:
        with open(root / "town.toml", "a", encoding="utf-8") as f:
            f.write("\n[[events]]\n" + body + "\n")
        return ["town.toml"]

    return change


def grid_file(name: str, write):
    """The town reads ``name``, which ``write(path)`` makes."""

    def change(root: Path) -> list[str]:
        write(root / name)
        return edit('lattice = "grid.npy"', f'lattice = "{name}"')(root)

    return change


def flags(*args: str):
    return lambda root: ["town.toml", *args]


def town_file(make):
    def change(root: Path) -> list[str]:
        return [make(root)]

    return change


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _link(target: str):
    return lambda path: path.symlink_to(target)


CASES = {
    # the [town] table
    "invalid-toml": (edit("[town]", "[town"), {}, ("not valid TOML",)),
    "days-1e300": (edit("days = 2", "days = 1e300"), {}, ("town.days",)),
    "days-nan": (edit("days = 2", "days = nan"), {}, ("town.days",)),
    "days-zero": (edit("days = 2", "days = 0"), {}, ("town.days",)),
    "days-text": (edit("days = 2", 'days = "two"'), {}, ("town.days",)),
    "factor-1e6": (edit("days = 2", "days = 2\nfactor = 1000000"), {}, ("town.factor",)),
    "factor-float": (edit("days = 2", "days = 2\nfactor = 2.5"), {}, ("town.factor",)),
    "factor-zero": (edit("days = 2", "days = 2\nfactor = 0"), {}, ("town.factor",)),
    "cell-m-nan": (edit("cell_m = 250", "cell_m = nan"), {}, ("town.cell_m",)),
    "cell-m-zero": (edit("cell_m = 250", "cell_m = 0"), {}, ("town.cell_m",)),
    "cell-m-negative": (edit("cell_m = 250", "cell_m = -5"), {}, ("town.cell_m",)),
    "cell-m-inf": (edit("cell_m = 250", "cell_m = inf"), {}, ("town.cell_m",)),
    "cell-m-text": (edit("cell_m = 250", 'cell_m = "wide"'), {}, ("town.cell_m",)),
    "method-unknown": (edit('method = "exact"', 'method = "fast"'), {}, ("town.method",)),
    "unknown-town-key": (edit("days = 2", "days = 2\nsize = 3"), {}, ("town", "size")),
    "unknown-section": (edit("[coupling]", "[couplings]"), {}, ("couplings",)),
    "mu-nan": (edit("mu = 0.2", "mu = nan"), {}, ("coupling.mu",)),
    "contact-negative": (edit("contact_s = 0.5", "contact_s = -1"), {}, ("outbreak.contact_s",)),
    # events
    "seeds-overflow-int32": (
        event('kind = "seed"\narea = "cells:2,2"\nzombies = 2147483647'),
        {},
        ("seeds and population", "int32"),
    ),
    "seed-over-int32": (edit("zombies = 3", "zombies = 2147483648"), {}, ("events[0].zombies",)),
    "seed-negative": (edit("zombies = 3", "zombies = -3"), {}, ("events[0].zombies",)),
    "box-off-grid": (event('kind = "cordon"\narea = "box:-10,-10,-5,-5"'), {}, ("events[1].area",)),
    "box-past-grid": (event('kind = "strike"\narea = "box:50,50,60,60"'), {}, ("events[1].area",)),
    "box-reversed": (event('kind = "strike"\narea = "box:3,3,1,1"'), {}, ("events[1].area",)),
    "disc-nan": (event('kind = "strike"\narea = "disc:nan,nan,nan"'), {}, ("events[1].area",)),
    "disc-inf": (event('kind = "cordon"\narea = "disc:inf,2,3"'), {}, ("events[1].area",)),
    "disc-negative-radius": (event('kind = "strike"\narea = "disc:2,2,-1"'), {}, ("events[1].area",)),
    "disc-off-grid": (event('kind = "cordon"\narea = "disc:-100,-100,3"'), {}, ("events[1].area",)),
    "disc-too-few-numbers": (event('kind = "cordon"\narea = "disc:1,2"'), {}, ("events[1].area",)),
    "cells-off-grid": (event('kind = "strike"\narea = "cells:1,1;9,9"'), {}, ("events[1].area",)),
    "seed-off-grid": (edit('area = "cells:1,1"', 'area = "box:7,7,9,9"'), {}, ("events[0].area",)),
    "area-unknown": (event('kind = "strike"\narea = "downtown"'), {}, ("events[1].area",)),
    "area-number": (event('kind = "strike"\narea = 5'), {}, ("events[1].area",)),
    "camp-unknown": (event('kind = "evacuate"\narea = "*"\ncamp = "tent"'), {}, ("events[1].camp",)),
    "events-not-tables": (lambda root: _append(root, "events = 5"), {}, ("events",)),
    "event-unknown-key": (event('kind = "strike"\narea = "*"\nforce = 3'), {}, ("events[1]", "force")),
    "event-fraction-2": (event('kind = "evacuate"\narea = "*"\nfraction = 2'), {}, ("events[1].fraction",)),
    "event-after-words": (event('kind = "strike"\nafter = "soon"'), {}, ("events[1].after",)),
    # grids
    "grid-complex": (grid_file("c.npy", lambda p: np.save(p, np.full((3, 3), 1 + 2j))), {}, ("population",)),
    "grid-strings": (
        grid_file("s.npy", lambda p: np.save(p, np.array([["1", "2"], ["3", "4"]]))),
        {},
        ("population", "real numbers"),
    ),
    "grid-bool": (grid_file("b.npy", lambda p: np.save(p, np.ones((3, 3), bool))), {}, ("population",)),
    "grid-declared-huge": (
        grid_file("huge.npy", lambda p: p.write_bytes(npy_header((100000, 100000)) + bytes(80))),
        {},
        ("huge.npy", "HYOSAN_MAX_TOWN_CELLS"),
    ),
    "grid-truncated": (
        grid_file("short.npy", lambda p: p.write_bytes(npy_header((4, 4)) + bytes(80))),
        {},
        ("short.npy", "population"),
    ),
    "grid-object-pickle": (
        grid_file("obj.npy", lambda p: p.write_bytes(npy_header((2, 2), "|O") + b"\x80\x04N.")),
        {},
        ("obj.npy", "population"),
    ),
    "grid-1d": (grid_file("line.npy", lambda p: np.save(p, np.ones(5))), {}, ("population", "2-D")),
    "grid-3d": (grid_file("cube.npy", lambda p: np.save(p, np.ones((2, 2, 2)))), {}, ("population",)),
    "grid-garbage": (grid_file("junk.npy", lambda p: p.write_bytes(b"not numpy at all")), {}, ("junk.npy",)),
    "grid-over-int32": (
        grid_file("crowd.npy", lambda p: np.save(p, np.full((2, 2), 1e9))),
        {},
        ("crowd.npy", "int32"),
    ),
    "grid-nan-cell": (grid_file("nan.csv", lambda p: p.write_text("1,2\nnan,4\n")), {}, ("nan.csv",)),
    "grid-csv-text": (grid_file("words.csv", lambda p: p.write_text("1,2\nmany,4\n")), {}, ("words.csv",)),
    "grid-csv-ragged": (grid_file("ragged.csv", lambda p: p.write_text("1,2,3\n4\n")), {}, ("ragged.csv",)),
    "grid-dev-zero": (grid_file("zero.npy", _link("/dev/zero")), {}, ("zero.npy", "not a regular file")),
    "grid-fifo": (grid_file("pipe.csv", _fifo), {}, ("pipe.csv", "not a regular file")),
    "grid-folder": (grid_file("dir.csv", lambda p: p.mkdir()), {}, ("dir.csv", "folder")),
    "grid-missing": (edit('lattice = "grid.npy"', 'lattice = "gone.npy"'), {}, ("gone.npy", "no such file")),
    "grid-suffix": (grid_file("grid.txt", lambda p: p.write_text("1")), {}, ("grid.txt",)),
    "grid-over-cell-limit": (
        lambda root: ["town.toml"],
        {"HYOSAN_MAX_TOWN_CELLS": "10"},
        ("HYOSAN_MAX_TOWN_CELLS",),
    ),
    # the town file itself
    "town-dev-zero": (town_file(lambda root: "/dev/zero"), {}, ("/dev/zero", "not a regular file")),
    "town-fifo": (
        town_file(lambda root: (_fifo(root / "t.toml"), "t.toml")[1]),
        {},
        ("t.toml", "not a regular file"),
    ),
    "town-folder": (
        town_file(lambda root: ((root / "d.toml").mkdir(), "d.toml")[1]),
        {},
        ("d.toml", "folder"),
    ),
    "town-missing": (town_file(lambda root: "nowhere.toml"), {}, ("nowhere.toml",)),
    # flags
    "flag-days-1e300": (flags("--days", "1e300"), {}, ("days", "HYOSAN_MAX_TOWN_DAYS")),
    "flag-days-nan": (flags("--days", "nan"), {}, ("days",)),
    "flag-snapshot-1e-300": (flags("--snapshot-every", "1e-300"), {}, ("snapshot_every",)),
    "flag-snapshot-zero": (flags("--snapshot-every", "0"), {}, ("snapshot_every",)),
    "flag-method": (flags("--method", "fast"), {}, ("method",)),
    "set-cell-m-nan": (flags("--set", "town.cell_m=nan"), {}, ("town.cell_m",)),
    "set-factor-huge": (flags("--set", "town.factor=1000000"), {}, ("town.factor",)),
    "set-days-1e300": (flags("--set", "town.days=1e300"), {}, ("town.days",)),
    "set-mu-inf": (flags("--set", "mu=inf"), {}, ("mu",)),
    "set-unknown": (flags("--set", "speed=3"), {}, ("speed",)),
    "set-no-value": (flags("--set", "mu"), {}, ("--set",)),
    "set-lattice-dev-zero": (flags("--set", "town.lattice=/dev/zero"), {}, ("/dev/zero",)),
    # limits on what a run would take
    "snapshots-over-bytes": (
        lambda root: ["town.toml"],
        {"HYOSAN_MAX_TOWN_SNAPSHOT_BYTES": "100"},
        ("snapshot",),
    ),
    "exact-people-over": (
        lambda root: ["town.toml"],
        {"HYOSAN_MAX_EXACT_PEOPLE": "100"},
        ("method", "exact"),
    ),
    "exact-reactions-over": (
        lambda root: ["town.toml"],
        {"HYOSAN_MAX_EXACT_REACTIONS": "20"},
        ("method", "HYOSAN_MAX_EXACT_REACTIONS"),
    ),
}


def _append(root: Path, text: str) -> list[str]:
    body = (root / "town.toml").read_text(encoding="utf-8").split("[[events]]")[0]
    (root / "town.toml").write_text(body + text + "\n", encoding="utf-8")
    return ["town.toml"]


def test_the_corpus_has_enough_town_cases():
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_town_input_is_refused_in_one_line(case, town_dir, capsys, monkeypatch):
    make, env, names = CASES[case]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    args = make(town_dir)
    assert_refused(capsys, town_dir, ["town", *args, "--no-report", "--out", "run"], names)
    assert not (town_dir / "run").exists()


def test_the_base_town_runs(town_dir, capsys):
    """The corpus's base is a good town: each case's refusal is its own edit's doing."""
    from conftest import run_cli

    code, _out, err = run_cli(capsys, "town", "town.toml", "--no-report", "--out", "run")
    assert code == 0, err
    assert (town_dir / "run" / "summary.json").is_file()


# -- the Python API -----------------------------------------------------------------------------------
def _tiny() -> Lattice:
    return Lattice.from_population(np.full((4, 5), 100))


@pytest.mark.parametrize("method", ["exact", "tau"])
def test_seeds_that_overflow_int32_together_are_refused_not_run(method):
    """Each seed is within int32; together with the people they are not: the run is refused
    (it used to "succeed" with negative Z and R in the totals)."""
    seeds = [
        TownEvent("seed", 0.0, "cells:0,0", zombies=2**31 - 1),
        TownEvent("seed", 0.0, "cells:1,1", zombies=5),
    ]
    with pytest.raises(HyosanError, match="int32"):
        simulate(_tiny(), days=1, method=method, events=seeds)


def test_a_big_seed_within_int32_runs_with_tau_and_counts_stay_whole():
    lat = _tiny()
    big = 2**31 - 1 - int(lat.population.sum()) - 10
    res = simulate(lat, days=0.2, method="tau", events=[TownEvent("seed", 0.0, "cells:0,0", zombies=big)])
    final = res.totals[-1]
    assert min(final["S"], final["E"], final["Z"], final["R"]) >= 0
    assert final["S"] + final["E"] + final["Z"] + final["R"] == lat.population.sum() + big


@pytest.mark.parametrize(
    "area", ["box:-10,-10,-5,-5", "disc:nan,nan,nan", "disc:1,1,-2", "box:9,9,12,12", "cells:0,0;4,9"]
)
def test_events_off_the_grid_are_refused_before_the_run(area):
    with pytest.raises(HyosanError) as err:
        simulate(_tiny(), days=1, events=[TownEvent("cordon", 0.5, area)])
    assert err.value.field == "events[0].area"


def test_a_seed_needs_an_open_cell_other_events_only_the_grid():
    lat = Lattice.from_population(np.full((3, 3), 5.0), blocked=np.eye(3, dtype=bool))
    simulate(lat, days=0.1, events=[TownEvent("cordon", 0.0, "cells:1,1")])  # on water: allowed
    with pytest.raises(HyosanError, match="only blocked"):
        simulate(lat, days=0.1, events=[TownEvent("seed", 0.0, "cells:1,1", zombies=1)])


def test_a_box_reaching_into_the_grid_from_outside_holds_its_part():
    from hyosan.lattice.events import area_mask

    mask = area_mask(_tiny(), "box:-3,-3,1,1", need="grid")
    assert mask.sum() == 4 and mask[:2, :2].all()


@pytest.mark.parametrize("cell_m", [float("nan"), 0.0, -1.0, float("inf")])
def test_cell_size_must_be_finite_and_positive(cell_m):
    with pytest.raises(HyosanError, match="cell_m"):
        Lattice.from_population(np.ones((2, 2)), cell_m=cell_m)


def test_coarsening_allocates_nothing_beyond_the_grid_and_keeps_totals():
    grid = np.arange(35, dtype=np.int64).reshape(5, 7)
    out = coarsen_sum(grid, 3)
    assert out.shape == (2, 3) and out.sum() == grid.sum()
    assert out[1, 2] == grid[3:, 6:].sum()
    with pytest.raises(HyosanError, match="longer side"):
        _tiny().coarsen(10**6)


def test_a_grid_that_is_not_a_regular_file_is_named(tmp_path):
    os.mkfifo(tmp_path / "pipe.npy")
    with pytest.raises(HyosanError, match="not a regular file"):
        read_grid(tmp_path / "pipe.npy")


def test_fortran_order_npy_reads_as_numpy_does(tmp_path):
    grid = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    np.save(tmp_path / "f.npy", grid)
    assert (read_grid(tmp_path / "f.npy").population == grid.astype(np.int32)).all()


def test_the_exact_solver_stops_at_its_reaction_cap(monkeypatch):
    monkeypatch.setenv("HYOSAN_MAX_EXACT_REACTIONS", "50")
    with pytest.raises(HyosanError, match="HYOSAN_MAX_EXACT_REACTIONS"):
        simulate(_tiny(), days=5, events=[TownEvent("seed", 0.0, "cells:1,1", zombies=20)])
    monkeypatch.setenv("HYOSAN_MAX_EXACT_REACTIONS", "100000000")
    res = simulate(_tiny(), days=5, events=[TownEvent("seed", 0.0, "cells:1,1", zombies=20)])
    assert sum(res.fired.values()) > 50


def test_every_town_limit_is_in_the_reliability_table():
    from hyosan.lattice import limits

    text = (Path(__file__).parent.parent / "docs" / "reliability.md").read_text(encoding="utf-8")
    for lim in limits.ALL:
        assert f"`{lim.name}`" in text, lim.name
        assert f"{lim.default:,}" in text or lim.name == "HYOSAN_MAX_TOWN_SNAPSHOT_BYTES", lim.name
