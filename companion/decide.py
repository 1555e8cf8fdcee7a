"""Pure decisions of sync: what an item's stored record becomes given what was fetched.

No network, no database, the clock passed in — tested with plain data (STYLE.md).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from companion.ids import ITEM_ID_LEN, digest
from companion.models import FEED_ITEM, ItemData, iso
from companion.urls import link_key

# Fields a fetch may change; read/starred/first_seen/sources are the user's and ours.
_CONTENT_FIELDS = (
    "kind", "url", "link", "title", "author", "text", "cw", "published", "updated",
    "tags", "media", "reply_to", "mentions", "counts",
)  # fmt: skip


def item_id(key: str, taken: dict[str, str] | None = None) -> str:
    """The short id of an item key; extended by one character per collision in ``taken``."""
    if not taken:
        return digest(key, ITEM_ID_LEN)
    full = digest(key)
    n = ITEM_ID_LEN
    while full[:n] in taken and taken[full[:n]] != key and n < len(full):
        n += 1
    return full[:n]


def merge(
    existing: dict[str, Any] | None,
    data: ItemData,
    source_id: str,
    now: datetime,
    *,
    item_id_: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """The new (record, body) for an item, or None when storing it would change nothing.

    A changed entry keeps its read/starred state; a source already listed is not repeated;
    ``boosted_by`` accumulates (a boost seen from two timelines counts its booster once).
    Published falls back to updated, then to when we first saw it.
    """
    fingerprint = data.fingerprint  # computed where the feed was parsed
    if existing is not None:
        sources = existing["sources"]
        boosted = existing.get("boosted_by", [])
        new_sources = source_id not in sources
        new_boosts = [b for b in data.boosted_by if b not in boosted]
        if existing.get("hash") == fingerprint and not new_sources and not new_boosts:
            return None
        published = existing["published"]
        if data.published is not None:
            published = iso(data.published)
        elif data.updated is not None and existing.get("published_guessed"):
            published = iso(data.updated)
        rec = dict(existing)
        rec.update(_content(data, published))
        rec["published_guessed"] = data.published is None and existing.get("published_guessed", False)
        rec["sources"] = [*sources, source_id] if new_sources else list(sources)
        rec["boosted_by"] = [*boosted, *new_boosts]
        rec["hash"] = fingerprint
        body = {"html": data.html} if existing.get("hash") != fingerprint else None
        return rec, body
    stamp = data.published or data.updated or now
    rec = {
        "id": item_id_ or item_id(data.key),
        "key": data.key,
        **_content(data, iso(stamp)),
        "published_guessed": data.published is None,
        "first_seen": iso(now),
        "sources": [source_id],
        "boosted_by": list(dict.fromkeys(data.boosted_by)),
        "shared_by": [],
        "read": False,
        "starred": False,
        "hash": fingerprint,
    }
    return rec, {"html": data.html}


def story_key(data: ItemData) -> str | None:
    """The join key of the story an item is about: a feed entry's own link, a status's
    external link (never the status's own URL)."""
    if data.link:
        return link_key(data.link)  # canonical from sources, but not from every caller
    return link_key(data.url) if data.kind == FEED_ITEM else None


def join_story(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Given every stored item with one link key, the changes that join them into a story.

    Feed items get ``shared_by``: the distinct people (status authors and boosters) who shared
    the link, in the order they shared it. Statuses get ``story``: the id of the feed item the
    link belongs to (the earliest published, if several feeds carry it). Pure: PRODUCT.md,
    "One item, many paths".
    """
    feeds = sorted((r for r in records if r["kind"] == FEED_ITEM), key=lambda r: r["published"])
    statuses = sorted((r for r in records if r["kind"] != FEED_ITEM), key=lambda r: r["published"])
    people: list[str] = []
    for st in statuses:
        author = (st.get("author") or {}).get("handle") or (st.get("author") or {}).get("name")
        for who in (author, *st.get("boosted_by", [])):
            if who and who not in people:
                people.append(who)
    changes: dict[str, dict[str, Any]] = {}
    for f in feeds:
        if f.get("shared_by", []) != people:
            changes[f["id"]] = {"shared_by": people}
    story = feeds[0]["id"] if feeds else None
    for st in statuses:
        if st.get("story") != story:
            changes[st["id"]] = {"story": story}
    return changes


_URL = re.compile(r"https?://\S+")


def is_plain_share(status: dict[str, Any]) -> bool:
    """A status that shares a link with little commentary of its own (≤ 100 characters
    besides URLs, hashtags and mentions): reading the story reads it too."""
    text = _URL.sub("", status.get("text", ""))
    text = re.sub(r"[#@][\w.@-]+", "", text)
    return len(" ".join(text.split())) <= 100


def _content(data: ItemData, published: str) -> dict[str, Any]:
    return {
        "kind": data.kind,
        "url": data.url,
        "link": data.link,
        "title": data.title,
        "author": data.author.as_dict(),
        "text": data.text,
        "cw": data.cw,
        "published": published,
        "updated": iso(data.updated) if data.updated else None,
        "tags": list(dict.fromkeys(data.tags)),
        "media": [m.as_dict() for m in data.media],
        "reply_to": data.reply_to,
        "mentions": list(data.mentions),
        "counts": dict(data.counts),
        "link_key": story_key(data),
        "words": data.words,  # for the store's search index and summary; not stored
    }
