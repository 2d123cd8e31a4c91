"""The run folder: what ``hyosan run`` writes, and :func:`load` reads back into a Result.

::

    summary.json      the summary (schema in docs/results.md)
    scenario.toml     the resolved scenario: all defaults filled in, seed and hyosan version
    <map file>        a copy of the map, so that scenario.toml reruns from the folder
    counts.parquet    counts per tick and role (also counts.csv)
    events.parquet    every event, agents named (also events.csv)
    agents.parquet    one row per agent (also agents.csv)
    frames.npz        positions, states and modes every frame_every (cells delta-coded in time)
    world.npz         the floors' tiles and rooms (the report draws the map from it)
    chronicle.md      the narrated timeline
    report.html       the self-contained report with its replay
    tables/<name>.parquet   tables collected with Simulation.collect, if any

The folder is written whole into a temporary folder and renamed into place
(:func:`hyosan.io.atomic_dir`): an interrupted save leaves the old folder or the new one, never a
mix, and never replaces a folder hyosan did not write (``.hyosan.json`` lists what it wrote).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from hyosan.errors import HyosanError
from hyosan.io import atomic_dir, file_digest, os_error, read_marker, read_text
from hyosan.results.result import Result, WorldInfo

TABLES = ("counts", "events", "agents")
REQUIRED = (
    "summary.json",
    "scenario.toml",
    "counts.parquet",
    "events.parquet",
    "agents.parquet",
    "frames.npz",
    "world.npz",
)


def map_files(map_path: Path) -> list[tuple[Path, Path]]:
    """The map file and, for a Tiled map, the external tilesets it names: (source, path in the folder).

    Tilesets beside or below the map keep their relative path, so the copied map finds them; one
    elsewhere (``../tiles.tsj``) cannot be placed so and is left out (the folder's scenario.toml then
    needs the original next to it, while report.html and the tables never do).
    """
    files = [(map_path, Path(map_path.name))]
    if map_path.suffix.lower() in (".tmj", ".json"):
        try:
            tilesets = json.loads(map_path.read_text(encoding="utf-8")).get("tilesets", [])
        except (OSError, ValueError, AttributeError):
            return files
        for ts in tilesets:
            rel = Path(ts["source"]) if isinstance(ts, dict) and isinstance(ts.get("source"), str) else None
            if rel is not None and not rel.is_absolute() and ".." not in rel.parts:
                if (map_path.parent / rel).is_file():
                    files.append((map_path.parent / rel, rel))
    return files


def save(
    result: Result,
    folder: str | Path,
    *,
    report: Callable[[Result, Path], object] | None = None,
    chronicle: bool = True,
    source: str | None = None,
) -> Path:
    """Write ``result`` as a run folder at ``folder``, atomically.

    ``folder`` may be new, empty or a run folder hyosan wrote (then replaced whole); any other
    folder or file is refused with a HyosanError (``source`` names the flag, e.g. ``--out``).
    ``report``: a writer ``report(result, path)`` of report.html (``hyosan.report.write_report``;
    this layer does not know the report), or None for no report.
    """
    folder = Path(folder)
    with atomic_dir(folder, source=source) as tmp:
        (tmp / "summary.json").write_text(json.dumps(result.summary(), indent=2) + "\n", encoding="utf-8")
        (tmp / "scenario.toml").write_text(result.scenario_toml, encoding="utf-8")
        map_path = result.extra.get("map_path")
        if map_path and Path(map_path).is_file():
            for src, rel in map_files(Path(map_path)):
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, tmp / rel)
        for name in TABLES:
            table: pd.DataFrame = getattr(result, name)
            table.to_parquet(tmp / f"{name}.parquet", index=False)
            table.to_csv(tmp / f"{name}.csv", index=False)
        cells = result.frame_cells.astype(np.int32)
        # Most agents stand still between two frames: deltas in time are mostly zero and deflate well.
        delta = np.diff(cells, axis=0, prepend=np.zeros((1, cells.shape[1]), dtype=np.int32))
        np.savez_compressed(
            tmp / "frames.npz",
            ticks=result.frame_ticks.astype(np.int32),
            cell_deltas=delta,
            states=result.frame_states.astype(np.int8),
            modes=result.frame_modes.astype(np.int8),
        )
        w = result.world
        np.savez_compressed(
            tmp / "world.npz",
            name=np.array(w.name),
            floors=np.array(w.floors, dtype=str),
            tiles=w.tiles,
            room_id=w.room_id,
            room_names=np.array(w.rooms["name"].tolist(), dtype=str),
            room_kinds=np.array(w.rooms["kind"].tolist(), dtype=str),
            room_floors=np.array(w.rooms["floor"].tolist(), dtype=str),
        )
        if chronicle:
            (tmp / "chronicle.md").write_text(result.chronicle(), encoding="utf-8")
        for name, table in result.tables.items():
            (tmp / "tables").mkdir(exist_ok=True)
            table.to_parquet(tmp / "tables" / f"{name}.parquet", index=False)
        if report is not None:
            report(result, tmp / "report.html")
    return folder


#: Keys of summary.json that reading a run back relies on.
SUMMARY_KEYS = ("title", "seed", "tick_s", "start_clock_s", "duration_s", "population", "final")
FRAME_ARRAYS = ("ticks", "cell_deltas", "states", "modes")
WORLD_ARRAYS = ("name", "floors", "tiles", "room_id", "room_names", "room_kinds", "room_floors")


def _damaged(path: Path, why: str) -> HyosanError:
    return HyosanError(
        f"damaged run file ({why}); rerun its scenario.toml to rebuild the folder", source=str(path)
    )


def check_digests(folder: Path, names: tuple[str, ...] | None = None) -> None:
    """Compare files with the SHA-256 digests the folder's marker recorded when hyosan wrote them
    (a folder without them, from an older hyosan, is checked by reading only)."""
    marker = read_marker(folder) or {}
    digests = marker.get("sha256") if isinstance(marker.get("sha256"), dict) else {}
    for name, want in digests.items():
        if names is not None and name not in names:
            continue
        path = folder / name
        if not path.is_file():
            raise _damaged(path, "missing")
        try:
            if file_digest(path) != want:
                raise _damaged(path, "changed since hyosan wrote it")
        except OSError as exc:
            raise os_error(exc, path, "cannot read") from None


def _npz(path: Path, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [n for n in names if n not in f.files]
            if missing:
                raise _damaged(path, f"no array {missing[0]!r}")
            return {n: f[n] for n in names}
    except HyosanError:
        raise
    except Exception as exc:  # BadZipFile, EOFError, ValueError, zlib.error...: all mean damage here
        raise _damaged(path, f"not a readable .npz: {type(exc).__name__}") from None


def _table(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # ArrowInvalid, OSError...: a file cut short or overwritten
        raise _damaged(path, f"not a readable Parquet table: {type(exc).__name__}") from None


def load(folder: str | Path) -> Result:
    """Read a run folder written by :func:`save` (or ``hyosan run``) back into a Result.

    Every file is checked as it is read (and against the digest hyosan recorded for it): a
    damaged one raises a HyosanError that names it.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise HyosanError("no such run folder", source=str(folder))
    for name in REQUIRED:
        if not (folder / name).is_file():
            raise HyosanError(f"missing {name}: not a complete hyosan run folder", source=str(folder))
    check_digests(folder, REQUIRED)
    where = folder / "summary.json"
    try:
        summary = json.loads(read_text(where))
    except json.JSONDecodeError as exc:
        raise HyosanError(f"not valid JSON ({exc.msg}, line {exc.lineno})", source=str(where)) from None
    except RecursionError:
        raise _damaged(where, "nested too deeply") from None
    if not isinstance(summary, dict):
        raise _damaged(where, f"a JSON object was expected, not {type(summary).__name__}")
    missing = [k for k in SUMMARY_KEYS if k not in summary]
    if missing:
        raise _damaged(where, f"no {missing[0]!r}")
    tables = {name: _table(folder / f"{name}.parquet") for name in TABLES}
    frames = _npz(folder / "frames.npz", FRAME_ARRAYS)
    ticks, delta, states, modes = (frames[n] for n in FRAME_ARRAYS)
    same = states.shape == delta.shape == modes.shape
    if not (delta.ndim == 2 and same and ticks.shape == delta.shape[:1]):
        raise _damaged(folder / "frames.npz", "arrays of mismatched shapes")
    f = _npz(folder / "world.npz", WORLD_ARRAYS)
    if f["tiles"].ndim != 3 or f["room_id"].shape != f["tiles"].shape:
        raise _damaged(folder / "world.npz", "arrays of mismatched shapes")
    rooms = pd.DataFrame(
        {
            "id": np.arange(len(f["room_names"]), dtype=np.int32),
            "name": pd.Series(f["room_names"].tolist(), dtype="string"),
            "kind": pd.Series(f["room_kinds"].tolist(), dtype="string"),
            "floor": pd.Series(f["room_floors"].tolist(), dtype="string"),
        }
    )
    world = WorldInfo(str(f["name"]), f["floors"].tolist(), f["tiles"], f["room_id"], rooms)
    extra_tables = {p.stem: _table(p) for p in sorted((folder / "tables").glob("*.parquet"))}
    return Result(
        summary_data=summary,
        tables=extra_tables,
        scenario_toml=read_text(folder / "scenario.toml"),
        world=world,
        frame_ticks=ticks,
        frame_cells=np.cumsum(delta, axis=0, dtype=np.int32),
        frame_states=states,
        frame_modes=modes,
        extra={"folder": str(folder)},
        **tables,
    )
