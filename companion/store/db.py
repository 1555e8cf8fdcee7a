"""TinyDB as the store uses it: one file per table set, cached for a command and written
into the store's commit (files.Commit); documents keyed by pln's string ids.

Only the modules of this package import tinydb (STYLE.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import MemoryStorage
from tinydb.table import Table

from companion.errors import StorageError
from companion.store.files import OrjsonStorage, Stage


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
        # entry-by-entry dict copies); our ids are already strings, so the table is updated
        # in place and handed back to the (caching) storage once.
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
    return storage.storage if isinstance(storage, _Cache) else None  # type: ignore[return-value]


def _is_dirty(db: _DB) -> bool:
    storage = db.storage
    return isinstance(storage, _Cache) and storage._cache_modified_count > 0


def _flush(db: _DB) -> None:
    storage = db.storage
    if isinstance(storage, _Cache):
        storage.flush()


def _put_docs(db: _DB, name: str, docs: dict[str, Any]) -> None:
    """Insert or replace documents of a table (in the cache: written at the next flush)."""

    def update(table: dict[Any, Any]) -> None:
        table.update(docs)

    db.table(name)._update_table(update)


def _drop_docs(db: _DB, name: str, ids: Iterable[str]) -> None:
    """Remove documents from a table (in the cache: written at the next flush)."""

    def drop(table: dict[Any, Any]) -> None:
        for i in ids:
            table.pop(i, None)

    db.table(name)._update_table(drop)


def _table(db: _DB, name: str) -> dict[str, Any]:
    """A table of a file as the stored dict (read-only for callers)."""
    return db.table(name)._read_table()  # type: ignore[no-any-return]
