"""Notebook display helpers shared by every result type: cards of numbers and a small chart.

Kept apart from the results and the models (it imports neither), so that a compartment model's
result can show itself without importing the school engine, and the reverse.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any


def png_data_url(fig, dpi: int = 80) -> str:
    """A figure as a ``data:image/png`` URL (and closes it)."""
    import matplotlib.pyplot as plt  # lazy: only a result being displayed pays for matplotlib

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


CARD_CSS = (
    "display:inline-block;border:1px solid #ddd;border-radius:6px;padding:4px 10px;margin:2px;"
    "min-width:6em;background:#fff;color:#222"
)


def cards_html(title: str, cards: list[tuple[str, Any]], chart: str | None, note: str = "") -> str:
    """Numbers as cards, then a small chart: what a notebook shows for a result."""
    e = html.escape
    items = "".join(
        f'<div style="{CARD_CSS}"><b style="font-size:1.3em;display:block">{e(str(v))}</b>{e(k)}</div>'
        for k, v in cards
    )
    img = f'<img alt="{e(title)}" style="max-width:560px;width:100%" src="{chart}">' if chart else ""
    extra = f'<div style="color:#666;font-size:.9em">{e(note)}</div>' if note else ""
    return f'<div class="hyosan-result"><b>{e(title)}</b>{extra}<div>{items}</div>{img}</div>'


# -- figures that show themselves in Jupyter ------------------------------------------------------
def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (there, matplotlib's inline backend must stay)."""
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    import sys

    return "ipykernel" in sys.modules


def headless_backend() -> None:
    """Draw off-screen (Agg) in scripts and the CLI; leave a notebook's backend alone, so that
    figures appear under the cells that draw them."""
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    import matplotlib

    if not in_notebook():
        matplotlib.use("Agg", force=False)


def _figure_class():
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    from matplotlib.figure import Figure

    class HyosanFigure(Figure):
        """A matplotlib Figure that shows itself once in Jupyter, assigned to a name or not.

        Under the inline backend an open figure is displayed when the cell that made it ends
        (``fig = result.plot()`` shows it), and a bare ``result.plot()`` would be displayed a
        second time by the cell's result. Whichever display comes first closes the figure in
        pyplot and shows it as a PNG, so the other finds nothing left to show.
        """

        def _ipython_display_(self) -> None:
            # lazy: loaded only when this runs (a light import of the module above, or a cycle)
            # lazy: loaded only when this runs (a light import of the module above, or a cycle)
            import matplotlib.pyplot as plt
            from IPython.display import Image, display

            if any(m.canvas.figure is self for m in plt._pylab_helpers.Gcf.get_all_fig_managers()):
                plt.close(self)  # shown now: the end of the cell must not show it again
            display(Image(data=self._repr_png_()))

        def _repr_png_(self) -> bytes:
            buf = io.BytesIO()
            self.savefig(buf, format="png", dpi=80, bbox_inches="tight")
            return buf.getvalue()

    return HyosanFigure


_FIGURE_CLASS = None


def subplots(*args: Any, **kwargs: Any):
    """``plt.subplots`` for hyosan's ``plot()`` methods: off-screen outside notebooks, and a
    figure that shows itself once in Jupyter (:func:`_figure_class`)."""
    global _FIGURE_CLASS
    headless_backend()
    # lazy: loaded only when this runs (a light import of the module above, or a cycle)
    import matplotlib.pyplot as plt

    if _FIGURE_CLASS is None:
        _FIGURE_CLASS = _figure_class()
    return plt.subplots(*args, FigureClass=_FIGURE_CLASS, **kwargs)
