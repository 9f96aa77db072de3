"""The supervisor's dashboard: the whole bench at once, refreshed without piling up."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import DataTable, Static

from packbench.operations.common import Refused
from packbench.operations.outbox import OutboxView, discard_parked, list_items, retry_parked
from packbench.operations.supervisor import StatusRow, overview
from packbench.screens.base import StationScreen
from packbench.screens.dialogs import AskReason

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

    BINDINGS: ClassVar = [
        *StationScreen.BINDINGS,
        Binding("ctrl+y", "retry_parked", "Retry parked", id="dashboard.retry"),
        Binding("ctrl+b", "discard_parked", "Discard parked", id="dashboard.discard"),
    ]

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="station-main"):
            yield Static("", id="states")
            yield Static(
                "Waiting for the shop (↑/↓ to choose; Ctrl+Y retry, Ctrl+B discard)",
                classes="section-title",
            )
            table: DataTable[str] = DataTable(id="outbox", cursor_type="row", zebra_stripes=True)
            yield table

    def on_mount(self) -> None:
        self.rows: list[StatusRow] = []
        self.outbox: list[OutboxView] = []
        self._next: Timer | None = None
        self.query_one("#outbox", DataTable).add_columns(
            "#", "Order", "Change", "State", "Tries", "Last error"
        )

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
        outbox = list_items(self.pb.db)
        self.app.call_from_thread(self._show, rows, outbox)

    def _show(self, rows: list[StatusRow], outbox: list[OutboxView] | None = None) -> None:
        self.rows = rows
        if outbox is not None:
            self._show_outbox(outbox)
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

    def _show_outbox(self, items: list[OutboxView]) -> None:
        table = self.query_one("#outbox", DataTable)
        chosen = self._chosen_item()
        self.outbox = items
        table.clear()
        for item in items:
            state = Text(item.status, style="bold red" if item.status == "parked" else "")
            table.add_row(
                str(item.id),
                item.order_number or "—",
                item.kind,
                state,
                str(item.attempts),
                (item.last_error or "")[:80],
                key=str(item.id),
            )
        if chosen is not None and str(chosen) in table.rows:
            table.move_cursor(row=table.get_row_index(str(chosen)))

    def _chosen_item(self) -> int | None:
        table = self.query_one("#outbox", DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key((table.cursor_row, 0))
        return int(row_key.value) if row_key.value is not None else None

    def action_cursor(self, direction: str) -> None:
        table = self.query_one("#outbox", DataTable)
        if direction == "up":
            table.action_cursor_up()
        else:
            table.action_cursor_down()

    def action_retry_parked(self) -> None:
        item = self._chosen_item()
        if item is None:
            self.pb.feedback("error", "Nothing is waiting for the shop.")
            return
        self._act(item, None)

    def action_discard_parked(self) -> None:
        item = self._chosen_item()
        if item is None:
            self.pb.feedback("error", "Nothing is waiting for the shop.")
            return

        def done(reason: str | None) -> None:
            if reason:
                self._act(item, reason)

        self.app.push_screen(AskReason(f"Why discard outbox item {item}?"), done)

    @work(thread=True, group="dashboard-act", exit_on_error=False)
    def _act(self, item_id: int, discard_reason: str | None) -> None:
        try:
            if discard_reason is None:
                retry_parked(self.pb.db, self.pb.actor, item_id)
                message = f"Outbox item {item_id} will be sent again."
            else:
                discard_parked(self.pb.db, self.pb.actor, item_id, discard_reason)
                message = f"Outbox item {item_id} discarded."
        except Refused as exc:
            self.app.call_from_thread(self.pb.feedback, "error", exc.message)
            return
        self.app.call_from_thread(self.pb.feedback, "ok", message)
        self.app.call_from_thread(self._poll)
