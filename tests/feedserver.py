"""A real HTTP server on 127.0.0.1 for feed tests: routes with ETag/Last-Modified,
redirects, error statuses, Retry-After, slow, huge and endless bodies, gzip, charsets.

    srv.route("/feed.xml", body=RSS, etag='"v1"')
    srv.route("/old", status=301, headers={"Location": "/feed.xml"})
    srv.route("/slow", body=RSS, delay=5)
    srv.route("/huge", endless=True)
    srv.route("/drip", body=RSS, drip=0.5)       # a byte every 0.5 s
    srv.route("/reset", body=RSS, reset_after=100)
    srv.requests  # [(method, path, headers)] as the server saw them
    srv.peak_requests["127.0.0.1:PORT"]      # most requests in flight at once, per Host
    srv.peak_connections["localhost:PORT"]   # most connections open at once, per Host
"""

from __future__ import annotations

import gzip as gzipmod
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def serve(httpd: socketserver.BaseServer) -> Callable[[], None]:
    """Serve ``httpd`` in a daemon thread; returns the function that stops it at once.

    ``serve_forever`` looks for a shutdown request every 0.5 s and ``shutdown()`` waits for
    that look: 72 test teardowns waited up to half a second each (issue 19). Here the loop
    blocks until a connection arrives, and stopping wakes it with a connection of its own
    (which the handler reads as an empty request and closes).
    """
    stopping = threading.Event()

    def loop() -> None:
        while not stopping.is_set():
            httpd.handle_request()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        try:
            socket.create_connection(httpd.server_address[:2], timeout=5).close()
        except OSError:
            pass  # nothing listens any more: the loop is gone already
        thread.join(timeout=5)
        httpd.server_close()

    return stop


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    gzip: bool = False
    endless: bool = False
    drip: float = 0.0  # seconds between single bytes of the body (headers sent at once)
    slow_headers: float = 0.0  # seconds between single bytes of the status line and headers
    reset_after: int | None = None  # send this many body bytes, then reset the connection


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.client_ports: list[int] = []  # each request's client port: kept-alive or not
        self._lock = threading.Lock()
        # concurrency as the server sees it, per Host header (a client's per-host limits:
        # "127.0.0.1:PORT" and "localhost:PORT" are two hosts on this one server)
        self.in_flight: dict[str, int] = {}
        self.peak_requests: dict[str, int] = {}
        self.open_connections: dict[str, int] = {}
        self.peak_connections: dict[str, int] = {}
        self.peak_total = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            conn_host: str | None = None

            def handle(self) -> None:  # one connection, its requests one after another
                try:
                    super().handle()
                finally:
                    if self.conn_host is not None:
                        server._count(server.open_connections, None, self.conn_host, -1)

            def do_HEAD(self) -> None:
                self._counted(head=True)

            def do_GET(self) -> None:
                self._counted(head=False)

            def _counted(self, head: bool) -> None:
                host = self.headers.get("Host", "")
                if self.conn_host is None:
                    self.conn_host = host
                    server._count(server.open_connections, server.peak_connections, host, 1)
                server._count(server.in_flight, server.peak_requests, host, 1)
                try:
                    self._serve(head)
                finally:
                    server._count(server.in_flight, None, host, -1)

            def _serve(self, head: bool) -> None:
                with server._lock:
                    server.requests.append((self.command, self.path, dict(self.headers)))
                    server.client_ports.append(self.client_address[1])
                    route = server.routes.get(self.path) or server.routes.get(self.path.split("?")[0])
                if route is None:
                    self._send(404, b"not found", {"Content-Type": "text/plain"}, head)
                    return
                if route.delay:
                    time.sleep(route.delay)
                if route.status == 200 and route.etag and self.headers.get("If-None-Match") == route.etag:
                    self._send(304, b"", {"ETag": route.etag}, head)
                    return
                if (
                    route.status == 200
                    and route.last_modified
                    and not route.etag
                    and self.headers.get("If-Modified-Since") == route.last_modified
                ):
                    self._send(304, b"", {"Last-Modified": route.last_modified}, head)
                    return
                headers = {"Content-Type": route.content_type, **route.headers}
                if route.etag:
                    headers["ETag"] = route.etag
                if route.last_modified:
                    headers["Last-Modified"] = route.last_modified
                if route.endless:
                    self.send_response(route.status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    chunk = b"<rss>" + b"x" * 65536
                    try:
                        for _ in range(10_000):  # bounded: 640 MB at most, the client stops first
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    self.close_connection = True
                    return
                if route.slow_headers or route.drip or route.reset_after is not None:
                    self._trickle(route, headers, head)
                    return
                body = route.body
                if route.gzip and "gzip" in self.headers.get("Accept-Encoding", ""):
                    body = gzipmod.compress(body)
                    headers["Content-Encoding"] = "gzip"
                self._send(route.status, body, headers, head)

            def _trickle(self, route: Route, headers: dict[str, str], head: bool) -> None:
                """Slow or broken on purpose: headers a byte at a time, a body a byte at a
                time, or a connection reset part-way through the body."""
                import socket
                import struct

                lines = [f"HTTP/1.1 {route.status} X"] + [f"{k}: {v}" for k, v in headers.items()]
                lines.append(f"Content-Length: {len(route.body)}")
                head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
                try:
                    if route.slow_headers:
                        for i in range(len(head_bytes)):
                            self.wfile.write(head_bytes[i:i + 1])
                            self.wfile.flush()
                            time.sleep(route.slow_headers)
                    else:
                        self.wfile.write(head_bytes)
                    if head:
                        return
                    body = route.body
                    if route.reset_after is not None:
                        self.wfile.write(body[:route.reset_after])
                        self.wfile.flush()
                        time.sleep(0.05)
                        # SO_LINGER 0: close() sends RST instead of FIN
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                                   struct.pack("ii", 1, 0))
                        self.connection.close()
                        self.close_connection = True
                        return
                    for i in range(len(body)):
                        self.wfile.write(body[i:i + 1])
                        self.wfile.flush()
                        time.sleep(route.drip)
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass
                self.close_connection = True

            def _send(self, status: int, body: bytes, headers: dict[str, str], head: bool) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head and body:
                    try:
                        self.wfile.write(body)
                    except (BrokenPipeError, ConnectionResetError):
                        pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._stop: Callable[[], None] | None = None

    def _count(self, now: dict[str, int], peak: dict[str, int] | None, host: str, step: int) -> None:
        with self._lock:
            now[host] = now.get(host, 0) + step
            if peak is not None:
                peak[host] = max(peak.get(host, 0), now[host])
                if now is self.in_flight:
                    self.peak_total = max(self.peak_total, sum(self.in_flight.values()))

    def start(self) -> FeedServer:
        self._stop = serve(self.httpd)
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None

    def route(self, path: str, **kwargs: Any) -> str:
        """Serve ``path``; returns its full URL."""
        host = kwargs.pop("host", "127.0.0.1")
        body = kwargs.pop("body", b"")
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.routes[path] = Route(body=body, **kwargs)
        return self.url(path, host)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        """The full URL of ``path`` (``host="localhost"``: the same server under another
        name, a second host for a client's per-host limits)."""
        return f"http://{host}:{self.port}{path}"

    def hits(self, path: str) -> int:
        return sum(1 for _, p, _ in self.requests if p == path)
