"""`pln tui` driven by Textual's pilot (App.run_test): navigate, triage, search, filter,
compose and post to mastodon_mock, sync from a real feed server while reading, follow an
author. Each test checks the store (through the library or the CLI) and the server after."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from companion.inbox import ItemFilter
from companion.models import Author, ItemData
from companion.service import Companion
from companion.tui.app import InboxScreen, PlnApp
from companion.tui.composer import ComposerScreen
from companion.tui.session import Session
from tests.test_inbox import feed_item, status

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # the app's clock in these tests
HOSTILE = "Hi \x1b]52;c;ZXZpbA==\x07there \x1b[2J\x1b[31mred\u202eevil [bold]markup[/bold] \x9b2J"
BAD = ("\x1b", "\x07", "\u202e", "\x9b")


def at(hours: float, item: ItemData) -> ItemData:
    """``item`` published ``hours`` before NOW (fixed dates: snapshots stay the same)."""
    from dataclasses import replace

    return replace(item, published=NOW - timedelta(hours=hours))


def seed(home: Path, *, settings: str = "", hostile: bool = False) -> Companion:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f"[settings]\n{settings}\n\n"
        '[[sources]]\nurl = "https://blog.example/feed"\nname = "Dana\'s blog"\ntopics = ["math"]\nid = "blog01"\n\n'
        '[[sources]]\nurl = "https://news.example/rss"\nname = "Ed News"\ntopics = ["news"]\nid = "news01"\n\n'
        '[[sources]]\ntag = "edtech"\nhost = "social.example"\ntopics = ["edtech"]\nid = "tag001"\n'
    )
    c = Companion(clock=lambda: NOW)
    with c.writing("test"):
        c._store_items("blog01", (
            at(2, feed_item(1, 0, title="Fractions with paper strips", tags=("math", "fractions"),
                            html="<h2>Paper strips</h2><p>Fold a strip in <b>four</b>, see "
                                 "<a href='https://blog.example/more'>more</a>.</p>"
                                 "<ul><li>halves</li><li>quarters</li></ul>"
                                 "<blockquote><p>Models first.</p></blockquote>"
                                 "<p><img src='https://blog.example/s.png' alt='a folded strip'></p>")),
            at(30, feed_item(2, 0, title="Élèves et évaluation formative",
                             text="Une réflexion sur l'ÉVALUATION.")),
        ), NOW)
        c._store_items("news01", (at(5, feed_item(10, 0, url="https://news.example/a",
                                                  title="School budgets", author="Ed News")),), NOW)
        c._store_items("tag001", (
            at(1, status(100, 0, "@alice@social.example", "Great read https://blog.example/posts/1",
                         link="https://blog.example/posts/1", tags=("edtech",))),
            at(6, status(103, 0, "@alice@social.example", "Unrelated musing about tools",
                         tags=("edtech",), cw="long rant")),
        ), NOW)
        if hostile:
            c._store_items("tag001", (
                at(0.5, status(200, 0, "@mallory@evil.example", HOSTILE, cw="\x1b[5mblink [b]x[/b]",
                               tags=("x\x1b[2J",))),
                at(0.2, feed_item(20, 0, title=HOSTILE, text=HOSTILE, html=f"<p>{HOSTILE}</p>",
                                  author="\x1b]8;;https://evil\x07Mallory")),
            ), NOW)
    return c


def app_for(flt: ItemFilter | None = None) -> PlnApp:
    return PlnApp(Session(flt or ItemFilter(), clock=lambda: NOW))


def inbox(app: PlnApp) -> InboxScreen:
    return app.inbox


def titles(app: PlnApp) -> list[str]:
    return [i.title for i in inbox(app).listing.items]


def stored(item_id: str) -> dict[str, Any]:
    rec = Companion().store.get(item_id, text=False)
    assert rec is not None
    return rec


async def settle(pilot: Any, app: PlnApp) -> None:
    """Until the listing has loaded and every mark is written."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.session.writer.wait()


def screen_text(app: PlnApp) -> str:
    """What the terminal shows, as text (from the app's own screenshot)."""
    import html
    import re

    svg = app.export_screenshot()
    rows: dict[int, list[tuple[float, str]]] = {}
    for m in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" '
                         r'clip-path="url\(#[^)]*-line-(\d+)\)">(.*?)</text>', svg):
        rows.setdefault(int(m.group(2)), []).append((float(m.group(1)), html.unescape(m.group(3))))
    return "\n".join("".join(t for _, t in sorted(rows[k])) for k in sorted(rows)).replace("\xa0", " ")


# ----- reading and triage ----------------------------------------------------------------------


def test_navigate_star_and_mark_read_as_you_leave(pln_home: Path) -> None:
    seed(pln_home)

    async def run() -> None:
        app = app_for()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            scr = inbox(app)
            assert titles(app)[:2] == ["Great read https://blog.example/posts/1",
                                       "Fractions with paper strips"]
            first = scr.listing.current
            assert first is not None and scr.shown is not None and scr.shown.id == first.id
            await pilot.press("j")  # leaving the first item marks it read (the default)
            await settle(pilot, app)
            second = scr.listing.current
            assert second is not None and second.title == "Fractions with paper strips"
            assert stored(first.id).get("read") is True
            assert not stored(second.id).get("read")
            await pilot.press("s")  # star
            await settle(pilot, app)
            assert stored(second.id).get("starred") is True
            assert "★ starred" in screen_text(app)
            await pilot.press("k", "m")  # back up; m marks the first unread again
            await settle(pilot, app)
            assert not stored(first.id).get("read")
            await pilot.press("down", "down", "up")  # arrows move too
            await settle(pilot, app)
            assert scr.listing.cursor == 1
            await pilot.press("n")  # next unread
            await settle(pilot, app)
            assert scr.listing.current is not None and not scr.listing.current.read
            await pilot.press("q")
        # the library sees what the TUI wrote, through the same store calls
        starred = Companion().list_items(ItemFilter(starred=True))
        assert [i.id for i in starred] == [second.id]

    asyncio.run(run())


@pytest.mark.parametrize("mode", ["open", "manual"])
def test_read_state_setting(pln_home: Path, mode: str) -> None:
    seed(pln_home, settings=f'tui_mark_read = "{mode}"')

    async def run() -> None:
        app = app_for()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            first = inbox(app).listing.current
            assert first is not None
            assert bool(stored(first.id).get("read")) is (mode == "open")
            await pilot.press("j")
            await settle(pilot, app)
            second = inbox(app).listing.current
            assert second is not None
            assert bool(stored(first.id).get("read")) is (mode == "open")
            assert bool(stored(second.id).get("read")) is (mode == "open")
        unread = {i.id for i in Companion().list_items(ItemFilter())}
        assert (first.id in unread) is (mode == "manual")

    asyncio.run(run())


def test_bad_read_state_setting_is_a_config_error(pln_home: Path, cli: Any) -> None:
    seed(pln_home, settings='tui_mark_read = "sometimes"')
    res = cli("sync", code=2)
    assert "tui_mark_read: expected one of open, leave, manual, got 'sometimes'" in res.stderr


def test_search_and_filters_match_pln_inbox(pln_home: Path, cli: Any) -> None:
    seed(pln_home, settings='tui_mark_read = "manual"')  # (the listings stay comparable)

    def ids(*args: str) -> list[str]:
        return [r["id"] for r in json.loads(cli("inbox", "--json", *args).stdout)]

    async def run() -> None:
        app = app_for()
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot, app)
            scr = inbox(app)
            assert [i.id for i in scr.listing.items] == ids()
            await pilot.press("slash")
            await pilot.press(*"evaluation", "enter")  # any case, any accents
            await settle(pilot, app)
            assert titles(app) == ["Élèves et évaluation formative"]
            assert [i.id for i in scr.listing.items] == ids("--search", "evaluation")
            assert "search “evaluation”" in screen_text(app)
            await pilot.press("x")  # clear the filters
            await settle(pilot, app)
            assert [i.id for i in scr.listing.items] == ids()
            scr.listing.move_to(next(n for n, i in enumerate(scr.listing.items) if i.sources == ("blog01",)))
            await pilot.press("f")  # this source
            await settle(pilot, app)
            assert [i.id for i in scr.listing.items] == ids("--source", "blog01")
            await pilot.press("f")  # again: off
            await settle(pilot, app)
            await pilot.press("number_sign")  # the selected item's first tag
            await settle(pilot, app)
            tag = scr.session.filter.tag
            assert tag and [i.id for i in scr.listing.items] == ids("--tag", tag)
            await pilot.press("number_sign", "T")  # tag off; the source's topic
            await settle(pilot, app)
            topic = scr.session.filter.topic
            assert topic and [i.id for i in scr.listing.items] == ids("--topic", topic)
            await pilot.press("x", "slash", *"nothing-like-this", "enter")
            await settle(pilot, app)
            assert scr.listing.items == []
            assert "no items match" in screen_text(app)

    asyncio.run(run())


def test_cw_is_hidden_until_revealed_and_the_story_is_one_key_away(pln_home: Path) -> None:
    seed(pln_home)

    async def run() -> None:
        app = app_for(ItemFilter(unread_only=False))
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot, app)
            scr = inbox(app)
            i = next(n for n, it in enumerate(scr.listing.items) if it.cw)
            scr.listing.move_to(i)
            await settle(pilot, app)
            text = screen_text(app)
            assert "CW: long rant" in text and "Unrelated musing" not in text
            await pilot.press("w")
            await settle(pilot, app)
            assert "Unrelated musing about tools" in screen_text(app)
            scr.listing.move_to(0)  # alice's status sharing the story
            await settle(pilot, app)
            assert "shares the story" in screen_text(app)
            await pilot.press("t")
            await settle(pilot, app)
            assert scr.listing.current is not None
            assert scr.listing.current.title == "Fractions with paper strips"
            text = screen_text(app)
            # the body from its sanitized HTML: heading, list, quote, link, image alt text
            for part in ("Paper strips", "• halves", "▌ Models first.", "more[1]",
                         "[image: a folded strip]", "[1] https://blog.example/more",
                         "shared by 1: @alice@social.example"):
                assert part in text, part
            await pilot.press("y")  # copy the link
            assert app.clipboard == "https://blog.example/posts/1"

    asyncio.run(run())


def test_hostile_text_is_shown_as_text(pln_home: Path) -> None:
    seed(pln_home, hostile=True)

    async def run() -> None:
        app = app_for()
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(pilot, app)
            scr = inbox(app)
            for n in range(len(scr.listing.items)):
                scr.listing.move_to(n)
                await pilot.pause()
                if scr.shown is not None and scr.shown.cw:
                    await pilot.press("w")
                    await pilot.pause()
                svg = app.export_screenshot()
                text = screen_text(app)
                for bad in BAD:
                    assert bad not in svg
            # markup in remote text is shown as it was written, never applied
            assert "[bold]markup[/bold]" in text or "[bold]markup[/bold]" in screen_text(app)

    asyncio.run(run())


def test_links_sources_journal_and_keys_views(pln_home: Path) -> None:
    seed(pln_home)

    async def run() -> None:
        app = app_for()
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot, app)
            await pilot.press("question_mark")
            await pilot.pause()
            text = screen_text(app)
            assert "Jump to the story it shares" in text and "Follow the author" in text
            await pilot.press("escape", "L")
            await pilot.pause()
            text = screen_text(app)
            assert "Fractions with paper strips" in text  # shared by alice
            await pilot.press("enter")  # back to the inbox, on the story
            await settle(pilot, app)
            assert inbox(app).listing.current is not None
            assert inbox(app).listing.current.title == "Fractions with paper strips"
            await pilot.press("R")
            await pilot.pause()
            text = screen_text(app)
            assert "Dana's blog" in text and "never synced" in text
            await pilot.press("enter")  # the first source's items
            await settle(pilot, app)
            assert inbox(app).session.filter.source == "blog01"
            await pilot.press("J")
            await pilot.pause()
            assert "no reflections yet" in screen_text(app)

    asyncio.run(run())


# ----- composing -------------------------------------------------------------------------------


def test_compose_and_post_a_thread_to_mastodon(pln_home: Path, mastodon: Any, cli: Any) -> None:
    from tests.test_post import LONG, login, source_text, statuses

    seed(pln_home)
    login(mastodon, "alice")

    async def run() -> None:
        app = app_for()
        async with app.run_test(size=(100, 40)) as pilot:
            await settle(pilot, app)
            scr = inbox(app)
            scr.listing.move_to(next(n for n, i in enumerate(scr.listing.items)
                                  if i.title == "Fractions with paper strips"))
            await settle(pilot, app)
            story = scr.listing.current
            assert story is not None
            await pilot.press("c")
            await settle(pilot, app)
            comp = app.screen
            assert isinstance(comp, ComposerScreen)
            comp.query_one("TextArea").insert(LONG)  # type: ignore[attr-defined]
            comp.query_one("#cw").value = "long read"  # type: ignore[attr-defined]
            await settle(pilot, app)
            shown = screen_text(app)
            assert "CW counted: 9" in shown and "── part 1/" in shown
            await pilot.press("ctrl+s")
            await settle(pilot, app)
            assert isinstance(app.screen, InboxScreen)
            assert "posted reflection" in screen_text(app)
        [refl] = json.loads(cli("journal", "--json").stdout)
        assert refl["state"] == "sent" and refl["cw"] == "long read"
        assert refl["cites"][0]["item"] == story.id
        parts = refl["accounts"][0]["parts"]
        on_server = statuses(mastodon, "alice")
        assert [s.id for s in on_server] == [p["status_id"] for p in parts]
        # the live count said what was posted: parts and lengths, the CW counted in each
        from companion.reflections.thread import Limits, part_length

        lengths = " ".join(f"{part_length(p['text'], Limits(), 'long read')}/500" for p in parts)
        assert f"{len(parts)} parts · {lengths} (CW counted: 9)" in shown
        assert len(parts) >= 4
        previous = None
        for s in on_server:  # a chained thread, the CW on every part
            assert s.in_reply_to_id == previous and s.spoiler_text == "long read"
            previous = s.id
        assert "https://blog.example/posts/1 via Dana's blog" in source_text(
            mastodon, "alice", on_server[-1].id)

    asyncio.run(run())


def test_reply_goes_to_the_status(pln_home: Path, mastodon: Any, cli: Any) -> None:
    from tests.test_post import _status_item, login, put_items, statuses

    seed(pln_home)
    login(mastodon, "alice")
    data, source, s = _status_item(mastodon, "bob", "How do you run retrieval quizzes?")
    [item] = put_items((at(0.1, data), source))

    async def run() -> None:
        app = app_for()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            scr = inbox(app)
            scr.listing.move_to(scr.listing.index_of(item) or 0)
            await settle(pilot, app)
            await pilot.press("r")
            await settle(pilot, app)
            await pilot.press(*"Five minutes at the start.")
            await pilot.press("ctrl+s")
            await settle(pilot, app)
        [mine] = statuses(mastodon, "alice")
        assert mine.in_reply_to_id == s.id

    asyncio.run(run())


def test_closing_the_composer_or_a_failed_post_keeps_the_text(pln_home: Path, mastodon: Any,
                                                               cli: Any) -> None:
    from tests.test_post import login, statuses

    seed(pln_home)
    login(mastodon, "alice")

    async def run() -> None:
        app = app_for()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            await pilot.press("c")
            await settle(pilot, app)
            await pilot.press(*"Half a thought")
            await pilot.press("escape")
            await settle(pilot, app)
            assert "kept as draft" in screen_text(app)
            # the server fails every post: the reflection stays in the journal, failed
            mastodon.fault(path="/api/v1/statuses", methods=["POST"], status=500)
            await pilot.press("c")
            await settle(pilot, app)
            await pilot.press(*"A whole thought")
            await pilot.press("ctrl+s")
            await settle(pilot, app)
            await pilot.press("c")  # open, type, and the app is closed: kept too
            await settle(pilot, app)
            await pilot.press(*"Last words")
        rows = {r["body"]: r for r in json.loads(cli("journal", "--json").stdout)}
        assert rows["Half a thought"]["state"] == "draft"
        assert rows["A whole thought"]["state"] == "failed"
        assert rows["Last words"]["state"] == "draft"
        assert statuses(mastodon, "alice") == []

    asyncio.run(run())


# ----- sync and follow -------------------------------------------------------------------------


def _rss(n: int, now: datetime) -> str:
    items = "".join(
        f"<item><title>Fresh post {i}</title><link>https://fresh.example/{i}</link>"
        f"<guid>https://fresh.example/{i}</guid>"
        f"<pubDate>{format_datetime(now - timedelta(minutes=i))}</pubDate>"
        f"<description>Fresh body {i}</description></item>" for i in range(n))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Fresh</title>'
            f"<link>https://fresh.example/</link>{items}</channel></rss>")


def test_sync_while_reading_keeps_the_selection(pln_home: Path, feed_server: Any) -> None:
    seed(pln_home)
    now = datetime.now(UTC)
    url = feed_server.route("/fresh.xml", body=_rss(3, now).encode(), delay=1.5)
    with (pln_home / "config.toml").open("a") as f:
        f.write(f'\n[[sources]]\nurl = "{url}"\nid = "fresh1"\n')
    # the other sources' servers are not there: they fail, the feed syncs
    text = (pln_home / "config.toml").read_text()
    (pln_home / "config.toml").write_text(text.replace("https://blog.example/feed",
                                                       feed_server.url("/gone1"))
                                          .replace("https://news.example/rss",
                                                   feed_server.url("/gone2")))

    async def run() -> None:
        app = PlnApp(Session(ItemFilter()))  # the real clock: the feed is fresh
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot, app)
            scr = inbox(app)
            scr.listing.move_to(2)
            await settle(pilot, app)
            selected = scr.listing.current
            before = len(scr.listing.items)
            assert selected is not None
            await pilot.press("S")
            await pilot.pause(0.3)
            assert scr.syncing and "sync" in screen_text(app)
            await pilot.press("s")  # starring while the sync runs
            await pilot.pause(0.2)
            app.session.writer.wait()
            assert stored(selected.id).get("starred") is True  # written before the sync ends
            assert scr.syncing
            await app.workers.wait_for_complete()
            await settle(pilot, app)
            assert not scr.syncing
            assert "synced 4 sources: 3 new" in screen_text(app)
            # the listing is the inbox as it is now: the new items in, the one left read out
            assert [i.id for i in scr.listing.items] == [
                i.id for i in Companion().list_items(ItemFilter())]
            assert len(scr.listing.items) == before + 3 - 1
            assert scr.listing.current is not None and scr.listing.current.id == selected.id
            assert scr.listing.current.starred
            assert "Fresh post 0" in titles(app)
        assert feed_server.hits("/fresh.xml") == 1
        assert stored(selected.id).get("starred") is True

    asyncio.run(run())


def test_follow_the_author_and_add_them_as_a_source(pln_home: Path, mastodon: Any,
                                                   cli: Any) -> None:
    from tests.test_post import login

    seed(pln_home)
    login(mastodon, "alice")
    c = Companion()
    with c.writing("test"):
        c._store_items("tag001", (ItemData(
            key=f"{mastodon.base_url}/users/bob/statuses/1", kind="status",
            url=f"{mastodon.base_url}/@bob/1",
            author=Author("Bob", "@bob@mock.local", f"{mastodon.base_url}/@bob"),
            text="Spacing works", html="<p>Spacing works</p>", published=NOW),), NOW)

    async def run() -> None:
        app = app_for()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            scr = inbox(app)
            scr.listing.move_to(next(n for n, i in enumerate(scr.listing.items)
                                  if i.author.handle == "@bob@mock.local"))
            await settle(pilot, app)
            await pilot.press("F")
            await settle(pilot, app)
            assert "added source" in screen_text(app)
            scr.listing.move_to(next(n for n, i in enumerate(scr.listing.items)
                                  if i.author.handle == "@alice@social.example"))
            await settle(pilot, app)
            await pilot.press("F")  # not on this server: a clear message, nothing changes
            await settle(pilot, app)

    asyncio.run(run())
    api = mastodon.client("alice")
    bob = api.account_lookup("bob")
    assert api.account_relationships(bob["id"])[0]["following"] is True
    specs = [s["spec"] for s in json.loads(cli("source", "list", "--json").stdout)]
    assert "@bob@mock.local" in specs


def test_the_command_checks_its_input_and_needs_a_terminal(pln_home: Path, cli: Any) -> None:
    seed(pln_home)
    assert cli("tui", "--source", "zzzz", code=2).stderr.strip() == "error: no source with id 'zzzz'"
    assert "bad --since" in cli("tui", "--since", "soon", code=2).stderr
    assert "bad --theme 'pink'" in cli("tui", "--theme", "pink", code=2).stderr
    res = cli("tui", code=2)  # the test runner is no terminal
    assert res.stderr.strip() == ("error: pln tui needs a terminal: use `pln inbox` in scripts "
                                  "and pipes")


def test_pln_tui_on_a_real_terminal(pln_home: Path) -> None:
    """The real `pln tui` process on a pseudo-terminal (80×24, TERM=xterm): it draws the
    inbox, a key marks and moves, q quits with exit code 0 and no traceback; the hostile
    item's escape sequences are not among what the terminal received."""
    from tests.proc import Pty

    seed(pln_home, hostile=True)
    term = Pty("tui", cols=80, rows=24, env={"TERM": "xterm-256color"})
    term.read_until(lambda t: "School budgets" in t, timeout=30)
    term.send("s")  # star the first item
    term.read_until(lambda t: "starred (prune keeps it)" in t, timeout=10)
    term.send("q")
    done = term.wait(timeout=20)
    assert done.code == 0, done.output[-2000:]
    assert "Traceback" not in done.output
    for bad in ("\x1b]52;c;ZXZpbA", "\u202e", "\x9b2J", "\x1b]8;;https://evil"):
        assert bad not in done.output
    starred = Companion().list_items(ItemFilter(starred=True))
    assert len(starred) == 1


def test_only_web_links_are_opened_or_copied(pln_home: Path) -> None:
    seed(pln_home)
    c = Companion(clock=lambda: NOW)
    with c.writing("test"):
        c._store_items("blog01", (at(0.1, feed_item(30, 0, url="javascript:alert(1)",
                                                    title="Click me")),), NOW)

    async def run() -> None:
        app = app_for()
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot, app)
            assert inbox(app).listing.current is not None
            assert inbox(app).listing.current.title == "Click me"
            await pilot.press("o")
            await pilot.pause()
            assert "only http:// and https:// links are opened" in screen_text(app)
            await pilot.press("y")
            await pilot.pause()
            assert app.clipboard == ""  # nothing copied either

    asyncio.run(run())


def test_quitting_while_a_sync_runs_keeps_what_it_fetched(pln_home: Path, feed_server: Any) -> None:
    """`pln tui` (a process on a terminal): S, then q at once; the process ends only after
    the sync has written what it fetched (the CLI's main ends with os._exit)."""
    from tests.proc import Pty

    seed(pln_home)
    url = feed_server.route("/fresh.xml", body=_rss(3, datetime.now(UTC)).encode(), delay=2)
    (pln_home / "config.toml").write_text(f'[[sources]]\nurl = "{url}"\nid = "fresh1"\n')
    term = Pty("tui", cols=80, rows=24, env={"TERM": "xterm-256color"})
    term.read_until(lambda t: "School budgets" in t, timeout=30)
    term.send("S")
    term.read_until(lambda t: "syncing" in t, timeout=10)
    term.send("q")
    done = term.wait(timeout=30)
    assert done.code == 0, done.output[-2000:]
    assert "Traceback" not in done.output
    fresh = [i for i in Companion().list_items(ItemFilter()) if i.sources == ("fresh1",)]
    assert len(fresh) == 3
