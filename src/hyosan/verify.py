"""``hyosan verify DIR``: check a run folder or a sweep store and say what is damaged.

Read-only: it reports, it never repairs (the next ``hyosan run`` or ``hyosan report`` restores a
crashed swap; the next sweep sets damaged run files aside and reruns them).

- A run folder: its marker (``.hyosan.json``), every file against the SHA-256 digest recorded when
  hyosan wrote it, then every file read back as :func:`hyosan.results.store.load` reads it; a
  crashed swap or leftover temporary folders beside it.
  Its checkpoints (``*.ckpt``) are read as a restore reads them (nothing runs).
- A town run folder (``summary.json`` says ``"kind": "town"``): the marker's digests, then the
  tables and ``cells.nc`` read back.
- A sweep store: every file against ``digests.json`` (written when the sweep ended), then
  ``sweep.json``, every ``runs/<run_id>.parquet`` read whole, the consolidated tables, the kept
  run folders (as above), runs already set aside in ``damaged/``, and a lock left by a sweep
  (the process that held it, alive or not).
- A missing folder: whether a crash left its old copy aside (``.NAME.hyosan-old``) and how to
  get it back.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from hyosan.errors import HyosanError
from hyosan.io import MARKER, file_digest, pid_alive, read_marker


@dataclass
class Report:
    """What :func:`verify` found: the folder's kind, files checked, and one line per problem."""

    folder: Path
    kind: str = "unknown"
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _leftovers(folder: Path, report: Report) -> None:
    parent = folder.parent
    name = folder.name
    if (parent / f".{name}.hyosan-old").exists():
        report.problems.append(
            f"{parent / f'.{name}.hyosan-old'}: the old run of a crashed swap (the "
            "next `hyosan run` or `hyosan report` restores or removes it)"
        )
    for tmp in parent.glob(f".{name}.hyosan-*.tmp"):
        report.problems.append(f"{tmp}: temporary folder of an interrupted run (the next run removes it)")


def verify_run(folder: Path, report: Report) -> None:
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan.results.store import REQUIRED, load

    report.kind = "run folder"
    if read_marker(folder) is None:
        report.problems.append(f"{folder / MARKER}: missing or damaged (hyosan will not replace this folder)")
    try:
        load(folder)  # checks the digests of what it reads, then reads every file
        report.checked += len(REQUIRED)
    except HyosanError as exc:
        report.problems.append(str(exc))
        return
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan.results.store import check_digests

    try:
        check_digests(folder)  # the rest: CSV copies, chronicle.md, report.html, the map
        report.checked = len((read_marker(folder) or {}).get("files", [])) or report.checked
    except HyosanError as exc:
        report.problems.append(str(exc))
    _checkpoints(folder, report)


def _checkpoints(folder: Path, report: Report) -> None:
    """Read every checkpoint of a run folder as a restore would (a checksum only proves the bytes
    are the ones someone wrote, not that hyosan did: each field is checked)."""
    _checkpoints_of(folder, sorted(folder.glob("*.ckpt")), report)


def _checkpoints_of(folder: Path, ckpts: list[Path], report: Report) -> None:
    if not ckpts:
        return
    # Imported here: the engine (numba) loads only when a folder holds a checkpoint.
    from hyosan.checkpoint import check_checkpoint

    for path in ckpts:
        if any(line.startswith(f"{path}:") for line in report.problems):
            continue  # already named (its digest)
        try:
            check_checkpoint(path)
        except HyosanError as exc:
            report.problems.append(str(exc))


def verify_town(folder: Path, report: Report) -> None:
    """A town run folder: the marker's digests, then its tables and cells.nc read back."""
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan.lattice.folder import load_town_folder
    from hyosan.results.store import check_digests

    report.kind = "town run folder"
    if read_marker(folder) is None:
        report.problems.append(f"{folder / MARKER}: missing or damaged (hyosan will not replace this folder)")
    else:
        try:
            check_digests(folder)
        except HyosanError as exc:
            report.problems.append(str(exc))
            return
    try:
        load_town_folder(folder)
    except HyosanError as exc:
        report.problems.append(str(exc))
        return
    report.checked = len((read_marker(folder) or {}).get("files", [])) or 1


def _store_digests(folder: Path, report: Report, runs: bool) -> None:
    """Every file of the store against ``digests.json``; files it does not cover."""
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan.ensemble.store import DIGESTS, DIGESTS_FORMAT, TABLES, digested_files

    path = folder / DIGESTS
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != DIGESTS_FORMAT:
            raise ValueError("not a hyosan store's digests")
        sha = data.get("sha256")
        if not isinstance(sha, dict) or not all(isinstance(v, str) for v in sha.values()):
            raise ValueError("no sha256 table")
    except FileNotFoundError:
        report.problems.append(
            f"{path}: missing (the sweep did not finish, or an older hyosan wrote it): "
            "its files cannot be checked against what was written; run the sweep again to finish it"
        )
        return
    except (OSError, ValueError, RecursionError) as exc:
        report.problems.append(f"{path}: damaged ({type(exc).__name__}: {str(exc)[:80]})")
        return
    outside = [n for n in sha if ".." in Path(n).parts or Path(n).is_absolute()]
    if outside:
        report.problems.append(f"{path}: damaged (names {outside[0][:80]!r}, outside the store)")
        return
    for name in [n for n in sha if runs or n in TABLES]:
        target = folder / name
        if not target.is_file():
            report.problems.append(f"{target}: missing (listed in {DIGESTS})")
        elif file_digest(target) != sha[name]:
            report.problems.append(f"{target}: changed since the sweep wrote it (its SHA-256 differs)")
        report.checked += 1
    for name in digested_files(folder) if runs else [t for t in TABLES if (folder / t).is_file()]:
        if name not in sha:
            report.problems.append(
                f"{folder / name}: not in {DIGESTS} (written by a sweep that did not finish?)"
            )


def _store_lock(folder: Path, report: Report) -> None:
    # Imported here: loaded by the command that needs it: `hyosan --help` stays quick.
    from hyosan.ensemble.store import read_lock

    lock = folder / ".lock"
    if not lock.exists():
        return
    held = read_lock(folder)
    if held is None:
        report.problems.append(f"{lock}: an unreadable lock (delete it if no sweep is running)")
        return
    host, pid = held
    here = socket.gethostname()
    if host == here and pid_alive(pid):
        report.problems.append(
            f"{lock}: held by process {pid} on {host}, a sweep still writing (check again after)"
        )
    elif host == here:
        report.problems.append(
            f"{lock}: stale lock of process {pid} on {host}, no longer running (a killed sweep): "
            "the next sweep takes it over and finishes the store"
        )
    else:
        report.problems.append(
            f"{lock}: held by process {pid} on another host, {host} (alive or not: ask it)"
        )


def verify_store(folder: Path, report: Report, runs: bool = True) -> None:
    report.kind = "sweep store"
    spec_path = folder / "sweep.json"
    try:
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        if not isinstance(spec, dict) or not str(spec.get("format", "")).startswith("hyosan-sweep/"):
            raise ValueError("not a hyosan sweep")
        report.checked += 1
    except (OSError, ValueError, RecursionError) as exc:
        report.problems.append(f"{spec_path}: damaged ({exc})")
    _store_digests(folder, report, runs)
    if runs:
        _store_lock(folder, report)
    for path in sorted((folder / "runs").glob("*.parquet")) if runs else ():
        try:
            table = pq.read_table(path)
            if table.num_rows != 1 or "status" not in table.column_names:
                raise ValueError("not one run's row")
            report.checked += 1
        except (pa.ArrowException, OSError, ValueError) as exc:
            report.problems.append(
                f"{path}: damaged run file ({type(exc).__name__}); the next sweep sets "
                "it aside and runs it again"
            )
    for name in ("runs.parquet", "bands.parquet"):
        path = folder / name
        if path.exists():
            try:
                pq.read_table(path)
                report.checked += 1
            except (pa.ArrowException, OSError, ValueError) as exc:
                report.problems.append(
                    f"{path}: damaged table ({type(exc).__name__}); the next sweep rebuilds it"
                )
    if not runs:
        return
    for kept in sorted(p for p in (folder / "keep").glob("*") if p.is_dir()):
        if (kept / "summary.json").exists() and (kept / "frames.npz").exists():
            sub = Report(kept)
            verify_run(kept, sub)
            report.checked += sub.checked
            report.problems += sub.problems
    damaged = list((folder / "damaged").glob("*"))
    if damaged:
        report.problems.append(
            f"{folder / 'damaged'}: {len(damaged)} damaged run file(s) set aside by an earlier sweep "
            "(they ran again; delete the folder when done)"
        )


def check_store_tables(folder: Path) -> None:
    """Raise a one-line HyosanError naming the first damaged table or ``sweep.json`` of a store
    (what ``hyosan report STORE`` reads)."""
    report = Report(folder)
    verify_store(folder, report, runs=False)
    if report.problems:
        raise HyosanError(report.problems[0])


def is_town_folder(folder: Path) -> bool:
    """A folder ``hyosan town`` wrote: its summary.json says ``"kind": "town"``, or (a damaged
    summary) its marker lists a town's files."""
    files = (read_marker(folder) or {}).get("files", [])
    if "cells.nc" in files and "totals.parquet" in files:
        return True
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: JSON nested too deeply
        return False
    return isinstance(summary, dict) and summary.get("kind") == "town"


def verify(folder: str | Path) -> Report:
    """Check a run folder, a town run folder, a sweep store or a checkpoint file (see the module
    docstring)."""
    folder = Path(folder)
    report = Report(folder)
    if folder.suffix == ".ckpt" and folder.is_file():  # a checkpoint on its own
        report.kind = "checkpoint"
        _checkpoints_of(folder.parent, [folder], report)
        report.checked = 1
        return report
    if not folder.is_dir():
        old = folder.absolute().parent / f".{folder.absolute().name}.hyosan-old"
        if old.is_dir() and read_marker(old) is not None:
            raise HyosanError(
                f"no such folder, but a crash left its old copy at {old}: "
                f"`hyosan report {folder}` (or the next `hyosan run --out {folder}`) puts it back",
                source=str(folder),
            )
        raise HyosanError("no such folder", source=str(folder))
    if (folder / "sweep.json").exists():
        verify_store(folder, report)
    elif is_town_folder(folder):
        verify_town(folder, report)
    elif (folder / "summary.json").exists() or (folder / MARKER).exists():
        verify_run(folder, report)
    else:
        raise HyosanError(
            "neither a run folder (summary.json) nor a sweep store (sweep.json)", source=str(folder)
        )
    _leftovers(folder.absolute(), report)
    return report
