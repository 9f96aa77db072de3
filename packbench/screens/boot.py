"""The first frame while the station loads (#20).

The command line starts the app before the database is open: SQLAlchemy, the tables, the
operations and the station's screen load in a worker, and this screen is what the terminal
shows meanwhile — packbench's name, the station it opens and that it is opening it. It imports
nothing of the database. A scanner may already be sending: every key it receives is kept, line
by line (Enter ends a scan), and the app gives them to the station, in order, once it is there.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from packbench.config import STATIONS


class BootScreen(Screen[None]):
    DEFAULT_CSS: ClassVar[str] = """
    BootScreen { align: center middle; }
    BootScreen > #boot-title { width: auto; text-style: bold; }
    BootScreen > #boot-line { width: auto; color: $text-muted; }
    """

    def __init__(self, station: str) -> None:
        super().__init__()
        self.station = station if station in STATIONS else "admin"
        self._lines: list[str] = []
        self._current: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("packbench", id="boot-title")
        name = "admin" if self.station == "dashboard" else self.station
        yield Static(f"Opening the {name} station…", id="boot-line")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        if event.key == "enter":
            self._lines.append("".join(self._current))
            self._current.clear()
        elif event.character is not None and event.is_printable:
            self._current.append(event.character)

    def typed(self) -> tuple[list[str], str]:
        """What was typed here: the scans (each ended by Enter), and what follows the last."""
        return [line for line in self._lines if line], "".join(self._current)
