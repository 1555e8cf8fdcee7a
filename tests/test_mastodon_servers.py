"""Real servers differ (issue 4): non-numeric 42-character hex status ids end to end, pages
with and without Link headers, 206 answers, and hosts that refuse unauthenticated API access
(followed through their public RSS instead). Served from a real HTTP server on loopback with
recorded Mastodon statuses as templates; ``srv.requests`` counts requests on the server side."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from companion.credentials import Account, Credentials
from tests.feedserver import FeedServer
from tests.test_mastodon_corpus import response

HOME = "/api/v1/timelines/home"


def hex_id(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()[:42]  # like some non-Mastodon servers


def template() -> dict[str, Any]:
    _, _, body = response("test_home_tl.yaml", 1)
    statuses = [s for s in json.loads(body) if not s.get("reblog")]
    return statuses[0]  # type: ignore[no-any-return]


def make_status(n: int, when: datetime) -> dict[str, Any]:
    st = copy.deepcopy(template())
    sid = hex_id(n)
    st.update(
        id=sid,
        uri=f"https://hex.example/objects/{sid}",
        url=f"https://hex.example/notice/{sid}",
        created_at=when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        content=f"<p>status number {n}</p>",
        in_reply_to_id=None,
        reblog=None,
        poll=None,
        card=None,
    )
    return st


def body(statuses: list[dict[str, Any]]) -> bytes:
    return json.dumps(statuses).encode()


def log_in_to(srv: FeedServer, pln_home: Path) -> None:
    creds = Credentials.load(pln_home / "credentials.json")
    creds.put_account(Account("me", srv.base_url, "hex-token", "@me@hex.example", hex_id(-1)))


def sync(cli: Any, code: int = 0) -> dict[str, Any]:
    (res,) = json.loads(cli("sync", "--json", code=code).stdout)
    return res  # type: ignore[no-any-return]


def test_hex_ids_end_to_end_with_and_without_link_headers(
    cli: Any, feed_server: FeedServer, pln_home: Path
) -> None:
    now = datetime.now(UTC)
    statuses = [make_status(n, now - timedelta(minutes=n + 1)) for n in range(45)]  # newest first
    first, last = statuses[0]["id"], statuses[39]["id"]
    link = (f'<{feed_server.base_url}{HOME}?max_id={last}&limit=40>; rel="next", '
            f'<{feed_server.base_url}{HOME}?min_id={first}&limit=40>; rel="prev"')
    feed_server.route(HOME, body=body(statuses[:40]), content_type="application/json",
                      headers={"Link": link})
    feed_server.route(f"{HOME}?max_id={last}&limit=40", body=body(statuses[40:]),
                      content_type="application/json")  # the last page: no Link header
    feed_server.route(f"{HOME}?min_id={first}&limit=40", body=b"[]",
                      content_type="application/json")
    log_in_to(feed_server, pln_home)
    cli("source", "add", "home")

    res = sync(cli)
    assert res["status"] == "ok" and res["new"] == 45
    assert [r[1] for r in feed_server.requests] == [f"{HOME}?limit=40", f"{HOME}?max_id={last}&limit=40"]
    got = json.loads(cli("inbox", "--json", "--limit", "100").stdout)
    assert {i["url"] for i in got} == {s["url"] for s in statuses}
    assert got[0]["text"] == "status number 0"  # ordered by created_at, newest first

    feed_server.requests.clear()
    res = sync(cli)
    assert res["status"] == "not_modified"
    assert [r[1] for r in feed_server.requests] == [f"{HOME}?min_id={first}&limit=40"]

    # news, served without any Link header: the cursor comes from the page itself
    new = make_status(100, now)
    feed_server.route(f"{HOME}?min_id={first}&limit=40", body=body([new]),
                      content_type="application/json", status=206)  # 206: being rebuilt
    feed_server.route(f"{HOME}?min_id={new['id']}&limit=40", body=b"[]",
                      content_type="application/json")
    feed_server.requests.clear()
    res = sync(cli)
    assert res["new"] == 1 and len(feed_server.requests) == 1
    feed_server.requests.clear()
    res = sync(cli)
    assert res["status"] == "not_modified"
    assert [r[1] for r in feed_server.requests] == [f"{HOME}?min_id={new['id']}&limit=40"]
    # the token went in the Authorization header only, never in a URL
    assert all("hex-token" not in r[1] for r in feed_server.requests)


RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>#edtech</title><link>{base}/tags/edtech</link>
<item><guid isPermaLink="true">{base}/@bob/111</guid><link>{base}/@bob/111</link>
<pubDate>{date}</pubDate>
<description>&lt;p&gt;Public post about &lt;a href="{base}/tags/edtech" class="mention hashtag"&gt;#edtech&lt;/a&gt; and &lt;a href="https://example.org/story?utm_medium=x"&gt;a story&lt;/a&gt;&lt;/p&gt;</description>
<category>edtech</category>
<media:content url="https://files.example/a.png" type="image/png" medium="image"><media:description>a chart</media:description></media:content>
</item></channel></rss>
"""


def test_tag_on_a_host_refusing_public_api_falls_back_to_rss(
    cli: Any, feed_server: FeedServer
) -> None:
    base = feed_server.base_url
    feed_server.route("/api/v1/timelines/tag/edtech", status=422, content_type="application/json",
                      body=b'{"error":"This method requires an authenticated user"}')
    date = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    feed_server.route("/tags/edtech.rss", body=RSS.format(base=base, date=date).encode(),
                      etag='"v1"')
    cli("source", "add", f"#edtech@127.0.0.1:{feed_server.port}")
    res = sync(cli)
    assert res["status"] == "ok" and res["new"] == 1
    assert any("refuses unauthenticated API access; following its public RSS feed" in n
               for n in res["notes"]), res
    (item,) = json.loads(cli("inbox", "--json").stdout)
    host = f"127.0.0.1:{feed_server.port}"
    assert item["author"]["handle"] == f"@bob@{host}"
    assert item["url"] == f"{base}/@bob/111"
    assert item["link"] == "https://example.org/story"
    assert item["tags"] == ["edtech"]
    assert item["media"] == [{"url": "https://files.example/a.png", "alt": "a chart"}]
    # keyed by the status's ActivityPub uri, as the API would give it: one item either way
    import feedparser

    from companion.sources.mastodon_items import normalize_rss_entry

    entry = feedparser.parse(RSS.format(base=base, date=date)).entries[0]
    assert normalize_rss_entry(entry, host=host).key == f"{base}/users/bob/statuses/111"
    # next sync: the API is not asked again today; the feed is asked conditionally
    feed_server.requests.clear()
    res = sync(cli)
    assert res["status"] == "not_modified"
    assert [(r[1], r[2].get("If-None-Match")) for r in feed_server.requests] == [
        ("/tags/edtech.rss", '"v1"')]


def test_account_on_a_host_refusing_public_api_falls_back_to_rss(
    cli: Any, feed_server: FeedServer
) -> None:
    base = feed_server.base_url
    feed_server.route("/api/v1/accounts/lookup", status=401, content_type="application/json",
                      body=b'{"error":"This API requires an authenticated user"}')
    date = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    feed_server.route("/@bob.rss", body=RSS.format(base=base, date=date).encode())
    cli("source", "add", f"@bob@127.0.0.1:{feed_server.port}")
    res = sync(cli)
    assert res["status"] == "ok" and res["new"] == 1
    assert any("public RSS feed" in n for n in res["notes"])
    human = cli("sync")
    assert "0 errors" in human.stdout


def test_refused_and_no_rss_is_one_clear_error(cli: Any, feed_server: FeedServer) -> None:
    feed_server.route("/api/v1/timelines/tag/edtech", status=403, content_type="application/json",
                      body=b'{"error":"forbidden"}')
    cli("source", "add", f"#edtech@127.0.0.1:{feed_server.port}")
    res = sync(cli)
    assert res["status"] == "error"
    assert res["error"] == (
        f"127.0.0.1:{feed_server.port} refuses unauthenticated API access and its RSS feed "
        f"{feed_server.base_url}/tags/edtech.rss answered 404"
    )
