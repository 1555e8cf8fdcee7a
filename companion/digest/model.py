"""The digest as typed, immutable data: what `build` computes and every renderer reads.

``Digest.as_json()`` is the documented, stable `pln digest --format json` shape (version 1):
fields may be added, never renamed or removed (README, "Digest").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON_VERSION = 1


@dataclass(frozen=True)
class Person:
    """Someone in the network, by fediverse handle (feed authors have only a name)."""

    handle: str
    name: str = ""
    url: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"handle": self.handle, "name": self.name, "url": self.url}


@dataclass(frozen=True)
class ItemRef:
    """One inbox item as the digest shows it (a light record's fields, as stored)."""

    id: str
    kind: str  # feed | status
    title: str
    summary: str  # the text's first line (statuses) or first words (feed entries)
    cw: str
    url: str
    published: str  # ISO 8601 UTC
    author: Person
    source: str  # the label of the item's first source ("" when unknown)
    tags: tuple[str, ...] = ()
    shared_by: int = 0
    boosts: int = 0
    read: bool = False
    starred: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "title": self.title, "summary": self.summary,
            "cw": self.cw, "url": self.url, "published": self.published,
            "author": self.author.as_json(), "source": self.source, "tags": list(self.tags),
            "shared_by": self.shared_by, "boosts": self.boosts, "read": self.read,
            "starred": self.starred,
        }  # fmt: skip


@dataclass(frozen=True)
class SharedLink:
    """A link shared by several people in the period (section 1, "Most shared")."""

    url: str
    people: tuple[str, ...]  # handles, in the order they first shared it
    statuses: tuple[str, ...]  # ids of the statuses that shared it
    last_shared: str
    item: ItemRef | None  # the feed entry of a followed site that published it

    @property
    def count(self) -> int:
        return len(self.people)

    def as_json(self) -> dict[str, Any]:
        return {"url": self.url, "title": self.item.title if self.item else "",
                "count": self.count, "people": list(self.people),
                "statuses": list(self.statuses), "last_shared": self.last_shared,
                "item": self.item.as_json() if self.item else None}


@dataclass(frozen=True)
class SourceGroup:
    """One followed site's new entries (section 2): the items shown and how many more."""

    source: str  # source id
    label: str
    count: int
    items: tuple[ItemRef, ...]
    more: int

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "label": self.label, "count": self.count,
                "items": [i.as_json() for i in self.items], "more": self.more}


@dataclass(frozen=True)
class TopicGroup:
    """The sites of one topic (``topic`` None: sources without a topic)."""

    topic: str | None
    count: int
    sources: tuple[SourceGroup, ...]

    def as_json(self) -> dict[str, Any]:
        return {"topic": self.topic, "count": self.count,
                "sources": [s.as_json() for s in self.sources]}


@dataclass(frozen=True)
class Thread:
    """A conversation: a root status and the replies to it in the period (section 3)."""

    root: ItemRef
    participants: tuple[str, ...]  # handles, in the order they joined
    posts: int  # statuses of the thread published in the period
    last_activity: str

    def as_json(self) -> dict[str, Any]:
        return {"root": self.root.as_json(), "participants": list(self.participants),
                "posts": self.posts, "last_activity": self.last_activity}


@dataclass(frozen=True)
class Hashtag:
    """A hashtag by the distinct people who used it in the period."""

    tag: str
    people: tuple[str, ...]
    posts: int

    def as_json(self) -> dict[str, Any]:
        return {"tag": self.tag, "participants": len(self.people), "people": list(self.people),
                "posts": self.posts}


@dataclass(frozen=True)
class ToYou:
    """A reply to one of your reflections, or a status that mentions you."""

    item: ItemRef
    kind: str  # reply | mention
    reflection: str | None  # the reflection it replies to
    html: str = ""  # the status's sanitized HTML (for the HTML digest)

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "reflection": self.reflection, "item": self.item.as_json()}


@dataclass(frozen=True)
class Conversations:
    threads: tuple[Thread, ...]
    hashtags: tuple[Hashtag, ...]
    to_you: tuple[ToYou, ...]

    def as_json(self) -> dict[str, Any]:
        return {"threads": [t.as_json() for t in self.threads],
                "hashtags": [h.as_json() for h in self.hashtags],
                "to_you": [t.as_json() for t in self.to_you]}


@dataclass(frozen=True)
class Voice:
    """Someone who appeared in the period: statuses written and boosts made."""

    person: Person
    posts: int
    boosts: int

    def as_json(self) -> dict[str, Any]:
        return {**self.person.as_json(), "posts": self.posts, "boosts": self.boosts,
                "appearances": self.posts + self.boosts}


@dataclass(frozen=True)
class NewVoice:
    """Someone active in your followed hashtags whom you do not follow, with the evidence."""

    person: Person
    posts: int
    tags: tuple[str, ...]
    evidence: tuple[ItemRef, ...]

    def as_json(self) -> dict[str, Any]:
        return {**self.person.as_json(), "posts": self.posts, "tags": list(self.tags),
                "evidence": [e.as_json() for e in self.evidence]}


@dataclass(frozen=True)
class Voices:
    most_active: tuple[Voice, ...]
    not_followed: tuple[NewVoice, ...]

    def as_json(self) -> dict[str, Any]:
        return {"most_active": [v.as_json() for v in self.most_active],
                "not_followed": [v.as_json() for v in self.not_followed]}


@dataclass(frozen=True)
class Cite:
    title: str
    url: str

    def as_json(self) -> dict[str, Any]:
        return {"title": self.title, "url": self.url}


@dataclass(frozen=True)
class ReflectionRef:
    """A reflection written in the period (section 5)."""

    id: str
    created: str
    state: str  # sent | pending | failed
    text: str
    url: str  # the first posted part ("" until posted)
    tags: tuple[str, ...]
    cites: tuple[Cite, ...]
    replies: int  # replies in the inbox

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "created": self.created, "state": self.state, "text": self.text,
                "url": self.url, "tags": list(self.tags),
                "cites": [c.as_json() for c in self.cites], "replies": self.replies}


@dataclass(frozen=True)
class Learning:
    reflections: tuple[ReflectionRef, ...]
    starred: tuple[ItemRef, ...]
    read_count: int
    read: tuple[ItemRef, ...]  # the newest read items, ``read_count - len(read)`` more

    def as_json(self) -> dict[str, Any]:
        return {"reflections": [r.as_json() for r in self.reflections],
                "starred": [i.as_json() for i in self.starred],
                "read": {"count": self.read_count, "items": [i.as_json() for i in self.read],
                         "more": self.read_count - len(self.read)}}


@dataclass(frozen=True)
class Activity:
    """Items per day (or per week, for periods over two months) by kind."""

    bin: str  # day | week
    labels: tuple[str, ...]  # the first day of each bin, YYYY-MM-DD
    feed: tuple[int, ...]
    status: tuple[int, ...]
    reflections: tuple[int, ...]

    def as_json(self) -> dict[str, Any]:
        return {"bin": self.bin, "labels": list(self.labels), "feed": list(self.feed),
                "status": list(self.status), "reflections": list(self.reflections)}


@dataclass(frozen=True)
class Totals:
    feed_items: int
    sites: int
    statuses: int
    people: int
    reflections: int

    def as_json(self) -> dict[str, Any]:
        return {"feed_items": self.feed_items, "sites": self.sites, "statuses": self.statuses,
                "people": self.people, "reflections": self.reflections}


@dataclass(frozen=True)
class Digest:
    """Everything `pln digest` shows for one period."""

    generated: str
    since: str
    until: str
    since_last_digest: bool  # the period started at the previous digest's mark
    topic: str | None
    source: str | None
    totals: Totals
    activity: Activity
    most_shared: tuple[SharedLink, ...]
    new_from_sites: tuple[TopicGroup, ...]
    conversations: Conversations
    voices: Voices
    learning: Learning
    notes: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        """The stable JSON shape (version 1)."""
        return {
            "version": JSON_VERSION,
            "generated": self.generated,
            "period": {"since": self.since, "until": self.until,
                       "since_last_digest": self.since_last_digest},
            "filters": {"topic": self.topic, "source": self.source},
            "totals": self.totals.as_json(),
            "activity": self.activity.as_json(),
            "most_shared": [s.as_json() for s in self.most_shared],
            "new_from_sites": [t.as_json() for t in self.new_from_sites],
            "conversations": self.conversations.as_json(),
            "voices": self.voices.as_json(),
            "learning": self.learning.as_json(),
        }
