"""Scale without growing (issue 14), asserted structurally — never timed: what a small sync
writes into a big store, which segments a listing opens, how many requests a server sees
at once, and whether a sync that needs no parsing starts parse workers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from companion.decide import merge
from companion.models import Author, ItemData
from companion.store import TinyDBStore
from companion.store import files as store_files
from companion.store.segments import SEGMENT_ITEMS
from tests.feedserver import FeedServer
from tests.procs import REPO, follow, items_json, pln, rss

WEEK = datetime(2026, 11, 2, tzinfo=UTC)  # Monday of 2026-W45: tests/procs.rss days 2-8


def _item(i: int, published: datetime) -> ItemData:
    return ItemData(key=f"https://big.example/{i}", kind="feed", url=f"https://big.example/{i}",
                    title=f"Big {i}", author=Author("Big"), published=published,
                    html="<p>" + f"word{i} " * 150 + "</p>")


def _fill(home: Path, batches: list[list[datetime]], n: int = 0, sources: int = 1) -> int:
    """Items published at these times, each list written as one commit (one sync) in
    ``sources`` puts (as a sync stores source after source); their numbers start at ``n``;
    returns the next."""
    now = WEEK + timedelta(days=9)
    for times in batches:
        store = TinyDBStore(home)
        store.lock("test")
        recs = [merge(None, _item(n + k, t), "big", now) for k, t in enumerate(times)]
        for s in range(sources):
            store.put_many(recs[s::sources])  # type: ignore[arg-type]
        store.close()
        n += len(times)
    return n


def _snapshot(home: Path) -> dict[str, tuple[int, int, int]]:
    out = {}
    for p in [*home.glob("*.json"), *(home / "inbox").glob("*.json")]:
        st = p.stat()
        out[p.name] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return out


def _written(before: dict[str, Any], after: dict[str, Any]) -> tuple[int, list[str]]:
    """Bytes of the files created or replaced between two snapshots, and their names."""
    names = [k for k, v in after.items() if before.get(k) != v]
    return sum(after[k][1] for k in names), names


# ----- 1. a small sync into a big store writes what it adds, not the week -----------------------


def test_a_small_sync_into_a_big_week_writes_what_it_adds_not_the_week(
        feed_server: FeedServer, pln_home: Path) -> None:
    """4 segments of items in one week; a sync that brings 3 new items of that week writes
    them, the week's last segment and the small files (state, index) — a bounded amount,
    whatever the week holds. (Before segments it rewrote the whole week: ~4x the bound.)"""
    stamps = [WEEK + timedelta(seconds=60 * k) for k in range(4 * SEGMENT_ITEMS)]
    _fill(pln_home, [stamps[k:k + SEGMENT_ITEMS] for k in range(0, len(stamps), SEGMENT_ITEMS)])
    follow(pln_home, [feed_server.route("/f.xml", body=rss(0, range(2, 5)), etag='"1"')])
    r = pln(pln_home, "sync")
    assert r.returncode == 0, r.stderr
    inbox = pln_home / "inbox"
    week_bytes = sum(p.stat().st_size for p in inbox.glob("*-2026-W45*.json"))
    segment = max(sum((inbox / f"{k}-{s}.json").stat().st_size
                      for k in ("items", "bodies", "search", "keys"))
                  for s in ("2026-W45", "2026-W45.1", "2026-W45.2", "2026-W45.3"))

    feed_server.route("/f.xml", body=rss(0, range(2, 8)), etag='"2"')  # 3 new items
    before = _snapshot(pln_home)
    r = pln(pln_home, "sync")
    assert r.returncode == 0 and "3 new" in r.stdout, r.stdout + r.stderr
    wrote, names = _written(before, _snapshot(pln_home))
    small = sum((pln_home / n).stat().st_size if (pln_home / n).exists() else
                (inbox / n).stat().st_size for n in names if not n.startswith(
                    ("items-", "bodies-", "search-", "keys-")))
    assert wrote <= segment + small + 3 * 8_000, (wrote, names)
    assert wrote < week_bytes / 3, (wrote, week_bytes)
    assert {n.split("-", 1)[1] for n in names if n.startswith("items-")} == {"2026-W45.4.json"} \
        or len([n for n in names if n.startswith("items-")]) == 1, names
    assert len(items_json(pln_home)) == 4 * SEGMENT_ITEMS + 6


def test_a_sync_into_a_big_week_reads_only_the_segments_it_writes(
        feed_server: FeedServer, pln_home: Path, cli: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory stays flat whatever the week holds: a sync that brings news reads the keys of
    every segment (the index) and the records, bodies and search text of the segment it
    writes — not the week's other segments (issue 14: +110 MB per 10,000 items in the week
    being written)."""
    stamps = [WEEK + timedelta(seconds=60 * k) for k in range(4 * SEGMENT_ITEMS)]
    _fill(pln_home, [stamps[k:k + SEGMENT_ITEMS] for k in range(0, len(stamps), SEGMENT_ITEMS)])
    follow(pln_home, [feed_server.route("/f.xml", body=rss(0, range(2, 5)), etag='"1"')])
    cli("sync")  # (a new source: its items are counted over the inbox, once)
    feed_server.route("/f.xml", body=rss(0, range(2, 8)), etag='"2"')
    seen = _opened(monkeypatch)
    assert json.loads(cli("sync", "--json").stdout)[0]["new"] == 3
    heavy = {n for n in seen if n.startswith(("items-", "bodies-", "search-"))}
    assert {n.split("-", 1)[1] for n in heavy} == {"2026-W45.4.json"}, heavy
    assert len([n for n in seen if n.startswith("keys-")]) == 5


def test_segments_hold_at_most_segment_items_and_new_items_fill_the_last(tmp_path: Path) -> None:
    n = _fill(tmp_path, [[WEEK + timedelta(minutes=k) for k in range(SEGMENT_ITEMS + 10)]])
    n = _fill(tmp_path, [[WEEK + timedelta(hours=1, minutes=k) for k in range(5)]], n)
    inbox = tmp_path / "inbox"
    sizes = {p.name[6:-5]: len(json.loads(p.read_bytes())["items"]) for p in inbox.glob("items-*")}
    assert sizes == {"2026-W45": SEGMENT_ITEMS, "2026-W45.1": 15}
    store = TinyDBStore(tmp_path)
    assert store.count() == n
    assert len(list(store.iter_items())) == n


# ----- 2. a listing opens the segments it shows, not the week -----------------------------------


def _opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The store files read from now on (a spy on the one function that reads them)."""
    seen: list[str] = []
    real = store_files.read_json

    def spy(path: Path) -> Any:
        seen.append(path.name)
        return real(path)

    monkeypatch.setattr(store_files, "read_json", spy)
    return seen


@pytest.mark.parametrize("overlapping", [False, True])
def test_a_listing_opens_only_the_segments_it_shows(tmp_path: Path, overlapping: bool,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A week of 8 segments: the 50 newest items are read from the keys of every segment
    (small) and the records of the segments that hold them. Written in date order (a
    network's syncs) that is one or two segments; written as two imports of random dates
    (two syncs that each cover the week, each storing 8 sources one after the other), one
    or two per import — never the week."""
    import random

    rng = random.Random(5)
    count = 8 * SEGMENT_ITEMS
    if overlapping:
        stamps = [WEEK + timedelta(seconds=rng.randrange(7 * 86400)) for _ in range(count)]
        batches = [stamps[: count // 2], stamps[count // 2:]]
    else:
        stamps = [WEEK + timedelta(seconds=60 * k) for k in range(count)]
        batches = [stamps[k:k + SEGMENT_ITEMS] for k in range(0, count, SEGMENT_ITEMS)]
    _fill(tmp_path, batches, sources=8)
    store = TinyDBStore(tmp_path)
    seen = _opened(monkeypatch)
    got = list(islice(store.iter_items(), 50))
    newest = sorted(stamps, reverse=True)[:50]
    assert [r["published"] for r in got] == [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in newest]
    items_read = [n for n in seen if n.startswith("items-")]
    assert len(items_read) <= (4 if overlapping else 2), items_read
    assert not [n for n in seen if n.startswith(("bodies-", "search-"))]
    # a lookup by id opens one segment's records (and every segment's keys: the index)
    seen.clear()
    assert store.get(got[7]["id"]) is not None
    assert len([n for n in seen if n.startswith("items-")]) <= 1
    assert len([n for n in seen if n.startswith("bodies-")]) == 1


# ----- 3. per-host politeness -----------------------------------------------------------------


def test_per_host_limit_holds_while_hosts_go_at_once(feed_server: FeedServer, pln_home: Path) -> None:
    """12 slow feeds on each of two hosts (127.0.0.1 and localhost: one server, two names),
    per_host = 2, workers = 16: neither host ever sees more than 2 requests or 2 connections
    at once, and both are fetched at the same time (the total is not the limit)."""
    urls = []
    for host in ("127.0.0.1", "localhost"):
        for i in range(12):
            urls.append(feed_server.route(f"/{host}/{i}.xml", body=rss(i, range(2)), delay=0.15,
                                          host=host))
    follow(pln_home, urls, settings="workers = 16\nper_host = 2")
    r = pln(pln_home, "sync", "--json")
    assert r.returncode == 0, r.stderr
    assert all(res["status"] == "ok" for res in json.loads(r.stdout))
    port = feed_server.port
    hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
    assert set(feed_server.peak_requests) == hosts
    assert all(feed_server.peak_requests[h] == 2 for h in hosts), feed_server.peak_requests
    assert all(feed_server.peak_connections[h] <= 2 for h in hosts), feed_server.peak_connections
    assert feed_server.peak_total == 4


def test_one_host_never_sees_more_than_per_host(feed_server: FeedServer, pln_home: Path) -> None:
    """Every feed on one host and many workers: the host sees per_host requests at a time,
    never more, and the keep-alive connections are reused (no more than per_host opened)."""
    urls = [feed_server.route(f"/f{i}.xml", body=rss(i, range(2)), delay=0.1) for i in range(20)]
    follow(pln_home, urls, settings="workers = 64\nper_host = 3")
    r = pln(pln_home, "sync")
    assert r.returncode == 0, r.stderr
    host = f"127.0.0.1:{feed_server.port}"
    assert feed_server.peak_requests == {host: 3}
    assert feed_server.peak_connections[host] <= 3


def test_a_cold_sync_writes_a_batch_once_it_holds_batch_items(
        feed_server: FeedServer, pln_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What waits for a batch is what a sync holds in memory: a batch is written once it
    holds BATCH_ITEMS new items, however fast the results come (here no batch is old enough
    to be written for its age). Every item is stored once."""
    from companion.service import Companion
    from companion.sync import SyncEngine, _new_items

    monkeypatch.setenv("PLN_PARSE_PROCESSES", "0")
    monkeypatch.setattr(SyncEngine, "BATCH_ITEMS", 50)
    monkeypatch.setattr(SyncEngine, "BATCH_SECONDS", 600.0)
    held: list[int] = []
    write = SyncEngine._write

    def counted(self: SyncEngine, batch: list[Any], *args: Any, **kw: Any) -> bool:
        held.append(sum(_new_items(o) for o in batch))
        return write(self, batch, *args, **kw)

    monkeypatch.setattr(SyncEngine, "_write", counted)
    follow(pln_home, [feed_server.route(f"/f{i}.xml", body=rss(i, range(i * 30, i * 30 + 30)))
                      for i in range(10)])
    results = Companion().sync()
    assert sum(r.new for r in results) == 300
    assert sum(held) == 300 and len(held) >= 300 // (50 + 30)
    assert all(n < 50 + 30 for n in held), held  # the cap, plus at most one feed's items
    assert len(items_json(pln_home)) == 300


def test_a_json_listing_of_the_whole_inbox_holds_few_segments(
        pln_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pln inbox --all --json` writes item after item and lets the segments it read go (it
    held every item and every segment: 1 GB at 100,000 items); the output is the same."""
    import companion.inbox
    from companion.cli.render import json_text
    from companion.inbox import ItemFilter
    from companion.service import Companion

    n = _fill(pln_home, [[WEEK + timedelta(minutes=k) for k in range(SEGMENT_ITEMS * 4)]])
    monkeypatch.setattr(companion.inbox, "RELEASE_EVERY", SEGMENT_ITEMS // 2)
    c = Companion()
    most = 0
    listed = []
    for item in c.iter_full_items(ItemFilter(unread_only=False)):
        listed.append(item.id)
        most = max(most, len(c.store._items))
    assert len(listed) == n and most <= 2, most  # (4 segments in the week)
    assert [i.id for i in c.list_items(ItemFilter(unread_only=False))] == listed
    out = pln(pln_home, "inbox", "--all", "--json", "-n", "3")
    assert out.returncode == 0 and out.stdout == json_text(items_json(pln_home)[:3]) + "\n"


@pytest.mark.parametrize("objs", [[], [{}], [{"a": 1}], [{"a": [1, {"b": "x\ny"}]}, {"c": None}],
                                  [{"t": "\u202eevil\x1b[2J"}, 3, "s"]])
def test_a_json_array_written_as_it_comes_is_print_json_of_the_list(
        objs: list[Any], capsys: pytest.CaptureFixture[str]) -> None:
    from companion.cli.render import print_json, print_json_array

    print_json(objs)
    whole = capsys.readouterr().out
    print_json_array(iter(objs))
    assert capsys.readouterr().out == whole


def test_workers_and_per_host_are_checked(pln_home: Path) -> None:
    follow(pln_home, ["http://127.0.0.1:9/f.xml"], settings="per_host = 0")
    r = pln(pln_home, "sync")
    assert r.returncode == 2 and "settings.per_host: must be at least 1" in r.stderr


# ----- 4. no parse workers for a sync that parses nothing -------------------------------------


SPY = REPO / "tests" / "spy_pool.py"


def _pools(home: Path, log: Path, *args: str) -> list[str]:
    log.unlink(missing_ok=True)
    import subprocess
    import sys

    from tests.procs import env_for

    r = subprocess.run([sys.executable, str(SPY), *args], env=env_for(
        home, PLN_SPY_LOG=str(log), PLN_PARSE_PROCESSES="2"), capture_output=True, text=True,
        timeout=120, cwd=REPO, check=False)
    assert r.returncode == 0, r.stderr
    return log.read_text().splitlines() if log.exists() else []


def test_a_warm_sync_of_304s_starts_no_parse_worker(feed_server: FeedServer, pln_home: Path,
                                                     tmp_path: Path) -> None:
    """A cold sync of big feeds parses in worker processes; a sync where every feed answers
    304 starts none (issue 14: 0.08 s of a 0.2 s sync was starting workers it never used)."""
    words = 2_000  # bodies above the size that is worth a trip to a worker
    urls = [feed_server.route(f"/f{i}.xml", body=rss(i, range(5), words=words), etag='"1"')
            for i in range(4)]
    follow(pln_home, urls)
    log = tmp_path / "pools.log"
    assert _pools(pln_home, log, "sync"), "the cold sync parsed in workers"
    assert _pools(pln_home, log, "sync") == []
    assert len(items_json(pln_home)) == 20
    for i in range(4):  # news: the bodies are parsed (here or in workers), nothing lost
        feed_server.route(f"/f{i}.xml", body=rss(i, range(6), words=words), etag='"2"')
    _pools(pln_home, log, "sync")
    assert len(items_json(pln_home)) == 24


# ----- 5. a terminal gets the newest items, and how to see more -------------------------------


def test_inbox_on_a_terminal_lists_the_newest_and_says_how_many_more(pln_home: Path) -> None:
    """Without --limit, a terminal gets TERMINAL_LIMIT rows and a line saying how many more
    (counted from the index) and how to list them (issue 14: 22 s to render 100,000 rows);
    --limit and pipes are as before."""
    from companion.cli.inbox import TERMINAL_LIMIT
    from tests.proc import Pty

    n = TERMINAL_LIMIT + 37
    _fill(pln_home, [[WEEK + timedelta(minutes=k) for k in range(n)]])
    (pln_home / "config.toml").write_text("")
    term = Pty("inbox", cols=120, rows=30, env={"PLN_PAGER": "cat"})
    res = term.wait(60)
    assert res.code == 0, res.output
    shown = [line for line in res.output.splitlines() if "Big " in line]
    assert len(shown) == TERMINAL_LIMIT
    assert f"Big {n - 1} " in shown[0] + " " and f"Big {n - TERMINAL_LIMIT} " in shown[-1] + " "
    assert "… 37 more unread items — `--limit N` lists more" in res.output
    res = Pty("inbox", "--limit", "300", cols=120, rows=30, env={"PLN_PAGER": "cat"}).wait(60)
    assert len([line for line in res.output.splitlines() if "Big " in line]) == n
    assert "more unread" not in res.output
    r = pln(pln_home, "inbox")  # not a terminal: everything, as before
    assert len([line for line in r.stdout.splitlines() if "Big " in line]) == n
    assert "more unread" not in r.stdout


def test_host_queue_interleaves_hosts_and_holds_the_limit() -> None:
    """HostQueue (pure): sources start round-robin over their hosts, never more than
    per_host of one host running; a local mailbox (no host) is never held back."""
    from companion.politeness import HostQueue, host_key
    from companion.specs import parse_spec

    specs = [parse_spec(u) for u in (
        "https://a.example/1", "https://a.example/2", "https://a.example/3",
        "https://b.example/1", "http://a.example:8080/x", "@ann@social.example",
        "#edtech@social.example")]
    assert [host_key(s) for s in specs] == [
        "a.example", "a.example", "a.example", "b.example", "a.example:8080",
        "social.example", "social.example"]
    q = HostQueue(range(7), key=lambda i: "a" if i < 5 else None if i == 6 else "b", per_host=2)
    started = [q.next() for _ in range(5)]
    assert started == [0, 5, 6, 1, None]  # a, b, (no host), a again; a is full, b is done
    q.done(0)
    assert q.next() == 2 and q.next() is None
    q.done(1)
    q.done(2)
    assert [q.next(), q.next(), q.next()] == [3, 4, None] and q.left == 0
