"""What a compartment-model simulation returns: trajectories and their summaries as DataFrames."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hyosan.display import cards_html, png_data_url
from hyosan.io import save_figure

#: Quantiles of the ensemble bands (5/25/50/75/95 %).
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass
class ModelResult:
    """Runs of one model with one method and one parameter set.

    ``values`` has shape (runs, times, species); for the ODE there is one run, whose time axis
    may end early when a stop condition fired (``stopped_by``).
    """

    model: str
    method: str
    params: dict[str, float]
    t_end: float
    seed: int | None
    species: tuple[str, ...]
    humans: str
    zombies: str
    times: np.ndarray
    values: np.ndarray
    reactions_fired: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    r0: float | None = None
    stopped_by: str | None = None
    time_unit: str = "days"

    # -- tables ---------------------------------------------------------------------------------
    @property
    def runs(self) -> int:
        return int(self.values.shape[0])

    @property
    def trajectories(self) -> pd.DataFrame:
        """Tidy table: one row per (run, t), one column per species."""
        runs, n_t, _ = self.values.shape
        frame = pd.DataFrame(self.values.reshape(runs * n_t, -1), columns=list(self.species))
        frame.insert(0, "t", np.tile(self.times, runs))
        frame.insert(0, "run", np.repeat(np.arange(runs), n_t))
        return frame

    @property
    def trajectory(self) -> pd.DataFrame:
        """The first run's trajectory: one row per time, one column per species."""
        frame = pd.DataFrame(self.values[0], columns=list(self.species))
        frame.insert(0, "t", self.times)
        return frame

    @property
    def final(self) -> pd.DataFrame:
        """Final state of each run (index: run)."""
        return pd.DataFrame(self.values[:, -1, :], columns=list(self.species)).rename_axis("run")

    def final_stats(self) -> pd.DataFrame:
        """Mean, standard deviation and quantiles of the final state over runs."""
        final = self.final
        stats = final.agg(["mean", "std", "min", "max"]).T
        for q in QUANTILES:
            stats[f"q{round(q * 100):02d}"] = final.quantile(q)
        return stats

    def bands(self, quantiles: tuple[float, ...] = QUANTILES, runs: np.ndarray | None = None) -> pd.DataFrame:
        """Time-series quantile bands over runs: one row per (t, species).

        ``runs`` (a boolean mask over runs) limits them to some runs, e.g. those that took off.
        """
        values = self.values if runs is None else self.values[np.asarray(runs, dtype=bool)]
        if values.shape[0] == 0:
            raise ValueError("no run to compute bands over")
        qs = np.quantile(values, quantiles, axis=0)  # (Q, T, S)
        mean = values.mean(axis=0)
        rows = []
        for s, name in enumerate(self.species):
            part = pd.DataFrame({"t": self.times, "species": name, "mean": mean[:, s]})
            for k, q in enumerate(quantiles):
                part[f"q{round(q * 100):02d}"] = qs[k, :, s]
            rows.append(part)
        return pd.concat(rows, ignore_index=True)

    @property
    def zombies_extinct(self) -> np.ndarray:
        """Per run: the run ends with no zombies while humans remain (it died out).

        Read at the final state, which is never a strike instant (strikes fall before t_end).
        """
        z = self.species.index(self.zombies)
        h = self.species.index(self.humans)
        last = self.values[:, -1, :]
        return (last[:, z] < 0.5) & (last[:, h] >= 0.5)

    @property
    def zombies_extinct_fraction(self) -> float:
        """Fraction of runs that end with no zombies while humans remain."""
        return float(np.mean(self.zombies_extinct))

    @property
    def two_outcomes(self) -> bool:
        """An ensemble where some runs died out and others took off."""
        extinct = self.zombies_extinct
        return self.runs > 1 and bool(extinct.any()) and not bool(extinct.all())

    def conditional_bands(self, quantiles: tuple[float, ...] = QUANTILES) -> pd.DataFrame:
        """:meth:`bands` apart for the runs that took off and those that died out.

        One row per (outcome, t, species), ``outcome`` being ``"took off"`` or ``"died out"``
        (a group with no run is left out). In a two-outcome ensemble (Alemi near alpha = 1) the
        plain median mixes both and lies flat; these bands are what :meth:`plot` draws.
        """
        extinct = self.zombies_extinct
        parts = []
        for outcome, mask in (("took off", ~extinct), ("died out", extinct)):
            if mask.any():
                part = self.bands(quantiles, runs=mask)
                part.insert(0, "runs", int(mask.sum()))
                part.insert(0, "outcome", outcome)
                parts.append(part)
        return pd.concat(parts, ignore_index=True)

    # -- summaries --------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """The JSON-able summary printed by ``hyosan model --json``."""
        final = self.final.mean(axis=0) if self.runs > 1 else self.final.iloc[0]
        out: dict[str, Any] = {
            "model": self.model,
            "method": self.method,
            "params": dict(self.params),
            "t_end": self.t_end,
            "time_unit": self.time_unit,
            "runs": self.runs,
            "seed": self.seed,
            "final": {k: float(v) for k, v in final.items()},
            "t_final": float(self.times[-1]),
        }
        if self.runs > 1:
            out["zombies_extinct_fraction"] = self.zombies_extinct_fraction
            out["final_std"] = {k: float(v) for k, v in self.final.std(axis=0).items()}
        if self.r0 is not None:
            out["r0"] = self.r0
        if self.stopped_by is not None:
            out["stopped_by"] = self.stopped_by
        if self.reactions_fired.size:
            out["reactions_fired_mean"] = float(self.reactions_fired.mean())
        return out

    # -- notebooks ------------------------------------------------------------------------------
    def __repr__(self) -> str:
        final = self.final.mean(axis=0) if self.runs > 1 else self.final.iloc[0]
        state = ", ".join(f"{k} {v:.4g}" for k, v in final.items())
        runs = f"{self.runs} runs, mean " if self.runs > 1 else ""
        span = f"t = 0..{float(self.times[-1]):g} {self.time_unit}"
        return f"<ModelResult {self.model} ({self.method}), {span}: {runs}final {state}>"

    def _repr_html_(self) -> str:
        """Cards (final state, R0, extinction) and a small chart, for Jupyter."""
        final = self.final.mean(axis=0) if self.runs > 1 else self.final.iloc[0]
        cards: list[tuple[str, Any]] = [(f"{k} at the end", f"{v:.4g}") for k, v in final.items()]
        if self.r0 is not None:
            cards.append(("R0", f"{self.r0:.3g}"))
        if self.runs > 1:
            cards.append(("zombies died out", f"{self.zombies_extinct_fraction:.0%} of runs"))
        if self.stopped_by:
            cards.append(("stopped when", self.stopped_by))
        fig = self.plot()
        fig.set_size_inches(6.4, 2.8)
        params = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return cards_html(f"{self.model} ({self.method})", cards, png_data_url(fig), params)

    def plot(self, path: str | Path | None = None, title: str | None = None, samples: int = 3):
        """Trajectories (one run) or median with 5-95 % and 25-75 % bands (ensembles).

        In a two-outcome ensemble (:attr:`two_outcomes`) the median and bands are those of the
        runs that took off, ``samples`` runs of each outcome are drawn as thin lines (those that
        died out dashed), and the legend gives the fraction of runs in which zombies died out.
        """
        # Imported here: matplotlib is heavy: loaded when a figure is drawn.
        import matplotlib.pyplot as plt

        from hyosan.display import subplots

        fig, ax = subplots(figsize=(8, 4.5), dpi=110)
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        split = self.two_outcomes
        extinct = self.zombies_extinct
        took_off = ~extinct if split else np.ones(self.runs, dtype=bool)
        for s, name in enumerate(self.species):
            color = colors[s % len(colors)]
            if self.runs == 1:
                ax.plot(self.times, self.values[0, :, s], color=color, label=name)
                continue
            if split:
                for group, style in ((np.flatnonzero(~extinct), "-"), (np.flatnonzero(extinct), "--")):
                    for r in group[:samples]:
                        ax.plot(
                            self.times,
                            self.values[r, :, s],
                            color=color,
                            linestyle=style,
                            linewidth=0.7,
                            alpha=0.5,
                        )
            lo, q1, med, q3, hi = np.quantile(self.values[took_off, :, s], QUANTILES, axis=0)
            ax.fill_between(self.times, lo, hi, color=color, alpha=0.15, linewidth=0)
            ax.fill_between(self.times, q1, q3, color=color, alpha=0.3, linewidth=0)
            label = f"{name} (median of the runs that took off)" if split else f"{name} (median)"
            ax.plot(self.times, med, color=color, label=label)
        if self.runs > 1:
            died = f"zombies died out in {self.zombies_extinct_fraction:.0%} of runs"
            if split:
                died += "; thin lines: sample runs (died out: dashed)"
            ax.plot([], [], " ", label=died)
        ax.set_xlabel(f"time ({self.time_unit})")
        ax.set_ylabel("individuals")
        runs = f", {self.runs} runs" if self.runs > 1 else ""
        ax.set_title(title or f"{self.model} ({self.method}{runs})")
        ax.legend(loc="best", fontsize="small")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        if path is not None:
            save_figure(fig, path)
        return fig
