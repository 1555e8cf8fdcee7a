"""Your own posts do not flood the inbox (issue 13.6): statuses written by the logged-in
accounts arrive read, and a thread of your own is one row. The decision is pure
(companion/mine.py), tested with plain data; then end to end against mastodon_mock."""

from __future__ import annotations

import json
from typing import Any

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
