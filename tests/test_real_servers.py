"""Issue 11: servers that implement the Mastodon client API but differ from Mastodon.

Each behaviour is a real server on loopback (mastodon_mock) seen through a loopback proxy
(tests/proxy.py) that changes only what real servers change: Link headers that page with
since_id, a list timeline that cannot page from a boost's id, 401 to unauthenticated reads,
a profile URL whose feed is not at Mastodon's path. The proxy counts requests and records
which statuses each response carried.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.proxy import Proxy, Request, Response
from tests.test_mastodon_sync import add, items, seed_network, sync

TIMELINE = r"^/api/v1/timelines/"


@pytest.fixture
def network(mastodon: Any) -> dict[str, Any]:
    """alice follows bob and carol, bob posts, carol boosts, alice's list "Teachers" has bob."""
    return seed_network(mastodon)


@pytest.fixture
def proxy(mastodon: Any) -> Iterator[Proxy]:
    with Proxy(mastodon.base_url) as p:
        yield p


class Delivered:
    """Every status id each timeline response carried, through the proxy."""

    def __init__(self, proxy: Proxy, pattern: str = TIMELINE) -> None:
        self.ids: Counter[str] = Counter()
        rx = re.compile(pattern)

        def hook(req: Request, resp: Response) -> None:
            if rx.search(req.path) and resp.status == 200:
                for st in json.loads(resp.body):
                    self.ids[str(st["id"])] += 1

        proxy.after(hook)


def login(cli: Any, proxy: Proxy, user: str = "alice") -> None:
    cli("login", proxy.base_url, "--token", f"{user}_token")


def post_many(srv: Any, user: str, n: int, prefix: str) -> list[str]:
    api = srv.client(user)
    return [str(api.status_post(f"{prefix} {k}")["id"]) for k in range(n)]


# ----- 1. a server whose Link rel="prev" pages with since_id ------------------------------------


def test_home_advances_when_link_prev_uses_since_id(cli: Any, mastodon: Any, proxy: Proxy) -> None:
    """Three syncs with 100+ new statuses before each, from a server whose Link rel="prev"
    carries since_id: every status is delivered exactly once, and each sync makes the
    minimum number of requests for n new statuses in pages of 40: n // 40 + 1 (the last,
    short or empty, page is how a client learns there is nothing more)."""
    proxy.rewrite_link_prev_to_since_id()
    delivered = Delivered(proxy)
    login(cli, proxy)
    sid = add(cli, "home")
    seed = post_many(mastodon, "alice", 1, "seed")
    before = proxy.count(TIMELINE)
    assert sync(cli)[sid]["new"] == 1
    assert proxy.count(TIMELINE) - before == 1
    posted = list(seed)
    for n in (105, 120, 101):
        posted += post_many(mastodon, "bob", n, f"round of {n}:")
        before = proxy.count(TIMELINE)
        res = sync(cli)[sid]
        assert res["status"] == "ok" and res["new"] == n, res
        assert proxy.count(TIMELINE) - before == n // 40 + 1
        assert not res["notes"], res
    assert sorted(delivered.ids) == sorted(posted)
    assert set(delivered.ids.values()) == {1}  # nothing delivered twice
    assert {i["url"].rsplit("/", 1)[-1] for i in items(cli)} == set(posted)
    before = proxy.count(TIMELINE)
    res = sync(cli)[sid]
    assert res["status"] == "not_modified" and proxy.count(TIMELINE) - before == 1


def test_home_advances_without_link_headers(cli: Any, mastodon: Any, proxy: Proxy) -> None:
    """A server that sends no Link header at all: the same n // 40 + 1 requests."""
    proxy.drop_response_header("Link")
    delivered = Delivered(proxy)
    login(cli, proxy)
    sid = add(cli, "home")
    posted = post_many(mastodon, "alice", 1, "seed")
    sync(cli)
    posted += post_many(mastodon, "bob", 85, "news")
    before = proxy.count(TIMELINE)
    assert sync(cli)[sid]["new"] == 85
    assert proxy.count(TIMELINE) - before == 85 // 40 + 1
    assert sorted(delivered.ids) == sorted(posted) and set(delivered.ids.values()) == {1}


# ----- 5. a list timeline that cannot page from a boost's id -------------------------------------


def test_list_cursor_is_a_position_the_server_pages_from(
    cli: Any, mastodon: Any, proxy: Proxy, network: Any
) -> None:
    """The server answers ``min_id=<a boost's id>`` as if there were no min_id (its newest
    page): a cursor on a boost re-fetched old statuses every sync."""
    boosts: set[str] = set()

    def learn(req: Request, resp: Response) -> None:
        if req.route.startswith("/api/v1/timelines/list/") and resp.status == 200:
            boosts.update(str(s["id"]) for s in json.loads(resp.body) if s.get("reblog"))

    def ignore_boost_positions(req: Request) -> None:
        if req.route.startswith("/api/v1/timelines/list/") and req.query.get("min_id") in boosts:
            req.path = re.sub(r"([?&])min_id=[^&]*&?", r"\1", req.path)

    proxy.after(learn)
    proxy.before(ignore_boost_positions)
    delivered = Delivered(proxy, r"^/api/v1/timelines/list/")
    a, c = mastodon.client("alice"), mastodon.client("carol")
    a.list_accounts_add(network["list"], [c.account_verify_credentials()])
    c.status_reblog(network["tagged"])  # the newest entry of the list is now a boost
    login(cli, proxy)
    sid = add(cli, "list:Teachers")
    first = sync(cli)[sid]
    assert first["status"] == "ok" and boosts
    for _ in range(2):
        before = proxy.count(TIMELINE)
        res = sync(cli)[sid]
        assert res["status"] == "not_modified", res
        assert proxy.count(TIMELINE) - before == 1
    # nothing old fetched again but the boost above the cursor (the newest original), which
    # is not counted as news
    again = {i: n for i, n in delivered.ids.items() if n > 1}
    assert len(again) == 1 and set(again) <= boosts and set(again.values()) == {3}
    news = mastodon.client("bob").status_post("news for the list")
    res = sync(cli)[sid]
    assert res["new"] == 1 and delivered.ids[str(news["id"])] == 1
    assert sync(cli)[sid]["status"] == "not_modified"
    # only a boost is new: the cursor stays on the original below it
    c.status_reblog(news)
    res = sync(cli)[sid]
    assert res["updated"] == 1 and "@carol@mock.local" in items(cli, "--search", "news")[0]["boosted_by"]
    before = Counter(delivered.ids)
    for _ in range(2):
        assert sync(cli)[sid]["status"] == "not_modified"
    again = delivered.ids - before
    assert set(again) <= boosts and sum(again.values()) == 2  # that one boost, once a sync


# ----- 3. one source's copy never degrades another's ---------------------------------------------


def rss_of(statuses: list[dict[str, Any]], base: str) -> str:
    """An account's RSS feed as servers that are not Mastodon write it: each entry's guid
    is the status's ActivityPub uri, its title the start of the text, no author, no tags."""
    from xml.sax.saxutils import escape

    entries = "".join(
        f"<item><guid isPermaLink=\"false\">{escape(s['uri'])}</guid><link>{escape(s['url'])}</link>"
        f"<title>{escape(re.sub('<[^>]+>', '', s['content'])[:50])}</title>"
        f"<pubDate>{s['created_at'].strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
        f"<description>{escape(s['content'])}</description></item>"
        for s in statuses
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>bob</title>'
            f"<link>{base}/users/bob</link>{entries}</channel></rss>")


def test_an_accounts_rss_feed_added_later_keeps_its_statuses_statuses(
    cli: Any, mastodon: Any, proxy: Proxy
) -> None:
    b = mastodon.client("bob")
    posted = [b.status_post(f"Status {n} about #edtech and https://example.org/read/{n} — "
                            "a long enough text to be cut by the feed's title")
              for n in range(9)]
    b.status_favourite(posted[0])
    login(cli, proxy)
    home = add(cli, "home")
    sync(cli)
    before = {i["url"]: i for i in items(cli)}
    feed = proxy.serve("/users/bob.rss", rss_of(posted, proxy.base_url),
                       content_type="application/rss+xml")
    rss = add(cli, feed)
    res = sync(cli)
    assert res[rss]["status"] == "ok" and res[rss]["new"] == 0, res
    after = {i["url"]: i for i in items(cli)}
    assert set(after) == set(before)
    for url, old in before.items():
        new = after[url]
        if url not in {s["url"] for s in posted}:
            continue
        assert new["sources"] == [home, rss]
        for field in ("kind", "title", "author", "tags", "counts", "link", "text", "published"):
            assert new[field] == old[field], (field, old[field], new[field])
    first = after[posted[0]["url"]]
    assert first["kind"] == "status" and first["title"] == "" and first["tags"] == ["edtech"]
    assert first["link"] == "https://example.org/read/0" and first["counts"]["favourites"] == 1
    res = cli("post", "a reply", "--reply-to", first["id"], "--dry-run")
    assert "feed entry" not in res.stdout + res.stderr
    again = sync(cli)
    assert again[rss]["status"] == "not_modified" or again[rss]["updated"] == 0, again


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>{feed}</title><id>urn:feed:{feed}</id>
<updated>2025-11-20T10:00:00Z</updated>
<entry><id>urn:uuid:shared-{entry}</id>{title}{link}<updated>2025-11-20T10:00:00Z</updated>
<content type="html">{content}</content></entry></feed>"""


@pytest.mark.parametrize("full_first", [True, False])
def test_two_feeds_sharing_an_atom_id_keep_the_fuller_copy(
    cli: Any, feed_server: Any, full_first: bool
) -> None:
    full = feed_server.route("/blog.xml", body=ATOM.format(
        feed="blog", entry=1, title="<title>Paper strips</title>",
        link='<link rel="alternate" href="https://blog.example/strips"/>',
        content="&lt;p&gt;Fold, cut, compare.&lt;/p&gt;"), content_type="application/atom+xml")
    empty = feed_server.route("/planet.xml", body=ATOM.format(
        feed="planet", entry=1, title="", link="", content=""), content_type="application/atom+xml")
    first, second = (full, empty) if full_first else (empty, full)
    cli("source", "add", first)
    sync(cli)
    cli("source", "add", second)
    sync(cli)
    for _ in range(2):  # and it stays so
        (item,) = items(cli)
        assert item["title"] == "Paper strips" and item["url"] == "https://blog.example/strips"
        assert item["link"] == "https://blog.example/strips" and "Fold, cut" in item["text"]
        assert len(item["sources"]) == 2
        res = sync(cli)
        assert all(r["updated"] == 0 for r in res.values()), res


# ----- 4. source list counts what the inbox holds ------------------------------------------------


def held(cli: Any) -> dict[str, int]:
    """Each source's item count as `pln source list --json` gives it."""
    return {r["id"]: r["health"].get("items", 0) for r in json.loads(cli("source", "list", "--json").stdout)}


def in_inbox(cli: Any) -> dict[str, int]:
    """Each source's items as the inbox holds them."""
    return dict(Counter(s for i in items(cli) for s in i["sources"]))


def test_source_list_counts_what_the_inbox_holds_per_source(
    cli: Any, mastodon: Any, network: Any, feed_server: Any
) -> None:
    mastodon.client("alice").tag_follow("edtech")
    login(cli, mastodon)
    ids = [add(cli, s) for s in ("home", "mentions", "#edtech", "followed-tags", "list:Teachers",
                                 f"#edtech@{mastodon.base_url.split('://')[1]}")]
    sync(cli)
    want = in_inbox(cli)
    assert all(want.get(i) for i in ids), want  # each holds something, most shared with home
    assert held(cli) == {i: want.get(i, 0) for i in ids}
    mastodon.client("bob").status_post("more #edtech")
    sync(cli)
    want = in_inbox(cli)
    assert held(cli) == {i: want.get(i, 0) for i in ids}
    # removed and added again: its items stayed in the inbox, and count again
    cli("source", "rm", ids[2])
    assert add(cli, "#edtech") == ids[2]
    sync(cli)
    assert held(cli) == {i: want.get(i, 0) for i in ids}
    # pruned items are no longer held
    from datetime import UTC, datetime, timedelta

    from companion.service import Companion

    c = Companion(clock=lambda: datetime.now(UTC) + timedelta(days=30))
    with c.writing("test"):
        assert c.prune(timedelta(days=1)) > 0
    assert held(cli) == {i: 0 for i in ids} and not items(cli)


def test_a_source_skipped_by_a_429_does_not_show_ok(cli: Any, mastodon: Any, network: Any) -> None:
    login(cli, mastodon)
    sid = add(cli, "home")
    sync(cli)
    assert " ok" in cli("source", "list").stdout
    mastodon.fault(path="/api/v1/timelines/home", status=429, count=1)
    assert sync(cli)[sid]["status"] == "skipped"
    listing = cli("source", "list").stdout
    (row,) = [line for line in listing.splitlines() if line.startswith(sid)]
    assert not re.search(r"\bok\b", row.split("home", 2)[-1]), listing
    assert "rate limited" in row or "skipped" in row, listing
    (data,) = json.loads(cli("source", "list", "--json").stdout)
    assert data["health"]["retry_until"]


# ----- 2. @user@host on a server that refuses unauthenticated API reads --------------------------

REFUSED = r"^/api/v1/(accounts|timelines)/"


def profile_elsewhere(proxy: Proxy, statuses: list[dict[str, Any]]) -> None:
    """bob's profile lives at /users/bob (as WebFinger says) and names its feed, served at
    the profile URL + .rss; Mastodon's /@bob.rss does not exist on this server."""
    def move_profile(doc: dict[str, Any]) -> dict[str, Any]:
        for link in doc["links"]:
            if link["rel"] == "http://webfinger.net/rel/profile-page":
                link["href"] = f"{proxy.base_url}/users/bob"
        return doc

    proxy.rewrite_json(move_profile, r"^/\.well-known/webfinger")
    proxy.serve("/users/bob", '<html><head><link rel="alternate" type="application/rss+xml" '
                'href="/users/bob.rss"></head><body>bob</body></html>')
    proxy.serve("/users/bob.rss", rss_of(statuses, proxy.base_url), content_type="application/rss+xml")


def test_account_on_a_server_refusing_public_reads_is_found_from_its_profile(
    cli: Any, mastodon: Any, proxy: Proxy
) -> None:
    posted = [mastodon.client("bob").status_post(f"public post {n}") for n in range(3)]
    proxy.refuse_unauthenticated(REFUSED)
    profile_elsewhere(proxy, posted)
    sid = add(cli, f"@bob@{proxy.host}")
    res = sync(cli)[sid]
    assert res["status"] == "ok" and res["new"] == 3, res
    assert any(f"{proxy.base_url}/users/bob.rss" in n for n in res["notes"]), res
    assert {i["url"] for i in items(cli)} == {s["url"] for s in posted}
    assert proxy.count(r"^/@bob\.rss") == 0  # Mastodon's path was never needed
    # next sync: only the feed found, conditionally (the API is rechecked once a day)
    before = len(proxy.requests)
    res = sync(cli)[sid]
    assert [r.route for r in proxy.requests[before:]] == ["/users/bob.rss"]
    # OPML export names the feed found, not Mastodon's path
    exported = cli("source", "export").stdout
    assert f'xmlUrl="{proxy.base_url}/users/bob.rss"' in exported


def test_account_on_the_host_of_a_logged_in_account_is_read_with_its_token(
    cli: Any, mastodon: Any, proxy: Proxy
) -> None:
    posted = [mastodon.client("bob").status_post(f"post {n} #edtech") for n in range(3)]
    proxy.refuse_unauthenticated(REFUSED)
    login(cli, proxy)  # alice, on the same host
    acct, tag = add(cli, f"@bob@{proxy.host}"), add(cli, f"#edtech@{proxy.host}")
    res = sync(cli)
    assert res[acct]["status"] == "ok" and res[tag]["status"] == "ok", res
    assert not res[acct]["notes"] and not res[tag]["notes"], res
    bob = items(cli, "--source", acct)
    assert {i["url"] for i in bob} == {s["url"] for s in posted}
    assert all(i["kind"] == "status" and i["author"]["handle"] == "@bob@mock.local" for i in bob)
    assert not [r for r in proxy.requests if r.route.startswith("/api/") and not r.authenticated
                and not r.route.startswith("/api/v1/instance") and not r.route.startswith("/api/v2/instance")]
    assert sync(cli)[acct]["status"] == "not_modified"


def test_account_option_is_honoured_for_an_account_spec(cli: Any, mastodon: Any, proxy: Proxy) -> None:
    """--account reads @bob@mock.local (a host pln cannot reach) through alice's instance."""
    posted = mastodon.client("bob").status_post("read through my instance")
    login(cli, proxy)
    cli("login", mastodon.base_url, "--token", "carol_token", "--name", "direct")
    sid = add(cli, "@bob@mock.local", "--account", "alice")
    rows = json.loads(cli("source", "list", "--json").stdout)
    assert [r["account"] for r in rows if r["id"] == sid] == ["alice"]
    res = sync(cli)[sid]
    assert res["status"] == "ok" and res["new"] >= 1, res
    assert posted["url"] in {i["url"] for i in items(cli, "--source", sid)}
    assert proxy.count(r"^/api/v1/accounts/") >= 2  # lookup, statuses: through alice's host


# ----- 10, 11. login -----------------------------------------------------------------------------


def test_oauth_sends_a_random_state_and_checks_it(cli: Any, mastodon: Any, pln_home: Any) -> None:
    from urllib.parse import parse_qs, urlsplit

    import httpx2 as httpx  # mastodon_mock's own HTTP client

    from companion.errors import UsageError
    from companion.service import Companion

    res = cli("login", mastodon.base_url, input="mockcode_bob\n")  # the code alone
    url = next(w for w in res.stdout.split() if "/oauth/authorize?" in w)
    query = parse_qs(urlsplit(url).query)
    assert set(query) == {"client_id", "response_type", "redirect_uri", "scope", "state"}
    assert len(query["state"][0]) >= 16 and "None" not in url and "force_login" not in url
    states = []

    def authorize(url: str) -> str:
        """What a user does: open the page, pick bob, copy the code and the state after it."""
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        states.append(q["state"])
        page = httpx.post(f"{mastodon.base_url}/oauth/authorize", data={**q, "username": "carol"})
        code = re.search(r"Authorization code: ([^<\s]+)", page.text).group(1)  # type: ignore[union-attr]
        return f"{code}&state={q['state']}"

    acct = Companion().login(mastodon.base_url, name="withstate", read_code=authorize)
    assert acct.handle == "@carol@mock.local"
    acct = Companion().login(mastodon.base_url, name="asurl", read_code=lambda u: (
        f"urn:ietf:wg:oauth:2.0:oob?code=mockcode_alice&state={parse_qs(urlsplit(u).query)['state'][0]}"))
    assert acct.handle == "@alice@mock.local"
    with pytest.raises(UsageError, match="state does not match"):
        Companion().login(mastodon.base_url, name="forged", read_code=lambda u: "mockcode_bob&state=x")
    assert len(set(states)) == 1 and states[0] != query["state"][0]  # a new state each time
    names = [a["name"] for a in json.loads(cli("accounts", "--json").stdout)]
    assert "forged" not in names and {"withstate", "asurl"} <= set(names)
    res = cli("login", mastodon.base_url, input="mockcode_bob&state=forged\n", code=2)
    assert "state does not match" in res.stderr and "Traceback" not in res.stderr


def test_a_bad_token_answered_with_422_is_rejected_and_loopback_needs_no_scheme(
    cli: Any, proxy: Proxy, pln_home: Any
) -> None:
    proxy.answer(r"^/api/v1/accounts/verify_credentials", 422,
                 {"error": "Validation failed: token is invalid"}, count=1)
    res = cli("login", proxy.base_url, "--token", "not-a-token", code=2)
    assert res.stderr.strip() == (  # rejected, not "could not check the token (422)"
        f"error: {proxy.host} rejected that token: check that it was copied whole (Preferences "
        f"→ Development → your application), or run `pln login {proxy.base_url}` without "
        "--token to authorize pln in a browser")
    res = cli("login", proxy.host, "--token", "alice_token")  # 127.0.0.1:PORT, no scheme
    assert f"on {proxy.base_url} " in res.stdout


# ----- 12, 13. text as written, counts in the right number ---------------------------------------

TEACHER = "\U0001F9D1\u200d\U0001F3EB"  # 🧑‍🏫: person, zero-width joiner, school
HEART = "\u2764\ufe0f"  # ❤️: heart, variation selector 16 (emoji presentation)


def test_emoji_sequences_survive_and_counts_read_as_english(cli: Any, mastodon: Any) -> None:
    b, c = mastodon.client("bob"), mastodon.client("carol")
    st = b.status_post(f"{TEACHER} Teaching fractions today {HEART} \u202eevil\u202c \x1b[31mred")
    c.status_reblog(st)
    c.status_favourite(st)
    c.status_post("@bob yes!", in_reply_to_id=st["id"])
    login(cli, mastodon)
    add(cli, "home")
    sync(cli)
    (item,) = [i for i in items(cli) if i["url"] == st["url"]]
    listing = cli("inbox", "--all").stdout
    shown = cli("show", item["id"]).stdout
    for out in (listing, shown):
        assert TEACHER in out and "\u202e" not in out and "\x1b" not in out
    assert HEART in shown
    assert "1 reply · 1 boost · 1 favourite" in shown, shown
    cli("unread", item["id"])  # show marked it read
    assert cli("read", "--all", "--search", "fractions").stdout.strip() == "marked 1 item read"
