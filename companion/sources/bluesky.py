"""Bluesky accounts (issue 18): the public profile RSS that bsky.app serves, no login needed.

``BASE/profile/HANDLE/rss`` (``settings.bluesky_base``, https://bsky.app by default) answers
302 to ``/profile/DID/rss``: the account's 30 newest top-level posts (no replies, no reposts).
Each ``<item>`` has the post's web link, its text as plain text (the web app's shortened links
expanded to full URLs, a link card's URL appended on a line of its own), a ``pubDate`` to the
minute and the post's ``at://`` URI as a non-permalink guid — the key of the item, stable when
the handle changes. The channel title is ``@handle - Display Name``. An account that hides
itself from logged-out viewers answers 403, an unknown one 404.

Fetching is the feed sources' (conditional GET, timeouts, size cap, Retry-After); parsing is
feedparser's, told not to sanitize: the description is text, not HTML.
"""

from __future__ import annotations

import html as htmlmod
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from companion.errors import FetchError, ParseError
from companion.models import STATUS_ITEM, Author, ItemData, iso, parse_iso
from companion.sources.base import FetchResult, SourceContext
from companion.sources.feed import http_get, status_error
from companion.specs import SourceSpec
from companion.urls import canonical_url

_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
# A link the app showed without its scheme ("example.org/2024/11/page"): only with a path,
# so "Node.js" or "e.g." never become links.
_BARE = re.compile(
    r"(?<![\w@/.])((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}/[^\s<>\"]*)", re.IGNORECASE
)
_TRAILING = ".,;:!?)]}'\"»”’"
_TITLE = re.compile(r"^@(\S+)(?: - (.*))?$", re.DOTALL)


def profile_rss_url(base: str, actor: str) -> str:
    """The profile RSS of a handle or DID on ``base`` (e.g. https://bsky.app)."""
    return f"{base.rstrip('/')}/profile/{quote(actor, safe=':.')}/rss"


def _links(text: str) -> list[str]:
    """The http(s) links of a post's text, in order: full URLs first as written, then the
    bare ``host/path`` ones; a link still shortened ("…" / "...") is no link at all."""
    found: list[tuple[int, str]] = []
    for m in _URL.finditer(text):
        found.append((m.start(), m.group(0)))
    taken = [(m.start(), m.end()) for m in _URL.finditer(text)]
    for m in _BARE.finditer(text):
        if not any(a <= m.start() < b for a, b in taken):
            found.append((m.start(), "https://" + m.group(1)))
    out = []
    for _, url in sorted(found):
        if url.endswith(("...", "…")):
            continue
        url = url.rstrip(_TRAILING)
        if url and url not in out:
            out.append(url)
    return out


def _shared_link(text: str) -> str | None:
    """The external link a post shares: the first that is not Bluesky itself."""
    for url in _links(text):
        host = (urlsplit(url).hostname or "").lower()
        if host in ("bsky.app", "bsky.social", "go.bsky.app") or host.endswith(".bsky.social"):
            continue
        c = canonical_url(url)
        if c:
            return c
    return None


def _text_html(text: str) -> str:
    """Plain post text as simple HTML: paragraphs, line breaks, links made clickable."""
    out = []
    for para in re.split(r"\n\s*\n", text.strip()):
        lines = []
        for line in para.split("\n"):
            pieces, last = [], 0
            for m in _URL.finditer(line):
                url = m.group(0).rstrip(_TRAILING)
                pieces.append(htmlmod.escape(line[last:m.start()]))
                pieces.append(f'<a href="{htmlmod.escape(url)}">{htmlmod.escape(url)}</a>')
                last = m.start() + len(url)
            pieces.append(htmlmod.escape(line[last:]))
            lines.append("".join(pieces))
        out.append("<p>" + "<br>".join(lines) + "</p>")
    return "".join(out)


def normalize_post(entry: Mapping[str, Any], author: Author) -> ItemData | None:
    """One ``<item>`` of a profile RSS (parsed by feedparser, unsanitized) as a status item."""
    link = str(entry.get("link") or "")
    key = str(entry.get("id") or "") or link
    if not key:
        return None
    raw = str(entry.get("summary") or entry.get("description") or "")
    text = raw.replace("\r\n", "\n").strip()
    published = None
    t = entry.get("published_parsed") or entry.get("updated_parsed")
    if t:
        published = datetime(t[0], t[1], t[2], t[3], t[4], t[5], tzinfo=UTC)
    return ItemData(
        key=key,
        kind=STATUS_ITEM,
        url=link or key,
        author=author,
        html=_text_html(text),
        text=text,
        published=published,
        link=_shared_link(text),
    )


def author_from_channel(feed: Mapping[str, Any], actor: str, base: str) -> Author:
    """``@handle - Display Name`` (the channel title) as the posts' author."""
    title = str(feed.get("title") or "").strip()
    handle, name = actor, ""
    if m := _TITLE.match(title):
        handle, name = m.group(1), (m.group(2) or "").strip()
    return Author(name=name or f"@{handle}", handle=f"@{handle}",
                  url=f"{base.rstrip('/')}/profile/{handle}")


class BlueskySource:
    """One Bluesky account's public posts, through its profile RSS."""

    def __init__(self, spec: SourceSpec, ctx: SourceContext) -> None:
        self.spec = spec
        self.ctx = ctx

    def fetch(self, state: Mapping[str, Any], now: datetime) -> FetchResult:
        """Conditional GET of the profile RSS, then its posts as items."""
        import feedparser

        base = self.ctx.settings.bluesky_base
        url = profile_rss_url(base, self.spec.target)
        who = self.spec.spec
        same = state.get("url") in (None, url)
        try:
            resp = http_get(url, self.ctx.settings, self.ctx.user_agent,
                            etag=state.get("etag") if same else None,
                            last_modified=state.get("last_modified") if same else None)
        except FetchError as e:
            raise FetchError(f"Bluesky {who}: {e.message}", subject=self.spec.id) from e
        if resp.status in (400, 404, 410):
            raise FetchError(f"no Bluesky account {who} ({base} answered {resp.status}); check "
                             "the handle", subject=self.spec.id)
        if resp.status in (401, 403):
            raise FetchError(f"Bluesky {who} does not show posts to logged-out readers "
                             f"({resp.status}): nothing to follow without a login",
                             subject=self.spec.id)
        err = status_error(resp, now)
        if err is not None:
            err.message = f"Bluesky {who}: {err.message}"
            err.subject = self.spec.id
            raise err
        new_state: dict[str, Any] = dict(state) if same else {}
        new_state["url"] = url
        for header, k in (("ETag", "etag"), ("Last-Modified", "last_modified")):
            if resp.headers.get(header):
                new_state[k] = resp.headers[header]
        if resp.status == 304:
            return FetchResult(state=new_state, not_modified=True, requests=1)
        # The description is the post's text, never HTML: read it as it is.
        parsed = feedparser.parse(resp.body, sanitize_html=False, resolve_relative_uris=False)
        if not parsed.get("version") or (parsed.get("bozo") and not parsed.get("entries")):
            raise ParseError(f"Bluesky {who}: {url} did not answer with a profile RSS feed",
                             subject=self.spec.id)
        author = author_from_channel(parsed.get("feed", {}), self.spec.target, base)
        items = [i for e in parsed.get("entries", []) if (i := normalize_post(e, author))]
        settings = self.ctx.settings
        if not same or not state.get("synced"):
            items = items[: settings.first_sync_limit]
            if settings.first_sync_days:
                # Kept: a post the first sync left out for its age must not come in later,
                # while the feed still lists it.
                new_state["floor"] = iso(now - timedelta(days=settings.first_sync_days))
        if new_state.get("floor"):
            floor = parse_iso(new_state["floor"])
            items = [i for i in items if i.published is None or i.published >= floor]
        new_state["synced"] = True
        return FetchResult(items=tuple(items), state=new_state, requests=1)
