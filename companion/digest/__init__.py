"""`pln digest`: what happened in your network in a period, computed from the inbox and the
journal (``build``), remembered per output (``marks``), rendered as Markdown, HTML or JSON
(``render_*``; the terminal rendering is the CLI's)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from companion.digest.build import FIRST_PERIOD, Period, build_digest
from companion.digest.model import Digest
from companion.errors import UsageError

if TYPE_CHECKING:
    from companion.context import Context

FORMATS = ("text", "md", "html", "json")
_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")


def period(since: str | None, until: str | None, now: datetime,
           mark: datetime | None) -> Period:
    """[since, until) from the options: ``--until`` defaults to now (a bare date counts
    whole); ``--since`` to the previous digest's mark, else the last 7 days."""
    from companion.inbox import parse_since

    end = now
    if until is not None:
        end = parse_since(until, now).replace(microsecond=0)
        if _DATE.match(until):
            end += timedelta(days=1)  # --until 2026-11-07 includes that day
        if since is None and end > now:
            end = now
    if since is not None:
        start = parse_since(since, now)
        if start >= end:
            raise UsageError(f"bad --since {since!r}: it is not before the end of the period "
                             f"({end.strftime('%Y-%m-%d %H:%M UTC')})")
        return Period(start, end)
    if mark is not None:
        return Period(min(mark, end), end, since_last_digest=True)
    return Period(end - FIRST_PERIOD, end)


def make_digest(c: Context, p: Period, *, topic: str | None = None,
                source: str | None = None) -> Digest:
    """The digest of period ``p`` from a Context's sources, inbox, journal and accounts."""
    sources = c.config.sources
    only: set[str] | None = None
    topic_name = None
    source_id = None
    if source:
        source_id = c.find_source(source).id
        only = {source_id}
    if topic:
        t = topic.lstrip("#").casefold()
        matching = [s for s in sources if t in {x.casefold() for x in s.topics}]
        if not matching:
            raise UsageError(f"no source has the topic {topic!r}")
        topic_name = next(x for x in matching[0].topics if x.casefold() == t)
        ids = {s.id for s in matching}
        only = ids if only is None else only & ids
    reflections = c.journal.all() if c.home.journal_file.exists() else []
    handles = {a.handle for a in c.credentials.accounts if a.handle} if \
        c.home.credentials_file.exists() else set()
    handles |= {a.get("handle", "") for r in reflections for a in r.get("accounts", ())}
    store = c.store if c.home.inbox_dir.exists() else _EmptyInbox()
    return build_digest(store, period=p, now=c.clock(), sources=sources,
                        reflections=reflections, my_handles=handles, only_sources=only,
                        topic=topic_name, source=source_id)


class _EmptyInbox:
    """The inbox before the first sync."""

    def iter_items(self, **_: object) -> list[dict[str, object]]:
        return []

    def get_light(self, item_id: str) -> None:
        return None

    def get_body(self, item_id: str) -> dict[str, object]:
        return {}


__all__ = ["FORMATS", "Digest", "Period", "build_digest", "make_digest", "period"]
