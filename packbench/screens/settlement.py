"""The supervisor's view of the money (F11 on the dashboard): what the payment providers paid
out this week, completed orders not settled after N days, lines no order explains, and the
clearing account's balance in words. Enter (or F12) on an open item opens that order's history.

The ledger is read in a thread worker; the screen shows plain dataclasses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from packbench.operations.ledger import Ledger, clearing_ledger, kr
from packbench.screens.latest import latest_only
from packbench.screens.plain import cells, plain
from packbench.screens.widgets.table import SizedTable

if TYPE_CHECKING:
    from packbench.app import PackbenchApp


class SettlementView(ModalScreen[None]):
    """Esc closes; Enter (the table's own) or F12 opens the selected order's history; Ctrl+R
    reads the ledger again."""

    BINDINGS: ClassVar = [
        Binding("escape", "dismiss", "Close"),
        Binding("f12", "history", "Order history", id="settlement.history"),
        Binding("ctrl+r", "reload", "Refresh", id="settlement.reload"),
    ]

    DEFAULT_CSS = """
    SettlementView { align: center middle; }
    SettlementView > Vertical {
        width: 95%; height: 92%; background: $surface; border: thick $primary; padding: 0 1;
    }
    SettlementView #settlement-title { height: auto; text-style: bold; }
    SettlementView #settlement-figures { height: auto; }
    SettlementView #settlement-open { height: 1fr; min-height: 6; }
    SettlementView VerticalScroll { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.ledger: Ledger | None = None

    @property
    def pb(self) -> PackbenchApp:
        return self.app  # type: ignore[return-value]  # Textual types self.app as App: here it is PackbenchApp

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Settlement — reading the clearing account…", id="settlement-title")
            yield Static("", id="settlement-figures")
            table: DataTable[str] = SizedTable(id="settlement-open", cursor_type="row")
            table.add_columns("Order", "Provider", "Invoiced", "Paid out", "Open", "Days", "Why")
            yield table
            with VerticalScroll():
                yield Static("", id="settlement-rest")

    def on_mount(self) -> None:
        self._load()

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="settlement", exit_on_error=False)
    def _load(self) -> None:
        ledger = clearing_ledger(self.pb.db, self.pb.settings)
        self.app.call_from_thread(latest_only, get_current_worker(), self._show, ledger)

    def _show(self, ledger: Ledger) -> None:
        self.ledger = ledger
        days = self.pb.settings.settlement.unsettled_after_days
        self.query_one("#settlement-title", Static).update(
            plain(f"Settlement — account {ledger.account}: balance {kr(ledger.balance_ore)}")
        )
        loose = [u for u in ledger.unmatched if u.kind != "payout"]
        gaps = [u for u in ledger.unmatched if u.kind == "payout"]
        figures = (
            f"Paid out this week: {kr(ledger.paid_this_week_ore)}   "
            f"Completed but not settled after {days} days: {ledger.late_orders}   "
            f"Lines no order explains: {len(loose)}   Payouts that do not add up: {len(gaps)}\n"
            f"{ledger.explanation}"
        )
        self.query_one("#settlement-figures", Static).update(plain(figures))
        table = self.query_one("#settlement-open", DataTable)
        table.clear()
        table.focus()
        for item in ledger.open_items:
            table.add_row(
                *cells(
                    item.order,
                    item.provider or "—",
                    kr(item.invoiced_ore),
                    kr(item.paid_out_ore),
                    kr(item.open_ore),
                    f"{item.age_days}{' late' if item.late else ''}",
                    item.explanation,
                ),
                key=str(item.order_id),
            )
        payouts = Table("Provider", "Payout", "Date", "Captured", "Refunds", "Fees", "To bank",
                        title="Payouts", title_justify="left", expand=True)  # fmt: skip
        for p in ledger.payouts:
            payouts.add_row(
                *cells(
                    p.provider,
                    p.payout_id or "not yet",
                    p.date,
                    kr(p.captured_ore),
                    kr(-p.refunded_ore),
                    kr(-p.fees_ore),
                    kr(p.to_bank_ore) if p.paid else "—",
                )
            )
        parts: list[RenderableType] = [payouts]
        if ledger.unmatched:
            parts.append(plain("Not explained by any order", style="bold"))
            parts += [plain(f"  {u.explanation}", style="yellow") for u in ledger.unmatched]
        self.query_one("#settlement-rest", Static).update(Group(*parts))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self._open(event.row_key.value)

    def action_history(self) -> None:
        table = self.query_one("#settlement-open", DataTable)
        if table.row_count:
            self._open(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _open(self, key: str | None) -> None:
        from packbench.screens.audit import AuditTrail

        if key:
            self.app.push_screen(AuditTrail(order_id=int(key)))
