"""The DevTools driver of the browser tests (tests/ops/chromium.py) against a page that arrives
slowly, as a loaded machine serves it: `navigate` must return only once the new document has
loaded, so the element a test reads next is there; before, it returned when the navigation
started and the first read of a late element threw."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .chromium import Chromium, ensure_chromium

HEAD = b"<!doctype html><html><body><p id='early'>early</p>"
TAIL = b"<p id='late'>late</p></body></html>"


class SlowPage(BaseHTTPRequestHandler):
    """The page in two parts: the browser commits the navigation and parses the first part
    while the second is still on its way."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(HEAD + b" " * 4096)  # past the parser's first chunk
        self.wfile.flush()
        time.sleep(1.5)
        self.wfile.write(TAIL)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_page() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


async def test_navigate_returns_once_the_new_document_has_loaded(slow_page: str) -> None:
    browser = Chromium(ensure_chromium())
    try:
        await asyncio.to_thread(browser.navigate, slow_page)
        late = "document.getElementById('late').textContent"
        assert await asyncio.to_thread(browser.evaluate, late) == "late"
        assert await asyncio.to_thread(browser.evaluate, "document.readyState") == "complete"
    finally:
        browser.close()
