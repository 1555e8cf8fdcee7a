"""`pln digest --format md`: Markdown to paste into a blog or a notes app.

Every remote string is cleaned (no control characters) and its Markdown punctuation escaped,
so a title like ``**[x](javascript:…)**`` stays text; only http(s) URLs become links.
"""

from __future__ import annotations

import re

from companion.digest.model import Digest, ItemRef, SharedLink
from companion.digest.text import (
    clean,
    display_url,
    item_title,
    period_title,
    plural,
    safe_url,
    shorten,
    sparkline,
    totals_line,
    when,
)

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~&$-])")


def esc(text: str | None, limit: int = 0) -> str:
    """Remote text as inert Markdown: one line, no controls, punctuation escaped."""
    t = clean(text)
    if limit:
        t = shorten(t, limit)
    return _MD_SPECIAL.sub(r"\\\1", t)


def link(text: str, url: str | None, limit: int = 0) -> str:
    """``[text](<url>)`` for an http(s) URL, else the escaped text alone."""
    u = safe_url(url)
    label = esc(text, limit) or (esc(display_url(u)) if u else "")
    return f"[{label}](<{u}>)" if u else label


def _item(ref: ItemRef, *, date: bool = True, who: bool = False) -> str:
    title = item_title(ref.title, ref.cw, ref.summary, ref.url)
    out = link(title, ref.url, 120)
    if who and (ref.author.handle or ref.author.name):
        out = f"{esc(ref.author.handle or ref.author.name)}: {out}"
    extras = [when(ref.published)] if date else []
    if ref.shared_by:
        extras.append(f"shared by {ref.shared_by}")
    if ref.starred:
        extras.append("★")
    return out + (" · " + " · ".join(extras) if extras else "")


def _people(handles: tuple[str, ...] | list[str], limit: int = 5) -> str:
    shown = ", ".join(esc(h) for h in handles[:limit])
    return shown + (f" and {len(handles) - limit} more" if len(handles) > limit else "")


def _shared(n: int, s: SharedLink) -> str:
    if s.item is not None:
        head = f"**{link(item_title(s.item.title, '', '', s.url), s.item.url or s.url, 120)}**"
        head += f" — {esc(s.item.source)}" if s.item.source else ""
    else:
        head = link(display_url(s.url) if safe_url(s.url) else s.url, s.url, 120)
    return f"{n}. {head} · shared by {s.count}: {_people(s.people)}"


def render_md(d: Digest) -> str:
    """The digest as Markdown."""
    t = d.totals
    lines = [f"# Digest: {period_title(d.since, d.until)}", ""]
    what = "since your last digest" if d.since_last_digest else "in this period"
    scope = []
    if d.topic:
        scope.append(f"topic {esc(d.topic)}")
    if d.source:
        scope.append(f"source {esc(d.source)}")
    where = f" ({', '.join(scope)})" if scope else ""
    lines += [f"*{what.capitalize()}{where}: {totals_line(t)}.*", ""]
    a = d.activity
    if a.labels:
        lines += [(f"Per {a.bin}, from {a.labels[0]}: entries `{sparkline(list(a.feed))}` "
                   f"{sum(a.feed)} · statuses `{sparkline(list(a.status))}` {sum(a.status)}"), ""]

    lines += ["## Most shared", ""]
    if d.most_shared:
        lines += [_shared(n, s) for n, s in enumerate(d.most_shared, 1)]
    else:
        lines.append("No link was shared by more than one person.")
    lines.append("")

    lines += ["## New from followed sites", ""]
    if not d.new_from_sites:
        lines += ["Nothing new from the sites you follow.", ""]
    for g in d.new_from_sites:
        lines += [f"### {esc(g.topic) if g.topic else 'Other sites'} ({g.count})", ""]
        for s in g.sources:
            lines.append(f"**{esc(s.label)}** ({s.count})")
            lines.append("")
            lines += [f"- {_item(i)}" for i in s.items]
            if s.more:
                lines.append(f"- and {s.more} more")
            lines.append("")

    c = d.conversations
    lines += ["## Conversations", ""]
    lines += ["### Busiest threads", ""]
    if c.threads:
        for th in c.threads:
            lines.append(f"- {_item(th.root, who=True)} — {len(th.participants)} people, "
                         f"{th.posts} posts: {_people(th.participants)}")
    else:
        lines.append("No thread with more than one person in this period.")
    lines += ["", "### Busiest hashtags", ""]
    if c.hashtags:
        lines += [f"- \\#{esc(h.tag)} — {len(h.people)} people, {h.posts} posts"
                  for h in c.hashtags]
    else:
        lines.append("No hashtag used by more than one person.")
    lines += ["", "### Replies and mentions", ""]
    if c.to_you:
        for ty in c.to_you:
            what = (f"replied to your reflection {ty.reflection}" if ty.kind == "reply"
                    else "mentioned you")
            who = esc(ty.item.author.handle or ty.item.author.name)
            lines.append(f"- {who} {what}: {link(item_title('', ty.item.cw, ty.item.summary, ty.item.url), ty.item.url, 160)} · {when(ty.item.published)}")
    else:
        lines.append("No replies to your reflections, no mentions.")
    lines.append("")

    v = d.voices
    lines += ["## Voices", "", "### Who appeared most", ""]
    if v.most_active:
        for x in v.most_active:
            name = f" ({esc(x.person.name)})" if x.person.name and x.person.name != x.person.handle else ""
            lines.append(f"- {link(x.person.handle, x.person.url)}{name} — "
                         f"{plural(x.posts, 'post')}, {plural(x.boosts, 'boost')}")
    else:
        lines.append("Nobody posted in this period.")
    lines += ["", "### Active in your hashtags, not followed yet", ""]
    if v.not_followed:
        for nv in v.not_followed:
            tags = ", ".join(f"\\#{esc(tg)}" for tg in nv.tags)
            ev = "; ".join(link(item_title("", e.cw, e.summary, e.url), e.url, 80) for e in nv.evidence)
            lines.append(f"- {link(nv.person.handle, nv.person.url)} — {plural(nv.posts, 'post')} "
                         f"in {tags}: {ev}")
    else:
        lines.append("Nobody new.")
    lines.append("")

    ln = d.learning
    lines += ["## Your learning", "", "### Reflections", ""]
    if ln.reflections:
        for r in ln.reflections:
            state = "" if r.state == "sent" else f" *({esc(r.state)})*"
            parts = [f"{when(r.created)}", link(shorten(clean(r.text), 160) or r.id, r.url)]
            if r.cites:
                parts.append("on " + ", ".join(link(ci.title or display_url(ci.url), ci.url, 80)
                                               for ci in r.cites))
            if r.replies:
                parts.append(f"{r.replies} {'reply' if r.replies == 1 else 'replies'}")
            lines.append("- " + " · ".join(parts) + state)
    else:
        lines.append("No reflections in this period.")
    lines += ["", "### Starred", ""]
    lines += [f"- {_item(i)}" for i in ln.starred] or ["Nothing starred."]
    lines += ["", f"### Read ({ln.read_count})", ""]
    lines += [f"- {_item(i)}" for i in ln.read] or ["Nothing read."]
    if ln.read_count > len(ln.read):
        lines.append(f"- and {ln.read_count - len(ln.read)} more")
    lines.append("")
    return "\n".join(lines)
