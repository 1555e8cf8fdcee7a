"""Pure pieces a sync runs for every entry, and their fast paths (issue 3): canonical URLs,
short ids, content fingerprints. Each fast path must agree with the general one."""

from __future__ import annotations

import base64
import hashlib
import pickle
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from companion import urls
from companion.ids import digest
from companion.models import Author, ItemData, Media
from companion.urls import canonical_url
from tests.test_urls_rules import reference

TRICKY = [
    "https://example.com", "https://example.com/", "https://example.com//", "http://a.b/c/",
    "https://Example.com/Path/", "HTTPS://example.com/x", "https://example.com:443/x",
    "https://example.com:8443/x/", "https://example.com./x", "https://ex-ample.co.uk/a_b~c",
    "https://example.com/a%2fb", "https://example.com/a b", "https://example.com/é",
    "https://example.com/x?utm_source=a&id=1", "https://example.com/x#frag",
    "https://user@example.com/x", "https://example.com/x;p=1", "https://example.com/(x)/",
    "https://exa_mple.com/x", "https://-a.example/x", "https://a..example/x",
    " https://example.com/x ", "https://example.com/x\n", "ftp://example.com/x", "mailto:a@b.c",
    "https:///x", "https://xn--bcher-kva.example/", "https://bücher.example/", "https://1.2.3.4/x/",
    "https://[::1]/x", "https://example.com/@user/1234", "https://example.com/a:b@c!$&'*+,=",
]  # fmt: skip


def test_canonical_url_examples() -> None:
    assert canonical_url("HTTPS://Example.COM:443/a/b/?utm_source=x&id=2#top") == "https://example.com/a/b?id=2"
    assert canonical_url("https://example.com") == "https://example.com/"
    assert canonical_url("https://example.com/posts/1/") == "https://example.com/posts/1"
    assert canonical_url("https://example.com//") == "https://example.com/"
    assert canonical_url("ftp://example.com/x") is None


@pytest.mark.parametrize("url", TRICKY)
def test_canonical_url_agrees_with_the_rfc_3986_reference(url: str) -> None:
    assert urls.canonical_url.__wrapped__(url) == reference(url)


def test_canonical_url_fast_path_agrees_with_the_reference_on_random_urls() -> None:
    """The fast path (no urlsplit) and the general one against tests/test_urls_rules.py's
    reference, on URLs many of which take the fast path."""
    rnd = random.Random(7)
    parts = ["a", "B", ".", "-", "/", "//", "x", "?", "#f", ":", "@", "%41", "~", "www.", "..",
             ";p", "Z9", "ex.com", "/path/", "'", " ", "é", "_", ":443", "q=1&utm_x=2"]
    fast = 0
    for _ in range(20_000):
        url = rnd.choice(["http://", "https://", "HTTP://"]) + "".join(
            rnd.choice(parts) for _ in range(rnd.randint(1, 9)))
        fast += urls._PLAIN.fullmatch(url) is not None
        assert urls.canonical_url.__wrapped__(url) == reference(url), url
    assert fast > 300  # the fast path was really taken, not just the fallback


_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", b"0123456789abcdefghjkmnpqrstvwxyz")


@pytest.mark.parametrize("length", [1, 4, 6, 7, 8, 12, 31, 32])
def test_digest_is_crockford_base32_of_sha1(length: int) -> None:
    rnd = random.Random(length)
    for _ in range(300):
        text = "".join(rnd.choice("ab€:/\U0001f600 ") for _ in range(rnd.randint(0, 20)))
        ref = base64.b32encode(hashlib.sha1(text.encode()).digest()).translate(_TO_CROCKFORD)
        assert digest(text, length) == ref.decode()[:length]


def _item(**kw: object) -> ItemData:
    base: dict[str, object] = {
        "key": "k", "kind": "feed", "url": "https://b.example/p", "title": "T", "html": "<p>h</p>", "text": "h",
        "published": datetime(2026, 11, 1, tzinfo=UTC), "tags": ("a",), "author": Author(name="A"),
        "media": (Media(url="https://b.example/m.mp3"),), "link": "https://b.example/p",
    }
    base.update(kw)
    return ItemData(**base)  # type: ignore[arg-type]


def test_fingerprint_follows_every_field_a_source_can_change() -> None:
    fp = _item().fingerprint
    assert fp == _item().fingerprint  # stable
    changes = [{"title": "T2"}, {"html": "<p>x</p>"}, {"text": "x"}, {"cw": "cw"},
               {"tags": ("b",)}, {"author": Author(name="B")}, {"media": ()},
               {"published": datetime(2026, 11, 2, tzinfo=UTC)}, {"link": "https://c.example/"},
               {"counts": (("replies", 1),)}, {"boosted_by": ("@x@y",)}, {"url": "https://b.example/q"}]
    assert len({fp, *(_item(**c).fingerprint for c in changes)}) == len(changes) + 1  # type: ignore[arg-type]


def test_fingerprint_travels_with_the_item_from_a_parse_worker() -> None:
    item = _item()
    fp = item.fingerprint  # computed where the feed was parsed
    copy = pickle.loads(pickle.dumps(item))
    assert copy.__dict__.get("fingerprint") == fp  # not computed again by the storing process
    assert copy == item
    assert _item(html="<p>\ud800</p>").fingerprint  # a lone surrogate from a broken feed


def _email_utils(value: str) -> datetime | None:
    """A date as email.utils reads it, in UTC to the second; None for one it cannot read,
    one without a zone ("-0000": RFC 2822 §3.3) or one outside the years pln keeps."""
    from email.utils import parsedate_to_datetime

    try:
        dt = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if dt.tzinfo is None:
        return None
    dt = dt.astimezone(UTC).replace(microsecond=0)
    return dt if 1900 <= dt.year <= 2200 else None


def test_rfc822_dates_read_as_email_utils_reads_them() -> None:
    """The fast path's RFC 822 dates: every well-formed one (RFC 2822 §3.3: an optional day
    name, day, month name, four-digit year, hh:mm:ss, a zone GMT/UT or +hhmm; also UTC and Z)
    is taken and read as email.utils reads it; other forms may be left to feedparser, but
    whatever is taken is read as email.utils reads it, and what email.utils cannot read is
    never taken. The samples say themselves whether they are well-formed."""
    from companion.sources.feed_fast import Reject, _date

    rnd = random.Random(3)
    # (text, well-formed?)
    day_names = [("", True), ("Mon, ", True), ("Sun, ", True), ("Thu, ", True), ("Xyz, ", False),
                 ("Mon ", False), ("monday, ", False)]
    months = [(m, True) for m in ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
                                  "Oct", "Nov", "Dec")] + [("Foo", False), ("jan", False),
                                                           ("JAN", False), ("June", False)]
    zones = [("GMT", True), ("UT", True), ("UTC", True), ("Z", True), ("+0000", True),
             ("+0530", True), ("-0800", True), ("+2359", True), ("-0000", False), ("-2400", False),
             ("+0099", False), ("+1260", False), ("EST", False), ("+05:30", False), ("", False)]
    years = [(1899, True), (1900, True), (1970, True), (2026, True), (2200, True), (2201, True),
             (9999, True), (26, False)]
    samples = [("Mon, 03 Nov 2026 10:00:00 GMT", True), ("3 Nov 2026 10:00:00 +0100", True),
               ("Sat, 31 Dec 2199 23:59:59 -0100", True), ("3 Nov 2026 10:00 GMT", False),
               ("  Mon, 03 Nov 2026 10:00:00 GMT ", True), ("2026-11-03T10:00:00Z", False)]

    def pick(options: list[tuple[Any, bool]]) -> tuple[Any, bool]:
        """Mostly a well-formed option."""
        return rnd.choice([o for o in options if o[1]] if rnd.random() < 0.85 else options)

    for _ in range(6000):
        (name, ok1), (month, ok2), (zone, ok3), (year, ok4) = (
            pick(day_names), pick(months), pick(zones), pick(years))
        day = rnd.choice([f"{rnd.randint(0, 32)}", f"{rnd.randint(1, 9):02d}", "003"])
        hh, mm, ss = rnd.randint(0, 25), rnd.randint(0, 61), rnd.randint(0, 61)
        samples.append((f"{name}{day} {month} {year:04d} {hh:02d}:{mm:02d}:{ss:02d} {zone}".strip(),
                        ok1 and ok2 and ok3 and ok4 and len(day) <= 2))
    taken = 0
    for value, well_formed in samples:
        expected = _email_utils(value.strip())
        try:
            got: datetime | None = _date(value, True)
        except Reject:
            got = None
        if expected is None:
            assert got is None, value  # email.utils cannot read it: never taken
        elif well_formed:
            assert got == expected, value
        else:
            assert got in (None, expected), value
        taken += got is not None
    assert taken > 1000


def _iso_reference(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    elif dt.utcoffset():
        dt = dt.astimezone(UTC)
    return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}Z"


def test_iso_agrees_with_field_formatting_and_its_memo_never_sticks() -> None:
    from datetime import timedelta, timezone

    from companion.models import iso

    r = random.Random(7)
    previous = None
    for _ in range(20_000):
        dt = datetime(r.randint(1, 9999), r.randint(1, 12), r.randint(1, 28), r.randint(0, 23),
                      r.randint(0, 59), r.randint(0, 59), r.choice([0, r.randint(0, 999_999)]),
                      tzinfo=r.choice([None, UTC, timezone(timedelta(minutes=r.randint(-900, 900)))]))
        assert iso(dt) == _iso_reference(dt), dt
        assert iso(dt) == _iso_reference(dt)  # again: from the memo
        if previous is not None:
            assert iso(previous) == _iso_reference(previous)  # the memo holds one date only
        previous = dt


def test_shard_key_agrees_with_isocalendar() -> None:
    from companion.store.tinydb_store import shard_key

    def reference(published: object) -> str:
        try:
            dt = datetime.fromisoformat(published)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            dt = datetime(1970, 1, 1, tzinfo=UTC)
        year, week, _ = dt.isocalendar()
        return f"{year:04d}-W{week:02d}"

    r = random.Random(3)
    samples: list[object] = ["", "garbage", None, "2026-13-01T00:00:00Z", "2026-11-28",
                             "2026-11-28T23:30:00-05:00", "2026-11-28x", "2021-01-03T00:00:00Z"]
    for _ in range(5000):
        d = datetime(r.randint(1990, 2040), r.randint(1, 12), r.randint(1, 28), r.randint(0, 23))
        samples.append(d.strftime("%Y-%m-%dT%H:%M:%SZ"))
        samples.append(d.strftime("%Y-%m-%dT%H:%M:%S+09:00"))
    for s in samples * 2:  # twice: the second time from the cache
        assert shard_key(s) == reference(s), s  # type: ignore[arg-type]


def test_plain_words_of_sanitized_html() -> None:
    from companion.html import plain_words, sanitize, summary

    html = sanitize("<P>Peer de<B>sign</B> &amp; feed<i>back</i></P><UL><LI>one</LI><li>two</li></ul>"
                    "<p>line<br>break</p>")
    words = plain_words(html)
    assert words.split() == ["Peer", "design", "&", "feedback", "one", "two", "line", "break"]
    # tags in capitals (HTML stored by hand or another tool) read the same
    assert plain_words("<P>a</P><P>b<B>c</B></P>").split() == ["a", "bc"]
    assert plain_words("no markup &eacute;l&egrave;ve") == "no markup élève"
    assert summary("  Peer\n\n design   &\tfeedback ", 200) == "Peer design & feedback"
    assert summary("word " * 100, 12) == "word word wo"
    assert summary(" " * 5000 + "late words", 200) == "late words"  # mostly whitespace


def test_fast_path_items_carry_their_entry_fingerprint() -> None:
    """The fast path's item fingerprint is its raw entry's (no second hash of the fields);
    it changes with the entry, and a feedparser read of the same entry has its own."""
    from companion.sources.feed_parse import parse_feed

    def feed(desc: str) -> bytes:
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
                f"<item><title>A</title><link>https://b.example/a</link><description>{desc}"
                f"</description></item></channel></rss>").encode()

    h = {"Content-Type": "application/rss+xml"}
    one, two = parse_feed(feed("one"), h, "u", "s"), parse_feed(feed("two"), h, "u", "s")
    assert one.parser == two.parser == "fast"
    assert one.items[0].fingerprint == one.fingerprints[0]
    assert two.items[0].fingerprint == two.fingerprints[0] != one.items[0].fingerprint
    slow = parse_feed(feed("one"), {"Content-Type": "text/html"}, "u", "s")  # not the fast path
    assert slow.parser == "feedparser" and slow.items[0].title == "A"
    assert slow.items[0].fingerprint != one.items[0].fingerprint


@pytest.mark.parametrize(("html", "relative"), [
    ('<a href="https://x.example/">', False), ('<a href=https://x.example/>', False),
    ('<a href="mailto:a@b.example">', False), ('<img src="http://x.example/i.png">', False),
    ('<a data-href="/x">', False), ("<p>no links</p>", False),
    ('<a href="/x">', True), ("<a HREF='x'>", True), ("<a href=x>", True),
    ('<img\nsrc = "x.png">', True), ('<img/src="x.png">', True), ('<a title="t"href="x">', True),
    ('<a href="HTTPS://x.example/">', True), ('<a href=" https://x.example/">', True),
    ('<a href="">', True), ('<a href="javascript:alert(1)">', True), ('<a href="//x.example/">', True),
    ('<a title="a>b" href="/x">', True), ("<a title='x' href='https://x.example/src/'>", False),
    ('<A HREF="/x">', True), ('<p>src="x" in text</p><a href="https://x.example/">', False),
    ('<iframe src="/x">', False), ('<a href="https://x.example/"><img src="i.png">', True),
])  # fmt: skip
def test_fast_path_leaves_html_with_relative_urls_to_feedparser(html: str, relative: bool) -> None:
    """Entry HTML is checked as the feed gave it: an <a href> or <img src> that is not an
    absolute http(s) or mailto URL sends the document to feedparser (which resolves and
    sanitizes); other tags' URLs do not matter, sanitizing drops them."""
    from companion.sources.feed_fast import has_relative_url

    assert has_relative_url(html) is relative
    assert has_relative_url(f"<p>{html} and more</p>" * 3) is relative


def test_plain_words_of_html_as_a_feed_gave_it() -> None:
    from companion.html import plain_words

    raw = ('<p>Keep</p><script type="x">alert("no")</script><STYLE>p{}</STYLE><!-- not -->'
           '<p>this a &lt; b, 3 < 4</p><script>unclosed')
    assert plain_words(raw).split() == ["Keep", "this", "a", "<", "b,", "3", "<", "4"]


def test_relative_url_check_agrees_with_an_html_parser_on_random_tags() -> None:
    from html.parser import HTMLParser

    from companion.sources.feed_fast import has_relative_url

    class Ref(HTMLParser):
        relative = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            for name, value in attrs:
                if tag in ("a", "img") and name in ("href", "src") and not (value or "").startswith(
                        ("http://", "https://", "mailto:")):
                    self.relative = True

    r = random.Random(11)
    values = ["https://x.example/a", "http://x.example/src/", "mailto:a@b.example", "/rel",
              "rel.png", "HTTPS://x.example/", "#top", "https://x.example/?q=href"]
    for _ in range(3000):
        parts = []
        for _ in range(r.randint(1, 4)):
            tag = r.choice(["a", "img", "p", "A", "IMG", "span"])
            attrs = []
            for _ in range(r.randint(0, 3)):
                name = r.choice(["href", "src", "HREF", "title", "data-href", "alt"])
                value = r.choice(values)
                q = r.choice(['"', "'", ""]) if " " not in value else '"'
                attrs.append(f"{name}{r.choice(['=', ' = '])}{q}{value}{q}")
            parts.append(f"<{tag}{''.join(' ' + a for a in attrs)}>text src href</{tag}>")
        html = "".join(parts)
        ref = Ref()
        ref.feed(html)
        assert has_relative_url(html) is ref.relative, html


def test_gunzip_reads_what_urllib3_reads_and_keeps_the_size_cap() -> None:
    import gzip
    import zlib

    from companion.errors import FetchError
    from companion.sources.feed import gunzip

    one, two = gzip.compress(b"<rss>" + b"a" * 5000), gzip.compress(b"</rss>")
    assert gunzip(one, 10_000) == b"<rss>" + b"a" * 5000
    assert gunzip(one + two, 10_000) == b"<rss>" + b"a" * 5000 + b"</rss>"  # two members
    assert gunzip(one + b"\x00junk", 10_000).endswith(b"a")  # garbage after a member
    with pytest.raises(FetchError, match="size cap"):
        gunzip(gzip.compress(b"\x00" * 10_000_000), 1_000_000)  # a bomb: 10 KB on the wire
    with pytest.raises(FetchError, match="size cap"):
        gunzip(one + two, 5004)
    with pytest.raises(FetchError, match="gzip"):
        gunzip(b"not gzip at all", 10_000)
    with pytest.raises(FetchError, match="gzip"):
        gunzip(zlib.compress(b"zlib, not gzip"), 10_000)
