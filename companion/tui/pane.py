"""The reading pane: a rich Text drawn through Textual's line API.

A ``Static`` in a scroll container would lay the whole screen out again for every item
shown; this pane renders its text into lines once per width and draws only the lines on
screen (issue 15: moving to the next item and rendering it in ≤ 50 ms on 100,000 items).
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class ReadingPane(ScrollView):
    """Scrollable text, wrapped to the pane's width."""

    DEFAULT_CSS = """
    ReadingPane { background: $surface; overflow-y: scroll; overflow-x: hidden; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = Text()
        self._lines: list[Strip] = []
        self._blank = Strip.blank(0)
        self._width: Any = None

    def show(self, text: Text) -> None:
        """Show ``text`` from its top."""
        self.text = text
        self._width = None
        self._layout()
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    @property
    def plain(self) -> str:
        return self.text.plain

    def _layout(self) -> None:
        width = max(1, self.scrollable_content_region.width - 2)  # (a cell each side)
        key = (width, self.app.theme)
        if key == self._width:
            return
        self._width = key
        console = self.app.console
        options = console.options.update_width(width).update(highlight=False)
        lines = console.render_lines(self.text, options, pad=False)
        style = self.rich_style  # (costly to look up: once per text, not once per line)
        self._lines = [Strip([Segment(" "), *line]).apply_style(style)
                       .adjust_cell_length(width + 2, style) for line in lines]
        self._blank = Strip.blank(width + 2, style)
        if self.virtual_size != (size := Size(width + 2, len(self._lines))):
            # Not through the reactive, which lays the whole screen out again: the
            # scrollbar is always there (overflow-y: scroll), so nothing else moves.
            self.set_reactive(ReadingPane.virtual_size, size)
            self._scroll_update(size)

    def on_resize(self) -> None:
        self._layout()

    def render_line(self, y: int) -> Strip:
        self._layout()
        index = self.scroll_offset.y + y
        return self._lines[index] if index < len(self._lines) else self._blank
