"""A table drawn as aligned lines of text, a row a line; new rows repaint only the lines changed.

The pack station's checklist and parcels change one row a scan (a unit ticked, a parcel's
count). As a ``Static`` the whole table was turned into Textual's content and every line of it
drawn again on each scan; here each line is drawn on its own and kept, and a scan redraws the
lines whose text or style changed (a row count that changes, or a new width, draws them all).
"""

from __future__ import annotations

from rich.segment import Segment
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.visual import VisualType
from textual.widgets import Static

__all__ = ["TableLines"]


def _key(line: Text) -> tuple[object, ...]:
    """What a line looks like: its text, its style and its styled spans."""
    return (line.plain, str(line.style), tuple(line.spans))


class TableLines(Static):
    """Lines that never wrap (a long one is cut short with "…"); its height is its line count.

    ``content`` is the whole table as one ``Text`` (what the screen's text and the tests read).
    """

    DEFAULT_CSS = "TableLines { height: auto; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._lines: list[Text] = []
        self._keys: list[tuple[object, ...]] = []
        self._strips: dict[int, Strip] = {}
        self._strips_width = -1
        self._joined: Text | None = Text()
        #: Lines drawn since mounted (for tests: a scan that changes one row draws one line).
        self.lines_drawn = 0

    @property
    def content(self) -> Text:
        if self._joined is None:
            self._joined = Text("\n", end="").join(self._lines)
        return self._joined

    @content.setter
    def content(self, content: VisualType) -> None:
        text = content if isinstance(content, Text) else Text(str(content))
        self.show_lines(list(text.split("\n", allow_blank=True)))

    @property
    def lines(self) -> list[Text]:
        return list(self._lines)

    def show_lines(self, lines: list[Text]) -> None:
        """Show ``lines``; only those that differ from the lines shown are drawn again."""
        keys = [_key(line) for line in lines]
        old = self._keys
        self._lines, self._keys, self._joined = list(lines), keys, None
        if len(keys) != len(old):
            self._strips.clear()
            if self.styles.height is None or self.styles.height.value != len(keys):
                self.styles.height = len(keys)  # a row more or less: the screen lays out again
            self.refresh()
            return
        width = max(self.size.width, 1)
        for y, (before, now) in enumerate(zip(old, keys, strict=True)):
            if before != now:
                self._strips.pop(y, None)
                self.refresh(Region(0, y, width, 1))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if width != self._strips_width:
            self._strips.clear()
            self._strips_width = width
        strip = self._strips.get(y)
        if strip is None:
            strip = self._draw(y, width)
            self._strips[y] = strip
        return strip

    def _draw(self, y: int, width: int) -> Strip:
        base = self.visual_style.rich_style
        if y >= len(self._lines) or width <= 0:
            return Strip.blank(max(width, 0), base)
        line = self._lines[y]
        if line.cell_len > width:
            line = line.copy()
            line.truncate(width, overflow="ellipsis")
        segments = Segment.apply_style(line.render(self.app.console, end=""), base)
        self.lines_drawn += 1
        return Strip(segments).adjust_cell_length(width, base)
