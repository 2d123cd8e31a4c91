/* hyosan replay: plays a run's frames on a canvas, one floor at a time.
 * Reads the payload (see hyosan/report/replay.py) from <script type="application/json"
 * id="replay-data"> and builds the player inside <div id="replay">. Plain ES2020, nothing
 * fetched; every text that comes from the data is set with textContent. */
(() => {
  "use strict";

  const TILE_COLOURS = {
    void: "#ffffff", floor: "#eef0f3", wall: "#3f4654", door: "#b7791f",
    window: "#9cc9f5", stairs: "#c6b3ef", exit: "#2fbf66", outdoor: "#dcebc8",
  };
  const STATE_COLOURS = {
    human: "#1f6fe0", bitten: "#f08c00", zombie: "#d62828", halfbie: "#8f3fd1",
    dead: "#3a3a3a", escaped: "#19a974", rescued: "#11a7c2",
  };
  const FALLBACK_COLOURS = ["#777777", "#a0522d", "#008080", "#808000", "#c71585"];
  const SPEEDS = [1, 2, 4, 8, 16, 32, 64];
  const DEFAULT_SPEED = 8;
  const MAX_SCALE = 32;

  const el = (tag, props = {}, children = []) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child);
    return node;
  };

  const bytesFromBase64 = (text) => {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  };

  const inflate = async (text) => {
    const stream = new Blob([bytesFromBase64(text)]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  };

  const pad = (n) => String(n).padStart(2, "0");
  const clockText = (seconds) => {
    const s = ((Math.floor(seconds + 1e-6) % 86400) + 86400) % 86400;
    return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
  };

  const hexRgb = (hex) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));

  async function decode(data) {
    const N = data.agents, F = data.frames;
    const [tileBytes, cellBytes, stateBytes] = await Promise.all(
      [data.tiles, data.cells, data.states].map(inflate));
    if (tileBytes.length !== data.floors * data.height * data.width) throw new Error("replay: bad tiles");
    if (cellBytes.length !== 4 * N * F || stateBytes.length !== N * F) throw new Error("replay: bad frames");
    // cells: int32 little-endian, agent-major, delta-coded along time.
    const view = new DataView(cellBytes.buffer, cellBytes.byteOffset, cellBytes.byteLength);
    const cells = new Int32Array(N * F);
    for (let i = 0, k = 0; i < N; i++) {
      let acc = 0;
      for (let t = 0; t < F; t++, k++) {
        acc = (acc + view.getInt32(4 * k, true)) | 0;
        cells[k] = acc;
      }
    }
    const states = new Int8Array(stateBytes.buffer, stateBytes.byteOffset, stateBytes.byteLength);
    return { tiles: tileBytes, cells, states };
  }

  function build(root, data, arrays) {
    const N = data.agents, F = data.frames, L = data.floors, H = data.height, W = data.width;
    const HW = H * W;
    const { cells, states } = arrays;
    const stateNames = data.state_names;
    const stateColour = stateNames.map((name, k) => STATE_COLOURS[name] || FALLBACK_COLOURS[k % FALLBACK_COLOURS.length]);

    let frame = 0, floor = 0, playing = false, speed = DEFAULT_SPEED;
    let scale = 8, selected = -1, hovered = -1;
    let drawn = 0, drawnIdx = new Int32Array(N), drawnX = new Float32Array(N), drawnY = new Float32Array(N);

    // ---- markup ---------------------------------------------------------------------------
    const playButton = el("button", { id: "replay-play", type: "button", class: "replay-play", text: "Play" });
    const floorSelect = el("select", { id: "replay-floor", "aria-label": "Floor" },
      data.floor_names.map((name, k) => el("option", { value: String(k), text: name })));
    const speedSelect = el("select", { id: "replay-speed", "aria-label": "Speed (frames per second)" },
      SPEEDS.map((s) => el("option", { value: String(s), text: `${s}x` })));
    speedSelect.value = String(speed);
    const clock = el("output", { id: "replay-clock", class: "replay-clock" });
    const scrubber = el("input", {
      id: "replay-time", type: "range", min: "0", max: String(F - 1), step: "1", value: "0",
      "aria-label": "Time",
    });
    const markerBar = el("div", { class: "replay-markers" });
    for (const m of data.markers) {
      const text = `${clockText(data.clock_start_s + m.time_s)} ${m.label}`;
      const button = el("button", { type: "button", class: "replay-marker", title: text, "aria-label": text });
      button.dataset.kind = m.kind;
      button.dataset.frame = String(m.frame);
      button.style.left = `${F > 1 ? (100 * m.frame) / (F - 1) : 0}%`;
      button.addEventListener("click", () => {
        pause();
        setFrame(m.frame);
        eventLine.textContent = text;
      });
      markerBar.append(button);
    }
    const eventLine = el("div", { id: "replay-event", class: "replay-event", "aria-live": "polite" });
    const counts = el("div", { id: "replay-counts", class: "replay-counts" });
    const canvas = el("canvas", { id: "replay-canvas", role: "img", "aria-label": "Map of the floor with agents" });
    const stage = el("div", { class: "replay-stage" }, [canvas]);
    const info = el("div", { id: "replay-info", class: "replay-info", "aria-live": "polite" });
    const legend = el("ul", { class: "replay-legend" }, [
      ...stateNames.map((name, k) => {
        const swatch = el("span", { class: "replay-dot" });
        swatch.style.background = stateColour[k];
        return el("li", {}, [swatch, name]);
      }),
      ...["wall", "door", "window", "stairs", "exit"].map((name) => {
        const swatch = el("span", { class: "replay-tile" });
        swatch.style.background = TILE_COLOURS[name];
        return el("li", {}, [swatch, name]);
      }),
    ]);
    root.replaceChildren(
      el("div", { class: "replay-bar" }, [
        playButton,
        el("label", {}, ["Floor ", floorSelect]),
        el("label", {}, ["Speed ", speedSelect]),
        clock,
      ]),
      el("div", { class: "replay-timeline" }, [scrubber, markerBar]),
      eventLine, counts, stage, info, legend,
    );

    // ---- drawing --------------------------------------------------------------------------
    // Each floor's view: the box around its non-void tiles (the whole map if all are void).
    const voidCode = data.tile_names.indexOf("void");
    const views = Array.from({ length: L }, (_, fl) => {
      let xa = W, xb = -1, ya = H, yb = -1;
      for (let k = 0; k < HW; k++) {
        if (arrays.tiles[fl * HW + k] === voidCode) continue;
        const x = k % W, y = Math.floor(k / W);
        if (x < xa) xa = x;
        if (x > xb) xb = x;
        if (y < ya) ya = y;
        if (y > yb) yb = y;
      }
      return xb < 0 ? [0, 0, W, H] : [xa, ya, xb - xa + 1, yb - ya + 1];
    });
    let [x0, y0, VW, VH] = views[0];

    const ctx = canvas.getContext("2d");
    const tileLayers = [];
    const tileLayer = (fl) => {
      if (!tileLayers[fl]) {
        const layer = document.createElement("canvas");
        layer.width = W;
        layer.height = H;
        const lctx = layer.getContext("2d");
        const image = lctx.createImageData(W, H);
        const rgb = data.tile_names.map((name) => hexRgb(TILE_COLOURS[name] || "#ff00ff"));
        for (let k = 0; k < HW; k++) {
          const c = rgb[arrays.tiles[fl * HW + k]] || [255, 0, 255];
          image.data.set(c, 4 * k);
          image.data[4 * k + 3] = 255;
        }
        lctx.putImageData(image, 0, 0);
        tileLayers[fl] = layer;
      }
      return tileLayers[fl];
    };

    const layout = () => {
      [x0, y0, VW, VH] = views[floor];
      const dpr = window.devicePixelRatio || 1;
      const avail = stage.clientWidth || 960;
      scale = Math.max(1, Math.min(MAX_SCALE, Math.floor((avail * dpr) / VW)));
      if (canvas.width !== VW * scale || canvas.height !== VH * scale) {
        canvas.width = VW * scale;
        canvas.height = VH * scale;
      }
      canvas.style.width = `${(VW * scale) / dpr}px`;
      canvas.style.height = `${(VH * scale) / dpr}px`;
    };

    const radius = () => Math.max(1, scale * 0.4);

    const draw = () => {
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(tileLayer(floor), x0, y0, VW, VH, 0, 0, VW * scale, VH * scale);
      const r = radius();
      const byState = stateNames.map(() => []);
      drawn = 0;
      for (let i = 0; i < N; i++) {
        const c = cells[i * F + frame];
        if (c < 0 || Math.floor(c / HW) !== floor) continue;
        const k = c - floor * HW;
        const x = ((k % W) - x0 + 0.5) * scale, y = (Math.floor(k / W) - y0 + 0.5) * scale;
        drawnIdx[drawn] = i;
        drawnX[drawn] = x;
        drawnY[drawn] = y;
        drawn++;
        const s = states[i * F + frame];
        (byState[s] || byState[0]).push(x, y);
      }
      byState.forEach((xy, s) => {
        if (!xy.length) return;
        ctx.fillStyle = stateColour[s];
        ctx.beginPath();
        for (let j = 0; j < xy.length; j += 2) {
          if (scale < 4) ctx.rect(xy[j] - r, xy[j + 1] - r, 2 * r, 2 * r);
          else {
            ctx.moveTo(xy[j] + r, xy[j + 1]);
            ctx.arc(xy[j], xy[j + 1], r, 0, 2 * Math.PI);
          }
        }
        ctx.fill();
      });
      for (const [i, colour] of [[selected, "#000000"], [hovered, "#ffbf00"]]) {
        const j = drawnSlot(i);
        if (j < 0) continue;
        ctx.strokeStyle = colour;
        ctx.lineWidth = Math.max(1, scale / 6);
        ctx.beginPath();
        ctx.arc(drawnX[j], drawnY[j], r + Math.max(1.5, scale / 5), 0, 2 * Math.PI);
        ctx.stroke();
      }
    };

    const drawnSlot = (i) => {
      if (i < 0) return -1;
      for (let j = 0; j < drawn; j++) if (drawnIdx[j] === i) return j;
      return -1;
    };

    // ---- text -----------------------------------------------------------------------------
    const countNow = () => {
      const floorCounts = new Array(stateNames.length).fill(0);
      const allCounts = new Array(stateNames.length).fill(0);
      for (let i = 0; i < N; i++) {
        const s = states[i * F + frame];
        allCounts[s]++;
        const c = cells[i * F + frame];
        if (c >= 0 && Math.floor(c / HW) === floor) floorCounts[s]++;
      }
      const pick = (arr) => Object.fromEntries(stateNames.map((name, k) => [name, arr[k]]));
      return { floor: pick(floorCounts), all: pick(allCounts) };
    };

    const groupText = (c) => {
      const humans = (c.human || 0) + (c.bitten || 0);
      const bitten = c.bitten ? ` (${c.bitten} bitten)` : "";
      return `${humans} humans${bitten} · ${c.zombie || 0} zombies · ${c.halfbie || 0} halfbies`;
    };

    const updateCounts = () => {
      const c = countNow();
      const out = [c.all.escaped ? `${c.all.escaped} escaped` : "", c.all.rescued ? `${c.all.rescued} rescued` : ""]
        .filter(Boolean).join(" · ");
      counts.textContent = `${data.floor_names[floor]}: ${groupText(c.floor)} — building: ${groupText(c.all)}`
        + (out ? ` — out: ${out}` : "");
    };

    const describe = (i) => {
      const c = cells[i * F + frame];
      const where = c < 0 ? "off the map"
        : Math.floor(c / HW) === floor ? "" : `on ${data.floor_names[Math.floor(c / HW)]}`;
      const state = stateNames[states[i * F + frame]] || "?";
      return [data.names[i], data.roles[i], where ? `${state}, ${where}` : state, data.fates[i]]
        .filter((part) => part !== "").join(" — ");
    };

    const updateInfo = () => {
      const i = hovered >= 0 ? hovered : selected;
      info.textContent = i >= 0 ? describe(i) : "Hover over or click a dot to see who it is.";
    };

    const update = () => {
      scrubber.value = String(frame);
      clock.textContent = clockText(data.clock_start_s + data.times_s[frame]);
      draw();
      updateCounts();
      updateInfo();
    };

    // ---- control --------------------------------------------------------------------------
    const setFrame = (f) => {
      frame = Math.max(0, Math.min(F - 1, Math.round(f) || 0));
      update();
    };

    let lastTs = null, carry = 0;
    const step = (ts) => {
      if (!playing) return;
      if (lastTs !== null) {
        carry += ((ts - lastTs) / 1000) * speed;
        const advance = Math.floor(carry);
        if (advance > 0) {
          carry -= advance;
          setFrame(frame + advance);
          if (frame >= F - 1) {
            pause();
            return;
          }
        }
      }
      lastTs = ts;
      requestAnimationFrame(step);
    };
    const play = () => {
      if (playing) return;
      if (frame >= F - 1) setFrame(0);
      playing = true;
      lastTs = null;
      carry = 0;
      playButton.textContent = "Pause";
      playButton.setAttribute("aria-pressed", "true");
      requestAnimationFrame(step);
    };
    function pause() {
      playing = false;
      playButton.textContent = "Play";
      playButton.setAttribute("aria-pressed", "false");
    }

    playButton.addEventListener("click", () => (playing ? pause() : play()));
    speedSelect.addEventListener("change", () => { speed = Number(speedSelect.value) || DEFAULT_SPEED; });
    floorSelect.addEventListener("change", () => {
      floor = Number(floorSelect.value) || 0;
      hovered = -1;
      layout();
      update();
    });
    scrubber.addEventListener("input", () => {
      pause();
      setFrame(Number(scrubber.value));
    });

    const toCanvas = (clientX, clientY) => {
      const rect = canvas.getBoundingClientRect();
      return [((clientX - rect.left) * canvas.width) / rect.width, ((clientY - rect.top) * canvas.height) / rect.height];
    };
    const agentAt = (clientX, clientY) => {
      const [x, y] = toCanvas(clientX, clientY);
      const reach = Math.max(radius() * 1.5, scale * 0.75, 3);
      let best = -1, bestD = reach * reach;
      for (let j = 0; j < drawn; j++) {
        const d = (drawnX[j] - x) ** 2 + (drawnY[j] - y) ** 2;
        if (d <= bestD) { bestD = d; best = drawnIdx[j]; }
      }
      return best;
    };
    const agentPoint = (i) => {
      const j = drawnSlot(i);
      if (j < 0) return null;
      const rect = canvas.getBoundingClientRect();
      return {
        x: rect.left + (drawnX[j] * rect.width) / canvas.width,
        y: rect.top + (drawnY[j] * rect.height) / canvas.height,
      };
    };
    canvas.addEventListener("mousemove", (e) => {
      const i = agentAt(e.clientX, e.clientY);
      if (i !== hovered) { hovered = i; draw(); updateInfo(); }
    });
    canvas.addEventListener("mouseleave", () => { hovered = -1; draw(); updateInfo(); });
    canvas.addEventListener("click", (e) => {
      selected = agentAt(e.clientX, e.clientY);
      draw();
      updateInfo();
    });

    const relayout = () => { layout(); draw(); };
    if (typeof ResizeObserver === "function") new ResizeObserver(relayout).observe(stage);
    else window.addEventListener("resize", relayout);
    layout();
    update();

    const track = (i) => ({
      cells: Array.from(cells.subarray(i * F, (i + 1) * F)),
      states: Array.from(states.subarray(i * F, (i + 1) * F)),
    });
    window.hyosanReplay = Object.freeze({
      ready: true,
      frame: () => frame,
      frames: () => F,
      floor: () => floor,
      playing: () => playing,
      speed: () => speed,
      dots: () => drawn,
      clock: () => clock.textContent,
      counts: countNow,
      selected: () => selected,
      agentAt,
      agentPoint,
      track,
    });
    root.dataset.ready = "true";
    root.dispatchEvent(new CustomEvent("replay-ready", { bubbles: true }));
  }

  async function start() {
    const root = document.getElementById("replay");
    const source = document.getElementById("replay-data");
    if (!root || !source) return;
    try {
      const data = JSON.parse(source.textContent);
      build(root, data, await decode(data));
    } catch (err) {
      root.replaceChildren(el("p", { class: "replay-error", text: `The replay could not be shown: ${err.message}` }));
      root.dataset.ready = "error";
      throw err;
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
