"""`pln inbox`, `show`, `read`, `unread`, `star`, `unstar`, `open`: read and triage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Optional

import typer
from rich.table import Table
from rich.text import Text

from companion.cli.render import age, clean, out, print_json, safe_text


def _companion():  # type: ignore[no-untyped-def]
    from companion.service import Companion

    return Companion()


def _filter(
    all_: bool, starred: bool, source: str | None, topic: str | None, tag: str | None,
    search: str | None, since: str | None, limit: int | None,
):  # type: ignore[no-untyped-def]
    from companion.errors import UsageError
    from companion.service import ItemFilter, parse_since

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


_ALL = typer.Option(False, "--all", "-a", help="Include read items.")
_STARRED = typer.Option(False, "--starred", help="Only starred items.")
_SOURCE = typer.Option(None, "--source", help="Only items from this source id.")
_TOPIC = typer.Option(None, "--topic", help="Only items from sources with this topic.")
_TAG = typer.Option(None, "--tag", help="Only items with this tag.")
_SEARCH = typer.Option(None, "--search", "-s", help="Words anywhere (any case, any accents).")
_SINCE = typer.Option(None, "--since", help="7d, 12h, 2w or a date (2026-11-01).")


def inbox(
    all_: bool = _ALL,
    starred: bool = _STARRED,
    source: Optional[str] = _SOURCE,
    topic: Optional[str] = _TOPIC,
    tag: Optional[str] = _TAG,
    search: Optional[str] = _SEARCH,
    since: Optional[str] = _SINCE,
    limit: Optional[int] = typer.Option(None, "--limit", "-n", help="At most N items."),
    json: bool = typer.Option(False, "--json", help="Print the items as JSON."),
) -> None:
    """List unread items, newest first.

    Example: pln inbox --topic edtech --since 7d
    """
    from companion.service import item_json

    c = _companion()
    labels = c.source_labels()  # also validates config.toml before anything is shown
    flt = _filter(all_, starred, source, topic, tag, search, since, limit)
    items = c.list_items(flt)
    if json:
        print_json([item_json(r) for r in items])
        return
    if not items:
        out.print("nothing to read" + ("" if all_ else " (use --all to include read items)"))
        return
    now = datetime.now(UTC)
    table = Table(box=None, pad_edge=False, header_style="bold", expand=False)
    table.add_column("id", no_wrap=True)
    table.add_column("age", no_wrap=True, justify="right")
    table.add_column("from", no_wrap=True, max_width=24, overflow="ellipsis")
    table.add_column("title", overflow="ellipsis", no_wrap=True, ratio=1)
    table.add_column("", no_wrap=True)
    for r in items:
        table.add_row(*_row(r, labels, now))
    out.print(table)


def _row(r: dict[str, Any], labels: dict[str, str], now: datetime) -> list[Any]:
    author = r.get("author") or {}
    who = author.get("handle") or author.get("name") or labels.get(r["sources"][0], "")
    if r["kind"] == "feed" and r["sources"]:
        who = labels.get(r["sources"][0], who) or who
    title = r.get("title") or (r.get("cw") and f"CW: {r['cw']}") or r.get("text", "")
    signals = Text()
    if r.get("starred"):
        signals.append("★ ", style="yellow")
    if r.get("shared_by"):
        signals.append(f"shared by {len(r['shared_by'])} ", style="cyan")
    if r.get("boosted_by"):
        signals.append(f"↻{len(r['boosted_by'])} ", style="green")
    replies = (r.get("counts") or {}).get("replies")
    if replies:
        signals.append(f"↩{replies}", style="magenta")
    style = "dim" if r.get("read") else ""
    return [
        Text(r["id"], style="bold"),
        Text(age(r["published"], now)),
        safe_text(who, oneline=True),
        safe_text(title, style, oneline=True),
        signals,
    ]


def show(
    item: str = typer.Argument(..., help="Item id (a unique prefix of 4+ characters)."),
    json: bool = typer.Option(False, "--json", help="Print the item as JSON."),
    no_mark: bool = typer.Option(False, "--no-mark", help="Do not mark it read."),
) -> None:
    """Show one item in full and mark it read.

    Example: pln show 7fk2
    """
    from companion.service import item_json

    c = _companion()
    with c.writing("pln show"):
        rec, body = c.get_item(item)
        if not no_mark and not rec.get("read"):
            c.set_flags([rec["id"]], read=True)
            rec["read"] = True
    if json:
        print_json({**item_json(rec), "html": body.get("html", "")})
        return
    labels = c.source_labels()
    author = rec.get("author") or {}
    out.print(safe_text(rec.get("title") or "(untitled)", "bold"))
    who = " ".join(x for x in (author.get("name"), author.get("handle")) if x)
    meta = Text()
    if who:
        meta += safe_text(who, oneline=True) + Text(" · ")
    meta += Text(rec["published"])
    meta += Text(" · ") + safe_text(", ".join(labels.get(s, s) for s in rec["sources"]), oneline=True)
    out.print(meta, style="dim")
    if rec.get("url"):
        out.print(safe_text(rec["url"], "underline"))
    if rec.get("cw"):
        out.print(Text("CW: ", style="bold yellow") + safe_text(rec["cw"]))
    out.print()
    out.print(safe_text(rec.get("text", "")))
    for i, m in enumerate(rec.get("media", []), 1):
        out.print(Text(f"[media {i}] ", style="dim") + safe_text(m.get("url")) +
                  (Text(" — ") + safe_text(m.get("alt"), oneline=True) if m.get("alt") else Text()))
    if rec.get("shared_by"):
        out.print(Text("shared by ", style="cyan") + safe_text(", ".join(rec["shared_by"])))
    if rec.get("boosted_by"):
        out.print(Text("boosted by ", style="green") + safe_text(", ".join(rec["boosted_by"])))


def _flag_command(flag: str, value: bool, verb: str):  # type: ignore[no-untyped-def]
    def command(
        items: list[str] = typer.Argument(..., help="Item ids (unique prefixes)."),
    ) -> None:
        c = _companion()
        with c.writing(f"pln {verb}"):
            ids = c.set_flags(items, **{flag: value})
        out.print(f"{verb}: {', '.join(ids)}")

    what = {"unread": "Mark items unread.", "star": "Star items (kept by prune).",
            "unstar": "Remove the star from items."}[verb]
    command.__doc__ = f"{what}\n\nExample: pln {verb} 7fk2 9q3m"
    return command


def read(
    items: Optional[list[str]] = typer.Argument(None, help="Item ids (unique prefixes)."),
    all_: bool = typer.Option(False, "--all", help="Every unread item matching the filters."),
    source: Optional[str] = _SOURCE,
    topic: Optional[str] = _TOPIC,
    tag: Optional[str] = _TAG,
    search: Optional[str] = _SEARCH,
    since: Optional[str] = _SINCE,
) -> None:
    """Mark items read: by id, or --all matching the filters.

    Example: pln read --all --source 3kq9
    """
    from companion.errors import UsageError

    c = _companion()
    if all_ and items:
        raise UsageError("give item ids or --all, not both")
    if not all_ and not items:
        raise UsageError("give item ids to mark read, or --all [filters]")
    with c.writing("pln read"):
        if all_:
            n = c.mark_all(_filter(False, False, source, topic, tag, search, since, None), read=True)
            out.print(f"marked {n} item(s) read")
        else:
            ids = c.set_flags(items or [], read=True)
            out.print(f"read: {', '.join(ids)}")


def open_(item: str = typer.Argument(..., help="Item id (a unique prefix).")) -> None:
    """Open an item's link in the web browser and mark it read.

    Example: pln open 7fk2
    """
    import webbrowser

    from companion.errors import UsageError

    c = _companion()
    with c.writing("pln open"):
        rec, _ = c.get_item(item)
        url = rec.get("url") or rec.get("link")
        if not url:
            raise UsageError(f"item {rec['id']} has no link to open")
        c.set_flags([rec["id"]], read=True)
    if not webbrowser.open(url):
        out.print(clean(url))


def register(app: typer.Typer) -> None:
    app.command("inbox")(inbox)
    app.command("show")(show)
    app.command("read")(read)
    app.command("unread")(_flag_command("read", False, "unread"))
    app.command("star")(_flag_command("starred", True, "star"))
    app.command("unstar")(_flag_command("starred", False, "unstar"))
    app.command("open")(open_)
