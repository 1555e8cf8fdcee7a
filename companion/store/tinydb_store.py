"""The inbox store: items in segments, per-source sync state (the journal is in journal.py,
TinyDB's plumbing in db.py, the segment formats in segments.py, commits in files.py).

Only the modules of this package import tinydb. Layout under the data directory::

    inbox/index.json              the schema version
    inbox/items-2026-W47.json     light records of a segment of the items published that ISO
                                  week (``companion.store.segments``: at most SEGMENT_ITEMS
                                  items; the next ones are items-2026-W47.1.json, …)
    inbox/bodies-2026-W47.json    their sanitized HTML bodies (read only by `show` / export)
    inbox/search-2026-W47.json    their folded text (title, text, author) for --search, as one
                                  string of "id text" lines
    inbox/keys-2026-W47.json      the segment's index: "published id flags link" lines
    state.json                    per-source sync state (ETag, cursor, health)
    commit.json                   only while a commit renames its files (see files.py)
    journal.json                  reflections — never written by inbox operations

Why segments: TinyDB keeps a whole file in memory and rewrites it on every write; one file
of 100,000 items costs >1 s and >600 MB to load (issue 2), and a week can hold that many
(issue 14: a sync of 200 items into such a week rewrote 40 MB and took 1.2 GB). A segment
holds a few hundred items, so a listing reads the few segments it shows, a lookup by id one,
and a sync rewrites the week's last segment and what it adds. The files a command changed
are written together, once per command (or per batch of a sync): CachingMiddleware keeps
changes in memory, ``flush`` commits them all or none (``files.Commit``), so a crash leaves
the old store or the new one.
"""

from __future__ import annotations

import heapq
import itertools
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from companion import ids as idmod
from companion.errors import LockedError, NotFoundError, StorageError
from companion.locking import WriteLock, lock_for
from companion.storage_io import clean_stale_temps
from companion.store import files
from companion.store.db import (
    _DB,
    StrIdTable,
    _drop_docs,
    _file,
    _flush,
    _is_dirty,
    _open_db,
    _put_docs,
    _table,
)
from companion.store.files import Commit, Stage
from companion.store.journal import TinyDBJournal
from companion.store.records import (
    HEAVY_FIELDS,
    SUMMARY_CHARS,
    PreparedPut,
    iso_z,
    link_hash,
    prepare_put,
    shard_key,
    split_record,
    week_start,
)
from companion.store.segments import (
    SEGMENT_ITEMS,
    KeyEntry,
    Keys,
    blob_search,
    entries_of,
    flags_of,
    is_seg,
    key_entry,
    keys_docs,
    keys_from_docs,
    keys_of,
    search_lines,
    search_text_of,
    seg_name,
    seg_number,
    week_of,
)

__all__ = [
    "HEAVY_FIELDS", "SCHEMA_VERSION", "SEGMENT_ITEMS", "SUMMARY_CHARS", "PreparedPut",
    "TinyDBJournal", "TinyDBStore", "iso_z", "prepare_put", "shard_key", "split_record",
    "week_start",
]

SCHEMA_VERSION = 3  # bump with an entry in companion.store.migrate when the layout changes

_blob_search = blob_search  # (the name tests and older callers know)
_link_hash = link_hash

# Segments a listing keeps open while it merges a week's segments newest first: the segments
# of one sync overlap in time, those of different syncs mostly do not.
_OPEN_SEGMENTS = 24


class TinyDBStore:
    """The inbox (items, bodies, search text and keys in segments), per-source state, behind
    one class.

    ``data_dir=None`` keeps everything in memory (for tests of pure logic).
    """

    def __init__(self, data_dir: Path | None) -> None:
        self.data_dir = data_dir
        self.inbox_dir = data_dir / "inbox" if data_dir else None
        # cached files of segments, by segment
        self._items: dict[str, _DB] = {}
        self._bodies: dict[str, _DB] = {}
        self._search: dict[str, _DB] = {}
        self._keydbs: dict[str, _DB] = {}
        # segments whose search text is being changed: parsed once, written back at flush
        # (a sync of 200 feeds into one segment must not re-split it 200 times)
        self._search_edits: dict[str, dict[str, str]] = {}
        # segments whose keys are being changed ({id: entry}), written back at flush
        self._key_edits: dict[str, dict[str, KeyEntry]] = {}
        self._keys_cache: dict[str, Keys] = {}
        # segments without a keys file (an older store, a lost file): derived from their
        # items, written by the next pln that writes
        self._derived: set[str] = set()
        self._mem_segs: set[str] = set()  # segments made or filled in this process
        # items new to their week since the last commit: (id, segment), by week (``_repack``)
        self._added: dict[str, list[tuple[str, str]]] = {}
        self._disk_segs: set[str] | None = None
        self._ids: dict[str, str] | None = None  # item id -> segment
        self._links: dict[str, list[str]] | None = None  # link hash -> ids
        self._index_db: _DB | None = None
        self._version: int | None = None  # the schema on disk (None: no index.json yet)
        self._schema_checked = False
        self._migrating = False
        self._state_db: _DB | None = None
        self._lock: WriteLock | None = None
        self._removed_from: set[str] = set()
        self._stage = Stage()  # the commit that files write into while flushing
        self._checked = False  # for an interrupted commit (see _finish_interrupted)

    # ----- lifecycle -------------------------------------------------------------------

    def lock(self, command: str, timeout: float | None = None) -> None:
        """Take the write lock until ``unlock``/``close`` (a no-op if this store has it).

        Under the lock the store is brought up to date first: an interrupted commit (a
        crash) is finished, cached files that another pln changed since this one read them
        are forgotten (a sync writes in batches, others write in between: issue 13), and temp
        files left by killed processes are removed (issue 12). A store written by an older
        pln is migrated when it is first read under the lock (``_check_schema``).
        """
        if self.data_dir is None or self._lock is not None:
            return
        lock = lock_for(self.data_dir / "pln.lock")
        lock.acquire(command, timeout)
        self._lock = lock
        try:
            if files.recover(self.data_dir):
                self.discard()
            else:
                self._drop_stale()
            dirs = [self.data_dir, *([self.inbox_dir] if self.inbox_dir else [])]
            clean_stale_temps(dirs)
        except BaseException:
            self._lock = None
            lock.release()
            raise

    @property
    def locked(self) -> bool:
        """Whether this store holds the write lock."""
        return self._lock is not None

    def unlock(self) -> None:
        """Commit every change and release the lock (the caches stay, checked at ``lock``)."""
        try:
            self.flush()
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    def _pending(self) -> bool:
        return bool(self._search_edits or self._key_edits) or any(
            _is_dirty(db) for db in self._dbs())

    def flush(self) -> None:
        """Write every changed file in one commit (see files.Commit): all of them or, after
        a crash, none. Renames go bodies, search, items, keys, index, state, so a reader that
        does not lock still finds every listed item's record and body."""
        if self.data_dir is not None and self._lock is None:
            if self._pending():
                raise StorageError("internal error: writing without the lock")
            return
        for seg in self._derived:  # keys derived from items: kept now that pln writes
            if seg not in self._key_edits and seg in self._keys_cache:
                self._key_edits[seg] = entries_of(self._keys_cache[seg])
        self._derived.clear()
        self._repack()
        if not self._pending():
            return
        if (self._version != SCHEMA_VERSION and not self._migrating
                and (self._key_edits or any(_is_dirty(db) for db in self._items.values()))):
            self._write_meta()  # (a new store, or the end of a migration)
        written: dict[str, Keys] = {}
        for seg, lines in self._search_edits.items():
            _put_docs(self._search_db(seg), "q", {"all": {"v": search_text_of(lines)}})
        for seg, entries in self._key_edits.items():
            written[seg] = keys = keys_of(entries)
            _put_docs(self._keys_db(seg), "k", keys_docs(keys))
        self._search_edits.clear()
        self._key_edits.clear()
        self._keys_cache.update(written)
        commit = Commit(self.data_dir) if self.data_dir is not None else None
        self._stage.commit = commit
        try:
            for db in self._dbs():
                _flush(db)
            if commit is not None:
                commit.apply()
        except BaseException:
            if commit is not None:
                commit.abort()
            self.discard()  # (the caches say "written" for what is not)
            raise
        finally:
            self._stage.commit = None
        self._removed_from.clear()
        # what is written is read again if needed: a sync of 40,000 items holds one batch of
        # segments at a time, not every segment it wrote (issue 14: 411 MB at 800 feeds)
        self.release_clean()

    def close(self) -> None:
        """Flush and release the lock."""
        self.unlock()

    def discard(self) -> None:
        """Forget every cached file and every change not yet written."""
        if self.data_dir is None:
            return
        for cache in (self._items, self._bodies, self._search, self._keydbs):
            cache.clear()
        self._search_edits.clear()
        self._key_edits.clear()
        self._keys_cache.clear()
        self._derived.clear()
        self._mem_segs.clear()
        self._added.clear()
        self._disk_segs = None
        self._ids = self._links = None
        self._index_db = None
        self._schema_checked = False
        self._state_db = None
        self._removed_from.clear()

    def _drop_stale(self) -> None:
        """Forget cached files that changed on disk since this process read or wrote them
        (and the id and link maps, if a segment's keys changed or a segment appeared)."""
        for cache in (self._items, self._bodies, self._search):
            for seg, db in list(cache.items()):
                f = _file(db)
                if f is not None and not _is_dirty(db) and seg not in self._search_edits and f.stale():
                    del cache[seg]
        changed = False
        for seg in list(self._keys_cache):
            kdb = self._keydbs.get(seg)
            f = _file(kdb) if kdb is not None else None
            if f is None or seg in self._key_edits:
                continue
            if f.stale():
                del self._keys_cache[seg]
                self._keydbs.pop(seg, None)
                self._derived.discard(seg)
                changed = True
        if self._disk_segs is not None and self._scan_segs() != self._disk_segs:
            self._disk_segs = None
            changed = True
        if changed and not self._key_edits:
            self._ids = self._links = None
        index = self._index_db
        if index is not None and not _is_dirty(index) and (f := _file(index)) and f.stale():
            self._index_db = None
            self._schema_checked = False
        state = self._state_db
        if state is not None and not _is_dirty(state) and (f := _file(state)) and f.stale():
            self._state_db = None

    def _dbs(self) -> Iterator[_DB]:
        """Every cached file, in the order a commit renames them (see ``flush``)."""
        yield from (self._bodies[k] for k in sorted(self._bodies))
        yield from (self._search[k] for k in sorted(self._search))
        # segments that only gained items before those that lost some: a reader finds every
        # item its keys list
        order = sorted(self._items, key=lambda k: (k in self._removed_from, k))
        yield from (self._items[k] for k in order)
        keys = sorted(self._keydbs, key=lambda k: (k in self._removed_from, k))
        yield from (self._keydbs[k] for k in keys)
        if self._index_db is not None:
            yield self._index_db
        if self._state_db is not None:
            yield self._state_db

    def _finish_interrupted(self) -> None:
        """Before a command that does not write reads anything: if a commit was interrupted
        (a crash between its renames), finish it first (a writer in the middle of one holds
        the lock for milliseconds; a crashed one not at all)."""
        if self._checked or self.data_dir is None:
            return
        self._checked = True
        if self._lock is None and files.pending(self.data_dir):
            self.lock("pln (finishing an interrupted write)")
            self.unlock()

    # ----- schema ------------------------------------------------------------------------

    def _index(self) -> _DB:
        if self._index_db is None:
            path = self.inbox_dir / "index.json" if self.inbox_dir else None
            self._index_db = _open_db(path, self._stage)
        return self._index_db

    def _check_schema(self) -> None:
        """Refuse a store written by a newer pln; migrate one written by an older pln (under
        the lock, or now if the lock is free; else read it as it is, without writing)."""
        if self._schema_checked or self.inbox_dir is None:
            self._schema_checked = True
            return
        doc = _table(self._index(), "_meta").get("schema")
        version = self._version = int(doc.get("version", 0)) if doc else None
        if version is None or version == SCHEMA_VERSION:
            self._schema_checked = True
            return
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"the inbox at {self.inbox_dir} was written by a newer pln "
                f"(schema {version}, this pln knows {SCHEMA_VERSION}): upgrade pln"
            )
        if self._lock is None:  # a command that only reads: migrate if no one else writes
            try:
                self.lock("pln (upgrading the inbox)", timeout=0)
            except (LockedError, StorageError):
                self._schema_checked = True  # busy, or a read-only home: read it as it is
                return
            try:
                self._check_schema()  # (again, under the lock: migrates)
            finally:
                self.unlock()
            return
        from companion.store.migrate import migrate

        self._schema_checked = True
        migrate(self, version)

    def _write_meta(self) -> None:
        """index.json as this pln writes it: the schema version (the older index's tables
        are gone with it: the keys of the segments are the index)."""
        if self.inbox_dir is None:
            return
        self._index().storage.write({"_meta": {"schema": {"version": SCHEMA_VERSION}}})
        self._version = SCHEMA_VERSION

    def _ready(self) -> None:
        self._finish_interrupted()
        if not self._schema_checked:
            self._check_schema()

    # ----- segment files ---------------------------------------------------------------

    def _seg_db(self, cache: dict[str, _DB], kind: str, seg: str) -> _DB:
        """The cached TinyDB of one segment's ``kind`` file (items, bodies, search, keys)."""
        db = cache.get(seg)
        if db is None:
            path = self.inbox_dir / f"{kind}-{seg}.json" if self.inbox_dir else None
            db = cache[seg] = _open_db(path, self._stage)
        return db

    def _items_db(self, seg: str) -> _DB:
        return self._seg_db(self._items, "items", seg)

    def _items_of(self, seg: str) -> dict[str, Any]:
        return _table(self._items_db(seg), "items")

    def _body_db(self, seg: str) -> _DB:
        return self._seg_db(self._bodies, "bodies", seg)

    def _search_db(self, seg: str) -> _DB:
        return self._seg_db(self._search, "search", seg)

    def _keys_db(self, seg: str) -> _DB:
        return self._seg_db(self._keydbs, "keys", seg)

    def _search_lines(self, seg: str) -> dict[str, str]:
        """A segment's search text as {id: text}, for editing (written back by flush)."""
        lines = self._search_edits.get(seg)
        if lines is None:
            doc = _table(self._search_db(seg), "q").get("all")
            lines = self._search_edits[seg] = search_lines(doc.get("v", "") if doc else "")
        return lines

    def _keys(self, seg: str) -> Keys:
        """A segment's keys (ids, dates, flags, links; newest first)."""
        edits = self._key_edits.get(seg)
        if edits is not None:
            return keys_of(edits)
        keys = self._keys_cache.get(seg)
        if keys is None:
            table = _table(self._keys_db(seg), "k")
            stored = keys_from_docs(table)
            if stored is None:
                if table:
                    raise StorageError(files.damaged(
                        self.inbox_dir / f"keys-{seg}.json" if self.inbox_dir else Path(seg),
                        "is corrupt (its columns do not line up)"))
                # no keys file: an older store, or a lost file: derived from the items
                stored = keys_of(self._derive_keys(seg))
                if self.inbox_dir is not None:
                    self._derived.add(seg)
            keys = self._keys_cache[seg] = stored
        return keys

    def _derive_keys(self, seg: str) -> dict[str, KeyEntry]:
        items = self._items_of(seg)
        out = {i: key_entry(r, link_hash(r["link_key"]) if r.get("link_key") else None)
               for i, r in items.items()}
        self._release(seg, (self._items,))
        return out

    def _edit_keys(self, seg: str) -> dict[str, KeyEntry]:
        edits = self._key_edits.get(seg)
        if edits is None:
            edits = self._key_edits[seg] = entries_of(self._keys(seg))
            self._keys_cache.pop(seg, None)
            self._derived.discard(seg)
        return edits

    def _scan_segs(self) -> set[str]:
        if self.inbox_dir is None:
            return set()
        try:
            names = os.listdir(self.inbox_dir)
        except FileNotFoundError:
            return set()
        return {n[6:-5] for n in names
                if n.startswith("items-") and n.endswith(".json") and is_seg(n[6:-5])}

    def segments(self) -> list[str]:
        """Every segment, newest week first; a week's segments in order."""
        self._ready()
        if self._disk_segs is None:
            self._disk_segs = self._scan_segs()
        segs = self._disk_segs | self._mem_segs
        return sorted(segs, key=lambda s: (week_of(s), -seg_number(s)), reverse=True)

    def shard_keys(self) -> list[str]:
        """Every ISO week that has a segment, newest first."""
        return list(dict.fromkeys(week_of(s) for s in self.segments()))

    def _by_week(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for s in self.segments():
            out.setdefault(week_of(s), []).append(s)
        return out

    def _release(self, seg: str, caches: Iterable[dict[str, _DB]] | None = None) -> None:
        """Forget a segment's cached files that have no unsaved changes (memory stays flat
        while a command reads many segments)."""
        if self.inbox_dir is None:
            return
        for cache in caches if caches is not None else (self._items, self._bodies, self._search):
            db = cache.get(seg)
            if db is not None and not _is_dirty(db) and not (
                    cache is self._search and seg in self._search_edits):
                del cache[seg]

    def release_clean(self) -> None:
        """Forget cached segments that have no unsaved changes (keeps memory flat in loops
        over the whole inbox; they are read again if needed)."""
        for seg in {*self._items, *self._bodies, *self._search}:
            self._release(seg)

    # ----- the index: item id -> segment, link -> ids ------------------------------------

    def _id_map(self) -> dict[str, str]:
        """{item id: segment}, from every segment's keys (one C-level pass per segment)."""
        if self._ids is not None:
            return self._ids
        ids: dict[str, str] = {}
        for seg in self.segments():
            ids.update(dict.fromkeys(self._keys(seg).ids, seg))
        self._ids = ids
        if self._derived and self._lock is None:
            self._keep_derived()
        return ids

    def _link_map(self) -> dict[str, list[str]]:
        """{link hash: ids}, from every segment's keys: built when a story is joined or read
        (`pln show`, `star` do without it)."""
        if self._links is not None:
            return self._links
        links: dict[str, list[str]] = {}
        for seg in self.segments():
            keys = self._keys(seg)
            for i, lk in zip(keys.ids, keys.links, strict=True):
                if lk != "-":
                    if lk in links:
                        links[lk].append(i)
                    else:
                        links[lk] = [i]
        self._links = links
        return links

    def _maps(self) -> tuple[dict[str, str], dict[str, list[str]] | None]:
        """The id map, and the link map if it is built (kept up to date as items change)."""
        return self._id_map(), self._links

    def _keep_derived(self) -> None:
        """A command that only reads derived a segment's lost keys: write them if no one
        else is writing (else the next writer does)."""
        try:
            self.lock("pln (repairing the inbox index)", timeout=0)
        except (LockedError, StorageError):
            return
        self.unlock()

    def rebuild_index(self) -> int:
        """Derive every segment's keys from its items again (after a crash or a hand edit);
        how many items there are."""
        n = 0
        for seg in self.segments():
            self._key_edits[seg] = self._derive_keys(seg)
            self._keys_cache.pop(seg, None)
            n += len(self._key_edits[seg])
        self._ids = self._links = None
        return n

    def link_ids(self, key: str) -> list[str]:
        """Ids of the items whose story link has this key."""
        return list(self._link_map().get(link_hash(key), ()))

    def count(self) -> int:
        """How many items the inbox holds."""
        return len(self._id_map())

    def item_ids(self) -> list[str]:
        """Every item id (from the index)."""
        return list(self._id_map())

    def resolve(self, prefix: str) -> str:
        """The full id of the item whose id starts with ``prefix`` (>= 4 characters)."""
        p = prefix.strip().lower()
        ids = self._id_map() if len(p) >= idmod.MIN_PREFIX else {}
        return idmod.resolve_prefix(prefix, [i for i in ids if i.startswith(p)], "item")

    def locate(self, item_id: str) -> str | None:
        """The segment holding ``item_id``, or None."""
        return self._id_map().get(item_id)

    # ----- items -------------------------------------------------------------------------

    def get(self, item_id: str, *, text: bool = True) -> dict[str, Any] | None:
        """One item's full record (light part + heavy fields), a copy; None if unknown.

        A feed entry's text is rendered from its (sanitized) HTML here, when it is read (it
        is not stored); ``text=False`` skips that for callers that do not show it.
        """
        seg = self.locate(item_id)
        if seg is None:
            return None
        doc = self._items_of(seg).get(item_id)
        if doc is None:
            return None
        body = _table(self._body_db(seg), "bodies").get(item_id) or {}
        rec = {**doc, **{k: v for k, v in body.items() if k in HEAVY_FIELDS}}
        if text and not rec.get("text") and body.get("html"):
            from companion.html import html_to_text, sanitize

            rec["text"] = html_to_text(sanitize(body["html"]))
        return rec

    def get_light(self, item_id: str) -> dict[str, Any] | None:
        """One item's light record (no HEAVY_FIELDS), read-only; None if unknown."""
        seg = self.locate(item_id)
        if seg is None:
            return None
        return self._items_of(seg).get(item_id)

    def require(self, prefix: str) -> dict[str, Any]:
        """The record for an id prefix; raises NotFoundError."""
        item_id = self.resolve(prefix)
        rec = self.get(item_id)
        if rec is None:
            raise NotFoundError(f"item {item_id} is in the index but not in the inbox")
        return rec

    def get_body(self, item_id: str) -> dict[str, Any]:
        """The heavy part of an item: its sanitized HTML ("html") and HEAVY_FIELDS; {} if none.

        Bodies may be stored as the source gave them (the feed fast path does not sanitize
        at sync): every body leaves the store sanitized.
        """
        seg = self.locate(item_id)
        if seg is None:
            return {}
        doc = _table(self._body_db(seg), "bodies").get(item_id)
        if not doc:
            return {}
        body = dict(doc)
        if body.get("html"):
            from companion.html import sanitize

            body["html"] = sanitize(body["html"])
        return body

    def put_many(self, records: Iterable[tuple[dict[str, Any], dict[str, Any] | None]]) -> int:
        """Insert or replace items (record, body-or-None to keep the old body); returns count."""
        puts = []
        for rec, body in records:
            if body is None:  # what to index is in the stored body
                seg = self.locate(rec["id"])
                old = _table(self._body_db(seg), "bodies").get(rec["id"]) if seg else None
                body = {"html": (old or {}).get("html", "")}
            puts.append(prepare_put(rec, body))
        return self.put_prepared(puts)

    def put_prepared(self, puts: Iterable[PreparedPut]) -> int:
        """Insert or replace items already split by ``prepare_put`` (for new items that is
        done where the feed was parsed, so a sync's storing thread only files them).

        An item already in its week stays in its segment; a new one (or one whose date moved
        it to another week) goes to its week's last segment while that has room, then to a
        new one: what this writes is the segments it touches, each of bounded size.
        """
        unique = list({p.id: p for p in puts}.values())
        if not unique:
            return 0
        ids, links = self._maps()
        by_seg: dict[str, list[PreparedPut]] = {}
        arriving: dict[str, list[PreparedPut]] = {}
        moved: dict[str, list[str]] = {}
        for p in unique:
            cur = ids.get(p.id)
            if cur is not None and week_of(cur) == p.shard:
                by_seg.setdefault(cur, []).append(p)
            else:
                if cur is not None:
                    moved.setdefault(cur, []).append(p.id)
                arriving.setdefault(p.shard, []).append(p)
        weeks = self._by_week() if arriving else {}
        for week, part in arriving.items():
            # in date order, so that a week's segments cover stretches of time that overlap
            # little: a listing then merges few of them at a time
            part.sort(key=lambda p: p.light["published"])
            added = self._added.setdefault(week, [])
            for p, seg in zip(part, self._room(week, weeks.get(week, []), len(part)), strict=True):
                by_seg.setdefault(seg, []).append(p)
                added.append((p.id, seg))
        # Every file this touches is read before anything changes: a damaged segment raises
        # here and leaves the others as they were (issue 12).
        self._read_segs({*by_seg, *moved})
        for seg, gone in moved.items():
            self._remove(seg, gone)
        for seg, part in by_seg.items():
            self._mem_segs.add(seg)
            _put_docs(self._items_db(seg), "items", {p.id: p.light for p in part})
            self._search_lines(seg).update({p.id: p.search for p in part})
            _put_docs(self._body_db(seg), "bodies", {p.id: p.body for p in part})
            keys = self._edit_keys(seg)
            for p in part:
                old = keys.get(p.id)
                new = key_entry(p.light, p.link_hash)
                if links is not None and old is not None and old[2] != new[2]:
                    _unlink(links, old[2], p.id)
                keys[p.id] = new
                ids[p.id] = seg
                if p.link_key and p.link_hash:
                    link_hash(p.link_key, p.link_hash)  # remembered for the story join
                    if links is not None and (old is None or old[2] != new[2]):
                        have = links.setdefault(p.link_hash, [])
                        if p.id not in have:
                            have.append(p.id)
        return len(unique)

    def _room(self, week: str, segs: list[str], count: int) -> list[str]:
        """The segments ``count`` new items of ``week`` go to, in order: the week's last
        segment while it has room, then new ones."""
        if segs:
            last = max(segs, key=seg_number)
            edits = self._key_edits.get(last)
            held = len(edits) if edits is not None else len(self._keys(last).ids)
            n, room = seg_number(last), SEGMENT_ITEMS - held
        else:
            n, room = 0, SEGMENT_ITEMS
        out = []
        for _ in range(count):
            if room <= 0:
                n, room = n + 1, SEGMENT_ITEMS
            out.append(seg_name(week, n))
            room -= 1
        return out

    def _read_segs(self, segs: Iterable[str]) -> None:
        """Load the items, bodies, search text and keys of these segments (StorageError if
        one is damaged)."""
        for seg in segs:
            self._items_of(seg)
            _table(self._body_db(seg), "bodies")
            self._search_lines(seg)
            self._keys(seg)

    def _remove(self, seg: str, item_ids: list[str]) -> None:
        gone = set(item_ids)
        _drop_docs(self._items_db(seg), "items", gone)
        _drop_docs(self._body_db(seg), "bodies", gone)
        lines = self._search_lines(seg)
        for i in gone:
            lines.pop(i, None)
        keys = self._edit_keys(seg)
        ids, links = self._maps()
        for i in gone:
            old = keys.pop(i, None)
            if links is not None and old is not None and old[2] != "-":
                _unlink(links, old[2], i)
            if ids.get(i) == seg:
                del ids[i]
        self._removed_from.add(seg)

    def _repack(self) -> None:
        """Before a commit: the items new to a week in it, in date order over the segments
        they went to. A sync stores source after source, each in date order, so without this
        every segment it fills would cover the whole week; with it, the segments of one
        commit cover stretches of the week one after the other, and a listing of the newest
        items opens one or two of them (issue 14). Only what is about to be written moves."""
        added, self._added = self._added, {}
        for placed in added.values():
            segs = list(dict.fromkeys(seg for _, seg in placed))
            if len(segs) < 2:
                continue
            live = [(i, seg) for i, seg in placed
                    if i in self._key_edits.get(seg, {}) and self._ids is not None
                    and self._ids.get(i) == seg]
            room = {seg: 0 for seg in segs}
            for _, seg in live:
                room[seg] += 1
            order = sorted(live, key=lambda t: self._key_edits[t[1]][t[0]][0])
            moves: dict[tuple[str, str], list[str]] = {}
            k = 0
            for seg in segs:
                for i, cur in order[k:k + room[seg]]:
                    if cur != seg:
                        moves.setdefault((cur, seg), []).append(i)
                k += room[seg]
            for (src, dst), ids in moves.items():
                self._move_new(src, dst, ids)

    def _move_new(self, src: str, dst: str, item_ids: list[str]) -> None:
        """Move items not yet written from one segment to another (both about to be)."""
        items, bodies = self._items_of(src), _table(self._body_db(src), "bodies")
        lines, keys = self._search_lines(src), self._key_edits[src]
        moved_items = {i: items[i] for i in item_ids}
        moved_bodies = {i: bodies[i] for i in item_ids if i in bodies}
        _drop_docs(self._items_db(src), "items", item_ids)
        _drop_docs(self._body_db(src), "bodies", item_ids)
        _put_docs(self._items_db(dst), "items", moved_items)
        _put_docs(self._body_db(dst), "bodies", moved_bodies)
        to_lines, to_keys = self._search_lines(dst), self._edit_keys(dst)
        assert self._ids is not None
        for i in item_ids:
            if i in lines:
                to_lines[i] = lines.pop(i)
            to_keys[i] = keys.pop(i)
            self._ids[i] = dst

    def update_many(self, changes: dict[str, dict[str, Any]]) -> int:
        """Set fields on existing items, e.g. ``{id: {"read": True}}``; returns how many changed."""
        ids = self._id_map()
        by_seg: dict[str, dict[str, dict[str, Any]]] = {}
        for item_id, fields in changes.items():
            seg = ids.get(item_id)
            if seg is not None:
                by_seg.setdefault(seg, {})[item_id] = fields
        # many segments (read --all): write each as soon as it is done and let it go, so
        # memory stays at one segment instead of the whole inbox. Only flags change (nothing
        # else is pending), so each segment is a commit of its own.
        alone = (self.inbox_dir is not None and self._lock is not None and len(by_seg) > 1
                 and not self._pending())
        n = 0
        for seg, part in sorted(by_seg.items()):
            current = self._items_of(seg)
            todo = {
                i: f
                for i, f in part.items()
                if i in current and any(current[i].get(k) != v for k, v in f.items())
            }
            if not todo:
                if alone:
                    self._release(seg, (self._items,))
                continue

            def apply(table: dict[Any, Any], todo: dict[str, dict[str, Any]] = todo) -> None:
                for i, f in todo.items():
                    table[i] = {**table[i], **f}

            self._items_db(seg).table("items")._update_table(apply)
            if any("read" in f or "starred" in f for f in todo.values()):
                keys = self._edit_keys(seg)
                for i in todo:
                    if i in keys:
                        p, _, lk = keys[i]
                        keys[i] = (p, flags_of(current[i]), lk)
            n += len(todo)
            if alone:
                self.flush()
                self._release(seg)
        return n

    def delete_many(self, item_ids: Iterable[str]) -> int:
        """Remove items (and their bodies) from the inbox."""
        ids = self._id_map()
        by_seg: dict[str, list[str]] = {}
        for item_id in item_ids:
            seg = ids.get(item_id)
            if seg is not None:
                by_seg.setdefault(seg, []).append(item_id)
        self._read_segs(by_seg)  # (all read before anything changes)
        for seg, part in by_seg.items():
            self._remove(seg, part)
        return sum(len(p) for p in by_seg.values())

    def iter_items(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        where: Callable[[dict[str, Any]], bool] | None = None,
        unread: bool = False,
        starred: bool = False,
        ordered: bool = True,
    ) -> Iterator[dict[str, Any]]:
        """Light records (no HEAVY_FIELDS: see ``get``), newest first. They are the stored
        dicts: treat them as read-only.

        A week's segments are merged by their keys, so a limited listing opens only the
        segments that hold what it shows. ``unread`` / ``starred`` skip, by the keys alone,
        items that are read / not starred (``where`` is still applied to the rest).
        ``ordered=False``: any order, each segment read once (a count over everything).
        """
        since_iso = iso_z(since) if since else None
        until_iso = iso_z(until) if until else None
        for week, segs in self._by_week().items():
            if since is not None and week_start(week).timestamp() + 7 * 86400 <= since.timestamp():
                break
            if until is not None and week_start(week).timestamp() >= until.timestamp():
                continue
            if ordered:
                yield from self._iter_week(segs, since_iso, until_iso, where, unread, starred,
                                           None)
                continue
            for seg in segs:
                yield from self._iter_week([seg], since_iso, until_iso, where, unread, starred,
                                           None)

    def _iter_week(self, segs: list[str], since_iso: str | None, until_iso: str | None,
                   where: Callable[[dict[str, Any]], bool] | None, unread: bool,
                   starred: bool, only: dict[str, set[str]] | None) -> Iterator[dict[str, Any]]:
        """One week's light records, newest first (see ``iter_items``); ``only``: just these
        ids (by segment: a search's hits), from the keys of their segments alone."""
        rows: Iterable[tuple[str, str, str, str]]
        if only is not None:
            rows = sorted((r for seg, hits in only.items() for r in _rows(self._keys(seg), seg)
                           if r[1] in hits), reverse=True)
        elif len(segs) == 1:
            rows = _rows(self._keys(segs[0]), segs[0])
        else:
            rows = heapq.merge(*(_rows(self._keys(s), s) for s in segs), reverse=True)
        opened: OrderedDict[str, dict[str, Any]] = OrderedDict()
        try:
            for published, item_id, flags, seg in rows:
                if until_iso is not None and published >= until_iso:
                    continue
                if since_iso is not None and published < since_iso:
                    break
                if (unread and "r" in flags) or (starred and "s" not in flags):
                    continue
                table = opened.get(seg)
                if table is None:
                    table = opened[seg] = self._items_of(seg)
                    if len(opened) > _OPEN_SEGMENTS:
                        self._release(opened.popitem(last=False)[0], (self._items,))
                else:
                    opened.move_to_end(seg)
                rec = table.get(item_id)
                if rec is None or (where is not None and not where(rec)):
                    continue  # (None: a reader between the renames of a commit)
                yield rec
        finally:
            for seg in opened:  # keep memory flat while scanning 100k items
                self._release(seg, (self._items,))

    def count_items(self, *, since: datetime | None = None, unread: bool = False,
                    starred: bool = False) -> int:
        """How many items there are (published since ``since``; unread / starred only), from
        the keys alone: no record is read."""
        since_iso = iso_z(since) if since else None
        n = 0
        for week, segs in self._by_week().items():
            if since is not None and week_start(week).timestamp() + 7 * 86400 <= since.timestamp():
                break
            for seg in segs:
                keys = self._keys(seg)
                for published, flags in zip(keys.pubs, keys.flags, strict=True):
                    if since_iso is not None and published < since_iso:
                        break  # (newest first)
                    if not ((unread and "r" in flags) or (starred and "s" not in flags)):
                        n += 1
        return n

    def search_items(
        self,
        words: list[str],
        *,
        since: datetime | None = None,
        where: Callable[[dict[str, Any]], bool] | None = None,
        unread: bool = False,
        starred: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Items whose folded text contains every word, newest first.

        Reads each segment's search file first and opens a segment's items only when
        something in it matched.
        """
        since_iso = iso_z(since) if since else None
        for week, segs in self._by_week().items():
            if since is not None and week_start(week).timestamp() + 7 * 86400 <= since.timestamp():
                break
            hits: dict[str, set[str]] = {}
            for seg in segs:
                if seg in self._search_edits:  # changed in this command, not yet written
                    found = {i for i, q in self._search_edits[seg].items()
                             if all(w in q for w in words)}
                else:
                    doc = _table(self._search_db(seg), "q").get("all")
                    found = blob_search(doc["v"], words) if doc and words else set()
                    self._release(seg, (self._search,))
                if found:
                    hits[seg] = found
            if hits:
                yield from self._iter_week(segs, since_iso, None, where, unread, starred, hits)

    # ----- per-source state ----------------------------------------------------------------

    def _states(self) -> StrIdTable:
        if self._state_db is None:
            self._finish_interrupted()
            path = self.data_dir / "state.json" if self.data_dir else None
            self._state_db = _open_db(path, self._stage)
        return self._state_db.table("sources")  # type: ignore[return-value]

    def get_state(self, source_id: str) -> dict[str, Any]:
        """A source's saved sync state (ETag, cursor, health); {} when new."""
        doc = self._states()._read_table().get(source_id)
        return dict(doc) if doc else {}

    def put_state(self, source_id: str, state: dict[str, Any]) -> None:
        """Replace a source's saved state."""
        self._states()._update_table(lambda t: t.__setitem__(source_id, dict(state)))

    def drop_state(self, source_id: str) -> None:
        """Forget a source's state (its items stay)."""
        self._states()._update_table(lambda t: t.pop(source_id, None))

    def all_states(self) -> dict[str, dict[str, Any]]:
        """Every source's saved state, by source id."""
        return {k: dict(v) for k, v in self._states()._read_table().items()}


def _rows(keys: Keys, seg: str) -> Iterator[tuple[str, str, str, str]]:
    """(published, id, flags, segment) of a segment's items, newest first: what a week's
    segments are merged by (dates first, then ids, as the keys are sorted)."""
    return zip(keys.pubs, keys.ids, keys.flags, itertools.repeat(seg))


def _unlink(links: dict[str, list[str]], key: str, item_id: str) -> None:
    have = links.get(key)
    if have and item_id in have:
        have.remove(item_id)
        if not have:
            del links[key]
