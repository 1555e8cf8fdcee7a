"""Bluesky accounts through their public profile RSS, from a loopback server that answers
as bsky.app does (bskyweb's WebProfileRSS): a handle redirects (302) to its DID's feed, the
XML is Go's encoding/xml on one line (``&#34;``, ``&#xA;``), items have no title, the text
is plain text with shortened links expanded, ``pubDate`` is to the minute and the guid is
the post's ``at://`` URI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from tests import newsletters as nl

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
DID = "did:plc:4w3lx5jmokfvihilz4q3pmc7"
HANDLE = "ms-lee.bsky.social"


def go_xml(text: str) -> str:
    """Escape character data as Go's encoding/xml does."""
    return escape(text).replace('"', "&#34;").replace("'", "&#39;").replace(
        "\n", "&#xA;").replace("\t", "&#x9;").replace("\r", "&#xD;")


def pubdate(dt: datetime) -> str:
    return dt.strftime("%d %b %Y %H:%M +0000")  # Go's "02 Jan 2006 15:04 -0700"


POSTS = [  # (rkey, minutes ago, text)
    ("3lbx2k7q5js2c", 30,
     ("New on the blog: how I run exit tickets in Year 9 maths, and what changed when I let "
      f"students write the questions.\n\n{nl.ARTICLE}?utm_source=bsky&utm_medium=social")),
    ("3lbwzq4mfe22x", 180,
     ("Retrieval practice, the short version: cultofpedagogy.com/retrieval-practice (thanks "
      "@jennifer.bsky.social!)\nhttps://www.cultofpedagogy.com/retrieval-practice/")),
    ("3lbwtc2cakk2p", 600,
     ("Thanks to everyone at the district PD day — \"best session in years\" <3 & see you in "
      "March.\n\nSlides: bsky.app/profile/ms-lee.bsky.social/post/3lbwtc2cakk2p")),
    ("3lbvkd6ddds2a", 1500, "So true 👇\n\n[contains quote post or other embedded content]"),
    ("3lbuqz3xh4c2k", 60 * 24 * 9, ("An old post from before the first sync window: "
                                    "https://www.example.edu/old-news")),
    ("3lbuoaj2xyk2t", 60 * 24 + 5, "read this: nytimes.com/2026/11/28/us/teachers-ai-gradi..."),
]


def profile_rss(host: str) -> bytes:
    items = "".join(
        f"<item><link>https://{host}/profile/{HANDLE}/post/{rkey}</link>"
        f"<description>{go_xml(text)}</description>"
        f"<pubDate>{pubdate(NOW - timedelta(minutes=ago))}</pubDate>"
        f'<guid isPermaLink="false">at://{DID}/app.bsky.feed.post/{rkey}</guid></item>'
        for rkey, ago, text in POSTS)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<description>{go_xml('Maths teacher, Year 9 lead. She/her. Views my own.')}</description>"
            f"<link>https://{host}/profile/{HANDLE}</link>"
            f"<title>{go_xml('@' + HANDLE + ' - Ms Lee 🧮')}</title>{items}</channel></rss>"
            ).encode()


@pytest.fixture
def bsky(feed_server, pln_home: Path, cli):  # type: ignore[no-untyped-def]
    """A bsky.app-shaped server on loopback, and pln pointed at it."""
    host = f"127.0.0.1:{feed_server.port}"
    feed_server.route(f"/profile/{HANDLE}/rss", status=302,
                      headers={"Location": f"/profile/{DID}/rss"})
    feed_server.route(f"/profile/{DID}/rss", body=profile_rss(host),
                      content_type="application/xml; charset=UTF-8")
    cli("init", "--empty")
    cfg = pln_home / "config.toml"
    cfg.write_text(cfg.read_text().replace(
        "[settings]\n", f'[settings]\nbluesky_base = "{feed_server.base_url}"\n'))
    return feed_server


def items(cli) -> list[dict]:  # type: ignore[no-untyped-def]
    return json.loads(cli("inbox", "--all", "--json").stdout)


def test_a_bluesky_account_syncs_its_posts(cli, bsky) -> None:  # type: ignore[no-untyped-def]
    r = cli("source", "add", f"@{HANDLE}", "--topic", "maths")
    assert r.stdout.startswith("added ") and f"@{HANDLE}" in r.stdout
    [res] = json.loads(cli("sync", "--json").stdout)
    assert (res["status"], res["new"]) == ("ok", 5)  # the 9-day-old post is before the window
    got = sorted(items(cli), key=lambda i: i["published"], reverse=True)
    first = got[0]
    assert first["kind"] == "status"
    assert first["author"] == {"name": "Ms Lee 🧮", "handle": f"@{HANDLE}",
                               "url": f"{bsky.base_url}/profile/{HANDLE}"}
    assert first["url"] == f"https://{bsky.base_url[7:]}/profile/{HANDLE}/post/3lbx2k7q5js2c"
    assert first["published"] == (NOW - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert first["text"].startswith("New on the blog: how I run exit tickets")
    assert first["link"] == "https://www.edutopia.org/article/exit-tickets-that-work"
    # plain text stays text: quotes, "<3" and "&" as written, line breaks kept
    pd = next(i for i in got if "district PD day" in i["text"])
    assert 'day — "best session in years" <3 & see you' in pd["text"]
    assert pd["text"].endswith("\n\nSlides: bsky.app/profile/ms-lee.bsky.social/post/3lbwtc2cakk2p")
    assert pd["link"] is None  # a link to Bluesky itself shares no story
    retrieval = next(i for i in got if i["text"].startswith("Retrieval practice"))
    assert retrieval["link"] == "https://cultofpedagogy.com/retrieval-practice"
    # a link the app left shortened is not a link
    assert next(i for i in got if i["text"].startswith("read this"))["link"] is None
    shown = cli("show", first["id"]).stdout
    assert "exit tickets" in shown
    # the item is keyed by the post's at:// URI
    key = cli("show", first["id"], "--json").stdout
    assert json.loads(key)["id"] == first["id"]
    # a second sync: the same posts are not new
    [res] = json.loads(cli("sync", "--json").stdout)
    assert (res["new"], res["updated"]) == (0, 0)


def test_a_post_link_joins_the_story_from_a_feed(cli, bsky) -> None:  # type: ignore[no-untyped-def]
    pub = (NOW - timedelta(days=2)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    cli("source", "add", bsky.route("/edutopia.xml", body=f"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Edutopia</title><link>https://www.edutopia.org/</link>
<item><title>Exit Tickets That Work</title><link>{nl.ARTICLE}</link><guid>{nl.ARTICLE}</guid>
<pubDate>{pub}</pubDate></item></channel></rss>"""))
    cli("source", "add", f"bsky:{HANDLE}")
    cli("sync")
    story = next(i for i in items(cli) if i["title"] == "Exit Tickets That Work")
    assert story["shared_by"] == [f"@{HANDLE}"]
    [top, *_] = json.loads(cli("inbox", "--links", "--json").stdout)
    assert top["people"] == [f"@{HANDLE}"] and top["in_feed"] is True


def test_conditional_get(cli, bsky) -> None:  # type: ignore[no-untyped-def]
    bsky.routes[f"/profile/{DID}/rss"].etag = '"v1"'
    cli("source", "add", f"@{HANDLE}")
    cli("sync")
    [res] = json.loads(cli("sync", "--json").stdout)
    assert res["status"] == "not_modified"
    assert bsky.requests[-1][2].get("If-None-Match") == '"v1"'


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (404, "no Bluesky account @nobody.bsky.social"),
        (400, "no Bluesky account @nobody.bsky.social"),
        (403, "does not show posts to logged-out readers"),
        (500, "Bluesky @nobody.bsky.social: HTTP 500"),
    ],
)
def test_errors_are_one_failed_source(cli, bsky, status: int, message: str) -> None:  # type: ignore[no-untyped-def]
    bsky.route("/profile/nobody.bsky.social/rss", status=status, body="account not found",
               content_type="text/plain")
    cli("source", "add", "@nobody.bsky.social")
    cli("source", "add", f"@{HANDLE}")
    r = cli("sync")
    assert message in r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert len(items(cli)) == 5  # the other account synced


def test_not_a_feed(cli, bsky) -> None:  # type: ignore[no-untyped-def]
    bsky.route("/profile/page.bsky.social/rss", body="<html><body>Log in</body></html>",
               content_type="text/html")
    cli("source", "add", "@page.bsky.social")
    r = cli("sync")
    assert "did not answer with a profile RSS feed" in r.stdout + r.stderr


def test_opml_export_and_import_through_the_cli(cli, pln_home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    box = tmp_path / "Maildir"
    nl.make_maildir(box, [])
    cli("source", "add", f"@{HANDLE}", "--name", "Ms Lee", "--topic", "maths")
    cli("source", "add", f"maildir:{box}")
    r = cli("source", "export")
    assert f'xmlUrl="https://bsky.app/profile/{HANDLE}/rss"' in r.stdout
    assert str(box) not in r.stdout
    assert f"not exported: maildir:{box}" in r.stderr and "a mailbox has no public feed" in r.stderr
    opml = tmp_path / "pln.opml"
    opml.write_text(r.stdout)
    before = json.loads(cli("source", "list", "--json").stdout)
    (pln_home / "config.toml").unlink()
    r = cli("source", "import", str(opml))
    assert r.stdout.strip() == "imported 1 source"
    [back] = json.loads(cli("source", "list", "--json").stdout)
    assert (back["id"], back["kind"], back["spec"], back["name"], back["topics"]) == (
        before[0]["id"], "bluesky", f"@{HANDLE}", "Ms Lee", ["maths"])
