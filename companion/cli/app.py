"""The `pln` command: the Typer app and the one place errors become messages and exit codes."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

try:  # typer >= 0.26 ships its own copy of click
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - older typer uses click itself
    from click.exceptions import ClickException  # type: ignore[assignment,no-redef]

from companion import __version__
from companion.errors import PlnError


class PlnGroup(TyperGroup):
    """Turns PlnError into one clear line on stderr and its exit code (STYLE.md: errors)."""

    def invoke(self, ctx: Any) -> Any:
        _show_warnings()
        try:
            return super().invoke(ctx)
        except PlnError as e:
            if os.environ.get("PLN_DEBUG"):
                raise
            from companion.cli.render import clean, err
            from companion.errors import Interrupted
            from companion.urls import redact

            if isinstance(e, Interrupted):
                err.print(_escape(clean(e.message)))
            else:
                err.print(f"[red]error:[/red] {_escape(clean(redact(e.message)))}")
            raise typer.Exit(e.exit_code) from None
        except (ClickException, typer.Abort, typer.Exit):
            raise
        except KeyboardInterrupt:
            interrupted()
            raise typer.Exit(130) from None
        except BrokenPipeError:
            raise typer.Exit(0) from None
        except Exception as e:
            if os.environ.get("PLN_DEBUG"):
                raise
            from companion.cli.render import err

            err.print(
                f"[red]internal error:[/red] {_escape(type(e).__name__)}: {_escape(str(e))} "
                "(run with PLN_DEBUG=1 for the traceback and please report it)"
            )
            raise typer.Exit(1) from None
        finally:
            _print_notices()


def _print_notices() -> None:
    """Warnings the library collected while the command ran (companion.notices)."""
    from companion.notices import drain

    pending = drain()
    if pending:
        from companion.cli.render import clean, warn

        for message in pending:
            warn(clean(message))


def interrupted() -> None:
    """Ctrl-C anywhere: one line, no traceback (exit 130; what was saved stays saved)."""
    try:
        sys.stderr.write("interrupted\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _show_warnings() -> None:
    """The library's PlnWarnings become `warning: …` lines on stderr (others as Python shows
    them)."""
    import warnings

    from companion.errors import PlnWarning

    shown = warnings.showwarning
    if getattr(shown, "_pln", False):
        return

    def show(message: Any, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        if issubclass(category, PlnWarning):
            from companion.cli.render import clean, warn

            warn(clean(str(message)))
        else:
            shown(message, category, filename, lineno, file, line)

    show._pln = True  # type: ignore[attr-defined]
    warnings.showwarning = show


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


app = typer.Typer(
    cls=PlnGroup,
    name="pln",
    help="Your professional learning network in one local inbox: feeds and fediverse together.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_show_locals=False,  # locals hold tokens
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: importing rich_utils costs ~0.1 s at start-up
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pln {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Show the version and exit.", callback=_version, is_eager=True
    ),
) -> None:
    """Your professional learning network in one local inbox: feeds and fediverse together.

    Start with `pln sync` (a starter network for educators is offered on first run), then
    `pln inbox`.
    """


def _register() -> None:
    from companion.cli import accounts, digest, inbox, sources, sync

    sources.register(app)
    sync.register(app)
    inbox.register(app)
    accounts.register(app)
    digest.register(app)
    __import__("companion.cli.network", fromlist=["register"]).register(app)
    __import__("companion.cli.post", fromlist=["register"]).register(app)
    __import__("companion.cli.doctor", fromlist=["register"]).register(app)
    __import__("companion.cli.tui", fromlist=["register"]).register(app)


_register()


def _only_the_command(argv: list[str]) -> None:
    """Keep only the command ``argv`` names (`pln sync …`): Typer turns every registered
    command into a click command on each run, inspecting its signature — work a warm
    `pln sync` of a few feeds should not pay (issue 14). `pln`, `pln --help`, an unknown
    name and shell completion keep them all."""
    from typer.main import get_command_name

    if os.environ.get("_PLN_COMPLETE") or len(argv) < 2 or argv[1].startswith("-"):
        return
    name = argv[1]
    commands = [c for c in app.registered_commands
                if (c.name or get_command_name(c.callback.__name__ if c.callback else "")) == name]
    groups = [g for g in app.registered_groups
              if (g.name or (g.typer_instance.info.name if g.typer_instance else None)) == name]
    if commands or groups:
        app.registered_commands, app.registered_groups = commands, groups


def main() -> None:
    """Entry point of the `pln` script."""
    code = 0
    try:
        _only_the_command(sys.argv)
        app(prog_name="pln")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BrokenPipeError:  # `pln inbox | head`
        code = 0
    except KeyboardInterrupt:  # outside a command (parsing, start-up): still one line
        interrupted()
        code = 130
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    # Everything is written and every lock released by now: skip the interpreter's teardown
    # of a few hundred thousand objects (~40 ms of a 0.3 s `pln inbox`, issue 2's budget).
    os._exit(code)
