"""``pln discover``: who and what to follow next, with the evidence (issue 17). Pure.

Inputs are plain data — the inbox's light records, the configured sources, what the account
follows (from its instance, when pln could ask), the instance's own suggestions, and the
results of feed autodiscovery on followed people's websites — and the period, clock passed
in. No network, no store: tested with plain data.

**Your hashtags** are the hashtags your account follows on its instance plus every ``#tag``
source. **Your topics** are your hashtags plus the topics of your sources (``--topic``).
**Followed people** are those your account follows, every ``@user@host`` source, and anyone
whose own status (not a boost) reached a ``home`` or ``list:`` source. You are never suggested.

People (fediverse handles) not followed yet, each with the evidence:

* a status of theirs in the period that carries one of your hashtags (or came through a
  ``#tag`` source): 1 point each — at least ``MIN_TAG_POSTS`` of them count as "often";
* a link you starred (an item of the period you starred that has a link) that they shared
  in the period, as author or booster: ``STARRED_LINK_POINTS`` each;
* your instance suggests them (``/api/v2/suggestions``): ``SUGGESTED_POINTS``.

Ranked by score, then the most recent evidence, then handle (case-folded); the first
``MAX_PEOPLE`` are shown.

Hashtags you do not follow and that are not one of your topics, used in the period on items
that are about one of your topics (the item carries a topic as a hashtag, or came from a
source with that topic or that ``#tag``). Score: the distinct voices who used it that way
(a status's author; a feed entry's source), at least ``MIN_TAG_VOICES``. Ranked by score,
then posts, then the most recent use, then name; the first ``MAX_TAGS`` are shown.

Blogs: feeds found on the website links of the profiles of people you follow, unless a
source already follows that feed; ranked by how many statuses that person wrote in the
period, then handle, then feed URL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from companion.errors import UsageError
from companion.models import iso
from companion.specs import ACCOUNT, FEED, LIST, TAG, SourceSpec, normalize_feed_url

Record = Mapping[str, Any]

MIN_TAG_POSTS = 2
STARRED_LINK_POINTS = 3
SUGGESTED_POINTS = 1
MAX_PEOPLE = 20
EVIDENCE = 10  # posts listed per person (the count is always whole)
MIN_TAG_VOICES = 2
MAX_TAGS = 10
TAG_EVIDENCE = 5
FOLLOWING_KINDS = ("home", LIST)  # an unboosted status there is by someone you follow


@dataclass(frozen=True)
class Person:
    handle: str
    name: str = ""
    url: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"handle": self.handle, "name": self.name, "url": self.url}


@dataclass(frozen=True)
class Following:
    """What the account follows on its instance. ``tags`` is None when the server cannot say
    (no followed hashtags there)."""

    people: tuple[Person, ...] = ()
    tags: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Suggested:
    """One of the instance's follow suggestions; ``reason`` is the server's (may be "")."""

    person: Person
    reason: str = ""


@dataclass(frozen=True)
class SiteCheck:
    """Feed autodiscovery on one website of a followed person (``feed`` None: none found)."""

    person: Person
    label: str
    website: str
    feed: str | None
    title: str = ""


@dataclass(frozen=True)
class NetworkData:
    """Everything ``discover`` reads."""

    records: Sequence[Record]
    sources: Sequence[SourceSpec]
    me: frozenset[str] = frozenset()  # your handles, any case
    following: Following | None = None  # None: no account, or the instance could not say
    suggested: Sequence[Suggested] = ()
    sites: Sequence[SiteCheck] = ()


@dataclass(frozen=True)
class ItemRef:
    id: str
    published: str
    title: str
    url: str
    tags: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "published": self.published, "title": self.title,
                "url": self.url, "tags": list(self.tags)}


@dataclass(frozen=True)
class StarredLink:
    """A link you starred (``item``) and the statuses in which this person shared it."""

    url: str
    item: str
    title: str
    statuses: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"url": self.url, "item": self.item, "title": self.title,
                "statuses": list(self.statuses)}


@dataclass(frozen=True)
class PersonSuggestion:
    person: Person
    score: int
    tag_posts: int  # statuses in your hashtags
    tags: tuple[tuple[str, int], ...]  # (hashtag, posts), most first
    posts: tuple[ItemRef, ...]  # the newest EVIDENCE of them
    starred_links: tuple[StarredLink, ...]
    suggested: str | None  # the instance's reason when it suggests them ("" = no reason given)
    latest: str | None  # the newest evidence's date

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.person.as_dict(),
            "score": self.score,
            "evidence": {
                "hashtag_posts": self.tag_posts,
                "hashtags": [{"tag": t, "posts": n} for t, n in self.tags],
                "posts": [p.as_dict() for p in self.posts],
                "starred_links": [s.as_dict() for s in self.starred_links],
                "suggested_by_instance": self.suggested is not None,
                "instance_reason": self.suggested or None,
            },
            "latest": self.latest,
            "command": f"pln follow {self.person.handle}",
        }


@dataclass(frozen=True)
class TagSuggestion:
    tag: str
    score: int  # distinct voices
    posts: int
    voices: tuple[str, ...]
    topics: tuple[tuple[str, int], ...]  # (your topic it was used with, posts), most first
    evidence: tuple[ItemRef, ...]
    latest: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "score": self.score,
            "evidence": {
                "voices": list(self.voices),
                "posts": self.posts,
                "with_topics": [{"topic": t, "posts": n} for t, n in self.topics],
                "items": [e.as_dict() for e in self.evidence],
            },
            "latest": self.latest,
            "command": f"pln follow '#{self.tag}'",
        }


@dataclass(frozen=True)
class BlogSuggestion:
    person: Person
    label: str
    website: str
    feed: str
    title: str
    activity: int  # statuses the person wrote in the period

    def as_dict(self) -> dict[str, Any]:
        return {
            "feed": self.feed,
            "title": self.title,
            "evidence": {**self.person.as_dict(), "field": self.label, "website": self.website,
                         "statuses_in_period": self.activity},
            "command": f"pln source add {self.feed}",
        }


@dataclass(frozen=True)
class Discovery:
    since: datetime
    until: datetime
    people: tuple[PersonSuggestion, ...] = ()
    hashtags: tuple[TagSuggestion, ...] = ()
    blogs: tuple[BlogSuggestion, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` shape (fields may be added, never renamed)."""
        return {
            "version": 1,
            "since": iso(self.since),
            "until": iso(self.until),
            "people": [p.as_dict() for p in self.people],
            "hashtags": [t.as_dict() for t in self.hashtags],
            "blogs": [b.as_dict() for b in self.blogs],
            "notes": list(self.notes),
        }


# ----- the computation --------------------------------------------------------------------------


def _author(rec: Record) -> Person:
    a = rec.get("author") or {}
    return Person(str(a.get("handle") or ""), str(a.get("name") or ""), str(a.get("url") or ""))


def _ref(rec: Record) -> ItemRef:
    title = str(rec.get("title") or rec.get("summary") or "").strip().split("\n", 1)[0]
    return ItemRef(id=str(rec["id"]), published=str(rec["published"]), title=title[:120],
                   url=str(rec.get("url") or ""), tags=tuple(rec.get("tags") or ()))


def _fold(tags: Iterable[Any]) -> set[str]:
    return {str(t).lstrip("#").casefold() for t in tags if str(t).strip("#")}


def _ranked(rows: list[Any], high: Any, tie: Any) -> list[Any]:
    """Highest ``high`` first; equal ones by ascending ``tie`` (two stable sorts)."""
    rows = sorted(rows, key=tie)
    return sorted(rows, key=high, reverse=True)


class _Ctx:
    def __init__(self, data: NetworkData, since: datetime, until: datetime) -> None:
        lo, hi = iso(since), iso(until)
        self.records = [r for r in data.records if lo <= str(r["published"]) <= hi]
        self.specs = {s.id: s for s in data.sources}
        self.me = {h.casefold() for h in data.me if h}
        f = data.following
        self.tag_source = {s.id: s.target.casefold() for s in data.sources if s.kind == TAG}
        self.hashtags = set(self.tag_source.values()) | _fold(f.tags or () if f else ())
        self.topics_of = {s.id: _fold(s.topics) for s in data.sources}
        self.topics = self.hashtags.union(*self.topics_of.values())
        followed = {p.handle.casefold() for p in (f.people if f else ())}
        followed |= {s.target.casefold() for s in data.sources if s.kind == ACCOUNT}
        via = {s.id for s in data.sources if s.kind in FOLLOWING_KINDS}
        for r in self.records:
            if r["kind"] != FEED and not r.get("boosted_by") and via.intersection(r["sources"]):
                followed.add(_author(r).handle.casefold())
        self.followed = followed

    def is_candidate(self, handle: str) -> bool:
        h = handle.casefold()
        return handle.startswith("@") and h not in self.me and h not in self.followed


def discover(data: NetworkData, *, since: datetime, until: datetime,
             notes: Sequence[str] = ()) -> Discovery:
    """People, hashtags and blogs to follow, with evidence (see the module docstring)."""
    ctx = _Ctx(data, since, until)
    return Discovery(since=since, until=until, people=_people(ctx, data.suggested),
                     hashtags=_hashtags(ctx), blogs=_blogs(ctx, data.sites), notes=tuple(notes))


def _people(ctx: _Ctx, suggested: Sequence[Suggested]) -> tuple[PersonSuggestion, ...]:
    posts: dict[str, list[tuple[Record, set[str]]]] = {}
    persons: dict[str, Person] = {}
    for r in sorted(ctx.records, key=lambda r: (r["published"], r["id"]), reverse=True):
        if r["kind"] == FEED:
            continue
        who = _author(r)
        if not ctx.is_candidate(who.handle):
            continue
        matched = _fold(r.get("tags") or ()) & ctx.hashtags
        matched |= {ctx.tag_source[s] for s in r["sources"] if s in ctx.tag_source}
        if matched:
            key = who.handle.casefold()
            posts.setdefault(key, []).append((r, matched))
            persons.setdefault(key, who)
    # links you starred in the period, and who shared them
    starred = {r["link_key"]: r for r in sorted(ctx.records, key=lambda r: (r["published"], r["id"]))
               if r.get("starred") and r.get("link_key")}
    shares: dict[str, dict[str, list[Record]]] = {}
    for r in sorted(ctx.records, key=lambda r: (r["published"], r["id"])):
        lk = str(r.get("link_key") or "")
        if r["kind"] == FEED or lk not in starred:
            continue
        author = _author(r)
        for handle in (author.handle, *r.get("boosted_by", ())):
            if ctx.is_candidate(handle):
                key = handle.casefold()
                shares.setdefault(key, {}).setdefault(lk, []).append(r)
                persons.setdefault(key, author if handle == author.handle else Person(handle))
    offered: dict[str, str] = {}
    for s in suggested:
        if ctx.is_candidate(s.person.handle):
            key = s.person.handle.casefold()
            offered.setdefault(key, s.reason)
            known = persons.get(key)
            if known is None or not known.name:
                persons[key] = s.person
    rows = []
    for key, person in persons.items():
        mine = posts.get(key, [])
        links = shares.get(key, {})
        often = len(mine) >= MIN_TAG_POSTS
        if not often and not links and key not in offered:
            continue
        tag_posts = len(mine) if often else 0
        tally: dict[str, int] = {}
        for _, tags in mine if often else []:
            for t in tags:
                tally[t] = tally.get(t, 0) + 1
        starred_links = tuple(
            StarredLink(url=str(starred[lk].get("link") or starred[lk].get("url") or ""),
                        item=str(starred[lk]["id"]),
                        title=_ref(starred[lk]).title,
                        statuses=tuple(str(r["id"]) for r in rs))
            for lk, rs in sorted(links.items(), key=lambda kv: kv[1][0]["published"])
        )
        dates = [r["published"] for r, _ in (mine if often else [])]
        dates += [r["published"] for rs in links.values() for r in rs]
        score = tag_posts + STARRED_LINK_POINTS * len(links)
        score += SUGGESTED_POINTS if key in offered else 0
        rows.append(PersonSuggestion(
            person=person, score=score, tag_posts=tag_posts,
            tags=tuple(_ranked(list(tally.items()), lambda kv: kv[1], lambda kv: kv[0])),
            posts=tuple(_ref(r) for r, _ in (mine if often else [])[:EVIDENCE]),
            starred_links=starred_links,
            suggested=offered.get(key),
            latest=max(dates) if dates else None,
        ))
    ranked = _ranked(rows, lambda p: (p.score, p.latest or ""), lambda p: p.person.handle.casefold())
    return tuple(ranked[:MAX_PEOPLE])


def _hashtags(ctx: _Ctx) -> tuple[TagSuggestion, ...]:
    uses: dict[str, list[tuple[Record, str, set[str]]]] = {}
    for r in sorted(ctx.records, key=lambda r: (r["published"], r["id"]), reverse=True):
        tags = _fold(r.get("tags") or ())
        about = tags & ctx.topics
        for s in r["sources"]:
            about |= ctx.topics_of.get(s, set())
            if s in ctx.tag_source:
                about.add(ctx.tag_source[s])
        if not about:
            continue
        if r["kind"] == FEED:
            voice = "site:" + str(r["sources"][0]) if r["sources"] else ""
        else:
            voice = _author(r).handle
        if not voice or (r["kind"] != FEED and voice.casefold() in ctx.me):
            continue
        for t in tags - ctx.topics:
            uses.setdefault(t, []).append((r, voice, about))
    rows = []
    for tag, used in uses.items():
        voices = list(dict.fromkeys(v for _, v, _ in used))
        if len(voices) < MIN_TAG_VOICES:
            continue
        tally: dict[str, int] = {}
        for _, _, about in used:
            for t in about:
                tally[t] = tally.get(t, 0) + 1
        rows.append(TagSuggestion(
            tag=tag, score=len(voices), posts=len(used),
            voices=tuple(_voice_label(v, ctx) for v in voices),
            topics=tuple(_ranked(list(tally.items()), lambda kv: kv[1], lambda kv: kv[0])),
            evidence=tuple(_ref(r) for r, _, _ in used[:TAG_EVIDENCE]),
            latest=str(used[0][0]["published"]),
        ))
    ranked = _ranked(rows, lambda t: (t.score, t.posts, t.latest), lambda t: t.tag)
    return tuple(ranked[:MAX_TAGS])


def _voice_label(voice: str, ctx: _Ctx) -> str:
    if voice.startswith("site:"):
        spec = ctx.specs.get(voice[5:])
        return spec.label if spec else voice[5:]
    return voice


def _blogs(ctx: _Ctx, sites: Sequence[SiteCheck]) -> tuple[BlogSuggestion, ...]:
    followed_feeds = {s.target for s in ctx.specs.values() if s.kind == FEED}
    activity: dict[str, int] = {}
    for r in ctx.records:
        if r["kind"] != FEED:
            h = _author(r).handle.casefold()
            activity[h] = activity.get(h, 0) + 1
    rows = []
    for s in sites:
        if not s.feed or s.person.handle.casefold() in ctx.me:
            continue
        try:
            feed = normalize_feed_url(s.feed)
        except UsageError:  # a feed URL pln could not follow anyway
            continue
        if feed in followed_feeds:
            continue
        rows.append(BlogSuggestion(person=s.person, label=s.label, website=s.website, feed=feed,
                                   title=s.title, activity=activity.get(s.person.handle.casefold(), 0)))
    ranked = _ranked(rows, lambda b: b.activity, lambda b: (b.person.handle.casefold(), b.feed))
    out: list[BlogSuggestion] = []
    seen: set[str] = set()
    for b in ranked:  # two people naming one blog: offered once, under the first
        if b.feed not in seen:
            seen.add(b.feed)
            out.append(b)
    return tuple(out)
