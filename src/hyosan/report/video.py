"""The replay as a video worth sharing: every floor in a grid, the clock, room labels and a legend.

Optional (``pip install "hyosan[video]"``): imageio-ffmpeg ships its own ffmpeg binary. The still
parts (floor plans, floor names, room labels, the legend) are drawn once with Pillow in
matplotlib's bundled DejaVu Sans; each frame then copies them and paints a small square per agent
(a bigger one for the named characters), the doors' states, the helicopter, and a header with
the clock and the latest event. Painting with NumPy keeps a six-hour run of a thousand agents to
seconds per thousand frames; drawing each frame with matplotlib would take minutes.

1920 x 1080 by default (``size``); the floors are laid out in the grid of columns that gives the
biggest whole number of pixels per tile.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib import font_manager
from PIL import Image, ImageDraw, ImageFont

from hyosan.errors import HyosanError
from hyosan.io import atomic_path
from hyosan.palette import STATE_COLOURS, TILE_COLOURS
from hyosan.report import story
from hyosan.states import STATE_NAMES
from hyosan.world.tiles import DoorState, Tile

if TYPE_CHECKING:
    from hyosan.results.result import Result

#: Tile colours: the palette's (hyosan/palette.py), as the replay draws them.
TILE_RGB = {t: tuple(int(TILE_COLOURS[t.name.lower()][i : i + 2], 16) for i in (1, 3, 5)) for t in Tile}
DOOR_RGB = {
    DoorState.OPEN: (243, 226, 189),
    DoorState.CLOSED: (183, 121, 31),
    DoorState.LOCKED: (183, 121, 31),
    DoorState.BARRICADED: (74, 44, 10),
    DoorState.BROKEN: (255, 107, 107),
}
HELI_RGB = (255, 208, 0)
SIZE = (1920, 1080)
HEADER, FOOTER, MARGIN, LABEL = 0.075, 0.06, 12, 0.03  # header/footer/label: fractions of the height


@cache
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu Sans, which matplotlib ships (so no system font is needed)."""
    path = font_manager.findfont(
        font_manager.FontProperties(family="DejaVu Sans", weight="bold" if bold else "normal")
    )
    return ImageFont.truetype(path, size)


def _fit(name: str, room_px: float, biggest: int) -> tuple[str, ImageFont.FreeTypeFont]:
    """A room's name fitted to its width: one line, else two, smaller, else its last word."""
    words = name.split(" ")
    for size in range(biggest, 8, -1):
        font = _font(size, True)
        for lines in ([name], [" ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2 :])]):
            if all(line and font.getlength(line) <= room_px for line in lines):
                return "\n".join(lines), font
    return words[-1], _font(9, True)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def _boxes(tiles: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Each floor's box around its non-void tiles: (y0, y1, x0, x1)."""
    out = []
    for f in range(tiles.shape[0]):
        ys, xs = np.nonzero(tiles[f] != Tile.VOID)
        out.append((ys.min(), ys.max() + 1, xs.min(), xs.max() + 1) if ys.size else (0, 1, 0, 1))
    return out


def grid_layout(sizes: list[tuple[int, int]], size: tuple[int, int]) -> tuple[int, int]:
    """(columns, pixels per tile) for floors of ``sizes`` (h, w in tiles) laid out row by row.

    Each row is as tall as its tallest floor; the number of columns is the one that gives the
    biggest whole number of pixels per tile.
    """
    width, height = size
    avail_h = height * (1 - HEADER - FOOTER)
    label = height * LABEL
    best = (1, 0)
    for cols in range(1, len(sizes) + 1):
        rows = [sizes[i : i + cols] for i in range(0, len(sizes), cols)]
        tiles_w = max(sum(w for _, w in row) for row in rows)
        tiles_h = sum(max(h for h, _ in row) for row in rows)
        scale_w = (width - MARGIN * (cols + 1)) / tiles_w
        scale_h = (avail_h - MARGIN * (len(rows) + 1) - label * len(rows)) / tiles_h
        scale = int(min(scale_w, scale_h))
        if scale > best[1]:
            best = (cols, scale)
    return best


class _Canvas:
    """Where each floor sits in the picture, and the still picture itself."""

    def __init__(self, result: Result, size: tuple[int, int]):
        self.result = result
        self.width, self.height = size
        tiles = result.world.tiles
        self.floors, self.h, self.w = tiles.shape
        self.boxes = _boxes(tiles)
        sizes = [(b[1] - b[0], b[3] - b[2]) for b in self.boxes]
        self.cols, self.scale = grid_layout(sizes, size)
        if self.scale < 1:
            raise HyosanError(
                f"the map does not fit in {self.width}x{self.height}: choose a bigger size",
                source="--video-size",
            )
        s = self.scale
        self.top = int(self.height * HEADER)
        self.label_h = int(self.height * LABEL)
        rows = [list(range(i, min(i + self.cols, self.floors))) for i in range(0, self.floors, self.cols)]
        # Pixel origin of each floor's box; rows centred across the width.
        self.origin = [(0, 0)] * self.floors
        y = self.top + MARGIN
        for row in rows:
            row_w = sum(sizes[f][1] for f in row) * s + MARGIN * (len(row) - 1)
            x = (self.width - row_w) // 2
            y += self.label_h
            for f in row:
                self.origin[f] = (x, y)
                x += sizes[f][1] * s + MARGIN
            y += max(sizes[f][0] for f in row) * s + MARGIN
        self.base, self.overlay_idx, self.overlay_rgb = self._still()

    def pixel(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Top-left pixel (px, py) of flat cells (all on the map)."""
        s = self.scale
        f, rest = np.divmod(cells.astype(np.int64), self.h * self.w)
        y, x = np.divmod(rest, self.w)
        ox = np.array([o[0] for o in self.origin])[f]
        oy = np.array([o[1] for o in self.origin])[f]
        bx = np.array([b[2] for b in self.boxes])[f]
        by = np.array([b[0] for b in self.boxes])[f]
        return ox + (x - bx) * s, oy + (y - by) * s

    def _still(self):
        s, res = self.scale, self.result
        lut = np.zeros((256, 3), dtype=np.uint8)
        for tile, rgb in TILE_RGB.items():
            lut[int(tile)] = rgb
        base = np.full((self.height, self.width, 3), 250, dtype=np.uint8)
        for f, (y0, y1, x0, x1) in enumerate(self.boxes):
            plan = np.repeat(np.repeat(lut[res.world.tiles[f, y0:y1, x0:x1]], s, axis=0), s, axis=1)
            ox, oy = self.origin[f]
            base[oy : oy + plan.shape[0], ox : ox + plan.shape[1]] = plan
        image = Image.fromarray(base)
        draw = ImageDraw.Draw(image)
        title = f"{res.summary().get('title', res.world.name)}  ·  seed {res.summary().get('seed', '')}"
        draw.text(
            (MARGIN * 2, self.top // 2),
            title,
            font=_font(int(self.top * 0.32), True),
            fill=(30, 30, 40),
            anchor="lm",
        )
        for f, name in enumerate(res.world.floors):
            ox, oy = self.origin[f]
            draw.text(
                (ox, oy - 4), name, font=_font(int(self.label_h * 0.75), True), fill=(30, 30, 40), anchor="ls"
            )
        self._legend(draw)
        # Room labels go over the dots: drawn on a layer of their own, pasted on every frame.
        layer = Image.new("RGBA", (self.width, self.height), (0, 0, 0, 0))
        ldraw = ImageDraw.Draw(layer)
        biggest = max(9, min(int(self.height * 0.016), int(s * 2.2)))
        for room in story.room_labels(res):
            px, py = self.pixel(np.array([room["floor"] * self.h * self.w + room["y"] * self.w + room["x"]]))
            text, font = _fit(room["name"], room.get("w", 0) * s * 0.95 or float("inf"), biggest)
            ldraw.multiline_text(
                (int(px[0]) + s // 2, int(py[0]) + s // 2),
                text,
                font=font,
                fill=(20, 20, 30, 255),
                anchor="mm",
                align="center",
                stroke_width=2,
                stroke_fill=(255, 255, 255, 255),
            )
        rgba = np.asarray(layer)
        idx = np.nonzero(rgba[..., 3] > 100)
        return np.asarray(image).copy(), idx, rgba[..., :3][idx]

    def _legend(self, draw: ImageDraw.ImageDraw) -> None:
        items = [(name, _rgb(STATE_COLOURS[name]), "dot") for name in STATE_NAMES]
        items += [
            ("named character", (255, 255, 255), "ring"),
            ("door open", DOOR_RGB[DoorState.OPEN], "tile"),
            ("door shut", DOOR_RGB[DoorState.CLOSED], "tile"),
            ("barricaded", DOOR_RGB[DoorState.BARRICADED], "tile"),
            ("broken", DOOR_RGB[DoorState.BROKEN], "tile"),
            ("helicopter", HELI_RGB, "dot"),
            ("stairs", TILE_RGB[Tile.STAIRS], "tile"),
            ("exit", TILE_RGB[Tile.EXIT], "tile"),
        ]
        r = int(self.height * FOOTER * 0.16)
        y = self.height - int(self.height * FOOTER / 2)
        # The whole legend on one line, in 8 px at least (a 320 x 240 video has room for no more).
        for size in range(max(8, int(self.height * FOOTER * 0.32)), 7, -1):
            font = _font(size)
            total = sum(2 * r + 6 + font.getlength(label) + 3 * r for label, _, _ in items)
            if total <= self.width - 4 * MARGIN:
                break
        x = MARGIN * 2
        for label, rgb, kind in items:
            box = (x, y - r, x + 2 * r, y + r)
            if kind == "tile":
                draw.rectangle(box, fill=rgb, outline=(120, 120, 120))
            else:
                draw.ellipse(box, fill=rgb, outline=(30, 30, 40) if kind == "ring" else None, width=2)
            x += 2 * r + 6
            draw.text((x, y), label, font=font, fill=(40, 40, 50), anchor="lm")
            x += int(draw.textlength(label, font=font)) + 3 * r


def frames_rgb(result: Result, size: tuple[int, int] = SIZE):
    """Yield one (height, width, 3) uint8 image per recorded frame."""
    canvas = _Canvas(result, size)
    s = canvas.scale
    colours = np.array([_rgb(STATE_COLOURS[name]) for name in STATE_NAMES], dtype=np.uint8)
    door_cells, door_states = story.door_frames(result)
    door_px, door_py = canvas.pixel(door_cells) if door_cells.size else (np.zeros(0, int), np.zeros(0, int))
    door_lut = np.zeros((256, 3), dtype=np.uint8)
    for state, rgb in DOOR_RGB.items():
        door_lut[int(state)] = rgb
    chars = result.agents.index[result.agents["character"].to_numpy(dtype=bool)].to_numpy()
    times = result.frame_ticks * result.tick_seconds
    events = story.markers(result, result.milestones())
    helis = story.helicopters(result)
    dot = max(1, s - 1)
    big = max(dot + 2, int(s * 1.8))
    clock_font, event_font = _font(int(canvas.top * 0.42), True), _font(int(canvas.top * 0.26))
    header_w = canvas.width // 2
    for k, (cells, states) in enumerate(zip(result.frame_cells, result.frame_states, strict=True)):
        img = canvas.base.copy()
        for dy in range(s):  # doors as they are now
            for dx in range(s):
                img[door_py + dy, door_px + dx] = door_lut[door_states[:, k]]
        on = cells >= 0
        px, py = canvas.pixel(cells[on])
        rgb = colours[states[on]]
        for dy in range(dot):
            for dx in range(dot):
                img[py + dy, px + dx] = rgb
        img[canvas.overlay_idx] = canvas.overlay_rgb
        for i in chars:  # the named characters: a bigger square with a dark rim
            if cells[i] < 0:
                continue
            cx, cy = (int(v[0]) + s // 2 for v in canvas.pixel(cells[i : i + 1]))
            a, b = big // 2 + 1, big - big // 2 + 1
            img[max(cy - a, 0) : cy + b, max(cx - a, 0) : cx + b] = (20, 20, 30)
            img[max(cy - a + 1, 0) : cy + b - 1, max(cx - a + 1, 0) : cx + b - 1] = colours[states[i]]
        for h in helis:
            if h["from_s"] <= times[k] <= h["to_s"]:
                cell = h["floor"] * canvas.h * canvas.w + round(h["y"]) * canvas.w + round(h["x"])
                hx, hy = (int(v[0]) for v in canvas.pixel(np.array([cell])))
                r = 3 * s
                yy, xx = np.ogrid[-r : r + 1, -r : r + 1]
                disc = xx**2 + yy**2 <= r * r
                y0, x0 = hy + s // 2 - r, hx + s // 2 - r
                if y0 >= 0 and x0 >= 0:
                    img[y0 : y0 + 2 * r + 1, x0 : x0 + 2 * r + 1][disc] = HELI_RGB
        # The header: the clock and the latest event.
        head = Image.new("RGB", (header_w, canvas.top), (250, 250, 250))
        hd = ImageDraw.Draw(head)
        hd.text(
            (header_w - MARGIN * 2, canvas.top * 0.38),
            result.clock(times[k]),
            font=clock_font,
            fill=(20, 20, 30),
            anchor="rm",
        )
        latest = [m for m in events if m["time_s"] <= times[k] + 1e-9]
        if latest:
            text = f"{result.clock(latest[-1]['time_s'])[:5]}  {latest[-1]['label']}"
            room = header_w - 4 * MARGIN
            if hd.textlength(text, font=event_font) > room:
                while len(text) > 10 and hd.textlength(text + "…", font=event_font) > room:
                    text = text[:-1]
                text = text.rstrip() + "…"
            hd.text(
                (header_w - MARGIN * 2, canvas.top * 0.8),
                text,
                font=event_font,
                fill=(60, 60, 70),
                anchor="rm",
            )
        img[: canvas.top, canvas.width - header_w :] = np.asarray(head)
        yield img


def write_video(
    result: Result,
    path: str | Path,
    fps: int = 24,
    size: tuple[int, int] = SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Encode the replay to ``path`` (MP4, H.264), one video frame per recorded frame;
    ``progress(done, total)`` is called after each frame."""
    try:
        import imageio_ffmpeg  # optional extra: only this function needs ffmpeg
    except ImportError:
        raise HyosanError(
            'needs the video extra: pip install "hyosan[video]" (imageio-ffmpeg)', source="--video"
        ) from None
    width, height = size
    if width < 320 or height < 240 or width % 2 or height % 2:
        raise HyosanError(
            f"{width}x{height}: a video needs even sizes of at least 320x240", source="--video-size"
        )
    path = Path(path)
    images = frames_rgb(result, size)
    first = next(images)
    with atomic_path(path) as tmp:
        writer = imageio_ffmpeg.write_frames(
            str(tmp),
            (first.shape[1], first.shape[0]),
            fps=fps,
            codec="libx264",
            pix_fmt_out="yuv420p",
            macro_block_size=1,
            output_params=["-f", "mp4", "-preset", "veryfast", "-crf", "23"],
        )
        writer.send(None)
        writer.send(first)
        total = len(result.frame_ticks)
        if progress is not None:
            progress(1, total)
        for done, img in enumerate(images, start=2):
            writer.send(img)
            if progress is not None:
                progress(done, total)
        writer.close()
    return path
