"""How many inbox items each source holds: the ``items`` of a source's health (issue 11).

The count is what the inbox holds, not what a source brought first: an item reached through
home, a hashtag and a list counts once for each of them, and a pruned item for none. Sync
keeps it exact as it goes (``added``: items a source was newly added to; ``forget``: items
deleted); a source without a counted health (new, added again after ``source rm``, or from
an older pln) is counted once from the inbox itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

COUNTED = "counted"  # health flag: "items" is exact and kept so


def needs_count(state: dict[str, Any]) -> bool:
    """Whether a source's ``items`` was never counted from the inbox."""
    return not (state.get("health") or {}).get(COUNTED)


def count_held(records: Iterable[dict[str, Any]], source_ids: set[str]) -> Counter[str]:
    """How many of ``records`` (stored items) list each of ``source_ids`` among their sources."""
    held: Counter[str] = Counter()
    for rec in records:
        held.update(s for s in rec.get("sources", ()) if s in source_ids)
    return held


def with_count(state: dict[str, Any], items: int) -> dict[str, Any]:
    """``state`` whose health says it holds ``items`` items, counted."""
    health = {**(state.get("health") or {}), "items": max(0, items), COUNTED: True}
    return {**state, "health": health}


def forget(states: dict[str, dict[str, Any]], lost: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    """The states that change when items are deleted (``lost``: how many each source held;
    counted sources only)."""
    return {
        sid: with_count(states[sid], int(states[sid]["health"].get("items", 0)) - n)
        for sid, n in lost.items()
        if sid in states and not needs_count(states[sid])
    }


__all__ = ["COUNTED", "count_held", "forget", "needs_count", "with_count"]
