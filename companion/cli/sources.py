"""`pln source …` and `pln init`: manage what you follow."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.text import Text

from companion.cli.render import age, clean, err, note, out, print_json, safe_text

source_app = typer.Typer(
    help="Add, list, remove, import and export the sources you follow.", no_args_is_help=True
)


def _companion():  # type: ignore[no-untyped-def]
    from companion.service import Companion

    return Companion()


@source_app.command("add")
def add(
    spec: str = typer.Argument(
        ..., help="https://… feed or page, @user@host, #tag, #tag@host, home, mentions, "
        "bookmarks, followed-tags, list:NAME, maildir:PATH, mbox:PATH, "
        "imaps://user@host/FOLDER, @handle.bsky.social or bsky:HANDLE"
    ),
    name: str | None = typer.Option(None, "--name", help="A name to show instead of the spec."),
    topic: list[str] = typer.Option([], "--topic", "-t", help="A topic (repeatable)."),
    account: str | None = typer.Option(None, "--account", help="Logged-in account to use."),
    sender: list[str] = typer.Option(
        [], "--from", help="Mail sources: keep only mail from this address, or @domain "
        "(repeatable)."),
    list_id: list[str] = typer.Option(
        [], "--list-id", help="Mail sources: keep only mail of this List-Id (repeatable)."),
    password: str | None = typer.Option(
        None, "--password", help="IMAP sources: '-' reads the password from stdin (otherwise "
        "pln asks for it)."),
) -> None:
    """Follow a source.

    Example: pln source add '#edtech@mastodon.social' --topic edtech
    """
    c = _companion()
    with c.writing("pln source add"):
        s = c.add_source(spec, name=name, topics=topic, account=account, senders=sender,
                         list_ids=list_id, password=_password_option(password),
                         read_password=_ask_password)
    for n in s.extra.get("notes", []):
        note(clean(n))
    out.print(Text("added ") + Text(s.id, style="bold") + Text(" ") + safe_text(s.label))


def _password_option(value: str | None) -> str | None:
    """``--password -``: the first line of stdin (a password never goes on a command line)."""
    if value is None:
        return None
    if value != "-":
        from companion.errors import UsageError

        raise UsageError("--password takes '-' and reads the password from standard input "
                         "(a password on the command line would stay in your shell history)")
    import sys

    return sys.stdin.readline().rstrip("\r\n")


def _ask_password(prompt: str) -> str:
    try:
        return str(typer.prompt(prompt, hide_input=True, err=True))
    except typer.Abort:  # end of input: nobody there to type it
        from companion.errors import UsageError

        raise UsageError("no password given: type it when asked, or pass --password - to read "
                         "it from standard input; nothing changed") from None


@source_app.command("password")
def password_(
    source: str = typer.Argument(..., help="IMAP source id (a unique prefix of 4+ characters)."),
    password: str | None = typer.Option(
        None, "--password", help="'-' reads the new password from stdin."),
) -> None:
    """Change the password pln keeps for an IMAP source (checked with the server first).

    Example: pln source password 3kq9
    """
    c = _companion()
    with c.writing("pln source password"):
        s = c.set_mail_password(source, _password_option(password), _ask_password, reuse=False)
    out.print(Text("password saved for ") + Text(s.id, style="bold") + Text(" ")
              + safe_text(s.label))


@source_app.command("list")
def list_(json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List sources with their health (last success, last error, failures, items)."""
    c = _companion()
    rows = rows_in = c.list_sources()
    if json:
        print_json(
            [
                {
                    "id": s.id,
                    "kind": s.kind,
                    "spec": s.spec,
                    "name": s.name,
                    "topics": list(s.topics),
                    "account": s.account,
                    "health": h,
                }
                for s, h in rows
            ]
        )
        return
    if not rows:
        note(f"no sources yet — add one with `pln source add SPEC` ({c.home.config_file})")
        return
    from companion.cli.render import grid

    now = datetime.now(UTC)
    rows = []
    for s, h in rows_in:
        if h.get("retired"):
            status = Text("retired (410 Gone)", style="red")
        elif h.get("failures"):
            status = Text(f"{h['failures']} failure(s): ", style="red") + safe_text(
                h.get("last_error", ""), oneline=True
            )
        elif h.get("last_success"):
            status = Text("ok", style="green")
        else:
            status = Text("never synced", style="dim")
        rows.append([
            Text(s.id, style="bold"),
            Text(s.kind),
            safe_text(s.label, oneline=True),
            Text(", ".join(s.topics)),
            Text(str(h.get("items", 0))),
            Text(age(h["last_success"], now) if h.get("last_success") else "-"),
            status,
        ])
    out.print(grid(rows, flex=6, header=["id", "kind", "source", "topics", "items", "last ok", "status"],
                   right=frozenset({4}), max_widths={2: 40, 3: 20}), soft_wrap=True)


@source_app.command("rm")
def rm(source: str = typer.Argument(..., help="Source id (a unique prefix of 4+ characters).")) -> None:
    """Stop following a source (its items stay in the inbox).

    Example: pln source rm 3kq9
    """
    c = _companion()
    with c.writing("pln source rm"):
        s = c.remove_source(source)
    out.print(Text("removed ") + Text(s.id, style="bold") + Text(" ") + safe_text(s.label))


@source_app.command("import")
def import_(file: Path = typer.Argument(..., help="An OPML file (newsboat, Feedly, …).")) -> None:
    """Follow every feed of an OPML file; folders become topics.

    Example: pln source import subscriptions.opml
    """
    c = _companion()
    with c.writing("pln source import"):
        added, skipped = c.import_opml(file)
    for spec, why in skipped:
        note(f"skipped {clean(spec)}: {clean(why)}")
    out.print(f"imported {len(added)} source(s)" + (f", skipped {len(skipped)}" if skipped else ""))


@source_app.command("export")
def export(
    output: Path | None = typer.Option(None, "-o", "--output", help="Write to FILE, not stdout."),
) -> None:
    """Export sources as OPML (fediverse accounts and tags as their public RSS feeds).

    Example: pln source export -o pln.opml
    """
    from companion.opml import no_feed_reason

    c = _companion()
    text, skipped = c.export_opml()
    for s in skipped:
        note(f"not exported: {clean(s.spec)} ({s.id}) {no_feed_reason(s)}")
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}")


def init(
    starter: bool = typer.Option(
        True, "--starter/--empty", help="Start with the educators' starter network, or empty."
    ),
) -> None:
    """Create config.toml (the starter network for educators, or a commented empty one).

    Example: pln init --empty
    """
    c = _companion()
    with c.writing("pln init"):
        n = c.ensure_config(starter=starter)
    if n is None:
        raise _exists(c.home.config_file)
    out.print(f"created {c.home.config_file} with {n} source(s)")


def _exists(path: Path) -> Exception:
    from companion.errors import UsageError

    return UsageError(f"{path} already exists; edit it, or use `pln source add`")


def register(app: typer.Typer) -> None:
    app.add_typer(source_app, name="source")
    app.command("init")(init)
