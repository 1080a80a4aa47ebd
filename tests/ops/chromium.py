"""Drive Debian's headless Chromium through the DevTools protocol over a pipe.

Why a pipe: `--remote-debugging-pipe` speaks the same DevTools protocol as the websocket
endpoint, as NUL-terminated JSON on file descriptors 3 (commands in) and 4 (replies out), so no
websocket client and no browser download (playwright) are needed — only the `chromium` package.
When /usr/bin/chromium is missing and we run as root, `ensure_chromium` installs it with apt-get.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from dev.testing import apt_install

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def find_chromium() -> str | None:
    for path in CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


def ensure_chromium() -> str:
    """The path of a Chromium binary; installs Debian's `chromium` (and CJK fonts, so the
    screenshot shows the Chinese labels) when missing and running as root. Raises RuntimeError
    with a clear message otherwise."""
    found = find_chromium()
    if found:
        return found
    apt_install("chromium", "fonts-noto-cjk")
    found = find_chromium()
    if not found:
        raise RuntimeError("apt-get installed chromium but no chromium binary was found")
    return found


def _high(fd: int) -> int:
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class CDPError(RuntimeError):
    pass


class Chromium:
    """One headless Chromium with one page, driven synchronously (call it via
    asyncio.to_thread from async tests)."""

    def __init__(self, binary: str, width: int = 1400, height: int = 1100) -> None:
        self._profile = tempfile.mkdtemp(prefix="pg-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # numbers above 4 in the parent, so the shell's "3<&N 4>&M" cannot clobber one another
        to_browser_r, from_browser_w = (_high(to_browser_r), _high(from_browser_w))
        args = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--remote-debugging-pipe",
            "--disable-extensions",
            "--hide-scrollbars",
            "--mute-audio",
            f"--window-size={width},{height}",
            f"--user-data-dir={self._profile}",
            "about:blank",
        ]
        # fd 3 = commands to the browser, fd 4 = its replies (what --remote-debugging-pipe wants)
        self.log_path = Path(tempfile.mkstemp(prefix="pg-chromium-", suffix=".log")[1])
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w}', *args],
            pass_fds=(to_browser_r, from_browser_w),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self._lock = threading.Lock()
        self._loads = 0  # Page.loadEventFired events seen on our page
        self.console: list[str] = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self.send("Page.enable", session=True)
        self.send("Runtime.enable", session=True)

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            # wait with the deadline: a read alone would block for good if nothing comes
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise TimeoutError("no reply from Chromium")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                err = self.log_path.read_text(errors="replace")
                raise CDPError(f"Chromium closed the pipe (exit {self.proc.poll()}): {err[-2000:]}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session: bool = False,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        with self._lock:
            self._next_id += 1
            msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
            if session:
                msg["sessionId"] = self.session
            os.write(self._to_browser, json.dumps(msg).encode() + b"\0")
            deadline = time.monotonic() + timeout
            while True:
                reply = self._read_message(deadline)
                if reply.get("id") == self._next_id:
                    if "error" in reply:
                        raise CDPError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
                self._event(reply)

    def _event(self, msg: dict[str, Any]) -> None:
        if msg.get("method") == "Page.loadEventFired" and msg.get("sessionId") == self.session:
            self._loads += 1
        elif msg.get("method") == "Runtime.consoleAPICalled":
            args = msg["params"].get("args", [])
            self.console.append(
                " ".join(str(a.get("value", a.get("description", ""))) for a in args)
            )
        elif msg.get("method") == "Runtime.exceptionThrown":
            self.console.append("exception: " + json.dumps(msg["params"]["exceptionDetails"])[:500])

    def navigate(self, url: str, timeout: float = 30.0) -> None:
        """Go to `url` and return once the new document has loaded: its load event fired and
        `document.readyState` is "complete". Page.navigate itself answers as soon as the
        navigation starts, when the old document or a half-parsed new one is still there (an
        element the new page has can be missing); what a test does next must see the new one."""
        loads = self._loads  # a load event may come before Page.navigate's own reply
        reply = self.send("Page.navigate", {"url": url}, session=True, timeout=timeout)
        if reply.get("errorText"):
            raise CDPError(f"navigation to {url} failed: {reply['errorText']}")
        deadline = time.monotonic() + timeout
        self._wait_for(lambda: self._loads > loads, deadline)
        while True:
            try:
                if self.evaluate("document.readyState") == "complete":
                    return
            except CDPError:
                pass  # the execution context is being replaced: not yet
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not finish loading in {timeout} s")
            time.sleep(0.05)

    def _wait_for(self, condition: Any, deadline: float) -> None:
        """Read the browser's events (no command pending) until `condition()` holds."""
        with self._lock:
            while not condition():
                self._event(self._read_message(deadline))

    def evaluate(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=True,
        )
        if "exceptionDetails" in result:
            raise CDPError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, full_page: bool = True) -> None:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            size = self.send("Page.getLayoutMetrics", session=True)["cssContentSize"]
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": size["height"],
                "scale": 1,
            }
        data = self.send("Page.captureScreenshot", params, session=True)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                try:
                    self.send("Browser.close", timeout=5)
                except (CDPError, TimeoutError, OSError):
                    pass
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
        finally:
            for fd in (self._to_browser, self._from_browser):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._log.close()
            self.log_path.unlink(missing_ok=True)
            shutil.rmtree(self._profile, ignore_errors=True)
