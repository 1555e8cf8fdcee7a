"""A fast plain-text rendering of *simple* sanitized HTML, identical to ``companion.html.to_text``.

inscriptis (behind ``to_text``) costs ~2.5 ms for a 1.5 KB blog entry; a cold sync of 200
feeds x 50 entries spent most of its time there (issue 3 benchmark). Most entries are
paragraphs, line breaks and inline markup only; for those this renders the same text in a few
microseconds. Anything else (lists, tables, quotes, headings, pre) returns None and the caller
falls back to ``to_text``. tests/test_feed_text.py and the corpus test check the two agree.
"""

from __future__ import annotations

import html as htmlmod
import re

from companion.html import to_text

_ALLOWED = frozenset(
    ("p", "br", "a", "b", "strong", "i", "em", "code", "span", "small", "sub", "sup", "u", "s",
     "del", "abbr", "img")
)
_NAMES = re.compile(r"<(/?[a-zA-Z][a-zA-Z0-9]*)")
# Tag names as _NAMES finds them; "/br" is not here: HTML reads "</br>" as a <br>.
_KNOWN = _ALLOWED | {"/" + n for n in _ALLOWED - {"br", "img"}}
_P = re.compile(r"</?p\b[^>]*>", re.IGNORECASE)
_BR = re.compile(r"<br\b[^>]*>", re.IGNORECASE)
_ANY = re.compile(r"<[^>]*>")
_BLANKS = re.compile(r"\n{3,}")
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
