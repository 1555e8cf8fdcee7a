"""Where a Mastodon timeline continues: positions read from the pages a server sent (issue 11).

Pure functions of one page (and the raw ``Link`` header that came with it); nothing here does
I/O. Why positions are not simply what the ``Link`` header or Mastodon.py say:

* Status ids are opaque strings; they are compared for equality only, never ordered.
* ``Link: rel="prev"`` may carry ``since_id`` instead of ``min_id`` (older Mastodon, several
  other servers). Mastodon.py copies the request's own parameters into ``_pagination_prev``,
  so a client reading ``min_id`` there reads back the position it sent and never advances.
  The cursor is therefore the newest entry actually received.
* Some servers cannot page from a boost's id (a boost can be undone, and some servers key
  their timelines by the boosted status), and answered such a ``min_id`` with the newest
  page again, every sync. The cursor is the newest entry that is *not* a boost; boosts
  received above it are remembered (``above``) so the next sync does not count them again.
* A page that brings nothing new, or that contains the cursor itself (``min_id`` is
  exclusive: a server that returns it did not page from it), ends the paging: paging must
  always make progress.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from companion.sources.mastodon_items import as_datetime

_LINK = re.compile(r"<([^>]*)>([^,<]*)")
_REL = re.compile(r"""\brel\s*=\s*"?([^";]+)"?""", re.IGNORECASE)


def entry_id(entry: Mapping[str, Any]) -> str | None:
    """An entry's id as a string (Mastodon.py turns digit strings into ints)."""
    value = entry.get("id")
    return None if value is None or value == "" else str(value)


def link_param(link: str | None, rel: str, names: Sequence[str]) -> str | None:
    """The first of ``names`` in the query of the ``rel`` URL of a raw ``Link`` header."""
    if not link:
        return None
    for url, params in _LINK.findall(link):
        m = _REL.search(params)
        if not m or rel not in m.group(1).lower().split():
            continue
        query = dict(parse_qsl(urlsplit(url).query))
        for name in names:
            if query.get(name):
                return query[name]
    return None


def newest_first(page: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The page newest first. Mastodon sends every page newest first, even for ``min_id``;
    a page whose last entry is newer than its first was sent oldest first."""
    out = list(page)
    if len(out) > 1:
        first, last = as_datetime(out[0].get("created_at")), as_datetime(out[-1].get("created_at"))
        if first is not None and last is not None and last > first:
            out.reverse()
    return out


MAX_ABOVE = 20  # boosts kept above a cursor before the cursor moves onto a boost


def position(
    page: Sequence[Mapping[str, Any]], cursor: str | None = None, above: Sequence[str] = ()
) -> tuple[str | None, list[str]]:
    """Where to page forward from after ``page`` (the new entries above ``cursor``, newest
    first): the newest entry that is not a boost, and the ids of the entries above it. A page
    of boosts only keeps the cursor and adds them to ``above``, until there are so many that
    the page above the cursor could fill up with them: then the newest boost is the cursor."""
    ids = [entry_id(e) for e in page]
    for n, entry in enumerate(page):
        if ids[n] is not None and not entry.get("reblog"):
            return ids[n], [i for i in ids[:n] if i is not None]
    boosts = [i for i in ids if i is not None]
    if cursor is not None and len(boosts) + len(above) <= MAX_ABOVE:
        return cursor, [*boosts, *above]
    return (boosts[0] if boosts else cursor), []


def fresh(
    page: Sequence[Mapping[str, Any]], cursor: str | None, seen: set[str]
) -> tuple[list[Mapping[str, Any]], bool]:
    """The entries of a newest-first page not received before, and whether the page reached
    the cursor itself (everything from it on is old: the server did not page from it)."""
    out: list[Mapping[str, Any]] = []
    for entry in page:
        i = entry_id(entry)
        if cursor is not None and i == cursor:
            return out, True
        if i is None or i not in seen:
            out.append(entry)
    return out, False


__all__ = ["entry_id", "fresh", "link_param", "newest_first", "position"]
