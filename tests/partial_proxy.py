"""A loopback HTTP proxy in front of mastodon_mock that makes it look like servers that support
only part of the Mastodon API, or page differently (issue 17). The API itself always comes
from mastodon_mock; the proxy only takes things away:

- ``missing``: path regexes answered ``404 {"error": "Record not found"}`` without reaching the
  server (a server without followed hashtags, markers or suggestions);
- ``drop_link``: remove the ``Link`` header from every response (servers that do not page
  with it);
- ``ignore_max_id``: drop ``max_id`` from queries (a server that always sends the first page);
- ``requests``: every (method, path, query) relayed or refused, to count what pln asked.
"""

from __future__ import annotations

import http.client
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit


class PartialProxy:
    """See the module docstring."""

    def __init__(self, upstream: str, *, missing: tuple[str, ...] = (), drop_link: bool = False,
                 ignore_max_id: bool = False) -> None:
        self.missing = [re.compile(p) for p in missing]
        self.drop_link = drop_link
        self.ignore_max_id = ignore_max_id
        self.requests: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
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

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self, method: str, path_regex: str) -> int:
        """How many requests with this method had a path matching ``path_regex``."""
        rx = re.compile(path_regex)
        with self._lock:
            return sum(1 for m, p, _ in self.requests if m == method and rx.search(p))

    def _handle(self, h: BaseHTTPRequestHandler, host: str, port: int) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        parts = urlsplit(h.path)
        with self._lock:
            self.requests.append((h.command, parts.path, parts.query))
        if any(rx.search(parts.path) for rx in self.missing):
            self._answer(h, 404, [("Content-Type", "application/json")],
                         b'{"error":"Record not found"}')
            return
        target = h.path
        if self.ignore_max_id and parts.query:
            query = [(k, v) for k, v in parse_qsl(parts.query) if k != "max_id"]
            target = parts.path + ("?" + urlencode(query) if query else "")
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ("connection", "host")}
        conn = http.client.HTTPConnection(host, port, timeout=60)
        conn.request(h.command, target, body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        out = [(k, v) for k, v in resp.getheaders()
               if not (self.drop_link and k.lower() == "link")]
        self._answer(h, resp.status, out, data)

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
            pass  # the client is gone
