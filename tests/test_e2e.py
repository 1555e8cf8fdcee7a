"""End to end, through `pln` and real loopback servers: a blog's feed and the people on a
Mastodon server who share its posts become one story (PRODUCT.md: "One item, many paths")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.feedserver import FeedServer

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Dana teaches math</title><link>https://blog.example/</link>
<item><title>Fractions with paper strips</title><link>https://blog.example/posts/1</link>
<guid>https://blog.example/posts/1</guid><pubDate>{date}</pubDate>
<description>&lt;p&gt;Fold, cut, compare.&lt;/p&gt;</description></item>
<item><title>Number talks</title><link>https://blog.example/posts/2</link>
<guid>https://blog.example/posts/2</guid><pubDate>{date}</pubDate>
<description>&lt;p&gt;Five minutes a day.&lt;/p&gt;</description></item>
</channel></rss>"""


def test_feed_and_network_join_into_one_story(feed_server: FeedServer, mastodon: Any, cli: Any,
                                               pln_home: Path) -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    date = format_datetime(datetime.now(UTC) - timedelta(hours=3), usegmt=True)
    feed = feed_server.route("/feed.xml", body=FEED.format(date=date), etag='"v1"')
    host = urlsplit(mastodon.base_url).netloc
    # people share the post with tracking parameters, a fragment, http://, www. …
    mastodon.client("alice").status_post(
        "Great piece https://blog.example/posts/1?utm_source=mastodon&utm_medium=social #edtech")
    mastodon.client("bob").status_post("Read this http://www.blog.example/posts/1/#comments #edtech")
    mastodon.client("carol").status_post(
        "A long reflection of my own on why folding paper works so well in year 5, and what I "
        "changed after trying it for a term: https://blog.example/posts/1 #edtech")
    mastodon.client("bob").status_post("Unrelated thought about #edtech and nothing else")

    cli("source", "add", feed, "--topic", "math")
    cli("source", "add", f"#edtech@{host}", "--topic", "edtech")
    r = cli("sync")
    assert r.stdout.strip().endswith("2 ok, 0 not modified, 0 errors; 6 new")

    items = json.loads(cli("inbox", "--json").stdout)
    story = next(i for i in items if i["title"] == "Fractions with paper strips")
    sharers = story["shared_by"]
    assert len(sharers) == 3 and all(h.startswith(("@alice@", "@bob@", "@carol@")) for h in sharers)
    statuses = [i for i in items if i["kind"] == "status"]
    assert len(statuses) == 4

    # what my network is reading: one link, three people, and it is in a followed feed
    links = json.loads(cli("inbox", "--links", "--since", "1d", "--json").stdout)
    assert links[0]["count"] == 3 and links[0]["in_feed"] and links[0]["item"] == story["id"]
    assert links[0]["title"] == "Fractions with paper strips"
    table = cli("inbox", "--links", "--since", "1d").stdout.splitlines()
    assert table[1].split()[:3] == ["3", story["id"], "Fractions"]

    # reading the story reads the plain shares (alice, bob), not carol's own reflection
    cli("read", story["id"][:5])
    left = {(i["author"]["handle"] or i["title"]).split("@")[1] if i["kind"] == "status" else i["title"]
            for i in json.loads(cli("inbox", "--json").stdout)}
    assert left == {"carol", "bob", "Number talks"}  # bob: his unrelated status
    shown = cli("show", story["id"], "--no-mark").stdout
    assert "shared by 3:" in shown

    # a second sync with no news: one request per source, nothing new
    before = feed_server.hits("/feed.xml")
    r = cli("sync")
    assert r.stdout.strip().endswith("; 0 new")
    assert feed_server.hits("/feed.xml") == before + 1


def test_source_add_says_which_feed_it_chose(feed_server: FeedServer, cli: Any) -> None:
    posts = feed_server.route("/posts.xml", body=FEED.format(date="Mon, 23 Nov 2026 10:00:00 GMT"))
    comments = feed_server.route("/comments.xml", body=FEED.format(date="Mon, 23 Nov 2026 10:00:00 GMT"))
    page = feed_server.route("/", content_type="text/html", body=(
        "<!doctype html><html><head>"
        f'<link rel="alternate" type="application/rss+xml" title="Comments" href="{comments}">'
        f'<link rel="alternate" type="application/rss+xml" title="Posts" href="{posts}">'
        "</head><body>hi</body></html>"))
    r = cli("source", "add", page)
    assert "names 2 feeds; chose" in r.stderr
    assert r.stdout.startswith("added ") and "Dana teaches math" in r.stdout
