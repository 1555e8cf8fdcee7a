"""The store's JSON files: read with orjson, written together as one commit.

A command (or one batch of a sync) changes several files: a week's bodies, search text and
items, the index, the sources' state. Each is written to a temp file and fsynced first; then
``commit.json`` names every (temp -> file) rename, the renames are done, and commit.json is
removed. A crash before commit.json exists leaves every old file (the temps are stale and
removed at the next write); a crash after it is rolled forward by the next pln that takes
the lock (``recover``), so the store is never half old, half new (issue 12: items listed by
`pln inbox` that `pln show` could not find after a kill during the index write).

Every file also remembers the version it was read at (``Identity``): a sync that holds the
lock only while it writes a batch drops what another pln changed meanwhile (``stale``).
"""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

from companion.errors import StorageError
from companion.storage_io import (
    Identity,
    current_identity,
    describe_os_error,
    fsync_dir,
    identity,
    replace,
    write_temp,
)

COMMIT_FILE = "commit.json"


def damaged(path: Path, why: str) -> str:
    """The message for a data file pln cannot read: which file, and the way back."""
    if path.name == "journal.json":
        return (f"{path} {why}: it holds your reflections, so pln leaves it as it is — restore "
                "it from a backup, or move it aside to start a new journal (`pln doctor` checks "
                "every file)")
    return (f"database file {path} {why} — run `pln doctor --repair` to rebuild what can be "
            "rebuilt (it keeps a backup of the file), or restore it from a backup")


def read_json(path: Path) -> tuple[dict[str, Any] | None, Identity | None]:
    """A JSON object file and its identity; (None, None) when missing. An empty, unreadable or
    corrupt file is a StorageError naming it and the way back — never read as empty."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None, None
    except OSError as e:
        raise StorageError(damaged(path, f"cannot be read ({e.strerror})")) from e
    try:
        with os.fdopen(fd, "rb") as f:
            ident = identity(os.fstat(f.fileno()))
            raw = f.read()
    except OSError as e:
        raise StorageError(damaged(path, f"cannot be read ({e.strerror})")) from e
    if not raw.strip():
        raise StorageError(damaged(path, f"is empty ({len(raw)} bytes)"))
    # JSON makes no reference cycles, but its 100k fresh dicts trigger the cyclic GC over
    # and over: pausing it halves the load time of a week (issue 5: search ≤ 1 s).
    paused = gc.isenabled()
    gc.disable()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise StorageError(damaged(path, f"is corrupt ({e})")) from e
    finally:
        if paused:
            gc.enable()
    if not isinstance(data, dict):
        raise StorageError(damaged(path, "is corrupt (not a JSON object)"))
    return data, ident


class Commit:
    """Files written together: staged as fsynced temps, then renamed under ``commit.json``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.staged: list[tuple[Path, Path]] = []  # (temp, target)
        self.decided = False  # commit.json is written: the renames will be done

    def stage(self, path: Path, data: bytes) -> Identity:
        try:
            tmp, ident = write_temp(path, data)
        except OSError as e:
            raise StorageError(describe_os_error(e, path)) from e
        self.staged.append((tmp, path))
        return ident

    def apply(self) -> None:
        """Rename every staged temp over its file, all or (after a crash, at recovery) none."""
        if not self.staged:
            return
        dirs = {t.parent for t, _ in self.staged}
        if len(self.staged) == 1:
            tmp, path = self.staged[0]
            try:
                replace(tmp, path)
            except OSError as e:
                raise StorageError(describe_os_error(e, path)) from e
        else:
            intent = self.root / COMMIT_FILE
            plan = [[os.path.relpath(t, self.root), os.path.relpath(p, self.root)]
                    for t, p in self.staged]
            try:
                itmp, _ = write_temp(intent, orjson.dumps({"replace": plan}))
                for d in dirs:
                    fsync_dir(d)  # the temps' names are durable before the intent names them
                replace(itmp, intent)
            except OSError as e:
                raise StorageError(describe_os_error(e, intent)) from e
            # From here on the commit is decided: whatever interrupts the renames (a second
            # Ctrl-C, a full disk), the temps stay for ``recover`` to finish the job.
            self.decided = True
            fsync_dir(self.root)
            _roll_forward(self.root, plan)
            dirs.add(self.root)
        for d in dirs:
            fsync_dir(d)
        if len(self.staged) > 1:
            _remove_intent(self.root)
        self.staged = []

    def abort(self) -> None:
        """Remove the staged temps (a write failed: every file stays as it was), unless the
        commit was decided: then the next pln finishes it."""
        if self.decided:
            return
        for tmp, _ in self.staged:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        self.staged = []


def pending(root: Path) -> bool:
    """Whether a commit was interrupted (a crash between its renames)."""
    return (root / COMMIT_FILE).exists()


def recover(root: Path) -> bool:
    """Finish an interrupted commit (call with the write lock held); True if there was one."""
    intent = root / COMMIT_FILE
    try:
        raw = intent.read_bytes()
    except FileNotFoundError:
        return False
    except OSError as e:
        raise StorageError(describe_os_error(e, intent, doing="read")) from e
    try:
        plan = orjson.loads(raw)["replace"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        plan = []  # (written atomically, so never torn; a hand-made one is ignored)
    _roll_forward(root, plan)
    for d in {(root / p).parent for _, p in plan} | {root}:
        fsync_dir(d)
    _remove_intent(root)
    return True


def commit_temps(root: Path) -> list[Path]:
    """The temp files an interrupted commit still needs (never cleaned as stale)."""
    try:
        plan = orjson.loads((root / COMMIT_FILE).read_bytes())["replace"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [root / t for t, _ in plan]


def _roll_forward(root: Path, plan: list[list[str]]) -> None:
    for tmp, target in plan:
        src, dst = root / tmp, root / target
        try:
            os.replace(src, dst)
        except FileNotFoundError:
            continue  # renamed before the crash
        except OSError as e:
            raise StorageError(describe_os_error(e, dst)) from e


def _remove_intent(root: Path) -> None:
    try:
        os.unlink(root / COMMIT_FILE)
    except FileNotFoundError:
        pass
    except OSError as e:
        raise StorageError(describe_os_error(e, root / COMMIT_FILE)) from e
    fsync_dir(root)


class Stage:
    """The commit the store's files write into while it flushes (None: write at once)."""

    commit: Commit | None = None


class OrjsonStorage(Storage):
    """A JSON file read with orjson; written atomically, or staged into the store's commit.
    Remembers the version of the file it read or wrote (``stale``)."""

    def __init__(self, path: Path, stage: Stage | None = None, **_: Any) -> None:
        self.path = path
        self.stage = stage
        self.identity: Identity | None = None

    def read(self) -> dict[str, dict[str, Any]] | None:
        data, self.identity = read_json(self.path)
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        from companion.storage_io import write_file

        raw = orjson.dumps(data)
        commit = self.stage.commit if self.stage is not None else None
        if commit is not None:
            self.identity = commit.stage(self.path, raw)
        else:
            self.identity = write_file(self.path, raw)

    def stale(self) -> bool:
        """Whether the file changed on disk since this process last read or wrote it."""
        return current_identity(self.path) != self.identity

    def close(self) -> None:
        pass
