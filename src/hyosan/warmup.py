"""numba's kernels: whether they are compiled already, and compiling them ahead of time.

hyosan's kernels are ``@numba.njit(cache=True)``: the first run compiles them (about a minute
for the school engine on a laptop core) and stores the machine code beside the sources (or under
``NUMBA_CACHE_DIR``); later runs load it in a second or two. :func:`kernels_cached` says whether
that store is there and newer than the sources, so the command line can say "compiling" instead
of looking frozen; :func:`warmup` (``hyosan warmup``) compiles everything ahead of time, for
instance in a Docker build or before a class.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import hyosan

#: What a first run usually spends compiling. Measured with an empty NUMBA_CACHE_DIR on the
#: shared 2-core AMD EPYC of the benchmarks: `hyosan warmup` 47 s (the school 37 s, SSA 5 s,
#: tau-leaping 3 s), then 3 s with the cache filled; issue 14 saw 65 s of an 88 s first run.
USUAL_COMPILE = "under a minute"


def kernel_sources() -> list[Path]:
    """The school engine's kernel sources: what ``hyosan run`` compiles (rules/, world/fields.py)."""
    root = Path(hyosan.__file__).parent
    return sorted([*(root / "rules").glob("*.py"), root / "world" / "fields.py"])


def cache_dir(source: Path) -> Path:
    """Where numba keeps the compiled kernels of ``source`` (its in-tree or NUMBA_CACHE_DIR layout)."""
    custom = os.environ.get("NUMBA_CACHE_DIR")
    if custom:
        tail = os.path.splitdrive(str(source.resolve().parent))[1].lstrip(os.sep)
        return Path(custom) / tail
    return source.parent / "__pycache__"


def kernels_cached() -> bool:
    """True when numba's cache holds compiled kernels for each folder of kernel sources, written
    after the last change to any of them (numba recompiles a kernel whose file changed)."""
    folders: dict[Path, float] = {}
    for source in kernel_sources():
        folders[source.parent] = max(folders.get(source.parent, 0.0), source.stat().st_mtime)
    for folder, newest in folders.items():
        index = list(cache_dir(folder / "x.py").glob("*.nbi"))
        if not index or max(p.stat().st_mtime for p in index) < newest:
            return False
    return True


def warmup(step: Callable[[str], None] | None = None) -> dict[str, float]:
    """Compile every kernel by running each engine once; returns seconds per part.

    The school engine runs Hyosan High for ten simulated minutes past its first bite (the kernels
    are typed by their arguments, not their sizes, so that compiles all the school's code); each
    compartment solver runs the ``alemi`` model once. ``step`` hears each part's name first.
    """
    # Imported here: `hyosan run` imports this module for kernels_cached() before it needs them.
    from hyosan import models
    from hyosan.engine import Simulation
    from hyosan.scenario import load_scenario

    times: dict[str, float] = {}
    t0 = time.perf_counter()
    if step:
        step("school engine")
    Simulation(load_scenario("hyosan-high", {"clock.duration": "25min"}), seed=0).run()
    times["school"] = time.perf_counter() - t0
    for method in ("ssa", "tau"):
        t0 = time.perf_counter()
        if step:
            step(f"compartment models ({method})")
        models.simulate("alemi", method=method, runs=1, seed=0, t_end=0.05)
        times[method] = time.perf_counter() - t0
    return times
