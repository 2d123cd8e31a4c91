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
