"""The status an item replies to, when only its status id is known (issue 11.8). Pure.

A reply names its parent by ActivityPub URI when the parent came in the same fetch, else by
the parent's status id *on the server the reply was fetched from*: ids are per server and
opaque, so an id is only ever matched against statuses fetched from that same server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from companion.mine import status_id_of

# How far back from a reply its parent is looked for among stored statuses.
WINDOW = timedelta(days=30)


def host_of(url: str) -> str:
    """``host[:port]`` of a URL, lower-cased ("" if none)."""
    return (urlsplit(url).netloc or "").casefold()


def source_hosts(specs: Iterable[Any], accounts: Mapping[str, str], default: str | None) -> dict[str, str]:
    """Source id -> the host its statuses are fetched from (Mastodon sources only).

    ``accounts`` maps account names to instance URLs; a source without an account of its own
    that needs one uses ``default``.
    """
    from companion.specs import ACCOUNT, FEED

    out: dict[str, str] = {}
    for spec in specs:
        if spec.kind == FEED:
            continue
        name = spec.account or (None if spec.host or spec.kind == ACCOUNT else default)
        if name and name in accounts:
            out[spec.id] = host_of(accounts[name])
        elif spec.host:
            out[spec.id] = str(spec.host).casefold()
        elif spec.kind == ACCOUNT and "@" in spec.target.lstrip("@"):
            out[spec.id] = spec.target.rsplit("@", 1)[-1].casefold()
    return out


def hosts_of_item(item: Mapping[str, Any], hosts: Mapping[str, str]) -> set[str]:
    """The hosts an item was fetched from."""
    return {h for s in item.get("sources", []) if (h := hosts.get(s))}


def find_parent(reply: Mapping[str, Any], hosts: Mapping[str, str],
                statuses: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """Among stored ``statuses``, the one a reply names by a bare status id, if any."""
    to = str(reply.get("reply_to") or "")
    where = hosts_of_item(reply, hosts)
    if not to or "://" in to or not where:
        return None
    for st in statuses:
        if st.get("id") != reply.get("id") and status_id_of(st) == to \
                and where & hosts_of_item(st, hosts):
            return st
    return None


def parent_link(reply: Mapping[str, Any], hosts: Mapping[str, str],
                instances: Iterable[str] = ()) -> str | None:
    """A link to the status a reply names by a bare id, on the server the reply came from.

    Mastodon's web UI shows any status it knows at ``/@acct/ID`` (ID on that server), and a
    reply's first mention is nearly always the parent's author; else the API's URL of it.
    ``instances`` (logged-in accounts' URLs) give the scheme of a host pln logs in to.
    """
    to = str(reply.get("reply_to") or "")
    where = hosts_of_item(reply, hosts)
    if not to or "://" in to or not where:
        return None
    host = min(where)
    scheme = next((u.split("://", 1)[0] for u in instances if host_of(u) == host), "https")
    mentions = reply.get("mentions") or []
    if mentions:
        return f"{scheme}://{host}/@{str(mentions[0]).lstrip('@')}/{to}"
    return f"{scheme}://{host}/api/v1/statuses/{to}"
