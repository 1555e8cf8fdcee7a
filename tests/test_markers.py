"""The home read marker shared with other apps (issue 17, ``sync_markers``), against a real
Mastodon-API server (mastodon_mock on loopback): pln -> server when items are marked read,
server -> pln at sync, never backwards, boosts placed by their own time, 409 conflicts, a
failed send kept for the next sync, and a server without the markers API (a loopback proxy
answering 404 for it)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.network_seed import by_url, login, mock_server, set_settings, source_id
from tests.proxy import Proxy


@pytest.fixture
def srv() -> Any:
    with mock_server() as s:
        yield s


def marker(srv: Any, timeline: str = "home") -> tuple[str | None, int | None]:
    """(last_read_id, version) of alice's marker, as the server has it."""
    got = srv.client("alice").markers_get([timeline])
    m = got.get(timeline)
    return (str(m["last_read_id"]), int(m["version"])) if m else (None, None)


def set_marker(srv: Any, status_id: Any) -> None:
    """Another app (alice's phone) moves the marker."""
    srv.client("alice").markers_set(["home"], [str(status_id)])


def posts(srv: Any, user: str, *texts: str) -> list[Any]:
    api = srv.client(user)
    return [api.status_post(t) for t in texts]


def setup(cli: Any, pln_home: Any, base_url: str, *, on: bool = True) -> str:
    login(cli, base_url)
    cli("source", "add", "home")
    if on:
        set_settings(pln_home, sync_markers=True)
    return source_id(cli, "home")


def read_state(cli: Any, statuses: list[Any]) -> list[bool]:
    got = by_url(cli)
    return [got[s["url"]]["read"] for s in statuses]


def iid(cli: Any, status: Any) -> str:
    return str(by_url(cli)[status["url"]]["id"])


def test_reading_in_pln_moves_the_home_marker_forward_only(cli: Any, srv: Any, pln_home: Any) -> None:
    s = posts(srv, "bob", "one", "two", "three")
    setup(cli, pln_home, srv.base_url)
    cli("sync")
    assert marker(srv) == (None, None)
    cli("read", iid(cli, s[1]))
    assert marker(srv) == (str(s[1]["id"]), 1)
    cli("read", iid(cli, s[0]))  # older than the marker: it stays (no write)
    assert marker(srv) == (str(s[1]["id"]), 1)
    cli("show", iid(cli, s[2]))  # show marks read too
    assert marker(srv) == (str(s[2]["id"]), 2)
    assert marker(srv, "notifications") == (None, None)  # pln never touches that one


def test_read_all_sets_the_marker_to_the_newest(cli: Any, srv: Any, pln_home: Any) -> None:
    s = posts(srv, "bob", "one", "two", "three")
    home = setup(cli, pln_home, srv.base_url)
    cli("sync")
    cli("read", "--all", "--source", home)
    assert marker(srv)[0] == str(s[2]["id"])


def test_a_marker_moved_elsewhere_marks_older_items_read_at_sync(cli: Any, srv: Any,
                                                                   pln_home: Any) -> None:
    s = posts(srv, "bob", "one", "two", "three")
    home = setup(cli, pln_home, srv.base_url)
    cli("sync")
    set_marker(srv, s[1]["id"])
    s += posts(srv, "bob", "four")
    res = cli("sync")
    assert f"{home} home: read marker set in another app: 2 older home items marked read" in res.stdout
    assert read_state(cli, s) == [True, True, False, False]
    again = cli("sync")  # the same marker: nothing more
    assert "read marker" not in again.stdout

    # an item marked unread by hand before the marker pln saw stays unread
    cli("unread", iid(cli, s[0]))
    set_marker(srv, s[2]["id"])
    res = cli("sync", "--json")
    notes = {r["source"]: r["notes"] for r in json.loads(res.stdout)}
    assert notes[home] == ["read marker set in another app: 1 older home item marked read"]
    assert read_state(cli, s) == [False, True, True, False]


def test_an_older_marker_elsewhere_changes_nothing_and_is_not_overwritten(
        cli: Any, srv: Any, pln_home: Any) -> None:
    s = posts(srv, "bob", "one", "two", "three")
    setup(cli, pln_home, srv.base_url)
    cli("sync")
    set_marker(srv, s[2]["id"])  # the phone is further along
    cli("read", iid(cli, s[1]))
    assert marker(srv) == (str(s[2]["id"]), 1)  # not moved back
    assert read_state(cli, s) == [False, True, False]


def test_a_boost_sits_where_it_was_boosted(cli: Any, srv: Any, pln_home: Any) -> None:
    """Older means earlier in the home timeline: a post boosted after the marker is not read
    by it, though it was published before; reading it moves the marker to the boost."""
    a = srv.client("alice")
    a.account_follow(a.account_lookup("dan")["id"])
    old = posts(srv, "bob", "an old post")[0]
    s = posts(srv, "bob", "one", "two")
    boost = srv.client("dan").status_reblog(old["id"])
    setup(cli, pln_home, srv.base_url)
    cli("sync")
    set_marker(srv, s[1]["id"])
    cli("sync")
    assert read_state(cli, [old, *s]) == [False, True, True]
    cli("read", iid(cli, old))
    assert marker(srv)[0] == str(boost["id"])  # the boost's place, not the original's


def test_a_conflict_is_read_again_and_retried_once(cli: Any, srv: Any, pln_home: Any) -> None:
    s = posts(srv, "bob", "one", "two")
    with Proxy(srv.base_url) as proxy:
        setup(cli, pln_home, proxy.base_url)
        cli("sync")
        item = iid(cli, s[1])
        before = proxy.count(r"^/api/v1/markers$", "GET")
        with srv.fault(path="/api/v1/markers", methods=["POST"], status=409, count=1,
                       body={"error": "Conflict"}):
            res = cli("read", item)
        assert "warning" not in res.stderr
        assert marker(srv)[0] == str(s[1]["id"])
        assert proxy.count(r"^/api/v1/markers$", "POST") == 2
        # read, write (409), read again, write
        assert proxy.count(r"^/api/v1/markers$", "GET") - before == 2


def test_two_conflicts_keep_the_marker_for_the_next_sync(cli: Any, srv: Any, pln_home: Any) -> None:
    s = posts(srv, "bob", "one", "two")
    setup(cli, pln_home, srv.base_url)
    cli("sync")
    with srv.fault(path="/api/v1/markers", methods=["POST"], status=409, count=2):
        res = cli("read", iid(cli, s[1]))
    assert "reported a conflict twice while pln set the home read marker; pln tries again at " \
           "the next sync" in res.stderr
    assert read_state(cli, s) == [False, True]  # read in pln all the same
    assert marker(srv) == (None, None)
    res = cli("sync")
    assert marker(srv)[0] == str(s[1]["id"])
    assert "read marker" not in res.stdout
    assert read_state(cli, s) == [False, True]


def test_a_failed_send_is_kept_and_sent_at_the_next_sync(cli: Any, srv: Any, pln_home: Any) -> None:
    s = posts(srv, "bob", "one", "two")
    setup(cli, pln_home, srv.base_url)
    cli("sync")
    with srv.fault(path="/api/v1/markers", methods=["POST"], status=503, count=1):
        res = cli("read", iid(cli, s[0]))
    assert res.exit_code == 0
    assert f"could not set the home read marker on {srv.base_url}" in res.stderr
    assert "pln tries again at the next sync" in res.stderr
    assert marker(srv) == (None, None)
    cli("sync")
    assert marker(srv)[0] == str(s[0]["id"])


def test_a_server_without_markers_is_reported_once_and_nothing_is_lost(
        cli: Any, srv: Any, pln_home: Any) -> None:
    s = posts(srv, "bob", "one", "two")
    with Proxy(srv.base_url) as proxy:
        proxy.lack(r"^/api/v1/markers")
        home = setup(cli, pln_home, proxy.base_url)
        res = cli("sync")
        host = proxy.base_url.split("://")[1]
        assert res.stdout.count("has no read markers API") == 1
        assert (f"{home} home: {host} has no read markers API (404): your read position is "
                "kept in pln only (set sync_markers = false to stop trying)") in res.stdout
        assert "2 ok" not in res.stdout and "1 ok" in res.stdout and "2 new" in res.stdout
        asked = proxy.count(r"^/api/v1/markers", "GET")
        res = cli("read", iid(cli, s[1]))  # no warning again, and not asked again today
        assert "warning" not in res.stderr
        s += posts(srv, "bob", "three")
        res = cli("sync")
        assert "read marker" not in res.stdout and "1 new" in res.stdout
        assert proxy.count(r"^/api/v1/markers", "GET") == asked
        assert proxy.count(r"^/api/v1/markers", "POST") == 0
    assert read_state(cli, s) == [False, True, False]


def test_markers_are_off_by_default(cli: Any, srv: Any, pln_home: Any) -> None:
    s = posts(srv, "bob", "one")
    setup(cli, pln_home, srv.base_url, on=False)
    cli("sync")
    set_marker(srv, s[0]["id"])
    cli("sync")
    assert read_state(cli, s) == [False]
    cli("read", iid(cli, s[0]))
    assert marker(srv) == (str(s[0]["id"]), 1)  # only the other app's write
    assert not (pln_home / "markers.json").exists()


def test_items_synced_before_markers_were_on_go_by_their_date(cli: Any, srv: Any,
                                                              pln_home: Any) -> None:
    """Their position was never recorded: their date (to the second, as stored) stands in."""
    s = posts(srv, "bob", "one", "two")
    time.sleep(1.1)  # stored dates have whole seconds: the third must not share the second
    s += posts(srv, "bob", "three")
    setup(cli, pln_home, srv.base_url, on=False)
    cli("sync")
    set_settings(pln_home, sync_markers=True)
    set_marker(srv, s[1]["id"])
    res = cli("sync")
    assert "2 older home items marked read" in res.stdout
    assert read_state(cli, s) == [True, True, False]
