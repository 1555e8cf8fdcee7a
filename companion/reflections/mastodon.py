"""Publishing to one Mastodon account with Mastodon.py (imported lazily: `pln --help` is fast).

Mastodon.py's ``AttribAccessDict`` never leaves this module: a post becomes a ``Posted``, an
instance a ``Limits``, and every Mastodon.py exception a ``SendError`` with one clear line.
Tokens are only ever handed to Mastodon.py, which sends them in a header; error messages
are built from the status code and the server's message, never from the request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from companion.credentials import Account
from companion.errors import PostError
from companion.reflections.thread import DEFAULT_MAX_CHARACTERS, DEFAULT_URL_LENGTH, Limits


class SendError(PostError):
    """One request to an instance failed.

    ``retryable`` is False for a rejected post; ``ambiguous`` is True when the instance may
    have made the status anyway (a timeout, a dropped connection, a 5xx from a proxy).
    ``too_long`` is True when the instance refused a status for its length (``max_characters``:
    the limit its message names, if it names one).
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = True,
        ambiguous: bool = False,
        too_long: bool = False,
        max_characters: int | None = None,
        subject: str | None = None,
    ):
        super().__init__(message, subject=subject)
        self.retryable = retryable
        self.ambiguous = ambiguous
        self.too_long = too_long
        self.max_characters = max_characters


@dataclass(frozen=True)
class Posted:
    """A status the instance accepted."""

    id: str
    url: str
    uri: str


class Publisher(Protocol):
    """What posting a reflection needs from one account on one instance."""

    account: Account

    def limits(self) -> Limits: ...

    def find_status(self, uri: str) -> str | None: ...

    def post(
        self,
        text: str,
        *,
        in_reply_to_id: str | None,
        visibility: str,
        cw: str,
        idempotency_key: str,
    ) -> Posted: ...

    def find_posted(
        self, text: str, *, in_reply_to_id: str | None, cw: str = "", since: datetime | None = None
    ) -> Posted | None: ...


# How servers word "too long" (Mastodon: "Text character limit of 500 exceeded"; Pleroma and
# Akkoma: "The status is over the character limit"; GoToSocial: "status too long, … maximum
# allowed is 500"; mastodon_mock: "Text is too long (maximum is 500 characters)").
_TOO_LONG = re.compile(r"too long|character limit|over the (?:character )?limit|exceed",
                       re.IGNORECASE)
_MAX_IN_MESSAGE = re.compile(
    r"(?:limit of|maximum(?: allowed)? is|maximum:?|max(?:imum)? of)\s*(\d+)", re.IGNORECASE
)


def _describe(e: Exception, account: Account, *, posting: bool = False) -> SendError:
    """A Mastodon.py exception as one line that says what to do.

    ``posting``: the request would have made a status, so a lost response leaves its fate
    unknown; any other request (limits, lookups) changed nothing on the server.
    """
    from mastodon.errors import (
        MastodonAPIError,
        MastodonNetworkError,
        MastodonNotFoundError,
        MastodonRatelimitError,
        MastodonServerError,
        MastodonUnauthorizedError,
    )

    where = account.instance
    if isinstance(e, MastodonRatelimitError):
        return SendError(f"{where} is rate-limiting this account (429): try again later")
    if isinstance(e, MastodonNetworkError):
        reason = "timed out" if "timed out" in str(e).lower() or "timeout" in type(e).__name__.lower() else "unreachable"
        if not posting:
            return SendError(f"{where} {reason}")
        return SendError(f"{where} {reason}: the post may or may not have arrived",
                         ambiguous=True)
    if isinstance(e, MastodonAPIError):
        status, message = _api_error_parts(e)
        if isinstance(e, MastodonUnauthorizedError) or status in (401, 403):
            return SendError(
                f"the token for {account.name} was rejected by {where} ({status}) — "
                f"run `pln login {where}`",
                retryable=False,
            )
        if isinstance(e, MastodonServerError) or (status or 0) >= 500:
            return SendError(f"{where} failed ({status}): {message}", ambiguous=posting)
        if status == 429:
            return SendError(f"{where} is rate-limiting this account (429): try again later")
        if isinstance(e, MastodonNotFoundError):
            return SendError(f"{where}: not found (404): {message}", retryable=False)
        if posting and status == 422 and _TOO_LONG.search(message):
            m = _MAX_IN_MESSAGE.search(message)
            return SendError(f"{where} refused the post as too long ({status}): {message}",
                             retryable=False, too_long=True,
                             max_characters=int(m.group(1)) if m else None)
        return SendError(f"{where} refused the post ({status}): {message}", retryable=False)
    # anything else (a malformed answer, a redirect loop): whether a status was made is unknown
    return SendError(f"{where}: {type(e).__name__}: {e}", ambiguous=posting)


def _api_error_parts(e: Exception) -> tuple[int | None, str]:
    args = list(getattr(e, "args", ()))
    status = next((a for a in args if isinstance(a, int)), None)
    texts = [a for a in args[1:] if isinstance(a, str) and a]
    message = texts[-1] if texts else str(e)
    return status, message


def _limits(info: Any) -> Limits | None:
    conf = (info or {}).get("configuration") or {}
    statuses = conf.get("statuses") or {}
    max_chars = statuses.get("max_characters") or (info or {}).get("max_toot_chars")
    url_len = statuses.get("characters_reserved_per_url")
    if not max_chars:
        return None
    return Limits(
        max_characters=int(max_chars),
        url_length=int(url_len) if url_len else DEFAULT_URL_LENGTH,
    )


# A status made before pln's first attempt at a part cannot be that part; the margin allows
# for a server clock that is behind ours.
CLOCK_SKEW = timedelta(minutes=10)

_STATUS_ID_IN_URI = re.compile(r"/(?:statuses/|@[^/]+/)(\w+)/?$")


class MastodonPublisher:
    """A Publisher for one logged-in account, over Mastodon.py."""

    def __init__(self, account: Account, *, timeout: float = 20.0, user_agent: str = "") -> None:
        self.account = account
        self.timeout = timeout
        self.user_agent = user_agent or "pln"
        self._api: Any = None

    @property
    def api(self) -> Any:
        if self._api is None:
            from mastodon import Mastodon

            self._api = Mastodon(
                access_token=self.account.token,
                api_base_url=self.account.instance,
                request_timeout=self.timeout,
                ratelimit_method="throw",  # never sleep for minutes inside `pln post`
                version_check_mode="none",
                user_agent=self.user_agent,
            )
        return self._api

    def limits(self) -> Limits:
        """The instance's status length limit; v2 first, then v1, then Mastodon's defaults."""
        from mastodon.errors import MastodonAPIError, MastodonError

        try:
            found = _limits(self.api.instance_v2())
        except MastodonAPIError:
            found = None  # old servers have no /api/v2/instance
        except MastodonError as e:
            raise _describe(e, self.account) from e
        if found is None:
            try:
                found = _limits(self.api.instance_v1())
            except MastodonAPIError:
                found = None
            except MastodonError as e:
                raise _describe(e, self.account) from e
        return found or Limits(DEFAULT_MAX_CHARACTERS, DEFAULT_URL_LENGTH)

    def find_status(self, uri: str) -> str | None:
        """The id, on this account's instance, of the status with ActivityPub ``uri``.

        A search with ``resolve=True`` fetches remote statuses; a status that lives on this
        instance is also found by the id at the end of its URI (checked by comparing URIs).
        """
        from mastodon.errors import MastodonAPIError, MastodonError

        try:
            # exclude_unreviewed=False: with True, Mastodon.py first asks the instance for its
            # version (two more GETs of /api/v*/instance, issue 11.9); it only filters hashtags
            found = self.api.search_v2(uri, resolve=True, result_type="statuses",
                                       exclude_unreviewed=False)
            for s in found.get("statuses") or []:
                if s.get("uri") == uri or s.get("url") == uri:
                    return str(s["id"])
        except MastodonAPIError:
            pass
        except MastodonError as e:
            raise _describe(e, self.account) from e
        m = _STATUS_ID_IN_URI.search(uri)
        if m:
            try:
                s = self.api.status(m.group(1))
            except MastodonAPIError:
                return None
            except MastodonError as e:
                raise _describe(e, self.account) from e
            if s.get("uri") == uri or s.get("url") == uri:
                return str(s["id"])
        return None

    def post(
        self,
        text: str,
        *,
        in_reply_to_id: str | None,
        visibility: str,
        cw: str,
        idempotency_key: str,
    ) -> Posted:
        """Post one status; the idempotency key makes a repeated request return the first."""
        from mastodon.errors import MastodonError

        try:
            s = self.api.status_post(
                text,
                in_reply_to_id=in_reply_to_id,
                visibility=visibility,
                spoiler_text=cw or None,
                idempotency_key=idempotency_key,
            )
        except MastodonError as e:
            raise _describe(e, self.account, posting=True) from e
        return Posted(id=str(s["id"]), url=str(s.get("url") or s.get("uri") or ""),
                      uri=str(s.get("uri") or ""))

    def find_posted(
        self, text: str, *, in_reply_to_id: str | None, cw: str = "", since: datetime | None = None
    ) -> Posted | None:
        """The newest status of this account with exactly ``text`` and ``cw``, replying to
        ``in_reply_to_id``, made no earlier than ``since`` (less a margin for clock skew).

        After a failure whose outcome is unknown (a lost response, a kill), the part may be on
        the server even though pln never heard back, and not every server honours
        ``Idempotency-Key`` (Mastodon forgets it after an hour): so pln looks here before it
        sends the part again (issue 11.6, 12.2).
        """
        from mastodon.errors import MastodonError

        try:
            me = self.account.user_id or str(self.api.account_verify_credentials()["id"])
            recent = self.api.account_statuses(me, limit=40, exclude_reblogs=True)
            for st in recent:  # newest first
                if str(st.get("in_reply_to_id") or "") != str(in_reply_to_id or ""):
                    continue
                if (st.get("spoiler_text") or "").strip() != cw.strip():
                    continue
                made = st.get("created_at")
                if (since is not None and isinstance(made, datetime) and made.tzinfo is not None
                        and made < since - CLOCK_SKEW):
                    continue  # older than the first attempt: not this part
                if self.api.status_source(st["id"]).get("text") == text:
                    return Posted(id=str(st["id"]), url=str(st.get("url") or st.get("uri") or ""),
                                  uri=str(st.get("uri") or ""))
        except MastodonError as e:
            raise _describe(e, self.account) from e
        return None
