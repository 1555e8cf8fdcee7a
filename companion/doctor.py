"""`pln doctor [--repair]`: check every file of the home; rebuild what can be rebuilt.

The files and what a repair does with each (issue 12: an empty or damaged file is never
read as empty; here is the way back):

- config.toml: checked; never changed (it is the user's: the message says where to fix it).
- credentials.json: damaged -> moved to the backup folder (log in again), mode kept 0600.
- journal.json: checked; never changed: it is the user's own writing.
- state.json, inbox/*: see ``companion.store.doctor``.
- the home's permissions, the lock file, temp files left by killed processes.

Everything a repair replaces is moved to ``backups/YYYYMMDD-HHMMSS/`` in the data folder.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from companion.errors import ConfigError, StorageError
from companion.storage_io import clean_stale_temps
from companion.store.doctor import Finding, check_inbox

if TYPE_CHECKING:
    from companion.context import Context

__all__ = ["DoctorReport", "Finding", "doctor"]


@dataclass
class DoctorReport:
    """What `pln doctor` found and did."""

    findings: list[Finding] = field(default_factory=list)
    checked: int = 0
    backup_dir: Path | None = None

    @property
    def problems_left(self) -> list[Finding]:
        """Findings that were not repaired."""
        return [f for f in self.findings if not f.repaired]

    def as_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "findings": [f.as_dict() for f in self.findings],
                "backup": str(self.backup_dir) if self.backup_dir else None,
                "ok": not self.problems_left}


def doctor(c: Context, *, repair: bool) -> DoctorReport:
    """Check every file of ``c``'s home (and repair what can be, with ``repair``)."""
    from companion.store import files

    home = c.home
    report = DoctorReport()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    backup_root = home.data_dir / "backups" / stamp

    def backup(path: Path) -> Path:
        base = home.data_dir if path.is_relative_to(home.data_dir) else home.config_dir
        dest = backup_root / path.relative_to(base)
        dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.move(path, dest)
        report.backup_dir = backup_root
        return dest

    for d in dict.fromkeys((home.config_dir, home.data_dir)):
        if not d.exists():
            continue
        mode = stat.S_IMODE(os.stat(d).st_mode)
        if mode & 0o022:
            f = Finding(d, f"can be written by other users (mode {mode:o})")
            if repair:
                os.chmod(d, mode & ~0o022)
                f.repaired = f"mode set to {mode & ~0o022:o}"
            report.findings.append(f)
    for p in (home.lock_file, home.lock_file.with_name("pln.lock.info"),
              home.data_dir / "journal.lock", home.data_dir / "journal.lock.info"):
        if p.is_symlink():
            f = Finding(p, "is a symbolic link (pln never writes through one)")
            if repair:
                p.unlink()
                f.repaired = "removed"
            report.findings.append(f)
        elif p.name.endswith(".info") and p.exists():
            f = Finding(p, "is left over from an older pln")
            if repair:
                p.unlink()
                f.repaired = "removed"
            report.findings.append(f)

    # (what every writing pln does anyway: finish an interrupted commit, drop dead temps)
    if files.pending(home.data_dir):
        with c.writing("pln doctor"):
            pass
        report.findings.append(Finding(home.data_dir / files.COMMIT_FILE,
                                       "a write was interrupted (a crash)", "finished"))
    for p in clean_stale_temps([home.config_dir, home.data_dir, home.inbox_dir]):
        report.findings.append(Finding(p, "is a temp file left by a pln that was killed",
                                       "removed"))

    if home.config_file.exists():
        report.checked += 1
        try:
            c.config  # noqa: B018 - loading is the check
        except ConfigError as e:
            report.findings.append(Finding(home.config_file, e.message.split(": ", 1)[-1]
                                           + " — fix it by hand (nothing was changed)"))

    creds = home.credentials_file
    if creds.exists():
        report.checked += 1
        try:
            c.credentials  # noqa: B018 - loading is the check
        except ConfigError:
            f = Finding(creds, "is damaged: the tokens in it cannot be read")
            if repair:
                where = backup(creds)
                f.repaired = f"moved to {where}: run `pln login` again for each account"
            report.findings.append(f)

    if home.journal_file.exists():
        report.checked += 1
        try:
            c.journal.all()
        except StorageError as e:
            from companion.store.doctor import _why

            report.findings.append(Finding(
                home.journal_file, _why(e) + " — it holds your reflections, so doctor does not "
                "change it: restore it from a backup"))

    if not home.data_dir.exists():
        return report
    # (checking takes the lock too: no sync writes a batch under its eyes)
    with c.writing("pln doctor --repair" if repair else "pln doctor"):
        found, n = check_inbox(c.store, repair=repair, backup=backup)
    report.findings.extend(found)
    report.checked += n
    return report
