"""`pln digest`: what happened in your network since the last digest — in the terminal (rich,
with sparklines), or as Markdown, a self-contained HTML page or JSON (companion.digest)."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import typer
from rich.console import Console, Group
from rich.text import Text

from companion.cli.render import out, safe_text

_EXTENSIONS = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".json": "json"}


def digest(
    since: str | None = typer.Option(
        None, "--since", help="Start: 7d, 12h, 2w or a date (default: the last digest)."),
    until: str | None = typer.Option(
        None, "--until", help="End: a duration ago or a date, that day included (default: now)."),
    topic: str | None = typer.Option(None, "--topic", help="Only sources with this topic."),
    source: str | None = typer.Option(None, "--source", help="Only this source id."),
    fmt: str | None = typer.Option(
        None, "--format", "-f",
        help="text, md, html or json (default: text, or from the -o file's extension)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the digest to FILE."),
    no_mark: bool = typer.Option(
        False, "--no-mark", help="Leave the 'last digest' mark where it is."),
) -> None:
    """What happened in your network since your last digest: most shared links, new posts
    from followed sites, conversations, voices, your learning.

    Example: pln digest ; pln digest --since 7d -o week.html ; pln digest --format json --no-mark
    """
    from companion.digest import FORMATS, make_digest, period
    from companion.digest.marks import load_mark, save_mark
    from companion.errors import UsageError
    from companion.service import Companion

    if fmt is None:
        fmt = _EXTENSIONS.get(output.suffix.lower(), "text") if output is not None else "text"
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise UsageError(f"bad --format {fmt!r}: use text, md, html or json")
    c = Companion()
    c.source_labels()  # a broken config.toml is reported before anything else
    target = "file" if output is not None else "terminal"
    now = c.clock()
    if now.microsecond:  # items are dated to the second: the current second is in the period
        now = now.replace(microsecond=0) + timedelta(seconds=1)
    p = period(since, until, now, load_mark(c.home.data_dir, target))
    d = make_digest(c, p, topic=topic, source=source)

    if fmt == "text":
        if output is None:
            _page(out, render_text(d))
        else:
            _write(output, _text_to_string(d))
    else:
        data = _render(fmt, d)
        if output is None:
            sys.stdout.write(data)
            sys.stdout.flush()
        else:
            _write(output, data)
    if not no_mark:
        save_mark(c.home.data_dir, target, p.until)


def _render(fmt: str, d: Any) -> str:
    if fmt == "md":
        from companion.digest.render_md import render_md

        return render_md(d)
    if fmt == "html":
        from companion.digest.render_html import render_html  # jinja2: only here

        return render_html(d)
    from companion.digest.render_json import render_json

    return render_json(d)


def _write(path: Path, data: str) -> None:
    from companion.cli.render import note, write_output

    write_output(path, data)  # the same checks and message as every -o (issue 13)
    note(f"wrote {path}")


def _text_to_string(d: Any) -> str:
    """The terminal rendering as plain text (no colour), 100 columns, for a file."""
    import io

    buf = io.StringIO()
    Console(file=buf, width=100, no_color=True, color_system=None, highlight=False,
            emoji=False).print(render_text(d))
    return buf.getvalue()


def _page(console: Console, text: Group) -> None:
    """Print, through the pager when it is longer than a terminal screen."""
    lines = len(text.renderables)
    if console.is_terminal and lines > console.height - 2:
        with console.pager(styles=not console.no_color):
            console.print(text)
    else:
        console.print(text)


# ----- the terminal rendering -------------------------------------------------------------------


def render_text(d: Any) -> Group:
    """The digest for the terminal, line by line; every remote string cleaned (safe_text),
    never parsed as markup. A line about one item is cut to the width, not wrapped."""
    from companion.digest.text import (
        display_url,
        item_title,
        period_title,
        plural,
        sparkline,
        totals_line,
        when,
    )

    lines: list[Text] = []
    add = lines.append

    def heading(title: str) -> None:
        add(Text())
        add(Text(title, style="bold underline"))

    def item(i: Any, indent: str = "  ", who: bool = False) -> Text:
        t = Text(indent, no_wrap=True, overflow="ellipsis")
        t.append(i.id, style="bold")
        t.append(f" {when(i.published)[5:]} ", style="dim")
        if who and (i.author.handle or i.author.name):
            t.append_text(safe_text(i.author.handle or i.author.name, "cyan", oneline=True))
            t.append(" ")
        t.append_text(safe_text(_cut(item_title(i.title, i.cw, i.summary, i.url), 90), oneline=True))
        if i.shared_by:
            t.append(f" · shared by {i.shared_by}", style="cyan")
        if i.starred:
            t.append(" ★", style="yellow")
        return t

    def people(handles: Any, limit: int = 3) -> Text:
        t = safe_text(", ".join(handles[:limit]), "cyan", oneline=True)
        if len(handles) > limit:
            t.append(f" +{len(handles) - limit}", style="cyan")
        return t

    t = d.totals
    add(Text(f"pln digest · {period_title(d.since, d.until)}", style="bold"))
    scope = "since your last digest" if d.since_last_digest else "in this period"
    filters = [f"topic {d.topic}" if d.topic else "", f"source {d.source}" if d.source else ""]
    filters = [f for f in filters if f]
    head = Text(scope + (f" ({', '.join(filters)})" if filters else "") + ": ", style="dim")
    head.append(totals_line(t))
    add(head)
    a = d.activity
    if a.labels and len(a.labels) > 1:
        add(Text("entries  ", style="dim") + Text(sparkline(list(a.feed)), style="green")
            + Text(f" {sum(a.feed)}   per {a.bin} from {a.labels[0]}", style="dim"))
        add(Text("statuses ", style="dim") + Text(sparkline(list(a.status)), style="magenta")
            + Text(f" {sum(a.status)}", style="dim"))

    heading("Most shared")
    if not d.most_shared:
        add(Text("  no link was shared by more than one person", style="dim"))
    for n, s in enumerate(d.most_shared, 1):
        line = Text(f"{n:>3}. ")
        if s.item is not None:
            line.append_text(safe_text(_cut(item_title(s.item.title, "", "", s.url), 80), "bold",
                                       oneline=True))
            if s.item.source:
                line.append(" — ", style="dim")
                line.append_text(safe_text(s.item.source, "dim", oneline=True))
            line.append(f" {s.item.id}", style="dim")
        else:
            line.append_text(safe_text(_cut(display_url(s.url), 90), "underline", oneline=True))
        add(line)
        add(Text(f"     shared by {s.count}: ", style="dim") + people(s.people))

    heading("New from followed sites")
    if not d.new_from_sites:
        add(Text("  nothing new from the sites you follow", style="dim"))
    for g in d.new_from_sites:
        add(safe_text(g.topic or "other sites", "bold magenta", oneline=True)
            + Text(f" ({g.count})", style="dim"))
        for s in g.sources:
            add(Text("  ") + safe_text(s.label, "bold", oneline=True) + Text(f" ({s.count})", style="dim"))
            for i in s.items:
                add(item(i, "    "))
            if s.more:
                add(Text(f"    and {s.more} more", style="dim"))

    c = d.conversations
    heading("Conversations")
    if c.threads:
        add(Text("  busiest threads", style="dim"))
        for th in c.threads:
            add(item(th.root, "  ", who=True))
            add(Text(f"      {len(th.participants)} people, {th.posts} posts: ", style="dim")
                + people(th.participants))
    else:
        add(Text("  no thread with more than one person", style="dim"))
    if c.hashtags:
        tags = Text("  hashtags: ", style="dim")
        for n, h in enumerate(c.hashtags):
            if n:
                tags.append(" · ", style="dim")
            tags.append_text(safe_text(f"#{h.tag}", "blue", oneline=True))
            tags.append(f" {len(h.people)} people", style="dim")
        add(tags)
    if c.to_you:
        add(Text("  replies and mentions", style="dim"))
        for ty in c.to_you:
            line = Text("  ")
            line.append("↩ " if ty.kind == "reply" else "@ ", style="magenta")
            line.append_text(safe_text(ty.item.author.handle or ty.item.author.name, "cyan", oneline=True))
            line.append(f" on {ty.reflection}: " if ty.reflection else ": ", style="dim")
            line.append_text(safe_text(_cut(item_title("", ty.item.cw, ty.item.summary, ty.item.url), 100),
                                       oneline=True))
            line.append(f" {ty.item.id}", style="dim")
            add(line)
    else:
        add(Text("  no replies to your reflections, no mentions", style="dim"))

    v = d.voices
    heading("Voices")
    if v.most_active:
        add(Text("  who appeared most", style="dim"))
        width = max(len(x.person.handle) for x in v.most_active)
        for x in v.most_active:
            line = Text("  ") + safe_text(x.person.handle.ljust(width), "cyan", oneline=True)
            line.append(f" {plural(x.posts, 'post')}, {plural(x.boosts, 'boost')}", style="dim")
            add(line)
    else:
        add(Text("  nobody posted in this period", style="dim"))
    if v.not_followed:
        add(Text("  active in your hashtags, not followed yet:", style="dim"))
        for nv in v.not_followed:
            line = Text("  ") + safe_text(nv.person.handle, "bold cyan", oneline=True)
            line.append(f" {nv.posts} posts in ", style="dim")
            line.append_text(safe_text(" ".join(f"#{tg}" for tg in nv.tags), "blue", oneline=True))
            add(line)
            for e in nv.evidence:
                add(item(e, "    "))

    ln = d.learning
    heading("Your learning")
    if ln.reflections:
        for r in ln.reflections:
            line = Text("  ")
            line.append(r.id, style="bold")
            line.append(f" {when(r.created)[5:]} ", style="dim")
            line.append_text(safe_text(_cut(r.text, 90), oneline=True))
            if r.state != "sent":
                line.append(f" ({r.state})", style="yellow")
            if r.replies:
                line.append(f" ↩{r.replies}", style="magenta")
            add(line)
            for ci in r.cites:
                add(Text("      on ", style="dim") + safe_text(_cut(ci.title or ci.url, 80), oneline=True))
    else:
        add(Text("  no reflections in this period", style="dim"))
    if ln.starred:
        add(Text(f"  starred ({len(ln.starred)})", style="dim"))
        for i in ln.starred:
            add(item(i, "    "))
    add(Text(f"  read: {ln.read_count} items", style="dim"))
    for i in ln.read:
        add(item(i, "    "))
    if ln.read_count > len(ln.read):
        add(Text(f"    and {ln.read_count - len(ln.read)} more", style="dim"))
    return Group(*lines)


def _cut(text: str, limit: int) -> str:
    from companion.digest.text import clean, shorten

    return shorten(clean(text), limit)


def register(app: typer.Typer) -> None:
    app.command("digest")(digest)
