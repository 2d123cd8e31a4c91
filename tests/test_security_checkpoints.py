"""Checkpoints are data, never code (docs/security.md): crafted ones are refused by
``Simulation.restore``, ``hyosan branch FILE``, ``hyosan branch FOLDER`` and ``hyosan verify``
with exit status 2 and one line, and the code a payload carries never runs."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from hyosan import checkpoint
from hyosan.engine import Simulation
from hyosan.errors import HyosanError
from hyosan.scenario.load import load_scenario

SCHOOL = Path(__file__).parents[1] / "benchmarks" / "ensemble_school.toml"


class Payload:
    """Unpickling this creates the marker file: what an attacker's checkpoint would run."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture(scope="module")
def genuine(tmp_path_factory) -> Path:
    """A run folder with a checkpoint, written by `hyosan run --checkpoint-at`."""
    root = tmp_path_factory.mktemp("ckpt")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        from hyosan.cli import main

        with pytest.raises(SystemExit) as exit_:
            main(
                [
                    "run",
                    str(SCHOOL),
                    "--seed",
                    "3",
                    "--set",
                    "clock.duration=6min",
                    "--checkpoint-at",
                    "08:02",
                    "--out",
                    "run",
                    "--no-report",
                    "-q",
                ]
            )
            raise SystemExit(0)
        assert exit_.value.code in (0, None)
    finally:
        os.chdir(cwd)
    return root / "run"


def parts(path: Path) -> tuple[bytes, dict[str, bytes]]:
    data = path.read_bytes()
    head, _, payload = data.partition(b"\n")
    with zipfile.ZipFile(io.BytesIO(payload)) as zf:
        return head, {n: zf.read(n) for n in zf.namelist()}


def rewrap(members: dict[str, bytes]) -> bytes:
    """A checkpoint of ``members`` with a valid header and digest (what an attacker can make)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    payload = buf.getvalue()
    digest = hashlib.sha256(payload).hexdigest()
    return f"{checkpoint.FORMAT} {checkpoint.__version__} {digest}\n".encode() + payload


def npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def ckpt_of(folder: Path) -> Path:
    return next(folder.glob("*.ckpt"))


def crafted(genuine: Path, marker: Path) -> dict[str, bytes]:
    """The crafted checkpoints, by name."""
    ckpt = ckpt_of(genuine)
    _head, members = parts(ckpt)
    evil = pickle.dumps(Payload(marker))
    version = checkpoint.__version__
    out = {}
    # A pickle behind the old format's header (its digest valid): never unpickled.
    out["old-pickle"] = f"hyosan-checkpoint/1 {version} {hashlib.sha256(evil).hexdigest()}\n".encode() + evil
    # A pickle behind the new header, digest valid: a checksum valid over wrong content.
    out["pickle-new-header"] = (
        f"{checkpoint.FORMAT} {version} {hashlib.sha256(evil).hexdigest()}\n".encode() + evil
    )
    # An object array (a pickle inside the .npy) in place of a genuine field, digest updated.
    obj = dict(members)
    obj["pop.cell.npy"] = npy(np.array([Payload(marker)], dtype=object), allow_pickle=True)
    out["object-array"] = rewrap(obj)
    # The genuine one re-wrapped with one more member carrying a payload.
    extra = dict(members)
    extra["payload.npy"] = npy(np.array([Payload(marker)], dtype=object), allow_pickle=True)
    out["extra-member"] = rewrap(extra)
    # A genuine one whose state.json smuggles a field.
    doc = json.loads(members["state.json"])
    doc["__reduce__"] = "os.system"
    out["unknown-json-field"] = rewrap({**members, "state.json": json.dumps(doc).encode()})
    # Garbage with a valid digest.
    junk = b"PK\x03\x04" + bytes(200)
    out["garbage-valid-digest"] = (
        f"{checkpoint.FORMAT} {version} {hashlib.sha256(junk).hexdigest()}\n".encode() + junk
    )
    return out


CASES = (
    "old-pickle",
    "pickle-new-header",
    "object-array",
    "extra-member",
    "unknown-json-field",
    "garbage-valid-digest",
)
WHY = {
    "old-pickle": "older hyosan",
    "pickle-new-header": "not a checkpoint's archive",
    "object-array": "pop.cell",
    "extra-member": "payload",
    "unknown-json-field": "__reduce__",
    "garbage-valid-digest": "not a checkpoint's archive",
}


def test_a_genuine_checkpoint_restores_and_verifies(genuine, capsys):
    sim = Simulation.restore(ckpt_of(genuine))
    assert sim.tick == 120
    code, _out, err = run_cli(capsys, "verify", str(genuine))
    assert code == 0, err
    code, out, err = run_cli(capsys, "verify", str(ckpt_of(genuine)))
    assert code == 0 and "checkpoint" in out, err


@pytest.mark.parametrize("case", CASES)
def test_a_crafted_checkpoint_runs_nothing_anywhere(genuine, tmp_path, capsys, monkeypatch, case):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "PWNED"
    data = crafted(genuine, marker)[case]
    folder = tmp_path / "downloaded"
    shutil.copytree(genuine, folder)
    ckpt_of(folder).write_bytes(data)
    marker_path = folder / ".hyosan.json"  # an attacker updates the folder's digests too
    digests = json.loads(marker_path.read_text())
    digests["sha256"][ckpt_of(folder).name] = hashlib.sha256(data).hexdigest()
    marker_path.write_text(json.dumps(digests))
    with pytest.raises(HyosanError) as exc:
        Simulation.restore(ckpt_of(folder))
    assert WHY[case] in str(exc.value) and str(ckpt_of(folder)) in str(exc.value)
    for args in (
        ["branch", str(ckpt_of(folder)), "--runs", "2", "--workers", "0", "--out", "br", "-q"],
        ["branch", str(folder), "--runs", "2", "--workers", "0", "--out", "br", "-q"],
        ["verify", str(folder)],
        ["verify", str(ckpt_of(folder))],
    ):
        code, out, err = run_cli(capsys, *args)
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2, (args, out, err)
        assert "Traceback" not in out + err
        assert len(lines) == 1 and WHY[case] in lines[0], (args, err)
        assert not (tmp_path / "br").exists()
    assert not marker.exists(), "the payload ran"


def test_a_field_of_the_wrong_dtype_or_out_of_bounds_is_named(genuine, tmp_path):
    _head, members = parts(ckpt_of(genuine))
    cell = np.lib.format.read_array(io.BytesIO(members["pop.cell.npy"]))
    bad = {
        "pop.cell": npy(cell.astype(np.int64)),  # dtype
        "pop.leader": npy(np.full(cell.shape, 10**6, np.int32)),  # an index past the agents
        "run.counts": npy(np.zeros((3, 3), np.int32)),  # shape
    }
    for name, data in bad.items():
        path = tmp_path / f"{name}.ckpt"
        path.write_bytes(rewrap({**members, f"{name}.npy": data}))
        with pytest.raises(HyosanError, match=rf"{name}.ckpt: {name}: "):
            Simulation.restore(path)
    missing = dict(members)
    del missing["run.noise.level.npy"]
    (tmp_path / "missing.ckpt").write_bytes(rewrap(missing))
    with pytest.raises(HyosanError, match=r"missing\.ckpt: run\.noise\.level: missing field"):
        Simulation.restore(tmp_path / "missing.ckpt")
    doc = json.loads(members["state.json"])
    doc["prm"]["z_bite"] = "0.5"
    (tmp_path / "prm.ckpt").write_bytes(rewrap({**members, "state.json": json.dumps(doc).encode()}))
    with pytest.raises(HyosanError, match=r"prm\.ckpt: prm\.z_bite: expected int or float, got str"):
        Simulation.restore(tmp_path / "prm.ckpt")


def test_a_checkpoint_naming_a_behaviour_needs_trust(genuine, tmp_path):
    _head, members = parts(ckpt_of(genuine))
    doc = json.loads(members["state.json"])
    doc["loaded"]["scenario"]["behaviour"]["zombie_step"] = "os:system"
    path = tmp_path / "beh.ckpt"
    path.write_bytes(rewrap({**members, "state.json": json.dumps(doc).encode()}))
    with pytest.raises(
        HyosanError, match=r"loaded\.scenario\.behaviour: names the user behaviour 'os:system'"
    ):
        Simulation.restore(path)


def test_every_simulation_attribute_is_declared_saved_or_derived():
    sim = Simulation(load_scenario(SCHOOL, {"clock.duration": "2min"}), seed=1)
    declared = set(checkpoint.SAVED) | set(checkpoint.DERIVED)
    new = set(vars(sim)) - declared
    assert not new, f"Simulation grew {sorted(new)}: declare each in checkpoint.SAVED or DERIVED"
    assert not set(checkpoint.SAVED) & set(checkpoint.DERIVED)
    for name, (dtype, tail) in checkpoint.POP_ARRAYS.items():  # the declared table is the real one
        a = getattr(sim.pop, name)
        assert a.dtype == np.dtype(dtype) and a.shape[1:] == tail, name


def test_an_array_added_to_the_named_state_is_saved_without_a_new_line(genuine):
    from hyosan.rules.state import Run

    _, members = parts(ckpt_of(genuine))
    saved = {n[: -len(".npy")] for n in members if n.endswith(".npy")}
    leaves = set(dict(checkpoint._leaves(Simulation.restore(ckpt_of(genuine)).arrays, "run")))
    expected = {n for n in leaves if checkpoint._run_saved(n)}
    assert expected <= saved and "run.noise.level" in expected and "run.world.occupancy" in expected
    assert len(Run._fields) >= 13
