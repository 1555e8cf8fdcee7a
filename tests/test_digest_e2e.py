"""`pln digest` end to end: a blog on the loopback feed server, people on a Mastodon server
(mastodon_mock) who share its posts, boost, reply and talk in a hashtag, and a reflection the
user posts with `pln post` and gets a reply to — all synced with `pln sync`, then digested."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from tests.feedserver import FeedServer

ITEM = """<item><title>{title}</title><link>{link}</link><guid>{link}</guid>
<pubDate>{date}</pubDate><description>&lt;p&gt;{title}.&lt;/p&gt;</description></item>"""


@pytest.fixture
def network() -> Any:
    """A Mastodon server where alice (the user) follows bob and frank, not carol or erin."""
    from mastodon_mock.config import SeedAccount, SeedConfig, SeedFollow
    from mastodon_mock.testing.server import MockServer

    seed = SeedConfig(
        accounts=[SeedAccount(username=u, display_name=u.title(), access_token=f"{u}_token")
                  for u in ("alice", "bob", "carol", "erin", "frank")],
        follows=[SeedFollow(follower="alice", following="bob"),
                 SeedFollow(follower="alice", following="frank")],
    )
    with MockServer(seed=seed) as srv:
        yield srv


def test_digest_of_a_synced_network(cli: Any, network: Any, feed_server: FeedServer,
                                    pln_home: Path) -> None:
    now = datetime.now(UTC)
    posts = [(f"/posts/{n}", title, now - timedelta(hours=h)) for n, title, h in
             ((1, "Fractions with paper strips", 3), (2, "Number talks", 5), (3, "Exit tickets", 30))]
    items = "".join(ITEM.format(title=t, link=feed_server.url(p), date=format_datetime(d, usegmt=True))
                    for p, t, d in posts)
    feed = feed_server.route("/feed.xml", body=(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Dana teaches math</title><link>{feed_server.url('/')}</link>{items}</channel></rss>"))
    post1 = feed_server.url("/posts/1")
    bob, carol, erin, frank = (network.client(u) for u in ("bob", "carol", "erin", "frank"))
    shared = bob.status_post(f"Worth your time: {post1} #edtech")
    carol.status_post(f"Folding paper, finally: {post1}?utm_source=mastodon #edtech")
    frank.status_reblog(shared)
    erin.status_post("Warm-ups that work #edtech")
    question = erin.status_post("Who uses number talks? #edtech")
    frank.status_post("@erin every morning #edtech", in_reply_to_id=question["id"])
    carol.status_post("@erin me, twice a week #edtech", in_reply_to_id=question["id"])

    cli("login", network.base_url, "--token", "alice_token")
    cli("source", "add", feed, "--topic", "math", "--name", "Dana teaches math")
    cli("source", "add", "home")
    cli("source", "add", "#edtech")
    cli("source", "add", "mentions")
    cli("sync")
    listed = json.loads(cli("inbox", "--all", "--json").stdout)
    story = next(i for i in listed if i["title"] == "Fractions with paper strips")

    # the user reflects on the story; bob answers on the server; the next sync brings it in
    refl = json.loads(cli("post", "Paper strips made 3/4 > 2/3 obvious.", "--on", story["id"],
                          "--json").stdout)
    status_id = refl["accounts"][0]["parts"][0]["status_id"]
    bob.status_post("@alice lovely, trying it tomorrow", in_reply_to_id=status_id)
    cli("star", story["id"])
    cli("sync")

    d = json.loads(cli("digest", "--format", "json").stdout)
    host = "mock.local"
    bob_h, carol_h, erin_h, frank_h = (f"@{u}@{host}" for u in ("bob", "carol", "erin", "frank"))
    assert d["period"]["since_last_digest"] is False

    # 1. the story: three people (frank's boost reached the home timeline), and the
    # blog's own entry
    [top] = d["most_shared"]
    assert sorted(top["people"]) == sorted([bob_h, carol_h, frank_h])
    assert top["item"]["id"] == story["id"] and top["item"]["source"] == "Dana teaches math"

    # 2. the blog's three posts, newest first, under its topic
    [math] = d["new_from_sites"]
    assert math["topic"] == "math" and math["count"] == 3
    assert [i["title"] for i in math["sources"][0]["items"]] == [
        "Fractions with paper strips", "Number talks", "Exit tickets"]

    # 3. erin's question is the busiest thread; #edtech has four voices (not you); bob's
    # answer to the reflection is listed with it
    conv = d["conversations"]
    assert conv["threads"][0]["root"]["summary"] == "Who uses number talks? #edtech"
    assert sorted(conv["threads"][0]["participants"]) == sorted([erin_h, frank_h, carol_h])
    edtech = next(h for h in conv["hashtags"] if h["tag"] == "edtech")
    assert sorted(edtech["people"]) == sorted([bob_h, carol_h, erin_h, frank_h])
    replies = [t for t in conv["to_you"] if t["kind"] == "reply"]
    assert [(t["reflection"], t["item"]["author"]["handle"]) for t in replies] == [(refl["id"], bob_h)]

    # 4. erin posted twice in #edtech and alice does not follow her; bob she follows
    not_followed = {v["handle"]: v for v in d["voices"]["not_followed"]}
    assert erin_h in not_followed and bob_h not in not_followed
    assert not_followed[erin_h]["tags"] == ["edtech"]
    assert len(not_followed[erin_h]["evidence"]) == 2

    # 5. the reflection, with its link on the server and its reply; the starred story
    [mine] = d["learning"]["reflections"]
    assert mine["id"] == refl["id"] and mine["url"] == refl["accounts"][0]["parts"][0]["url"]
    assert mine["replies"] == 1
    assert [i["id"] for i in d["learning"]["starred"]] == [story["id"]]

    # the digest remembered: nothing has happened since
    again = json.loads(cli("digest", "--format", "json").stdout)
    assert again["period"]["since_last_digest"] is True
    assert again["period"]["since"] == d["period"]["until"]
    text = cli("digest", "--since", "1d", "--no-mark").stdout
    assert "Fractions with paper strips — Dana teaches math" in text
    assert f"↩ {bob_h} on {refl['id']}: @alice lovely, trying it tomorrow" in text
