"""Reactions fired per second: hyosan's exact SSA side by side with GillesPy2's SSA solvers.

The model is hyosan's ``alemi`` (Alemi et al. 2015): S + Z -> 2Z at rate beta S Z / N (a bite)
and S + Z -> S + R at rate kappa S Z / N with kappa = alpha beta (a kill); alpha = 0.8, beta = 1,
S0 = N - 10, Z0 = 10. Every trajectory runs to absorption (no human or no zombie left): the end
time is 1e9 days, far past any outbreak, on a two-point output grid, and every solver stops by
itself once no reaction can fire. The script checks that each trajectory was absorbed.

Reactions are counted the same way for every solver, from the final state: only a bite removes
a human and only a kill adds to R, so reactions = (S0 - S_final) + R_final, exactly. For hyosan
the count is checked against the kernel's own ``reactions_fired``.

Each measurement is repeated and the median is reported. One repetition calls the solver with a
batch of trajectories sized to fire about ``--target`` reactions (one call, one process for
GillesPy2's C solver); if most runs of the batch died out early (each does with probability about
alpha**Z0 = 11%), the repetition calls again until half the expected reactions have fired. Its
rate is reactions fired over the summed wall time of its calls. The solvers take turns: each
round times every solver once, so that a change in the machine's load hits them all alike.

Compilation is timed apart: numba's (in a fresh process with an empty cache, and the first call
in this process, which loads numba's cache) and the build of GillesPy2's C solver (in
``SSACSolver(model)``, once per model). hyosan and the C solver also run one untimed warm-up
batch at each N (GillesPy2's NumPy solver, pure Python, has nothing to warm up).

GillesPy2 1.8 compiles its C++ solver without any optimization flag (``g++ -std=c++14``). The
columns "SSACSolver -O2" time the same generated C++ rebuilt with ``g++ -O2``, to show how much
of the gap is that flag; ``--no-o2`` leaves them out.

Run with the benchmark's virtualenv (see benchmarks/README.md)::

    PATH=benchmarks/.venv-gillespy2/bin:$PATH python benchmarks/ssa_vs_gillespy2.py --json out.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from hyosan import models
from school_common import machine as common_machine

ALPHA = 0.8
BETA = 1.0
Z0 = 10
T_END = 1e9
SIZES = (10_000, 100_000, 1_000_000)

#: One solver call: (trajectories, seed) -> final (S, Z, R) of each trajectory, shape (runs, 3).
Batch = Callable[[int, int], np.ndarray]


def expected_reactions(n: int) -> float:
    """Mean-field reactions of a major outbreak (alpha < 1): every human bitten, alpha S0 kills."""
    return (1.0 + ALPHA) * (n - Z0)


def count_reactions(finals: np.ndarray, n: int) -> int:
    """Bites plus kills of trajectories ending in ``finals`` (rows S, Z, R), after checking absorption."""
    s, z, r = finals[:, 0], finals[:, 1], finals[:, 2]
    if np.any((s > 0) & (z > 0)):
        raise RuntimeError(f"N={n}: a trajectory was not absorbed: raise T_END")
    return int(np.sum((n - Z0) - s) + np.sum(r))


# -- the solvers ----------------------------------------------------------------------------------
def hyosan_batch(method: str, n: int) -> Batch:
    """hyosan's public entry point, ``method`` "ssa" (exact) or "tau" (tau-leaping)."""
    model = models.get("alemi")
    params = {"N": n, "Z0": Z0, "alpha": ALPHA, "beta": BETA}
    order = [model.species_names.index(name) for name in ("S", "Z", "R")]

    def run(runs: int, seed: int) -> np.ndarray:
        result = model.simulate(method, runs=runs, seed=seed, params=params, t_end=T_END, n_points=2)
        finals = result.values[:, -1, order]
        if count_reactions(finals, n) != int(result.reactions_fired.sum()):
            raise RuntimeError("counting reactions from the final state disagrees with hyosan's count")
        return finals

    return run


def gillespy2_model(n: int):
    """The same model in GillesPy2: mass action, volume 1, output at t = 0 and t = T_END only."""
    import gillespy2

    model = gillespy2.Model(name="alemi")
    s = gillespy2.Species(name="S", initial_value=n - Z0, mode="discrete")
    z = gillespy2.Species(name="Z", initial_value=Z0, mode="discrete")
    r = gillespy2.Species(name="R", initial_value=0, mode="discrete")
    model.add_species([s, z, r])
    bite = gillespy2.Parameter(name="bite_rate", expression=BETA / n)
    kill = gillespy2.Parameter(name="kill_rate", expression=ALPHA * BETA / n)
    model.add_parameter([bite, kill])
    model.add_reaction(gillespy2.Reaction(name="bite", reactants={s: 1, z: 1}, products={z: 2}, rate=bite))
    model.add_reaction(
        gillespy2.Reaction(name="kill", reactants={s: 1, z: 1}, products={s: 1, r: 1}, rate=kill)
    )
    model.timespan(np.array([0.0, T_END]))
    return model


def recompile_optimized(solver, flag: str = "-O2") -> None:
    """Rebuild ``solver``'s executable in place with ``flag``, from the sources GillesPy2 generated.

    GillesPy2 1.8 builds its C++ with ``-std=c++14`` and no optimization flag (its SConstruct), so
    the C solver as shipped runs unoptimized; this rebuild shows what the same code does at -O2.
    """
    engine = solver.build_engine
    cbase, template = engine.cpp_dir, engine.template_dir
    sources = [template / "template.cpp", cbase / "model.cpp", cbase / "arg_parser.cpp"]
    sources += sorted((cbase / "ssa_cpp_solver").glob("*.cpp"))
    includes = [f"-I{path}" for path in (cbase, template, cbase / "Sundials" / "include", cbase / "Tau")]
    command = ["g++", "-std=c++14", flag, *includes, *map(str, sources), "-o", str(engine.make.output_file)]
    subprocess.run(command, check=True)


def gillespy2_batch(solver) -> Batch:
    """A GillesPy2 solver instance (its model already set) as a batch function."""

    def run(runs: int, seed: int) -> np.ndarray:
        results = solver.run(number_of_trajectories=runs, seed=seed)
        return np.array([[tr["S"][-1], tr["Z"][-1], tr["R"][-1]] for tr in results], dtype=np.int64)

    return run


def c_solvers(gillespy2, n: int, no_o2: bool, report: dict) -> dict[str, Batch]:
    """GillesPy2's C solver at population ``n``, as shipped and rebuilt with -O2 (build times to
    ``report``); none if the build fails (the reason goes to the report's notes)."""
    model = gillespy2_model(n)
    batches = {}
    try:
        start = time.perf_counter()
        solver = gillespy2.SSACSolver(model=model)  # generates and compiles the C++ here
        report["ssacsolver_build_s"][str(n)] = time.perf_counter() - start
        batches["c_ssa"] = gillespy2_batch(solver)
        if not no_o2:
            solver = gillespy2.SSACSolver(model=model)
            start = time.perf_counter()
            recompile_optimized(solver, "-O2")
            report["ssacsolver_o2_rebuild_s"][str(n)] = time.perf_counter() - start
            batches["c_ssa_o2"] = gillespy2_batch(solver)
    except (gillespy2.SimulationError, gillespy2.SolverError, subprocess.CalledProcessError) as error:
        report["notes"].append(f"SSACSolver at N={n} failed: {error}")
    return batches


# -- timing ---------------------------------------------------------------------------------------
@dataclass
class Timing:
    """One solver at one N: rates and times of each repetition, and their medians."""

    trajectories_per_call: int
    rates: list[float] = field(default_factory=list)  # reactions fired per second
    seconds_per_trajectory: list[float] = field(default_factory=list)
    reactions: int = 0
    trajectories: int = 0

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)

    @property
    def per_trajectory(self) -> float:
        return statistics.median(self.seconds_per_trajectory)

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "median_rate": self.rate,
            "median_seconds_per_trajectory": self.per_trajectory,
            "mean_reactions_per_trajectory": self.reactions / self.trajectories,
        }


def repetition(batch: Batch, n: int, runs: int, seed: int) -> tuple[int, float, int]:
    """Calls of ``runs`` trajectories until half the expected reactions fired: (reactions, s, runs)."""
    fired, elapsed, done = 0, 0.0, 0
    while fired < 0.5 * runs * expected_reactions(n):
        start = time.perf_counter()
        finals = batch(runs, seed + done)
        elapsed += time.perf_counter() - start
        fired += count_reactions(finals, n)
        done += runs
    return fired, elapsed, done


def measure(
    batches: dict[str, Batch], n: int, target: float, reps: int, seed: int, warm_up: bool = True
) -> dict[str, Timing]:
    """``reps`` rounds of about ``target`` reactions per solver, after an untimed warm-up call.

    Each round times every solver once, in turn, so that a change in the machine's load hits
    them all alike rather than skewing their ratios.
    """
    runs = max(1, math.ceil(target / expected_reactions(n)))
    if warm_up:
        for batch in batches.values():
            batch(runs, seed)
    timings = {name: Timing(trajectories_per_call=runs) for name in batches}
    for rep in range(reps):
        for name, batch in batches.items():
            fired, elapsed, done = repetition(batch, n, runs, seed + 1000 * (rep + 1))
            timing = timings[name]
            timing.rates.append(fired / elapsed)
            timing.seconds_per_trajectory.append(elapsed / done)
            timing.reactions += fired
            timing.trajectories += done
    return timings


_COLD_COMPILE = """
import json, sys, time
from hyosan import models
model, out = models.get("alemi"), {}
for method in ("ssa", "tau"):
    start = time.perf_counter()
    model.simulate(method, runs=1, seed=0, params={"N": 1000, "Z0": 10}, t_end=1e9, n_points=2)
    out[method] = time.perf_counter() - start
json.dump(out, sys.stdout)
"""


def numba_cold_compile() -> dict[str, float]:
    """First call of each kernel in a fresh process with an empty numba cache: the compile time."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "HYOSAN_CACHE_DIR": cache}
        done = subprocess.run(
            [sys.executable, "-c", _COLD_COMPILE], env=env, capture_output=True, text=True, check=True
        )
    return json.loads(done.stdout)


def numba_first_call() -> dict[str, float]:
    """First call of each kernel in this process (numba's on-disk cache loaded, or compiled)."""
    out = {}
    for method in ("ssa", "tau"):
        start = time.perf_counter()
        hyosan_batch(method, 1000)(1, 0)
        out[method] = time.perf_counter() - start
    return out


# -- report ---------------------------------------------------------------------------------------
def machine() -> dict[str, str]:
    """The machine as the other benchmarks report it, plus GillesPy2's versions and the compiler."""
    extra = {}
    try:
        import gillespy2
        import SCons

        extra["gillespy2"] = gillespy2.__version__
        extra["scons"] = SCons.__version__
    except ImportError:
        pass
    gxx = shutil.which("g++")
    if gxx:
        version = subprocess.run([gxx, "--version"], capture_output=True, text=True).stdout
        extra["g++"] = version.split("\n")[0]
    return common_machine(**extra)


def si(value: float, unit: str = "") -> str:
    """``value`` with an SI prefix: 39.7 M, 4.2 ms."""
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}".rstrip()
    return f"{value:.3g} {unit}".rstrip()


def population(n: int) -> str:
    """1e4 rather than 10000 for powers of ten."""
    exponent = round(math.log10(n))
    return f"1e{exponent}" if 10**exponent == n else str(n)


#: The table's columns: heading, and the cell from one row's timings (None: no figure).
COLUMNS: tuple[tuple[str, Callable[[dict], str | None]], ...] = (
    ("N", lambda row: population(row["n"])),
    ("hyosan SSA reactions/s", lambda row: si(row["hyosan_ssa"].rate)),
    ("NumPySSASolver reactions/s", lambda row: si(row["numpy_ssa"].rate) if "numpy_ssa" in row else None),
    ("SSACSolver reactions/s", lambda row: si(row["c_ssa"].rate) if "c_ssa" in row else None),
    ("hyosan / NumPySSASolver", lambda row: _ratio(row, "numpy_ssa")),
    ("hyosan / SSACSolver", lambda row: _ratio(row, "c_ssa")),
    ("hyosan SSA per trajectory", lambda row: si(row["hyosan_ssa"].per_trajectory, "s")),
    ("hyosan tau-leap per trajectory", lambda row: si(row["hyosan_tau"].per_trajectory, "s")),
    ("SSACSolver -O2 reactions/s", lambda row: si(row["c_ssa_o2"].rate) if "c_ssa_o2" in row else None),
    ("hyosan / SSACSolver -O2", lambda row: _ratio(row, "c_ssa_o2")),
)


def _ratio(row: dict, other: str) -> str | None:
    return f"{row['hyosan_ssa'].rate / row[other].rate:.1f}x" if other in row else None


def table(rows: list[dict]) -> str:
    """The figures as a Markdown table (plain text reads fine too); columns nobody filled are left out."""
    cells = [[cell(row) for _, cell in COLUMNS] for row in rows]
    keep = [j for j in range(len(COLUMNS)) if any(line[j] is not None for line in cells)]
    lines = ["| " + " | ".join(COLUMNS[j][0] for j in keep) + " |", "|" + "---|" * len(keep)]
    lines += ["| " + " | ".join(line[j] or "-" for j in keep) + " |" for line in cells]
    return "\n".join(lines)


def seconds(times: dict[str, float]) -> str:
    return ", ".join(f"{key} {value:.2f} s" for key, value in times.items())


# -- main -----------------------------------------------------------------------------------------
def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=SIZES, help="populations N")
    parser.add_argument("--reps", type=int, default=5, help="repetitions for hyosan and SSACSolver")
    parser.add_argument("--numpy-reps", type=int, default=3, help="repetitions for NumPySSASolver")
    parser.add_argument("--target", type=float, default=4e6, help="reactions per repetition")
    parser.add_argument("--numpy-target", type=float, default=2e5, help="same, for NumPySSASolver")
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument("--no-gillespy2", action="store_true", help="time hyosan only")
    parser.add_argument("--no-numpy", action="store_true", help="skip NumPySSASolver (the slow one)")
    parser.add_argument("--no-o2", action="store_true", help="skip SSACSolver rebuilt with -O2")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    # GillesPy2 builds its C solver with the first `scons` on PATH: make it this virtualenv's.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    report: dict = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "model": {"name": "alemi", "alpha": ALPHA, "beta": BETA, "Z0": Z0, "t_end": T_END},
        "ssacsolver_build_s": {},
        "ssacsolver_o2_rebuild_s": {},
        "notes": [],
    }
    print("machine:", ", ".join(f"{k} {v}" for k, v in report["machine"].items()), flush=True)
    # Other work on the machine skews every figure: the 1-minute load average is kept with them.
    report["load_average_start"] = os.getloadavg()[0]
    if report["load_average_start"] > 0.5:
        print(f"warning: the machine is busy (load {report['load_average_start']:.2f}): figures will be low")
    report["numba_cold_compile_s"] = numba_cold_compile()
    report["numba_first_call_s"] = numba_first_call()
    print("numba compile, empty cache, fresh process:", seconds(report["numba_cold_compile_s"]))
    print("numba first call in this process (cache):", seconds(report["numba_first_call_s"]), flush=True)

    gillespy2 = None
    if not args.no_gillespy2:
        try:
            import gillespy2
        except ImportError as error:
            report["notes"].append(f"GillesPy2 not timed: {error}")
    rows = []
    for size in args.sizes:
        n = round(size)
        seed = args.seed + n
        batches = {"hyosan_ssa": hyosan_batch("ssa", n), "hyosan_tau": hyosan_batch("tau", n)}
        if gillespy2 is not None:
            batches.update(c_solvers(gillespy2, n, args.no_o2, report))
        row: dict = {"n": n, **measure(batches, n, args.target, args.reps, seed)}
        if gillespy2 is not None and not args.no_numpy:
            # Pure Python: nothing to warm up, and a warm-up run at N = 1e6 would take a while.
            batch = gillespy2_batch(gillespy2.NumPySSASolver(model=gillespy2_model(n)))
            row |= measure({"numpy_ssa": batch}, n, args.numpy_target, args.numpy_reps, seed, warm_up=False)
        rows.append(row)
        print(f"N={population(n)} done", flush=True)

    for key, what in (
        ("ssacsolver_build_s", "SSACSolver build per model (C++ compile, GillesPy2's flags)"),
        ("ssacsolver_o2_rebuild_s", "SSACSolver rebuilt with -O2"),
    ):
        if report[key]:
            print(f"{what}:", seconds({population(int(k)): v for k, v in report[key].items()}))
    for note in report["notes"]:
        print("note:", note)
    report["load_average_end"] = os.getloadavg()[0]
    start, end = report["load_average_start"], report["load_average_end"]
    print(f"load average (1 min): {start:.2f} at start, {end:.2f} at end")
    print()
    print(table(rows))
    if args.json:
        report["results"] = []
        for row in rows:
            result = {
                key: value.as_dict() if isinstance(value, Timing) else value for key, value in row.items()
            }
            for other in ("numpy_ssa", "c_ssa", "c_ssa_o2"):
                if other in row:
                    result[f"ratio_{other}"] = row["hyosan_ssa"].rate / row[other].rate
            report["results"].append(result)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
