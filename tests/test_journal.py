"""`pln journal` and `pln drafts`: listing and exports (Markdown by week, Atom, JSON)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from companion.credentials import Account
from companion.decide import merge
from companion.models import Author, ItemData
from companion.reflections.export import to_markdown
from companion.service import Companion


def _login(srv: Any) -> None:
    c = Companion()
    c.home.ensure()
    c.credentials.put_account(Account(name="alice", instance=srv.base_url,
                                      token="alice_token", handle="@alice@mock.local"))


def _at(when: datetime) -> Companion:
    return Companion(clock=lambda: when)


def _journal(srv: Any) -> list[dict[str, Any]]:
    """Three reflections over two ISO weeks, one citing a feed item, one not posted."""
    _login(srv)
    c = Companion()
    data = ItemData(key="https://blog.example/spacing", kind="feed",
                    url="https://blog.example/spacing", link="https://blog.example/spacing",
                    title="Spacing [and] interleaving", author=Author(name="Jane"),
                    published=datetime(2026, 11, 1, tzinfo=UTC))
    with c.writing("test"):
        rec = merge(None, data, "src001", datetime(2026, 11, 1, tzinfo=UTC))
        assert rec is not None
        c.store.put_many([rec])
    item = rec[0]["id"]
    a = _at(datetime(2026, 11, 10, 8, 0, tzinfo=UTC)).post_reflection(
        "Spacing beats cramming.", on=[item], tags=["edtech"])
    b = _at(datetime(2026, 11, 18, 9, 30, tzinfo=UTC)).post_reflection(
        "Exit tickets tell me more than quizzes.", cw="teaching")
    srv.fault(path="/api/v1/statuses", methods=["POST"], status=500, count=1)
    c = _at(datetime(2026, 11, 19, 7, 0, tzinfo=UTC))
    d = c.post_reflection("Not posted yet: the server was down.")
    assert [a["state"], b["state"], d["state"]] == ["sent", "sent", "failed"]
    return [a, b, d]


def test_markdown_export_groups_by_week_with_sources(cli: Any, mastodon: Any) -> None:
    a, b, d = _journal(mastodon)
    md = cli("journal", "--export", "md").stdout
    url_a = a["accounts"][0]["parts"][0]["url"]
    url_b = b["accounts"][0]["parts"][0]["url"]
    assert md == (
        "# Learning log\n"
        "\n"
        "## 2026-W47 (Nov 16 – Nov 22, 2026)\n"
        "\n"
        f"### 2026-11-19 07:00 UTC · {d['id']} *(not fully posted — `pln post --retry {d['id']}`)*\n"
        "\n"
        "Not posted yet: the server was down.\n"
        "\n"
        "### 2026-11-18 09:30 UTC · " + b["id"] + "\n"
        "\n"
        "> CW: teaching\n"
        "\n"
        "Exit tickets tell me more than quizzes.\n"
        "\n"
        f"- Posted: [@alice@mock.local]({url_b})\n"
        "\n"
        "## 2026-W46 (Nov 9 – Nov 15, 2026)\n"
        "\n"
        "### 2026-11-10 08:00 UTC · " + a["id"] + "\n"
        "\n"
        "Spacing beats cramming.\n"
        "\n"
        f"- Posted: [@alice@mock.local]({url_a})\n"
        "- Source: [Spacing \\[and\\] interleaving](https://blog.example/spacing) — via blog.example\n"
        "- Tags: #edtech\n"
    )


def test_atom_export_is_valid_and_parses_back(cli: Any, mastodon: Any, tmp_path: Path) -> None:
    import feedparser

    a, b, d = _journal(mastodon)
    out = tmp_path / "journal.atom"
    result = cli("journal", "--export", "atom", "-o", str(out))
    assert result.stdout == ""
    assert f"wrote {out}" in result.stderr
    feed = feedparser.parse(out.read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert "@alice@mock.local" in feed.feed.title
    assert [e.id for e in feed.entries] == [f"urn:pln:reflection:{r['id']}" for r in (d, b, a)]
    entry_a = feed.entries[2]
    assert entry_a.title == "Spacing beats cramming."
    assert entry_a.link == a["accounts"][0]["parts"][0]["url"]
    assert entry_a.published_parsed[:5] == (2026, 11, 10, 8, 0)
    assert "https://blog.example/spacing via blog.example" in entry_a.content[0].value
    assert [t.term for t in entry_a.tags] == ["edtech"]
    related = [ln.href for ln in entry_a.links if ln.rel == "related"]
    assert related == ["https://blog.example/spacing"]


def test_json_export_and_listing(cli: Any, mastodon: Any) -> None:
    a, b, d = _journal(mastodon)
    exported = json.loads(cli("journal", "--export", "json").stdout)
    assert [r["id"] for r in exported] == [d["id"], b["id"], a["id"]]
    listed = json.loads(cli("journal", "--json").stdout)
    assert listed == exported
    assert listed[2]["cites"][0]["url"] == "https://blog.example/spacing"

    table = cli("journal").stdout
    lines = table.splitlines()
    assert lines[0].split() == ["id", "date", "state", "accounts", "text"]  # links etc. below each row
    assert f"{a['id']} 2026-11-10 08:00 sent" in " ".join(table.split())
    assert a["accounts"][0]["parts"][0]["url"] in table
    assert "↳ Spacing [and] interleaving" in table


def test_drafts_lists_only_what_is_not_posted(cli: Any, mastodon: Any) -> None:
    a, b, d = _journal(mastodon)
    rows = json.loads(cli("drafts", "--json").stdout)
    assert [r["id"] for r in rows] == [d["id"]]
    text = cli("drafts").stdout
    assert d["id"] in text and a["id"] not in text
    assert "0/1" in text and "failed (500)" in text
    assert "finish one with: pln post --retry ID" in text
    cli("post", "--retry", d["id"])
    assert cli("drafts").stdout == "no drafts: every reflection is posted\n"


def test_empty_journal(cli: Any) -> None:
    assert "no reflections yet" in cli("journal").stdout
    assert json.loads(cli("journal", "--json").stdout) == []
    assert cli("drafts", "--json").stdout.strip() == "[]"
    assert "No reflections yet" in cli("journal", "--export", "md").stdout


def test_bad_export_options(cli: Any) -> None:
    assert "bad --export 'pdf'" in cli("journal", "--export", "pdf", code=2).stderr
    assert "-o needs --export" in cli("journal", "-o", "x.md", code=2).stderr


def test_markdown_of_plain_data() -> None:
    """The exporter is a plain function of the stored reflections."""
    md = to_markdown([{"id": "abcd1234", "created": "2027-01-01T10:00:00Z", "state": "sent",
                       "body": "New year, new notes.", "accounts": [], "cites": [], "tags": []}])
    assert "## 2026-W53 (Dec 28 – Jan 3, 2027)" in md  # ISO weeks cross the new year
    assert "### 2027-01-01 10:00 UTC · abcd1234\n\nNew year, new notes." in md


def test_replies_received_are_shown_once_synced(cli: Any, mastodon: Any) -> None:
    a, b, d = _journal(mastodon)
    part = b["accounts"][0]["parts"][0]
    reply = ItemData(key="https://mock.local/@bob/42", kind="status", url="https://mock.local/@bob/42",
                     author=Author(handle="@bob@mock.local"), text="Same here!",
                     reply_to=part["uri"], published=datetime(2026, 11, 18, 10, 0, tzinfo=UTC))
    c = Companion()
    with c.writing("test"):
        rec = merge(None, reply, "srchome", datetime(2026, 11, 18, 10, 0, tzinfo=UTC))
        assert rec is not None
        c.store.put_many([rec])
    rid = rec[0]["id"]
    listed = {r["id"]: r for r in json.loads(cli("journal", "--json").stdout)}
    assert listed[b["id"]]["replies"] == [rid]
    assert listed[a["id"]]["replies"] == []
    assert f"↩ 1 reply: {rid}" in cli("journal").stdout
    assert f"- Replies: 1 in the inbox ({rid})" in cli("journal", "--export", "md").stdout
