"""`pln login`, `pln accounts`, `pln logout`."""

from __future__ import annotations

import sys

import typer
from rich.text import Text

from companion.cli.command import PlnCommand
from companion.cli.render import clean, err, out, print_json, safe_text


def accounts(json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List logged-in accounts (tokens are never shown).

    \b
    Example: pln accounts --json
    """
    from companion.service import Companion

    c = Companion()
    creds = c.credentials
    default = creds.default_name
    rows = [{**a.public(), "default": a.name == default} for a in creds.accounts]
    if json:
        print_json(rows)
        return
    if not rows:
        out.print("no accounts — run `pln login https://your.instance`")
        return
    from companion.cli.render import grid

    # every column named, no trailing spaces (issue 13)
    table = [[safe_text(str(r["name"]), "bold", oneline=True),
              safe_text(str(r["handle"]), oneline=True),
              safe_text(str(r["instance"]), oneline=True), Text("yes" if r["default"] else "")]
             for r in rows]
    out.print(grid(table, flex=1, header=["name", "handle", "instance", "default"]))


def logout(name: str = typer.Argument(..., metavar="NAME", help="Account name (see pln accounts).")) -> None:
    """Forget an account's token.

    \b
    Example: pln logout work
    """
    from companion.errors import UsageError
    from companion.service import Companion

    c = Companion()
    if not c.credentials.has(name):
        known = ", ".join(a.name for a in c.credentials.accounts) or "none"
        raise UsageError(f"no account named {name!r} (logged in: {known})")
    acct = c.credentials.remove_account(name)
    out.print(f"logged out {acct.name} ({acct.instance})")


def login(
    instance: str = typer.Argument(..., metavar="INSTANCE_URL", help="The instance, e.g. https://mastodon.social"),
    token: str | None = typer.Option(
        None, "--token", metavar="TOKEN",
        help="An access token made in the instance's settings (Development); '-' reads it "
        "from stdin. Without it, pln runs the OAuth code flow.",
    ),
    name: str | None = typer.Option(None, "--name", metavar="NAME", help="A name for this account."),
) -> None:
    """Log in to a Mastodon-compatible instance and remember the account.

    Without --token: open the URL shown, authorize pln, paste the code. Scopes: read, write.

    \b
    Example: pln login https://mastodon.social --name work
    """
    from companion.service import Companion

    if token == "-":
        token = sys.stdin.readline().strip()

    def read_code(url: str) -> str:
        from companion.errors import UsageError

        err.print("Open this address in a browser, authorize pln, then paste the code shown:")
        out.print(url, soft_wrap=True, markup=False)
        while True:  # (typer.prompt would print "Aborted!" at the end of input: issue 13)
            sys.stderr.write("authorization code: ")
            sys.stderr.flush()
            line = sys.stdin.readline()
            if not line:
                sys.stderr.write("\n")
                raise UsageError("no authorization code was given (end of input); nothing was "
                                 f"saved — run `pln login {instance}` again when you have it")
            if line.strip():
                return line.strip()

    acct = Companion().login(instance, token=token, name=name, read_code=read_code)
    out.print(f"logged in as {clean(acct.handle)} on {clean(acct.instance)} "
              f"(account name: {clean(acct.name)})", markup=False)


def register(app: typer.Typer) -> None:
    app.command("login", cls=PlnCommand)(login)
    app.command("accounts", cls=PlnCommand)(accounts)
    app.command("logout", cls=PlnCommand)(logout)
