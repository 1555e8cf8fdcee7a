"""Feed sync against a real HTTP server on loopback (issue 3): statuses, politeness, limits,
charsets, changes — through the CLI, as a user runs it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.feedserver import FeedServer


def rss(*items: tuple[str, str], title: str = "Teacher blog", encoding: str = "utf-8") -> str:
    """An RSS 2.0 document; each item is (guid, title) with a description derived from it."""
    entries = "".join(
        f"<item><title>{t}</title><link>https://blog.example/{g}</link>"
        f"<guid isPermaLink=\"false\">{g}</guid>"
        f"<pubDate>Mon, 0{i + 1} Nov 2026 10:00:00 GMT</pubDate>"
        f"<description>&lt;p&gt;About {t}&lt;/p&gt;</description></item>"
        for i, (g, t) in enumerate(items)
    )
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://blog.example/</link>{entries}</channel></rss>"
    )


FEED = rss(("a1", "First post"), ("a2", "Second post"))


def follow(home: Path, *urls: str, settings: str = "") -> None:
    """Write config.toml by hand (no network at add time, so the server's hits stay exact)."""
    home.mkdir(parents=True, exist_ok=True)
    text = f"[settings]\n{settings}\n"
    for u in urls:
        text += f'\n[[sources]]\nurl = "{u}"\n'
    (home / "config.toml").write_text(text, encoding="utf-8")


def sync(cli: Any, code: int = 0) -> dict[str, dict[str, Any]]:
    """`pln sync --json`, as {source url-or-label: result}."""
    result = cli("sync", "--json", code=code)
    return {r["label"]: r for r in json.loads(result.stdout)}


def inbox(cli: Any) -> list[dict[str, Any]]:
    return json.loads(cli("inbox", "--all", "--json").stdout)


def sources(cli: Any) -> list[dict[str, Any]]:
    return json.loads(cli("source", "list", "--json").stdout)


def inbox_files(home: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((home / "inbox").glob("*.json"))}


def test_200_stores_items(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    url = feed_server.route("/feed.xml", body=FEED)
    follow(pln_home, url)
    res = sync(cli)[url]
    assert res["status"] == "ok" and res["new"] == 2 and res["error"] is None
    items = inbox(cli)
    assert {i["title"] for i in items} == {"First post", "Second post"}
    first = next(i for i in items if i["title"] == "First post")
    assert first["url"] == "https://blog.example/a1"
    assert first["text"] == "About First post"
    assert first["published"] == "2026-11-01T10:00:00Z"
    _, _, headers = feed_server.requests[-1]
    assert headers["User-Agent"].startswith("pln/")
    assert "gzip" in headers["Accept-Encoding"]
    human = cli("sync")  # no validators, but the same bytes: not parsed again
    assert human.stdout.strip().splitlines()[-1] == "0 ok, 1 not modified, 0 errors; 0 new"


def test_304_writes_nothing(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    url = feed_server.route("/feed.xml", body=FEED, etag='"v1"', last_modified="Mon, 02 Nov 2026 10:00:00 GMT")
    follow(pln_home, url)
    assert sync(cli)[url]["new"] == 2
    before = inbox_files(pln_home)
    mtimes = {p.name: p.stat().st_mtime_ns for p in (pln_home / "inbox").glob("*.json")}
    res = sync(cli)[url]
    assert res["status"] == "not_modified" and res["new"] == 0
    _, _, headers = feed_server.requests[-1]
    assert headers["If-None-Match"] == '"v1"'
    assert headers["If-Modified-Since"] == "Mon, 02 Nov 2026 10:00:00 GMT"
    assert inbox_files(pln_home) == before
    assert {p.name: p.stat().st_mtime_ns for p in (pln_home / "inbox").glob("*.json")} == mtimes
    assert cli("sync").stdout.strip().splitlines()[-1] == "0 ok, 1 not modified, 0 errors; 0 new"


def test_last_modified_only(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    url = feed_server.route("/feed.xml", body=FEED, last_modified="Mon, 02 Nov 2026 10:00:00 GMT")
    follow(pln_home, url)
    sync(cli)
    assert sync(cli)[url]["status"] == "not_modified"
    assert "If-None-Match" not in feed_server.requests[-1][2]


@pytest.mark.parametrize("status", [301, 308])
def test_permanent_redirect_updates_config(
    feed_server: FeedServer, pln_home: Path, cli: Any, status: int
) -> None:
    old = feed_server.route("/old.xml", status=status, headers={"Location": "/new.xml"})
    new = feed_server.route("/new.xml", body=FEED)
    follow(pln_home, old)
    sid = sources(cli)[0]["id"]
    res = sync(cli)[old]
    assert res["status"] == "ok" and res["new"] == 2
    assert any("moved permanently" in n and new in n for n in res["notes"])
    config = (pln_home / "config.toml").read_text()
    assert f'url = "{new}"' in config and "/old.xml" not in config
    assert sources(cli)[0]["id"] == sid and sources(cli)[0]["spec"] == new
    sync(cli)
    assert feed_server.hits("/old.xml") == 1 and feed_server.hits("/new.xml") == 2


@pytest.mark.parametrize("status", [302, 307])
def test_temporary_redirect_keeps_url(
    feed_server: FeedServer, pln_home: Path, cli: Any, status: int
) -> None:
    old = feed_server.route("/old.xml", status=status, headers={"Location": "/new.xml"})
    feed_server.route("/new.xml", body=FEED)
    follow(pln_home, old)
    assert sync(cli)[old]["new"] == 2
    assert f'url = "{old}"' in (pln_home / "config.toml").read_text()


@pytest.mark.parametrize(("status", "message"), [(404, "HTTP 404 Not Found"),
                                                 (500, "HTTP 500 Internal Server Error")])
def test_http_errors(
    feed_server: FeedServer, pln_home: Path, cli: Any, status: int, message: str
) -> None:
    url = feed_server.route("/feed.xml", status=status, body="oops", content_type="text/plain")
    follow(pln_home, url)
    res = sync(cli)[url]
    assert res["status"] == "error" and res["error"] == message
    health = sources(cli)[0]["health"]
    assert health["failures"] == 1 and health["last_error"] == message
    human = cli("sync")  # a failed source is reported, not fatal (issue 13)
    lines = human.stdout.strip().splitlines()
    assert lines[-2].endswith(f"{url}: error {message}")
    assert lines[-1] == "0 ok, 0 not modified, 1 error; 0 new"
    assert sources(cli)[0]["health"]["failures"] == 2


def test_410_retires(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    url = feed_server.route("/feed.xml", status=410, body="gone", content_type="text/plain")
    follow(pln_home, url)
    assert sync(cli)[url]["status"] == "retired"
    assert sources(cli)[0]["health"]["retired"] is True
    assert sync(cli)[url]["status"] == "retired"
    assert feed_server.hits("/feed.xml") == 1
    assert "retired" in cli("sync").stdout


@pytest.mark.parametrize("retry_after", ["120", "Wed, 21 Oct 2099 07:28:00 GMT"])
@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(
    feed_server: FeedServer, pln_home: Path, cli: Any, status: int, retry_after: str
) -> None:
    url = feed_server.route("/feed.xml", status=status, headers={"Retry-After": retry_after},
                            content_type="text/plain")
    follow(pln_home, url)
    res = sync(cli)[url]
    assert res["status"] == "skipped" and res["retry_after"]
    assert "retry after" in res["error"]
    res = sync(cli)[url]
    assert res["status"] == "skipped"
    assert feed_server.hits("/feed.xml") == 1
    assert "skipped" in cli("sync").stdout


def test_timeout(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    url = feed_server.route("/slow.xml", body=FEED, delay=2)
    follow(pln_home, url, settings="timeout = 0.5")
    res = sync(cli)[url]
    assert res["status"] == "error" and res["error"] == "timed out after 0.5 s"


def test_oversized_body(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    url = feed_server.route("/big.xml", body=rss(*[(f"g{i}", "x" * 100) for i in range(50)]))
    follow(pln_home, url, settings="max_bytes = 2000")
    res = sync(cli)[url]
    assert res["error"] == "response larger than 0.002 MB (the size cap)"


def test_gzip_bomb_is_capped_after_decompressing(
    feed_server: FeedServer, pln_home: Path, cli: Any
) -> None:
    """A gzipped body is decompressed where it is parsed; the size cap holds for what it
    decompresses to, not only for the bytes on the wire."""
    body = rss(*[(f"g{i}", "x" * 2000) for i in range(60)])  # ~130 KB, ~2 KB gzipped
    url = feed_server.route("/bomb.xml", body=body, gzip=True)
    follow(pln_home, url, settings="max_bytes = 50000")
    res = sync(cli)[url]
    assert res["error"] == "response larger than 0.05 MB (the size cap)"
    assert feed_server.requests  # it was fetched: the wire size was under the cap


def test_endless_body(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    url = feed_server.route("/endless.xml", endless=True)
    follow(pln_home, url, settings="max_bytes = 1000000")
    res = sync(cli)[url]
    assert res["error"] == "response larger than 1 MB (the size cap)"


def test_html_instead_of_feed(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    url = feed_server.route("/page", body="<!DOCTYPE html><html><head><title>Blog</title></head>"
                            "<body><p>Hello</p></body></html>", content_type="text/html")
    follow(pln_home, url)
    res = sync(cli)[url]
    assert res["error"] == (
        "not a feed (got an HTML page; try `pln source add` on it to discover its feed)"
    )


def test_malformed_but_readable(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    broken = FEED.replace("</channel></rss>", "<item><title>Third & last</title>"
                          "<guid>a3</guid></item>")  # bare & and no closing tags
    url = feed_server.route("/feed.xml", body=broken)
    follow(pln_home, url)
    res = sync(cli)[url]
    assert res["status"] == "ok" and res["new"] == 3


def test_malformed_beyond_recovery(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    url = feed_server.route("/feed.xml", body="\x00\x01 this is }{ no feed at all <<<",
                            content_type="application/rss+xml")
    follow(pln_home, url)
    res = sync(cli)[url]
    assert res["error"].startswith("not a feed")


def test_gzip(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    url = feed_server.route("/feed.xml", body=FEED, gzip=True)
    follow(pln_home, url)
    assert sync(cli)[url]["new"] == 2


LATIN = rss(("c1", "Caf\u00e9 p\u00e9dagogique"), encoding="iso-8859-1").encode("iso-8859-1")


def test_charset_in_prolog_not_header(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    url = feed_server.route("/feed.xml", body=LATIN, content_type="application/xml")
    follow(pln_home, url)
    sync(cli)
    assert [i["title"] for i in inbox(cli)] == ["Caf\u00e9 p\u00e9dagogique"]


def test_charset_in_header_not_prolog(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    body = LATIN.replace(b' encoding="iso-8859-1"', b"")
    url = feed_server.route("/feed.xml", body=body,
                            content_type="application/rss+xml; charset=iso-8859-1")
    follow(pln_home, url)
    sync(cli)
    assert [i["title"] for i in inbox(cli)] == ["Caf\u00e9 p\u00e9dagogique"]


def test_wrong_charset_in_header(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    """Header says utf-8 but the bytes are latin-1: feedparser falls back; nothing is lost."""
    url = feed_server.route("/feed.xml", body=LATIN,
                            content_type="application/rss+xml; charset=utf-8")
    follow(pln_home, url)
    assert sync(cli)[url]["status"] == "ok"
    assert [i["title"] for i in inbox(cli)] == ["Caf\u00e9 p\u00e9dagogique"]


def test_entries_change_and_vanish(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    url = feed_server.route("/feed.xml", body=FEED, etag='"v1"')
    follow(pln_home, url)
    sync(cli)
    ids = {i["title"]: i["id"] for i in inbox(cli)}
    cli("read", ids["First post"])
    cli("star", ids["First post"])
    feed_server.route("/feed.xml", body=rss(("a1", "First post, revised")), etag='"v2"')
    res = sync(cli)[url]
    assert res["status"] == "ok" and res["new"] == 0 and res["updated"] == 1
    items = {i["id"]: i for i in inbox(cli)}
    assert len(items) == 2  # a2 vanished from the feed but stays in the inbox
    first = items[ids["First post"]]
    assert first["title"] == "First post, revised" and first["read"] and first["starred"]
    assert items[ids["Second post"]]["title"] == "Second post"


def test_one_failure_does_not_stop_others(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    good = feed_server.route("/good.xml", body=FEED)
    bad = feed_server.route("/bad.xml", status=500)
    other = feed_server.route("/other.xml", body=rss(("b1", "Other")))
    follow(pln_home, good, bad, other)
    res = sync(cli)
    assert [res[u]["status"] for u in (good, bad, other)] == ["ok", "error", "ok"]
    assert len(inbox(cli)) == 3


def test_json_feed(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON blog",
        "authors": [{"name": "Ada"}],
        "items": [
            {"id": "https://json.example/1", "url": "https://json.example/1?utm_source=x",
             "title": "Hello", "content_html": "<p>Hi <script>alert(1)</script>there</p>",
             "date_published": "2026-11-01T10:00:00Z", "tags": ["edtech"],
             "attachments": [{"url": "https://json.example/a.mp3", "mime_type": "audio/mpeg"}]},
            {"id": "2", "content_text": "Just text", "date_modified": "2026-11-02T10:00:00+01:00"},
        ],
    }
    url = feed_server.route("/feed.json", body=json.dumps(doc), content_type="application/feed+json")
    follow(pln_home, url)
    assert sync(cli)[url]["new"] == 2
    items = {i["title"]: i for i in inbox(cli)}
    hello = items["Hello"]
    assert hello["text"] == "Hi there" and hello["author"]["name"] == "Ada"
    assert hello["link"] == "https://json.example/1" and hello["tags"] == ["edtech"]
    assert hello["media"] == [{"url": "https://json.example/a.mp3", "alt": ""}]
    assert items[""]["text"] == "Just text" and items[""]["published"] == "2026-11-02T09:00:00Z"


def test_atom_item_fields(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    atom = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">
<title>Atom blog</title><id>tag:atom.example,2026:feed</id>
<author><name>Feed Author</name></author>
<entry><title type="html">&lt;b&gt;Bold&lt;/b&gt; title</title>
<id>tag:atom.example,2026:1</id><link href="/posts/1"/>
<updated>2026-11-03T10:00:00Z</updated>
<category term="science"/><category term="teaching"/>
<link rel="enclosure" href="https://atom.example/ep1.mp3" type="audio/mpeg" length="1"/>
<media:content url="https://atom.example/pic.jpg" type="image/jpeg"/>
<content type="html">&lt;p onclick="x()"&gt;Body&lt;/p&gt;</content></entry>
</feed>"""
    url = feed_server.route("/atom.xml", body=atom, content_type="application/atom+xml")
    follow(pln_home, url)
    sync(cli)
    [item] = inbox(cli)
    assert item["title"] == "Bold title"
    assert item["url"] == feed_server.url("/posts/1")  # relative link resolved
    assert item["author"]["name"] == "Feed Author"
    assert item["published"] == "2026-11-03T10:00:00Z"  # updated stands in for published
    assert item["tags"] == ["science", "teaching"]
    assert [m["url"] for m in item["media"]] == ["https://atom.example/ep1.mp3",
                                                 "https://atom.example/pic.jpg"]
    show = json.loads(cli("show", item["id"], "--json").stdout)
    assert "onclick" not in json.dumps(show)


def test_item_keys(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    """A local guid is scoped by source: two feeds with guid "1" are two items; a global
    guid (a URL) is one item reached from both feeds."""
    body = rss(("1", "Local one")).replace(
        "</channel>", "<item><title>Shared</title><guid>https://shared.example/p</guid></item>"
        "</channel>")
    a = feed_server.route("/a.xml", body=body)
    b = feed_server.route("/b.xml", body=body)
    follow(pln_home, a, b)
    sync(cli)
    items = inbox(cli)
    assert sorted(i["title"] for i in items) == ["Local one", "Local one", "Shared"]
    shared = next(i for i in items if i["title"] == "Shared")
    assert len(shared["sources"]) == 2


def _pln_process(home: Path, *args: str) -> Any:
    """`pln ARGS` in a fresh process, as a user runs it (single-threaded when a sync starts)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PLN_HOME": str(home), "PLN_PARSE_PROCESSES": "2"}
    return subprocess.run([sys.executable, "-m", "companion", *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_big_feeds_are_parsed_in_forked_workers(feed_server: FeedServer, pln_home: Path) -> None:
    """Bodies over the size where parsing moves to worker processes: a fresh `pln sync` forks
    them before its fetch threads start; items arrive whole, and the lock is free after."""
    words = " ".join(f"word{i}" for i in range(120))
    urls = []
    for f in range(3):
        items = [(f"big{f}-{i}", f"Post {i} of feed {f} {words[: 20 + i]}") for i in range(40)]
        body = rss(*items, title=f"Big {f}").replace("&lt;/p&gt;", f" {words}&lt;/p&gt;")
        assert len(body) > 20_000
        urls.append(feed_server.route(f"/big{f}.xml", body=body, etag=f'"b{f}"'))
    follow(pln_home, *urls)
    first = _pln_process(pln_home, "sync", "--json")
    assert first.returncode == 0, first.stderr
    assert sorted(r["new"] for r in json.loads(first.stdout)) == [40, 40, 40]
    again = _pln_process(pln_home, "sync", "--json")  # the lock was released, workers gone
    assert again.returncode == 0, again.stderr
    assert [r["status"] for r in json.loads(again.stdout)] == ["not_modified"] * 3
    listed = json.loads(_pln_process(pln_home, "inbox", "--all", "--json").stdout)
    assert len(listed) == 120
    assert {r["title"] for r in listed} >= {f"Post 39 of feed 2 {words[:59]}"}
    # An entry the inbox already has comes back from a worker as an item to merge (not as a
    # new record to file): one revised in feed 0; feed 1 gains one.
    old = next(r for r in listed if r["title"].startswith("Post 5 of feed 0 "))
    assert _pln_process(pln_home, "read", old["id"]).returncode == 0
    items = [(f"big0-{i}", f"Post {i} of feed 0 {words[: 20 + i]}") for i in range(40)]
    items[5] = ("big0-5", "Post 5, revised")
    body = rss(*items, title="Big 0").replace("&lt;/p&gt;", f" {words}&lt;/p&gt;")
    feed_server.route("/big0.xml", body=body, etag='"b0-2"')
    items = [(f"big1-{i}", f"Post {i} of feed 1 {words[: 20 + i]}") for i in range(40)]
    body = rss(*items, title="Big 1").replace("&lt;/p&gt;", f" {words}&lt;/p&gt;")
    body = body.replace("</channel>", (
        "<item><title>Added</title><link>https://blog.example/big1-new</link><guid>"
        "https://blog.example/big1-new</guid><description>x</description></item></channel>"))
    feed_server.route("/big1.xml", body=body, etag='"b1-2"')
    third = json.loads(_pln_process(pln_home, "sync", "--json").stdout)
    assert [(r["status"], r["new"], r["updated"]) for r in third] == [
        ("ok", 0, 1), ("ok", 1, 0), ("not_modified", 0, 0)]
    listed = {r["id"]: r for r in json.loads(_pln_process(pln_home, "inbox", "--all", "--json").stdout)}
    assert len(listed) == 121
    assert listed[old["id"]]["title"] == "Post 5, revised" and listed[old["id"]]["read"] is True


def test_parse_workers_are_forked_only_from_a_single_threaded_process() -> None:
    import os
    import subprocess
    import sys

    from companion.sources import feed

    code = (
        "import threading, sys\n"
        "from companion.sources import feed\n"
        "if sys.argv[1] == 'threaded':\n"
        "    threading.Thread(target=threading.Event().wait, args=(5,), daemon=True).start()\n"
        "feed.prepare()\n"
        "print(feed._POOL._mp_context.get_start_method() if feed._POOL else feed._POOL)\n"
        "here = 0\n"
        "while (pool := feed._parse_pool()) is None:\n"
        "    here += 1\n"
        "print(here, pool._mp_context.get_start_method())\n"
        "feed.close()\n"
    )
    env = {**os.environ, "PLN_PARSE_PROCESSES": "2"}  # as on any multi-core machine
    out = {}
    for mode in ("single", "threaded"):
        r = subprocess.run([sys.executable, "-c", code, mode], env=env, capture_output=True,
                           text=True, timeout=60, check=False)
        assert r.returncode == 0, r.stderr
        out[mode] = r.stdout.split()
    assert out["single"] == ["fork", "0", "fork"]
    # fork() beside other threads is unsafe: the first few bodies are parsed here (cheaper
    # than starting a forkserver for them: issue 14), then a forkserver takes the rest
    assert out["threaded"] == ["None", str(feed._PARSE_HERE_FIRST), "forkserver"]


def test_html_entries_are_rendered_when_read_and_searchable_by_their_words(
    feed_server: FeedServer, pln_home: Path, cli: Any
) -> None:
    """An HTML entry's text is not stored at sync: its words are indexed (inline markup does
    not split a word), and the text is rendered from the stored HTML when it is read."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>B</title>'
        "<link>https://blog.example/</link><item><link>https://blog.example/x</link>"
        "<guid>x1</guid><pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate><description>"
        "&lt;p&gt;Peer de&lt;b&gt;sign&lt;/b&gt; &amp;amp; feedback&lt;/p&gt;&lt;p&gt;Second"
        " paragraph&lt;/p&gt;</description></item></channel></rss>"
    )
    follow(pln_home, feed_server.route("/f.xml", body=body))
    sync(cli)
    bodies = next(iter(json.loads(v) for k, v in inbox_files(pln_home).items() if k.startswith("bodies-")))
    (stored,) = bodies["bodies"].values()
    assert "<b>sign</b>" in stored["html"] and "text" not in stored
    (item,) = inbox(cli)
    assert item["title"] == "" and item["text"] == "Peer design & feedback\n\nSecond paragraph"
    assert "Peer design & feedback Second paragraph" in cli("inbox").stdout  # the summary
    assert [r["id"] for r in json.loads(cli("inbox", "--search", "DESIGN &", "--json").stdout)] == [item["id"]]
    shown = cli("show", item["id"]).stdout
    assert "Peer design & feedback\n\nSecond paragraph" in shown


def test_entry_html_kept_as_given_is_sanitized_whenever_it_is_read(
    feed_server: FeedServer, pln_home: Path, cli: Any
) -> None:
    """The fast path stores an entry's HTML as the feed gave it (sanitizing at sync was a fifth
    of a cold sync): scripts, handlers and terminal escapes must still never come out — not
    in show, --json, the summary, nor the words search finds. (An entry with a link that is
    not http(s) or mailto goes to feedparser, which sanitizes at sync.)"""
    from companion.sources.feed_parse import parse_feed

    hostile = (
        '<p onclick="steal()">Rubric <b>design</b></p><script>alert("pwned")</script>'
        '<style>p{color:red}</style><!-- hidden note --><a href="https://blog.example/ok" '
        'onmouseover="steal()">good</a><iframe name="frame"></iframe><img src="https://t.example/'
        'pixel.gif" onerror="steal()">'
        "<p>Bell&#7;&#27;[31mred</p>"
    )
    from html import escape

    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>B</title>'
        "<link>https://blog.example/</link><item><link>https://blog.example/x</link>"
        "<guid>x1</guid><pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate>"
        f"<description>{escape(hostile)}</description></item></channel></rss>"
    )
    parsed = parse_feed(body.encode(), {"Content-Type": "application/rss+xml"}, "u", "s")
    assert parsed.parser == "fast" and "<script>" in parsed.items[0].html  # kept as given
    follow(pln_home, feed_server.route("/f.xml", body=body))
    sync(cli)
    (item,) = inbox(cli)
    shown = json.loads(cli("show", item["id"], "--json").stdout)
    for bad in ("<script", "pwned", "onclick", "onmouseover", "onerror", "<iframe", "<style",
                "hidden note"):
        assert bad not in shown["html"], bad
        assert bad not in shown["text"], bad
    assert '<a href="https://blog.example/ok"' in shown["html"] and "Rubric design" in shown["text"]
    listing = cli("inbox", "--all").stdout  # (show marked it read)
    assert "Rubric design" in listing and "pwned" not in listing and "\x1b" not in listing
    text = cli("show", item["id"]).stdout
    assert "Rubric design" in text and "\x1b" not in text and "\x07" not in text
    for word in ("pwned", "steal", "hidden", "color"):
        assert json.loads(cli("inbox", "--all", "--search", word, "--json").stdout) == [], word
    assert len(json.loads(cli("inbox", "--all", "--search", "rubric design", "--json").stdout)) == 1


def test_a_worker_that_cannot_parse_a_body_fails_only_its_source(
    feed_server: FeedServer, pln_home: Path
) -> None:
    """Big bodies are parsed in worker processes while the fetch threads move on; an HTML
    page or broken XML there is that source's error, reported like any other."""
    words = " ".join(f"word{i}" for i in range(120))
    good = rss(*[(f"g{i}", f"Post {i}") for i in range(40)]).replace("&lt;/p&gt;", f" {words}&lt;/p&gt;")
    page = "<!doctype html><html><body>" + "<p>not a feed</p>" * 2000 + "</body></html>"
    broken = "\x00\x01 this is }{ no feed at all <<<" * 800
    assert min(len(good), len(page), len(broken)) > 20_000
    # more big feeds than may wait for a worker at once (16): each parse frees its place;
    # half of them gzipped (decompressed in the worker)
    import random
    import re

    noise = random.Random(5)
    goods = []
    for n in range(20):
        body = good.replace('<guid isPermaLink="false">', f'<guid isPermaLink="false">{n}-')
        if n % 2:  # (random words: compressed, it still needs a worker)
            body = re.sub("word1 ", lambda _: "".join(f"{noise.getrandbits(64):x} " for _ in range(30)),
                          body)
        goods.append(feed_server.route(f"/good{n}.xml", body=body, gzip=bool(n % 2)))
    follow(pln_home, *goods, feed_server.route("/page.html", body=page, content_type="text/html"),
           feed_server.route("/broken.xml", body=broken))
    r = _pln_process(pln_home, "sync", "--json")
    assert r.returncode == 0, r.stderr
    got = {res["label"].rsplit("/", 1)[-1]: res for res in json.loads(r.stdout)}
    assert [(got[f"good{n}.xml"]["status"], got[f"good{n}.xml"]["new"]) for n in range(20)] == [
        ("ok", 40)] * 20
    assert got["page.html"]["status"] == "error" and "not a feed" in got["page.html"]["error"]
    assert got["broken.xml"]["status"] == "error" and got["broken.xml"]["error"].startswith("not a feed")
    assert len(json.loads(_pln_process(pln_home, "inbox", "--all", "--json").stdout)) == 800


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")
def test_parse_workers_end_with_a_killed_pln(feed_server: FeedServer, pln_home: Path) -> None:
    """kill -9 (or the OOM killer) on a syncing pln must not leave its parse workers behind,
    waiting on their queue forever."""
    import os
    import signal
    import subprocess
    import time

    words = " ".join(f"word{i}" for i in range(120))
    body = rss(*[(f"k{i}", f"Post {i}") for i in range(40)]).replace("&lt;/p&gt;", f" {words}&lt;/p&gt;")
    follow(pln_home, *(feed_server.route(f"/slow{n}.xml", body=body, delay=0.5 * n) for n in range(6)))
    env = {**os.environ, "PLN_HOME": str(pln_home), "PLN_PARSE_PROCESSES": "2"}
    proc = subprocess.Popen([sys.executable, "-m", "companion", "sync"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def children() -> list[int]:
        out = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[1] == str(proc.pid) and fields[0] != "Z":  # ppid, not a zombie
                out.append(int(pid))
        return out

    deadline = time.monotonic() + 20
    while len(children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = children()
    assert len(workers) >= 2, "the sync did not start its parse workers"
    time.sleep(0.7)  # a worker is parsing the first feeds now
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in workers if Path(f"/proc/{p}").exists()
                 and Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"]
    for p in alive:  # (do not leave them to the next test either)
        os.kill(p, signal.SIGKILL)
    assert not alive, f"parse workers outlived pln: {alive}"
