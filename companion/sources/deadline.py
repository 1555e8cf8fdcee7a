"""A total deadline per HTTP request, enforced by closing its socket (issue 12).

A read timeout bounds each wait for bytes, not a whole response: a server that sends a byte
every half second, or its headers a line at a time, never trips it (a campaign kept
`pln sync` for 305 s with `timeout = 5`). urllib3's ``Timeout(total=…)`` is set on the
socket once, before the response is read, so it does not help either. Here one watchdog
thread keeps the deadline of every request in flight; when one passes, it shuts the
request's socket down, the blocked read returns at once, and the request reports that it
ran out of time. The connection classes below tell the watchdog which socket a request is
using; ``urllib3.PoolManager.pool_classes_by_scheme`` puts them in place.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection

_TLS = threading.local()  # the request (``Deadline``) the current thread is making


class Deadline:
    """One request's deadline: which connection it uses, and whether time ran out."""

    __slots__ = ("at", "conn", "done", "expired")

    def __init__(self, at: float) -> None:
        self.at = at
        self.conn: Any = None
        self.expired = False
        self.done = False

    def expire(self) -> None:
        """Out of time: cut the connection so that a blocked read or write returns now."""
        self.expired = True
        sock = getattr(self.conn, "sock", None)
        if sock is None:
            return
        try:
            # the plain socket's shutdown, also for TLS: SSLSocket.shutdown would drop its
            # SSL object under the feet of the thread reading from it
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except (OSError, TypeError):
            pass


class _Watchdog:
    """One daemon thread that expires deadlines when they pass (no thread per request)."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, d: Deadline) -> None:
        with self._cv:
            heapq.heappush(self._heap, (d.at, next(self._seq), d))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="pln-deadlines",
                                                daemon=True)
                self._thread.start()
            self._cv.notify()

    def _run(self) -> None:
        while True:
            due: list[Deadline] = []
            with self._cv:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cv.wait(30)
                    if not self._heap:
                        self._thread = None
                        return
                    continue
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    d = heapq.heappop(self._heap)[2]
                    if not d.done:
                        due.append(d)
                if not due:
                    self._cv.wait(self._heap[0][0] - now)
            for d in due:
                d.expire()


_WATCHDOG = _Watchdog()


@contextmanager
def request_deadline(seconds: float) -> Iterator[Deadline]:
    """Every HTTP request this thread makes inside the block ends within ``seconds``;
    afterwards ``.expired`` says whether it was cut off."""
    d = Deadline(time.monotonic() + seconds)
    previous = getattr(_TLS, "deadline", None)
    _TLS.deadline = d
    _WATCHDOG.watch(d)
    try:
        yield d
    finally:
        d.done = True
        _TLS.deadline = previous


def _attach(conn: Any) -> None:
    d: Deadline | None = getattr(_TLS, "deadline", None)
    if d is not None:
        d.conn = conn
        if d.expired:  # ran out while waiting for a connection
            raise urllib3.exceptions.ReadTimeoutError(None, "", "deadline passed")  # type: ignore[arg-type]


class _DeadlineHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        _attach(self)
        super().connect()
        _attach(self)  # a deadline that passed during connect() found no socket to cut

    def request(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        _attach(self)
        super().request(*args, **kwargs)


class _DeadlineHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        _attach(self)
        super().connect()
        _attach(self)

    def request(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        _attach(self)
        super().request(*args, **kwargs)


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


def install(pm: Any) -> Any:
    """Make a PoolManager's connections obey ``request_deadline``; returns it."""
    pm.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
    return pm
