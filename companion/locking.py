"""The write lock: one pln process writes the home at a time; another waits, then says who
holds it.

On POSIX it is an ``flock`` on ``pln.lock`` (the OS drops it when the process dies, even on
kill -9), polled until ``PLN_LOCK_TIMEOUT`` (default 10 s); filelock's import alone would
cost ~50 ms of a 0.3 s `pln inbox` (issue 2). Who holds it (command, pid, since when) is
written into the lock file itself, opened with O_NOFOLLOW: pln never writes through a
symlink someone planted in its home (issue 12: `ln -s victim pln.lock.info` made `pln star`
overwrite the victim), and there is no second file to leave behind on a full disk.

A lock is re-entrant within a process (one object per lock file): a command that holds it
can save config.toml or credentials.json, which take it too, without waiting on itself.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from companion.errors import LockedError, PlnWarning, StorageError
from companion.storage_io import describe_os_error


def lock_timeout() -> float:
    """Seconds a writer waits for another to finish (``PLN_LOCK_TIMEOUT``, default 10)."""
    try:
        return max(0.0, float(os.environ.get("PLN_LOCK_TIMEOUT", "10")))
    except ValueError:
        return 10.0


class WriteLock:
    """An exclusive, re-entrant lock on one file, shared by the threads of a process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._guard = threading.RLock()  # threads of this process wait here
        self._depth = 0
        self._owner: int | None = None
        self._fd: int | None = None
        self._filelock: Any = None  # Windows

    @property
    def held(self) -> bool:
        """Whether the calling thread holds the lock."""
        return self._depth > 0 and self._owner == threading.get_ident()

    def acquire(self, command: str, timeout: float | None = None) -> None:
        """Take the lock for ``command`` (waiting up to ``timeout``); LockedError if another
        process keeps it, StorageError if the lock file cannot be made (read-only, …)."""
        wait = lock_timeout() if timeout is None else timeout
        deadline = time.monotonic() + wait
        if not self._guard.acquire(timeout=wait):
            raise LockedError(f"the pln database is busy: another task of this process is "
                              f"writing to it; waited {wait:g}s")
        if self._depth:
            self._depth += 1
            return
        try:
            if os.name == "posix":
                self._acquire_flock(command, deadline, wait)
            else:  # pragma: no cover - Windows
                self._acquire_filelock(command, wait)
        except BaseException:
            self._guard.release()
            raise
        self._depth, self._owner = 1, threading.get_ident()
        _warn_if_shared(self.path.parent)

    def release(self) -> None:
        """Give the lock back (the last release of a re-entrant hold unlocks the file)."""
        if not self.held:
            return
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            if self._fd is not None:
                import fcntl

                fd, self._fd = self._fd, None
                try:
                    fcntl.flock(fd, fcntl.LOCK_UN)  # (also for a forked child sharing it)
                finally:
                    os.close(fd)
            if self._filelock is not None:  # pragma: no cover - Windows
                self._filelock.release()
                self._filelock = None
        self._guard.release()

    @contextmanager
    def holding(self, command: str, timeout: float | None = None) -> Iterator[WriteLock]:
        """``with lock.holding("pln star"):`` acquire … release."""
        self.acquire(command, timeout)
        try:
            yield self
        finally:
            self.release()

    # ----- POSIX: flock ------------------------------------------------------------------

    def _open(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
                         | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise StorageError(
                    f"{self.path} is a symbolic link: pln never writes through a link in its "
                    f"home — remove it (rm {self.path}) and try again"
                ) from e
            raise StorageError(describe_os_error(e, self.path, doing="lock")) from e
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise StorageError(f"{self.path} is not a regular file — remove it and try again")
        return fd

    def _acquire_flock(self, command: str, deadline: float, wait: float) -> None:
        import fcntl

        fd = self._open()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    try:
                        info = os.pread(fd, 4096, 0)
                    finally:
                        os.close(fd)
                    raise LockedError(_busy(info, wait)) from None
                time.sleep(0.05)
            else:
                break
        self._fd = fd
        try:  # advisory: a full disk must not stop a command that may only read
            os.ftruncate(fd, 0)
            os.pwrite(fd, _info(command), 0)
        except OSError:
            pass

    def _acquire_filelock(self, command: str, wait: float) -> None:  # pragma: no cover - Windows
        from filelock import FileLock, Timeout

        from companion.storage_io import write_file

        info_path = self.path.with_name(self.path.name + ".info")
        lock = FileLock(str(self.path), timeout=wait)
        try:
            lock.acquire()
        except Timeout:
            try:
                info = info_path.read_bytes()
            except OSError:
                info = b""
            raise LockedError(_busy(info, wait)) from None
        self._filelock = lock
        try:
            write_file(info_path, _info(command))
        except StorageError:
            pass


def _info(command: str) -> bytes:
    return orjson.dumps({"pid": os.getpid(), "command": command, "since": time.time()})


def _busy(info: bytes, wait: float) -> str:
    holder = "another pln process"
    try:
        data = orjson.loads(info)
        since = datetime.fromtimestamp(data["since"], UTC).strftime("%H:%M:%S UTC")
        holder = f"`{data['command']}` (pid {data['pid']}, since {since})"
    except (ValueError, KeyError, TypeError, OSError):
        pass
    return (f"the pln database is busy: {holder} is writing to it; "
            f"waited {wait:g}s — try again when it has finished")


_WARNED: set[Path] = set()


def _warn_if_shared(directory: Path) -> None:
    """Warn once when the home can be written by other users: they could replace files,
    plant links, or read what they should not (issue 12)."""
    if directory in _WARNED or os.name != "posix":
        return
    _WARNED.add(directory)
    try:
        mode = stat.S_IMODE(os.stat(directory).st_mode)
    except OSError:
        return
    if mode & 0o022:
        who = "everyone" if mode & 0o002 else "its group"
        warnings.warn(PlnWarning(
            f"{directory} can be written by {who} (mode {mode:o}): other users could change "
            f"your inbox and settings — run `chmod 700 {directory}`"), stacklevel=3)


_LOCKS: dict[str, WriteLock] = {}
_LOCKS_GUARD = threading.Lock()


def lock_for(path: Path) -> WriteLock:
    """The one WriteLock object of this process for the lock file at ``path``."""
    key = os.path.abspath(path)
    with _LOCKS_GUARD:
        lock = _LOCKS.get(key)
        if lock is None:
            lock = _LOCKS[key] = WriteLock(Path(key))
        return lock
