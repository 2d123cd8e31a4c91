"""The kinds of timeline event a scenario may use, and what each needs (the schema's side).

The engine's side (what each kind does) is :mod:`hyosan.timeline`, whose ``register`` adds a
new kind to both at once; the built-in kinds are declared here so that a scenario validates
without loading the engine.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KindSpec:
    """A timeline event kind: its name, whether it needs an ``area``, and what it does."""

    name: str
    needs_area: bool = False
    doc: str = ""
    owner: str = ""  # the mechanic that adds it (hyosan.mechanics); "" for the built-in and timeline's


#: Kind name -> spec.
KINDS: dict[str, KindSpec] = {}


def register_kind(spec: KindSpec) -> None:
    KINDS[spec.name] = spec


for _spec in (
    KindSpec(
        "patient_zero", doc="the first bite (the lab rat's): a named character `who`, or anyone in `area`"
    ),
    KindSpec(
        "bite",
        doc="a scripted bite: the character `by` (turned by then) bites `who` (a name or 'role:NAME'), "
        "or the human nearest them in `area`; nothing if `by` is no longer a threat",
    ),
    KindSpec("alarm", True, "a sound of `level` dB for `duration`, from `area` ('*': heard everywhere)"),
    KindSpec("broadcast", True, "an announcement: an alarm from `area`, which becomes everyone's goal"),
    KindSpec("goal", True, "everyone alert heads for `area`"),
    KindSpec("lock", True, "lock the doors of `area`"),
    KindSpec("unlock", True, "unlock (and close) the doors of `area`"),
    KindSpec("open", True, "open the doors of `area`"),
    KindSpec("close", True, "close the doors of `area`"),
    KindSpec("barricade", True, "barricade the doors of `area`"),
    KindSpec("cordon", doc="the army seals the exits"),
    KindSpec("lift_cordon", doc="the exits open again"),
    KindSpec("rescue", True, "everyone human (bitten or not) in `area` is taken away"),
    KindSpec("strike", True, "everyone on the map in `area` dies"),
):
    register_kind(_spec)
