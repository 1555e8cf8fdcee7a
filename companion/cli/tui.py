"""`pln tui`: the interactive reader (companion/tui; Textual is imported only here)."""

from __future__ import annotations

import typer

from companion.cli.command import PlnCommand
from companion.cli.inbox import _ALL, _SEARCH, _SINCE, _SOURCE, _STARRED, _TAG, _TOPIC, _filter


def tui(
    all_: bool = _ALL,
    starred: bool = _STARRED,
    source: str | None = _SOURCE,
    topic: str | None = _TOPIC,
    tag: str | None = _TAG,
    search: str | None = _SEARCH,
    since: str | None = _SINCE,
    theme: str | None = typer.Option(None, "--theme", metavar="THEME", help="light or dark."),
) -> None:
    """Read, triage and reflect in an interactive reader (? in it lists the keys).

    \b
    Example: pln tui --topic edtech
    """
    import sys

    from companion.errors import UsageError

    if theme is not None and theme not in ("light", "dark"):
        raise UsageError(f"bad --theme {theme!r}: use light or dark")
    from companion.tui import open_session, run

    session = open_session(_filter(all_, starred, source, topic, tag, search, since, None))
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("pln tui needs a terminal: use `pln inbox` in scripts and pipes")
    run(session, theme=theme)


def register(app: typer.Typer) -> None:
    app.command("tui", cls=PlnCommand)(tui)
