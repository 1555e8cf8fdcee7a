"""The composer: reflect on an item where you read it (``c`` cites it, ``r`` replies).

It posts through the journal exactly as `pln post --on ID` / `--reply-to ID` does
(``Reflections.prepare`` then ``post``): the reflection is saved before anything is sent,
and text that could not be posted, or that is open when the composer or the app is closed,
is kept as a draft (``Reflections.keep_draft``; `pln post --retry ID` finishes it).

The count under the text is per part of the thread, with the content warning counted
(companion/reflections/thread.py: the same split and counting that posting uses).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Select, Static, TextArea

from companion.errors import PlnError, StorageError
from companion.read_models import Item
from companion.reflections.compose import VISIBILITIES, compose_text
from companion.reflections.thread import Limits, part_length, split_thread
from companion.textsafe import clean
from companion.tui.session import Session


class ComposerScreen(Screen[str | None]):
    """Write a reflection on ``item``: ``mode`` "cite" (``--on``) or "reply" (``--reply-to``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "post", "Post", priority=True),
        Binding("escape", "close", "Close (keeps a draft)", priority=True),
    ]
    DEFAULT_CSS = """
    ComposerScreen { layout: vertical; }
    ComposerScreen #about { height: auto; max-height: 3; padding: 0 1; background: $panel; }
    ComposerScreen TextArea { height: 1fr; min-height: 4; }
    ComposerScreen #fields { height: 3; }
    ComposerScreen #cw { width: 1fr; }
    ComposerScreen #visibility { width: 22; }
    ComposerScreen #count { height: 1; padding: 0 1; }
    ComposerScreen #preview { height: 35%; min-height: 3; padding: 0 1;
                              border-top: solid $panel-lighten-2; }
    """

    def __init__(self, session: Session, item: Item, mode: str) -> None:
        super().__init__()
        self.session = session
        self.item = item
        self.mode = mode
        self.limits = Limits()
        self.cites: list[dict[str, Any]] = []
        self.problem: str | None = None
        self.posting = False
        self.done = False
        self.body = ""
        self.last_options: dict[str, Any] = {}

    # ----- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        what = "Reply to " if self.mode == "reply" else "Citing "
        it = self.item
        about = Text(what, style="bold")
        if self.mode == "reply":
            about.append(clean(it.author.handle or it.author.name, oneline=True))
            about.append(": " + clean(it.first_line, oneline=True)[:120], style="dim")
        else:
            about.append(clean(it.title or it.first_line, oneline=True)[:120])
        yield Static(about, id="about")
        yield TextArea(id="text", soft_wrap=True, show_line_numbers=False)
        with Horizontal(id="fields"):
            yield Input(placeholder="content warning (optional)", id="cw")
            yield Select([(v, v) for v in VISIBILITIES], value="public", allow_blank=False,
                         id="visibility")
        yield Static(id="count")
        with VerticalScroll(id="preview"):
            yield Static(id="parts")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()
        try:  # what does not depend on the text is checked first, as `pln post` does
            o = self.options()
            checked = self.session.c.reflections().check(
                on=o["on"], reply_to=o["reply_to"], visibility=o["visibility"])
            self.cites = checked["cites"]
            self._limits(checked["accounts"][0])
        except PlnError as e:
            self.problem = e.message
        self.last_options = self.options()
        self.update_count()

    def options(self) -> dict[str, Any]:
        """The `pln post` options of this reflection."""
        cw = self.query_one("#cw", Input).value if self.is_mounted else ""
        vis = self.query_one("#visibility", Select).value if self.is_mounted else "public"
        return {"on": [self.item.id] if self.mode == "cite" else [],
                "reply_to": self.item.id if self.mode == "reply" else None,
                "visibility": str(vis), "accounts": [], "tags": [], "cw": cw}

    @work(thread=True, group="limits")
    def _limits(self, account: Any) -> None:
        """The instance's limits (a GET): until they come, Mastodon's defaults count."""
        try:
            limits = self.session.c.reflections().publisher(account).limits()
        except PlnError:
            return
        self.app.call_from_thread(self._got_limits, limits)

    def _got_limits(self, limits: Limits) -> None:
        self.limits = limits
        self.update_count()

    # ----- counting -----------------------------------------------------------------------

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.body = event.text_area.text  # (kept for closing, when the widgets are gone)
        self.update_count()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.last_options = self.options()
        self.update_count()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.last_options = self.options()

    def update_count(self) -> None:
        body = self.query_one(TextArea).text
        cw = self.query_one("#cw", Input).value.strip()
        count = self.query_one("#count", Static)
        parts_view = self.query_one("#parts", Static)
        if self.problem:
            count.update(Text("! " + clean(self.problem, oneline=True), style="bold"))
        text = compose_text(body, self.cites, [])
        if not text.strip():
            if not self.problem:
                count.update(Text("write your reflection; ctrl+s posts it", style="dim"))
            parts_view.update(Text())
            return
        try:
            parts = split_thread(text, self.limits, cw=cw)
        except PlnError as e:
            count.update(Text("! " + clean(e.message, oneline=True), style="bold"))
            parts_view.update(Text())
            return
        lengths = [part_length(p, self.limits, cw) for p in parts]
        n = len(parts)
        line = Text(f"{n} part{'s' if n != 1 else ''} · ")
        line.append(" ".join(f"{x}/{self.limits.max_characters}" for x in lengths))
        if cw:
            line.append(f" (CW counted: {len(cw)})", style="dim")
        if not self.problem:
            count.update(line)
        preview = Text()
        for i, p in enumerate(parts, 1):
            if i > 1:
                preview.append("\n")
            preview.append(f"── part {i}/{n} · {lengths[i - 1]}/{self.limits.max_characters} ──\n",
                           style="dim")
            if cw:
                preview.append("CW: " + clean(cw, oneline=True) + "\n", style="yellow")
            preview.append(clean(p))
        parts_view.update(preview)

    # ----- posting ------------------------------------------------------------------------

    def action_post(self) -> None:
        if self.posting:
            return
        body = self.query_one(TextArea).text
        if not body.strip():
            self.notify("nothing to post: the reflection is empty", markup=False,
                        severity="warning")
            return
        self.posting = True
        self.query_one("#count", Static).update(Text("posting…", style="bold"))
        self._post(body, self.options())

    @work(thread=True, exclusive=True, group="post")
    def _post(self, body: str, options: dict[str, Any]) -> None:
        from companion.reflections.sending import failure_message
        from companion.service import Companion

        c = Companion(self.session.home)
        r = c.reflections()
        refl = None
        try:
            refl = r.prepare(body, **options)
            refl = r.post(refl)
        except PlnError as e:
            if refl is not None and _saved(c, refl):
                said = f"{e.message} — reflection {refl['id']} is in the journal"
            else:  # typed text is never lost (issue 13.5)
                where = r.keep_draft(body, options, e.message,
                                     journal=not isinstance(e, StorageError))
                said = f"{e.message} — {where}"
            self.app.call_from_thread(self._posted, None, said)
            return
        if refl["state"] != "sent":
            self.app.call_from_thread(self._posted, None, failure_message(refl))
            return
        n = sum(len(a.get("parts", [])) for a in refl["accounts"])
        self.app.call_from_thread(
            self._posted, refl["id"],
            f"posted reflection {refl['id']} ({n} part{'s' if n != 1 else ''})")

    def _posted(self, rid: str | None, said: str) -> None:
        """Posted, or kept (a draft, or a failed reflection in the journal to retry)."""
        self.posting = False
        self.done = True
        self.dismiss(said)

    def action_close(self) -> None:
        self.dismiss(self.keep())

    def keep(self) -> str | None:
        """Keep what is typed as a draft (closing, or the app closing); says where."""
        if self.done or self.posting or not self.body.strip():
            return None
        self.done = True
        r = self.session.c.reflections()
        return r.keep_draft(self.body, self.last_options or self.options(),
                            "closed before posting")

    def on_unmount(self) -> None:
        self.keep()  # the app is closing with the composer open: nothing typed is lost


def _saved(c: Any, refl: dict[str, Any]) -> bool:
    """Whether this reflection is in the journal (so nothing needs keeping apart)."""
    if not c.home.journal_file.exists():
        return False
    try:
        return c.journal.get(refl["id"]) is not None
    except PlnError:
        return False

