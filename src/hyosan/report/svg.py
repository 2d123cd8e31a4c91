"""Small interactive charts as inline SVG: lines over time with the timeline's events marked.

Why SVG written here rather than a plotting library: the page must stay one offline file under a
Content-Security-Policy that forbids fetching, and a JavaScript charting library (Plotly is
3.5 MB, Vega 800 kB) would weigh more than the whole replay. An SVG with ``<title>`` elements
gives hover values in every browser without a line of script, scales to the page's width
(``viewBox``) and stays text a test can read. The static charts (survival, heat maps) stay
matplotlib PNGs.

Every text goes through :func:`html.escape`.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Callable, Mapping, Sequence

import numpy as np

e = html.escape

WIDTH, HEIGHT = 960, 300
PAD_L, PAD_R, PAD_T, PAD_B = 52, 16, 46, 42
#: Hover slices across the plot: each a transparent column whose title lists the values there.
MAX_SLICES = 160


def _nice_step(span: float, target: int = 5) -> float:
    raw = max(span, 1e-9) / target
    mag = 10 ** np.floor(np.log10(raw))
    return float(next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw))


def time_chart(
    x: np.ndarray,
    lines: Mapping[str, tuple[np.ndarray, str]],
    *,
    title: str,
    y_label: str,
    x_text: Callable[[float], str],
    x_ticks: Sequence[float],
    events: Sequence[tuple[float, str]] = (),
    chart_id: str = "",
    fill: bool = False,
) -> str:
    """A line chart of ``lines`` (name -> (y values, colour)) over ``x`` as inline SVG.

    ``x_text`` turns an x value into its label (a clock time); ``events`` are (x, label) drawn as
    dashed vertical lines, numbered, with the label on hover and in the legend below the chart.
    Hovering anywhere shows the time and every line's value there.
    """
    x = np.asarray(x, dtype=float)
    x0, x1 = (float(x.min()), float(x.max())) if x.size else (0.0, 1.0)
    if x1 <= x0:
        x1 = x0 + 1.0
    top = max([float(np.nanmax(y)) for y, _ in lines.values() if len(y)] + [1.0])
    step = _nice_step(top)
    top = step * np.ceil(top / step)
    pw, ph = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B

    def sx(v):
        return PAD_L + (np.asarray(v, dtype=float) - x0) / (x1 - x0) * pw

    def sy(v):
        return PAD_T + ph - np.asarray(v, dtype=float) / top * ph

    out = [
        f'<svg class="chart-svg" id="{e(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{e(title)}" xmlns="http://www.w3.org/2000/svg" '
        # The x axis in data and viewBox units: a page's script turns a click into a time.
        f'data-x0="{x0:g}" data-x1="{x1:g}" data-px0="{PAD_L}" data-px1="{PAD_L + pw}" '
        f'data-py0="{PAD_T}" data-py1="{PAD_T + ph}">',
        f"<title>{e(title)}</title>",
        f'<text x="{PAD_L}" y="18" class="t">{e(title)}</text>',
    ]
    for v in np.arange(0, top + step / 2, step):
        y = sy(v)
        out.append(
            f'<line x1="{PAD_L}" x2="{WIDTH - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" class="g"/>'
            f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" class="yl">{v:g}</text>'
        )
    for t in x_ticks:
        if x0 <= t <= x1:
            xx = sx(t)
            out.append(
                f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{PAD_T}" y2="{PAD_T + ph}" class="g"/>'
                f'<text x="{xx:.1f}" y="{HEIGHT - PAD_B + 16}" class="xl">{e(x_text(t))}</text>'
            )
    out.append(
        f'<text x="14" y="{PAD_T + ph / 2:.0f}" class="yt" transform="rotate(-90 14 {PAD_T + ph / 2:.0f})">'
        f"{e(y_label)}</text>"
    )
    # Thin the points to about two per horizontal pixel: the shape is the same, the file small.
    keep = (
        np.unique(np.linspace(0, x.size - 1, min(x.size, 2 * pw)).astype(int)) if x.size else np.zeros(0, int)
    )
    for name, (y, colour) in lines.items():
        y = np.asarray(y, dtype=float)
        pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(sx(x[keep]), sy(y[keep]), strict=True))
        if fill and len(keep):
            base = f"{sx(x[keep[-1]]):.1f},{sy(0):.1f} {sx(x[keep[0]]):.1f},{sy(0):.1f}"
            out.append(f'<polygon points="{pts} {base}" fill="{e(colour)}" fill-opacity="0.25"/>')
        out.append(
            f'<polyline points="{pts}" fill="none" stroke="{e(colour)}" stroke-width="2" '
            f'data-series="{e(name)}"><title>{e(name)}</title></polyline>'
        )
    # The timeline's events: dashed lines, numbered at the top.
    legend = []
    for k, (t, label) in enumerate(events, start=1):
        if not x0 <= t <= x1:
            continue
        xx = sx(t)
        text = f"{x_text(t)} {label}"
        out.append(
            f'<g class="ev" data-event="{e(label)}"><title>{k}. {e(text)}</title>'
            f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{PAD_T - 6}" y2="{PAD_T + ph}"/>'
            f'<circle cx="{xx:.1f}" cy="{PAD_T - 10}" r="7"/>'
            f'<text x="{xx:.1f}" y="{PAD_T - 6.5}">{k}</text></g>'
        )
        legend.append(text)
    # Hover: one transparent column per slice, titled with the values at its middle.
    n_slices = min(MAX_SLICES, max(1, x.size))
    edges = np.linspace(x0, x1, n_slices + 1)
    for a, b in itertools.pairwise(edges):
        i = int(np.clip(np.searchsorted(x, (a + b) / 2), 0, x.size - 1)) if x.size else 0
        values = ", ".join(f"{name} {np.asarray(y)[i]:g}" for name, (y, _) in lines.items()) if x.size else ""
        out.append(
            f'<rect class="hv" x="{sx(a):.1f}" y="{PAD_T}" width="{sx(b) - sx(a):.2f}" height="{ph}">'
            f"<title>{e(x_text(x[i]) if x.size else '')}: {e(values)}</title></rect>"
        )
    out.append("</svg>")
    keys = "".join(f'<span><i style="background:{e(c)}"></i>{e(n)}</span>' for n, (_, c) in lines.items())
    ev_list = "".join(f"<li>{e(t)}</li>" for t in legend)
    return (
        f'<figure class="svgfig">{"".join(out)}<figcaption><div class="keys">{keys}</div>'
        + (f'<ol class="events">{ev_list}</ol>' if ev_list else "")
        + "</figcaption></figure>"
    )


#: Style of the SVG charts (the page's <style>).
SVG_CSS = """
figure.svgfig{margin:.6rem 0;background:#fff;border:1px solid #eee;padding:.3rem}
svg.chart-svg{width:100%;height:auto;display:block;font:12px system-ui,sans-serif}
svg.chart-svg .t{font-size:14px;font-weight:600}
svg.chart-svg .g{stroke:#e5e5e5}
svg.chart-svg .yl{text-anchor:end;fill:#555}
svg.chart-svg .xl{text-anchor:middle;fill:#555}
svg.chart-svg .yt{text-anchor:middle;fill:#333}
svg.chart-svg .ev line{stroke:#444;stroke-dasharray:4 3}
svg.chart-svg .ev circle{fill:#444}
svg.chart-svg .ev text{fill:#fff;font-size:10px;text-anchor:middle}
svg.chart-svg .hv{fill:transparent}
svg.chart-svg .hv:hover{fill:rgba(31,111,224,.08)}
figure.svgfig .keys{display:flex;flex-wrap:wrap;gap:.2rem 1rem;font-size:.85rem}
figure.svgfig .keys i{display:inline-block;width:.9em;height:.25em;margin-right:.3em;vertical-align:.2em}
figure.svgfig ol.events{font-size:.8rem;color:#444;margin:.3rem 0 0;padding-left:1.6rem;columns:2 22rem}
"""
