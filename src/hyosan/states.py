"""Agent states, modes and event kinds, shared by every layer (kernels, engine, results, reports)."""

from __future__ import annotations

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


class Mode:
    """What an agent is doing (int8 in ``Population.mode``); humans and zombies use their own."""

    CALM = 0  # humans: in class, unaware
    FLEE = 1  # humans: alert, heading for a goal (exits, goal areas) away from zombies
    HIDE = 2  # humans: alert and timid, heading for a refuge room to barricade it
    HIDDEN = 3  # humans: inside a refuge room
    HOLD = 4  # bitten altruists: stand in a doorway, fighting, until overwhelmed or turned
    CONFRONT = 5  # the bravest humans: go to meet a zombie they see, to shield the others
    WANDER = 10  # zombies: no target
    CHASE = 11  # zombies: a human in sight
    SEEK = 12  # zombies: following a sound
    HUNT = 13  # hostile halfbies: walking to prey heard through walls (hunt_range)
