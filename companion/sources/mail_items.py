"""Newsletter messages -> ``ItemData``: the one place raw email is read (STYLE.md: edge).

Pure: bytes in, an item out, no I/O. The standard ``email`` package decodes what real
newsletters send — multipart/alternative, quoted-printable, base64, RFC 2047 headers, any
charset Python knows — and lxml cleans the HTML part before the project's sanitizer (nh3)
sees it. (Its ``compat32`` policy, with the few headers pln shows decoded by hand: the
``default`` policy parses every header into objects, two thirds of the time per message.)

- tracking pixels (1×1 or hidden images, known open-tracking paths) are dropped, and so is
  text hidden from readers (the "preheader" newsletters put first for inbox previews);
- click-tracking redirects are unwrapped when the real URL is in them (a ``url=``/``q=``/…
  query parameter, or a base64/JWT payload as Substack's ``/redirect/2/…``): the link then
  points at the page itself, without ``utm_*`` parameters;
- inline images (``cid:``) are dropped: they are parts of the message, not addresses;
- the first link into the body that is content (not unsubscribe, preferences, "view in
  browser", a logo to a home page, a social profile, a redirect pln cannot unwrap) becomes
  the item's ``link``, so the story it points at lists the newsletter in ``shared_by``.

The sender is the author (the newsletter's name), the subject the title, the ``Date`` header
the date; ``List-Id`` and ``List-Unsubscribe`` are kept at the foot of the item's body.
"""

from __future__ import annotations

import base64
import binascii
import html as htmlmod
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parseaddr, parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import orjson

from companion.html import sanitize, to_text
from companion.models import STATUS_ITEM, Author, ItemData
from companion.urls import canonical_url

# Query parameters that carry the destination of a click-tracking redirect.
_REDIRECT_PARAMS = frozenset((
    "url", "u", "q", "target", "redirect", "redirect_url", "redirect_uri", "redirecturl", "r",
    "link", "dest", "destination", "to", "goto", "href", "l", "out", "continue",
))  # fmt: skip
_B64 = re.compile(r"^[A-Za-z0-9_-]{16,}={0,2}$")
# Open-tracking images by their path (Mailchimp, SendGrid, Substack, Beehiiv, HubSpot, …).
_PIXEL_PATH = re.compile(
    r"(?:^|/)(?:track/)?open(?:\.php|\.gif|\.aspx|\.png)?(?:/|$)|/wf/open|/pixel|/beacon|"
    r"/trk/|/o\.gif|/e/o/|/ss/o/|/e2t/o/|/mo/|/imp(?:/|$)", re.IGNORECASE)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|max-height\s*:\s*0"
                           r"|mso-hide\s*:\s*all", re.IGNORECASE)
_TINY_STYLE = re.compile(r"(?:^|;)\s*(?:width|height)\s*:\s*[01](?:px)?\s*(?:;|$)", re.IGNORECASE)
# Links that are about the newsletter, not content it shares.
_BOILERPLATE = re.compile(
    r"unsubscribe|opt[ -]?out|preferences|manage (?:your )?subscription|update (?:your )?"
    r"(?:profile|email)|view (?:it |this )?(?:in|on) (?:your |a )?(?:web )?browser|view online|"
    r"read online|web version|open in (?:a )?browser|forward (?:this|to a friend)|"
    r"share (?:this|on)|subscribe|sign up|privacy|terms|app-link|disable|mailing list",
    re.IGNORECASE)
_WEB_VERSION = re.compile(r"view (?:it |this (?:email |issue )?)?(?:in|on) (?:your |a )?(?:web )?"
                          r"browser|view online|read online|web version|open in (?:a )?browser"
                          r"|read (?:it |this )?on the web", re.IGNORECASE)
_SOCIAL = frozenset((
    "twitter.com", "x.com", "facebook.com", "instagram.com", "linkedin.com", "threads.net",
    "tiktok.com", "bsky.app", "pinterest.com", "youtube.com",
))  # fmt: skip
# Click-tracking hosts whose redirects carry no recoverable URL (a per-recipient token).
_TRACKER_HOST = re.compile(
    r"(?:^|\.)(?:list-manage\.com|ct\.sendgrid\.net|sendgrid\.net|convertkit-mail\d*\.com|"
    r"mailerlite\.com|mlsend\.com|hubspotlinks\.com|hs-sites\.com|beehiiv\.com|"
    r"mcsv\.net|createsend\d*\.com|cmail\d+\.com|klclick\d*\.com|"
    r"rs6\.net|mailchimpapp\.net|exacttarget\.com|sparkpostmail\.com|mandrillapp\.com)$"
    r"|^substack\.com$|^(?:click|clicks|links?|track|trk|email|em|e|mail|url\d*)\.",
    re.IGNORECASE)
_C1 = re.compile("[\x80-\x9f]")


def _c1(text: str) -> str:
    """Text declared ISO-8859-1 is nearly always Windows-1252 (as browsers read it, WHATWG):
    its C1 controls (0x80-0x9f) are really dashes, quotes and the euro sign."""
    if not _C1.search(text):
        return text
    return _C1.sub(lambda m: bytes([ord(m.group(0))]).decode("cp1252", "replace"), text)


@dataclass(frozen=True)
class Envelope:
    """What filtering and incremental sync need, read from the headers only."""

    message_id: str  # without <>, "" when the message has none
    sender: str  # the From address, lower case
    list_id: str  # the List-Id's id (inside <>), lower case, "" when none
    date: datetime | None


def _header(msg: Message, name: str) -> str:
    """A header's value as sent, unfolded; raw 8-bit text (UTF-8 written straight into the
    header, RFC 6532, or a legacy charset) decoded rather than mangled."""
    want = name.lower()
    for key, value in msg.raw_items():
        if key.lower() != want:
            continue
        value = str(value)
        if any("\udc80" <= c <= "\udcff" for c in value):  # bytes the parser could not read
            raw = value.encode("ascii", "surrogateescape")
            try:
                value = raw.decode("utf-8")
            except UnicodeDecodeError:
                value = raw.decode("cp1252", "replace")
        return re.sub(r"\r?\n[ \t]+", " ", value).strip()
    return ""


def _list_id(value: str) -> str:
    m = re.search(r"<([^<>]+)>", value)
    return (m.group(1) if m else value).strip().lower()


def _date(msg: Message) -> datetime | None:
    raw = _header(msg, "Date")
    if not raw:
        return None
    try:
        dt = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if dt.tzinfo is None:  # "-0000": a date with no zone; RFC 5322 says read it as UTC
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def envelope(raw: bytes) -> Envelope:
    """The headers of a message that filtering and dedupe use (cheap: the body is not read)."""
    msg = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    return envelope_of(msg)


def envelope_of(msg: Message) -> Envelope:
    """``envelope`` of a message already parsed."""
    mid = _header(msg, "Message-ID").strip()
    mid = mid[1:-1].strip() if mid.startswith("<") and mid.endswith(">") else mid
    sender = parseaddr(_header(msg, "From"))[1].strip().lower()
    return Envelope(mid, sender, _list_id(_header(msg, "List-Id")), _date(msg))


def wanted(env: Envelope, senders: tuple[str, ...], list_ids: tuple[str, ...]) -> bool:
    """The per-source filters: a sender (``a@b``, or ``@b`` for a domain) or a List-Id."""
    if not senders and not list_ids:
        return True
    for s in senders:
        if (s.startswith("@") and env.sender.endswith(s)) or env.sender == s:
            return True
    return bool(env.list_id) and env.list_id in list_ids


# ----- links ------------------------------------------------------------------------------------


def _b64_url(text: str) -> str | None:
    """A URL inside a base64(url) token: the token itself, or a JSON (JWT) payload's value."""
    for piece in text.split("."):
        if not _B64.match(piece):
            continue
        try:
            raw = base64.urlsafe_b64decode(piece + "=" * (-len(piece) % 4))
        except (binascii.Error, ValueError):
            continue
        if raw.startswith((b"http://", b"https://")):
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
        if raw.startswith(b"{"):
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if isinstance(data, dict):
                for key in ("e", "url", "u", "target", "link", "href", "dest"):
                    v = data.get(key)
                    if isinstance(v, str) and v.startswith(("http://", "https://")):
                        return v
    return None


def unwrap(url: str, depth: int = 0) -> str:
    """The destination of a click-tracking redirect, when the URL carries it; else ``url``."""
    if depth > 4:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    for key, value in parse_qsl(parts.query, keep_blank_values=False):
        v = value.strip()
        if v.lower().startswith(("http%3a", "https%3a")):
            v = unquote(v)
        if key.lower() in _REDIRECT_PARAMS and v.lower().startswith(("http://", "https://")):
            return unwrap(v, depth + 1)
    for segment in [*parts.path.split("/"), *(v for _, v in parse_qsl(parts.query))]:
        found = _b64_url(segment) if len(segment) >= 16 else None
        if found:
            return unwrap(found, depth + 1)
    return url


def _is_content_link(url: str, text: str, skip: set[str]) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    if parts.scheme not in ("http", "https") or not host or url in skip:
        return False
    if _BOILERPLATE.search(text) or _BOILERPLATE.search(parts.path):
        return False
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        return False  # a logo or "our website": the sender's home page, not a story
    if host in _SOCIAL and len(segments) <= 1:
        return False  # a profile ("follow us"), not a post
    return not _TRACKER_HOST.search(host)


# ----- the HTML part ----------------------------------------------------------------------------


def _size(value: str | None) -> float | None:
    if not value:
        return None
    m = re.match(r"\s*(\d+(?:\.\d+)?)", value)
    return float(m.group(1)) if m else None


def _is_pixel(img: Any) -> bool:
    w, h = _size(img.get("width")), _size(img.get("height"))
    if (w is not None and w <= 2) and (h is None or h <= 2) or (h is not None and h <= 2 and w is None):
        return True
    style = img.get("style") or ""
    if _HIDDEN_STYLE.search(style) or _TINY_STYLE.search(style):
        return True
    src = img.get("src") or ""
    try:
        path = urlsplit(src).path
    except ValueError:
        return True
    return bool(_PIXEL_PATH.search(path))


@dataclass(frozen=True)
class _Cleaned:
    html: str
    links: tuple[tuple[str, str], ...]  # (unwrapped url, link text), in order
    pixels: int


def clean_html(raw: str) -> _Cleaned:
    """Drop pixels, hidden text and inline images; unwrap tracking links (before nh3)."""
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.document_fromstring(raw)
    except (etree.ParserError, ValueError):
        return _Cleaned(raw, (), 0)
    pixels = 0
    for el in list(root.iter("img")):
        src = (el.get("src") or "").strip()
        if _is_pixel(el) or src.lower().startswith("cid:") or not src:
            pixels += _is_pixel(el)
            el.drop_tree()
    for el in list(root.iter()):
        if isinstance(el.tag, str) and _HIDDEN_STYLE.search(el.get("style") or ""):
            el.drop_tree()
    links: list[tuple[str, str]] = []
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href.lower().startswith(("http://", "https://")):
            continue
        real = unwrap(href)
        if real != href:
            real = canonical_url(real) or real  # no utm_* on a link we rewrote anyway
            a.set("href", real)
        links.append((real, " ".join(a.text_content().split())))
    body = root.find("body")
    out = lxml.html.tostring(body if body is not None else root, encoding="unicode")
    return _Cleaned(out, tuple(links), pixels)


# ----- the message ------------------------------------------------------------------------------


def _text_of(part: Message) -> str:
    """A text part decoded (transfer encoding and charset), even with an unknown charset."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = (part.get_content_charset() or "utf-8").strip().strip('"')
    try:
        return _c1(payload.decode(charset, "replace"))
    except LookupError:  # a charset Python does not know: most such mail is Windows-1252
        return payload.decode("cp1252", "replace")


def _decoded(value: str) -> str:
    """A header's RFC 2047 encoded words decoded (``=?utf-8?q?…?=``), whitespace folded."""
    if "=?" in value:
        try:
            value = str(make_header(decode_header(value)))
        except (UnicodeError, LookupError, ValueError, binascii.Error):
            pass
    return _c1(" ".join(value.split()))


def _sender(msg: Message) -> tuple[str, str]:
    """(display name, address) of From, RFC 2047 words decoded."""
    name, address = parseaddr(_header(msg, "From"))  # encoded words are atoms: split first
    return _decoded(name), address


def _body(msg: Message) -> Message | None:
    """The part to read: the first HTML part, else the first plain text part (what
    ``multipart/alternative`` offers), never an attachment."""
    found: dict[str, Message] = {}
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if (part.get("Content-Disposition") or "").strip().lower().startswith("attachment"):
            continue
        found.setdefault(part.get_content_subtype(), part)
    return found.get("html") or found.get("plain")


def _unsubscribe(value: str) -> list[str]:
    return [u.strip() for u in re.findall(r"<([^<>]+)>", value) if u.strip()]


_PLAIN_URL = re.compile(r"https?://[^\s<>\"')\]]+", re.IGNORECASE)


def normalize_message(raw: bytes, *, received: datetime | None = None,
                      scope: str = "") -> ItemData:
    """One newsletter message as an item, keyed by its Message-ID (``mid:`` URI, RFC 2392),
    so the same issue reached through IMAP and a Maildir copy is one item. A message without
    one is keyed by a hash of its headers, within ``scope`` (the source id)."""
    msg = BytesParser(policy=policy.compat32).parsebytes(raw)
    env = envelope_of(msg)
    if env.message_id:
        key = f"mid:{env.message_id}"
    else:
        import hashlib

        basis = "\n".join((_header(msg, "From"), _header(msg, "Date"), _header(msg, "Subject")))
        key = f"mail:{scope}:{hashlib.blake2b(basis.encode('utf-8', 'replace'), digest_size=12).hexdigest()}"
    name, address = _sender(msg)
    author = Author(name=name or address, handle="", url=f"mailto:{address}" if address else "")
    subject = _decoded(_header(msg, "Subject"))
    unsub = _unsubscribe(_header(msg, "List-Unsubscribe"))
    list_id = _decoded(_header(msg, "List-Id"))
    archive = next((u for u in _unsubscribe(_header(msg, "List-Archive"))
                    if u.startswith(("http://", "https://"))), "")

    body = _body(msg)
    html = text = ""
    links: tuple[tuple[str, str], ...] = ()
    if body is not None and body.get_content_subtype() == "html":
        cleaned = clean_html(_text_of(body))
        html = sanitize(cleaned.html)
        links = cleaned.links
    elif body is not None:
        text = _text_of(body).replace("\r\n", "\n").strip()
        links = tuple((unwrap(u.rstrip(".,;:!?")), "") for u in _PLAIN_URL.findall(text))

    web = next((u for u, t in links if _WEB_VERSION.search(t)), "") or archive
    # not the newsletter's own web version (its title often links there), not unsubscribing
    skip = {*unsub, web, canonical_url(web) or ""}
    shared = next((canonical_url(u) for u, t in links
                   if _is_content_link(u, t, skip) and canonical_url(u) not in skip), None)

    foot_html, foot_text = [], []
    if list_id:
        foot_html.append(f"List: {htmlmod.escape(list_id)}")
        foot_text.append(f"List: {list_id}")
    web_unsub = [u for u in unsub if u.startswith(("http://", "https://", "mailto:"))]
    if web_unsub:
        foot_html.append("Unsubscribe: " + " · ".join(
            f'<a href="{htmlmod.escape(u)}">{htmlmod.escape(u)}</a>' for u in web_unsub))
        foot_text.append("Unsubscribe: " + " · ".join(web_unsub))
    if html:
        if foot_html:
            html += sanitize("<hr><p>" + "<br>".join(foot_html) + "</p>")
        text = to_text(html)
    elif foot_text:
        text = (text + "\n\n" if text else "") + "\n".join(foot_text)
    extra: tuple[tuple[str, Any], ...] = (
        ("message_id", env.message_id), ("list_id", env.list_id),
        ("list_unsubscribe", tuple(unsub)), ("from", env.sender),
    )
    return ItemData(
        key=key,
        kind=STATUS_ITEM,
        url=web,
        title=subject or "(no subject)",
        author=author,
        html=html,
        text=text,
        published=env.date or received,
        link=shared,
        extra=extra,
    )
