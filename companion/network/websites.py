"""The website links in a Mastodon profile's fields (issue 17: "blogs of followed people").

Pure: a profile's fields in, links out. Mastodon sends a field's value as HTML (``<a href=…
rel="me">`` around a URL); other servers, and older accounts, send the bare text — both are
read. A link is a candidate blog unless it points at a fediverse profile (``/@user`` or the
person's own instance) or at a site that is never a blog of its own (code hosts, social
networks, chat): those would only find activity feeds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from companion.urls import canonical_url

# Hosts whose pages are profiles elsewhere, not someone's blog.
NOT_BLOGS = frozenset({
    "github.com", "gitlab.com", "codeberg.org", "sr.ht", "bitbucket.org", "twitter.com",
    "x.com", "facebook.com", "instagram.com", "linkedin.com", "youtube.com", "tiktok.com",
    "bsky.app", "threads.net", "keybase.io", "matrix.to", "t.me", "discord.gg", "discord.com",
    "twitch.tv", "patreon.com", "ko-fi.com", "paypal.me", "buymeacoffee.com", "liberapay.com",
    "orcid.org", "scholar.google.com", "linktr.ee",
})  # fmt: skip
_BARE = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Website:
    """One link from a profile: the field's name (``Blog``) and the URL."""

    label: str
    url: str


def _host(url: str) -> str:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _is_profile_or_social(url: str, own_hosts: set[str]) -> bool:
    host = _host(url)
    if not host or host in own_hosts:
        return True
    if host in NOT_BLOGS or any(host.endswith("." + h) for h in NOT_BLOGS):
        return True
    path = urlsplit(url).path
    return path.startswith(("/@", "/users/"))  # another fediverse profile


def websites(fields: Iterable[Mapping[str, Any]], *, own_hosts: Iterable[str] = ()) -> tuple[Website, ...]:
    """Candidate blog links of a profile (http/https, as written, without a fragment), in
    field order, one per host."""
    from companion.html import links

    own = {h.lower().removeprefix("www.") for h in own_hosts if h}
    out: list[Website] = []
    seen: set[str] = set()
    for f in fields:
        label = " ".join(str(f.get("name") or "").split())
        value = str(f.get("value") or "")
        hrefs = [h for h, _, _ in links(value)] or _BARE.findall(_TAGS.sub(" ", value))
        for href in hrefs:
            url = href.strip().split("#", 1)[0]
            # canonical only to judge it: the page is fetched as written ("/blog/" and
            # "/blog" may be different pages)
            if canonical_url(url) is None or _host(url) in seen or _is_profile_or_social(url, own):
                continue
            seen.add(_host(url))  # one site per host: its pages name the same feed
            out.append(Website(label=label, url=url))
    return tuple(out)
