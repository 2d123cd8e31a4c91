"""Agent states, modes and event kinds, shared by every layer (kernels, engine, results, reports)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class State(IntEnum):
    """What an agent is now. Stored as int8 in the population arrays."""

    HUMAN = 0  # alive, uninfected
    BITTEN = 1  # infected, incubating: still acts as a human until turning
    ZOMBIE = 2
    HALFBIE = 3  # immune carrier: keeps its mind, ignored by zombies
    DEAD = 4  # killed for good (zombies destroyed by a blow to the head, victims of a strike)
    ESCAPED = 5  # left the map through an exit
    RESCUED = 6  # taken away by a rescue (the helicopter on the rooftop)


#: States that still count as "the human group" (the bitten do not know it yet, or hide it).
HUMAN_GROUP = (State.HUMAN, State.BITTEN)
#: The zombie group of the story's season-2 comparison: zombies and halfbies.
ZOMBIE_GROUP = (State.ZOMBIE, State.HALFBIE)
#: States an agent never leaves.
FINAL = (State.DEAD, State.ESCAPED, State.RESCUED)

STATE_NAMES = tuple(s.name.lower() for s in State)


class EventKind(IntEnum):
    """What happened, in the events table (int8 in the kernels' event buffers).

    Columns a and b name the agents involved: for BITE a bit b, for KILL a killed b, for TURN a
    turned after being bitten by b; DOOR_* and BARRICADE give the door's index in b; SCENARIO
    gives the timeline event's index in b.
    """

    BITE = 0
    TURN = 1
    KILL = 2  # a human (or halfbie) destroys a zombie
    DEATH = 3  # killed by a scenario event (a strike)
    ESCAPE = 4
    RESCUE = 5
    DOOR_OPEN = 6
    DOOR_BREACH = 7  # zombies broke a door down
    BARRICADE = 8
    HOLD = 9  # a bitten altruist starts holding a doorway
    ALERT = 10  # a human notices the outbreak (first sight, sound or panic)
    SCENARIO = 11
    ISOLATE = 12  # a rescue screens the people it takes: a bitten one is isolated (a RESCUED fate)
    DOOR_SHUT = 13  # a human shuts an open door (to barricade it)


EVENT_NAMES = tuple(k.name.lower() for k in EventKind)


@dataclass(frozen=True)
class ModeSpec:
    """A mode: its code (int8 in ``Population.mode``), its name in tables, who uses it, what it
    means, and the mechanic that declared it."""

    code: int
    name: str
    who: str
    doc: str
    owner: str = "built-in"


class Modes:
    """The one registry of modes: each is declared once, here or by a mechanic
    (:mod:`hyosan.mechanics`), and read by name (``Mode.FLEE``, a plain int the kernels compile
    in), by code (``Mode.name_of(1)``) or all together (``Mode.names()``, for tables)."""

    def __init__(self) -> None:
        self._specs: dict[int, ModeSpec] = {}

    def declare(self, code: int, name: str, who: str, doc: str, owner: str = "built-in") -> int:
        """Declare a mode; a code or a name already taken by another owner is an error."""
        name = name.lower()
        if not 0 <= code <= 127:
            raise ValueError(f"mode {name!r}: code {code} is not an int8 above -1")
        for spec in self._specs.values():
            if (spec.code == code or spec.name == name) and (spec.code, spec.name) != (code, name):
                raise ValueError(
                    f"mode {name!r} (code {code}) clashes with {spec.owner}'s mode "
                    f"{spec.name!r} (code {spec.code})"
                )
        self._specs[code] = ModeSpec(code, name, who, doc, owner)
        return code

    def __getattr__(self, attr: str) -> int:
        for spec in self.__dict__.get("_specs", {}).values():
            if spec.name.upper() == attr:
                return spec.code
        raise AttributeError(attr)

    def name_of(self, code: int) -> str:
        spec = self._specs.get(int(code))
        return spec.name if spec is not None else str(int(code))

    def names(self) -> dict[int, str]:
        """Code -> name, by code."""
        return {c: self._specs[c].name for c in sorted(self._specs)}

    def specs(self) -> list[ModeSpec]:
        return [self._specs[c] for c in sorted(self._specs)]


#: What an agent is doing (int8 in ``Population.mode``); humans and zombies use their own.
Mode = Modes()
for _code, _name, _who, _doc in (
    (0, "calm", "humans", "in class, unaware"),
    (1, "flee", "humans", "alert, heading for a goal (exits, goal areas) away from zombies"),
    (2, "hide", "humans", "alert and timid, heading for a refuge room to barricade it"),
    (3, "hidden", "humans", "inside a refuge room"),
    (4, "hold", "bitten altruists", "stand in a doorway, fighting, until overwhelmed or turned"),
    (5, "confront", "the bravest humans", "go to meet a zombie they see, to shield the others"),
    (10, "wander", "zombies", "no target"),
    (11, "chase", "zombies", "a human in sight"),
    (12, "seek", "zombies", "following a sound"),
    (13, "hunt", "hostile halfbies", "walking to prey heard through walls (hunt_range)"),
):
    Mode.declare(_code, _name, _who, _doc)
