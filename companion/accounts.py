"""Logging in to a Mastodon-compatible instance: the OAuth code flow for a terminal, or a
token made in the instance's settings. No terminal here: the CLI passes ``read_code``.

Mastodon.py is imported lazily (``pln --help`` must not pay for it).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from companion.credentials import Account, Credentials
from companion.errors import AuthError, UsageError
from companion.specs import host_base_url, is_loopback_host

SCOPES = ["read", "write"]
OOB = "urn:ietf:wg:oauth:2.0:oob"  # "show the code to the user", for terminal clients
APP_NAME = "pln"
APP_WEBSITE = "https://pypi.org/project/pln/"


def normalize_instance_url(text: str) -> str:
    """``mastodon.example`` / ``https://mastodon.example/`` -> ``https://mastodon.example``.

    Plain http is accepted only for loopback hosts (local servers, tests), and is what a
    loopback host without a scheme means (as for ``#tag@127.0.0.1:8080``).
    """
    raw = text.strip().rstrip("/")
    if not raw:
        raise UsageError("give the instance URL, e.g. pln login https://mastodon.social")
    if "://" not in raw:
        authority = raw.split("/", 1)[0]
        raw = host_base_url(authority.rsplit("@", 1)[-1].lower()) + raw[len(authority):]
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in raw):
        raise UsageError(f"not an instance URL: {text!r} (expected e.g. https://mastodon.social)")
    host = parts.netloc.lower().rsplit("@", 1)[-1]
    if scheme == "http" and not is_loopback_host(host):
        raise UsageError(f"{text!r}: use https:// (tokens are never sent over plain http)")
    if parts.path not in ("", "/"):
        raise UsageError(
            f"{text!r}: give the instance itself, e.g. {scheme}://{host} (without a path)"
        )
    return f"{scheme}://{host}"


def _client(base: str, *, token: str | None = None, client_id: str | None = None,
            client_secret: str | None = None, user_agent: str, timeout: float) -> Any:
    from mastodon import Mastodon

    return Mastodon(
        access_token=token,
        client_id=client_id,
        client_secret=client_secret,
        api_base_url=base,
        ratelimit_method="throw",
        request_timeout=timeout,
        user_agent=user_agent,
        version_check_mode="none",
        # A known version stops Mastodon.py from probing /api/v1/instance before some calls
        # (notifications with types, …): that probe would cost a request per source.
        mastodon_version="4.0.0",
    )


def check_instance(base: str, *, user_agent: str, timeout: float) -> dict[str, Any]:
    """The instance's metadata (``/api/v2/instance``, else v1); UsageError if the server does
    not speak the Mastodon client API."""
    from mastodon.errors import MastodonError, MastodonNetworkError

    host = urlsplit(base).netloc
    api = _client(base, user_agent=user_agent, timeout=timeout)
    info: Any = None
    try:
        for fetch in (api.instance_v2, api.instance_v1):  # v2 may be missing (older servers)
            try:
                info = fetch()
            except MastodonNetworkError as e:
                raise UsageError(f"cannot reach {host}: is {base} the right address?") from e
            except MastodonError:
                continue
            if isinstance(info, dict) and (info.get("domain") or info.get("uri")):
                return dict(info)
    finally:
        api.session.close()
    raise UsageError(
        f"{base} does not look like a Mastodon-compatible server "
        "(no /api/v2/instance or /api/v1/instance)"
    )


def verify_token(base: str, token: str, *, user_agent: str, timeout: float) -> dict[str, Any]:
    """The account a token belongs to; AuthError if the instance rejects it."""
    from mastodon.errors import MastodonError

    from companion.sources.mastodon import api_status_code

    host = urlsplit(base).netloc
    api = _client(base, token=token, user_agent=user_agent, timeout=timeout)
    try:
        me = api.account_verify_credentials()
    except MastodonError as e:
        code = api_status_code(e)
        if code in (401, 403, 422):  # some servers answer a bad token with 422 (issue 11)
            raise AuthError(f"token for {host} was rejected — run `pln login {base}`") from e
        raise AuthError(f"could not check the token with {host} ({code or type(e).__name__})"
                        f" — try `pln login {base}` again") from e
    finally:
        api.session.close()
    if not isinstance(me, dict) or me.get("id") is None:
        raise UsageError(f"{base} sent no account for the token: not Mastodon-compatible?")
    return dict(me)


def oauth_token(
    credentials: Credentials,
    base: str,
    read_code: Callable[[str], str],
    *,
    user_agent: str,
    timeout: float,
) -> str:
    """The authorization-code flow: register pln once per instance, show the URL, exchange
    the pasted code for a token."""
    from mastodon import Mastodon
    from mastodon.errors import MastodonError

    host = urlsplit(base).netloc
    allow_http = base.startswith("http://")
    app = credentials.app(base)
    if app is None:
        try:
            client_id, client_secret = Mastodon.create_app(
                APP_NAME, scopes=SCOPES, redirect_uris=OOB, website=APP_WEBSITE,
                api_base_url=base, request_timeout=timeout, user_agent=user_agent,
            )
        except MastodonError as e:
            raise UsageError(f"{host} did not let pln register as an app: {type(e).__name__}") from e
        credentials.put_app(base, client_id, client_secret)
        app = {"client_id": client_id, "client_secret": client_secret}
    api = _client(base, client_id=app["client_id"], client_secret=app["client_secret"],
                  user_agent=user_agent, timeout=timeout)
    try:
        state = secrets.token_urlsafe(16)
        code = pasted_code(read_code(authorize_url(base, app["client_id"], state)), state, base)
        if not code:
            raise UsageError("no authorization code given; run `pln login` again")
        try:
            return str(api.log_in(code=code, redirect_uri=OOB, scopes=SCOPES, allow_http=allow_http))
        except MastodonError as e:
            raise AuthError(
                f"{host} did not accept that authorization code — run `pln login {base}` again"
            ) from e
    finally:
        api.session.close()


def authorize_url(base: str, client_id: str, state: str) -> str:
    """The page where the user authorizes pln: only the parameters OAuth defines (Mastodon.py
    would add ``force_login=False&state=None&lang=None``), with a random ``state``."""
    query = urlencode({"client_id": client_id, "response_type": "code", "redirect_uri": OOB,
                       "scope": " ".join(SCOPES), "state": state})
    return f"{base}/oauth/authorize?{query}"


def pasted_code(text: str, state: str, base: str) -> str:
    """The authorization code in what the user pasted: the code alone, the code followed by
    ``&state=…``, or the address it was shown at (``…?code=…&state=…``). A state that is not
    the one pln sent means the code is for another login: refused."""
    raw = text.strip()
    if "code=" in raw:
        params = dict(parse_qsl(raw.split("?", 1)[-1].split("#", 1)[0]))
        code, got = params.get("code", ""), params.get("state")
    else:
        code, _, rest = raw.partition("&")
        got = dict(parse_qsl(rest)).get("state") if rest else None
    if got is not None and not hmac.compare_digest(got, state):
        raise UsageError(
            "that authorization code was issued for another login (its state does not match) "
            f"— run `pln login {base}` again and paste the code it asks for"
        )
    return code.strip()


def login(
    credentials: Credentials,
    instance_url: str,
    *,
    token: str | None = None,
    name: str | None = None,
    read_code: Callable[[str], str] | None = None,
    user_agent: str,
    timeout: float,
) -> Account:
    """Log in (OAuth code flow when no token is given), check the token, store the account."""
    base = normalize_instance_url(instance_url)
    host = urlsplit(base).netloc
    if name is not None and (not name.strip() or any(c.isspace() for c in name)):
        raise UsageError(f"bad account name {name!r}: use one word, e.g. --name work")
    check_instance(base, user_agent=user_agent, timeout=timeout)
    given = token is not None
    if token is not None:
        token = token.strip()
        if not token:
            raise UsageError("empty --token: paste the access token from the instance's settings")
    else:
        if read_code is None:
            raise UsageError("no token given and no way to ask for an authorization code")
        token = oauth_token(credentials, base, read_code, user_agent=user_agent, timeout=timeout)
    try:
        me = verify_token(base, token, user_agent=user_agent, timeout=timeout)
    except AuthError as e:
        if not given or "rejected" not in e.message:
            raise
        # not "run `pln login …`": that is the command that was just run (issue 13)
        raise AuthError(
            f"{host} rejected that token: check that it was copied whole (Preferences → "
            f"Development → your application), or run `pln login {base}` without --token to "
            "authorize pln in a browser"
        ) from e
    from companion.sources.mastodon_items import full_handle

    username = str(me.get("username") or me.get("acct") or "").split("@")[0]
    handle = full_handle(username, str(me.get("url") or ""), host)
    user_id = str(me["id"])
    with credentials.editing("pln login"):  # the name is chosen among the accounts saved now
        if name is None:
            same = [a for a in credentials.accounts if a.instance == base and a.user_id == user_id]
            if same:
                name = same[0].name  # logging in again refreshes the token
            else:
                name = username or host
                if credentials.has(name):
                    name = f"{username}@{host}"
        account = Account(name=name, instance=base, token=token, handle=handle, user_id=user_id)
        credentials.put_account(account)
    return account
