"""Remote text made safe to show in a terminal: shared by every front end (CLI and TUI).

Feeds and statuses are data, never instructions to the terminal (issue 12): escape
sequences, control characters and bidi overrides are removed before any text is shown.
"""

from __future__ import annotations

import re

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
