"""`pln post`, `pln journal`, `pln drafts`: share what you learned, keep a journal of it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from companion.cli.command import PlnCommand
from companion.cli.render import clean, out, print_json, safe_text
from companion.errors import PlnError

SCISSORS = "# ------------------------ >8 ------------------------"


def _companion():  # type: ignore[no-untyped-def]
    from companion.service import Companion

    return Companion()


def _template(c: Any, on: list[str], reply_to: str | None, accounts: list[str]) -> str:
    lines = [
        "",
        "",
        SCISSORS,
        "# Write your reflection above the line; everything from the line down is ignored.",
        "# Save and quit to post; leave it empty to cancel. Blank lines separate paragraphs,",
        "# and a long reflection becomes a numbered thread.",
    ]
    names = accounts or [n for n in [c.credentials.default_name] if n]
    if names:
        lines.append("# Posting as: " + ", ".join(names))
    for prefix in on:
        try:
            rec = c.store.require(prefix)
        except PlnError:  # (refused by r.check before the editor opens)
            continue
        lines.append(f"# Citing: {clean(rec.get('title'), oneline=True)} <{rec.get('link') or rec.get('url')}>")
    if reply_to:
        try:
            rec = c.store.require(reply_to)
            lines.append(f"# Replying to: {clean(rec.get('text'), oneline=True)[:70]}")
        except PlnError:  # a reply to a status not in the inbox: its URL (r.check)
            pass
    return "\n".join(lines) + "\n"


def _editor_set() -> bool:
    """Whether the user named an editor ($VISUAL, $EDITOR): then it runs even without a
    terminal (a script editor, a GUI one that waits)."""
    import os

    return bool(os.environ.get("VISUAL") or os.environ.get("EDITOR"))


def _from_editor(template: str) -> str:
    import click

    from companion.errors import UsageError

    try:
        edited = click.edit(template, extension=".md", require_save=False)
    except click.ClickException as e:
        raise UsageError(f"could not run your editor ({e.format_message()}): set $EDITOR, "
                         "or give the text: pln post \"…\" or pln post - < file") from None
    if edited is None:
        return ""
    return edited.split(SCISSORS, 1)[0].strip()


def _render_parts(preview: list[dict[str, Any]], refl: dict[str, Any]) -> None:
    for acct in preview:
        n = len(acct["parts"])
        out.print(
            Text(f"{acct['account']} {acct['handle']}".strip(), style="bold")
            + Text(f" — limit {acct['limit']} characters, {n} part{'s' if n != 1 else ''}"
                   f", {refl['visibility']}" + (f", CW: {clean(refl['cw'], oneline=True)}" if refl["cw"] else ""))
        )
        if refl.get("reply_to"):
            out.print(Text("in reply to " + clean(refl["reply_to"].get("url") or refl["reply_to"]["uri"])))
        for p in acct["parts"]:
            out.print(Text(f"── part {p['n']}/{n} · {p['length']}/{acct['limit']} characters ──", style="dim"))
            out.print(safe_text(p["text"]), soft_wrap=True)  # as posted: no wrapping added
        out.print()


def _render_result(refl: dict[str, Any]) -> None:
    for e in refl["accounts"]:
        parts = e.get("parts", [])
        sent = sum(1 for p in parts if p["state"] == "sent")
        label = f"{e['name']} {e['handle']}".strip()
        if e["state"] == "sent":
            out.print(Text(f"posted to {label}: {len(parts)} part{'s' if len(parts) != 1 else ''}"))
        elif not any(p.get("attempted") or p["state"] in ("sent", "sending") for p in parts):
            out.print(Text(f"{label}: nothing was sent", style="yellow"))
        else:
            out.print(Text(f"{label}: {sent} of {len(parts) or '?'} parts sent", style="yellow"))
        for p in parts:
            mark = {"sent": "✓", "failed": "✗"}.get(p["state"], "·")
            where = p.get("url") or p.get("error") or "pending"
            out.print(Text(f"  {mark} {p['n']}/{len(parts)} {clean(where, oneline=True)}"))
    out.print(Text(f"reflection {refl['id']} saved in the journal", style="dim"))


def post(
    text: str | None = typer.Argument(
        None, metavar="[TEXT]", help="What you learned; '-' reads stdin; nothing opens $EDITOR."
    ),
    on: list[str] = typer.Option([], "--on", metavar="ID", help="Cite an inbox item: adds its link and credits its author."),
    tag: list[str] = typer.Option([], "--tag", "-t", metavar="TAG", help="Add a hashtag (repeatable)."),
    visibility: str = typer.Option("public", "--visibility", metavar="VISIBILITY", help="public, unlisted, private or direct."),
    cw: str = typer.Option("", "--cw", metavar="TEXT", help="Content warning, on every part."),
    account: list[str] = typer.Option([], "--account", "-A", metavar="NAME", help="Post with this account (repeat to cross-post)."),
    reply_to: str | None = typer.Option(None, "--reply-to", metavar="ID", help="Reply to a status from the inbox."),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Show exactly what would be posted; send and save nothing."),
    retry: str | None = typer.Option(None, "--retry", metavar="ID", help="Finish a pending or failed reflection."),
    json: bool = typer.Option(False, "--json", help="Print the reflection as JSON."),
) -> None:
    """Post a reflection: saved in the journal first, split into a thread when long.

    \b
    Example: pln post "Retrieval practice beats re-reading" --on 3f9k2a --tag edtech
    """
    from companion.errors import PlnError, PostError, StorageError, UsageError
    from companion.reflections.sending import failure_message

    c = _companion()
    if retry is not None:
        if text is not None or on or tag or cw or account or reply_to or visibility != "public":
            raise UsageError("--retry takes only the reflection id: it resends exactly what was saved")
        r = c.reflections()
        if dry_run:
            refl = r.require(retry)
            preview = [_saved_preview(e, refl) for e in refl["accounts"]]
            if json:
                print_json({"dry_run": True, "reflection": refl})
            elif refl["state"] == "draft":
                out.print(Text(f"draft {refl['id']} is checked and split when it is retried: "
                               f"pln post --retry {refl['id']}"))
            else:
                _render_parts(preview, refl)
            return
        refl = c.retry_reflection(retry)
    else:
        r = c.reflections()
        options: dict[str, Any] = {"on": on, "tags": tag, "visibility": visibility, "cw": cw,
                                   "accounts": account, "reply_to": reply_to}
        typed = text is None or text == "-"  # only here: not in a shell's history
        if text is None:
            # everything that does not depend on the text is checked before the editor opens:
            # what is typed there is never refused afterwards (issue 13.5)
            r.check(on=on, tags=tag, visibility=visibility, accounts=account, reply_to=reply_to)
            if not (sys.stdin.isatty() and sys.stdout.isatty() or _editor_set()):
                # a script, a pipe, cron: vi or nano would draw on nothing and wait forever
                raise UsageError("no text to post, and no terminal for an editor: give it, "
                                 "pln post \"…\" or pln post - < file")
            body = _from_editor(_template(c, on, reply_to, account))
            if not body:  # an empty editor cancels, even with --on
                raise UsageError("nothing to post: the editor was left empty (nothing was saved)")
        elif text == "-":
            body = sys.stdin.read()
        else:
            body = text
        refl = None
        try:
            refl = r.prepare(body, **options)
            if dry_run:
                preview = r.preview(refl)
            else:
                refl = r.post(refl)
        except PlnError as e:
            # typed text that did not reach the journal is kept as a draft, never lost
            if not typed or not body.strip() or (not dry_run and _saved(c, refl)):
                raise
            where = r.keep_draft(body, options, e.message,
                                 journal=not isinstance(e, StorageError))
            raise type(e)(f"{e.message} — {where}", subject=e.subject) from e
        if dry_run:
            if json:
                print_json({"dry_run": True, "text": refl["text"], "visibility": refl["visibility"],
                            "cw": refl["cw"], "cites": refl["cites"], "reply_to": refl["reply_to"],
                            "accounts": preview})
            else:
                _render_parts(preview, refl)
                out.print(Text("dry run: nothing was sent or saved", style="dim"))
            return
    if json:
        print_json(refl)
    else:
        _render_result(refl)
    if refl["state"] != "sent":
        raise PostError(failure_message(refl), subject=refl["id"])


def _saved(c: Any, refl: Any) -> bool:
    """Whether this reflection is in the journal (so nothing needs keeping apart)."""
    if refl is None or not c.home.journal_file.exists():
        return False
    from companion.errors import PlnError

    try:
        return c.journal.get(refl["id"]) is not None
    except PlnError:  # a journal that cannot be read: keep the text apart
        return False


def _saved_preview(entry: dict[str, Any], refl: dict[str, Any]) -> dict[str, Any]:
    from companion.reflections.thread import Limits, part_length

    limits = Limits(entry.get("limit") or 500, entry.get("url_length", 23))
    return {
        "account": entry["name"],
        "handle": entry["handle"],
        "limit": limits.max_characters,
        "parts": [
            {"n": p["n"], "text": p["text"], "length": part_length(p["text"], limits, refl["cw"])}
            for p in entry.get("parts", [])
        ],
    }


def journal(
    json: bool = typer.Option(False, "--json", help="Print the reflections as JSON."),
    export: str | None = typer.Option(None, "--export", metavar="FORMAT", help="md (a learning log by week), atom or json."),
    output: Path | None = typer.Option(None, "--output", "-o", metavar="FILE", help="Write the export to FILE."),
) -> None:
    """List your reflections, or export the journal.

    \b
    Example: pln journal --export md -o learning-log.md
    """
    from companion.errors import UsageError
    from companion.reflections.export import FORMATS

    c = _companion()
    if export is not None:
        fmt = export.lower()
        if fmt not in FORMATS:
            raise UsageError(f"bad --export {export!r}: use md, atom or json")
        data = c.export_journal(fmt)
        if output is not None:
            from companion.cli.render import note, write_output

            write_output(output, data)  # the same checks and messages as every -o
            note(f"wrote {output}")
        else:
            sys.stdout.write(data)
        return
    if output is not None:
        raise UsageError("-o needs --export md|atom|json")
    rows = c.list_reflections()
    if json:
        print_json(rows)
        return
    if not rows:
        out.print("no reflections yet — write one with `pln post \"what I learned\"`")
        return
    from companion.cli.reflections_view import journal_text

    out.print(journal_text(rows), soft_wrap=True)


def drafts(json: bool = typer.Option(False, "--json", help="Print them as JSON.")) -> None:
    """List reflections that are not fully posted (pending or failed).

    \b
    Example: pln drafts
             pln post --retry ID
    """
    c = _companion()
    rows = c.list_reflections(drafts=True)
    if json:
        print_json(rows)
        return
    if not rows:
        out.print("no drafts: every reflection is posted")
        return
    from companion.cli.reflections_view import drafts_text

    out.print(drafts_text(rows), soft_wrap=True)
    out.print(Text("finish one with: pln post --retry ID", style="dim"))


def register(app: typer.Typer) -> None:
    app.command("post", cls=PlnCommand)(post)
    app.command("journal", cls=PlnCommand)(journal)
    app.command("drafts", cls=PlnCommand)(drafts)
