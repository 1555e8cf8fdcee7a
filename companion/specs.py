"""Source SPECs (``https://…``, ``@user@host``, ``#tag``, ``home``, ``list:NAME``,
``maildir:PATH``, ``mbox:PATH``, ``imaps://user@host/FOLDER``, ``@handle.bsky.social`` …).

Parsing and validation are pure: they never touch the network or the disk.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from companion.errors import UsageError
from companion.ids import SOURCE_ID_LEN, short_id
from companion.urls import redact

FEED = "feed"
ACCOUNT = "account"
TAG = "tag"
LIST = "list"
TIMELINES = ("home", "mentions", "bookmarks", "followed-tags")
MAILDIR = "maildir"
MBOX = "mbox"
IMAP = "imap"
MAIL_KINDS = (MAILDIR, MBOX, IMAP)  # newsletters by email (issue 18)
BLUESKY = "bluesky"
KINDS = (FEED, ACCOUNT, TAG, LIST, *TIMELINES, *MAIL_KINDS, BLUESKY)
NEEDS_LOGIN = (LIST, *TIMELINES)

_HOST_RE = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
    r"(?::\d{1,5})?$"
)
_USER_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# Mastodon hashtags: letters, digits, underscore, middle dot (any script).
_TAG_RE = re.compile(r"^[^\W][\w·]*$", re.UNICODE)
# Bluesky handles are domain names (atproto "Handle" syntax: two labels or more, the last
# starting with a letter); DIDs name an account whatever its handle becomes.
_BSKY_HANDLE_RE = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)
_DID_RE = re.compile(r"^did:(?:plc|web):[a-z0-9._:%-]{1,2000}$")
# --from: an address, or @domain for everything a domain sends
_SENDER_RE = re.compile(r"^[^@\s<>,]*@[^@\s<>,]+\.[^@\s<>,]+$")
_LIST_ID_RE = re.compile(r"^[^\s<>,]+$")


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
    # Mail sources only (issue 18): keep messages from these senders / lists (none: all),
    # and whether to flag fetched messages as read on the server (never unless asked).
    senders: tuple[str, ...] = ()
    list_ids: tuple[str, ...] = ()
    mark_seen: bool = False

    @property
    def canonical(self) -> str:
        """The text the id is derived from; two specs are the same source iff equal."""
        if self.kind == FEED:
            return self.target
        if self.kind in MAIL_KINDS:
            # One folder may feed several sources, each filtered on its own newsletters.
            out = self.target if self.kind == IMAP else f"{self.kind}:{self.target}"
            if self.senders:
                out += "|from=" + ",".join(sorted(self.senders))
            if self.list_ids:
                out += "|list=" + ",".join(sorted(self.list_ids))
            return out
        if self.kind == BLUESKY:
            return f"bsky:{self.target}"
        if self.kind == ACCOUNT:
            return self.target.lower()
        if self.kind == TAG:
            return f"#{self.target.casefold()}@{self.host or ''}|{self.account or ''}".rstrip("|")
        if self.kind == LIST:
            return f"list:{self.target}|{self.account or ''}"
        return f"{self.kind}|{self.account or ''}"

    @property
    def spec(self) -> str:
        """The SPEC as a user would type it (a password in a feed URL shown as ``***``)."""
        if self.kind == FEED:
            return redact(self.target)
        if self.kind == IMAP:
            return self.target
        if self.kind in (MAILDIR, MBOX):
            return f"{self.kind}:{self.target}"
        if self.kind == BLUESKY:
            return f"bsky:{self.target}" if self.target.startswith("did:") else f"@{self.target}"
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


@dataclass(frozen=True)
class ImapAddress:
    """The parts of an ``imap[s]://user@host[:port]/FOLDER`` source."""

    tls: bool  # imaps: TLS from the start; imap: STARTTLS (plain only on loopback)
    user: str
    host: str  # without the port
    port: int
    folder: str

    @property
    def login(self) -> str:
        """Where the password is kept in credentials.json: one per login, not per folder."""
        return f"{self.user}@{self.host}:{self.port}"


def imap_address(spec: SourceSpec) -> ImapAddress:
    """The connection parts of an IMAP source (its target is normalized by ``parse_spec``)."""
    parts = urlsplit(spec.target)
    userinfo, _, hostport = parts.netloc.rpartition("@")
    host = urlsplit(f"//{hostport}").hostname or hostport
    tls = parts.scheme == "imaps"
    port = urlsplit(f"//{hostport}").port or (993 if tls else 143)
    folder = unquote(parts.path[1:]) or "INBOX"
    return ImapAddress(tls, unquote(userinfo), host, port, folder)


def _imap_spec(raw: str) -> tuple[str, str]:
    """(normalized ``imap[s]://user@host[:port]/FOLDER``, host[:port]); UsageError if not."""
    scheme, _, rest = raw.partition("://")
    scheme = scheme.lower()
    netloc, _, folder = rest.partition("/")
    userinfo, at, hostport = netloc.rpartition("@")
    if ":" in userinfo:  # never echo it: it is a password
        raise UsageError(
            f"{scheme}:// source: put no password in the spec — pln asks for it when you add "
            "the source (or reads it with --password -)"
        )
    if not at or not userinfo:
        raise UsageError(f"{raw!r}: missing user name (expected {scheme}://user@host/FOLDER)")
    try:
        parsed = urlsplit(f"//{hostport}")
        port = parsed.port
    except ValueError as e:
        raise UsageError(f"{raw!r}: bad port") from e
    host = _check_host(parsed.hostname or "", raw) if parsed.hostname else ""
    if not host:
        raise UsageError(f"{raw!r}: missing host (expected {scheme}://user@host/FOLDER)")
    default = 993 if scheme == "imaps" else 143
    hp = host if port in (None, default) else f"{host}:{port}"
    box = unquote(folder).strip("/") or "INBOX"
    if any(c in box for c in "\r\n\0\"*%"):
        raise UsageError(f"{raw!r}: {box!r} is not a folder name")
    user = unquote(userinfo)
    target = f"{scheme}://{quote(user, safe='')}@{hp}/{quote(box, safe='/')}"
    return target, hp


def _mail_path(kind: str, raw: str, path: str) -> str:
    p = path.strip()
    if not p:
        raise UsageError(f"{raw!r}: missing path (e.g. {kind}:~/Mail/Newsletters)")
    if "\0" in p:
        raise UsageError(f"{raw!r}: not a path")
    # Expanded here, not read: parse_spec never touches the disk.
    return os.path.normpath(os.path.abspath(os.path.expanduser(p)))


def _bluesky_actor(raw: str, actor: str) -> str:
    a = actor.strip().lstrip("@").lower()
    if not a:
        raise UsageError(f"{raw!r}: missing handle (e.g. bsky:name.bsky.social)")
    if a.startswith("did:"):
        if not _DID_RE.match(a):
            raise UsageError(f"{raw!r}: {actor!r} is not a Bluesky DID (did:plc:… or did:web:…)")
        return a
    if not _BSKY_HANDLE_RE.match(a):
        raise UsageError(
            f"{raw!r}: {actor!r} is not a Bluesky handle (expected e.g. @name.bsky.social)"
        )
    return a


def _mail_filters(
    kind: str, senders: tuple[str, ...] | list[str], list_ids: tuple[str, ...] | list[str],
    mark_seen: bool,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if kind not in MAIL_KINDS:
        if senders or list_ids or mark_seen:
            what = "--from" if senders else "--list-id" if list_ids else "mark_seen"
            raise UsageError(f"{what} applies only to mail sources (maildir:, mbox:, imap://)")
        return (), ()
    if mark_seen and kind == MBOX:
        raise UsageError("mark_seen is not available for mbox sources: pln never rewrites an mbox")
    froms = []
    for s in senders:
        inside = re.search(r"<([^<>]*)>", s)  # "News <news@example.org>" as mail shows it
        a = (inside.group(1) if inside else s).strip().lower()
        if a and "@" not in a:
            a = "@" + a  # --from example.org: the whole domain
        if not _SENDER_RE.match(a):
            raise UsageError(
                f"--from {s!r}: expected an address like news@example.org, or @example.org"
            )
        froms.append(a)
    lists = []
    for s in list_ids:
        a = s.strip().strip("<>").strip().lower()
        if not a or not _LIST_ID_RE.match(a):
            raise UsageError(f"--list-id {s!r}: expected a list id like weekly.example.org")
        lists.append(a)
    return tuple(dict.fromkeys(froms)), tuple(dict.fromkeys(lists))


def parse_spec(
    text: str,
    *,
    name: str | None = None,
    topics: tuple[str, ...] | list[str] = (),
    account: str | None = None,
    id: str | None = None,
    senders: tuple[str, ...] | list[str] = (),
    list_ids: tuple[str, ...] | list[str] = (),
    mark_seen: bool = False,
) -> SourceSpec:
    """Parse a SPEC from the command line into a SourceSpec (raises UsageError).

    ``id`` keeps an id already assigned (config.toml); otherwise it is derived. ``senders``,
    ``list_ids`` and ``mark_seen`` are the options of mail sources.
    """
    raw = text.strip()
    if not raw:
        raise UsageError("empty source spec: give a feed URL, @user@host, #tag, home, list:NAME …")
    tops = tuple(dict.fromkeys(t.strip().lstrip("#") for t in topics if t.strip()))
    low = raw.lower()
    if low.startswith(("http://", "https://")):
        spec = SourceSpec(FEED, normalize_feed_url(raw), name=name, topics=tops, account=account)
    elif low.startswith(("imap://", "imaps://")):
        target, hp = _imap_spec(raw)
        spec = SourceSpec(IMAP, target, host=hp, name=name, topics=tops)
    elif low.startswith((f"{MAILDIR}:", f"{MBOX}:")):
        kind, _, path = raw.partition(":")
        kind = kind.lower()
        spec = SourceSpec(kind, _mail_path(kind, raw, path), name=name, topics=tops)
    elif low.startswith("bsky:"):
        spec = SourceSpec(BLUESKY, _bluesky_actor(raw, raw[5:]), name=name, topics=tops)
    elif "://" in raw:
        raise UsageError(f"not a URL: {raw!r} (expected http:// or https://)")
    elif raw.startswith("@") and raw.count("@") == 1 and "." in raw:
        # @name.bsky.social: one @ and a domain is a Bluesky handle; a fediverse account
        # always has two (@user@host), so the two forms never meet.
        spec = SourceSpec(BLUESKY, _bluesky_actor(raw, raw[1:]), name=name, topics=tops)
    elif raw.startswith("@"):
        parts = raw[1:].split("@")
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise UsageError(
                f"{raw!r} is not a fediverse account: expected @user@host "
                "(or a Bluesky handle: @name.bsky.social)"
            )
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
        host = raw.split("/", 1)[0]
        if "." in host and _HOST_RE.match(host.lower()) and not any(c.isspace() for c in raw):
            # `blog.example/feed`: a feed URL without its scheme (issue 13)
            raise UsageError(f"unknown source spec {raw!r}: did you mean https://{raw} ?")
        raise UsageError(
            f"unknown source spec {raw!r}: expected a feed URL (https://…), @user@host, #tag, "
            f"#tag@host, home, mentions, bookmarks, followed-tags, list:NAME, maildir:PATH, "
            f"mbox:PATH, an IMAP folder (imaps://…: see `pln source add --help`) or "
            f"@handle.bsky.social"
        )
    froms, lists = _mail_filters(spec.kind, senders, list_ids, mark_seen)
    if froms or lists or mark_seen:
        spec = replace(spec, senders=froms, list_ids=lists, mark_seen=mark_seen)
    return replace(spec, id=id) if id else spec.with_id()
