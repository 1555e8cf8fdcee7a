"""The inbox: queries (filters, search, links, threads) and triage (read, star, prune).

Verbs are functions of a ``Context`` (companion.context); they take the records the store
keeps and give front ends typed read models (companion.read_models) where they display them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from companion.context import Context
from companion.errors import UsageError
from companion.models import iso, parse_iso
from companion.read_models import Item, ItemPage, SharedLink
from companion.search import query_words
from companion.urls import canonical_url


@dataclass(frozen=True)
class ItemFilter:
    """The filters of `pln inbox` / `pln read --all`; they combine."""

    unread_only: bool = True
    starred: bool = False
    source: str | None = None
    topic: str | None = None
    tag: str | None = None
    search: str | None = None
    since: datetime | None = None
    limit: int | None = None


_DURATION = re.compile(r"^(\d+)\s*([mhdwy])$")


def parse_since(text: str, now: datetime, option: str = "--since") -> datetime:
    """``7d``, ``12h``, ``2w`` or a date ``2026-11-01`` -> an aware datetime (``option``
    names the option in the error message)."""
    t = text.strip().lower()
    if m := _DURATION.match(t):
        n, unit = int(m.group(1)), m.group(2)
        days = {"m": 1 / 1440, "h": 1 / 24, "d": 1, "w": 7, "y": 365}[unit]
        return now - timedelta(days=n * days)
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        raise UsageError(
            f"bad {option} {text!r}: use a duration like 7d, 12h, 2w or a date like 2026-11-01"
        ) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


# ----- queries -------------------------------------------------------------------------------


def records(c: Context, flt: ItemFilter) -> list[dict[str, Any]]:
    """Light records matching every filter, newest first (the store's own dicts: read-only)."""
    out: list[dict[str, Any]] = []
    for rec in iter_records(c, flt):
        out.append(rec)
        if flt.limit is not None and len(out) >= flt.limit:
            break
    return out


def iter_records(c: Context, flt: ItemFilter) -> Iterator[dict[str, Any]]:
    """``records`` one at a time, reading a week at a time (``flt.limit`` is the caller's):
    the filters are checked now (UsageError), the store is read as the caller goes."""
    source_ids: set[str] | None = None
    if flt.source:
        source_ids = {c.find_source(flt.source).id}
    if flt.topic:
        t = flt.topic.lstrip("#").casefold()
        ids = {s.id for s in c.config.sources if t in {x.casefold() for x in s.topics}}
        if not ids:
            raise UsageError(f"no source has the topic {flt.topic!r}")
        source_ids = ids if source_ids is None else source_ids & ids
    tag = flt.tag.lstrip("#").casefold() if flt.tag else None
    words = query_words(flt.search) if flt.search else []
    if flt.search is not None and not words:
        raise UsageError("--search needs at least one word")

    def where(r: dict[str, Any]) -> bool:
        if flt.unread_only and not flt.starred and r.get("read"):
            return False
        if flt.starred and not r.get("starred"):
            return False
        if source_ids is not None and not source_ids.intersection(r["sources"]):
            return False
        if tag is not None and tag not in {t.casefold() for t in r.get("tags", [])}:
            return False
        return True

    if not c.home.inbox_dir.exists():
        return iter(())
    unread = flt.unread_only and not flt.starred  # (skipped by the keys: issue 14)
    return (
        c.store.search_items(words, since=flt.since, where=where, unread=unread,
                             starred=flt.starred)
        if words
        else c.store.iter_items(since=flt.since, where=where, unread=unread, starred=flt.starred)
    )


def list_items(c: Context, flt: ItemFilter, *, fold_threads: bool = False) -> list[Item]:
    """Items matching every filter, newest first, light (``full_items`` reads the rest).
    ``fold_threads``: each thread of your own is one item (``Item.thread`` parts)."""
    recs = records(c, flt)
    if fold_threads:
        from companion.mine import fold_own_threads

        recs = fold_own_threads(recs)
    return [Item.from_record(r, full=False) for r in recs]


def full_items(c: Context, items: list[Item]) -> list[Item]:
    """The same items in full (with text and media)."""
    out = []
    for it in items:
        rec = c.store.get(it.id)
        out.append(Item.from_record(rec, full=True) if rec is not None else it)
    return out


def iter_full_items(c: Context, flt: ItemFilter) -> Iterator[Item]:
    """``full_items(list_items(flt))`` one at a time: a listing of the whole inbox (``--json``)
    holds one item at a time, and lets the segments it read go as it goes (issue 14)."""
    for n, rec in enumerate(records(c, flt) if flt.limit is not None
                            else iter_records(c, flt), 1):
        full = c.store.get(rec["id"])
        yield Item.from_record(full if full is not None else rec, full=full is not None)
        if n % RELEASE_EVERY == 0:
            c.store.release_clean()


RELEASE_EVERY = 1000  # items listed between two releases of the segments read


def get_item(c: Context, prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """One item's record and body by id prefix."""
    rec = c.store.require(prefix)
    return rec, c.store.get_body(rec["id"])


def item(c: Context, item_id: str) -> Item | None:
    """One item in full by its id, if it is in the inbox."""
    rec = c.store.get(item_id)
    return Item.from_record(rec, full=True) if rec is not None else None


def item_page(c: Context, rec: dict[str, Any], body: dict[str, Any]) -> ItemPage:
    """What `pln show` presents of a full record: the item, its HTML, its parent, its story."""
    parent, parent_link = parent_of(c, rec)
    story = c.store.get(rec["story"]) if rec.get("story") else None
    return ItemPage(
        Item.from_record(rec, full=True), body.get("html", ""),
        Item.from_record(parent, full=True) if parent is not None else None, parent_link,
        Item.from_record(story, full=True) if story is not None else None,
    )


def item_by_key(c: Context, key: str) -> dict[str, Any] | None:
    """The stored item with this identity (e.g. a status uri), if any."""
    from companion.decide import item_id

    rec = c.store.get(item_id(key))
    return rec if rec is not None and rec.get("key") == key else None


def parent_of(c: Context, rec: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """The stored status an item replies to, else a link to it (companion/parents.py)."""
    from companion import parents

    to = rec.get("reply_to")
    if not to or "://" in to:
        return (item_by_key(c, to), to) if to else (None, None)
    hosts = c.source_hosts()
    published = parse_iso(rec["published"])
    near = c.store.iter_items(since=published - parents.WINDOW,
                              until=published + timedelta(seconds=1),
                              where=lambda r: r["kind"] == "status")
    found = parents.find_parent(rec, hosts, near)
    if found is not None:
        return c.store.get(found["id"]), None
    instances = [a.instance for a in c.credentials.accounts] if hosts else []
    return None, parents.parent_link(rec, hosts, instances)


def links(c: Context, since: datetime | None, limit: int | None = None) -> list[SharedLink]:
    """What the network is reading: links shared in the period, ranked by distinct people."""
    stories: dict[str, dict[str, Any]] = {}
    if not c.home.inbox_dir.exists():
        return []
    for rec in c.store.iter_items(since=since, where=lambda r: r["kind"] != "feed"):
        key = rec.get("link_key")
        if not key:
            continue
        st = stories.setdefault(key, {"key": key, "url": rec.get("link"), "people": [],
                                      "statuses": [], "story": rec.get("story"),
                                      "last_shared": rec["published"]})
        author = rec.get("author") or {}
        for who in (author.get("handle") or author.get("name"), *rec.get("boosted_by", [])):
            if who and who not in st["people"]:
                st["people"].append(who)
        st["statuses"].append(rec["id"])
        st["story"] = st["story"] or rec.get("story")
    ranked = sorted(stories.values(), key=lambda s: (len(s["people"]), s["last_shared"]),
                    reverse=True)
    out = []
    for st in ranked[: limit or None]:
        feed = c.store.get(st["story"], text=False) if st["story"] else None
        out.append(SharedLink(
            # the story's own URL, else the link as everyone shared it (no tracking)
            url=(feed.get("url") if feed else None) or canonical_url(st["url"]) or st["url"],
            title=feed.get("title", "") if feed else "",
            people=tuple(st["people"]),
            statuses=tuple(st["statuses"]),
            item=feed["id"] if feed else None,
            feed_sources=tuple(feed["sources"]) if feed else (),
            last_shared=st["last_shared"],
        ))
    return out


# ----- triage --------------------------------------------------------------------------------


def set_flags(c: Context, prefixes: list[str], **flags: bool) -> list[str]:
    """Set read/starred on items by id prefix; returns their full ids.

    Marking a story read also marks its plain shares read (settings.mark_shares_read).
    """
    ids = list(dict.fromkeys(c.store.resolve(p) for p in prefixes))
    changes = {i: dict(flags) for i in ids}
    if flags.get("read") is True:
        changes = {**_plain_shares(c, ids), **changes}
    c.store.update_many(changes)
    _read_hook(c, changes, flags)
    return ids


def mark_all(c: Context, flt: ItemFilter, **flags: bool) -> int:
    """Set flags on every item matching a filter; returns how many changed."""
    recs = records(c, replace(flt, limit=None))
    changes = {r["id"]: dict(flags) for r in recs}
    if flags.get("read") is True:
        changes = {**_plain_shares(c, list(changes)), **changes}
    n = c.store.update_many(changes)
    _read_hook(c, changes, flags)
    return n


def _read_hook(c: Context, changes: dict[str, Any], flags: dict[str, bool]) -> None:
    """Items just marked read: move the home read marker (issue 17, sync_markers)."""
    if flags.get("read") is True and changes and c.settings.sync_markers:
        from companion.network.markers import after_read

        after_read(c, list(changes))


def _plain_shares(c: Context, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Statuses that only share one of these stories (no commentary of their own)."""
    from companion.decide import is_plain_share

    if not c.settings.mark_shares_read:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for n, i in enumerate(sorted(ids, key=lambda i: c.store.locate(i) or "")):
        if n % 200 == 199:
            c.store.release_clean()  # `read --all` over many weeks: stay small
        rec = c.store.get_light(i)
        if rec is None or rec["kind"] != "feed" or not rec.get("link_key"):
            continue
        for j in c.store.link_ids(rec["link_key"]):
            if j == i:
                continue
            st = c.store.get(j, text=False)  # a status: its text is stored
            if st and st.get("story") == i and not st.get("read") and is_plain_share(st):
                out[j] = {"read": True}
    return out


def prunable(c: Context, older_than: timedelta, now: datetime | None = None) -> list[dict[str, Any]]:
    """The items ``prune`` would delete (light records), newest first."""
    now = now or c.clock()
    cutoff = iso(now - older_than)
    cited = cited_items(c)
    if not c.home.inbox_dir.exists():
        return []
    return [
        r
        for r in c.store.iter_items(
            until=now - older_than,
            where=lambda r: not r.get("starred") and r["id"] not in cited,
        )
        if r["published"] < cutoff
    ]


def prune(c: Context, older_than: timedelta, now: datetime | None = None) -> int:
    """Delete items published before now - older_than, except starred items and items a
    reflection cites (the journal is never touched); each source's count follows."""
    from companion.source_health import forget

    doomed = prunable(c, older_than, now)
    lost: Counter[str] = Counter()  # items each source loses (its count in source list)
    for r in doomed:
        lost.update(r["sources"])
    n = c.store.delete_many([r["id"] for r in doomed])
    for sid, state in forget(c.store.all_states(), lost).items():
        c.store.put_state(sid, state)
    return n


def cited_items(c: Context) -> set[str]:
    """Ids of inbox items that reflections cite or reply to."""
    if not c.home.journal_file.exists():
        return set()
    ids: set[str] = set()
    for refl in c.journal.all():
        refs = [*(refl.get("cites") or []), refl.get("reply_to")]
        for ref in refs:
            if isinstance(ref, dict):
                ids.update(v for k in ("item", "id") if isinstance(v := ref.get(k), str))
    return ids
