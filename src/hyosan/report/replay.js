/* hyosan replay: plays a run's frames on a canvas, one floor at a time.
 * Reads the payload (see hyosan/report/replay.py) from <script type="application/json"
 * id="replay-data"> and builds the player inside <div id="replay">. Plain ES2020, nothing
 * fetched; every text that comes from the data is set with textContent (or drawn on the canvas).
 * Elements anywhere in the page with data-replay-time="SECONDS" (and data-replay-floor) jump
 * the replay to that moment when clicked. */
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
  // Doors by state: closed and locked are both drawn "shut".
  const DOOR_LOOKS = {
    open: { colour: "#f3e2bd", label: "door open" },
    closed: { colour: "#b7791f", label: "door shut" },
    locked: { colour: "#b7791f", label: "door shut" },
    barricaded: { colour: "#4a2c0a", label: "door barricaded" },
    broken: { colour: "#ff6b6b", label: "door broken" },
  };
  // Marker kinds (the timeline's colours, shown in its legend).
  const KIND_COLOURS = {
    bite: "#d62828", turn: "#8b0000", character: "#8f3fd1", alarm: "#f08c00", spread: "#e76f51",
    cordon: "#3f4654", goal: "#2a9d8f", rescue: "#11a7c2", escape: "#19a974", strike: "#6d597a",
    "floor lost": "#9c6644", end: "#000000", patient: "#b5179e",
  };
  const KIND_LABELS = { character: "named character", "floor lost": "last human on a floor", spread: "share infected" };
  const FALLBACK_COLOURS = ["#777777", "#a0522d", "#008080", "#808000", "#c71585"];
  const SPEEDS = [1, 2, 4, 8, 16, 32, 64];
  const DEFAULT_SPEED = 8;
  const MAX_SCALE = 32; // CSS pixels per tile at most (a small map is not blown up past this)
  const MARKER_GAP_PX = 20; // markers closer than this on the timeline are grouped into one button
  const TOUCH_REACH_PX = 22; // a tap finds the nearest dot within this many CSS pixels

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
    if (!text) return new Uint8Array(0);
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
    const N = data.agents, F = data.frames, D = (data.door_cells || []).length;
    const [tileBytes, cellBytes, stateBytes, doorBytes] = await Promise.all(
      [data.tiles, data.cells, data.states, data.doors || ""].map(inflate));
    if (tileBytes.length !== data.floors * data.height * data.width) throw new Error("replay: bad tiles");
    if (cellBytes.length !== 4 * N * F || stateBytes.length !== N * F) throw new Error("replay: bad frames");
    if (D && doorBytes.length !== D * F) throw new Error("replay: bad doors");
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
    return { tiles: tileBytes, cells, states, doors: doorBytes };
  }

  function build(root, data, arrays) {
    const N = data.agents, F = data.frames, L = data.floors, H = data.height, W = data.width;
    const HW = H * W;
    const { cells, states } = arrays;
    const stateNames = data.state_names;
    const stateColour = stateNames.map((name, k) => STATE_COLOURS[name] || FALLBACK_COLOURS[k % FALLBACK_COLOURS.length]);
    const characters = data.characters || [];
    const isCharacter = new Uint8Array(N);
    for (const i of characters) isCharacter[i] = 1;
    const rooms = data.rooms || [];
    const doorCells = data.door_cells || [];
    const doorNames = data.door_state_names || [];
    const helicopters = data.helicopters || [];
    const markers = data.markers.map((m, k) => ({ ...m, index: k, text: `${clockText(data.clock_start_s + m.time_s)} ${m.label}` }));
    const coarse = typeof matchMedia === "function" && matchMedia("(pointer: coarse)").matches;

    let frame = 0, floor = 0, playing = false, speed = DEFAULT_SPEED;
    let scale = 8, selected = -1, hovered = -1, following = -1, showLabels = true;
    let drawn = 0, drawnIdx = new Int32Array(N), drawnX = new Float32Array(N), drawnY = new Float32Array(N);
    let labelsDrawn = [], heliDrawn = [];

    // ---- markup ---------------------------------------------------------------------------
    const playButton = el("button", { id: "replay-play", type: "button", class: "replay-play", text: "Play",
      "aria-keyshortcuts": "Space" });
    const floorSelect = el("select", { id: "replay-floor", "aria-label": "Floor" },
      data.floor_names.map((name, k) => el("option", { value: String(k), text: name })));
    const speedSelect = el("select", { id: "replay-speed", "aria-label": "Speed (frames per second)" },
      SPEEDS.map((s) => el("option", { value: String(s), text: `${s}x` })));
    speedSelect.value = String(speed);
    const followSelect = el("select", { id: "replay-follow", "aria-label": "Follow a character" }, [
      el("option", { value: "-1", text: "nobody" }),
      ...characters.map((i) => el("option", { value: String(i), text: data.names[i] })),
    ]);
    const labelBox = el("input", { id: "replay-labels", type: "checkbox" });
    labelBox.checked = showLabels;
    const clock = el("output", { id: "replay-clock", class: "replay-clock" });
    const scrubber = el("input", {
      id: "replay-time", type: "range", min: "0", max: String(F - 1), step: "1", value: "0",
      "aria-label": "Time",
    });
    const markerBar = el("div", { class: "replay-markers" });
    const groupList = el("div", { id: "replay-group-list", class: "replay-group-list", role: "menu" });
    groupList.hidden = true;
    const eventLine = el("div", { id: "replay-event", class: "replay-event", "aria-live": "polite" });
    const counts = el("div", { id: "replay-counts", class: "replay-counts" });
    const canvas = el("canvas", { id: "replay-canvas", role: "img", "aria-label": "Map of the floor with agents" });
    const stage = el("div", { class: "replay-stage" }, [canvas]);
    const info = el("div", { id: "replay-info", class: "replay-info", "aria-live": "polite" });
    const swatchItem = (cls, colour, text, kind) => {
      const swatch = el("span", { class: cls });
      swatch.style.background = colour;
      const li = el("li", {}, [swatch, text]);
      if (kind) li.dataset.kind = kind;
      return li;
    };
    const doorLooks = [...new Map(doorNames.map((n) => DOOR_LOOKS[n]).filter(Boolean).map((d) => [d.label, d])).values()];
    const legend = el("ul", { class: "replay-legend", id: "replay-legend" }, [
      ...stateNames.map((name, k) => swatchItem("replay-dot", stateColour[k], name)),
      ...(characters.length ? [swatchItem("replay-dot replay-dot-character", "#ffffff", "named character")] : []),
      ...["wall", "window", "stairs", "exit"].map((name) => swatchItem("replay-tile", TILE_COLOURS[name], name)),
      ...(doorCells.length ? doorLooks.map((d) => swatchItem("replay-tile", d.colour, d.label)) : [TILE_COLOURS.door]
        .map((c) => swatchItem("replay-tile", c, "door"))),
      ...(helicopters.length ? [swatchItem("replay-dot replay-dot-heli", "#ffd000", "helicopter")] : []),
    ]);
    const kindsPresent = [...new Set(markers.map((m) => m.kind))];
    const kindColour = (kind) => KIND_COLOURS[kind] || FALLBACK_COLOURS[kindsPresent.indexOf(kind) % FALLBACK_COLOURS.length];
    const kindLegend = el("ul", { class: "replay-legend replay-kinds", id: "replay-kinds", "aria-label": "Timeline markers" },
      kindsPresent.map((kind) => swatchItem("replay-tile", kindColour(kind), KIND_LABELS[kind] || kind, kind)));
    const keysHelp = el("details", { class: "replay-keys" }, [
      el("summary", { text: "Keyboard" }),
      el("p", { text: "Space play/pause · ← → one frame (Shift: ten) · Home End first/last · "
        + "PageUp PageDown or [ ] floor · N P next/previous event · + − speed · L room labels · F follow next character · Esc close" }),
    ]);
    root.tabIndex = 0;
    root.replaceChildren(
      el("div", { class: "replay-bar" }, [
        playButton,
        el("label", {}, ["Floor ", floorSelect]),
        el("label", {}, ["Speed ", speedSelect]),
        ...(characters.length ? [el("label", {}, ["Follow ", followSelect])] : []),
        el("label", {}, [labelBox, " Room labels"]),
        clock,
      ]),
      el("div", { class: "replay-timeline" }, [scrubber, markerBar, groupList]),
      kindLegend, eventLine, counts, stage, info, legend, keysHelp,
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
      // The canvas fills the width; its pixels stay whole multiples of a tile (crisp).
      scale = Math.max(1, Math.min(Math.round(MAX_SCALE * dpr), Math.ceil((avail * dpr) / VW)));
      if (canvas.width !== VW * scale || canvas.height !== VH * scale) {
        canvas.width = VW * scale;
        canvas.height = VH * scale;
      }
      const cssWidth = Math.min(avail, VW * MAX_SCALE);
      canvas.style.width = `${cssWidth}px`;
      canvas.style.height = `${(cssWidth * VH) / VW}px`;
      layoutMarkers();
    };

    const radius = () => Math.max(1, scale * 0.4);
    const cssPx = () => canvas.width / (canvas.getBoundingClientRect().width || canvas.width);

    const doorColours = doorNames.map((n) => (DOOR_LOOKS[n] || DOOR_LOOKS.closed).colour);
    const drawDoors = () => {
      for (let d = 0; d < doorCells.length; d++) {
        const c = doorCells[d];
        if (Math.floor(c / HW) !== floor) continue;
        const k = c - floor * HW;
        const x = ((k % W) - x0) * scale, y = (Math.floor(k / W) - y0) * scale;
        const name = doorNames[arrays.doors[d * F + frame]];
        ctx.fillStyle = doorColours[arrays.doors[d * F + frame]] || TILE_COLOURS.door;
        ctx.fillRect(x, y, scale, scale);
        if (scale >= 4 && (name === "barricaded" || name === "broken")) {
          ctx.strokeStyle = name === "barricaded" ? "#f3e2bd" : "#7a0000";
          ctx.lineWidth = Math.max(1, scale / 8);
          ctx.beginPath();
          ctx.moveTo(x + 1, y + 1); ctx.lineTo(x + scale - 1, y + scale - 1);
          if (name === "barricaded") { ctx.moveTo(x + scale - 1, y + 1); ctx.lineTo(x + 1, y + scale - 1); }
          ctx.stroke();
        }
      }
    };

    const textSize = () => Math.round(Math.max(11, Math.min(16, scale * 1.4)) * Math.max(1, cssPx()));
    const drawLabels = () => {
      labelsDrawn = [];
      if (!showLabels) return;
      ctx.font = `600 ${textSize()}px system-ui, sans-serif`;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.lineJoin = "round";
      ctx.lineWidth = Math.max(2, textSize() / 4);
      ctx.strokeStyle = "rgba(255,255,255,0.85)";
      ctx.fillStyle = "#1b1f27";
      for (const r of rooms) {
        if (r.floor !== floor) continue;
        const x = (r.x - x0 + 0.5) * scale, y = (r.y - y0 + 0.5) * scale;
        // Fit the name into the room's width: words on up to three lines, then a smaller font.
        const room = r.w > 0 ? r.w * scale * 0.95 : Infinity;
        let size = textSize(), lines = [r.name];
        for (; size >= 8; size = Math.floor(size * 0.85)) {
          ctx.font = `600 ${size}px system-ui, sans-serif`;
          lines = [];
          for (const word of r.name.split(" ")) {
            const last = lines[lines.length - 1];
            if (last !== undefined && ctx.measureText(`${last} ${word}`).width <= room) lines[lines.length - 1] = `${last} ${word}`;
            else lines.push(word);
          }
          if (lines.length <= 3 && lines.every((l) => ctx.measureText(l).width <= room)) break;
        }
        ctx.lineWidth = Math.max(2, size / 4);
        lines.forEach((line, k) => {
          const ly = y + (k - (lines.length - 1) / 2) * size * 1.1;
          ctx.strokeText(line, x, ly);
          ctx.fillText(line, x, ly);
        });
        labelsDrawn.push(r.name);
      }
    };

    const drawHelicopters = () => {
      heliDrawn = [];
      for (const h of helicopters) {
        if (h.floor !== floor || frame < h.from_frame || frame > h.to_frame) continue;
        const x = (h.x - x0 + 0.5) * scale, y = (h.y - y0 + 0.5) * scale, r = Math.max(6, scale * 2.2);
        ctx.fillStyle = "#ffd000";
        ctx.strokeStyle = "#1b1f27";
        ctx.lineWidth = Math.max(1, scale / 4);
        ctx.beginPath();
        ctx.arc(x, y, r, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
        ctx.fillStyle = "#1b1f27";
        ctx.font = `700 ${Math.round(r * 1.2)}px system-ui, sans-serif`;
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        ctx.fillText("H", x, y);
        heliDrawn.push(h.label);
      }
    };

    const draw = () => {
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(tileLayer(floor), x0, y0, VW, VH, 0, 0, VW * scale, VH * scale);
      drawDoors();
      const r = radius();
      const byState = stateNames.map(() => []);
      const named = [];
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
        if (isCharacter[i]) named.push([i, x, y, s]);
        else (byState[s] || byState[0]).push(x, y);
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
      drawLabels();
      // Named characters on top of the crowd and the labels: a bigger dot, a white ring, a name.
      const rc = Math.max(3, r * 1.5);
      ctx.font = `600 ${Math.round(textSize() * 0.85)}px system-ui, sans-serif`;
      ctx.textAlign = "left";
      ctx.textBaseline = "middle";
      for (const [i, x, y, s] of named) {
        ctx.fillStyle = stateColour[s] || stateColour[0];
        ctx.strokeStyle = "#ffffff";
        ctx.lineWidth = Math.max(1.5, scale / 5);
        ctx.beginPath();
        ctx.arc(x, y, rc, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
        const first = data.names[i].split(" ").slice(-1)[0];
        ctx.lineWidth = Math.max(2, textSize() / 4);
        ctx.strokeStyle = "rgba(255,255,255,0.9)";
        ctx.strokeText(first, x + rc + 2, y);
        ctx.fillStyle = "#1b1f27";
        ctx.fillText(first, x + rc + 2, y);
      }
      drawHelicopters();
      for (const [i, colour] of [[selected, "#000000"], [hovered, "#ffbf00"]]) {
        const j = drawnSlot(i);
        if (j < 0) continue;
        ctx.strokeStyle = colour;
        ctx.lineWidth = Math.max(1, scale / 6);
        ctx.beginPath();
        ctx.arc(drawnX[j], drawnY[j], (isCharacter[i] ? rc : r) + Math.max(1.5, scale / 5), 0, 2 * Math.PI);
        ctx.stroke();
      }
    };

    const drawnSlot = (i) => {
      if (i < 0) return -1;
      for (let j = 0; j < drawn; j++) if (drawnIdx[j] === i) return j;
      return -1;
    };

    // ---- the timeline's markers, grouped where they would overlap ---------------------------
    let groups = [];
    const jumpTo = (m) => {
      pause();
      closeGroup();
      if (m.floor >= 0 && m.floor < L) setFloor(m.floor, false);
      if (m.agent >= 0) selected = m.agent;
      setFrame(m.frame);
    };
    const markerButton = (group) => {
      const first = group[0];
      const text = group.map((m) => m.text).join("\n");
      const button = el("button", { type: "button", class: "replay-marker", title: text,
        "aria-label": group.length > 1 ? `${group.length} events: ${text}` : text });
      button.dataset.kind = first.kind;
      button.dataset.frame = String(first.frame);
      button.style.background = kindColour(first.kind);
      if (group.length > 1) {
        button.classList.add("replay-group");
        button.dataset.count = String(group.length);
        button.textContent = String(group.length);
        button.setAttribute("aria-haspopup", "menu");
        button.addEventListener("click", (e) => { e.stopPropagation(); openGroup(group, button); });
      } else {
        button.addEventListener("click", () => jumpTo(first));
      }
      return button;
    };
    function layoutMarkers() {
      const width = markerBar.clientWidth || 960;
      const at = (m) => (F > 1 ? (m.frame / (F - 1)) * width : 0);
      groups = [];
      for (const m of markers) {
        const last = groups[groups.length - 1];
        if (last && at(m) - at(last[0]) < MARKER_GAP_PX) last.push(m);
        else groups.push([m]);
      }
      markerBar.replaceChildren(...groups.map((g) => {
        const b = markerButton(g);
        b.style.left = `${F > 1 ? (100 * g[0].frame) / (F - 1) : 0}%`;
        return b;
      }));
    }
    function openGroup(group, button) {
      groupList.replaceChildren(...group.map((m) => {
        const item = el("button", { type: "button", class: "replay-group-item", role: "menuitem", text: m.text });
        const sw = el("span", { class: "replay-tile" });
        sw.style.background = kindColour(m.kind);
        item.prepend(sw);
        item.addEventListener("click", () => jumpTo(m));
        return item;
      }));
      groupList.style.left = button.style.left;
      groupList.hidden = false;
      groupList.querySelector("button").focus();
    }
    function closeGroup() { groupList.hidden = true; }
    document.addEventListener("click", (e) => { if (!groupList.contains(e.target)) closeGroup(); });

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

    // The event line: the latest markers at or before the playhead.
    const currentEvents = () => {
      let k = -1;
      for (let j = 0; j < markers.length && markers[j].frame <= frame; j++) k = j;
      if (k < 0) return [];
      return markers.filter((m) => m.frame === markers[k].frame);
    };
    const updateEvent = () => {
      eventLine.textContent = currentEvents().map((m) => m.text).join(" · ");
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
      info.textContent = i >= 0 ? describe(i)
        : coarse ? "Tap a dot to see who it is." : "Hover over or click a dot to see who it is.";
    };

    const update = () => {
      if (following >= 0) {
        selected = following;
        const c = cells[following * F + frame];
        if (c >= 0 && Math.floor(c / HW) !== floor) setFloor(Math.floor(c / HW), false);
      }
      scrubber.value = String(frame);
      clock.textContent = clockText(data.clock_start_s + data.times_s[frame]);
      draw();
      updateCounts();
      updateEvent();
      updateInfo();
    };

    // ---- control --------------------------------------------------------------------------
    const setFrame = (f) => {
      frame = Math.max(0, Math.min(F - 1, Math.round(f) || 0));
      update();
    };
    function setFloor(f, redraw = true) {
      const next = Math.max(0, Math.min(L - 1, f | 0));
      floorSelect.value = String(next);
      if (next === floor && !redraw) return;
      floor = next;
      hovered = -1;
      layout();
      if (redraw) update();
    }
    const frameAt = (seconds) => {
      let lo = 0, hi = F - 1;
      if (seconds > data.times_s[hi]) return hi;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (data.times_s[mid] < seconds - 1e-9) lo = mid + 1; else hi = mid;
      }
      return lo;
    };
    const seekTime = (seconds, fl) => {
      pause();
      if (fl !== undefined && fl !== null && fl >= 0) setFloor(fl, false);
      setFrame(frameAt(seconds));
    };
    const setFollow = (i) => {
      following = characters.includes(i) ? i : -1;
      followSelect.value = String(following);
      if (following < 0) selected = -1;
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
    const setSpeed = (s) => {
      speed = SPEEDS.includes(s) ? s : DEFAULT_SPEED;
      speedSelect.value = String(speed);
    };

    playButton.addEventListener("click", () => (playing ? pause() : play()));
    speedSelect.addEventListener("change", () => setSpeed(Number(speedSelect.value)));
    floorSelect.addEventListener("change", () => {
      if (following >= 0) setFollow(-1); // choosing a floor by hand stops following
      setFloor(Number(floorSelect.value) || 0);
    });
    followSelect.addEventListener("change", () => setFollow(Number(followSelect.value)));
    labelBox.addEventListener("change", () => { showLabels = labelBox.checked; draw(); });
    scrubber.addEventListener("input", () => {
      pause();
      setFrame(Number(scrubber.value));
    });

    const nextMarker = (dir) => {
      const list = dir > 0 ? markers.filter((m) => m.frame > frame) : markers.filter((m) => m.frame < frame).reverse();
      if (list.length) jumpTo(list[0]);
    };
    root.addEventListener("keydown", (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target;
      if (t.tagName === "SELECT" || (t.tagName === "INPUT" && t.type !== "range" && t.type !== "checkbox")) return;
      const onRange = t === scrubber;
      const key = e.key;
      let handled = true;
      if (key === " " || key === "k") { if (t.tagName === "BUTTON" && key === " ") return; playing ? pause() : play(); }
      else if (key === "ArrowRight" && !onRange) { pause(); setFrame(frame + (e.shiftKey ? 10 : 1)); }
      else if (key === "ArrowLeft" && !onRange) { pause(); setFrame(frame - (e.shiftKey ? 10 : 1)); }
      else if (key === "Home" && !onRange) { pause(); setFrame(0); }
      else if (key === "End" && !onRange) { pause(); setFrame(F - 1); }
      else if (key === "PageUp" || key === "]") { setFollow(-1); setFloor(floor + 1); }
      else if (key === "PageDown" || key === "[") { setFollow(-1); setFloor(floor - 1); }
      else if (key === "n" || key === "N") nextMarker(1);
      else if (key === "p" || key === "P") nextMarker(-1);
      else if (key === "+" || key === "=") setSpeed(SPEEDS[Math.min(SPEEDS.length - 1, SPEEDS.indexOf(speed) + 1)]);
      else if (key === "-" || key === "_") setSpeed(SPEEDS[Math.max(0, SPEEDS.indexOf(speed) - 1)]);
      else if (key === "l" || key === "L") { labelBox.checked = showLabels = !showLabels; draw(); }
      else if ((key === "f" || key === "F") && characters.length) {
        setFollow(characters[(characters.indexOf(following) + 1) % characters.length]);
      }
      else if (key === "Escape") { closeGroup(); setFollow(-1); }
      else handled = false;
      if (handled) e.preventDefault();
    });

    // Anything in the page with data-replay-time jumps the replay (milestones, the chronicle).
    document.addEventListener("click", (e) => {
      const target = e.target instanceof Element ? e.target.closest("[data-replay-time]") : null;
      if (!target) return;
      e.preventDefault();
      const fl = target.dataset.replayFloor;
      seekTime(Number(target.dataset.replayTime), fl === undefined ? -1 : Number(fl));
      root.scrollIntoView({ block: "start", behavior: "instant" });
    });

    const toCanvas = (clientX, clientY) => {
      const rect = canvas.getBoundingClientRect();
      return [((clientX - rect.left) * canvas.width) / rect.width, ((clientY - rect.top) * canvas.height) / rect.height];
    };
    let lastPointer = "mouse";
    const agentAt = (clientX, clientY, touch = false) => {
      const [x, y] = toCanvas(clientX, clientY);
      const reach = touch ? TOUCH_REACH_PX * cssPx() : Math.max(radius() * 1.5, scale * 0.75, 3);
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
    canvas.addEventListener("pointerdown", (e) => { lastPointer = e.pointerType || "mouse"; });
    canvas.addEventListener("mousemove", (e) => {
      const i = agentAt(e.clientX, e.clientY);
      if (i !== hovered) { hovered = i; draw(); updateInfo(); }
    });
    canvas.addEventListener("mouseleave", () => { hovered = -1; draw(); updateInfo(); });
    canvas.addEventListener("click", (e) => {
      const touch = lastPointer === "touch" || lastPointer === "pen" || coarse;
      selected = agentAt(e.clientX, e.clientY, touch);
      if (following >= 0 && selected !== following) { following = -1; followSelect.value = "-1"; }
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
    const doorsNow = () => Object.fromEntries(doorCells.map((c, d) => [c, doorNames[arrays.doors[d * F + frame]]]));
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
      following: () => following,
      labels: () => labelsDrawn.slice(),
      helicopters: () => heliDrawn.slice(),
      doors: doorsNow,
      events: () => currentEvents().map((m) => m.text),
      markerGroups: () => groups.map((g) => g.map((m) => m.index)),
      seekTime,
      agentAt,
      agentPoint,
      track,
    });
    root.dataset.ready = "true";
    root.dispatchEvent(new CustomEvent("replay-ready", { bubbles: true }));
  }

  // Build a player from a payload already in hand (the studio opens run folders this way).
  window.hyosanReplayMount = async (root, data) => build(root, data, await decode(data));

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
