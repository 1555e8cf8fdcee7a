"""`pln source …` and `pln init`: manage what you follow."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from companion.cli.command import PlnCommand
from companion.cli.render import (
    clean,
    err,
    note,
    out,
    plural,
    print_json,
    safe_text,
    warn,
    write_output,
)
from companion.urls import redact, without_password
from companion.words import age

source_app = typer.Typer(
    help="Add, list, remove, import and export the sources you follow.", no_args_is_help=True
)


def _companion():  # type: ignore[no-untyped-def]
    from companion.service import Companion

    return Companion()


@source_app.command("add", cls=PlnCommand)
def add(
    spec: str = typer.Argument(
        ..., metavar="SPEC", help="https://… feed or page, @user@host, #tag, #tag@host, home, "
        "mentions, bookmarks, followed-tags, list:NAME, maildir:PATH, mbox:PATH, "
        "imaps://user@host/FOLDER, @handle.bsky.social or bsky:HANDLE"
    ),
    name: str | None = typer.Option(None, "--name", metavar="NAME", help="A name to show instead of the spec."),
    topic: list[str] = typer.Option([], "--topic", "-t", metavar="TOPIC", help="A topic (repeatable)."),
    account: str | None = typer.Option(None, "--account", metavar="NAME", help="Logged-in account to use."),
    sender: list[str] = typer.Option(
        [], "--from", metavar="ADDRESS", help="Mail sources: keep only mail from this address, "
        "or @domain (repeatable)."),
    list_id: list[str] = typer.Option(
        [], "--list-id", metavar="LIST_ID", help="Mail sources: keep only mail of this List-Id "
        "(repeatable)."),
    password: str | None = typer.Option(
        None, "--password", metavar="-", help="IMAP sources: '-' reads the password from stdin "
        "(otherwise pln asks for it)."),
) -> None:
    """Follow a source.

    \b
    Example: pln source add '#edtech@mastodon.social' --topic edtech
    """
    import sys
    from contextlib import nullcontext

    c = _companion()
    # a slow server can take `timeout` seconds to answer: say what pln is waiting for
    what = f"checking {clean(redact(spec), oneline=True)} …"
    checking: Any = nullcontext()
    # (not for IMAP: pln may ask for its password, and a spinner would write over the prompt)
    if sys.stderr.isatty() and not spec.lower().startswith(("imap://", "imaps://")):
        if err.is_dumb_terminal:  # no spinner on a dumb terminal: a plain line
            note(what)
        else:
            checking = err.status(Text(what))
    pw = _password_option(password)  # read before the spinner: a prompt must stay readable
    with checking:  # (add_source takes the write lock only to save: a sync may be writing)
        s = c.add_source(spec, name=name, topics=topic, account=account, senders=sender,
                         list_ids=list_id, password=pw, read_password=_ask_password)
    for n in s.extra.get("notes", []):
        if n.startswith("could not check"):
            warn(clean(redact(n)))
        else:
            note(clean(redact(n)))
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


@source_app.command("password", cls=PlnCommand)
def password_(
    source: str = typer.Argument(..., metavar="ID", help="IMAP source id (a unique prefix of 4+ characters)."),
    password: str | None = typer.Option(
        None, "--password", metavar="-", help="'-' reads the new password from stdin."),
) -> None:
    """Change the password pln keeps for an IMAP source (checked with the server first).

    \b
    Example: pln source password 3kq9
    """
    c = _companion()
    with c.writing("pln source password"):
        s = c.set_mail_password(source, _password_option(password), _ask_password, reuse=False)
    out.print(Text("password saved for ") + Text(s.id, style="bold") + Text(" ")
              + safe_text(s.label))


@source_app.command("list", cls=PlnCommand)
def list_(json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List sources with their health (last success, last error, failures, items).

    \b
    Example: pln source list --json
    """
    c = _companion()
    rows = rows_in = c.list_sources()
    if json:
        print_json([v.as_json() for v in rows])
        return
    if not rows:
        note(f"no sources yet — add one with `pln source add SPEC` ({c.home.config_file})")
        return
    from companion.cli.render import grid

    now = datetime.now(UTC)
    rows = []
    for v in rows_in:
        s, h = v.spec, v.health
        if h.retired:
            status = Text("retired (410 Gone)", style="red")
        elif h.retry_until:  # skipped (429, Retry-After): not ok until it syncs again
            status = Text("skipped: ", style="yellow") + safe_text(
                h.last_error or f"the server asked to wait until {h.retry_until}",
                oneline=True)
        elif h.failures:
            status = Text(f"{plural(h.failures, 'failure')}: ", style="red") + safe_text(
                redact(h.last_error or ""), oneline=True
            )
        elif h.last_success:
            status = Text("ok", style="green")
        else:
            status = Text("never synced", style="dim")
        rows.append([
            Text(s.id, style="bold"),
            Text(s.kind),
            safe_text(s.label, oneline=True),
            Text(", ".join(s.topics)),
            Text(str(h.items)),
            Text(age(h.last_success, now) if h.last_success else "-"),
            status,
        ])
    out.print(grid(rows, flex=2, header=["id", "kind", "source", "topics", "items", "last ok", "status"],
                   right=frozenset({4}), max_widths={2: 60, 3: 30}, mins={3: 8, 6: 12},
                   drop=(3, 1, 5), fixed=frozenset({0, 4})), soft_wrap=True)


@source_app.command("rm", cls=PlnCommand)
def rm(source: str = typer.Argument(..., metavar="ID", help="Source id (a unique prefix of 4+ characters).")) -> None:
    """Stop following a source (its items stay in the inbox).

    \b
    Example: pln source rm 3kq9
    """
    c = _companion()
    with c.writing("pln source rm"):
        s = c.remove_source(source)
    out.print(Text("removed ") + Text(s.id, style="bold") + Text(" ") + safe_text(s.label))


@source_app.command("import", cls=PlnCommand)
def import_(file: Path = typer.Argument(..., metavar="FILE", help="An OPML file (newsboat, Feedly, …).")) -> None:
    """Follow every feed of an OPML file; folders become topics.

    \b
    Example: pln source import subscriptions.opml
    """
    c = _companion()
    try:
        with c.writing("pln source import"):
            added, skipped = c.import_opml(file)
    except KeyboardInterrupt:
        # config.toml is written once, at the end: stopped before that, nothing changed
        from companion.errors import Interrupted

        raise Interrupted("interrupted: nothing was imported; config.toml is unchanged") from None
    followed = [spec for spec, why in skipped if why == "already followed"]
    for spec, why in skipped:
        if why != "already followed":
            note(f"skipped {clean(redact(spec))}: {clean(why)}")
    if followed:  # a re-import: one line, not one per source (issue 13)
        note(f"skipped {plural(len(followed), 'source')} you already follow")
    out.print(f"imported {plural(len(added), 'source')}" + (f", skipped {len(skipped)}" if skipped else ""))


@source_app.command("export", cls=PlnCommand)
def export(
    output: Path | None = typer.Option(None, "-o", "--output", metavar="FILE", help="Write to FILE, not stdout."),
) -> None:
    """Export sources as OPML (fediverse accounts and tags as their public RSS feeds).

    \b
    Example: pln source export -o pln.opml
    """
    from companion.opml import no_feed_reason

    c = _companion()
    text, skipped = c.export_opml()
    for s in skipped:
        note(f"not exported: {clean(s.spec)} ({s.id}) {no_feed_reason(s)}")
    if any(s.kind == "feed" and without_password(s.target) != s.target for s in c.config.sources):
        note("feed URLs are exported without their passwords")
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_output(output, text)
        err.print(f"wrote {output}")


def init(
    starter: bool = typer.Option(
        True, "--starter/--empty", help="Start with the educators' starter network, or empty."
    ),
) -> None:
    """Create config.toml (the starter network for educators, or a commented empty one).

    \b
    Example: pln init --empty
    """
    c = _companion()
    with c.writing("pln init"):
        n = c.ensure_config(starter=starter)
    if n is None:
        raise _exists(c.home.config_file)
    out.print(f"created {c.home.config_file} with {plural(n, 'source')}")


def _exists(path: Path) -> Exception:
    from companion.errors import UsageError

    return UsageError(f"{path} already exists; edit it, or use `pln source add`")


def register(app: typer.Typer) -> None:
    app.add_typer(source_app, name="source")
    app.command("init", cls=PlnCommand)(init)
