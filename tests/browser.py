"""Open a page in real headless Chromium over the DevTools protocol (on a pipe, no port).

``Browser().open(path)`` loads a file and returns what a user's browser saw: console errors,
uncaught exceptions, every request and every failed one, a value computed in the page, and
a screenshot. Chromium is the Debian package ``chromium`` (``.ci/run`` installs it).
"""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=1100,900", "--remote-debugging-pipe",
]


def chromium() -> str | None:
    """The browser binary itself: Debian's /usr/bin/chromium launcher script reuses fds 3 and 4."""
    binary = "/usr/lib/chromium/chromium"
    return binary if os.access(binary, os.X_OK) else shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Page:
    errors: list = field(default_factory=list)  # console errors, exceptions, log errors
    requests: list = field(default_factory=list)  # every URL the page asked for
    failed: list = field(default_factory=list)  # requests that failed
    value: object = None  # what the expression evaluated to
    screenshot: bytes = b""


class Browser:
    """One Chromium process; ``open()`` a page in a fresh tab; ``close()`` ends it."""

    def __init__(self, timeout: float = 60.0):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="streamdrift-chromium-")
        to_child_r, self._to_child = _high(os.pipe())
        self._from_child, from_child_w = _high(os.pipe())
        # the DevTools pipe: Chromium reads commands on fd 3 and writes answers on fd 4
        # (dup2 leaves 3 and 4 inheritable; every other descriptor of ours is close-on-exec)
        self.proc = subprocess.Popen(
            [chromium(), *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=lambda: (os.dup2(to_child_r, 3), os.dup2(from_child_w, 4)),
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._reader = os.fdopen(self._from_child, "rb")
        self._buffer = b""
        self._next_id = 0

    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _receive(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = self._reader.read1(1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _call(self, method, params=None, session=None, page: Page | None = None) -> dict:
        wanted = self._send(method, params, session)
        while True:
            message = self._receive()
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            if page is not None:
                _note(page, message)

    def open(self, path: Path, expression: str = "null") -> Page:
        """Load ``path``, wait for its load event, evaluate ``expression`` (JSON-able), screenshot."""
        page = Page()
        timer = threading.Timer(self.timeout, self.proc.kill)
        timer.start()
        try:
            target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                self._call(f"{domain}.enable", session=session, page=page)
            self._call("Page.navigate", {"url": Path(path).resolve().as_uri()}, session, page)
            while True:
                message = self._receive()
                _note(page, message)
                if message.get("method") == "Page.javascriptDialogOpening":  # alert(): a script ran
                    page.errors.append(("dialog", message["params"].get("message")))
                    self._send("Page.handleJavaScriptDialog", {"accept": True}, session)
                if message.get("method") == "Page.loadEventFired":
                    break
            result = self._call("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                                session, page)
            if "exceptionDetails" in result:
                raise RuntimeError(f"{expression!r} failed: {result['exceptionDetails']}")
            page.value = result["result"].get("value")
            shot = self._call("Page.captureScreenshot", {"format": "png"}, session, page)
            page.screenshot = base64.b64decode(shot["data"])
            self._call("Target.closeTarget", {"targetId": target}, page=page)
        finally:
            timer.cancel()
        return page

    def close(self):
        try:
            self._send("Browser.close")
            self.proc.wait(timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        finally:
            os.close(self._to_child)
            self._reader.close()
            shutil.rmtree(self.profile, ignore_errors=True)


def _high(fds):
    """The same pipe on descriptors above 10, so moving them to 3 and 4 clobbers nothing."""
    import fcntl

    moved = tuple(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in fds)
    for fd in fds:
        os.close(fd)
    return moved


def _note(page: Page, message: dict) -> None:
    method, params = message.get("method"), message.get("params", {})
    if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        page.errors.append(("console", [a.get("value") for a in params.get("args", [])]))
    elif method == "Runtime.exceptionThrown":
        page.errors.append(("exception", params["exceptionDetails"].get("text")))
    elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
        page.errors.append(("log", params["entry"].get("text")))
    elif method == "Network.requestWillBeSent":
        page.requests.append(params["request"]["url"])
    elif method == "Network.loadingFailed":
        page.failed.append((params.get("requestId"), params.get("errorText")))


def blank(png: bytes) -> bool:
    """True when a screenshot is one colour (nothing drawn)."""
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(png)).convert("L")
    low, high = image.getextrema()
    return low == high
