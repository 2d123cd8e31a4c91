"""The ``hyosan model`` command: output, JSON fields, figures and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import run_cli
from hyosan import models


def test_list_shows_catalogue(capsys):
    code, out, _ = run_cli(capsys, "model", "--list")
    assert code == 0
    for name in ("munz-basic", "munz-quarantine", "munz-impulsive", "alemi-latent"):
        assert name in out


def test_json_has_the_promised_fields(capsys):
    code, out, _ = run_cli(capsys, "model", "munz-quarantine", "--json", "--set", "kappa=0.05")
    assert code == 0
    data = json.loads(out)
    for key in ("model", "method", "params", "t_end", "runs", "final", "r0"):
        assert key in data
    assert data["params"]["kappa"] == 0.05
    assert data["params"]["beta"] == 0.0095  # every parameter, not only the overridden
    assert set(data["final"]) == {"S", "I", "Z", "R", "Q"}
    assert data["r0"] < 1


def test_json_ensemble_mean_and_extinct_fraction(capsys):
    args = ["model", "alemi", "--method", "ssa", "--runs", "40", "--seed", "3", "--json"]
    code, out, _ = run_cli(capsys, *args, "--t-end", "50")
    data = json.loads(out)
    assert code == 0 and data["runs"] == 40 and data["t_end"] == 50
    # The numbers are those of the runs themselves (the Python API, same seed), recomputed here.
    r = models.get("alemi").simulate("ssa", runs=40, seed=3, t_end=50)
    final = r.values[:, -1, :]
    z_alive = final[:, r.species.index("Z")] > 0
    assert data["zombies_extinct_fraction"] == pytest.approx(1 - z_alive.mean())
    assert 0 < data["zombies_extinct_fraction"] < 1  # both outcomes happen at this seed
    for k, name in enumerate(r.species):
        assert data["final"][name] == pytest.approx(final[:, k].mean())
        assert data["final_std"][name] == pytest.approx(final[:, k].std(ddof=1))  # sample std
    assert sum(data["final"].values()) == pytest.approx(1000)  # S + Z + R = N is conserved
    again = json.loads(run_cli(capsys, *args, "--t-end", "50")[1])
    assert again == data  # same seed, same numbers


def test_table_output_and_plot(capsys, tmp_path):
    png = tmp_path / "fig.png"
    code, out, _ = run_cli(capsys, "model", "alemi", "-m", "tau", "-n", "10", "--plot", str(png))
    assert code == 0
    assert "zombies died out" in out and "R0" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".*tmp"))  # written atomically, nothing left behind


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["model", "zombieland"], "unknown model 'zombieland'"),
        (["model", "alemi", "--set", "gamma=1"], "--set: gamma: unknown parameter"),
        (["model", "alemi", "--set", "alpha=-0.5"], "--set: alpha: must be a finite number >= 0"),
        (["model", "alemi", "--set", "alpha=lots"], "--set: alpha: not a number"),
        (["model", "alemi", "--set", "alpha"], "--set: expected KEY=VALUE"),
        (["model", "alemi", "--method", "euler"], "unknown method 'euler'"),
        (["model", "alemi", "--runs", "5"], "the ODE is deterministic"),
        (["model", "alemi", "--stop", "Q<1"], "unknown species 'Q'"),
    ],
)
def test_bad_input_one_line_exit_2(args, needle):
    proc = subprocess.run(
        [sys.executable, "-m", "hyosan", *args], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_bad_flag_type_exits_2_without_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "hyosan", "model", "alemi", "--runs", "many"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "--runs" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_readme_stop_example_and_a_stop_true_at_the_start(capsys):
    """README's `hyosan model alemi --set alpha=2 --set Z0=5 --stop "Z<1"` stops after the start;
    a condition already true at t = 0 is one line and exit status 2."""
    code, out, _ = run_cli(capsys, "model", "alemi", "--set", "alpha=2", "--set", "Z0=5", "--stop", "Z<1")
    assert code == 0
    assert "stopped when Z<1 at t = 1.62" in out
    code, out, err = run_cli(capsys, "model", "alemi", "--set", "alpha=2", "--set", "Z0=5", "--stop", "Z<10")
    assert code == 2
    assert err.strip().splitlines() == [
        "error: --stop: Z<10 already holds at t = 0 (Z = 5): "
        "a stop condition ends the run when it becomes true"
    ]


def test_list_has_the_papers_impulsive_eradication(capsys):
    code, out, _ = run_cli(capsys, "model", "--list", "--json")
    assert code == 0
    assert "munz-impulsive-reset" in json.loads(out)


def test_a_plot_that_fails_half_way_leaves_the_old_figure(capsys, tmp_path, monkeypatch):
    """--plot writes through a temporary file: a savefig that dies after writing half leaves the
    previous figure's bytes as they were."""
    from matplotlib.figure import Figure

    png = tmp_path / "fig.png"
    assert run_cli(capsys, "model", "alemi", "-m", "ode", "--plot", str(png))[0] == 0
    before = png.read_bytes()

    def half_then_fail(self, fname, **kw):
        with open(fname, "wb") as f:
            f.write(b"\x89PNG half a figure")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", half_then_fail)
    code, _, err = run_cli(capsys, "model", "alemi", "-m", "ode", "--plot", str(png))
    assert code != 0 and "fig.png" in err
    assert png.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]
