/* hyosan studio: the page's side of the WebSocket (see server.py and session.py).
 *
 * Controls come from the server (the scenario schema or the model): a slider and a number box for
 * each number, grouped and searchable. A scenario shows its building (a dot per agent, coloured by
 * state; click one to inspect and follow it) beside one live chart per state, with the timeline's
 * events marked; a compartment model shows one chart per compartment, with its runs' median and
 * bands. Colours come from hyosan's palette (palette.py, sent in the page), never from here.
 * A finished run, or an opened run folder, is shown by the replay itself (hyosanReplayMount). */
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const PALETTE = JSON.parse($("hyosan-palette").textContent);
  const STATE = PALETTE.state, TILE = PALETTE.tile, INK = PALETTE.ink;
  const socket = new WebSocket(`ws://${location.host}/ws`);
  const SVG = "http://www.w3.org/2000/svg";
  const MAX_POINTS = 1500;  // points kept per chart (older ones thinned)
  let world = null, frame = null, floor = 0, running = false, lastError = "", saved = "", view = "";
  let target = "", charts = {}, times = [], series = {}, bands = null, model = null;
  let card = null, following = false;
  const send = (msg) => socket.send(JSON.stringify(msg));
  const el = (tag, props = {}, text = "") => {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) n.setAttribute(k, v);
    if (text) n.textContent = text;
    return n;
  };
  const svg = (tag, props = {}, text = "") => {
    const n = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(props)) n.setAttribute(k, v);
    if (text) n.textContent = text;
    return n;
  };
  const fmtNumber = (v) => {
    const a = Math.abs(v);
    if (a >= 1e6) return `${(v / 1e6).toPrecision(3).replace(/\.?0+$/, "")}M`;
    if (a >= 1e4) return `${(v / 1e3).toPrecision(3).replace(/\.?0+$/, "")}k`;
    return String(Math.round(v * 100) / 100);
  };
  const fmtDuration = (s) => (s < 60 ? `${+s.toPrecision(3)} s` : s < 3600 ? `${+(s / 60).toPrecision(3)} min`
    : `${+(s / 3600).toPrecision(3)} h`);
  const clockOf = (tick) => {
    const s = Math.round(world.clock_start_s + tick * world.tick_s);
    const h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
  };

  // ---- controls from the schema -------------------------------------------------------------------
  function buildControls(controls) {
    const form = $("controls");
    form.replaceChildren();
    const groups = new Map();
    for (const c of controls) {
      let box = groups.get(c.group);
      if (!box) {
        box = el("details", { "data-group": c.group });
        box.open = groups.size < 3 || c.group === "parameters";
        box.append(el("summary"));
        groups.set(c.group, box);
        form.append(box);
      }
      box.append(control(c));
    }
    for (const [name, box] of groups) {
      const summary = box.querySelector("summary");
      summary.append(name, " ", el("span", { class: "n" }, `(${box.querySelectorAll(".ctl").length})`));
    }
    filterControls();
  }
  function control(c) {
    const id = `c-${c.key}`;
    const row = el("div", { class: "ctl", "data-ctl": c.key });
    row.dataset.search = `${c.label} ${c.key} ${c.help || ""} ${c.group}`.toLowerCase();
    const label = el("label", { for: id, title: c.help || "" }, c.label);
    if (c.unit) label.append(" ", el("span", { class: "unit" }, `(${c.unit})`));
    row.append(label);
    const inputs = el("div", { class: "inputs" });
    let input, slider = null;
    if (c.kind === "choice") {
      input = el("select", { id });
      for (const choice of c.choices) input.append(el("option", { value: String(choice) }, String(choice)));
      input.value = String(c.value);
    } else if (c.kind === "bool") {
      input = el("input", { id, type: "checkbox" });
      input.checked = Boolean(c.value);
    } else if (c.kind === "number") {
      slider = el("input", { type: "range", "aria-label": `${c.label} slider`, "data-slider": c.key,
        min: String(c.slider_min), max: String(c.slider_max),
        step: c.step === 1 ? "1" : String((c.slider_max - c.slider_min) / 200) });
      slider.value = String(c.value);
      input = el("input", { id, type: "number", step: String(c.step || "any") });
      if (c.min !== null && c.min !== undefined) input.min = String(c.min);
      if (c.max !== null && c.max !== undefined) input.max = String(c.max);
      input.value = String(c.value);
      slider.addEventListener("input", () => { input.value = slider.value; });
      slider.addEventListener("change", () => { input.value = slider.value; commit(); });
      inputs.append(slider);
    } else {
      input = el("input", { id, type: "text" });
      input.value = c.value === null || c.value === undefined ? "" : String(c.value);
    }
    input.dataset.key = c.key;
    input.dataset.kind = c.kind;
    input.dataset.last = c.kind === "bool" ? String(Boolean(c.value)) : input.value;
    function commit() {
      const value = input.type === "checkbox" ? input.checked : input.value;
      send({ op: "set", key: c.key, value: c.kind === "number" && input.value.trim() !== "" && Number.isFinite(Number(value))
        ? Number(value) : value });
    }
    input.addEventListener("change", () => { if (slider) slider.value = input.value; commit(); });
    inputs.append(input);
    row.append(inputs);
    if (c.help) row.append(el("small", { class: "help" }, c.help));
    row.append(el("small", { class: "why", role: "status" }));
    return row;
  }
  const inputFor = (key) => document.querySelector(`#controls [data-key="${CSS.escape(key)}"]`);
  const rowFor = (key) => document.querySelector(`#controls [data-ctl="${CSS.escape(key)}"]`);
  function filterControls() {
    const words = $("search").value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    for (const box of document.querySelectorAll("#controls details")) {
      let shown = 0;
      for (const row of box.querySelectorAll(".ctl")) {
        const hit = words.every((w) => row.dataset.search.includes(w));
        row.hidden = !hit; shown += hit;
      }
      box.hidden = shown === 0;
      if (words.length && shown) box.open = true;
    }
  }
  function revert() {  // a refused value: every control back to the value in force
    for (const input of document.querySelectorAll("#controls [data-key]")) {
      const now = input.type === "checkbox" ? String(input.checked) : input.value;
      if (now !== input.dataset.last) {
        if (input.type === "checkbox") input.checked = input.dataset.last === "true"; else input.value = input.dataset.last;
        const slider = document.querySelector(`#controls [data-slider="${CSS.escape(input.dataset.key)}"]`);
        if (slider) slider.value = input.dataset.last;
      }
    }
  }

  // ---- charts: one per state (a scenario) or compartment (a model) ------------------------------------
  const CW = 320, CH = 118, L = 34, R = 12, T = 6, B = 18;
  function niceTicks(lo, hi, n) {
    const span = Math.max(hi - lo, 1e-12), raw = span / n, mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => span / s <= n) || 10 * mag;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
    return out;
  }
  function clockTicks(a, b) {  // ticks on round clock times: every 1, 5, 10, 15, 30 min or 1, 2, 3, 6 h
    const steps = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
    const span = (b - a) * world.tick_s, step = steps.find((s) => span / s <= 5) || 86400;
    const out = [];
    const first = Math.ceil((world.clock_start_s + a * world.tick_s) / step) * step;
    for (let s = first; s <= world.clock_start_s + b * world.tick_s; s += step) out.push((s - world.clock_start_s) / world.tick_s);
    return out;
  }
  function makeCharts(specs, x0, x1, xFormat, xTicks = null) {
    const box = $("charts");
    box.replaceChildren();
    charts = {};
    for (const s of specs) {
      const figure = el("figure", { class: "chart", "data-series": s.name });
      figure.style.margin = "0";
      const title = el("h4");
      const dot = el("i"); dot.style.background = s.colour;
      const name = el("span"); name.append(dot, s.label);
      const now = el("span", { class: "now" });
      title.append(name, now);
      const plot = svg("svg", { viewBox: `0 0 ${CW} ${CH}`, role: "img", "aria-label": `${s.label} over time` });
      figure.append(title, plot);
      box.append(figure);
      charts[s.name] = { ...s, plot, now, x0, x1, xFormat, xTicks };
    }
  }
  function drawCharts(events = [], fired = []) {
    const firedAt = new Map(fired.map((f) => [f.index, f.tick]));
    for (const [name, c] of Object.entries(charts)) {
      const ys = series[name] || [], b = bands && bands[name];
      const top = Math.max(1, ...ys, ...(b ? b[3] : []));
      const yTicks = niceTicks(0, top, 3), yTop = Math.max(top, yTicks[yTicks.length - 1]);
      const sx = (t) => L + ((t - c.x0) / Math.max(c.x1 - c.x0, 1e-12)) * (CW - L - R);
      const sy = (v) => T + (1 - v / yTop) * (CH - T - B);
      const parts = [];
      for (const v of yTicks) {
        parts.push(svg("line", { class: "grid", x1: L, x2: CW - R, y1: sy(v), y2: sy(v) }));
        parts.push(svg("text", { x: L - 3, y: sy(v) + 3, "text-anchor": "end" }, fmtNumber(v)));
      }
      for (const t of (c.xTicks || ((a, b) => niceTicks(a, b, 4)))(c.x0, c.x1)) {
        if (t < c.x0 || t > c.x1) continue;
        parts.push(svg("line", { class: "axis", x1: sx(t), x2: sx(t), y1: CH - B, y2: CH - B + 3 }));
        parts.push(svg("text", { x: sx(t), y: CH - 5, "text-anchor": "middle" }, c.xFormat(t)));
      }
      parts.push(svg("line", { class: "axis", x1: L, x2: CW - R, y1: CH - B, y2: CH - B }));
      parts.push(svg("line", { class: "axis", x1: L, x2: L, y1: T, y2: CH - B }));
      for (const e of events) {  // the timeline: dashed when due, solid once fired
        const at = firedAt.has(e.index) ? firedAt.get(e.index) : e.tick;
        if (at === null || at === undefined || at < c.x0 || at > c.x1) continue;
        const line = svg("line", { class: `ev${firedAt.has(e.index) ? " fired" : ""}`, x1: sx(at), x2: sx(at),
          y1: T, y2: CH - B, "data-event": String(e.index) });
        line.append(svg("title", {}, `${e.label} ${firedAt.has(e.index) ? "at" : "due"} ${c.xFormat(at)}`));
        parts.push(line);
      }
      if (b && times.length) {  // the model's runs: 5-95 % and 25-75 % bands
        for (const [lo, hi, alpha] of [[0, 3, 0.15], [1, 2, 0.3]]) {
          const pts = times.map((t, j) => `${sx(t).toFixed(1)},${sy(b[hi][j]).toFixed(1)}`)
            .concat(times.map((t, j) => `${sx(t).toFixed(1)},${sy(b[lo][j]).toFixed(1)}`).reverse());
          parts.push(svg("polygon", { points: pts.join(" "), fill: c.colour, "fill-opacity": alpha, class: "band" }));
        }
      }
      if (ys.length) {
        parts.push(svg("polyline", { points: ys.map((v, j) => `${sx(times[j]).toFixed(1)},${sy(v).toFixed(1)}`).join(" "),
          fill: "none", stroke: c.colour, "stroke-width": 1.8, "data-series": name }));
        c.now.textContent = fmtNumber(ys[ys.length - 1]);
      } else c.now.textContent = "";
      c.plot.replaceChildren(...parts);
    }
  }
  function thin() {  // keep charts light on long runs: drop every other point past MAX_POINTS
    if (times.length <= MAX_POINTS) return;
    const keep = (arr) => arr.filter((_, j) => j % 2 === 0 || j === arr.length - 1);
    times = keep(times);
    for (const k in series) series[k] = keep(series[k]);
  }

  // ---- the building ----------------------------------------------------------------------------------
  let layers = [];
  function setWorld(w) {
    world = w; layers = []; floor = 0; frame = null;
    setView("scenario");
    $("floor").replaceChildren(...w.floors.map((f, k) => el("option", { value: String(k) }, f)));
    const ticks = [1, 5, 10, 30, 60, 300].filter((t) => t <= Math.max(1, w.ticks));
    const wanted = Number($("speed").value) || 10;
    $("speed").replaceChildren(...ticks.map((t) => el("option", { value: String(t) },
      `${fmtDuration(t * w.tick_s)} a step (up to ${fmtDuration(t * w.tick_s * w.updates_per_s)} a second)`)));
    $("speed").value = String(ticks.includes(wanted) ? wanted : 10);
    $("speed-box").hidden = false;
    times = []; series = Object.fromEntries(w.state_names.map((n) => [n, []])); bands = null;
    makeCharts(w.state_names.map((n) => ({ name: n, label: n, colour: STATE[n] || INK })), 0, w.ticks, clockOf, clockTicks);
  }
  function setView(v) {
    view = v;
    $("scene").classList.toggle("model", v === "model");
    $("scene").hidden = v === "replay";
    $("model-info").hidden = v !== "model";
    $("building").hidden = v !== "scenario";
    $("save-box").hidden = v === "model";  // a model has no scenario file
    if (v !== "replay") $("replay-box").hidden = true;
    if (v !== "scenario") { card = null; following = false; $("card").hidden = true; }
  }
  function layer(fl) {
    if (layers[fl]) return layers[fl];
    const { width: W, height: H } = world;
    const c = document.createElement("canvas");
    c.width = W; c.height = H;
    const ctx = c.getContext("2d"), img = ctx.createImageData(W, H);
    for (let k = 0; k < W * H; k++) {
      const hex = TILE[world.tile_names[world.tiles[fl * W * H + k]]] || INK;
      img.data.set([1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)), 4 * k);
      img.data[4 * k + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    return (layers[fl] = c);
  }
  function box(fl) {  // the floor's non-void tiles (as the replay crops them)
    const { width: W, height: H } = world, voidCode = world.tile_names.indexOf("void");
    let xa = W, xb = -1, ya = H, yb = -1;
    for (let k = 0; k < W * H; k++) {
      if (world.tiles[fl * W * H + k] === voidCode) continue;
      const x = k % W, y = Math.floor(k / W);
      xa = Math.min(xa, x); xb = Math.max(xb, x); ya = Math.min(ya, y); yb = Math.max(yb, y);
    }
    return xb < 0 ? [0, 0, W, H] : [xa, ya, xb - xa + 1, yb - ya + 1];
  }
  let viewBox = [0, 0, 1, 1], scale = 1;
  function draw() {
    if (!world || !frame || view !== "scenario") return;
    const canvas = $("live"), { width: W, height: H } = world, HW = W * H;
    let [x0, y0, VW, VH] = box(floor);
    if (following && card && card.cell >= 0) {  // follow: a closer view, centred on the one followed
      const k = card.cell % HW, ax = k % W, ay = Math.floor(k / W);
      const w2 = Math.max(12, Math.ceil(VW / 2)), h2 = Math.max(8, Math.ceil(VH / 2));
      if (w2 < VW) { x0 = Math.min(Math.max(x0, ax - Math.floor(w2 / 2)), x0 + VW - w2); VW = w2; }
      if (h2 < VH) { y0 = Math.min(Math.max(y0, ay - Math.floor(h2 / 2)), y0 + VH - h2); VH = h2; }
    }
    const room = Math.min(canvas.parentElement.clientWidth || 600, 1400), tall = Math.max(240, window.innerHeight - 190);
    scale = Math.max(2, Math.min(24, Math.floor(Math.min(room / VW, tall / VH))));
    viewBox = [x0, y0, VW, VH];
    canvas.width = VW * scale; canvas.height = VH * scale;
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.translate(-x0 * scale, -y0 * scale);
    ctx.drawImage(layer(floor), 0, 0, W * scale, H * scale);
    const r = Math.max(1.2, scale * 0.42);
    for (let i = 0; i < frame.cells.length; i++) {
      const c = frame.cells[i];
      if (c < 0 || Math.floor(c / HW) !== floor) continue;
      const k = c - floor * HW;
      ctx.fillStyle = STATE[world.state_names[frame.states[i]]] || INK;
      ctx.beginPath();
      ctx.arc(((k % W) + 0.5) * scale, (Math.floor(k / W) + 0.5) * scale, r, 0, 2 * Math.PI);
      ctx.fill();
    }
    if (card && card.cell >= 0 && Math.floor(card.cell / HW) === floor) {  // the one inspected
      const k = card.cell - floor * HW;
      ctx.strokeStyle = INK; ctx.lineWidth = Math.max(2, scale * 0.18);
      ctx.beginPath();
      ctx.arc(((k % W) + 0.5) * scale, (Math.floor(k / W) + 0.5) * scale, r + Math.max(3, scale * 0.5), 0, 2 * Math.PI);
      ctx.stroke();
    }
    ctx.font = `600 ${Math.max(10, Math.min(14, scale * 1.2))}px system-ui, sans-serif`;
    ctx.textAlign = "center"; ctx.fillStyle = INK;
    for (const rm of world.rooms) if (rm.floor === floor) ctx.fillText(rm.name, (rm.x + 0.5) * scale, (rm.y + 0.5) * scale);
  }
  function agentAt(event) {  // the agent nearest the click on this floor, within two tiles
    if (!world || !frame) return null;
    const canvas = $("live"), rect = canvas.getBoundingClientRect();
    const px = ((event.clientX - rect.left) * canvas.width) / rect.width / scale + viewBox[0];
    const py = ((event.clientY - rect.top) * canvas.height) / rect.height / scale + viewBox[1];
    const { width: W, height: H } = world, HW = W * H;
    let best = null, bestD = 4;
    for (let i = 0; i < frame.cells.length; i++) {
      const c = frame.cells[i];
      if (c < 0 || Math.floor(c / HW) !== floor) continue;
      const k = c - floor * HW, dx = (k % W) + 0.5 - px, dy = Math.floor(k / W) + 0.5 - py, d = dx * dx + dy * dy;
      if (d < bestD) { best = i; bestD = d; }
    }
    return best;
  }
  function showCard() {
    const box = $("card");
    if (!card) { box.hidden = true; return; }
    box.hidden = false;
    const rows = [["role", card.role], ["state", card.state], ["doing", card.mode],
      ["where", card.room ? `${card.room}${card.floor ? ` (${card.floor})` : ""}` : "off the map"],
      ["bitten by", card.bitten_by ? `${card.bitten_by}${card.bitten_at ? ` at ${card.bitten_at}` : ""}` : "nobody"],
      ["bites", String(card.bites)]];
    const dl = el("dl");
    for (const [k, v] of rows) { dl.append(el("dt", {}, k), el("dd", { "data-field": k }, v)); }
    const title = el("h3");
    const dot = el("i"); dot.style.cssText = `display:inline-block;width:.7em;height:.7em;border-radius:50%;margin-right:.3em;background:${STATE[card.state] || INK}`;
    title.append(dot, card.name);
    const follow = el("button", { type: "button", id: "follow" }, following ? "Stop following" : "Follow");
    follow.addEventListener("click", () => { following = !following; showCard(); draw(); });
    const close = el("button", { type: "button", id: "close-card" }, "Close");
    close.addEventListener("click", () => { send({ op: "inspect", agent: null }); });
    const buttons = el("div", { class: "buttons" });
    buttons.append(follow, close);
    if (card.bitten_by_agent !== null && card.bitten_by_agent !== undefined) {
      const biter = el("button", { type: "button", id: "inspect-biter" }, `Inspect ${card.bitten_by}`);
      biter.addEventListener("click", () => send({ op: "inspect", agent: card.bitten_by_agent }));
      buttons.append(biter);
    }
    box.replaceChildren(title, dl, buttons);
  }
  function takeCard(c) {
    card = c || null;
    if (!card) following = false;
    if (card && following && card.floor !== null) {
      const fl = world.floors.indexOf(card.floor);
      if (fl >= 0 && fl !== floor) { floor = fl; $("floor").value = String(fl); }
    }
    showCard();
  }

  // ---- messages ----------------------------------------------------------------------------------------
  socket.addEventListener("open", () => { $("conn").textContent = "connected"; });
  socket.addEventListener("close", () => { $("conn").textContent = "disconnected"; running = false; });
  socket.addEventListener("message", async (event) => {
    const msg = JSON.parse(event.data);
    if (msg.type === "choices") {
      $("target").replaceChildren(...msg.choices.map((c) => el("option", { value: c }, c)));
      const wanted = new URLSearchParams(location.search).get("target");
      const first = wanted && msg.choices.includes(wanted) ? wanted : msg.choices[0];
      $("target").value = first;
      send({ op: "load", target: first });
    } else if (msg.type === "controls") {
      target = msg.target; buildControls(msg.controls);
      lastError = ""; $("error").textContent = "";
    } else if (msg.type === "accepted") {
      const input = inputFor(msg.key), row = rowFor(msg.key);
      if (input) input.dataset.last = msg.value;
      if (row) { row.classList.remove("bad"); row.querySelector(".why").textContent = ""; }
      lastError = ""; $("error").textContent = "";
    } else if (msg.type === "error") {
      lastError = msg.message; $("error").textContent = msg.message;
      revert();
      const row = msg.key ? rowFor(msg.key) : null;
      if (row) { row.classList.add("bad"); row.querySelector(".why").textContent = msg.message; }
    } else if (msg.type === "world") {
      setWorld(msg);
    } else if (msg.type === "frame") {
      frame = msg;
      $("clock").textContent = msg.clock;
      $("counts").replaceChildren(...world.state_names.map((n) => {
        const s = el("span"); const i = el("i"); i.style.background = STATE[n] || INK;
        s.append(i, `${n} ${msg.counts[n]}`); return s;
      }));
      if (msg.tick === 0 || !times.length || msg.tick > times[times.length - 1]) {
        if (msg.tick === 0) { times = []; for (const k in series) series[k] = []; }
        times.push(msg.tick);
        for (const n of world.state_names) series[n].push(msg.counts[n]);
        thin();
      }
      if ("card" in msg) takeCard(msg.card);
      drawCharts(world.events, msg.fired); draw();
    } else if (msg.type === "card") {
      takeCard(msg.card); draw();
    } else if (msg.type === "model") {
      world = null; frame = null; model = msg;
      setView("model");
      $("speed-box").hidden = true;
      $("clock").textContent = `t = 0 ${msg.time_unit}`; $("counts").replaceChildren();
      $("model-info").textContent = `${msg.title} · ${msg.method === "ode" ? "ODE (the mean, one curve)"
        : `${msg.method.toUpperCase()}: ${msg.runs} runs, median with 50 % and 90 % bands`} · seed ${msg.seed}`
        + ` · end time ${msg.t_end} ${msg.time_unit}`;
      times = []; series = Object.fromEntries(msg.species.map((s) => [s.name, []])); bands = null;
      makeCharts(msg.species.map((s) => ({ name: s.name, label: `${s.name}: ${s.doc}`, colour: s.colour })),
        0, msg.t_end, (t) => fmtNumber(t));
      drawCharts();
    } else if (msg.type === "points") {
      msg.t.forEach((t, j) => { times.push(t); for (const k in msg.values) series[k].push(msg.values[k][j]); });
      if (msg.bands) {
        bands = bands || Object.fromEntries(Object.keys(msg.bands).map((k) => [k, [[], [], [], []]]));
        for (const k in msg.bands) msg.bands[k].forEach((q, i) => bands[k][i].push(...q));
      }
      const last = times.length - 1;
      $("clock").textContent = `t = ${Number(times[last]).toPrecision(3)} ${msg.time_unit}`;
      drawCharts();
    } else if (msg.type === "replay") {
      if (msg.title !== undefined) {  // an opened run folder: its replay is the view
        setView("replay");
        $("replay-title").textContent = `Replay: ${msg.title || "run folder"}`;
      } else $("replay-title").textContent = "Replay of this run";
      $("replay-box").hidden = false;
      await window.hyosanReplayMount($("replay"), msg.payload);
    } else if (msg.type === "saved") {
      saved = msg.path; $("saved").textContent = `saved: ${msg.path}`;
    } else if (msg.type === "paused") {
      running = false; $("run").disabled = false;
    }
  });
  $("target").addEventListener("change", () => send({ op: "load", target: $("target").value }));
  const ticks = () => Number($("speed").value) || 10;
  $("run").addEventListener("click", () => { running = true; $("run").disabled = true; send({ op: "run", ticks: ticks() }); });
  $("pause").addEventListener("click", () => send({ op: "pause" }));
  $("step").addEventListener("click", () => send({ op: "step", ticks: ticks() }));
  $("reset").addEventListener("click", () => { $("replay-box").hidden = true; send({ op: "reset" }); });
  $("save").addEventListener("click", () => send({ op: "save" }));
  $("open").addEventListener("click", () => send({ op: "open", folder: $("folder").value }));
  $("floor").addEventListener("change", () => { floor = Number($("floor").value) || 0; following = false; showCard(); draw(); });
  $("search").addEventListener("input", filterControls);
  $("live").addEventListener("click", (event) => {
    const i = agentAt(event);
    if (i !== null) send({ op: "inspect", agent: i });
  });
  window.addEventListener("resize", draw);
  window.hyosanStudio = {
    connected: () => socket.readyState === WebSocket.OPEN,
    target: () => target,
    view: () => view,
    tick: () => (frame ? frame.tick : -1),
    counts: () => (frame ? frame.counts : null),
    points: () => times.length,
    series: () => series,
    bands: () => bands,
    model: () => model,
    charts: () => Object.keys(charts),
    running: () => running,
    lastError: () => lastError,
    saved: () => saved,
    card: () => card,
    following: () => following,
    floor: () => floor,
    events: () => (world ? world.events : []),
    states: () => (frame ? frame.states : []),
    agentFloor: (i) => (frame && world && frame.cells[i] >= 0 ? Math.floor(frame.cells[i] / (world.width * world.height)) : -1),
    showFloor: (k) => { floor = k; $("floor").value = String(k); draw(); },
    agentPoint: (i) => {  // where agent i is drawn on the page (for tests), or null
      if (!frame || !world) return null;
      const { width: W, height: H } = world, c = frame.cells[i];
      if (c < 0 || Math.floor(c / (W * H)) !== floor) return null;
      const k = c % (W * H), rect = $("live").getBoundingClientRect(), canvas = $("live");
      const x = ((k % W) + 0.5 - viewBox[0]) * scale * (rect.width / canvas.width) + rect.left;
      const y = (Math.floor(k / W) + 0.5 - viewBox[1]) * scale * (rect.height / canvas.height) + rect.top;
      return { x, y };
    },
  };
})();
