"""The pln service object: one verb per command, no terminal, no Typer (STYLE.md).

``Companion`` is a facade: the parts it works on are a ``Context`` (companion.context) and
each verb is one call into the module that owns it, along the data flow —
``sources_registry`` (what is followed), ``sync`` (the engine), ``inbox`` (queries and
triage), ``reflections`` (journal and publishing). The CLI and the TUI are its two clients.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from companion import inbox, sources_registry
from companion.context import Context
from companion.inbox import ItemFilter, parse_since
from companion.models import ItemData
from companion.read_models import Item, ItemPage, SharedLink, SourceView
from companion.specs import SourceSpec
from companion.sync import ProgressFn, SyncResult, prepare_new_items

if TYPE_CHECKING:
    from companion.reflections.publish import Reflections

__all__ = ["Companion", "ItemFilter", "SyncResult", "item_json", "parse_since", "prepare_new_items"]


def item_json(rec: dict[str, Any]) -> dict[str, Any]:
    """The PRODUCT.md ``--json`` item shape of a store record (see ``Item.as_json``)."""
    return Item.from_record(rec).as_json()


class Companion(Context):
    """pln as a library: configuration, sources, sync, inbox, reflections."""

    # ----- sources (companion.sources_registry) ---------------------------------------------

    def add_source(self, spec_text: str, **options: Any) -> SourceSpec:
        """Validate a SPEC and append it to config.toml (see sources_registry.add_source)."""
        return sources_registry.add_source(self, spec_text, **options)

    def set_mail_password(self, spec: SourceSpec | str, password: str | None,
                          read_password: Callable[[str], str] | None = None, *,
                          reuse: bool = True) -> SourceSpec:
        """Check an IMAP source's password with its server, then keep it."""
        return sources_registry.set_mail_password(self, spec, password, read_password,
                                                  reuse=reuse)

    def list_sources(self) -> list[SourceView]:
        """Every configured source with its health."""
        return sources_registry.list_sources(self)

    def remove_source(self, prefix: str) -> SourceSpec:
        """Stop following a source; its items stay in the inbox."""
        return sources_registry.remove_source(self, prefix)

    def import_opml(self, path: Path) -> tuple[list[SourceSpec], list[tuple[str, str]]]:
        """Add every subscription of an OPML file; returns (added, [(spec, why skipped)])."""
        return sources_registry.import_opml(self, path)

    def export_opml(self) -> tuple[str, list[SourceSpec]]:
        """OPML for every source that other readers can follow, plus those left out."""
        return sources_registry.export_opml(self)

    # ----- accounts -------------------------------------------------------------------------

    def login(self, instance_url: str, *, token: str | None = None, name: str | None = None,
              read_code: Callable[[str], str] | None = None) -> Any:
        """Log in to a Mastodon-compatible instance (OAuth code flow, or a token) and store the
        account; returns it (its repr never shows the token)."""
        from companion.accounts import login

        self.home.ensure()
        settings = self.settings_or_default()
        return login(self.credentials, instance_url, token=token, name=name,
                     read_code=read_code, user_agent=self.user_agent(),
                     timeout=settings.timeout)

    # ----- sync (companion.sync) ------------------------------------------------------------

    def prepare_sync(self) -> None:
        """Start what a sync of the configured sources needs (parse processes) before the
        caller starts threads of its own, such as a progress bar."""
        from companion.sync import prepare

        prepare(self, self.config.sources)

    def sync(self, prefixes: list[str] | None = None,
             progress: ProgressFn | None = None) -> list[SyncResult]:
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

    # ----- inbox (companion.inbox) ----------------------------------------------------------

    def list_items(self, flt: ItemFilter, *, fold_threads: bool = False) -> list[Item]:
        """Items matching every filter, newest first, light (``full_items`` reads the rest)."""
        return inbox.list_items(self, flt, fold_threads=fold_threads)

    def full_items(self, items: list[Item]) -> list[Item]:
        """The same items in full (with text and media)."""
        return inbox.full_items(self, items)

    def iter_full_items(self, flt: ItemFilter) -> Iterator[Item]:
        """``full_items(list_items(flt))`` one at a time (a whole inbox as JSON)."""
        return inbox.iter_full_items(self, flt)

    def get_item(self, prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """One item's record and body by id prefix."""
        return inbox.get_item(self, prefix)

    def item_page(self, rec: dict[str, Any], body: dict[str, Any]) -> ItemPage:
        """What `pln show` presents of an item: it in full, its HTML, parent and story."""
        return inbox.item_page(self, rec, body)

    def parent_of(self, rec: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        """The stored status an item replies to, else a link to it (companion/parents.py)."""
        return inbox.parent_of(self, rec)

    def item_by_key(self, key: str) -> dict[str, Any] | None:
        """The stored item with this identity (e.g. a status uri), if any."""
        return inbox.item_by_key(self, key)

    def set_flags(self, prefixes: list[str], **flags: bool) -> list[str]:
        """Set read/starred on items by id prefix; returns their full ids."""
        return inbox.set_flags(self, prefixes, **flags)

    def mark_all(self, flt: ItemFilter, **flags: bool) -> int:
        """Set flags on every item matching a filter; returns how many changed."""
        return inbox.mark_all(self, flt, **flags)

    def links(self, since: datetime | None, limit: int | None = None) -> list[SharedLink]:
        """What the network is reading: links shared in the period, ranked by distinct people."""
        return inbox.links(self, since, limit)

    def prunable(self, older_than: timedelta, now: datetime | None = None) -> list[dict[str, Any]]:
        """The items ``prune`` would delete (light records), newest first."""
        return inbox.prunable(self, older_than, now)

    def prune(self, older_than: timedelta, now: datetime | None = None) -> int:
        """Delete old items, except starred items and items a reflection cites."""
        return inbox.prune(self, older_than, now)

    def cited_items(self) -> set[str]:
        """Ids of inbox items that reflections cite or reply to."""
        return inbox.cited_items(self)

    # ----- reflections (issue 6: journal first, then publish) --------------------------------

    def reflections(self) -> Reflections:
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
