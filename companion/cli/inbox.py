"""`pln inbox`, `show`, `read`, `unread`, `star`, `unstar`, `open`, `prune`: read and triage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer
from rich.text import Text

from companion.cli.command import PlnCommand
from companion.cli.render import (
    clean,
    counts_line,
    out,
    page,
    plural,
    print_json,
    print_json_array,
    safe_text,
    wrap,
)
from companion.urls import is_web_link
from companion.words import age

if TYPE_CHECKING:
    from companion.read_models import Item


def _companion():  # type: ignore[no-untyped-def]
    from companion.service import Companion

    return Companion()


def _filter(
    all_: bool, starred: bool, source: str | None, topic: str | None, tag: str | None,
    search: str | None, since: str | None, limit: int | None,
):  # type: ignore[no-untyped-def]
    from companion.errors import UsageError
    from companion.inbox import ItemFilter, parse_since

    if limit is not None and limit < 1:
        raise UsageError(f"bad --limit {limit}: must be at least 1")
    now = datetime.now(UTC)
    return ItemFilter(
        unread_only=not all_,
        starred=starred,
        source=source,
        topic=topic,
        tag=tag,
        search=search,
        since=parse_since(since, now) if since else None,
        limit=limit,
    )


# Without --limit, a terminal gets the newest TERMINAL_LIMIT items and a line saying how many
# more there are (issue 14: rendering 100,000 unread items took 22 s); --json and pipes get all.
TERMINAL_LIMIT = 200

_ALL = typer.Option(False, "--all", "-a", help="Include read items.")
_STARRED = typer.Option(False, "--starred", help="Only starred items.")
_SOURCE = typer.Option(None, "--source", metavar="ID", help="Only items from this source id.")
_TOPIC = typer.Option(None, "--topic", metavar="TOPIC", help="Only items from sources with this topic.")
_TAG = typer.Option(None, "--tag", metavar="TAG", help="Only items with this tag.")
_SEARCH = typer.Option(None, "--search", "-s", metavar="WORDS", help="Words anywhere (any case, any accents).")
_SINCE = typer.Option(None, "--since", metavar="WHEN", help="7d, 12h, 2w or a date (2026-11-01).")


def inbox(
    all_: bool = _ALL,
    starred: bool = _STARRED,
    source: str | None = _SOURCE,
    topic: str | None = _TOPIC,
    tag: str | None = _TAG,
    search: str | None = _SEARCH,
    since: str | None = _SINCE,
    limit: int | None = typer.Option(
        None, "--limit", "-n", metavar="N",
        help=f"At most N items (on a terminal, {TERMINAL_LIMIT} unless given)."),
    links: bool = typer.Option(
        False, "--links", help="What your network is reading: shared links ranked by people."
    ),
    json: bool = typer.Option(False, "--json", help="Print the items as JSON."),
) -> None:
    """List unread items, newest first (or, with --links, the links your network shares).

    \b
    Examples: pln inbox --topic edtech --since 7d
              pln inbox --links --since 7d
    """
    c = _companion()
    if source is None and topic is None:  # filters by source need a readable config.toml
        _lenient(c)
    labels = c.source_labels()  # also validates config.toml before anything is shown
    flt = _filter(all_, starred, source, topic, tag, search, since, limit)
    if links:
        _links(c, flt, json)
        return
    capped = limit is None and not json and out.is_terminal
    if json:
        print_json_array(i.as_json() for i in c.iter_full_items(flt))
        return
    if capped:
        from dataclasses import replace

        flt = replace(flt, limit=TERMINAL_LIMIT + 1)  # (one more: whether there are more)
    items = c.list_items(flt, fold_threads=True)  # your thread: one row
    if not items:
        out.print(_nothing(c, all_=all_, starred=starred,
                           filtered=any((source, topic, tag, search, since))))
        return
    from companion.cli.render import grid

    more = ""
    if capped and len(items) > TERMINAL_LIMIT:
        items = items[:TERMINAL_LIMIT]
        more = _more(c, flt, filtered=any((source, topic, tag, search)))
    now = datetime.now(UTC)
    rows = [_row(i, labels, now) for i in items]
    # the title gets the room first; tags, then signals, give way on a narrow terminal
    table = grid(rows, flex=3, header=["id", "age", "from", "title", "tags", ""],
                 right=frozenset({1}), mins={2: 10, 4: 8}, drop=(4, 5), fixed=frozenset({0, 1}),
                 max_widths={2: 32})
    if more:
        table.append(Text("\n" + more, style="dim"))
    page(table, len(rows) + 1 + (2 if more else 0))


def _more(c: Any, flt: Any, *, filtered: bool) -> str:
    """The line under a listing cut at TERMINAL_LIMIT: how many more, and how to see them.
    Counted from the index when only read/starred/--since filter (cheap); else not counted."""
    what = "starred" if flt.starred else "unread" if flt.unread_only else ""
    if filtered:
        head = f"more {what + ' ' if what else ''}items match"
    else:
        total = c.store.count_items(since=flt.since, unread=flt.unread_only and not flt.starred,
                                    starred=flt.starred)
        n = total - TERMINAL_LIMIT
        head = f"{n:,} more {what + ' ' if what else ''}{'item' if n == 1 else 'items'}"
    return (f"… {head} — `--limit N` lists more (e.g. --limit {TERMINAL_LIMIT * 5}); "
            "--since, --source, --topic or --search narrow the list")


def _lenient(c: Any) -> None:
    """Read and triage even when config.toml is broken: say so, go on (issue 13)."""
    from companion.cli.render import warn

    e = c.lenient_config()
    if e is not None:
        warn(f"{clean(e.message)} — showing the inbox anyway (fix config.toml to sync)")


def _nothing(c: Any, *, all_: bool, starred: bool, filtered: bool) -> str:
    """What an empty listing means: no match, all read, or an inbox with nothing in it yet
    (and why: never synced, or the syncs so far failed)."""
    from companion.inbox import ItemFilter

    if starred:
        return "no starred items" + (" match" if filtered else " (star one with `pln star ID`)")
    if filtered:
        return "no items match" + ("" if all_ else " (unread only: add --all for read items)")
    if not all_ and c.list_items(ItemFilter(unread_only=False, limit=1)):
        return "nothing to read (use --all to include read items)"
    sources = c.list_sources() if c.config.sources else []
    if not sources:
        return "the inbox is empty: follow something with `pln source add SPEC`, then `pln sync`"
    healths = [s.health for s in sources]
    if any(h.last_success for h in healths):
        return "the inbox is empty: your sources have not published anything yet"
    failed = sum(1 for h in healths if h.failures)
    if failed:
        return (f"the inbox is empty: no source could be synced yet ({failed} of {len(sources)} "
                "failed at the last sync; `pln source list` says why)")
    return f"the inbox is empty: run `pln sync` to fetch your {len(sources)} sources"


def _row(r: Item, labels: dict[str, str], now: datetime) -> list[Text]:
    who = r.who(labels)
    title = r.title or r.first_line
    signals = Text()
    if r.thread:
        signals.append(f"thread of {r.thread} ", style="cyan")
    if r.starred:
        signals.append("★ ", style="yellow")
    if r.shared_by:
        signals.append(f"shared by {len(r.shared_by)} ", style="cyan")
    if r.boosted_by:
        signals.append(f"↻{len(r.boosted_by)} ", style="green")
    replies = r.counts_map.get("replies")
    if replies:
        signals.append(f"↩{replies}", style="magenta")
    signals.rstrip()
    style = "dim" if r.read else ""
    tags = " ".join(f"#{t}" for t in r.tags[:3])
    return [
        Text(r.id, style="bold"),
        Text(age(r.published, now)),
        safe_text(who, oneline=True),
        safe_text(title, style, oneline=True),
        safe_text(tags, "blue", oneline=True),
        signals,
    ]


def _links(c: Any, flt: Any, json: bool) -> None:
    rows = c.links(flt.since, flt.limit)
    if json:
        print_json([r.as_json() for r in rows])
        return
    if not rows:
        out.print("no links shared in this period")
        return
    from companion.cli.render import grid

    grid_rows = []
    for r in rows:
        who = ", ".join(r.people[:3]) + (f" +{len(r.people) - 3}" if len(r.people) > 3 else "")
        where = Text(r.item or "", style="bold") if r.in_feed else Text("-", style="dim")
        title = r.title or r.url
        grid_rows.append([
            Text(str(r.count), style="bold"),
            where,
            safe_text(title, oneline=True),
            safe_text(who, "cyan", oneline=True),
        ])
    page(grid(grid_rows, flex=2, header=["people", "item", "link", "shared by"],
              right=frozenset({0}), mins={3: 12}, fixed=frozenset({0, 1}), max_widths={3: 60}),
         len(grid_rows) + 1)


def show(
    item: str = typer.Argument(..., metavar="ID", help="Item id (a unique prefix of 4+ characters)."),
    json: bool = typer.Option(False, "--json", help="Print the item as JSON."),
    no_mark: bool = typer.Option(False, "--no-mark", help="Do not mark it read."),
) -> None:
    """Show one item in full and mark it read.

    \b
    Example: pln show 7fk2
    """
    from companion.html import links as html_links

    c = _companion()
    _lenient(c)
    with c.writing("pln show"):
        rec, body = c.get_item(item)
        if not no_mark and not rec.get("read"):
            c.set_flags([rec["id"]], read=True)
            rec["read"] = True
        p = c.item_page(rec, body)
    it = p.item
    if json:
        print_json({**it.as_json(), "html": p.html})
        return
    labels = c.source_labels()
    author = it.author
    lines: list[Text] = []
    # prose is wrapped to the reading width; URLs are never broken (issue 13)
    title = it.title or f"{author.name or author.handle}"
    lines.append(Text(wrap(clean(title, oneline=True)), style="bold"))
    meta = Text()
    who = " ".join(x for x in (author.name, author.handle) if x)
    if who and it.title:
        meta += safe_text(who, oneline=True) + Text(" · ")
    elif author.handle:
        meta += safe_text(author.handle, oneline=True) + Text(" · ")
    meta += Text(it.published.replace("T", " ").replace("Z", " UTC"))
    meta += Text(" · ") + safe_text(", ".join(labels.get(s, s) for s in it.sources), oneline=True)
    meta.stylize("dim")
    lines.append(meta)
    if it.url:
        lines.append(safe_text(it.url, "underline", oneline=True))
    if p.parent is not None:
        pa = p.parent.author
        first = p.parent.text.strip().split("\n")[0][:120]
        lines.append(Text("↩ in reply to ", style="magenta") + safe_text(pa.handle or pa.name, oneline=True)
                     + Text(f" ({p.parent.id}): ") + safe_text(first, "dim", oneline=True))
    elif p.parent_link:
        lines.append(Text("↩ in reply to ", style="magenta") + safe_text(p.parent_link, "underline", oneline=True))
    elif it.reply_to:  # a bare status id from a server pln cannot name: no use showing it
        lines.append(Text("↩ a reply to a status that is not in the inbox", style="magenta"))
    lines.append(Text())
    if it.cw:
        cw = Text(wrap("CW: " + clean(it.cw)), style="yellow")
        cw.stylize("bold", 0, 3)
        lines.append(cw)
        lines.append(Text())
    lines.append(Text(wrap(clean(it.text))))
    found = [(href, text) for href, text, classes in html_links(p.html)
             if href.startswith(("http://", "https://"))]
    if found:
        lines.append(Text())
        seen: list[str] = []
        for href, _ in found:
            if href not in seen:
                seen.append(href)
        for i, href in enumerate(seen, 1):
            lines.append(Text(f"[{i}] ", style="dim") + safe_text(href, "underline", oneline=True))
    for i, m in enumerate(it.media, 1):
        line = Text(f"[media {i}] ", style="dim") + safe_text(m.url, oneline=True)
        line += Text(" — ") + (safe_text(m.alt, oneline=True) if m.alt
                               else Text("no description", style="dim italic"))
        lines.append(line)
    if it.shared_by:
        lines.append(Text())
        lines.append(Text(f"shared by {len(it.shared_by)}: ", style="cyan")
                     + safe_text(", ".join(it.shared_by), oneline=True))
    if p.story is not None:
        lines.append(Text("story: ", style="cyan") + Text(p.story.id, style="bold") + Text(" ")
                     + safe_text(p.story.title, oneline=True))
    if it.boosted_by:
        lines.append(Text("boosted by ", style="green") + safe_text(", ".join(it.boosted_by), oneline=True))
    counts = it.counts_map
    if any(counts.values()):
        lines.append(Text(counts_line(counts), style="dim"))
    text = Text("\n").join(lines)
    page(text, len(text.plain.splitlines()))


def _flag_command(flag: str, value: bool, verb: str):  # type: ignore[no-untyped-def]
    def command(
        items: list[str] = typer.Argument(..., metavar="ID...", help="Item ids (unique prefixes)."),
    ) -> None:
        c = _companion()
        _lenient(c)
        with c.writing(f"pln {verb}"):
            ids = c.set_flags(items, **{flag: value})
        done = {"unread": "marked unread", "star": "starred", "unstar": "unstarred"}[verb]
        out.print(f"{done}: {', '.join(ids)}")

    what = {"unread": "Mark items unread.", "star": "Star items (prune keeps them).",
            "unstar": "Remove the star from items."}[verb]
    command.__doc__ = f"{what}\n\n\b\nExample: pln {verb} 7fk2 9q3m"
    return command


def read(
    items: list[str] | None = typer.Argument(None, metavar="[ID]...", help="Item ids (unique prefixes)."),
    all_: bool = typer.Option(False, "--all", help="Every unread item matching the filters."),
    source: str | None = _SOURCE,
    topic: str | None = _TOPIC,
    tag: str | None = _TAG,
    search: str | None = _SEARCH,
    since: str | None = _SINCE,
) -> None:
    """Mark items read: by id, or --all matching the filters. Reading a story also reads
    the statuses that only shared it.

    \b
    Example: pln read --all --source 3kq9
    """
    from companion.errors import UsageError

    c = _companion()
    if all_ and items:
        raise UsageError("give item ids or --all, not both")
    if not all_ and not items:
        raise UsageError("give item ids to mark read, or --all [filters]")
    if source is None and topic is None:
        _lenient(c)
    try:
        with c.writing("pln read"):
            if all_:
                n = c.mark_all(_filter(False, False, source, topic, tag, search, since, None),
                               read=True)
                out.print(f"marked {plural(n, 'item')} read")
            else:
                ids = c.set_flags(items or [], read=True)
                out.print(f"marked read: {', '.join(ids)}")
    except KeyboardInterrupt:
        from companion.errors import Interrupted

        # weeks already done were written whole (the store writes week by week); the rest
        # is as it was, so running the same command again finishes the job
        raise Interrupted("interrupted: some items may already be marked read, the rest are "
                          "unchanged; nothing is lost (run it again to finish)") from None


def open_(item: str = typer.Argument(..., metavar="ID", help="Item id (a unique prefix).")) -> None:
    """Open an item's link in the web browser and mark it read.

    \b
    Example: pln open 7fk2
    """
    import webbrowser

    from companion.errors import UsageError

    c = _companion()
    _lenient(c)
    with c.writing("pln open"):
        rec, _ = c.get_item(item)
        url = (rec.get("url") or rec.get("link") or "").strip()
        if not url:
            raise UsageError(f"item {rec['id']} has no link to open")
        # only web links go to the browser: a feed can name javascript:, file: or data:
        # "links", and a browser would run or open them (issue 12)
        if not is_web_link(url):
            raise UsageError(f"item {rec['id']}: not opening {clean(url, oneline=True)[:80]!r}: "
                             "only http:// and https:// links are opened")
        c.set_flags([rec["id"]], read=True)
    if not webbrowser.open(url):
        out.print(clean(url), markup=False)


PRUNE_ASK = 100  # on a terminal, deleting more items than this asks first (issue 13)


def prune(
    older_than: str = typer.Option(
        "90d", "--older-than", metavar="AGE",
        help="Delete items published before this (90d, 12w, a date).",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="List what would be deleted; delete nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask, even on a terminal."),
) -> None:
    """Delete old items; starred items and items a reflection cites are kept.

    On a terminal, pln asks before deleting more than 100 items.

    \b
    Example: pln prune --older-than 90d --dry-run
    """
    import sys

    from companion.inbox import parse_since

    c = _companion()
    now = datetime.now(UTC)
    cutoff = parse_since(older_than, now, "--older-than")
    before = cutoff.strftime("%Y-%m-%d %H:%M UTC")
    if dry_run:
        doomed = c.prunable(now - cutoff, now)
        if doomed:
            from companion.cli.render import grid

            rows = [[Text(r["id"], style="bold"), Text(r["published"][:10]),
                     safe_text(r.get("title") or (r.get("summary") or "").split("\n")[0],
                               oneline=True)] for r in doomed]
            page(grid(rows, flex=2, header=["id", "published", "title"],
                      fixed=frozenset({0, 1})), len(rows) + 1)
        out.print(f"would prune {plural(len(doomed), 'item')} published before {before} "
                  "(dry run: nothing deleted)")
        return
    with c.writing("pln prune"):
        if not yes and sys.stdin.isatty() and sys.stdout.isatty():
            n = len(c.prunable(now - cutoff, now))
            try:
                go = n <= PRUNE_ASK or typer.confirm(
                    f"delete {plural(n, 'item')} published before {before}?", default=False)
            except typer.Abort:  # end of input at the question
                go = False
            if not go:
                out.print("nothing deleted")
                return
        n = c.prune(now - cutoff, now)
    out.print(f"pruned {plural(n, 'item')} published before {before}")


def register(app: typer.Typer) -> None:
    app.command("inbox", cls=PlnCommand)(inbox)
    app.command("show", cls=PlnCommand)(show)
    app.command("read", cls=PlnCommand)(read)
    app.command("unread", cls=PlnCommand)(_flag_command("read", False, "unread"))
    app.command("star", cls=PlnCommand)(_flag_command("starred", True, "star"))
    app.command("unstar", cls=PlnCommand)(_flag_command("starred", False, "unstar"))
    app.command("open", cls=PlnCommand)(open_)
    app.command("prune", cls=PlnCommand)(prune)
