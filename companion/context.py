"""The parts every verb works on: the home, config.toml, credentials, the store, the journal.

The lowest layer of the library (STYLE.md: sources registry, sync engine, inbox and journal
are modules of their own on top of it; ``companion.service.Companion`` is their facade). A
``Context`` opens each part on first use, and holds the write lock for a command
(``writing``). Nothing here imports a verb module: a lower module never reaches up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

from companion import __version__
from companion.config import Config, Settings, install_template
from companion.errors import ConfigError, PlnError
from companion.ids import resolve_prefix
from companion.locking import WriteLock, lock_for
from companion.paths import Home
from companion.specs import SourceSpec
from companion.storage_io import clean_stale_temps
from companion.store import TinyDBJournal, TinyDBStore

if TYPE_CHECKING:
    from companion.credentials import Credentials


class Context:
    """One pln home's parts, opened lazily; ``clock`` is injectable for tests."""

    def __init__(self, home: Home | None = None, *, clock: Callable[[], datetime] | None = None):
        self.home = home or Home.locate()
        self._config: Config | None = None
        self._credentials: Credentials | None = None
        self._store: TinyDBStore | None = None
        self._journal: TinyDBJournal | None = None
        self._me: Any = None
        self._writing = False
        self.clock = clock or (lambda: datetime.now(UTC))

    # ----- parts ----------------------------------------------------------------------------

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = Config.load(self.home.config_file, lock=self.lock)
        return self._config

    def lenient_config(self) -> ConfigError | None:
        """For commands that only read and triage the inbox: a broken config.toml is
        returned (to warn about), not raised; they go on with default settings and no
        source names (issue 13: a typo in config.toml must not hide the inbox)."""
        try:
            self.config  # noqa: B018 - loads and validates
        except ConfigError as e:
            self._config = Config(self.home.config_file, "", {})
            return e
        return None

    @property
    def settings(self) -> Settings:
        return self.config.settings

    def settings_or_default(self) -> Settings:
        """The settings, or the defaults before config.toml exists (adding a first source)."""
        return self.settings if self.home.config_file.exists() else Settings()

    def user_agent(self) -> str:
        """The User-Agent for requests: the setting, else pln's own."""
        return (self.settings_or_default().user_agent
                or f"pln/{__version__} (+https://pypi.org/project/pln/)")

    @property
    def credentials(self) -> Credentials:
        from companion.credentials import Credentials

        if self._credentials is None:
            self._credentials = Credentials.load(self.home.credentials_file, lock=self.lock)
        return self._credentials

    @property
    def lock(self) -> WriteLock:
        """The home's write lock (re-entrant: the store, config.toml and credentials.json
        are all changed under it, each from a fresh read)."""
        return lock_for(self.home.lock_file)

    @property
    def store(self) -> TinyDBStore:
        if self._store is None:
            self._store = TinyDBStore(self.home.data_dir)
        return self._store

    @property
    def journal(self) -> TinyDBJournal:
        if self._journal is None:
            self._journal = TinyDBJournal(self.home.journal_file)
        return self._journal

    @contextmanager
    def writing(self, command: str) -> Iterator[Self]:
        """Hold the write lock for a command; flush everything once at the end (nested: the
        outermost one does)."""
        if self._writing:
            yield self
            return
        self.home.ensure()
        self.store.lock(command)
        self._writing = True
        try:
            clean_stale_temps([self.home.config_dir])  # (the store cleans its own folders)
            yield self
        finally:
            self._writing = False
            self.close()

    def close(self) -> None:
        """Flush the store and the journal and release their locks."""
        if self._store is not None:
            self._store.close()
        if self._journal is not None:
            self._journal.close()

    def ensure_config(self, *, starter: bool) -> int | None:
        """Create config.toml on first use: the starter network, or the commented example.

        Returns the number of sources installed, or None if a config already existed.
        """
        if self.home.config_file.exists():
            return None
        self.home.ensure()
        with self.lock.holding("pln init"):
            if self.home.config_file.exists():  # (another pln was first)
                return None
            n = install_template(self.home.config_file, starter=starter)
        self._config = None
        return n

    # ----- what the configuration says ------------------------------------------------------

    def find_source(self, prefix: str) -> SourceSpec:
        """The configured source whose id starts with ``prefix``."""
        sid = resolve_prefix(prefix, [s.id for s in self.config.sources], "source")
        return next(s for s in self.config.sources if s.id == sid)

    def source_labels(self) -> dict[str, str]:
        """Source id -> label, for rendering."""
        return {s.id: s.label for s in self.config.sources}

    def require_sources(self) -> None:
        """ConfigError with a hint when nothing is followed yet."""
        if not self.config.sources:
            raise ConfigError(
                f"no sources in {self.home.config_file}: add one with `pln source add SPEC`"
            )

    def me(self) -> Any:
        """The logged-in accounts' identities (companion.mine.Me; empty if none can be read)."""
        from companion.mine import Me

        if self._me is None:
            try:
                self._me = Me.of(self.credentials.accounts)
            except PlnError:  # a broken credentials file is reported where tokens are needed
                self._me = Me()
        return self._me

    def source_hosts(self) -> dict[str, str]:
        """Source id -> host its statuses come from (see companion/parents.py)."""
        from companion.parents import source_hosts

        try:
            creds = self.credentials
            accounts = {a.name: a.instance for a in creds.accounts}
            return source_hosts(self.config.sources, accounts, creds.default_name)
        except PlnError:
            return {}
