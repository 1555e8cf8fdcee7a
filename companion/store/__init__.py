"""Storage: the inbox, per-source state and the journal (TinyDB underneath)."""

from companion.locking import WriteLock
from companion.store.records import prepare_put
from companion.store.tinydb_store import SCHEMA_VERSION, TinyDBJournal, TinyDBStore

__all__ = ["SCHEMA_VERSION", "TinyDBJournal", "TinyDBStore", "WriteLock", "prepare_put"]
