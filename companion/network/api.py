"""The logged-in account's own instance, for the network verbs (issue 17).

One Mastodon.py client per command; Mastodon.py objects never leave this module (plain dicts
and strings do). Servers differ (issue 4, "real servers differ"):

* ids are opaque strings: never compared or sorted; Mastodon.py hands some back as ints, so
  every id is ``str()``-ed here;
* paging follows the ``Link`` header when there is one, else the last id of the page, and
  stops when a page brings nothing new (a server that ignores ``max_id`` sends the same page);
* an API the server lacks (followed hashtags, read markers, follow suggestions: 404, 405,
  410 or 501) is ``Unsupported`` — the caller decides whether that is a usage error (exit 2)
  or a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from companion.errors import AuthError, FetchError, NotFoundError, PlnError, UsageError

if TYPE_CHECKING:
    from companion.credentials import Account

PAGE = 80  # Mastodon's largest page for account lists
MAX_PAGES = 100  # 8,000 follows; the rest is reported as cut off
LACKING = (404, 405, 410, 501)  # how servers say "no such API"

FOLLOWED_TAGS = "followed hashtags"
MARKERS = "read markers"
SUGGESTIONS = "follow suggestions"


class Unsupported(UsageError):
    """The instance does not offer an API pln asked for (``feature``)."""

    def __init__(self, message: str, *, feature: str, subject: str | None = None) -> None:
        super().__init__(message, subject=subject)
        self.feature = feature


class Conflict(PlnError):
    """409: another client changed the same thing at the same moment (markers)."""


def sid(value: Any) -> str:
    """An id as the opaque string it is (Mastodon.py turns digit strings into ints)."""
    return "" if value is None else str(value)


class InstanceAPI:
    """The verbs pln needs from one logged-in account's instance."""

    def __init__(self, account: Account, *, timeout: float, user_agent: str) -> None:
        from companion.sources.mastodon import host_of, make_client

        self.account = account
        self.host = host_of(account.instance)
        self.api = make_client(account.instance, account.token, timeout=timeout,
                               user_agent=user_agent)
        self.requests = 0
        own = account.handle.lstrip("@").partition("@")[2].lower()
        self.local_hosts = {h for h in (own, self.host) if h}

    def close(self) -> None:
        self.api.session.close()

    # ----- plumbing -------------------------------------------------------------------------

    def call(self, what: str, fn: Callable[..., Any], *args: Any, feature: str | None = None,
             **kwargs: Any) -> Any:
        """One request; Mastodon.py errors become pln errors that say what to do."""
        from mastodon.errors import MastodonError, MastodonRatelimitError

        from companion.sources.mastodon import api_status_code, translate_error

        self.requests += 1
        try:
            return fn(*args, **kwargs)
        except MastodonRatelimitError as e:
            raise FetchError(f"{self.host} is rate limiting pln ({what}); try again in a few "
                             "minutes") from e
        except MastodonError as e:
            code = api_status_code(e)
            if feature is not None and code in LACKING:
                raise Unsupported(f"{self.host} does not support {feature} ({code})",
                                  feature=feature) from e
            if code == 409:
                raise Conflict(f"{self.host} reported a conflict for {what} (409)") from e
            if code == 404:
                raise NotFoundError(f"{what}: not found on {self.host} (404)") from e
            if code == 401:
                raise AuthError(f"token for {self.host} was rejected — run "
                                f"`pln login {self.account.instance}`") from e
            raise translate_error(e, host=self.host, what=what, public=False) from e

    def handle_of(self, account: Any) -> str:
        """``@user@host`` for an Account entity (a local ``acct`` gets the instance's host)."""
        from companion.sources.mastodon_items import full_handle

        return full_handle(sid(account.get("acct") or account.get("username")),
                           sid(account.get("url")), self.host)

    def pages(self, what: str, call: Callable[..., Any], *, key: str = "id",
              feature: str | None = None) -> tuple[list[Any], bool]:
        """Every entry of a paginated list, and whether it is complete.

        Follows ``Link: rel="next"``; without any ``Link`` header, pages by the last id of the
        page; stops on an empty page or one that brings nothing new.
        """
        out: list[Any] = []
        seen: set[str] = set()
        params: dict[str, Any] = {"limit": PAGE}
        for _ in range(MAX_PAGES):
            page = self.call(what, call, feature=feature, **params)
            if not isinstance(page, list):
                raise FetchError(f"{self.host} sent something other than a list for {what}")
            fresh = [e for e in page if sid(e.get(key)) not in seen]
            if not fresh:
                return out, True
            seen.update(sid(e.get(key)) for e in fresh)
            out.extend(fresh)
            nxt = getattr(page, "_pagination_next", None)
            if nxt and nxt.get("max_id") is not None:
                params = {"limit": PAGE, "max_id": sid(nxt["max_id"])}
            elif nxt is None and getattr(page, "_pagination_prev", None) is not None:
                return out, True  # the server pages with Link and names no next page
            else:
                last = sid(page[-1].get("id"))
                if not last:
                    return out, True
                params = {"limit": PAGE, "max_id": last}
        return out, False

    # ----- accounts -------------------------------------------------------------------------

    def me_id(self) -> str:
        """The logged-in account's id on its instance."""
        if self.account.user_id:
            return self.account.user_id
        me = self.call("your account", self.api.account_verify_credentials)
        return sid(me.get("id"))

    def resolve(self, handle: str) -> dict[str, Any]:
        """The Account entity for ``@user@host``, as the account's own instance knows it.

        Search with ``resolve=true`` first (the instance asks the remote server over WebFinger,
        so someone it has never seen can be followed), then an exact ``accounts/lookup`` (for
        servers whose search does not resolve). UsageError when neither finds them.
        """
        user, _, host = handle.lstrip("@").partition("@")
        local = host.lower() in self.local_hosts
        acct = user if local else f"{user}@{host}"
        want = {acct.casefold(), handle.lstrip("@").casefold()}

        def match(found: Any) -> bool:
            a = sid(found.get("acct")).casefold()
            return a in want or self.handle_of(found).lstrip("@").casefold() in want

        try:
            res = self.call(f"searching for {handle}", self.api.search_v2, f"@{acct}",
                            resolve=True, result_type="accounts", limit=5, feature="search")
            for found in (res.get("accounts") or []) if isinstance(res, dict) else []:
                if match(found):
                    return dict(found)
        except (Unsupported, NotFoundError):
            pass  # no search here: the exact lookup below may still know them
        except FetchError as e:
            if _unreachable(e):
                raise
        try:
            found = self.call(f"looking up {handle}", self.api.account_lookup, acct)
        except NotFoundError:
            found = None
        if isinstance(found, dict) and match(found):
            return dict(found)
        raise UsageError(f"no account {handle} found: {self.host} could not resolve it "
                         "(check the spelling, or whether that server is reachable)")

    def relationship(self, account_id: str) -> dict[str, Any] | None:
        """Whether you follow (or asked to follow) an account; None if the server won't say."""
        try:
            rels = self.call("relationship", self.api.account_relationships, account_id)
        except NotFoundError:
            return None
        for r in rels or []:
            if sid(r.get("id")) == account_id:
                return dict(r)
        return None

    def follow(self, account_id: str) -> dict[str, Any]:
        """Follow; the returned relationship says ``following`` or ``requested`` (locked)."""
        return dict(self.call("following", self.api.account_follow, account_id))

    def unfollow(self, account_id: str) -> dict[str, Any]:
        return dict(self.call("unfollowing", self.api.account_unfollow, account_id))

    def following(self) -> tuple[list[dict[str, Any]], bool]:
        """Everyone the account follows (Account entities) and whether the list is complete:
        fewer than the ``following_count`` the server reports means paging stopped early (a
        server that ignores ``max_id`` sends its first page again)."""
        me = self.call("your account", self.api.account_verify_credentials)
        me_id = sid(me.get("id")) or self.me_id()
        rows, complete = self.pages("the accounts you follow",
                                    lambda **p: self.api.account_following(me_id, **p))
        count = me.get("following_count")
        if isinstance(count, int) and len(rows) < count:
            complete = False
        return [dict(r) for r in rows], complete

    def suggestions(self) -> list[tuple[dict[str, Any], str]]:
        """The instance's follow suggestions: (Account, reason). v2, else v1."""
        try:
            rows = self.call(SUGGESTIONS, self.api.suggestions_v2, feature=SUGGESTIONS)
            out = []
            for r in rows or []:
                if isinstance(r, dict) and isinstance(r.get("account"), dict):
                    why = r.get("sources") or ([r["source"]] if r.get("source") else [])
                    out.append((dict(r["account"]), ", ".join(sid(s) for s in why)))
            return out
        except Unsupported:
            rows = self.call(SUGGESTIONS, self.api.suggestions_v1, feature=SUGGESTIONS)
            return [(dict(r), "") for r in rows or [] if isinstance(r, dict)]

    # ----- hashtags -------------------------------------------------------------------------

    def followed_tags(self) -> tuple[list[str], bool]:
        """The hashtags the account follows (lower-case names) and whether that is all."""
        rows, complete = self.pages(FOLLOWED_TAGS, self.api.followed_tags, key="name",
                                    feature=FOLLOWED_TAGS)
        return [sid(r.get("name")).casefold() for r in rows if r.get("name")], complete

    def followed_tag_state(self, name: str) -> bool | None:
        """Whether the account follows ``#name`` (None: the server does not say)."""
        try:
            tag = self.call(f"#{name}", self.api.tag, quote(name, safe=""), feature=FOLLOWED_TAGS)
        except (Unsupported, NotFoundError):
            return None
        value = tag.get("following") if isinstance(tag, dict) else None
        return value if isinstance(value, bool) else None

    def follow_tag(self, name: str) -> dict[str, Any]:
        return dict(self.call(f"following #{name}", self.api.tag_follow, quote(name, safe=""),
                              feature=FOLLOWED_TAGS))

    def unfollow_tag(self, name: str) -> dict[str, Any]:
        return dict(self.call(f"unfollowing #{name}", self.api.tag_unfollow,
                              quote(name, safe=""), feature=FOLLOWED_TAGS))

    # ----- markers and statuses -------------------------------------------------------------

    def home_marker(self) -> str | None:
        """The home timeline's ``last_read_id``, or None when no app has set one."""
        got = self.call("the home read marker", self.api.markers_get, ["home"], feature=MARKERS)
        home = got.get("home") if isinstance(got, dict) else None
        value = home.get("last_read_id") if isinstance(home, dict) else None
        return sid(value) or None

    def set_home_marker(self, status_id: str) -> None:
        """Move the home marker to ``status_id`` (Conflict on 409)."""
        self.call("setting the home read marker", self.api.markers_set, ["home"], [status_id],
                  feature=MARKERS)

    def status(self, status_id: str) -> dict[str, Any] | None:
        """One status by its id on this instance; None when it is gone."""
        try:
            return dict(self.call(f"status {status_id}", self.api.status, status_id))
        except NotFoundError:
            return None


@contextmanager
def instance(account: Account, *, timeout: float, user_agent: str) -> Iterator[InstanceAPI]:
    """An ``InstanceAPI`` for one command, closed afterwards."""
    api = InstanceAPI(account, timeout=timeout, user_agent=user_agent)
    try:
        yield api
    finally:
        api.close()


def _unreachable(e: BaseException) -> bool:
    """A network failure (as opposed to an answer from the server)."""
    from mastodon.errors import MastodonNetworkError

    return isinstance(e.__cause__, MastodonNetworkError)
