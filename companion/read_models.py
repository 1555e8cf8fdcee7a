"""Typed read models for front ends: what the CLI and the TUI display.

The store keeps records as dicts (light ones for listings, full ones with text and media);
front ends get these frozen objects instead, built at the boundary (``Item.from_record``), as
lemon24/reader hands out ``Entry`` and ``Feed``. Their ``as_json`` is the PRODUCT.md
``--json`` shape (fields may be added, never renamed). Remote text in them is data: a front
end cleans it before showing it (companion.textsafe).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from companion.models import Author, Media, parse_iso
from companion.specs import SourceSpec

_NO_AUTHOR = Author()


def _author(raw: Mapping[str, Any] | None) -> Author:
    if not raw:
        return _NO_AUTHOR
    return Author(raw.get("name") or "", raw.get("handle") or "", raw.get("url") or "")


@dataclass(frozen=True, slots=True)
class Item:
    """One inbox item (a feed entry or a status). A listing's items are light: ``text`` and
    ``media`` are empty and ``full`` is False; ``summary`` is the first line of the text."""

    id: str
    kind: str  # "feed" | "status"
    sources: tuple[str, ...]
    published: str  # ISO 8601 UTC with a Z (sortable as text; ``published_at`` parses it)
    url: str = ""
    title: str = ""
    author: Author = _NO_AUTHOR
    summary: str = ""
    text: str = ""
    tags: tuple[str, ...] = ()
    read: bool = False
    starred: bool = False
    shared_by: tuple[str, ...] = ()  # statuses (ids) sharing this story
    boosted_by: tuple[str, ...] = ()  # handles
    reply_to: str | None = None  # the key (uri) or status id of the status it replies to
    media: tuple[Media, ...] = ()
    cw: str = ""
    link: str | None = None  # the external link a status shares (canonical), or the entry's
    counts: tuple[tuple[str, int], ...] = ()  # (replies|boosts|favourites, n), as stored
    story: str | None = None  # id of the feed entry a status shares
    key: str = ""  # identity across sources (a status's uri)
    mine: bool = False  # written by a logged-in account
    thread: int = 0  # a listing's row for a thread of yours: how many parts it stands for
    full: bool = False

    @classmethod
    def from_record(cls, rec: Mapping[str, Any], *, full: bool | None = None) -> Item:
        """The item a store record describes (light or full: ``full`` defaults to whether
        the record carries its heavy fields)."""
        g = rec.get
        counts = g("counts")
        return cls(
            rec["id"], rec["kind"], tuple(rec["sources"]), rec["published"],
            g("url") or "", g("title") or "", _author(g("author")), g("summary") or "",
            g("text") or "", tuple(g("tags") or ()), bool(g("read")), bool(g("starred")),
            tuple(g("shared_by") or ()), tuple(g("boosted_by") or ()), g("reply_to"),
            tuple(Media(m.get("url", ""), m.get("alt", ""), m.get("type", ""))
                  for m in g("media") or ()),
            g("cw") or "", g("link"), tuple(counts.items()) if counts else (), g("story"),
            g("key") or "", bool(g("mine")), int(g("thread") or 0),
            ("text" in rec or "media" in rec or "hash" in rec) if full is None else full,
        )

    @property
    def published_at(self) -> datetime:
        """``published`` as an aware datetime."""
        return parse_iso(self.published)

    @property
    def counts_map(self) -> dict[str, int]:
        """``counts`` as a dict (replies, boosts, favourites)."""
        return dict(self.counts)

    @property
    def first_line(self) -> str:
        """What a listing shows for an item without a title: its CW, else its first line."""
        if self.cw:
            return f"CW: {self.cw}"
        return (self.summary or self.text).strip().split("\n")[0]

    def who(self, labels: Mapping[str, str]) -> str:
        """Who it is from, for a listing: a feed entry's source (by its label), else its
        author's name; a status's author handle."""
        a = self.author
        if self.kind == "feed":
            return (labels.get(self.sources[0], "") if self.sources else "") or a.name
        return a.handle or a.name

    @property
    def web_link(self) -> str:
        """The address to open: the item's own URL, else the link it shares."""
        return (self.url or self.link or "").strip()

    def as_json(self) -> dict[str, Any]:
        """The PRODUCT.md ``--json`` item shape."""
        return {
            "id": self.id,
            "kind": self.kind,
            "sources": list(self.sources),
            "url": self.url,
            "title": self.title,
            "author": self.author.as_dict(),
            "text": self.text,
            "published": self.published,
            "tags": list(self.tags),
            "read": self.read,
            "starred": self.starred,
            "shared_by": list(self.shared_by),
            "boosted_by": list(self.boosted_by),
            "reply_to": self.reply_to,
            "media": [{"url": m.url, "alt": m.alt} for m in self.media],
            "cw": self.cw,
            "link": self.link,
            "counts": dict(self.counts),
        }


_INTERNED: dict[Any, Any] = {}


def _shared(value: Any) -> Any:
    """One copy of a value many rows repeat (a source tuple, a tag tuple, an author)."""
    got = _INTERNED.get(value)
    if got is None:
        if len(_INTERNED) > 50_000:
            _INTERNED.clear()
        got = _INTERNED[value] = value
    return got


@dataclass(frozen=True, slots=True)
class ItemRow:
    """One line of a listing: what a list shows of an item, and no more (a front end that
    lists 100,000 items holds these; it reads the ``Item`` of the one it shows)."""

    id: str
    kind: str
    sources: tuple[str, ...]
    published: str
    title: str  # the title, else the CW (``CW: …``), else the first line of the text
    author: Author = _NO_AUTHOR  # (its url left out)
    tags: tuple[str, ...] = ()
    read: bool = False
    starred: bool = False
    cw: bool = False
    shared: int = 0  # people who shared this story
    boosts: int = 0

    @classmethod
    def from_record(cls, rec: Mapping[str, Any]) -> ItemRow:
        """The row of a store record (light or full)."""
        g = rec.get
        a = g("author")
        author = _shared(Author(a.get("name") or "", a.get("handle") or "")) if a else _NO_AUTHOR
        title = g("title") or ""
        if not title:
            title = (f"CW: {g('cw')}" if g("cw")
                     else (g("summary") or g("text") or "").strip().split("\n")[0])
        return cls(rec["id"], rec["kind"], _shared(tuple(rec["sources"])), rec["published"],
                   title[:200], author, _shared(tuple(g("tags") or ())), bool(g("read")),
                   bool(g("starred")), bool(g("cw")), len(g("shared_by") or ()),
                   len(g("boosted_by") or ()))

    def who(self, labels: Mapping[str, str]) -> str:
        """As ``Item.who``."""
        if self.kind == "feed":
            return (labels.get(self.sources[0], "") if self.sources else "") or self.author.name
        return self.author.handle or self.author.name


@dataclass(frozen=True, slots=True)
class ItemPage:
    """One item as `pln show` presents it: the item in full, its sanitized HTML, the
    status it replies to (or a link to it) and the story it shares."""

    item: Item
    html: str = ""
    parent: Item | None = None
    parent_link: str | None = None
    story: Item | None = None


@dataclass(frozen=True, slots=True)
class Health:
    """A source's sync health as `pln source list` shows it."""

    last_success: str | None = None
    last_error: str | None = None
    failures: int = 0
    items: int = 0
    retired: bool = False
    retry_until: str | None = None


@dataclass(frozen=True)
class SourceView:
    """A followed source with its health. ``health_json`` is the health as stored (the
    ``--json`` shape keeps whatever fields the sync engine records)."""

    spec: SourceSpec
    health: Health
    health_json: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_state(cls, spec: SourceSpec, state: Mapping[str, Any]) -> SourceView:
        """A source and its saved sync state (companion.source_health)."""
        raw = dict(state.get("health", {}))
        raw.pop("counted", None)  # internal: see companion.source_health
        if state.get("retry_until"):
            raw["retry_until"] = state["retry_until"]
        health = Health(
            last_success=raw.get("last_success"), last_error=raw.get("last_error"),
            failures=int(raw.get("failures") or 0), items=int(raw.get("items") or 0),
            retired=bool(raw.get("retired")), retry_until=raw.get("retry_until"),
        )
        return cls(spec, health, raw)

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def label(self) -> str:
        return self.spec.label

    def as_json(self) -> dict[str, Any]:
        """The ``pln source list --json`` shape; no password from a feed URL in its last
        error."""
        from companion.urls import redact

        s, health = self.spec, dict(self.health_json)
        if isinstance(health.get("last_error"), str):
            health["last_error"] = redact(health["last_error"])
        return {"id": s.id, "kind": s.kind, "spec": s.spec, "name": s.name,
                "topics": list(s.topics), "account": s.account, "health": health}


@dataclass(frozen=True, slots=True)
class SharedLink:
    """A link the network shares (`pln inbox --links`): who shared it, and the story."""

    url: str
    title: str
    people: tuple[str, ...]
    statuses: tuple[str, ...]
    item: str | None  # the feed entry of the story, when it is in the inbox
    feed_sources: tuple[str, ...]
    last_shared: str

    @property
    def count(self) -> int:
        return len(self.people)

    @property
    def in_feed(self) -> bool:
        return self.item is not None

    def as_json(self) -> dict[str, Any]:
        """The ``pln inbox --links --json`` shape."""
        return {
            "url": self.url,
            "title": self.title,
            "people": list(self.people),
            "count": self.count,
            "statuses": list(self.statuses),
            "in_feed": self.in_feed,
            "item": self.item,
            "feed_sources": list(self.feed_sources),
            "last_shared": self.last_shared,
        }


@dataclass(frozen=True, slots=True)
class PostedPart:
    """One status of a reflection on one account."""

    n: int
    text: str
    state: str  # pending | sending | sent | failed
    url: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PostedAccount:
    """Where a reflection goes: one account and its parts."""

    name: str
    handle: str
    state: str
    error: str | None
    parts: tuple[PostedPart, ...]


@dataclass(frozen=True, slots=True)
class Reflection:
    """A journal entry (companion/reflections/compose.py has the stored shape)."""

    id: str
    created: str
    state: str  # draft | pending | sent | failed
    body: str
    text: str
    visibility: str = "public"
    cw: str = ""
    tags: tuple[str, ...] = ()
    cites: tuple[str, ...] = ()  # URLs of the cited items
    reply_to: str | None = None  # URL (or uri) of the status it answers
    accounts: tuple[PostedAccount, ...] = ()
    replies: tuple[str, ...] = ()  # inbox items replying to it
    error: str | None = None

    @classmethod
    def from_record(cls, rec: Mapping[str, Any]) -> Reflection:
        """The reflection a journal record describes."""
        reply = rec.get("reply_to") or None
        return cls(
            id=rec["id"], created=rec.get("created", ""), state=rec.get("state", ""),
            body=rec.get("body", ""), text=rec.get("text", ""),
            visibility=rec.get("visibility") or "public", cw=rec.get("cw") or "",
            tags=tuple(rec.get("tags") or ()),
            cites=tuple(c.get("url", "") for c in rec.get("cites") or ()),
            reply_to=(reply.get("url") or reply.get("uri")) if isinstance(reply, dict) else None,
            accounts=tuple(
                PostedAccount(a.get("name", ""), a.get("handle", ""), a.get("state", ""),
                              a.get("error"),
                              tuple(PostedPart(p.get("n", 0), p.get("text", ""),
                                               p.get("state", ""), p.get("url"), p.get("error"))
                                    for p in a.get("parts") or ()))
                for a in rec.get("accounts") or ()),
            replies=tuple(rec.get("replies") or ()),
            error=rec.get("error"),
        )

    @property
    def urls(self) -> list[str]:
        """Where it can be read: the first sent part on each account."""
        out = []
        for a in self.accounts:
            sent = next((p.url for p in a.parts if p.state == "sent" and p.url), None)
            if sent:
                out.append(sent)
        return out
