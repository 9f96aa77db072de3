"""The key bar: the keys that work on this screen, at the bottom (one line when they fit).

What Textual's ``Footer`` shows, drawn differently: the ``Footer`` mounts one widget per key and
rebuilds them all whenever the screen's bindings change (focus moves, a screen opens). On the
pack station that cost 0.6 s of the app's start (measured with cProfile: about 17 rebuilds of
7–10 key widgets, each restyled) and a rebuild on every later change. The key bar is one line of
text, redrawn in well under a millisecond. A click on a key presses it, as with the ``Footer``.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widgets import Static

__all__ = ["KeyBar"]


def _pretty(display: str) -> str:
    """``f7`` → ``F7``, ``^f`` → ``^F``: function keys as they are printed on the keyboard."""
    if display[:1] == "f" and display[1:].isdigit():
        return display.upper()
    if display.startswith("^") and len(display) == 2:
        return display.upper()
    return display


class KeyBar(Static):
    """The keys of the screen it is on: key in bold, then what it does. Disabled keys are dim.

    One line when they fit, else up to ``MAX_LINES`` lines, broken between keys: on an 80 or
    120 column terminal the station keys (F1–F6, after the screen's own) used to be cut off.
    A short terminal sets :attr:`max_lines` to 2: its last keys (sign out, test scan, print
    history) give their line to the station's view and stay in the command palette (Ctrl+P).
    """

    MAX_LINES = 3

    DEFAULT_CSS = """
    KeyBar {
        height: 1;
        background: $footer-background;
        color: $footer-description-foreground;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        #: (line, first cell, cell after the last, key) of every key shown, for clicks.
        self.spans: list[tuple[int, int, int, str]] = []
        self._keys: list[tuple[str, str, bool, str]] = []
        self._width = 0
        self._max_lines = self.MAX_LINES

    @property
    def max_lines(self) -> int:
        return self._max_lines

    @max_lines.setter
    def max_lines(self, value: int) -> None:
        if value != self._max_lines:
            self._max_lines = value
            if self.is_mounted:
                self._lay_out()

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def on_resize(self) -> None:
        if self.size.width != self._width:
            self._width = self.size.width
            self._lay_out()

    def _bindings_changed(self, screen: Screen) -> None:  # type: ignore[type-arg]  # Textual's Screen generic
        if screen is not self.screen:
            return
        keys: list[tuple[str, str, bool, str]] = []
        seen: set[str] = set()
        for _node, binding, enabled, _tooltip in screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            shown = f" {_pretty(self.app.get_key_display(binding))} "
            keys.append((shown, f"{binding.description} ", enabled, binding.key))
        if keys != self._keys:
            self._keys = keys
            self._lay_out()

    def _lay_out(self) -> None:
        width = self.size.width or 10_000  # not laid out yet: one line, until the first resize
        lines = [Text(no_wrap=True, overflow="ellipsis", end="")]
        spans: list[tuple[int, int, int, str]] = []
        for shown, description, enabled, key in self._keys:
            cells = cell_len(shown) + cell_len(description)
            if lines[-1].cell_len and lines[-1].cell_len + cells > width:
                if len(lines) == self._max_lines:
                    break  # the rest would not fit: the last line ends with the last whole key
                lines.append(Text(no_wrap=True, overflow="ellipsis", end=""))
            line = lines[-1]
            start = line.cell_len
            line.append(shown, style="bold" if enabled else "dim")
            line.append(description, style="" if enabled else "dim")
            spans.append((len(lines) - 1, start, start + cells, key))
        self.spans = spans
        if self.styles.height is None or self.styles.height.value != len(lines):
            self.styles.height = len(lines)  # a line more or less: the screen lays out again
        self.update(Text("\n", end="").join(lines), layout=False)

    @property
    def text(self) -> str:
        """What the bar shows, as plain text (its lines joined by newlines)."""
        content = self.content
        return content.plain if isinstance(content, Text) else str(content)

    def on_click(self, event: events.Click) -> None:
        for line, start, end, key in self.spans:
            if line == event.y and start <= event.x < end:
                event.stop()
                self.app.simulate_key(key)
                return
