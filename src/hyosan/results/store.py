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

The folder is written whole into a temporary folder and renamed into place
(:func:`hyosan.io.atomic_dir`): an interrupted save leaves the old folder or the new one, never a
mix, and never replaces a folder hyosan did not write (``.hyosan.json`` lists what it wrote).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from hyosan.errors import HyosanError
from hyosan.io import atomic_dir
from hyosan.results.result import Result, WorldInfo

TABLES = ("counts", "events", "agents")
REQUIRED = ("summary.json", "scenario.toml", "counts.parquet", "events.parquet", "agents.parquet",
            "frames.npz", "world.npz")  # fmt: skip


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


def save(result: Result, folder: str | Path, *, report: bool = True, chronicle: bool = True,
         source: str | None = None) -> Path:  # fmt: skip
    """Write ``result`` as a run folder at ``folder``, atomically.

    ``folder`` may be new, empty or a run folder hyosan wrote (then replaced whole); any other
    folder or file is refused with a HyosanError (``source`` names the flag, e.g. ``--out``).
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
            tmp / "frames.npz", ticks=result.frame_ticks.astype(np.int32), cell_deltas=delta,
            states=result.frame_states.astype(np.int8), modes=result.frame_modes.astype(np.int8),
        )  # fmt: skip
        w = result.world
        np.savez_compressed(
            tmp / "world.npz", name=np.array(w.name), floors=np.array(w.floors, dtype=str),
            tiles=w.tiles, room_id=w.room_id, room_names=np.array(w.rooms["name"].tolist(), dtype=str),
            room_kinds=np.array(w.rooms["kind"].tolist(), dtype=str),
            room_floors=np.array(w.rooms["floor"].tolist(), dtype=str),
        )  # fmt: skip
        if chronicle:
            (tmp / "chronicle.md").write_text(result.chronicle(), encoding="utf-8")
        if report:
            result.report(tmp / "report.html")
    return folder


def load(folder: str | Path) -> Result:
    """Read a run folder written by :func:`save` (or ``hyosan run``) back into a Result."""
    folder = Path(folder)
    if not folder.is_dir():
        raise HyosanError("no such run folder", source=str(folder))
    for name in REQUIRED:
        if not (folder / name).is_file():
            raise HyosanError(f"missing {name}: not a complete hyosan run folder", source=str(folder))
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        where = str(folder / "summary.json")
        raise HyosanError(f"not valid JSON ({exc.msg}, line {exc.lineno})", source=where) from None
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES}
    with np.load(folder / "frames.npz") as f:
        ticks, delta, states, modes = f["ticks"], f["cell_deltas"], f["states"], f["modes"]
    with np.load(folder / "world.npz") as f:
        rooms = pd.DataFrame(
            {
                "id": np.arange(len(f["room_names"]), dtype=np.int32),
                "name": pd.Series(f["room_names"].tolist(), dtype="string"),
                "kind": pd.Series(f["room_kinds"].tolist(), dtype="string"),
                "floor": pd.Series(f["room_floors"].tolist(), dtype="string"),
            }
        )
        world = WorldInfo(str(f["name"]), f["floors"].tolist(), f["tiles"], f["room_id"], rooms)
    return Result(
        summary_data=summary,
        scenario_toml=(folder / "scenario.toml").read_text(encoding="utf-8"),
        world=world,
        frame_ticks=ticks,
        frame_cells=np.cumsum(delta, axis=0, dtype=np.int32),
        frame_states=states,
        frame_modes=modes,
        extra={"folder": str(folder)},
        **tables,
    )
