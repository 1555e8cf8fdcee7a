"""The rules of the records that cross module boundaries: dates as RFC 3339 (ISO 8601) UTC
strings, checked against datetime; what an item's words and fingerprint are."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from companion.models import Author, ItemData, Media, iso, parse_iso

RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")  # RFC 3339 §5.6, "Z" offset


@pytest.mark.parametrize(("dt", "text"), [
    (datetime(2026, 11, 3, 10, 0, 0, tzinfo=UTC), "2026-11-03T10:00:00Z"),
    (datetime(2026, 11, 3, 10, 0, 0, 999_999, tzinfo=UTC), "2026-11-03T10:00:00Z"),  # truncated
    (datetime(2026, 11, 3, 10, 0, 0), "2026-11-03T10:00:00Z"),  # naive: taken as UTC
    (datetime(2026, 11, 3, 10, 0, tzinfo=timezone(timedelta(hours=2))), "2026-11-03T08:00:00Z"),
    (datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
     "2025-12-31T19:30:00Z"),
    (datetime(2026, 12, 31, 20, 0, tzinfo=timezone(-timedelta(hours=8))), "2027-01-01T04:00:00Z"),
    (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00Z"),
])  # fmt: skip
def test_iso_is_rfc_3339_in_utc_to_the_second(dt: datetime, text: str) -> None:
    assert iso(dt) == text
    assert RFC3339_UTC.match(iso(dt))
    assert parse_iso(text) == (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).replace(microsecond=0)


def test_iso_sorts_as_the_dates_do() -> None:
    r = random.Random(4)
    dates = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=r.randint(-10**9, 10**9))
             for _ in range(500)]
    zoned = [d.astimezone(timezone(timedelta(minutes=r.randint(-720, 720)))) for d in dates]
    assert sorted(iso(d) for d in zoned) == [iso(d) for d in sorted(dates)]


def test_iso_of_the_same_date_object_twice_and_of_others_between() -> None:
    a = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    b = datetime(2026, 11, 3, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert [iso(a), iso(a), iso(b), iso(a), iso(b), iso(b)] == [
        "2026-11-03T10:00:00Z", "2026-11-03T10:00:00Z", "2026-11-03T09:00:00Z",
        "2026-11-03T10:00:00Z", "2026-11-03T09:00:00Z", "2026-11-03T09:00:00Z"]
    c = a.replace(tzinfo=None)  # equal wall clock, another object: not mistaken for a
    assert iso(c) == "2026-11-03T10:00:00Z"


@pytest.mark.parametrize(("text", "dt"), [
    ("2026-11-03T10:00:00Z", datetime(2026, 11, 3, 10, tzinfo=UTC)),
    ("2026-11-03T10:00:00", datetime(2026, 11, 3, 10, tzinfo=UTC)),  # no offset: UTC
    ("2026-11-03T10:00:00+02:00", datetime(2026, 11, 3, 8, tzinfo=UTC)),
    ("2026-11-03T10:00:00.5-01:30", datetime(2026, 11, 3, 11, 30, 0, 500_000, tzinfo=UTC)),
    ("2026-11-03", datetime(2026, 11, 3, tzinfo=UTC)),
])  # fmt: skip
def test_parse_iso_reads_any_iso_8601_with_or_without_offset(text: str, dt: datetime) -> None:
    got = parse_iso(text)
    assert got == dt and got.tzinfo is not None


def test_parse_iso_refuses_what_is_not_a_date() -> None:
    for text in ("", "yesterday", "2026-13-01T00:00:00Z", "2026-11-03T25:00:00Z"):
        with pytest.raises(ValueError):
            parse_iso(text)


def test_item_kinds_are_the_json_values_product_md_names() -> None:
    from companion.models import FEED_ITEM, STATUS_ITEM

    assert (FEED_ITEM, STATUS_ITEM) == ("feed", "status")  # --json "kind": "feed"|"status"


def test_what_a_source_does_not_give_is_empty() -> None:
    item = ItemData("k", "feed")
    assert (item.url, item.title, item.html, item.text, item.cw) == ("", "", "", "", "")
    assert item.author == Author() and item.published is None and item.updated is None
    assert (item.tags, item.media, item.boosted_by, item.mentions, item.counts, item.extra) == (
        (), (), (), (), (), ())
    assert item.reply_to is None and item.link is None


def test_author_and_media_as_plain_dicts() -> None:
    assert Author("Dana", "@dana@m.example", "https://m.example/@dana").as_dict() == {
        "name": "Dana", "handle": "@dana@m.example", "url": "https://m.example/@dana"}
    assert Author().as_dict() == {"name": "", "handle": "", "url": ""}
    assert Media("https://m.example/a.png", "a cat", "image").as_dict() == {
        "url": "https://m.example/a.png", "alt": "a cat", "type": "image"}
    assert Media("https://m.example/a.png").as_dict() == {
        "url": "https://m.example/a.png", "alt": "", "type": ""}


def test_words_are_those_of_the_html_only_when_there_is_no_text() -> None:
    item = ItemData("k", "feed", html="<p>Peer <b>de</b>sign</p>")
    assert item.words.split() == ["Peer", "design"]
    assert ItemData("k", "feed", html="<p>x</p>", text="given text").words == ""
    assert ItemData("k", "feed").words == ""
    item = ItemData("k", "feed", html="<p>once</p>")
    assert item.words is item.words  # computed once (a parse worker computes it)


def test_fingerprint_is_a_short_hex_hash_that_ignores_what_a_source_does_not_say() -> None:
    base = ItemData("k", "feed", title="T", html="<p>h</p>")
    fp = base.fingerprint
    assert re.fullmatch(r"[0-9a-f]{16}", fp)
    # the item's identity and our own bookkeeping are not content
    assert ItemData("other", "status", title="T", html="<p>h</p>").fingerprint == fp
    assert ItemData("k", "feed", title="T", html="<p>h</p>",
                    extra=(("x", 1),)).fingerprint == fp
    # content is
    assert ItemData("k", "feed", title="T2", html="<p>h</p>").fingerprint != fp
    published = ItemData("k", "feed", title="T", html="<p>h</p>",
                         published=datetime(2026, 1, 1, tzinfo=UTC))
    assert published.fingerprint != fp
    zoned = ItemData("k", "feed", title="T", html="<p>h</p>",
                     published=datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=1))))
    assert zoned.fingerprint == published.fingerprint  # the same instant
