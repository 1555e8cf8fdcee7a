"""Terminal output: consoles, safe text, JSON. Remote text never reaches the terminal raw."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.text import Text

from companion.textsafe import clean
from companion.words import plural

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


out = Console(highlight=False, no_color=_no_color(), soft_wrap=True)  # never hard-wrap data lines
err = Console(stderr=True, highlight=False, no_color=_no_color(), soft_wrap=True)
if out.is_terminal and out.is_dumb_terminal:  # rich assumes 80 columns for TERM=dumb
    import shutil

    out.size = shutil.get_terminal_size()  # type: ignore[assignment]


# Characters that JSON allows raw in strings but that a terminal or editor showing the JSON
# would obey or hide: DEL and C1 controls (CSI 0x9b …), bidi overrides and isolates (U+202E
# reverses what follows), zero-width characters, line/paragraph separators, BOM, and the
# interlinear annotation marks. orjson escapes C0 itself; these become \\uXXXX (issue 12).
_JSON_UNSAFE = re.compile(
    "[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)


def json_text(obj: Any) -> str:
    """Indented JSON, UTF-8, with every character that could act on a terminal escaped."""
    text = orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode("utf-8")
    # Safe as a text substitution: outside strings JSON is ASCII, so these only occur inside
    # strings, where \\uXXXX means the same character.
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def print_json(obj: Any) -> None:
    """JSON on stdout: no colour, no progress, UTF-8, dangerous characters escaped."""
    sys.stdout.write(json_text(obj) + "\n")
    sys.stdout.flush()


def print_json_array(objs: Iterable[Any]) -> None:
    """``print_json(list(objs))``, written as the objects come: a listing of the whole inbox
    never holds it all (issue 14: 100,000 items took 1 GB as one list)."""
    first = True
    for obj in objs:
        sys.stdout.write(("[\n" if first else ",\n")
                         + "\n".join("  " + line for line in json_text(obj).split("\n")))
        first = False
    sys.stdout.write("[]\n" if first else "\n]\n")
    sys.stdout.flush()


def warn(message: str) -> None:
    """A warning line on stderr."""
    err.print(Text("warning: ", style="yellow") + Text(message))


def note(message: str) -> None:
    """An informational line on stderr."""
    err.print(Text(message, style="dim"))




def fit_widths(natural: list[int], total: int, *, flex: int, mins: dict[int, int] | None = None,
               drop: tuple[int, ...] = (), fixed: frozenset[int] = frozenset(),
               flex_share: float = 0.5, flex_floor: int = 40) -> list[int]:
    """Column widths for a terminal ``total`` cells wide (0 = the column is left out).

    The ``flex`` column (a title) gets the room first: its natural width, or at least
    ``flex_floor`` cells or ``flex_share`` of what the shrinkable columns share. The others keep their natural width
    when it fits, else shrink toward ``mins`` (``drop`` columns first, then the widest), and
    when even that does not fit they are left out in ``drop`` order. ``fixed`` columns (ids, ages) never shrink.
    Issue 13: at 80 columns a title got 10 characters beside a 22-character "from".
    """
    mins = mins or {}
    widths = list(natural)
    active = [i for i in range(len(widths)) if widths[i] > 0]
    dropped: list[int] = []
    while True:
        seps = len(active) - 1
        fixed_w = sum(widths[i] for i in active if i in fixed)
        avail = total - seps - fixed_w
        others = [i for i in active if i != flex and i not in fixed]
        nat_others = sum(natural[i] for i in others)
        flex_w = min(natural[flex], max(min(flex_floor, avail), int(avail * flex_share),
                                        avail - nat_others))
        rest = avail - flex_w
        floor = sum(min(natural[i], mins.get(i, natural[i])) for i in others)
        if floor <= rest or not [d for d in drop if d in active and d not in dropped]:
            break
        gone = next(d for d in drop if d in active)
        active.remove(gone)
        dropped.append(gone)
    for i in range(len(widths)):
        if i not in active:
            widths[i] = 0
    ws = {i: natural[i] for i in others}
    excess = sum(ws.values()) - max(rest, 0)
    for i in drop:  # the first to go are the first to shrink (tags before who wrote it)
        if i in ws and excess > 0:
            cut = min(excess, ws[i] - min(natural[i], mins.get(i, natural[i])))
            ws[i] -= cut
            excess -= cut
    while excess > 0:  # take a cell at a time from the column furthest above its minimum
        i = max(ws, key=lambda k: (ws[k] - min(natural[k], mins.get(k, natural[k])), -k))
        if ws[i] <= min(natural[i], mins.get(i, natural[i])):
            break
        ws[i] -= 1
        excess -= 1
    for i, w in ws.items():
        widths[i] = w
    used = sum(widths[i] for i in active if i != flex) + len(active) - 1
    widths[flex] = max(min(natural[flex], total - used), min(10, natural[flex]))
    return widths


def grid(rows: list[list[Text]], *, flex: int, header: list[str] | None = None,
         right: frozenset[int] = frozenset(), max_widths: dict[int, int] | None = None,
         mins: dict[int, int] | None = None, drop: tuple[int, ...] = (),
         fixed: frozenset[int] = frozenset(), width: int | None = None) -> Text:
    """Rows of cells as one Text with aligned columns, fitted to the terminal width.

    A tenth of the cost of a rich Table for the inbox listing (issue 2 start-up budget).
    Widths come from ``fit_widths``; ``max_widths`` caps a column even when there is room.
    No line ends in spaces.
    """
    lines = grid_lines(rows, flex=flex, header=header, right=right, max_widths=max_widths,
                       mins=mins, drop=drop, fixed=fixed, width=width)
    return Text("\n", no_wrap=True, overflow="crop").join(lines)


def grid_lines(rows: list[list[Text]], *, flex: int, header: list[str] | None = None,
               right: frozenset[int] = frozenset(), max_widths: dict[int, int] | None = None,
               mins: dict[int, int] | None = None, drop: tuple[int, ...] = (),
               fixed: frozenset[int] = frozenset(), width: int | None = None) -> list[Text]:
    """``grid`` as a list of lines (the header first, if any)."""
    from rich.cells import cell_len

    if not rows:
        return []
    ncols = len(rows[0])
    all_rows = ([[Text(h, style="bold") for h in header]] if header else []) + rows
    natural = [max(cell_len(r[i].plain) for r in all_rows) for i in range(ncols)]
    if header:  # a column whose cells are all empty is left out, header and all
        natural = [w if any(r[i].plain for r in rows) else 0 for i, w in enumerate(natural)]
    for i, w in (max_widths or {}).items():
        natural[i] = min(natural[i], w)
    widths = fit_widths(natural, width or out.width, flex=flex, mins=mins, drop=drop, fixed=fixed)
    lines: list[Text] = []
    for r in all_rows:
        line = Text(no_wrap=True, overflow="crop")
        first = True
        for i, cell in enumerate(r):
            w = widths[i]
            if w <= 0:
                continue
            if not first:
                line.append(" ")
            first = False
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
        line.rstrip()
        lines.append(line)
    return lines


# ----- reading width, pager, output files -------------------------------------------------------

READING_WIDTH = 100  # issue 13: prose wider than this is hard to read, however wide the terminal


def reading_width() -> int:
    """The width to wrap prose to: the terminal's, at most ``READING_WIDTH``."""
    return max(20, min(out.width, READING_WIDTH))


_URLISH = re.compile(r"\S*://\S+|\bwww\.\S+")


def wrap(text: str, width: int | None = None) -> str:
    """Text wrapped at spaces to ``width`` (default ``reading_width()``); paragraphs, blank
    lines and indentation kept. A word longer than the width (a URL) is never broken: it gets
    a line of its own, as long as it needs, so it stays one link to click or copy."""
    import textwrap

    width = width or reading_width()
    lines: list[str] = []
    for para in text.split("\n"):
        if len(para) <= width or not para.strip():
            lines.append(para.rstrip())
            continue
        indent = para[: len(para) - len(para.lstrip())]
        # a bullet or number ("• ", "1. ") hangs: its next lines start under its text
        m = re.match(r"(\s*(?:[•*-]|\d+[.)])\s+)", para)
        hang = " " * len(m.group(1)) if m else indent
        lines.extend(textwrap.wrap(para.strip(), width=width, initial_indent=indent,
                                   subsequent_indent=hang, break_long_words=False,
                                   break_on_hyphens=False) or [""])
    return "\n".join(lines)


def page(renderable: Text, lines: int) -> None:
    """Print, through the pager when stdout is a terminal and it is longer than a screen.

    As git does: the pager is $PLN_PAGER, else $PAGER, else ``less``; ``LESS=FRX`` (quit if
    one screen, raw colour codes, no screen clearing) and ``LV=-c`` are set when the user has
    not set them, so a stock less shows colours instead of ``ESC[1m`` (issue 13). With colour
    off the pager gets plain text.
    """
    if not out.is_terminal or lines <= out.height - 2:
        out.print(renderable, soft_wrap=True)
        return
    cmd = os.environ.get("PLN_PAGER", os.environ.get("PAGER", "less")).strip()
    if not cmd or cmd == "cat":
        out.print(renderable, soft_wrap=True)
        return
    if out.no_color or out.color_system is None:
        content = renderable.plain + "\n"
    else:
        with out.capture() as cap:
            out.print(renderable, soft_wrap=True)
        content = cap.get()
    import signal
    import subprocess

    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    env.setdefault("LV", "-c")
    try:
        proc = subprocess.Popen(cmd, shell=True, stdin=subprocess.PIPE, env=env)
    except OSError:
        out.print(renderable, soft_wrap=True)
        return
    # Ctrl-C belongs to the pager while it runs (less uses it to stop a search), as in git.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert proc.stdin is not None
        try:
            proc.stdin.write(content.encode("utf-8", "replace"))
            proc.stdin.close()
        except (BrokenPipeError, OSError):  # the user quit the pager before the end
            pass
        proc.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    if proc.returncode == 127:  # the shell found no such pager: show it here instead
        out.print(renderable, soft_wrap=True)


def write_output(path: Path, data: str | bytes) -> None:
    """Write an export to ``-o FILE``; the same clear message (exit 2) for every ``-o``.

    The folder must exist (pln does not create folders it was not asked for) and the path
    must not be a folder.
    """
    from companion.errors import UsageError
    from companion.storage_io import atomic_write_bytes

    blob = data.encode("utf-8") if isinstance(data, str) else data
    target = path.expanduser()
    if target.is_dir():
        raise UsageError(f"cannot write {path}: it is a folder (give a file name, e.g. "
                         f"{path / 'export.txt'})")
    parent = target.parent
    if not parent.is_dir():
        what = "is not a folder" if parent.exists() else "does not exist"
        raise UsageError(f"cannot write {path}: the folder {parent} {what}")
    try:
        atomic_write_bytes(target, blob, mode=0o644)
    except PermissionError:
        raise UsageError(f"cannot write {path}: permission denied") from None
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None
