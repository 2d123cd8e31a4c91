"""numba's kernels: whether they are compiled already, and compiling them ahead of time.

hyosan's kernels are ``@numba.njit(cache=True)``: the first run compiles them (about a minute
for the school engine on a laptop core) and stores the machine code in hyosan's kernel cache
(:mod:`hyosan.jit`, a folder per kernel source); later runs load it in a second or two.
:func:`kernels_cached` says whether that folder holds the engine's kernel, so the command line
can say "compiling" instead of looking frozen; :func:`warmup` (``hyosan warmup``) compiles
everything ahead of time, for instance in a Docker build or before a class.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from hyosan.jit import CACHE_DIR

#: What a first run usually spends compiling. Measured with an empty HYOSAN_CACHE_DIR on the
#: shared 2-core AMD EPYC of the benchmarks: `hyosan warmup` 47 s (the school 37 s, SSA 5 s,
#: tau-leaping 3 s), then 3 s with the cache filled; issue 14 saw 65 s of an 88 s first run.
USUAL_COMPILE = "under a minute"


def kernels_cached() -> bool:
    """True when hyosan's kernel cache (:mod:`hyosan.jit`: one folder per kernel source) holds
    the school engine's tick kernel, i.e. a run will not compile it."""
    return any((CACHE_DIR / "rules").glob("tick.run_ticks-*.nbi"))


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
