"""Segments: how a week of items is split into files of bounded size, and the small text
formats of their index (keys) and search files. Pure: no files, no TinyDB.

A week's items live in segments of at most ``SEGMENT_ITEMS`` items (issue 14): the first is
named after the week (``2026-W47``), the next ones ``2026-W47.1``, ``2026-W47.2``, … New items
go to the week's last segment until it is full, then to a new one, so a sync that adds k
items rewrites at most the last segment plus O(k) bytes — never the whole week — and a
listing or a lookup by id reads a few segments, whatever the week holds.

Each segment has four files: ``items-SEG.json`` (light records), ``bodies-SEG.json``,
``search-SEG.json`` (one string of "id folded-text" lines) and ``keys-SEG.json``, its index:
four aligned columns, each one space-separated string — ids, published dates, flags (read,
starred) and link hashes — newest first. The keys of every segment together are the inbox's
index (id -> segment, link -> ids), and a week's keys, merged, give its items newest first
without opening their records: a listing opens only the segments that hold what it shows.
Columns, not lines: the id map of 100,000 items is 200 C-level splits, not 100,000.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

# At ~0.4 KB of light record, ~2 KB of body and ~0.6 KB of search text per item, a full
# segment is ~1.5 MB over its four files: the most a sync rewrites besides what it adds.
SEGMENT_ITEMS = 500

KeyEntry = tuple[str, str, str]  # (published, flags, link hash or "-")


def week_of(seg: str) -> str:
    """The ISO week a segment belongs to: ``2026-W47.3`` -> ``2026-W47``."""
    return seg.split(".", 1)[0]


def seg_number(seg: str) -> int:
    """A segment's place in its week (0 for the first, named after the week)."""
    _, _, n = seg.partition(".")
    return int(n) if n.isdigit() else 0


def seg_name(week: str, n: int) -> str:
    """The segment ``n`` of ``week``."""
    return week if n == 0 else f"{week}.{n}"


def is_seg(name: str) -> bool:
    """Whether a file name's middle part (``items-NAME.json``) names a segment."""
    week, _, n = name.partition(".")
    return len(week) == 8 and week[4:6] == "-W" and (not n or n.isdigit())


def flags_of(rec: Mapping[str, object]) -> str:
    """The flags the keys carry for a record: r(ead), s(tarred), or "-"."""
    f = ("r" if rec.get("read") else "") + ("s" if rec.get("starred") else "")
    return f or "-"


def key_entry(rec: Mapping[str, object], link: str | None) -> KeyEntry:
    """A light record's line in its segment's keys."""
    published = str(rec.get("published") or "").replace(" ", "T") or "-"
    return published, flags_of(rec), link or "-"


class Keys(NamedTuple):
    """A segment's keys: aligned columns, newest first."""

    ids: list[str]
    pubs: list[str]
    flags: list[str]
    links: list[str]  # link hash, or "-"


NO_KEYS = Keys([], [], [], [])
_COLUMNS = ("ids", "pubs", "flags", "links")


def keys_of(entries: Mapping[str, KeyEntry]) -> Keys:
    """Entries ({id: (published, flags, link)}) as columns, newest first."""
    rows = sorted(((p, i, f, lk) for i, (p, f, lk) in entries.items()), reverse=True)
    return Keys([r[1] for r in rows], [r[0] for r in rows], [r[2] for r in rows],
                [r[3] for r in rows])


def keys_docs(keys: Keys) -> dict[str, dict[str, str]]:
    """A segment's keys as stored: one document per column."""
    return {name: {"v": " ".join(col)} for name, col in zip(_COLUMNS, keys, strict=True)}


def keys_from_docs(table: Mapping[str, Mapping[str, str]]) -> Keys | None:
    """The keys stored in a table (None if it has none, or they do not line up)."""
    if not table:
        return None
    cols = []
    for name in _COLUMNS:
        text = (table.get(name) or {}).get("v")
        if not isinstance(text, str):
            return None
        cols.append(text.split(" ") if text else [])
    if len({len(c) for c in cols}) != 1:
        return None
    return Keys(*cols)


def entries_of(keys: Keys) -> dict[str, KeyEntry]:
    """Columns as {id: (published, flags, link)}."""
    return {i: (p, f, lk) for i, p, f, lk in zip(keys.ids, keys.pubs, keys.flags, keys.links,
                                                  strict=True)}


def search_lines(blob: str) -> dict[str, str]:
    """A segment's search text as {id: folded text} (parsed from its one-string form)."""
    if not blob:
        return {}
    return dict(line.split(" ", 1) for line in blob.split("\n") if line)


def search_text_of(lines: Mapping[str, str]) -> str:
    """A segment's search text in its stored form: one string of "id text" lines."""
    return "".join(f"{i} {q}\n" for i, q in lines.items())


def blob_search(blob: str, words: list[str]) -> set[str]:
    """Ids of the lines ("id folded-text") of ``blob`` that contain every word.

    The segment's text is one string, so JSON parsing is trivial and the first word is found
    with str.find at C speed; the other words are checked only on lines that matched.
    """
    hits: set[str] = set()
    first, rest = words[0], words[1:]
    pos = blob.find(first)
    while pos != -1:
        start = blob.rfind("\n", 0, pos) + 1
        end = blob.find("\n", pos)
        if end == -1:
            end = len(blob)
        line = blob[start:end]
        sep = line.find(" ")
        text = line[sep + 1:]
        if first in text and all(w in text for w in rest):  # (the match may be in the id)
            hits.add(line[:sep])
        pos = blob.find(first, end)
    return hits
