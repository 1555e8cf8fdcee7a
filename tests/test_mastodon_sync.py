"""`pln sync` of Mastodon sources against a real Mastodon-API server (mastodon_mock on
loopback): every kind, incremental cursors, one item per status uri, boosts, CWs, replies,
and the server's fault injection (401, 404, 429, 500, timeout, malformed body)."""

from __future__ import annotations

import json
from typing import Any, Self

import pytest
import requests

from companion.service import Companion

# ----- helpers --------------------------------------------------------------------------------


def host(srv: Any) -> str:
    return srv.base_url.split("://", 1)[1]


def login(cli: Any, srv: Any, user: str = "alice") -> None:
    cli("login", srv.base_url, "--token", f"{user}_token")


def add(cli: Any, spec: str, *extra: str) -> str:
    cli("source", "add", spec, *extra)
    rows = json.loads(cli("source", "list", "--json").stdout)
    want = spec
    match = [r for r in rows if r["spec"] == want]
    assert match, rows
    return str(match[-1]["id"])


def sync(cli: Any, *ids: str, code: int = 0) -> dict[str, dict[str, Any]]:
    res = cli("sync", "--json", *ids, code=code)
    return {r["source"]: r for r in json.loads(res.stdout)}


def set_setting(pln_home: Any, **values: Any) -> None:
    import tomlkit

    cfg = pln_home / "config.toml"
    doc = tomlkit.parse(cfg.read_text())
    doc.setdefault("settings", tomlkit.table())
    for k, v in values.items():
        doc["settings"][k] = v
    cfg.write_text(tomlkit.dumps(doc))


def items(cli: Any, *args: str) -> list[dict[str, Any]]:
    return json.loads(cli("inbox", "--all", "--json", "--limit", "10000", *args).stdout)


class RequestCounter:
    """Counts, on the server's side, the API requests it received: a zero-delay "latency"
    fault rule with a large budget matches every API path, and the server decrements its
    budget once per request it sees (GET /api/v1/_mock/faults shows what is left)."""

    BUDGET = 1_000_000

    def __init__(self, srv: Any, path_regex: str = r"^/(api/v\d|oauth)/") -> None:
        self.srv = srv
        self.handle = srv.fault(path_regex=path_regex, type="latency", count=self.BUDGET)

    def _remaining(self) -> int:
        rules = requests.get(f"{self.srv.base_url}/api/v1/_mock/faults", timeout=10).json()
        rule = next(r for r in rules if r["id"] == self.handle.id)
        return int(rule["remaining"])

    def __enter__(self) -> Self:
        self.start = self._remaining()
        return self

    def __exit__(self, *exc: object) -> None:
        self.count = self.start - self._remaining()
        self.handle.delete()  # the first matching rule wins: make room for the next counter


@pytest.fixture
def network(mastodon: Any) -> dict[str, Any]:
    """alice follows bob and carol; bob posts (CW, link, hashtag, reply), carol boosts."""
    return seed_network(mastodon)


def seed_network(mastodon: Any) -> dict[str, Any]:
    """What the ``network`` fixture sets up (other test modules make their own fixture)."""
    a, b, c = mastodon.client("alice"), mastodon.client("bob"), mastodon.client("carol")
    a.account_follow(c.account_verify_credentials())
    c.follow_request_authorize(a.account_verify_credentials())  # carol's account is locked
    first = b.status_post(
        "Reading about #edtech today: https://example.org/article?utm_source=masto",
        spoiler_text="long read",
    )
    reply = c.status_post("@bob great find!", in_reply_to_id=first["id"])
    c.status_reblog(first)
    tagged = b.status_post("Another #edtech thought, no link")
    lst = a.list_create("Teachers")
    a.list_accounts_add(lst, [b.account_verify_credentials()])
    mention = b.status_post("@alice what do you think?")
    return {"first": first, "reply": reply, "tagged": tagged, "mention": mention, "list": lst}


# ----- sync of every kind -----------------------------------------------------------------------


def test_home_sync_normalizes_statuses_and_folds_boosts(cli: Any, mastodon: Any, network: Any) -> None:
    login(cli, mastodon)
    sid = add(cli, "home")
    res = sync(cli)
    assert res[sid]["status"] == "ok", res
    got = {i["url"]: i for i in items(cli)}
    first = got[network["first"]["url"]]
    assert first["kind"] == "status"
    assert first["cw"] == "long read"
    assert first["tags"] == ["edtech"]
    assert first["author"]["handle"] == "@bob@mock.local"
    assert first["link"] == "https://example.org/article"  # canonical: tracking removed
    assert "@carol@mock.local" in first["boosted_by"]
    assert first["title"] == ""
    # the boost is folded into the original: one item, not two
    assert sum(1 for i in items(cli) if i["url"] == network["first"]["url"]) == 1
    reply = got[network["reply"]["url"]]
    assert reply["reply_to"] == network["first"]["uri"]  # parent uri known in the same fetch
    assert res[sid]["new"] == len(got)


def test_same_status_via_home_tag_and_list_is_one_item(cli: Any, mastodon: Any, network: Any) -> None:
    login(cli, mastodon)
    ids = [add(cli, "home"), add(cli, "#edtech"), add(cli, "list:Teachers")]
    res = sync(cli)
    assert all(res[i]["status"] == "ok" for i in ids), res
    matching = [i for i in items(cli) if i["url"] == network["tagged"]["url"]]
    assert len(matching) == 1
    assert sorted(matching[0]["sources"]) == sorted(ids)


def test_mentions_bookmarks_and_followed_tags(cli: Any, mastodon: Any, network: Any) -> None:
    a = mastodon.client("alice")
    a.status_bookmark(network["tagged"])
    a.tag_follow("edtech")
    login(cli, mastodon)
    m, b, f = add(cli, "mentions"), add(cli, "bookmarks"), add(cli, "followed-tags")
    res = sync(cli)
    assert {res[x]["status"] for x in (m, b, f)} == {"ok"}, res
    mentions = items(cli, "--source", m)
    assert [i["url"] for i in mentions] == [network["mention"]["url"]]
    bookmarks = items(cli, "--source", b)
    assert [i["url"] for i in bookmarks] == [network["tagged"]["url"]]
    tagged = {i["url"] for i in items(cli, "--source", f)}
    assert {network["first"]["url"], network["tagged"]["url"]} <= tagged


def test_public_account_and_tag_without_login(cli: Any, mastodon: Any, network: Any) -> None:
    acct = add(cli, f"@bob@{host(mastodon)}")
    tag = add(cli, f"#edtech@{host(mastodon)}")
    res = sync(cli)
    assert res[acct]["status"] == "ok" and res[tag]["status"] == "ok", res
    bob = {i["url"] for i in items(cli, "--source", acct)}
    assert {network["first"]["url"], network["tagged"]["url"], network["mention"]["url"]} <= bob
    tagged = {i["url"] for i in items(cli, "--source", tag)}
    assert tagged == {network["first"]["url"], network["tagged"]["url"]}


def test_unknown_list_is_one_clear_error(cli: Any, mastodon: Any, network: Any) -> None:
    login(cli, mastodon)
    # refused when added (issue 13) ...
    r = cli("source", "add", "list:Nope", code=2)
    assert "no list named 'Nope'" in r.stderr and "Teachers" in r.stderr
    # ... and a list deleted after it was added is one clear error at sync
    a = mastodon.client("alice")
    gone = a.list_create("Nope")
    sid = add(cli, "list:Nope")
    a.list_delete(gone)
    res = sync(cli)
    assert res[sid]["status"] == "error"
    assert "no list named 'Nope'" in res[sid]["error"] and "Teachers" in res[sid]["error"]


# ----- incremental ------------------------------------------------------------------------------


def test_second_sync_without_news_is_one_request_per_source(
    cli: Any, mastodon: Any, network: Any
) -> None:
    a = mastodon.client("alice")
    a.status_bookmark(network["tagged"])
    login(cli, mastodon)
    specs = ["home", "mentions", "bookmarks", "#edtech", "list:Teachers",
             f"@bob@{host(mastodon)}", f"#edtech@{host(mastodon)}"]
    ids = [add(cli, s) for s in specs]
    sync(cli)
    with RequestCounter(mastodon) as counter:
        res = sync(cli)
    assert counter.count == len(specs)
    assert all(res[i]["status"] == "not_modified" and res[i]["new"] == 0 for i in ids), res
    # and news arrive with the next sync, still cheaply
    new = mastodon.client("bob").status_post("fresh #edtech news")
    with RequestCounter(mastodon) as counter:
        res = sync(cli)
    assert counter.count == len(specs)  # one short page each: nothing more to ask
    assert sum(r["new"] for r in res.values()) == 1  # one item, reached by several sources
    assert res[ids[0]]["new"] + res[ids[0]]["updated"] == 1
    assert new["url"] in {i["url"] for i in items(cli, "--source", ids[3])}


def test_paging_forward_from_cursor_over_many_pages(cli: Any, mastodon: Any) -> None:
    login(cli, mastodon)
    sid = add(cli, "home")
    mastodon.client("alice").status_post("before the first sync")
    sync(cli)
    b = mastodon.client("bob")
    posted = [b.status_post(f"post number {n}")["url"] for n in range(95)]
    with RequestCounter(mastodon) as counter:
        res = sync(cli)
    assert res[sid]["new"] == 95
    assert counter.count == 3  # 40 + 40 + 15, forward with min_id
    assert set(posted) <= {i["url"] for i in items(cli)}
    with RequestCounter(mastodon) as counter:
        sync(cli)
    assert counter.count == 1


def test_first_sync_is_bounded_by_count(cli: Any, mastodon: Any, pln_home: Any) -> None:
    login(cli, mastodon)
    sid = add(cli, "home")
    set_setting(pln_home, first_sync_limit=50)
    b = mastodon.client("bob")
    for n in range(70):
        b.status_post(f"old post {n}")
    with RequestCounter(mastodon) as counter:
        res = sync(cli)
    assert res[sid]["new"] == 50
    assert counter.count == 2
    texts = {i["text"] for i in items(cli)}
    assert "old post 69" in texts and "old post 19" not in texts  # the newest 50 are kept
    with RequestCounter(mastodon) as counter:
        res = sync(cli)
    assert counter.count == 1 and res[sid]["new"] == 0  # the cursor is the newest status


def test_a_first_sync_limit_above_what_one_sync_pages_is_fetched_over_the_next_syncs(
        cli: Any, mastodon: Any, pln_home: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """first_sync_limit above MAX_PAGES pages (here 2 pages of 40 per sync) is not cut to
    them (issue 14): the first sync says how far it got, and the next syncs go on backwards
    from there, after what is new, until the limit; then only what is new is asked for."""
    import companion.sources.mastodon as mastodon_source

    monkeypatch.setattr(mastodon_source, "MAX_PAGES", 2)
    login(cli, mastodon)
    sid = add(cli, "home")
    set_setting(pln_home, first_sync_limit=150)
    b = mastodon.client("bob")
    for n in range(200):
        b.status_post(f"old post {n}")
    res = sync(cli)
    assert res[sid]["new"] == 80
    assert ("80 of the first 150 statuses fetched; older ones come with the next syncs"
            in res[sid]["notes"])
    b.status_post("news")
    with RequestCounter(mastodon) as counter:
        res = sync(cli)
    assert res[sid]["new"] == 1 + 40 and counter.count == 2  # what is new, then one page back
    with RequestCounter(mastodon) as counter:
        res = sync(cli)
    assert res[sid]["new"] == 30 and counter.count == 2  # the last 30 of the 150
    with RequestCounter(mastodon) as counter:
        res = sync(cli)
    assert res[sid]["new"] == 0 and counter.count == 1  # done: only what is new
    texts = {i["text"] for i in items(cli)}
    assert {f"old post {n}" for n in range(50, 200)} <= texts and "old post 49" not in texts
    assert "news" in texts and len(texts) == 151


def test_first_sync_is_bounded_by_age(cli: Any, mastodon: Any, pln_home: Any) -> None:
    """A clock three weeks ahead makes every status older than first_sync_days."""
    from datetime import UTC, datetime, timedelta

    login(cli, mastodon)
    sid = add(cli, "home")
    mastodon.client("bob").status_post("a while ago")
    later = datetime.now(UTC) + timedelta(days=21)
    c = Companion(clock=lambda: later)
    with c.writing("test"):
        (res,) = c.sync()
    assert res.source == sid and res.status == "not_modified" and res.new == 0


# ----- faults -----------------------------------------------------------------------------------


def test_rejected_token_says_run_pln_login_and_others_still_saved(
    cli: Any, mastodon: Any, network: Any
) -> None:
    login(cli, mastodon)
    home = add(cli, "home")
    public = add(cli, f"@bob@{host(mastodon)}")
    mastodon.fault(path="/api/v1/timelines/home", status=401,
                   body={"error": "The access token is invalid"})
    res = cli("sync")
    assert f"token for {host(mastodon)} was rejected — run `pln login {mastodon.base_url}`" in res.stdout
    assert "alice_token" not in res.stdout + res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    data = sync(cli)
    assert data[home]["status"] == "error" and data[public]["status"] in ("ok", "not_modified")
    assert items(cli, "--source", public)


@pytest.mark.parametrize(
    ("fault", "expect"),
    [
        ({"status": 404}, "not found on"),
        ({"status": 500}, "server error (500)"),
        ({"type": "malformed"}, "malformed response"),
        ({"status": 403}, "refused access"),
    ],
)
def test_http_faults_become_one_clear_error(
    cli: Any, mastodon: Any, network: Any, fault: dict[str, Any], expect: str
) -> None:
    login(cli, mastodon)
    sid = add(cli, "home")
    other = add(cli, "mentions")
    mastodon.fault(path="/api/v1/timelines/home", **fault)
    res = sync(cli)
    assert res[sid]["status"] == "error" and expect in res[sid]["error"], res
    assert res[other]["status"] == "ok"
    assert "\n" not in res[sid]["error"]


def test_timeout(cli: Any, mastodon: Any, pln_home: Any) -> None:
    login(cli, mastodon)
    sid = add(cli, "home")
    set_setting(pln_home, timeout=0.5)
    mastodon.fault(path="/api/v1/timelines/home", type="timeout", delay_ms=1000, count=1)
    res = sync(cli)
    assert res[sid]["status"] == "error"
    assert res[sid]["error"] == f"{host(mastodon)} did not answer in time (the home timeline)"


def test_429_with_reset_headers_skips_until_reset(cli: Any, mastodon: Any, network: Any) -> None:
    import time
    from datetime import datetime

    login(cli, mastodon)
    sid = add(cli, "home")
    other = add(cli, "mentions")
    reset = int(time.time()) + 3600
    mastodon.fault(path="/api/v1/timelines/home", type="ratelimit", count=1,
                   headers={"X-RateLimit-Reset": str(reset), "X-RateLimit-Remaining": "0"})
    res = sync(cli)  # a rate limit is not a failure: skipped, reported
    assert res[sid]["status"] == "skipped"
    until = datetime.fromisoformat(res[sid]["retry_after"].replace("Z", "+00:00"))  # noqa: FURB162
    assert abs(until.timestamp() - reset) < 120  # Mastodon.py corrects for the server's clock
    assert "rate limited by" in res[sid]["error"]
    assert res[other]["status"] == "ok"
    with RequestCounter(mastodon) as counter:
        res = sync(cli)
    assert res[sid]["status"] == "skipped" and counter.count == 1  # only mentions asked
    human = cli("sync")
    assert "skipped" in human.stdout and "until" in human.stdout


def test_429_without_headers_uses_a_default_wait(cli: Any, mastodon: Any) -> None:
    login(cli, mastodon)
    sid = add(cli, "home")
    mastodon.fault(path="/api/v1/timelines/home", status=429, count=1)
    res = sync(cli)
    assert res[sid]["status"] == "skipped" and res[sid]["retry_after"]


def test_remaining_zero_stops_paging_and_keeps_what_arrived(cli: Any) -> None:
    """A server with rate limiting on (X-RateLimit-* on every response): when a page says
    the budget is used up, pln keeps that page, stops, and resumes from its cursor."""
    from mastodon_mock.config import RateLimitConfig
    from mastodon_mock.testing.server import MockServer, _default_config

    config = _default_config().model_copy(
        update={"ratelimit": RateLimitConfig(enabled=True, limit=150, window_seconds=3600)}
    )
    with MockServer(config=config) as srv:
        login(cli, srv)
        sid = add(cli, "home")
        srv.client("alice").status_post("seed")
        sync(cli)
        b = srv.client("bob")
        for n in range(45):
            b.status_post(f"burst {n}")
        while True:  # spend alice's budget down to one request: the next page
            r = requests.get(f"{srv.base_url}/api/v1/accounts/verify_credentials",
                             headers={"Authorization": "Bearer alice_token"}, timeout=10)
            if int(r.headers["X-RateLimit-Remaining"]) <= 1:
                break
        with RequestCounter(srv) as counter:
            res = sync(cli)
        assert counter.count == 1
        assert res[sid]["new"] == 40
        assert any("rate limit reached" in n for n in res[sid]["notes"]), res
        res = sync(cli)  # budget exhausted: 429 -> skipped until the reset, nothing lost
        assert res[sid]["status"] == "skipped"


def test_sync_without_account_says_login(cli: Any, mastodon: Any, pln_home: Any) -> None:
    login(cli, mastodon)
    sid = add(cli, "home")
    cli("logout", "alice")
    res = sync(cli)
    assert "run `pln login" in res[sid]["error"]


def test_followed_tags_cost_one_request_per_tag_and_pick_up_new_follows(
    cli: Any, mastodon: Any, network: Any
) -> None:
    a = mastodon.client("alice")
    a.tag_follow("edtech")
    a.tag_follow("physics")
    login(cli, mastodon)
    sid = add(cli, "followed-tags")
    with RequestCounter(mastodon) as counter:
        res = sync(cli)
    assert counter.count == 3  # the followed tags, then one page per tag
    assert res[sid]["new"] == 2
    with RequestCounter(mastodon) as counter:
        res = sync(cli)
    assert counter.count == 2 and res[sid]["status"] == "not_modified"  # the tag list is reused
    new = mastodon.client("bob").status_post("Forces and #physics")
    res = sync(cli)
    assert res[sid]["new"] == 1
    # Found by its url, not by its place in the list: statuses posted within the same second
    # tie on their timestamp, and either may be listed first.
    got = {i["url"]: i for i in items(cli, "--source", sid)}
    assert "physics" in got[new["url"]]["tags"]


def test_list_recreated_under_the_same_name_is_found_again(
    cli: Any, mastodon: Any, network: Any
) -> None:
    login(cli, mastodon)
    sid = add(cli, "list:Teachers")
    assert sync(cli)[sid]["status"] == "ok"
    a = mastodon.client("alice")
    a.list_delete(network["list"])
    fresh = a.list_create("Teachers")
    a.list_accounts_add(fresh, [mastodon.client("carol").account_verify_credentials()])
    mastodon.client("carol").status_post("carol in the new list")
    res = sync(cli)
    assert res[sid]["status"] == "ok", res
    assert "carol in the new list" in {i["text"] for i in items(cli, "--source", sid)}


def test_mentions_are_incremental(cli: Any, mastodon: Any, network: Any) -> None:
    login(cli, mastodon)
    sid = add(cli, "mentions")
    assert sync(cli)[sid]["new"] == 1
    reply = mastodon.client("carol").status_post("@alice replying to your reflection")
    res = sync(cli)
    assert res[sid]["new"] == 1
    assert reply["url"] in {i["url"] for i in items(cli, "--source", sid)}
