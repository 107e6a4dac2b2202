"""Real headless Chromium for the page's tests: Debian's ``/usr/bin/chromium`` driven by the
``playwright`` package (never a downloaded browser), the app served on loopback over a small real
index, and a watch on what goes wrong in a page.

Where Chromium or playwright is missing the browser tests are skipped with the reason, except in CI
(``CI`` set): there a missing browser fails the run, so that the browser tests cannot vanish while
CI stays green.
"""

from __future__ import annotations

import os
import re
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
INSTALL = "apt-get install -y chromium fonts-noto-cjk; pip install -e '.[test]'"


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"the playwright package is not installed ({INSTALL})"
    if not CHROMIUM.exists():
        return f"Debian's chromium is not installed at {CHROMIUM} ({INSTALL})"
    return None


def require_browser() -> None:
    """At a browser test module's top: skip it where the browser is missing, fail it in CI."""
    reason = missing_browser()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"CI must run the browser tests: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


class _QuietServer(WSGIServer):
    def handle_error(self, request, client_address):
        pass  # a browser closing a connection early (an aborted fetch) is not a test failure


def base_url_for(root: Path, articles: dict[str, str]):
    """Yields the base URL of the app over an index of ``articles`` built under ``root``."""
    from conftest import index_articles

    yield from served(index_articles(root, articles))


def served(settings):
    """Yields the base URL of the app over ``settings``, served on loopback."""
    from search.web.app import create_app

    server = make_server("127.0.0.1", 0, create_app(settings), server_class=_QuietServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Watch:
    """Console errors, failed requests and error responses seen by a page."""

    def __init__(self, page):
        self.problems: list[str] = []
        self.allowed: list[re.Pattern] = []
        page.on("console", lambda msg: msg.type == "error" and self._add(f"console: {msg.text}"))
        page.on("pageerror", lambda exc: self._add(f"pageerror: {exc}"))
        page.on("requestfailed", lambda req: self._failed(req))
        page.on("response", lambda resp: resp.status >= 400 and self._add(f"HTTP {resp.status} {resp.url}"))
        page.on("dialog", lambda dialog: (self._add(f"dialog: {dialog.message}"), dialog.dismiss()))

    def _failed(self, req):
        # A stale search (or completions) request aborted on purpose by the page is not a failure, nor
        # is the favicon, which the browser fetches after load and cancels when the test navigates on,
        # nor the timeline block (static/research.js) still on its way when the test navigates on.
        if req.failure == "net::ERR_ABORTED" and any(part in req.url for part in ("/api/search?", "/api/suggest?",
                                                                                  "/favicon.", "/research?")):
            return
        self._add(f"request failed: {req.url} {req.failure}")

    def _add(self, problem: str) -> None:
        if not any(p.search(problem) for p in self.allowed):
            self.problems.append(problem)

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))


def new_page(browser, base_url, **context_options):
    context = browser.new_context(base_url=base_url, locale="zh-CN", **context_options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page, Watch(page)


@contextmanager
def watched_page(browser, base_url, **context_options):
    """``(page, watch)`` of a new page, its context closed after; the page must have raised no problem."""
    context, page, watch = new_page(browser, base_url, **context_options)
    try:
        yield page, watch
    finally:
        context.close()
    assert watch.problems == []


@contextmanager
def phone_page(browser, base_url, height: int = 740, **context_options):
    """A page on a 375 px touch phone (two device pixels a CSS pixel), watched (:func:`watched_page`)."""
    with watched_page(browser, base_url, viewport={"width": 375, "height": height}, device_scale_factor=2,
                      is_mobile=True, has_touch=True, **context_options) as (page, _):
        yield page


def sideways_scroll(page) -> int:
    """How many CSS pixels the page is wider than its viewport (0: nothing scrolls sideways)."""
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return max(0, scroll_width - inner_width)


@pytest.fixture
def page_and_watch(browser, base_url):
    with watched_page(browser, base_url, viewport={"width": 1200, "height": 800}) as found:
        yield found


@pytest.fixture
def page(page_and_watch):
    return page_and_watch[0]


def shot(page, name: str, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)
