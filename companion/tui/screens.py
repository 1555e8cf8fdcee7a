"""The other screens of `pln tui`: keys, search, links, sources, journal.

Lists are ``OptionList``s of rich ``Text`` prompts built from cleaned remote text (a ``str``
prompt would be parsed as markup).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from companion.textsafe import clean
from companion.tui.session import Session
from companion.words import age

KEY_NAMES = {"slash": "/", "question_mark": "?", "number_sign": "#", "asterisk": "*",
             "space": "space", "escape": "esc", "enter": "enter", "pagedown": "pgdn",
             "pageup": "pgup", "down": "↓", "up": "↑"}


def key_label(keys: str) -> str:
    """``j,down`` -> ``j ↓``."""
    return " ".join(KEY_NAMES.get(k, k.replace("ctrl+", "^")) for k in keys.split(","))


def keymap(bindings: list[BindingType]) -> list[tuple[str, str]]:
    """(keys, what they do) for every binding, in order."""
    return [(key_label(b.key), b.description) for b in bindings if isinstance(b, Binding)]


class HelpScreen(ModalScreen[None]):
    """Every key of the inbox screen (``?``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 92; max-width: 100%; height: auto; max-height: 100%;
                                  background: $panel; border: round $accent; padding: 0 1; }
    """

    def __init__(self, bindings: list[BindingType]) -> None:
        super().__init__()
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        rows = keymap(self.bindings)
        cols = 2 if self.app.size.width >= 96 else 1  # two columns fit 24 lines at 96+
        per = -(-len(rows) // cols)
        t = Text("Keys", style="bold")
        for i in range(per):
            t.append("\n")
            for j, (keys, what) in enumerate(rows[i::per][:cols] if cols > 1 else [rows[i]]):
                if j:
                    t.append("  ")
                t.append(f"{keys:>9} ", style="bold")
                t.append(f"{what:<34}" if cols > 1 and j == 0 else what)
        t.append("\n\nesc, q or ? closes this", style="dim")
        with VerticalScroll():
            yield Static(t)


class SearchScreen(ModalScreen[str | None]):
    """``/``: words anywhere (as ``pln inbox --search``); empty clears the search."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    SearchScreen { align: center top; }
    SearchScreen > Vertical { width: 70; max-width: 100%; height: auto; margin-top: 2;
                              background: $panel; border: round $accent; padding: 0 1; }
    """

    def __init__(self, words: str) -> None:
        super().__init__()
        self.words = words

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Search (any case, any accents; empty: no search)", style="bold"))
            yield Input(self.words, placeholder="words…", id="words")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class _ListScreen(Screen[Any]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]
    DEFAULT_CSS = """
    _ListScreen #title { height: 1; background: $panel; padding: 0 1; }
    _ListScreen OptionList { height: 1fr; border: none; }
    _ListScreen #detail { height: auto; max-height: 50%; padding: 0 1; }
    """
    TITLE_TEXT = ""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        yield Static(Text(self.TITLE_TEXT, style="bold"), id="title")
        yield OptionList(*self.options(), id="options")
        yield Footer()

    def options(self) -> list[Option]:
        return []

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_cursor_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()


class LinksScreen(_ListScreen):
    """What my network is reading: links shared in the last 7 days, by people (``L``)."""

    TITLE_TEXT = "Links your network shared in the last 7 days (enter: the story, o: browser)"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("o", "browse", "Open in browser")]

    def options(self) -> list[Option]:
        self.rows = self.session.links()
        if not self.rows:
            return [Option(Text("no links shared in this period", style="dim"), disabled=True)]
        out = []
        for n, r in enumerate(self.rows):
            who = ", ".join(clean(p, oneline=True) for p in r.people[:3])
            if len(r.people) > 3:
                who += f" +{len(r.people) - 3}"
            t = Text(f"{r.count:>3} ", style="bold")
            t.append(clean(r.title or r.url, oneline=True))
            t.append("  " + who, style="dim")
            out.append(Option(t, id=str(n)))
        return out

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        r = self.rows[int(event.option.id or 0)]
        if r.item:
            self.dismiss(r.item)
        else:
            self.notify("this link's story is not in your inbox (o opens it)", markup=False)

    def action_browse(self) -> None:
        from companion.urls import is_web_link

        ol = self.query_one(OptionList)
        if not self.rows or ol.highlighted is None:
            return
        url = self.rows[ol.highlighted].url
        if is_web_link(url):
            self.app.open_url(url)


class SourcesScreen(_ListScreen):
    """The sources with their health (``R``); enter lists that source's items."""

    TITLE_TEXT = "Sources and their health (enter: list that source's items)"

    def options(self) -> list[Option]:
        self.rows = self.session.sources()
        if not self.rows:
            return [Option(Text("no sources yet: pln source add SPEC", style="dim"),
                           disabled=True)]
        now = datetime.now(UTC)
        out = []
        for v in self.rows:
            h = v.health
            if h.retired:
                status = Text("retired (410 Gone)", style="red")
            elif h.retry_until:
                status = Text("skipped: " + clean(h.last_error or f"wait until {h.retry_until}",
                                                  oneline=True), style="yellow")
            elif h.failures:
                from companion.urls import redact

                status = Text(f"{h.failures} failure{'s' if h.failures != 1 else ''}: "
                              + clean(redact(h.last_error or ""), oneline=True), style="red")
            elif h.last_success:
                status = Text("ok", style="green")
            else:
                status = Text("never synced", style="dim")
            t = Text(f"{v.id} ", style="bold")
            t.append(clean(v.label, oneline=True))
            t.append(f"  {h.items} items", style="dim")
            if h.last_success:
                t.append(f" · ok {age(h.last_success, now)} ago", style="dim")
            t.append("  ")
            t.append_text(status)
            out.append(Option(t, id=v.id))
        return out

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class JournalScreen(Screen[None]):
    """Your reflections, newest first, with where they were posted (``J``)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "Back")]
    DEFAULT_CSS = """
    JournalScreen #title { height: 1; background: $panel; padding: 0 1; }
    JournalScreen VerticalScroll { height: 1fr; padding: 0 1; }
    """

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        yield Static(Text("Journal (your reflections, newest first)", style="bold"), id="title")
        with VerticalScroll():
            yield Static(self._text())
        yield Footer()

    def _text(self) -> Text:
        try:
            rows = self.session.journal()
        except Exception as e:  # noqa: BLE001 - a journal that cannot be read is said here
            return Text(clean(str(getattr(e, "message", e)), oneline=True), style="red")
        if not rows:
            return Text("no reflections yet: c cites an item, r replies to a status",
                        style="dim")
        t = Text()
        for n, r in enumerate(rows):
            if n:
                t.append("\n\n")
            t.append(f"{r.id} ", style="bold")
            t.append(r.created.replace("T", " ").replace("Z", " UTC"), style="dim")
            state = {"sent": "green", "failed": "red", "draft": "yellow"}.get(r.state, "")
            t.append(f" {r.state}", style=state)
            if r.cw:
                t.append("  CW: " + clean(r.cw, oneline=True), style="yellow")
            t.append("\n")
            t.append(clean(r.text).strip())
            for url in r.urls:
                t.append("\n→ " + clean(url, oneline=True), style="underline")
            if r.state != "sent":
                t.append(f"\n(pln post --retry {r.id} finishes it)", style="dim")
        return t

    def action_close(self) -> None:
        self.dismiss(None)
