"""A loopback HTTP proxy in front of a real server (mastodon_mock, a FeedServer) that makes
it behave like another real server: rewrite or drop response headers, drop request headers,
change status codes, answer some paths itself, delay a response after the server acted.

It never imitates the API: every request it does not answer itself is forwarded to the
upstream server, which does the work; hooks only change what travels between the two.

    with Proxy(mastodon.base_url) as proxy:
        proxy.rewrite_link_prev_to_since_id()          # Link rel="prev" carries since_id
        proxy.drop_response_header("Link")             # a server without Link headers
        proxy.drop_request_header("Idempotency-Key")   # a server that ignores the key
        proxy.refuse_unauthenticated(r"^/api/v1/accounts")  # 401 to reads without a token
        proxy.delay_after(r"^/api/v1/statuses$", 2.0, methods=("POST",), count=1)
        proxy.serve("/users/bob.rss", RSS, content_type="application/rss+xml")
        proxy.before(fn)  # fn(req) -> Response | None: change req, or answer it
        proxy.after(fn)   # fn(req, resp) -> Response | None: change resp, or replace it
        proxy.requests    # [Request] as the client sent them (after ``before`` hooks)

Hooks run in the order they were added; a ``before`` hook returning a Response answers the
request without forwarding it.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade", "content-length"}


class Headers:
    """An ordered, case-insensitive list of header (name, value) pairs."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self.items: list[tuple[str, str]] = list(items)

    def get(self, name: str, default: str | None = None) -> str | None:
        low = name.lower()
        return next((v for k, v in self.items if k.lower() == low), default)

    def set(self, name: str, value: str) -> None:
        self.drop(name)
        self.items.append((name, value))

    def drop(self, name: str) -> None:
        low = name.lower()
        self.items = [(k, v) for k, v in self.items if k.lower() != low]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def as_dict(self) -> dict[str, str]:
        return dict(self.items)


@dataclass
class Request:
    """One request as the client sent it (``before`` hooks may change it)."""

    method: str
    path: str  # path and query
    headers: Headers
    body: bytes = b""

    @property
    def route(self) -> str:
        """The path without the query."""
        return self.path.split("?", 1)[0]

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.path).query))

    @property
    def authenticated(self) -> bool:
        return bool(self.headers.get("Authorization"))


@dataclass
class Response:
    """One response (from upstream, or made by a hook)."""

    status: int
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""


BeforeHook = Callable[[Request], "Response | None"]
AfterHook = Callable[[Request, Response], "Response | None"]


class Proxy:
    """A ThreadingHTTPServer on 127.0.0.1 forwarding to ``upstream`` (``http://host:port``)."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.requests: list[Request] = []
        self._before: list[BeforeHook] = []
        self._after: list[AfterHook] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._handle()

            do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(self.command, self.path, Headers(self.headers.items()), body)
                try:
                    resp = proxy._exchange(req)
                except (ConnectionError, TimeoutError, http.client.HTTPException):
                    resp = Response(502, Headers([("Content-Type", "text/plain")]), b"bad gateway")
                self.send_response(resp.status)
                for k, v in resp.headers.items:
                    if k.lower() not in HOP_BY_HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(resp.body)))
                self.end_headers()
                if self.command != "HEAD" and resp.body:
                    try:
                        self.wfile.write(resp.body)
                    except (BrokenPipeError, ConnectionResetError):
                        pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.base_url = f"http://{self.host}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # ----- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- hooks ---------------------------------------------------------------------------------

    def before(self, hook: BeforeHook) -> BeforeHook:
        """Run ``hook(req)`` before forwarding; a Response it returns answers the request."""
        self._before.append(hook)
        return hook

    def after(self, hook: AfterHook) -> AfterHook:
        """Run ``hook(req, resp)`` on the upstream's response; a Response it returns replaces it."""
        self._after.append(hook)
        return hook

    def clear(self) -> None:
        """Remove every hook and forget the requests seen."""
        self._before.clear()
        self._after.clear()
        self.requests.clear()

    def _exchange(self, req: Request) -> Response:
        for hook in list(self._before):
            answer = hook(req)
            if answer is not None:
                with self._lock:
                    self.requests.append(req)
                return answer
        with self._lock:
            self.requests.append(req)
        resp = self._forward(req)
        for after in list(self._after):
            resp = after(req, resp) or resp
        return resp

    def _forward(self, req: Request) -> Response:
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
        try:
            headers = {k: v for k, v in req.headers.items if k.lower() not in HOP_BY_HOP}
            if req.body or req.method in ("POST", "PUT", "PATCH"):
                headers["Content-Length"] = str(len(req.body))
            conn.request(req.method, req.path, body=req.body or None, headers=headers)
            up = conn.getresponse()
            body = up.read()
            return Response(up.status, Headers(up.getheaders()), body)
        finally:
            conn.close()

    # ----- ready-made behaviours of real servers -------------------------------------------------

    def count(self, pattern: str = r"^/api/", method: str | None = None) -> int:
        """How many requests whose path matches ``pattern`` reached the proxy."""
        rx = re.compile(pattern)
        return sum(1 for r in list(self.requests)
                   if rx.search(r.path) and (method is None or r.method == method))

    def drop_request_header(self, name: str) -> None:
        """Strip a request header before it reaches the server (e.g. ``Idempotency-Key``)."""
        self.before(lambda req: req.headers.drop(name))

    def drop_response_header(self, name: str, pattern: str = "") -> None:
        """Strip a response header on paths matching ``pattern`` (e.g. ``Link``)."""
        rx = re.compile(pattern)

        def hook(req: Request, resp: Response) -> None:
            if rx.search(req.path):
                resp.headers.drop(name)

        self.after(hook)

    def rewrite_response_header(self, name: str, fn: Callable[[str], str | None],
                                pattern: str = "") -> None:
        """Replace a response header's value with ``fn(value)`` (None drops it)."""
        rx = re.compile(pattern)

        def hook(req: Request, resp: Response) -> None:
            value = resp.headers.get(name)
            if value is None or not rx.search(req.path):
                return
            new = fn(value)
            if new is None:
                resp.headers.drop(name)
            else:
                resp.headers.set(name, new)

        self.after(hook)

    def rewrite_link_prev_to_since_id(self) -> None:
        """``Link: <…?min_id=X>; rel="prev"`` becomes ``<…?since_id=X>`` (servers that page
        forward with since_id, as Mastodon did before 2.6)."""

        def since(value: str) -> str:
            parts = []
            for part in value.split(","):
                if 'rel="prev"' in part:
                    part = re.sub(r"([?&])min_id=", r"\1since_id=", part)
                parts.append(part)
            return ",".join(parts)

        self.rewrite_response_header("Link", since)

    def rewrite_json(self, fn: Callable[[Any], Any], pattern: str, methods: tuple[str, ...] = ("GET",)) -> None:
        """Replace a JSON response body on matching paths with ``fn(parsed body)``."""
        import json

        rx = re.compile(pattern)

        def hook(req: Request, resp: Response) -> None:
            if req.method in methods and rx.search(req.path) and 200 <= resp.status < 300:
                resp.body = json.dumps(fn(json.loads(resp.body))).encode()

        self.after(hook)

    def refuse_unauthenticated(self, pattern: str = r"^/api/", status: int = 401) -> None:
        """Answer ``status`` to requests without an Authorization header (a server that keeps
        its public API for logged-in users)."""
        rx = re.compile(pattern)

        def hook(req: Request) -> Response | None:
            if rx.search(req.path) and not req.authenticated:
                return json_response(status, {"error": "This API requires an authenticated user"})
            return None

        self.before(hook)

    def answer(self, pattern: str, status: int, body: Any = None, *, methods: tuple[str, ...] | None = None,
               count: int | None = None) -> None:
        """Answer matching requests with ``status`` (and a JSON ``body``) without forwarding."""
        rx = re.compile(pattern)
        left = [count]

        def hook(req: Request) -> Response | None:
            if not rx.search(req.path) or (methods and req.method not in methods):
                return None
            if left[0] is not None:
                if left[0] <= 0:
                    return None
                left[0] -= 1
            return json_response(status, body if body is not None else {"error": f"HTTP {status}"})

        self.before(hook)

    def delay_after(self, pattern: str, seconds: float, *, methods: tuple[str, ...] | None = None,
                    count: int | None = None) -> None:
        """Hold a matching response for ``seconds`` after the server has acted on the request
        (a client with a shorter timeout gives up on a request that succeeded)."""
        rx = re.compile(pattern)
        left = [count]

        def hook(req: Request, resp: Response) -> None:
            if not rx.search(req.path) or (methods and req.method not in methods):
                return
            if left[0] is not None:
                if left[0] <= 0:
                    return
                left[0] -= 1
            time.sleep(seconds)

        self.after(hook)

    def serve(self, path: str, body: bytes | str, *, content_type: str = "text/html; charset=utf-8",
              status: int = 200) -> str:
        """Answer GET ``path`` (exactly, query ignored) itself; returns its URL."""
        data = body.encode() if isinstance(body, str) else body

        def hook(req: Request) -> Response | None:
            if req.route == path and req.method in ("GET", "HEAD"):
                return Response(status, Headers([("Content-Type", content_type)]), data)
            return None

        self.before(hook)
        return self.base_url + path


def json_response(status: int, body: Any) -> Response:
    """A JSON Response."""
    import json

    return Response(status, Headers([("Content-Type", "application/json")]), json.dumps(body).encode())


def with_query(url: str, **params: str) -> str:
    """``url`` with query parameters set (a helper for Link header rewrites)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))
