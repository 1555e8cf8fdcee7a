"""Warnings the library has for the user outside a command's own result (issue 17: a read
marker that could not be set while `pln read` marked items read). The library collects them;
the CLI prints them on stderr once the command is done (and a TUI may show them its way)."""

from __future__ import annotations

import threading

_lock = threading.Lock()
_pending: list[str] = []


def notice(message: str) -> None:
    """Remember one warning for the user (each text once per command)."""
    with _lock:
        if message not in _pending:
            _pending.append(message)


def drain() -> list[str]:
    """The warnings collected so far, oldest first; forgets them."""
    with _lock:
        out = list(_pending)
        _pending.clear()
    return out
