"""`pln discover`, `pln follow`, `pln unfollow`, `pln following`: grow the network (issue 17)."""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.text import Text

from companion.cli.render import clean, err, note, out, print_json, safe_text, warn


def _companion():  # type: ignore[no-untyped-def]
    from companion.service import Companion

    return Companion()


_ACCOUNT = typer.Option(None, "--account", help="Logged-in account to use (default: the default one).")


def _when(published: str) -> str:
    return published[5:16].replace("T", " ")  # MM-DD HH:MM


def discover(
    since: str = typer.Option("30d", "--since", help="The period the evidence comes from: 30d, 2w or a date."),
    json: bool = typer.Option(False, "--json", help="Print JSON."),
    account: str | None = _ACCOUNT,
) -> None:
    """Suggest people, hashtags and blogs to follow, with the evidence for each.

    People who often post in your hashtags or shared links you starred; hashtags used with
    your topics; feeds on the websites of people you follow. Example: pln discover --since 2w
    """
    from companion.network.verbs import discover as run
    from companion.service import parse_since

    c = _companion()
    start = parse_since(since, c.clock())
    progress = None
    if not json and sys.stderr.isatty():
        def progress(url: str) -> None:
            err.print(Text("checking ", style="dim") + safe_text(url, "dim", oneline=True))
    found = run(c, since=start, account=account, progress=progress)
    if json:
        print_json(found.as_dict())
        return
    for n in found.notes:
        warn(clean(n))
    _print_discovery(found)


def _print_discovery(d: Any) -> None:
    period = f"{d.since.strftime('%Y-%m-%d')} – {d.until.strftime('%Y-%m-%d')}"
    if not (d.people or d.hashtags or d.blogs):
        out.print(f"nothing to suggest from {period}: sync more, star what you like, or widen "
                  "--since", markup=False)
        return
    if d.people:
        out.print(Text(f"People to follow ({len(d.people)})", style="bold"))
        for p in d.people:
            line = Text("  ") + safe_text(p.person.handle, "bold", oneline=True)
            if p.person.name and p.person.name != p.person.handle:
                line += Text("  ") + safe_text(p.person.name, oneline=True)
            out.print(line + Text(f"  score {p.score}", style="dim"))
            why = []
            if p.tag_posts:
                tags = ", ".join(f"#{t} ({n})" for t, n in p.tags)
                why.append(f"{p.tag_posts} posts in {tags}")
            if p.starred_links:
                k = len(p.starred_links)
                why.append(f"shared {k} link{'s' if k != 1 else ''} you starred")
            if p.suggested is not None:
                why.append("suggested by your instance" + (f" ({p.suggested})" if p.suggested else ""))
            out.print(Text("    ") + safe_text(" · ".join(why), oneline=True))
            for ref in p.posts[:3]:
                out.print(Text(f"    {ref.id} {_when(ref.published)} ") + safe_text(ref.title, oneline=True),
                          no_wrap=True, overflow="ellipsis")
            for s in p.starred_links:
                out.print(Text(f"    ★ {s.item} ") + safe_text(s.title or s.url, oneline=True),
                          no_wrap=True, overflow="ellipsis")
            out.print(Text("    pln follow ", style="dim") + safe_text(p.person.handle, "dim"))
    if d.hashtags:
        out.print(Text(f"Hashtags used with your topics ({len(d.hashtags)})", style="bold"))
        for t in d.hashtags:
            with_ = ", ".join(f"{x} ({n})" for x, n in t.topics)
            out.print(Text("  ") + safe_text(f"#{t.tag}", "bold") + Text(
                f"  {t.score} people, {t.posts} posts, with ") + safe_text(with_, oneline=True))
            for ref in t.evidence[:3]:
                out.print(Text(f"    {ref.id} {_when(ref.published)} ") + safe_text(ref.title, oneline=True),
                          no_wrap=True, overflow="ellipsis")
            out.print(Text("    pln follow ", style="dim") + safe_text(f"'#{t.tag}'", "dim"))
    if d.blogs:
        out.print(Text(f"Blogs of people you follow ({len(d.blogs)})", style="bold"))
        for b in d.blogs:
            out.print(Text("  ") + safe_text(b.title or b.feed, "bold", oneline=True)
                      + Text("  ") + safe_text(b.feed, oneline=True))
            out.print(Text("    from ") + safe_text(b.person.handle, oneline=True)
                      + Text(" (") + safe_text(b.label or "website", oneline=True) + Text(": ")
                      + safe_text(b.website, oneline=True) + Text(")"))
            out.print(Text("    pln source add ", style="dim") + safe_text(b.feed, "dim"))


def _ask(question: str, default: bool) -> bool:
    return bool(typer.confirm(question, default=default, err=True))


def follow(
    target: str = typer.Argument(..., help="@user@host or '#tag' (quote it: # starts a shell comment)."),
    account: str | None = _ACCOUNT,
    add_source: bool | None = typer.Option(
        None, "--add-source/--no-add-source",
        help="Also add the matching pln source (default: ask on a terminal, else don't)."),
    topic: list[str] = typer.Option([], "--topic", "-t", help="A topic for the added source (repeatable)."),
) -> None:
    """Follow a person or a hashtag on your Mastodon account, and offer to sync it in pln.

    Example: pln follow @dana@mathstodon.xyz --add-source --topic math
    """
    from companion.network.verbs import add_matching_source
    from companion.network.verbs import follow as run

    c = _companion()
    done = run(c, target, account=account)
    what = safe_text(done.target, "bold", oneline=True)
    where = Text(f" (account {done.account} on {done.instance})", style="dim")
    if done.state == "requested":
        out.print(Text("follow requested: ") + what + Text(" approves followers by hand") + where)
    elif done.state == "already":
        out.print(Text("already following ") + what + where)
    else:
        out.print(Text("following ") + what + where)
    if done.source is not None:
        out.print(Text("pln syncs it already: source ") + Text(done.source.id, style="bold"))
        return
    spec = f"'{done.spec}'" if done.spec.startswith("#") else done.spec
    if add_source is None:
        via = ", ".join(f"{s.spec} ({s.id})" for s in done.covered_by)
        if done.covered_by:
            note(f"{clean(done.target)} reaches pln through {via} already")
        if sys.stdin.isatty():
            add_source = _ask(f"Add {clean(done.spec)} as a pln source of its own?",
                              default=not done.covered_by)
        else:
            note(f"not added as a pln source; to sync it: pln source add {clean(spec)}"
                 " (or pln follow … --add-source)")
            return
    if add_source:
        s = add_matching_source(c, done, topics=topic)
        out.print(Text("added source ") + Text(s.id, style="bold") + Text(" ") + safe_text(s.label))


def unfollow(
    target: str = typer.Argument(..., help="@user@host or '#tag'."),
    account: str | None = _ACCOUNT,
    remove_source: bool | None = typer.Option(
        None, "--remove-source/--keep-source",
        help="Also remove the matching pln source (default: ask on a terminal, else keep it)."),
) -> None:
    """Unfollow a person or a hashtag on your Mastodon account.

    Example: pln unfollow '#edchat' --keep-source
    """
    from companion.network.verbs import follow as run
    from companion.network.verbs import remove_matching_source

    c = _companion()
    done = run(c, target, account=account, undo=True)
    what = safe_text(done.target, "bold", oneline=True)
    where = Text(f" (account {done.account} on {done.instance})", style="dim")
    if done.state == "not_following":
        out.print(Text("not following ") + what + where + Text("; nothing changed"))
    else:
        out.print(Text("unfollowed ") + what + where)
    src = done.source
    if src is None:
        return
    if remove_source is None:
        if sys.stdin.isatty():
            remove_source = _ask(f"Also stop syncing source {src.id} ({clean(src.label)})?", False)
        else:
            note(f"pln still syncs it as source {src.id}; to stop: pln source rm {src.id}")
            return
    if remove_source:
        gone = remove_matching_source(c, done)
        if gone is not None:
            out.print(Text("removed source ") + Text(gone.id, style="bold") + Text(" ") + safe_text(gone.label))


def following(
    json: bool = typer.Option(False, "--json", help="Print JSON."),
    account: str | None = _ACCOUNT,
) -> None:
    """List whom and which hashtags your account follows, and what pln does not sync yet.

    Example: pln following --json
    """
    from companion.cli.render import grid
    from companion.network.verbs import following as run

    c = _companion()
    got = run(c, account=account)
    if json:
        print_json(got.as_dict())
        return
    for n in got.notes:
        warn(clean(n))
    n_tags = f" and {len(got.tags)} hashtag{'s' if len(got.tags) != 1 else ''}" if got.tags is not None else ""
    out.print(safe_text(f"{got.account} ({got.handle} on {got.instance}) follows {len(got.people)} "
                        f"{'person' if len(got.people) == 1 else 'people'}{n_tags}"), soft_wrap=True)

    def synced(by: list[Any], spec: str) -> Text:
        if not by:
            return Text("not synced: ", style="yellow") + safe_text(f"pln source add {spec}")
        return Text(", ".join(f"{s.spec} ({s.id})" for s in by), style="green")

    if got.people:
        out.print(Text("people", style="bold"))
        rows = [[Text("  ") + safe_text(p.handle, oneline=True), safe_text(p.name, oneline=True),
                 synced(by, p.handle)] for p, by in got.people]
        out.print(grid(rows, flex=2, max_widths={1: 24}), soft_wrap=True)
    if got.tags:
        out.print(Text("hashtags", style="bold"))
        rows = [[Text("  ") + safe_text(f"#{t}", oneline=True), synced(by, f"'#{t}'")]
                for t, by in got.tags]
        out.print(grid(rows, flex=1), soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("discover")(discover)
    app.command("follow")(follow)
    app.command("unfollow")(unfollow)
    app.command("following")(following)
