"""Terminal output: consoles, safe text, JSON. Remote text never reaches the terminal raw."""

from __future__ import annotations

import os
import re
import sys
from datetime import datetime
from typing import Any

import orjson
from rich.console import Console
from rich.text import Text

# C0 controls except \t and \n, DEL, C1 controls (incl. CSI 0x9b, OSC 0x9d), and the bidi
# controls that can reorder what a terminal shows (marks, embeddings, overrides, isolates).
# Nothing else: the zero-width joiner and non-joiner, variation selectors and tag characters
# are parts of emoji (🧑‍🏫, ❤️, flags) and of scripts such as Persian (issue 11).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# A whole escape sequence (CSI … final byte, OSC … BEL/ST), removed before single characters.
_ESCAPE_SEQ = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")


def clean(text: str | None, *, oneline: bool = False) -> str:
    """Remote text made safe to print: no escape sequences, controls or bidi overrides."""
    if not text:
        return ""
    t = _ESCAPE_SEQ.sub("", text)
    t = _UNSAFE.sub("", t.replace("\r\n", "\n").replace("\r", "\n"))
    if oneline:
        t = " ".join(t.split())
    return t


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 reply``, ``2 replies``: a count with its noun in the right number."""
    return f"{n} {one if n == 1 else many or one + 's'}"


# the counts a status carries, by their key in ``counts``: (one, many)
COUNT_NOUNS = {"replies": ("reply", "replies"), "boosts": ("boost", "boosts"),
               "favourites": ("favourite", "favourites")}


def counts_line(counts: dict[str, int]) -> str:
    """``1 reply · 3 boosts``: a status's non-zero counts."""
    return " · ".join(plural(v, *COUNT_NOUNS.get(k, (k, k))) for k, v in counts.items() if v)


def safe_text(text: str | None, style: str = "", *, oneline: bool = False) -> Text:
    """A rich Text of cleaned remote text (never parsed as markup)."""
    return Text(clean(text, oneline=oneline), style=style)


def _no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


out = Console(highlight=False, no_color=_no_color(), soft_wrap=False)
err = Console(stderr=True, highlight=False, no_color=_no_color(), soft_wrap=True)


def print_json(obj: Any) -> None:
    """JSON on stdout: no colour, no progress, UTF-8."""
    sys.stdout.write(orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode("utf-8") + "\n")
    sys.stdout.flush()


def warn(message: str) -> None:
    """A warning line on stderr."""
    err.print(Text("warning: ", style="yellow") + Text(message))


def note(message: str) -> None:
    """An informational line on stderr."""
    err.print(Text(message, style="dim"))


def age(published: str, now: datetime) -> str:
    """A short age like 5m, 3h, 2d, 6w, 1y."""
    try:
        dt = datetime.fromisoformat(published)
    except ValueError:
        return "?"
    s = max(0, int((now - dt).total_seconds()))
    for unit, size in (("y", 365 * 86400), ("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s // size}{unit}"
    return "now"


def grid(rows: list[list[Text]], *, flex: int, header: list[str] | None = None,
         right: frozenset[int] = frozenset(), max_widths: dict[int, int] | None = None) -> Text:
    """Rows of cells as one Text with aligned columns, cut to the terminal width.

    A tenth of the cost of a rich Table for the inbox listing (issue 2 start-up budget):
    column ``flex`` takes whatever width is left; others fit their widest cell.
    """
    from rich.cells import cell_len

    if not rows:
        return Text()
    ncols = len(rows[0])
    all_rows = ([[Text(h, style="bold") for h in header]] if header else []) + rows
    widths = [max(cell_len(r[i].plain) for r in all_rows) for i in range(ncols)]
    for i, w in (max_widths or {}).items():
        widths[i] = min(widths[i], w)
    total = out.width
    fixed = sum(w for i, w in enumerate(widths) if i != flex) + (ncols - 1)
    widths[flex] = max(10, min(widths[flex], total - fixed))
    lines: list[Text] = []
    for r in all_rows:
        line = Text(no_wrap=True, overflow="crop")
        for i, cell in enumerate(r):
            w = widths[i]
            plain = cell.plain
            if cell_len(plain) > w:
                cell = cell.copy()
                cell.truncate(w, overflow="ellipsis")
                plain = cell.plain
            pad = " " * (w - cell_len(plain))
            if i in right:
                line.append(pad)
                line.append_text(cell)
            else:
                line.append_text(cell)
                line.append(pad)
            line.append(" ")
        line.rstrip()
        lines.append(line)
    text = Text("\n", no_wrap=True, overflow="crop").join(lines)
    return text
