"""``hyosan new``: a scenario of your own to start from, copied from a built-in or a file.

The new folder holds ``NAME.toml`` (the scenario's text, comments kept, its map pointing at the
copy) and the map with the files it names (a Tiled map's tileset files and images), so that it
runs from there and every value can be edited. The folder is written whole or not at all, and
only where nothing of the user's would be lost: a new or empty folder, or one an earlier ``hyosan
new`` wrote whose files are still as it wrote them.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path, PurePosixPath

from hyosan.errors import HyosanError
from hyosan.io import atomic_dir, check_out_dir, file_digest, read_marker, read_text, recover

#: The marker format of a folder ``hyosan new`` wrote.
SCENARIO_FORMAT = "hyosan-scenario/1"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_MAP_LINE = re.compile(r"""^(\s*map\s*=\s*)(["'])(.*?)\2""", re.MULTILINE)


def _map_files(map_path: Path) -> list[tuple[Path, str]]:
    """The map and the files it names (tilesets, their images), as (file, path inside the folder)."""
    out = [(map_path, map_path.name)]
    if map_path.suffix.lower() not in (".tmj", ".json"):
        return out
    try:
        data = json.loads(map_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return out  # the map loader names what is wrong with it; nothing more to copy
    names: list[str] = []
    for ts in data.get("tilesets", []) if isinstance(data, dict) else []:
        if not isinstance(ts, dict):
            continue
        names += [ts[k] for k in ("image", "source") if isinstance(ts.get(k), str)]
        if isinstance(ts.get("source"), str):  # an external tileset names its own image
            try:
                ext = json.loads((map_path.parent / ts["source"]).read_text(encoding="utf-8"))
                if isinstance(ext, dict) and isinstance(ext.get("image"), str):
                    rel = PurePosixPath(ts["source"]).parent / ext["image"]
                    names.append(str(rel))
            except (OSError, ValueError):
                pass
    for name in dict.fromkeys(names):
        rel = PurePosixPath(name)
        if rel.is_absolute() or ".." in rel.parts:
            continue  # outside the map's folder: the copy keeps pointing at it
        if (map_path.parent / rel).is_file():
            out.append((map_path.parent / rel, str(rel)))
    return out


def _edited(folder: Path, marker: dict) -> list[str]:
    """Files of a folder ``hyosan new`` wrote that were edited since (empty: safe to replace)."""
    digests = marker.get("sha256") or {}
    return [
        f for f in marker["files"] if (folder / f).is_file() and digests.get(f) != file_digest(folder / f)
    ]


def new_scenario(name: str, source: str | Path = "hyosan-high", out: str | Path | None = None) -> Path:
    """Write ``out/NAME.toml`` (default ``out`` = ``NAME``) copied from ``source`` (a built-in name
    or a scenario file), with its map; returns the new scenario file's path."""
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    from hyosan.scenario.load import load_scenario
    from hyosan.world import load_map

    if not _NAME.fullmatch(name):
        raise HyosanError(
            "a scenario name is up to 64 letters, digits, '-', '_' or '.', starting with a letter or digit",
            source="new",
            field=name,
        )
    flag = "--out" if out is not None else None
    folder = Path(out) if out is not None else Path(name)
    loaded = load_scenario(source)
    recover(folder.absolute())
    if check_out_dir(folder, flag) == "hyosan":
        marker = read_marker(folder) or {}
        where = {"source": flag, "field": str(folder)} if flag else {"source": str(folder)}
        if marker.get("format") != SCENARIO_FORMAT:
            raise HyosanError(
                "holds a run or a store, not a scenario hyosan new wrote: give a new folder", **where
            )
        edited = _edited(folder, marker)
        if edited:
            raise HyosanError(
                f"you edited {', '.join(edited)} since hyosan new wrote it: give a new folder", **where
            )
    path = Path(loaded.source.removeprefix("builtin:"))
    if loaded.source.startswith("builtin:"):
        # lazy: loaded only when this runs (a light import of the module above, or a cycle)
        from hyosan.scenario.load import builtins

        path = builtins()[loaded.source.removeprefix("builtin:")]
    text = read_text(path, loaded.source)
    files = _map_files(loaded.map_path())
    if loaded.scenario.world.map != files[0][1]:
        text, n = _MAP_LINE.subn(lambda m: f"{m[1]}{m[2]}{files[0][1]}{m[2]}", text, count=1)
        if n != 1:
            raise HyosanError(
                "cannot find its 'map = ...' line to point it at the copy", source=loaded.source
            )
    header = f"# {name}: a scenario of your own, started from {loaded.source} by `hyosan new`.\n"
    with atomic_dir(folder, flag, fmt=SCENARIO_FORMAT) as tmp:
        (tmp / f"{name}.toml").write_text(header + text, encoding="utf-8")
        for src, rel in files:
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, tmp / rel)
        copy = load_scenario(tmp / f"{name}.toml")  # it must load from its new place before it is kept
        load_map(copy.map_path())
    return folder / f"{name}.toml"
