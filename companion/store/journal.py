"""The journal: reflections, in a file of their own that no inbox operation opens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from companion import ids as idmod
from companion.errors import StorageError
from companion.locking import WriteLock, lock_for
from companion.store.db import _DB, StrIdTable, _file, _flush, _is_dirty, _open_db


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
