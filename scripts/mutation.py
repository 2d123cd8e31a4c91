#!/usr/bin/env python3
"""Systematic mutation testing of hyosan's pure-Python modules, with mutmut.

``scripts/mutants.py`` plants a hand-written list of bugs (the numba kernels among them); this
script lets a maintained tool, mutmut (3.x), write *every* mutant it can of a module (operators,
numbers, comparisons, strings, arguments, return values...) and runs, for each, the tests that
cover the mutated function (mutmut records which test reaches which function, then forks one
process per mutant from the warmed-up test process, so a module's whole run takes minutes).

Each module is mutated alone in a temporary copy of the tree (the files git knows, committed or
not), with its own list of test files (the fast, exact ones that are meant to catch its bugs). The
modules mutated here hold no kernel, so the user's kernel cache is shared (``--fresh-cache``: a
temporary one). A mutant is *killed* when a test fails, *survived* when they all
pass; mutants that no test reaches count as survived. Mutants shown equivalent (no input can tell
them from the original) are listed in :data:`EQUIVALENT` with the reason, and left out of the
score; docs/testing.md has the latest scores and the command.

    python3 scripts/mutation.py                         # every module in MODULES
    python3 scripts/mutation.py --only units.py,limits.py --json out.json
    python3 scripts/mutation.py --list                  # modules and their tests
    python3 scripts/mutation.py --only units.py --show  # the diff of each survivor

Runs on demand, not in CI (it needs ``pip install mutmut``, in the ``mutation`` extra).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = "src/hyosan/"

#: module (relative to src/hyosan/) -> the test files run against its mutants
MODULES: dict[str, tuple[str, ...]] = {
    "units.py": ("tests/test_units_exact.py",),
    "scenario/rates.py": ("tests/test_units_exact.py",),
    "outbreak.py": ("tests/test_units_exact.py",),
    "limits.py": ("tests/test_limits.py",),
    "lattice/params.py": ("tests/test_lattice_params.py",),
    "lattice/events.py": (
        "tests/test_lattice_events_exact.py",
        "tests/test_lattice_shelter.py",
        "tests/test_lattice_hostile.py",
    ),
    "lattice/grid.py": ("tests/test_lattice_hostile.py", "tests/test_lattice.py"),
    "lattice/simulate.py": (
        "tests/test_lattice_events_exact.py",
        "tests/test_lattice_walks_exact.py",
        "tests/test_lattice.py",
        "tests/test_lattice_shelter.py",
    ),
    "io.py": ("tests/test_reliability_folders.py",),
    "verify.py": ("tests/test_reliability_folders.py", "tests/test_security_checkpoints.py"),
    "checkpoint.py": ("tests/test_security_checkpoints.py",),
    "calibrate/config.py": ("tests/test_calibrate_config.py",),
    "calibrate/targets.py": ("tests/test_calibrate_config.py",),
}

#: mutmut's mutant name -> why no input can tell it from the original (left out of the score)
EQUIVALENT: dict[str, str] = {
    "hyosan.units.x_mean_incubation_s__mutmut_45": "exponential, hi = inf: exp(-inf / m) is 0.0 "
    "for every m > 0, the value the guard gives",
    "hyosan.scenario.rates.x_kill_rate__mutmut_11": "the roles' plain mean with no role: a validated "
    "scenario has at least one role (schema: roles min 1 item), so `strengths` is never empty",
    "hyosan.scenario.rates.x_kill_rate__mutmut_14": "the same unreachable branch (no role at all) "
    "returning 1.0 instead of 0.0",
    "hyosan.units.x_mean_incubation_s__mutmut_73": "lognormal, hi = inf: log(inf / m) / sigma is inf "
    "for every m, sigma > 0, the value the guard gives",
}

STATUS = re.compile(r"^\s*(hyosan\.[\w.]+__mutmut_\d+):\s*(.+?)\s*$")


def tree_files() -> list[str]:
    """The files git knows (tracked, and untracked ones not ignored)."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    return [f for f in out.decode().split("\0") if f and (ROOT / f).is_file()]


def copy_tree(dest: Path) -> None:
    for rel in tree_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)


def configure(dest: Path, module: str, tests: tuple[str, ...]) -> None:
    """mutmut's settings for one module, appended to the copy's pyproject.toml."""
    lines = [
        "",
        "[tool.mutmut]",
        'source_paths = ["src/hyosan"]',
        'also_copy = ["docs"]',  # (tests that read the docs: mutmut copies only sources and tests)
        f'only_mutate = ["{PKG}{module}"]',
        "pytest_add_cli_args_test_selection = [" + ", ".join(f'"{t}"' for t in tests) + "]",
        'pytest_add_cli_args = ["-p", "no:xdist", "-p", "no:randomly", "-p", "no:cacheprovider", "-q"]',
        "",
    ]
    with open(dest / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write("\n".join(lines))


def results(dest: Path, env: dict) -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=dest,
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    found = {}
    for line in out.splitlines():
        m = STATUS.match(line)
        if m:
            found[m.group(1)] = m.group(2)
    return found


def show(dest: Path, env: dict, name: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "mutmut", "show", name], cwd=dest, env=env, capture_output=True, text=True
    ).stdout


def run_module(
    module: str, tests: tuple[str, ...], jobs: int, timeout: float, want_diffs: bool, fresh_cache: bool
) -> dict:
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="hyosan-mutmut-") as tmp:
        dest = Path(tmp) / "tree"
        copy_tree(dest)
        configure(dest, module, tests)
        env = {**os.environ, "PYTHONPATH": str(dest / "src")}
        if fresh_cache:
            env["HYOSAN_CACHE_DIR"] = str(Path(tmp) / "kernels")
        env.pop("PYTEST_ADDOPTS", None)
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs)],
                cwd=dest,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            log_tail = (proc.stdout + proc.stderr)[-2000:]
        except subprocess.TimeoutExpired:
            log_tail = "timed out"
        status = results(dest, env)
        counted = {k: v for k, v in status.items() if k not in EQUIVALENT}
        killed = sorted(k for k, v in counted.items() if v == "killed")
        survived = sorted(k for k, v in counted.items() if v in ("survived", "no tests"))
        other = sorted(k for k, v in counted.items() if k not in killed and k not in survived)
        diffs = {k: show(dest, env, k) for k in survived} if want_diffs else {}
    checked = len(killed) + len(survived)
    return {
        "module": module,
        "tests": list(tests),
        "mutants": len(status),
        "equivalent": sorted(k for k in status if k in EQUIVALENT),
        "killed": len(killed),
        "survived": survived,
        "not_checked": other,
        "score": (len(killed) / checked) if checked else None,
        "seconds": round(time.time() - started, 1),
        "diffs": diffs,
        "log_tail": "" if status else log_tail,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated modules (relative to src/hyosan/)")
    ap.add_argument("--list", action="store_true", help="list the modules and their tests")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutants run at once")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds a module may take")
    ap.add_argument("--show", action="store_true", help="print the diff of each survivor")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument(
        "--fresh-cache",
        action="store_true",
        help="compile the kernels afresh (the modules mutated here hold no kernel, so by default the "
        "user's kernel cache is shared)",
    )
    args = ap.parse_args(argv)
    if args.list:
        for module, tests in MODULES.items():
            print(f"{module:24s} {' '.join(tests)}")
        return 0
    chosen = list(MODULES) if not args.only else [m.strip() for m in args.only.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in MODULES]
    if unknown:
        print(f"error: unknown module(s) {', '.join(unknown)}; see --list", file=sys.stderr)
        return 2
    if (
        shutil.which("mutmut") is None
        and subprocess.run([sys.executable, "-c", "import mutmut"], capture_output=True).returncode
    ):
        print('error: mutmut is not installed (pip install "hyosan[mutation]")', file=sys.stderr)
        return 2
    report = []
    for module in chosen:
        r = run_module(module, MODULES[module], args.jobs, args.timeout, args.show, args.fresh_cache)
        report.append(r)
        score = "n/a" if r["score"] is None else f"{100 * r['score']:.1f} %"
        print(
            f"{module:24s} {r['mutants']:4d} mutants, {len(r['equivalent'])} equivalent, "
            f"{r['killed']} killed, {len(r['survived'])} survived, {len(r['not_checked'])} other: "
            f"{score}  ({r['seconds']:.0f} s)",
            flush=True,
        )
        if r["log_tail"]:
            print(r["log_tail"], file=sys.stderr)
        for name in r["survived"]:
            print(f"    survived: {name}")
            if args.show:
                print(r["diffs"].get(name, ""))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
