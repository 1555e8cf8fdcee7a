"""Feed documents (RSS, Atom, RDF, JSON Feed) -> ``ItemData``: the edge where raw parser
objects stop (STYLE.md: normalize at the edge).

feedparser is the reference for what an XML feed means. We call it with its own sanitizer
off and sanitize with nh3 ourselves (``companion.html.sanitize``): the same safety, about half
the parsing time (issue 3 measured 104 ms -> 54 ms for a 113 KB feed). feedparser 6 does not
read JSON Feed, so that small format is handled here with orjson.
"""

from __future__ import annotations

import hashlib
import html as htmlmod
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from companion.errors import ParseError
from companion.html import html_to_text as to_text
from companion.html import sanitize
from companion.models import FEED_ITEM, Author, ItemData, Media
from companion.urls import canonical_url

_HTML_TYPES = ("text/html", "application/xhtml+xml", "html", "xhtml")
# A guid that names its own namespace (http:, https:, tag:, urn:, …) is unique across feeds;
# anything else ("42", "post-7") is only unique within its feed (RSS 2.0 spec: guid).
_GLOBAL_GUID = re.compile(r"^(?:[a-z][a-z0-9+.-]*://\S|(?:tag|urn|mailto|data):\S)", re.IGNORECASE)
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.IGNORECASE | re.DOTALL)
NOT_A_FEED_HTML = (
    "not a feed (got an HTML page; try `pln source add` on it to discover its feed)"
)


@dataclass(frozen=True)
class ParsedFeed:
    """A parsed feed document: its title and home page, and its entries as items."""

    title: str
    link: str
    items: tuple[ItemData, ...]
    notes: tuple[str, ...] = ()
    parser: str = "feedparser"  # which path read it: fast | feedparser | json
    # Fingerprints of every entry in the document (raw, before normalizing). Entries whose
    # fingerprint was in ``known`` are left out of ``items``: unchanged since the last fetch,
    # so there is nothing to sanitize, render or write (issue 3: a sync after one new post
    # costs one item, not fifty).
    fingerprints: tuple[str, ...] = ()
    # the XML stops before its end (a truncated download): ``notes`` says so (issue 13)
    cut_off: bool = False


def fingerprint(kind: str, raw: bytes) -> str:
    """A short fingerprint of an entry's raw form, tagged with the path that read it."""
    return kind + hashlib.blake2b(raw, digest_size=8).hexdigest()


def looks_like_html(body: bytes, headers: Mapping[str, str]) -> bool:
    """True for a web page rather than a feed (by its first bytes, else by Content-Type)."""
    head = body[:2048].lstrip(b"\xef\xbb\xbf")
    if _HTML_START.match(head):
        return True
    ctype = _content_type(headers)
    return ctype in ("text/html", "application/xhtml+xml") and not head.lstrip().startswith(
        (b"<?xml", b"<rss", b"<feed", b"<rdf")
    )


def _content_type(headers: Mapping[str, str]) -> str:
    return (headers.get("Content-Type") or headers.get("content-type") or "").split(";")[0].strip().lower()


def _is_json(body: bytes, headers: Mapping[str, str]) -> bool:
    ctype = _content_type(headers)
    first = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return first == b"{" and "xml" not in ctype


def parse_feed(
    body: bytes,
    headers: Mapping[str, str],
    url: str,
    source_id: str,
    known: frozenset[str] = frozenset(),
) -> ParsedFeed:
    """Parse a feed document (raw bytes; charset from headers/prolog/BOM) into items.

    Raises ParseError for an HTML page, JSON that is not a JSON Feed, or a document no parser
    can read. A malformed feed that feedparser still reads (bozo, with entries) is accepted.
    Each item's ``fingerprint`` and ``words`` are computed here, in the parse worker.
    """
    parsed = _parse_document(body, headers, url, source_id, known)
    for item in parsed.items:
        item.fingerprint  # noqa: B018 - cached on the item, pickled with it
        item.words  # noqa: B018
    return parsed


def _parse_document(body: bytes, headers: Mapping[str, str], url: str, source_id: str,
                    known: frozenset[str]) -> ParsedFeed:
    if _is_json(body, headers):
        return parse_json_feed(body, url, source_id)
    if looks_like_html(body, headers):
        raise ParseError(NOT_A_FEED_HTML)
    from companion.sources.feed_fast import fast_parse

    fast = fast_parse(body, headers, source_id, known)
    if fast is not None:
        return fast  # type: ignore[no-any-return]
    return parse_xml_feed(body, headers, url, source_id, known)


# ----- XML (feedparser) -----------------------------------------------------------------------


def feedparser_parse(body: bytes, headers: Mapping[str, str], url: str, *, sanitize_html: bool) -> Any:
    """feedparser on raw bytes, with the HTTP headers that matter for charset and xml:base."""
    import feedparser

    resp_headers = {"content-location": url}
    ctype = headers.get("Content-Type") or headers.get("content-type")
    if ctype:
        resp_headers["content-type"] = ctype
    lang = headers.get("Content-Language") or headers.get("content-language")
    if lang:
        resp_headers["content-language"] = lang
    return feedparser.parse(
        body, response_headers=resp_headers, sanitize_html=sanitize_html, resolve_relative_uris=True
    )


def parse_xml_feed(body: bytes, headers: Mapping[str, str], url: str, source_id: str,
                   known: frozenset[str] = frozenset()) -> ParsedFeed:
    """RSS/Atom/RDF via feedparser (its sanitizer off: nh3 sanitizes every HTML field)."""
    d = feedparser_parse(body, headers, url, sanitize_html=False)
    return from_feedparser(d, source_id, known, last_unclosed=_last_entry_unclosed(body))


def _last_entry_unclosed(body: bytes) -> bool:
    """True when the document ends inside an entry: after the last ``<item``/``<entry``
    there is no closing tag (a download cut off mid-entry)."""
    tail = body[-65536:]
    for open_tag, close_tag in ((b"<item", b"</item"), (b"<entry", b"</entry")):
        at = tail.rfind(open_tag)
        if at >= 0 and tail.find(close_tag, at) < 0:
            return True
    return False


def from_feedparser(d: Any, source_id: str, known: frozenset[str] = frozenset(),
                    last_unclosed: bool = False) -> ParsedFeed:
    """Normalize a feedparser result into a ParsedFeed (raises ParseError if not a feed).

    ``last_unclosed``: the document was cut off inside its last entry, which is then left
    out — half an entry (a title cut short, no guid yet) would be stored as an item of its
    own and never replaced by the whole one."""
    if not d.get("version") and not d.get("entries") and not d.get("feed"):
        exc = d.get("bozo_exception")
        if d.get("bozo") and exc is not None:
            why = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise ParseError(f"not a feed: malformed beyond recovery ({why})")
        raise ParseError("not a feed (no RSS, Atom or JSON Feed document found)")
    feed = d.get("feed", {})
    feed_author = _fp_author(feed)
    entries = list(d.get("entries", []))
    if last_unclosed and entries and d.get("bozo"):
        entries.pop()
    notes = _cut_off(d, len(entries))
    items = []
    prints = []
    for e in entries:
        fp = fingerprint("p", repr((sorted(e.items()), feed_author)).encode("utf-8", "replace"))
        prints.append(fp)
        if fp not in known:
            items.append(_fp_item(e, source_id, feed_author))
    title = _fp_text(feed, "title")
    return ParsedFeed(title=title, link=feed.get("link", "") or "", items=tuple(items),
                      fingerprints=tuple(prints), notes=notes, cut_off=bool(notes))


# What expat says when a document stops before its end (a truncated download).
_CUT_OFF = ("unclosed token", "no element found", "unexpected end", "premature end")


def _cut_off(d: Any, n: int) -> tuple[str, ...]:
    """Issue 13: a feed whose XML stops before its end is said to be cut off, not read
    silently as a shorter (or empty) feed. Lesser oddities that feedparser flags (an
    undefined entity, a wrong charset declaration) stay silent: they are read as they
    always were, in agreement with feedparser."""
    exc = d.get("bozo_exception")
    if not d.get("bozo") or exc is None or type(exc).__name__ != "SAXParseException":
        return ()
    why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    why = why.split(": ", 1)[1] if why.startswith("<") and ": " in why else why
    if not any(m in why for m in _CUT_OFF):
        return ()
    if not n:
        return (f"the feed is cut off ({why[:120]}): no entry could be read from it",)
    return (f"the feed is cut off ({why[:120]}): read {n} "
            f"entr{'y' if n == 1 else 'ies'}; later ones may be missing",)
    why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    why = why.split(": ", 1)[1] if why.startswith("<") and ": " in why else why
    cut = any(m in why for m in _CUT_OFF)
    n = len(d.get("entries", []))
    if not n:
        raise ParseError(f"the feed is {'cut off' if cut else 'malformed XML'} ({why[:120]}) and "
                         "no entry could be read from it")
    if cut:
        return (f"the feed is cut off ({why[:120]}): read {n} "
                f"entr{'y' if n == 1 else 'ies'}; later ones may be missing",)
    return ()


def _fp_text(obj: Any, key: str) -> str:
    """A text construct (title) as plain text, whatever type the feed declared."""
    value = obj.get(key) or ""
    detail = obj.get(f"{key}_detail") or {}
    if detail.get("type", "") in ("text/html", "application/xhtml+xml"):
        return html_title(value)
    return " ".join(value.split())


def html_title(value: str) -> str:
    """An HTML text construct (a title) as one line of plain text."""
    if "<" in value or "&" in value:
        return " ".join(to_text(sanitize(value)).split())
    return " ".join(value.split())


def _fp_author(obj: Any) -> Author:
    detail = obj.get("author_detail") or {}
    name = detail.get("name") or obj.get("author") or ""
    if not name and detail.get("email"):
        name = detail["email"]
    return Author(name=" ".join(str(name).split()), url=detail.get("href", "") or "")


def _fp_date(t: Any) -> datetime | None:
    if not t:
        return None
    try:
        return datetime(*t[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _plain_html(text: str) -> str:
    """Plain text as HTML paragraphs (escaped)."""
    if not text.strip():
        return ""
    paras = htmlmod.escape(text.strip()).split("\n\n")
    return "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in paras)


def _fp_body(e: Any) -> tuple[str, str]:
    """The entry's (sanitized HTML, plain text or ""): full content (HTML preferred) over the
    summary.

    Plain-text content is kept as it is for the text (rendering escaped text back through an
    HTML-to-text converter would decode its entities twice).
    """
    best = None
    for c in e.get("content") or []:
        if not (c.get("value") or "").strip():
            continue
        if best is None or (
            c.get("type", "") in _HTML_TYPES and best.get("type", "") not in _HTML_TYPES
        ):
            best = c
    if best is None:
        value = e.get("summary") or ""
        typ = (e.get("summary_detail") or {}).get("type", "text/html")
    else:
        value, typ = best.get("value") or "", best.get("type", "text/html")
    return html_body(value, typ)


def html_body(value: str, typ: str) -> tuple[str, str]:
    """(sanitized HTML, plain text) of an entry body of MIME type ``typ``. The text of an
    HTML body is "": it is rendered from the HTML when read (see ItemData.text)."""
    if typ == "text/plain":
        return _plain_html(value), value.strip()
    return sanitize(value), ""


def item_key(guid: str | None, link: str | None, title: str, date: datetime | None,
             source_id: str) -> str:
    """Identity of an entry: a global guid, else the guid scoped by source, else its link,
    else a hash of title and date scoped by source (issue 3)."""
    g = (guid or "").strip()
    if g:
        return g if _GLOBAL_GUID.match(g) else f"{source_id}:{g}"
    if link:
        return canonical_url(link) or link
    h = hashlib.sha1(f"{title}\0{date.isoformat() if date else ''}".encode()).hexdigest()[:20]
    return f"{source_id}:h:{h}"


def feed_item(
    source_id: str, *, guid: str | None, link: str, title: str, author: Author, html: str,
    text: str, published: datetime | None, updated: datetime | None, tags: Iterable[str],
    media: Iterable[Media],
) -> ItemData:
    """The ItemData of one feed entry, whichever parser read it (feedparser, the lxml fast
    path, JSON Feed): the same key, tags and canonical link rules for all of them."""
    return ItemData(
        key=item_key(guid, link, title, published or updated, source_id),
        kind=FEED_ITEM,
        url=link,
        title=title,
        author=author,
        html=html,
        text=text,
        published=published,
        updated=updated,
        tags=tuple(dict.fromkeys(t for t in (x.strip() for x in tags) if t)),
        media=tuple(media),
        link=canonical_url(link),
    )


def _fp_item(e: Any, source_id: str, feed_author: Author) -> ItemData:
    link = (e.get("link") or "").strip()
    title = _fp_text(e, "title")
    published = _fp_date(e.get("published_parsed"))
    # dict.get: FeedParserDict.get("updated_parsed") falls back to published (feedparser #310)
    updated = _fp_date(dict.get(e, "updated_parsed"))
    html, text = _fp_body(e)
    author = _fp_author(e)
    if not author.name and not author.url:
        author = feed_author
    tags = [tag.get("term") or tag.get("label") or "" for tag in e.get("tags") or []]
    media: dict[str, Media] = {}
    for enc in e.get("enclosures") or []:
        href = (enc.get("href") or "").strip()
        if href and href not in media:
            media[href] = Media(url=href, type=enc.get("type", "") or "")
    for m in e.get("media_content") or []:
        href = (m.get("url") or "").strip()
        if href and href not in media:
            media[href] = Media(url=href, type=m.get("type", "") or m.get("medium", "") or "")
    return feed_item(source_id, guid=e.get("id"), link=link, title=title, author=author,
                     html=html, text=text, published=published, updated=updated, tags=tags,
                     media=media.values())


# ----- JSON Feed ------------------------------------------------------------------------------


def _json_date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)


def _json_str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _json_author(obj: Mapping[str, Any]) -> Author:
    authors = obj.get("authors")
    a = authors[0] if isinstance(authors, list) and authors else obj.get("author")  # 1.1 / 1.0
    if not isinstance(a, dict):
        return Author()
    return Author(name=" ".join(_json_str(a.get("name")).split()), url=_json_str(a.get("url")))


def parse_json_feed(body: bytes, url: str, source_id: str) -> ParsedFeed:
    """JSON Feed 1.0 / 1.1 (https://jsonfeed.org/version/1.1) into items."""
    import orjson

    try:
        doc = orjson.loads(body.lstrip(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as e:
        raise ParseError(f"not a feed: malformed JSON ({e})") from e
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or not version.startswith(("https://jsonfeed.org/version/",
                                                               "http://jsonfeed.org/version/")):
        raise ParseError("not a feed (JSON without a JSON Feed version)")
    from urllib.parse import urljoin

    base = _json_str(doc.get("feed_url")) or url
    feed_author = _json_author(doc)
    items: list[ItemData] = []
    for it in doc.get("items") or []:
        if not isinstance(it, dict):
            continue
        raw_id = it.get("id")
        guid = str(raw_id).strip() if isinstance(raw_id, (str, int, float)) else ""
        link = _json_str(it.get("url")) or _json_str(it.get("external_url"))
        if link:
            link = urljoin(base, link)
        title = " ".join(_json_str(it.get("title")).split())
        content_html = _json_str(it.get("content_html"))
        content_text = _json_str(it.get("content_text"))
        summary = _json_str(it.get("summary"))
        if content_html:
            html, text = sanitize(content_html), ""
        else:
            text = content_text or summary
            html = _plain_html(text)
        published = _json_date(it.get("date_published"))
        updated = _json_date(it.get("date_modified"))
        author = _json_author(it)
        if not author.name and not author.url:
            author = feed_author
        tags = [t for t in it.get("tags") or [] if isinstance(t, str)]
        media: dict[str, Media] = {}
        for att in it.get("attachments") or []:
            if isinstance(att, dict) and _json_str(att.get("url")):
                u = urljoin(base, _json_str(att.get("url")))
                media.setdefault(u, Media(url=u, alt=_json_str(att.get("title")),
                                          type=_json_str(att.get("mime_type"))))
        image = _json_str(it.get("image"))
        if image:
            u = urljoin(base, image)
            media.setdefault(u, Media(url=u))
        items.append(feed_item(source_id, guid=guid, link=link, title=title, author=author,
                               html=html, text=text, published=published, updated=updated,
                               tags=tags, media=media.values()))
    return ParsedFeed(
        title=" ".join(_json_str(doc.get("title")).split()),
        link=_json_str(doc.get("home_page_url")),
        items=tuple(items),
        parser="json",
    )
