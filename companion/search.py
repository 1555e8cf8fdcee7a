"""Case- and accent-insensitive text matching (``pln inbox --search``). Pure."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from companion.html import plain_words

# Combining marks left by NFKD: Latin diacritics and the other combining blocks.
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def fold(text: str) -> str:
    """Text with accents removed and case folded: ``Élève`` -> ``eleve``, ``Straße`` -> ``strasse``."""
    if text.isascii():
        return text.lower()  # the same result, without NFKD (most text is plain ASCII)
    return _MARKS.sub("", unicodedata.normalize("NFKD", text)).casefold()


def search_text(rec: dict[str, Any], html: str = "") -> str:
    """The folded text a record is searched by: title, text (or, for an item whose text is
    rendered from its HTML when read, its ``words`` or those of ``html``), content warning,
    author."""
    a = rec.get("author") or {}
    text = rec.get("text") or rec.get("words") or (plain_words(html) if html else "")
    return fold(" ".join((rec.get("title", ""), text, rec.get("cw", ""),
                          a.get("name", ""), a.get("handle", ""))))


def query_words(query: str) -> list[str]:
    """The folded words of a search query (all must appear)."""
    return fold(query).split()
