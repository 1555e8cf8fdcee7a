"""Small pieces of English for messages, shared by the library and the front ends."""

from __future__ import annotations

from datetime import datetime


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 reply``, ``2 replies``: a count with its noun in the right number."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def age(published: str, now: datetime) -> str:
    """A short age like 5m, 3h, 2d, 6w, 1y (``?`` for a date that cannot be read)."""
    try:
        dt = datetime.fromisoformat(published)
    except ValueError:
        return "?"
    s = max(0, int((now - dt).total_seconds()))
    for unit, size in (("y", 365 * 86400), ("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s // size}{unit}"
    return "now"
