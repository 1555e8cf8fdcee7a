"""`pln accounts`, `pln logout` (and `pln login`, from the Mastodon module when present)."""

from __future__ import annotations

import typer
from rich.table import Table

from companion.cli.render import out, print_json, safe_text


def accounts(json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List logged-in accounts (tokens are never shown).

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
    table = Table(box=None, pad_edge=False, header_style="bold")
    for col in ("name", "handle", "instance", ""):
        table.add_column(col)
    for r in rows:
        table.add_row(safe_text(r["name"]), safe_text(r["handle"]), safe_text(r["instance"]),
                      "default" if r["default"] else "")
    out.print(table)


def logout(name: str = typer.Argument(..., help="Account name (see pln accounts).")) -> None:
    """Forget an account's token.

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


def register(app: typer.Typer) -> None:
    app.command("accounts")(accounts)
    app.command("logout")(logout)
