"""The timeline: a scenario's events (alarms, locks, cordon, rescue, strike...) fired at a clock
time, after a delay, or when a condition first holds.

Each kind of event is one handler in :data:`HANDLERS`, a table from the kind's name to a
function ``handler(sim, index, event) -> cell`` (the cell the chronicle places it at, -1 for
none). :func:`register` adds a kind: its handler and its schema entry (what fields it needs) in
one call, so a user's own event kind is one function::

    from hyosan import timeline

    @timeline.register("power_cut", needs_area=True, doc="the lights go out in an area")
    def power_cut(sim, index, event):
        ...  # change sim.arrays (doors, noise, agents) through the named state
        return -1
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hyosan.errors import HyosanError
from hyosan.populate import area_cells
from hyosan.rules.consts import CALM, EV_ISOLATE, FLEE, HOLD
from hyosan.rules.contact import infect
from hyosan.rules.infection import turn
from hyosan.rules.log import emit
from hyosan.rules.noise import stamp_noise
from hyosan.scenario.conditions import holds, parse_condition
from hyosan.scenario.events import KINDS, KindSpec, register_kind
from hyosan.states import EventKind, State
from hyosan.world.tiles import WALKABLE_LUT, DoorState, Tile

if TYPE_CHECKING:  # the engine imports this module, never the reverse
    from hyosan.engine import Simulation

Handler = Callable[["Simulation", int, Any], int]
#: Event kind -> handler.
HANDLERS: dict[str, Handler] = {}
#: Trigger conditions are checked this often (ticks) while an event waits on one.
CONDITION_EVERY = 10


def register(kind: str, *, needs_area: bool | None = None, doc: str = "") -> Callable[[Handler], Handler]:
    """Register ``kind``: the decorated function handles it, and its schema entry (whether a
    scenario must give it an ``area``; what it does) is added beside it. The built-in kinds'
    entries are declared in :mod:`hyosan.scenario.events` (``needs_area=None`` keeps them)."""

    def add(handler: Handler) -> Handler:
        if needs_area is not None or kind not in KINDS:
            register_kind(
                KindSpec(kind, needs_area=bool(needs_area), doc=doc or (handler.__doc__ or "").strip())
            )
        HANDLERS[kind] = handler
        return handler

    return add


# -- the built-in kinds ----------------------------------------------------------------------
@register("patient_zero")
def patient_zero(sim: Simulation, index: int, e) -> int:
    pop = sim.pop
    if e.who is not None:
        i = pop.find(e.who)
    else:
        cand = np.flatnonzero((pop.state == State.HUMAN) & np.isin(pop.cell, sim.area(e.area)))
        if cand.size == 0:
            raise HyosanError("nobody there to bite", source=sim.loaded.source, field=f"events[{index}]")
        i = int(sim.rng["timeline"].choice(cand))
    if pop.state[i] == State.HUMAN:
        # The lab rat's bite is quiet: nobody screams, patient zero carries on.
        a = sim.arrays
        infect(i, -2, False, sim.tick, a.world, a.doors, a.agents, sim.prm, a.noise, a.events)
        if e.seeks is not None:
            sim.timeline.seek(sim, i, e.seeks)
    return int(pop.cell[i])


def _victim(sim: Simulation, e, biter: int) -> int:
    """Who a scripted bite bites: the character ``e.who``, the nearest human of a role
    ('role:NAME'), else the nearest human in ``e.area``; -1 if none is there (or still human)."""
    pop = sim.pop
    human = pop.state == State.HUMAN
    if e.who is not None and not e.who.startswith("role:"):
        i = pop.find(e.who)
        return i if human[i] else -1
    if e.who is not None:
        role = e.who.removeprefix("role:")
        names = list(pop.role_names)
        if role not in names:
            raise HyosanError(
                f"no role {role!r} (roles: {', '.join(names)})", source=sim.loaded.source, field="events.who"
            )
        human &= pop.role == names.index(role)
    if e.area not in (None, "*"):
        human &= np.isin(pop.cell, sim.area(e.area))
    cand = np.flatnonzero(human)
    if cand.size == 0:
        return -1
    geo = sim.arrays.world.geo
    d = np.abs(geo[pop.cell[cand]] - geo[pop.cell[biter]]).astype(float)
    return int(cand[np.argmin(d[:, 0] * 1e6 + np.hypot(d[:, 1], d[:, 2]))])


@register("bite")
def scripted_bite(sim: Simulation, index: int, e) -> int:
    """The character ``by`` bites a human (show: patient zero bites the nurse who treats her):
    what the story makes certain, scripted; nothing if ``by`` has been killed or is not a threat."""
    pop, a = sim.pop, sim.arrays
    try:
        biter = pop.find(e.by)
    except KeyError:
        raise HyosanError(
            f"no character named {e.by!r}", source=sim.loaded.source, field="events.by"
        ) from None
    if pop.state[biter] == State.BITTEN:  # due to turn: the bite is the moment she does
        turn(biter, sim.tick, a.agents, a.events)
    if not (pop.state[biter] == State.ZOMBIE or (pop.state[biter] == State.HALFBIE and pop.hostile[biter])):
        return -1
    victim = _victim(sim, e, biter)
    if victim < 0:
        return -1
    a.agents.bites[biter] += 1
    infect(victim, biter, True, sim.tick, a.world, a.doors, a.agents, sim.prm, a.noise, a.events)
    return int(pop.cell[victim])


@register("alarm")
def alarm(sim: Simulation, index: int, e) -> int:
    a, now = sim.arrays, sim.tick
    until = now + sim.scenario.ticks(e.duration)
    if e.area == "*":
        # A school-wide bell: every tile hears it at its level, nothing to propagate.
        noise = a.noise
        ring = a.world.tiles != Tile.VOID
        noise.level[ring] = np.maximum(noise.level[ring] * (noise.until[ring] >= now), e.level)
        noise.until[ring] = np.maximum(noise.until[ring], until)
        return -1
    cells = sim.area(e.area)
    walkable = cells[WALKABLE_LUT[a.world.tiles[cells]] == 1]
    pick = walkable if walkable.size else cells
    center = int(pick[len(pick) // 2])
    stamp_noise(center, e.level, now, until, a.noise, a.world, a.doors.state, sim.prm)
    return center


@register("goal")
def goal(sim: Simulation, index: int, e) -> int:
    sim.set_goals([e.area])
    pop = sim.pop
    sim.set_mode(np.isin(pop.state, (State.HUMAN, State.BITTEN)) & (pop.mode != HOLD), FLEE)
    return -1


@register("broadcast")
def broadcast(sim: Simulation, index: int, e) -> int:
    center = alarm(sim, index, e)
    goal(sim, index, e)
    return center


def _door_event(new_state: DoorState) -> Handler:
    def handler(sim: Simulation, index: int, e) -> int:
        sim.set_doors(sim.doors_of(e.area), new_state)
        return -1

    return handler


for _kind, _state in (
    ("lock", DoorState.LOCKED),
    ("unlock", DoorState.CLOSED),
    ("open", DoorState.OPEN),
    ("close", DoorState.CLOSED),
    ("barricade", DoorState.BARRICADED),
):
    register(_kind)(_door_event(_state))


def _cordon(on: bool) -> Handler:
    def handler(sim: Simulation, index: int, e) -> int:
        sim.set_params(cordon=on)
        return -1

    return handler


register("cordon")(_cordon(True))
register("lift_cordon")(_cordon(False))


def _take(sim: Simulation, e, states: tuple[State, ...], new_state: State, kind: EventKind) -> int:
    pop = sim.pop
    sim.remove(
        np.flatnonzero(np.isin(pop.cell, sim.area(e.area)) & np.isin(pop.state, states)), new_state, kind
    )
    return -1


@register("rescue")
def rescue(sim: Simulation, index: int, e) -> int:
    """Takes the humans in the area away. The rescue screens them (show: the 30-minute check,
    the camp): the bitten among them are isolated, an ISOLATE event each; they are rescued, but
    no survivors (docs/results.md)."""
    pop = sim.pop
    who = np.flatnonzero(np.isin(pop.cell, sim.area(e.area)) & (pop.state == State.BITTEN))
    for i in who:
        emit(sim.arrays.events, sim.tick, EV_ISOLATE, int(i), -1, pop.cell[i])
    return _take(sim, e, (State.HUMAN, State.BITTEN), State.RESCUED, EventKind.RESCUE)


@register("strike")
def strike(sim: Simulation, index: int, e) -> int:
    return _take(
        sim, e, (State.HUMAN, State.BITTEN, State.ZOMBIE, State.HALFBIE), State.DEAD, EventKind.DEATH
    )


def handler_of(sim: Simulation, kind: str) -> Handler | None:
    """The handler of ``kind``: a registered one, or one of the scenario's mechanics'."""
    if kind in HANDLERS:
        return HANDLERS[kind]
    for m in sim.scenario.mechanic_list():
        for ev in m.events:
            if ev.name == kind:
                return ev.handler
    return None


# -- the timeline of a run ---------------------------------------------------------------------
@dataclass
class Pending:
    """A scenario event not fired yet: due at ``tick``, or waiting for ``when`` to hold."""

    index: int
    event: Any
    tick: int | None
    when: tuple[str, str, float] | None


class Timeline:
    """The scenario's events of one run, in the order they fire."""

    def __init__(self, sim: Simulation):
        sc = sim.scenario
        self.pending: list[Pending] = []
        #: Agents walking to a room for help (patient zero to the infirmary): (agent, cells,
        #: the goal areas to restore on arrival).
        self.seeking: list[tuple[int, np.ndarray, list[str]]] = []
        for i, e in enumerate(sc.events):
            if handler_of(sim, e.kind) is None:
                raise HyosanError(
                    f"unknown event kind {e.kind!r}", source=sim.loaded.source, field=f"events[{i}].kind"
                )
            if e.area not in (None, "*"):
                area_cells(sim.world, e.area, sim.loaded.source, "events.area")
            if e.at is not None:
                self.pending.append(Pending(i, e, sc.clock_tick(e.at), None))
            elif e.when is not None:
                self.pending.append(Pending(i, e, None, parse_condition(e.when)))
            else:
                self.pending.append(Pending(i, e, sc.ticks(e.after), None))

    def seek(self, sim: Simulation, i: int, area: str) -> None:
        """Agent ``i`` leaves their group and walks to ``area`` for help (the humans' goal is that
        room until they get there: nobody else is alert yet, as a rule), then stays there, calm."""
        pop = sim.pop
        pop.group[i] = -1
        pop.leader[i] = i
        sim.set_mode(i, FLEE)
        self.seeking.append((i, sim.area(area), list(sim.goal_areas)))
        sim.set_goals([area])

    def _arrivals(self, sim: Simulation) -> None:
        pop = sim.pop
        for item in list(self.seeking):
            i, cells, before = item
            arrived = bool(np.isin(pop.cell[i], cells))
            walking = pop.state[i] in (State.HUMAN, State.BITTEN)
            if arrived or not walking or pop.mode[i] != FLEE:
                self.seeking.remove(item)
                if arrived and walking:
                    sim.set_mode(i, CALM)  # treated where they came for help
                sim.set_goals(before)

    def fire_due(self, sim: Simulation) -> None:
        """Fire every event due now (conditions are checked every ``CONDITION_EVERY`` ticks)."""
        if self.seeking:
            self._arrivals(sim)
        metrics = None
        for item in list(self.pending):
            if item.tick is None and item.when is not None and sim.tick % CONDITION_EVERY == 0:
                metrics = metrics or sim.metrics()
                if holds(item.when, metrics):
                    e = item.event
                    item.tick = sim.tick + (sim.scenario.ticks(e.after) if e.after is not None else 0)
                    item.when = None
            if item.tick is not None and item.tick <= sim.tick:
                self.pending.remove(item)
                center = handler_of(sim, item.event.kind)(sim, item.index, item.event)
                emit(sim.arrays.events, sim.tick, int(EventKind.SCENARIO), -1, item.index, center)

    def next_stop(self, tick: int, limit: int) -> int:
        """The first tick after ``tick`` (at most ``limit``) at which an event may fire."""
        nxt = limit
        if self.seeking:  # arrivals are checked every tick
            nxt = min(nxt, tick + 1)
        for item in self.pending:
            if item.tick is not None:
                nxt = min(nxt, max(item.tick, tick + 1))
            elif item.when is not None:
                nxt = min(nxt, (tick // CONDITION_EVERY + 1) * CONDITION_EVERY)
        return nxt
