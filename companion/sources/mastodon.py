"""Mastodon and fediverse sources: home, list:NAME, mentions, bookmarks, followed-tags, #tag,
#tag@host and @user@host — one ``Source`` class for every kind (issue 4).

Protocol notes that shape this module (issue 4, "real servers differ"):

* Status ids are opaque strings. They are never compared, sorted or used in arithmetic:
  Mastodon.py raises TypeError comparing ids that are not numeric snowflakes, and some
  servers use 42-character hex ids. The cursor is whatever id the *server* put first in its
  newest-first page (or the ``min_id`` of its ``Link: rel="prev"``); items are ordered by
  ``created_at``.
* Later syncs page forward with ``min_id``: Mastodon answers with the page just above the
  cursor, newest first, so after each page the cursor moves to that page's newest entry. A
  sync with nothing new is one request per source (an empty page).
* Pagination follows the ``Link`` header when there is one (bookmarks and notifications page
  by ids that are not status ids) and falls back to the page's own first/last ids when not.
* Mastodon.py runs with ``ratelimit_method="throw"``: its "wait"/"pace" modes sleep inside a
  shared client for up to minutes and are not thread-safe. Each fetch gets its own client;
  a 429 (or ``X-RateLimit-Remaining: 0``) becomes ``RetryLater`` until ``X-RateLimit-Reset``.
* ``@user@host`` and ``#tag@host`` use the host's public API without a token; a host that
  refuses unauthenticated access (401/403/422) is followed through its public RSS instead.

Mastodon.py objects never leave this module: statuses become ``ItemData`` in
``mastodon_items``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from companion.errors import AuthError, FetchError, ParseError, SourceError
from companion.models import ItemData, iso, parse_iso
from companion.sources.base import FetchResult, RetryLater, SourceContext
from companion.sources.mastodon_items import (
    as_datetime,
    normalize_rss_entry,
    normalize_statuses,
)
from companion.specs import ACCOUNT, LIST, TAG, SourceSpec, host_base_url

PAGE = 40  # Mastodon's maximum page size for timelines
MAX_PAGES = 25  # per source and sync; the cursor carries the rest to the next sync
FOLLOWED_TAGS_TTL = timedelta(hours=1)  # how long the list of followed tags is reused
API_RECHECK = timedelta(hours=24)  # an RSS-fallback source retries the API this often
DEFAULT_RETRY = timedelta(minutes=5)  # a 429 without usable X-RateLimit-Reset
REFUSED = (401, 403, 422)  # how hosts say "log in to see this" on public endpoints


class _Refused(FetchError):
    """A host refused unauthenticated access to a public endpoint (internal: triggers RSS)."""


def host_of(base_url: str) -> str:
    """``https://host:port/`` -> ``host:port``."""
    return urlsplit(base_url).netloc.lower()


def make_client(
    base_url: str,
    token: str | None,
    *,
    timeout: float,
    user_agent: str,
) -> Any:
    """A Mastodon.py client for one fetch: throws on rate limits, never sleeps, no version
    probe (that would cost a request per source)."""
    from mastodon import Mastodon

    return Mastodon(
        access_token=token,
        api_base_url=base_url.rstrip("/"),
        ratelimit_method="throw",
        request_timeout=timeout,
        user_agent=user_agent,
        version_check_mode="none",
        # A known version stops Mastodon.py from probing /api/v1/instance before some calls
        # (notifications with types, …): that probe would cost a request per source.
        mastodon_version="4.0.0",
    )


def hashtag_timeline(api: Any, tag: str, **params: Any) -> Any:
    """``GET /api/v1/timelines/tag/TAG`` as one request.

    Mastodon.py's ``timeline_hashtag`` first asks ``/api/v1/instance`` whether the timeline
    is available (one more request per source and sync, issue 4: "nothing new costs one
    request"), so its request helper is called directly; the response is parsed, paginated
    and error-checked exactly as by the public method.
    """
    request = getattr(api, "_Mastodon__api_request", None)
    if request is None:  # a future Mastodon.py without the helper: pay for the probe
        return api.timeline_hashtag(tag, **params)
    query = {k: str(v) for k, v in params.items() if v is not None}
    return request("GET", f"/api/v1/timelines/tag/{quote(tag, safe='')}", query)


def api_status_code(exc: BaseException) -> int | None:
    """The HTTP status a Mastodon.py API error carries (``args[1]``), if any."""
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) > 1 and isinstance(args[1], int):
        return args[1]
    return None


def translate_error(
    exc: BaseException, *, host: str, what: str, public: bool, subject: str | None = None
) -> SourceError:
    """A Mastodon.py exception as one clear pln error (the token is never in it)."""
    from mastodon.errors import (
        MastodonAPIError,
        MastodonNetworkError,
        MastodonNotFoundError,
        MastodonServerError,
        MastodonUnauthorizedError,
    )

    code = api_status_code(exc)
    if isinstance(exc, MastodonNetworkError):
        import requests

        cause = exc.__context__
        if isinstance(cause, requests.Timeout) or "timed out" in str(exc).lower():
            return FetchError(f"{host} did not answer in time ({what})", subject=subject)
        from companion.sources.neterr import network_reason

        return FetchError(f"cannot reach {host} ({what}): {network_reason(exc)}", subject=subject)
    if public and code in REFUSED:
        return _Refused(f"{host} refuses unauthenticated access ({code})", subject=subject)
    if isinstance(exc, MastodonUnauthorizedError) or code == 401:
        err: SourceError = AuthError(  # type: ignore[assignment]
            f"token for {host} was rejected — run `pln login {host_base_url(host)}`",
            subject=subject,
        )
        return err
    if isinstance(exc, MastodonNotFoundError) or code == 404:
        return FetchError(f"{what} not found on {host} (404)", subject=subject)
    if isinstance(exc, MastodonServerError):
        return FetchError(f"{host} had a server error ({code or '5xx'}) for {what}", subject=subject)
    if isinstance(exc, MastodonAPIError):
        first = str(exc.args[0]) if exc.args else ""
        if first.startswith("Could not parse"):
            return ParseError(f"{host} sent a malformed response for {what} (not JSON)", subject=subject)
        if code == 403:
            return FetchError(f"{host} refused access to {what} (403)", subject=subject)
        if code is not None:
            return FetchError(f"{host} answered {code} for {what}", subject=subject)
    return FetchError(f"{what} failed on {host}: {type(exc).__name__}", subject=subject)


def _page_id(entry: Mapping[str, Any]) -> str | None:
    value = entry.get("id")
    return None if value is None else str(value)


def _link_cursor(page: Any, rel: str, param: str) -> str | None:
    """The ``max_id``/``min_id`` Mastodon.py parsed from a ``Link`` header, if the server
    sent one (as a string: Mastodon.py turns digit strings into ints)."""
    info = getattr(page, f"_pagination_{rel}", None)
    if not info:
        return None
    for key in (param, "since_id") if rel == "prev" else (param,):
        if key in info and info[key] is not None:
            return str(info[key])
    return None


class MastodonSource:
    """Every Mastodon kind; which endpoint is asked depends on ``spec.kind``."""

    def __init__(self, spec: SourceSpec, ctx: SourceContext) -> None:
        self.spec = spec
        self.ctx = ctx
        self.requests = 0
        self.notes: list[str] = []
        self._rate_until: datetime | None = None

    # ----- the Source protocol --------------------------------------------------------------

    def fetch(self, state: Mapping[str, Any], now: datetime) -> FetchResult:
        """Fetch what is new since the cursor in ``state``."""
        kind = self.spec.kind
        if kind == ACCOUNT or (kind == TAG and self.spec.host):
            return self._fetch_public(dict(state), now)
        account = self.ctx.credentials.account(self.spec.account)
        api = self._client(account.instance, account.token)
        try:
            return self._fetch_logged_in(api, host_of(account.instance), dict(state), now)
        finally:
            api.session.close()

    # ----- plumbing -------------------------------------------------------------------------

    def _client(self, base_url: str, token: str | None) -> Any:
        return make_client(
            base_url, token, timeout=self.ctx.settings.timeout, user_agent=self.ctx.user_agent
        )

    def _call(
        self, api: Any, host: str, what: str, fn: Callable[..., Any], *args: Any,
        public: bool = False, **kwargs: Any,
    ) -> Any:
        """One API request: counted, errors translated, rate-limit headers respected."""
        from mastodon.errors import MastodonError, MastodonRatelimitError

        self.requests += 1
        try:
            result = fn(*args, **kwargs)
        except MastodonRatelimitError as e:
            until = self._reset_time(api)
            raise RetryLater(
                f"rate limited by {host}; retrying after {iso(until)}", until=until,
                subject=self.spec.id,
            ) from e
        except MastodonError as e:
            raise translate_error(e, host=host, what=what, public=public, subject=self.spec.id) from e
        remaining = getattr(api, "ratelimit_remaining", None)
        if isinstance(remaining, int) and remaining <= 0:
            self._rate_until = self._reset_time(api)
        return result

    @staticmethod
    def _reset_time(api: Any) -> datetime:
        reset = getattr(api, "ratelimit_reset", None)
        if isinstance(reset, (int, float)) and reset > time.time():
            return datetime.fromtimestamp(reset, UTC)
        return datetime.now(UTC) + DEFAULT_RETRY

    def _pages(
        self,
        api: Any,
        host: str,
        what: str,
        call: Callable[..., Any],
        cursor: str | None,
        now: datetime,
        *,
        statuses_of: Callable[[list[Any]], list[Any]] = lambda page: page,
        age_bound: bool = True,
        public: bool = False,
    ) -> tuple[list[Any], str | None]:
        """Raw statuses newer than ``cursor`` (or the bounded first sync) and the new cursor.

        Never compares ids (see the module docstring): the server's page order and its
        ``Link`` header decide where the next page starts.
        """
        settings = self.ctx.settings
        out: list[Any] = []
        if cursor is None:
            # First sync: newest first, backwards with max_id, bounded by count and age.
            cutoff = now - timedelta(days=settings.first_sync_days) if settings.first_sync_days else None
            new_cursor: str | None = None
            params: dict[str, Any] = {"limit": PAGE}
            for n in range(MAX_PAGES):
                page = self._page(api, host, what, call, params, public)
                if n == 0 and page:
                    new_cursor = _link_cursor(page, "prev", "min_id") or _page_id(page[0])
                too_old = False
                for entry in page:
                    created = as_datetime(entry.get("created_at"))
                    if age_bound and cutoff and created is not None and created < cutoff:
                        too_old = True
                        continue
                    out.extend(statuses_of([entry]))
                if len(out) >= settings.first_sync_limit:
                    out = out[: settings.first_sync_limit]
                    break
                if too_old or len(page) < PAGE or self._rate_limited():
                    break
                nxt = _link_cursor(page, "next", "max_id") or _page_id(page[-1])
                if nxt is None:
                    break
                params = {"limit": PAGE, "max_id": nxt}
            return out, new_cursor
        # Later syncs: forward from the cursor; each page is the one just above min_id.
        for _ in range(MAX_PAGES):
            page = self._page(api, host, what, call, {"limit": PAGE, "min_id": cursor}, public)
            if not page:
                break
            cursor = _link_cursor(page, "prev", "min_id") or _page_id(page[0]) or cursor
            out.extend(statuses_of(list(page)))
            if len(page) < PAGE or self._rate_limited():
                break
        else:
            self.notes.append("more new statuses than one sync fetches; the rest come next sync")
        return out, cursor

    def _page(
        self, api: Any, host: str, what: str, call: Callable[..., Any], params: dict[str, Any],
        public: bool,
    ) -> list[Any]:
        page = self._call(api, host, what, call, public=public, **params)
        if not isinstance(page, list):
            raise ParseError(f"{host} sent something other than a list of statuses for {what}",
                             subject=self.spec.id)
        return page

    def _rate_limited(self) -> bool:
        if self._rate_until is None:
            return False
        note = f"rate limit reached; the rest is fetched after {iso(self._rate_until)}"
        if note not in self.notes:
            self.notes.append(note)
        return True

    def _result(self, raw: list[Any], host: str, state: dict[str, Any]) -> FetchResult:
        items, bad = normalize_statuses(raw, host=host)
        if bad:
            self.notes.append(f"skipped {bad} malformed status{'es' if bad != 1 else ''}")
        return self._finish(items, state)

    def _finish(self, items: tuple[ItemData, ...], state: dict[str, Any]) -> FetchResult:
        return FetchResult(
            items=items,
            state=state,
            not_modified=not items,
            notes=tuple(self.notes),
            requests=self.requests,
        )

    # ----- logged-in kinds --------------------------------------------------------------------

    def _fetch_logged_in(
        self, api: Any, host: str, state: dict[str, Any], now: datetime
    ) -> FetchResult:
        kind = self.spec.kind
        cursor = state.get("cursor")
        if kind == "home":
            raw, state["cursor"] = self._pages(api, host, "the home timeline", api.timeline_home,
                                               cursor, now)
        elif kind == TAG:
            tag = self.spec.target
            raw, state["cursor"] = self._pages(
                api, host, f"#{tag}", lambda **p: hashtag_timeline(api, tag, **p), cursor, now
            )
        elif kind == LIST:
            raw, state = self._fetch_list(api, host, state, now)
        elif kind == "mentions":
            raw, state["cursor"] = self._pages(
                api, host, "mentions",
                lambda **p: api.notifications(types=["mention"], **p),
                cursor, now,
                statuses_of=lambda page: [
                    n.get("status") for n in page
                    if n.get("type") == "mention" and n.get("status")
                ],
            )
        elif kind == "bookmarks":
            # Bookmarks are kept on purpose: bounded by count only, not by age.
            raw, state["cursor"] = self._pages(api, host, "bookmarks", api.bookmarks, cursor, now,
                                               age_bound=False)
        elif kind == "followed-tags":
            raw, state = self._fetch_followed_tags(api, host, state, now)
        else:  # pragma: no cover - the registry only routes the kinds above here
            raise SourceError(f"unknown Mastodon source kind {kind!r}", subject=self.spec.id)
        return self._result(raw, host, state)

    def _fetch_list(
        self, api: Any, host: str, state: dict[str, Any], now: datetime
    ) -> tuple[list[Any], dict[str, Any]]:
        name = self.spec.target
        what = f"list {name!r}"
        list_id = state.get("list_id")
        for attempt in (0, 1):
            if not list_id:
                list_id = self._resolve_list(api, host, name)
                if state.get("list_id") not in (None, list_id):
                    state.pop("cursor", None)  # a different list now has that name
                state["list_id"] = list_id
            try:
                raw, state["cursor"] = self._pages(
                    api, host, what,
                    lambda lid=list_id, **p: api.timeline_list(lid, **p),
                    state.get("cursor"), now,
                )
                return raw, state
            except FetchError as e:
                if attempt or "(404)" not in e.message:
                    raise
                list_id = None  # the list was deleted or recreated: look it up again
        raise AssertionError("unreachable")  # pragma: no cover

    def _resolve_list(self, api: Any, host: str, name: str) -> str:
        lists = self._call(api, host, "your lists", api.lists)
        if not isinstance(lists, list):
            raise ParseError(f"{host} sent something other than a list of lists", subject=self.spec.id)
        titles = {str(li.get("title", "")): str(li.get("id")) for li in lists}
        if name in titles:
            return titles[name]
        folded = {t.casefold(): i for t, i in titles.items()}
        if name.casefold() in folded:
            return folded[name.casefold()]
        known = ", ".join(sorted(titles)) or "none"
        raise FetchError(f"no list named {name!r} on {host} (your lists: {known})",
                         subject=self.spec.id)

    def _fetch_followed_tags(
        self, api: Any, host: str, state: dict[str, Any], now: datetime
    ) -> tuple[list[Any], dict[str, Any]]:
        cursors: dict[str, str | None] = dict(state.get("tags") or {})
        checked = state.get("tags_checked")
        if checked is None or now - parse_iso(checked) >= FOLLOWED_TAGS_TTL:
            followed = self._call(api, host, "followed hashtags", api.followed_tags, limit=200)
            if not isinstance(followed, list):
                raise ParseError(f"{host} sent something other than a list of hashtags",
                                 subject=self.spec.id)
            names = [str(t.get("name")) for t in followed if t.get("name")]
            cursors = {n: cursors.get(n) for n in names}
            state["tags_checked"] = iso(now)
            if not names:
                self.notes.append("this account follows no hashtags")
        raw: list[Any] = []
        for name in cursors:
            if self._rate_limited():
                break
            got, cursors[name] = self._pages(
                api, host, f"#{name}", lambda n=name, **p: hashtag_timeline(api, n, **p),
                cursors[name], now,
            )
            raw.extend(got)
        state["tags"] = cursors
        return raw, state

    # ----- without a login: the host's public API, else its public RSS ------------------------

    def _fetch_public(self, state: dict[str, Any], now: datetime) -> FetchResult:
        spec = self.spec
        host = spec.host or ""
        base = host_base_url(host)
        if state.get("mode") == "rss":
            checked = state.get("api_checked")
            if checked and now - parse_iso(checked) < API_RECHECK:
                return self._fetch_rss(base, host, state, now)
        api = self._client(base, None)
        try:
            if spec.kind == ACCOUNT:
                user = spec.target.lstrip("@").split("@")[0]
                account_id = state.get("account_id")
                if not account_id:
                    acct = self._call(api, host, spec.target, api.account_lookup, user, public=True)
                    if not isinstance(acct, Mapping) or acct.get("id") is None:
                        raise ParseError(f"{host} sent no account for {spec.target}",
                                         subject=spec.id)
                    account_id = str(acct["id"])
                    state["account_id"] = account_id
                aid = account_id
                raw, cursor = self._pages(
                    api, host, f"statuses of {spec.target}",
                    lambda **p: api.account_statuses(aid, **p),
                    state.get("cursor"), now, public=True,
                )
            else:
                tag = spec.target
                raw, cursor = self._pages(
                    api, host, f"#{tag}", lambda **p: hashtag_timeline(api, tag, **p),
                    state.get("cursor"), now, public=True,
                )
        except _Refused:
            state["api_checked"] = iso(now)
            return self._fetch_rss(base, host, state, now)
        finally:
            api.session.close()
        if state.get("mode") == "rss":
            self.notes.append(f"{host} now allows public API access; no longer using its RSS feed")
        for k in ("mode", "api_checked", "etag", "last_modified"):
            state.pop(k, None)
        state["cursor"] = cursor
        return self._result(raw, host, state)

    def _rss_url(self, base: str) -> str:
        if self.spec.kind == ACCOUNT:
            user = self.spec.target.lstrip("@").split("@")[0]
            return f"{base}/@{quote(user)}.rss"
        return f"{base}/tags/{quote(self.spec.target)}.rss"

    def _fetch_rss(
        self, base: str, host: str, state: dict[str, Any], now: datetime
    ) -> FetchResult:
        import feedparser
        import requests

        url = self._rss_url(base)
        first = state.get("mode") != "rss"
        if first:
            self.notes.append(
                f"{host} refuses unauthenticated API access; following its public RSS feed "
                f"instead ({url})"
            )
        headers = {"User-Agent": self.ctx.user_agent}
        if not first and state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if not first and state.get("last_modified"):
            headers["If-Modified-Since"] = state["last_modified"]
        self.requests += 1
        try:
            with requests.get(url, headers=headers, timeout=self.ctx.settings.timeout,
                              stream=True) as resp:
                if resp.status_code == 304:
                    state["mode"] = "rss"
                    return FetchResult(state=state, not_modified=True, notes=tuple(self.notes),
                                       requests=self.requests)
                if resp.status_code != 200:
                    raise FetchError(
                        f"{host} refuses unauthenticated API access and its RSS feed {url} "
                        f"answered {resp.status_code}",
                        subject=self.spec.id,
                    )
                body = bytearray()
                for chunk in resp.iter_content(65536):
                    body += chunk
                    if len(body) > self.ctx.settings.max_bytes:
                        raise FetchError(f"{url} is larger than {self.ctx.settings.max_bytes} bytes",
                                         subject=self.spec.id)
                etag = resp.headers.get("ETag")
                modified = resp.headers.get("Last-Modified")
        except requests.Timeout as e:
            raise FetchError(f"{host} did not answer in time (RSS feed)", subject=self.spec.id) from e
        except requests.RequestException as e:
            from companion.sources.neterr import network_reason

            raise FetchError(f"cannot reach {host} (RSS feed): {network_reason(e)}",
                             subject=self.spec.id) from e
        parsed = feedparser.parse(bytes(body))
        if parsed.get("bozo") and not parsed.get("entries"):
            raise ParseError(f"{url} is not a readable RSS feed", subject=self.spec.id)
        handle = self.spec.target if self.spec.kind == ACCOUNT else ""
        items: list[ItemData] = []
        for entry in parsed.get("entries", []):
            item = normalize_rss_entry(entry, host=host, handle=handle)
            if item is not None:
                items.append(item)
        if first:
            settings = self.ctx.settings
            if settings.first_sync_days:
                cutoff = now - timedelta(days=settings.first_sync_days)
                items = [i for i in items if i.published is None or i.published >= cutoff]
            items = items[: settings.first_sync_limit]
        state.update(mode="rss", etag=etag, last_modified=modified)
        state.setdefault("api_checked", iso(now))
        return self._finish(tuple(items), state)


__all__ = ["MastodonSource", "host_of", "make_client", "translate_error"]
