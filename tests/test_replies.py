"""Replies to a reflection (issue 11.8): the journal counts real replies from others, not the
thread's own parts, including a reply whose parent is stored by status id; `pln show` names
the replied-to item (or links to it) instead of printing a bare status id."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from companion.credentials import Account
from companion.mine import Me
from companion.parents import find_parent, host_of, parent_link, source_hosts
from companion.reflections.replies import replies_by_reflection
from companion.specs import ACCOUNT, TAG, SourceSpec, parse_spec
from tests.test_post import LONG

BASE = "https://school.social/users/alice/statuses/"
REFL = {
    "id": "r1",
    "accounts": [{
        "name": "school", "instance": "https://school.social",
        "parts": [{"n": n, "status_id": f"10{n}", "uri": f"{BASE}10{n}",
                   "url": f"https://school.social/@alice/10{n}"} for n in (1, 2, 3)],
    }],
}
ME = Me.of([Account(name="school", instance="https://school.social", token="t",
                    handle="@alice@school.social")])


def item(iid: str, who: str, reply_to: str, source: str = "home1", key: str = "") -> dict[str, Any]:
    return {"id": iid, "kind": "status", "key": key or f"https://x.example/{iid}",
            "sources": [source], "reply_to": reply_to, "author": {"handle": who}}


def test_replies_from_others_by_uri_or_by_status_id_on_the_same_server() -> None:
    hosts = {"home1": "school.social", "tag2": "other.example"}
    items = [
        item("own2", "@alice@school.social", BASE + "101", key=BASE + "102"),  # the thread itself
        item("own3", "@alice@school.social", "102", key=BASE + "103"),  # by id: still itself
        item("bob", "@bob@school.social", BASE + "101"),  # a reply, parent by uri
        item("carol", "@carol@else.example", "103"),  # a reply, parent by id on school.social
        item("dave", "@dave@other.example", "103", source="tag2"),  # id 103 of another server
        item("later", "@alice@school.social", BASE + "103"),  # my own later note: not a reply
        item("nobody", "@eve@school.social", "999"),
    ]
    assert replies_by_reflection([REFL], items, hosts, ME) == {"r1": ["bob", "carol"]}


def test_the_host_of_each_kind_of_source() -> None:
    specs = [s.with_id() for s in (
        parse_spec("home", account="school"),
        parse_spec("mentions"),  # no account named: the default one
        parse_spec("#edtech@other.example"),
        parse_spec("@bob@third.example"),
        parse_spec("https://blog.example/feed.xml"),
    )]
    hosts = source_hosts(specs, {"school": "https://School.social"}, "school")
    assert [hosts.get(s.id) for s in specs] == [
        "school.social", "school.social", "other.example", "third.example", None]


def test_a_parent_named_by_id_is_found_only_among_statuses_of_the_same_server() -> None:
    hosts = {"home1": "school.social", "tag2": "other.example"}
    reply = {**item("carol", "@carol@else.example", "103"), "mentions": ["@alice@school.social"]}
    other = {"id": "o", "sources": ["tag2"], "url": "https://other.example/@x/103"}
    part3 = {"id": "p3", "sources": ["home1"], "url": "https://school.social/@alice/103"}
    assert find_parent(reply, hosts, [other]) is None
    assert find_parent(reply, hosts, [other, part3]) is part3
    assert parent_link(reply, hosts) == "https://school.social/@alice@school.social/103"
    assert parent_link({**reply, "mentions": []}, hosts, ["http://School.social"]) == (
        "http://school.social/api/v1/statuses/103")
    assert parent_link({**reply, "sources": ["feed"]}, hosts) is None


def test_hosts_compare_without_case() -> None:
    assert host_of("https://School.Social:8443/@a/1") == "school.social:8443"
    assert host_of("https://Straße.example/") == "strasse.example"  # casefold, as specs do
    assert host_of("not a url") == "" and host_of("") == ""


def test_the_server_each_source_is_fetched_from() -> None:
    accounts = {"school": "https://School.social", "work": "https://work.example"}
    specs = [
        parse_spec("https://blog.example/feed.xml"),  # a feed: no server
        parse_spec("home", account="school"),  # its own account, whatever the default
        parse_spec("mentions"),  # the default account
        SourceSpec(kind="home", target="home", account="gone"),  # an account logged out
        parse_spec("#edtech@Other.example"),  # a tag on a server of its own
        parse_spec("#edtech"),  # a tag through the default account
        SourceSpec(kind=TAG, target="x", host="Straße.Example"),
        SourceSpec(kind=ACCOUNT, target="@bob@Third.Example"),  # an account, its host unsaid
    ]
    specs = [replace(s, id=f"s{n}") for n, s in enumerate(specs)]
    hosts = source_hosts(specs, accounts, "work")
    assert hosts == {"s1": "school.social", "s2": "work.example", "s4": "other.example",
                     "s5": "work.example", "s6": "strasse.example", "s7": "third.example"}
    assert source_hosts(specs, accounts, None) == {
        "s1": "school.social", "s4": "other.example", "s6": "strasse.example",
        "s7": "third.example"}


def test_no_parent_without_a_status_id_and_never_itself() -> None:
    hosts = {"home1": "school.social", "tag2": "other.example"}
    reply = {**item("carol", "@carol@else.example", "103"), "url": "https://school.social/@c/103"}
    assert find_parent(reply, hosts, [reply]) is None  # a status is not its own parent
    odd = [{"id": f"o{n}", "sources": ["home1"], "url": f"https://school.social/@x/{sid}"}
           for n, sid in enumerate(("None", "XX", "0"))]
    assert find_parent({**reply, "reply_to": None}, hosts, odd) is None  # replies to nothing
    for to in (None, "", "https://school.social/users/alice/statuses/103"):
        assert parent_link({**reply, "reply_to": to}, hosts) is None
    # fetched from two servers: the link is on the first by name, every time
    both = {**reply, "sources": ["tag2", "home1"], "mentions": None}
    assert parent_link(both, hosts) == "https://other.example/api/v1/statuses/103"


# ----- end to end ----------------------------------------------------------------------------


def test_journal_counts_replies_from_others_and_show_names_the_parent(
    cli: Any, mastodon: Any
) -> None:
    cli("login", mastodon.base_url, "--token", "alice_token")
    cli("source", "add", "home")
    refl = json.loads(cli("post", LONG, "--json").stdout)
    parts = refl["accounts"][0]["parts"]
    assert len(parts) == 4
    cli("sync")  # the thread comes back through home: its parts reply to each other
    bob = mastodon.client("bob")
    reply = bob.status_post("@alice the quiet students, yes!", in_reply_to_id=parts[1]["status_id"])
    aside = bob.status_post("Unrelated thought about homework.")
    cli("sync")  # the reply arrives without its parent: named by status id

    everything = {i["url"]: i for i in json.loads(cli("inbox", "--all", "--json").stdout)}
    stored = everything[reply.url]
    assert stored["reply_to"] == parts[1]["status_id"]  # what this test is about
    [listed] = json.loads(cli("journal", "--json").stdout)
    assert listed["replies"] == [stored["id"]]
    assert everything[aside.url]["id"] not in listed["replies"]
    assert f"↩ 1 reply: {stored['id']}" in cli("journal").stdout

    part2 = everything[parts[1]["url"]]
    shown = cli("show", stored["id"]).stdout
    assert f"↩ in reply to @alice@mock.local ({part2['id']})" in shown
    assert parts[1]["status_id"] not in shown


def test_show_links_a_parent_that_is_not_in_the_inbox(cli: Any, mastodon: Any) -> None:
    cli("login", mastodon.base_url, "--token", "alice_token")
    cli("source", "add", "home")
    carol = mastodon.client("carol").status_post("Homework: yes or no?")  # alice does not follow
    reply = mastodon.client("bob").status_post("@carol no homework!", in_reply_to_id=carol.id)
    cli("sync")
    [stored] = [i for i in json.loads(cli("inbox", "--all", "--json").stdout)
                if i["url"] == reply.url]
    assert stored["reply_to"] == str(carol.id)
    shown = cli("show", stored["id"]).stdout
    assert f"↩ in reply to {mastodon.base_url}/@carol@mock.local/{carol.id}" in shown
