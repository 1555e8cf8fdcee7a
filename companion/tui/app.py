"""`pln tui`: the inbox as an interactive reader (Textual), a second front end over the
same library verbs as the CLI (companion.service, companion.inbox).

The inbox screen is a virtual item list above (narrow terminals) or beside (wide ones) a
reading pane. Everything remote is shown as cleaned plain text inside rich ``Text`` objects:
no string from a feed or a status is ever handed to Textual as markup.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static

from companion.errors import PlnError
from companion.inbox import ItemFilter
from companion.read_models import Item, ItemRow
from companion.textsafe import clean
from companion.tui.item_list import ItemList
from companion.tui.pane import ReadingPane
from companion.tui.reader import Reading, render_reading
from companion.tui.session import Session, follow_author
from companion.urls import is_web_link

WIDE = 120  # columns from which the reading pane sits beside the list
PREFETCH = 100  # rows from the end of what is read at which the next page is read


class InboxScreen(Screen[None]):
    """The item list and the reading pane."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "next", "Next"),
        Binding("k,up", "prev", "Prev"),
        Binding("enter", "open", "Open"),
        Binding("m", "toggle_read", "Read"),
        Binding("s", "star", "Star"),
        Binding("n", "next_unread", "Unread"),
        Binding("c", "compose('cite')", "Cite"),
        Binding("r", "compose('reply')", "Reply"),
        Binding("S", "sync", "Sync"),
        Binding("slash", "search", "Search"),
        Binding("question_mark", "help", "Keys"),
        Binding("q", "quit", "Quit"),
        Binding("escape", "back", "Back", show=False),
        Binding("g,home", "first", "First", show=False),
        Binding("G,end", "last", "Last", show=False),
        Binding("space,pagedown", "page_down", "Scroll text down", show=False),
        Binding("b,pageup", "page_up", "Scroll text up", show=False),
        Binding("o", "open_link", "Open link in browser", show=False),
        Binding("y", "copy_link", "Copy link", show=False),
        Binding("t", "story", "Jump to the story it shares", show=False),
        Binding("w", "reveal_cw", "Show/hide CW text", show=False),
        Binding("f", "filter_source", "Filter: this source", show=False),
        Binding("T", "filter_topic", "Filter: this source's topic", show=False),
        Binding("number_sign", "filter_tag", "Filter: this tag", show=False),
        Binding("a", "toggle_all", "All / unread only", show=False),
        Binding("asterisk", "toggle_starred", "Starred only", show=False),
        Binding("x", "clear_filters", "Clear filters", show=False),
        Binding("F", "follow", "Follow the author, add as source", show=False),
        Binding("L", "links", "Links view", show=False),
        Binding("R", "sources", "Sources view", show=False),
        Binding("J", "journal", "Journal", show=False),
        Binding("ctrl+t", "toggle_theme", "Light/dark theme", show=False),
    ]

    DEFAULT_CSS = """
    InboxScreen { layout: vertical; }
    #top { height: 1; background: $panel; color: $text; padding: 0 1; }
    #main { layout: vertical; height: 1fr; }
    #list { height: 40%; min-height: 3; border-bottom: solid $panel-lighten-2; }
    #pane { height: 1fr; }
    #status { height: 1; padding: 0 1; color: $text-muted; }
    InboxScreen.wide #main { layout: horizontal; }
    InboxScreen.wide #list { height: 100%; width: 45%; border-bottom: none;
                             border-right: solid $panel-lighten-2; }
    InboxScreen.wide #pane { width: 1fr; height: 100%; }
    InboxScreen.zoom #list { display: none; }
    """

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.labels = session.labels()
        self.reading: Reading | None = None
        self.links: list[str] = []
        self.reveal: set[str] = set()
        self.shown: Item | None = None  # the item in the pane
        self.more = False
        self.pages: Iterator[list[ItemRow]] = iter(())
        self.syncing = False

    def compose(self) -> ComposeResult:
        yield Static(id="top")
        with Horizontal(id="main"):
            yield ItemList(labels=self.labels, clock=self.session.c.clock, id="list")
            yield ReadingPane(id="pane")
        yield Static(id="status")
        yield Footer()

    @property
    def listing(self) -> ItemList:
        return self.query_one(ItemList)

    @property
    def pane(self) -> ReadingPane:
        return self.query_one(ReadingPane)

    def on_mount(self) -> None:
        self.set_class(self.app.size.width >= WIDE, "wide")
        self.listing.on_highlight = self.highlighted
        self.session.writer.on_error = lambda m: self.app.call_from_thread(self.say, m, True)
        if self.session.config_problem is not None:
            self.say(f"{self.session.config_problem.message} — showing the inbox anyway "
                     "(fix config.toml to sync)", warn=True)
        self.listing.focus()
        self.load(self.session.filter)

    def on_resize(self) -> None:
        self.set_class(self.app.size.width >= WIDE, "wide")

    # ----- listing ------------------------------------------------------------------------

    def load(self, flt: ItemFilter, *, keep: str | None = None) -> None:
        """List ``flt``: a first page now, more as the cursor comes near the end (the
        listing is read from the store a week at a time, as far as it is looked at)."""
        try:
            self.session.check(flt)
        except PlnError as e:
            self.say(e.message, warn=True)
            return
        self.session.filter = flt
        self._start(self.session.pages(flt), keep)

    def _start(self, pages: Iterator[list[ItemRow]], keep: str | None,
               current: ItemRow | None = None) -> None:
        """Show a new listing; the cursor stays on ``keep`` (read on until it is found)."""
        self.pages = pages
        self.more = True
        rows = list(self._next_page())
        if keep is not None:
            while self.more and all(r.id != keep for r in rows):
                rows.extend(self._next_page())
            if current is not None and current.id == keep and all(r.id != keep for r in rows):
                # read meanwhile (or filtered out): it stays listed while it is selected
                at = next((n for n, r in enumerate(rows) if r.published < current.published),
                          len(rows))
                rows.insert(at, current)
        else:
            self.listing.cursor = 0
        self.listing.set_items(rows, keep=keep)
        self._top()
        if not rows:
            self._show_empty()

    def _next_page(self) -> list[ItemRow]:
        page = next(self.pages, None) if self.more else None
        if not page:
            self.more = False
            return []
        return page

    def pull(self, *, until: int | None = None, everything: bool = False) -> None:
        """Read more of the listing: a page, up to index ``until``, or all of it."""
        while self.more:
            self.listing.extend(self._next_page())
            if not everything and (until is None or len(self.listing.items) > until):
                break
        self._top()

    def reload_after_sync(self) -> None:
        """List again with the same filters; the selection stays on its item."""
        current = self.listing.current
        self.session.refresh()
        self.labels = self.listing.labels = self.session.labels()
        self._start(self.session.pages(self.session.filter),
                    current.id if current else None, current)

    def _top(self) -> None:
        f = self.session.filter
        t = Text("pln ", style="bold")
        n = len(self.listing.items)
        t.append(f"{n:,}{'+' if self.more else ''} item{'s' if n != 1 or self.more else ''}")
        t.append(" · " + ("starred" if f.starred else "unread" if f.unread_only else "all"))
        parts = []
        if f.source:
            parts.append("source " + self.labels.get(f.source, f.source))
        if f.topic:
            parts.append("topic " + f.topic)
        if f.tag:
            parts.append("#" + f.tag)
        if f.search:
            parts.append(f"search “{f.search}”")
        if parts:
            t.append(" · " + clean(" · ".join(parts), oneline=True))
        self.query_one("#top", Static).update(t)

    def _show_empty(self) -> None:
        f = self.session.filter
        if f != self.session.start_filter or f.search or f.tag or f.source or f.topic:
            why = "no items match (x clears the filters, a shows read items too)"
        elif f.unread_only:
            why = "nothing to read (a shows read items too; S syncs)"
        else:
            why = "the inbox is empty: S syncs your sources (pln source add SPEC to follow one)"
        self.pane.show(Text(why, style="dim"))
        self.shown = None

    # ----- reading ------------------------------------------------------------------------

    def on_item_list_highlighted(self, event: ItemList.Highlighted) -> None:
        self.highlighted(event.item, event.index)

    def highlighted(self, item: ItemRow | None, index: int) -> None:
        """The cursor is on ``item``: show it (and mark what was left, or it, read)."""
        if self.more and index >= len(self.listing.items) - PREFETCH:
            self.pull()
        previous = self.shown
        left = previous is not None and (item is None or previous.id != item.id)
        if left and previous is not None and not previous.read and self.session.mark_read == "leave":
            self._mark(previous.id, read=True, redraw=item is None)  # (the pane shows the next)
        if item is None:
            return
        if self.session.mark_read == "open" and not item.read:
            self._mark(item.id, read=True, redraw=False)
            item = replace(item, read=True)
        self.show(item)

    def show(self, item: ItemRow | Item) -> None:
        """Read ``item`` in full into the pane."""
        try:
            self.reading = self.session.reading(item)
        except PlnError as e:
            self.reading = None
            self.say(e.message, warn=True)
            return
        self.shown = self.reading.item
        self._paint()

    def _paint(self) -> None:
        if self.reading is None or self.shown is None:
            return
        r = replace(self.reading, item=self.shown)
        text, self.links = render_reading(r, self.labels, reveal_cw=r.item.id in self.reveal)
        self.pane.show(text)

    def _mark(self, item_id: str, *, redraw: bool = True, **flags: bool) -> None:
        """Change flags: on screen now, in the store by the writer thread."""
        self.listing.set_flags(item_id, **flags)
        if self.shown is not None and self.shown.id == item_id:
            self.shown = replace(self.shown, **flags)  # type: ignore[arg-type]
            if redraw:
                self._paint()
        self.session.writer.put([item_id], **flags)

    # ----- actions: moving ----------------------------------------------------------------

    def action_next(self) -> None:
        self.listing.move_to(self.listing.cursor + 1)

    def action_prev(self) -> None:
        self.listing.move_to(self.listing.cursor - 1)

    def action_first(self) -> None:
        self.listing.move_to(0)

    def action_last(self) -> None:
        if self.more:
            self.say("reading the whole listing…")
            self.pull(everything=True)
            self.say("")
        self.listing.move_to(len(self.listing.items) - 1)

    def action_next_unread(self) -> None:
        while not self.listing.next_unread():
            if not self.more:
                self.say("no unread item below this one")
                return
            self.pull()

    def action_page_down(self) -> None:
        self.pane.scroll_page_down(animate=False)

    def action_page_up(self) -> None:
        self.pane.scroll_page_up(animate=False)

    def action_open(self) -> None:
        if self.shown is not None:
            self.add_class("zoom")

    def action_back(self) -> None:
        if self.has_class("zoom"):
            self.remove_class("zoom")
            self.listing.focus()

    # ----- actions: triage ----------------------------------------------------------------

    def action_toggle_read(self) -> None:
        it = self.listing.current
        if it is not None:
            self._mark(it.id, read=not it.read)
            self.say("marked " + ("unread" if it.read else "read"))

    def action_star(self) -> None:
        it = self.listing.current
        if it is not None:
            self._mark(it.id, starred=not it.starred)
            self.say("unstarred" if it.starred else "starred (prune keeps it)")

    def action_reveal_cw(self) -> None:
        it = self.shown
        if it is not None and it.cw:
            self.reveal ^= {it.id}
            self._paint()

    def _link(self) -> str | None:
        it = self.shown
        if it is None:
            return None
        url = it.web_link
        if not url:
            self.say(f"item {it.id} has no link", warn=True)
            return None
        if not is_web_link(url):  # a feed can name javascript:, file: or data: "links" (issue 12)
            self.say(f"not opening {clean(url, oneline=True)[:60]!r}: only http:// and "
                     "https:// links are opened", warn=True)
            return None
        return url

    def action_open_link(self) -> None:
        url = self._link()
        if url:
            self.app.open_url(url)
            if self.shown is not None and not self.shown.read and self.session.mark_read != "manual":
                self._mark(self.shown.id, read=True)
            self.say("opened " + clean(url, oneline=True))

    def action_copy_link(self) -> None:
        url = self._link()
        if url:
            self.app.copy_to_clipboard(url)
            self.say("copied " + clean(url, oneline=True))

    def action_story(self) -> None:
        r = self.reading
        if r is None or r.story is None:
            self.say("this item does not share a story that is in the inbox")
            return
        i = self.listing.index_of(r.story.id)
        if i is not None:
            self.listing.move_to(i)
        else:  # not listed with these filters: read it here all the same
            self.show(r.story)
            self.say("the story is not in this listing (x clears the filters)")

    # ----- actions: filters ---------------------------------------------------------------

    def _filter(self, **changes: Any) -> None:
        keep = self.listing.current.id if self.listing.current else None
        self.load(replace(self.session.filter, **changes), keep=keep)

    def action_filter_source(self) -> None:
        it = self.listing.current
        if it is None or not it.sources:
            return
        sid = it.sources[0]
        self._filter(source=None if self.session.filter.source == sid else sid)

    def action_filter_topic(self) -> None:
        it = self.listing.current
        if it is None:
            return
        if self.session.filter.topic:
            self._filter(topic=None)
            return
        topics = [t for s in self.session.c.config.sources if s.id in it.sources for t in s.topics]
        if not topics:
            self.say("this item's source has no topic (pln source add … --topic)", warn=True)
            return
        self._filter(topic=topics[0])

    def action_filter_tag(self) -> None:
        it = self.listing.current
        if self.session.filter.tag:
            self._filter(tag=None)
        elif it is not None and it.tags:
            self._filter(tag=it.tags[0])
        else:
            self.say("this item has no tag", warn=True)

    def action_toggle_all(self) -> None:
        self._filter(unread_only=not self.session.filter.unread_only, starred=False)

    def action_toggle_starred(self) -> None:
        self._filter(starred=not self.session.filter.starred)

    def action_clear_filters(self) -> None:
        self._filter(source=None, topic=None, tag=None, search=None, starred=False,
                     unread_only=True, since=None)

    def action_search(self) -> None:
        from companion.tui.screens import SearchScreen

        def done(words: str | None) -> None:
            if words is not None:
                self._filter(search=words.strip() or None)

        self.app.push_screen(SearchScreen(self.session.filter.search or ""), done)

    # ----- actions: views, compose, sync, follow ------------------------------------------

    def action_help(self) -> None:
        from companion.tui.screens import HelpScreen

        self.app.push_screen(HelpScreen(self.BINDINGS))

    def action_links(self) -> None:
        from companion.tui.screens import LinksScreen

        self.app.push_screen(LinksScreen(self.session), self._goto)

    def action_sources(self) -> None:
        from companion.tui.screens import SourcesScreen

        def done(source: str | None) -> None:
            if source:
                self._filter(source=source)

        self.app.push_screen(SourcesScreen(self.session), done)

    def action_journal(self) -> None:
        from companion.tui.screens import JournalScreen

        self.app.push_screen(JournalScreen(self.session))

    def _goto(self, item_id: str | None) -> None:
        if not item_id:
            return
        i = self.listing.index_of(item_id)
        if i is not None:
            self.listing.move_to(i)
            return
        rec = self.session.c.store.get(item_id, text=False)
        if rec is not None:
            self.show(Item.from_record(rec))

    def action_compose(self, mode: str) -> None:
        from companion.tui.composer import ComposerScreen

        it = self.shown
        if it is None:
            return
        if mode == "reply" and it.kind != "status":
            self.say(f"item {it.id} is a feed entry, not a status: c cites it instead", warn=True)
            return

        def done(message: str | None) -> None:
            if message:
                self.say(message)

        self.app.push_screen(ComposerScreen(self.session, it, mode), done)

    def action_sync(self) -> None:
        if self.syncing:
            self.say("a sync is already running")
            return
        try:
            self.session.c.require_sources()
        except PlnError as e:
            self.say(e.message, warn=True)
            return
        self.syncing = True
        self.say(f"syncing {len(self.session.c.config.sources)} sources…")
        self._sync()

    @work(thread=True, exclusive=True, group="sync")
    def _sync(self) -> None:
        import threading

        from companion.service import Companion

        self.session.sync_thread = threading.current_thread()  # (quitting waits for it)
        c = Companion(self.session.home)
        total = len(c.config.sources)
        done: list[Any] = []

        def progress(r: Any) -> None:
            done.append(r)
            new = sum(x.new for x in done)
            failed = sum(1 for x in done if x.status == "error")
            line = f"syncing: {len(done)}/{total} sources · {new} new"
            if failed:
                line += f" · {failed} failed"
            self.app.call_from_thread(self.say, line)

        try:
            c.prepare_sync()
            results = c.sync(progress=progress)
        except PlnError as e:
            self.app.call_from_thread(self._synced, None, e.message)
            return
        finally:
            c.close()
        self.app.call_from_thread(self._synced, results, None)

    def _synced(self, results: list[Any] | None, problem: str | None) -> None:
        self.syncing = False
        if problem is not None:
            self.say(problem, warn=True)
            return
        assert results is not None
        new = sum(r.new for r in results)
        failed = [r for r in results if r.status == "error"]
        line = f"synced {len(results)} sources: {new} new"
        if failed:
            line += f", {len(failed)} failed (R: sources view says why)"
        self.say(line, warn=bool(failed))
        self.reload_after_sync()

    def action_follow(self) -> None:
        it = self.shown
        if it is None:
            return
        if it.kind != "status" or it.author.handle.count("@") != 2:
            self.say(f"item {it.id} has no fediverse author to follow", warn=True)
            return
        self.say("following " + clean(it.author.handle, oneline=True) + " …")
        self._follow(it)

    @work(thread=True, group="follow")
    def _follow(self, item: Item) -> None:
        try:
            said = follow_author(self.session.home, item)
        except PlnError as e:
            self.app.call_from_thread(self.say, e.message, True)
            return
        self.app.call_from_thread(self._followed, said)

    def _followed(self, said: str) -> None:
        self.session.refresh()
        self.labels = self.listing.labels = self.session.labels()
        self.say(said)

    def action_toggle_theme(self) -> None:
        app = self.app
        app.theme = "textual-light" if app.current_theme.dark else "textual-dark"

    async def action_quit(self) -> None:
        self.app.exit()

    # ----- messages -----------------------------------------------------------------------

    def say(self, message: str, warn: bool = False) -> None:
        """One line of news under the panes (remote text in it is cleaned)."""
        t = Text(clean(message, oneline=True), style="bold" if warn else "")
        if warn:
            t = Text("! ", style="bold") + t
        self.query_one("#status", Static).update(t)

    def on_unmount(self) -> None:
        """The app closes: the item on screen is left too."""
        if self.shown is not None and self.session.mark_read == "leave" and not self.shown.read:
            self.session.writer.put([self.shown.id], read=True)


class PlnApp(App[None]):
    """`pln tui`."""

    TITLE = "pln"
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, session: Session, *, theme: str | None = None) -> None:
        super().__init__()
        self.session = session
        self._theme_name = theme

    def on_mount(self) -> None:
        if self._theme_name == "light":
            self.theme = "textual-light"
        elif self._theme_name == "dark":
            self.theme = "textual-dark"
        self.push_screen(InboxScreen(self.session))

    def _fatal_error(self) -> None:
        """A bug: one line, no traceback with locals (they can hold tokens, STYLE.md) unless
        PLN_DEBUG=1 asks for the traceback."""
        import os
        import sys

        from rich.traceback import Traceback

        self.bell()
        err = sys.exc_info()[1]
        if os.environ.get("PLN_DEBUG"):
            shown: Any = Traceback(show_locals=False, width=None)
        else:
            shown = Text(f"pln tui: internal error: {type(err).__name__}: "
                         f"{clean(str(err), oneline=True)[:200]} (PLN_DEBUG=1 shows where)")
        self._exit_renderables.append(shown)
        self._close_messages_no_wait()

    @property
    def inbox(self) -> InboxScreen:
        return next(s for s in self.screen_stack if isinstance(s, InboxScreen))

    def on_unmount(self) -> None:
        # (screens unmount first: the inbox has marked its item, the composer kept its draft)
        self.session.close()
