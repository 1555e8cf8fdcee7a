"""The rules of sync's pure decisions (companion/decide.py; PRODUCT.md "One item, many
paths"), called directly with plain data: what a stored record becomes, which feed item a
story is, who shared it, what counts as a plain share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from companion.decide import is_plain_share, item_id, join_story, merge, story_key
from companion.ids import ITEM_ID_LEN, digest
from companion.models import FEED_ITEM, STATUS_ITEM, Author, ItemData, Media

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def status(**kw: Any) -> ItemData:
    base: dict[str, Any] = {
        "key": "https://m.example/users/bob/statuses/1", "kind": STATUS_ITEM,
        "url": "https://m.example/@bob/1", "text": "Read this https://blog.example/p #edtech",
        "html": "<p>Read this</p>", "author": Author("Bob", "@bob@m.example"), "published": T1,
        "tags": ("edtech",), "link": "https://blog.example/p",
    }
    base.update(kw)
    return ItemData(**base)


def entry(**kw: Any) -> ItemData:
    base: dict[str, Any] = {
        "key": "https://blog.example/p", "kind": FEED_ITEM, "url": "https://blog.example/p",
        "title": "A post", "html": "<p>Body</p>", "published": T1, "link": "https://blog.example/p",
    }
    base.update(kw)
    return ItemData(**base)


def first(data: ItemData, source: str = "src1") -> dict[str, Any]:
    return again(None, data, source)[0]


def again(rec: dict[str, Any] | None, data: ItemData, source: str = "src1",
          now: datetime = NOW) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """merge, when it has something to store."""
    out = merge(rec, data, source, now)
    assert out is not None
    return out


# ----- a new item ----------------------------------------------------------------------------


def test_a_new_record() -> None:
    data = status(boosted_by=("@carol@m.example", "@dan@m.example", "@carol@m.example"),
                  tags=("edtech", "math", "edtech"), media=(Media("https://m.example/a.png", "a"),),
                  mentions=("@ada@m.example",), counts=(("replies", 2), ("boosts", 1)),
                  reply_to="https://m.example/users/ada/statuses/9", cw="long")
    rec, body = again(None, data)
    assert body == {"html": "<p>Read this</p>"}
    assert rec["id"] == digest(data.key, ITEM_ID_LEN) == item_id(data.key)
    assert rec["key"] == data.key and rec["kind"] == STATUS_ITEM
    assert rec["sources"] == ["src1"]
    assert rec["boosted_by"] == ["@carol@m.example", "@dan@m.example"]  # each booster once
    assert rec["tags"] == ["edtech", "math"]  # each tag once, in order
    assert rec["shared_by"] == [] and rec["read"] is False and rec["starred"] is False
    assert rec["first_seen"] == "2026-11-20T12:00:00Z"
    assert rec["published"] == "2026-11-01T09:00:00Z" and rec["published_guessed"] is False
    assert rec["updated"] is None
    assert rec["author"] == {"name": "Bob", "handle": "@bob@m.example", "url": ""}
    assert rec["media"] == [{"url": "https://m.example/a.png", "alt": "a", "type": ""}]
    assert rec["mentions"] == ["@ada@m.example"]
    assert rec["counts"] == {"replies": 2, "boosts": 1}
    assert rec["reply_to"] == "https://m.example/users/ada/statuses/9"
    assert rec["cw"] == "long" and rec["text"] == data.text and rec["url"] == data.url
    assert rec["link"] == "https://blog.example/p" and rec["link_key"] == "blog.example/p"
    assert rec["hash"] == data.fingerprint
    given = merge(None, data, "src1", NOW, item_id_="given123")
    assert given is not None and given[0]["id"] == "given123"


@pytest.mark.parametrize(("published", "updated", "stamp", "guessed"), [
    (T1, T2, "2026-11-01T09:00:00Z", False),
    (None, T2, "2026-11-02T09:00:00Z", True),
    (None, None, "2026-11-20T12:00:00Z", True),
])  # fmt: skip
def test_published_falls_back_to_updated_then_to_first_seen(published: datetime | None,
                                                            updated: datetime | None, stamp: str,
                                                            guessed: bool) -> None:
    rec = first(entry(published=published, updated=updated))
    assert rec["published"] == stamp and rec["published_guessed"] is guessed
    assert rec["updated"] == (None if updated is None else "2026-11-02T09:00:00Z")


# ----- the same item again -------------------------------------------------------------------


def test_nothing_new_is_nothing_to_store() -> None:
    data = status(boosted_by=("@carol@m.example",))
    rec = first(data)
    assert merge(rec, data, "src1", NOW) is None


def test_a_second_source_is_added_once() -> None:
    rec = first(status())
    rec2, body = again(rec, status(), "src2")
    assert rec2["sources"] == ["src1", "src2"]
    assert body is None  # the content did not change: the body is not written again
    assert merge(rec2, status(), "src2", NOW) is None
    assert merge(rec2, status(), "src1", NOW) is None
    rec3, _ = again(rec2, status(), "src3")
    assert rec3["sources"] == ["src1", "src2", "src3"]


def test_boosters_accumulate_each_once_in_order() -> None:
    rec = first(status(boosted_by=("@carol@m.example",)))
    rec, _ = again(rec, status(boosted_by=("@dan@m.example", "@carol@m.example")), "src2")
    assert rec["boosted_by"] == ["@carol@m.example", "@dan@m.example"]
    # a booster seen from a second timeline is counted once
    rec, _ = again(rec, status(boosted_by=("@eve@m.example", "@dan@m.example")), "src1")
    assert rec["boosted_by"] == ["@carol@m.example", "@dan@m.example", "@eve@m.example"]
    assert rec["sources"] == ["src1", "src2"]


def test_a_new_booster_alone_is_worth_storing() -> None:
    rec = first(status(boosted_by=("@carol@m.example",)))
    out = merge(rec, status(boosted_by=("@carol@m.example", "@dan@m.example")), "src1", NOW)
    assert out is not None
    assert out[0]["boosted_by"] == ["@carol@m.example", "@dan@m.example"]


def test_a_changed_entry_keeps_the_users_state_and_our_bookkeeping() -> None:
    rec = first(entry())
    rec.update(read=True, starred=True, shared_by=["@bob@m.example"], story=None)
    changed = entry(title="A post (updated)", html="<p>Body, corrected</p>")
    rec2, body = again(rec, changed, "src1", now=NOW + timedelta(days=1))
    assert rec2["title"] == "A post (updated)"
    assert body == {"html": "<p>Body, corrected</p>"}  # changed: the body is written
    assert rec2["read"] is True and rec2["starred"] is True
    assert rec2["shared_by"] == ["@bob@m.example"]
    assert rec2["first_seen"] == rec["first_seen"] and rec2["id"] == rec["id"]
    assert rec2["hash"] == changed.fingerprint != rec["hash"]
    assert rec is not rec2 and rec["title"] == "A post"  # the stored record is not changed


def test_a_changed_entry_with_a_new_date_takes_it() -> None:
    rec = first(entry())
    rec2, _ = again(rec, entry(title="x", published=T2), "src1")
    assert rec2["published"] == "2026-11-02T09:00:00Z" and rec2["published_guessed"] is False


def test_a_guessed_date_is_replaced_by_an_updated_date_once_one_appears() -> None:
    rec = first(entry(published=None, updated=None))
    assert rec["published_guessed"] is True
    rec2, _ = again(rec, entry(published=None, updated=T2, title="x"), "src1")
    assert rec2["published"] == "2026-11-02T09:00:00Z" and rec2["published_guessed"] is True
    # a date that was not guessed is never replaced by an updated date
    rec3 = first(entry(published=T1))
    rec4, _ = again(rec3, entry(published=None, updated=T2, title="y"), "src1")
    assert rec4["published"] == "2026-11-01T09:00:00Z" and rec4["published_guessed"] is False
    # nor by nothing
    rec5, _ = again(rec, entry(published=None, updated=None, title="z"), "src1")
    assert rec5["published"] == rec["published"] and rec5["published_guessed"] is True


def test_a_guessed_date_is_no_longer_guessed_once_the_source_gives_one() -> None:
    rec = first(entry(published=None, updated=None))
    rec2, _ = again(rec, entry(published=T2, title="x"), "src1")
    assert rec2["published"] == "2026-11-02T09:00:00Z" and rec2["published_guessed"] is False


def test_a_record_stored_before_dates_were_guessed_is_taken_as_not_guessed() -> None:
    rec = first(entry(published=T1))
    del rec["published_guessed"]
    rec2, _ = again(rec, entry(published=None, updated=T2, title="x"), "src1")
    assert rec2["published"] == "2026-11-01T09:00:00Z" and rec2["published_guessed"] is False


def test_a_feed_entrys_words_go_to_the_store_with_the_record() -> None:
    data = entry(html="<p>Peer <b>de</b>sign</p>")
    assert first(data)["words"] == data.words and first(data)["words"].split() == ["Peer", "design"]
    assert first(status())["words"] == ""  # a status has its text


# ----- a copy from another source (issue 11) ------------------------------------------------


def stored(rec: dict[str, Any]) -> dict[str, Any]:
    """A record as the store gives it back: empty fields and ``words`` left out, and a
    ``summary`` (the text's first line, else the start of its words)."""
    out = {k: v for k, v in rec.items() if v and k != "words"}
    summary = (rec.get("text") or "").split("\n", 1)[0] or " ".join((rec.get("words") or "").split())
    if summary:
        out["summary"] = summary
    return out


def test_a_copy_from_another_source_never_replaces_what_the_first_gave() -> None:
    rec = stored(first(entry(author=Author("Ada"), tags=("a",))))
    copy = entry(title="Other title", html="<p>Other</p>", tags=("b",),
                 author=Author("Other", "@ada@m.example", "https://m.example/@ada"),
                 link="https://other.example/p", url="https://other.example/p")
    rec2, body = again(rec, copy, "src2")
    assert body is None  # the body stays the first source's
    assert rec2["kind"] == FEED_ITEM and rec2["sources"] == ["src1", "src2"]
    assert (rec2["title"], rec2["summary"], rec2["tags"]) == ("A post", "Body", ["a"])
    assert rec2["link"] == rec2["url"] == "https://blog.example/p"
    assert rec2["link_key"] == "blog.example/p"
    # only the author's empty parts are filled
    assert rec2["author"] == {"name": "Ada", "handle": "@ada@m.example",
                              "url": "https://m.example/@ada"}
    assert rec2["hash"] == rec["hash"]  # the content is still the first source's


def test_a_copy_fills_what_is_missing() -> None:
    rec = stored(first(status(author=Author("Bob"), tags=(), link=None)))
    media = (Media("https://m.example/a.png", "a"),)
    copy = status(cw="spoiler", tags=("edtech",), media=media, mentions=("@ada@m.example",),
                  counts=(("replies", 2),), reply_to="https://m.example/users/ada/statuses/9",
                  link="https://blog.example/p", text="Other text",
                  author=Author("Robert", "@bob@m.example", "https://m.example/@bob"))
    rec2, body = again(rec, copy, "src2")
    assert body is None and rec2["text"] == rec["text"]  # the text was there
    assert rec2["cw"] == "spoiler" and rec2["tags"] == ["edtech"]
    assert rec2["media"] == [{"url": "https://m.example/a.png", "alt": "a", "type": ""}]
    assert rec2["mentions"] == ["@ada@m.example"] and rec2["counts"] == {"replies": 2}
    assert rec2["reply_to"] == "https://m.example/users/ada/statuses/9"
    assert rec2["link"] == "https://blog.example/p" and rec2["link_key"] == "blog.example/p"
    assert rec2["author"] == {"name": "Bob", "handle": "@bob@m.example",
                              "url": "https://m.example/@bob"}


def test_a_copy_of_another_kind_fills_only_what_any_copy_may() -> None:
    rec = stored(first(status(link=None, tags=(), url="")))
    copy = entry(key=rec["key"], title="A title", tags=("edtech",), updated=T2, cw="cw",
                 url="https://m.example/@bob/1", link="https://blog.example/p")
    rec2, body = again(rec, copy, "src2")
    assert rec2["kind"] == STATUS_ITEM and body is None  # a status stays a status
    assert rec2["tags"] == ["edtech"] and rec2["url"] == "https://m.example/@bob/1"
    assert rec2["updated"] == "2026-11-02T09:00:00Z"
    # a feed entry's title is a cut of the status's text, its link the status's own page
    assert "title" not in rec2 and "cw" not in rec2 and "link" not in rec2
    assert rec2["link_key"] is None  # a status's own URL is never its story


@pytest.mark.parametrize("web", ["https://blog.example/p", "HTTP://blog.example/p"])
def test_a_web_address_replaces_a_guid_that_is_not_one(web: str) -> None:
    rec = stored(first(entry(url="urn:uuid:1", link=None)))
    rec2, _ = again(rec, entry(url=web, link=None), "src2")
    assert rec2["url"] == web and rec2["link_key"] == "blog.example/p"
    rec3 = stored(first(entry(url="https://blog.example/p", link=None)))
    rec4, _ = again(rec3, entry(url="https://other.example/p", link=None), "src2")
    assert rec4["url"] == "https://blog.example/p"  # a web address stays


def test_a_newer_revision_of_the_same_kind_replaces_what_it_has() -> None:
    rec = stored(first(entry(author=Author("Ada", "@ada@m.example"))))
    newer = entry(title="Corrected", html="<p>Corrected body</p>", updated=T2, link=None,
                  author=Author("Ada L.", ""))
    rec2, body = again(rec, newer, "src2")
    assert rec2["title"] == "Corrected" and body == {"html": "<p>Corrected body</p>"}
    assert rec2["words"] == newer.words and rec2["text"] == ""
    assert rec2["updated"] == "2026-11-02T09:00:00Z"
    # never an empty value over a stored one, even from a revision
    assert rec2["link"] == "https://blog.example/p"
    assert rec2["author"] == {"name": "Ada L.", "handle": "@ada@m.example", "url": ""}
    # the same revision again, or an older one, changes nothing
    again_ = {**stored(rec2), "summary": "Corrected body"}
    assert merge(again_, entry(title="Other", updated=T2), "src2", NOW) is None
    assert merge(again_, entry(title="Other", updated=T1), "src3", NOW)[0]["title"] == "Corrected"


def test_a_revision_without_a_stored_date_is_newer() -> None:
    rec = stored(first(entry()))
    assert "updated" not in rec
    rec2, _ = again(rec, entry(title="Revised", updated=T1), "src2")
    assert rec2["title"] == "Revised"


def test_a_copy_gives_a_guessed_date_a_real_one() -> None:
    rec = stored(first(entry(published=None, updated=None)))
    rec2, _ = again(rec, entry(published=T2), "src2")
    assert rec2["published"] == "2026-11-02T09:00:00Z" and rec2["published_guessed"] is False
    rec3, _ = again(rec, entry(published=None, tags=("t",)), "src2")
    assert rec3["published"] == rec["published"] and rec3["published_guessed"] is True
    known = {**stored(first(entry(published=T1))), "sources": ["src1", "src2"]}
    assert merge(known, entry(published=T2), "src2", NOW) is None  # a real date stays


def test_a_copy_gives_text_only_to_an_item_without_any() -> None:
    bare = {k: v for k, v in stored(first(status(text="", html=""))).items()}
    assert "text" not in bare and "summary" not in bare
    rec, body = again(bare, status(text="Now some text", html=""), "src2")
    assert rec["text"] == "Now some text" and body == {"html": ""}
    markup = status(text="", html="<p>Markup</p>")
    rec, body = again(bare, markup, "src2")
    assert body == {"html": "<p>Markup</p>"} and rec["words"] == markup.words != ""
    rec, body = again(bare, status(text="", html=""), "src2")
    assert body is None and rec["sources"] == ["src1", "src2"]
    listed = {**bare, "sources": ["src1", "src2"]}  # the body is news even from a listed source
    rec, body = again(listed, markup, "src2")
    assert body == {"html": "<p>Markup</p>"} and rec["sources"] == ["src1", "src2"]
    summarized = {**bare, "summary": "A summary"}  # the light record of a feed entry
    rec, body = again(summarized, status(text="Other text"), "src2")
    assert body is None and "text" not in rec


def test_a_copy_that_changes_nothing_shown_stores_nothing() -> None:
    rec = {**stored(first(status(link=None))), "sources": ["src1", "src2"]}
    assert "link_key" not in rec  # left out when empty
    rec["author"] = {"name": "Bob"}  # a record whose author has only a name
    # another wording of the text it has, from a source it lists: nothing to store
    assert merge(rec, status(link=None, text="Reworded", author=Author("Bob")), "src2",
                 NOW) is None
    nobody = {k: v for k, v in rec.items() if k != "author"}
    assert merge(nobody, status(link=None, text="Reworded", author=Author()), "src2",
                 NOW) is None
    # but an author's new handle is a change
    out = merge(rec, status(link=None, text="Reworded", author=Author("Bob", "@bob@m.example")),
                "src2", NOW)
    assert out is not None and out[0]["author"]["handle"] == "@bob@m.example"


def test_a_feed_entry_without_any_address_has_no_story() -> None:
    rec = stored(first(entry(url="", link=None)))
    assert "url" not in rec and "link" not in rec
    rec2, _ = again(rec, entry(url="", link=None, tags=("t",)), "src2")
    assert rec2["link_key"] is None and rec2["tags"] == ["t"]


def test_a_record_listing_no_source_takes_the_first_to_bring_it() -> None:
    rec = {**stored(first(status())), "sources": []}  # stored before sources were kept
    rec2, body = again(rec, status(), "src2")
    assert rec2["sources"] == ["src2"] and body is None  # the same content: no body written


def test_a_status_takes_over_a_feed_entry() -> None:
    rec = stored(first(entry(key="https://m.example/users/bob/statuses/1")))
    data = status()
    rec2, body = again(rec, data, "src2")
    assert rec2["kind"] == STATUS_ITEM and rec2["text"] == data.text
    assert rec2["sources"] == ["src2", "src1"]  # the status's source owns it now
    assert rec2["hash"] == data.fingerprint and body == {"html": data.html}
    rec3, _ = again({**rec, "sources": ["src1", "src2"]}, data, "src2")
    assert rec3["sources"] == ["src2", "src1"]


def test_a_status_stays_a_status_even_from_its_own_source() -> None:
    rec = stored(first(status()))
    copy = entry(key=rec["key"], title="As a feed entry", html="<p>x</p>")
    rec2, _ = again(rec, copy, "src2")
    assert rec2["kind"] == STATUS_ITEM and rec2["sources"] == ["src1", "src2"]
    out = merge(rec, copy, "src1", NOW)
    assert out is None or (out[0]["kind"] == STATUS_ITEM and "title" not in out[0])


def test_the_first_source_revises_its_status() -> None:
    rec = stored(first(status()))
    revised = status(text="Edited text", html="<p>Edited</p>")
    rec2, body = again(rec, revised, "src1")
    assert rec2["text"] == "Edited text" and body == {"html": "<p>Edited</p>"}
    assert rec2["hash"] == revised.fingerprint and rec2["sources"] == ["src1"]


# ----- ids -----------------------------------------------------------------------------------


def test_item_ids_grow_by_a_character_per_collision() -> None:
    key = "https://blog.example/p"
    full = digest(key)
    assert item_id(key) == full[:8] and item_id(key, {}) == full[:8]
    assert item_id(key, {full[:8]: key}) == full[:8]  # its own id is no collision
    assert item_id(key, {full[:8]: "other"}) == full[:9]
    assert item_id(key, {full[:8]: "other", full[:9]: "another"}) == full[:10]
    assert item_id(key, {"zzzzzzzz": "other"}) == full[:8]
    taken = {full[:n]: f"k{n}" for n in range(8, 32)}
    assert item_id(key, taken) == full  # never longer than the whole digest


# ----- stories -------------------------------------------------------------------------------


def test_story_key() -> None:
    assert story_key(status()) == "blog.example/p"
    assert story_key(status(link="https://www.Blog.example/p/?utm_source=x")) == "blog.example/p"
    assert story_key(status(link=None)) is None  # a status's own URL is never its story
    assert story_key(entry(link=None)) == "blog.example/p"  # a feed item's own URL is
    assert story_key(entry(link=None, url="")) is None


def _rec(id_: str, kind: str, published: str, handle: str = "", name: str = "",
         boosted_by: tuple[str, ...] = (), **kw: Any) -> dict[str, Any]:
    return {"id": id_, "kind": kind, "published": published,
            "author": {"handle": handle, "name": name}, "boosted_by": list(boosted_by), **kw}


def test_story_is_the_earliest_feed_item_and_sharers_come_in_order() -> None:
    records = [
        _rec("f2", FEED_ITEM, "2026-11-03T00:00:00Z"),
        _rec("s2", STATUS_ITEM, "2026-11-05T00:00:00Z", "@carol@m",
             boosted_by=("@bob@m", "@dan@m")),
        _rec("f1", FEED_ITEM, "2026-11-01T00:00:00Z"),
        _rec("s1", STATUS_ITEM, "2026-11-04T00:00:00Z", "@bob@m", boosted_by=("@eve@m",)),
        _rec("s3", STATUS_ITEM, "2026-11-06T00:00:00Z", "", "Only A Name"),
        _rec("s4", STATUS_ITEM, "2026-11-07T00:00:00Z", "@bob@m"),
    ]
    changes = join_story(records)
    people = ["@bob@m", "@eve@m", "@carol@m", "@dan@m", "Only A Name"]  # each once, by time
    assert changes["f1"] == {"shared_by": people} and changes["f2"] == {"shared_by": people}
    for s in ("s1", "s2", "s3", "s4"):
        assert changes[s] == {"story": "f1"}  # the earliest published feed item
    assert set(changes) == {"f1", "f2", "s1", "s2", "s3", "s4"}


def test_join_story_changes_only_what_differs() -> None:
    records = [_rec("f1", FEED_ITEM, "2026-11-01T00:00:00Z", shared_by=["@bob@m"]),
               _rec("s1", STATUS_ITEM, "2026-11-02T00:00:00Z", "@bob@m", story="f1"),
               _rec("s2", STATUS_ITEM, "2026-11-03T00:00:00Z", "@bob@m", story="old")]
    assert join_story(records) == {"s2": {"story": "f1"}}


def test_statuses_without_a_feed_item_have_no_story() -> None:
    records = [_rec("s1", STATUS_ITEM, "2026-11-02T00:00:00Z", "@bob@m", story="gone"),
               _rec("s2", STATUS_ITEM, "2026-11-03T00:00:00Z", "@ada@m")]
    assert join_story(records) == {"s1": {"story": None}}  # s2 has none already
    assert join_story([_rec("f1", FEED_ITEM, "2026-11-01T00:00:00Z")]) == {}  # no sharers yet
    assert join_story([]) == {}


def test_a_status_without_author_or_boosters_shares_with_nobody() -> None:
    records = [_rec("f1", FEED_ITEM, "2026-11-01T00:00:00Z"),
               {"id": "s1", "kind": STATUS_ITEM, "published": "2026-11-02T00:00:00Z"},
               {"id": "s2", "kind": STATUS_ITEM, "published": "2026-11-03T00:00:00Z",
                "author": None, "boosted_by": ["", "@x@m"]}]
    assert join_story(records) == {"f1": {"shared_by": ["@x@m"]}, "s1": {"story": "f1"},
                                   "s2": {"story": "f1"}}


# ----- plain shares --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "plain"), [
    ("", True),
    ("https://blog.example/a-very-long-path/" + "x" * 300, True),  # URLs do not count
    ("Read this https://blog.example/p #edtech #math @bob@m.example", True),
    ("x" * 100, True),  # exactly 100 characters of one's own
    ("x" * 101, False),
    ("x" * 100 + " #tag https://blog.example/p @ada", True),
    ("word " * 20 + "https://blog.example/p", True),  # 99 characters once spaces collapse
    ("word " * 21, False),  # 104
    ("a   b\n\n\nc " + "y" * 94, True),  # whitespace runs count as one space: 100
    ("a   b\n\n\nc " + "y" * 95, False),  # 101
    ("http://x.example/" + " y" * 50, True),  # 99: the URL is gone, one space per word
    ("#" + "t" * 200, True),  # a hashtag, however long
    (" ".join(f"#t{i} @p{i}" for i in range(40)) + " ok", True),  # 80 of them, then "ok"
    ("@" + "u" * 200 + "@m.example", True),
    ("e-mail ada@m.example " + "z" * 90, False),  # "ada" is text; only "@m.example" goes
])  # fmt: skip
def test_a_plain_share_has_at_most_100_characters_of_its_own(text: str, plain: bool) -> None:
    assert is_plain_share({"text": text}) is plain


def test_a_status_without_text_is_a_plain_share() -> None:
    assert is_plain_share({}) is True
