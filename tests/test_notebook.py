"""The notebook-friendly API: short reprs, HTML cards, plot(), sim.agents(), and the example
notebook executed from top to bottom."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import results_school as rs
from hyosan import models
from hyosan.results.plots import timeline_events
from hyosan.states import STATE_NAMES

NOTEBOOK = Path(__file__).parent.parent / "examples" / "outbreak_lesson.ipynb"


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return rs.run_result(tmp_path_factory)


def test_result_repr_is_one_short_line(result):
    text = repr(result)
    s = result.summary()
    assert "\n" not in text and len(text) < 220 and "{" not in text
    assert text.startswith(
        f"<Result {s['title']}, seed {rs.SEED}: {s['agents']} agents over 0.5 h from 08:00:00;"
    )
    assert f"human group {s['groups']['human_group']}" in text and f"dead {s['groups']['dead']}" in text


def test_result_html_has_cards_and_a_chart(result):
    page = result._repr_html_()
    s = result.summary()
    assert page.count("<b style") >= 8  # the cards
    assert f">{s['groups']['zombie_group']}</b>zombie group" in page
    assert re.search(r'<img [^>]*src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', page)
    assert rs.XSS not in page  # names are escaped (none is shown here, but nothing is raw)


def test_plot_draws_each_state_and_marks_the_timeline(result):
    fig = result.plot()
    ax = fig.axes[0]
    totals = result.totals()
    drawn = {line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")}
    assert drawn == {s for s in STATE_NAMES if totals[s].any()}
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    events = timeline_events(result)
    assert len(dashed) == len(events) >= 3  # alarm, cordon, rescue, strike
    assert {round(line.get_xdata()[0]) for line in dashed} == {round(t) for t, _ in events}
    assert ax.get_xticklabels()[0].get_text().count(":") == 1  # clock time
    fig2 = result.plot("roles", events=False, clock=False)
    assert {line.get_label() for line in fig2.axes[0].get_lines()} == {
        "students still human",
        "teachers still human",
    }
    with pytest.raises(ValueError, match="what must be"):
        result.plot("nope")


def test_plot_saves_a_file(result, tmp_path):
    result.plot("groups", path=tmp_path / "groups.svg")
    assert (tmp_path / "groups.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_model_result_repr_and_html():
    r = models.get("alemi").simulate("ssa", runs=20, seed=3)
    text = repr(r)
    assert text.startswith("<ModelResult alemi (ssa), t = 0..100 days: 20 runs, mean final S ")
    page = r._repr_html_()
    assert "zombies died out" in page and "S at the end" in page and "data:image/png;base64," in page


def test_sim_agents_reads_states_rooms_and_floors(tmp_path):
    from hyosan.engine import Simulation

    sim = Simulation(rs.loaded(tmp_path / "school"), seed=rs.SEED)
    sim.step(240)
    table = sim.agents()
    pop = sim.pop
    assert len(table) == pop.n and list(table["agent"]) == list(range(pop.n))
    assert list(table["state"].astype(str)) == [STATE_NAMES[s] for s in pop.state]
    assert set(table["role"].astype(str)) == {"student", "teacher"}
    on = pop.cell >= 0
    h, w = sim.world.tiles.shape[1:]
    assert (table.loc[on, "x"].to_numpy(dtype=int) == pop.cell[on] % w).all()
    assert list(table.loc[on, "floor"]) == [sim.world.floors[c // (h * w)] for c in pop.cell[on]]
    in_room = sim.world.room_id.reshape(-1)[np.where(on, pop.cell, 0)]
    for i in np.flatnonzero(on & (in_room >= 0)):
        assert table.loc[i, "room"] == sim.world.rooms[in_room[i]].name
    assert table.loc[~on, "floor"].isna().all()
    assert table["name"].str.contains("Nam On-jo").any()


@pytest.mark.slow
def test_example_notebook_runs_from_top_to_bottom():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    htmls = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert sum("hyosan-result" in h for h in htmls) >= 3  # Munz, Alemi, the school as cards
    # the gambler's ruin: the simulated extinction is close to alpha ** Z0
    # every plot() cell shows its figure once, with no %matplotlib anywhere
    assert not any("%matplotlib" in c.source for c in nb.cells if c.cell_type == "code")
    plot_cells = [c for c in nb.cells if c.cell_type == "code" and ".plot(" in c.source]
    assert len(plot_cells) >= 3
    for cell in plot_cells:
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(images) == 1, cell.source
        assert not any(
            "<Figure size" in o.get("data", {}).get("text/plain", "") for o in cell.outputs if not images
        )
    # the running simulation shows itself as cards
    assert any("(running)" in h for h in htmls)
    # the what-ifs say what their values do, read from the scenario (rate 0.5/s, courage 0.29)
    table = next(h for h in htmls if "what if" in h)
    assert "half as often (0.23 bites a second of contact, not 0.46)" in table
    assert "twice as brave (courage 0.58, not 0.29)" in table
    ruin = next(h for h in htmls if "alpha ** Z0" in h)
    cells = [float(v) for v in re.findall(r"<td>([0-9.]+)</td>", ruin)]
    for z0 in range(3):
        simulated, exact = cells[3 * z0 + 1], cells[3 * z0 + 2]
        assert abs(simulated - exact) < 0.08


def test_dir_lists_the_lazy_public_api():
    import hyosan

    shown = [n for n in dir(hyosan) if not n.startswith("_")]
    assert {"simulate", "load", "models", "Result", "HyosanError"} <= set(shown)
    assert set(shown) == set(hyosan.__all__) - {"__version__"}


def test_simulation_repr_html_and_plot(tmp_path):
    from hyosan.engine import Simulation

    sim = Simulation(rs.loaded(tmp_path / "school"), seed=rs.SEED)
    text = repr(sim)
    assert text.startswith(f"<Simulation {sim.scenario.scenario.name}, seed {rs.SEED}: 08:00:00, tick 0 of ")
    assert "object at 0x" not in text and "\n" not in text
    sim.step(240)
    now = sim.counts[240].sum(axis=1)
    assert f"tick 240 of {sim.n_ticks}; human {now[0]}" in repr(sim) and "08:04:00" in repr(sim)
    page = sim._repr_html_()
    assert "(running)" in page and ">08:04:00</b>clock" in page and "data:image/png;base64," in page
    fig = sim.plot()
    drawn = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert list(drawn["human"].get_ydata()) == list(sim.counts[:241, 0].sum(axis=1))


def test_figures_show_themselves_without_magic():
    import matplotlib

    fig = models.get("alemi").simulate("ode").plot()
    assert matplotlib.get_backend().lower() == "agg"  # a script draws off-screen
    png = fig._repr_png_()
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    assert hasattr(fig, "_ipython_display_")


@pytest.fixture(scope="module")
def town():
    from hyosan.lattice import load_town, simulate

    t = load_town("hyosan-city")
    return simulate(t.lattice, t.params, days=2.5, events=t.events, seed=1, method="tau")


def test_town_result_repr_html_and_plot(town):
    text = repr(town)
    assert "\n" not in text and len(text) < 250 and "array(" not in text
    final = town.totals[-1]
    assert text.startswith(f"<TownResult {town.lattice.name} (tau, seed 1): 2.5 days, ")
    assert f"zombies {final['Z']:,}" in text
    page = town._repr_html_()
    assert f">{final['Z']:,}</b>zombies at the end" in page and "data:image/png;base64," in page
    fig = town.plot()
    ax = fig.axes[0]
    labels = {line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")}
    assert {"people", "zombies"} <= labels
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == len(town.log) >= 2  # the seed and the cordon by day 2.5
    assert {round(line.get_xdata()[0], 6) for line in dashed} == {round(e["t"], 6) for e in town.log}
    fig2 = town.plot("districts", events=False)
    assert {line.get_label() for line in fig2.axes[0].get_lines()} == set(town.lattice.district_names)
    with pytest.raises(ValueError, match="what must be"):
        town.plot("nope")


def test_sweep_result_repr_html_and_plot(tmp_path):
    from hyosan.ensemble.sweep import model_sweep

    r = model_sweep("alemi", tmp_path / "s", method="ssa", runs=3, vary={"alpha": [0.5, 2.0]}, workers=0)
    assert repr(r) == f"<SweepResult model alemi: 6 of 6 runs, 2 parameter sets: alpha; 0 failed; {r.folder}>"
    page = r._repr_html_()
    assert ">6 of 6</b>runs finished" in page and "data:image/png;base64," in page
    fig = r.plot("Z")
    ax = fig.axes[0]
    medians = {line.get_label(): line.get_ydata() for line in ax.get_lines()}
    assert set(medians) == {"alpha=0.5", "alpha=2"}
    expected = r.bands[(r.bands.series == "Z") & (r.bands.set_id == 0)]["q50"].to_numpy()
    assert np.allclose(medians["alpha=0.5"], expected)
    assert len(r.plot().axes) == 3  # S, Z, R
    with pytest.raises(ValueError, match="series must be among"):
        r.plot("Q")
