"""Compute a digest from the inbox, the journal and the sources: plain data in, a ``Digest``
out, the clock passed in (no terminal, no templates, nothing written).

Everything is read from the light records of the period (``iter_items(since, until)``: one
or two weekly shards for a week), plus a few lookups by id: the feed entry a shared link
belongs to, the parents of replies, and the bodies of the replies to your reflections.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from companion.digest.model import (
    Activity,
    Cite,
    Conversations,
    Digest,
    Hashtag,
    ItemRef,
    Learning,
    NewVoice,
    Person,
    ReflectionRef,
    SharedLink,
    SourceGroup,
    Thread,
    TopicGroup,
    Totals,
    ToYou,
    Voice,
    Voices,
)
from companion.models import iso, parse_iso
from companion.specs import ACCOUNT, LIST, TAG, SourceSpec

Record = dict[str, Any]

# How much each section shows (the JSON has the same cut: it is the digest, not an export).
MOST_SHARED = 10
MIN_SHARED_PEOPLE = 2  # a link one person shared is not "what the network is reading"
GROUP_FULL = 5  # a site's group of at most this many entries is shown whole …
GROUP_TOP = 3  # … a longer one collapses to its top entries and "and N more"
THREADS = 5
HASHTAGS = 8
MIN_PARTICIPANTS = 2  # a conversation needs two people
VOICES = 8
NEW_VOICES = 5
MIN_NEW_VOICE_POSTS = 2  # one post in a hashtag is chance; two is a habit
EVIDENCE = 3
STARRED = 50
READ_SHOWN = 10
FIRST_PERIOD = timedelta(days=7)  # the first digest, with no previous one to start from

HASHTAG_KINDS = (TAG, "followed-tags")
FOLLOWING_KINDS = ("home", LIST)  # a status there without a booster is by someone you follow


class ItemReader(Protocol):
    """What the digest reads from the inbox (TinyDBStore's public methods)."""

    def iter_items(self, *, since: datetime | None = ..., until: datetime | None = ...,
                   where: Callable[[Record], bool] | None = ...) -> Iterator[Record]: ...

    def get_light(self, item_id: str) -> Record | None: ...

    def get_body(self, item_id: str) -> Record: ...


@dataclass(frozen=True)
class Period:
    """The period a digest covers: [since, until)."""

    since: datetime
    until: datetime
    since_last_digest: bool = False


def build_digest(
    store: ItemReader,
    *,
    period: Period,
    now: datetime,
    sources: Sequence[SourceSpec],
    reflections: Sequence[Record] = (),
    my_handles: Iterable[str] = (),
    only_sources: set[str] | None = None,
    topic: str | None = None,
    source: str | None = None,
) -> Digest:
    """The digest of ``period``: items from ``only_sources`` (all when None), newest first."""
    b = _Builder(store, sources, my_handles, only_sources, topic)
    since, until = period.since, period.until
    recs = list(store.iter_items(since=since, until=until, where=b.keep))
    # one order everywhere (iter_items orders by date within a week only): newest first,
    # equal dates by id, so the same inbox always gives the same digest
    recs.sort(key=lambda r: (r["published"], r["id"]), reverse=True)
    feeds = [r for r in recs if r["kind"] == "feed"]
    statuses = [r for r in recs if r["kind"] != "feed"]
    b.window = {r["id"]: r for r in recs}

    mine = [r for r in reflections if iso(since) <= str(r.get("created", "")) < iso(until)]
    mine.sort(key=lambda r: (r.get("created", ""), r["id"]), reverse=True)
    to_you = b.to_you(statuses, reflections)
    people = {h for st in statuses for h in b.people_of(st) if not b.is_me(h)}
    return Digest(
        generated=iso(now),
        since=iso(since),
        until=iso(until),
        since_last_digest=period.since_last_digest,
        topic=topic,
        source=source,
        totals=Totals(
            feed_items=len(feeds),
            sites=len({b.site_of(r) for r in feeds}),
            statuses=len(statuses),
            people=len(people),
            reflections=len(mine),
        ),
        activity=activity(since, until, feeds, statuses, mine),
        most_shared=b.most_shared(statuses),
        new_from_sites=b.new_from_sites(feeds),
        conversations=Conversations(
            threads=b.threads(statuses), hashtags=b.hashtags(statuses), to_you=to_you
        ),
        voices=Voices(most_active=b.most_active(statuses), not_followed=b.not_followed(statuses)),
        learning=Learning(
            reflections=tuple(_reflection(r, to_you) for r in mine),
            starred=tuple(b.ref(r) for r in recs if r.get("starred"))[:STARRED],
            # what you wrote arrives read (companion/mine.py): that is not reading
            read_count=sum(1 for r in recs if r.get("read") and not r.get("mine")),
            read=tuple(b.ref(r) for r in recs if r.get("read") and not r.get("mine"))[:READ_SHOWN],
        ),
    )


class _Builder:
    """The sections, over one period's records (``window``: id -> record)."""

    def __init__(self, store: ItemReader, sources: Sequence[SourceSpec], my_handles: Iterable[str],
                 only_sources: set[str] | None, topic: str | None) -> None:
        self.store = store
        self.only = only_sources
        self.topic = topic
        self.specs = {s.id: s for s in sources}
        self.me = {h.casefold() for h in my_handles if h}
        self.window: dict[str, Record] = {}
        self._parents: dict[str, Record | None] = {}
        kinds: dict[str, set[str]] = {}
        for s in sources:
            kinds.setdefault(s.kind, set()).add(s.id)
        self.hashtag_sources = set().union(*(kinds.get(k, set()) for k in HASHTAG_KINDS))
        self.following_sources = set().union(*(kinds.get(k, set()) for k in FOLLOWING_KINDS))
        self.mention_sources = kinds.get("mentions", set())
        self.followed = {s.target.casefold() for s in sources if s.kind == ACCOUNT}

    # ----- small parts ---------------------------------------------------------------------

    def keep(self, rec: Record) -> bool:
        return self.only is None or not self.only.isdisjoint(rec["sources"])

    def is_me(self, handle: str) -> bool:
        return handle.casefold() in self.me

    @staticmethod
    def handle_of(rec: Record) -> str:
        author = rec.get("author") or {}
        return str(author.get("handle") or author.get("name") or "")

    def people_of(self, rec: Record) -> list[str]:
        """The author of a status and the people who boosted it."""
        return [h for h in (self.handle_of(rec), *rec.get("boosted_by", ())) if h]

    def site_of(self, rec: Record) -> str:
        """The source a feed entry is listed under: its first source within the filter."""
        for sid in rec["sources"]:
            if self.only is None or sid in self.only:
                return str(sid)
        return str(rec["sources"][0]) if rec["sources"] else ""

    def label(self, sid: str) -> str:
        spec = self.specs.get(sid)
        return spec.label if spec else sid

    def ref(self, rec: Record) -> ItemRef:
        author = rec.get("author") or {}
        return ItemRef(
            id=rec["id"],
            kind=rec["kind"],
            title=rec.get("title") or "",
            summary=rec.get("summary") or "",
            cw=rec.get("cw") or "",
            url=rec.get("url") or "",
            published=rec["published"],
            author=Person(author.get("handle") or "", author.get("name") or "",
                          author.get("url") or ""),
            source=self.label(self.site_of(rec)) if rec["sources"] else "",
            tags=tuple(rec.get("tags", ())),
            shared_by=len(rec.get("shared_by", ())),
            boosts=len(rec.get("boosted_by", ())),
            read=bool(rec.get("read")),
            starred=bool(rec.get("starred")),
        )

    def lookup(self, item_id: str) -> Record | None:
        rec = self.window.get(item_id)
        return rec if rec is not None else self.store.get_light(item_id)

    def parent(self, uri: str) -> Record | None:
        """The stored status with this uri (a reply's parent), if the inbox has it."""
        if uri not in self._parents:
            from companion.decide import item_id

            rec = self.lookup(item_id(uri))
            self._parents[uri] = rec if rec is not None and rec.get("key") == uri else None
        return self._parents[uri]

    # ----- 1. most shared ------------------------------------------------------------------

    def most_shared(self, statuses: list[Record]) -> tuple[SharedLink, ...]:
        """Links shared by the most distinct people (not you), with the feed entry of a
        followed site that published it (the story the sync joined: ``story``)."""
        stories: dict[str, dict[str, Any]] = {}
        for st in reversed(statuses):  # oldest first: people in the order they shared
            key = st.get("link_key")
            if not key:
                continue
            s = stories.setdefault(key, {"url": st.get("link") or "", "people": [],
                                         "statuses": [], "last": st["published"], "story": None})
            for who in self.people_of(st):
                if not self.is_me(who) and who not in s["people"]:
                    s["people"].append(who)
            s["statuses"].append(st["id"])
            s["last"] = st["published"]
            s["story"] = s["story"] or st.get("story")
        ranked = _ranked([s for s in stories.values() if len(s["people"]) >= MIN_SHARED_PEOPLE],
                         lambda s: (len(s["people"]), s["last"]), lambda s: s["url"])
        out = []
        for s in ranked[:MOST_SHARED]:
            feed = self.lookup(s["story"]) if s["story"] else None
            url = (feed.get("url") or feed.get("link")) if feed else None
            out.append(SharedLink(url=url or s["url"], people=tuple(s["people"]),
                                  statuses=tuple(s["statuses"]), last_shared=s["last"],
                                  item=self.ref(feed) if feed else None))
        return tuple(out)

    # ----- 2. new from followed sites ------------------------------------------------------

    def new_from_sites(self, feeds: list[Record]) -> tuple[TopicGroup, ...]:
        """Feed entries by topic (a source's first; with --topic, that one), then by site;
        newest first; a long site collapses to its most shared entries and "and N more"."""
        topics: dict[str | None, dict[str, list[Record]]] = {}
        names: dict[str | None, str | None] = {None: None}
        for rec in feeds:  # newest first
            sid = self.site_of(rec)
            spec = self.specs.get(sid)
            name = self.topic if self.topic else (spec.topics[0] if spec and spec.topics else None)
            key = name.casefold() if name else None
            names.setdefault(key, name)
            topics.setdefault(key, {}).setdefault(sid, []).append(rec)
        groups = []
        for key in sorted(topics, key=lambda k: (k is None, k or "")):
            sites = topics[key]
            site_groups = []
            # sites with the newest entry first (their lists are newest first already)
            for sid in _ranked(list(sites), lambda s, sites=sites: sites[s][0]["published"],
                               lambda s: (self.label(s).casefold(), s)):
                recs = sites[sid]
                shown = recs
                if len(recs) > GROUP_FULL:
                    top = {r["id"] for r in _ranked(
                        recs, lambda r: (len(r.get("shared_by", ())), r["published"]),
                        lambda r: r["id"])[:GROUP_TOP]}
                    shown = [r for r in recs if r["id"] in top]  # back in date order
                site_groups.append(SourceGroup(source=sid, label=self.label(sid), count=len(recs),
                                               items=tuple(self.ref(r) for r in shown),
                                               more=len(recs) - len(shown)))
            groups.append(TopicGroup(topic=names[key], count=sum(len(v) for v in sites.values()),
                                     sources=tuple(site_groups)))
        return tuple(groups)

    # ----- 3. conversations ----------------------------------------------------------------

    def threads(self, statuses: list[Record]) -> tuple[Thread, ...]:
        """Threads by the distinct people who took part in the period, not by volume."""
        by_key = {st["key"]: st for st in statuses if st.get("key")}
        # A reply whose parent was not in the same fetch names it by the server's status id,
        # not its uri (sources/mastodon_items.py): the parent is the status whose URL ends
        # with that id (long snowflake ids: two servers sharing one is not a real risk).
        for st in statuses:
            tail = (st.get("url") or "").rstrip("/").rsplit("/", 1)[-1]
            if tail.isdigit():
                by_key.setdefault(tail, st)
        members: dict[str, list[Record]] = {}
        roots: dict[str, Record] = {}
        for st in reversed(statuses):  # oldest first
            cur, seen = st, {st.get("key")}
            while True:  # up the chain of replies to its first status the inbox has
                up = cur.get("reply_to")
                if not up or up in seen:
                    tid = cur["id"]
                    break
                seen.add(up)
                parent = by_key.get(up) or self.parent(up)
                if parent is None:  # the chain ends at a status the inbox lacks: its uri
                    tid = f"uri:{up}"
                    break
                cur = parent
            members.setdefault(tid, []).append(st)
            roots.setdefault(tid, cur)
        out = []
        for tid, posts in members.items():
            people = list(dict.fromkeys(h for h in (self.handle_of(p) for p in posts) if h))
            if len(posts) < 2 or len(people) < MIN_PARTICIPANTS:
                continue
            out.append(Thread(root=self.ref(roots[tid]), participants=tuple(people),
                              posts=len(posts), last_activity=posts[-1]["published"]))
        out = _ranked(out, lambda t: (len(t.participants), t.posts, t.last_activity),
                      lambda t: t.root.id)
        return tuple(out[:THREADS])

    def hashtags(self, statuses: list[Record]) -> tuple[Hashtag, ...]:
        """Hashtags by the distinct people (not you) who used them in the period."""
        tags: dict[str, dict[str, Any]] = {}
        for st in reversed(statuses):
            who = self.handle_of(st)
            for tag in dict.fromkeys(st.get("tags", ())):
                t = tags.setdefault(tag.casefold(), {"tag": tag, "people": {}, "posts": 0})
                t["posts"] += 1
                if who and who not in t["people"] and not self.is_me(who):
                    t["people"][who] = None  # a dict: ordered, and a fast "in"
        ranked = sorted((t for t in tags.values() if len(t["people"]) >= MIN_PARTICIPANTS),
                        key=lambda t: (-len(t["people"]), -t["posts"], t["tag"].casefold()))
        return tuple(Hashtag(tag=t["tag"], people=tuple(t["people"]), posts=t["posts"])
                     for t in ranked[:HASHTAGS])

    def to_you(self, statuses: list[Record], reflections: Sequence[Record]) -> tuple[ToYou, ...]:
        """Every reply to one of your reflections (any age) and every status from a
        `mentions` source in the period, newest first; your own statuses left out."""
        parts: dict[str, str] = {}
        for r in reflections:
            for acct in r.get("accounts", ()):
                for p in acct.get("parts", ()):
                    # the uri, the URL, or (a reply whose parent was not in the same
                    # fetch: sources/mastodon_items.py) the status id on your instance
                    for k in (p.get("uri"), p.get("url"), p.get("status_id")):
                        if k:
                            parts[str(k)] = r["id"]
        out = []
        for st in statuses:
            if self.is_me(self.handle_of(st)) or st.get("key") in parts:
                continue  # your own thread's parts reply to each other
            refl = parts.get(st.get("reply_to") or "")
            if refl is None and self.mention_sources.isdisjoint(st["sources"]):
                continue
            html = self.store.get_body(st["id"]).get("html", "")
            out.append(ToYou(item=self.ref(st), kind="reply" if refl else "mention",
                             reflection=refl, html=html))
        return tuple(out)

    # ----- 4. voices -----------------------------------------------------------------------

    def most_active(self, statuses: list[Record]) -> tuple[Voice, ...]:
        """Who appeared most: statuses written plus boosts made (not you)."""
        posts: dict[str, int] = {}
        boosts: dict[str, int] = {}
        persons: dict[str, Person] = {}
        for st in statuses:
            who = self.handle_of(st)
            if who and not self.is_me(who):
                posts[who] = posts.get(who, 0) + 1
                a = st.get("author") or {}
                persons.setdefault(who, Person(who, a.get("name") or "", a.get("url") or ""))
            for b in dict.fromkeys(st.get("boosted_by", ())):
                if b and not self.is_me(b):
                    boosts[b] = boosts.get(b, 0) + 1
        everyone = set(posts) | set(boosts)
        ranked = sorted(everyone, key=lambda h: (-(posts.get(h, 0) + boosts.get(h, 0)),
                                                 -posts.get(h, 0), h.casefold()))
        return tuple(Voice(person=persons.get(h) or Person(h), posts=posts.get(h, 0),
                           boosts=boosts.get(h, 0)) for h in ranked[:VOICES])

    def not_followed(self, statuses: list[Record]) -> tuple[NewVoice, ...]:
        """People who posted in your followed hashtags at least twice and whom you do not
        follow, as far as pln can tell: no account source of theirs, and none of their
        statuses reached your home timeline or a list except through a boost."""
        followed = set(self.followed)
        for st in statuses:
            if not st.get("boosted_by") and not self.following_sources.isdisjoint(st["sources"]):
                followed.add(self.handle_of(st).casefold())
        seen: dict[str, list[Record]] = {}
        for st in statuses:  # newest first
            who = self.handle_of(st)
            if (not who.startswith("@") or self.is_me(who) or who.casefold() in followed
                    or self.hashtag_sources.isdisjoint(st["sources"])):
                continue
            seen.setdefault(who, []).append(st)
        out = []
        for who, posts in seen.items():
            if len(posts) < MIN_NEW_VOICE_POSTS:
                continue
            tags = list(dict.fromkeys(t.casefold() for p in reversed(posts) for t in p.get("tags", ())))
            a = posts[0].get("author") or {}
            out.append(NewVoice(person=Person(who, a.get("name") or "", a.get("url") or ""),
                                posts=len(posts), tags=tuple(tags),
                                evidence=tuple(self.ref(p) for p in posts[:EVIDENCE])))
        out.sort(key=lambda v: (-v.posts, -len(v.tags), v.person.handle.casefold()))
        return tuple(out[:NEW_VOICES])


# ----- 5. learning, charts ---------------------------------------------------------------------


def _reflection(r: Record, to_you: tuple[ToYou, ...]) -> ReflectionRef:
    url = next((p["url"] for a in r.get("accounts", ()) for p in a.get("parts", ())
                if p.get("url") and p.get("state") == "sent"), "")
    cites = tuple(Cite(title=str(c.get("title") or ""), url=str(c.get("url") or ""))
                  for c in r.get("cites") or () if isinstance(c, dict))
    return ReflectionRef(
        id=r["id"], created=r.get("created", ""), state=r.get("state", ""),
        text=r.get("body") or r.get("text") or "", url=url, tags=tuple(r.get("tags") or ()),
        cites=cites, replies=sum(1 for t in to_you if t.reflection == r["id"]),
    )


def activity(since: datetime, until: datetime, feeds: list[Record], statuses: list[Record],
             reflections: list[Record]) -> Activity:
    """Items per day by kind (per week over two months, per month over two years)."""
    first, last = since.astimezone(UTC).date(), (until - timedelta(microseconds=1)).astimezone(UTC).date()
    last = max(first, last)
    days = (last - first).days + 1
    if days <= 62:
        unit, start = "day", first
    elif days <= 7 * 104:
        unit, start = "week", first - timedelta(days=first.weekday())
    else:
        unit, start = "month", first.replace(day=1)

    def bin_of(d: date) -> date:
        if unit == "day":
            return d
        if unit == "week":
            return d - timedelta(days=d.weekday())
        return d.replace(day=1)

    labels: list[date] = []
    d = start
    while d <= last:
        labels.append(d)
        if unit == "day":
            d += timedelta(days=1)
        elif unit == "week":
            d += timedelta(days=7)
        else:
            d = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    index = {d: n for n, d in enumerate(labels)}

    def count(stamps: Iterable[str]) -> tuple[int, ...]:
        counts = [0] * len(labels)
        for s in stamps:
            n = index.get(bin_of(parse_iso(s).astimezone(UTC).date()))
            if n is not None:
                counts[n] += 1
        return tuple(counts)

    return Activity(
        bin=unit,
        labels=tuple(d.isoformat() for d in labels),
        feed=count(r["published"] for r in feeds),
        status=count(r["published"] for r in statuses),
        reflections=count(r["created"] for r in reflections),
    )


def _ranked(rows: list[Any], high: Callable[[Any], Any], tie: Callable[[Any], Any]) -> list[Any]:
    """``rows`` by ``high`` descending (counts, then ISO dates: newest first), equal ones by
    ``tie`` ascending — two stable sorts, as dates cannot be negated in one key."""
    return sorted(sorted(rows, key=tie), key=high, reverse=True)
