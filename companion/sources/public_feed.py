"""The public feed of ``@user@host`` or ``#tag@host``, for a host that refuses unauthenticated
API reads and no logged-in account can read it through (issues 4 and 11).

Servers put these feeds in different places (Mastodon: ``/@user.rss``; others: the account's
profile URL + ``.rss``, ``/users/user/feed.atom`` …), so the feed is *found*, not assumed: the
one found last time, then the account's profile page (its URL from WebFinger, which every
fediverse server answers because federation needs it, or from the API when it answered) and
the feeds that page names with ``<link rel="alternate">``, then the profile URL + ``.rss``,
then Mastodon's path. The feed found is remembered in the source's state (``rss_url``): later
syncs ask it alone, conditionally, and OPML export names it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from companion.errors import FetchError, ParseError
from companion.models import ItemData
from companion.sources.base import FetchResult
from companion.sources.mastodon_items import normalize_rss_entry
from companion.specs import ACCOUNT, SourceSpec

if TYPE_CHECKING:
    from companion.sources.base import SourceContext

PROFILE_PAGE = "http://webfinger.net/rel/profile-page"
MAX_TRIES = 6  # requests spent looking for a feed, at most


def account_user(spec: SourceSpec) -> str:
    """``@user@host`` -> ``user``."""
    return spec.target.lstrip("@").split("@")[0]


def mastodon_feed_url(spec: SourceSpec, base: str) -> str:
    """Where Mastodon serves the feed: ``/@user.rss`` or ``/tags/TAG.rss``."""
    if spec.kind == ACCOUNT:
        return f"{base}/@{quote(account_user(spec))}.rss"
    return f"{base}/tags/{quote(spec.target)}.rss"


def guessed_feed_url(spec: SourceSpec, base: str, state: dict[str, Any]) -> str:
    """The best feed URL known without asking: the one found, else the profile URL + .rss,
    else Mastodon's path (for OPML export)."""
    if state.get("rss_url"):
        return str(state["rss_url"])
    if spec.kind == ACCOUNT and state.get("profile_url"):
        return str(state["profile_url"]).rstrip("/") + ".rss"
    return mastodon_feed_url(spec, base)


class _Finder:
    """Tries candidate URLs in order; a web page among them adds the feeds it names."""

    def __init__(self, spec: SourceSpec, host: str, base: str, state: dict[str, Any],
                 ctx: SourceContext) -> None:
        self.spec, self.host, self.base, self.state, self.ctx = spec, host, base, state, ctx
        self.requests = 0
        self.tried: list[tuple[str, str]] = []  # (feed url, what happened)

    def _get(self, url: str, **kw: Any) -> Any:
        from companion.sources.feed import http_get

        self.requests += 1
        return http_get(url, self.ctx.settings, self.ctx.user_agent, **kw)

    def _webfinger_profile(self) -> str | None:
        user = account_user(self.spec)
        url = f"{self.base}/.well-known/webfinger?resource=acct:{quote(user)}@{quote(self.host)}"
        try:
            resp = self._get(url)
            doc = json.loads(resp.body) if resp.status == 200 else {}
        except (FetchError, ValueError):
            return None
        for link in doc.get("links") or [] if isinstance(doc, dict) else []:
            href = str(link.get("href") or "") if isinstance(link, dict) else ""
            if link.get("rel") == PROFILE_PAGE and href.startswith(("http://", "https://")):
                return href
        return None

    def candidates(self) -> Iterator[tuple[str, bool]]:
        """(url, is a page to search for feeds) in the order they are tried."""
        if self.state.get("rss_url"):
            yield str(self.state["rss_url"]), False
        if self.spec.kind == ACCOUNT:
            profile = self.state.get("profile_url") or self._webfinger_profile()
            if profile:
                self.state["profile_url"] = profile
                yield profile, True
                yield profile.rstrip("/") + ".rss", False
        else:
            yield mastodon_feed_url(self.spec, self.base), False
            yield f"{self.base}/tags/{quote(self.spec.target)}", True
        if self.spec.kind == ACCOUNT:
            yield mastodon_feed_url(self.spec, self.base), False

    def find(self, conditional: bool) -> tuple[str, Any]:
        """The first candidate that answers with a feed (or 304): (its url, the response)."""
        from companion.sources.feed import _rank, find_feed_links
        from companion.sources.feed_parse import looks_like_html

        seen: set[str] = set()
        queue: list[tuple[str, bool]] = []
        gen = self.candidates()
        while self.requests < MAX_TRIES:
            if not queue:
                nxt = next(gen, None)
                if nxt is None:
                    break
                queue.append(nxt)
            url, page = queue.pop(0)
            if url in seen:
                continue
            seen.add(url)
            known = conditional and url == self.state.get("rss_url")
            try:
                resp = self._get(url, etag=self.state.get("etag") if known else None,
                                 last_modified=self.state.get("last_modified") if known else None)
            except FetchError as e:
                if not page:
                    self.tried.append((url, e.message))
                continue
            if resp.status == 304 and known:
                return url, resp
            if resp.status != 200:
                if not page:
                    self.tried.append((url, f"answered {resp.status}"))
                continue
            if looks_like_html(resp.body, resp.headers):
                links = sorted(find_feed_links(resp.body, resp.url), key=_rank)
                queue[:0] = [(u, False) for u, _ in links if u not in seen]
                if not page:
                    self.tried.append((url, "is a web page"))
                continue
            return resp.moved_to or url, resp
        raise self._not_found()

    def _not_found(self) -> FetchError:
        what = self.spec.spec
        if len(self.tried) == 1:
            url, why = self.tried[0]
            msg = f"{self.host} refuses unauthenticated API access and its RSS feed {url} {why}"
        else:
            tried = "; ".join(f"{u} {w}" for u, w in self.tried) or "nothing to try"
            msg = (f"{self.host} refuses unauthenticated API access and no public feed of "
                   f"{what} was found ({tried})")
        return FetchError(msg, subject=self.spec.id)


def fetch_public_feed(
    spec: SourceSpec, host: str, base: str, state: dict[str, Any], now: datetime,
    ctx: SourceContext, notes: list[str], requests: int,
) -> FetchResult:
    """Items of the host's public feed for ``spec`` (found as the module docstring says)."""
    import feedparser

    first = state.get("mode") != "rss"
    finder = _Finder(spec, host, base, state, ctx)
    url, resp = finder.find(conditional=not first)
    if first or url != state.get("rss_url"):
        notes.append(f"{host} refuses unauthenticated API access; following its public RSS "
                     f"feed instead ({url})")
    requests += finder.requests
    if resp.status == 304:
        state["mode"] = "rss"
        return FetchResult(state=state, not_modified=True, notes=tuple(notes), requests=requests)
    parsed = feedparser.parse(resp.body)
    if parsed.get("bozo") and not parsed.get("entries"):
        raise ParseError(f"{url} is not a readable RSS feed", subject=spec.id)
    handle = spec.target if spec.kind == ACCOUNT else ""
    items: list[ItemData] = []
    for entry in parsed.get("entries", []):
        item = normalize_rss_entry(entry, host=host, handle=handle)
        if item is not None:
            items.append(item)
    if first:
        settings = ctx.settings
        if settings.first_sync_days:
            cutoff = now - timedelta(days=settings.first_sync_days)
            items = [i for i in items if i.published is None or i.published >= cutoff]
        items = items[: settings.first_sync_limit]
    state.update(mode="rss", rss_url=url, etag=resp.headers.get("ETag"),
                 last_modified=resp.headers.get("Last-Modified"))
    return FetchResult(items=tuple(items), state=state, not_modified=not items,
                       notes=tuple(notes), requests=requests)


__all__ = ["fetch_public_feed", "guessed_feed_url", "mastodon_feed_url"]
