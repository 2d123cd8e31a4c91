"""Checkpoints: a running simulation saved to a file and restored, to continue bit for bit.

A checkpoint holds everything a run's future depends on: the scenario as loaded, the world, the
population and every kernel array (:class:`hyosan.rules.state.Run`), the parameters, the random
streams (NumPy generators and the kernels' xoshiro states), the timeline's pending events and
what the recorder has so far. User systems and collectors are Python functions: they are not
saved, add them again after restoring.

The file is a header line (format, hyosan version, SHA-256 of the payload) then a pickle.
A checkpoint of another hyosan version or a damaged one is refused with one line. Like any
pickle, open only checkpoints you made yourself.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from numpy.random import SeedSequence, default_rng

from hyosan import __version__
from hyosan.assemble import project_params
from hyosan.behaviours import tick_kernel
from hyosan.errors import HyosanError
from hyosan.io import atomic_path
from hyosan.rules.rng import stream
from hyosan.scenario.load import apply_overrides, validate
from hyosan.timeline import Timeline

if TYPE_CHECKING:  # the engine imports this module
    from hyosan.engine import Simulation

FORMAT = "hyosan-checkpoint/1"
#: Attributes of a Simulation not saved (Python functions a user added).
UNSAVED = ("user_systems", "advance")


def save_checkpoint(sim: Simulation, path: str | Path) -> Path:
    """Write ``sim`` as it is now to ``path`` (atomically)."""
    path = Path(path)
    sim.recorder.drain(sim.arrays.events)
    state = {k: v for k, v in vars(sim).items() if k not in UNSAVED}
    collectors, sim.recorder.collectors = sim.recorder.collectors, {}
    try:
        payload = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        sim.recorder.collectors = collectors
    digest = hashlib.sha256(payload).hexdigest()
    header = f"{FORMAT} {__version__} {digest}\n".encode()
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(header + payload)
    except OSError as exc:
        raise HyosanError(f"cannot write the checkpoint: {exc.strerror or exc}", source=str(path)) from None
    return path


def load_checkpoint(path: str | Path, cls: type) -> Simulation:
    """The simulation saved at ``path``, ready to continue (``cls``: the Simulation class)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise HyosanError(f"cannot read the checkpoint: {exc.strerror or exc}", source=str(path)) from None
    head, _, payload = data.partition(b"\n")
    parts = head.decode("ascii", "replace").split(" ")
    if len(parts) != 3 or parts[0] != FORMAT:
        raise HyosanError("not a hyosan checkpoint", source=str(path))
    if parts[1] != __version__:
        raise HyosanError(
            f"a checkpoint of hyosan {parts[1]}; this is {__version__}: rerun to make a new one",
            source=str(path),
        )
    if hashlib.sha256(payload).hexdigest() != parts[2]:
        raise HyosanError("damaged checkpoint (its checksum does not match)", source=str(path))
    state = pickle.loads(payload)  # checksummed above: the bytes are the ones hyosan wrote
    sim = cls.__new__(cls)
    vars(sim).update(state)
    sim.user_systems = []
    # The tick kernel: from the scenario's behaviours (one given from Python is not saved).
    sim.advance = tick_kernel(sim.scenario.behaviour, None, sim.loaded.source)
    return sim


#: Scenario sections a branch may not change: what was built at the start (the map, the
#: population, the clock) is the shared past.
FIXED_AT_BRANCH = ("world", "clock", "roles", "population", "scenario", "run", "goals")


def fork(sim: Simulation, seed: int, overrides: dict[str, str] | None = None) -> Simulation:
    """From now on, another future: fresh random streams from ``seed`` (the kernels' movement
    and contact streams, and the Python-side ones), and ``overrides`` (``--set`` values)
    taking effect now.

    Overrides may change the parameters (zombies, halfbies, infection, behaviour) and the
    timeline: an event not fired yet moves (a cordon an hour earlier: ``events.5.at=09:10``, or
    earlier than now: it fires at once); an event that fired stays in the past. What the
    population drew at the start (incubation times, who turns halfbie) is the shared past too.
    """
    children = SeedSequence([int(seed), sim.tick]).spawn(len(sim.rng) + 2)
    for (name, _), child in zip(sorted(sim.rng.items()), children, strict=False):
        sim.rng[name] = default_rng(child)
    sim.arrays.rng_move[:] = stream(children[-2])
    sim.arrays.rng_contact[:] = stream(children[-1])
    if overrides:
        _apply(sim, overrides)
    return sim


def _apply(sim: Simulation, overrides: dict[str, str]) -> None:
    for key in overrides:
        if key.split(".")[0] in FIXED_AT_BRANCH:
            raise HyosanError(
                f"cannot change after the branch point (one of {', '.join(FIXED_AT_BRANCH)})",
                source="--set",
                field=key,
            )
    raw = sim.scenario.model_dump(mode="json")
    new = validate(apply_overrides(raw, overrides), sim.loaded.source)
    sim.loaded = replace(sim.loaded, scenario=new)
    sim.scenario = new
    sim.prm = project_params(new, sim.world, cordon=sim.prm.cordon)
    sim.advance = tick_kernel(new.behaviour, None, sim.loaded.source)
    pending = {p.index for p in sim.timeline.pending}
    fresh = Timeline(sim)
    fresh.pending = [p for p in fresh.pending if p.index in pending]
    for p in fresh.pending:  # an event moved before now fires at the next step
        if p.tick is not None and p.tick < sim.tick:
            p.tick = sim.tick
    sim.timeline = fresh
    sim.arrays.flags.routes_changed[0] = 1
