"""The summary of a school run (summary.json), computed from what the recorder captured.

One function, :func:`summarise`, used by the Result (``Result.summary()``) and through it by the
ensemble runner's rows: a run has one summary.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hyosan.states import EVENT_NAMES, STATE_NAMES, State

#: Final states in which a never-bitten human counts as a survivor (the bitten who escaped or
#: were rescued are counted apart: they are infected, and the rescue isolates them).
SURVIVED = (State.HUMAN, State.ESCAPED, State.RESCUED)


def _half_infected_tick(bitten_at: np.ndarray) -> int | None:
    """The tick by which half of all agents had been bitten (None if never)."""
    n = bitten_at.size
    bitten = np.sort(bitten_at[bitten_at >= 0])
    need = (n + 1) // 2
    return int(bitten[need - 1]) if n and bitten.size >= need else None


def survivors(agent_role, agent_state, role_names, adult_roles, bitten_at=None) -> dict[str, dict[str, Any]]:
    """Adults vs students (every role that is not an adult): how many survived never bitten
    (``survived``), and how many bitten ones are still human, escaped or rescued (``bitten``:
    infected, no survivors). Without ``bitten_at`` nobody counts as bitten."""
    adult = np.isin(agent_role, [role_names.index(r) for r in adult_roles])
    alive = np.isin(agent_state, SURVIVED)
    bitten = np.zeros(agent_state.size, bool) if bitten_at is None else np.asarray(bitten_at) >= 0
    out = {}
    for label, mask in (("adults", adult), ("students", ~adult)):
        total = int(mask.sum())
        kept = int((mask & alive & ~bitten).sum())
        out[label] = {
            "total": total,
            "survived": kept,
            "fraction": kept / total if total else None,
            "bitten": int((mask & alive & bitten).sum()),
        }
    return out


def summarise(
    *,
    meta: dict[str, Any],
    counts: np.ndarray,
    events: pd.DataFrame,
    agent_role: np.ndarray,
    agent_state: np.ndarray,
    bitten_at: np.ndarray,
    role_names: list[str],
    adult_roles: list[str],
) -> dict[str, Any]:
    """The JSON-able summary: ``meta`` (scenario, title, seed, version, tick_s, start_clock_s)
    plus what the run's arrays say. ``counts`` is (ticks run + 1, states, roles); ``events`` has
    the recorder's columns (tick, kind, a, b, cell)."""
    tick_s = float(meta["tick_s"])
    last = counts[-1]
    by_state = last.sum(axis=1)
    turns = events.tick[events.kind == "turn"]
    first_turn = int(turns.min()) if len(turns) else None
    half = _half_infected_tick(bitten_at)
    kinds = events.kind.value_counts()
    return {
        **{k: meta[k] for k in ("scenario", "title", "seed", "version")},
        "duration_s": (counts.shape[0] - 1) * tick_s,
        "tick_s": tick_s,
        "start_clock_s": meta["start_clock_s"],
        "agents": int(agent_state.size),
        "population": {r: int((agent_role == i).sum()) for i, r in enumerate(role_names)},
        "final": {name: int(by_state[s]) for s, name in enumerate(STATE_NAMES)},
        "final_by_role": {
            role: {name: int(last[s, r]) for s, name in enumerate(STATE_NAMES)}
            for r, role in enumerate(role_names)
        },
        "first_turn_s": None if first_turn is None else first_turn * tick_s,
        "half_infected_s": None if half is None else half * tick_s,
        "survivors": survivors(agent_role, agent_state, role_names, adult_roles, bitten_at),
        "bitten_alive": {
            name: int(((agent_state == st) & (bitten_at >= 0)).sum())
            for name, st in (("human", State.HUMAN), ("escaped", State.ESCAPED), ("rescued", State.RESCUED))
        },
        "groups": {
            "human_group": int(by_state[State.HUMAN] + by_state[State.BITTEN]),
            "zombie_group": int(by_state[State.ZOMBIE] + by_state[State.HALFBIE]),
            "escaped": int(by_state[State.ESCAPED]),
            "rescued": int(by_state[State.RESCUED]),
            "dead": int(by_state[State.DEAD]),
        },
        "events": {k: int(kinds.get(k, 0)) for k in EVENT_NAMES},
    }
