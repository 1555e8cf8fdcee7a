"""Small text helpers shared by the digest renderers: remote strings made inert, safe links,
sparklines. No terminal or template library here (the CLI and the HTML renderer use them)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

# The same rules as the terminal's (companion/cli/render.py): C0 controls except \t and \n,
# DEL, C1 controls (CSI 0x9b, OSC 0x9d…), and bidi/formatting characters that reorder or hide
# text. Kept here too because the library cannot import the CLI package, and Markdown and
# HTML must not carry them either (an ESC in HTML is a parse error; in Markdown it reaches
# whatever terminal the file is later printed on).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_ESCAPE_SEQ = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
# Unicode noncharacters are HTML parse errors as well
_NONCHAR = re.compile("[\ufdd0-\ufdef\ufffe\uffff]")

SPARK = "▁▂▃▄▅▆▇█"


def clean(text: str | None, *, oneline: bool = True) -> str:
    """Remote text without escape sequences, control or bidi characters (one line by default)."""
    if not text:
        return ""
    t = _ESCAPE_SEQ.sub("", text)
    t = _UNSAFE.sub("", t.replace("\r\n", "\n").replace("\r", "\n"))
    t = _NONCHAR.sub("", t)
    if oneline:
        t = " ".join(t.split())
    return t


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:") + "…"


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an http(s) URL with a host (what pln opens or links to), else None."""
    if not url:
        return None
    u = clean(url)
    if u != url.strip() or any(c in u for c in " <>\"'`"):
        return None
    try:
        parts = urlsplit(u)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return u


def sparkline(values: list[int]) -> str:
    """One block character per value, scaled to the largest (an empty bin is the lowest)."""
    top = max(values, default=0)
    if top <= 0:
        return SPARK[0] * len(values)
    return "".join(SPARK[min(len(SPARK) - 1, (v * (len(SPARK) - 1) + top - 1) // top)]
                   for v in values)


def display_url(url: str) -> str:
    """A URL as a reader scans it: host and path, no scheme, no trailing slash."""
    parts = urlsplit(url)
    host = parts.netloc.lower().removeprefix("www.")
    path = parts.path.rstrip("/")
    return host + path + (f"?{parts.query}" if parts.query else "")


def item_title(title: str, cw: str, summary: str, url: str) -> str:
    """What to call an item in one line: its title, else ``CW: …``, else its first words."""
    if title.strip():
        return clean(title)
    if cw.strip():
        return "CW: " + clean(cw)
    return clean(summary) or (display_url(url) if url else "")


def when(stamp: str) -> str:
    """``2026-11-27T14:05:09Z`` -> ``2026-11-27 14:05``."""
    return stamp[:16].replace("T", " ")


def period_title(since: str, until: str) -> str:
    """A period for a heading: ``2026-11-21 09:00 – 2026-11-28 09:00 UTC``."""
    return f"{when(since)} – {when(until)} UTC"


def plural(n: int, word: str) -> str:
    """``1 post``, ``2 posts``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def totals_line(t: Any) -> str:
    """``3 new entries from 2 sites, 4 statuses from 3 people, 1 reflection``."""
    entries = "1 new entry" if t.feed_items == 1 else f"{t.feed_items} new entries"
    statuses = "1 status" if t.statuses == 1 else f"{t.statuses} statuses"
    people = "1 person" if t.people == 1 else f"{t.people} people"
    return (f"{entries} from {plural(t.sites, 'site')}, {statuses} from {people}, "
            f"{plural(t.reflections, 'reflection')}")
