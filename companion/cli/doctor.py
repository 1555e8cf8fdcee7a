"""`pln doctor`: check every file of the home; `--repair` rebuilds what can be rebuilt."""

from __future__ import annotations

import typer
from rich.text import Text

from companion.cli.render import clean, out, print_json
from companion.words import plural


def doctor(
    repair: bool = typer.Option(
        False, "--repair", help="Rebuild what can be rebuilt (a backup of each file replaced)."
    ),
    json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
) -> None:
    """Check config, credentials, journal, sync state and inbox files.

    Exit code 1 while a problem is left. Example: pln doctor --repair
    """
    from companion.doctor import doctor as check
    from companion.service import Companion

    report = check(Companion(), repair=repair)
    if json:
        print_json(report.as_dict())
    else:
        for f in report.findings:
            line = Text("repaired " if f.repaired else "problem  ",
                        style="green" if f.repaired else "red")
            line += Text(f"{clean(str(f.path))}: {clean(f.problem)}")
            if f.repaired:
                line += Text(f" → {clean(f.repaired)}")
            out.print(line, soft_wrap=True)
        left = report.problems_left
        summary = f"checked {plural(report.checked, 'file')}: "
        if not report.findings:
            summary += "everything is fine"
        else:
            fixed = len(report.findings) - len(left)
            summary += f"{plural(len(left), 'problem')} left, {fixed} repaired"
            if left and not repair:
                summary += " — `pln doctor --repair` rebuilds what can be rebuilt"
        if report.backup_dir is not None:
            summary += f"; what was replaced is in {clean(str(report.backup_dir))}"
        out.print(summary, soft_wrap=True, markup=False)
    if report.problems_left:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
