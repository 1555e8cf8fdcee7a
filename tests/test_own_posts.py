"""Your own posts do not flood the inbox (issue 13.6): statuses written by the logged-in
accounts arrive read, and a thread of your own is one row. The decision is pure
(companion/mine.py), tested with plain data; then end to end against mastodon_mock."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from companion.credentials import Account
from companion.mine import Me, arriving, fold_own_threads, status_id_of
from tests.test_post_crash import SIX

ALICE = Account(name="school", instance="https://school.social", token="t",
                handle="@Alice@school.social")
ME = Me.of([ALICE, Account(name="x", instance="https://x.example", token="t", handle="")])


def status(n: int, who: str = "@alice@school.social", reply_to: str | None = None,
           **extra: Any) -> dict[str, Any]:
    user = who.split("@")[1]
    return {"id": f"i{n}", "kind": "status", "key": f"https://school.social/users/{user}/statuses/{n}",
            "url": f"https://school.social/@{user}/{n}", "reply_to": reply_to,
            "author": {"name": user, "handle": who, "url": f"https://school.social/@{user}"},
            **extra}


def test_mine_is_decided_by_handle_or_profile_url() -> None:
    assert ME.wrote({"handle": "@alice@SCHOOL.social"})  # handles ignore case
    assert ME.wrote({"handle": "", "url": "https://school.social/@alice/"})
    assert not ME.wrote({"handle": "@alice@elsewhere.example"})
    assert not ME.wrote({"handle": "@bob@school.social", "url": "https://school.social/@bob"})
    assert not ME.wrote(None)
    assert not Me().wrote({"handle": "@alice@school.social"})  # nobody logged in


def test_own_statuses_arrive_read_and_others_unread() -> None:
    mine = arriving(status(1, read=False), ME)
    assert mine["read"] is True and mine["mine"] is True
    other = arriving(status(2, "@bob@school.social", read=False), ME)
    assert other["read"] is False and "mine" not in other
    feed = arriving({"id": "f", "kind": "feed", "author": {"handle": "@alice@school.social"},
                     "read": False}, ME)
    assert feed["read"] is False  # a blog entry is never "your post"


def test_a_thread_of_your_own_is_one_row() -> None:
    base = "https://school.social/users/alice/statuses/"
    rows = [  # newest first, as the inbox lists them
        status(7, "@bob@school.social", reply_to=base + "6"),  # bob replies to part 6
        status(6, reply_to="5", mine=True),  # parent fetched apart: named by status id
        status(5, reply_to=base + "4", mine=True),
        status(4, reply_to=base + "3", mine=True),
        status(8, "@carol@school.social"),
        status(3, reply_to=base + "2", mine=True),
        status(2, reply_to=base + "1", mine=True),
        status(1, mine=True),
        status(9, mine=True),  # a post of mine on its own
    ]
    folded = fold_own_threads(rows)
    assert [r["id"] for r in folded] == ["i7", "i8", "i1", "i9"]
    assert folded[2]["thread"] == 6
    assert "thread" not in folded[3] and "thread" not in folded[0]
    assert len(rows) == 9 and "thread" not in rows[7]  # the rows given are not changed
    # with the first parts read (not listed), the rest still folds into the first listed
    assert [(r["id"], r.get("thread")) for r in fold_own_threads(rows[1:4])] == [("i4", 3)]
    assert status_id_of(status(5)) == "5"


def ident(handle: str | None, instance: str | None = "https://school.social") -> Any:
    return SimpleNamespace(handle=handle, instance=instance)


def test_who_you_are_from_the_accounts_handles_and_instances() -> None:
    me = Me.of([ident(None), ident(""), ident("  @Xavier@school.social  ", "https://Example.BOX/")])
    assert me.handles == {"@xavier@school.social"}  # no handle, no identity; spaces ignored
    assert me.profiles == {"example.box/@xavier"}  # the instance's trailing / is not a path
    assert Me.of([ident(None, "https://x.example")]).handles == frozenset() and not Me.of([])
    assert Me.of([ident("@alice@school.social", None)]).profiles == frozenset()  # no instance
    assert Me.of([ident("@")]).profiles == frozenset()  # no user part
    assert Me(profiles=frozenset({"school.social/@alice"})) and Me(handles=frozenset({"@a"}))


def test_handles_compare_without_case_and_leading_at_nothing_else() -> None:
    me = Me.of([ident("@Xavier@school.social")])
    assert me.wrote({"handle": "xavier@SCHOOL.social"}) is True
    assert me.wrote({"handle": " @xavier@school.social "}) is True
    assert me.wrote({"handle": "@avier@school.social"}) is False
    assert me.wrote({"url": " https://School.social/@Xavier/ "}) is True
    assert me.wrote(None) is False and me.wrote({}) is False


@pytest.mark.parametrize(("record", "sid"), [
    ({"url": "https://s.example/@alice/5/"}, "5"),
    ({"url": "https://s.example/notes/9gX"}, "9gX"),  # ids are opaque
    ({"url": "https://s.example/@alice", "key": "https://s.example/users/alice/statuses/9"}, "9"),
    ({"url": "https://s.example/@alice"}, None), ({"url": "https://s.example/"}, None),
    ({"url": "https://s.example"}, None), ({"url": "not-a-url"}, None), ({}, None),
])  # fmt: skip
def test_the_status_id_at_the_end_of_a_url(record: dict[str, Any], sid: str | None) -> None:
    assert status_id_of(record) == sid


def test_threads_of_two_fold_and_replies_in_a_circle_end() -> None:
    base = "https://school.social/users/alice/statuses/"
    two = [status(2, reply_to=base + "1", mine=True), status(1, mine=True)]
    assert [(r["id"], r.get("thread")) for r in fold_own_threads(two)] == [("i1", 2)]
    circle = [status(1, reply_to=base + "2", mine=True), status(2, reply_to=base + "1", mine=True),
              status(3, reply_to=base + "2", mine=True)]  # ids that collide: never lose a row
    assert [(r["id"], r.get("thread")) for r in fold_own_threads(circle)] == [("i1", 3)]
    others = [status(3, "@bob@school.social"), status(4, mine=True)]
    assert fold_own_threads(others) == others


# ----- end to end ----------------------------------------------------------------------------


def test_own_thread_arrives_read_and_is_one_row(cli: Any, mastodon: Any) -> None:
    cli("login", mastodon.base_url, "--token", "alice_token")
    cli("source", "add", "home")
    bob = mastodon.client("bob").status_post("Exit tickets: what do you ask?")
    refl = json.loads(cli("post", SIX, "--json").stdout)
    parts = refl["accounts"][0]["parts"]
    assert len(parts) == 6
    cli("sync")

    unread = json.loads(cli("inbox", "--json").stdout)
    assert [i["url"] for i in unread] == [bob.url]  # none of alice's own six
    everything = json.loads(cli("inbox", "--all", "--json").stdout)
    mine = [i for i in everything if i["url"] != bob.url]
    assert sorted(i["url"] for i in mine) == sorted(p["url"] for p in parts)
    assert all(i["read"] for i in mine)

    listing = cli("inbox", "--all").stdout.splitlines()
    assert len(listing) == 1 + 2  # header, bob's status, alice's thread
    [row] = [ln for ln in listing if "thread of 6" in ln]
    first = next(i for i in mine if i["url"] == parts[0]["url"])
    assert row.startswith(first["id"])
