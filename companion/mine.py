"""What the logged-in accounts wrote ("mine"), and their threads as one row. Pure.

Your own statuses come back through home, your account and the hashtags you use; they are
not news to you, so they arrive read, and a thread you posted is listed as one row
(issue 13.6). A status is yours when its author's handle (``@user@host``) or profile URL is
one of a logged-in account's: handles are compared without case, as servers treat them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit


class _Identity(Protocol):
    handle: str
    instance: str


@dataclass(frozen=True)
class Me:
    """The identities of the logged-in accounts."""

    handles: frozenset[str] = frozenset()
    profiles: frozenset[str] = frozenset()

    @classmethod
    def of(cls, accounts: Iterable[_Identity]) -> Me:
        """From the accounts in credentials.json (their handle and instance URL)."""
        handles: set[str] = set()
        profiles: set[str] = set()
        for a in accounts:
            handle = (a.handle or "").strip()
            if not handle:
                continue
            handles.add(_norm_handle(handle))
            user = handle.lstrip("@").split("@")[0]
            base = (a.instance or "").rstrip("/")
            if user and base:
                profiles.add(_norm_url(f"{base}/@{user}"))
        return cls(frozenset(handles), frozenset(profiles))

    def __bool__(self) -> bool:
        return bool(self.handles or self.profiles)

    def wrote(self, author: Mapping[str, Any] | None) -> bool:
        """Whether a stored item's author is one of the logged-in accounts."""
        if not author or not self:
            return False
        handle = str(author.get("handle") or "")
        if handle and _norm_handle(handle) in self.handles:
            return True
        url = str(author.get("url") or "")
        return bool(url) and _norm_url(url) in self.profiles


def _norm_handle(handle: str) -> str:
    return "@" + handle.strip().lstrip("@").casefold()


def _norm_url(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.netloc.casefold()}{parts.path.rstrip('/').casefold()}"


def arriving(record: dict[str, Any], me: Me) -> dict[str, Any]:
    """A record about to be stored for the first time, marked ``mine`` and read if it is."""
    if record.get("kind") == "status" and me.wrote(record.get("author")):
        record["mine"] = True
        record["read"] = True
    return record


def status_id_of(record: Mapping[str, Any]) -> str | None:
    """The status id at the end of an item's URL or URI (``…/@user/ID``,
    ``…/users/user/statuses/ID``): how a reply found without its parent names it."""
    for field in ("url", "key"):
        path = urlsplit(str(record.get(field) or "")).path.rstrip("/")
        last = path.rsplit("/", 1)[-1] if "/" in path else ""
        if last and not last.startswith("@"):
            return last
    return None


def fold_own_threads(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of a listing with each thread of your own as one row.

    A status of yours that replies to another of yours in ``rows`` is folded into the first
    part present (the row keeps that part's place); the row gets ``thread``: how many parts
    it stands for. Replies are found by the parent's key or, when the parent was not in the
    same fetch, by its status id. Everything else is kept as it is, in order.
    """
    mine = [r for r in rows if r.get("mine")]
    if len(mine) < 2:
        return rows
    by_key = {str(r["key"]): r for r in mine if r.get("key")}
    by_status = {sid: r for r in mine if (sid := status_id_of(r))}

    def parent(r: dict[str, Any]) -> dict[str, Any] | None:
        to = r.get("reply_to")
        if not to:
            return None
        p = by_key.get(str(to)) or (by_status.get(str(to)) if "://" not in str(to) else None)
        return p if p is not r else None

    roots: dict[str, dict[str, Any]] = {}
    place = {r["id"]: n for n, r in enumerate(rows)}

    def root(r: dict[str, Any]) -> dict[str, Any]:
        path = [r["id"]]
        while (p := parent(r)) is not None:
            if p["id"] in path:  # replies in a circle (ids that collide): the first listed
                circle = path[path.index(p["id"]):]
                return rows[min(place[i] for i in circle)]
            path.append(p["id"])
            r = p
        return r

    size: dict[str, int] = {}
    for r in mine:
        top = root(r)
        roots[r["id"]] = top
        size[top["id"]] = size.get(top["id"], 0) + 1
    out: list[dict[str, Any]] = []
    for r in rows:
        top = roots.get(r["id"])
        if top is None:
            out.append(r)
        elif top is r:
            out.append({**r, "thread": size[r["id"]]} if size[r["id"]] > 1 else r)
    return out
