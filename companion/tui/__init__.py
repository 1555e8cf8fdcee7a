"""`pln tui`: an interactive, keyboard-driven reader over the same library as the CLI.

Only this package (and nothing the other commands import) uses Textual.
"""

from __future__ import annotations

from companion.inbox import ItemFilter


def run(flt: ItemFilter, *, theme: str | None = None) -> None:
    """Open the reader on the items matching ``flt`` until the user quits."""
    from companion.tui.app import PlnApp
    from companion.tui.session import Session

    session = Session(flt)
    session.check_start()
    app = PlnApp(session, theme=theme)
    app.run()
    if app.return_code:  # an internal error, said on stderr by the app
        from companion.errors import PlnError

        raise PlnError("pln tui stopped on an internal error")
