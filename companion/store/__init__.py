"""Storage: the inbox, per-source state and the journal (TinyDB underneath)."""

from companion.locking import WriteLock
from companion.store.tinydb_store import (
    SCHEMA_VERSION,
    TinyDBJournal,
    TinyDBStore,
    prepare_put,
)

__all__ = ["SCHEMA_VERSION", "TinyDBJournal", "TinyDBStore", "WriteLock", "prepare_put"]
