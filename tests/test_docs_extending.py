"""docs/extending.md: every Python block runs, in order, in one namespace (from the repository root)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_extending_examples_run(capsys):
    text = (ROOT / "docs" / "extending.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 5
    namespace: dict = {}
    here, path = Path.cwd(), list(sys.path)
    os.chdir(ROOT)
    try:
        for block in blocks:
            exec(compile(block, "docs/extending.md", "exec"), namespace)
    finally:
        os.chdir(here)
        sys.path[:] = path
        from hyosan import timeline

        timeline.HANDLERS.pop("jam_doors", None)
        timeline.KINDS.pop("jam_doors", None)
    assert "zombies" in capsys.readouterr().out
