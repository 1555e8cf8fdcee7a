"""Checks made when a fediverse source is added (issue 13): ``@nosuchuser@host`` and
``list:NoSuchList`` are refused then, as feed URLs are, instead of failing at every sync.

A server that cannot be reached does not stop the add: the source is added with a warning
(the user may be offline, and `pln sync` reports it later). What the server *answers* —
no such account, no such list — is final.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from companion.errors import UsageError
from companion.specs import ACCOUNT, LIST, SourceSpec, host_base_url

if TYPE_CHECKING:
    from companion.config import Settings
    from companion.credentials import Credentials


def needs_check(spec: SourceSpec) -> bool:
    """True for the kinds a server can confirm exist: accounts and lists."""
    return spec.kind in (ACCOUNT, LIST)


def check_source(spec: SourceSpec, credentials: Credentials | None, settings: Settings,
                 user_agent: str) -> list[str]:
    """Ask the server whether ``spec`` exists: UsageError if it says no; otherwise the
    warnings to show (empty when confirmed)."""
    from mastodon.errors import MastodonError, MastodonNetworkError, MastodonNotFoundError

    from companion.sources.mastodon import (
        REFUSED,
        api_status_code,
        host_of,
        lives_on,
        make_client,
        reader_account,
    )
    from companion.sources.neterr import network_reason

    local = True
    if spec.kind == ACCOUNT:
        # asked the way sync will read it: through a logged-in account when one is named or
        # lives on that host (some hosts refuse unauthenticated reads), else the public API
        host = spec.host or ""
        base, token, what = host_base_url(host), None, spec.target
        reader = reader_account(spec, credentials)
        if reader is not None:
            base, token, local = reader.instance, reader.token, lives_on(reader, host)
    else:
        assert credentials is not None
        account = credentials.account(spec.account)
        base, token, what = account.instance, account.token, f"list:{spec.target}"
        host = host_of(base)
    api = make_client(base, token, timeout=settings.timeout, user_agent=user_agent)
    try:
        if spec.kind == ACCOUNT:
            acct = _lookup(api, spec.target.lstrip("@"), local)
            if not isinstance(acct, dict) or acct.get("id") is None:
                return [f"could not check {what}: {host} sent no account; added anyway"]
            return []
        return _check_list(api.lists(), spec.target, host)
    except MastodonNotFoundError:
        if spec.kind == ACCOUNT:
            raise UsageError(f"no account {what} on {host} (the server answered 404); "
                             "nothing changed") from None
        return [f"could not check {what}: {host} has no lists (404); added anyway"]
    except MastodonNetworkError as e:
        return [(f"could not check {what}: cannot reach {host} ({network_reason(e)}); added "
                 "anyway — `pln sync` will say if it works")]
    except MastodonError as e:
        code = api_status_code(e)
        if spec.kind == ACCOUNT and code in REFUSED:
            why = f"{host} does not let unauthenticated clients look accounts up ({code})"
        else:
            why = f"{host} answered {code}" if code else f"{host}: {type(e).__name__}"
        return [f"could not check {what} ({why}); added anyway"]
    finally:
        api.session.close()


def _lookup(api: Any, acct: str, local: bool) -> Any:
    """``user@host`` as the server behind ``api`` knows it: by lookup on its own host; on
    another instance by lookup, else by a search that resolves it (it may not have met them)."""
    from mastodon.errors import MastodonNotFoundError

    if local:
        return api.account_lookup(acct.split("@")[0])
    try:
        return api.account_lookup(acct)
    except MastodonNotFoundError:
        found = api.account_search(acct, resolve=True, limit=5)
        for a in found if isinstance(found, list) else []:
            if str(a.get("acct", "")).lower() == acct.lower():
                return a
        raise


def _check_list(lists: Any, name: str, host: str) -> list[str]:
    """The list exists by its title (as sync resolves it: exact, else any case)."""
    if not isinstance(lists, list):
        return [(f"could not check list:{name}: {host} sent something other than a list of "
                 "lists; added anyway")]
    titles = [str(li.get("title", "")) for li in lists]
    if name in titles or name.casefold() in {t.casefold() for t in titles}:
        return []
    known = ", ".join(sorted(titles)) or "none yet"
    raise UsageError(f"no list named {name!r} on {host} (your lists: {known}); nothing changed")
