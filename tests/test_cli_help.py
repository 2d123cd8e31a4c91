"""`--help` as written: no markup accidents, no mid-sentence breaks, no contradictions; `hyosan
scenarios` lists scenarios, towns and models; `run --open` opens the report."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import typer

from conftest import run_cli
from hyosan.cli import app
from hyosan.lattice.scenario import BUILTINS as TOWNS
from hyosan.models import names as model_names

DATA = Path(__file__).parent / "data"
BOX = re.compile(r"[│╭╮╰╯─┃━┏┓┗┛┡┩╇┳┻╋┣┫]")
COMMANDS = sorted(typer.main.get_command(app).commands)


def flat(text: str) -> str:
    return " ".join(BOX.sub(" ", text).split())


def raw_command(name: str):
    """The command as declared (its docstring and helps before --help's tidying)."""
    return typer.main.get_command(app).commands[name]


@pytest.mark.parametrize("name", COMMANDS)
def test_help_shows_every_sentence_as_written(name, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    code, out, err = run_cli(capsys, name, "--help")
    assert code == 0, err
    command = raw_command(name)
    lines = [flat(line) for line in out.splitlines()]
    shown = flat(out)
    for paragraph in re.split(r"\n\s*\n", inspect.cleandoc(command.help or "")):
        text = flat(paragraph.replace("\\[", "["))
        assert text in shown, text  # brackets and all: nothing read as markup
        if len(text) < 200:  # fits the terminal: on one line, not broken where the docstring was
            assert text in lines, text
    for param in command.params:
        if getattr(param, "help", None):
            assert flat(param.help.replace("\\[", "[")) in shown, param.help


def test_extras_keep_their_brackets_at_80_columns(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert 'pip install "hyosan[studio]"' in run_cli(capsys, "studio", "--help")[1]
    assert 'pip install "hyosan[video]"' in flat(run_cli(capsys, "report", "--help")[1])
    assert 'pip install "hyosan[docs]"' in flat(run_cli(capsys, "docs", "--help")[1])


def test_branch_help_names_the_cordon_it_moves(capsys, monkeypatch):
    from hyosan.scenario import load_scenario

    monkeypatch.setenv("COLUMNS", "250")
    out = flat(run_cli(capsys, "branch", "--help")[1])
    assert "cordon at 10:00 instead of 13:00: --set events.cordon.at=10:00" in out
    cordon = next(e for e in load_scenario("hyosan-high").scenario.events if e.kind == "cordon")
    assert cordon.at == "13:00"  # what the help says it moves from


def test_root_help_lists_the_new_commands(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    out = run_cli(capsys, "--help")[1]
    for name in ("new", "docs", "scenarios", "run", "check"):
        assert re.search(rf"│ {name} +\S", out), name


def test_scenarios_lists_scenarios_towns_and_models(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = run_cli(capsys, "scenarios")
    assert code == 0, err
    assert "Built-in scenarios (hyosan run NAME)" in out and "hyosan-high" in out
    assert "Built-in towns (hyosan town NAME)" in out
    assert TOWNS and all(f"│ {t} " in out for t in TOWNS)
    assert "Compartment models (hyosan model NAME)" in out
    assert all(f"│ {m} " in out for m in model_names())


def test_run_open_opens_the_report_it_wrote(tmp_path, capsys, monkeypatch):
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: opened.append(url) or True)
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "run", str(DATA / "tiny_outbreak.toml"), "--out", str(out), "-q", "--open")
    assert code == 0, err
    assert opened == [(out / "report.html").absolute().as_uri()]
    assert (out / "report.html").stat().st_size > 10_000
    code, _, err = run_cli(capsys, "run", str(DATA / "tiny_outbreak.toml"), "--no-report", "--open")
    assert code == 2 and err == "error: --open: opens the report: drop --no-report\n"
    assert opened == [(out / "report.html").absolute().as_uri()]  # nothing more opened
