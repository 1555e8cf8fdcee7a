"""Source SPECs (``https://…``, ``@user@host``, ``#tag``, ``home``, ``list:NAME`` …).

Parsing and validation are pure: they never touch the network or the disk.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from companion.errors import UsageError
from companion.ids import SOURCE_ID_LEN, short_id

FEED = "feed"
ACCOUNT = "account"
TAG = "tag"
LIST = "list"
TIMELINES = ("home", "mentions", "bookmarks", "followed-tags")
KINDS = (FEED, ACCOUNT, TAG, LIST, *TIMELINES)
NEEDS_LOGIN = (LIST, *TIMELINES)

_HOST_RE = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
    r"(?::\d{1,5})?$"
)
_USER_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# Mastodon hashtags: letters, digits, underscore, middle dot (any script).
_TAG_RE = re.compile(r"^[^\W][\w·]*$", re.UNICODE)


@dataclass(frozen=True)
class SourceSpec:
    """One followed thing, as written in config.toml (``index`` is its place in the file)."""

    kind: str
    target: str  # feed URL, @user@host, tag (no #), list name, or timeline name
    host: str | None = None  # instance for tags without a login
    name: str | None = None
    topics: tuple[str, ...] = ()
    account: str | None = None  # logged-in account name used to fetch it
    id: str = ""
    index: int = -1
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def canonical(self) -> str:
        """The text the id is derived from; two specs are the same source iff equal."""
        if self.kind == FEED:
            return self.target
        if self.kind == ACCOUNT:
            return self.target.lower()
        if self.kind == TAG:
            return f"#{self.target.casefold()}@{self.host or ''}|{self.account or ''}".rstrip("|")
        if self.kind == LIST:
            return f"list:{self.target}|{self.account or ''}"
        return f"{self.kind}|{self.account or ''}"

    @property
    def spec(self) -> str:
        """The SPEC as a user would type it."""
        if self.kind == FEED:
            return self.target
        if self.kind == ACCOUNT:
            return self.target
        if self.kind == TAG:
            return f"#{self.target}" + (f"@{self.host}" if self.host else "")
        if self.kind == LIST:
            return f"list:{self.target}"
        return self.kind

    @property
    def label(self) -> str:
        """What to call it in output: its name, else its spec."""
        return self.name or self.spec

    def with_id(self) -> SourceSpec:
        """This spec with its id derived from ``canonical`` (unless one is already set)."""
        return self if self.id else replace(self, id=short_id(self.canonical, SOURCE_ID_LEN))


def is_loopback_host(host: str) -> bool:
    """True for localhost / 127.0.0.0/8 / ::1, with or without a port (spoken to over plain
    http)."""
    h = host
    if h.startswith("["):  # [IPv6] or [IPv6]:port
        h, bracket, port = h[1:].partition("]")
        if not bracket or port and not (port[0] == ":" and port[1:].isdigit()):
            return False
    elif h.count(":") == 1:  # host:port (a bare IPv6 address has more colons)
        h = h.rsplit(":", 1)[0]
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def host_base_url(host: str) -> str:
    """``https://host`` (plain ``http://`` for loopback hosts, used by tests and local servers)."""
    return f"{'http' if is_loopback_host(host) else 'https'}://{host}"


def normalize_feed_url(url: str) -> str:
    """Validate a feed URL and lower-case its scheme and host; raise UsageError if not a URL."""
    raw = url.strip()
    if any(c.isspace() for c in raw):
        raise UsageError(f"not a URL: {url!r} (contains spaces)")
    parts = urlsplit(raw)
    if parts.scheme.lower() not in ("http", "https"):
        raise UsageError(f"not a URL: {url!r} (expected http:// or https://)")
    if not parts.hostname:
        raise UsageError(f"not a URL: {url!r} (no host)")
    try:
        port = parts.port
    except ValueError as e:
        raise UsageError(f"not a URL: {url!r} (bad port)") from e
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme.lower()]
    netloc = host if port in (None, default) else f"{host}:{port}"
    if parts.username or parts.password:
        userinfo = parts.netloc.rsplit("@", 1)[0]
        netloc = f"{userinfo}@{netloc}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def _check_host(host: str, spec: str) -> str:
    h = host.strip().lower()
    if not _HOST_RE.match(h):
        raise UsageError(f"{spec!r}: {host!r} is not a host name (expected e.g. mastodon.social)")
    return h


def parse_spec(
    text: str,
    *,
    name: str | None = None,
    topics: tuple[str, ...] | list[str] = (),
    account: str | None = None,
    id: str | None = None,
) -> SourceSpec:
    """Parse a SPEC from the command line into a SourceSpec (raises UsageError).

    ``id`` keeps an id already assigned (config.toml); otherwise it is derived.
    """
    raw = text.strip()
    if not raw:
        raise UsageError("empty source spec: give a feed URL, @user@host, #tag, home, list:NAME …")
    tops = tuple(dict.fromkeys(t.strip().lstrip("#") for t in topics if t.strip()))
    low = raw.lower()
    if low.startswith(("http://", "https://")):
        spec = SourceSpec(FEED, normalize_feed_url(raw), name=name, topics=tops, account=account)
    elif "://" in raw:
        raise UsageError(f"not a URL: {raw!r} (expected http:// or https://)")
    elif raw.startswith("@"):
        parts = raw[1:].split("@")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise UsageError(f"{raw!r} is not a fediverse account: expected @user@host")
        if not _USER_RE.match(parts[0]):
            raise UsageError(f"{raw!r}: {parts[0]!r} is not a valid user name")
        host = _check_host(parts[1], raw)
        spec = SourceSpec(
            ACCOUNT, f"@{parts[0]}@{host}", host=host, name=name, topics=tops, account=account
        )
    elif raw.startswith("#"):
        body = raw[1:]
        tag, _, host = body.partition("@")
        if not tag or not _TAG_RE.match(tag):
            raise UsageError(
                f"{raw!r} is not a hashtag: use letters, digits and _ (e.g. #edtech or #edtech@host)"
            )
        if "@" in body and not host:
            raise UsageError(f"{raw!r}: missing host after @ (e.g. #edtech@mastodon.social)")
        h = _check_host(host, raw) if host else None
        spec = SourceSpec(TAG, tag, host=h, name=name, topics=tops, account=account)
    elif low.startswith("list:"):
        list_name = raw[5:].strip()
        if not list_name:
            raise UsageError(f"{raw!r}: missing list name (e.g. list:Teachers)")
        spec = SourceSpec(LIST, list_name, name=name, topics=tops, account=account)
    elif low in TIMELINES:
        spec = SourceSpec(low, low, name=name, topics=tops, account=account)
    else:
        raise UsageError(
            f"unknown source spec {raw!r}: expected a feed URL (https://…), @user@host, #tag, "
            f"#tag@host, home, mentions, bookmarks, followed-tags or list:NAME"
        )
    return replace(spec, id=id) if id else spec.with_id()
