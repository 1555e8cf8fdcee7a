"""Crash-safe file writes shared by the store, the config and the credentials.

Every file pln writes goes through a temp file in the same directory, fsync, and a rename
over the target, so a crash (even SIGKILL) leaves the old file or the new one. Temp files
are named ``.NAME.PID.RANDOM.tmp``: one left by a killed pln is recognised (its process is
gone) and removed at the next write (issue 12).
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from companion.errors import StorageError

Identity = tuple[int, int, int]  # (inode, size, mtime_ns): a file as this process last saw it

_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$")
# a temp file without a pid (written by an older pln) is stale once it is this old
_OLD_TEMP_SECONDS = 3600


def describe_os_error(e: OSError, path: Path, *, doing: str = "write") -> str:
    """One line for a failed file operation that says what is wrong and what to do."""
    where = path.parent if path.name else path
    if e.errno == errno.ENOSPC:
        return f"no space left on the device holding {where} — free some space and try again"
    if e.errno == errno.EDQUOT:
        return f"disk quota exceeded on the device holding {where} — free some space and try again"
    if e.errno == errno.EROFS:
        return f"{where} is read-only (a read-only file system): pln cannot {doing} {path.name} there"
    if e.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied: cannot {doing} {path}"
    return f"cannot {doing} {path}: {e.strerror or e}"


def identity(st: os.stat_result) -> Identity:
    """What tells one version of a file from another: every replace makes a new inode."""
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def current_identity(path: Path) -> Identity | None:
    """The identity of the file at ``path`` now, or None when there is none."""
    try:
        return identity(os.stat(path))
    except FileNotFoundError:
        return None


def write_temp(path: Path, data: bytes, *, mode: int = 0o600) -> tuple[Path, Identity]:
    """Write ``data`` to a fresh temp file beside ``path`` and fsync it; (temp, identity).

    The temp is created with O_EXCL (mkstemp): never through a symlink someone planted. On
    an error (OSError) nothing is left behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                                dir=path.parent)
    tmp = Path(name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            ident = identity(os.fstat(f.fileno()))
    except BaseException:
        _unlink(tmp)
        raise
    return tmp, ident


def replace(tmp: Path, path: Path) -> None:
    """Rename a temp file written by ``write_temp`` over ``path`` (atomic; OSError)."""
    try:
        os.replace(tmp, path)
    except OSError:
        _unlink(tmp)
        raise


def fsync_dir(directory: Path) -> None:
    """Make renames in ``directory`` durable (best effort: not every system allows it)."""
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o600) -> Identity:
    """Write ``data`` to ``path`` so that a crash leaves either the old or the new file;
    returns the new file's identity. Raises OSError (callers that write where the user
    asked, ``-o FILE``, say so in their own words); pln's own files use ``write_file``."""
    tmp, ident = write_temp(path, data, mode=mode)
    replace(tmp, path)
    fsync_dir(path.parent)
    return ident


def write_file(path: Path, data: bytes, *, mode: int = 0o600) -> Identity:
    """``atomic_write_bytes`` for pln's own files: a StorageError says what is wrong (disk
    full, read-only, …) and nothing is left behind (issue 12)."""
    try:
        return atomic_write_bytes(path, data, mode=mode)
    except OSError as e:
        raise StorageError(describe_os_error(e, path)) from e


def clean_stale_temps(directories: Iterable[Path], *, keep: Iterable[Path] = ()) -> list[Path]:
    """Remove temp files left by pln processes that are gone (killed mid-write); returns
    them. Another live process's temp files are left alone (it may be writing)."""
    kept = {Path(p).name for p in keep}
    removed: list[Path] = []
    now = time.time()
    for d in dict.fromkeys(directories):
        try:
            names = [n for n in os.listdir(d) if n.startswith(".") and n.endswith(".tmp")]
        except OSError:
            continue
        for name in names:
            if name in kept:
                continue
            p = d / name
            m = _TEMP.match(name)
            if m is not None:
                pid = int(m.group("pid"))
                if pid == os.getpid() or _alive(pid):  # (ours are in use: we are not dead)
                    continue
            else:
                try:
                    if now - os.lstat(p).st_mtime < _OLD_TEMP_SECONDS:
                        continue
                except OSError:
                    continue
            if _unlink(p):
                removed.append(p)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _unlink(p: Path) -> bool:
    try:
        os.unlink(p)
    except OSError:
        return False
    return True
