/* hyosan studio: the page's side of the WebSocket (see server.py). Draws the building like the
 * report's replay (tile colours, one dot per agent by state) and a chart that grows as the run goes;
 * a finished run, or an opened run folder, is shown by the replay itself (hyosanReplayMount). */
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const TILE = { void: "#ffffff", floor: "#eef0f3", wall: "#3f4654", door: "#b7791f", window: "#9cc9f5",
    stairs: "#c6b3ef", exit: "#2fbf66", outdoor: "#dcebc8" };
  const STATE = { human: "#1f6fe0", bitten: "#f08c00", zombie: "#d62828", halfbie: "#8f3fd1", dead: "#3a3a3a",
    escaped: "#19a974", rescued: "#11a7c2" };
  const SERIES_COLOURS = ["#1f6fe0", "#d62828", "#19a974", "#8f3fd1", "#f08c00", "#3a3a3a"];
  const socket = new WebSocket(`ws://${location.host}/ws`);
  let world = null, frame = null, floor = 0, running = false, lastError = "", saved = "";
  let series = {}, times = [], xLabel = "", target = "";
  const send = (msg) => socket.send(JSON.stringify(msg));
  const el = (tag, props = {}, text = "") => {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) n.setAttribute(k, v);
    if (text) n.textContent = text;
    return n;
  };

  // ---- controls from the schema ----------------------------------------------------------------
  function buildControls(controls) {
    const form = $("controls");
    form.replaceChildren();
    let section = "";
    for (const c of controls) {
      const id = `c-${c.key}`;
      const head = c.key.includes(".") ? c.key.split(".").slice(0, -1).join(".") : "";
      if (head && head !== section) {  // a heading per table: zombies, halfbies, roles.student...
        section = head;
        form.append(el("h3", { class: "section" }, head));
      }
      const label = el("label", { for: id, title: c.help || "" }, c.label);
      if (c.unit) label.append(" ", el("span", { class: "unit" }, `(${c.unit})`));
      let input;
      if (c.kind === "choice") {
        input = el("select", { id });
        for (const choice of c.choices) input.append(el("option", { value: String(choice) }, String(choice)));
        input.value = String(c.value);
      } else if (c.kind === "bool") {
        input = el("input", { id, type: "checkbox" });
        input.checked = Boolean(c.value);
      } else {
        input = el("input", { id, type: c.kind === "number" ? "number" : "text", title: c.help || "" });
        if (c.kind === "number") {
          if (c.min !== null && c.min !== undefined) input.min = String(c.min);
          if (c.max !== null && c.max !== undefined) input.max = String(c.max);
          input.step = String(c.step || "any");
        }
        input.value = String(c.value);
      }
      input.dataset.key = c.key;
      input.dataset.last = c.kind === "bool" ? String(Boolean(c.value)) : String(c.value);
      input.addEventListener("change", () => {
        const value = input.type === "checkbox" ? String(input.checked) : input.value;
        send({ op: "set", key: c.key, value });
      });
      form.append(label, input);
    }
  }
  const inputFor = (key) => document.querySelector(`#controls [data-key="${CSS.escape(key)}"]`);

  // ---- the building ------------------------------------------------------------------------------
  let layers = [];
  function setWorld(w) {
    world = w; layers = []; floor = 0;
    $("floor").replaceChildren(...w.floors.map((f, k) => el("option", { value: String(k) }, f)));
    $("floor-box").hidden = false;
    $("live").hidden = false;
    resetChart(["humans", "zombies"], "clock time");
  }
  function layer(fl) {
    if (layers[fl]) return layers[fl];
    const { width: W, height: H } = world;
    const c = document.createElement("canvas");
    c.width = W; c.height = H;
    const ctx = c.getContext("2d"), img = ctx.createImageData(W, H);
    for (let k = 0; k < W * H; k++) {
      const hex = TILE[world.tile_names[world.tiles[fl * W * H + k]]] || "#ff00ff";
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
  function draw() {
    if (!world || !frame) return;
    const canvas = $("live"), { width: W, height: H } = world, HW = W * H;
    const [x0, y0, VW, VH] = box(floor);
    const scale = Math.max(2, Math.min(16, Math.floor((canvas.parentElement.clientWidth || 800) / VW)));
    canvas.width = VW * scale; canvas.height = VH * scale;
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.translate(-x0 * scale, -y0 * scale);
    ctx.drawImage(layer(floor), 0, 0, W * scale, H * scale);
    for (let i = 0; i < frame.cells.length; i++) {
      const c = frame.cells[i];
      if (c < 0 || Math.floor(c / HW) !== floor) continue;
      const k = c - floor * HW;
      ctx.fillStyle = STATE[world.state_names[frame.states[i]]] || "#777";
      ctx.beginPath();
      ctx.arc(((k % W) + 0.5) * scale, (Math.floor(k / W) + 0.5) * scale, Math.max(1, scale * 0.4), 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.font = `600 ${Math.max(10, Math.min(14, scale * 1.3))}px system-ui, sans-serif`;
    ctx.textAlign = "center"; ctx.fillStyle = "#1b1f27";
    for (const r of world.rooms) if (r.floor === floor) ctx.fillText(r.name, (r.x + 0.5) * scale, (r.y + 0.5) * scale);
  }

  // ---- the chart ----------------------------------------------------------------------------------
  function resetChart(names, label) {
    series = Object.fromEntries(names.map((n) => [n, []]));
    times = []; xLabel = label;
    $("chart-legend").replaceChildren(...names.map((n, k) => {
      const s = el("span"); const i = el("i"); i.style.background = SERIES_COLOURS[k % SERIES_COLOURS.length];
      s.append(i, n); return s;
    }));
    drawChart();
  }
  function drawChart() {
    const svg = $("chart"), W = 640, H = 220, L = 44, B = 24, T = 8, R = 8;
    const ns = "http://www.w3.org/2000/svg";
    svg.replaceChildren();
    const all = Object.values(series).flat();
    const top = Math.max(1, ...all), t0 = times[0] || 0, t1 = Math.max(t0 + 1e-9, times[times.length - 1] || 1);
    const sx = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R), sy = (v) => T + (1 - v / top) * (H - T - B);
    const text = (x, y, s, anchor = "end") => { const n = document.createElementNS(ns, "text");
      n.setAttribute("x", x); n.setAttribute("y", y); n.setAttribute("text-anchor", anchor); n.textContent = s; svg.append(n); };
    text(L - 4, T + 8, String(Math.round(top))); text(L - 4, H - B, "0"); text((L + W) / 2, H - 6, xLabel, "middle");
    Object.entries(series).forEach(([name, ys], k) => {
      if (!ys.length) return;
      const line = document.createElementNS(ns, "polyline");
      line.setAttribute("points", ys.map((v, j) => `${sx(times[j]).toFixed(1)},${sy(v).toFixed(1)}`).join(" "));
      line.setAttribute("fill", "none"); line.setAttribute("stroke-width", "2");
      line.setAttribute("stroke", SERIES_COLOURS[k % SERIES_COLOURS.length]);
      line.dataset.series = name;
      svg.append(line);
    });
  }

  // ---- messages -------------------------------------------------------------------------------------
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
    } else if (msg.type === "accepted") {
      const input = inputFor(msg.key);
      if (input) { input.dataset.last = msg.value; input.classList.remove("bad"); }
      lastError = ""; $("error").textContent = "";
    } else if (msg.type === "error") {
      lastError = msg.message; $("error").textContent = msg.message;
      for (const input of document.querySelectorAll("#controls [data-key]")) {
        const now = input.type === "checkbox" ? String(input.checked) : input.value;
        if (now !== input.dataset.last) {  // refused: back to the value in force
          input.classList.add("bad");
          if (input.type === "checkbox") input.checked = input.dataset.last === "true"; else input.value = input.dataset.last;
        }
      }
    } else if (msg.type === "world") {
      setWorld(msg);
    } else if (msg.type === "frame") {
      frame = msg;
      $("clock").textContent = msg.clock;
      const c = msg.counts;
      $("counts").textContent = `humans ${c.human + c.bitten} · zombies ${c.zombie} · halfbies ${c.halfbie}`
        + ` · dead ${c.dead} · escaped ${c.escaped} · rescued ${c.rescued}`;
      if (!times.length || msg.tick > times[times.length - 1] || msg.tick === 0) {
        if (msg.tick === 0) { times = []; for (const k in series) series[k] = []; }
        times.push(msg.tick); series.humans.push(c.human + c.bitten); series.zombies.push(c.zombie + c.halfbie);
      }
      draw(); drawChart();
    } else if (msg.type === "model") {
      world = null; frame = null; $("live").hidden = true; $("floor-box").hidden = true;
      $("clock").textContent = "t = 0"; $("counts").textContent = "";
      resetChart(msg.species.map((s) => s.name), "time");
    } else if (msg.type === "points") {
      msg.t.forEach((t, j) => { times.push(t); for (const k in msg.values) series[k].push(msg.values[k][j]); });
      xLabel = `time (${msg.time_unit})`;
      const last = times.length - 1;
      $("clock").textContent = `t = ${Number(times[last]).toPrecision(3)} ${msg.time_unit}`;
      $("counts").textContent = Object.keys(series).map((k) => `${k} ${Math.round(series[k][last])}`).join(" · ");
      drawChart();
    } else if (msg.type === "replay") {
      $("replay-box").hidden = false;
      await window.hyosanReplayMount($("replay"), msg.payload);
    } else if (msg.type === "saved") {
      saved = msg.path; $("saved").textContent = `saved: ${msg.path}`;
    } else if (msg.type === "paused") {
      running = false; $("run").disabled = false;
    }
  });
  $("target").addEventListener("change", () => send({ op: "load", target: $("target").value }));
  $("run").addEventListener("click", () => { running = true; $("run").disabled = true; send({ op: "run", ticks: Number($("speed").value) }); });
  $("pause").addEventListener("click", () => send({ op: "pause" }));
  $("step").addEventListener("click", () => send({ op: "step", ticks: Number($("speed").value) }));
  $("reset").addEventListener("click", () => { $("replay-box").hidden = true; send({ op: "reset" }); });
  $("save").addEventListener("click", () => send({ op: "save" }));
  $("open").addEventListener("click", () => send({ op: "open", folder: $("folder").value }));
  $("floor").addEventListener("change", () => { floor = Number($("floor").value) || 0; draw(); });
  window.addEventListener("resize", draw);
  window.hyosanStudio = {
    connected: () => socket.readyState === WebSocket.OPEN,
    target: () => target,
    tick: () => (frame ? frame.tick : -1),
    counts: () => (frame ? frame.counts : null),
    points: () => times.length,
    series: () => series,
    running: () => running,
    lastError: () => lastError,
    saved: () => saved,
  };
})();
