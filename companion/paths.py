"""Where pln keeps its files: ``$PLN_HOME`` or the platform's user directories."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Home:
    """The directories and files of one pln home."""

    config_dir: Path
    data_dir: Path

    @classmethod
    def locate(cls) -> Home:
        """``$PLN_HOME`` when set (everything in one folder), else platformdirs."""
        env = os.environ.get("PLN_HOME")
        if env:
            root = Path(env).expanduser()
            return cls(config_dir=root, data_dir=root)
        import platformdirs  # lazy: only needed without PLN_HOME

        return cls(
            config_dir=Path(platformdirs.user_config_dir("pln", appauthor=False)),
            data_dir=Path(platformdirs.user_data_dir("pln", appauthor=False)),
        )

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def credentials_file(self) -> Path:
        return self.config_dir / "credentials.json"

    @property
    def inbox_dir(self) -> Path:
        return self.data_dir / "inbox"

    @property
    def state_file(self) -> Path:
        return self.data_dir / "state.json"

    @property
    def journal_file(self) -> Path:
        return self.data_dir / "journal.json"

    @property
    def lock_file(self) -> Path:
        return self.data_dir / "pln.lock"

    def ensure(self) -> None:
        """Create the directories (private to the user); StorageError if they cannot be."""
        for d in (self.config_dir, self.data_dir, self.inbox_dir):
            try:
                d.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as e:
                from companion.errors import StorageError
                from companion.storage_io import describe_os_error

                raise StorageError(describe_os_error(e, d, doing="create")) from e


def bundled_config_dir() -> Path:
    """The example config and starter network shipped with pln."""
    here = Path(__file__).resolve().parent
    packaged = here / "_config"
    if packaged.is_dir():
        return packaged
    return here.parent / "config"  # running from a source checkout
