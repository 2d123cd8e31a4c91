"""The scenario file's schema: every value with its default, unit and meaning.

A scenario is a TOML file validated by these pydantic models. Times are clock times ("08:40")
or durations ("90s", "15min", "6h", or a number of seconds); distances are metres (1 tile = 1 m);
speeds are metres per second. The outbreak's numbers are physical, independent of the tick:
rates per second of contact (a zombie's bite, a human's or halfbie's kill), or chances per
second of contact, which are the same thing (rate r = -ln(1 - p)); incubation in seconds; chances
per bitten person (hiding the bite, becoming a halfbie). docs/units.md gives the mapping to the
kernels' chances per tick and to the compartment models' beta and alpha, both ways.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from hyosan import limits
from hyosan.scenario.conditions import parse_condition
from hyosan.scenario.events import KINDS
from hyosan.scenario.timefmt import parse_clock, parse_day_clock, parse_duration


def _duration(v: object) -> str | float:
    # Before the union: else its first branch's complaint ("should be a valid string") is shown.
    if isinstance(v, bool) or not isinstance(v, str | int | float):
        raise ValueError(f"expected a duration such as '90s' or '15min', or seconds, got {v!r}")
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError(f"a duration must be finite, got {v!r}")
    if not math.isfinite(parse_duration(v)):
        raise ValueError(f"a duration must be finite, got {v!r}")
    return v


def _clock(v: object) -> str:
    if not isinstance(v, str):
        raise ValueError(f"expected a clock time such as '08:40', got {v!r}")
    parse_clock(v)
    return v


# Strict mode (below) never turns a boolean into a number, nor "3" into 3; no NaN or infinity.
Duration = Annotated[str | float, BeforeValidator(_duration)]


def _day_clock(v: object) -> str:
    if not isinstance(v, str):
        raise ValueError(f"expected a clock time such as '08:40' or 'day 2 04:00', got {v!r}")
    parse_day_clock(v)
    return v


Clock = Annotated[str, BeforeValidator(_clock)]
#: An event's time: a clock time, on the run's first day or a later one ("day 2 04:00").
DayClock = Annotated[str, BeforeValidator(_day_clock)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]


class Strict(BaseModel):
    """Unknown keys are errors (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True, allow_inf_nan=False)


class ScenarioInfo(Strict):
    name: str = Field("Untitled outbreak", description="title shown in summaries and reports")
    description: str = Field("", description="a line or two for `hyosan scenarios`")


class RunConfig(Strict):
    """What a saved run records about itself, so that its scenario.toml reruns it exactly."""

    seed: int | None = Field(
        None, ge=0, le=limits.SEED_MAX, description="seed used when `hyosan run` is given no --seed"
    )
    hyosan: str | None = Field(None, description="version of hyosan that wrote the file (information only)")


class WorldConfig(Strict):
    map: str = Field(description="Map file (.tmj Tiled or .txt ASCII), relative to the scenario file")
    max_per_tile: int = Field(2, ge=1, le=8, description="agents that fit on one floor tile")
    door_capacity: int = Field(1, ge=1, le=4, description="agents that fit in a doorway or on a stair tile")


class ClockConfig(Strict):
    start: Clock = Field("08:00", description="clock time of tick 0")
    duration: Duration = Field("6h", description="simulated time")
    tick: Duration = Field("1s", description="length of one tick")
    frame_every: Duration = Field("10s", description="positions are recorded this often (replay)")


class RoleConfig(Strict):
    """Traits of a role; each agent's values scatter around them by ``jitter`` (clipped)."""

    label: str = Field("", description="plural name for tables, e.g. 'students'")
    adult: bool = Field(False, description="counts as an adult in survival comparisons")
    walk_speed: float = Field(1.3, gt=0, le=10, description="m/s when calm")
    run_speed: float = Field(3.0, gt=0, le=12, description="m/s when fleeing")
    strength: Probability = Field(
        0.05, description="kill rate, per second of contact with a zombie (1/s): a blow to the head or neck"
    )
    courage: Unit = Field(0.5, description="0-1: the brave run for a goal, the timid hide")
    altruism: Unit = Field(0.3, description="0-1: the bitten and selfless hold a chokepoint")
    sight: float = Field(15.0, ge=0, le=100, description="m: how far zombies are seen (line of sight)")
    hearing: float = Field(30.0, ge=0, le=140, description="dB: quietest sound noticed")
    jitter: float = Field(0.15, ge=0, le=1, description="relative spread of traits between agents")
    speed_jitter: float | None = Field(
        None,
        ge=0,
        le=0.5,
        description="relative spread of walking and running speeds (default: jitter); speeds are "
        "honoured in full, so a wide spread makes some agents far faster than the rest",
    )


class ZombieConfig(Strict):
    walk_speed: float = Field(0.8, gt=0, le=10, description="m/s when wandering")
    run_speed: float = Field(3.5, gt=0, le=12, description="m/s when chasing (fast, as in the story)")
    sight: float = Field(6.0, ge=0, le=100, description="m: poor vision")
    hearing: float = Field(10.0, ge=0, le=140, description="dB: sharp hearing, quietest sound followed")
    bite_prob: Probability = Field(
        0.5,
        description="chance per second of contact that a zombie bites (the rate is -ln(1 - p) per second)",
    )
    bite_rate: float | None = Field(
        None, ge=0, le=100, description="bite rate per second of contact (1/s); if given, replaces bite_prob"
    )
    break_rate: float = Field(1.0, ge=0, description="door hit points one battering zombie removes per s")

    @model_validator(mode="after")
    def _one_bite(self):
        if self.bite_rate is not None and "bite_prob" in self.model_fields_set:
            raise ValueError("give bite_rate or bite_prob, not both (bite_rate = -ln(1 - bite_prob))")
        return self


class HalfbieConfig(Strict):
    fraction: Probability = Field(0.01, description="share of the bitten who become halfbies")
    hostile_fraction: Probability = Field(0.5, description="share of halfbies who hunt humans")
    strength: Probability = Field(
        0.3,
        description="a friendly halfbie's kill rate per second of contact (1/s), defending humans next to it",
    )
    speed: float = Field(4.0, gt=0, le=12, description="m/s (stronger and faster than humans)")
    bite_prob: Probability = Field(
        0.2, description="a hostile halfbie's chance per second of contact to bite"
    )
    bite_rate: float | None = Field(
        None, ge=0, le=100, description="a hostile halfbie's bite rate (1/s); if given, replaces bite_prob"
    )
    bite_makes_halfbie: Probability = Field(0.3, description="chance a halfbie bite makes a halfbie")
    hunt_range: float = Field(
        0.0,
        ge=0,
        le=100,
        description="m: a hostile halfbie hears prey on its floor this far through walls and hunts "
        "them, breaking into their room (0: it follows only sight and sound, as zombies do)",
    )
    break_rate: float | None = Field(
        None,
        ge=0,
        description="door hit points a hostile halfbie removes per s (None: the zombies' break_rate)",
    )

    @model_validator(mode="after")
    def _one_bite(self):
        if self.bite_rate is not None and "bite_prob" in self.model_fields_set:
            raise ValueError("give bite_rate or bite_prob, not both (bite_rate = -ln(1 - bite_prob))")
        return self


class IncubationConfig(Strict):
    """Time from bite to turning: seconds to hours, most within minutes (as in the story)."""

    distribution: Literal["lognormal", "exponential", "uniform", "fixed"] = Field(
        "lognormal", description="'uniform' draws between min and max"
    )
    median: Duration = Field("2min", description="median (lognormal), mean (exponential), value (fixed)")
    sigma: float = Field(1.2, ge=0, le=5, description="lognormal shape: spread of log-times")
    min: Duration = Field("5s", description="clipped below at")
    max: Duration = Field("1h", description="clipped above at: the tail's end (the show: a 30-minute check)")

    @model_validator(mode="after")
    def _ordered(self) -> IncubationConfig:
        if parse_duration(self.min) > parse_duration(self.max):
            raise ValueError("min must not exceed max")
        return self


class InfectionConfig(Strict):
    incubation: IncubationConfig = Field(default_factory=IncubationConfig)
    hide_bite: Probability = Field(0.25, description="chance that a bitten human hides the bite")
    bitten_strength: Unit = Field(
        1.0, description="a bitten human's kill rate is their strength times this (the virus weakens)"
    )
    sacrifice_altruism: Unit = Field(
        0.85,
        description="bitten humans this altruistic hold a doorway against zombies "
        "(until overwhelmed or turned)",
    )


def _step_ref(value: str | None) -> str | None:
    if value is None or re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", value):
        return value
    raise ValueError("expected 'module:function', a user behaviour (docs/extending.md)")


def _mechanic_ref(value: str) -> str:
    if re.fullmatch(r"[A-Za-z_]\w*|[A-Za-z_][\w.]*:[A-Za-z_]\w*", value):
        return value
    raise ValueError("expected a mechanic's name or 'module:attribute' (docs/extending.md)")


def _mechanics_of(raw: object) -> list:
    """The mechanics a raw scenario table lists (``[behaviour] mechanics``), resolved: their
    timeline event kinds and modes are registered before the events are validated."""
    behaviour = raw.get("behaviour") if isinstance(raw, dict) else None
    listed = behaviour.get("mechanics") if isinstance(behaviour, dict) else None
    if not listed or not isinstance(listed, list) or not all(isinstance(m, str) for m in listed):
        return []
    # Loading a mechanic imports its module (numba's kernels, a user's code): only when a
    # scenario lists one, so that validating any other scenario stays light.
    from hyosan import mechanics

    try:
        return mechanics.resolve(listed)
    except mechanics.MechanicError as exc:
        raise ValueError(f"behaviour.mechanics: {exc}") from None


class BehaviourConfig(Strict):
    humans: Literal["flee", "wander"] = Field("flee", description="'wander': no senses, random walk")
    zombies: Literal["hunt", "wander"] = Field(
        "hunt", description="'wander': bite neighbours, else random walk (no sight or hearing)"
    )
    zombie_step: Annotated[str | None, AfterValidator(_step_ref)] = Field(
        None, description="a user behaviour 'module:function' that decides zombies' steps (docs/extending.md)"
    )
    human_step: Annotated[str | None, AfterValidator(_step_ref)] = Field(
        None, description="a user behaviour 'module:function' that decides humans' steps (docs/extending.md)"
    )
    mechanics: list[Annotated[str, AfterValidator(_mechanic_ref)]] = Field(
        default_factory=list,
        description="extra mechanics, in the order the tick runs their hooks: a built-in's name "
        "('darkness') or a user's 'module:attribute' (docs/extending.md); their keys go in [mechanics]",
    )
    hide_below: Unit = Field(0.45, description="alert humans less courageous than this hide in a room")
    confront_above: float = Field(
        1.01,
        ge=0,
        le=1.01,
        description="alert humans this courageous go to meet a zombie they see (1.01: nobody)",
    )
    calm_move: Probability = Field(0.05, description="chance per tick that a calm human shifts a tile")
    scream_db: float = Field(80.0, ge=0, le=140, description="dB of a scream (bitten, or seeing a zombie)")
    scream_duration: Duration = Field("4s", description="how long a scream is heard")
    batter_db: float = Field(65.0, ge=0, le=140, description="dB of zombies battering a door")
    barricade_time: Duration = Field("20s", description="time for one human to barricade a door")
    barricade_strength: float = Field(600.0, ge=0, description="hit points of a barricaded door")
    follow_distance: float = Field(3.0, ge=0, description="m: group members keep this close to the leader")
    refuge_kinds: list[str] = Field(
        default_factory=lambda: ["classroom", "lab", "library", "office", "music", "broadcast", "storage"],
        description="room kinds where the timid hide and barricade",
    )


class GoalsConfig(Strict):
    exits: bool = Field(True, description="exits to the town are goals for the brave")
    areas: list[str] = Field(default_factory=list, description="extra goal areas (rooms, spawn areas)")


class PopulationConfig(Strict):
    role: str
    count: int = Field(ge=0, le=10_000_000)
    areas: list[str] = Field(
        min_length=1, description="rooms or spawn areas; 'kind:classroom' means every room of that kind"
    )
    groups: Literal["area", "none"] = Field("area", description="'area': those spawned together are a group")
    state: Literal["human", "zombie", "halfbie"] = Field(
        "human", description="what they are at the start (a horde already there, a halfbie lurking)"
    )


class CharacterConfig(Strict):
    """A named agent with pinned traits (unset traits come from the role)."""

    name: str
    role: str
    area: str
    walk_speed: float | None = Field(None, gt=0, le=10)
    run_speed: float | None = Field(None, gt=0, le=12)
    strength: Probability | None = None
    courage: Unit | None = None
    altruism: Unit | None = None
    sight: float | None = Field(None, ge=0, le=100)
    hearing: float | None = Field(None, ge=0, le=140)
    halfbie: bool | None = Field(None, description="if bitten: true = always a halfbie, false = never")
    incubation: Duration | None = Field(None, description="if bitten: turns after this long (pinned)")
    hostile: bool | None = Field(None, description="as a halfbie: hunts humans")
    alone: bool = Field(
        False,
        description="true: not in the group of those spawned in the room; flees or hides by own courage",
    )
    note: str = ""


def _known_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}; expected one of {', '.join(sorted(KINDS))}")
    return kind


class EventConfig(Strict):
    """A timeline event, fired at a clock time, after a delay, or when a condition first holds."""

    kind: Annotated[str, AfterValidator(_known_kind)] = Field(
        description="what happens: one of the kinds in docs/scenarios.md (hyosan.timeline)"
    )
    at: DayClock | None = Field(
        None, description="clock time ('13:40'; 'day 2 04:00' on the run's second day)"
    )
    after: Duration | None = Field(None, description="delay after the start, or after `when` holds")
    when: str | None = Field(
        None, description="condition such as 'infected >= 0.5', 'humans <= 20', 'zombies >= 100'"
    )
    area: str | None = Field(None, description="room or spawn area; '*' for the whole map")
    who: str | None = Field(
        None,
        description="patient_zero, bite: a named character, or 'role:NAME' (the nearest of that role); "
        "default: anyone in area",
    )
    by: str | None = Field(
        None, description="bite: the named character who bites (a zombie or halfbie by then)"
    )
    seeks: str | None = Field(
        None, description="patient_zero: a room they walk to for help (e.g. the infirmary), then stay in"
    )
    level: float = Field(95.0, ge=0, le=140, description="dB of an alarm or broadcast")
    duration: Duration = Field("60s", description="how long an alarm sounds")
    text: str = Field("", description="what the chronicle says")

    @model_validator(mode="after")
    def _one_trigger(self) -> EventConfig:
        if self.at is not None and (self.after is not None or self.when is not None):
            raise ValueError("give either 'at', or 'after' and/or 'when'")
        if self.at is None and self.after is None and self.when is None:
            raise ValueError("give a trigger: 'at', 'after' or 'when'")
        if self.when is not None:
            parse_condition(self.when)
        if KINDS[self.kind].needs_area and self.area is None:
            raise ValueError(f"a {self.kind} event needs an 'area'")
        if self.kind == "patient_zero" and self.area is None and self.who is None:
            raise ValueError("patient_zero needs 'who' or 'area'")
        if self.kind == "bite" and (self.by is None or (self.who is None and self.area is None)):
            raise ValueError("a bite needs 'by' (who bites) and 'who' or 'area' (who is bitten)")
        return self


class Scenario(Strict):
    """A whole scenario file."""

    scenario: ScenarioInfo = Field(default_factory=ScenarioInfo)
    world: WorldConfig
    clock: ClockConfig = Field(default_factory=ClockConfig)
    roles: dict[str, RoleConfig] = Field(min_length=1)
    zombies: ZombieConfig = Field(default_factory=ZombieConfig)
    halfbies: HalfbieConfig = Field(default_factory=HalfbieConfig)
    infection: InfectionConfig = Field(default_factory=InfectionConfig)
    behaviour: BehaviourConfig = Field(default_factory=BehaviourConfig)
    goals: GoalsConfig = Field(default_factory=GoalsConfig)
    population: list[PopulationConfig] = Field(default_factory=list)
    characters: list[CharacterConfig] = Field(default_factory=list)
    events: list[EventConfig] = Field(default_factory=list)
    run: RunConfig = Field(default_factory=RunConfig)
    mechanics: dict[str, str | float | bool] = Field(
        default_factory=dict,
        description="the keys of the mechanics in use ([behaviour] mechanics), by name: see "
        "'Mechanics' below",
    )

    @model_validator(mode="before")
    @classmethod
    def _load_mechanics(cls, raw: object) -> object:
        _mechanics_of(raw)
        return raw

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        for i, p in enumerate(self.population):
            if p.role not in self.roles:
                raise ValueError(f"population[{i}].role: unknown role {p.role!r}")
        names = set()
        for i, c in enumerate(self.characters):
            if c.role not in self.roles:
                raise ValueError(f"characters[{i}].role: unknown role {c.role!r}")
            if c.name in names:
                raise ValueError(f"characters[{i}].name: {c.name!r} appears twice")
            names.add(c.name)
        for i, e in enumerate(self.events):
            if e.who is not None and e.who.startswith("role:"):
                if e.kind != "bite" or e.who.removeprefix("role:") not in self.roles:
                    raise ValueError(
                        f"events[{i}].who: 'role:NAME' names a role of a bite's victim "
                        f"(roles: {', '.join(self.roles)}), got {e.who!r}"
                    )
            elif e.who is not None and e.who not in names:
                raise ValueError(f"events[{i}].who: no character named {e.who!r}")
            if e.by is not None and e.by not in names:
                raise ValueError(f"events[{i}].by: no character named {e.by!r}")
        self._check_mechanics()
        if parse_duration(self.clock.tick) <= 0:
            raise ValueError("clock.tick: must be positive")
        # Sizes, before anything is allocated (hyosan.limits; each can be raised).
        for name in ("duration", "frame_every"):
            n = parse_duration(getattr(self.clock, name)) / self.tick_seconds
            if n > limits.MAX_TICKS.value():
                cap = limits.MAX_TICKS
                raise ValueError(
                    f"clock.{name}: would be {n:.4g} ticks, over the limit of "
                    f"{cap.value()} (raise it with {cap.name})"
                )
        agents = sum(p.count for p in self.population) + len(self.characters)
        if agents > limits.MAX_AGENTS.value():
            raise ValueError(
                f"population: {agents} agents, over the limit of {limits.MAX_AGENTS.value()} "
                f"(raise it with {limits.MAX_AGENTS.name})"
            )
        frames = self.n_ticks / max(1.0, parse_duration(self.clock.frame_every) / self.tick_seconds) + 1
        if frames * agents > limits.MAX_FRAME_VALUES.value():
            raise ValueError(
                f"clock.frame_every: {frames:.4g} frames x {agents} agents, over the limit of "
                f"{limits.MAX_FRAME_VALUES.value()} (record less often, or raise "
                f"{limits.MAX_FRAME_VALUES.name})"
            )
        return self

    def _check_mechanics(self) -> None:
        used = self.mechanic_list()
        names = {m.name for m in used}
        for i, e in enumerate(self.events):
            owner = KINDS[e.kind].owner
            if owner and owner not in names:
                raise ValueError(
                    f"events[{i}].kind: {e.kind!r} belongs to the mechanic {owner!r}: "
                    "list it in [behaviour] mechanics"
                )
        if self.mechanics and not used:
            key = sorted(self.mechanics)[0]
            raise ValueError(f"mechanics.{key}: no mechanic in use declares it ([behaviour] mechanics)")
        if used:
            from hyosan import mechanics  # loaded above by _mechanics_of (a user's module, numba)

            mechanics.key_values(used, self.mechanics)

    def mechanic_list(self) -> list:
        """The mechanics this scenario uses (:class:`hyosan.mechanics.Mechanic`), in order."""
        return _mechanics_of({"behaviour": {"mechanics": list(self.behaviour.mechanics)}})

    def mechanic_values(self) -> dict:
        """Every key of the mechanics in use: the scenario's value, else the default."""
        used = self.mechanic_list()
        if not used:
            return {}
        from hyosan import mechanics  # loaded above by _mechanics_of (a user's module, numba)

        return mechanics.key_values(used, self.mechanics)

    # -- derived times ----------------------------------------------------------------------
    @property
    def tick_seconds(self) -> float:
        return parse_duration(self.clock.tick)

    @property
    def start_seconds(self) -> float:
        return parse_clock(self.clock.start)

    @property
    def n_ticks(self) -> int:
        return round(parse_duration(self.clock.duration) / self.tick_seconds)

    def ticks(self, duration: str | float) -> int:
        """A duration in whole ticks (at least 0)."""
        return max(0, round(parse_duration(duration) / self.tick_seconds))

    def clock_tick(self, clock: str) -> int:
        """The tick of a clock time (times before the start wrap to the next day), or of a time
        on a day of the run ("day 2 04:00"; day 1 is the day the run starts; before the start,
        tick 0)."""
        day, seconds = parse_day_clock(clock)
        if day is not None:
            return max(0, round(((day - 1) * 86400 + seconds - self.start_seconds) / self.tick_seconds))
        delta = seconds - self.start_seconds
        if delta < 0:
            delta += 86400
        return round(delta / self.tick_seconds)
