"""URL canonicalization, so one story reached by many links is one item (PRODUCT.md)."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

# Query parameters that only track who clicked; never part of what a page is.
_TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "hsa_", "_hs", "vero_", "oly_")
_TRACKING = {
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
    "mc_cid", "mc_eid", "mkt_tok", "_ga", "_gl", "ref_src", "ref_url", "spm", "si", "cmpid",
    "sr_share", "share", "ncid", "ocid", "trk", "trkcampaign", "fb_action_ids",
    "fb_action_types", "fb_source", "action_object_map", "action_type_map", "ito", "wt_mc",
}  # fmt: skip
_DEFAULT_PORTS = {"http": 80, "https": 443}
# What stands in a path as it is (RFC 3986 §3.3: unreserved, sub-delims, ":", "@", "/").
_PATH_OK = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@/-]*")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_LONE_PCT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Already canonical but for a trailing slash: lower-case http(s), a lower-case ASCII host, no
# port, query, fragment or %-escape. Most links are like this; they skip urlsplit (issue 3).
_PLAIN = re.compile(r"(https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*)(/[A-Za-z0-9._~!$&'()*+,;=:@/-]*)?")


@lru_cache(maxsize=8192)  # a sync canonicalizes each link twice (parse, then the story join)
def canonical_url(url: str | None) -> str | None:
    """A stable form of an http(s) URL: lower-case scheme and host (IDNA), no default port,
    no credentials, fragment or tracking parameters, no trailing slash (except the root), and
    ``%``-escapes normalized as RFC 3986 §6.2.2 says. None for anything but an http(s) URL."""
    if not url:
        return None
    plain = _PLAIN.fullmatch(url)
    if plain is not None:
        origin, path = plain.groups()
        if not path or path == "/":
            return origin + "/"
        return origin + (path.rstrip("/") or "/")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        pass
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address (urlsplit took its brackets off)
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = parts.path
    if not _PATH_OK.fullmatch(path):
        path = _normalize_escapes(path)
    path = path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    query = ""
    if parts.query:
        query = urlencode([
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not (k.lower() in _TRACKING or k.lower().startswith(_TRACKING_PREFIXES))
        ], errors="surrogatepass")
    return urlunsplit((scheme, netloc, path, query, ""))


def _normalize_escapes(path: str) -> str:
    """A path as RFC 3986 §6.2.2 normalizes it: escapes of unreserved characters decoded,
    other escapes in upper case (``%2F`` stays an escaped slash, ``%25`` a percent sign), and
    what may not stand in a path escaped (spaces, ``{``, non-ASCII as UTF-8)."""
    path = _LONE_PCT.sub("%25", path)  # a "%" that starts no escape is a percent sign
    # surrogatepass: a lone surrogate (a broken feed or JSON) is escaped, not an error
    path = quote(path, safe="/:@!$&'()*+,;=-._~%", errors="surrogatepass")
    return _PCT.sub(_escape, path)


def _escape(m: re.Match[str]) -> str:
    c = chr(int(m.group(1), 16))
    return c if c in _UNRESERVED else "%" + m.group(1).upper()


def link_key(url: str | None, *, canonical: bool = False) -> str | None:
    """The join key of a link: its canonical form without scheme and a leading ``www.``
    (http/https and www/no-www variants of a page are the same story).

    ``canonical=True`` says ``url`` is already a ``canonical_url`` result (sources store
    links that way), which saves canonicalizing it twice per entry during a sync.
    """
    c = url if canonical else canonical_url(url)
    if not c or "://" not in c:
        return None
    rest = c.split("://", 1)[1]
    return rest.removeprefix("www.")


# ``scheme://user:password@`` or ``scheme://token@`` in a URL or in any text holding one.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s@?#]*)@(?=[^\s@/]*(?:[/?#\s]|$))")


def _hide(m: re.Match[str]) -> str:
    user, sep, _password = m.group(2).partition(":")
    # user:password keeps the user name (which account); a lone user part is often a token
    return f"{m.group(1)}{user}:***@" if sep else f"{m.group(1)}***@"


def redact(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ``***`` (issue 12: feed
    URLs like ``https://user:PASS@host/feed`` are shown and exported without the password)."""
    if "@" not in text or "://" not in text:
        return text
    return _USERINFO.sub(_hide, text)


def without_password(url: str) -> str:
    """``url`` with no password (``https://user@host/feed``), for exports: a reader that
    imports it asks for the password instead of receiving it."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}" if user else host))


def is_web_link(url: str) -> bool:
    """Whether ``url`` is an http(s) address with a host and nothing a shell or terminal
    would act on (a space, C0 or C1 controls, DEL): the only links pln hands to a browser (a
    feed can name javascript:, file: or data: "links", issue 12)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return (parts.scheme in ("http", "https") and bool(parts.hostname)  # (urlsplit lowercases)
            and not any(ord(ch) <= 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in url))
