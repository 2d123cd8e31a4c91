"""The population as a struct of arrays: roles, states, traits, positions, groups and names.

One NumPy array per attribute, one entry per agent; never one Python object per agent. The
engine's kernels read and write these arrays in place. Names are not stored as strings: every
generated agent has a code into the Korean name tables below, and :meth:`Population.name`
spells it out (named characters keep theirs), so a million agents cost no million strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hyosan.rules.state import Agents
from hyosan.states import Mode, State

# Korean family names, roughly by frequency (Kim, Lee and Park are about 45 % of Koreans).
FAMILY = (
    ("Kim", 21.5),
    ("Lee", 14.7),
    ("Park", 8.4),
    ("Choi", 4.7),
    ("Jeong", 4.3),
    ("Kang", 2.4),
    ("Cho", 2.1),
    ("Yoon", 2.1),
    ("Jang", 2.0),
    ("Lim", 1.7),
    ("Han", 1.5),
    ("Oh", 1.5),
    ("Seo", 1.5),
    ("Shin", 1.4),
    ("Kwon", 1.4),
    ("Hwang", 1.4),
    ("Ahn", 1.3),
    ("Song", 1.3),
    ("Yoo", 1.2),
    ("Jeon", 1.1),
    ("Hong", 1.1),
    ("Ko", 0.9),
    ("Moon", 0.9),
    ("Yang", 0.9),
    ("Son", 0.9),
    ("Bae", 0.8),
    ("Baek", 0.7),
    ("Heo", 0.6),
    ("Nam", 0.6),
    ("Noh", 0.4),
)
# Syllables of given names, romanised as in the story's cast (On-jo, Cheong-san, Nam-ra, Su-hyeok).
FIRST = (
    "Min",
    "Seo",
    "Ji",
    "Hyeon",
    "Su",
    "Ye",
    "Eun",
    "Yeon",
    "Woo",
    "Jun",
    "Ha",
    "Do",
    "Yun",
    "Jae",
    "Hye",
    "Na",
    "Da",
    "Chae",
    "Ju",
    "Seong",
    "Young",
    "Jin",
    "Tae",
    "Hee",
    "Kyung",
    "Mi",
    "Sang",
    "Dong",
    "So",
    "Si",
    "Gyu",
    "Hyo",
    "Cheong",
    "On",
    "I",
    "Bo",
)
SECOND = (
    "jun",
    "woo",
    "ho",
    "jin",
    "min",
    "seo",
    "yeon",
    "ah",
    "eun",
    "bin",
    "won",
    "hyeok",
    "ju",
    "ri",
    "ra",
    "rin",
    "hoon",
    "su",
    "young",
    "hee",
    "ji",
    "na",
    "a",
    "jae",
    "yun",
    "san",
    "jo",
    "kyung",
    "seong",
    "chan",
    "hwan",
    "sik",
    "yeong",
    "mi",
)
_FAMILY_P = np.array([w for _, w in FAMILY]) / sum(w for _, w in FAMILY)
NAME_CODES = len(FAMILY) * len(FIRST) * len(SECOND)


def spell_name(code: int) -> str:
    """A name code as "Family Given-name", e.g. "Kim Hyeon-ju"."""
    code = int(code)
    second = code % len(SECOND)
    code //= len(SECOND)
    first = code % len(FIRST)
    family = code // len(FIRST)
    return f"{FAMILY[family][0]} {FIRST[first]}-{SECOND[second]}"


def draw_name_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` name codes: family names by frequency, given names uniformly."""
    family = rng.choice(len(FAMILY), size=n, p=_FAMILY_P)
    first = rng.integers(0, len(FIRST), size=n)
    second = rng.integers(0, len(SECOND), size=n)
    return ((family * len(FIRST) + first) * len(SECOND) + second).astype(np.int32)


#: Per-agent trait columns, float32, in this order in ``Population.traits``.
TRAITS = ("walk_speed", "run_speed", "strength", "courage", "altruism", "sight", "hearing")


@dataclass
class Population:
    """Every agent of a run. Indices are agent ids (stable for the whole run)."""

    role_names: list[str]
    role: np.ndarray  # int8 index into role_names
    state: np.ndarray  # int8 State
    cell: np.ndarray  # int32 flat cell; -1 = off the map (escaped, rescued)
    group: np.ndarray  # int32 group id, -1 = alone
    leader: np.ndarray  # int32 agent id of the group's leader (self for leaders and loners)
    traits: np.ndarray  # (n, len(TRAITS)) float32
    incubation: np.ndarray  # int32 ticks from a bite to turning, drawn at the start
    halfbie: np.ndarray  # bool: turns into a halfbie if bitten
    hostile: np.ndarray  # bool: as a halfbie, hunts humans
    hides_bite: np.ndarray  # bool: if bitten, hides it and stays with the group
    name_code: np.ndarray  # int32 code of a generated name; -1 for named characters
    characters: dict[int, str] = field(default_factory=dict)  # agent id -> name
    pinned: np.ndarray = field(default=None)  # bool: the scenario pins whether it turns halfbie
    # Dynamic state, written by the kernels.
    mode: np.ndarray = field(default=None)  # int8 Mode
    budget: np.ndarray = field(default=None)  # float32 metres of movement accumulated
    heading: np.ndarray = field(default=None)  # int8 wandering direction 0-7
    target: np.ndarray = field(default=None)  # int32 cell an agent heads for, -1 = none
    bitten_at: np.ndarray = field(default=None)  # int32 tick, -1 = never
    turn_at: np.ndarray = field(default=None)  # int32 tick, -1 = not bitten
    bitten_by: np.ndarray = field(default=None)  # int32 agent id; -2 = a scenario event; -1 = none
    fate_tick: np.ndarray = field(default=None)  # int32 tick the agent reached a final state
    bites: np.ndarray = field(default=None)  # int32 humans this agent bit

    def __post_init__(self) -> None:
        n = self.n
        if self.mode is None:
            self.mode = np.zeros(n, dtype=np.int8)
            self.mode[self.state == State.ZOMBIE] = Mode.WANDER
            self.mode[(self.state == State.HALFBIE) & self.hostile] = Mode.CHASE
            self.mode[(self.state == State.HALFBIE) & ~self.hostile] = Mode.FLEE
        for name, dtype, value in (
            ("pinned", np.bool_, False),
            ("budget", np.float32, 0.0),
            ("heading", np.int8, 0),
            ("target", np.int32, -1),
            ("bitten_at", np.int32, -1),
            ("turn_at", np.int32, -1),
            ("bitten_by", np.int32, -1),
            ("fate_tick", np.int32, -1),
            ("bites", np.int32, 0),
        ):
            if getattr(self, name) is None:
                setattr(self, name, np.full(n, value, dtype=dtype))

    @property
    def n(self) -> int:
        return int(self.state.shape[0])

    def trait(self, name: str) -> np.ndarray:
        return self.traits[:, TRAITS.index(name)]

    def name(self, i: int) -> str:
        """The agent's name: a character's own, or its generated Korean name."""
        if i in self.characters:
            return self.characters[i]
        return spell_name(self.name_code[i])

    def names(self) -> list[str]:
        return [self.name(i) for i in range(self.n)]

    def find(self, name: str) -> int:
        """The agent id of a named character (KeyError if none)."""
        for i, n in self.characters.items():
            if n == name:
                return i
        raise KeyError(name)

    def arrays(self) -> Agents:
        """The same arrays as the kernels' named structure (shared, not copied)."""
        return Agents(*(getattr(self, name) for name in Agents._fields))

    def core_bytes_per_agent(self) -> float:
        """Bytes of array state per agent (names of characters excluded)."""
        arrays = [v for v in vars(self).values() if isinstance(v, np.ndarray)]
        return sum(a.nbytes for a in arrays) / max(1, self.n)
