"""A town run's self-contained report.html: an animated map (people and zombies per cell, the
river and blocked cells, roads, the cordon lines, the strike discs, the camp) and the counts.

Everything is inlined (data as JSON, drawing as a small script on a canvas): the page loads
nothing from anywhere.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np

from hyosan.io import write_text
from hyosan.lattice.events import area_mask, clock

_SCRIPT = r"""
const D = JSON.parse(document.getElementById('town-data').textContent);
const H = D.height, W = D.width, N = H * W;
const cv = document.getElementById('map'), ctx = cv.getContext('2d');
const scale = Math.max(2, Math.floor(640 / W));
cv.width = W * scale; cv.height = H * scale;
function bytes(b64) {
  const s = atob(b64), a = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
  return a;
}
const frames = D.frames.map(f => ({t: f.t, label: f.label, s: bytes(f.s), z: bytes(f.z)}));
const blocked = bytes(D.blocked), roads = bytes(D.roads);
const slider = document.getElementById('frame'); slider.max = frames.length - 1;
const img = ctx.createImageData(W, H);
const off = document.createElement('canvas'); off.width = W; off.height = H;
function draw(k) {
  const f = frames[k];
  for (let i = 0; i < N; i++) {
    let r, g, b;
    if (blocked[i]) { r = 70; g = 110; b = 170; }
    else { const s = f.s[i], z = f.z[i]; r = 20 + z * 0.9; g = 20 + s * 0.8 - z * 0.2; b = 30 + s * 0.3;
      if (roads[i] && s < 40 && z < 40) { r += 40; g += 40; b += 40; } }
    img.data[4*i] = r; img.data[4*i+1] = g; img.data[4*i+2] = b; img.data[4*i+3] = 255;
  }
  off.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, W * scale, H * scale);
  ctx.lineWidth = 2; ctx.strokeStyle = '#ffd400';
  for (const c of D.cordons) if (c.t0 <= f.t && f.t < c.t1) {
    ctx.beginPath();
    for (const [y, x, dir] of c.edges) {
      if (dir === 0) { ctx.moveTo((x + 1) * scale, y * scale); ctx.lineTo((x + 1) * scale, (y + 1) * scale); }
      else { ctx.moveTo(x * scale, (y + 1) * scale); ctx.lineTo((x + 1) * scale, (y + 1) * scale); }
    }
    ctx.stroke();
  }
  for (const s of D.strikes) if (s.t <= f.t) {
    ctx.strokeStyle = '#ff3b30'; ctx.setLineDash([4, 3]); ctx.beginPath();
    ctx.arc((s.x + 0.5) * scale, (s.y + 0.5) * scale, Math.max(s.r, 0.5) * scale, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  for (const p of D.places) {
    ctx.fillStyle = p.name === 'camp' ? '#4cd964' : '#ffffff';
    ctx.fillRect(p.x * scale, p.y * scale, scale, scale);
    ctx.fillText(p.name, (p.x + 1.2) * scale, (p.y + 0.8) * scale);
  }
  document.getElementById('clock').textContent = f.label + '  people ' + D.totals[k].S.toLocaleString()
    + '  zombies ' + D.totals[k].Z.toLocaleString();
  slider.value = k; window.townFrame = k;
}
let timer = null;
document.getElementById('play').onclick = () => {
  if (timer) { clearInterval(timer); timer = null; return; }
  timer = setInterval(() => { const k = (+slider.value + 1) % frames.length; draw(k); }, 150);
};
slider.oninput = () => draw(+slider.value);
ctx.font = '11px sans-serif';
draw(0);
window.townReady = true;
"""


def _quantise(x: np.ndarray, top: float) -> str:
    """Counts as 0-255 on a square-root scale of ``top`` (base64 of the bytes)."""
    q = np.clip(np.sqrt(np.maximum(x, 0) / max(top, 1.0)) * 255.0, 0, 255).astype(np.uint8)
    return base64.b64encode(q.tobytes()).decode("ascii")


def _area_centre(lat, area: str) -> tuple[float, float, float]:
    if area.startswith("disc:"):
        y, x, r = (float(v) for v in area[5:].split(","))
        return y, x, r
    m = area_mask(lat, area)
    ys, xs = np.nonzero(m)
    if ys.size == 0:
        return 0.0, 0.0, 0.0
    return float(ys.mean()), float(xs.mean()), float(np.sqrt(ys.size / np.pi))


def write_town_report(result, path: str | Path) -> Path:
    """Write the report for a :class:`~hyosan.lattice.result.TownResult` atomically."""
    lat = result.lattice
    top_s = float(max(lat.population.max(initial=1), 1))
    snaps = result.snapshots
    top_z = float(max([a[2].max(initial=0) for _, a in snaps] + [1]))
    counts = result.counts
    frames, totals = [], []
    for t, a in snaps:
        frames.append(
            {
                "t": t,
                "label": clock(t, result.start_clock_s),
                "s": _quantise(a[0] + a[1], top_s),
                "z": _quantise(a[2], top_z),
            }
        )
        i = int(np.argmin(np.abs(counts["t"].to_numpy() - t))) if len(counts) else 0
        totals.append(
            {
                "S": int(counts["S"].iloc[i]) if len(counts) else 0,
                "Z": int(counts["Z"].iloc[i]) if len(counts) else 0,
            }
        )
    cordons = []
    for i, e in enumerate(result.log):
        if e["kind"] != "cordon":
            continue
        lifted = [
            x["t"] for x in result.log[i + 1 :] if x["kind"] == "lift_cordon" and x["area"] == e["area"]
        ]
        east, south = lat.edges_around(area_mask(lat, e["area"]))
        edges = [[int(y), int(x), 0] for y, x in zip(*np.nonzero(east), strict=True)]
        edges += [[int(y), int(x), 1] for y, x in zip(*np.nonzero(south), strict=True)]
        cordons.append(
            {"t0": e["t"], "t1": lifted[0] if lifted else 1e300, "edges": edges, "leak": e["leak"]}
        )
    strikes = []
    for e in result.log:
        if e["kind"] == "strike":
            y, x, r = _area_centre(lat, e["area"])
            strikes.append({"t": e["t"], "y": y, "x": x, "r": r})
    roads = lat.roads if lat.roads is not None else np.zeros(lat.shape, bool)
    data = {
        "height": lat.shape[0],
        "width": lat.shape[1],
        "blocked": base64.b64encode(lat.blocked.astype(np.uint8).tobytes()).decode("ascii"),
        "roads": base64.b64encode(roads.astype(np.uint8).tobytes()).decode("ascii"),
        "frames": frames,
        "totals": totals,
        "cordons": cordons,
        "strikes": strikes,
        "places": [{"name": k, "y": v[0], "x": v[1]} for k, v in lat.places.items()],
    }
    payload = json.dumps(data).replace("</", "<\\/")
    chronicle = "".join(f"<li>{html.escape(line)}</li>" for line in result.chronicle())
    table = result.district_summary().to_html(index=False, na_rep="never", float_format=lambda v: f"{v:.2f}")
    title = html.escape(f"hyosan town: {lat.name}")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;background:#111;color:#eee;margin:1.5em}} canvas{{border:1px solid #444}}
table{{border-collapse:collapse}} td,th{{padding:2px 8px;border-bottom:1px solid #333}}</style></head>
<body><h1>{title}</h1>
<p>{lat.shape[0]} x {lat.shape[1]} cells of {lat.cell_m:g} m, {int(lat.population.sum()):,} people;
method {html.escape(result.method)}, seed {result.seed}. Green: people, red: zombies, blue: water and
mountains; yellow lines: the cordon; dashed red circles: strikes; green square: the camp.</p>
<div><button id="play">play / pause</button>
<input id="frame" type="range" min="0" value="0" style="width:400px">
<span id="clock"></span></div>
<canvas id="map"></canvas>
<h2>Districts</h2>{table}
<h2>Chronicle</h2><ol>{chronicle}</ol>
<script type="application/json" id="town-data">{payload}</script>
<script>{_SCRIPT}</script>
</body></html>
"""
    write_text(path, page)
    return Path(path)
