"""The hostile-input corpus, grown by crafted checkpoints and damaged sweep stores (issue 20):
every case exits with status 2, one `error:` line naming the file and the field, no traceback,
nothing written (the checks of tests/test_reliability_corpus.py)."""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import zipfile

import numpy as np
import pytest

from conftest import run_cli
from test_reliability_corpus import assert_refused
from test_security_checkpoints import Payload, ckpt_of, npy, parts, rewrap
from test_security_checkpoints import genuine as genuine  # the module's fixture, shared

PICKLE = pickle.dumps(Payload("/tmp/hyosan-corpus-never"))


def members_of(genuine):
    return parts(ckpt_of(genuine))[1]


def edit_json(change):
    def make(m):
        doc = json.loads(m["state.json"])
        change(doc)
        return rewrap({**m, "state.json": json.dumps(doc).encode()})

    return make


def replace_array(name, array, allow_pickle=False):
    return lambda m: rewrap({**m, f"{name}.npy": npy(array, allow_pickle)})


def drop(name):
    return lambda m: rewrap({k: v for k, v in m.items() if k != name})


def add_member(name, data):
    return lambda m: rewrap({**m, name: data})


def header(fmt="hyosan-checkpoint/2", version=None, payload=b""):
    import hashlib

    from hyosan import __version__

    digest = hashlib.sha256(payload).hexdigest()
    return f"{fmt} {version or __version__} {digest}\n".encode() + payload


def zip_of(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _pop(key):
    return lambda d: d.pop(key)


def _set(path, value):
    def change(d):
        *head, last = path.split(".")
        for k in head:
            d = d[int(k)] if isinstance(d, list) else d[k]
        d[last] = value

    return change


#: name -> (how to make the file from the genuine checkpoint's members, what the line must name)
CHECKPOINT_CASES = {
    "empty-file": (lambda m: b"", "not a hyosan checkpoint"),
    "header-only": (lambda m: b"hyosan-checkpoint/2\n", "not a hyosan checkpoint"),
    "old-pickle": (lambda m: header("hyosan-checkpoint/1", payload=PICKLE), "older hyosan"),
    "other-version": (lambda m: header(version="0.0.1", payload=b"x"), "a checkpoint of hyosan 0.0.1"),
    "digest-mismatch": (lambda m: rewrap(m)[:-7] + bytes(7), "damaged checkpoint"),
    "pickle-behind-new-header": (lambda m: header(payload=PICKLE), "not a checkpoint's archive"),
    "zip-without-state": (lambda m: header(payload=zip_of({"a.npy": b""})), "state.json: missing field"),
    "state-not-json": (lambda m: rewrap({**m, "state.json": b"{nope"}), "state.json: not valid JSON"),
    "state-a-list": (lambda m: rewrap({**m, "state.json": b"[1]"}), "state.json: not a JSON object"),
    "state-nested-deep": (lambda m: rewrap({**m, "state.json": b"[" * 10**5 + b"]" * 10**5}), "state.json"),
    "state-unknown-field": (edit_json(_set("exec", "os.system")), "exec: unknown field"),
    "state-missing-rng": (edit_json(_pop("rng")), "rng: missing field"),
    "extra-array": (add_member("extra.npy", npy(np.zeros(3))), "extra: unknown field"),
    "python-file-member": (add_member("evil.py", b"import os"), "evil.py: unknown field"),
    "compressed-member": (lambda m: _deflated(m), "state.json: a compressed member"),
    "object-array": (replace_array("pop.cell", np.array([Payload("x")], dtype=object), True), "pop.cell"),
    "dtype-changed": (replace_array("pop.state", np.zeros(5, np.float64)), "pop.state: dtype float64"),
    "shape-changed": (replace_array("run.counts", np.zeros((2, 2), np.int32)), "run.counts: shape"),
    "missing-array": (drop("run.doors.state.npy"), "run.doors.state: missing field"),
    "leader-out-of-bounds": (lambda m: _pop_array(m, "pop.leader", 10**7), "pop.leader: values outside"),
    "state-out-of-range": (lambda m: _pop_array(m, "pop.state", 99), "pop.state: values outside"),
    "cell-out-of-map": (lambda m: _pop_array(m, "pop.cell", 2**30), "pop.cell: values outside"),
    "prm-string": (edit_json(_set("prm.z_bite", "1e9")), "prm.z_bite: expected int or float"),
    "prm-bool-for-int": (edit_json(_set("prm.W", True)), "prm.W: expected int, got bool"),
    "prm-missing": (edit_json(lambda d: d["prm"].pop("cordon")), "prm.cordon: missing field"),
    "rng-other-generator": (edit_json(_set("rng.movement.bit_generator", "MT19937")), "rng.movement"),
    "rng-huge-state": (edit_json(_set("rng.movement.state.state", 2**200)), "rng.movement"),
    "tick-negative": (edit_json(_set("tick", -1)), "tick: -1 outside"),
    "tick-past-the-end": (edit_json(_set("tick", 10**9)), "tick: 1000000000 outside"),
    "seed-bool": (edit_json(_set("seed", True)), "seed: expected int, got bool"),
    "scenario-invalid": (edit_json(_set("loaded.scenario.clock.duration", "soon")), "loaded.scenario.clock"),
    "behaviour-module": (
        edit_json(_set("loaded.scenario.behaviour.human_step", "os:system")),
        "loaded.scenario.behaviour: names the user behaviour",
    ),
    "pending-index": (
        edit_json(_set("timeline.pending", [{"index": 999, "tick": 1, "waiting": False}])),
        "timeline",
    ),
    "tiles-not-tiles": (lambda m: _world_tiles(m), "world: not a valid map"),
    "room-floor": (edit_json(_set("world.rooms.0.floor", 99)), "world.rooms.0.floor"),
    "frames-bounds": (lambda m: _frames(m), "recorder.frame_cells: values outside"),
    "door-state-unknown": (lambda m: _pop_array(m, "run.doors.state", 9), "run.doors.state: values outside"),
    "event-buffer-position": (lambda m: _pop_array(m, "run.events.count", 10**6), "run.events.count: values"),
}


def _pop_array(m, name, value):
    a = np.lib.format.read_array(io.BytesIO(m[f"{name}.npy"])).copy()
    a[0] = value
    return rewrap({**m, f"{name}.npy": npy(a)})


def _deflated(m):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in m.items():
            zf.writestr(name, data)
    return header(payload=buf.getvalue())


def _world_tiles(m):
    a = np.lib.format.read_array(io.BytesIO(m["world.tiles.npy"])).copy()
    a[0, 0, 0] = 200
    return rewrap({**m, "world.tiles.npy": npy(a)})


def _frames(m):
    a = np.lib.format.read_array(io.BytesIO(m["recorder.frame_cells.npy"])).copy()
    a[0, 0] = 2**30
    return rewrap({**m, "recorder.frame_cells.npy": npy(a)})


@pytest.fixture
def case_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("case", sorted(CHECKPOINT_CASES))
def test_crafted_checkpoint(genuine, case_root, capsys, case):
    make, why = CHECKPOINT_CASES[case]
    path = case_root / "c.ckpt"
    path.write_bytes(make(members_of(genuine)))
    line = assert_refused(
        capsys, case_root, ["branch", "c.ckpt", "--runs", "2", "--workers", "0", "--out", "br"], (why,)
    )
    assert "c.ckpt" in line
    assert not os.path.exists("/tmp/hyosan-corpus-never")


def test_a_fifo_is_not_read_as_a_checkpoint(case_root, capsys):
    os.mkfifo(case_root / "c.ckpt")
    assert_refused(capsys, case_root, ["branch", "c.ckpt", "--out", "br"], ("not a regular file",))


# -- damaged stores: `hyosan report STORE` refuses naming the file ---------------------------------
@pytest.fixture
def store(tmp_path, monkeypatch, capsys):
    """A small model sweep's store, written by hyosan (ODE runs in this process)."""
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(
        capsys, "model", "alemi", "--vary", "beta=0.01,0.02", "--out", "st", "--workers", "0", "-q"
    )
    assert code == 0, err
    return tmp_path / "st"


def _flip(name):
    def damage(st):
        p = st / name
        data = bytearray(p.read_bytes())
        data[len(data) // 2] ^= 0x04
        p.write_bytes(bytes(data))

    return damage


def _digests(change):
    def damage(st):
        p = st / "digests.json"
        doc = json.loads(p.read_text())
        change(doc)
        p.write_text(json.dumps(doc))

    return damage


STORE_CASES = {
    "runs-byte-flipped": (_flip("runs.parquet"), "runs.parquet"),
    "bands-byte-flipped": (_flip("bands.parquet"), "bands.parquet"),
    "spec-byte-flipped": (_flip("sweep.json"), "sweep.json"),
    "runs-csv-byte-flipped": (_flip("runs.csv"), "runs.csv"),
    "runs-table-removed": (lambda st: (st / "runs.parquet").unlink(), "runs.parquet"),
    "digests-garbage": (lambda st: (st / "digests.json").write_bytes(b"\x00\xff"), "digests.json"),
    "digests-a-list": (lambda st: (st / "digests.json").write_text("[]"), "digests.json"),
    "digests-nested-deep": (
        lambda st: (st / "digests.json").write_text("[" * 10**5 + "]" * 10**5),
        "digests.json",
    ),
    "digests-other-format": (_digests(_set("format", "x")), "digests.json"),
    "digests-sha-not-a-table": (_digests(_set("sha256", [1])), "digests.json"),
    "digests-outside-the-store": (_digests(lambda d: d["sha256"].update({"../x": "0"})), "outside the store"),
    "digests-missing": (lambda st: (st / "digests.json").unlink(), "digests.json: missing"),
}


@pytest.mark.parametrize("case", sorted(STORE_CASES))
def test_damaged_store_report(store, capsys, case):
    damage, why = STORE_CASES[case]
    damage(store)
    capsys.readouterr()
    assert_refused(capsys, store.parent, ["report", "st"], (why,))
    code, _, err = run_cli(capsys, "verify", "st")
    assert code == 2 and why in err


def test_the_corpus_is_at_least_25_cases():
    assert len(CHECKPOINT_CASES) + len(STORE_CASES) + 1 >= 25


def test_a_real_store_copy_reports(store, capsys):
    shutil.copytree(store, store.parent / "copy")
    code, _, err = run_cli(capsys, "report", "copy")
    assert code == 0, err
