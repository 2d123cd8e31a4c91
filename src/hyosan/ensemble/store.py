"""The resumable store of a sweep: a folder that says what was asked and holds every finished run.

::

    DIR/sweep.json           the sweep: what runs, the parameter sets, replicates, root seed,
                             context (fixed overrides, scenario fingerprint, solver options),
                             and its status (finished, failed, complete)
    DIR/runs/<run_id>.parquet  one file per finished run, written (atomically) as it finishes
    DIR/runs.parquet         every finished run of the sweep, one row each (also runs.csv)
    DIR/bands.parquet        5/25/50/75/95 % quantile bands of each series per parameter set
    DIR/keep/<run_id>/       full run folders of the first ``keep`` replicates of each set

A run counts as finished once its file in ``runs/`` exists: the file is renamed into place only
when complete, so a killed sweep leaves finished runs and nothing half-written, and running the
sweep again skips them. ``runs.parquet`` and ``bands.parquet`` are rebuilt from ``runs/`` at the
end of every invocation (also an interrupted one). One process writes to a store at a time
(``DIR/.lock`` holds its host and process id; ``hyosan verify`` reports a stale one).

When a sweep ends (also an interrupted one), ``DIR/digests.json`` records the SHA-256 of
``sweep.json``, the tables and every run file, as a run folder's marker does: ``hyosan verify
DIR`` names any file changed since, and ``hyosan report DIR`` refuses a damaged store.

Schemas (docs/ensembles.md has them with examples):

- ``runs/<run_id>.parquet``: one row, the columns of ``runs.parquet`` plus ``traceback`` (of a
  failed run) and the run's series as lists: ``ts.t`` (the time grid) and ``ts.<series>``.
- ``runs.parquet``: ``run_id`` (string: 16 hex digits of the run's identity), ``set_id``
  (int64: position of its parameter set in ``sweep.json``'s ``sets``), ``replicate`` (int64),
  ``seed`` (int64), one column per varied key (named by the key, typed by its values),
  ``status`` ("ok" or "failed"), ``error`` ("Type: message" of a failed run, else null),
  ``elapsed_s`` (float64: the run's wall time in its worker, the only column that differs
  between two executions of the same sweep), then the runner's metrics (ints as nullable Int64,
  floats, booleans; null for a failed run). Sorted by ``set_id``, ``replicate``.
- ``bands.parquet``: ``set_id``, the varied keys, ``series``, ``t``, ``runs`` (successful runs
  in the band), ``mean``, ``q05``, ``q25``, ``q50``, ``q75``, ``q95`` (linear interpolation
  between order statistics); one row per (set, series, grid time).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import socket
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hyosan.ensemble.runners import Outcome, RunOutput, execute
from hyosan.ensemble.spec import RunTask, SweepSpec
from hyosan.errors import HyosanError
from hyosan.io import atomic_path, file_digest, pid_alive, write_text
from hyosan.results.result import Result
from hyosan.results.store import save as save_run

FORMAT = "hyosan-sweep/1"
#: The store's digests: what a sweep wrote, file by file.
DIGESTS = "digests.json"
DIGESTS_FORMAT = "hyosan-sweep-digests/1"
#: Tables at the top of a store covered by the digests (when present).
TABLES = ("sweep.json", "runs.parquet", "runs.csv", "bands.parquet")
#: Quantiles of the bands (the same as the compartment models' bands).
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
ID_COLUMNS = ("run_id", "set_id", "replicate", "seed")
STATUS_COLUMNS = ("status", "error", "elapsed_s")
#: Tables of at most this many rows also get a CSV copy beside the Parquet file.
CSV_ROWS = 100_000

_WHAT = {
    "kind": "the kind of sweep",
    "target": "the scenario or model",
    "seed": "the root --seed",
    "context.set": "--set",
    "context.points": "--points",
    "context.fingerprint": "the scenario file or its map (edited since)",
    "context.method": "--method",
    "context.t_end": "--t-end",
    "vary": "--vary",
    "design": "the sensitivity design (--param, --samples, --method)",
    "sets": "the parameter sets",
}


def _short(value: Any, limit: int = 70) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Store:
    """A sweep's folder; :meth:`open` checks or writes ``sweep.json`` and takes the lock."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.runs_dir = self.folder / "runs"
        self.keep_dir = self.folder / "keep"
        self.spec_path = self.folder / "sweep.json"
        self.lock_path = self.folder / ".lock"
        self._locked = False
        #: Rows of the runs this process wrote, as they read back from their files: rebuilding the
        #: tables need not read those files again (a file a run, about 1.6 ms each).
        self._written: dict[str, dict[str, Any]] = {}

    # -- opening ------------------------------------------------------------------------------
    @classmethod
    def open(cls, folder: str | Path, spec: SweepSpec) -> Store:
        """Create the store, or reopen one of the same sweep (else a one-line HyosanError)."""
        store = cls(folder)
        if store.folder.exists() and not store.folder.is_dir():
            raise HyosanError("exists and is not a folder", source=str(store.folder))
        if store.spec_path.exists():
            store._check(spec)
        elif store.folder.exists() and any(p.name != ".lock" for p in store.folder.iterdir()):
            raise HyosanError(
                "is not empty and holds no sweep.json: give a new or empty folder", source=str(store.folder)
            )
        store.folder.mkdir(parents=True, exist_ok=True)
        store._lock()
        store.runs_dir.mkdir(exist_ok=True)
        for stale in store.runs_dir.glob(".*.tmp"):  # left by a killed sweep; we hold the lock
            stale.unlink(missing_ok=True)
        store.write_spec(spec)
        return store

    def _check(self, spec: SweepSpec) -> None:
        try:
            stored = json.loads(self.spec_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise HyosanError(f"unreadable: {exc}", source=str(self.spec_path)) from None
        if not isinstance(stored, dict) or stored.get("format") != FORMAT:
            what = stored.get("format") if isinstance(stored, dict) else type(stored).__name__
            raise HyosanError(f"damaged or not a hyosan sweep ({what!r})", source=str(self.spec_path))
        new = json.loads(json.dumps(spec.identity()))
        for key, value in new.items():
            old = stored.get(key)
            if key == "context" and isinstance(old, dict) and isinstance(value, dict) and old != value:
                sub = next(k for k in [*value, *old] if old.get(k) != value.get(k))
                key, old, value = f"context.{sub}", old.get(sub), value.get(sub)
            if old != value:
                raise HyosanError(
                    f"this folder holds a different sweep ({_WHAT.get(key, key)} changed: was {_short(old)}, "
                    f"now {_short(value)}); give another --out or delete the folder",
                    source=str(self.spec_path),
                    field=key,
                )

    def _lock(self) -> None:
        me = f"{socket.gethostname()} {os.getpid()}"
        if self.lock_path.exists():
            host, _, pid = self.lock_path.read_text(encoding="utf-8", errors="replace").partition(" ")
            if pid.strip().isdigit() and host == socket.gethostname() and int(pid) != os.getpid():
                if pid_alive(int(pid)):
                    raise HyosanError(
                        f"another sweep (process {pid.strip()}) is writing to this folder",
                        source=str(self.folder),
                    )
        write_text(self.lock_path, me)
        self._locked = True

    def remove_new(self, folder_too: bool) -> None:
        """Undo :meth:`open` on a folder that was new or empty (the sweep could not start)."""
        for p in (self.spec_path, self.lock_path, self.folder / DIGESTS):
            p.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.runs_dir.rmdir()
            if folder_too:
                self.folder.rmdir()

    def close(self) -> None:
        """Record the digests of what the store holds, then release the lock."""
        if self._locked:
            try:
                self.seal()
            finally:
                self.lock_path.unlink(missing_ok=True)
                self._locked = False

    def seal(self) -> None:
        """Write ``digests.json``: the SHA-256 of the spec, the tables and every run file."""
        write_text(self.folder / DIGESTS, json.dumps(store_digests(self.folder), indent=1) + "\n")

    def write_spec(self, spec: SweepSpec, status: dict[str, Any] | None = None) -> None:
        # Imported here: workers of a model sweep never load the engine (numba), nor of a school one SciPy.
        from hyosan import __version__

        data = {"format": FORMAT, **spec.to_json(), "hyosan": __version__}
        if self.spec_path.exists():
            with contextlib.suppress(OSError, ValueError):
                data["created"] = json.loads(self.spec_path.read_text(encoding="utf-8")).get("created")
        data["created"] = data.get("created") or datetime.datetime.now(datetime.UTC).isoformat(
            timespec="seconds"
        )
        if status is not None:
            data["status"] = status
        write_text(self.spec_path, json.dumps(data, indent=1) + "\n")

    # -- runs -----------------------------------------------------------------------------------
    def path(self, run_id: str) -> Path:
        return self.runs_dir / f"{run_id}.parquet"

    def finished_ids(self) -> set[str]:
        """Run ids with an intact file in ``runs/`` (finished, well or not). A damaged file (cut
        short, overwritten) is moved aside to ``damaged/`` and its run counts as not finished."""
        ids = set()
        for p in self.runs_dir.glob("*.parquet"):
            if intact_parquet(p):
                ids.add(p.stem)
            else:
                self.set_aside(p)
        return ids

    def set_aside(self, path: Path) -> Path | None:
        """Move a damaged run file to ``DIR/damaged/`` (kept for a post-mortem, never read again)."""
        aside = self.folder / "damaged" / f"{path.name}.{datetime.datetime.now(datetime.UTC):%Y%m%dT%H%M%S%f}"
        try:
            aside.parent.mkdir(exist_ok=True)
            os.replace(path, aside)
        except OSError:
            return None
        return aside

    def read_record(self, run_id: str) -> dict[str, Any] | None:
        """The row of a finished run's file; None (and the file set aside) when it is damaged."""
        path = self.path(run_id)
        try:
            record = pq.ParquetFile(path).read().to_pylist()[0]
            if not isinstance(record.get("status"), str):
                raise ValueError("no status")
            return record
        except (pa.ArrowException, OSError, ValueError, KeyError, IndexError):
            self.set_aside(path)
            return None

    def failed_ids(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` whose run failed (reads their status; a damaged file is set aside and
        its run counts as failed, so that it runs again)."""
        out = set()
        for i in ids:
            try:
                status = pq.ParquetFile(self.path(i)).read(columns=["status"])["status"][0].as_py()
            except (pa.ArrowException, OSError, ValueError, KeyError, IndexError):
                self.set_aside(self.path(i))
                status = None
            if status != "ok":
                out.add(i)
        return out

    def write(self, outcome: Outcome) -> None:
        """Record a finished run: its kept folder first, then its row (the finished marker).

        The row is normally encoded by the worker that ran it (:func:`work`): the sweep's own
        process then only writes the bytes, and takes no CPU from the workers.
        """
        task = outcome.task
        out = outcome.output
        if outcome.parquet is None:
            encode(outcome)
        if out is not None and out.kept is not None:
            self._keep(out.kept, self.keep_dir / task.run_id)
        with atomic_path(self.path(task.run_id)) as tmp:
            tmp.write_bytes(outcome.parquet)
        self._written[task.run_id] = outcome.record

    @staticmethod
    def _keep(kept: Any, folder: Path) -> None:
        """A full run folder: a school run's Result folder, or a model run's summary and table."""
        if isinstance(kept, Result):
            # The report pulls in matplotlib: loaded here, in the sweep's process, never in a worker.
            from hyosan.report import write_report

            save_run(kept, folder, report=write_report)
            return
        write_text(folder / "summary.json", json.dumps(kept.summary(), indent=2) + "\n")
        with atomic_path(folder / "trajectory.parquet") as tmp:
            kept.trajectory.to_parquet(tmp, index=False)

    # -- tables -------------------------------------------------------------------------------
    def read_runs(self, spec: SweepSpec) -> tuple[pd.DataFrame, dict[str, dict[str, Any]]]:
        """The runs table of ``spec`` (finished runs only) and each ok run's series."""
        finished = self.finished_ids()
        rows, series = [], {}
        for task in spec.tasks():
            if task.run_id not in finished:
                continue
            record = self._written.pop(task.run_id, None)
            if record is None:  # finished by an earlier invocation (read_table is 3x slower)
                record = self.read_record(task.run_id)
                if record is None:  # damaged: set aside, runs again next time
                    continue
            record.pop("traceback", None)
            ts = {k[3:]: record.pop(k) for k in list(record) if k.startswith("ts.")}
            if ts and record["status"] == "ok":
                series[task.run_id] = ts
            record.update(task.params)  # typed as the spec has them
            rows.append(record)
        return runs_frame(rows, spec.param_names), series

    def consolidate(self, spec: SweepSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Rebuild ``runs.parquet`` and ``bands.parquet`` from ``runs/``; return both tables."""
        runs, series = self.read_runs(spec)
        bands = bands_frame(runs, series, spec)
        write_table(runs, self.folder / "runs.parquet")
        write_table(bands, self.folder / "bands.parquet", csv=False)
        return runs, bands


def digested_files(folder: Path) -> list[str]:
    """The files of a store its digests cover (paths relative to the store, ``/``-separated)."""
    names = [t for t in TABLES if (folder / t).is_file()]
    names += sorted(f"runs/{p.name}" for p in (folder / "runs").glob("*.parquet") if p.is_file())
    return names


def store_digests(folder: Path) -> dict[str, Any]:
    """The content of ``digests.json`` for the store at ``folder`` as it is now."""
    return {"format": DIGESTS_FORMAT, "sha256": {n: file_digest(folder / n) for n in digested_files(folder)}}


def read_lock(folder: Path) -> tuple[str, int] | None:
    """The host and process id in a store's ``.lock`` (None when there is none or it is unreadable)."""
    try:
        text = (Path(folder) / ".lock").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    host, _, pid = text.strip().partition(" ")
    return (host, int(pid)) if pid.isdigit() else None


def intact_parquet(path: Path) -> bool:
    """Whether a Parquet file is whole: the magic at both ends and a footer that fits (cheap: reads
    12 bytes; a file cut short or overwritten fails)."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < 12:
                return False
            head = f.read(4)
            f.seek(size - 8)
            tail = f.read(8)
    except OSError:
        return False
    footer = int.from_bytes(tail[:4], "little")
    return head == b"PAR1" and tail[4:] == b"PAR1" and 0 < footer <= size - 12


def work(runner: Callable[[RunTask], RunOutput], task: RunTask) -> Outcome:
    """What a worker does with a task: run it (:func:`~hyosan.ensemble.runners.execute`) and
    encode its row (:func:`encode`; only as a dict when the runner's ``parquet`` is False: a
    calibration keeps no run files)."""
    outcome = execute(runner, task)
    return encode(outcome) if getattr(runner, "parquet", True) else as_record(outcome)


def as_record(outcome: Outcome) -> Outcome:
    """Fill in ``outcome.record`` as :func:`encode` does (the same keys and values: Python
    numbers, the series as lists), without the Parquet bytes; drop the series."""
    task = outcome.task
    out = outcome.output
    record: dict[str, Any] = {
        "run_id": task.run_id,
        "set_id": task.set_id,
        "replicate": task.replicate,
        "seed": task.seed,
        **task.params,
        "status": outcome.status,
        "error": outcome.error,
        "elapsed_s": float(outcome.elapsed_s),
        "traceback": outcome.traceback,
    }
    if out is not None:
        record.update((k, _plain(v)) for k, v in out.metrics.items())
        if out.times is not None:
            record["ts.t"] = np.asarray(out.times, dtype=np.float64).tolist()
            for name, values in out.series.items():
                values = np.asarray(values)
                kind = np.int64 if values.dtype.kind in "iub" else np.float64
                record[f"ts.{name}"] = values.astype(kind).tolist()
            out.times, out.series = None, {}
    outcome.record = record
    return outcome


def encode(outcome: Outcome) -> Outcome:
    """Fill in ``outcome.parquet`` (the bytes of ``runs/<run_id>.parquet``: one row, the columns of
    ``runs.parquet`` plus ``traceback`` and the series as lists) and ``outcome.record``; drop the
    series, which the row now holds."""
    task = outcome.task
    out = outcome.output
    row: dict[str, Any] = {
        "run_id": task.run_id,
        "set_id": task.set_id,
        "replicate": task.replicate,
        "seed": task.seed,
        **task.params,
        "status": outcome.status,
        "error": outcome.error,
        "elapsed_s": float(outcome.elapsed_s),
    }
    columns = {k: pa.array([v]) for k, v in row.items()}
    columns["traceback"] = pa.array([outcome.traceback], type=pa.string())
    columns["error"] = pa.array([outcome.error], type=pa.string())
    if out is not None:
        for k, v in out.metrics.items():
            columns[k] = pa.array([_plain(v)])
        if out.times is not None:
            columns["ts.t"] = pa.array([np.asarray(out.times, dtype=np.float64)], type=pa.list_(pa.float64()))
            for name, values in out.series.items():
                values = np.asarray(values)
                kind = pa.int64() if values.dtype.kind in "iub" else pa.float64()
                columns[f"ts.{name}"] = pa.array([values], type=pa.list_(kind))
            out.times, out.series = None, {}
    table = pa.table(columns)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, use_dictionary=False, write_statistics=False)
    outcome.parquet = sink.getvalue().to_pybytes()
    outcome.record = table.to_pylist()[0]
    return outcome


def _plain(value: Any) -> Any:
    """NumPy scalars as Python values (Parquet columns from one value each)."""
    return value.item() if isinstance(value, np.generic) else value


def write_table(frame: pd.DataFrame, path: Path, csv: bool = True) -> None:
    """A table as Parquet (and CSV beside it when small), each written atomically."""
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)
    if csv and len(frame) <= CSV_ROWS:
        with atomic_path(path.with_suffix(".csv")) as tmp:
            frame.to_csv(tmp, index=False)


def _typed(values: list[Any]) -> pd.Series:
    """A column whose type follows its values: bool, Int64 (nullable), float64 or string."""
    present = [v for v in values if v is not None and not (isinstance(v, float) and np.isnan(v))]
    if present and all(isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="boolean")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        if len(present) == len(values):
            return pd.Series(values, dtype="int64")
        return pd.Series(values, dtype="Int64")
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
    return pd.Series([None if v is None else str(v) for v in values], dtype="string")


def runs_frame(rows: list[dict[str, Any]], param_names: list[str]) -> pd.DataFrame:
    """Rows of finished runs as the runs table (columns and types as in the module docstring)."""
    rows = sorted(rows, key=lambda r: (r["set_id"], r["replicate"]))
    fixed = [*ID_COLUMNS, *param_names, *STATUS_COLUMNS]
    metrics: dict[str, None] = {}
    for r in rows:
        if r["status"] == "ok":
            metrics.update(dict.fromkeys(k for k in r if k not in fixed and k not in metrics))
    data = {c: _typed([r.get(c) for r in rows]) for c in [*fixed, *metrics]}
    frame = pd.DataFrame(data)
    for c in ("run_id", "status", "error"):
        frame[c] = frame[c].astype("string")
    frame["elapsed_s"] = frame["elapsed_s"].astype("float64")
    return frame


def bands_frame(runs: pd.DataFrame, series: dict[str, dict[str, Any]], spec: SweepSpec) -> pd.DataFrame:
    """Quantile bands over each parameter set's successful runs (see the module docstring)."""
    params = spec.param_names
    parts = []
    for set_id, group in runs[runs["status"] == "ok"].groupby("set_id", sort=True):
        ids = [i for i in group["run_id"] if i in series]
        if not ids:
            continue
        first = series[ids[0]]
        t = np.asarray(first["t"], dtype=np.float64)
        same = [i for i in ids if len(series[i]["t"]) == len(t)]
        for name in (k for k in first if k != "t"):
            values = np.asarray([series[i][name] for i in same], dtype=np.float64)  # (runs, T)
            qs = np.quantile(values, QUANTILES, axis=0)
            part = pd.DataFrame({"set_id": np.full(t.size, set_id, dtype=np.int64)})
            for p in params:
                part[p] = [spec.sets[set_id][p]] * t.size
            part["series"] = name
            part["t"] = t
            part["runs"] = np.full(t.size, len(same), dtype=np.int64)
            part["mean"] = values.mean(axis=0)
            for q, row in zip(QUANTILES, qs, strict=True):
                part[f"q{round(q * 100):02d}"] = row
            parts.append(part)
    if parts:
        frame = pd.concat(parts, ignore_index=True)
    else:
        cols = [
            "set_id",
            *params,
            "series",
            "t",
            "runs",
            "mean",
            *(f"q{round(q * 100):02d}" for q in QUANTILES),
        ]
        frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})
    frame["series"] = frame["series"].astype("string")
    return frame
