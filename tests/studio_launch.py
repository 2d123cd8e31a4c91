"""Starting ``hyosan studio`` for the studio tests: a real server in its own process, its address
(with the per-launch token) read from the line the command prints."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

SRC = Path(__file__).parent.parent / "src"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Studio:
    """A running studio: ``url`` (with token), ``base`` (without), ``token``, ``port``."""

    def __init__(self, url: str, proc: subprocess.Popen, lines: list[str]):
        self.url = url
        parts = urlsplit(url)
        self.port = parts.port
        self.base = f"{parts.scheme}://{parts.netloc}/"
        self.token = parse_qs(parts.query)["token"][0]
        self.proc = proc
        self.lines = lines

    def page(self, query: str = "") -> str:
        """The page's address with the token and more query (``target=...``)."""
        return self.url + (f"&{query}" if query else "")

    def status(self) -> dict:
        with urllib.request.urlopen(f"{self.base}status?token={self.token}", timeout=5) as response:
            return json.loads(response.read())


@contextmanager
def launch(*args: str, cwd: Path | None = None):
    """Run ``hyosan studio ARGS --port P --no-open``; yield a :class:`Studio` once it answers."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hyosan", "studio", *args, "--port", str(port), "--no-open"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    got: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)
            got.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        try:
            first = got.get(timeout=120)
        except queue.Empty:
            proc.kill()
            pytest.fail("the studio printed no address: " + proc.stderr.read())
        url = next(w for w in first.split() if w.startswith("http://"))
        studio = Studio(url, proc, lines)
        for _ in range(600):
            try:
                studio.status()
                break
            except OSError:
                time.sleep(0.1)
        else:
            proc.kill()
            pytest.fail("the studio did not start: " + proc.stderr.read())
        yield studio
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
