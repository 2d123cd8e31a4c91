"""A town or country run's self-contained report.html, in the school report's look.

Sections: the summary (cards), the animated map (people and zombies per cell on colour scales
with their legends, water and mountains, roads, the cordon lines, the strike areas, the places),
charts over time (everyone by compartment; people and zombies by district) with the timeline's
events marked and a playhead that follows the map (a click on a chart moves the map there), the
districts in words and the chronicle.

Everything is inlined (the maps as zlib-compressed bytes inflated by the browser's
DecompressionStream, the charts as SVG, a small script): the page loads nothing from anywhere and
works from ``file://``. A big lattice (a country) is drawn on a coarser grid of block sums so the
page stays small: at most :data:`MAX_MAP_CELLS` cells a map (1500 x 900 becomes 750 x 450).
"""

from __future__ import annotations

import base64
import html
import math
import time
import zlib
from pathlib import Path

import numpy as np

from hyosan.io import write_text
from hyosan.lattice.events import area_mask, clock
from hyosan.palette import STATE_COLOURS
from hyosan.report.replay import PAGE_CSP, embed_json
from hyosan.report.svg import SVG_CSS, time_chart
from hyosan.report.theme import PAGE_CSS

e = html.escape

#: The map shown in the report has at most this many cells (block sums of the lattice's cells).
MAX_MAP_CELLS = 400_000
#: zlib level of the map frames (6: the default; the zombie maps, mostly zero, shrink a hundredfold).
ZLIB_LEVEL = 6
#: The compartments' colours: the palette's states (S people, E bitten, Z zombies, R removed).
SEZR_COLOURS = {
    "S": STATE_COLOURS["human"],
    "E": STATE_COLOURS["bitten"],
    "Z": STATE_COLOURS["zombie"],
    "R": STATE_COLOURS["dead"],
}
SEZR_NAMES = {"S": "people (S)", "E": "bitten (E)", "Z": "zombies (Z)", "R": "removed (R)"}
#: Districts' lines: a categorical scheme (Okabe-Ito, readable by the colour-blind), repeated.
DISTRICT_COLOURS = [
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#f0e442",
    "#000000",
    "#999",
]
#: Map colours: land, water and mountains (blocked), roads; people and zombies scale to these.
LAND, WATER, ROAD, PEOPLE, ZOMBIES = "#f3f1ea", "#9cc3e6", "#c9c4b8", "#1f6fe0", "#d62828"
#: The map's key (beside the colour scales).
_KEYS = (
    '<ul class="keys2">'
    f'<li><i style="background:{WATER}"></i>water and mountains</li>'
    f'<li><i style="background:{ROAD}"></i>road</li>'
    '<li><i style="background:#e0a800"></i>cordon (while up)</li>'
    '<li><i style="background:#fff;border:2px dashed #6d597a"></i>strike</li>'
    '<li><i style="background:#19a974"></i>camp</li></ul>'
)
#: Column names of the district table, in words.
DISTRICT_COLUMNS = {
    "district": "district",
    "people": "people at the start",
    "first_arrival_days": "first infected",
    "fell_days": "fell (under a tenth human)",
    "humans_left": "people left",
}

_CSS = """
.townmap{position:relative;margin:.4rem 0}
.townmap canvas{display:block;width:100%;height:auto;image-rendering:pixelated;background:#f3f1ea;border:1px solid #ddd}
.bar{display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1rem;margin:.4rem 0}
.bar button{min-height:2.2rem;min-width:5.5em;font:inherit;cursor:pointer}
.bar input[type=range]{flex:1 1 16rem;min-width:10rem;margin:0}
#clock{font-weight:600;font-variant-numeric:tabular-nums}
.scales{display:flex;flex-wrap:wrap;gap:.5rem 2rem;font-size:.85rem;margin:.3rem 0}
.scale{min-width:12rem;flex:1 1 14rem;max-width:22rem}
.scale .ramp{height:.8rem;border:1px solid #ccc}
.scale .ticks{display:flex;justify-content:space-between;color:#444;font-variant-numeric:tabular-nums}
.keys2{display:flex;flex-wrap:wrap;gap:.2rem 1rem;font-size:.85rem;list-style:none;padding:0;margin:.3rem 0}
.keys2 i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-.1em;border:1px solid #999}
ol.chron li{margin:.15rem 0}
"""  # noqa: E501

_SCRIPT = r"""
(async () => {
const D = JSON.parse(document.getElementById('town-data').textContent);
const H = D.height, W = D.width, N = H * W;
const cv = document.getElementById('map'), ctx = cv.getContext('2d');
function bytes(b64) {
  const s = atob(b64), a = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
  return a;
}
async function inflate(b64) {
  const stream = new Blob([bytes(b64)]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
const frames = await Promise.all(D.frames.map(async f => ({t: f.t, label: f.label, s: await inflate(f.s), z: await inflate(f.z)})));
const blocked = await inflate(D.blocked), roads = await inflate(D.roads);
const rgb = h => [1, 3, 5].map(k => parseInt(h.slice(k, k + 2), 16));
const [land, water, road, people, zombies] = [D.colours.land, D.colours.water, D.colours.road, D.colours.people, D.colours.zombies].map(rgb);
const slider = document.getElementById('frame'); slider.max = frames.length - 1;
// The canvas holds the map at a whole number of pixels a cell, at least 600 px wide (crisp lines).
const scale = Math.max(1, Math.ceil(600 / W));
cv.width = W * scale; cv.height = H * scale;
const img = ctx.createImageData(W, H);
const off = document.createElement('canvas'); off.width = W; off.height = H;
const mix = (a, b, f) => a + (b - a) * f;
function draw(k) {
  const f = frames[k];
  for (let i = 0; i < N; i++) {
    let c;
    if (blocked[i]) c = water;
    else {
      const base = roads[i] ? road : land;
      const s = f.s[i] / 255, z = Math.min(1, f.z[i] / 255 * 1.25);
      c = [0, 1, 2].map(j => mix(mix(base[j], people[j], s * 0.85), zombies[j], z));
    }
    img.data[4*i] = c[0]; img.data[4*i+1] = c[1]; img.data[4*i+2] = c[2]; img.data[4*i+3] = 255;
  }
  off.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, W * scale, H * scale);
  ctx.lineWidth = Math.max(2, scale / 2); ctx.strokeStyle = '#e0a800';
  for (const c of D.cordons) if (c.t0 <= f.t && f.t < c.t1) {
    ctx.beginPath();
    for (const [y, x, dir] of c.edges) {
      if (dir === 0) { ctx.moveTo((x + 1) * scale, y * scale); ctx.lineTo((x + 1) * scale, (y + 1) * scale); }
      else { ctx.moveTo(x * scale, (y + 1) * scale); ctx.lineTo((x + 1) * scale, (y + 1) * scale); }
    }
    ctx.stroke();
  }
  for (const s of D.strikes) if (s.t <= f.t) {
    ctx.strokeStyle = '#6d597a'; ctx.lineWidth = Math.max(2, scale / 2); ctx.setLineDash([6, 4]); ctx.beginPath();
    ctx.arc((s.x + 0.5) * scale, (s.y + 0.5) * scale, Math.max(s.r, 0.5) * scale, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  ctx.font = `600 ${Math.max(12, Math.round(W * scale / 60))}px system-ui, sans-serif`;
  ctx.textBaseline = 'middle'; ctx.lineJoin = 'round';
  for (const p of D.places) {
    const x = (p.x + 0.5) * scale, y = (p.y + 0.5) * scale, r = Math.max(3, scale);
    ctx.fillStyle = p.name === 'camp' ? '#19a974' : '#1b1f27';
    ctx.fillRect(x - r, y - r, 2 * r, 2 * r);
    const w = ctx.measureText(p.name).width;
    const tx = x + r + 4 + w > cv.width ? x - r - 4 - w : x + r + 4;
    ctx.lineWidth = 4; ctx.strokeStyle = 'rgba(255,255,255,.9)'; ctx.strokeText(p.name, tx, y);
    ctx.fillStyle = '#1b1f27'; ctx.fillText(p.name, tx, y);
  }
  const tot = D.totals[k];
  document.getElementById('clock').textContent = `${f.label} · people ${tot.S.toLocaleString('en')} · bitten ${tot.E.toLocaleString('en')} · zombies ${tot.Z.toLocaleString('en')}`;
  slider.value = k; window.townFrame = k;
  for (const line of document.querySelectorAll('svg.chart-svg .town-playhead')) {
    const a = line.ownerSVGElement.dataset;
    const x = Number(a.px0) + (f.t - Number(a.x0)) / ((Number(a.x1) - Number(a.x0)) || 1) * (Number(a.px1) - Number(a.px0));
    line.setAttribute('x1', x.toFixed(1)); line.setAttribute('x2', x.toFixed(1));
  }
}
const nearest = t => { let best = 0; frames.forEach((f, k) => { if (Math.abs(f.t - t) < Math.abs(frames[best].t - t)) best = k; }); return best; };
for (const svg of document.querySelectorAll('svg.chart-svg[data-x0]')) {
  const a = svg.dataset;
  const line = document.createElementNS(svg.namespaceURI, 'line');
  line.setAttribute('class', 'town-playhead'); line.setAttribute('y1', a.py0); line.setAttribute('y2', a.py1);
  line.setAttribute('stroke', '#1b1f27'); line.setAttribute('stroke-width', '2'); line.style.pointerEvents = 'none';
  svg.append(line); svg.style.cursor = 'pointer';
  svg.addEventListener('click', ev => {
    const r = svg.getBoundingClientRect(), vx = (ev.clientX - r.left) / r.width * svg.viewBox.baseVal.width;
    const t = Number(a.x0) + (vx - Number(a.px0)) / (Number(a.px1) - Number(a.px0)) * (Number(a.x1) - Number(a.x0));
    stop(); draw(nearest(t));
  });
}
let timer = null;
const button = document.getElementById('play');
function stop() { if (timer) { clearInterval(timer); timer = null; } button.textContent = 'Play'; }
button.onclick = () => {
  if (timer) { stop(); return; }
  button.textContent = 'Pause';
  timer = setInterval(() => { const k = +slider.value + 1; if (k >= frames.length) { stop(); return; } draw(k); }, 200);
};
slider.oninput = () => { stop(); draw(+slider.value); };
draw(0);
window.townReady = true;
})().catch(err => { document.getElementById('clock').textContent = 'The map could not be shown: ' + err.message; window.townReady = 'error'; throw err; });
"""  # noqa: E501


def _pack(q: np.ndarray) -> str:
    return base64.b64encode(zlib.compress(np.ascontiguousarray(q, np.uint8).tobytes(), ZLIB_LEVEL)).decode()


def map_factor(shape: tuple[int, int], max_cells: int | None = None) -> int:
    """The block size that brings a (height, width) map to at most ``max_cells`` cells
    (:data:`MAX_MAP_CELLS` unless given)."""
    max_cells = MAX_MAP_CELLS if max_cells is None else max_cells
    return max(1, math.ceil(math.sqrt(shape[0] * shape[1] / max_cells)))


def _blocks(x: np.ndarray, k: int, how: str = "sum") -> np.ndarray:
    """``x`` (H, W) in k x k blocks: their sums (or any/all), the edges padded."""
    if k == 1:
        return x
    h, w = x.shape
    hp, wp = -h % k, -w % k
    fill = 1 if how == "all" else 0
    x = np.pad(x, ((0, hp), (0, wp)), constant_values=fill)
    b = x.reshape((h + hp) // k, k, (w + wp) // k, k)
    if how == "all":
        return b.all(axis=(1, 3))
    if how == "any":
        return b.any(axis=(1, 3))
    return b.sum(axis=(1, 3), dtype=np.float64)


def _quantise(x: np.ndarray, top: float) -> np.ndarray:
    """Counts as 0-255 on a square-root scale of ``top`` (0 stays 0; any count above 0 at least 1)."""
    q = np.sqrt(np.maximum(x, 0) / max(top, 1.0)) * 255.0
    return np.where(x > 0, np.clip(np.ceil(q), 1, 255), 0).astype(np.uint8)


def _scale_html(title: str, colour: str, top: float, per: str) -> str:
    """A colour ramp with its ticks: the square-root scale the map uses, from 0 to ``top``."""
    ticks = [0.0, 0.0625, 0.25, 0.5625, 1.0]  # equal steps on the square-root scale
    labels = "".join(f"<span>{_count(top * f)}</span>" for f in ticks)
    return (
        f'<div class="scale"><div>{e(title)} {e(per)}</div>'
        f'<div class="ramp" style="background:linear-gradient(to right,{LAND},{colour})"></div>'
        f'<div class="ticks">{labels}</div></div>'
    )


def _count(v: float) -> str:
    if v >= 1e6:
        return f"{v / 1e6:.3g} M"
    if v >= 1e4:
        return f"{v / 1e3:.3g} k"
    return f"{v:,.0f}"


def _area_centre(lat, area: str) -> tuple[float, float, float]:
    if area.startswith("disc:"):
        y, x, r = (float(v) for v in area[5:].split(","))
        return y, x, r
    m = area_mask(lat, area)
    ys, xs = np.nonzero(m)
    if ys.size == 0:
        return 0.0, 0.0, 0.0
    return float(ys.mean()), float(xs.mean()), float(np.sqrt(ys.size / np.pi))


def _event_text(entry: dict) -> str:
    """An event as the scenario words it (its text), else its kind and area."""
    return str(entry.get("text") or f"{entry['kind']} ({entry.get('area', '*')})")


def _day_ticks(days: float, start_clock_s: float) -> list[float]:
    """Midnights (whole days of the clock), thinned to at most about eight."""
    first = math.ceil(start_clock_s / 86400 - 1e-9) - start_clock_s / 86400
    step = max(1, math.ceil(days / 8))
    return [first + k for k in range(0, int(days - first) + 1, step)]


def _charts(result, events: list[tuple[float, str]]) -> str:
    start = result.start_clock_s

    def day_text(t: float) -> str:
        return clock(t, start).replace(", 00:00", "")

    ticks = _day_ticks(result.days, start)
    counts = result.counts
    out = []
    if len(counts):
        t = counts["t"].to_numpy(dtype=float)
        lines = {SEZR_NAMES[k]: (counts[k].to_numpy(dtype=float), c) for k, c in SEZR_COLOURS.items()}
        out.append(
            time_chart(
                t,
                lines,
                title="Everyone, by compartment",
                y_label="people",
                x_text=day_text,
                x_ticks=ticks,
                events=events,
                chart_id="chart-totals",
            )
        )
    names = list(result.lattice.district_names)
    d = result.districts
    if len(names) > 1 and len(d):
        for key, what in (("S", "People (S)"), ("Z", "Zombies (Z)")):
            lines = {}
            for i, name in enumerate(names):
                rows = d[d["district"] == name]
                lines[name] = (rows[key].to_numpy(dtype=float), DISTRICT_COLOURS[i % len(DISTRICT_COLOURS)])
            x = d[d["district"] == names[0]]["t"].to_numpy(dtype=float)
            out.append(
                time_chart(
                    x,
                    lines,
                    title=f"{what} by district",
                    y_label="people" if key == "S" else "zombies",
                    x_text=day_text,
                    x_ticks=ticks,
                    events=events,
                    chart_id=f"chart-district-{key}",
                )
            )
    return "".join(out)


def _districts_table(result) -> str:
    ds = result.district_summary()
    start = result.start_clock_s
    head = "".join(f"<th>{e(DISTRICT_COLUMNS.get(c, c.replace('_', ' ')))}</th>" for c in ds.columns)
    rows = []
    for row in ds.to_dict("records"):
        cells = []
        for col, v in row.items():
            if col in ("first_arrival_days", "fell_days"):
                never = "never" if col == "first_arrival_days" else "held out"
                text = (
                    never if v is None or (isinstance(v, float) and math.isnan(v)) else clock(float(v), start)
                )
                cells.append(f"<td>{e(text)}</td>")
            elif isinstance(v, int | float | np.number):
                cells.append(f"<td>{int(v):,}</td>")
            else:
                cells.append(f'<td class="t">{e(str(v))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="scroll"><table id="districts"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def build_town_report(result) -> str:
    """The report of a :class:`~hyosan.lattice.result.TownResult` as one HTML string."""
    lat = result.lattice
    k = map_factor(lat.shape)
    live = ~lat.blocked
    blocked = _blocks(lat.blocked, k, "all")
    roads = _blocks(lat.roads if lat.roads is not None else np.zeros(lat.shape, bool), k, "any")
    snaps = result.snapshots
    h, w = lat.shape
    s_maps = [_blocks((a[0] + a[1]).reshape(h, w) * live, k) for _, a in snaps]
    z_maps = [_blocks(a[2].reshape(h, w) * live, k) for _, a in snaps]
    top_s = float(max([m.max(initial=0) for m in s_maps] + [1.0]))
    top_z = float(max([m.max(initial=0) for m in z_maps] + [1.0]))
    counts = result.counts
    times = counts["t"].to_numpy(dtype=float) if len(counts) else np.zeros(0)
    frames, totals = [], []
    for (t, _), s_map, z_map in zip(snaps, s_maps, z_maps, strict=True):
        frames.append(
            {
                "t": t,
                "label": clock(t, result.start_clock_s),
                "s": _pack(_quantise(s_map, top_s)),
                "z": _pack(_quantise(z_map, top_z)),
            }
        )
        i = int(np.argmin(np.abs(times - t))) if times.size else 0
        totals.append({c: int(counts[c].iloc[i]) if len(counts) else 0 for c in "SEZR"})
    cordons = []
    for i, entry in enumerate(result.log):
        if entry["kind"] != "cordon":
            continue
        lifted = [
            x["t"] for x in result.log[i + 1 :] if x["kind"] == "lift_cordon" and x["area"] == entry["area"]
        ]
        mask = _blocks(area_mask(lat, entry["area"]), k, "any")
        east = mask[:, :-1] != mask[:, 1:]
        south = mask[:-1, :] != mask[1:, :]
        edges = [[int(y), int(x), 0] for y, x in zip(*np.nonzero(east), strict=True)]
        edges += [[int(y), int(x), 1] for y, x in zip(*np.nonzero(south), strict=True)]
        cordons.append({"t0": entry["t"], "t1": lifted[0] if lifted else 1e300, "edges": edges})
    strikes = []
    for entry in result.log:
        if entry["kind"] == "strike":
            y, x, r = _area_centre(lat, entry["area"])
            strikes.append({"t": entry["t"], "y": y / k, "x": x / k, "r": r / k, "text": _event_text(entry)})
    data = {
        "height": int(blocked.shape[0]),
        "width": int(blocked.shape[1]),
        "factor": k,
        "blocked": _pack(blocked),
        "roads": _pack(roads),
        "frames": frames,
        "totals": totals,
        "cordons": cordons,
        "strikes": strikes,
        "places": [{"name": name, "y": v[0] // k, "x": v[1] // k} for name, v in lat.places.items()],
        "colours": {"land": LAND, "water": WATER, "road": ROAD, "people": PEOPLE, "zombies": ZOMBIES},
    }
    events = [(float(x["t"]), _event_text(x)) for x in result.log if x["kind"] != "seed" or x.get("text")]
    s = result.summary()
    card_html = _cards_html(s, counts, live)
    side = f"{lat.cell_m * k / 1000:g} km" if lat.cell_m * k >= 1000 else f"{lat.cell_m * k:g} m"
    per = f"per {side} {'block' if k > 1 else 'cell'}"
    coarse = (
        f" The map shows blocks of {k} x {k} cells ({blocked.shape[1]} x {blocked.shape[0]}); cells.nc has "
        "every cell."
        if k > 1
        else ""
    )
    scales = (
        '<div class="scales">'
        + _scale_html("people", PEOPLE, top_s, per)
        + _scale_html("zombies", ZOMBIES, top_z, per)
        + "</div>"
    )
    chronicle = "".join(f"<li>{e(line)}</li>" for line in result.chronicle())
    title = f"{lat.name}: seed {result.seed}"
    sub = (
        f"{h} x {w} cells of {lat.cell_m:g} m, {s['people']:,} people, {result.days:g} days from "
        f"{clock(0, result.start_clock_s)}; {result.method}, seed {result.seed}"
        + (f"; seeded from {result.seeded_from}" if result.seeded_from else "")
    )
    sections = [
        ("summary", "Summary", f'<div class="cards">{card_html}</div>'),
        (
            "map",
            "Map",
            '<div class="bar"><button id="play" type="button">Play</button>'
            '<input id="frame" type="range" min="0" value="0" aria-label="Time">'
            '<output id="clock"></output></div>'
            '<div class="townmap"><canvas id="map" role="img" '
            'aria-label="Map of people and zombies"></canvas></div>'
            f"{scales}{_KEYS}"
            f'<p class="sub">Colours use a square-root scale (a few zombies show).{coarse}</p>',
        ),
        ("charts", "Over time", _charts(result, events)),
        ("districts", "Districts", _districts_table(result)),
        ("chronicle", "Chronicle", f'<ol class="chron">{chronicle}</ol>'),
    ]
    nav = " ".join(f'<a href="#s-{key}">{e(label)}</a>' for key, label, _ in sections)
    body = "\n".join(
        f'<section id="s-{key}"><h2>{e(label)}</h2>\n{content}</section>' for key, label, content in sections
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{PAGE_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>{PAGE_CSS}\n{SVG_CSS}\n{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f'<h1>{e(lat.name)}</h1>\n<p class="sub">{e(sub)}</p>\n<nav>{nav}</nav>\n{body}\n</main>\n'
        f'<script type="application/json" id="town-data">{embed_json(data)}</script>\n'
        f"<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )


def _cards_html(s: dict, counts, live) -> str:
    """The summary cards of the town report."""
    final = s["final"]
    cards = [
        ("people at the start", f"{s['people']:,}"),
        ("people left, never bitten", f"{final.get('S', 0):,}"),
        ("zombies at the end", f"{final.get('Z', 0):,}"),
        ("removed (killed or struck)", f"{final.get('R', 0):,}"),
        ("peak zombies", f"{int(counts['Z'].max()) if len(counts) else 0:,}"),
        ("cells reached", f"{s['cells_reached']:,} of {int(live.sum()):,}"),
    ]
    return "".join(f'<div class="card"><b>{e(v)}</b><span>{e(label)}</span></div>' for label, v in cards)


def write_town_report(result, path: str | Path) -> Path:
    """Write the report for a :class:`~hyosan.lattice.result.TownResult` atomically."""
    t0 = time.perf_counter()
    write_text(path, build_town_report(result))
    result.extra["report_build_s"] = time.perf_counter() - t0
    return Path(path)
