"""Building a reflection from what the user typed: text, cited items, tags. Pure.

A reflection is a plain dict (it is stored as-is in the journal)::

    {"id", "created", "updated", "body" (what the user wrote), "text" (what is posted:
     body + cited links and credits + hashtags), "visibility", "cw", "tags": [...],
     "cites": [{"item", "kind", "url", "title", "author", "credit"}],
     "reply_to": {"item", "uri", "url", "author"} | None,
     "state": "pending" | "sent" | "failed",
     "accounts": [{"name", "instance", "handle", "state", "error", "limit",
                   "in_reply_to_id", "parts": [{"n", "text", "state", "status_id", "url",
                                                "uri", "idempotency_key", "error", "sent"}]}]}
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

from companion.errors import UsageError

VISIBILITIES = ("public", "unlisted", "private", "direct")
# Mastodon hashtags: letters, digits, underscore, middle dot (any script).
_TAG_RE = re.compile(r"^[^\W][\w·]*$", re.UNICODE)
_HASHTAG_IN_TEXT = re.compile(r"(?<![\w/#])#([^\W][\w·]*)", re.UNICODE)


def normalize_tags(tags: list[str], text: str = "") -> list[str]:
    """``--tag`` values without ``#``, validated, without duplicates (any case), and without
    those the text already has."""
    present = {t.casefold() for t in _HASHTAG_IN_TEXT.findall(text)}
    out: list[str] = []
    for raw in tags:
        tag = raw.strip().lstrip("#")
        if not tag or not _TAG_RE.match(tag):
            raise UsageError(f"bad --tag {raw!r}: use letters, digits and _ (e.g. --tag edtech)")
        if tag.casefold() in present:
            continue
        present.add(tag.casefold())
        out.append(tag)
    return out


def _host(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def _handle(handle: str) -> str:
    h = handle.strip()
    return h if not h or h.startswith("@") else "@" + h


def cite(rec: dict[str, Any], source_names: dict[str, str]) -> dict[str, Any]:
    """What citing an inbox item adds: its link and a credit to its author.

    People are credited by handle (``via @user@host``, which also lets them know); a feed
    entry by its site: the followed source's name, else the site's host.
    """
    author = rec.get("author") or {}
    handle = _handle(author.get("handle", ""))
    if rec.get("kind") == "status":
        url = rec.get("url") or rec.get("key") or ""
        credit = handle or author.get("name", "") or _host(url)
    else:
        url = rec.get("link") or rec.get("url") or ""
        site = next((source_names[s] for s in rec.get("sources", []) if s in source_names), "")
        credit = handle or site or _host(url) or author.get("name", "")
    if not url:
        raise UsageError(f"item {rec['id']} has no link to cite")
    return {
        "item": rec["id"],
        "kind": rec.get("kind", ""),
        "url": url,
        "title": rec.get("title", "") or "",
        "author": {"name": author.get("name", ""), "handle": handle, "url": author.get("url", "")},
        "credit": credit,
    }


def compose_text(body: str, cites: list[dict[str, Any]], tags: list[str]) -> str:
    """The text to post: the user's words, then each cited link with its credit, then tags."""
    text = body.strip()
    lines = []
    for c in cites:
        link = "" if c["url"] in text else c["url"]
        credit = f"via {c['credit']}" if c["credit"] else ""
        line = " ".join(x for x in (link, credit) if x)
        if line:
            lines.append(line)
    blocks = [text] if text else []
    if lines:
        blocks.append("\n".join(lines))
    if tags:
        blocks.append(" ".join(f"#{t}" for t in tags))
    return "\n\n".join(blocks)


def check_visibility(value: str) -> str:
    """A valid Mastodon visibility, lower-cased (UsageError otherwise)."""
    v = value.strip().lower()
    if v not in VISIBILITIES:
        raise UsageError(f"bad --visibility {value!r}: use one of {', '.join(VISIBILITIES)}")
    return v


def idempotency_key(reflection_id: str, account: str, n: int, generation: int = 0) -> str:
    """The same key for the same part to the same account, every time it is (re)sent.

    ``generation`` counts re-splits (issue 11.7): a part cut anew is a new status, so it gets
    a key of its own."""
    seed = f"{reflection_id}\0{account}\0{n}" + (f"\0{generation}" if generation else "")
    h = hashlib.sha256(seed.encode()).hexdigest()[:24]
    return f"pln-{reflection_id}-{n}-{h}"


def progress(refl: dict[str, Any]) -> tuple[int, int]:
    """(parts sent, parts known) over every account."""
    parts = [p for a in refl.get("accounts", []) for p in a.get("parts", [])]
    return sum(1 for p in parts if p["state"] == "sent"), len(parts)


def urls(refl: dict[str, Any]) -> list[str]:
    """The URL of the first sent part on each account (where the reflection can be read)."""
    out = []
    for a in refl.get("accounts", []):
        for p in a.get("parts", []):
            if p.get("state") == "sent" and p.get("url"):
                out.append(p["url"])
                break
    return out
