"""Mastodon statuses -> ``ItemData``: the one place raw status JSON is read (STYLE.md: edge).

Works on any mapping shaped like the Mastodon ``Status`` entity: Mastodon.py's
``AttribAccessDict`` (datetimes already parsed) or plain JSON (ISO strings), so the recorded
responses of real servers can be fed through it directly. Nothing here does network I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from companion.html import links, sanitize, to_text
from companion.models import STATUS_ITEM, Author, ItemData, Media
from companion.urls import canonical_url


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def as_datetime(value: Any) -> datetime | None:
    """A status timestamp (datetime or ISO 8601 string) as an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _host_of(url: str) -> str:
    try:
        return (urlsplit(url).netloc or "").lower()
    except ValueError:
        return ""


def full_handle(acct: str, url: str = "", fallback_host: str = "") -> str:
    """``@user@host`` from an ``acct`` that is ``user`` (local) or ``user@host`` (remote).

    A local account's host is taken from its profile URL (the instance's web domain), else
    from the server we asked.
    """
    acct = acct.strip().lstrip("@")
    if not acct:
        return ""
    if "@" in acct:
        return f"@{acct}"
    host = _host_of(url) or fallback_host
    return f"@{acct}@{host}" if host else f"@{acct}"


def author_of(account: Mapping[str, Any] | None, host: str = "") -> Author:
    if not account:
        return Author()
    url = _str(account.get("url"))
    handle = full_handle(_str(account.get("acct") or account.get("username")), url, host)
    name = _str(account.get("display_name")).strip() or handle
    return Author(name=name, handle=handle, url=url)


def _poll_text(poll: Mapping[str, Any] | None) -> str:
    if not poll:
        return ""
    lines = ["Poll:"]
    for opt in poll.get("options") or []:
        votes = opt.get("votes_count")
        suffix = f" ({votes})" if votes is not None else ""
        lines.append(f"- {_str(opt.get('title'))}{suffix}")
    return "\n".join(lines) if len(lines) > 1 else ""


def _external_link(status: Mapping[str, Any], raw_html: str) -> str | None:
    """The card's URL, else the first link that is not a mention, hashtag or media link.

    Server HTML differs (Mastodon marks ``class="mention hashtag"``; others use only the text
    ``#tag``/``@user`` or point at ``/tags/…``), so every signal is checked.
    """
    card = status.get("card")
    if card and card.get("url"):
        url = _str(card.get("url"))
        if "&amp;" in url:  # some servers send the card URL HTML-escaped
            import html

            url = html.unescape(url)
        c = canonical_url(url)
        if c:
            return c
    skip = {_str(m.get("url")) for m in status.get("mentions") or []}
    skip |= {_str(t.get("url")) for t in status.get("tags") or []}
    skip |= {_str(m.get("url")) for m in status.get("media_attachments") or []}
    skip |= {_str(m.get("remote_url")) for m in status.get("media_attachments") or []}
    skip.discard("")
    for href, text, classes in links(raw_html):
        if {"mention", "hashtag", "u-url"} & set(classes):
            continue
        if text.startswith(("#", "@")) or href in skip or "/tags/" in href:
            continue
        c = canonical_url(href)
        if c:
            return c
    return None


def normalize_status(
    status: Mapping[str, Any],
    *,
    host: str = "",
    id_to_uri: Mapping[str, str] | None = None,
) -> ItemData:
    """One status as an ``ItemData`` keyed by its ActivityPub ``uri``.

    A boost becomes its original with the booster in ``boosted_by`` (a boost's own
    ``content`` is often empty). ``host`` names the server asked (for local handles);
    ``id_to_uri`` maps status ids seen in the same fetch to uris, to resolve ``reply_to``.
    """
    boosted_by: tuple[str, ...] = ()
    entry = _entry(status)
    reblog = status.get("reblog")
    if reblog:
        booster = author_of(status.get("account"), host)
        boosted_by = (booster.handle,) if booster.handle else ()
        status = reblog
    uri = _str(status.get("uri")) or _str(status.get("url"))
    if not uri:
        raise ValueError("status has neither uri nor url")
    raw_html = _str(status.get("content"))
    html = sanitize(raw_html)
    text = to_text(html)
    poll = _poll_text(status.get("poll"))
    if poll:
        text = f"{text}\n\n{poll}" if text else poll
    media = tuple(
        Media(
            url=_str(m.get("url") or m.get("remote_url") or m.get("preview_url")),
            alt=_str(m.get("description")),
            type=_str(m.get("type")),
        )
        for m in status.get("media_attachments") or []
        if m.get("url") or m.get("remote_url") or m.get("preview_url")
    )
    mentions = tuple(
        h
        for h in (
            full_handle(_str(m.get("acct") or m.get("username")), _str(m.get("url")), host)
            for m in status.get("mentions") or []
        )
        if h
    )
    tags = tuple(dict.fromkeys(_str(t.get("name")) for t in status.get("tags") or [] if t.get("name")))
    reply_id = status.get("in_reply_to_id")
    reply_to: str | None = None
    if reply_id is not None and _str(reply_id):
        reply_to = (id_to_uri or {}).get(_str(reply_id)) or _str(reply_id)
    counts = tuple(
        (name, int(status.get(field) or 0))
        for name, field in (
            ("replies", "replies_count"),
            ("boosts", "reblogs_count"),
            ("favourites", "favourites_count"),
        )
        if isinstance(status.get(field) or 0, int)
    )
    return ItemData(
        key=uri,
        kind=STATUS_ITEM,
        url=_str(status.get("url")) or uri,
        title="",
        author=author_of(status.get("account"), host),
        html=html,
        text=text,
        published=as_datetime(status.get("created_at")),
        updated=as_datetime(status.get("edited_at")),
        tags=tags,
        media=media,
        cw=_str(status.get("spoiler_text")).strip(),
        reply_to=reply_to,
        boosted_by=boosted_by,
        link=_external_link(status, raw_html),
        mentions=mentions,
        counts=counts,
        extra=entry,
    )


def _entry(status: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Where this status sits in the timeline it came from: its own id there and its own
    ``created_at`` (a boost's, not the original's), full precision. Read markers need both
    (companion/network/markers.py); nothing else reads them."""
    at = as_datetime(status.get("created_at"))
    sid = status.get("id")
    if sid is None or at is None:
        return ()
    return (("entry_id", str(sid)), ("entry_at", at.isoformat()))


def _entry_at(extra: tuple[tuple[str, Any], ...]) -> datetime:
    """The entry time in ``extra`` (the newer of two entries of one status is kept)."""
    at = as_datetime(dict(extra).get("entry_at"))
    return at or datetime.min.replace(tzinfo=UTC)


def normalize_statuses(
    statuses: Iterable[Mapping[str, Any]], *, host: str = ""
) -> tuple[tuple[ItemData, ...], int]:
    """Normalize a batch: one item per ``uri`` (boosts folded in), oldest first.

    Returns (items, how many statuses were malformed and skipped). Ordering is by
    ``created_at``, never by id: ids are opaque strings (issue 4 — some servers use 42-char
    hex ids, and Mastodon.py raises TypeError comparing non-snowflake ids).
    """
    batch = list(statuses)
    id_to_uri: dict[str, str] = {}
    for st in batch:
        for s in (st, st.get("reblog") or {}):
            if s.get("id") is not None and s.get("uri"):
                id_to_uri[_str(s.get("id"))] = _str(s.get("uri"))
    by_key: dict[str, ItemData] = {}
    bad = 0
    for st in batch:
        try:
            item = normalize_status(st, host=host, id_to_uri=id_to_uri)
        except (ValueError, TypeError, AttributeError, KeyError):
            bad += 1
            continue
        prev = by_key.get(item.key)
        if prev is not None:
            boosters = tuple(dict.fromkeys((*prev.boosted_by, *item.boosted_by)))
            item = replace(item, boosted_by=boosters, extra=max(prev.extra, item.extra,
                                                                 key=_entry_at))
        by_key[item.key] = item
    epoch = datetime.min.replace(tzinfo=UTC)
    items = sorted(by_key.values(), key=lambda i: i.published or epoch)
    return tuple(items), bad


# ----- RSS fallback (a host that refuses unauthenticated API access) -------------------------


def status_uri_from_web_url(url: str) -> str | None:
    """Mastodon's ``https://host/@user/ID`` page -> its ActivityPub uri
    ``https://host/users/user/statuses/ID``, so an item read from the public RSS feed is the
    same item as when read through the API. None for anything else."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    segs = [s for s in parts.path.split("/") if s]
    if parts.scheme in ("http", "https") and len(segs) == 2 and segs[0].startswith("@") and "@" not in segs[0][1:]:
        return f"{parts.scheme}://{parts.netloc}/users/{segs[0][1:]}/statuses/{segs[1]}"
    return None


def normalize_rss_entry(entry: Mapping[str, Any], *, host: str, handle: str = "") -> ItemData | None:
    """One entry of a Mastodon public RSS feed (already parsed by feedparser) as an item."""
    link = _str(entry.get("link"))
    key = status_uri_from_web_url(link) or link or _str(entry.get("id"))
    if not key:
        return None
    raw_html = _str(entry.get("summary") or entry.get("description"))
    html = sanitize(raw_html)
    if not handle:
        segs = [s for s in urlsplit(link).path.split("/") if s] if link else []
        if segs and segs[0].startswith("@"):
            handle = full_handle(segs[0][1:], link, host)
    published = None
    for field in ("published_parsed", "updated_parsed"):
        t = entry.get(field)
        if t:
            published = datetime(t[0], t[1], t[2], t[3], t[4], t[5], tzinfo=UTC)
            break
    # feedparser puts each <media:description> (the alt text) into ``content`` as text/plain
    alts = [_str(c.get("value")) for c in entry.get("content") or [] if c.get("type") == "text/plain"]
    found = [m for m in entry.get("media_content") or [] if m.get("url")]
    media = tuple(
        Media(
            url=_str(m.get("url")),
            alt=alts[n] if len(alts) == len(found) else "",
            type=_str(m.get("medium") or m.get("type")),
        )
        for n, m in enumerate(found)
    )
    tags = tuple(dict.fromkeys(_str(t.get("term")) for t in entry.get("tags") or [] if t.get("term")))
    author_url = ""
    if handle and link:
        parts = urlsplit(link)
        author_url = f"{parts.scheme}://{parts.netloc}/@{handle.lstrip('@').split('@')[0]}"
    return ItemData(
        key=key,
        kind=STATUS_ITEM,
        url=link or key,
        author=Author(name=handle, handle=handle, url=author_url),
        html=html,
        text=to_text(html),
        published=published,
        tags=tags,
        media=media,
        link=_external_link({}, raw_html),
    )
