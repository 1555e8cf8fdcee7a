"""A bounded soak of `pln sync` (issue 12): repeated syncs of loopback feeds that gain new
items while random faults hit the requests, then one clean sync; prints, round by round,
items expected vs stored, requests, faults and peak memory, and ends with what was lost
and what was doubled (both must be 0).

    python bench/soak.py                      # 1 minute, 30 feeds
    python bench/soak.py --minutes 10 --feeds 100 --fault-rate 0.3 --seed 7

Faults, drawn per request: 500, 503 and 429 with a one-second Retry-After, a reset
connection part-way through the body, a body cut off part-way (the server closes), an HTML
page instead of the feed, a slow response (headers after 1.5 s, over the 1 s read timeout),
and a body dripped a byte every 0.3 s (cut off by the 5 s deadline). Every feed keeps all
its items, so after the final clean sync every item ever published must be in the inbox,
once. Loopback only; each sync is a fresh `pln` process with PLN_HOME in a temp folder.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import struct
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from _measure import PLN, Run, run

FAULTS = ("500", "503", "429", "reset", "cut", "html", "slow", "drip")


class Farm:
    """Feeds that grow, served with random faults; counts requests and faults."""

    def __init__(self, feeds: int, fault_rate: float, rng: random.Random) -> None:
        self.items: list[list[int]] = [[0, 1] for _ in range(feeds)]  # item numbers per feed
        self.fault_rate = fault_rate
        self.rng = rng
        self.lock = threading.Lock()
        self.requests = 0
        self.faults: dict[str, int] = dict.fromkeys(FAULTS, 0)
        self.faulty = True
        self.base = datetime.now(UTC) - timedelta(days=1)
        farm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                farm.serve(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, i: int) -> str:
        return f"http://127.0.0.1:{self.port}/feed/{i}.xml"

    def publish(self, share: float) -> int:
        """New items on a share of the feeds; returns how many."""
        n = 0
        with self.lock:
            for items in self.items:
                if self.rng.random() < share:
                    for _ in range(self.rng.randint(1, 3)):
                        items.append(items[-1] + 1)
                        n += 1
        return n

    def expected(self) -> int:
        with self.lock:
            return sum(len(items) for items in self.items)

    def body(self, i: int) -> bytes:
        with self.lock:
            items = list(self.items[i])
        entries = "".join(
            f"<item><title>Feed {i} item {k}</title><link>https://f{i}.example/{k}</link>"
            f"<guid>https://f{i}.example/{k}</guid>"
            f"<pubDate>{format_datetime(self.base + timedelta(minutes=k), usegmt=True)}</pubDate>"
            f"<description>Item {k} of feed {i}: {'words ' * 30}</description></item>"
            for k in reversed(items))
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>Feed {i}</title><link>https://f{i}.example/</link>{entries}"
                "</channel></rss>").encode()

    def serve(self, h: BaseHTTPRequestHandler) -> None:
        try:
            i = int(h.path.rsplit("/", 1)[1].split(".")[0])
        except ValueError:
            h.send_error(404)
            return
        with self.lock:
            self.requests += 1
            fault = (self.rng.choice(FAULTS)
                     if self.faulty and self.rng.random() < self.fault_rate else None)
            if fault:
                self.faults[fault] += 1
        body = self.body(i)
        w = h.wfile
        try:
            if fault in ("500", "503", "429"):
                h.send_response(int(fault))
                h.send_header("Retry-After", "1")
                h.send_header("Content-Length", "4")
                h.end_headers()
                w.write(b"oops")
                return
            if fault == "html":
                page = b"<!doctype html><html><body>maintenance</body></html>"
                h.send_response(200)
                h.send_header("Content-Type", "text/html")
                h.send_header("Content-Length", str(len(page)))
                h.end_headers()
                w.write(page)
                return
            if fault == "slow":
                time.sleep(1.5)
            h.send_response(200)
            h.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            if fault == "cut":  # no length: the server closes part-way, as a dying server does
                h.send_header("Connection", "close")
                h.end_headers()
                w.write(body[: self.rng.randint(50, len(body) - 1)])
                h.close_connection = True
                return
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            if fault == "reset":
                w.write(body[: self.rng.randint(0, len(body) - 1)])
                w.flush()
                h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        struct.pack("ii", 1, 0))
                h.connection.close()
                h.close_connection = True
                return
            if fault == "drip":
                for b in range(min(len(body), 40)):
                    w.write(body[b:b + 1])
                    w.flush()
                    time.sleep(0.3)
                h.close_connection = True
                return
            w.write(body)
        except (BrokenPipeError, ConnectionResetError, OSError):
            h.close_connection = True


def run_pln(home: Path, *args: str) -> Run:
    """A `pln` process on ``home``: its output, wall seconds and peak RSS (with its workers)."""
    return run([*PLN, *args], {**os.environ, "PLN_HOME": str(home), "NO_COLOR": "1"}, cwd=REPO)


def stored(home: Path) -> tuple[int, int]:
    """(items in the inbox, distinct item URLs)."""
    r = run_pln(home, "inbox", "--all", "--json", "--limit", "10000000")
    items = json.loads(r.stdout)
    return len(items), len({i["url"] for i in items})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=1.0, help="how long (at most 10)")
    ap.add_argument("--feeds", type=int, default=30)
    ap.add_argument("--fault-rate", type=float, default=0.25, help="share of requests hit")
    ap.add_argument("--share", type=float, default=0.3, help="share of feeds with news per round")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    minutes = min(max(args.minutes, 0.1), 10.0)
    rng = random.Random(args.seed)
    farm = Farm(args.feeds, args.fault_rate, rng)
    with tempfile.TemporaryDirectory(prefix="pln-soak-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        (home / "config.toml").write_text(
            "[settings]\ntimeout = 1\nworkers = 8\n"
            + "".join(f'\n[[sources]]\nurl = "{farm.url(i)}"\n' for i in range(args.feeds)))
        print(f"soak: {args.feeds} feeds, {args.fault_rate:.0%} of requests faulty, "
              f"up to {minutes:g} min, seed {args.seed}")
        print(f"{'round':>5} {'t':>6} {'sync':>6} {'exit':>4} {'ok':>4} {'err':>4} {'skip':>4} "
              f"{'requests':>8} {'faults':>6} {'expected':>8} {'stored':>7} {'peak MB':>7}")
        end = time.monotonic() + minutes * 60
        start = time.monotonic()
        rounds = 0
        codes: set[int] = set()
        while time.monotonic() < end:
            rounds += 1
            farm.publish(args.share)
            r = run_pln(home, "sync", "--json")
            wall, peak = r.wall, r.rss_mb
            codes.add(r.code)
            res = json.loads(r.stdout) if r.stdout.strip() else []
            count = {s: sum(1 for x in res if x["status"] == s) for s in ("ok", "error", "skipped")}
            count["ok"] += sum(1 for x in res if x["status"] == "not_modified")
            have, _ = stored(home)
            print(f"{rounds:>5} {time.monotonic() - start:>5.0f}s {wall:>5.1f}s {r.code:>4} "
                  f"{count['ok']:>4} {count['error']:>4} {count['skipped']:>4} "
                  f"{farm.requests:>8} {sum(farm.faults.values()):>6} {farm.expected():>8} "
                  f"{have:>7} {peak:>7.0f}", flush=True)
            if "Traceback" in r.stderr or "internal error" in r.stderr + r.stdout:
                print(r.stderr)
                sys.exit("soak: pln failed with an internal error")
        farm.faulty = False
        time.sleep(1.5)  # let every Retry-After pass
        r = run_pln(home, "sync", "--json")
        wall, peak = r.wall, r.rss_mb
        have, distinct = stored(home)
        expected = farm.expected()
        print(f"final clean sync: exit {r.code}, {wall:.1f}s")
        print("faults injected: " + ", ".join(f"{k} {v}" for k, v in farm.faults.items()))
        print(f"rounds {rounds}, requests {farm.requests}, exit codes {sorted(codes)}, "
              f"peak RSS {peak:.0f} MB")
        print(f"items expected {expected}, stored {have}, lost {expected - distinct}, "
              f"doubled {have - distinct}")
        farm.httpd.shutdown()
        if expected != distinct or have != distinct:
            sys.exit(1)


if __name__ == "__main__":
    main()
