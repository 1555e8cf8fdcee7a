"""Journal exports: a Markdown learning log by ISO week, an Atom feed (feedgen), JSON."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby
from typing import Any

import orjson

from companion.models import parse_iso
from companion.reflections.compose import urls

FORMATS = ("md", "atom", "json")


def _week(refl: dict[str, Any]) -> str:
    year, week, _ = parse_iso(refl["created"]).isocalendar()
    return f"{year:04d}-W{week:02d}"


def _week_range(key: str) -> str:
    year, week = key.split("-W")
    start = datetime.fromisocalendar(int(year), int(week), 1)
    end = datetime.fromisocalendar(int(year), int(week), 7)
    return f"{start:%b} {start.day} – {end:%b} {end.day}, {end.year}"


def _md_escape(text: str) -> str:
    return text.replace("[", "\\[").replace("]", "\\]")


def _state_note(refl: dict[str, Any]) -> str:
    if refl.get("state") == "sent":
        return ""
    return " *(not fully posted — `pln post --retry " + refl["id"] + "`)*"


def to_markdown(reflections: list[dict[str, Any]], title: str = "Learning log") -> str:
    """A learning log: one section per ISO week (newest first), each reflection with its
    links and the sources it cites."""
    rows = sorted(reflections, key=lambda r: r["created"], reverse=True)
    lines = [f"# {title}", ""]
    if not rows:
        lines += ["No reflections yet: write one with `pln post`.", ""]
    for week, group in groupby(rows, key=_week):
        lines += [f"## {week} ({_week_range(week)})", ""]
        for r in group:
            day = parse_iso(r["created"]).strftime("%Y-%m-%d %H:%M UTC")
            lines += [f"### {day} · {r['id']}{_state_note(r)}", ""]
            if r.get("cw"):
                lines += [f"> CW: {r['cw']}", ""]
            lines += [r.get("body") or r.get("text", ""), ""]
            meta = []
            posted = [
                f"[{e['handle'] or e['name']}]({_first_url(e)})"
                for e in r.get("accounts", [])
                if _first_url(e)
            ]
            if posted:
                meta.append("- Posted: " + " · ".join(posted))
            if r.get("reply_to"):
                rt = r["reply_to"]
                meta.append(f"- In reply to: <{rt.get('url') or rt['uri']}>")
            for c in r.get("cites", []):
                label = _md_escape(c.get("title") or c["url"])
                credit = f" — via {c['credit']}" if c.get("credit") else ""
                meta.append(f"- Source: [{label}]({c['url']}){credit}")
            if r.get("tags"):
                meta.append("- Tags: " + " ".join(f"#{t}" for t in r["tags"]))
            if r.get("replies"):
                n = len(r["replies"])
                meta.append(f"- Replies: {n} in the inbox ({', '.join(r['replies'])})")
            if meta:
                lines += [*meta, ""]
    return "\n".join(lines).rstrip() + "\n"


def _first_url(entry: dict[str, Any]) -> str:
    for p in entry.get("parts", []):
        if p.get("state") == "sent" and p.get("url"):
            return str(p["url"])
    return ""


def to_json(reflections: list[dict[str, Any]]) -> str:
    """Every reflection as stored, newest first."""
    rows = sorted(reflections, key=lambda r: r["created"], reverse=True)
    return orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"


def _title(refl: dict[str, Any]) -> str:
    text = " ".join((refl.get("body") or refl.get("text") or "").split())
    return text if len(text) <= 80 else text[:79].rstrip() + "…"


def to_atom(
    reflections: list[dict[str, Any]], *, author: str = "", title: str = "Learning log"
) -> str:
    """An Atom feed of the reflections (newest first), readable by any feed reader."""
    from feedgen.feed import FeedGenerator
    from lxml import etree

    rows = sorted(reflections, key=lambda r: r["created"], reverse=True)
    fg = FeedGenerator()
    fg.id("urn:pln:journal" + (f":{author}" if author else ""))
    fg.title(title + (f" — {author}" if author else ""))
    fg.author({"name": author or "pln"})
    fg.generator("pln")
    fg.language("en")
    updated = max((r.get("updated") or r["created"] for r in rows), default=None)
    if updated:
        fg.updated(parse_iso(updated))
    for r in reversed(rows):  # feedgen prepends: add oldest first to list newest first
        fe = fg.add_entry()
        fe.id(f"urn:pln:reflection:{r['id']}")
        fe.title(_title(r) or r["id"])
        fe.published(parse_iso(r["created"]))
        fe.updated(parse_iso(r.get("updated") or r["created"]))
        fe.content(r.get("text") or r.get("body") or "", type="text")
        for t in r.get("tags", []):
            fe.category(term=t)
    # feedgen 1.0 drops every attribute of an entry's <link> but href (its loop variable
    # shadows the link), which would make several rel=alternate links (invalid Atom): the
    # entry links are added here instead. Atom allows one alternate: cross-posts are related.
    root = etree.fromstring(fg.atom_str())
    ns = "{http://www.w3.org/2005/Atom}"
    by_id = {f"urn:pln:reflection:{r['id']}": r for r in rows}
    for entry in root.iter(f"{ns}entry"):
        r = by_id[entry.findtext(f"{ns}id")]
        anchor = entry.find(f"{ns}content")
        links = [(u, "alternate" if i == 0 else "related", "") for i, u in enumerate(urls(r))]
        links += [(c["url"], "related", c.get("title") or "") for c in r.get("cites", [])]
        for href, rel, title in reversed(links):
            el = etree.Element(f"{ns}link", href=href, rel=rel)
            if title:
                el.set("title", title)
            anchor.addnext(el)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode(
        "utf-8"
    )


def export(reflections: list[dict[str, Any]], fmt: str, *, author: str = "") -> str:
    """The journal in ``fmt`` (md, atom or json)."""
    if fmt == "md":
        return to_markdown(reflections)
    if fmt == "atom":
        return to_atom(reflections, author=author)
    return to_json(reflections)
