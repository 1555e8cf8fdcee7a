#!/usr/bin/env python3
"""../shared/bench/feedfarm.py, counting what each of its hosts sees at once.

    python bench/farm_counting.py PATH/TO/feedfarm.py [feedfarm options]

Runs feedfarm unchanged, with two counters per listening address (one per host with
``--hosts N``): feed requests in flight, and connections open. ``GET /concurrency`` returns
the peaks since the last ``GET /concurrency?reset=1`` as JSON: {"requests": {host: peak},
"connections": {host: peak}, "total": peak of all requests}. bench/sync_feeds.py reads it
after each pln run: a per-host limit must hold on the server's side, not only in pln's own
bookkeeping (issue 14).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from typing import Any


class Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: dict[str, dict[str, int]] = {"requests": {}, "connections": {}}
        self.peak: dict[str, dict[str, int]] = {"requests": {}, "connections": {}}
        self.total = self.peak_total = 0

    def step(self, kind: str, host: str, n: int) -> None:
        with self.lock:
            now = self.now[kind]
            now[host] = now.get(host, 0) + n
            peak = self.peak[kind]
            peak[host] = max(peak.get(host, 0), now[host])
            if kind == "requests":
                self.total += n
                self.peak_total = max(self.peak_total, self.total)

    def report(self, reset: bool) -> dict[str, Any]:
        with self.lock:
            out = {**{k: dict(v) for k, v in self.peak.items()}, "total": self.peak_total}
            if reset:
                self.peak = {k: {h: n for h, n in v.items() if n} for k, v in self.now.items()}
                self.peak_total = self.total
            return out


def main() -> int:
    path, args = sys.argv[1], sys.argv[2:]
    spec = importlib.util.spec_from_file_location("feedfarm", path)
    assert spec and spec.loader
    farm = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(farm)
    counts = Counter()
    handler = farm.Handler

    def host_of(h: Any) -> str:
        return str(h.server.server_address[0])

    real_handle, real_feed, real_get = handler.handle, handler._feed, handler.do_GET

    def handle(self: Any) -> None:  # one connection
        counts.step("connections", host_of(self), 1)
        try:
            real_handle(self)
        finally:
            counts.step("connections", host_of(self), -1)

    def feed(self: Any, idx: str) -> None:  # one feed request (latency included)
        counts.step("requests", host_of(self), 1)
        try:
            real_feed(self, idx)
        finally:
            counts.step("requests", host_of(self), -1)

    def do_get(self: Any) -> None:
        if self.path.startswith("/concurrency"):
            body = json.dumps(counts.report("reset=1" in self.path)).encode()
            self._send(200, body, {"Content-Type": "application/json"})
            return
        real_get(self)

    handler.handle, handler._feed, handler.do_GET = handle, feed, do_get
    return int(farm.main(args))


if __name__ == "__main__":
    sys.exit(main())
