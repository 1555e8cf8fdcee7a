"""What `pln tui` does with the library, without a screen: list, read, flag, sync.

The app (companion/tui/app.py) calls these from its event loop and its worker threads.
Each thread works on a ``Companion`` of its own (the store object caches files and is not
shared between threads); they meet at the home's write lock, as two `pln` commands do, so
starring while a sync writes a batch waits for that batch only (issue 15).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime

from companion import inbox
from companion.errors import ConfigError, NotFoundError, PlnError
from companion.inbox import ItemFilter
from companion.paths import Home
from companion.read_models import Item, ItemRow, Reflection, SharedLink, SourceView
from companion.service import Companion
from companion.tui.reader import Reading

FIRST_PAGE = 200  # rows read before the first screen is painted
CHUNK = 1000  # rows read at a time after it, as the cursor comes near the end
THREAD_DEPTH = 6  # ancestors shown above a reply


class Session:
    """One `pln tui`: the home, the filters it started with, and the current ones."""

    def __init__(self, flt: ItemFilter, *, home: Home | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.home = home or Home.locate()
        self.clock = clock
        self.start_filter = replace(flt, limit=None)
        self.filter = self.start_filter
        self.c = Companion(self.home, clock=clock)
        self.config_problem: ConfigError | None = self.c.lenient_config()
        self.writer = FlagWriter(self.home)
        self.sync_thread: threading.Thread | None = None  # a sync started with S

    # ----- settings and labels ------------------------------------------------------------

    @property
    def mark_read(self) -> str:
        """When an item is marked read: "open", "leave" (the default) or "manual"."""
        return self.c.settings.tui_mark_read

    def labels(self) -> dict[str, str]:
        return self.c.source_labels()

    def refresh(self) -> None:
        """Read the store afresh (after a sync wrote to it from another thread)."""
        self.c.close()
        self.c = Companion(self.home, clock=self.clock)
        self.c.lenient_config()

    # ----- listing ------------------------------------------------------------------------

    def check_start(self) -> None:
        """UsageError for bad filters before the screen opens (exit 2, as `pln inbox`)."""
        self.check(self.filter)

    def check(self, flt: ItemFilter) -> None:
        """UsageError now for a filter that cannot work (an unknown source, topic, no words)."""
        inbox.iter_records(self.c, flt)

    def pages(self, flt: ItemFilter) -> Iterator[list[ItemRow]]:
        """The rows matching ``flt``, newest first: a first page, then chunks, read from
        the store as they are asked for (on a Companion of its own: the listing drops the
        weeks it has read from its cache, the reading pane keeps its own)."""
        c = Companion(self.home)
        c.lenient_config()
        rows = inbox.iter_records(c, flt)
        page: list[ItemRow] = []
        size = FIRST_PAGE
        for rec in rows:
            page.append(ItemRow.from_record(rec))
            if len(page) >= size:
                yield page
                page, size = [], CHUNK
        yield page

    # ----- reading ------------------------------------------------------------------------

    def reading(self, item: Item | ItemRow) -> Reading:
        """The item in full for the reading pane: text, sanitized HTML, thread and story."""
        store = self.c.store
        rec = store.get(item.id, text=False)
        if rec is None:  # pruned meanwhile
            raise NotFoundError(f"item {item.id} is no longer in the inbox")
        full = Item.from_record(rec, full=True)
        full = replace(full, read=item.read, starred=item.starred)  # (flags may be in flight)
        body = store.get_body(item.id)
        html = body.get("html", "")
        if not html and not full.text:
            got = store.get(item.id)
            full = replace(full, text=(got or {}).get("text", ""))
        thread: list[Item] = []
        parent_link = None
        if rec.get("reply_to"):
            try:
                cur = rec
                for _ in range(THREAD_DEPTH):
                    parent, link = inbox.parent_of(self.c, cur)
                    if parent is None:
                        parent_link = link if not thread else None
                        break
                    thread.insert(0, Item.from_record(parent, full=True))
                    if not parent.get("reply_to"):
                        break
                    cur = parent
            except PlnError:
                pass
        story = None
        if rec.get("story"):
            srec = store.get(rec["story"], text=False)
            story = Item.from_record(srec) if srec is not None else None
        return Reading(full, html, tuple(thread), parent_link, story)

    def links(self, days: int = 7) -> list[SharedLink]:
        from datetime import timedelta

        return inbox.links(self.c, self.c.clock() - timedelta(days=days), 200)

    def sources(self) -> list[SourceView]:
        if not self.home.config_file.exists():
            return []
        return self.c.list_sources()

    def journal(self) -> list[Reflection]:
        return [Reflection.from_record(r) for r in self.c.list_reflections()]

    def close(self) -> None:
        """Write what is pending, release everything."""
        self.writer.close()
        self.c.close()


class FlagWriter:
    """Read and star marks, written in order by one thread under the write lock; the app
    never waits for the disk. ``close`` writes what is left (nothing is lost on quit)."""

    def __init__(self, home: Home, on_error: Callable[[str], None] | None = None) -> None:
        self.home = home
        self.on_error = on_error
        self._q: queue.Queue[tuple[list[str], dict[str, bool]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def put(self, ids: list[str], **flags: bool) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="pln-tui-flags", daemon=True)
            self._thread.start()
        self._q.put((ids, flags))

    def _run(self) -> None:
        c = Companion(self.home)
        c.lenient_config()
        while True:
            job = self._q.get()
            try:
                if job is None:
                    return
                ids, flags = job
                try:
                    with c.writing("pln tui"):
                        c.set_flags(ids, **flags)
                except PlnError as e:
                    if self.on_error is not None:
                        try:
                            self.on_error(e.message)
                        except RuntimeError:  # the app has closed: nobody to tell
                            pass
            finally:
                self._q.task_done()

    def wait(self) -> None:
        """Until every mark so far is written."""
        if self._thread is not None:
            self._q.join()

    def close(self) -> None:
        if self._thread is not None:
            self._q.put(None)
            self._thread.join()
            self._thread = None


def follow_author(home: Home, item: Item) -> str:
    """Follow an item's author with the logged-in account and add them as a pln source
    (issue 17; the network verbs are companion.network.verbs); says what happened."""
    from companion.errors import UsageError
    from companion.network.verbs import add_matching_source, follow

    handle = item.author.handle
    if item.kind != "status" or handle.count("@") != 2:
        raise UsageError(f"item {item.id} has no fediverse author to follow")
    c = Companion(home)
    done = follow(c, handle)
    said = {"requested": f"follow requested: {done.target} approves followers by hand",
            "already": f"already following {done.target}"}.get(done.state,
                                                                 f"following {done.target}")
    if done.source is not None:
        return f"{said}; pln syncs it already (source {done.source.id})"
    added = add_matching_source(c, done)
    return f"{said}; added source {added.id}"
