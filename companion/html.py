"""Remote HTML: sanitized with nh3 (Ammonia), rendered to plain text with inscriptis.

HTML never leaves pln unsanitized: Mastodon statuses and feedparser's reads are sanitized
at the source; entries read by the feed fast path are stored as the feed gave them and
sanitized whenever they are read (the store's ``get``/``get_body``). A feed entry's plain text
is rendered then too (``html_to_text``), not at sync; a sync only takes the entry's words
for search and its summary (``plain_words``), which costs a fraction of either.
"""

from __future__ import annotations

import html as htmlmod
import re
from functools import lru_cache
from typing import Any

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "figcaption", "figure", "h1",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "q", "s", "small",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
_ALLOWED_ATTRS = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "abbr": {"title"}}
_BLANKS = re.compile(r"\n{3,}")


def sanitize(html: str | None) -> str:
    """Remote HTML with scripts, styles, event handlers and unsafe URLs removed."""
    if not html:
        return ""
    cleaner = _cleaner()
    if cleaner is not None:
        return cleaner.clean(html)  # type: ignore[no-any-return]
    import nh3  # pragma: no cover - nh3 before Cleaner

    return nh3.clean(html, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRS,  # pragma: no cover
                     url_schemes=_URL_SCHEMES, link_rel=_LINK_REL)


_URL_SCHEMES = {"http", "https", "mailto"}
_LINK_REL = "noopener noreferrer nofollow"


@lru_cache(maxsize=1)
def _cleaner() -> Any:
    """A reusable nh3 Cleaner (2x faster than nh3.clean with arguments, which rebuilds the
    policy on every call); None on an nh3 without it. Imported here, not with the module:
    search and the store need this module, not nh3."""
    import nh3

    if not hasattr(nh3, "Cleaner"):  # pragma: no cover
        return None
    return nh3.Cleaner(tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRS, url_schemes=_URL_SCHEMES,
                       link_rel=_LINK_REL)


@lru_cache(maxsize=1)
def _text_config() -> Any:
    from inscriptis.css_profiles import CSS_PROFILES
    from inscriptis.model.config import ParserConfig

    return ParserConfig(css=CSS_PROFILES["strict"], display_links=False, display_images=False)


def to_text(html: str | None) -> str:
    """Readable plain text of (sanitized) HTML: paragraphs, line breaks and lists kept."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return html.strip()
    from inscriptis import get_text

    text = get_text(html, _text_config())
    lines = [ln.rstrip() for ln in text.splitlines()]
    # Blank lines go at both ends, but not the first line's indentation: a list's first item
    # is indented like the others, a <pre> keeps its layout.
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip("\n")


def _link_collector() -> Any:
    """A parser that collects the ``<a href>`` of some HTML (html.parser is imported only
    when links are read: a sync of 304s never needs it)."""
    from html.parser import HTMLParser

    class _LinkCollector(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.links: list[tuple[str, str, tuple[str, ...]]] = []
            self._href: str | None = None
            self._classes: tuple[str, ...] = ()
            self._text: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                a = dict(attrs)
                self._href = a.get("href") or None
                self._classes = tuple((a.get("class") or "").split())
                self._text = []

        def handle_data(self, data: str) -> None:
            if self._href is not None:
                self._text.append(data)

        def handle_endtag(self, tag: str) -> None:
            if tag == "a" and self._href is not None:
                self.links.append((self._href, "".join(self._text).strip(), self._classes))
                self._href = None

    return _LinkCollector()


def links(html: str | None) -> list[tuple[str, str, tuple[str, ...]]]:
    """Every ``<a href>`` in document order: (href, link text, css classes).

    Run it on the *raw* HTML when classes matter (Mastodon marks mentions and hashtags with
    ``class="mention"`` / ``"hashtag"``; the sanitizer drops classes).
    """
    if not html or "<a" not in html.lower():
        return []
    p = _link_collector()
    p.feed(html)
    p.close()
    return p.links


# ----- fast rendering of simple HTML ---------------------------------------------------------
# inscriptis (behind ``to_text``) costs ~2.5 ms for a 1.5 KB blog entry. Most entries are
# paragraphs, line breaks and inline markup only; for those ``fast_text`` renders the same
# text in a few microseconds. Anything else (lists, tables, quotes, headings, pre) returns
# None and the caller falls back to ``to_text``. tests/test_feed_text.py and the corpus test
# check the two agree.

_SIMPLE = frozenset(
    ("p", "br", "a", "b", "strong", "i", "em", "code", "span", "small", "sub", "sup", "u", "s",
     "del", "abbr", "img")
)
_NAMES = re.compile(r"<(/?[a-zA-Z][a-zA-Z0-9]*)")
# Tag names as _NAMES finds them; "/br" is not here: HTML reads "</br>" as a <br>.
_KNOWN = _SIMPLE | {"/" + n for n in _SIMPLE - {"br", "img"}}
_P = re.compile(r"</?p\b[^>]*>", re.IGNORECASE)
_BR = re.compile(r"<br\b[^>]*>", re.IGNORECASE)
_ANY = re.compile(r"<[^>]*>")
_BLOCK, _LINE = "\ue000", "\ue001"  # private-use markers (refused if already present)


def fast_text(html: str) -> str | None:
    """The text of paragraphs/line breaks/inline markup, or None for anything richer.

    Expects sanitized HTML (nh3 output: every ``<`` starts a tag, no comments).
    """
    if "<" not in html and "&" not in html:
        return html.strip()  # exactly what to_text does for markup-free text
    if _BLOCK in html or _LINE in html or "<!" in html or "<?" in html:
        return None
    names = set(_NAMES.findall(html))
    if not names <= _KNOWN:
        names = {n.lower() for n in names}
        if not names <= _KNOWN:
            return None
    s = _P.sub(_BLOCK, html) if "p" in names or "/p" in names else html
    if "br" in names:
        s = _BR.sub(_LINE, s)
    s = _ANY.sub("", s)
    if "<" in s or ">" in s:
        return None
    # Entities are decoded after splitting on the markers (&#57344; must not make one).
    unescape = htmlmod.unescape if "&" in s else str
    blocks = []
    for block in s.split(_BLOCK):
        if _LINE in block:
            lines = [" ".join(unescape(ln).split()) for ln in block.split(_LINE)]
            if any(lines):
                blocks.append("\n".join(lines))
        else:
            line = " ".join(unescape(block).split())
            if line:
                blocks.append(line)
    # Lines are whitespace-normalized, so nothing is left to strip but runs of blank lines.
    text = "\n\n".join(blocks)
    if "\n\n\n" in text:
        text = _BLANKS.sub("\n\n", text)
    return text.strip()


def html_to_text(html: str) -> str:
    """``to_text`` with the fast path for simple HTML."""
    if not html:
        return ""
    fast = fast_text(html)
    return fast if fast is not None else to_text(html)


_BREAK_TAGS = (r"</?(?:p|br|li|h[1-6]|div|blockquote|pre|tr|td|th|table|thead|tbody|ul|ol|hr"
               r"|figure|figcaption)\b[^>]*>")
_BREAKS = re.compile(_BREAK_TAGS)  # nh3 writes tag names in lower case: 1.5x faster than
_BREAKS_ANY_CASE = re.compile(_BREAK_TAGS, re.IGNORECASE)  # matching them in any case
_UPPER_TAG = re.compile(r"</?[A-Z]")


def plain_words(html: str) -> str:
    """The words of HTML (sanitized, or as a feed gave it), for search and a listing's summary.

    Block boundaries separate words; inline markup does not (``de<b>sign</b>`` is "design"),
    as in the rendered text. What sanitizing drops with its content (scripts, styles,
    comments) is dropped. Whitespace is left as it is (line breaks included): search does
    not mind, and collapsing it would double the cost (sync indexes every entry).
    """
    if "<" in html:
        if "<!" in html or "<s" in html or "<S" in html:
            html = _HIDDEN.sub("", html)  # hidden, as if never there: a<!-- -->b is "ab"
        breaks = _BREAKS_ANY_CASE if _UPPER_TAG.search(html) else _BREAKS
        html = _TAG.sub("", breaks.sub(" ", html))
    if "&" in html:
        html = htmlmod.unescape(html)
    return html


# Markup that sanitizing removes with its content; a tag (a "<" before a letter, "/", "!" or
# "?": in raw HTML a "<" in text may be just that)
_HIDDEN = re.compile(r"<!--.*?(?:-->|\Z)|<(script|style)\b.*?(?:</\1\s*>|\Z)",
                     re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[A-Za-z/!?][^>]*>")


def summary(words: str, limit: int) -> str:
    """The first ``limit`` characters of ``words`` (from plain_words), whitespace collapsed."""
    head = " ".join(words[: limit * 3].split())
    if len(head) < limit and len(words) > limit * 3:  # mostly whitespace: take it all
        head = " ".join(words.split())
    return head[:limit]
