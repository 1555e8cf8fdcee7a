"""`pln source add` on a web page finds its feed through <link rel="alternate"> (issue 3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from companion.service import Companion
from tests.feedserver import FeedServer
from tests.test_feed_sync import rss

ATOM = (
    '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
    "<title>Comments on the blog</title><id>tag:blog.example,2026:comments</id></feed>"
)


def page(*links: str) -> str:
    return (
        "<!DOCTYPE html><html><head><title>A teacher's blog</title>"
        + "".join(links)
        + "</head><body><p>Welcome</p></body></html>"
    )


def sources(cli: Any) -> list[dict[str, Any]]:
    return json.loads(cli("source", "list", "--json").stdout)


def test_add_feed_url_directly(feed_server: FeedServer, cli: Any) -> None:
    url = feed_server.route("/feed.xml", body=rss(("a1", "Hi"), title="Teacher blog"))
    out = cli("source", "add", url).stdout
    assert out.strip().endswith("Teacher blog")
    [s] = sources(cli)
    assert s["spec"] == url and s["name"] == "Teacher blog"


def test_add_page_with_one_feed(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    feed = feed_server.route("/blog/feed.xml", body=rss(("a1", "Hi"), title="Teacher blog"))
    url = feed_server.route(
        "/blog/", body=page('<link rel="alternate" type="application/rss+xml" '
                            'title="RSS" href="feed.xml">'), content_type="text/html")
    cli("source", "add", url, "--name", "Mine")
    [s] = sources(cli)
    assert s["spec"] == feed and s["name"] == "Mine"
    assert f'url = "{feed}"' in (pln_home / "config.toml").read_text()


def test_add_page_with_several_feeds_says_which(feed_server: FeedServer) -> None:
    comments = feed_server.route("/comments.xml", body=ATOM, content_type="application/atom+xml")
    main = feed_server.route("/feed.json", body=json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "title": "JSON blog", "items": []}),
        content_type="application/feed+json")
    url = feed_server.route("/", body=page(
        f'<link rel="alternate" type="application/atom+xml" title="Comments" href="{comments}">',
        '<link rel="alternate" type="application/feed+json" title="Posts" href="/feed.json">',
        '<link rel="stylesheet" href="/style.css">'), content_type="text/html")
    spec = Companion().add_source(url)
    assert spec.target == main and spec.name == "JSON blog"
    [note] = spec.extra["notes"]
    assert note.startswith(f"{url} names 2 feeds; chose {main} (Posts)")
    assert comments in note


def test_add_page_without_feed(feed_server: FeedServer, pln_home: Path, cli: Any) -> None:
    url = feed_server.route("/", body=page('<link rel="icon" href="/favicon.ico">'),
                            content_type="text/html")
    res = cli("source", "add", url, code=2)
    assert "is not a feed and names no feed" in res.stderr
    assert not (pln_home / "config.toml").exists() or "[[sources]]" not in (
        pln_home / "config.toml").read_text()


def test_add_not_a_feed_at_all(feed_server: FeedServer, cli: Any) -> None:
    url = feed_server.route("/data", body="just some text", content_type="text/plain")
    res = cli("source", "add", url, code=2)
    assert "is not a feed and names no feed" in res.stderr


def test_add_unreachable_or_missing(feed_server: FeedServer, cli: Any) -> None:
    res = cli("source", "add", feed_server.url("/missing.xml"), code=2)
    assert "HTTP 404 Not Found" in res.stderr
    res = cli("source", "add", "http://127.0.0.1:9/feed.xml", code=2)
    assert "cannot add http://127.0.0.1:9/feed.xml: cannot reach 127.0.0.1:9" in res.stderr


def test_add_twice_needs_no_network(feed_server: FeedServer, cli: Any) -> None:
    url = feed_server.route("/feed.xml", body=rss(("a1", "Hi")))
    cli("source", "add", url)
    res = cli("source", "add", url, code=2)
    assert "already following" in res.stderr
    assert feed_server.hits("/feed.xml") == 1
