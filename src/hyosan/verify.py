"""``hyosan verify DIR``: check a run folder or a sweep store and say what is damaged.

Read-only: it reports, it never repairs (the next ``hyosan run`` or ``hyosan report`` restores a
crashed swap; the next sweep sets damaged run files aside and reruns them).

- A run folder: its marker (``.hyosan.json``), every file against the SHA-256 digest recorded when
  hyosan wrote it, then every file read back as :func:`hyosan.results.store.load` reads it; a
  crashed swap or leftover temporary folders beside it.
- A sweep store: ``sweep.json``, every ``runs/<run_id>.parquet`` read whole, the consolidated
  tables, the kept run folders (as above), and runs already set aside in ``damaged/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from hyosan.errors import HyosanError
from hyosan.io import MARKER, read_marker


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


def verify_store(folder: Path, report: Report, runs: bool = True) -> None:
    report.kind = "sweep store"
    spec_path = folder / "sweep.json"
    try:
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        if not isinstance(spec, dict) or not str(spec.get("format", "")).startswith("hyosan-sweep/"):
            raise ValueError("not a hyosan sweep")
        report.checked += 1
    except (OSError, ValueError) as exc:
        report.problems.append(f"{spec_path}: damaged ({exc})")
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


def verify(folder: str | Path) -> Report:
    """Check a run folder or a sweep store (see the module docstring)."""
    folder = Path(folder)
    report = Report(folder)
    if not folder.is_dir():
        raise HyosanError("no such folder", source=str(folder))
    if (folder / "sweep.json").exists():
        verify_store(folder, report)
    elif (folder / "summary.json").exists() or (folder / MARKER).exists():
        verify_run(folder, report)
    else:
        raise HyosanError(
            "neither a run folder (summary.json) nor a sweep store (sweep.json)", source=str(folder)
        )
    _leftovers(folder.absolute(), report)
    return report
