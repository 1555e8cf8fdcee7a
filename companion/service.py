"""The pln service object: one verb per command, no terminal, no Typer (STYLE.md)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from companion import __version__
from companion.config import Config, Settings, install_template
from companion.errors import ConfigError, PlnError, UsageError
from companion.ids import resolve_prefix
from companion.locking import WriteLock, lock_for
from companion.models import ItemData, iso, parse_iso
from companion.paths import Home
from companion.search import query_words
from companion.specs import IMAP, MAIL_KINDS, NEEDS_LOGIN, TAG, SourceSpec, parse_spec
from companion.storage_io import clean_stale_temps
from companion.store import TinyDBJournal, TinyDBStore
from companion.sync import ProgressFn, SyncResult, prepare_new_items
from companion.urls import canonical_url

__all__ = ["Companion", "ItemFilter", "SyncResult", "item_json", "parse_since", "prepare_new_items"]

if TYPE_CHECKING:
    from companion.credentials import Credentials



@dataclass(frozen=True)
class ItemFilter:
    """The filters of `pln inbox` / `pln read --all`; they combine."""

    unread_only: bool = True
    starred: bool = False
    source: str | None = None
    topic: str | None = None
    tag: str | None = None
    search: str | None = None
    since: datetime | None = None
    limit: int | None = None


_DURATION = re.compile(r"^(\d+)\s*([mhdwy])$")


def parse_since(text: str, now: datetime, option: str = "--since") -> datetime:
    """``7d``, ``12h``, ``2w`` or a date ``2026-11-01`` -> an aware datetime (``option``
    names the option in the error message)."""
    t = text.strip().lower()
    if m := _DURATION.match(t):
        n, unit = int(m.group(1)), m.group(2)
        days = {"m": 1 / 1440, "h": 1 / 24, "d": 1, "w": 7, "y": 365}[unit]
        return now - timedelta(days=n * days)
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        raise UsageError(
            f"bad {option} {text!r}: use a duration like 7d, 12h, 2w or a date like 2026-11-01"
        ) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def item_json(rec: dict[str, Any]) -> dict[str, Any]:
    """The PRODUCT.md ``--json`` item shape (fields may be added, never renamed)."""
    return {
        "id": rec["id"],
        "kind": rec["kind"],
        "sources": list(rec["sources"]),
        "url": rec.get("url", ""),
        "title": rec.get("title", ""),
        "author": dict(rec.get("author") or {"name": "", "handle": "", "url": ""}),
        "text": rec.get("text", ""),
        "published": rec["published"],
        "tags": list(rec.get("tags", [])),
        "read": rec.get("read", False),
        "starred": rec.get("starred", False),
        "shared_by": list(rec.get("shared_by", [])),
        "boosted_by": list(rec.get("boosted_by", [])),
        "reply_to": rec.get("reply_to"),
        "media": [{"url": m.get("url", ""), "alt": m.get("alt", "")} for m in rec.get("media", [])],
        "cw": rec.get("cw", ""),
        "link": rec.get("link"),
        "counts": dict(rec.get("counts") or {}),
    }


class Companion:
    """pln as a library: configuration, sources, sync, inbox."""

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
    def writing(self, command: str) -> Iterator[Companion]:
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

    # ----- sources --------------------------------------------------------------------------

    def add_source(
        self,
        spec_text: str,
        *,
        name: str | None = None,
        topics: list[str] | tuple[str, ...] = (),
        account: str | None = None,
        senders: list[str] | tuple[str, ...] = (),
        list_ids: list[str] | tuple[str, ...] = (),
        password: str | None = None,
        read_password: Callable[[str], str] | None = None,
    ) -> SourceSpec:
        """Validate a SPEC and append it to config.toml (refusing duplicates).

        Mail sources take ``senders``/``list_ids`` filters; an IMAP one needs its password
        (``password``, else the one stored for that login, else ``read_password(prompt)``),
        checked with the server before anything is saved."""
        spec = parse_spec(spec_text, name=name, topics=topics, account=account, senders=senders,
                          list_ids=list_ids)
        if spec.kind in MAIL_KINDS:
            self._check_mail(spec, password, read_password)
        needs_account = spec.kind in NEEDS_LOGIN or (spec.kind == TAG and not spec.host)
        if account is not None or needs_account:
            creds = self.credentials
            if account is not None and not creds.has(account):
                known = ", ".join(a.name for a in creds.accounts) or "none"
                raise UsageError(
                    f"no account named {account!r} (logged in: {known}) — run `pln login` first"
                )
            if needs_account and account is None:
                default = creds.default_name
                if default is None:
                    what = f"#{spec.target}" if spec.kind == TAG else spec.spec
                    hint = (
                        f"; or name a server: #{spec.target}@mastodon.social"
                        if spec.kind == TAG
                        else ""
                    )
                    raise UsageError(
                        f"{what} needs a logged-in account — run `pln login https://your.instance`"
                        f" first{hint}"
                    )
                spec = parse_spec(spec_text, name=name, topics=topics, account=default)
        if spec.kind == "feed":  # (network: not under the lock, a sync may be writing)
            spec = self._discover_feed(spec, name=name, topics=topics, account=account)
        elif self._is_new(spec):
            from companion.sources.checks import check_source, needs_check

            if needs_check(spec):  # the server says whether it exists (issue 13)
                spec.extra["notes"] = check_source(
                    spec, self._credentials_or_none(spec), self._add_settings(),
                    self._user_agent())
        with self.writing("pln source add"):
            self.ensure_config(starter=False)
            return self.config.add_source(spec)

    def _is_new(self, spec: SourceSpec) -> bool:
        """Not followed yet (a duplicate is refused without asking any server)."""
        return not (self.home.config_file.exists() and self.config.find(spec.canonical))

    def _add_settings(self) -> Settings:
        return self.settings if self.home.config_file.exists() else Settings()

    def _user_agent(self) -> str:
        return self._add_settings().user_agent or f"pln/{__version__} (+https://pypi.org/project/pln/)"

    def _credentials_or_none(self, spec: SourceSpec) -> Credentials | None:
        """The credentials to check ``spec`` with: required when it names an account; else
        whatever is logged in, and None when nothing readable is (a public source needs none)."""
        if spec.account:
            return self.credentials
        try:
            return self.credentials
        except PlnError:
            return None

    def _check_mail(self, spec: SourceSpec, password: str | None,
                    read_password: Callable[[str], str] | None) -> None:
        """A mailbox to add must be there (files) or accept the login (IMAP, whose password
        is then kept in credentials.json); UsageError otherwise, nothing saved."""
        if self.home.config_file.exists() and self.config.find(spec.canonical) is not None:
            return  # already followed: config.add_source says so
        if spec.kind != IMAP:
            from companion.sources.mail import check_path

            check_path(spec)
            return
        self.set_mail_password(spec, password, read_password)

    def set_mail_password(self, spec: SourceSpec | str, password: str | None,
                          read_password: Callable[[str], str] | None = None, *,
                          reuse: bool = True) -> SourceSpec:
        """Check an IMAP source's password with its server, then keep it (credentials.json,
        0600, one per login). ``spec``: the source or an id prefix. The password is
        ``password``, else (``reuse``) the one stored for the login, else
        ``read_password(prompt)``."""
        from companion.sources.imap import check_login
        from companion.specs import imap_address

        if isinstance(spec, str):
            spec = self.find_source(spec)
            if spec.kind != IMAP:
                raise UsageError(f"{spec.spec} is not an IMAP source: it has no password")
        addr = imap_address(spec)
        self.home.ensure()
        stored = self.credentials.mail_password(addr.login)
        if password is None and reuse:
            password = stored
        if password is None:
            if read_password is None:
                raise UsageError(f"{spec.spec} needs the IMAP password: pass --password - to "
                                 "read it from standard input")
            password = read_password(f"IMAP password for {addr.user} on {addr.host}")
        if not password:
            raise UsageError("empty password; nothing changed")
        settings = self.settings if self.home.config_file.exists() else Settings()
        check_login(spec, password, float(settings.timeout))
        if password != stored:
            self.credentials.put_mail_password(addr.login, password)
        return spec

    def _discover_feed(
        self,
        spec: SourceSpec,
        *,
        name: str | None,
        topics: list[str] | tuple[str, ...],
        account: str | None,
    ) -> SourceSpec:
        """Check a feed URL over the network; a web page is replaced by the feed it names
        (issue 3: autodiscovery). Notes for the user are in ``spec.extra["notes"]``."""
        if self.home.config_file.exists() and self.config.find(spec.canonical) is not None:
            return spec  # already followed: config.add_source says so, no network needed
        from companion.sources.feed import discover

        settings = self.settings if self.home.config_file.exists() else Settings()
        user_agent = settings.user_agent or f"pln/{__version__} (+https://pypi.org/project/pln/)"
        feed_url, title, notes = discover(spec.target, settings, user_agent)
        if feed_url != spec.target or (name is None and title):
            spec = parse_spec(feed_url, name=name or title or None, topics=topics, account=account)
        spec.extra["notes"] = list(notes)
        return spec

    def find_source(self, prefix: str) -> SourceSpec:
        """The configured source whose id starts with ``prefix``."""
        sid = resolve_prefix(prefix, [s.id for s in self.config.sources], "source")
        return next(s for s in self.config.sources if s.id == sid)

    def list_sources(self) -> list[tuple[SourceSpec, dict[str, Any]]]:
        """Every configured source with its health (last success/error, failures, the items
        the inbox holds from it, ``retry_until`` while a server asked to wait)."""
        states = self.store.all_states() if self.home.state_file.exists() else {}
        out = []
        for s in self.config.sources:
            state = states.get(s.id, {})
            health = dict(state.get("health", {}))
            health.pop("counted", None)  # internal: see companion.source_health
            if state.get("retry_until"):
                health["retry_until"] = state["retry_until"]
            out.append((s, health))
        return out

    def remove_source(self, prefix: str) -> SourceSpec:
        """Stop following a source; its items stay in the inbox."""
        spec = self.find_source(prefix)
        self.config.remove_source(spec.id)
        self.store.drop_state(spec.id)
        if spec.kind == IMAP:  # the last source of a login takes its password along
            from companion.specs import imap_address

            login = imap_address(spec).login
            if not any(s.kind == IMAP and imap_address(s).login == login
                       for s in self.config.sources):
                self.credentials.remove_mail_password(login)
        return spec

    def import_opml(self, path: Path) -> tuple[list[SourceSpec], list[tuple[str, str]]]:
        """Add every subscription of an OPML file; returns (added, [(spec, why skipped)])."""
        from companion.opml import parse_opml

        try:
            data = path.read_bytes()
        except OSError as e:
            raise UsageError(f"cannot read {path}: {e.strerror}") from e
        entries = parse_opml(data)
        self.ensure_config(starter=False)
        added: list[SourceSpec] = []
        skipped: list[tuple[str, str]] = []
        known = {s.canonical for s in self.config.sources}
        for entry in entries:
            try:
                spec = parse_spec(entry.spec, name=entry.title or None, topics=entry.topics)
            except UsageError as e:
                skipped.append((entry.spec, e.message))
                continue
            if spec.canonical in known:
                skipped.append((entry.spec, "already followed"))
                continue
            known.add(spec.canonical)
            added.append(spec)
        return self.config.add_sources(added), skipped

    def export_opml(self) -> tuple[str, list[SourceSpec]]:
        """OPML for every source that other readers can follow, plus those left out."""
        from companion.opml import export_opml

        states = self.store.all_states() if self.home.state_file.exists() else {}
        return export_opml(self.config.sources, now=self.clock(),
                           states={k: v.get("source", {}) for k, v in states.items()})

    # ----- accounts -------------------------------------------------------------------------

    def login(
        self,
        instance_url: str,
        *,
        token: str | None = None,
        name: str | None = None,
        read_code: Callable[[str], str] | None = None,
    ) -> Any:
        """Log in to a Mastodon-compatible instance (OAuth code flow, or a token) and store the
        account; returns it (its repr never shows the token)."""
        from companion.accounts import login

        self.home.ensure()
        settings = self.settings if self.home.config_file.exists() else Settings()
        return login(
            self.credentials,
            instance_url,
            token=token,
            name=name,
            read_code=read_code,
            user_agent=settings.user_agent or f"pln/{__version__} (+https://pypi.org/project/pln/)",
            timeout=settings.timeout,
        )

    # ----- sync (companion.sync) ------------------------------------------------------------

    def prepare_sync(self) -> None:
        """Start what a sync of the configured sources needs (parse processes) before the
        caller starts threads of its own, such as a progress bar."""
        from companion.sync import prepare

        prepare(self, self.config.sources)

    def sync(self, prefixes: list[str] | None = None, progress: ProgressFn | None = None) -> list[SyncResult]:
        """Fetch sources concurrently and store what is new; one result per source.

        A failing source never stops the others (its error is in its result).
        """
        from companion.sync import SyncEngine

        return SyncEngine(self).run(prefixes, progress)

    def _store_items(self, source_id: str, items: Sequence[ItemData], now: datetime,
                     prepared: tuple[Any, ...] | None = None) -> tuple[int, int]:
        """Merge fetched items into the inbox; returns (new, updated) (see sync.store_items)."""
        new, updated, _ = self._file_items(source_id, items, now, prepared)
        return new, updated

    def _file_items(self, source_id: str, items: Sequence[ItemData], now: datetime,
                    prepared: tuple[Any, ...] | None = None) -> tuple[int, int, int]:
        """Merge fetched items into the inbox; returns (new, updated, added) (see
        sync.store_items)."""
        from companion.sync import store_items

        return store_items(self.store, source_id, items, now, prepared, me=self.me())

    # ----- inbox ----------------------------------------------------------------------------

    def list_items(self, flt: ItemFilter) -> list[dict[str, Any]]:
        """Items matching every filter, newest first: light records (``full_items`` adds
        their text and media)."""
        source_ids: set[str] | None = None
        if flt.source:
            source_ids = {self.find_source(flt.source).id}
        if flt.topic:
            t = flt.topic.lstrip("#").casefold()
            ids = {s.id for s in self.config.sources if t in {x.casefold() for x in s.topics}}
            if not ids:
                raise UsageError(f"no source has the topic {flt.topic!r}")
            source_ids = ids if source_ids is None else source_ids & ids
        tag = flt.tag.lstrip("#").casefold() if flt.tag else None
        words = query_words(flt.search) if flt.search else []
        if flt.search is not None and not words:
            raise UsageError("--search needs at least one word")

        def where(r: dict[str, Any]) -> bool:
            if flt.unread_only and not flt.starred and r.get("read"):
                return False
            if flt.starred and not r.get("starred"):
                return False
            if source_ids is not None and not source_ids.intersection(r["sources"]):
                return False
            if tag is not None and tag not in {t.casefold() for t in r.get("tags", [])}:
                return False
            return True

        out: list[dict[str, Any]] = []
        if not self.home.inbox_dir.exists():
            return out
        unread = flt.unread_only and not flt.starred  # (skipped by the index: issue 14)
        rows = (
            self.store.search_items(words, since=flt.since, where=where, unread=unread,
                                    starred=flt.starred)
            if words
            else self.store.iter_items(since=flt.since, where=where, unread=unread,
                                       starred=flt.starred)
        )
        for rec in rows:
            out.append(rec)
            if flt.limit is not None and len(out) >= flt.limit:
                break
        return out

    def full_items(self, recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Full records (with text and media) for light records from ``list_items``."""
        return [self.store.get(r["id"]) or r for r in recs]

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

    def parent_of(self, rec: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        """The stored status an item replies to, else a link to it (companion/parents.py)."""
        from companion import parents

        to = rec.get("reply_to")
        if not to or "://" in to:
            return (self.item_by_key(to), to) if to else (None, None)
        hosts = self.source_hosts()
        published = parse_iso(rec["published"])
        near = self.store.iter_items(since=published - parents.WINDOW,
                                     until=published + timedelta(seconds=1),
                                     where=lambda r: r["kind"] == "status")
        found = parents.find_parent(rec, hosts, near)
        if found is not None:
            return self.store.get(found["id"]), None
        instances = [a.instance for a in self.credentials.accounts] if hosts else []
        return None, parents.parent_link(rec, hosts, instances)

    def item_by_key(self, key: str) -> dict[str, Any] | None:
        """The stored item with this identity (e.g. a status uri), if any."""
        from companion.decide import item_id

        rec = self.store.get(item_id(key))
        return rec if rec is not None and rec.get("key") == key else None

    def get_item(self, prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """One item's record and body by id prefix."""
        rec = self.store.require(prefix)
        return rec, self.store.get_body(rec["id"])

    def set_flags(self, prefixes: list[str], **flags: bool) -> list[str]:
        """Set read/starred on items by id prefix; returns their full ids.

        Marking a story read also marks its plain shares read (settings.mark_shares_read).
        """
        ids = list(dict.fromkeys(self.store.resolve(p) for p in prefixes))
        changes = {i: dict(flags) for i in ids}
        if flags.get("read") is True:
            changes = {**self._plain_shares(ids), **changes}
        self.store.update_many(changes)
        self._read_hook(changes, flags)
        return ids

    def mark_all(self, flt: ItemFilter, **flags: bool) -> int:
        """Set flags on every item matching a filter; returns how many changed."""
        recs = self.list_items(replace(flt, limit=None))
        changes = {r["id"]: dict(flags) for r in recs}
        if flags.get("read") is True:
            changes = {**self._plain_shares(list(changes)), **changes}
        n = self.store.update_many(changes)
        self._read_hook(changes, flags)
        return n

    def _read_hook(self, changes: dict[str, Any], flags: dict[str, bool]) -> None:
        """Items just marked read: move the home read marker (issue 17, sync_markers)."""
        if flags.get("read") is True and changes and self.settings.sync_markers:
            from companion.network.markers import after_read

            after_read(self, list(changes))

    def _plain_shares(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Statuses that only share one of these stories (no commentary of their own)."""
        from companion.decide import is_plain_share

        if not self.settings.mark_shares_read:
            return {}
        out: dict[str, dict[str, Any]] = {}
        for n, i in enumerate(sorted(ids, key=lambda i: self.store.locate(i) or "")):
            if n % 200 == 199:
                self.store.release_clean()  # `read --all` over many weeks: stay small
            rec = self.store.get_light(i)
            if rec is None or rec["kind"] != "feed" or not rec.get("link_key"):
                continue
            for j in self.store.link_ids(rec["link_key"]):
                if j == i:
                    continue
                st = self.store.get(j, text=False)  # a status: its text is stored
                if st and st.get("story") == i and not st.get("read") and is_plain_share(st):
                    out[j] = {"read": True}
        return out

    def links(self, since: datetime | None, limit: int | None = None) -> list[dict[str, Any]]:
        """What the network is reading: links shared in the period, ranked by distinct people."""
        stories: dict[str, dict[str, Any]] = {}
        if not self.home.inbox_dir.exists():
            return []
        for rec in self.store.iter_items(since=since, where=lambda r: r["kind"] != "feed"):
            key = rec.get("link_key")
            if not key:
                continue
            st = stories.setdefault(key, {"key": key, "url": rec.get("link"), "people": [],
                                          "statuses": [], "story": rec.get("story"),
                                          "last_shared": rec["published"]})
            author = rec.get("author") or {}
            for who in (author.get("handle") or author.get("name"), *rec.get("boosted_by", [])):
                if who and who not in st["people"]:
                    st["people"].append(who)
            st["statuses"].append(rec["id"])
            st["story"] = st["story"] or rec.get("story")
        ranked = sorted(stories.values(), key=lambda s: (len(s["people"]), s["last_shared"]),
                        reverse=True)
        out = []
        for st in ranked[: limit or None]:
            feed = self.store.get(st["story"], text=False) if st["story"] else None
            out.append({
                # the story's own URL, else the link as everyone shared it (no tracking)
                "url": (feed.get("url") if feed else None) or canonical_url(st["url"]) or st["url"],
                "title": feed.get("title", "") if feed else "",
                "people": st["people"],
                "count": len(st["people"]),
                "statuses": st["statuses"],
                "in_feed": feed is not None,
                "item": feed["id"] if feed else None,
                "feed_sources": list(feed["sources"]) if feed else [],
                "last_shared": st["last_shared"],
            })
        return out

    def prunable(self, older_than: timedelta, now: datetime | None = None) -> list[dict[str, Any]]:
        """The items ``prune`` would delete (light records), newest first."""
        now = now or self.clock()
        cutoff = iso(now - older_than)
        cited = self.cited_items()
        if not self.home.inbox_dir.exists():
            return []
        return [
            r
            for r in self.store.iter_items(
                until=now - older_than,
                where=lambda r: not r.get("starred") and r["id"] not in cited,
            )
            if r["published"] < cutoff
        ]

    def prune(self, older_than: timedelta, now: datetime | None = None) -> int:
        """Delete items published before now - older_than, except starred items and items a
        reflection cites (the journal is never touched); each source's count follows."""
        from collections import Counter

        from companion.source_health import forget

        doomed = self.prunable(older_than, now)
        lost: Counter[str] = Counter()  # items each source loses (its count in source list)
        for r in doomed:
            lost.update(r["sources"])
        n = self.store.delete_many([r["id"] for r in doomed])
        for sid, state in forget(self.store.all_states(), lost).items():
            self.store.put_state(sid, state)
        return n

    def cited_items(self) -> set[str]:
        """Ids of inbox items that reflections cite or reply to."""
        if not self.home.journal_file.exists():
            return set()
        ids: set[str] = set()
        for refl in self.journal.all():
            refs = [*(refl.get("cites") or []), refl.get("reply_to")]
            for ref in refs:
                if isinstance(ref, dict):
                    ids.update(v for k in ("item", "id") if isinstance(v := ref.get(k), str))
        return ids

    def source_labels(self) -> dict[str, str]:
        """Source id -> label, for rendering."""
        return {s.id: s.label for s in self.config.sources}

    def require_sources(self) -> None:
        """ConfigError with a hint when nothing is followed yet."""
        if not self.config.sources:
            raise ConfigError(
                f"no sources in {self.home.config_file}: add one with `pln source add SPEC`"
            )

    # ----- reflections (issue 6: journal first, then publish) --------------------------------

    def reflections(self) -> Any:
        """The journal-and-publish verbs (companion.reflections.publish.Reflections)."""
        from companion.reflections.publish import Reflections

        return Reflections(self)

    def post_reflection(self, text: str, **options: Any) -> dict[str, Any]:
        """Write a reflection to the journal, then post it (see Reflections.prepare/post)."""
        r = self.reflections()
        return r.post(r.prepare(text, **options))

    def retry_reflection(self, prefix: str) -> dict[str, Any]:
        """Resume posting a pending or failed reflection where it stopped."""
        return self.reflections().retry(prefix)

    def list_reflections(self, *, drafts: bool = False) -> list[dict[str, Any]]:
        """Every reflection (or only those not fully posted), newest first."""
        r = self.reflections()
        return r.drafts() if drafts else r.all()

    def export_journal(self, fmt: str) -> str:
        """The journal as Markdown (by week), Atom or JSON."""
        from companion.reflections.export import export

        handles = [a.handle for a in self.credentials.accounts if a.handle]
        return export(self.list_reflections(), fmt, author=handles[0] if handles else "")
