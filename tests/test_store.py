"""The TinyDB store: sharding, atomic writes under SIGKILL, the write lock, corruption,
schema versions."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from companion.decide import merge
from companion.errors import StorageError
from companion.models import Author, ItemData
from companion.store import SCHEMA_VERSION, TinyDBStore

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[1]


def item(i: int, days_ago: float = 0, **kw) -> ItemData:  # type: ignore[no-untyped-def]
    return ItemData(
        key=f"https://blog.example/post/{i}",
        kind="feed",
        title=kw.pop("title", f"Post {i}"),
        author=Author("Dana"),
        html=f"<p>Body {i}</p>",
        text=f"Body {i}",
        published=NOW - timedelta(days=days_ago),
        **kw,
    )


def fill(store: TinyDBStore, n: int, spread_days: float = 60) -> list[dict]:
    recs = [merge(None, item(i, spread_days * i / max(1, n)), "src", NOW) for i in range(n)]
    store.put_many(recs)  # type: ignore[arg-type]
    return [r for r, _ in recs]  # type: ignore[misc]


@pytest.mark.parametrize("on_disk", [True, False])
def test_items_round_trip_newest_first(tmp_path: Path, on_disk: bool) -> None:
    store = TinyDBStore(tmp_path if on_disk else None)
    store.lock("test")
    recs = fill(store, 50)
    store.close()
    store = TinyDBStore(tmp_path) if on_disk else store
    assert store.count() == 50
    got = list(store.iter_items())
    assert [r["title"] for r in got] == [f"Post {i}" for i in range(50)]
    assert store.get_body(recs[3]["id"])["html"] == "<p>Body 3</p>"
    # listing reads light records; get() adds the heavy fields back
    assert "text" not in got[3] and got[3]["summary"] == "Body 3"
    full = store.get(recs[3]["id"])
    assert full is not None and full["text"] == "Body 3" and full["summary"] == "Body 3"
    # empty and false fields are not stored; everything else comes back as it went in
    assert {k: v for k, v in recs[3].items() if v not in (None, "", [], {}, False)} == {
        k: v for k, v in full.items() if k != "summary" and v not in (None, "", [], {}, False)}
    assert store.resolve(recs[3]["id"][:5]) == recs[3]["id"]
    since = NOW - timedelta(days=10)
    assert all(r["published"] >= "2026-11-18" for r in store.iter_items(since=since))
    assert len(list(store.iter_items(since=since))) == 9
    if on_disk:
        assert len(list((tmp_path / "inbox").glob("items-*.json"))) == 9  # 59 days: 9 ISO weeks


def test_flags_moves_and_deletes(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path)
    store.lock("test")
    recs = fill(store, 20)
    target = recs[5]["id"]
    assert store.update_many({target: {"read": True, "starred": True}}) == 1
    assert store.update_many({target: {"read": True}}) == 0  # nothing changed, nothing written
    moved = dict(store.get(target) or {})
    moved["published"] = "2020-01-01T00:00:00Z"
    store.put_many([(moved, None)])
    store.close()
    store = TinyDBStore(tmp_path)
    assert store.locate(target) == "2020-W01"
    rec = store.get(target)
    assert rec and rec["read"] and rec["starred"]
    assert store.get_body(target)["html"] == "<p>Body 5</p>"  # the body moved with it
    assert (store.get(target) or {})["text"] == "Body 5"
    store.lock("test")
    assert store.delete_many([target, recs[6]["id"], "nope"]) == 2
    store.close()
    store = TinyDBStore(tmp_path)
    assert store.count() == 18 and store.get(target) is None


def test_writing_without_the_lock_is_refused(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path)
    fill(store, 3)
    with pytest.raises(StorageError, match="without the lock"):
        store.flush()


def test_nothing_reaches_disk_until_flush(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path)
    store.lock("test")
    fill(store, 5)
    assert not list((tmp_path / "inbox").glob("*.json"))
    store.close()
    assert len(list((tmp_path / "inbox").glob("items-*.json"))) >= 1
    assert not list((tmp_path / "inbox").glob("*.tmp"))


def test_index_is_rebuilt_when_missing(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path)
    store.lock("test")
    recs = fill(store, 30)
    store.close()
    (tmp_path / "inbox" / "index.json").unlink()
    store = TinyDBStore(tmp_path)
    assert store.count() == 30
    assert store.get(recs[0]["id"])


def _weekly_layout(inbox: Path, version: int, *, drop: str | None = None) -> None:
    """Turn a store into the layout of schema 1/2 (before segments): one items, bodies and
    search file per week, and index.json mapping every item id to its week (as 1,024
    "id=week" buckets) and every link hash to its items; ``drop``: an id the index lost."""
    weeks: dict[str, dict[str, dict]] = {}
    for path in sorted(inbox.glob("*-*.json")):
        kind, seg = path.name[:-5].split("-", 1)
        data = orjson.loads(path.read_bytes())
        path.unlink()
        if kind == "keys":
            continue
        week = weeks.setdefault(seg.split(".")[0], {"items": {}, "bodies": {}, "search": {}})
        if kind == "search":
            week["search"].update(dict(line.split(" ", 1) for line in
                                       data["q"]["all"]["v"].splitlines()))
        else:
            week[kind].update(data[kind])
    ids: dict[str, dict[str, str]] = {}
    links: dict[str, dict[str, str]] = {}
    from companion.store.records import link_hash

    by_link: dict[str, list[str]] = {}
    for name, week in weeks.items():
        (inbox / f"items-{name}.json").write_bytes(orjson.dumps({"items": week["items"]}))
        (inbox / f"bodies-{name}.json").write_bytes(orjson.dumps({"bodies": week["bodies"]}))
        blob = "".join(f"{i} {q}\n" for i, q in week["search"].items())
        (inbox / f"search-{name}.json").write_bytes(orjson.dumps({"q": {"all": {"v": blob}}}))
        for i, rec in week["items"].items():
            if i != drop:
                ids.setdefault(i[:2], {"v": ""})["v"] += f" {i}={name}"
            if rec.get("link_key"):
                by_link.setdefault(link_hash(rec["link_key"]), []).append(i)
    for h, item_ids in by_link.items():
        links.setdefault(h[:2], {"v": ""})["v"] += f" {h}={','.join(item_ids)}"
    meta = {"schema": {"version": version}}
    (inbox / "index.json").write_bytes(orjson.dumps({"_meta": meta, "ids": ids, "links": links}))


def _everything(store: TinyDBStore) -> list[tuple]:
    return [(r["id"], r.get("title"), bool(r.get("read")), bool(r.get("starred")),
             (store.get(r["id"]) or {}).get("text"), store.get_body(r["id"]).get("html"))
            for r in store.iter_items()]


@pytest.mark.parametrize("version", [1, 2])
def test_a_store_of_weekly_files_is_migrated_to_segments(tmp_path: Path, version: int) -> None:
    """A store written before segments (schema 1 or 2: a week in one set of files however
    big, an index of every id) is migrated when it is opened: the big week is split into
    segments of at most SEGMENT_ITEMS items, every segment gets its keys, the old index
    goes, and every item keeps its flags, body, search text and story link. Schema 1's index
    could have lost items (issue 12): the keys are derived from the items, so none is lost."""
    from companion.store.segments import SEGMENT_ITEMS

    store = TinyDBStore(tmp_path)
    store.lock("test")
    recs = [merge(None, item(i, 3 * i / (SEGMENT_ITEMS * 2.5), link=f"https://l.example/{i % 7}"),
                  "src", NOW) for i in range(int(SEGMENT_ITEMS * 2.5))]
    recs += [merge(None, item(10_000 + i, 20 + i), "src", NOW) for i in range(5)]
    store.put_many(recs)  # type: ignore[arg-type]
    ids = [r["id"] for r, _ in recs]  # type: ignore[misc]
    store.update_many({ids[0]: {"read": True}, ids[7]: {"starred": True}})
    store.close()
    store = TinyDBStore(tmp_path)
    before = _everything(store)
    inbox = tmp_path / "inbox"
    _weekly_layout(inbox, version, drop=ids[3])
    big = max(inbox.glob("items-*.json"), key=lambda p: p.stat().st_size)
    assert len(orjson.loads(big.read_bytes())["items"]) > 2 * SEGMENT_ITEMS

    store = TinyDBStore(tmp_path)  # a command that only reads: the lock is free, it migrates
    assert _everything(store) == before
    assert orjson.loads((inbox / "index.json").read_bytes()) == {
        "_meta": {"schema": {"version": SCHEMA_VERSION}}}
    segs = sorted(p.name[6:-5] for p in inbox.glob("items-*.json"))
    week = big.name[6:-5]
    assert [s for s in segs if s.startswith(week)] == [week, f"{week}.1", f"{week}.2"]
    for seg in segs:
        n = len(orjson.loads((inbox / f"items-{seg}.json").read_bytes())["items"])
        keys = orjson.loads((inbox / f"keys-{seg}.json").read_bytes())["k"]["ids"]["v"]
        assert n <= SEGMENT_ITEMS and len(keys.split()) == n
    store = TinyDBStore(tmp_path)
    assert store.count() == len(ids) and store.get(ids[3]) is not None
    key = recs[3][0]["link_key"]  # type: ignore[index]
    assert key and sorted(store.link_ids(key)) == sorted(
        r["id"] for r, _ in recs if r.get("link_key") == key)  # type: ignore[misc]
    assert {r["id"] for r in store.search_items(["body", "1"])} >= {ids[1]}
    store.lock("test")  # a writer goes on from there: new items fill the last segment
    store.put_many([merge(None, item(20_000), "src", NOW)])  # type: ignore[list-item]
    store.close()
    assert TinyDBStore(tmp_path).count() == len(ids) + 1


def test_a_store_being_written_is_read_in_the_old_layout_and_migrated_later(
        tmp_path: Path, pln_home: Path) -> None:
    """While another pln holds the lock, a command that only reads reads the old layout as
    it is (and changes no file); the next one that can lock migrates it."""
    store = TinyDBStore(pln_home)
    store.lock("test")
    recs = fill(store, 30, spread_days=3)
    store.close()
    _weekly_layout(pln_home / "inbox", 2)
    files = {p.name: p.read_bytes() for p in (pln_home / "inbox").iterdir()}
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, "30"], env=env, stdout=subprocess.PIPE)
    try:
        assert holder.stdout and holder.stdout.readline().strip() == b"locked"
        store = TinyDBStore(pln_home)
        assert [r["title"] for r in store.iter_items()] == [r["title"] for r in recs]
        assert store.get(recs[5]["id"])["text"] == "Body 5"  # type: ignore[index]
        assert {p.name: p.read_bytes() for p in (pln_home / "inbox").iterdir()} == files
    finally:
        holder.kill()
        holder.wait()
    store = TinyDBStore(pln_home)
    assert store.count() == 30
    assert list((pln_home / "inbox").glob("keys-*.json"))


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path)
    store.lock("test")
    fill(store, 2)
    store.close()
    index = tmp_path / "inbox" / "index.json"
    data = orjson.loads(index.read_bytes())
    data["_meta"]["schema"]["version"] = SCHEMA_VERSION + 1
    index.write_bytes(orjson.dumps(data))
    with pytest.raises(StorageError, match="newer pln"):
        TinyDBStore(tmp_path).count()


def test_corrupt_shard_gives_a_clear_message_and_is_left_alone(tmp_path: Path, cli, pln_home: Path) -> None:  # type: ignore[no-untyped-def]
    store = TinyDBStore(pln_home)
    store.lock("test")
    fill(store, 10, spread_days=1)
    store.close()
    (pln_home / "config.toml").write_text("")
    shard = next((pln_home / "inbox").glob("items-*.json"))
    shard.write_bytes(shard.read_bytes()[:1000])  # a torn write, as an old tool might leave
    before = shard.read_bytes()
    r = cli("inbox", code=1)
    assert "is corrupt" in r.stderr and shard.name in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert shard.read_bytes() == before


def test_corrupt_state_file(cli, pln_home: Path) -> None:  # type: ignore[no-untyped-def]
    pln_home.mkdir(parents=True)
    (pln_home / "config.toml").write_text('[[sources]]\nurl = "http://127.0.0.1:9/feed"\n')
    (pln_home / "state.json").write_text("{not json")
    r = cli("source", "list", code=1)
    assert "state.json is corrupt" in r.stderr


HOLDER = textwrap.dedent(
    """
    import os, sys, time
    from companion.service import Companion
    c = Companion()
    with c.writing("pln sync"):
        print("locked", flush=True)
        time.sleep(float(sys.argv[1]))
        if len(sys.argv) > 2:  # a mark, made while the lock is still held
            open(os.path.join(os.environ["PLN_HOME"], sys.argv[2]), "w").close()
    """
)


def test_second_writer_waits_then_says_who_holds_the_lock(cli, pln_home: Path) -> None:  # type: ignore[no-untyped-def]
    pln_home.mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, "30"], env=env, stdout=subprocess.PIPE)
    try:
        assert holder.stdout and holder.stdout.readline().strip() == b"locked"
        os.environ["PLN_LOCK_TIMEOUT"] = "0.5"
        t0 = time.monotonic()
        r = cli("source", "add", "#pln@m.example", code=1)
        waited = time.monotonic() - t0
        assert "busy" in r.stderr and "`pln sync`" in r.stderr and f"pid {holder.pid}" in r.stderr
        assert waited >= 0.5
        assert not (pln_home / "config.toml").exists()  # nothing changed
    finally:
        holder.kill()
        holder.wait()
    # a dead holder's lock is released by the OS: the next writer goes straight in
    cli("source", "add", "#pln@m.example")


def test_second_writer_proceeds_when_the_first_finishes(pln_home: Path) -> None:
    """The second writer waits for the first and goes in when it lets go — not before: the
    holder leaves a mark just before it releases the lock, and the second writer must see it
    as soon as it holds the lock itself (without locking it would get in at once)."""
    pln_home.mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PLN_LOCK_TIMEOUT": "10"}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, "0.8", "done"], env=env,
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout and holder.stdout.readline().strip() == b"locked"
        from companion.service import Companion

        c = Companion()
        t0 = time.monotonic()
        with c.writing("pln read"):
            waited = time.monotonic() - t0
            assert (pln_home / "done").exists(), "got the lock while the first writer held it"
        assert waited > 0.3
        assert holder.wait(timeout=10) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta
    from companion.decide import merge
    from companion.models import ItemData
    from companion.store import TinyDBStore
    home = sys.argv[1]
    now = datetime(2026, 11, 28, tzinfo=UTC)
    n = TinyDBStore(__import__("pathlib").Path(home)).count() // 300  # continue, new keys
    while True:
        store = TinyDBStore(__import__("pathlib").Path(home))
        store.lock("writer")
        recs = []
        for j in range(300):
            i = n * 300 + j
            d = ItemData(key=f"k{i}", kind="feed", title=f"t{i}", text="x" * 500,
                         html="<p>" + "y" * 800 + "</p>", published=now - timedelta(hours=i % 2000))
            recs.append(merge(None, d, "s", now))
        store.put_many(recs)
        ids = store.item_ids()[:50]
        store.update_many({i: {"read": bool(n % 2)} for i in ids})
        store.close()
        n += 1
        print(n, flush=True)
    """
)


def test_sigkill_during_writes_never_corrupts_the_store(tmp_path: Path) -> None:
    """Kill a writer at random moments, repeatedly: every file stays valid JSON and the
    store opens with every committed batch intact."""
    home = tmp_path / "h"
    home.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rng = random.Random(1234)
    committed = 0
    for _ in range(8):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(home)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout
        # let it commit at least one batch, then kill it somewhere in the next one
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for f in (home / "inbox").glob("*.json"):
            orjson.loads(f.read_bytes())  # never half-written
        store = TinyDBStore(home)
        count = store.count()
        assert count >= committed + 300  # at least the batch it reported
        for item_id in store.item_ids():
            assert store.get(item_id) is not None  # index points at real records
        committed = count


def test_search_blob_matches_text_not_ids() -> None:
    from companion.store.tinydb_store import _blob_search

    blob = "abcd1234 fractions with paper strips\nfrac0000 number talks\nzzzz9999 paper fractions\n"
    assert _blob_search(blob, ["fractions"]) == {"abcd1234", "zzzz9999"}
    assert _blob_search(blob, ["paper", "fractions"]) == {"abcd1234", "zzzz9999"}
    assert _blob_search(blob, ["frac", "talks"]) == set()  # "frac" only in the id there
    assert _blob_search(blob, ["strips", "with"]) == {"abcd1234"}
    assert _blob_search(blob, ["nothing"]) == set()
    assert _blob_search("", ["x"]) == set()


_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Prepared</title><link>https://blog.example/</link>
<item><title>Dated</title><link>https://blog.example/a</link><guid>https://blog.example/a</guid>
<pubDate>Tue, 24 Nov 2026 10:00:00 +0100</pubDate><category>assessment</category>
<enclosure url="https://blog.example/a.mp3" type="audio/mpeg" length="1"/>
<author>dana@blog.example (Dana Moss)</author>
<description>&lt;p&gt;Ungrading &lt;b&gt;in&lt;/b&gt;&lt;i&gt;side&lt;/i&gt; a class&lt;/p&gt;&lt;p&gt;&amp;eacute;l&amp;egrave;ve&lt;/p&gt;</description></item>
<item><title>Undated, same story as the first</title><link>https://blog.example/a?utm_source=x</link>
<guid isPermaLink="false">second</guid>
<description>Plain words only</description></item>
<item><link>https://blog.example/c</link><description>&lt;ul&gt;&lt;li&gt;one&lt;/li&gt;&lt;/ul&gt;</description></item>
</channel></rss>"""


def test_items_prepared_in_workers_are_filed_exactly_as_merged_ones(tmp_path: Path) -> None:
    """A sync files new items from ``prepare_new_items`` (run in the parse workers); the
    files must be byte for byte what merge + put_many writes for the same items."""
    from companion.service import prepare_new_items
    from companion.sources.feed_parse import parse_feed

    items = parse_feed(_RSS.encode(), {"Content-Type": "application/rss+xml"},
                       "https://blog.example/feed", "src").items
    assert len(items) == 3
    a, b = TinyDBStore(tmp_path / "a"), TinyDBStore(tmp_path / "b")
    for s in (a, b):
        s.lock("test")
    assert a.put_prepared(prepare_new_items(items, "src", NOW)) == 3
    assert b.put_many([merge(None, d, "src", NOW) for d in items]) == 3  # type: ignore[misc]
    a.close()
    b.close()
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.json"))
    assert {str(f) for f in files} >= {"inbox/index.json", "inbox/search-2026-W48.json"}
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    store = TinyDBStore(tmp_path / "a")
    first = next(r for r in store.iter_items() if r.get("title") == "Dated")
    assert first["summary"] == "Ungrading inside a class élève"
    assert len(store.link_ids(first["link_key"])) == 2  # both entries carry the story link
    assert {r["id"] for r in store.search_items(["eleve", "ungrading"])} == {first["id"]}


def test_prepared_item_whose_id_is_taken_gets_a_longer_one(pln_home: Path) -> None:
    """Two keys with the same 8-character id (found by brute force): the second item is
    stored under a 9-character id, even though its worker prepared it under the short one;
    an item already stored is merged, not filed again."""
    from companion.service import Companion, prepare_new_items

    first, second = "https://blog.example/p/422840", "https://blog.example/p/642219"
    c = Companion(clock=lambda: NOW)
    with c.writing("test"):
        one = (ItemData(key=first, kind="feed", url=first, title="One", html="<p>x</p>",
                        published=NOW),)
        two = (ItemData(key=second, kind="feed", url=second, title="Two", html="<p>y</p>",
                        published=NOW),)
        assert c._store_items("s1", one, NOW, prepare_new_items(one, "s1", NOW)) == (1, 0)
        short = c.store.iter_items().__next__()["id"]
        assert c._store_items("s2", two, NOW, prepare_new_items(two, "s2", NOW)) == (1, 0)
        c.set_flags([short], read=True)
        # the same entry again from another source: merged (sources, read state kept)
        assert c._store_items("s3", one, NOW, prepare_new_items(one, "s3", NOW)) == (0, 1)
    recs = {r["title"]: r for r in Companion().store.iter_items()}
    assert recs["One"]["id"] == short and len(short) == 8
    assert recs["Two"]["id"].startswith(short) and len(recs["Two"]["id"]) == 9
    assert recs["One"]["sources"] == ["s1", "s3"] and recs["One"]["read"] is True
    assert recs["Two"]["sources"] == ["s2"]
