"""Several pln at once (issues 12 and 13): reading and triage while a sync runs, and every
read-modify-write of config.toml, credentials.json and the journal made under the lock
from a fresh read — so nothing one process wrote is lost by another. Real processes, real
loopback servers."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.feedserver import FeedServer
from tests.procs import follow, items_json, pln, rss, start


def test_star_and_read_while_a_slow_sync_runs(feed_server: FeedServer, pln_home: Path) -> None:
    """A sync of 100 slow feeds holds the lock only while it writes a batch: `star`, `read`
    and `show` go in between (issue 13: they waited 10 s and failed), and neither side loses
    anything — the flags set meanwhile (also on items the sync itself just wrote, in the
    weeks it is still writing) and every synced item survive."""
    n_feeds, old = 100, range(3)
    urls = [feed_server.route(f"/f{i}.xml", body=rss(i, old), etag='"a"') for i in range(n_feeds)]
    follow(pln_home, urls, settings="workers = 3")
    assert pln(pln_home, "sync").returncode == 0
    before = [i["id"] for i in items_json(pln_home)]
    assert len(before) == 300
    for i in range(n_feeds):  # news on every feed, from servers 0.25 s away: a sync of ~8 s
        feed_server.route(f"/f{i}.xml", body=rss(i, range(6)), etag='"b"', delay=0.25)
    sync = start(pln_home, "sync", PLN_LOCK_TIMEOUT="2")
    starred: set[str] = set()
    read: set[str] = set()
    during = 0
    try:
        for k in range(5):
            stars, reads = before[k * 20:k * 20 + 10], before[k * 20 + 10:k * 20 + 20]
            r = pln(pln_home, "star", *stars, PLN_LOCK_TIMEOUT="2")
            assert r.returncode == 0, r.stderr
            r = pln(pln_home, "read", *reads, PLN_LOCK_TIMEOUT="2")
            assert r.returncode == 0, r.stderr
            starred.update(stars)
            read.update(reads)
            assert pln(pln_home, "show", before[200 + k], PLN_LOCK_TIMEOUT="2").returncode == 0
            read.add(before[200 + k])
            # an item this sync has just written (its week is written again by later batches)
            fresh = [i["id"] for i in items_json(pln_home) if i["id"] not in before]
            if fresh:
                assert pln(pln_home, "star", fresh[0], PLN_LOCK_TIMEOUT="2").returncode == 0
                starred.add(fresh[0])
            during += sync.poll() is None
        _, err = sync.communicate(timeout=120)
    finally:
        if sync.poll() is None:
            sync.kill()
            sync.wait()
    assert sync.returncode == 0, err
    assert during >= 3, "the sync ended before the triage was done: make it slower"
    assert any(i not in before for i in starred), "no item written by the sync was starred"
    items = {i["id"]: i for i in items_json(pln_home)}
    assert len(items) == 600  # every synced item
    assert {i for i, x in items.items() if x["starred"]} == starred
    assert {i for i, x in items.items() if x["read"]} == read


def test_a_source_added_while_a_sync_moves_a_feed_is_kept(feed_server: FeedServer,
                                                          pln_home: Path) -> None:
    """A feed answers 301 while `pln source add` runs: the sync's update of the feed's URL
    and the new source both end up in config.toml (issue 12: the sync wrote back the copy
    it read before, and the added source was gone although pln said "added")."""
    moved = feed_server.route("/moved.xml", body=rss(1, range(2)))
    old = feed_server.route("/old.xml", status=301, headers={"Location": moved}, delay=2.5)
    follow(pln_home, [old])
    slow = feed_server.route("/slow.xml", body=rss(2, range(2)), delay=1.5)  # checked when added
    add = start(pln_home, "source", "add", slow, PLN_LOCK_TIMEOUT="20")
    time.sleep(0.5)  # the add is checking the feed; the sync reads config.toml now
    sync = start(pln_home, "sync", PLN_LOCK_TIMEOUT="20")
    a_out, a_err = add.communicate(timeout=60)
    s_out, s_err = sync.communicate(timeout=60)
    assert add.returncode == 0 and "added" in a_out, a_err
    assert sync.returncode == 0, s_err
    assert f"moved permanently to {moved}" in s_out + s_err
    config = (pln_home / "config.toml").read_text()
    assert moved in config and slow in config and old not in config
    listed = json.loads(pln(pln_home, "source", "list", "--json").stdout)
    assert sorted(s["spec"] for s in listed) == sorted([moved, slow])


def test_three_logins_at_once_keep_three_accounts(mastodon: Any, pln_home: Path) -> None:
    """Issue 12: three `pln login` at once all said "logged in" and one account was kept."""
    pln_home.mkdir(parents=True)
    mastodon.fault(path="/api/v1/accounts/verify_credentials", type="latency", delay_ms=700,
                   count=3)
    procs = [start(pln_home, "login", mastodon.base_url, "--token", f"{who}_token")
             for who in ("alice", "bob", "carol")]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0 and "logged in" in out, err
    names = sorted(a["name"] for a in json.loads(pln(pln_home, "accounts", "--json").stdout))
    assert names == ["alice", "bob", "carol"]
    data = json.loads((pln_home / "credentials.json").read_text())
    assert sorted(data["accounts"]) == names and (pln_home / "credentials.json").stat().st_mode & 0o077 == 0


def test_a_post_does_not_undo_another_posts_journal_entry(mastodon: Any, pln_home: Path) -> None:
    """Two `pln post` at once: the second read the journal before the first one had finished
    sending, and wrote back that copy — the first reflection went back to "pending", as if it
    had never been posted (a retry would have posted it twice). The journal is written from a
    fresh read under its lock."""
    pln_home.mkdir(parents=True)
    assert pln(pln_home, "login", mastodon.base_url, "--token", "alice_token").returncode == 0
    mastodon.fault(path="/api/v1/statuses", methods=["POST"], type="latency", delay_ms=1500,
                   count=1)
    first = start(pln_home, "post", "The first reflection.")
    journal = pln_home / "journal.json"
    deadline = time.monotonic() + 30
    while not journal.exists() and time.monotonic() < deadline:
        time.sleep(0.02)  # saved in the journal: now it is sending (1.5 s)
    second = start(pln_home, "post", "The second reflection.")
    for p in (first, second):
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    entries = json.loads(pln(pln_home, "journal", "--json").stdout)
    assert sorted(e["body"] for e in entries) == ["The first reflection.", "The second reflection."]
    assert [e["state"] for e in entries] == ["sent", "sent"]
    assert json.loads(pln(pln_home, "drafts", "--json").stdout) == []
