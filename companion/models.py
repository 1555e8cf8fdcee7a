"""Small frozen records that cross module boundaries (never raw feedparser/Mastodon.py objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

FEED_ITEM = "feed"
STATUS_ITEM = "status"


@dataclass(frozen=True)
class Author:
    name: str = ""
    handle: str = ""  # @user@host for fediverse people
    url: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "handle": self.handle, "url": self.url}


@dataclass(frozen=True)
class Media:
    url: str
    alt: str = ""
    type: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"url": self.url, "alt": self.alt, "type": self.type}


@dataclass(frozen=True)
class ItemData:
    """One entry as a source fetched it, normalized at the edge.

    ``key`` is the identity across sources: a status's ActivityPub ``uri`` (the same on every
    server), or for feeds a globally unique guid/permalink (else guid scoped by source).
    """

    key: str
    kind: str
    url: str = ""
    title: str = ""
    author: Author = field(default_factory=Author)
    # HTML: sanitized by the source, except from the feed fast path, which keeps the entry's
    # HTML as the feed gave it (sanitizing is a fifth of a cold sync): the store sanitizes
    # every body it returns, and nothing else shows or sends HTML.
    html: str = ""
    # The plain text, when the source gave text (a text/plain entry) or it is cheap (a
    # status). "" for a feed entry's HTML body: its text is rendered from ``html`` when it
    # is read (companion.html.html_to_text) and its words indexed at sync (plain_words).
    text: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    tags: tuple[str, ...] = ()
    media: tuple[Media, ...] = ()
    cw: str = ""  # content warning (spoiler_text), shown before the content
    reply_to: str | None = None  # key (uri) of the status this replies to
    boosted_by: tuple[str, ...] = ()  # handles
    link: str | None = None  # canonical_url() of the external link (statuses) / entry link (feeds)
    mentions: tuple[str, ...] = ()
    counts: tuple[tuple[str, int], ...] = ()  # (replies|boosts|favourites, n)
    extra: tuple[tuple[str, Any], ...] = ()

    @cached_property
    def words(self) -> str:
        """The words of ``html`` when there is no ``text`` (else ""; whitespace as in the
        HTML): what the store indexes for search and shows as a summary. Cached and pickled
        like ``fingerprint``, so feed parse workers compute it."""
        if self.text or not self.html:
            return ""
        from companion.html import plain_words

        return plain_words(self.html)

    @cached_property
    def fingerprint(self) -> str:
        """A hash of what the source says, so a sync skips writing what did not change.

        Cached on the instance and pickled with it: feed parse workers compute it, so the
        process that stores items does not (issue 3: a cold sync hashes 10,000 bodies). The
        feed fast path sets it to the raw entry's fingerprint instead, which it has anyway.
        """
        import hashlib

        import orjson

        fields = (self.title, self.url, self.html, self.text, self.cw, self.link or "",
                  self.tags, self.media, self.counts, self.boosted_by, self.author,
                  iso(self.published) if self.published else "")
        try:
            raw = orjson.dumps(fields)
        except TypeError:  # e.g. a lone surrogate from a broken feed
            raw = repr(fields).encode("utf-8", "surrogatepass")
        return hashlib.blake2b(raw, digest_size=8).hexdigest()


def iso(dt: datetime) -> str:
    """ISO 8601 in UTC with a Z, second precision: sortable as a string."""
    global _ISO_LAST
    last = _ISO_LAST
    if dt is last[0]:  # a sync stamps every new item with the same ``now``
        return last[1]
    out = (dt.astimezone(UTC) if dt.tzinfo is not None and dt.utcoffset() else dt).isoformat()
    # isoformat (C) is 2x faster than formatting the fields, and sync formats every date
    _ISO_LAST = (dt, out[:19] + "Z")
    return _ISO_LAST[1]


_ISO_LAST: tuple[datetime | None, str] = (None, "")


def parse_iso(text: str) -> datetime:
    """The inverse of ``iso`` (also accepts any ISO 8601 with offset)."""
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
