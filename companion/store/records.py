"""How an item is filed: its light record, its body, its search line, its week. Pure.

A sync runs ``prepare_put`` in the feed parse workers for new items, so the storing thread
only files what comes back (issue 3).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from companion import ids as idmod
from companion.html import summary as words_summary
from companion.search import search_text

# Fields kept with the body rather than in the items file: listing, filtering and search
# never need them, and they are most of a record's size (issue 2: light metadata apart from
# heavy bodies). `get()` returns them merged back; `iter_items()` does not.
HEAVY_FIELDS = frozenset(
    {"text", "media", "mentions", "hash", "first_seen", "updated", "published_guessed"}
)
SUMMARY_CHARS = 200

_REQUIRED = frozenset({"id", "kind", "sources", "published"})


def split_record(rec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(light, heavy) parts of a full record; light gets ``summary``: the text's first line,
    or for an item whose text is rendered from its HTML when read, the start of its words.
    ``words`` (from ItemData.words) is for the summary and the search index, never stored.

    Empty and false values are left out of the light part (a fifth of its size and parse
    time): readers use ``rec.get(field)`` for everything but id, kind, sources, published.
    """
    light = {k: v for k, v in rec.items()
             if (v or k in _REQUIRED) and k not in HEAVY_FIELDS and k != "words"}
    heavy = {k: rec[k] for k in HEAVY_FIELDS if k in rec}
    text = heavy.pop("text", "")
    if text:
        heavy["text"] = text
    if text or "words" in rec:  # fresh content; otherwise the record's summary stands
        summary = text.strip().split("\n", 1)[0] if text else words_summary(rec["words"], SUMMARY_CHARS)
        light.pop("summary", None)
        if summary:
            light["summary"] = summary[:SUMMARY_CHARS]
    return light, heavy


# link key -> link_hash: a sync hashes each new link twice (to index it, to join its story),
# and prepared puts bring theirs from the parse workers
_LINK_HASHES: dict[str, str] = {}


def link_hash(key: str, known: str | None = None) -> str:
    """A short fixed-size stand-in for a (long) link key in the index (``known``: the one a
    parse worker computed)."""
    h = _LINK_HASHES.get(key)
    if h is None:
        if len(_LINK_HASHES) >= 65536:
            _LINK_HASHES.clear()
        h = _LINK_HASHES[key] = known or idmod.digest(key, 12)
    return h


class PreparedPut(NamedTuple):
    """One item as the store files it (see ``prepare_put``)."""

    id: str
    shard: str  # shard_key(published): the ISO week
    link_key: str | None
    link_hash: str | None
    light: dict[str, Any]  # the record in its segment's items file
    body: dict[str, Any]  # its html and HEAVY_FIELDS, in the segment's bodies file
    search: str  # its folded search text, one line


def prepare_put(rec: dict[str, Any], body: dict[str, Any]) -> PreparedPut:
    """What ``put_prepared`` files for a full record and its body. Pure: sync runs it in
    the feed parse workers for new items (decide.merge gives the record)."""
    light, heavy = split_record(rec)
    html = body.get("html", "")
    lk = rec.get("link_key") or None
    return PreparedPut(
        id=rec["id"],
        shard=shard_key(rec["published"]),
        link_key=lk,
        link_hash=link_hash(lk) if lk else None,
        light=light,
        body={"html": html, **heavy},
        search=search_text(rec, html).replace("\n", " "),  # one line per item
    )


def iso_z(dt: datetime) -> str:
    """Same format as stored ``published`` values (so strings compare as times)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def shard_key(published: str) -> str:
    """The ISO week of an ISO-8601 UTC timestamp: ``2026-W47``."""
    try:
        dt = datetime.fromisoformat(published)
    except (TypeError, ValueError):
        dt = datetime(1970, 1, 1, tzinfo=UTC)
    day = dt.toordinal()
    week = _WEEKS.get(day)
    if week is None:  # (a sync files thousands of items from a few hundred days)
        year, n, _ = dt.isocalendar()
        week = _WEEKS[day] = f"{year:04d}-W{n:02d}"
    return week


_WEEKS: dict[int, str] = {}


def week_start(key: str) -> datetime:
    """The first instant (Monday 00:00 UTC) of a week (or of a segment's week)."""
    year, week = key.split(".", 1)[0].split("-W")
    return datetime.fromisocalendar(int(year), int(week), 1).replace(tzinfo=UTC)
