"""The terminal talks: the first-run compile notice, warmup, errors that name the nearest key,
--help without type tags, sweep tables that fit, and the sweep's start-up and report steps."""

from __future__ import annotations

import io
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
