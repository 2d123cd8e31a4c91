"""hyosan's colours: one palette read by the matplotlib charts, the report's replay, the video and
the studio, so that a state has one colour everywhere.

Python code imports the dicts; a page gets them as JSON through :func:`palette_json` (the replay
and the studio read ``window.HYOSAN_PALETTE`` or the data they are sent, never a copy of their own).
"""

from __future__ import annotations

import json

#: One colour per agent state (``hyosan.states.STATE_NAMES``).
STATE_COLOURS = {
    "human": "#1f6fe0",
    "bitten": "#f08c00",
    "zombie": "#d62828",
    "halfbie": "#8f3fd1",
    "dead": "#3a3a3a",
    "escaped": "#19a974",
    "rescued": "#11a7c2",
}
#: The story's two sides: the human group (human, bitten) and the zombie group (zombie, halfbie).
GROUP_COLOURS = {"human_group": STATE_COLOURS["human"], "zombie_group": STATE_COLOURS["zombie"]}
#: One colour per map tile kind (``hyosan.world.tiles``).
TILE_COLOURS = {
    "void": "#ffffff",
    "floor": "#eef0f3",
    "wall": "#3f4654",
    "door": "#b7791f",
    "window": "#9cc9f5",
    "stairs": "#c6b3ef",
    "exit": "#2fbf66",
    "outdoor": "#dcebc8",
}
#: Ink for labels and outlines drawn over the map.
INK = "#1b1f27"


def palette() -> dict[str, dict[str, str] | str]:
    """The whole palette as one dict (what a page receives)."""
    return {"state": STATE_COLOURS, "group": GROUP_COLOURS, "tile": TILE_COLOURS, "ink": INK}


def palette_json() -> str:
    """:func:`palette` as JSON, for a page's script."""
    return json.dumps(palette(), sort_keys=True)
