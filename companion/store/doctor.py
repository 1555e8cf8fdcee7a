"""Checking the inbox files, and rebuilding what can be rebuilt (`pln doctor --repair`).

What each file is worth decides what a repair does (issue 12):

- ``keys-SEG.json`` and ``search-SEG.json`` are derived from a segment's items (and bodies):
  rebuilt from them. ``index.json`` holds only the schema version: written again.
- ``items-SEG.json`` and ``bodies-SEG.json`` hold what was fetched, and flags: a damaged
  one is moved to the backup folder (bodies: replaced by an empty one), and every source's
  sync state is reset so that the next sync fetches again what the sources still carry.
- ``state.json`` (ETags, cursors, health) is moved aside: the next sync starts afresh, and
  items already in the inbox are recognised, not doubled.

Run with the write lock held. Nothing here is deleted: what is replaced goes to ``backup``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from companion.errors import StorageError
from companion.search import search_text
from companion.storage_io import write_file
from companion.store import files
from companion.store.records import HEAVY_FIELDS, link_hash
from companion.store.segments import is_seg, key_entry, keys_docs, keys_of
from companion.store.tinydb_store import TinyDBStore
from companion.words import plural

Backup = Callable[[Path], Path]  # moves a file into the backup folder; returns where to

_KINDS = ("items", "bodies", "search", "keys")


@dataclass
class Finding:
    """One thing doctor found (and, with --repair, what it did about it)."""

    path: Path
    problem: str
    repaired: str = ""  # what was done; empty: not repaired

    def as_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "problem": self.problem,
                "repaired": self.repaired or None}


def check_inbox(store: TinyDBStore, *, repair: bool, backup: Backup) -> tuple[list[Finding], int]:
    """Check state.json and every file of the inbox; (findings, files checked)."""
    assert store.data_dir is not None and store.inbox_dir is not None
    findings: list[Finding] = []
    checked = 0
    refetch = False

    state_path = store.data_dir / "state.json"
    if state_path.exists():
        checked += 1
        try:
            files.read_json(state_path)
        except StorageError as e:
            f = Finding(state_path, _why(e))
            if repair:
                where = backup(state_path)
                f.repaired = (f"moved to {where}: the next sync fetches every source afresh "
                              "(items already in the inbox are recognised, not doubled)")
            findings.append(f)

    inbox = store.inbox_dir
    # index.json first: the store reads its schema version before any segment
    index_path = inbox / "index.json"
    if index_path.exists():
        checked += 1
        try:
            files.read_json(index_path)
        except StorageError as e:
            f = Finding(index_path, _why(e))
            if repair:
                backup(index_path)
                store.discard()
                store._write_meta()
                store.flush()
                f.repaired = "written again (it holds the schema version)"
            findings.append(f)
    segs = sorted({p.name.split("-", 1)[1][:-5] for p in inbox.glob("*-*.json")
                   if p.name.startswith(tuple(f"{k}-" for k in _KINDS))
                   and is_seg(p.name.split("-", 1)[1][:-5])})
    rebuild_search: set[str] = set()
    rebuild_keys: set[str] = set()
    for seg in segs:
        items_path, bodies_path, search_path, keys_path = (inbox / f"{k}-{seg}.json"
                                                           for k in _KINDS)
        checked += sum(p.exists() for p in (items_path, bodies_path, search_path, keys_path))
        items, bad = _table(items_path, "items")
        if bad:
            f = Finding(items_path, bad)
            if repair:
                where = backup(items_path)
                for other in (bodies_path, search_path, keys_path):
                    if other.exists():
                        backup(other)
                f.repaired = (f"moved to {where} with the segment's bodies, search text and "
                              "keys; the next sync fetches again what its sources still carry")
                refetch = True
            findings.append(f)
            continue
        bodies, bad = _table(bodies_path, "bodies")
        if bad:
            f = Finding(bodies_path, bad)
            if repair:
                where = backup(bodies_path)
                write_file(bodies_path, orjson.dumps({"bodies": {}}))
                f.repaired = (f"moved to {where} and started empty; the next sync fetches the "
                              "texts again where its sources still carry them")
                refetch = True
                bodies = {}
            findings.append(f)
        elif items is not None:
            missing = [i for i in items if i not in (bodies or {})]
            if missing:
                f = Finding(bodies_path, f"{plural(len(missing), 'item')} of the segment {'has' if len(missing) == 1 else 'have'} no body")
                if repair:
                    f.repaired = "the next sync fetches their texts again"
                    refetch = True
                findings.append(f)
        expected = set(items or {})
        for path, name, rebuild in ((search_path, "q", rebuild_search),
                                    (keys_path, "k", rebuild_keys)):
            table, bad = _table(path, name)
            if not bad and table is not None:
                if (set(_blob_lines_of((table.get("all") or {}).get("v", ""))) != expected
                        if name == "q" else table != _expected_keys(items or {})):
                    bad = "does not match the segment's items"
            elif not bad and expected:
                bad = "is missing"
            if bad:
                f = Finding(path, bad)
                if repair:
                    if path.exists() and "missing" not in bad:
                        backup(path)
                    rebuild.add(seg)
                    f.repaired = "rebuilt from the segment's items"
                findings.append(f)
    if segs and not index_path.exists():
        f = Finding(index_path, "is missing")
        if repair:
            f.repaired = "written again (it holds the schema version)"
        findings.append(f)

    store.discard()  # (files were moved: read everything again)
    if repair:
        for seg in rebuild_keys:
            store._key_edits[seg] = store._derive_keys(seg)
        if segs and not index_path.exists():
            store._write_meta()
    for seg in rebuild_search:
        _rebuild_search(store, seg)

    if refetch and repair:
        states = store.all_states() if state_path.exists() else {}
        for sid, state in states.items():
            store.put_state(sid, {k: v for k, v in state.items() if k != "source"})
        findings.append(Finding(state_path, "items or texts were lost with a damaged file",
                                f"the sync state of {plural(len(states), 'source')} was reset: the "
                                "next sync fetches again what they still carry"))
    if repair:
        store.flush()
    return findings, checked


def _expected_keys(items: dict[str, Any]) -> dict[str, Any]:
    """A segment's keys (as stored) as its items give them."""
    return keys_docs(keys_of({
        i: key_entry(r, link_hash(r["link_key"]) if r.get("link_key") else None)
        for i, r in items.items()}))


def _why(e: StorageError) -> str:
    """The problem part of a store error (without the file name and the advice)."""
    text = e.message
    for marker in (" is empty", " is corrupt", " cannot be read"):
        if marker in text:
            return text[text.index(marker) + 1:].split(" — ")[0].split(": it holds")[0]
    return text


def _table(path: Path, name: str) -> tuple[dict[str, Any] | None, str]:
    """One table of a store file (None when the file is missing) and what is wrong with it."""
    try:
        data, _ = files.read_json(path)
    except StorageError as e:
        return None, _why(e)
    if data is None:
        return None, ""
    table = data.get(name, {})
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        return None, f"is corrupt (no {name!r} table of records)"
    return table, ""


def _blob_lines_of(blob: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in blob.split("\n") if " " in line)


def _rebuild_search(store: TinyDBStore, seg: str) -> None:
    """A segment's search text again from its items and bodies."""
    items = store._items_of(seg)
    bodies = store._body_db(seg).table("bodies")._read_table()
    lines = {}
    for item_id, light in items.items():
        body = bodies.get(item_id) or {}
        rec = {**light, **{k: v for k, v in body.items() if k in HEAVY_FIELDS}}
        lines[item_id] = search_text(rec, body.get("html", "")).replace("\n", " ")
    store._search_edits[seg] = lines  # written back by the next flush
