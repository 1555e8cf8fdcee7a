"""The crash campaign of issue 12, kept: `pln sync` is killed (SIGKILL) at 30 points spread
over a large sync, and after each the store must open, every item must be either as it was
or as it came (never half of one, never doubled, nothing that was there lost), `show` and
`star` must work on every listed item, and the next sync must complete and bring the inbox
to exactly what the feeds carry.

The points: before each file rename of a cold sync (spread over all of them, and the first
rename onto commit.json, index.json and state.json) and of a sync that brings news and
edits; the moment each kind of temp file appears (found by watching the folders); and
moments spread over the sync's time. Real `pln` processes, a real feed server on loopback.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from tests.feedserver import FeedServer
from tests.procs import follow, pln, rss, start

FEEDS = 40
OLD = range(30)  # what the feeds carry at first
NEWS = range(30, 36)  # what the second sync brings (and post 0 of every feed is edited)
EDITED = 0


def _feed(i: int, items: range, edited: bool) -> str:
    body = rss(i, items, words=40)
    if edited:  # post 0's title and text change together
        body = body.replace(f"Feed {i} post 0<", f"Feed {i} post 0 (edited)<").replace(
            f"Body of feed {i} post 0 ", f"Body of feed {i} post 0 (edited) ")
    return body


class Campaign:
    """The feeds, two stores to start from (empty; after the first sync), and how many
    renames each sync makes."""

    def __init__(self, root: Path) -> None:
        self.srv = FeedServer().start()
        self.root = root
        self.urls = [self.srv.url(f"/f{i}.xml") for i in range(FEEDS)]
        self.serve(news=False)
        self.empty = root / "empty"
        follow(self.empty, self.urls, settings="workers = 4")
        self.renames = {"cold": self._count(self.empty)}
        self.synced = root / "synced"
        shutil.copytree(self.empty, self.synced)
        r = pln(self.synced, "sync")
        assert r.returncode == 0, r.stderr
        self.serve(news=True)
        self.renames["news"] = self._count(self.synced)
        t0 = time.monotonic()
        probe = root / "probe"
        shutil.copytree(self.empty, probe)
        self.serve(news=False)
        assert pln(probe, "sync").returncode == 0
        self.cold_seconds = time.monotonic() - t0

    def serve(self, *, news: bool) -> None:
        items = range(NEWS.stop) if news else OLD
        for i in range(FEEDS):
            self.srv.route(f"/f{i}.xml", body=_feed(i, items, news), etag=f'"{int(news)}"',
                           delay=0.1)  # (a sync of several batches)

    def _count(self, home: Path) -> list[str]:
        """The renames a sync from ``home`` makes (on a copy): 'replace NAME' each."""
        copy = self.root / f"count-{home.name}"
        shutil.copytree(home, copy)
        log = self.root / f"renames-{home.name}"
        proc = start(copy, "sync", crash_at="replace:0", PLN_CRASH_LOG=str(log))
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        return log.read_text().splitlines()

    def expected(self, *, news: bool) -> dict[str, set[str]]:
        """url -> the titles an item may have (as it was, or as it came)."""
        out: dict[str, set[str]] = {}
        for i in range(FEEDS):
            for n in (range(NEWS.stop) if news else OLD):
                titles = {f"Feed {i} post {n}"}
                if news and n == EDITED:
                    titles.add(f"Feed {i} post {n} (edited)")
                out[f"https://blog{i}.example/{n}"] = titles
        return out


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Campaign]:
    c = Campaign(tmp_path_factory.mktemp("campaign"))
    try:
        yield c
    finally:
        c.srv.stop()


def _points() -> list[Any]:
    points = [("cold", "rename", f) for f in (0.0, 0.09, 0.18, 0.27, 0.36, 0.45, 0.55, 0.64,
                                              0.73, 0.82, 0.91, 1.0)]
    points += [("cold", "rename-onto", name) for name in ("commit.json", "index.json", "state.json")]
    points += [("news", "rename", f) for f in (0.0, 0.25, 0.5, 0.75, 1.0)]
    points += [("cold", "temp", kind) for kind in (".items-", ".bodies-", ".search-", ".index.json",
                                                   ".state.json", "commit.json")]
    points += [("cold", "time", f) for f in (0.2, 0.5, 0.8)]
    points.append(("news", "temp", ".items-"))
    return [pytest.param(*p, id=f"{p[0]}-{p[1]}-{p[2]}".replace(".", "")) for p in points]


def test_the_campaign_has_enough_points() -> None:
    assert len(_points()) >= 20


@pytest.mark.parametrize(("sync", "how", "where"), _points())
def test_sigkill_during_a_sync(campaign: Campaign, pln_home: Path, sync: str, how: str,
                               where: Any) -> None:
    news = sync == "news"
    shutil.copytree(campaign.synced if news else campaign.empty, pln_home)
    campaign.serve(news=news)
    cli = Cli()
    before = json.loads(cli("inbox", "--all", "--json").stdout) if news else []

    if how in ("rename", "rename-onto"):
        renames = campaign.renames[sync]
        if how == "rename":
            k = 1 + round(where * (len(renames) - 1))
        else:
            k = 1 + next(n for n, r in enumerate(renames) if r == f"replace {where}")
        proc = start(pln_home, "sync", crash_at=f"replace:{k}")
        proc.communicate(timeout=120)
        assert proc.returncode == -signal.SIGKILL, f"rename {k} of {len(renames)} not reached"
    else:
        proc = start(pln_home, "sync")
        if how == "temp":
            assert _kill_when_seen(proc, pln_home, where), f"no {where} file was seen"
        else:
            time.sleep(where * campaign.cold_seconds)
            proc.kill()
        proc.communicate(timeout=60)

    # the store opens; every item is as it was or as it came; nothing doubled or lost
    listed = json.loads(cli("inbox", "--all", "--json").stdout)
    expected = campaign.expected(news=news)
    assert len({i["id"] for i in listed}) == len(listed) == len({i["url"] for i in listed})
    for item in listed:
        assert item["title"] in expected[item["url"]], item
    assert {i["id"] for i in before} <= {i["id"] for i in listed}
    # every listed item can be shown and starred (by id: through the index)
    ids = [i["id"] for i in listed]
    if ids:
        cli("star", *ids)
        assert len(json.loads(cli("inbox", "--starred", "--json").stdout)) == len(ids)
        for item in listed:
            if item["url"].endswith(f"/{EDITED}") or item is listed[-1]:
                shown = json.loads(cli("show", "--no-mark", "--json", item["id"]).stdout)
                assert ("(edited)" in shown["title"]) == ("(edited)" in shown["text"]), shown
    # the next sync completes and the inbox is exactly what the feeds carry
    cli("sync")
    after = json.loads(cli("inbox", "--all", "--json").stdout)
    assert sorted(i["url"] for i in after) == sorted(expected)
    assert {i["id"] for i in after if i["starred"]} == set(ids)
    assert all(i["title"] == max(expected[i["url"]], key=len) for i in after)
    assert not list(pln_home.glob("**/.*.tmp")) and not (pln_home / "commit.json").exists()


def _kill_when_seen(proc: Any, home: Path, prefix: str) -> bool:
    """SIGKILL ``proc`` as soon as a file whose name starts with ``prefix`` appears in the
    home or its inbox (a temp file being written, or commit.json during the renames)."""
    inbox = home / "inbox"
    while proc.poll() is None:
        for d in (inbox, home):
            try:
                names = os.listdir(d)
            except FileNotFoundError:
                continue
            if any(n.startswith(prefix) for n in names):
                proc.send_signal(signal.SIGKILL)
                return True
    return False
