"""TinyDB storage for the inbox, per-source sync state and the journal.

Only the modules of this package import tinydb. Layout under the data directory::

    inbox/index.json            schema version + item id -> shard
    inbox/items-2026-W47.json   light records of the items published that ISO week
    inbox/bodies-2026-W47.json  their sanitized HTML bodies (read only by `show` / export)
    inbox/search-2026-W47.json  their folded text (title, text, author) for --search, as one
                                string of "id text" lines
    state.json                  per-source sync state (ETag, cursor, health)
    commit.json                 only while a commit renames its files (see files.py)
    journal.json                reflections — never written by inbox operations

Why shards: TinyDB keeps a whole file in memory and rewrites it on every write; one file of
100,000 items costs >1 s and >600 MB to load (issue 2). A week of items is a few MB, so
`pln inbox --limit 50` reads only the newest shards, and a sync rewrites only the weeks it
touched. The files a command changed are written together, once per command (or per
batch of a sync): CachingMiddleware keeps changes in memory, ``flush`` commits them all or
none (``files.Commit``), so a crash leaves the old store or the new one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from tinydb import TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import MemoryStorage
from tinydb.table import Document, Table

from companion import ids as idmod
from companion.errors import NotFoundError, StorageError
from companion.html import summary as words_summary
from companion.locking import WriteLock, lock_for
from companion.search import search_text
from companion.storage_io import clean_stale_temps
from companion.store import files
from companion.store.files import Commit, OrjsonStorage, Stage

SCHEMA_VERSION = 2  # bump with an entry in MIGRATIONS when the layout changes

# Migrations from version N to N+1, applied in order when an older index is opened.
# Each takes the store (with raw access to every shard) and must be idempotent.
MIGRATIONS: dict[int, Callable[[TinyDBStore], None]] = {
    # 1 -> 2: commits (files.Commit). A pln before them, killed while it wrote, could leave
    # the index behind its weeks: items listed but not found by id (issue 12). Rebuilt once.
    1: lambda store: store.rebuild_index() and None,
}


class _Cache(CachingMiddleware):
    # Flush once per command (on close), never in the middle of one.
    WRITE_CACHE_SIZE = 1 << 60


class StrIdTable(Table):
    """A TinyDB table whose document ids are pln's short string ids."""

    document_id_class = str  # type: ignore[assignment]

    def _get_next_id(self) -> Any:  # pragma: no cover - ids are always given
        raise StorageError("internal error: documents need an explicit id")

    def _update_table(self, updater: Callable[[dict[Any, Any]], None]) -> None:
        # TinyDB converts every key to document_id_class and back on each update (two
        # 100k-entry dict copies for the index); our ids are already strings, so the table
        # is updated in place and handed back to the (caching) storage once.
        tables = self._storage.read() or {}
        table = tables.setdefault(self.name, {})
        updater(table)
        self._storage.write(tables)
        self.clear_cache()


class _DB(TinyDB):
    table_class = StrIdTable


def _open_db(path: Path | None, stage: Stage | None = None) -> _DB:
    if path is None:
        return _DB(storage=MemoryStorage)
    return _DB(path, stage, storage=_Cache(OrjsonStorage))


def _file(db: _DB) -> OrjsonStorage | None:
    """The file behind a (caching) database, None in memory."""
    storage = db.storage
    return storage.storage if isinstance(storage, _Cache) else None  # type: ignore[no-any-return]


def _is_dirty(db: _DB) -> bool:
    storage = db.storage
    return isinstance(storage, _Cache) and storage._cache_modified_count > 0


def _flush(db: _DB) -> None:
    storage = db.storage
    if isinstance(storage, _Cache):
        storage.flush()


# Fields kept with the body rather than in the weekly items file: listing, filtering and
# search never need them, and they are most of a record's size (issue 2: light metadata
# apart from heavy bodies). `get()` returns them merged back; `iter_items()` does not.
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


# link key -> _link_hash: a sync hashes each new link twice (to index it, to join its story),
# and prepared puts bring theirs from the parse workers
_LINK_HASHES: dict[str, str] = {}


def _link_hash(key: str, known: str | None = None) -> str:
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
    shard: str  # shard_key(published)
    link_key: str | None
    link_hash: str | None
    light: dict[str, Any]  # the record in the week's items file
    body: dict[str, Any]  # its html and HEAVY_FIELDS, in the week's bodies file
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
        link_hash=_link_hash(lk) if lk else None,
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
    """The first instant (Monday 00:00 UTC) of a shard's week."""
    year, week = key.split("-W")
    return datetime.fromisocalendar(int(year), int(week), 1).replace(tzinfo=UTC)


class BucketMap:
    """A large ``str -> str`` map kept in a TinyDB table as 1,024 documents, one per
    two-character key prefix, each holding ``{"v": "key=value key=value …"}``.

    Why: the index maps 100k+ item ids to weeks and link hashes to item ids. As 100k JSON
    documents it takes ~0.1 s to load on every command; as 1,024 strings it loads in a few
    ms, and a lookup (or an id prefix of 2+ characters) splits only one bucket.
    Keys and values never contain spaces or "=" (ids and weeks are base32 / ISO weeks).
    """

    def __init__(self, table: StrIdTable) -> None:
        self.table = table
        self._parsed: dict[str, dict[str, str]] = {}
        self._dirty: set[str] = set()

    def _bucket(self, b: str) -> dict[str, str]:
        parsed = self._parsed.get(b)
        if parsed is None:
            raw = self.table._read_table().get(b)
            text = raw.get("v", "") if raw else ""
            parsed = self._parsed[b] = dict(p.split("=", 1) for p in text.split()) if text else {}
        return parsed

    def get(self, key: str) -> str | None:
        return self._bucket(key[:2]).get(key)

    def set(self, key: str, value: str) -> None:
        self._bucket(key[:2])[key] = value
        self._dirty.add(key[:2])

    def pop(self, key: str) -> None:
        if self._bucket(key[:2]).pop(key, None) is not None:
            self._dirty.add(key[:2])

    def keys(self, prefix: str = "") -> list[str]:
        """Keys starting with ``prefix`` (reads one bucket when the prefix has 2+ chars)."""
        buckets = [prefix[:2]] if len(prefix) >= 2 else self._buckets()
        return [k for b in buckets for k in self._bucket(b) if k.startswith(prefix)]

    def _buckets(self) -> list[str]:
        stored = self.table._read_table()
        return [*stored, *(b for b in self._parsed if b not in stored)]

    def __len__(self) -> int:
        stored = self.table._read_table()
        return sum(len(self._parsed[b]) if b in self._parsed else stored[b].get("v", "").count("=")
                   for b in self._buckets())

    def items(self) -> Iterator[tuple[str, str]]:
        for b in self._buckets():
            yield from list(self._bucket(b).items())

    def replace_all(self, mapping: dict[str, str]) -> None:
        self._parsed = {}
        for k, v in mapping.items():
            self._parsed.setdefault(k[:2], {})[k] = v
        self._dirty = set(self._parsed)
        self.table.truncate()
        self.commit()

    def commit(self) -> None:
        """Write changed buckets back into the table (before the file is flushed)."""
        if not self._dirty:
            return
        dirty = {b: {"v": " ".join(f"{k}={v}" for k, v in self._parsed[b].items())}
                 for b in self._dirty}

        def update(t: dict[Any, Any]) -> None:
            for b, doc in dirty.items():
                if doc["v"]:
                    t[b] = doc
                else:
                    t.pop(b, None)

        self.table._update_table(update)
        self._dirty.clear()


def _blob_lines(db: _DB) -> dict[str, str]:
    """A week's search text as {id: folded text} (parsed from its one-string form)."""
    doc = db.table("q")._read_table().get("all")
    if not doc or not doc.get("v"):
        return {}
    return dict(line.split(" ", 1) for line in doc["v"].split("\n") if line)


def _blob_write(db: _DB, lines: dict[str, str]) -> None:
    """Store a week's search text back as one string of "id text" lines."""
    blob = "".join(f"{i} {q}\n" for i, q in lines.items())
    db.table("q")._update_table(lambda t: t.__setitem__("all", {"v": blob}))


def _blob_search(blob: str, words: list[str]) -> set[str]:
    """Ids of the lines ("id folded-text") of ``blob`` that contain every word.

    The week's text is one string, so JSON parsing is trivial and the first word is found
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


class TinyDBStore:
    """The inbox (sharded items + bodies), per-source state, behind one class.

    ``data_dir=None`` keeps everything in memory (for tests of pure logic).
    """

    def __init__(self, data_dir: Path | None) -> None:
        self.data_dir = data_dir
        self.inbox_dir = data_dir / "inbox" if data_dir else None
        self._shards: dict[str, _DB] = {}
        self._bodies: dict[str, _DB] = {}
        self._search: dict[str, _DB] = {}
        # weeks whose search text is being changed: parsed once, written back at flush
        # (a sync of 200 feeds into one week must not re-split it 200 times)
        self._search_edits: dict[str, dict[str, str]] = {}
        self._memory_keys: set[str] = set()
        self._index_db: _DB | None = None
        self._id_buckets: BucketMap | None = None
        self._link_buckets: BucketMap | None = None
        self._state_db: _DB | None = None
        self._lock: WriteLock | None = None
        self._removed_from: set[str] = set()
        self._stage = Stage()  # the commit that files write into while flushing
        self._checked = False  # for an interrupted commit (see _finish_interrupted)

    # ----- lifecycle -------------------------------------------------------------------

    def lock(self, command: str) -> None:
        """Take the write lock until ``unlock``/``close`` (a no-op if this store has it).

        Under the lock the store is brought up to date first: an interrupted commit (a
        crash) is finished, cached files that another pln changed since this one read them
        are forgotten (a sync writes in batches, others write in between: issue 13), and
        temp files left by killed processes are removed (issue 12).
        """
        if self.data_dir is None or self._lock is not None:
            return
        lock = lock_for(self.data_dir / "pln.lock")
        lock.acquire(command)
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

    def flush(self) -> None:
        """Write every changed file in one commit (see files.Commit): all of them or, after
        a crash, none. Renames go bodies, search, items, index, state, so a reader that does
        not lock still finds every indexed item's record and body."""
        for buckets in (self._id_buckets, self._link_buckets):
            if buckets is not None:
                buckets.commit()
        if not self._search_edits and not any(_is_dirty(db) for db in self._dbs()):
            return
        if self.data_dir is not None and self._lock is None:
            raise StorageError("internal error: writing without the lock")
        for key, lines in self._search_edits.items():
            _blob_write(self._search_db(key), lines)
        self._search_edits.clear()
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

    def close(self) -> None:
        """Flush and release the lock."""
        self.unlock()

    def discard(self) -> None:
        """Forget every cached file and every change not yet written."""
        if self.data_dir is None:
            return
        self._shards.clear()
        self._bodies.clear()
        self._search.clear()
        self._search_edits.clear()
        self._memory_keys.clear()
        self._index_db = self._state_db = None
        self._id_buckets = self._link_buckets = None
        self._removed_from.clear()

    def _drop_stale(self) -> None:
        """Forget cached files that changed on disk since this process read or wrote them."""
        for cache in (self._shards, self._bodies, self._search):
            for key, db in list(cache.items()):
                f = _file(db)
                if f is not None and not _is_dirty(db) and key not in self._search_edits and f.stale():
                    del cache[key]
        index = self._index_db
        buckets_dirty = any(b is not None and b._dirty for b in (self._id_buckets, self._link_buckets))
        if (index is not None and not _is_dirty(index) and not buckets_dirty
                and (f := _file(index)) and f.stale()):
            self._index_db = self._id_buckets = self._link_buckets = None
        state = self._state_db
        if state is not None and not _is_dirty(state) and (f := _file(state)) and f.stale():
            self._state_db = None

    def _dbs(self) -> Iterator[_DB]:
        """Every cached file, in the order a commit renames them (see ``flush``)."""
        yield from (self._bodies[k] for k in sorted(self._bodies))
        yield from (self._search[k] for k in sorted(self._search))
        # weeks that only gained items before those that lost some
        yield from (self._shards[k] for k in sorted(self._shards, key=lambda k: (k in self._removed_from, k)))
        if self._index_db is not None:
            yield self._index_db
        if self._state_db is not None:
            yield self._state_db

    # ----- files -------------------------------------------------------------------------

    def _index(self) -> _DB:
        if self._index_db is None:
            path = self.inbox_dir / "index.json" if self.inbox_dir else None
            self._finish_interrupted()
            db = self._index_db = _open_db(path, self._stage)
            if self._open_index(db) and path is not None and self._lock is None:
                self._keep_index_repair()
        return self._index_db

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

    def _open_index(self, db: _DB) -> bool:
        """Check the schema, migrate an older store, rebuild a lost index; True if the index
        was changed (in memory)."""
        meta = db.table("_meta")
        doc = meta.get(doc_id="schema")
        if doc is None:
            lost = self.inbox_dir is not None and any(self.inbox_dir.glob("items-*.json"))
            if lost:
                self.rebuild_index()
            meta.upsert(Document({"version": SCHEMA_VERSION}, doc_id="schema"))
            return lost
        version = int(doc.get("version", 0))
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"the inbox at {self.inbox_dir} was written by a newer pln "
                f"(schema {version}, this pln knows {SCHEMA_VERSION}): upgrade pln"
            )
        if version == SCHEMA_VERSION:
            return False
        while version < SCHEMA_VERSION:
            MIGRATIONS[version](self)
            version += 1
            meta.upsert(Document({"version": version}, doc_id="schema"))
        return True

    def _keep_index_repair(self) -> None:
        """A command that only reads rebuilt or migrated the index: write it back if no one
        else is writing (else the writer does the same, under its lock)."""
        assert self.data_dir is not None and self._index_db is not None
        lock = lock_for(self.data_dir / "pln.lock")
        try:
            lock.acquire("pln (repairing the inbox index)", timeout=0)
        except StorageError:  # busy, or a read-only home: keep the repair in memory
            return
        try:
            f = _file(self._index_db)
            if files.pending(self.data_dir) or (f is not None and f.stale()):
                return  # someone wrote meanwhile: theirs stands
            for buckets in (self._id_buckets, self._link_buckets):
                if buckets is not None:
                    buckets.commit()
            _flush(self._index_db)
        finally:
            lock.release()

    def _ids(self) -> StrIdTable:
        return self._index().table("ids")  # type: ignore[return-value]

    def _links(self) -> StrIdTable:
        """hash of a link key -> the ids of every item about that link (shared_by, --links)."""
        return self._index().table("links")  # type: ignore[return-value]

    def _id_map(self) -> BucketMap:
        """item id -> ISO week of its shard."""
        if self._id_buckets is None:
            self._id_buckets = BucketMap(self._ids())
        return self._id_buckets

    def _link_map(self) -> BucketMap:
        """link hash -> "id,id,…" of the items about that link."""
        if self._link_buckets is None:
            self._link_buckets = BucketMap(self._links())
        return self._link_buckets

    def link_ids(self, key: str) -> list[str]:
        """Ids of the items whose story link has this key."""
        v = self._link_map().get(_link_hash(key))
        return v.split(",") if v else []

    def _week_db(self, cache: dict[str, _DB], kind: str, key: str) -> _DB:
        """The cached TinyDB of one week's ``kind`` file (items, bodies, search)."""
        db = cache.get(key)
        if db is None:
            path = self.inbox_dir / f"{kind}-{key}.json" if self.inbox_dir else None
            db = cache[key] = _open_db(path, self._stage)
        return db

    def _shard(self, key: str) -> _DB:
        return self._week_db(self._shards, "items", key)

    def _body_db(self, key: str) -> _DB:
        return self._week_db(self._bodies, "bodies", key)

    def _search_lines(self, key: str) -> dict[str, str]:
        """A week's search text as {id: text}, for editing (written back by flush)."""
        lines = self._search_edits.get(key)
        if lines is None:
            lines = self._search_edits[key] = _blob_lines(self._search_db(key))
        return lines

    def _search_db(self, key: str) -> _DB:
        return self._week_db(self._search, "search", key)

    def shard_keys(self) -> list[str]:
        """Every week that has items, newest first."""
        self._finish_interrupted()
        keys = set(self._memory_keys)
        if self.inbox_dir is not None and self.inbox_dir.exists():
            keys.update(p.name[6:-5] for p in self.inbox_dir.glob("items-*.json"))
        keys.update(k for k, db in self._shards.items() if len(db.table("items")))
        return sorted(keys, reverse=True)

    def rebuild_index(self) -> int:
        """Recreate the id index from the shards (after a crash or a hand edit)."""
        ids: dict[str, str] = {}
        links: dict[str, list[str]] = {}
        for key in self.shard_keys():
            db = self._shard(key)
            for item_id, rec in db.table("items")._read_table().items():
                ids[item_id] = key
                if rec.get("link_key"):
                    links.setdefault(_link_hash(rec["link_key"]), []).append(item_id)
            if self.inbox_dir is not None and not _is_dirty(db):
                del self._shards[key]  # one week in memory at a time
        self._id_map().replace_all(ids)
        self._link_map().replace_all({k: ",".join(v) for k, v in links.items()})
        return len(ids)

    # ----- items -------------------------------------------------------------------------

    def count(self) -> int:
        """How many items the inbox holds."""
        return len(self._id_map())

    def item_ids(self) -> list[str]:
        """Every item id (from the index)."""
        return [k for k, _ in self._id_map().items()]

    def resolve(self, prefix: str) -> str:
        """The full id of the item whose id starts with ``prefix`` (>= 4 characters)."""
        p = prefix.strip().lower()
        return idmod.resolve_prefix(prefix, self._id_map().keys(p) if len(p) >= 2 else [], "item")

    def locate(self, item_id: str) -> str | None:
        """The shard holding ``item_id``, or None."""
        return self._id_map().get(item_id)

    def get(self, item_id: str, *, text: bool = True) -> dict[str, Any] | None:
        """One item's full record (light part + heavy fields), a copy; None if unknown.

        A feed entry's text is rendered from its (sanitized) HTML here, when it is read (it
        is not stored); ``text=False`` skips that for callers that do not show it.
        """
        key = self.locate(item_id)
        if key is None:
            return None
        doc = self._shard(key).table("items")._read_table().get(item_id)
        if doc is None:
            return None
        body = self._body_db(key).table("bodies")._read_table().get(item_id) or {}
        rec = {**doc, **{k: v for k, v in body.items() if k in HEAVY_FIELDS}}
        if text and not rec.get("text") and body.get("html"):
            from companion.html import html_to_text, sanitize

            rec["text"] = html_to_text(sanitize(body["html"]))
        return rec

    def release_clean(self) -> None:
        """Forget cached weeks that have no unsaved changes (keeps memory flat in loops
        over the whole inbox; they are read again if needed)."""
        if self.inbox_dir is None:
            return
        for cache in (self._shards, self._bodies, self._search):
            for key in [k for k, db in cache.items()
                        if not _is_dirty(db) and k not in self._search_edits]:
                del cache[key]

    def get_light(self, item_id: str) -> dict[str, Any] | None:
        """One item's light record (no HEAVY_FIELDS), read-only; None if unknown."""
        key = self.locate(item_id)
        if key is None:
            return None
        return self._shard(key).table("items")._read_table().get(item_id)  # type: ignore[no-any-return]

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
        key = self.locate(item_id)
        if key is None:
            return {}
        doc = self._body_db(key).table("bodies")._read_table().get(item_id)
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
                key = self.locate(rec["id"])
                old = self._body_db(key).table("bodies")._read_table().get(rec["id"]) if key else None
                body = {"html": (old or {}).get("html", "")}
            puts.append(prepare_put(rec, body))
        return self.put_prepared(puts)

    def put_prepared(self, puts: Iterable[PreparedPut]) -> int:
        """Insert or replace items already split by ``prepare_put`` (for new items that is
        done where the feed was parsed, so a sync's storing thread only files them)."""
        puts = list(puts)
        index = self._id_map()
        moves = {p.id: old for p in puts if (old := index.get(p.id)) != p.shard}
        # Every file this touches is read before anything changes: a damaged week raises
        # here and leaves the index and the other weeks as they were (issue 12).
        self._read_weeks({p.shard for p in puts} | {k for k in moves.values() if k is not None})
        links = self._link_map()
        by_shard: dict[str, list[PreparedPut]] = {}
        moved: dict[str, list[str]] = {}
        n = 0
        for p in puts:
            if p.link_key and p.link_hash:
                _link_hash(p.link_key, p.link_hash)  # remembered for the story join
                ids = links.get(p.link_hash)
                if ids is None:
                    links.set(p.link_hash, p.id)
                elif p.id not in ids.split(","):
                    links.set(p.link_hash, f"{ids},{p.id}")
            if p.id in moves:
                old_key = moves[p.id]
                if old_key is not None:
                    moved.setdefault(old_key, []).append(p.id)
                index.set(p.id, p.shard)
            by_shard.setdefault(p.shard, []).append(p)
            n += 1
        for old_key, item_ids in moved.items():
            self._remove_from_shard(old_key, item_ids)
        for key, part in by_shard.items():
            self._memory_keys.add(key)
            items = {p.id: p.light for p in part}
            bodies = {p.id: p.body for p in part}
            self._shard(key).table("items")._update_table(lambda t, items=items: t.update(items))
            self._search_lines(key).update({p.id: p.search for p in part})
            self._body_db(key).table("bodies")._update_table(lambda t, b=bodies: t.update(b))
        return n

    def _read_weeks(self, keys: Iterable[str]) -> None:
        """Load the items, bodies and search text of these weeks (StorageError if damaged)."""
        for key in keys:
            self._shard(key).table("items")._read_table()
            self._body_db(key).table("bodies")._read_table()
            self._search_lines(key)

    def _remove_from_shard(self, key: str, item_ids: list[str]) -> None:
        gone = set(item_ids)

        def drop(table: dict[Any, Any]) -> None:
            for i in gone:
                table.pop(i, None)

        self._shard(key).table("items")._update_table(drop)
        self._body_db(key).table("bodies")._update_table(drop)
        drop(self._search_lines(key))
        self._removed_from.add(key)

    def update_many(self, changes: dict[str, dict[str, Any]]) -> int:
        """Set fields on existing items, e.g. ``{id: {"read": True}}``; returns how many changed."""
        by_shard: dict[str, dict[str, dict[str, Any]]] = {}
        for item_id, fields in changes.items():
            key = self.locate(item_id)
            if key is not None:
                by_shard.setdefault(key, {})[item_id] = fields
        n = 0
        for key, part in by_shard.items():
            current = self._shard(key).table("items")._read_table()
            todo = {
                i: f
                for i, f in part.items()
                if i in current and any(current[i].get(k) != v for k, v in f.items())
            }
            if not todo:
                continue

            def apply(table: dict[Any, Any], todo: dict[str, dict[str, Any]] = todo) -> None:
                for i, f in todo.items():
                    table[i] = {**table[i], **f}

            db = self._shard(key)
            alone = not _is_dirty(db) and not self._other_changes()
            db.table("items")._update_table(apply)
            n += len(todo)
            if self.inbox_dir is not None and self._lock is not None and len(by_shard) > 1 and alone:
                # many weeks (read --all): write each as soon as it is done and let it go,
                # so memory stays at one week instead of the whole inbox. Only flags change
                # (nothing else is pending), so each week is a commit of its own.
                _flush(db)
                del self._shards[key]
        return n

    def _other_changes(self) -> bool:
        """Whether changes beyond flags of items are waiting for the next commit."""
        return bool(self._search_edits) or any(
            _is_dirty(db) for db in (*self._bodies.values(), *self._search.values(),
                                     *(d for d in (self._index_db, self._state_db) if d))
        ) or any(b is not None and bool(b._dirty) for b in (self._id_buckets, self._link_buckets))

    def delete_many(self, item_ids: Iterable[str]) -> int:
        """Remove items (and their bodies) from the inbox."""
        by_shard: dict[str, list[str]] = {}
        link_hashes: set[str] = set()
        for item_id in item_ids:
            key = self.locate(item_id)
            if key is not None:
                by_shard.setdefault(key, []).append(item_id)
                rec = self._shard(key).table("items")._read_table().get(item_id)
                if rec and rec.get("link_key"):
                    link_hashes.add(_link_hash(rec["link_key"]))
        self._read_weeks(by_shard)  # (all read before anything changes)
        for key, part in by_shard.items():
            self._remove_from_shard(key, part)
        gone = {i for part in by_shard.values() for i in part}
        if gone:

            index = self._id_map()
            for i in gone:
                index.pop(i)
            links = self._link_map()
            for k in link_hashes:
                ids = (links.get(k) or "").split(",")
                if gone.intersection(ids):
                    left = [i for i in ids if i not in gone]
                    if left:
                        links.set(k, ",".join(left))
                    else:
                        links.pop(k)
        return len(gone)

    def iter_items(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        where: Callable[[dict[str, Any]], bool] | None = None,
        keys: list[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Light records (no HEAVY_FIELDS: see ``get``), newest first, one week at a time, so
        a limited listing reads few files. They are the stored dicts: treat them as read-only.
        """
        since_iso = iso_z(since) if since else None
        until_iso = iso_z(until) if until else None
        for key in keys if keys is not None else self.shard_keys():
            if since is not None and week_start(key).timestamp() + 7 * 86400 <= since.timestamp():
                break
            table = self._shard(key).table("items")._read_table()
            rows = [
                r
                for r in table.values()
                if (since_iso is None or r["published"] >= since_iso)
                and (until_iso is None or r["published"] < until_iso)
                and (where is None or where(r))
            ]
            rows.sort(key=lambda r: r["published"], reverse=True)
            yield from rows
            if self.inbox_dir is not None and not _is_dirty(self._shards[key]):
                # keep memory flat while scanning 100k items: drop shards we only read
                self._shards.pop(key, None)

    def search_items(
        self,
        words: list[str],
        *,
        since: datetime | None = None,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Items whose folded text contains every word, newest first.

        Reads each week's small search file first and opens the week's items only when
        something matched.
        """
        for key in self.shard_keys():
            if since is not None and week_start(key).timestamp() + 7 * 86400 <= since.timestamp():
                break
            if key in self._search_edits:  # changed in this command, not yet written
                hits = {i for i, q in self._search_edits[key].items() if all(w in q for w in words)}
            else:
                doc = self._search_db(key).table("q")._read_table().get("all")
                hits = _blob_search(doc["v"], words) if doc and words else set()
                if self.inbox_dir is not None and not _is_dirty(self._search[key]):
                    self._search.pop(key, None)
            if hits:
                yield from self.iter_items(
                    since=since,
                    where=lambda r: r["id"] in hits and (where is None or where(r)),
                    keys=[key],
                )

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


class TinyDBJournal:
    """Reflections, in a file of their own that no inbox operation opens."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._db: _DB | None = None
        self._lock: WriteLock | None = None

    def _table(self) -> StrIdTable:
        if self._db is None:
            self._db = _open_db(self.path)
        return self._db.table("reflections")  # type: ignore[return-value]

    def lock(self, command: str) -> None:
        """Take the journal's lock; what is written next starts from a fresh read of the file
        (another `pln post` may have added a reflection since this one read it: issue 12)."""
        if self.path is None or self._lock is not None:
            return
        lock = lock_for(self.path.with_name("journal.lock"))
        lock.acquire(command)
        self._lock = lock
        if self._db is not None and not _is_dirty(self._db) and (f := _file(self._db)) and f.stale():
            self._db = None

    def put(self, reflection: dict[str, Any]) -> None:
        """Insert or replace one reflection and write the file at once (journal first)."""
        if self.path is not None and self._lock is None:
            raise StorageError("internal error: writing the journal without the lock")
        rid = reflection["id"]
        self._table()._update_table(lambda t: t.__setitem__(rid, dict(reflection)))
        if self._db is not None:
            _flush(self._db)

    def get(self, reflection_id: str) -> dict[str, Any] | None:
        doc = self._table()._read_table().get(reflection_id)
        return dict(doc) if doc else None

    def all(self) -> list[dict[str, Any]]:
        """Every reflection, oldest first."""
        rows = [dict(r) for r in self._table()._read_table().values()]
        rows.sort(key=lambda r: r.get("created", ""))
        return rows

    def resolve(self, prefix: str) -> str:
        return idmod.resolve_prefix(prefix, self._table()._read_table().keys(), "reflection")

    def close(self) -> None:
        if self._db is not None:
            _flush(self._db)
        if self._lock is not None:
            self._lock.release()
            self._lock = None
