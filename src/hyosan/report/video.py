"""The replay as a video: every recorded frame drawn with NumPy and encoded by ffmpeg.

Optional (``pip install "hyosan[video]"``): imageio-ffmpeg ships its own ffmpeg binary. Frames
are painted straight into pixel arrays (the map once, then a small square per agent coloured by
state), with every floor side by side, so a six-hour run of a thousand agents encodes in
seconds; matplotlib would take minutes for the same two thousand frames.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hyosan.errors import HyosanError
from hyosan.io import atomic_path
from hyosan.report.charts import STATE_COLOURS
from hyosan.states import STATE_NAMES
from hyosan.world.tiles import Tile

if TYPE_CHECKING:
    from hyosan.results.result import Result

TILE_RGB = {
    Tile.VOID: (255, 255, 255), Tile.FLOOR: (238, 238, 242), Tile.WALL: (60, 64, 72),
    Tile.DOOR: (176, 122, 58), Tile.WINDOW: (150, 200, 240), Tile.STAIRS: (200, 180, 240),
    Tile.EXIT: (60, 180, 90), Tile.OUTDOOR: (222, 234, 206),
}  # fmt: skip
GAP = 2  # tiles between two floors


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def frames_rgb(result: Result, scale: int = 4):
    """Yield one (height, width, 3) uint8 image per recorded frame, floors side by side."""
    floors, h, w = result.world.shape
    lut = np.zeros((256, 3), dtype=np.uint8)
    for tile, rgb in TILE_RGB.items():
        lut[int(tile)] = rgb
    width = floors * w + (floors - 1) * GAP
    base_tiles = np.full((h, width), int(Tile.VOID), dtype=np.uint8)
    for f in range(floors):
        base_tiles[:, f * (w + GAP) : f * (w + GAP) + w] = result.world.tiles[f]
    base = np.repeat(np.repeat(lut[base_tiles], scale, axis=0), scale, axis=1)
    # Pad to even sizes: H.264 in yuv420p needs them.
    base = np.pad(base, ((0, base.shape[0] % 2), (0, base.shape[1] % 2), (0, 0)), constant_values=255)
    colours = np.array([_rgb(STATE_COLOURS[s]) for s in STATE_NAMES], dtype=np.uint8)
    dot = max(1, scale - 1)
    for cells, states in zip(result.frame_cells, result.frame_states, strict=True):
        img = base.copy()
        on = cells >= 0
        c = cells[on].astype(np.int64)
        f, y, x = c // (h * w), (c % (h * w)) // w, c % w
        px, py = (x + f * (w + GAP)) * scale, y * scale
        rgb = colours[states[on]]
        for dy in range(dot):
            for dx in range(dot):
                img[py + dy, px + dx] = rgb
        yield img


def write_video(result: Result, path: str | Path, fps: int = 24, scale: int = 4) -> Path:
    """Encode the replay to ``path`` (MP4, H.264), one video frame per recorded frame."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise HyosanError(
            'needs the video extra: pip install "hyosan[video]" (imageio-ffmpeg)', source="--video"
        ) from None
    path = Path(path)
    images = frames_rgb(result, scale)
    first = next(images)
    with atomic_path(path) as tmp:
        writer = imageio_ffmpeg.write_frames(
            str(tmp), (first.shape[1], first.shape[0]), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
            macro_block_size=1, output_params=["-f", "mp4"],
        )  # fmt: skip
        writer.send(None)
        writer.send(first)
        for img in images:
            writer.send(img)
        writer.close()
    return path
