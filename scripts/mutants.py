#!/usr/bin/env python3
# ruff: noqa: E501  (the table of mutants quotes source lines whole)
"""Mutation testing for hyosan: plant plausible bugs one at a time and see whether the tests fail.

Each mutant replaces one exact piece of source (it must occur exactly once) in a temporary copy
of the tree (the files git knows, committed or not), then runs the tests chosen for it there, with
PYTHONPATH pointing at the copy and ``HYOSAN_CACHE_DIR`` at a temporary folder. A mutant is
*caught* when its tests fail, *survived* when they pass, *timeout* when they run past the limit.

The kernel cache: hyosan/jit.py keys compiled kernels by a hash of every kernel source, so a
mutant in a kernel gets a folder of its own and compiles afresh; a mutant elsewhere reuses the
kernels compiled for the unmutated tree (within this run's temporary cache, never the user's).
``--fresh-cache`` gives every mutant an empty cache folder instead (slower: every mutant that runs
the engine compiles it, about a minute).

Runs on demand, not in CI (the full list takes about an hour on two cores):

    python3 scripts/mutants.py                   # every mutant
    python3 scripts/mutants.py --only noise-walls,tau-no-rejection
    python3 scripts/mutants.py --list            # the documented list
    python3 scripts/mutants.py --check           # every mutant still applies (fast)

The latest score and the command that made it are in docs/testing.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = "src/hyosan/"


@dataclass(frozen=True)
class Mutant:
    id: str
    area: str  # engine, solvers, analysis, io, report, ensembles, lattice
    file: str  # relative to src/hyosan/
    old: str
    new: str
    why: str  # the bug, in words
    tests: tuple[str, ...]  # pytest arguments: files, node ids, -k expressions


def m(id, area, file, old, new, why, *tests):
    return Mutant(id, area, file, old, new, why, tuple(tests))


ROUTING = "tests/test_engine_routing.py"
BEHAVIOUR = "tests/test_engine_behaviour.py"
INVARIANTS = "tests/test_engine_invariants.py"
WORLD = "tests/test_world.py"
STOCH = "tests/test_models_stochastic.py"
ODE = "tests/test_models_ode.py"
RESULTS = "tests/test_results.py"
REPORT = "tests/test_report.py"
REPLAY = "tests/test_replay.py"
FOLDERS = "tests/test_reliability_folders.py"
ENSEMBLE = "tests/test_ensemble.py"
LATTICE = "tests/test_lattice.py"

MUTANTS: list[Mutant] = [
    # ---- the 21 bugs of issue 15 -------------------------------------------------------------
    m(
        "bite-halved",
        "engine",
        "rules/contact.py",
        "total = k + (prm.z_bite if s == ZOMBIE else prm.hb_bite)",
        "total = k + (0.5 * prm.z_bite if s == ZOMBIE else prm.hb_bite)",
        "a zombie's bite lands half as often as configured",
        ROUTING,
    ),
    m(
        "noise-walls",
        "engine",
        "rules/noise.py",
        "    if t == T_WALL:\n        loss += prm.wall_loss\n    elif t == T_DOOR:",
        "    if t == -1:\n        loss += prm.wall_loss\n    elif t == -1:",
        "stamp_noise ignores walls and doors",
        WORLD,
        "-k",
        "sound",
    ),
    m(
        "human-ignores-locked",
        "engine",
        "rules/movement.py",
        "        return not (ds == D_LOCKED or ds == D_BARRICADED)\n    if t == T_EXIT and cordon:",
        "        return True\n    if t == T_EXIT and cordon:",
        "humans route through locked and barricaded doors",
        ROUTING,
        INVARIANTS,
        "-k",
        "locked or every_tick",
    ),
    m(
        "tau-no-rejection",
        "solvers",
        "compartmental/tau.py",
        "                if trial[s] < 0:\n                    negative = True",
        "                if trial[s] < -(1 << 62):\n                    negative = True",
        "tau-leaping no longer rejects leaps that make a count negative",
        STOCH,
        "-k",
        "negative or controls",
    ),
    m(
        "strike-half",
        "solvers",
        "compartmental/ssa.py",
        "removed = n if fraction >= 1.0 else gen.binomial(n, fraction)",
        "removed = n if fraction >= 1.0 else gen.binomial(n, fraction / 2)",
        "a partial stochastic strike removes half the stated fraction",
        STOCH,
        "-k",
        "strike",
    ),
    m(
        "logrank-same-group",
        "analysis",
        "results/analysis.py",
        "test = stats.logrank(data[0], data[1])",
        "test = stats.logrank(data[1], data[1])",
        "log-rank compares students with students",
        RESULTS,
        "-k",
        "logrank",
    ),
    m(
        "logrank-no-censoring",
        "analysis",
        "results/analysis.py",
        'stats.CensoredData(uncensored=sel["time_s"][obs].to_numpy(), right=sel["time_s"][~obs].to_numpy())',
        'stats.CensoredData(uncensored=sel["time_s"].to_numpy())',
        "log-rank ignores censoring",
        RESULTS,
        "-k",
        "logrank",
    ),
    m(
        "title-unescaped",
        "report",
        "report/page.py",
        'f"<title>{e(title)}</title>',
        'f"<title>{title}</title>',
        "the report's title left unescaped",
        REPORT,
        "-k",
        "markup_leaves or self_contained",
    ),
    m(
        "atomic-dir-in-place",
        "io",
        "io.py",
        '        with writing(target):\n            yield tmp\n        _step("written")',
        "        with writing(target):\n            target.mkdir(exist_ok=True)\n            yield target\n"
        '            shutil.copytree(target, tmp, dirs_exist_ok=True)\n        _step("written")',
        "atomic_dir writes into the target, then copies",
        FOLDERS,
        RESULTS,
        "-k",
        "crash or interrupted or save",
    ),
    m(
        "atomic-path-in-place",
        "io",
        "io.py",
        "            yield tmp_path  # an OSError while the caller writes (a full disk) names the target\n"
        "            os.replace(tmp_path, target)",
        "            yield target",
        "atomic_path writes in place",
        FOLDERS,
        "tests/test_cli_model.py",
        "-k",
        "atomic_path or half_way",
    ),
    m(
        "replay-mirrored",
        "report",
        "report/replay.js",
        "const x = ((k % W) - x0 + 0.5) * scale, y = (Math.floor(k / W) - y0 + 0.5) * scale;",
        "const x = (W - 1 - (k % W) - x0 + 0.5) * scale, y = (Math.floor(k / W) - y0 + 0.5) * scale;",
        "replay dots mirrored in x",
        REPLAY,
        "-k",
        "inside_its or dots_follow",
    ),
    m(
        "bite-zero",
        "engine",
        "assemble.py",
        "z_bite=min(bite_rate(z), 1e6),",
        "z_bite=0.0,",
        "zombies never bite",
        BEHAVIOUR,
        "-k",
        "outbreak",
    ),
    m(
        "count-skips-agent",
        "engine",
        "rules/tick.py",
        "    for i in range(state.shape[0]):\n        row[state[i], role[i]] += 1",
        "    for i in range(state.shape[0] - 1):\n        row[state[i], role[i]] += 1",
        "the counts skip the last agent",
        INVARIANTS,
        "-k",
        "every_tick and not fast",
    ),
    m(
        "turn-late",
        "engine",
        "rules/contact.py",
        "agents.turn_at[h] = now + agents.incubation[h]",
        "agents.turn_at[h] = now + agents.incubation[h] + 1",
        "the bitten turn one tick late",
        INVARIANTS,
        "-k",
        "every_tick and not fast",
    ),
    m(
        "sight-through-walls",
        "engine",
        "rules/senses.py",
        "    if OPAQUE[t]:\n        return True",
        "    if OPAQUE[t] and t < 0:\n        return True",
        "walls do not block sight",
        WORLD,
        "-k",
        "sight",
    ),
    m(
        "downhill-no-capacity",
        "engine",
        "rules/movement.py",
        "if field[m] < bd and world.occupancy[m] < world.cap[m]:",
        "if field[m] < bd:",
        "downhill ignores tile capacity",
        INVARIANTS,
        "-k",
        "every_tick and not fast",
    ),
    m(
        "ssa-kill-doubled",
        "solvers",
        "compartmental/catalogue.py",
        '"kill", {"S": 1, "Z": 1}, {"Z": -1, "R": +1}, "alpha * beta / N",',
        '"kill", {"S": 1, "Z": 1}, {"Z": -1, "R": +1}, "2 * alpha * beta / N",',
        "Alemi's kill propensity doubled",
        STOCH,
        "-k",
        "ensemble_statistics or approaches",
    ),
    m(
        "km-no-censoring",
        "analysis",
        "results/analysis.py",
        "data = stats.CensoredData(uncensored=time[observed], right=time[~observed])",
        "data = stats.CensoredData(uncensored=time)",
        "Kaplan-Meier ignores censoring",
        RESULTS,
        "-k",
        "kaplan or survival",
    ),
    m(
        "seed-per-worker",
        "ensembles",
        "ensemble/spec.py",
        "state = np.random.SeedSequence([int(root), *(int(w) for w in words)]).generate_state(1, np.uint64)",
        "state = np.random.SeedSequence([int(root), __import__('os').getpid() % 7, *(int(w) for w in words)]).generate_state(1, np.uint64)",
        "a run's seed depends on the worker process",
        ENSEMBLE,
        "-k",
        "seeds or same_sweep",
    ),
    m(
        "cells-unescaped",
        "report",
        "report/page.py",
        """cells.append(f"<td>{e(str(v))}</td>" if number else f'<td class="t">{e(str(v))}</td>')""",
        """cells.append(f"<td>{e(str(v))}</td>" if number else f'<td class="t">{v}</td>')""",
        "table cells unescaped",
        REPORT,
        "-k",
        "self_contained or markup",
    ),
    m(
        "stale-callee",
        "engine",
        "jit.py",
        '        if (\n            rel in CONSTANTS\n            or rel.startswith("rules/")',
        "        if (\n            rel in CONSTANTS",
        "the kernel cache key forgets rules/ (a callee's edit could run stale)",
        "tests/test_kernel_cache.py",
    ),
    # ---- more engine ---------------------------------------------------------------------------
    m(
        "door-loss-open",
        "engine",
        "rules/noise.py",
        "if ds >= D_CLOSED and ds <= D_BARRICADED:\n            loss += prm.door_loss",
        "if ds <= D_BARRICADED:\n            loss += prm.door_loss",
        "an open door muffles sound like a shut one",
        WORLD,
        "-k",
        "sound",
    ),
    m(
        "noise-floor-ignored",
        "engine",
        "rules/noise.py",
        "    if level < prm.noise_floor:",
        "    if level < prm.noise_floor - 10:",
        "quieter sounds than the noise floor are stamped",
        WORLD,
        "-k",
        "sound",
    ),
    m(
        "sight-shut-doors",
        "engine",
        "rules/senses.py",
        "        return ds >= D_CLOSED and ds <= D_BARRICADED\n    return False",
        "        return ds >= D_LOCKED and ds <= D_BARRICADED\n    return False",
        "closed (unlocked) doors do not block sight",
        WORLD,
        "-k",
        "sight",
    ),
    m(
        "strength-ignored",
        "engine",
        "rules/contact.py",
        "            k = traits[h, TR_STRENGTH]\n",
        "            k = 0.0 * traits[h, TR_STRENGTH]\n",
        "humans never fight back",
        BEHAVIOUR,
        "-k",
        "bite_probability_zero",
    ),
    m(
        "door-opens-free",
        "engine",
        "rules/movement.py",
        "            doors.state[world.door_of_cell[m]] = D_OPEN\n            emit(ev, now, EV_DOOR_OPEN, i, world.door_of_cell[m], m)",
        "            emit(ev, now, EV_DOOR_OPEN, i, world.door_of_cell[m], m)",
        "opening a closed door leaves it closed",
        ROUTING,
        INVARIANTS,
        "-k",
        "closed_door or every_tick",
    ),
    m(
        "stairs-free",
        "engine",
        "rules/movement.py",
        "        if tiles[agents.cell[i]] == T_STAIRS:\n            most = max(most, prm.stair_cost)",
        "        if tiles[agents.cell[i]] == T_STAIRS:\n            most = max(most, 2 * prm.stair_cost)",
        "a flight of stairs can be taken with budget to spare (double the cap)",
        INVARIANTS,
        "-k",
        "fast",
    ),
    m(
        "max-steps",
        "engine",
        "rules/movement.py",
        "    while budget[i] >= 1.0:\n",
        "    for _step in range(4):\n        if budget[i] < 1.0:\n            break\n",
        "an agent takes at most four steps a tick, whatever its speed (the cap hyosan had until issue 15's harness found it)",
        BEHAVIOUR,
        "-k",
        "runner_covers",
    ),
    m(
        "halfbie-bitten",
        "engine",
        "rules/infection.py",
        "    if agents.halfbie[i]:",
        "    if not agents.halfbie[i]:",
        "the bitten who should turn halfbie turn zombie and vice versa",
        "tests/test_engine_story.py",
        RESULTS,
        "-k",
        "halfbie or counts_equal",
    ),
    m(
        "cordon-open",
        "engine",
        "rules/movement.py",
        "    if t == T_EXIT and cordon:\n        return False",
        "    if t == T_EXIT and cordon:\n        return True",
        "the cordon lets humans out",
        BEHAVIOUR,
        "-k",
        "cordon",
    ),
    m(
        "occupancy-count",
        "engine",
        "rules/spatial.py",
        "        if on_map(state[i]):\n            occupancy[cell[i]] += 1",
        "        if on_map(state[i]) and state[i] != 1:\n            occupancy[cell[i]] += 1",
        "occupancy forgets the bitten",
        INVARIANTS,
        "-k",
        "every_tick and not fast",
    ),
    # ---- more solvers --------------------------------------------------------------------------
    m(
        "strike-all",
        "solvers",
        "compartmental/ssa.py",
        "removed = n if fraction >= 1.0 else gen.binomial(n, fraction)",
        "removed = n if fraction >= 0.5 else gen.binomial(n, fraction)",
        "a strike of half or more removes every zombie",
        STOCH,
        ODE,
        "-k",
        "strike",
    ),
    m(
        "extinct-fraction",
        "solvers",
        "compartmental/result.py",
        "return (last[:, z] < 0.5) & (last[:, h] >= 0.5)",
        "return last[:, z] < 0.5",
        "zombies_extinct_fraction counts runs where everyone is gone",
        STOCH,
        "tests/test_cli_model.py",
        "-k",
        "extinct or ensemble_statistics",
    ),
    m(
        "ssa-propensity-offset",
        "solvers",
        "compartmental/ssa.py",
        "                value *= x[s] - offsets[j, 1]",
        "                value *= x[s]",
        "mass action forgets to discount the individual already counted (X(X-1) -> X^2)",
        STOCH,
        "-k",
        "two_of_one or negative",
    ),
    m(
        "tau-critical-ignored",
        "solvers",
        "compartmental/tau.py",
        "                    if critical[j]:\n                        cumulative += a[j]",
        "                    if not critical[j]:\n                        cumulative += a[j]",
        "tau-leaping picks its one critical reaction among the non-critical ones",
        STOCH,
        "-k",
        "controls or agrees or leaps or negative or right_critical",
    ),
    # ---- more analysis -------------------------------------------------------------------------
    m(
        "half-infected-off-by-one",
        "analysis",
        "results/summary.py",
        "    need = (n + 1) // 2",
        "    need = n // 2",
        "half infected one bite early",
        RESULTS,
        "-k",
        "milestone",
    ),
    m(
        "survival-censor-end",
        "analysis",
        "results/analysis.py",
        '    died = (fate == "dead") & np.isnan(bitten)',
        "    died = np.isnan(bitten)",
        "everyone unbitten counts as an event (never censored)",
        RESULTS,
        "-k",
        "survival or logrank",
    ),
    # ---- more io -------------------------------------------------------------------------------
    m(
        "no-marker-check",
        "io",
        "io.py",
        "    recover(target)\n    check_out_dir(target, source)",
        "    recover(target)",
        "atomic_dir writes over folders hyosan did not make",
        FOLDERS,
    ),
    # ---- more report ---------------------------------------------------------------------------
    m(
        "json-lt",
        "report",
        "report/replay.py",
        '    ord("<"): "\\\\u003c",',
        '    ord("<"): "<",',
        "the replay's JSON lets '<' through (a name can close the script)",
        REPLAY,
        REPORT,
        "-k",
        "escapes or self_contained or markup",
    ),
    m(
        "heading-unescaped",
        "report",
        "report/page.py",
        """f'<h1>{e(s["title"])}</h1>""",
        """f'<h1>{s["title"]}</h1>""",
        "the report's heading left unescaped",
        REPORT,
        "-k",
        "markup_leaves",
    ),
    m(
        "escape-chart-names",
        "report",
        "report/charts.py",
        "def _esc(text) -> str:\n    return html.escape(str(text))",
        "def _esc(text) -> str:\n    return str(text)",
        "room names unescaped in the transmission table",
        REPORT,
        "-k",
        "self_contained or markup",
    ),
    # ---- more ensembles / lattice ----------------------------------------------------------------
    m(
        "seed-ignores-replicate",
        "ensembles",
        "ensemble/spec.py",
        "                seed=run_seed(self.seed, params, r),",
        "                seed=run_seed(self.seed, params, 0),",
        "every replicate gets the same seed",
        ENSEMBLE,
        "-k",
        "seeds or same_sweep",
    ),
    m(
        "lattice-coupling-off",
        "lattice",
        "lattice/kernels.py",
        "            wz += w * Z[n]\n            wsum += w",
        "            wz += 0.0 * Z[n]\n            wsum += w",
        "a cell never feels its neighbours' zombies",
        "tests/test_lattice_science.py",
    ),
    m(
        "evacuate-all",
        "lattice",
        "lattice/simulate.py",
        "            s = int(run.gen.binomial(run.S[c], e.fraction))",
        "            s = int(run.S[c])",
        "an evacuation takes everyone, whatever its fraction",
        LATTICE,
        "-k",
        "nothing_is or evacuees or takes_its",
    ),
]


def tree_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                         capture_output=True, check=True).stdout  # fmt: skip
    return [p for p in out.decode().split("\0") if p and (ROOT / p).is_file()]


def copy_tree(dest: Path, files: list[str]) -> None:
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)


def apply(mutant: Mutant, root: Path) -> None:
    path = root / PKG / mutant.file
    text = path.read_text(encoding="utf-8")
    count = text.count(mutant.old)
    if count != 1:
        raise SystemExit(f"{mutant.id}: the text to replace occurs {count} times in {mutant.file}")
    path.write_text(text.replace(mutant.old, mutant.new), encoding="utf-8")


def run_tests(root: Path, tests: tuple[str, ...], cache: Path, timeout: float) -> tuple[str, float, str]:
    env = {**os.environ, "PYTHONPATH": f"{root / 'src'}:{root / 'tests'}", "HYOSAN_CACHE_DIR": str(cache),
           "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:warnings",
           "-p", "no:randomly", *tests]  # fmt: skip
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - start, ""
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [""]
    status = {0: "survived", 1: "caught"}.get(proc.returncode, f"error {proc.returncode}")
    return status, time.monotonic() - start, tail[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated mutant ids")
    ap.add_argument("--area", help="only the mutants of this area (engine, solvers, ...)")
    ap.add_argument("--list", action="store_true", help="print the documented list and exit")
    ap.add_argument("--check", action="store_true", help="check every mutant applies, run nothing")
    ap.add_argument("--fresh-cache", action="store_true", help="an empty kernel cache for every mutant")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per mutant (default 900)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument(
        "--baseline",
        action="store_true",
        help="first run every chosen test selection on the unmutated tree (all must pass)",
    )
    args = ap.parse_args(argv)
    ids = [x.id for x in MUTANTS]
    if len(set(ids)) != len(ids):
        raise SystemExit("duplicate mutant ids")
    chosen = MUTANTS
    if args.only:
        wanted = args.only.split(",")
        unknown = set(wanted) - set(ids)
        if unknown:
            raise SystemExit(f"unknown mutants: {', '.join(sorted(unknown))}")
        by_id = {x.id: x for x in MUTANTS}
        chosen = [by_id[i] for i in dict.fromkeys(wanted)]  # in the order given
    if args.area:
        chosen = [x for x in chosen if x.area == args.area]
    if args.list:
        for x in chosen:
            print(f"{x.id:26} {x.area:9} {x.file:28} {x.why}")
        print(f"{len(chosen)} mutants")
        return 0
    files = tree_files()
    with tempfile.TemporaryDirectory(prefix="hyosan-mutants-") as tmp:
        work = Path(tmp)
        pristine = work / "pristine"
        copy_tree(pristine, files)
        if args.check:
            for x in chosen:
                text = (pristine / PKG / x.file).read_text(encoding="utf-8")
                n = text.count(x.old)
                print(f"{x.id:26} {'ok' if n == 1 else f'occurs {n} times'}")
            return 0
        shared_cache = work / "cache"
        if args.baseline:
            for sel in dict.fromkeys(x.tests for x in chosen):
                status, secs, tail = run_tests(pristine, sel, shared_cache, args.timeout)
                print(f"baseline {' '.join(sel)}: {'passes' if status == 'survived' else status} "
                      f"({secs:.0f} s) {tail}", flush=True)  # fmt: skip
                if status != "survived":
                    raise SystemExit("the unmutated tree fails this selection: fix it first")
        results = []
        for k, x in enumerate(chosen, 1):
            root = work / f"m-{x.id}"
            shutil.copytree(pristine, root)
            apply(x, root)
            cache = work / f"cache-{x.id}" if args.fresh_cache else shared_cache
            status, secs, tail = run_tests(root, x.tests, cache, args.timeout)
            shutil.rmtree(root, ignore_errors=True)
            results.append({"id": x.id, "area": x.area, "file": x.file, "why": x.why, "status": status,
                            "seconds": round(secs, 1), "tests": " ".join(x.tests), "tail": tail})  # fmt: skip
            print(f"[{k}/{len(chosen)}] {x.id:26} {status:9} {secs:6.0f} s  {tail}", flush=True)
        caught = sum(r["status"] == "caught" for r in results)
        print(f"\ncaught {caught} of {len(results)} ({100 * caught / max(1, len(results)):.0f} %)")
        for r in results:
            if r["status"] != "caught":
                print(f"  not caught: {r['id']} ({r['status']}): {r['why']}")
        if args.json:
            args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0 if all(r["status"] == "caught" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
