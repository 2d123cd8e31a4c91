"""Saying what will take long: progress bars that fit 80 columns, and estimates before a long job.

A sweep's bar reads ``sweep hyosan-high ━━━━━━━━━━━━━━━━ 10/200  0:00:52  ~0:16:20 left``: the
description is cut with an ellipsis before anything else, so the counts and the times are never
cut. Before a multi-run command starts, one line says how many runs on how many workers and, when
an earlier sweep of the same target was timed, about how long (``200 runs, about 17 min at ~5 s a
run on 2 workers``); otherwise the estimate follows the first run. The seconds a run took are kept
per target in ``<cache>/run-times.json`` (the kernels' cache folder, ``$HYOSAN_CACHE_DIR`` to move
it): the median of the last sweep's runs, nothing else.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column
from rich.text import Text

#: The widest a description gets in a bar (then "…"): the rest of the bar takes 56 columns.
DESCRIPTION_WIDTH = 20
#: Above this many seconds a job is "long": its start line says that Ctrl+C stops it.
LONG_S = 60.0


def duration_text(seconds: float) -> str:
    """A duration in words a person reads at a glance: "45 s", "17 min", "1 h 20 min"."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


def estimate_s(runs: int, per_run_s: float, workers: int) -> float:
    """Wall time of ``runs`` runs of ``per_run_s`` each on ``workers`` workers (whole rounds)."""
    return math.ceil(runs / max(1, workers)) * per_run_s


def estimate_text(runs: int, per_run_s: float, workers: int) -> str:
    """ "200 runs, about 17 min at ~5 s a run on 2 workers"."""
    total = estimate_s(runs, per_run_s, workers)
    per = f"{per_run_s:.2g}" if per_run_s < 10 else f"{per_run_s:.0f}"
    return (
        f"{runs} run{'s' if runs != 1 else ''}, about {duration_text(total)} at ~{per} s a run "
        f"on {workers} worker{'s' if workers != 1 else ''}"
    )


def _times_file() -> Path:
    root = os.environ.get("HYOSAN_CACHE_DIR")
    base = Path(root) if root else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hyosan"
    return base / "run-times.json"


def remembered_run_s(target: str) -> float | None:
    """Seconds a run of ``target`` took in its last timed sweep, or None."""
    try:
        value = json.loads(_times_file().read_text(encoding="utf-8")).get(target)
    except (OSError, ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, int | float) and math.isfinite(value) and value > 0 else None


def remember_run_s(target: str, seconds: float) -> None:
    """Keep ``seconds`` as a run's time for ``target`` (best effort: a cache, never an error)."""
    if not (math.isfinite(seconds) and seconds > 0):
        return
    path = _times_file()
    try:
        times = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        if not isinstance(times, dict):
            times = {}
        times[target] = round(float(seconds), 4)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(times, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
    except (OSError, ValueError):
        pass


class LeftColumn(ProgressColumn):
    """The time left, "~0:16:20 left" (blank until the first step)."""

    def __init__(self) -> None:
        super().__init__(table_column=Column(no_wrap=True, min_width=13))

    def render(self, task: Task) -> Text:
        left = task.time_remaining
        if left is None or task.total is None or task.completed == 0:
            return Text("")
        h, rest = divmod(int(left), 3600)
        return Text(f"~{h}:{rest // 60:02d}:{rest % 60:02d} left", style="progress.remaining")


class CountColumn(ProgressColumn):
    """ "10/200", then " 3 failed" if any (blank while the total is unknown)."""

    def __init__(self) -> None:
        super().__init__(table_column=Column(no_wrap=True, min_width=7))

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text("")
        text = Text(f"{task.completed:.0f}/{task.total:.0f}", style="progress.download")
        failed = task.fields.get("failed", 0)
        if failed:
            text.append(f" {failed} failed", style="red")
        return text


def progress_columns() -> tuple[ProgressColumn, ...]:
    """A bar's columns, 80 columns wide at most: only the description is ever cut."""
    return (
        SpinnerColumn(table_column=Column(no_wrap=True, width=1)),
        TextColumn(
            "[bold]{task.description}",
            table_column=Column(no_wrap=True, overflow="ellipsis", max_width=DESCRIPTION_WIDTH),
        ),
        BarColumn(bar_width=16),
        CountColumn(),
        TimeElapsedColumn(),
        LeftColumn(),
    )


def new_progress(console: Console, transient: bool = True, get_time=None) -> Progress:
    """A :class:`rich.progress.Progress` with :func:`progress_columns` (``get_time``: a clock)."""
    return Progress(
        *progress_columns(), console=console, transient=transient, expand=False, get_time=get_time
    )


@contextlib.contextmanager
def frames_bar(console: Console, title: str, quiet: bool = False) -> Iterator:
    """A bar for a job of known steps (a video's frames): yields ``update(done, total)``."""
    if quiet:
        yield lambda done, total: None
        return
    with new_progress(console) as bar:
        task = bar.add_task(title, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
