"""Fixtures that drive pages in a real headless browser (Playwright's sync API on Debian's chromium).

Import them into a test module::

    from browser import browser, browser_page  # noqa: F401

``browser`` is session-scoped (one chromium per test process); ``browser_page`` gives each test
a fresh context and page that records every request, console error and page error, so a test of
a self-contained page can assert that it fetched nothing.

The browser is found at ``$HYOSAN_CHROMIUM``, ``/usr/bin/chromium`` or on ``PATH``; where none
is (or Playwright is not installed) the browser tests are skipped, unless
``HYOSAN_REQUIRE_BROWSER=1`` (set by ``scripts/test`` once it has installed chromium), which
turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: URL schemes a self-contained page may load.
LOCAL_SCHEMES = ("file:", "data:", "blob:")


def chromium_path() -> str | None:
    """The chromium executable to drive, or None."""
    candidates = [os.environ.get("HYOSAN_CHROMIUM"), "/usr/bin/chromium"]
    candidates += [shutil.which(name) for name in ("chromium", "chromium-browser")]
    for path in candidates:
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return path
    return None


def _unavailable(reason: str) -> None:
    if os.environ.get("HYOSAN_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required but {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass
class BrowserPage:
    """A page and what it did: the URL of every request, console errors, uncaught exceptions."""

    page: Any  # playwright.sync_api.Page
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def open(self, path: str | Path, wait_for: str | None = None, timeout_ms: float = 10_000) -> Any:
        """Load a local file; then, if given, wait until the JS function ``wait_for`` returns truthy.

        Write ``wait_for`` as a function (``"() => window.x"``): a bare expression is evaluated with
        ``eval``, which a page's Content-Security-Policy without 'unsafe-eval' forbids.
        """
        self.page.goto(Path(path).resolve().as_uri())
        if wait_for:
            self.page.wait_for_function(wait_for, timeout=timeout_ms)
        return self.page

    def offsite_requests(self) -> list[str]:
        """Requests for anything but file:, data: and blob: URLs (a self-contained page makes none)."""
        return [url for url in self.requests if not url.startswith(LOCAL_SCHEMES)]

    def errors(self) -> list[str]:
        return self.console_errors + self.page_errors


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless chromium for the whole test session (per xdist worker)."""
    path = chromium_path()
    if path is None:
        _unavailable("no chromium found (install Debian's chromium or set HYOSAN_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(browser: Any) -> Iterator[BrowserPage]:
    """A fresh page (own context, 1280x900) that records its requests and errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    record = BrowserPage(page)
    page.on("request", lambda request: record.requests.append(request.url))
    page.on("console", lambda msg: msg.type == "error" and record.console_errors.append(msg.text))
    page.on("pageerror", lambda err: record.page_errors.append(str(err)))
    page.set_default_timeout(10_000)
    try:
        yield record
    finally:
        context.close()
