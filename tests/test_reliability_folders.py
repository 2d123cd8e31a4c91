"""Output folders never destroy what hyosan did not make, and a crash at any step of the swap
leaves the old run or the new one (docs/reliability.md, "Output folders")."""

from __future__ import annotations

import json
import os
import signal

import pytest

from hyosan import io
from hyosan.errors import HyosanError

STEPS_EXCHANGE = ["tmp-created", "written", "marked", "exchanged", "old-removed"]
STEPS_RENAME = ["tmp-created", "written", "marked", "old-moved", "new-in-place", "old-removed"]


def write_run(target, label: str) -> None:
    with io.atomic_dir(target) as tmp:
        (tmp / "summary.json").write_text(json.dumps({"label": label}), encoding="utf-8")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "data.txt").write_text(label, encoding="utf-8")


def label_of(target) -> str | None:
    try:
        return json.loads((target / "summary.json").read_text(encoding="utf-8"))["label"]
    except FileNotFoundError:
        return None


def leftovers(parent, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


def crash_at(step: str, target, monkeypatch, exchange: bool) -> int:
    """Write the 'new' run in a forked child that dies (SIGKILL, no cleanup) at ``step``."""
    pid = os.fork()
    if pid == 0:  # the child: no pytest teardown, no finally blocks once killed
        try:
            if not exchange:
                io._RENAMEAT2 = None
            io._step = lambda name: os.kill(os.getpid(), signal.SIGKILL) if name == step else None
            write_run(target, "new")
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return status


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
@pytest.mark.parametrize("step", sorted(set(STEPS_EXCHANGE + STEPS_RENAME)))
def test_a_crash_at_any_step_of_the_swap_leaves_the_old_run_or_the_new(tmp_path, monkeypatch, step, exchange):
    if exchange and io._RENAMEAT2 is None:
        pytest.skip("no renameat2 on this system")
    steps = STEPS_EXCHANGE if exchange else STEPS_RENAME
    target = tmp_path / "run"
    write_run(target, "old")
    status = crash_at(step, target, monkeypatch, exchange)
    crashed = os.WIFSIGNALED(status)
    assert crashed == (step in steps)
    seen = label_of(target)
    if exchange:
        assert seen in ("old", "new")  # at every instant, with no recovery needed
    else:
        # Two renames: for the instant between them --out is missing, the old run aside.
        assert seen in ("old", "new") or (step == "old-moved" and (tmp_path / ".run.hyosan-old").is_dir())
    io.recover(target)  # what the next run, `hyosan report` or `hyosan verify` does first
    after = label_of(target)
    if step in steps:  # killed there: the new run is in place only once the swap is done
        assert after == ("new" if step in ("exchanged", "new-in-place", "old-removed") else "old")
    else:  # a step this way of swapping does not have: the write finished
        assert after == "new"
    assert leftovers(tmp_path, "run") == []
    assert (target / "sub" / "data.txt").read_text(encoding="utf-8") == after
    # The folder is still hyosan's: the next run replaces it.
    write_run(target, "next")
    assert label_of(target) == "next" and leftovers(tmp_path, "run") == []


def test_new_empty_and_hyosan_folders_are_accepted(tmp_path):
    write_run(tmp_path / "new", "a")
    (tmp_path / "empty").mkdir()
    write_run(tmp_path / "empty", "b")
    write_run(tmp_path / "empty", "c")
    assert label_of(tmp_path / "new") == "a" and label_of(tmp_path / "empty") == "c"
    marker = json.loads((tmp_path / "empty" / io.MARKER).read_text(encoding="utf-8"))
    assert marker["format"] == io.RUN_FORMAT and marker["files"] == ["sub/data.txt", "summary.json"]


def snapshot(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    "case",
    ["user-folder", "hyosan-plus-user-file", "user-file", "symlink", "user-subfolder-file", "marker-garbage"],
)
def test_folders_hyosan_did_not_make_are_refused_and_left_alone(tmp_path, case):
    target = tmp_path / "out"
    if case == "user-folder":
        target.mkdir()
        (target / "notes.txt").write_text("mine", encoding="utf-8")
    elif case == "hyosan-plus-user-file":
        write_run(target, "old")
        (target / "photo.jpg").write_bytes(b"\xff\xd8")
    elif case == "user-subfolder-file":
        write_run(target, "old")
        (target / "sub" / "mine.txt").write_text("mine", encoding="utf-8")
    elif case == "user-file":
        target = tmp_path / "results.csv"
        target.write_text("a,b\n1,2\n", encoding="utf-8")
    elif case == "symlink":
        (tmp_path / "real").mkdir()
        target.symlink_to(tmp_path / "real")
    elif case == "marker-garbage":
        target.mkdir()
        (target / io.MARKER).write_text("not json", encoding="utf-8")
        (target / "notes.txt").write_text("mine", encoding="utf-8")
    before = snapshot(tmp_path)
    with pytest.raises(HyosanError) as err:
        write_run(target, "new")
    assert str(target) in str(err.value) and "\n" not in str(err.value)
    assert snapshot(tmp_path) == before
    assert leftovers(tmp_path, target.name) == []


def test_the_working_folder_and_the_root_are_refused(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    for target in (".", str(tmp_path), "/"):
        with pytest.raises(HyosanError):
            write_run(target, "new")
    assert os.listdir(tmp_path / "a") == []


def test_leftover_temporary_folders_of_dead_processes_are_removed(tmp_path):
    write_run(tmp_path / "run", "old")
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    stale = tmp_path / f".run.hyosan-{dead}-abc.tmp"
    stale.mkdir()
    (stale / "half.parquet").write_bytes(b"PAR1")
    alive = tmp_path / f".run.hyosan-{os.getppid()}-abc.tmp"  # a live process's: left alone
    alive.mkdir()
    write_run(tmp_path / "run", "new")
    assert not stale.exists() and alive.exists()


def test_single_file_outputs_refuse_folders_devices_and_unknown_formats(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(HyosanError, match="is a folder"):
        io.claim_file(tmp_path / "d", (".png",))
    with pytest.raises(HyosanError, match="unknown format"):
        io.claim_file(tmp_path / "x.exe", (".png",), "--plot")
    with pytest.raises(HyosanError, match="not a regular file"):
        io.claim_file("/dev/null", None)
    with pytest.raises(HyosanError, match="is a folder"):
        io.write_text(tmp_path / "d", "x")
    assert io.claim_file(tmp_path / "new.png", (".png",)) == tmp_path / "new.png"


@pytest.mark.parametrize("when", ["mid-write", "written", "done"])
def test_atomic_path_killed_mid_write_leaves_the_old_bytes_or_the_new(tmp_path, when):
    """A process killed (SIGKILL: no cleanup) while writing through atomic_path leaves the target
    holding exactly the old bytes, or, once the rename is done, exactly the new ones."""
    target = tmp_path / "table.csv"
    old, new = b"old,bytes\n" * 1000, b"NEW" * 50_000
    target.write_bytes(old)
    pid = os.fork()
    if pid == 0:
        try:
            with io.atomic_path(target) as tmp:
                with open(tmp, "wb") as f:
                    f.write(new[: len(new) // 2])
                    f.flush()
                    if when == "mid-write":
                        os.kill(os.getpid(), signal.SIGKILL)
                    f.write(new[len(new) // 2 :])
                if when == "written":
                    os.kill(os.getpid(), signal.SIGKILL)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) == (when != "done")
    assert target.read_bytes() == (new if when == "done" else old)


def test_atomic_path_leaves_the_old_bytes_when_the_writer_fails(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), io.atomic_path(target) as tmp:
        tmp.write_text("half of the new", encoding="utf-8")
        assert target.read_text(encoding="utf-8") == "old"  # nothing reaches the target while writing
        raise RuntimeError("disk full")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]  # and no temporary left
    io.write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "new"


def test_a_folder_hyosan_did_not_make_is_refused_before_anything_is_written(tmp_path):
    """The refusal comes up front, not after a whole run's files have been written aside."""
    target = tmp_path / "out"
    target.mkdir()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    entered = []
    with pytest.raises(HyosanError, match="was not written by hyosan"), io.atomic_dir(target):
        entered.append(True)
    assert entered == [] and (target / "notes.txt").read_text(encoding="utf-8") == "mine"
