"""Kernels never run stale: numba's machine code is cached per hash of the kernel sources
(hyosan/jit.py), so an edit to a function a kernel calls, in another file, takes effect."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import hyosan

PROBE = """
import numpy as np
from hyosan.rules.contact import kill
from hyosan.rules.state import Agents, WorldArrays, event_buffer

one = lambda dtype: np.zeros(1, dtype=dtype)
agents = Agents(*[one(np.int32) for _ in Agents._fields])
world = WorldArrays(*[one(np.int32) for _ in WorldArrays._fields])
ev = event_buffer(4)
kill(0, 0, 7, agents, world, ev)          # contact.kill calls log.emit, in another file
import hyosan.jit, hyosan.rules.contact as c
print(int(ev.kind[0]), int(ev.tick[0]), c.kill.stats.cache_hits.total(), hyosan.jit.CACHE_DIR.name)
"""


def probe(src: Path, cache: Path) -> tuple[int, int, int, str]:
    env = {**os.environ, "PYTHONPATH": str(src), "HYOSAN_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    kind, tick, hits, key = out.stdout.split()
    return int(kind), int(tick), int(hits), key


def test_an_edit_to_a_callee_in_another_file_takes_effect(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(
        Path(hyosan.__file__).parent, src / "hyosan", ignore=shutil.ignore_patterns("__pycache__")
    )
    cache = tmp_path / "cache"
    kind, tick, hits, key = probe(src, cache)
    assert (tick, hits) == (7, 0)  # compiled
    assert probe(src, cache) == (kind, 7, 1, key)  # loaded from the cache, same result
    log = src / "hyosan" / "rules" / "log.py"
    log.write_text(log.read_text().replace("ev.kind[k] = kind", "ev.kind[k] = kind + 1"))
    edited = probe(src, cache)
    assert edited[0] == kind + 1  # numba's own cache would have loaded the old machine code
    assert edited[3] != key  # into a new folder
    assert sorted(p.name for p in cache.iterdir()) == sorted([key, edited[3]])


def test_the_key_covers_every_module_a_kernel_may_read():
    """Every file of rules/ (kernels and the constants they compile in, even one that defines no
    kernel) and the shared constants are hashed into the cache folder's name."""
    from hyosan import jit

    package = Path(hyosan.__file__).parent
    hashed = set(jit.kernel_sources())
    assert set((package / "rules").glob("*.py")) <= hashed
    assert {
        package / "states.py",
        package / "world" / "tiles.py",
        package / "compartmental" / "ssa.py",
    } <= hashed
