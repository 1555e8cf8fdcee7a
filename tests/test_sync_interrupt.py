"""Ctrl-C during `pln sync` (issue 13): it stops at once, keeps what it stored, says so in
one line and exits 130 — through a real `pln sync` process and a real feed server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.feedserver import FeedServer
from tests.procs import REPO, env_for, follow, items_json, pln, rss

FEEDS = 60
ITEMS = 20


def _children(pid: int) -> list[int]:
    out = []
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid) and fields[0] != "Z":
            out.append(int(p))
    return out


class _Terminal:
    """A pseudo-terminal for pln's stdout and stderr, read until pln closes it."""

    def __init__(self) -> None:
        import pty
        import threading

        self.master, self.slave = pty.openpty()
        self.data = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)

    def started(self) -> None:
        os.close(self.slave)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the other side is closed
                break
            if not chunk:
                break
            self.data += chunk

    def text(self) -> str:
        """What pln wrote, escape sequences and carriage returns taken out."""
        import re

        self._reader.join(5)
        os.close(self.master)
        text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "\n", self.data.decode("utf-8", "replace"))
        return "\n".join(line for line in text.splitlines() if line.strip()
                         and not line.lstrip().startswith("syncing"))


def _stored_sources(home: Path) -> int:
    try:
        data = json.loads((home / "state.json").read_bytes())
    except (OSError, ValueError):
        return 0
    return sum(1 for s in data.get("sources", {}).values() if "source" in s)


@pytest.mark.parametrize("terminal", [False, True], ids=["pipes", "terminal"])
def test_ctrl_c_stops_the_sync_keeps_what_it_stored_and_says_so(feed_server: FeedServer,
                                                                pln_home: Path, terminal: bool) -> None:
    """In a terminal (a progress bar, workers started before it) and with pipes."""
    # big bodies (parsed in worker processes), slow servers: a sync of about 6 s
    urls = [feed_server.route(f"/f{i}.xml", body=rss(i, range(ITEMS), words=150), delay=0.4,
                              etag=f'"{i}"') for i in range(FEEDS)]
    follow(pln_home, urls, settings="workers = 4")
    # Ctrl-C in a terminal signals the whole foreground process group: pln and its workers
    tty = _Terminal() if terminal else None
    proc = subprocess.Popen([sys.executable, "-m", "companion", "sync"], env=env_for(pln_home),
                            stdout=tty.slave if tty else subprocess.PIPE,
                            stderr=tty.slave if tty else subprocess.PIPE,
                            text=True, cwd=REPO, start_new_session=True)
    if tty:
        tty.started()
    try:
        deadline = time.monotonic() + 30
        while len(feed_server.requests) < 16 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.6)  # (some fetched feeds are parsed and written by now)
        workers = _children(proc.pid)
        assert len(workers) >= 2, "the sync did not start its parse workers"
        assert proc.poll() is None, "the sync ended before it could be interrupted"
        requests_then = len(feed_server.requests)
        t0 = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        stopped_in = time.monotonic() - t0
        if tty:  # (one stream; the progress bar erases itself)
            out, err = "", tty.text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("interrupted: ") and lines[0].endswith(
        f" of {FEEDS} sources synced; nothing lost"), err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err and "leaked" not in err
    assert out == ""
    # it stopped at once: no fetch started after Ctrl-C (those under way were dropped), the
    # other ~40 sources were never asked for (at 4 at a time and 0.4 s each, 4 s of work)
    assert stopped_in < 2.0, f"took {stopped_in:.2f} s to stop"
    assert len(feed_server.requests) <= requests_then + 4
    deadline = time.monotonic() + 5
    while [w for w in workers if Path(f"/proc/{w}").exists()] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [w for w in workers if Path(f"/proc/{w}/stat").exists()
                and Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"]
    # what it says it synced is in the inbox, whole; the next sync does the rest
    synced = int(lines[0].split()[1])
    assert 1 <= synced < FEEDS
    assert len(items_json(pln_home)) == synced * ITEMS
    assert _stored_sources(pln_home) == synced
    r = pln(pln_home, "sync", "--json")
    assert r.returncode == 0, r.stderr
    assert sorted(x["status"] for x in json.loads(r.stdout)).count("not_modified") == synced
    assert len(items_json(pln_home)) == FEEDS * ITEMS
