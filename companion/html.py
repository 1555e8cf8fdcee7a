"""Remote HTML: sanitized with nh3 (Ammonia), rendered to plain text with inscriptis.

Used by every source at the edge, so stored items hold only sanitized HTML and plain text.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

import nh3

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
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRS,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


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
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


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


def links(html: str | None) -> list[tuple[str, str, tuple[str, ...]]]:
    """Every ``<a href>`` in document order: (href, link text, css classes).

    Run it on the *raw* HTML when classes matter (Mastodon marks mentions and hashtags with
    ``class="mention"`` / ``"hashtag"``; the sanitizer drops classes).
    """
    if not html or "<a" not in html.lower():
        return []
    p = _LinkCollector()
    p.feed(html)
    p.close()
    return p.links
