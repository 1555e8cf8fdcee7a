"""decide.merge when one item arrives from several sources (issue 11, point 3): plain data.

One copy owns an item (its first source's); a copy from another source adds its source and
fills what is missing, never replaces a value with an empty or poorer one, and a status stays
a status. Sync-level versions of the same cases are in tests/test_real_servers.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from companion.decide import merge
from companion.models import FEED_ITEM, STATUS_ITEM, Author, ItemData, Media

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
URI = "https://social.example/objects/7f3a"


def status(**kw: Any) -> ItemData:
    base: dict[str, Any] = {
        "key": URI, "kind": STATUS_ITEM, "url": "https://social.example/notice/7f3a",
        "author": Author("Bob", "@bob@social.example", "https://social.example/users/bob"),
        "html": "<p>Fractions with paper strips, a whole lesson</p>",
        "text": "Fractions with paper strips, a whole lesson",
        "published": NOW - timedelta(hours=2), "tags": ("math",),
        "link": "https://blog.example/strips",
        "counts": (("replies", 2), ("boosts", 1), ("favourites", 5)),
        "mentions": ("@carol@social.example",),
    }
    base.update(kw)
    return ItemData(**base)


def feed_copy(**kw: Any) -> ItemData:
    """The same status as its author's RSS feed carries it (guid = the status's uri)."""
    base: dict[str, Any] = {
        "key": URI, "kind": FEED_ITEM, "url": "https://social.example/notice/7f3a",
        "title": "Fractions with paper strips, a whole lesson"[:30] + "…",
        "html": "<p>Fractions with paper strips, a whole lesson</p>",
        "published": NOW - timedelta(hours=2),
    }
    base.update(kw)
    return ItemData(**base)


def stored(data: ItemData, source: str) -> dict[str, Any]:
    out = merge(None, data, source, NOW)
    assert out is not None
    return out[0]


def test_a_feed_copy_of_a_status_only_adds_its_source() -> None:
    rec = stored(status(), "home")
    out = merge(rec, feed_copy(), "bobrss", NOW)
    assert out is not None
    new, body = out
    assert new["sources"] == ["home", "bobrss"]
    assert body is None  # the status's own text stays
    for field in ("kind", "title", "author", "tags", "counts", "link", "link_key", "url",
                  "mentions", "text", "published"):
        assert new[field] == rec[field], field
    assert merge(new, feed_copy(), "bobrss", NOW) is None  # and next sync: nothing to write


def test_a_feed_copy_fills_what_the_status_lacks_but_never_its_link_or_title() -> None:
    rec = stored(status(tags=(), media=(), link=None), "home")
    pic = (Media("https://files.example/a.png", "a chart"),)
    new, _ = merge(rec, feed_copy(tags=("math",), media=pic, link="https://social.example/notice/7f3a"),
                   "bobrss", NOW) or (None, None)
    assert new is not None
    assert new["kind"] == STATUS_ITEM and new["tags"] == ["math"] and new["media"][0]["alt"] == "a chart"
    assert new["link"] is None and new["link_key"] is None and new["title"] == ""


def test_a_status_arriving_after_its_feed_copy_takes_the_item_over() -> None:
    rec = stored(feed_copy(), "bobrss")
    new, body = merge(rec, status(), "home", NOW) or (None, None)
    assert new is not None and body == {"html": status().html}
    assert new["kind"] == STATUS_ITEM and new["title"] == "" and new["author"]["handle"] == "@bob@social.example"
    assert new["sources"] == ["home", "bobrss"]  # the status owns it now
    assert merge(new, feed_copy(), "bobrss", NOW) is None  # the feed cannot take it back


def test_two_feeds_sharing_an_atom_id_never_blank_each_other() -> None:
    full = feed_copy(kind=FEED_ITEM, key="urn:uuid:1", title="Paper strips",
                     url="https://blog.example/strips", link="https://blog.example/strips",
                     author=Author("Dana"), tags=("math",))
    empty = feed_copy(kind=FEED_ITEM, key="urn:uuid:1", title="", url="urn:uuid:1", link=None, html="",
                      author=Author(), tags=())
    rec = stored(full, "blog")
    out = merge(rec, empty, "planet", NOW)
    assert out is not None
    new, body = out
    assert body is None and new["sources"] == ["blog", "planet"]
    assert (new["title"], new["url"], new["link"], new["tags"], new["author"]["name"]) == (
        "Paper strips", "https://blog.example/strips", "https://blog.example/strips", ["math"], "Dana")
    assert merge(new, empty, "planet", NOW) is None
    # the other way round: the empty copy came first, the full one fills it
    rec = stored(empty, "planet")
    new, body = merge(rec, full, "blog", NOW) or (None, None)
    assert new is not None and body == {"html": full.html}
    assert (new["title"], new["url"], new["link"], new["tags"]) == (
        "Paper strips", "https://blog.example/strips", "https://blog.example/strips", ["math"])
    assert new["link_key"] is not None


def test_the_owner_revises_and_a_newer_revision_from_elsewhere_replaces_what_it_has() -> None:
    rec = stored(status(cw="spoilers"), "home")
    new, _ = merge(rec, status(cw="", text="edited", html="<p>edited</p>"), "home", NOW) or (None, None)
    assert new is not None and new["cw"] == "" and new["text"] == "edited"  # the owner may remove
    rec = {**stored(status(cw="spoilers"), "home"), "sources": ["home", "tag"]}
    later = status(cw="", text="edited", html="<p>edited</p>", updated=NOW)
    new, body = merge(rec, later, "tag", NOW) or (None, None)
    assert new is not None and new["text"] == "edited" and body == {"html": "<p>edited</p>"}
    assert new["cw"] == "spoilers"  # but never blanks what it lacks
    same = status(text="an older copy", html="<p>an older copy</p>")
    assert merge(rec, same, "tag", NOW) is None


def test_boosters_accumulate_from_any_source() -> None:
    rec = stored(status(), "home")
    new, _ = merge(rec, status(boosted_by=("@carol@social.example",)), "list", NOW) or (None, None)
    assert new is not None and new["boosted_by"] == ["@carol@social.example"]
    assert new["sources"] == ["home", "list"]
