"""The one Source protocol every kind implements, and the registry of kinds.

A source is given its opaque saved state and the clock, and returns items, a new state and
whether anything changed. It never touches the store. Adding a network (Bluesky, …) is one
new module plus one line in ``REGISTRY``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from companion.errors import SourceError

if TYPE_CHECKING:
    from companion.config import Settings
    from companion.credentials import Credentials
    from companion.models import ItemData
    from companion.specs import SourceSpec


@dataclass(frozen=True)
class FetchResult:
    """What one fetch produced."""

    items: Sequence[ItemData] = ()
    state: Mapping[str, Any] = field(default_factory=dict)  # opaque, saved for next time
    not_modified: bool = False  # nothing new (e.g. 304): no parsing, no database write
    new_url: str | None = None  # a permanent redirect: the config is updated
    retired: bool = False  # 410 Gone: stop fetching
    notes: tuple[str, ...] = ()  # things worth telling the user (fallbacks, chosen feeds)
    requests: int = 0
    # SourceContext.prepare's result for ``items``, one per item, when the source ran it
    prepared: tuple[Any, ...] | None = None
    # The rest of the fetch runs elsewhere (a feed parsed in a worker process) and this result
    # is not final: once ``later`` (a Future) is done, ``finish(later)`` gives the one that
    # replaces it, or raises as fetch would. The fetch thread is free for the next source.
    later: Any = None
    finish: Callable[[Any], FetchResult] | None = None


class RetryLater(SourceError):
    """The server asked us to come back later (429/503 + Retry-After, rate limits)."""

    def __init__(self, message: str, *, until: datetime, subject: str | None = None) -> None:
        super().__init__(message, subject=subject)
        self.until = until


@dataclass(frozen=True)
class SourceContext:
    """What a source may use: settings and accounts (never the store)."""

    settings: Settings
    credentials: Credentials
    user_agent: str
    # What the store would write for items should they be new: (items, source id, now) ->
    # one entry per item. A source that parses in worker processes runs it there, so the
    # thread that stores items has less to do (issue 3). A picklable module-level function.
    prepare: Callable[[tuple[ItemData, ...], str, datetime], tuple[Any, ...]] | None = None


class Source(Protocol):
    """Fetch with an opaque saved state -> items + new state + not-modified."""

    spec: SourceSpec

    def fetch(self, state: Mapping[str, Any], now: datetime) -> FetchResult: ...


# kind -> "module:Class", imported only when a sync needs it (start-up time: issue 2).
REGISTRY: dict[str, str] = {
    "feed": "companion.sources.feed:FeedSource",
    "account": "companion.sources.mastodon:MastodonSource",
    "tag": "companion.sources.mastodon:MastodonSource",
    "list": "companion.sources.mastodon:MastodonSource",
    "home": "companion.sources.mastodon:MastodonSource",
    "mentions": "companion.sources.mastodon:MastodonSource",
    "bookmarks": "companion.sources.mastodon:MastodonSource",
    "followed-tags": "companion.sources.mastodon:MastodonSource",
    "maildir": "companion.sources.mail:MaildirSource",
    "mbox": "companion.sources.mail:MboxSource",
    "imap": "companion.sources.imap:ImapSource",
    "bluesky": "companion.sources.bluesky:BlueskySource",
}


def prepare_sources(kinds: set[str], fresh: set[str] | None = None) -> None:
    """Let the modules behind ``kinds`` get ready for a sync (e.g. start parse processes);
    ``fresh``: the kinds with a source never synced yet (None: all of them)."""
    modules: dict[str, bool] = {}
    for k in kinds:
        if k in REGISTRY:
            name = REGISTRY[k].partition(":")[0]
            modules[name] = modules.get(name, False) or fresh is None or k in fresh
    for name, is_fresh in modules.items():
        module = importlib.import_module(name)
        ready = getattr(module, "prepare", None)
        if callable(ready):
            ready(is_fresh)


def close_sources() -> None:
    """Release what source modules keep between fetches (e.g. feed parse processes)."""
    import sys

    for target in set(REGISTRY.values()):
        module = sys.modules.get(target.partition(":")[0])
        closer = getattr(module, "close", None)
        if callable(closer):
            closer()


def make_source(spec: SourceSpec, ctx: SourceContext) -> Source:
    """Instantiate the Source class registered for ``spec.kind``."""
    target = REGISTRY.get(spec.kind)
    if target is None:
        raise SourceError(f"no fetcher for sources of kind {spec.kind!r}", subject=spec.id)
    module_name, _, cls_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name == module_name:
            raise SourceError(
                f"syncing {spec.kind} sources is not available in this version of pln",
                subject=spec.id,
            ) from e
        raise
    cls = getattr(module, cls_name)
    return cls(spec, ctx)  # type: ignore[no-any-return]
