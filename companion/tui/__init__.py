"""`pln tui`: an interactive, keyboard-driven reader over the same library as the CLI.

Only this package (and nothing the other commands import) uses Textual: ``run`` imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from companion.inbox import ItemFilter

if TYPE_CHECKING:
    from companion.tui.session import Session


def open_session(flt: ItemFilter) -> Session:
    """The reader's session, its filters checked (UsageError before any screen opens)."""
    from companion.tui.session import Session

    session = Session(flt)
    session.check_start()
    return session


def run(session: Session, *, theme: str | None = None) -> None:
    """Open the reader until the user quits."""
    from companion.tui.app import PlnApp

    app = PlnApp(session, theme=theme)
    app.run()
    sync = session.sync_thread
    # Textual waits for its worker threads when it closes; should a sync still run, wait
    # here: the CLI ends with os._exit, which would drop what it fetched
    if sync is not None and sync.is_alive():
        import sys

        sys.stderr.write("pln tui: the sync started with S is finishing…\n")
        sys.stderr.flush()
        sync.join()
    if app.return_code:  # an internal error, said on stderr by the app
        from companion.errors import PlnError

        raise PlnError("pln tui stopped on an internal error")
