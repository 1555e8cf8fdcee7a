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
_NAMES = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)")
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
    names = {n.lower() for n in _NAMES.findall(html)}
    if not names <= _ALLOWED or "</br" in html.lower():
        return None
    s = _ANY.sub("", _BR.sub(_LINE, _P.sub(_BLOCK, html)))
    if "<" in s or ">" in s:
        return None
    blocks = []
    for block in s.split(_BLOCK):
        lines = [" ".join(htmlmod.unescape(ln).split()) for ln in block.split(_LINE)]
        if any(lines):
            blocks.append("\n".join(lines))
    text = "\n".join(ln.rstrip() for ln in "\n\n".join(blocks).splitlines())
    return _BLANKS.sub("\n\n", text).strip()


def html_to_text(html: str) -> str:
    """``to_text`` with the fast path for simple HTML."""
    if not html:
        return ""
    fast = fast_text(html)
    return fast if fast is not None else to_text(html)
