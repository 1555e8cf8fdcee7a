"""Which inbox statuses reply to a reflection. Pure: reflections and items in, ids out.

A reply names its parent by ActivityPub URI when the parent came in the same fetch, else by
the parent's status id *on the server it was fetched from* (issue 11.8). So a reflection's
part is known by its URI and URL, and by (instance, status id) of the account it was posted
with; a bare id only matches when one of the item's sources was fetched from that instance
(ids are per server, and opaque: two servers may use the same one). A thread's own parts
reply to each other, and the logged-in accounts' own statuses are not replies from others:
neither is counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from companion.mine import Me
from companion.parents import host_of


class PartIndex:
    """Every posted part of the given reflections, by URI/URL and by (host, status id)."""

    def __init__(self, reflections: Iterable[Mapping[str, Any]]) -> None:
        self.by_key: dict[str, str] = {}
        self.by_id: dict[tuple[str, str], str] = {}
        for r in reflections:
            for e in r.get("accounts", []):
                host = host_of(str(e.get("instance") or ""))
                for p in e.get("parts", []):
                    for key in (p.get("uri"), p.get("url")):
                        if key:
                            self.by_key[str(key)] = r["id"]
                    if p.get("status_id") and host:
                        self.by_id[(host, str(p["status_id"]))] = r["id"]
        self.bare_ids = {sid for _, sid in self.by_id}

    def __bool__(self) -> bool:
        return bool(self.by_key)

    def may_reply(self, item: Mapping[str, Any]) -> bool:
        """A cheap first test for a store scan: the item's parent could be a part."""
        to = item.get("reply_to")
        return bool(to) and (to in self.by_key or to in self.bare_ids)

    def reflection_replied_to(
        self, item: Mapping[str, Any], source_hosts: Mapping[str, str], me: Me
    ) -> str | None:
        """The id of the reflection the item replies to, if it is a reply from someone else."""
        to = str(item.get("reply_to") or "")
        if not to or item.get("key") in self.by_key or item.get("url") in self.by_key:
            return None  # no parent, or one of the thread's own parts
        if item.get("mine") or me.wrote(item.get("author")):
            return None
        if to in self.by_key:
            return self.by_key[to]
        if "://" in to:
            return None
        for source in item.get("sources", []):
            host = source_hosts.get(source)
            if host and (host, to) in self.by_id:
                return self.by_id[(host, to)]
        return None


def replies_by_reflection(
    reflections: list[Mapping[str, Any]],
    items: Iterable[Mapping[str, Any]],
    source_hosts: Mapping[str, str],
    me: Me,
) -> dict[str, list[str]]:
    """Reflection id -> ids of the items that reply to one of its parts, in item order."""
    index = PartIndex(reflections)
    out: dict[str, list[str]] = {r["id"]: [] for r in reflections}
    for item in items:
        rid = index.reflection_replied_to(item, source_hosts, me)
        if rid is not None and item["id"] not in out[rid]:
            out[rid].append(item["id"])
    return out

