"""Analysis of one run: the transmission tree, reproduction numbers, survival, places, milestones.

Every function takes a :class:`~hyosan.results.Result` and returns a pandas object, so it works
the same on a fresh run and on one loaded from its folder. Survival uses SciPy's censored
``ecdf`` (Kaplan-Meier) and ``logrank``; nothing here re-implements a statistic SciPy has.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hyosan.states import Mode, State

if TYPE_CHECKING:
    from hyosan.results.result import Result

#: Kinds of timeline events that are milestones of the story.
MILESTONE_EVENTS = ("patient_zero", "alarm", "broadcast", "cordon", "lift_cordon", "rescue", "strike", "goal")


# -- transmission ------------------------------------------------------------------------------
def transmission_tree(result: Result) -> pd.DataFrame:
    """Who bit whom: one row per bitten agent, in the order of the bites.

    Columns: ``agent``, ``name``, ``role``, ``bitten_s``, ``biter`` (agent id; -2 = a scenario
    event, the first infection), ``biter_name``, ``generation`` (0 for the sources: agents infected
    by the scenario, and the biters who started as zombies or halfbies), ``room``, ``floor``,
    ``offspring`` (how many this agent bit) and ``fate``.
    """
    a = result.agents
    bitten = a[a["bitten_s"].notna()].sort_values(["bitten_s", "agent"], kind="stable")
    gen = np.full(len(a), -1, dtype=np.int64)
    gen[(a["start_state"] != "human").to_numpy()] = 0  # started as a zombie or halfbie
    biters = bitten["bitten_by"].to_numpy()
    victims = bitten["agent"].to_numpy()
    for v, b in zip(victims, biters, strict=True):  # in time order: a biter's generation is known
        gen[v] = 0 if b < 0 else gen[b] + 1
    bites = result.events[result.events["kind"] == "bite"].drop_duplicates("b", keep="first")
    where = bites.set_index("b")[["room", "floor"]].reindex(victims)
    offspring = np.bincount(biters[biters >= 0], minlength=len(a))
    return pd.DataFrame(
        {
            "agent": victims.astype(np.int32),
            "name": bitten["name"].to_numpy(),
            "role": bitten["role"].to_numpy(),
            "bitten_s": bitten["bitten_s"].to_numpy(),
            "biter": biters.astype(np.int32),
            "biter_name": bitten["bitten_by_name"].to_numpy(),
            "generation": gen[victims].astype(np.int32),
            "room": where["room"].to_numpy(),
            "floor": where["floor"].to_numpy(),
            "offspring": offspring[victims].astype(np.int32),
            "fate": bitten["fate"].to_numpy(),
        }
    ).reset_index(drop=True)


def offspring(result: Result) -> pd.Series:
    """The offspring distribution: how many infected agents bit 0, 1, 2... others.

    Infected agents are the bitten and those who started as zombies or halfbies. Agents still
    infectious at the end could have bitten more (right-censoring): read the tail with care.
    """
    a = result.agents
    infected = a["bitten_s"].notna() | (a["start_state"] != "human")
    tree = transmission_tree(result)
    per = np.bincount(tree["biter"][tree["biter"] >= 0], minlength=len(a))[infected.to_numpy()]
    dist = pd.Series(per).value_counts().sort_index()
    dist.index.name = "offspring"
    dist.name = "agents"
    return dist


def reproduction_number(result: Result, window_s: float = 600.0) -> pd.DataFrame:
    """The effective reproduction number over time, by infection cohort.

    Agents bitten in ``[t, t + window_s)`` form a cohort; ``R`` is the mean number of humans each
    of them went on to bite (the case reproduction number). Late cohorts had less time to bite
    before the run ended, so their ``R`` is a lower bound (column ``complete`` is False when the
    run ended less than a window after the cohort).
    """
    tree = transmission_tree(result)
    if tree.empty:
        return pd.DataFrame(columns=["time_s", "infected", "secondary", "R", "complete"])
    t0 = np.floor(tree["bitten_s"] / window_s) * window_s
    grouped = tree.groupby(t0)
    out = pd.DataFrame({"infected": grouped.size(), "secondary": grouped["offspring"].sum()})
    out.index.name = "time_s"
    out = out.reset_index()
    out["R"] = out["secondary"] / out["infected"]
    out["complete"] = out["time_s"] + 2 * window_s <= result.duration_s
    return out


# -- survival -------------------------------------------------------------------------------
def survival_times(result: Result) -> pd.DataFrame:
    """Time to losing one's humanity (bitten, or killed by a strike), for those who start human.

    Censored (``observed`` False) at escape, rescue or the end of the run: after that we do not
    know what became of them. Columns: ``agent``, ``role``, ``adult``, ``group`` ("humans"),
    ``time_s``, ``observed``.
    """
    a = result.agents
    humans = a[a["start_state"] == "human"]
    bitten = humans["bitten_s"].to_numpy()
    fate = humans["fate"].to_numpy()
    fate_s = humans["fate_s"].to_numpy()
    died = (fate == "dead") & np.isnan(bitten)
    left = np.isin(fate, ("escaped", "rescued")) & np.isnan(bitten)
    time = np.where(~np.isnan(bitten), bitten, np.where(died | left, fate_s, result.duration_s))
    return pd.DataFrame(
        {
            "agent": humans["agent"].to_numpy(),
            "role": humans["role"].astype(str).to_numpy(),
            "adult": humans["adult"].to_numpy(),
            "time_s": time.astype(float),
            "observed": ~np.isnan(bitten) | died,
        }
    )


def kaplan_meier(time: np.ndarray, observed: np.ndarray) -> pd.DataFrame:
    """Kaplan-Meier survival with a 95 % confidence band (SciPy's ``ecdf`` on censored data).

    Returns ``time_s`` (0 and every observed event time), ``survival``, ``lower``, ``upper``.
    """
    time = np.asarray(time, dtype=float)
    observed = np.asarray(observed, dtype=bool)
    if not observed.any():
        return pd.DataFrame({"time_s": [0.0], "survival": [1.0], "lower": [1.0], "upper": [1.0]})
    # scipy.stats takes half a second to import: loaded when survival is first asked for, so
    # that a sweep's workers (which record milestones, never survival) do without it.
    from scipy import stats

    data = stats.CensoredData(uncensored=time[observed], right=time[~observed])
    sf = stats.ecdf(data).sf
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # Undefined at S = 0 or 1 (Greenwood's formula): those ends of the band are 0 and 1.
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = sf.confidence_interval(0.95)
    return pd.DataFrame(
        {
            "time_s": np.r_[0.0, sf.quantiles],
            "survival": np.r_[1.0, sf.probabilities],
            "lower": np.r_[1.0, np.nan_to_num(ci.low.probabilities, nan=0.0)],
            "upper": np.r_[1.0, np.nan_to_num(ci.high.probabilities, nan=1.0)],
        }
    )


def _labels(times: pd.DataFrame, by: str) -> pd.Series:
    if by == "adult":
        return times["adult"].map({True: "adults", False: "students"})
    if by == "role":
        return times["role"]
    raise ValueError(f"survival by {by!r}: use 'adult' or 'role'")


def survival(result: Result, by: str = "adult") -> pd.DataFrame:
    """Kaplan-Meier curves by ``adult`` (adults vs students) or ``role``, plus "everyone".

    One row per (``group``, event time): ``group``, ``time_s``, ``survival``, ``lower``,
    ``upper``, and ``n`` (agents in the group).
    """
    times = survival_times(result)
    labels = _labels(times, by)
    parts = []
    for label in ["everyone", *sorted(labels.unique())]:
        sel = times if label == "everyone" else times[labels == label]
        km = kaplan_meier(sel["time_s"].to_numpy(), sel["observed"].to_numpy())
        parts.append(km.assign(group=label, n=len(sel)))
    return pd.concat(parts, ignore_index=True)[["group", "n", "time_s", "survival", "lower", "upper"]]


def logrank(result: Result, by: str = "adult") -> dict:
    """The log-rank test between the two groups of ``by`` (adults vs students by default).

    Returns ``{"groups": [..], "statistic": z, "pvalue": p}``; None values when a group is
    empty or has no events (the test says nothing then).
    """
    times = survival_times(result)
    labels = _labels(times, by)
    groups = sorted(labels.unique())
    out = {"groups": groups, "statistic": None, "pvalue": None}
    if len(groups) != 2:
        return out
    from scipy import stats  # (lazily: see kaplan_meier)

    data = []
    for g in groups:
        sel = times[labels == g]
        obs = sel["observed"].to_numpy()
        data.append(
            stats.CensoredData(uncensored=sel["time_s"][obs].to_numpy(), right=sel["time_s"][~obs].to_numpy())
        )
    if not times["observed"].any():
        return out
    test = stats.logrank(data[0], data[1])
    out["statistic"] = float(test.statistic)
    out["pvalue"] = float(test.pvalue)
    return out


def groups_over_time(result: Result) -> pd.DataFrame:
    """The story's season-2 comparison: the human group (human, bitten) vs the zombie group
    (zombies and halfbies) over time, plus escaped, rescued and dead."""
    return result.totals()[["human_group", "zombie_group", "escaped", "rescued", "dead"]]


# -- places ----------------------------------------------------------------------------------
def places(result: Result) -> pd.DataFrame:
    """Where people were bitten, turned, died, hid and survived: one row per (floor, room).

    - ``bitten``, ``turned``: where the bites and turns happened;
    - ``died``: where zombies were destroyed and people killed by a strike;
    - ``hid``: agents seen hidden (barricaded in) in that room, each counted once per room;
    - ``survived``: where survivors last stood (the exit they left by, the roof they were lifted
      from, or where they were at the end).
    """
    ev = result.events
    parts = []
    for column, kinds in (("bitten", ("bite",)), ("turned", ("turn",)), ("died", ("kill", "death"))):
        sel = ev[ev["kind"].isin(kinds)]
        parts.append(pd.DataFrame({"floor": sel["floor"], "room": sel["room"], "what": column}))
    hidden = result.frame_modes == Mode.HIDDEN
    hidden &= np.isin(result.frame_states, (State.HUMAN, State.BITTEN))
    f_idx, agent = np.nonzero(hidden)
    if agent.size:
        cells = np.unique(np.stack([agent, result.frame_cells[f_idx, agent]], axis=1), axis=0)
        place = result.world.place(cells[:, 1])
        by_room = pd.DataFrame({"agent": cells[:, 0], "floor": place["floor"], "room": place["room"]})
        by_room = by_room.drop_duplicates(["agent", "floor", "room"])
        parts.append(pd.DataFrame({"floor": by_room["floor"], "room": by_room["room"], "what": "hid"}))
    a = result.agents
    alive = a[a["fate"].isin(("human", "escaped", "rescued")) & (a["start_state"] == "human")]
    parts.append(pd.DataFrame({"floor": alive["last_floor"], "room": alive["last_room"], "what": "survived"}))
    long = pd.concat(parts, ignore_index=True).dropna(subset=["floor"])
    cols = ["bitten", "turned", "died", "hid", "survived"]
    if long.empty:
        return pd.DataFrame(columns=["floor", "room", *cols])
    table = long.groupby(["floor", "room", "what"], observed=True).size().unstack("what", fill_value=0)
    table = table.reindex(columns=cols, fill_value=0).reset_index()
    order = {f: i for i, f in enumerate(result.world.floors)}
    table["_f"] = table["floor"].map(order)
    return table.sort_values(["_f", "room"]).drop(columns="_f").reset_index(drop=True)


def places_by_floor(result: Result) -> pd.DataFrame:
    """:func:`places` summed per floor, floors in map order."""
    table = places(result)
    cols = ["bitten", "turned", "died", "hid", "survived"]
    out = table.groupby("floor")[cols].sum().reindex(result.world.floors, fill_value=0)
    out.index.name = "floor"
    return out.reset_index()


def heat_grid(result: Result, what: str) -> np.ndarray:
    """A (floors, H, W) count of where ``what`` (bitten, turned or died) happened, tile by tile."""
    kinds = {"bitten": ("bite", "b"), "turned": ("turn", "a"), "died": ("kill", "b")}
    if what not in kinds:
        raise ValueError(f"heat map of {what!r}: use one of {', '.join(kinds)}")
    ev = result.events
    cells = ev.loc[ev["kind"] == kinds[what][0], "cell"].to_numpy()
    if what == "died":
        cells = np.r_[cells, ev.loc[ev["kind"] == "death", "cell"].to_numpy()]
    cells = cells[cells >= 0]
    grid = np.bincount(cells, minlength=result.world.tiles.size)[: result.world.tiles.size]
    return grid.reshape(result.world.shape)


# -- milestones -----------------------------------------------------------------------------
def infected_times(result: Result) -> np.ndarray:
    """Sorted times at which agents were bitten (the curve behind "x % infected")."""
    return np.sort(result.agents["bitten_s"].dropna().to_numpy())


def milestones(result: Result) -> pd.DataFrame:
    """The story's milestones in time order: ``key``, ``label``, ``time_s`` (NaN: never).

    First bite and turn; 10, 50 and 90 % of everyone infected (bitten); the last human (human
    or bitten) on each floor, for floors that had people and lost them all; the timeline's
    alarms, cordon, rescues and strikes as they fired; the end of the human group.
    """
    ev = result.events
    rows: list[tuple[str, str, float]] = []

    def first(kind: str) -> float:
        t = ev.loc[ev["kind"] == kind, "time_s"]
        return float(t.min()) if len(t) else math.nan

    rows.append(("first_bite", "first bite", first("bite")))
    rows.append(("first_turn", "first to turn", first("turn")))
    bitten = infected_times(result)
    n = result.n_agents
    for pct in (10, 50, 90):
        need = max(1, math.ceil(n * pct / 100))
        t = float(bitten[need - 1]) if bitten.size >= need else math.nan
        rows.append((f"infected_{pct}", f"{pct} % of everyone infected", t))
    humanlike = np.isin(result.frame_states, (State.HUMAN, State.BITTEN)) & (result.frame_cells >= 0)
    _, h, w = result.world.shape
    floor_of = np.where(result.frame_cells >= 0, result.frame_cells // (h * w), -1)
    times = result.frame_ticks * result.tick_seconds
    for f, name in enumerate(result.world.floors):
        on = (humanlike & (floor_of == f)).any(axis=1)
        if on.any() and not on[-1]:
            last = int(np.flatnonzero(on)[-1])
            rows.append((f"last_human_{name}", f"last human on {name}", float(times[last])))
    seen: dict[str, int] = {}
    fired: set[tuple[str, float]] = set()
    for item in result.timeline:
        if item["kind"] not in MILESTONE_EVENTS or item["fired_s"] is None:
            continue
        if (item["kind"], item["fired_s"]) in fired:  # one alarm ringing in four places is one
            continue
        fired.add((item["kind"], item["fired_s"]))
        seen[item["kind"]] = seen.get(item["kind"], 0) + 1
        key = item["kind"] + (f"_{seen[item['kind']]}" if seen[item["kind"]] > 1 else "")
        label = item["text"] or item["kind"].replace("_", " ") + (
            f" ({item['area']})" if item["area"] else ""
        )
        rows.append((key, label, float(item["fired_s"])))
    totals = result.totals()
    gone = totals.index[totals["human_group"].to_numpy() == 0]
    if len(gone) and totals["human_group"].iloc[0] > 0:
        rows.append(("no_humans_left", "no humans left in the school", float(gone[0])))
    table = pd.DataFrame(rows, columns=["key", "label", "time_s"])
    return table.sort_values("time_s", kind="stable", na_position="last").reset_index(drop=True)
