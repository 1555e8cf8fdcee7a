"""Mastodon and fediverse sources: home, list:NAME, mentions, bookmarks, followed-tags, #tag,
#tag@host and @user@host — one ``Source`` class for every kind (issue 4).

Protocol notes that shape this module (issue 4, "real servers differ"):

* Status ids are opaque strings. They are never compared, sorted or used in arithmetic:
  Mastodon.py raises TypeError comparing ids that are not numeric snowflakes, and some
  servers use 42-character hex ids. The cursor is the newest entry actually received, by the
  server's order of its page (``companion.sources.paging``, issue 11: a ``Link`` header may
  page with ``since_id``, and Mastodon.py's parsed one echoes the request); items are
  ordered by ``created_at``.
* Later syncs page forward with ``min_id``: Mastodon answers with the page just above the
  cursor, newest first, so after each page the cursor moves to that page's newest entry. A
  sync with nothing new is one request per source (an empty page); n new statuses cost
  n // 40 + 1 requests. A page that brings nothing new ends the paging.
* Bookmarks page by bookmark ids, which only the ``Link`` header names: there (and only
  there) the raw header's position is used.
* Mastodon.py runs with ``ratelimit_method="throw"``: its "wait"/"pace" modes sleep inside a
  shared client for up to minutes and are not thread-safe. Each fetch gets its own client;
  a 429 (or ``X-RateLimit-Remaining: 0``) becomes ``RetryLater`` until ``X-RateLimit-Reset``.
* ``@user@host`` and ``#tag@host`` are read through a logged-in account when ``--account``
  names one or one lives on that host (issue 11: some hosts refuse unauthenticated reads);
  else through the host's public API without a token, and when the host refuses that
  (401/403/422) through its public feed, found from the account's profile
  (``companion.sources.public_feed``).

Mastodon.py objects never leave this module: statuses become ``ItemData`` in
``mastodon_items``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from companion.errors import AuthError, FetchError, ParseError, SourceError
from companion.models import ItemData, iso, parse_iso
from companion.sources.base import FetchResult, RetryLater, SourceContext
from companion.sources.mastodon_items import as_datetime, normalize_statuses
from companion.sources.paging import entry_id, fresh, link_param, newest_first, position
from companion.specs import ACCOUNT, LIST, TAG, SourceSpec, host_base_url

if TYPE_CHECKING:
    from companion.credentials import Account, Credentials

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


# state of a source followed through the host's public feed (companion.sources.public_feed)
_PUBLIC_KEYS = ("mode", "api_checked", "etag", "last_modified", "rss_url")


def _hosts(account: Account) -> set[str]:
    """Where an account lives: its instance's host, and its handle's domain (which may be
    another name for it, e.g. @me@example.org on social.example.org)."""
    out = {host_of(account.instance)}
    handle = account.handle.lstrip("@")
    if "@" in handle:
        out.add(handle.rsplit("@", 1)[1].lower())
    return out


def reader_account(spec: SourceSpec, creds: Credentials | None) -> Account | None:
    """The account to read ``@user@host``/``#tag@host`` through: the one ``--account``
    named, else one logged in on that host (its token is accepted there, and some hosts
    refuse unauthenticated reads), else None (the host's public API or feed)."""
    if creds is None:
        return None
    if spec.account:
        return creds.account(spec.account)
    host = (spec.host or "").lower()
    here = [a for a in creds.accounts if host in _hosts(a)]
    default = creds.default_name
    return next((a for a in here if a.name == default), here[0] if here else None)


def lives_on(account: Account, host: str) -> bool:
    """True when ``account`` lives on ``host`` (by its instance or its handle's domain)."""
    return host.lower() in _hosts(account)


class MastodonSource:
    """Every Mastodon kind; which endpoint is asked depends on ``spec.kind``."""

    def __init__(self, spec: SourceSpec, ctx: SourceContext) -> None:
        self.spec = spec
        self.ctx = ctx
        self.requests = 0
        self.notes: list[str] = []
        self._rate_until: datetime | None = None
        self._link: str | None = None  # the raw Link header of the last response
        self._paged = 0  # pages requested for the timeline being synced (at most MAX_PAGES)

    # ----- the Source protocol --------------------------------------------------------------

    def fetch(self, state: Mapping[str, Any], now: datetime) -> FetchResult:
        """Fetch what is new since the cursor in ``state``."""
        kind = self.spec.kind
        if kind == ACCOUNT or (kind == TAG and self.spec.host):
            reader = self._reader()
            if reader is not None:
                return self._fetch_through(reader, dict(state), now)
            return self._fetch_public(dict(state), now)
        account = self.ctx.credentials.account(self.spec.account)
        api = self._client(account.instance, account.token)
        try:
            return self._fetch_logged_in(api, host_of(account.instance), dict(state), now)
        finally:
            api.session.close()

    # ----- plumbing -------------------------------------------------------------------------

    def _client(self, base_url: str, token: str | None) -> Any:
        api = make_client(
            base_url, token, timeout=self.ctx.settings.timeout, user_agent=self.ctx.user_agent
        )
        # The raw Link header, not Mastodon.py's _pagination_prev/next: those merge the
        # request's own parameters into what the server sent (see companion.sources.paging).
        api.session.hooks["response"].append(self._saw_response)
        return api

    def _saw_response(self, resp: Any, *args: Any, **kwargs: Any) -> None:
        self._link = resp.headers.get("Link")

    def _call(
        self, api: Any, host: str, what: str, fn: Callable[..., Any], *args: Any,
        public: bool = False, **kwargs: Any,
    ) -> Any:
        """One API request: counted, errors translated, rate-limit headers respected."""
        from mastodon.errors import MastodonError, MastodonRatelimitError

        self.requests += 1
        self._link = None
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
        above: Sequence[str] = (),
        by_link: bool = False,
    ) -> tuple[list[Any], str | None, list[str], dict[str, Any] | None]:
        """Raw statuses newer than ``cursor`` (or the bounded first sync), the new cursor, the
        ids received above it (see ``companion.sources.paging``), and where the first sync's
        backfill goes on next time (None: nothing left).

        Never compares ids: the server's page order decides what is newest. ``by_link``: the
        entries' ids are not positions (bookmarks page by bookmark id), so the cursor is the
        ``Link`` header's, when the server sends one.
        """
        if cursor is None:
            settings = self.ctx.settings
            days = settings.first_sync_days
            cutoff = now - timedelta(days=days) if days and age_bound else None
            got, first, more = self._back_pages(
                api, host, what, call, {"limit": PAGE}, settings.first_sync_limit, cutoff,
                statuses_of=statuses_of, public=public, by_link=by_link)
            if more is not None:
                self.notes.append(
                    f"{len(got)} of the first {settings.first_sync_limit} statuses fetched; "
                    "older ones come with the next syncs")
            return got, first[0], first[1], more
        out: list[Any] = []
        seen = set(above)
        above_now = list(above)
        for _ in range(MAX_PAGES):
            raw = self._page(api, host, what, call, {"limit": PAGE, "min_id": cursor}, public)
            link = self._link
            page = newest_first(raw)
            new, reached = fresh(page, None if by_link else cursor, seen)
            if not new:  # nothing above the cursor, or a page that repeats: no progress, stop
                if len(raw) >= PAGE:  # a full page again: the server ignored min_id
                    self.notes.append(f"{host} did not page forward from the last status "
                                      "received; older new statuses may be missing")
                break
            seen.update(i for i in map(entry_id, new) if i is not None)
            out.extend(statuses_of(new))
            nxt, above_nxt = position(new, cursor, above_now)
            if by_link:
                nxt, above_nxt = link_param(link, "prev", ("min_id", "since_id")) or nxt, []
            if nxt is None:
                break
            moved = nxt != cursor
            cursor, above_now = nxt, above_nxt
            if not moved or reached or len(raw) < PAGE or self._rate_limited():
                break  # (the same cursor again would bring the same page)
        else:
            self.notes.append("more new statuses than one sync fetches; the rest come next sync")
        return out, cursor, above_now, None

    def _back_pages(
        self,
        api: Any,
        host: str,
        what: str,
        call: Callable[..., Any],
        params: dict[str, Any],
        left: int,
        cutoff: datetime | None,
        *,
        statuses_of: Callable[[list[Any]], list[Any]],
        public: bool,
        by_link: bool,
    ) -> tuple[list[Any], tuple[str | None, list[str]], dict[str, Any] | None]:
        """Page backwards (newest first, with max_id) from ``params``: at most ``left``
        statuses, none older than ``cutoff``, at most MAX_PAGES pages in all this sync.

        Returns the statuses, the position of the first page (the cursor of a first sync) and
        where to go on next sync when the pages ran out first (issue 14: a first_sync_limit
        above what one sync pages was silently cut to it).
        """
        out: list[Any] = []
        first: tuple[str | None, list[str]] = (None, [])
        seen: set[str] = set()
        n = 0
        while True:
            if self._paged >= MAX_PAGES:  # the rest next sync, from here
                more = {"max_id": params.get("max_id"), "left": left - len(out),
                        "until": iso(cutoff) if cutoff else None}
                return out, first, more if more["max_id"] is not None else None
            raw = self._page(api, host, what, call, params, public)
            link = self._link
            page = newest_first(raw)
            new, _ = fresh(page, None, seen)
            if not new:
                break  # an empty page, or one that repeats
            seen.update(i for i in map(entry_id, new) if i is not None)
            if n == 0 and "max_id" not in params:
                first = position(page)
                if by_link:
                    first = (link_param(link, "prev", ("min_id", "since_id")) or first[0], [])
            n += 1
            too_old = False
            for entry in new:
                created = as_datetime(entry.get("created_at"))
                if cutoff and created is not None and created < cutoff:
                    too_old = True
                    continue
                out.extend(statuses_of([entry]))
            if len(out) >= left:
                out = out[:left]
                break
            if too_old or len(raw) < PAGE:
                break
            nxt = link_param(link, "next", ("max_id",)) if by_link else None
            nxt = nxt or entry_id(page[-1])
            if nxt is None or nxt == params.get("max_id"):
                break
            params = {"limit": PAGE, "max_id": nxt}
            if self._rate_limited():  # the rest after the reset, from here
                return out, first, {"max_id": nxt, "left": left - len(out),
                                    "until": iso(cutoff) if cutoff else None}
        return out, first, None

    def _timeline(
        self, api: Any, host: str, what: str, call: Callable[..., Any], pos: dict[str, Any],
        now: datetime, **options: Any,
    ) -> list[Any]:
        """Page ``call`` from the position in ``pos`` (its ``cursor`` and ``above``, the ids
        received above the cursor) and move ``pos`` to where the next sync starts. A first
        sync that ran out of pages before ``first_sync_limit`` goes on backwards from where
        it stopped (``backfill``) in the next syncs, after what is new."""
        self._paged = 0
        backfill = pos.get("backfill") if pos.get("cursor") is not None else None
        raw, cursor, above, more = self._pages(api, host, what, call, pos.get("cursor"), now,
                                               above=pos.get("above") or (), **options)
        if backfill and not self._rate_limited():
            until = backfill.get("until")
            older, _, more = self._back_pages(
                api, host, what, call, {"limit": PAGE, "max_id": backfill["max_id"]},
                int(backfill.get("left", 0)), parse_iso(until) if until else None,
                statuses_of=options.get("statuses_of", lambda page: page),
                public=options.get("public", False), by_link=options.get("by_link", False))
            raw = raw + older
        elif backfill:
            more = backfill  # (rate limited: the backfill waits for the next sync)
        pos["cursor"] = cursor
        if above:
            pos["above"] = above
        else:
            pos.pop("above", None)
        if more and more.get("left", 0) > 0 and more.get("max_id"):
            pos["backfill"] = more
        else:
            pos.pop("backfill", None)
        return raw

    def _page(
        self, api: Any, host: str, what: str, call: Callable[..., Any], params: dict[str, Any],
        public: bool,
    ) -> list[Any]:
        self._paged += 1
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
        if kind == "home":
            raw = self._timeline(api, host, "the home timeline", api.timeline_home, state, now)
        elif kind == TAG:
            tag = self.spec.target
            raw = self._timeline(api, host, f"#{tag}",
                                 lambda **p: hashtag_timeline(api, tag, **p), state, now)
        elif kind == LIST:
            raw, state = self._fetch_list(api, host, state, now)
        elif kind == "mentions":
            raw = self._timeline(
                api, host, "mentions",
                lambda **p: api.notifications(types=["mention"], **p),
                state, now,
                statuses_of=lambda page: [
                    n.get("status") for n in page
                    if n.get("type") == "mention" and n.get("status")
                ],
            )
        elif kind == "bookmarks":
            # Bookmarks are kept on purpose: bounded by count only, not by age. They page by
            # bookmark id, which only the Link header names.
            raw = self._timeline(api, host, "bookmarks", api.bookmarks, state, now,
                                 age_bound=False, by_link=True)
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
                    for k in ("cursor", "above", "backfill"):  # another list has that name
                        state.pop(k, None)
                state["list_id"] = list_id
            try:
                raw = self._timeline(
                    api, host, what, lambda lid=list_id, **p: api.timeline_list(lid, **p),
                    state, now,
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
        aboves: dict[str, list[str]] = dict(state.get("tags_above") or {})
        backfills: dict[str, Any] = dict(state.get("tags_backfill") or {})
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
            pos: dict[str, Any] = {"cursor": cursors[name], "above": aboves.get(name),
                                   "backfill": backfills.get(name)}
            raw.extend(self._timeline(
                api, host, f"#{name}", lambda n=name, **p: hashtag_timeline(api, n, **p), pos, now,
            ))
            cursors[name] = pos["cursor"]
            aboves[name] = pos.get("above") or []
            backfills[name] = pos.get("backfill")
        state["tags"] = cursors
        state["tags_backfill"] = {n: b for n, b in backfills.items() if b and n in cursors}
        if not state["tags_backfill"]:
            del state["tags_backfill"]
        state["tags_above"] = {n: a for n, a in aboves.items() if a and n in cursors}
        if not state["tags_above"]:
            del state["tags_above"]
        return raw, state

    # ----- @user@host and #tag@host through a logged-in account ------------------------------

    def _reader(self) -> Account | None:
        return reader_account(self.spec, self.ctx.credentials)

    def _fetch_through(self, account: Account, state: dict[str, Any], now: datetime) -> FetchResult:
        """Read through ``account``'s instance with its token: the host itself when the
        account lives there, else the account's own instance (what it knows of them)."""
        spec = self.spec
        if state.get("via") != account.instance:  # ids are the server's: start afresh
            for k in (*_PUBLIC_KEYS, "account_id", "cursor", "above", "backfill"):
                state.pop(k, None)
            state["via"] = account.instance
        host = host_of(account.instance)
        api = self._client(account.instance, account.token)
        try:
            if spec.kind == ACCOUNT:
                if not state.get("account_id"):
                    found = self._find_account(api, host, local=(spec.host or "") in _hosts(account))
                    state["account_id"] = str(found["id"])
                    if found.get("url"):
                        state["profile_url"] = str(found["url"])
                aid = state["account_id"]
                raw = self._timeline(api, host, f"statuses of {spec.target}",
                                     lambda **p: api.account_statuses(aid, **p), state, now)
            else:
                tag = spec.target
                raw = self._timeline(api, host, f"#{tag}",
                                     lambda **p: hashtag_timeline(api, tag, **p), state, now)
        finally:
            api.session.close()
        return self._result(raw, host, state)

    def _find_account(self, api: Any, host: str, *, local: bool) -> Mapping[str, Any]:
        """The account ``@user@host`` as the instance behind ``api`` knows it: by lookup,
        else (a remote account it has not met) by a search that resolves it."""
        user = self.spec.target.lstrip("@").split("@")[0]
        acct = user if local else self.spec.target.lstrip("@")
        try:
            found = self._call(api, host, self.spec.target, api.account_lookup, acct)
        except FetchError as e:
            if local or "(404)" not in e.message:
                raise
            found = None
            results = self._call(api, host, self.spec.target, api.account_search, acct,
                                 resolve=True, limit=5)
            for a in results if isinstance(results, list) else []:
                if str(a.get("acct", "")).lower() == acct.lower():
                    found = a
                    break
            if found is None:
                raise FetchError(f"{host} does not know {self.spec.target}",
                                 subject=self.spec.id) from e
        if not isinstance(found, Mapping) or found.get("id") is None:
            raise ParseError(f"{host} sent no account for {self.spec.target}", subject=self.spec.id)
        return found

    # ----- without a login: the host's public API, else its public RSS ------------------------

    def _fetch_public(self, state: dict[str, Any], now: datetime) -> FetchResult:
        spec = self.spec
        host = spec.host or ""
        base = host_base_url(host)
        if state.pop("via", None):  # was read through an account: that server's ids
            for k in ("account_id", "cursor", "above", "backfill"):
                state.pop(k, None)
        if state.get("mode") == "rss":
            checked = state.get("api_checked")
            if checked and now - parse_iso(checked) < API_RECHECK:
                return self._fetch_rss(base, host, state, now)
        api = self._client(base, None)
        pos: dict[str, Any] = {k: state[k] for k in ("cursor", "above", "backfill") if k in state}
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
                    if acct.get("url"):
                        state["profile_url"] = str(acct["url"])
                aid = account_id
                raw = self._timeline(
                    api, host, f"statuses of {spec.target}",
                    lambda **p: api.account_statuses(aid, **p), pos, now, public=True,
                )
            else:
                tag = spec.target
                raw = self._timeline(api, host, f"#{tag}",
                                     lambda **p: hashtag_timeline(api, tag, **p), pos, now,
                                     public=True)
        except _Refused:
            state["api_checked"] = iso(now)
            return self._fetch_rss(base, host, state, now)
        finally:
            api.session.close()
        if state.get("mode") == "rss":
            self.notes.append(f"{host} now allows public API access; no longer using its RSS feed")
        for k in (*_PUBLIC_KEYS, "above", "backfill"):
            state.pop(k, None)
        state.update(pos)
        return self._result(raw, host, state)

    def _fetch_rss(self, base: str, host: str, state: dict[str, Any], now: datetime) -> FetchResult:
        from companion.sources.public_feed import fetch_public_feed

        return fetch_public_feed(self.spec, host, base, state, now, self.ctx, self.notes,
                                 self.requests)


__all__ = ["MastodonSource", "host_of", "make_client", "translate_error"]
