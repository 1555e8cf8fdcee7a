"""`pln sync`: fetch every source concurrently into the inbox.

Exit codes (README, "Command-line contract"): a sync that ran exits 0, even when some or all
sources failed — each failure is its own line and is counted in the summary, and what the
others fetched is stored — so `pln sync && pln inbox` always shows the inbox (issue 13). A
sync that could not run at all (the inbox is locked or cannot be written) exits 1, bad usage
or a broken config.toml 2, Ctrl-C 130. Results go to stdout, progress and advice to stderr.
"""

from __future__ import annotations

import re
import sys

import typer
from rich.text import Text

from companion.cli.command import PlnCommand
from companion.cli.render import err, note, out, plural, print_json, safe_text

_ISO = re.compile(r"\b(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::\d\d(?:\.\d+)?)?(?:Z|\+00:00)")


def when(text: str) -> str:
    """ISO timestamps in a message as ``2026-11-28 14:00 UTC``: one time format in the
    sync report (issue 13: it mixed ``…T14:00:00Z`` and ``14:00 UTC``)."""
    return _ISO.sub(r"\1 \2 UTC", text)


def sync(
    sources: list[str] | None = typer.Argument(
        None, metavar="[ID]...", help="Only these sources (ids or unique prefixes)."
    ),
    json: bool = typer.Option(False, "--json", help="One JSON result object per source."),
) -> None:
    """Fetch new items from every source (or the given ones) into the inbox.

    A source that fails is reported on its own line and does not stop the others; the sync
    still exits 0, so `pln sync && pln inbox` shows what is there. Exit code 1 only when the
    sync could not run at all (see the README).

    \b
    Example: pln sync
             pln sync 3kq9 --json
    """
    from companion.service import Companion
    from companion.urls import redact

    c = Companion()
    created = c.ensure_config(starter=True)
    if created is not None:
        note(
            f"first run: created {c.home.config_file} with a starter network for educators "
            f"({plural(created, 'source')}). Edit it, or use `pln source add` / `pln source rm`."
        )
    c.require_sources()
    # `pln sync ID ID-prefix` names one source twice: sync it once (issue 13)
    ids = list(dict.fromkeys(c.find_source(p).id for p in sources)) if sources else None
    show_bar = not json and sys.stderr.isatty()
    # (no write lock here: the sync takes it for each batch it writes, so reading and
    # triage go on while it fetches)
    if show_bar:
        c.prepare_sync()  # before the bar's refresh thread exists
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        with Progress(
            TextColumn("syncing"), BarColumn(), MofNCompleteColumn(), console=err,
            transient=True,
        ) as bar:
            task = bar.add_task("sync", total=len(ids or []) or len(c.config.sources))
            results = c.sync(ids, progress=lambda r: bar.advance(task))
    else:
        results = c.sync(ids)
    for r in results:  # credentials in a feed URL never reach the output (issue 12)
        r.label = redact(r.label)
        r.error = redact(r.error) if r.error else r.error
        r.notes = [redact(n) for n in r.notes]
    if json:
        print_json([r.as_dict() for r in results])
        return
    for r in results:
        head = Text(f"{r.source} ") + safe_text(r.label, oneline=True) + Text(": ")
        for n in r.notes:
            if r.status == "skipped" and n.startswith("server asked to wait until"):
                continue  # the "skipped until" line says it
            out.print(head + safe_text(when(n), oneline=True))
        line = None
        if r.status == "error":
            line = Text("error ", style="red") + safe_text(when(r.error or ""), oneline=True)
        elif r.status == "skipped":
            line = Text("skipped ", style="yellow") + Text(
                when(f"until {r.retry_after}" + (f": {r.error}" if r.error else ""))
            )
        elif r.status == "retired":
            line = Text("retired ", style="red") + Text("gone (410); remove it with pln source rm")
        if line is not None:
            out.print(head + line)
    counts = {s: sum(1 for r in results if r.status == s) for s in
              ("ok", "not_modified", "error", "skipped", "retired")}
    parts = [f"{counts['ok']} ok", f"{counts['not_modified']} not modified",
             plural(counts["error"], "error")]
    if counts["skipped"]:
        parts.append(f"{counts['skipped']} skipped")
    if counts["retired"]:
        parts.append(f"{counts['retired']} retired")
    new = sum(r.new for r in results)
    out.print(", ".join(parts) + f"; {new} new")
    if results and counts["error"] == len(results):
        offline = all("cannot reach" in (r.error or "") for r in results)
        note(f"no source could be synced ({counts['error']} failed"
             + ("; is the network down?" if offline else "; the reasons are above")
             + "); the inbox keeps what earlier syncs stored")
    elif counts["error"]:
        note(f"{plural(counts['error'], 'source')} failed; "
             "everything else was stored (`pln source list` shows each source's health)")


def register(app: typer.Typer) -> None:
    app.command("sync", cls=PlnCommand)(sync)
