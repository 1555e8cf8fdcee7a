"""OPML import (listparser) and export: nested folders <-> topics.

A topic is a folder path joined with "/" ("Edu/Math"). On export a source goes in the folder
of its first topic and lists every topic in OPML 2.0's ``category`` attribute, so a re-import
gives the same topics. Fediverse accounts and hashtags are exported as the public RSS feeds
Mastodon serves for them (``/@user.rss``, ``/tags/TAG.rss``), which any reader can follow,
and those URLs import back as pln's account and hashtag sources; where a sync found the feed
elsewhere (another server's profile URL + ``.rss`` …: issue 11), that feed is exported.
Bluesky accounts go out as the profile RSS bsky.app serves
(``https://bsky.app/profile/HANDLE/rss``) and come back as Bluesky sources. Mailboxes have no
public feed and are left out, like logged-in timelines.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from companion.errors import UsageError
from companion.specs import ACCOUNT, BLUESKY, FEED, MAIL_KINDS, TAG, SourceSpec, host_base_url
from companion.urls import without_password

_ACCOUNT_RSS = re.compile(r"^/@([A-Za-z0-9_][A-Za-z0-9_.-]*)\.rss$")
_TAG_RSS = re.compile(r"^/tags/([^/]+)\.rss$")
_BSKY_RSS = re.compile(r"^/profile/([^/]+)/rss$")
# Exported Bluesky sources name the public service, whatever ``settings.bluesky_base`` says.
BLUESKY_WEB = "https://bsky.app"


@dataclass(frozen=True)
class OpmlEntry:
    """One subscription read from an OPML file."""

    spec: str
    title: str
    topics: tuple[str, ...]


def parse_opml(data: bytes | str) -> list[OpmlEntry]:
    """The subscriptions in an OPML document; UsageError if it is not OPML."""
    import listparser  # lazy: only `source import` needs it

    result = listparser.parse(data)
    if result.get("bozo") and not result.feeds:
        raise UsageError(f"not an OPML file: {result.get('bozo_exception')}")
    if not result.get("version"):  # listparser read no subscription list (issue 13)
        raw = data.encode("utf-8") if isinstance(data, str) else data
        head = raw[:4096].lower()
        if b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head:
            raise UsageError("not an OPML file: it is a feed (follow it with "
                             "`pln source add URL`, giving the feed's address)")
        raise UsageError("not an OPML file: no <opml> subscription list found")
    entries = []
    for feed in result.feeds:
        url = (feed.get("url") or "").strip()
        if not url:
            continue
        topics: list[str] = []
        for path in feed.get("categories", []):
            t = "/".join(p.strip() for p in path if p.strip())
            if t and t not in topics:
                topics.append(t)
        entries.append(OpmlEntry(spec=fediverse_spec(url) or url, title=feed.get("title") or "",
                                 topics=tuple(topics)))
    return entries


def fediverse_spec(url: str) -> str | None:
    """``@user@host`` / ``#tag@host`` for a Mastodon public RSS URL, ``bsky:HANDLE`` for a
    Bluesky profile RSS URL, else None."""
    parts = urlsplit(url)
    if parts.query or not parts.hostname:
        return None
    host = parts.netloc.lower()
    if host in ("bsky.app", "www.bsky.app") and (m := _BSKY_RSS.match(parts.path)):
        return f"bsky:{unquote(m.group(1))}"
    if m := _ACCOUNT_RSS.match(parts.path):
        return f"@{m.group(1)}@{host}"
    if m := _TAG_RSS.match(parts.path):
        return f"#{unquote(m.group(1))}@{host}"
    return None


def feed_url_for(spec: SourceSpec, state: Mapping[str, Any] | None = None) -> str | None:
    """The URL other readers can follow for a source (None for login-only timelines and
    mailboxes); ``state`` is the source's sync state, which knows where the host's feed
    really is."""
    if spec.kind == FEED:
        return spec.target
    if spec.kind == BLUESKY:
        return f"{BLUESKY_WEB}/profile/{spec.target}/rss"
    if spec.kind == ACCOUNT or (spec.kind == TAG and spec.host):
        from companion.sources.public_feed import guessed_feed_url

        return guessed_feed_url(spec, host_base_url(spec.host or ""), dict(state or {}))
    return None


def no_feed_reason(spec: SourceSpec) -> str:
    """Why a source is left out of an OPML export."""
    if spec.kind in MAIL_KINDS:
        return "a mailbox has no public feed"
    return "needs a login and has no public feed"


def export_opml(
    specs: list[SourceSpec], *, now: datetime | None = None,
    states: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[str, list[SourceSpec]]:
    """OPML 2.0 text for the sources, and the sources that cannot be expressed as a feed
    (``states``: each source's sync state, by source id)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = "pln subscriptions"
    stamp = (now or datetime.now(UTC)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    ET.SubElement(head, "dateCreated").text = stamp
    body = ET.SubElement(root, "body")
    folders: dict[str, ET.Element] = {}

    def folder(path: str) -> ET.Element:
        if not path:
            return body
        if path not in folders:
            parent_path, _, name = path.rpartition("/")
            folders[path] = ET.SubElement(folder(parent_path), "outline", text=name, title=name)
        return folders[path]

    skipped = []
    for spec in specs:
        url = feed_url_for(spec, (states or {}).get(spec.id))
        if url is None:
            skipped.append(spec)
            continue
        url = without_password(url)  # an export never carries a password (issue 12)
        title = spec.name or spec.spec
        attrs = {"type": "rss", "text": title, "title": title, "xmlUrl": url}
        if len(spec.topics) > 1:
            attrs["category"] = ",".join("/" + t for t in spec.topics[1:])
        parent = folder(spec.topics[0] if spec.topics else "")
        ET.SubElement(parent, "outline", attrs)
    ET.indent(root)
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    return text, skipped
