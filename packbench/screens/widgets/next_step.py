"""The next-step line: what the person at the station does now, pinned above the scan bar.

It is never scrolled away or pushed below the fold: on an 80×24 terminal the pack station's
box and weight prompt sat at the bottom of the order's view and was never seen. One or two
lines (it wraps on a narrow terminal); its height is measured here when the words change, so
a new step that takes as many lines as the last one redraws the line and lays nothing out.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.geometry import Size
from textual.widgets import Static

__all__ = ["NextStep"]


class NextStep(Static):
    """The station's next step, bold; hidden while there is none."""

    DEFAULT_CSS = """
    NextStep { height: 1; padding: 0 1; background: $boost; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._shown: str | None = None
        self._width = 0

    @property
    def text(self) -> str:
        """What the line says, as plain text."""
        content = self.content
        return content.plain if isinstance(content, Text) else str(content)

    def show(self, step: RenderableType | str) -> None:
        """Show ``step`` (a string is shown as it is, never read as markup)."""
        content = Text(step, style="bold cyan") if isinstance(step, str) else step
        key = content.plain if isinstance(content, Text) else repr(content)
        if key == self._shown:
            return
        self._shown = key
        self.update(content, layout=False)
        self._fit()

    def _fit(self) -> None:
        empty = not self._shown
        if self.display == empty:
            self.display = not empty
        width = self.content_size.width
        if empty or width <= 0:
            return  # not laid out yet: on_resize fits it
        size = Size(width, 10)
        lines = max(1, self.get_content_height(size, size, width))
        if self.styles.height is None or self.styles.height.value != lines:
            self.styles.height = lines  # a line more or less: the screen lays out again

    def on_resize(self) -> None:
        if self.content_size.width != self._width:
            self._width = self.content_size.width
            self._fit()
