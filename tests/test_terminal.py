"""The terminal talks: the first-run compile notice, warmup, errors that name the nearest key,
--help without type tags, sweep tables that fit, and the sweep's start-up and report steps."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from conftest import run_cli
from hyosan import cli, warmup
from hyosan.ensemble import cli as ens_cli

TINY = Path(__file__).parent / "data" / "tiny_outbreak.toml"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("zombie.bite_prob=0.2", "unknown key 'zombie'; did you mean 'zombies.bite_prob'?"),
        ("zombies.bite_prb=0.2", "did you mean 'bite_prob'?"),
        ("roles.student.couage=0.5", "did you mean 'courage'?"),
        ("population.0.cont=3", "did you mean 'count'?"),
        ("zombies.bite_prob=1.5", "must be at least 0 and at most 1, got 1.5"),
        ("behaviour.humans=flea", "'flea' is not allowed; choose one of flee, wander (did you mean 'flee'?)"),
    ],
)
def test_validation_errors_name_the_field_the_allowed_values_and_the_nearest_key(capsys, override, expected):
    code, out, err = run_cli(capsys, "check", str(TINY), "--set", override)
    assert code == 2 and out == ""
    line = err.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith("error: --set: ") and expected in line
    assert "Extra inputs are not permitted" not in line and "Input should be" not in line


def test_unknown_key_lists_the_valid_keys_of_its_table(capsys):
    _, _, err = run_cli(capsys, "check", str(TINY), "--set", "clock.durration=1h")
    assert "did you mean 'duration'?" in err and "valid keys here: start, duration, tick" in err


def test_help_has_no_type_tags(capsys):
    for command in ([], ["run"], ["model"], ["sweep"], ["report"], ["sensitivity"], ["warmup"]):
        code, out, _ = run_cli(capsys, *command, "--help")
        assert code == 0
        assert not re.search(r"<(bool|str|int|float|path|list\[str\])>", out), command
    _, out, _ = run_cli(capsys, "run", "--help")
    assert re.search(r"--quiet\s+-q\s+No progress bar", out)  # a flag: no value after it
    assert re.search(r"--seed\s+INTEGER", out)


def test_first_run_says_it_is_compiling(monkeypatch, tmp_path, capsys):
    screen = io.StringIO()
    monkeypatch.setattr(cli, "err_console", Console(file=screen, force_terminal=True, width=200))
    monkeypatch.setattr(warmup, "kernels_cached", lambda: False)
    code, _, _ = run_cli(capsys, "run", str(TINY), "--out", str(tmp_path / "run"), "--no-report")
    assert code == 0
    text = screen.getvalue()
    assert "compiling the kernels (first run only, usually under a minute" in text
    assert "hyosan warmup" in text


def test_kernels_cached_reads_hyosan_s_kernel_cache(monkeypatch, tmp_path):
    monkeypatch.setattr(warmup, "CACHE_DIR", tmp_path / "key")
    assert warmup.kernels_cached() is False
    (tmp_path / "key" / "rules").mkdir(parents=True)
    (tmp_path / "key" / "rules" / "tick.run_ticks-151.py311.nbi").write_bytes(b"")
    assert warmup.kernels_cached() is True


def test_sweep_table_fits_the_terminal_and_shows_its_steps(monkeypatch, tmp_path, capsys):
    from hyosan.ensemble.sweep import sweep

    result = sweep(str(TINY), tmp_path / "store", runs=2, vary={"zombies.bite_prob": [0.3, 0.9]}, workers=0)
    for width in (80, 100, 120):
        screen = io.StringIO()
        monkeypatch.setattr(ens_cli, "console", Console(file=screen, width=width))
        ens_cli.print_sweep(result)
        text = screen.getvalue()
        assert max(len(line) for line in text.splitlines()) <= width
        for word in ("students", "survived", "zombies", "infected", "bite"):  # never cut inside a word
            assert word in text, (width, word)
    # the start-up shows before the first run ends, the report step after the last
    screen = io.StringIO()
    monkeypatch.setattr(ens_cli, "err_console", Console(file=screen, force_terminal=True, width=160))
    with ens_cli.progress_bar("sweep tiny", quiet=False) as bar:
        assert bar is not None
    assert "starting the workers" in screen.getvalue()
    ens_cli._report(tmp_path / "store", as_json=False)
    assert "writing the report" in screen.getvalue()


def test_scheduler_without_the_dask_extra_is_one_clear_line(monkeypatch, capsys, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name.split(".")[0] in ("distributed", "dask"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    code, _, err = run_cli(
        capsys,
        "model",
        "alemi",
        "--method",
        "ssa",
        "--runs",
        "2",
        "--scheduler",
        "local",
        "--out",
        str(tmp_path / "store"),
        "--quiet",
    )
    assert code == 2
    assert err.strip() == 'error: --scheduler: needs the dask extra: pip install "hyosan[dask]"'


def test_studio_without_its_extra_is_one_clear_line(monkeypatch, capsys):
    import builtins
    import sys

    real_import = builtins.__import__

    def no_starlette(name, *args, **kwargs):
        if name.split(".")[0] in ("starlette", "uvicorn"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "hyosan.studio.server", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_starlette)
    code, _, err = run_cli(capsys, "studio", "--no-open")
    assert code == 2
    assert err.strip() == 'error: studio: needs the studio extra: pip install "hyosan[studio]"'


# ---- saying what will take long -----------------------------------------------------------------


def test_durations_and_estimates_in_words():
    from hyosan.progress import duration_text, estimate_text

    assert [duration_text(s) for s in (0.2, 45, 89, 90, 1000, 3600, 4800)] == [
        "1 s",
        "45 s",
        "89 s",
        "2 min",
        "17 min",
        "1 h",
        "1 h 20 min",
    ]
    # 200 runs of 10 s on 2 workers: 100 rounds
    assert estimate_text(200, 10.0, 2) == "200 runs, about 17 min at ~10 s a run on 2 workers"
    assert estimate_text(1, 0.5, 4) == "1 run, about 1 s at ~0.5 s a run on 4 workers"


def _bar_text(description: str, width: int = 80) -> str:
    from hyosan.progress import new_progress

    clock = iter(range(0, 10_000, 5))  # each call: 5 s later
    screen = Console(file=io.StringIO(), width=width, record=True)
    bar = new_progress(screen, get_time=lambda: float(next(clock)))
    task = bar.add_task(description, total=200, failed=0)
    for _ in range(10):
        bar.update(task, advance=1)
    bar.update(task, failed=3)
    screen.print(bar.make_tasks_table(bar.tasks))
    return screen.export_text()


@pytest.mark.parametrize("width", [80, 100])
def test_a_sweep_s_bar_fits_80_columns_and_cuts_only_its_name(width):
    text = _bar_text("sweep hyosan-high-with-a-very-long-scenario-name", width)
    lines = text.rstrip("\n").splitlines()
    assert len(lines) == 1 and len(lines[0]) <= width, lines
    line = lines[0]
    assert "10/200 3 failed" in line  # the counts, whole
    assert re.search(r"\d:\d\d:\d\d ~\d:\d\d:\d\d left", line), line  # elapsed and left, whole
    assert "sweep hyosan-high-w…" in line  # only the name is cut, with an ellipsis
    assert "…" not in line.split("sweep hyosan-high-w…")[1]


def test_the_estimate_is_said_before_the_runs_start(monkeypatch, tmp_path):
    from hyosan import progress
    from hyosan.ensemble.sweep import Tally

    monkeypatch.setenv("HYOSAN_CACHE_DIR", str(tmp_path))
    progress.remember_run_s("scenario:hyosan-high", 10.0)
    assert progress.remembered_run_s("scenario:hyosan-high") == 10.0
    screen = io.StringIO()
    monkeypatch.setattr(ens_cli, "err_console", Console(file=screen, width=80))
    tally = Tally(total=200, executor="local processes, 2 workers", workers=2)
    with ens_cli.progress_bar("sweep hyosan-high", quiet=False, target="scenario:hyosan-high") as update:
        update(tally)
        assert (
            "200 runs, about 17 min at ~10 s a run on 2 workers; local processes, 2 workers"
            in screen.getvalue()
        )
        assert "Ctrl+C stops, the same command resumes" in screen.getvalue()
    # never timed: it says so, and the estimate follows the first run
    screen = io.StringIO()
    monkeypatch.setattr(ens_cli, "err_console", Console(file=screen, width=80))
    with ens_cli.progress_bar("sweep tiny", quiet=False, target="scenario:tiny") as update:
        update(Tally(total=256, executor="in this process"))
        assert "256 runs on in this process; an estimate follows the first run" in screen.getvalue()
        update(Tally(total=256, done=1, executor="in this process"))
        assert re.search(r"the first run took \d+ s: about .+ more for the other 255", screen.getvalue())
    for line in screen.getvalue().splitlines():
        assert len(line) <= 80


def test_a_sweep_remembers_how_long_its_runs_took(monkeypatch, tmp_path):
    from hyosan import progress
    from hyosan.ensemble.sweep import sweep

    result = sweep(str(TINY), tmp_path / "store", runs=2, workers=0)
    monkeypatch.setenv(
        "HYOSAN_CACHE_DIR", str(tmp_path / "cache")
    )  # after the runs: their kernels' cache stays
    ens_cli._remember(result.spec.kind, result.spec.target, result.runs)
    seconds = progress.remembered_run_s(f"{result.spec.kind}:{result.spec.target}")
    assert seconds == pytest.approx(float(result.runs["elapsed_s"].median()), abs=1e-4)
    assert json.loads((tmp_path / "cache" / "run-times.json").read_text()) == {
        f"{result.spec.kind}:{result.spec.target}": round(seconds, 4)
    }


def test_the_video_reports_its_frames(tmp_path_factory, tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    import results_school as rs
    from hyosan.progress import frames_bar
    from hyosan.report.video import write_video

    result = rs.run_result(tmp_path_factory)
    calls = []
    write_video(result, tmp_path / "run.mp4", size=(320, 240), progress=lambda d, t: calls.append((d, t)))
    frames = len(result.frame_ticks)
    assert calls[0] == (1, frames) and calls[-1] == (frames, frames) and len(calls) == frames
    # the bar the CLI shows, at 80 columns
    screen = io.StringIO()
    with frames_bar(Console(file=screen, width=80, force_terminal=True), "video run.mp4") as update:
        update(frames // 2, frames)
    assert f"{frames // 2}/{frames}" in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
