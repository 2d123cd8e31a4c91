"""Wall time per tick: hyosan's school engine side by side with the same rules in Mesa 3.

The model: an open 200 x 200 floor (one cell holds one agent), 10,000 humans and 10 zombies
placed at random, 100 ticks of 1 s. Each tick:

1. the bitten whose incubation is over (5 ticks after the bite) turn into zombies;
2. every agent moves, in random order: a human picks one of its 8 neighbouring cells at random and
   steps there if it is free; a zombie keeps a heading (one of 8; a new random one with
   probability 0.1, or when the cell ahead is off the floor or taken, up to three tries);
3. every zombie, in random order, looks for an uninfected human in its 8 neighbouring cells and
   bites one with probability 0.5 (humans never fight back: strength 0).

hyosan runs it as a scenario built in memory (``behaviour.humans = "wander"``,
``behaviour.zombies = "wander"``, ``world.max_per_tile = 1``, fixed incubation, no halfbies; see
school_common.open_floor_raw) on a World from a generated ASCII map. Mesa runs it as an idiomatic
Mesa 3 model: ``CellAgent`` subclasses on an ``OrthogonalMooreGrid`` of capacity 1,
``shuffle_do`` for the phases.

hyosan is timed twice: as configured and "deaf" (hearing thresholds at 140 dB). Under these
behaviours nobody listens, so the engine stamps no scream on its noise map either way, and the
two give the same epidemic, draw for draw (the script checks it).

numba compilation is not in the timings: a short warm-up run comes first (it compiles the kernels,
or loads them from numba's on-disk cache) and its time is reported apart. Each engine repeats the
run with seeds seed, seed+1, ...; the median is reported. Mesa is slow: fewer repetitions. The
engines take turns, seed by seed (hyosan, hyosan deaf, Mesa), and the ratio of each round's two
runs is reported too: the machine this was written on is shared, and its speed drifts.

Run it in the benchmark's virtualenv, which holds Mesa (Python 3.12) and hyosan (see
benchmarks/README.md)::

    benchmarks/.venv-mesa/bin/python benchmarks/school_vs_mesa.py --json out.json
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from hyosan.engine import Simulation
from school_common import (
    Clock,
    counts,
    kernel_cache_stats,
    load,
    median,
    new_report,
    open_floor,
    open_floor_world_ascii,
    run_row,
    table,
    write_json,
)

GOAL_RATIO = 150.0


# -- hyosan ------------------------------------------------------------------------------------
def run_hyosan(args: argparse.Namespace, world, seed: int, deaf: bool) -> dict:
    loaded = open_floor(args.humans, args.zombies, args.ticks, deaf=deaf)
    with Clock() as build:
        sim = Simulation(loaded, seed=seed, world=world)
    with Clock() as run:
        sim.run_until(sim.n_ticks)
    return run_row(seed, build, run, args.ticks, counts(sim.pop.state))


def warm_up(args: argparse.Namespace, world) -> dict:
    """A short run first: compiles the kernels or loads them from numba's cache."""
    with Clock() as clock:
        loaded = open_floor(args.humans, args.zombies, 5)
        Simulation(loaded, seed=0, world=world).run_until(5)
    return {"wall_s": clock.wall, **kernel_cache_stats()}


# -- Mesa --------------------------------------------------------------------------------------
def mesa_model(mesa, discrete_space):
    """The Mesa 3 model's classes (built here so that the script imports without Mesa)."""
    CellAgent, OrthogonalMooreGrid = discrete_space.CellAgent, discrete_space.OrthogonalMooreGrid
    # Headings (row, column offsets) clockwise from north, as the engine's wander rule keeps them.
    headings = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))

    class Human(CellAgent):
        def __init__(self, model, cell):
            super().__init__(model)
            self.cell = cell
            self.turns_at = None  # the step at which a bitten human turns

        def step(self):
            target = self.cell.neighborhood.select_random_cell()
            if not target.is_full:
                self.cell = target

        def turn(self):
            cell = self.cell
            self.remove()
            Zombie(self.model, cell)

    class Zombie(CellAgent):
        def __init__(self, model, cell):
            super().__init__(model)
            self.cell = cell
            self.heading = 0

        def step(self):
            target = self.ahead()
            if target is not None:
                self.cell = target

        def ahead(self):
            """The free cell ahead, turning now and then, or when blocked (three tries)."""
            if self.random.random() < 0.1:
                self.heading = self.random.randrange(8)
            for _ in range(3):
                target = self.cell.connections.get(headings[self.heading])
                if target is not None and not target.is_full:
                    return target
                self.heading = self.random.randrange(8)
            return None

        def bite(self):
            prey = [a for a in self.cell.neighborhood.agents if isinstance(a, Human) and a.turns_at is None]
            if prey and self.random.random() < self.model.bite_prob:
                self.random.choice(prey).turns_at = self.model.steps + self.model.incubation

    class Outbreak(mesa.Model):
        def __init__(self, humans, zombies, size, bite_prob, incubation, seed):
            super().__init__(rng=seed)
            self.bite_prob, self.incubation = bite_prob, incubation
            self.grid = OrthogonalMooreGrid((size, size), torus=False, capacity=1, random=self.random)
            cells = self.random.sample(self.grid.all_cells.cells, humans + zombies)
            Human.create_agents(self, humans, cell=cells[:humans])
            Zombie.create_agents(self, zombies, cell=cells[humans:])

        def step(self):
            self.agents_by_type[Human].select(lambda h: h.turns_at == self.steps).do("turn")
            self.agents.shuffle_do("step")
            self.agents_by_type[Zombie].shuffle_do("bite")

        def final(self):
            humans = self.agents_by_type[Human]
            bitten = len(humans.select(lambda h: h.turns_at is not None))
            zombies = len(self.agents_by_type[Zombie])
            return {"humans": len(humans) - bitten, "bitten": bitten, "zombies": zombies, "dead": 0}

    return Outbreak


def run_mesa(args: argparse.Namespace, outbreak, seed: int) -> dict:
    with Clock() as build:
        model = outbreak(args.humans, args.zombies, args.size, 0.5, 5, seed)
    with Clock() as run:
        for _ in range(args.ticks):
            model.step()
    return run_row(seed, build, run, args.ticks, model.final())


# -- report ------------------------------------------------------------------------------------
def summary(runs: list[dict]) -> dict:
    out = {key: median([r[key] for r in runs]) for key in ("tick_s", "tick_cpu_s", "build_s", "run_s")}
    for what in ("humans", "bitten", "zombies"):
        values = [r["final"][what] for r in runs]
        out[f"final_{what}_mean"] = statistics.fmean(values)
        out[f"final_{what}_sd"] = statistics.stdev(values) if len(values) > 1 else 0.0
    out["reps"] = len(runs)
    return out


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms"


def final_cell(s: dict) -> str:
    return " / ".join(
        f"{s[f'final_{w}_mean']:.0f} ± {s[f'final_{w}_sd']:.0f}" for w in ("humans", "bitten", "zombies")
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", type=int, default=200, help="side of the square floor (cells)")
    parser.add_argument("--humans", type=int, default=10_000)
    parser.add_argument("--zombies", type=int, default=10)
    parser.add_argument("--ticks", type=int, default=100)
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each hyosan variant")
    parser.add_argument("--mesa-reps", type=int, default=3, help="repetitions of the Mesa model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-mesa", action="store_true", help="time hyosan only")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    versions = {}
    outbreak = None
    notes = []
    if not args.no_mesa:
        try:
            import mesa
            import mesa.discrete_space as discrete_space

            versions["mesa"] = mesa.__version__
            outbreak = mesa_model(mesa, discrete_space)
        except ImportError as error:
            notes.append(f"Mesa not timed ({error}); run with benchmarks/.venv-mesa/bin/python")
    report: dict = {**new_report(args, **versions), "notes": notes}
    print("machine:", ", ".join(f"{k} {v}" for k, v in report["machine"].items()), flush=True)
    print(f"load average (1 min) at start: {report['load_average_start']:.2f}", flush=True)

    with Clock() as clock:
        world = open_floor_world_ascii(args.size, args.size)
    report["world_build_s"] = clock.wall
    report["warm_up"] = warm_up(args, world)
    w = report["warm_up"]
    how = "compiled" if w["cache_misses"] else "loaded from numba's cache"
    print(f"hyosan warm-up (first 5-tick run, kernels {how}): {w['wall_s']:.2f} s", flush=True)

    # The engines take turns, seed by seed, so that a change in the machine's load (it is shared)
    # falls on both; each round's ratio compares runs made side by side.
    seeds = [args.seed + k for k in range(max(args.reps, args.mesa_reps))]
    report["hyosan"], report["hyosan_deaf"] = [], []
    if outbreak is not None:
        report["mesa"] = []
    for k, seed in enumerate(seeds):
        if k < args.reps:
            report["hyosan"].append(run_hyosan(args, world, seed, deaf=False))
            report["hyosan_deaf"].append(run_hyosan(args, world, seed, deaf=True))
        if outbreak is not None and k < args.mesa_reps:
            report["mesa"].append(run_mesa(args, outbreak, seed))
        print(
            f"  round {k + 1}: "
            + ", ".join(
                f"{key} {ms(report[key][-1]['tick_s'])}"
                for key in ("hyosan", "hyosan_deaf", "mesa")
                if key in report and len(report[key]) == k + 1
            ),
            flush=True,
        )
    for a, b in zip(report["hyosan"], report["hyosan_deaf"], strict=True):
        if a["final"] != b["final"]:
            notes.append(f"seed {a['seed']}: deaf run ended differently ({a['final']} vs {b['final']})")
    if outbreak is not None:
        rounds = min(args.reps, args.mesa_reps)
        report["round_ratios"] = [
            report["mesa"][k]["tick_s"] / report["hyosan"][k]["tick_s"] for k in range(rounds)
        ]
    report["load_average_end"] = load()

    header = [
        "engine",
        "wall per tick",
        "CPU per tick",
        "vs Mesa (wall)",
        "vs Mesa (CPU)",
        "build",
        "reps",
        "final humans / bitten / zombies (mean ± sd)",
    ]
    rows = []
    mesa_s = summary(report["mesa"]) if "mesa" in report else None
    report["summary"] = {}
    for key, label in (("hyosan", "hyosan"), ("hyosan_deaf", "hyosan, deaf (no screams)"), ("mesa", "Mesa")):
        if key not in report:
            continue
        s = summary(report[key])
        if mesa_s is not None:
            s["ratio_wall"] = mesa_s["tick_s"] / s["tick_s"]
            s["ratio_cpu"] = mesa_s["tick_cpu_s"] / s["tick_cpu_s"]
        report["summary"][key] = s
        ratio = (f"{s['ratio_wall']:.1f}x", f"{s['ratio_cpu']:.1f}x") if mesa_s is not None else ("-", "-")
        rows.append(
            [
                label,
                ms(s["tick_s"]),
                ms(s["tick_cpu_s"]),
                *ratio,
                f"{s['build_s']:.2f} s",
                str(s["reps"]),
                final_cell(s),
            ]
        )
    print(f"\nworld {args.size} x {args.size} through the ASCII loader: {report['world_build_s']:.2f} s")
    start, end = report["load_average_start"], report["load_average_end"]
    print(f"load average (1 min): {start:.2f} at start, {end:.2f} at end")
    print(f"goal: hyosan at least {GOAL_RATIO:.0f}x Mesa")
    if report.get("round_ratios"):
        ratios = report["round_ratios"]
        report["round_ratio_median"] = median(ratios)
        print(
            f"Mesa / hyosan round by round: {', '.join(f'{r:.0f}x' for r in ratios)}; "
            f"median {median(ratios):.1f}x"
        )
    for note in notes:
        print("note:", note)
    print()
    print(table(header, rows))
    write_json(args.json, report)


if __name__ == "__main__":
    sys.exit(main())
