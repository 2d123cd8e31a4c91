/* hyosan replay: plays a run's frames on a canvas, every floor at once (a grid, as the video
 * lays them out) or one floor enlarged, with zoom and pan, a "Follow" camera that keeps a
 * character centred, labels placed where they overlap nothing, and a card for the agent clicked.
 * Reads the payload (see hyosan/report/replay.py) from <script type="application/json"
 * id="replay-data"> and builds the player inside <div id="replay">. Plain ES2020, nothing
 * fetched; every text that comes from the data is set with textContent (or drawn on the canvas).
 * Colours come from the payload's palette (hyosan/palette.py), else window.HYOSAN_PALETTE, else
 * the page's <script type="application/json" id="hyosan-palette">.
 * Elements anywhere in the page with data-replay-time="SECONDS" (and data-replay-floor) jump
 * the replay to that moment when clicked; so does a click on a chart (svg.chart-svg with
 * data-x0/data-x1 in seconds), which also shows the playhead as a line. */
(() => {
  "use strict";

  // Doors by state: closed and locked are both drawn "shut" (the palette's door colour).
  const DOOR_LOOKS = {
    open: { colour: "#f3e2bd", label: "door open" },
    closed: { colour: null, label: "door shut" },
    locked: { colour: null, label: "door shut" },
    barricaded: { colour: "#4a2c0a", label: "door barricaded" },
    broken: { colour: "#ff6b6b", label: "door broken" },
  };
  // Marker kinds (the timeline's colours, shown in its legend): the palette's where a state or a
  // tile says the same, else their own.
  const kindColours = (P) => ({
    bite: P.state.zombie, turn: "#8b0000", character: P.state.halfbie, alarm: P.state.bitten, spread: "#e76f51",
    cordon: P.tile.wall, goal: "#2a9d8f", rescue: P.state.rescued, escape: P.state.escaped, strike: "#6d597a",
    "floor lost": "#9c6644", end: "#000000", patient: "#b5179e",
  });
  const KIND_LABELS = { character: "named character", "floor lost": "last human on a floor", spread: "share infected" };
  const FALLBACK_COLOURS = ["#777777", "#a0522d", "#008080", "#808000", "#c71585"];
  const HELI_COLOUR = "#ffd000";
  const SPEEDS = [1, 2, 4, 8, 16, 32, 64];
  const DEFAULT_SPEED = 8;
  const MAX_TILE_PX = 32; // CSS pixels per tile at most when fitted (a small map is not blown up past this)
  const MAX_ZOOM = 16;
  const FOLLOW_TILES = 36; // "Follow" shows about this many tiles across (zoomed in twice at least)
  const MARKER_GAP_PX = 20; // markers closer than this on the timeline are grouped into one button
  const TOUCH_REACH_PX = 22; // a tap finds the nearest dot within this many CSS pixels
  const GAP_PX = 26; // CSS pixels between floors in the grid (the floor's name is written there)
  const DRAG_PX = 5; // a press that moves further than this pans instead of clicking

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
    const [tileBytes, cellBytes, stateBytes, doorBytes, roomBytes] = await Promise.all(
      [data.tiles, data.cells, data.states, data.doors || "", data.room_ids || ""].map(inflate));
    const LHW = data.floors * data.height * data.width;
    if (tileBytes.length !== LHW) throw new Error("replay: bad tiles");
    if (cellBytes.length !== 4 * N * F || stateBytes.length !== N * F) throw new Error("replay: bad frames");
    if (D && doorBytes.length !== D * F) throw new Error("replay: bad doors");
    if (roomBytes.length && roomBytes.length !== 2 * LHW) throw new Error("replay: bad rooms");
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
    let roomIds = null;
    if (roomBytes.length) {
      const rv = new DataView(roomBytes.buffer, roomBytes.byteOffset, roomBytes.byteLength);
      roomIds = new Int16Array(LHW);
      for (let k = 0; k < LHW; k++) roomIds[k] = rv.getInt16(2 * k, true);
    }
    return { tiles: tileBytes, cells, states, doors: doorBytes, roomIds };
  }

  // The floors in a grid: the number of columns that gives the biggest tiles (as the video does).
  function gridLayout(boxes, availW, availH, gapPx) {
    let best = null;
    for (let cols = 1; cols <= boxes.length; cols++) {
      const rows = [];
      for (let i = 0; i < boxes.length; i += cols) rows.push(boxes.slice(i, i + cols));
      const tilesW = Math.max(...rows.map((r) => r.reduce((a, b) => a + b[2], 0)));
      const tilesH = rows.reduce((a, r) => a + Math.max(...r.map((b) => b[3])), 0);
      const s = Math.min((availW - gapPx * (cols - 1)) / tilesW, (availH - gapPx * rows.length) / tilesH);
      if (!best || s > best.s + 1e-9) best = { cols, s, rows };
    }
    return best;
  }

  function build(root, data, arrays) {
    const N = data.agents, F = data.frames, L = data.floors, H = data.height, W = data.width;
    const HW = H * W;
    const { cells, states } = arrays;
    const paletteElement = document.getElementById("hyosan-palette");
    const palette = data.palette || window.HYOSAN_PALETTE || (paletteElement && JSON.parse(paletteElement.textContent));
    if (!palette || !palette.state || !palette.tile) throw new Error("replay: no palette");
    const INK = palette.ink || "#1b1f27";
    const stateNames = data.state_names;
    const stateColour = stateNames.map((name, k) => palette.state[name] || FALLBACK_COLOURS[k % FALLBACK_COLOURS.length]);
    const tileColour = (name) => palette.tile[name] || "#ff00ff";
    const characters = data.characters || [];
    const isCharacter = new Uint8Array(N);
    for (const i of characters) isCharacter[i] = 1;
    const rooms = data.rooms || [];
    const roomNames = data.room_names || [];
    const bittenBy = data.bitten_by || [];
    const bittenS = data.bitten_s || [];
    const doorCells = data.door_cells || [];
    const doorNames = data.door_state_names || [];
    const helicopters = data.helicopters || [];
    const markers = data.markers.map((m, k) => ({ ...m, index: k, text: `${clockText(data.clock_start_s + m.time_s)} ${m.label}` }));
    const coarse = typeof matchMedia === "function" && matchMedia("(pointer: coarse)").matches;
    const clockAt = (f) => clockText(data.clock_start_s + data.times_s[f]);

    let frame = 0, view = L > 1 ? -1 : 0, playing = false, speed = DEFAULT_SPEED;
    let selected = -1, hovered = -1, following = -1, showLabels = true;
    let zoom = 1, camX = 0, camY = 0, fit = 1, S = 1, dpr = 1;
    let drawn = 0;
    const drawnIdx = new Int32Array(N), drawnX = new Float32Array(N), drawnY = new Float32Array(N);
    let labelsDrawn = [], labelBoxes = [], heliDrawn = [];

    // ---- markup ---------------------------------------------------------------------------
    const playButton = el("button", { id: "replay-play", type: "button", class: "replay-play", text: "Play",
      "aria-keyshortcuts": "Space" });
    const floorSelect = el("select", { id: "replay-floor", "aria-label": "Floor" }, [
      ...(L > 1 ? [el("option", { value: "-1", text: "All floors" })] : []),
      ...data.floor_names.map((name, k) => el("option", { value: String(k), text: name })),
    ]);
    const speedSelect = el("select", { id: "replay-speed", "aria-label": "Speed (frames per second)" },
      SPEEDS.map((s) => el("option", { value: String(s), text: `${s}x` })));
    speedSelect.value = String(speed);
    const followSelect = el("select", { id: "replay-follow", "aria-label": "Follow a character" }, [
      el("option", { value: "-1", text: "nobody" }),
      ...characters.map((i) => el("option", { value: String(i), text: data.names[i] })),
    ]);
    const labelBox = el("input", { id: "replay-labels", type: "checkbox" });
    labelBox.checked = showLabels;
    const zoomOut = el("button", { id: "replay-zoom-out", type: "button", class: "replay-zoom", text: "−",
      "aria-label": "Zoom out", title: "Zoom out (X)" });
    const zoomIn = el("button", { id: "replay-zoom-in", type: "button", class: "replay-zoom", text: "+",
      "aria-label": "Zoom in", title: "Zoom in (Z)" });
    const zoomFit = el("button", { id: "replay-zoom-fit", type: "button", class: "replay-zoom", text: "Fit",
      "aria-label": "Show the whole view", title: "Show the whole view (0)" });
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
    const canvas = el("canvas", { id: "replay-canvas", role: "img", "aria-label": "Map of the building with agents" });
    const card = el("aside", { id: "replay-card", class: "replay-card", "aria-live": "polite", "aria-label": "Selected agent" });
    card.hidden = true;
    const stage = el("div", { class: "replay-stage" }, [canvas, card]);
    const info = el("div", { id: "replay-info", class: "replay-info", "aria-live": "polite" });
    const swatchItem = (cls, colour, text, kind) => {
      const swatch = el("span", { class: cls });
      swatch.style.background = colour;
      const li = el("li", {}, [swatch, text]);
      if (kind) li.dataset.kind = kind;
      return li;
    };
    const doorColour = (name) => (DOOR_LOOKS[name] || DOOR_LOOKS.closed).colour || tileColour("door");
    const doorLooks = [...new Map(doorNames.filter((n) => DOOR_LOOKS[n])
      .map((n) => [DOOR_LOOKS[n].label, { label: DOOR_LOOKS[n].label, colour: doorColour(n) }])).values()];
    const legend = el("ul", { class: "replay-legend", id: "replay-legend" }, [
      ...stateNames.map((name, k) => swatchItem("replay-dot", stateColour[k], name)),
      ...(characters.length ? [swatchItem("replay-dot replay-dot-character", "#ffffff", "named character")] : []),
      ...["wall", "window", "stairs", "exit"].map((name) => swatchItem("replay-tile", tileColour(name), name)),
      ...(doorCells.length ? doorLooks.map((d) => swatchItem("replay-tile", d.colour, d.label))
        : [swatchItem("replay-tile", tileColour("door"), "door")]),
      ...(helicopters.length ? [swatchItem("replay-dot replay-dot-heli", HELI_COLOUR, "helicopter")] : []),
    ]);
    const kindsPresent = [...new Set(markers.map((m) => m.kind))];
    const KIND_COLOURS = kindColours(palette);
    const kindColour = (kind) => KIND_COLOURS[kind] || FALLBACK_COLOURS[kindsPresent.indexOf(kind) % FALLBACK_COLOURS.length];
    const kindLegend = el("ul", { class: "replay-legend replay-kinds", id: "replay-kinds", "aria-label": "Timeline markers" },
      kindsPresent.map((kind) => swatchItem("replay-tile", kindColour(kind), KIND_LABELS[kind] || kind, kind)));
    const keysHelp = el("details", { class: "replay-keys" }, [
      el("summary", { text: "Keyboard and mouse" }),
      el("p", { text: "Space play/pause · ← → one frame (Shift: ten) · Home End first/last · "
        + "PageUp PageDown or [ ] floor · A all floors · Z X zoom in/out · 0 fit · N P next/previous event · "
        + "+ − speed · L labels · F follow next character · Esc stop following, close the card. "
        + "Drag to pan; Ctrl+wheel or pinch to zoom; double-click a floor to enlarge it; click a chart to jump there." }),
    ]);
    root.tabIndex = 0;
    root.replaceChildren(
      el("div", { class: "replay-bar" }, [
        playButton,
        el("label", {}, ["Floor ", floorSelect]),
        el("label", {}, ["Speed ", speedSelect]),
        ...(characters.length ? [el("label", {}, ["Follow ", followSelect])] : []),
        el("label", {}, [labelBox, " Labels"]),
        el("span", { class: "replay-zooms", role: "group", "aria-label": "Zoom" }, [zoomOut, zoomIn, zoomFit]),
        clock,
      ]),
      el("div", { class: "replay-timeline" }, [scrubber, markerBar, groupList]),
      kindLegend, eventLine, counts, stage, info, legend, keysHelp,
    );

    // ---- geometry: floors placed in a world of tiles, a camera over it ----------------------
    // Each floor's box: its non-void tiles (the whole map if all are void).
    const voidCode = data.tile_names.indexOf("void");
    const boxes = Array.from({ length: L }, (_, fl) => {
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
    // origin[fl]: where the floor's box starts in the world (tiles); null when it is not shown.
    let origin = [], contentW = 1, contentH = 1, gapTiles = 0;

    const ctx = canvas.getContext("2d");
    const tileLayers = [];
    const tileLayer = (fl) => {
      if (!tileLayers[fl]) {
        const layer = document.createElement("canvas");
        layer.width = W;
        layer.height = H;
        const lctx = layer.getContext("2d");
        const image = lctx.createImageData(W, H);
        const rgb = data.tile_names.map((name) => hexRgb(tileColour(name)));
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

    const maxHeight = () => Math.max(240, Math.min(window.innerHeight * 0.8, 1000));
    const layout = () => {
      dpr = window.devicePixelRatio || 1;
      const availW = stage.clientWidth || 960;
      const availH = maxHeight();
      origin = new Array(L).fill(null);
      let s;
      if (view < 0) {
        const g = gridLayout(boxes, availW, availH, GAP_PX);
        s = Math.min(g.s, MAX_TILE_PX);
        gapTiles = GAP_PX / s;
        let y = 0, i = 0;
        contentW = 0;
        for (const row of g.rows) {
          let x = 0;
          for (const b of row) {
            origin[i++] = [x, y + gapTiles];
            x += b[2] + gapTiles;
          }
          contentW = Math.max(contentW, x - gapTiles);
          y += gapTiles + Math.max(...row.map((b) => b[3]));
        }
        contentH = y;
      } else {
        const b = boxes[view];
        s = Math.min(availW / b[2], availH / b[3], MAX_TILE_PX);
        gapTiles = 0;
        origin[view] = [0, 0];
        contentW = b[2];
        contentH = b[3];
      }
      const cssH = Math.max(120, Math.round(contentH * s));
      canvas.style.width = `${availW}px`;
      canvas.style.height = `${cssH}px`;
      const cw = Math.round(availW * dpr), ch = Math.round(cssH * dpr);
      if (canvas.width !== cw || canvas.height !== ch) {
        canvas.width = cw;
        canvas.height = ch;
      }
      fit = Math.min(cw / contentW, ch / contentH);
      layoutMarkers();
    };
    const setCamera = () => {
      S = fit * zoom;
      if (following >= 0) return; // the follow camera stays on the character, past the edges if need be
      for (const [axis, size, half] of [["x", contentW, canvas.width / 2 / S], ["y", contentH, canvas.height / 2 / S]]) {
        let c = axis === "x" ? camX : camY;
        c = size <= 2 * half ? size / 2 : Math.max(half, Math.min(size - half, c));
        if (axis === "x") camX = c; else camY = c;
      }
    };
    const fitView = () => { zoom = 1; camX = contentW / 2; camY = contentH / 2; setCamera(); };
    const toScreenX = (wx) => (wx - camX) * S + canvas.width / 2;
    const toScreenY = (wy) => (wy - camY) * S + canvas.height / 2;
    const toWorld = (px, py) => [camX + (px - canvas.width / 2) / S, camY + (py - canvas.height / 2) / S];
    // The world position of a cell's centre, or null when its floor is not shown.
    const cellWorld = (c) => {
      if (c < 0) return null;
      const fl = Math.floor(c / HW), o = origin[fl];
      if (!o) return null;
      const k = c - fl * HW;
      return [o[0] + (k % W) - boxes[fl][0] + 0.5, o[1] + Math.floor(k / W) - boxes[fl][1] + 0.5];
    };
    const floorAtWorld = (wx, wy) => {
      for (let fl = 0; fl < L; fl++) {
        const o = origin[fl];
        if (o && wx >= o[0] && wx < o[0] + boxes[fl][2] && wy >= o[1] - gapTiles && wy < o[1] + boxes[fl][3]) return fl;
      }
      return -1;
    };

    const radius = () => Math.max(1.2 * dpr, S * 0.4);
    const cssPx = () => canvas.width / (canvas.getBoundingClientRect().width || canvas.width);

    const drawDoors = () => {
      for (let d = 0; d < doorCells.length; d++) {
        const p = cellWorld(doorCells[d]);
        if (!p) continue;
        const x = toScreenX(p[0] - 0.5), y = toScreenY(p[1] - 0.5);
        if (x > canvas.width || y > canvas.height || x + S < 0 || y + S < 0) continue;
        const name = doorNames[arrays.doors[d * F + frame]];
        ctx.fillStyle = doorColour(name);
        ctx.fillRect(x, y, S, S);
        if (S >= 4 && (name === "barricaded" || name === "broken")) {
          ctx.strokeStyle = name === "barricaded" ? "#f3e2bd" : "#7a0000";
          ctx.lineWidth = Math.max(1, S / 8);
          ctx.beginPath();
          ctx.moveTo(x + 1, y + 1); ctx.lineTo(x + S - 1, y + S - 1);
          if (name === "barricaded") { ctx.moveTo(x + S - 1, y + 1); ctx.lineTo(x + 1, y + S - 1); }
          ctx.stroke();
        }
      }
    };

    // ---- labels: placed in priority order where they overlap no other label, inside the canvas
    const textSize = () => Math.round(Math.max(11, Math.min(15, (S / dpr) * 1.4)) * dpr);
    let placed = [];
    const MARGIN = 2;
    const inside = (b) => b.x >= MARGIN && b.y >= MARGIN && b.x + b.w <= canvas.width - MARGIN && b.y + b.h <= canvas.height - MARGIN;
    const free = (b) => placed.every((p) => b.x + b.w <= p.x || p.x + p.w <= b.x || b.y + b.h <= p.y || p.y + p.h <= b.y);
    const writeLines = (lines, b, size, weight) => {
      ctx.font = `${weight} ${size}px system-ui, sans-serif`;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.lineJoin = "round";
      ctx.lineWidth = Math.max(2, size / 4);
      ctx.strokeStyle = "rgba(255,255,255,0.9)";
      ctx.fillStyle = INK;
      lines.forEach((line, k) => {
        const ly = b.y + (k + 0.5) * size * 1.15;
        ctx.strokeText(line, b.x + b.w / 2, ly);
        ctx.fillText(line, b.x + b.w / 2, ly);
      });
    };
    // A box of `lines` at one of `spots` ([x, y] of its top-left): the first inside and free.
    const place = (lines, size, weight, spots, kind, text) => {
      ctx.font = `${weight} ${size}px system-ui, sans-serif`;
      const w = Math.ceil(Math.max(...lines.map((l) => ctx.measureText(l).width))) + 4;
      const h = Math.ceil(lines.length * size * 1.15);
      for (const [x, y] of spots(w, h)) {
        const b = { x: Math.round(x), y: Math.round(y), w, h, kind, text };
        if (!inside(b) || !free(b)) continue;
        placed.push(b);
        writeLines(lines, b, size, weight);
        return b;
      }
      return null;
    };
    const nameSpots = (x, y, rc) => (w, h) => [
      [x + rc + 3, y - h / 2], [x - rc - 3 - w, y - h / 2], [x - w / 2, y - rc - 2 - h], [x - w / 2, y + rc + 2],
      [x + rc + 2, y - rc - h], [x - rc - 2 - w, y - rc - h], [x + rc + 2, y + rc], [x - rc - 2 - w, y + rc],
    ];
    const drawFloorTitles = () => {
      if (view >= 0) return;
      const size = Math.round(13 * dpr);
      for (let fl = 0; fl < L; fl++) {
        const o = origin[fl];
        const x = toScreenX(o[0]), y = toScreenY(o[1]) - 3 * dpr;
        const spots = (w, h) => {
          const left = Math.max(MARGIN, Math.min(canvas.width - MARGIN - w, x));
          return [[left, y - h], [left, Math.max(MARGIN, y - h)]];
        };
        place([data.floor_names[fl]], size, 700, spots, "floor", data.floor_names[fl]);
      }
    };
    const drawRoomLabels = () => {
      labelsDrawn = [];
      for (const r of rooms) {
        const p = origin[r.floor] && cellWorld(r.floor * HW + r.y * W + r.x);
        if (!p) continue;
        const x = toScreenX(p[0]), y = toScreenY(p[1]);
        if (x < 0 || y < 0 || x > canvas.width || y > canvas.height) continue;
        // Fit the name into the room's width: words on up to three lines, then a smaller font.
        const room = r.w > 0 ? r.w * S * 0.95 : Infinity;
        let size = textSize(), lines = [r.name];
        for (; size >= 9 * dpr; size = Math.floor(size * 0.85)) {
          ctx.font = `600 ${size}px system-ui, sans-serif`;
          lines = [];
          for (const word of r.name.split(" ")) {
            const last = lines[lines.length - 1];
            if (last !== undefined && ctx.measureText(`${last} ${word}`).width <= room) lines[lines.length - 1] = `${last} ${word}`;
            else lines.push(word);
          }
          if (lines.length <= 3 && lines.every((l) => ctx.measureText(l).width <= room)) break;
        }
        if (size < 9 * dpr) continue; // too small to read at this zoom: zoom in to see it
        const spots = (w, h) => [[x - w / 2, y - h / 2], [x - w / 2, y - h / 2 - h], [x - w / 2, y + h / 2]];
        if (place(lines, size, 600, spots, "room", r.name)) labelsDrawn.push(r.name);
      }
    };

    const drawHelicopters = () => {
      heliDrawn = [];
      for (const h of helicopters) {
        if (frame < h.from_frame || frame > h.to_frame) continue;
        const p = origin[h.floor] && cellWorld(h.floor * HW + Math.round(h.y) * W + Math.round(h.x));
        if (!p) continue;
        const x = toScreenX(p[0] + (h.x - Math.round(h.x))), y = toScreenY(p[1] + (h.y - Math.round(h.y)));
        const r = Math.max(6 * dpr, S * 2.2);
        ctx.fillStyle = HELI_COLOUR;
        ctx.strokeStyle = INK;
        ctx.lineWidth = Math.max(1, S / 4);
        ctx.beginPath();
        ctx.arc(x, y, r, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
        ctx.fillStyle = INK;
        ctx.font = `700 ${Math.round(r * 1.2)}px system-ui, sans-serif`;
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        ctx.fillText("H", x, y);
        heliDrawn.push(h.label);
      }
    };

    const shortName = (i) => data.names[i].split(" ").slice(-1)[0];

    const draw = () => {
      setCamera();
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.fillStyle = tileColour("void");
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      for (let fl = 0; fl < L; fl++) {
        const o = origin[fl];
        if (!o) continue;
        const [bx, by, bw, bh] = boxes[fl];
        ctx.drawImage(tileLayer(fl), bx, by, bw, bh, toScreenX(o[0]), toScreenY(o[1]), bw * S, bh * S);
      }
      drawDoors();
      const r = radius();
      const byState = stateNames.map(() => []);
      const named = [];
      drawn = 0;
      for (let i = 0; i < N; i++) {
        const p = cellWorld(cells[i * F + frame]);
        if (!p) continue;
        const x = toScreenX(p[0]), y = toScreenY(p[1]);
        if (x < -S || y < -S || x > canvas.width + S || y > canvas.height + S) continue;
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
          if (r < 2) ctx.rect(xy[j] - r, xy[j + 1] - r, 2 * r, 2 * r);
          else {
            ctx.moveTo(xy[j] + r, xy[j + 1]);
            ctx.arc(xy[j], xy[j + 1], r, 0, 2 * Math.PI);
          }
        }
        ctx.fill();
      });
      // The selected agent: a halo under its dot, so it stands out of the crowd.
      const sj = drawnSlot(selected);
      if (sj >= 0) {
        ctx.fillStyle = "rgba(255, 208, 0, 0.55)";
        ctx.beginPath();
        ctx.arc(drawnX[sj], drawnY[sj], Math.max(9 * dpr, r * 3), 0, 2 * Math.PI);
        ctx.fill();
      }
      // Named characters on top of the crowd: a bigger dot with a white ring.
      const rc = Math.max(3 * dpr, r * 1.5);
      for (const [i, x, y, s] of named) {
        ctx.fillStyle = stateColour[s] || stateColour[0];
        ctx.strokeStyle = "#ffffff";
        ctx.lineWidth = Math.max(1.5, S / 5);
        ctx.beginPath();
        ctx.arc(x, y, rc, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      }
      if (sj >= 0 && !isCharacter[selected]) {
        ctx.fillStyle = stateColour[states[selected * F + frame]] || stateColour[0];
        ctx.beginPath();
        ctx.arc(drawnX[sj], drawnY[sj], r, 0, 2 * Math.PI);
        ctx.fill();
      }
      drawHelicopters();
      for (const [i, colour, width] of [[selected, INK, 2.5], [hovered, "#ffbf00", 2]]) {
        const j = drawnSlot(i);
        if (j < 0) continue;
        ctx.strokeStyle = colour;
        ctx.lineWidth = width * dpr;
        ctx.beginPath();
        ctx.arc(drawnX[j], drawnY[j], (isCharacter[i] ? rc : r) + 2.5 * dpr, 0, 2 * Math.PI);
        ctx.stroke();
      }
      // Labels, most wanted first: floor names, the selected agent, the characters, the rooms.
      placed = [];
      drawFloorTitles();
      if (showLabels) {
        const nameSize = Math.round(textSize() * 0.92);
        const order = [];
        if (sj >= 0) order.push([selected, drawnX[sj], drawnY[sj]]);
        for (const [i, x, y] of named) if (i !== selected) order.push([i, x, y]);
        for (const [i, x, y] of order) {
          const text = i === selected ? data.names[i] : shortName(i);
          place([text], nameSize, 700, nameSpots(x, y, isCharacter[i] ? rc : r), "name", text);
        }
        drawRoomLabels();
      } else {
        labelsDrawn = [];
      }
      const rect = canvas.getBoundingClientRect(), k = rect.width / canvas.width;
      labelBoxes = placed.map((b) => ({ text: b.text, kind: b.kind, left: rect.left + b.x * k, top: rect.top + b.y * k,
        right: rect.left + (b.x + b.w) * k, bottom: rect.top + (b.y + b.h) * k }));
      canvas.style.touchAction = zoom > 1.001 || following >= 0 ? "none" : "pan-y";
      canvas.style.cursor = zoom > 1.001 ? "grab" : "crosshair";
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
      if (m.floor >= 0 && m.floor < L && following < 0) setView(m.floor, false);
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

    // ---- text -----------------------------------------------------------------------------
    const countNow = () => {
      const perFloor = Array.from({ length: L }, () => new Array(stateNames.length).fill(0));
      const allCounts = new Array(stateNames.length).fill(0);
      for (let i = 0; i < N; i++) {
        const s = states[i * F + frame];
        allCounts[s]++;
        const c = cells[i * F + frame];
        if (c >= 0) perFloor[Math.floor(c / HW)][s]++;
      }
      const pick = (arr) => Object.fromEntries(stateNames.map((name, k) => [name, arr[k]]));
      return { floor: view >= 0 ? pick(perFloor[view]) : pick(allCounts), floors: perFloor.map(pick), all: pick(allCounts) };
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
      counts.textContent = (view >= 0 ? `${data.floor_names[view]}: ${groupText(c.floor)} — ` : "")
        + `building: ${groupText(c.all)}` + (out ? ` — out: ${out}` : "");
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

    const stateAt = (i, f) => stateNames[states[i * F + f]] || "?";
    const placeOf = (i) => {
      const c = cells[i * F + frame];
      if (c < 0) return "off the map";
      const fl = Math.floor(c / HW);
      const id = arrays.roomIds ? arrays.roomIds[c] : -1;
      const room = id >= 0 && id < roomNames.length ? roomNames[id] : "";
      return room ? `${room}, ${data.floor_names[fl]}` : data.floor_names[fl];
    };
    const describe = (i) => [data.names[i], data.roles[i], stateAt(i, frame), placeOf(i)].join(" — ");
    // The card: who the selected agent is and what has happened to it by the playhead.
    const cardRows = (i) => {
      let since = frame;
      while (since > 0 && states[i * F + since - 1] === states[i * F + frame]) since--;
      const state = stateAt(i, frame);
      const rows = [["role", data.roles[i]], ["where", placeOf(i)],
        ["state", since > 0 ? `${state} since ${clockAt(since)}` : `${state} from the start`]];
      const t = bittenS[i];
      if (t === null || t === undefined) rows.push(["bitten", "never"]);
      else {
        const by = bittenBy[i] ? ` by ${bittenBy[i]}` : "";
        const when = clockText(data.clock_start_s + t);
        rows.push(["bitten", t <= data.times_s[frame] + 1e-9 ? `at ${when}${by}` : `not yet (at ${when}${by})`]);
      }
      rows.push(["at the end", data.fates[i] || "?"]);
      return rows;
    };
    const cardClose = el("button", { type: "button", class: "replay-card-close", text: "×", "aria-label": "Close the card" });
    const updateCard = () => {
      if (selected < 0) { card.hidden = true; return; }
      const dl = el("dl", {});
      for (const [k, v] of cardRows(selected)) dl.append(el("dt", { text: k }), el("dd", { text: v }));
      const actions = [];
      if (isCharacter[selected] && following !== selected) {
        const b = el("button", { type: "button", class: "replay-card-follow", text: "Follow" });
        b.addEventListener("click", () => setFollow(selected));
        actions.push(b);
      }
      card.replaceChildren(cardClose, el("h3", { text: data.names[selected] }), dl, ...actions);
      card.hidden = false;
    };
    cardClose.addEventListener("click", () => { select(-1); });

    const updateInfo = () => {
      info.textContent = hovered >= 0 ? describe(hovered)
        : coarse ? "Tap a dot to see who it is; double-tap a floor to enlarge it."
          : "Hover over or click a dot to see who it is; double-click a floor to enlarge it.";
    };

    // ---- charts in the page: a playhead line, and a click seeks --------------------------------
    const charts = [...document.querySelectorAll("svg.chart-svg[data-x0]")].filter((svg) => !root.contains(svg));
    const chartAxis = (svg) => ({
      x0: Number(svg.dataset.x0), x1: Number(svg.dataset.x1), p0: Number(svg.dataset.px0), p1: Number(svg.dataset.px1),
      width: svg.viewBox.baseVal.width || 1, top: Number(svg.dataset.py0 || 0), bottom: Number(svg.dataset.py1 || 0),
    });
    const playheads = charts.map((svg) => {
      const a = chartAxis(svg);
      const line = document.createElementNS(svg.namespaceURI, "line");
      line.setAttribute("class", "replay-playhead");
      line.setAttribute("y1", String(a.top));
      line.setAttribute("y2", String(a.bottom || svg.viewBox.baseVal.height));
      line.setAttribute("stroke", INK);
      line.setAttribute("stroke-width", "2");
      line.style.pointerEvents = "none";
      svg.append(line);
      svg.style.cursor = "pointer";
      svg.addEventListener("click", (e) => {
        const rect = svg.getBoundingClientRect();
        const vx = ((e.clientX - rect.left) / rect.width) * a.width;
        const t = a.x0 + ((vx - a.p0) / (a.p1 - a.p0)) * (a.x1 - a.x0);
        seekTime(Math.max(a.x0, Math.min(a.x1, t)));
      });
      return [line, a];
    });
    const updatePlayheads = () => {
      const t = data.times_s[frame];
      for (const [line, a] of playheads) {
        const x = a.p0 + ((t - a.x0) / (a.x1 - a.x0 || 1)) * (a.p1 - a.p0);
        line.setAttribute("x1", x.toFixed(1));
        line.setAttribute("x2", x.toFixed(1));
      }
    };

    const followCamera = () => {
      const c = cells[following * F + frame];
      if (c < 0) return;
      const fl = Math.floor(c / HW);
      if (view >= 0 && fl !== view) setView(fl, false, true);
      const p = cellWorld(c);
      if (p) [camX, camY] = p;
    };

    const update = () => {
      if (following >= 0) { selected = following; followCamera(); }
      scrubber.value = String(frame);
      clock.textContent = clockAt(frame);
      draw();
      updateCounts();
      updateEvent();
      updateInfo();
      updateCard();
      updatePlayheads();
    };

    // ---- control --------------------------------------------------------------------------
    const setFrame = (f) => {
      frame = Math.max(0, Math.min(F - 1, Math.round(f) || 0));
      update();
    };
    // Show every floor (-1) or one; keepZoom: the follow camera keeps its zoom across floors.
    function setView(v, redraw = true, keepZoom = false) {
      const next = L > 1 ? Math.max(-1, Math.min(L - 1, v | 0)) : 0;
      floorSelect.value = String(next);
      if (next === view && !redraw) return;
      view = next;
      hovered = -1;
      layout();
      if (!keepZoom) fitView();
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
      if (fl !== undefined && fl !== null && fl >= 0 && following < 0) setView(fl, false);
      setFrame(frameAt(seconds));
    };
    const followZoom = () => {
      const tiles = canvas.width / fit; // tiles across at zoom 1
      return Math.max(2, Math.min(MAX_ZOOM, tiles / FOLLOW_TILES));
    };
    const setFollow = (i) => {
      following = characters.includes(i) ? i : -1;
      followSelect.value = String(following);
      if (following >= 0) {
        selected = following;
        const c = cells[following * F + frame];
        setView(c >= 0 ? Math.floor(c / HW) : Math.max(0, view), false);
        zoom = followZoom();
      } else {
        setCamera();
      }
      update();
    };
    const stopFollowing = () => {
      if (following < 0) return;
      following = -1;
      followSelect.value = "-1";
    };
    const select = (i) => {
      selected = i;
      if (following >= 0 && selected !== following) stopFollowing();
      draw();
      updateInfo();
      updateCard();
    };
    const zoomAt = (factor, px, py) => {
      const next = Math.max(1, Math.min(MAX_ZOOM, zoom * factor));
      if (following >= 0) { zoom = next; draw(); return; }
      const [wx, wy] = toWorld(px, py);
      zoom = next;
      S = fit * zoom;
      camX = wx - (px - canvas.width / 2) / S;
      camY = wy - (py - canvas.height / 2) / S;
      draw();
    };
    const panBy = (dx, dy) => {
      stopFollowing();
      camX -= dx / S;
      camY -= dy / S;
      draw();
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
      stopFollowing(); // choosing a floor by hand stops following
      setView(Number(floorSelect.value));
    });
    followSelect.addEventListener("change", () => setFollow(Number(followSelect.value)));
    labelBox.addEventListener("change", () => { showLabels = labelBox.checked; draw(); });
    const centre = () => [canvas.width / 2, canvas.height / 2];
    zoomIn.addEventListener("click", () => zoomAt(1.5, ...centre()));
    zoomOut.addEventListener("click", () => zoomAt(1 / 1.5, ...centre()));
    zoomFit.addEventListener("click", () => { stopFollowing(); fitView(); draw(); });
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
      else if (key === "PageUp" || key === "]") { stopFollowing(); setView(Math.min(L - 1, view + 1)); }
      else if (key === "PageDown" || key === "[") { stopFollowing(); setView(Math.max(L > 1 ? -1 : 0, view - 1)); }
      else if (key === "a" || key === "A") { stopFollowing(); setView(-1); }
      else if (key === "z" || key === "Z") zoomAt(1.5, ...centre());
      else if (key === "x" || key === "X") zoomAt(1 / 1.5, ...centre());
      else if (key === "0") { stopFollowing(); fitView(); draw(); }
      else if (key === "n" || key === "N") nextMarker(1);
      else if (key === "p" || key === "P") nextMarker(-1);
      else if (key === "+" || key === "=") setSpeed(SPEEDS[Math.min(SPEEDS.length - 1, SPEEDS.indexOf(speed) + 1)]);
      else if (key === "-" || key === "_") setSpeed(SPEEDS[Math.max(0, SPEEDS.indexOf(speed) - 1)]);
      else if (key === "l" || key === "L") { labelBox.checked = showLabels = !showLabels; draw(); }
      else if ((key === "f" || key === "F") && characters.length) {
        setFollow(characters[(characters.indexOf(following) + 1) % characters.length]);
      }
      else if (key === "Escape") { closeGroup(); if (following >= 0) setFollow(-1); else select(-1); }
      else handled = false;
      if (handled) e.preventDefault();
    });

    const toCanvas = (clientX, clientY) => {
      const rect = canvas.getBoundingClientRect();
      return [((clientX - rect.left) * canvas.width) / rect.width, ((clientY - rect.top) * canvas.height) / rect.height];
    };
    let lastPointer = "mouse";
    const agentAt = (clientX, clientY, touch = false) => {
      const [x, y] = toCanvas(clientX, clientY);
      const reach = touch ? TOUCH_REACH_PX * cssPx() : Math.max(radius() * 1.5, S * 0.75, 4 * dpr);
      let best = -1, bestD = reach * reach;
      for (let j = 0; j < drawn; j++) {
        const d = (drawnX[j] - x) ** 2 + (drawnY[j] - y) ** 2;
        if (d <= bestD) { bestD = d; best = drawnIdx[j]; }
      }
      return best;
    };
    const clientOf = (x, y) => {
      const rect = canvas.getBoundingClientRect();
      return { x: rect.left + (x * rect.width) / canvas.width, y: rect.top + (y * rect.height) / canvas.height };
    };
    const agentPoint = (i) => {
      const j = drawnSlot(i);
      return j < 0 ? null : clientOf(drawnX[j], drawnY[j]);
    };
    // The client box of tile (x, y) of floor fl (null when the floor is not shown).
    const tileBox = (fl, x, y) => {
      const p = cellWorld(fl * HW + y * W + x);
      if (!p) return null;
      const a = clientOf(toScreenX(p[0] - 0.5), toScreenY(p[1] - 0.5)), b = clientOf(toScreenX(p[0] + 0.5), toScreenY(p[1] + 0.5));
      return { left: a.x, top: a.y, right: b.x, bottom: b.y };
    };

    // Pointers: a press that does not move is a click (select); a drag pans; two fingers pinch.
    const pointers = new Map();
    let dragged = false, pinch = null;
    canvas.addEventListener("pointerdown", (e) => {
      lastPointer = e.pointerType || "mouse";
      if (e.button !== 0 && e.pointerType === "mouse") return;
      pointers.set(e.pointerId, { x: e.clientX, y: e.clientY, x0: e.clientX, y0: e.clientY });
      dragged = false;
      if (pointers.size === 2) {
        const [a, b] = [...pointers.values()];
        pinch = { d: Math.hypot(a.x - b.x, a.y - b.y), zoom };
      }
    });
    canvas.addEventListener("pointermove", (e) => {
      const p = pointers.get(e.pointerId);
      if (!p) {
        if (e.pointerType === "mouse") {
          const i = agentAt(e.clientX, e.clientY);
          if (i !== hovered) { hovered = i; draw(); updateInfo(); }
        }
        return;
      }
      const k = cssPx();
      if (pointers.size === 2 && pinch) {
        p.x = e.clientX; p.y = e.clientY;
        const [a, b] = [...pointers.values()];
        const d = Math.hypot(a.x - b.x, a.y - b.y);
        const [mx, my] = toCanvas((a.x + b.x) / 2, (a.y + b.y) / 2);
        dragged = true;
        zoomAt((pinch.zoom * d) / Math.max(1, pinch.d) / zoom, mx, my);
        return;
      }
      if (!dragged && Math.hypot(e.clientX - p.x0, e.clientY - p.y0) < DRAG_PX) return;
      if (!dragged) {
        if (zoom <= 1.001 && following < 0) return; // nothing to pan: the whole view is shown
        dragged = true;
        canvas.setPointerCapture(e.pointerId);
      }
      panBy((e.clientX - p.x) * k, (e.clientY - p.y) * k);
      p.x = e.clientX; p.y = e.clientY;
    });
    const release = (e) => {
      pointers.delete(e.pointerId);
      if (pointers.size < 2) pinch = null;
    };
    canvas.addEventListener("pointerup", release);
    canvas.addEventListener("pointercancel", release);
    canvas.addEventListener("mouseleave", () => { hovered = -1; draw(); updateInfo(); });
    canvas.addEventListener("click", (e) => {
      if (dragged) { dragged = false; return; }
      const touch = lastPointer === "touch" || lastPointer === "pen" || coarse;
      select(agentAt(e.clientX, e.clientY, touch));
    });
    canvas.addEventListener("dblclick", (e) => {
      e.preventDefault();
      const [px, py] = toCanvas(e.clientX, e.clientY);
      if (view < 0) {
        const fl = floorAtWorld(...toWorld(px, py));
        if (fl >= 0) { stopFollowing(); setView(fl); }
      } else {
        zoomAt(2, px, py);
      }
    });
    canvas.addEventListener("wheel", (e) => {
      if (!e.ctrlKey) return; // a plain wheel scrolls the page; Ctrl+wheel (and a trackpad's pinch) zooms
      e.preventDefault();
      const [px, py] = toCanvas(e.clientX, e.clientY);
      zoomAt(Math.exp(-e.deltaY * 0.002), px, py);
    }, { passive: false });

    const relayout = () => { layout(); if (zoom <= 1.001 && following < 0) fitView(); draw(); };
    if (typeof ResizeObserver === "function") new ResizeObserver(relayout).observe(stage);
    else window.addEventListener("resize", relayout);
    layout();
    fitView();
    update();

    const track = (i) => ({
      cells: Array.from(cells.subarray(i * F, (i + 1) * F)),
      states: Array.from(states.subarray(i * F, (i + 1) * F)),
    });
    const doorsNow = () => Object.fromEntries(doorCells.map((c, d) => [c, doorNames[arrays.doors[d * F + frame]]]));
    const api = Object.freeze({
      ready: true,
      frame: () => frame,
      frames: () => F,
      floor: () => view,
      playing: () => playing,
      speed: () => speed,
      zoom: () => zoom,
      dots: () => drawn,
      clock: () => clock.textContent,
      counts: countNow,
      selected: () => selected,
      following: () => following,
      labels: () => labelsDrawn.slice(),
      labelBoxes: () => labelBoxes.map((b) => ({ ...b })),
      helicopters: () => heliDrawn.slice(),
      doors: doorsNow,
      events: () => currentEvents().map((m) => m.text),
      markerGroups: () => groups.map((g) => g.map((m) => m.index)),
      shownFloors: () => origin.map((o, fl) => (o ? fl : -1)).filter((fl) => fl >= 0),
      seekTime,
      setView: (v) => { stopFollowing(); setView(v); },
      agentAt,
      agentPoint,
      tileBox,
      track,
    });
    // One player answers the page's clicks: a new mount (the studio's next run) replaces the last.
    active = { seekTime, closeGroup, groupList, root };
    window.hyosanReplay = api;
    root.dataset.ready = "true";
    root.dispatchEvent(new CustomEvent("replay-ready", { bubbles: true }));
  }

  let active = null;
  document.addEventListener("click", (e) => {
    if (!active) return;
    if (!active.groupList.contains(e.target)) active.closeGroup();
    // Anything in the page with data-replay-time jumps the replay (milestones, the chronicle).
    const target = e.target instanceof Element ? e.target.closest("[data-replay-time]") : null;
    if (!target) return;
    e.preventDefault();
    const fl = target.dataset.replayFloor;
    active.seekTime(Number(target.dataset.replayTime), fl === undefined ? -1 : Number(fl));
    active.root.scrollIntoView({ block: "start", behavior: "instant" });
  });

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
