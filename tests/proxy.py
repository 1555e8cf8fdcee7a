"""A loopback HTTP proxy in front of a real server (mastodon_mock, a FeedServer) that makes
it behave like another real server: rewrite or drop response headers, drop request headers or
query parameters, change status codes, answer some paths itself, delay, lose or hold a
response after the server acted, refuse what Mastodon's validator refuses.

It never imitates the API: every request it does not answer itself is forwarded to the
upstream server, which does the work; hooks only change what travels between the two.

    with Proxy(mastodon.base_url) as proxy:
        proxy.rewrite_link_prev_to_since_id()          # Link rel="prev" carries since_id
        proxy.drop_response_header("Link")             # a server without Link headers
        proxy.drop_request_header("Idempotency-Key")   # a server that ignores the key
        proxy.drop_query_param("max_id")               # a server that always sends page one
        proxy.refuse_unauthenticated(r"^/api/v1/accounts")  # 401 to reads without a token
        proxy.lack(r"^/api/v1/markers")                # 404: a server without markers
        proxy.refuse_long_statuses(500)                # Mastodon's length rule, not the mock's
        proxy.delay_after(r"^/api/v1/statuses$", 2.0, methods=("POST",), count=1)
        proxy.serve("/users/bob.rss", RSS, content_type="application/rss+xml")
        proxy.plan[2] = "lose"  # the 2nd POST /api/v1/statuses: see ``plan`` below
        proxy.before(fn)  # fn(req) -> Response | None: change req, or answer it
        proxy.after(fn)   # fn(req, resp) -> Response | None: change resp, or replace it
        proxy.requests    # [Request] as the client sent them (changed by ``before`` hooks)
        proxy.count(r"^/api/v1/statuses$", "POST")     # how many reached the proxy

Hooks run in the order they were added; a ``before`` hook returning a Response answers the
request without forwarding it (``DROP``: close the connection without a byte).

``plan[n]`` is for the n-th ``POST /api/v1/statuses`` (from 1, until ``reset()``):
``"lose"`` forwards it and loses the response (the server made the status, the client never
hears of it); ``"bad_gateway"`` forwards it and answers 502, as a gateway does when the
server behind it is slow; ``"hold"`` stops it before it reaches the server until
``release(n, forward)``; ``"hold_after"`` forwards it, then holds the response until
``release(n)``. ``events`` records ``("arrived", n)``, ``("created", n)`` (the server
answered) and ``("lost", n)``; ``wait_for(event, n)`` blocks until one is seen.
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
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

from tests.feedserver import serve as _serve

STATUSES = "/api/v1/statuses"
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


DROP = Response(0)  # close the client's connection without an answer

BeforeHook = Callable[[Request], "Response | None"]
AfterHook = Callable[[Request, Response], "Response | None"]


class Proxy:
    """A ThreadingHTTPServer on 127.0.0.1 forwarding to ``upstream`` (``http://host:port``)."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.requests: list[Request] = []
        self.plan: dict[int, str] = {}
        self.posts = 0  # POST /api/v1/statuses seen since reset()
        self.events: list[tuple[str, int]] = []
        self._before: list[BeforeHook] = []
        self._after: list[AfterHook] = []
        self._cond = threading.Condition()
        self._released: dict[int, bool] = {}
        self._stop: Callable[[], None] | None = None
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
                if resp.status == DROP.status:
                    self.close_connection = True
                    return
                try:
                    self.send_response(resp.status)
                    for k, v in resp.headers.items:
                        if k.lower() not in HOP_BY_HOP:
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(resp.body)))
                    self.end_headers()
                    if self.command != "HEAD" and resp.body:
                        self.wfile.write(resp.body)
                except OSError:
                    self.close_connection = True  # the client is gone (killed, timed out)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.base_url = f"http://{self.host}"

    # ----- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        self._stop = _serve(self.httpd)
        return self

    def stop(self) -> None:
        with self._cond:  # let every held request go, so no handler thread is left waiting
            for n in list(self.plan):
                self._released.setdefault(n, False)
            self._cond.notify_all()
        if self._stop is not None:
            self._stop()

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
        self.reset()

    def reset(self) -> None:
        """Forget the requests, counts, plans and events (between trials of one test)."""
        with self._cond:
            self.requests.clear()
            self.plan.clear()
            self.posts = 0
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

    def _exchange(self, req: Request) -> Response:
        n, action = 0, ""
        with self._cond:
            self.requests.append(req)  # the same object: ``before`` hooks change it in place
            if req.method == "POST" and req.route == STATUSES:
                self.posts += 1
                n, action = self.posts, self.plan.get(self.posts, "")
        if n:
            self._event("arrived", n)
        if action == "hold" and not self._wait_release(n):
            return DROP  # never reaches the server
        for hook in list(self._before):
            answer = hook(req)
            if answer is not None:
                return answer
        resp = self._forward(req)
        if n:
            self._event("created", n)
        for after in list(self._after):
            resp = after(req, resp) or resp
        if action == "lose":
            self._event("lost", n)
            return DROP  # the server made the status; the client never hears of it
        if action == "hold_after":
            self._wait_release(n)
        if action == "bad_gateway":
            return json_response(502, {"error": "Bad gateway"})
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
        """How many requests whose path (without the query) matches ``pattern`` reached the
        proxy, answered or forwarded."""
        rx = re.compile(pattern)
        with self._cond:
            return sum(1 for r in self.requests
                       if rx.search(r.route) and (method is None or r.method == method))

    def drop_request_header(self, name: str) -> None:
        """Strip a request header before it reaches the server (e.g. ``Idempotency-Key``)."""
        self.before(lambda req: req.headers.drop(name))

    def drop_query_param(self, name: str) -> None:
        """Strip a query parameter before the request reaches the server (e.g. ``max_id``: a
        server that always sends the first page)."""

        def hook(req: Request) -> None:
            parts = urlsplit(req.path)
            if parts.query:
                query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                         if k != name]
                req.path = parts.path + ("?" + urlencode(query) if query else "")

        self.before(hook)

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

    def lack(self, *patterns: str) -> None:
        """Answer 404 ``Record not found`` to paths matching any of ``patterns``, as a server
        without those endpoints does (no followed hashtags, markers or suggestions)."""
        for pattern in patterns:
            self.answer(pattern, 404, {"error": "Record not found"})

    def refuse_long_statuses(self, max_characters: int = 500) -> None:
        """Answer 422 to a status whose content warning and text are longer than
        ``max_characters`` as Mastodon counts them (``mastodon_length``): mastodon_mock
        counts every character, so a part pln cut for Mastodon would be refused."""

        def hook(req: Request) -> Response | None:
            if req.method != "POST" or req.route != STATUSES:
                return None
            form = {k: v[-1] for k, v in parse_qs(req.body.decode("utf-8")).items()}
            if mastodon_length(form.get("status", ""), form.get("spoiler_text", "")) \
                    <= max_characters:
                return None
            return json_response(422, {"error": "Validation failed: Text character limit of "
                                                f"{max_characters} exceeded"})

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


_URL = re.compile(r"https?://\S+")
_MENTION = re.compile(r"(?<![\w/])@(\w+)@[\w.-]+\w")


def mastodon_length(text: str, cw: str) -> int:
    """The length Mastodon counts for a status, near enough for a test server: CW + text, a
    URL as 23 (with what follows it up to a space), a mention as its local part."""
    countable = _MENTION.sub(lambda m: "@" + m.group(1), _URL.sub("x" * 23, text))
    return len(cw) + len(countable)


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
