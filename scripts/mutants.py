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
#: The town's tests, those written for issue 26 first (they compile only the town's two solvers and
#: take seconds), then the older ones; ``-x`` stops at the first failure, and the report names it.
#: The tests that run the school first (``school`` in their names) are left out: a mutant in a kernel
#: compiles every kernel its tests run afresh, and the school's take minutes. With cached kernels
#: the selection takes about 40 s.
TOWN = (
    "tests/test_lattice_walks_exact.py",
    "tests/test_lattice_events_exact.py",
    "tests/test_lattice_units.py",
    "tests/test_lattice_science.py",
    "tests/test_lattice.py",
    "tests/test_lattice_shelter.py",
    "-k",
    "not school",
)
#: The same files for a mutant of one solver: only the tests that run it (a test of the other solver
#: would compile it for nothing).
TOWN_EXACT = (*TOWN[:-2], "-k", "not school and not tau")
TOWN_TAU = (*TOWN[:-2], "-k", "(tau or nothing_is_created) and not school")
#: The units' exact tests (the school's projection among them) and the town's use of them.
UNITS = ("tests/test_units_exact.py", "tests/test_lattice_units.py", "tests/test_lattice_params.py")

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
        "lattice/events.py",
        "            s = int(town.gen.binomial(town.S[c], self.fraction))",
        "            s = int(town.S[c])",
        "an evacuation takes everyone, whatever its fraction",
        LATTICE,
        "-k",
        "nothing_is or evacuees or takes_its",
    ),
    # ---- issue 26: the town's solvers and the units, written from docs/town.md and docs/units.md --
    # Each "why" quotes (or paraphrases) the statement of the docs the bug breaks; the tests are the
    # town's (or the units') own files, whole, fastest first.
    *(
        m(id_, area, file, old, new, why, *tests)
        for id_, area, file, old, new, why, tests in (
            (
                "town-west-edge-own-weight",
                "lattice",
                "lattice/kernels.py",
                "        w = w_east[c - 1]\n        n = c - 1",
                "        w = w_east[c]\n        n = c - 1",
                "town.md: every edge between two cells has its weight (0 across the river, a closed "
                "cordon...); the bug reads a cell's west edge with its east edge's weight",
                TOWN,
            ),
            (
                "town-walk-ignores-weight",
                "lattice",
                "lattice/kernels.py",
                "            wz += w * Z[n]\n            wsum += w",
                "            wz += w * Z[n]\n            wsum += 1.0",
                "town.md: walking is move_s w S and move_z w Z; the bug walks a road (weight 3) or a "
                "leaky cordon at the rate of open ground",
                TOWN,
            ),
            (
                "exact-wait-ignores-total",
                "lattice",
                "lattice/exact.py",
                "        t += ebuf[ei] / total\n",
                "        t += ebuf[ei]\n",
                "town.md: the exact solver fires every reaction with exponential waiting times (at the "
                "total propensity); the bug waits a mean of one day whatever the rates",
                TOWN_EXACT,
            ),
            (
                "exact-kill-as-often-as-bite",
                "lattice",
                "lattice/exact.py",
                "        kill_in = bite + s * k.kill * z\n",
                "        kill_in = bite + s * k.bite * z\n",
                "town.md: kill Z -> R at alpha beta S Z; the bug kills at beta S Z (alpha forgotten)",
                TOWN_EXACT,
            ),
            (
                "exact-turn-reads-people",
                "lattice",
                "lattice/exact.py",
                "        turn = kill_in + k.turn * e\n",
                "        turn = kill_in + k.turn * s\n",
                "town.md: turn E -> Z at eta E; the bug turns at eta S",
                TOWN_EXACT,
            ),
            (
                "exact-kill-loses-the-zombie",
                "lattice",
                "lattice/exact.py",
                "            R[cu] += b1 - b2\n",
                "            R[cu] += 0 * (b1 - b2)\n",
                "town.md: kill Z -> R and nothing is created or lost; the bug destroys the zombie "
                "without counting it removed",
                TOWN_EXACT,
            ),
            (
                "exact-bite-across-without-mu",
                "lattice",
                "lattice/exact.py",
                "            bite_x = turn + s * k.bite_across * wzc\n",
                "            bite_x = turn + s * k.bite * wzc\n",
                "town.md: bite across at mu beta w S_here Z_there; the bug forgets mu",
                TOWN_EXACT,
            ),
            (
                "exact-kill-across-lands-here",
                "lattice",
                "lattice/exact.py",
                "                c1 = _edge(c, width, w_east, w_south, Z, True, u)\n",
                "                c1 = c\n",
                "town.md: kill across Z (there) -> R (there); the bug removes a zombie of the "
                "people's own cell",
                TOWN_EXACT,
            ),
            (
                "exact-member-always-accepted",
                "lattice",
                "lattice/exact.py",
                "            if r < ma[first + i]:\n                break",
                "            if r < ma[first + i] or first >= 0:\n                break",
                "town.md: a cell of the group uniformly, accepted with probability a / ceiling; the "
                "bug accepts every cell it draws (cells of one group drawn alike whatever their rates)",
                TOWN_EXACT,
            ),
            (
                "exact-groups-alike",
                "lattice",
                "lattice/exact.py",
                "                gcap[gg] = max(gsum[gg], 0.0) * GCAP_SLACK",
                "                gcap[gg] = 1e-300 + 0.0 * gsum[gg]",
                "town.md: a group in proportion to its sum; the bug draws every busy group alike",
                TOWN_EXACT,
            ),
            (
                "exact-zombie-bound-too-low",
                "lattice",
                "lattice/exact.py",
                "    return z + (z >> 2) + 1 if z > 0 else 0",
                "    return (z >> 1) + 1 if z > 0 else 0",
                "town.md: each cell bounds its own zombies (a quarter more plus one); the bug's bound "
                "is half of them, below the true count",
                TOWN_EXACT,
            ),
            (
                "exact-bound-never-reset",
                "lattice",
                "lattice/exact.py",
                "            if zc > b or b > 2 * zc + 1:  # false while the zombies did not change",
                "            if zc > b + 1000000000 or b > 2 * zc + 1000000001:  # never",
                "town.md: a cell's zombie bound is reset when its zombies pass it or fall below about "
                "half; the bug never resets it after a reaction inside the cell",
                TOWN_EXACT,
            ),
            (
                "exact-thinning-fires",
                "lattice",
                "lattice/exact.py",
                "            if r >= true:\n                continue",
                "            if r >= true and z < 0:\n                continue",
                "town.md: a drawn cell is accepted with probability true / bound, else nothing happens "
                "(thinning); the bug fires the last reaction (a zombie walks) instead of nothing",
                TOWN_EXACT,
            ),
            (
                "exact-no-arrival-on-bite-across",
                "lattice",
                "lattice/exact.py",
                "                E[c] += 1\n                if arrival[c] > t:\n                    arrival[c] = t\n",
                "                E[c] += 1\n",
                "town.md: cells.nc holds the first arrival per cell; the bug never marks a cell "
                "reached by a bite from its neighbours' zombies",
                TOWN_EXACT,
            ),
            (
                "exact-people-walk-to-zombies",
                "lattice",
                "lattice/exact.py",
                "                c2 = _edge(c, width, w_east, w_south, Z, False, u)\n"
                "                if c2 < 0:\n                    continue\n                S[c] -= 1",
                "                c2 = _edge(c, width, w_east, w_south, Z, True, u)\n"
                "                if c2 < 0:\n                    continue\n                S[c] -= 1",
                "town.md: people walk to a neighbour in proportion to the edge weight; the bug walks "
                "them towards the neighbours' zombies (and not at all where there are none)",
                TOWN_EXACT,
            ),
            (
                "exact-no-arrival-on-zombie-walk",
                "lattice",
                "lattice/exact.py",
                "                if arrival[c2] > t:\n                    arrival[c2] = t\n"
                "                n_walk_z += 1",
                "                n_walk_z += 1",
                "town.md / run_exact: a cell is reached by a bite or a zombie walking in; the bug "
                "forgets the zombie walking in",
                TOWN_EXACT,
            ),
            (
                "exact-never-walk-west",
                "lattice",
                "lattice/exact.py",
                "    x1 = w_east[n1] if n1 >= 0 else 0.0",
                "    x1 = 0.0",
                "town.md: walking goes to any neighbour by the edge's weight; the bug never walks west",
                TOWN_EXACT,
            ),
            (
                "tau-bite-across-ignored",
                "lattice",
                "lattice/tau.py",
                "_p(k.bite * z + k.bite_across * wz, h)",
                "_p(k.bite * z, h)",
                "town.md: bite across at mu beta w S_here Z_there; the bug's leaps never bite across "
                "an edge (the outbreak crosses only by walking)",
                TOWN_TAU,
            ),
            (
                "tau-kill-reads-bite",
                "lattice",
                "lattice/tau.py",
                "kills[c] += gen.binomial(z, _p(k.kill * s, h))",
                "kills[c] += gen.binomial(z, _p(k.bite * s, h))",
                "town.md: kill at alpha beta S Z; the bug's leaps kill at beta S Z",
                TOWN_TAU,
            ),
            (
                "tau-turn-full-leap",
                "lattice",
                "lattice/tau.py",
                "turned = gen.binomial(E[c], _p(k.turn, h))",
                "turned = gen.binomial(E[c], _p(k.turn, tau))",
                "town.md: leaps of a fixed step (0.05 day), cut short at records and events; the bug "
                "turns the bitten of a cut leap with a whole leap's chance",
                TOWN_TAU,
            ),
            (
                "tau-double-kill",
                "lattice",
                "lattice/tau.py",
                "            killed = min(kills[c], Z[c])",
                "            killed = kills[c]",
                "town.md: a zombie killed from two cells in one leap is killed once; the bug kills it twice",
                TOWN_TAU,
            ),
            (
                "tau-kill-across-lands-here",
                "lattice",
                "lattice/tau.py",
                "                        kills[nb] += gen.binomial(Z[nb], _p(k.kill_across * w * s, h))",
                "                        kills[c] += gen.binomial(Z[nb], _p(k.kill_across * w * s, h))",
                "town.md: kill across Z (there) -> R (there); the bug's leaps count the kill against "
                "the people's own cell",
                TOWN_TAU,
            ),
            (
                "tau-walkers-just-bitten",
                "lattice",
                "lattice/tau.py",
                "walkers = gen.binomial(s - bitten, _p(k.hop_s * wsum, h))",
                "walkers = gen.binomial(s, _p(k.hop_s * wsum, h))",
                "town.md: binomial draws, nobody moved who is not there; the bug lets the people "
                "bitten in this leap walk away too",
                TOWN_TAU,
            ),
            (
                "tau-split-evenly",
                "lattice",
                "lattice/tau.py",
                "        m = left if w >= total else gen.binomial(left, w / total)",
                "        m = left if w >= total else gen.binomial(left, 0.5)",
                "town.md: walking to a neighbour at move w: walkers split by the edges' weights; the "
                "bug splits them evenly",
                TOWN_TAU,
            ),
            (
                "tau-walking-only-near-outbreak",
                "lattice",
                "lattice/tau.py",
                "    dense = k.hop_s > 0.0",
                "    dense = False",
                "town.md: tau visits only cells with bitten or zombies and their neighbours; with "
                "walking, every cell every leap; the bug never visits the others",
                TOWN_TAU,
            ),
            (
                "tau-no-arrival-on-bite",
                "lattice",
                "lattice/tau.py",
                "            if (d_e[c] > 0 or d_z[c] > 0) and arrival[c] > t:",
                "            if d_z[c] > 0 and arrival[c] > t:",
                "town.md: the first arrival per cell; the bug's leaps mark a cell reached only when "
                "zombies walk or turn there, not when its people are bitten",
                TOWN_TAU,
            ),
            (
                "units-chance-is-rate",
                "units",
                "units.py",
                "    return -math.log1p(-p)",
                "    return p",
                "units.md: a chance per second p is the rate r = -ln(1 - p); the bug reads bite_prob "
                "as a rate",
                UNITS,
            ),
            (
                "units-chance-ignores-tick",
                "units",
                "units.py",
                "    return -math.expm1(-rate * dt)",
                "    return -math.expm1(-rate)",
                "units.md: the chance per tick is 1 - exp(-rate dt); the bug is right only at 1 s ticks",
                UNITS,
            ),
            (
                "units-kappa-times-bite",
                "units",
                "units.py",
                "    return contact_rate * bite_rate, contact_rate * kill_rate",
                "    return contact_rate * bite_rate, contact_rate * bite_rate * kill_rate",
                "units.md: kappa = c k = alpha beta; the bug multiplies by the bite rate too",
                UNITS,
            ),
            (
                "units-eta-per-hour",
                "units",
                "units.py",
                "    eta = DAY_S / incubation_s if",
                "    eta = 3600.0 / incubation_s if",
                "town.md: eta = 86400 / incubation_s, per day; the bug gives it per hour",
                UNITS,
            ),
            (
                "units-lognormal-median-as-mean",
                "units",
                "units.py",
                "    middle = m * math.exp(0.5 * sigma * sigma) * (phi(zb - sigma) - phi(za - sigma))",
                "    middle = m * (phi(zb) - phi(za))",
                "units.md: eta is one over the mean incubation as the school draws it (lognormal, "
                "clipped); the bug takes the median for the mean",
                UNITS,
            ),
            (
                "units-alpha-inverted",
                "units",
                "units.py",
                "    return kill_rate / bite_rate if bite_rate > 0 else math.inf",
                "    return bite_rate / kill_rate if kill_rate > 0 else math.inf",
                "units.md: alpha = k / b (kills per bite); the bug gives bites per kill",
                UNITS,
            ),
            (
                "units-contact-per-hour",
                "units",
                "units.py",
                "alemi_rates(kill_rate, bite_rate, contact_s_per_day / DAY_S)",
                "alemi_rates(kill_rate, bite_rate, contact_s_per_day / 3600.0)",
                "town.md: beta = contact_s x bite_rate (contact_s: seconds a day); the bug reads the "
                "contact as seconds an hour (24 times the bites)",
                UNITS,
            ),
            (
                "units-halfbie-strike-per-second",
                "units",
                "assemble.py",
                "hb_strength=chance_of_rate(float(hb.strength), float(sc.tick_seconds)),",
                "hb_strength=chance_of_rate(float(hb.strength)),",
                "units.md: a friendly halfbie's strike becomes its chance per tick 1 - exp(-rate dt); "
                "the bug uses the chance per second at every tick",
                UNITS,
            ),
        )
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
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    tail = lines[-1:] or [""]
    failed = [x.split(" - ")[0][len("FAILED ") :] for x in lines if x.startswith("FAILED ")]
    status = {0: "survived", 1: "caught"}.get(proc.returncode, f"error {proc.returncode}")
    return status, time.monotonic() - start, (f"{failed[0]}: " if failed else "") + tail[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated mutant ids")
    ap.add_argument("--area", help="only the mutants of this area (engine, solvers, ...)")
    ap.add_argument("--list", action="store_true", help="print the documented list and exit")
    ap.add_argument("--check", action="store_true", help="check every mutant applies, run nothing")
    ap.add_argument("--fresh-cache", action="store_true", help="an empty kernel cache for every mutant")
    ap.add_argument(
        "--kernel-cache",
        type=Path,
        help="compile kernels into and reuse them from this folder (for instance the user's, "
        "~/.cache/hyosan) instead of a temporary one: a mutant outside the kernels then compiles "
        "nothing; a mutated kernel still gets a folder of its own (the key is its source's hash)",
    )
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
        shared_cache = args.kernel_cache or work / "cache"
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
