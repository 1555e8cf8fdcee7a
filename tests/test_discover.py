"""`pln discover` end to end: a real Mastodon-API server (mastodon_mock) with several accounts
and hashtags, a real feed server for blogs and their autodiscovery, `pln sync`, a star — then
the suggestions and their evidence, exactly; and the same on a server without followed
hashtags or follow suggestions (a loopback proxy answering 404 for them)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.network_seed import by_url, handle, login, mock_server, source_id
from tests.proxy import Proxy

RSS = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>
<link>{base}/</link><description>x</description>{items}</channel></rss>"""
ITEM = "<item><title>{t}</title><link>{link}</link><guid>{link}</guid><category>fractions</category></item>"
PAGE = """<!doctype html><html><head><title>{t}</title>
<link rel="alternate" type="application/rss+xml" title="{t}" href="{feed}"></head><body>hi</body></html>"""


@pytest.fixture
def net(feed_server: Any) -> Any:
    """Who posts what (see the test for the expected evidence)."""
    fs = feed_server
    strips = fs.url("/math/paper-strips")
    fs.route("/math/feed.xml", body=RSS.format(title="Math feed", base=fs.base_url,
                                               items=ITEM.format(t="Fractions with paper strips", link=strips)))
    fs.route("/bob/", body=PAGE.format(t="Bob's class notes", feed="/bob/feed.xml"),
             content_type="text/html; charset=utf-8")
    fs.route("/bob/feed.xml", body=RSS.format(title="Bob's class notes", base=fs.url("/bob"), items=""))
    fs.route("/ivy/", body=PAGE.format(t="Ivy", feed="/math/feed.xml"), content_type="text/html")
    with mock_server() as srv:
        c = {u: srv.client(u) for u in ("alice", "bob", "carol", "dan", "erin", "frank", "ivy")}
        c["alice"].account_follow(c["alice"].account_lookup("ivy")["id"])
        c["alice"].tag_follow("pln")
        c["bob"].account_update_credentials(fields=[("Blog", fs.url("/bob/")),
                                                    ("Code", "https://github.com/bob")])
        c["ivy"].account_update_credentials(fields=[("Site", f'<a href="{fs.url("/ivy/")}">site</a>')])
        st = {
            "erin1": c["erin"].status_post("Retrieval practice #edtech"),
            "frank1": c["frank"].status_post(f"Loved this {strips} #edtech #mathchat"),
            "erin2": c["erin"].status_post("Exit tickets #edtech #mathchat"),
            "bob1": c["bob"].status_post("Strips again #edtech #fractions"),
            "carol1": c["carol"].status_post("Once #edtech #solo"),
            "frank2": c["frank"].status_post("Another #edtech thought"),
            "dan1": c["dan"].status_post(f"Must read {strips}?utm_source=masto #edtech"),
            "ivy1": c["ivy"].status_post("Folding #edtech #Fractions"),
        }
        time.sleep(1.1)  # dates are stored to the second: erin's last post is the newest
        st["erin3"] = c["erin"].status_post("Reading #pln #edtech")
        yield srv, fs, st


def prepare(cli: Any, base_url: str, fs: Any) -> dict[str, str]:
    login(cli, base_url)
    cli("source", "add", "home")
    cli("source", "add", "#edtech")
    cli("source", "add", fs.url("/math/feed.xml"), "--topic", "math")
    cli("sync")
    items = by_url(cli)
    cli("star", items[fs.url("/math/paper-strips")]["id"])
    return {u: i["id"] for u, i in items.items()}


def newest_first(cli: Any, *ids: str) -> list[str]:
    """Evidence order: newest first; statuses of the same second (dates are stored to the
    second) by id, so the order never depends on the input's."""
    published = {i["id"]: i["published"] for i in by_url(cli).values()}
    return sorted(ids, key=lambda i: (published[i], i), reverse=True)


def test_suggestions_and_their_evidence(cli: Any, net: Any) -> None:
    srv, fs, st = net
    ids = prepare(cli, srv.base_url, fs)
    sid = {k: ids[v["url"]] for k, v in st.items()}
    authors = {i["id"]: i["author"]["handle"] or "Math feed" for i in by_url(cli).values()}
    star = ids[fs.url("/math/paper-strips")]
    res = cli("discover", "--json")
    got = json.loads(res.stdout)
    assert got["notes"] == []
    people = [(p["handle"], p["score"], p["evidence"]["hashtag_posts"],
               p["evidence"]["hashtags"], [e["id"] for e in p["evidence"]["posts"]],
               [(s["item"], s["statuses"]) for s in p["evidence"]["starred_links"]],
               p["evidence"]["suggested_by_instance"]) for p in got["people"]]
    assert people == [
        # two posts in #edtech, shared the link you starred, suggested by the instance
        (handle("frank"), 6, 2, [{"tag": "edtech", "posts": 2}],
         newest_first(cli, sid["frank2"], sid["frank1"]),
         [(star, [sid["frank1"]])], True),
        # three posts in your hashtags (#pln is followed on the server) + suggested
        # (ahead of dan at the same score: her evidence is more recent)
        (handle("erin"), 4, 3, [{"tag": "edtech", "posts": 3}, {"tag": "pln", "posts": 1}],
         [sid["erin3"], *newest_first(cli, sid["erin2"], sid["erin1"])], [], True),
        # one #edtech post is not "often"; shared the starred link (utm_ dropped) + suggested
        (handle("dan"), 4, 0, [], [], [(star, [sid["dan1"]])], True),
        # the instance's suggestions alone (carol posted once; gina never)
        (handle("carol"), 1, 0, [], [], [], True),
        (handle("gina"), 1, 0, [], [], [], True),
    ]
    assert got["people"][0]["command"] == f"pln follow {handle('frank')}"
    assert got["people"][0]["evidence"]["instance_reason"] == "featured"
    assert got["people"][0]["latest"] == by_url(cli)[st["frank2"]["url"]]["published"]

    tags = [(t["tag"], t["score"], t["evidence"]["voices"], t["evidence"]["posts"],
             t["evidence"]["with_topics"], [e["id"] for e in t["evidence"]["items"]])
            for t in got["hashtags"]]
    fractions = newest_first(cli, sid["ivy1"], sid["bob1"], star)
    mathchat = newest_first(cli, sid["erin2"], sid["frank1"])
    assert tags == [
        ("fractions", 3, [authors[i] for i in fractions], 3,
         [{"topic": "edtech", "posts": 2}, {"topic": "math", "posts": 1}], fractions),
        ("mathchat", 2, [authors[i] for i in mathchat], 2,
         [{"topic": "edtech", "posts": 2}], mathchat),
    ]
    # ivy's site names the math feed, already a source; bob's GitHub is never fetched
    assert got["blogs"] == [{
        "feed": fs.url("/bob/feed.xml"), "title": "Bob's class notes",
        "evidence": {"handle": handle("bob"), "name": "Bob", "url": "https://mock.local/@bob",
                     "field": "Blog", "website": fs.url("/bob/"), "statuses_in_period": 1},
        "command": f"pln source add {fs.url('/bob/feed.xml')}",
    }]
    assert fs.hits("/bob/") == 1 and fs.hits("/ivy/") == 1

    text = cli("discover").stdout
    assert text.startswith("People to follow (5)\n")
    assert f"  {handle('frank')}  Frank  score 6\n    2 posts in #edtech (2) · shared 1 link you " \
           "starred · suggested by your instance (featured)\n" in text
    assert f"    ★ {star} Fractions with paper strips\n    pln follow {handle('frank')}\n" in text
    assert "Hashtags used with your topics (2)\n  #fractions  3 people, 3 posts, with edtech (2), " \
           "math (1)\n" in text
    assert f"Blogs of people you follow (1)\n  Bob's class notes  {fs.url('/bob/feed.xml')}\n" \
           f"    from {handle('bob')} (Blog: {fs.url('/bob/')})\n" \
           f"    pln source add {fs.url('/bob/feed.xml')}\n" in text
    # websites are checked once a week, not on every run
    assert fs.hits("/bob/") == 1

    # following a suggestion takes it off the list
    cli("follow", handle("frank"))
    cli("source", "add", fs.url("/bob/feed.xml"))
    again = json.loads(cli("discover", "--json").stdout)
    assert [p["handle"] for p in again["people"]] == [handle(u) for u in ("erin", "dan", "carol", "gina")]
    assert again["blogs"] == []


def test_a_server_without_followed_hashtags_or_suggestions(cli: Any, net: Any) -> None:
    """Suggestions still come from the inbox; what the server lacks is said, exit 0."""
    srv, fs, st = net
    missing = (r"^/api/v1/followed_tags", r"^/api/v\d/suggestions")
    with Proxy(srv.base_url) as proxy:
        proxy.lack(*missing)
        ids = prepare(cli, proxy.base_url, fs)
        sid = {k: ids[v["url"]] for k, v in st.items()}
        host = proxy.base_url.split("://")[1]
        got = json.loads(cli("discover", "--json").stdout)
        assert got["notes"] == [f"{host} has no followed hashtags: your hashtags are your #tag sources",
                                f"{host} offers no follow suggestions"]
        assert [(p["handle"], p["score"], p["evidence"]["hashtags"]) for p in got["people"]] == [
            (handle("frank"), 5, [{"tag": "edtech", "posts": 2}]),
            (handle("erin"), 3, [{"tag": "edtech", "posts": 3}]),  # #pln is not known as yours
            (handle("dan"), 3, []),
        ]
        # #pln is no longer one of your hashtags: erin used it with #edtech, alone
        assert [(t["tag"], t["score"]) for t in got["hashtags"]] == [("fractions", 3), ("mathchat", 2)]
        assert [e["id"] for e in got["hashtags"][1]["evidence"]["items"]] == newest_first(
            cli, sid["erin2"], sid["frank1"])
        res = cli("discover")
        assert f"warning: {host} offers no follow suggestions" in res.stderr
        assert res.stdout.startswith("People to follow (3)")


def test_without_an_account_discover_uses_the_inbox(cli: Any, net: Any) -> None:
    srv, fs, _ = net
    prepare(cli, srv.base_url, fs)
    cli("logout", "alice")
    got = json.loads(cli("discover", "--json").stdout)
    assert got["notes"][0].startswith("no account logged in")
    assert got["blogs"] == []
    assert handle("frank") in [p["handle"] for p in got["people"]]
    home = source_id(cli, "home")
    assert home  # the sources are untouched


def test_bad_since_and_unknown_account(cli: Any) -> None:
    res = cli("discover", "--since", "soon", code=2)
    assert "bad --since 'soon'" in res.stderr
    res = cli("discover", "--account", "work", code=2)
    assert "no Mastodon account is logged in" in res.stderr or "no account named 'work'" in res.stderr


def test_an_empty_inbox_has_nothing_to_suggest(cli: Any) -> None:
    res = cli("discover")
    assert res.stdout.startswith("nothing to suggest from ")
    assert "no account logged in" in res.stderr
