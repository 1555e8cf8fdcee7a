"""A loopback HTTP proxy in front of mastodon_mock that behaves like real servers do when
they differ from it (issue 11, 12): the Mastodon API itself always comes from mastodon_mock.

What it can change, per test:

- ``strip_idempotency``: drop the ``Idempotency-Key`` header, as servers that ignore it do
  (or as Mastodon does once the key is older than an hour);
- ``mastodon_length_rule``: refuse with 422 a status whose content warning plus text is
  longer than the limit, counting as Mastodon's StatusLengthValidator does (a URL as 23, a
  mention as its local part), which mastodon_mock does not do;
- ``plan[n]`` for the n-th ``POST /api/v1/statuses`` (from 1):
  ``"lose"`` forwards it and loses the response (the server made the status, the client
  never hears of it); ``"bad_gateway"`` forwards it and answers 502, as a gateway does when
  the server behind it is slow to answer; ``"hold"`` stops it before it reaches the server until ``release(n,
  forward)``; ``"hold_after"`` forwards it, then holds the response until ``release(n)``.
- ``events``: ``("arrived", n)`` when POST n reaches the proxy, ``("created", n)`` when the
  server has answered it; ``wait_for`` blocks until one is seen.
- ``requests``: every (method, path) relayed, to count what a command asked for.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

STATUSES = "/api/v1/statuses"
_URL = re.compile(r"https?://\S+")
_MENTION = re.compile(r"(?<![\w/])@(\w+)@[\w.-]+\w")


def mastodon_length(text: str, cw: str) -> int:
    """The length Mastodon counts for a status (CW + text, URLs 23, mentions local part)."""
    countable = _MENTION.sub(lambda m: "@" + m.group(1), _URL.sub("x" * 23, text))
    return len(cw) + len(countable)


class PostProxy:
    """See the module docstring."""

    def __init__(self, upstream: str, *, strip_idempotency: bool = False,
                 mastodon_length_rule: bool = False, max_characters: int = 500) -> None:
        self.strip_idempotency = strip_idempotency
        self.mastodon_length_rule = mastodon_length_rule
        self.max_characters = max_characters
        self.plan: dict[int, str] = {}
        self.posts = 0
        self.requests: list[tuple[str, str]] = []
        self.events: list[tuple[str, int]] = []
        self._cond = threading.Condition()
        self._released: dict[int, bool] = {}
        up = urlsplit(upstream)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: Any) -> None:
                pass

            def _relay(self) -> None:
                proxy._handle(self, up.hostname or "127.0.0.1", up.port or 80)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # ----- control ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:  # let every held request go, so no handler thread is left waiting
            for n in list(self.plan):
                self._released.setdefault(n, False)
            self._cond.notify_all()
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        """Forget counts, plans and events (between trials of one test)."""
        with self._cond:
            self.plan.clear()
            self.posts = 0
            self.requests.clear()
            self.events.clear()
            self._released.clear()

    def release(self, n: int, forward: bool = True) -> None:
        """Let held POST n go on (``forward=False``: it never reaches the server)."""
        with self._cond:
            self._released[n] = forward
            self._cond.notify_all()

    def wait_for(self, event: str, n: int, timeout: float = 20.0) -> None:
        """Block until ``(event, n)`` happened (AssertionError after ``timeout``)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while (event, n) not in self.events:
                left = deadline - time.monotonic()
                assert left > 0, f"proxy: no {event} for POST {n} in {timeout}s ({self.events})"
                self._cond.wait(left)

    def count(self, method: str, path_prefix: str) -> int:
        """How many requests with this method had a path starting with ``path_prefix``."""
        return sum(1 for m, p in self.requests if m == method and p.startswith(path_prefix))

    # ----- relaying --------------------------------------------------------------------------

    def _event(self, name: str, n: int) -> None:
        with self._cond:
            self.events.append((name, n))
            self._cond.notify_all()

    def _wait_release(self, n: int) -> bool:
        with self._cond:
            while n not in self._released:
                if not self._cond.wait(60):
                    return False
            return self._released[n]

    def _handle(self, h: BaseHTTPRequestHandler, host: str, port: int) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        path = urlsplit(h.path).path
        is_post = h.command == "POST" and path == STATUSES
        with self._cond:
            self.requests.append((h.command, path))
            if is_post:
                self.posts += 1
            n = self.posts if is_post else 0
            action = self.plan.get(n, "") if is_post else ""
        if is_post:
            self._event("arrived", n)
        if action == "hold" and not self._wait_release(n):
            h.close_connection = True
            return  # never reaches the server
        if is_post and self.mastodon_length_rule:
            form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8")).items()}
            if mastodon_length(form.get("status", ""), form.get("spoiler_text", "")) > self.max_characters:
                self._answer(h, 422, [("Content-Type", "application/json")], json.dumps(
                    {"error": f"Validation failed: Text character limit of {self.max_characters} exceeded"}
                ).encode())
                return
        headers = {k: v for k, v in h.headers.items()
                   if k.lower() not in ("connection", "host")
                   and not (self.strip_idempotency and k.lower() == "idempotency-key")}
        conn = http.client.HTTPConnection(host, port, timeout=60)
        conn.request(h.command, h.path, body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        if is_post:
            self._event("created", n)
        if action == "lose":
            h.close_connection = True
            return  # the server made the status; the client never hears of it
        if action == "hold_after":
            self._wait_release(n)
        if action == "bad_gateway":
            self._answer(h, 502, [("Content-Type", "application/json")],
                         b'{"error": "Bad gateway"}')
            return
        self._answer(h, resp.status, resp.getheaders(), data)

    @staticmethod
    def _answer(h: BaseHTTPRequestHandler, status: int, headers: list[tuple[str, str]],
                data: bytes) -> None:
        try:
            h.send_response(status)
            for k, v in headers:
                if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                    h.send_header(k, v)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except OSError:
            pass  # the client is gone (killed, interrupted, timed out)
