"""Sanitized HTML as rich text for the reading pane: headings, lists, quotes, code, links.

Every piece of remote text is appended to a ``rich.text.Text`` as plain text, after
``companion.textsafe.clean``: nothing from a feed or a status is ever parsed as rich or
Textual markup, and no escape or bidi sequence reaches the screen (issue 15). Links are
underlined and numbered; their addresses are listed under the text (``links``), as
`pln show` lists them. Images become their alt text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from rich.text import Text

from companion.textsafe import clean

_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote",
           "pre", "table", "tr", "figure", "figcaption", "hr"}
_STYLES = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
           "s": "strike", "del": "strike", "code": "bold", "small": "dim", "sub": "dim",
           "sup": "dim", "q": "italic", "abbr": "", "span": ""}
_SPACE = re.compile(r"[ \t\r\n\f]+")


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = Text()
        self.styles: list[str] = []
        self.lists: list[list[int]] = []  # [counter] per open list; -1 for bullets
        self.quote = 0
        self.pre = 0
        self.links: list[str] = []
        self.href: list[str | None] = []
        self.at_line_start = True
        self.pending_break = 0
        self.last = ""  # the last character written ("" before any)

    # ----- structure ----------------------------------------------------------------------

    def _break(self, n: int) -> None:
        """Ask for ``n`` line breaks before the next text (blank lines never pile up)."""
        if self.last:
            self.pending_break = max(self.pending_break, n)

    def _flush_break(self) -> None:
        if self.pending_break:
            self.out.append("\n" * self.pending_break)
            self.pending_break = 0
            self.at_line_start = True
            self.last = "\n"
        if self.at_line_start:
            if self.quote:
                self.out.append("▌ " * self.quote, style="dim")
            self.at_line_start = False

    def _text(self, text: str, style: str = "") -> None:
        if not text:
            return
        self._flush_break()
        combined = " ".join(s for s in [*self.styles, style] if s)
        self.out.append(text, style=combined or None)
        self.last = text[-1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._break(2)
            self.styles.append("bold underline" if tag in ("h1", "h2") else "bold")
        elif tag in ("p", "div", "table", "figure"):
            self._break(2)
        elif tag in ("tr", "figcaption"):
            self._break(1)
        elif tag in ("ul", "ol"):
            self._break(1 if self.lists else 2)
            self.lists.append([0 if tag == "ol" else -1])
        elif tag == "li":
            self._break(1)
            depth = max(0, len(self.lists) - 1)
            counter = self.lists[-1] if self.lists else [-1]
            if counter[0] >= 0:
                counter[0] += 1
                bullet = f"{counter[0]}. "
            else:
                bullet = "• "
            self._text("  " * depth + bullet)
        elif tag == "blockquote":
            self._break(2)
            self.quote += 1
            self.styles.append("italic")
        elif tag == "pre":
            self._break(2)
            self.pre += 1
            self.styles.append("bold")
        elif tag == "br":
            if self.last:
                self.pending_break = max(self.pending_break, 1)
        elif tag == "hr":
            self._break(2)
            self._text("─" * 20, "dim")
            self._break(2)
        elif tag == "img":
            alt = clean(a.get("alt") or "", oneline=True)
            self._text(f"[image: {alt}]" if alt else "[image without description]", "dim italic")
        elif tag == "a":
            href = (a.get("href") or "").strip()
            web = href.lower().startswith(("http://", "https://"))
            self.href.append(clean(href, oneline=True) if web else None)
            self.styles.append("underline" if web else "")
        elif tag in _STYLES:
            self.styles.append(_STYLES[tag])
        elif tag in ("td", "th"):
            self._text(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._pop()
            self._break(2)
        elif tag in ("p", "div", "table", "figure"):
            self._break(2)
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._break(1 if self.lists else 2)
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
            self._pop()
            self._break(2)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self._pop()
            self._break(2)
        elif tag == "a":
            self._pop()
            href = self.href.pop() if self.href else None
            if href:
                if href not in self.links:
                    self.links.append(href)
                self._text(f"[{self.links.index(href) + 1}]", "dim")
        elif tag in _STYLES:
            self._pop()

    def _pop(self) -> None:
        if self.styles:
            self.styles.pop()

    def handle_data(self, data: str) -> None:
        text = clean(data)
        if self.pre:
            for n, line in enumerate(text.split("\n")):
                if n:
                    self.pending_break = max(self.pending_break, 1)
                self._text(line)
            return
        text = _SPACE.sub(" ", text)
        if self.pending_break or self.last in ("", " ", "\n"):
            text = text.lstrip()
        self._text(text)


def html_to_rich(html: str) -> tuple[Text, list[str]]:
    """Sanitized HTML as a rich Text, and the web links it contains in order (numbered in
    the text as ``[n]``)."""
    b = _Builder()
    try:
        b.feed(html)
        b.close()
    except (AssertionError, ValueError):  # a malformed declaration: keep what was read
        pass
    b.out.rstrip()
    return b.out, b.links


def plain_to_rich(text: str) -> Text:
    """Plain remote text, cleaned, as a rich Text (never parsed as markup)."""
    return Text(clean(text).strip())
