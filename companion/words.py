"""Small pieces of English for messages, shared by the library and the front ends."""

from __future__ import annotations


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 reply``, ``2 replies``: a count with its noun in the right number."""
    return f"{n} {one if n == 1 else many or one + 's'}"
