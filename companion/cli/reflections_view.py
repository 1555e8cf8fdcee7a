"""`pln journal` and `pln drafts` listings: one row per reflection, then its links, cites
and replies on lines of their own — a URL is never cut or folded across lines, so it stays
one link to click or copy (issue 13), and no line ends in spaces."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from companion.cli.render import clean, grid_lines, plural, safe_text


def _when(refl: dict[str, Any]) -> str:
    return str(refl["created"])[:16].replace("T", " ")


def _first_line(r: dict[str, Any]) -> Text:
    return safe_text(r.get("body") or r.get("text"), oneline=True)


def _with_details(head: list[Text], details: list[list[Text]], indent: int) -> Text:
    """Header row lines, each followed by its detail lines, indented under the text."""
    lines = [head[0]]
    pad = " " * indent
    for row, extra in zip(head[1:], details):
        lines.append(row)
        lines.extend(Text(pad) + d for d in extra)
    return Text("\n", no_wrap=True, overflow="ignore").join(lines)


def journal_text(rows: list[dict[str, Any]]) -> Text:
    """The journal: id, date, state, accounts and the start of the text; then each posted
    URL, each cited item and the replies received, one per line."""
    from companion.reflections.compose import urls

    table, details = [], []
    for r in rows:
        table.append([Text(r["id"], style="bold"), Text(_when(r)), Text(r.get("state", "")),
                      safe_text(", ".join(e["name"] for e in r.get("accounts", [])), oneline=True),
                      _first_line(r)])
        extra = [Text(clean(u, oneline=True), style="cyan") for u in urls(r)]
        for ct in r.get("cites", []):
            extra.append(Text("↳ " + clean(ct.get("title") or ct["url"], oneline=True)[:60]
                              + f" ({ct['item']})", style="dim"))
        if r.get("replies"):
            extra.append(Text(f"↩ {plural(len(r['replies']), 'reply', 'replies')}: "
                              + " ".join(r["replies"]),
                              style="dim"))
        details.append(extra)
    head = grid_lines(table, flex=4, header=["id", "date", "state", "accounts", "text"],
                      fixed=frozenset({0, 1, 2}), mins={3: 8}, drop=(3,))
    return _with_details(head, details, indent=len(rows[0]["id"]) + 1)


def drafts_text(rows: list[dict[str, Any]]) -> Text:
    """Reflections not fully posted: id, date, state, parts sent, the start of the text;
    then what went wrong for each account."""
    from companion.reflections.compose import progress

    table, details = [], []
    for r in rows:
        sent, known = progress(r)
        table.append([Text(r["id"], style="bold"), Text(_when(r)), Text(r.get("state", "")),
                      Text(f"{sent}/{known or '?'}"), _first_line(r)])
        extra = []
        if r.get("state") == "draft" and r.get("error"):  # why a typed text was kept
            extra.append(Text("kept: ", style="yellow") + safe_text(r["error"], "yellow", oneline=True))
        extra.extend(Text(f"{e['name']}: ", style="yellow")
                     + safe_text(e["error"], "yellow", oneline=True)
                     for e in r.get("accounts", []) if e.get("error"))
        details.append(extra)
    head = grid_lines(table, flex=4, header=["id", "date", "state", "sent", "text"],
                      fixed=frozenset({0, 1, 2, 3}))
    return _with_details(head, details, indent=len(rows[0]["id"]) + 1)
