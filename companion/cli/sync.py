"""`pln sync`: fetch every source concurrently into the inbox."""

from __future__ import annotations

import sys

import typer
from rich.text import Text

from companion.cli.render import err, note, plural, print_json, safe_text


def sync(
    sources: list[str] | None = typer.Argument(None, help="Only these source ids."),
    json: bool = typer.Option(False, "--json", help="One JSON result object per source."),
) -> None:
    """Fetch new items from every source (or the given ones) into the inbox.

    Exit code 1 if any source failed; everything else is saved. Example: pln sync
    """
    from companion.service import Companion

    c = Companion()
    created = c.ensure_config(starter=True)
    if created is not None and not json:
        note(
            f"first run: created {c.home.config_file} with a starter network for educators "
            f"({plural(created, 'source')}). Edit it, or use `pln source add` / `pln source rm`."
        )
    c.require_sources()
    show_bar = not json and sys.stderr.isatty()
    with c.writing("pln sync"):
        if show_bar:
            c.prepare_sync()  # before the bar's refresh thread exists
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            with Progress(
                TextColumn("syncing"), BarColumn(), MofNCompleteColumn(), console=err,
                transient=True,
            ) as bar:
                task = bar.add_task("sync", total=len(sources or []) or len(c.config.sources))
                results = c.sync(sources, progress=lambda r: bar.advance(task))
        else:
            results = c.sync(sources)
    failed = [r for r in results if r.status == "error"]
    if json:
        print_json([r.as_dict() for r in results])
    else:
        for r in results:
            line = None
            if r.status == "error":
                line = Text("error ", style="red") + safe_text(r.error, oneline=True)
            elif r.status == "skipped":
                line = Text("skipped ", style="yellow") + Text(
                    f"until {r.retry_after}" + (f": {r.error}" if r.error else "")
                )
            elif r.status == "retired":
                line = Text("retired ", style="red") + Text("gone (410); remove it with pln source rm")
            for n in r.notes:
                err.print(Text(f"{r.source} ") + safe_text(r.label, oneline=True) + Text(": ")
                          + safe_text(n, oneline=True))
            if line is not None:
                err.print(Text(f"{r.source} ") + safe_text(r.label, oneline=True) + Text(": ") + line)
        counts = {s: sum(1 for r in results if r.status == s) for s in
                  ("ok", "not_modified", "error", "skipped", "retired")}
        parts = [f"{counts['ok']} ok", f"{counts['not_modified']} not modified",
                 plural(counts["error"], "error")]
        if counts["skipped"]:
            parts.append(f"{counts['skipped']} skipped")
        if counts["retired"]:
            parts.append(f"{counts['retired']} retired")
        new = sum(r.new for r in results)
        err.print(", ".join(parts) + f"; {new} new")
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("sync")(sync)
