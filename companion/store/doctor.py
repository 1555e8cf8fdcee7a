"""Checking the inbox files, and rebuilding what can be rebuilt (`pln doctor --repair`).

What each file is worth decides what a repair does (issue 12):

- ``index.json`` and ``search-WEEK.json`` are derived from the weeks' items (and bodies):
  rebuilt from them.
- ``items-WEEK.json`` and ``bodies-WEEK.json`` hold what was fetched, and flags: a damaged
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
from companion.store.tinydb_store import (
    HEAVY_FIELDS,
    TinyDBStore,
    _link_hash,
)
from companion.words import plural

Backup = Callable[[Path], Path]  # moves a file into the backup folder; returns where to


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
    weeks = sorted({p.name.split("-", 1)[1][:-5] for p in inbox.glob("*-*.json")
                    if p.name.startswith(("items-", "bodies-", "search-"))})
    rebuild_search: set[str] = set()
    damaged_weeks: set[str] = set()
    for week in weeks:
        items_path, bodies_path, search_path = (inbox / f"{k}-{week}.json"
                                                for k in ("items", "bodies", "search"))
        checked += sum(p.exists() for p in (items_path, bodies_path, search_path))
        items, bad = _table(items_path, "items")
        if bad:
            damaged_weeks.add(week)
            f = Finding(items_path, bad)
            if repair:
                where = backup(items_path)
                for other in (bodies_path, search_path):
                    if other.exists():
                        backup(other)
                f.repaired = (f"moved to {where} with the week's bodies and search text; the "
                              "next sync fetches again what its sources still carry")
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
                f = Finding(bodies_path, f"{plural(len(missing), 'item')} of the week {'has' if len(missing) == 1 else 'have'} no body")
                if repair:
                    f.repaired = "the next sync fetches their texts again"
                    refetch = True
                findings.append(f)
        search, bad = _table(search_path, "q")
        expected = set(items or {})
        if not bad and search is not None:
            blob = (search.get("all") or {}).get("v", "")
            if set(_blob_lines_of(blob)) != expected:
                bad = "does not match the week's items"
        elif not bad and expected:
            bad = "is missing"
        if bad:
            f = Finding(search_path, bad)
            if repair:
                if search_path.exists() and "missing" not in bad:
                    backup(search_path)
                rebuild_search.add(week)
                f.repaired = "rebuilt from the week's items"
            findings.append(f)

    store.discard()  # (files were moved: read everything again)
    index_path = inbox / "index.json"
    checked += index_path.exists()
    if damaged_weeks and not repair:
        problem = ""  # (compared once the damaged weeks are repaired)
    else:
        problem = _index_problem(store, index_path)
    if problem:
        f = Finding(index_path, problem)
        if repair:
            if index_path.exists():
                backup(index_path)
            store.discard()
            n = store.rebuild_index()
            f.repaired = f"rebuilt from the weeks' items ({n} items)"
        findings.append(f)
    for week in rebuild_search:
        _rebuild_search(store, week)

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


def _rebuild_search(store: TinyDBStore, week: str) -> None:
    """A week's search text again from its items and bodies."""
    items = store._shard(week).table("items")._read_table()
    bodies = store._body_db(week).table("bodies")._read_table()
    lines = {}
    for item_id, light in items.items():
        body = bodies.get(item_id) or {}
        rec = {**light, **{k: v for k, v in body.items() if k in HEAVY_FIELDS}}
        lines[item_id] = search_text(rec, body.get("html", "")).replace("\n", " ")
    store._search_edits[week] = lines  # written back by the next flush


def _index_problem(store: TinyDBStore, index_path: Path) -> str:
    """What is wrong with the index compared with the weeks' items ('' when nothing)."""
    if not index_path.exists():
        return "is missing" if any(index_path.parent.glob("items-*.json")) else ""
    try:
        files.read_json(index_path)
        ids = dict(store._id_map().items())
        links = {k: set(v.split(",")) for k, v in store._link_map().items()}
    except StorageError as e:
        return _why(e)
    want_ids: dict[str, str] = {}
    want_links: dict[str, set[str]] = {}
    for week in store.shard_keys():
        for item_id, rec in store._shard(week).table("items")._read_table().items():
            want_ids[item_id] = week
            if rec.get("link_key"):
                want_links.setdefault(_link_hash(rec["link_key"]), set()).add(item_id)
        store.release_clean()
    if ids != want_ids:
        lost = len(set(want_ids) - set(ids))
        extra = len(set(ids) - set(want_ids))
        moved = sum(1 for i in set(ids) & set(want_ids) if ids[i] != want_ids[i])
        return (f"does not match the weeks' items ({lost} not indexed, {extra} indexed but "
                f"gone, {moved} in the wrong week)")
    if links != want_links:
        return "does not match the weeks' items (the links shared between items)"
    return ""
