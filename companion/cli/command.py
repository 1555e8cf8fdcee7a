"""The class of every `pln` command: usage lines name their arguments plainly."""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand


class PlnCommand(TyperCommand):
    """``Usage: pln show ID``, not ``{ID}``: Typer braces required arguments, which reads
    as a placeholder syntax to type (issue 13: names like URL, ID, SPEC)."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]
