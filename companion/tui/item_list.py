"""The item list: a virtual list (Textual's line API), one line per item.

Only the lines on screen are rendered (``render_line``), so 100,000 items cost a list of
small frozen ``ItemRow`` objects, not 100,000 widgets (issue 15). Remote text is cleaned and appended
as plain text: it never styles the screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from companion.read_models import ItemRow
from companion.textsafe import clean
from companion.words import age


class ItemList(ScrollView, can_focus=True):
    """The inbox as lines: ★/unread marks, age, who, title, tags and signals."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "item-list--cursor", "item-list--read", "item-list--unread", "item-list--star",
        "item-list--meta", "item-list--signal",
    }
    DEFAULT_CSS = """
    ItemList { background: $surface; }
    ItemList > .item-list--cursor { background: $accent 40%; text-style: bold; }
    ItemList:focus > .item-list--cursor { background: $accent; color: $text; }
    ItemList > .item-list--read { color: $text-muted; }
    ItemList > .item-list--unread { text-style: bold; }
    ItemList > .item-list--star { color: $warning; }
    ItemList > .item-list--meta { color: $text-muted; }
    ItemList > .item-list--signal { color: $secondary; }
    """

    class Highlighted(Message):
        """The cursor moved to another item (``item`` is None when the list is empty)."""

        def __init__(self, item: ItemRow | None, index: int) -> None:
            super().__init__()
            self.item = item
            self.index = index

    def __init__(self, *, labels: dict[str, str] | None = None,
                 clock: Callable[[], datetime] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items: list[ItemRow] = []
        self.cursor = 0
        self.labels = labels or {}
        self.clock = clock or (lambda: datetime.now(UTC))
        self.now = self.clock()
        self._index: dict[str, int] | None = None
        self._strips: dict[tuple[Any, ...], Strip] = {}
        self.on_highlight: Callable[[ItemRow | None, int], None] | None = None

    # ----- data -------------------------------------------------------------------------

    def set_items(self, items: list[ItemRow], *, keep: str | None = None) -> None:
        """Show ``items``; the cursor stays on the item ``keep`` (an id) if it is still
        there, else on the same row."""
        self.items = items
        self._index = None
        self.now = self.clock()
        if keep is not None and (i := self.index_of(keep)) is not None:
            self.cursor = i
        self.cursor = max(0, min(self.cursor, len(items) - 1))
        self.virtual_size = Size(self.size.width, len(items))
        self.refresh()
        self._announce()

    def extend(self, more: list[ItemRow]) -> None:
        """Add items at the end (a listing still loading); the cursor does not move."""
        if not more:
            return
        first = not self.items
        self.items.extend(more)
        self._index = None
        self.virtual_size = Size(self.size.width, len(self.items))
        self.refresh()
        if first:
            self._announce()

    def index_of(self, item_id: str) -> int | None:
        if self._index is None:
            self._index = {it.id: n for n, it in enumerate(self.items)}
        return self._index.get(item_id)

    @property
    def current(self) -> ItemRow | None:
        return self.items[self.cursor] if self.items else None

    def update_item(self, item: ItemRow) -> None:
        """Replace an item (new flags) where it is listed."""
        i = self.index_of(item.id)
        if i is not None:
            self.items[i] = item
            self.refresh_line(i - self.scroll_offset.y)

    def set_flags(self, item_id: str, **flags: bool) -> ItemRow | None:
        """The listed item with new flags (None if it is not listed)."""
        i = self.index_of(item_id)
        if i is None:
            return None
        item = replace(self.items[i], **flags)  # type: ignore[arg-type]
        self.update_item(item)
        return item

    # ----- moving -----------------------------------------------------------------------

    def move_to(self, index: int) -> None:
        if not self.items:
            return
        index = max(0, min(index, len(self.items) - 1))
        if index == self.cursor:
            return
        old, self.cursor = self.cursor, index
        self.refresh_line(old - self.scroll_offset.y)
        self.refresh_line(index - self.scroll_offset.y)
        self.scroll_to_cursor()
        self._announce()

    def scroll_to_cursor(self) -> None:
        top, height = self.scroll_offset.y, self.scrollable_content_region.height or 1
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def next_unread(self) -> bool:
        """Move to the next unread item after the cursor; False if there is none."""
        for i in range(self.cursor + 1, len(self.items)):
            if not self.items[i].read:
                self.move_to(i)
                return True
        return False

    def _announce(self) -> None:
        if self.on_highlight is not None:  # at once: the cursor and the pane in one frame
            self.on_highlight(self.current, self.cursor)
        else:
            self.post_message(self.Highlighted(self.current, self.cursor))

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.items))
        self.scroll_to_cursor()

    def on_click(self, event: Any) -> None:
        self.focus()
        self.move_to(self.scroll_offset.y + event.y)

    # ----- drawing ----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if index >= len(self.items):
            return Strip.blank(width, self.rich_style)
        row = self.items[index]
        # a row is drawn again only when it, the cursor on it, the width or the theme change
        key = (row, index == self.cursor, width, self.has_focus, self.app.theme, self.now)
        strip = self._strips.get(key)
        if strip is None:
            base = self.rich_style
            if index == self.cursor:
                base = base + self.get_component_rich_style("item-list--cursor")
            segments = list(self._line(row, width).render(self.app.console))
            strip = Strip(segments).apply_style(base).adjust_cell_length(width, base)
            if len(self._strips) > 4000:
                self._strips.clear()
            self._strips[key] = strip
        return strip

    def _line(self, it: ItemRow, width: int) -> Text:
        read = self.get_component_rich_style("item-list--read")
        meta = self.get_component_rich_style("item-list--meta")
        signal = self.get_component_rich_style("item-list--signal")
        star = self.get_component_rich_style("item-list--star")
        style = read if it.read else self.get_component_rich_style("item-list--unread")
        who_w = max(8, min(22, width // 5))
        t = Text(no_wrap=True, overflow="ellipsis", end="")
        t.append("★" if it.starred else " ", star)
        t.append("•" if not it.read else " ", style)
        t.append(f"{age(it.published, self.now):>4} ", meta)
        who = clean(it.who(self.labels), oneline=True)
        t.append(_fit(who, who_w) + " ", meta if it.read else Style())
        signals = Text(end="")
        if it.cw:
            signals.append(" CW", signal)
        if it.shared:
            signals.append(f" shared by {it.shared}", signal)
        if it.boosts:
            signals.append(f" ↻{it.boosts}", signal)
        room = width - t.cell_len - signals.cell_len
        if it.tags:  # when the title keeps 30 cells at least
            tags = " " + " ".join(f"#{clean(x, oneline=True)}" for x in it.tags[:3])
            if room - len(tags) >= 30:
                signals.append(tags, meta)
                room -= len(tags)
        title = clean(it.title, oneline=True)
        t.append(_fit(title, max(10, room)), style)
        t.append_text(signals)
        t.truncate(width, overflow="ellipsis")
        return t


def _fit(text: str, width: int) -> str:
    """``text`` cut or padded to ``width`` cells."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) > width:
        return set_cell_size(text, max(0, width - 1)) + "…"
    return set_cell_size(text, width)


__all__ = ["ItemList", "age"]
