"""Bringing a store written by an older pln to this one's layout (run under the write lock).

- schema 1 -> 2: commits (files.Commit). A pln before them, killed while it wrote, could
  leave the index behind its weeks (issue 12): the index was rebuilt once.
- schema 2 -> 3: segments (issue 14). A week was one set of files, however many items it
  held, and index.json mapped every item id to its week. Now a week is split into segments
  of at most SEGMENT_ITEMS items, each with its own keys (the index): a week with more is
  split, in date order, and every segment gets its keys, derived from its items. The old
  index is not read: the keys replace it (which covers 1 -> 2 as well).

Each week is one commit, and a week that has its keys is done: a migration killed half-way
goes on where it stopped. The schema version is written last.
"""

from __future__ import annotations

from typing import Any

from companion.store.records import link_hash
from companion.store.segments import SEGMENT_ITEMS, KeyEntry, key_entry, seg_name

# ``store`` is the TinyDBStore being migrated, which calls migrate(): typed Any, because a
# module the store imports never imports the store (tests/test_architecture.py).


def migrate(store: Any, version: int) -> None:
    """Migrate ``store`` (locked) from schema ``version`` to the current one."""
    assert store.inbox_dir is not None and store.locked
    store._migrating = True
    try:
        for seg in store.segments():
            if "." in seg or (store.inbox_dir / f"keys-{seg}.json").exists():
                continue  # (already a segment of this layout)
            _split_week(store, seg)
            store.flush()
            store.release_clean()
        store._ids = store._links = None
        store._write_meta()
        store.flush()
    finally:
        store._migrating = False


def _entry(rec: dict[str, Any]) -> KeyEntry:
    return key_entry(rec, link_hash(rec["link_key"]) if rec.get("link_key") else None)


def _split_week(store: Any, week: str) -> None:
    """One week of the old layout as segments of at most SEGMENT_ITEMS items, oldest first,
    each with its keys (in memory, for the next flush)."""
    from companion.store.db import _drop_docs, _put_docs, _table

    items = store._items_of(week)
    if len(items) <= SEGMENT_ITEMS:
        store._key_edits[week] = {i: _entry(r) for i, r in items.items()}
        return
    order = sorted(items, key=lambda i: items[i]["published"])
    bodies = _table(store._body_db(week), "bodies")
    search = store._search_lines(week)
    chunks = [order[k:k + SEGMENT_ITEMS] for k in range(0, len(order), SEGMENT_ITEMS)]
    for n, chunk in enumerate(chunks[1:], 1):
        seg = seg_name(week, n)
        store._mem_segs.add(seg)
        part = {i: items[i] for i in chunk}
        part_bodies = {i: bodies[i] for i in chunk if i in bodies}
        _put_docs(store._items_db(seg), "items", part)
        _put_docs(store._body_db(seg), "bodies", part_bodies)
        store._search_lines(seg).update({i: search[i] for i in chunk if i in search})
        store._key_edits[seg] = {i: _entry(r) for i, r in part.items()}
    moving = set(order) - set(chunks[0])
    store._key_edits[week] = {i: _entry(items[i]) for i in chunks[0]}
    _drop_docs(store._items_db(week), "items", moving)
    _drop_docs(store._body_db(week), "bodies", moving)
    for i in moving:
        search.pop(i, None)
    store._removed_from.add(week)
