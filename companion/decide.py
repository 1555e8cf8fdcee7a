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

    One copy owns an item's content: the first source's (``sources[0]``), and it may revise
    it. A copy from any other source only fills what is missing (issue 11: an account's RSS
    feed added after its statuses must not turn them into feed entries, and of two feeds
    sharing an Atom id the emptier copy must not blank the other), unless it is a newer
    revision of the same kind (``updated`` later), which replaces what it has. A status
    always wins over a feed entry: it takes the item over, and a status stays a status.
    """
    fingerprint = data.fingerprint  # computed where the feed was parsed
    if existing is not None:
        sources = existing["sources"]
        boosted = existing.get("boosted_by", [])
        new_sources = source_id not in sources
        new_boosts = [b for b in data.boosted_by if b not in boosted]
        if existing.get("hash") == fingerprint and not new_sources and not new_boosts:
            return None
        upgrade = existing.get("kind") == FEED_ITEM and data.kind != FEED_ITEM
        downgrade = existing.get("kind") != FEED_ITEM and data.kind == FEED_ITEM
        if downgrade or (not upgrade and sources and sources[0] != source_id):
            return _fold(existing, data, source_id, new_boosts)
        if upgrade:
            sources = [source_id, *(s for s in sources if s != source_id)]
            new_sources = False
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


# What a copy from another source may fill in (_fold): any copy, or only one of the same kind
# (a feed entry's title is a cut of a status's text, its link the status's own page).
_FILL_ANY = ("url", "tags", "media", "updated")
_FILL_SAME_KIND = ("title", "link", "cw", "reply_to", "mentions", "counts")


def _fold(
    existing: dict[str, Any], data: ItemData, source_id: str, new_boosts: list[str]
) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """A copy from a source that does not own the item: it adds its source and boosters and
    fills empty fields; a newer revision of the same kind also replaces what it has. Never
    an empty or poorer value over a stored one; the kind never changes. None if nothing
    would change."""
    new = _content(data, existing["published"])
    same_kind = new["kind"] == existing.get("kind")
    revise = same_kind and data.updated is not None and iso(data.updated) > (existing.get("updated") or "")
    rec = dict(existing)
    for f in _FILL_ANY + (_FILL_SAME_KIND if same_kind else ()):
        if new[f] and (revise or _missing(f, existing.get(f), new[f])):
            rec[f] = new[f]
    author = {"name": "", "handle": "", "url": "", **(existing.get("author") or {})}
    for k, v in new["author"].items():
        if v and (revise or not author.get(k)):
            author[k] = v
    rec["author"] = author
    if existing.get("published_guessed") and data.published is not None:
        rec["published"], rec["published_guessed"] = iso(data.published), False
    body = None
    has_content = existing.get("text") or existing.get("summary")
    if (data.html or data.text) and (revise or not has_content):
        rec["text"], rec["words"] = new["text"], new["words"]
        body = {"html": data.html}
    rec["link_key"] = link_key(rec["link"]) if rec.get("link") else (
        link_key(rec["url"]) if rec.get("kind") == FEED_ITEM and rec.get("url") else None)
    if source_id not in rec["sources"]:
        rec["sources"] = [*rec["sources"], source_id]
    rec["boosted_by"] = [*existing.get("boosted_by", []), *new_boosts]
    if body is None and _shown(rec) == _shown(existing):
        return None
    return rec, body


def _missing(field: str, old: Any, new: Any) -> bool:
    """Whether a stored value counts as missing next to ``new``: empty, or for ``url`` not
    a web address when ``new`` is one (a feed without links gives its entry's guid, a URN)."""
    if not old:
        return True
    return field == "url" and not _is_web(old) and _is_web(new)


def _is_web(url: Any) -> bool:
    return isinstance(url, str) and url.lower().startswith(("http://", "https://"))


def _shown(rec: dict[str, Any]) -> dict[str, Any]:
    """A record without its empty fields (the store leaves them out) and ``words``."""
    out = {k: v for k, v in rec.items() if v and k != "words"}
    if isinstance(out.get("author"), dict):
        out["author"] = {k: v for k, v in out["author"].items() if v} or None
        if out["author"] is None:
            del out["author"]
    return out


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
    # (by date, then id: shares published in the same second come in one order whatever
    # order the store reads them in)
    feeds = sorted((r for r in records if r["kind"] == FEED_ITEM),
                   key=lambda r: (r["published"], r["id"]))
    statuses = sorted((r for r in records if r["kind"] != FEED_ITEM),
                      key=lambda r: (r["published"], r["id"]))
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
