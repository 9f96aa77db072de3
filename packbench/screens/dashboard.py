"""The supervisor's dashboard: the whole bench at once, refreshed without piling up."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import Static

from packbench.operations.supervisor import StatusRow, overview
from packbench.screens.base import StationScreen

REFRESH_S = 2.0


def _age(then: datetime | None, now: datetime) -> str:
    if then is None:
        return ""
    minutes = int((now - then).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes // (24 * 60)} days"


class DashboardScreen(StationScreen):
    STATION = "dashboard"
    TITLE_TEXT = "Supervisor dashboard"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="station-main"):
            yield Static("", id="states")

    def on_mount(self) -> None:
        self.rows: list[StatusRow] = []
        self._next: Timer | None = None

    def on_screen_resume(self) -> None:
        self._poll()

    def on_screen_suspend(self) -> None:
        if self._next is not None:
            self._next.stop()
            self._next = None

    def ready_prompt(self) -> str:
        return "Scan an order's slip to see its history."

    @work(thread=True, exclusive=True, group="dashboard", exit_on_error=False)
    def _poll(self) -> None:
        rows = overview(self.pb.db)
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[StatusRow]) -> None:
        self.rows = rows
        now = datetime.now(UTC)
        table = Table(
            "State",
            "Orders",
            "Oldest",
            "Waiting",
            "For station",
            expand=True,
            title="Orders per state",
            title_justify="left",
        )
        for r in rows:
            style = "bold" if r.count else "dim"
            table.add_row(
                Text(r.label, style=style),
                str(r.count),
                r.oldest_number or "",
                _age(r.oldest_at, now),
                r.station or "",
            )
        self.query_one("#states", Static).update(table)
        # The next poll is scheduled only after this one has been shown, and only one chain
        # of polls exists: refreshes never pile up, and a hidden dashboard does not poll.
        if self._next is not None:
            self._next.stop()
        self._next = self.set_timer(REFRESH_S, self._poll) if self.is_current else None
