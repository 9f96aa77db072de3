"""The key bar: the keys that work on this screen, on one line at the bottom.

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
    """The keys of the screen it is on: key in bold, then what it does. Disabled keys are dim."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-description-foreground;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        #: (first cell, cell after the last, key) of every key shown, for clicks.
        self.spans: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:  # type: ignore[type-arg]
        if screen is not self.screen:
            return
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        spans: list[tuple[int, int, str]] = []
        seen: set[str] = set()
        for _node, binding, enabled, _tooltip in screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            start = text.cell_len
            key = f" {_pretty(self.app.get_key_display(binding))} "
            text.append(key, style="bold" if enabled else "dim")
            text.append(f"{binding.description} ", style="" if enabled else "dim")
            spans.append(
                (start, start + cell_len(key) + cell_len(binding.description) + 1, binding.key)
            )
        self.spans = spans
        self.update(text, layout=False)

    @property
    def text(self) -> str:
        """What the bar shows, as plain text."""
        content = self.content
        return content.plain if isinstance(content, Text) else str(content)

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self.spans:
            if start <= event.x < end:
                event.stop()
                self.app.simulate_key(key)
                return
