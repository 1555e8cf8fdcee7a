"""Real headless Chromium (Debian's `chromium` package) driven over the DevTools protocol on a
pipe (``--remote-debugging-pipe``: fd 3 in, fd 4 out, NUL-separated JSON), so a test can load
a page at a given viewport, look at it the way a browser lays it out, and screenshot it — with
no extra library (no websocket client, no webdriver) and no network: every host resolves to
nothing.

    with Chromium(tmp_path) as browser:
        page = browser.open(path, width=390, height=844, mobile=True)
        page.evaluate("document.title")
        png = page.screenshot()
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any, Self

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing off this machine, even by mistake
]  # fmt: skip


def chromium_binary() -> str:
    """The Chromium executable (`.ci/run` installs Debian's `chromium`)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("chromium is not installed: apt-get install chromium (.ci/run does)")


class Chromium:
    def __init__(self, tmp: Path, timeout: float = 30.0) -> None:
        self.tmp, self.timeout = tmp, timeout
        self._next = 0
        self._buf = b""
        self.events: list[dict[str, Any]] = []

    def __enter__(self) -> Self:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # keep both ends the child needs above 4, so moving them to 3 and 4 cannot clobber
        hi_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
        hi_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
        os.close(to_child_r)
        os.close(from_child_w)

        def fds() -> None:
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        profile = self.tmp / "chromium-profile"
        self.proc = subprocess.Popen(
            [chromium_binary(), *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(3, 4), preexec_fn=fds,  # noqa: PLW1509 - single-threaded test helper
        )
        os.close(hi_r)
        os.close(hi_w)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError):  # already gone: the wait below settles it
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        os.close(self._from_child)

    # ----- protocol ----------------------------------------------------------------------

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> dict[str, Any]:
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, name: str, session: str | None = None) -> dict[str, Any]:
        for i, ev in enumerate(self.events):
            if ev.get("method") == name and (session is None or ev.get("sessionId") == session):
                return self.events.pop(i)
        while True:
            ev = self._read()
            if ev.get("method") == name and (session is None or ev.get("sessionId") == session):
                return ev
            self.events.append(ev)

    def _read(self) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self._buf:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("chromium stopped answering")
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)  # type: ignore[no-any-return]

    # ----- pages ----------------------------------------------------------------------------

    def open(self, path: Path, *, width: int, height: int, mobile: bool = False,
             dark: bool = False) -> Page:
        """A new tab showing ``path`` at this viewport, loaded (the load event fired)."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        page.send("Page.enable")
        page.send("Network.enable")
        page.send("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
        page.send("Emulation.setEmulatedMedia", {"features": [
            {"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})
        page.send("Page.navigate", {"url": path.resolve().as_uri()})
        self.wait_event("Page.loadEventFired", session)
        return page


class Page:
    def __init__(self, browser: Chromium, session: str) -> None:
        self.browser, self.session = browser, session

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, self.session)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression, evaluated by the test (the page has none)."""
        res = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return res["result"].get("value")

    def screenshot(self) -> bytes:
        """A PNG of the viewport."""
        return base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"])

    def requested(self) -> list[str]:
        """Every URL this page asked for (Network.requestWillBeSent) so far."""
        return [ev["params"]["request"]["url"] for ev in self.browser.events
                if ev.get("method") == "Network.requestWillBeSent"
                and ev.get("sessionId") == self.session]
