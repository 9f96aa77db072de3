"""Station 1, admin: the shop's web orders — overview, filters, search, detail, slip queue."""

from __future__ import annotations

import logging
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input, Select, Static
from textual.worker import get_current_worker

from packbench.core.codes import CodeKind, classify
from packbench.core.workflow import OrderStatus
from packbench.operations.common import Refused
from packbench.operations.intake import clear_flag
from packbench.operations.orders import list_orders, order_detail, slip_queue, status_counts
from packbench.operations.printing import print_new_slips
from packbench.operations.scans import ScanOutcome
from packbench.operations.views import OrderDetail, OrderSummary
from packbench.screens.base import StationScreen
from packbench.screens.dialogs import AskReason
from packbench.screens.latest import latest_only
from packbench.screens.plain import cells, plain
from packbench.screens.widgets.order_panel import OrderPanel
from packbench.screens.widgets.table import SizedTable

log = logging.getLogger(__name__)

ALL = "all"
OPEN_WORK = "open"
_OPEN = [s.value for s in OrderStatus if s not in (OrderStatus.HANDED_OVER, OrderStatus.CANCELLED)]


def _filter_options() -> list[tuple[str, str]]:
    return [
        ("All orders", ALL),
        ("Open work (not handed over or cancelled)", OPEN_WORK),
        *((f"{s.label}", s.value) for s in OrderStatus),
    ]


class AdminScreen(StationScreen):
    STATION = "admin"
    TITLE_TEXT = "① Admin — order overview"

    BINDINGS: ClassVar = [
        *StationScreen.BINDINGS,
        Binding("ctrl+f", "focus_search", "Search", id="admin.search"),
        Binding("ctrl+l", "focus_filter", "Status filter", id="admin.filter"),
        Binding("ctrl+g", "slip_queue", "Slip queue", id="admin.slip_queue"),
        Binding("ctrl+r", "reload", "Refresh", id="admin.reload"),
        Binding("f7", "print_slips", "Print new slips", id="admin.print_slips"),
        Binding("f11", "print_slip", "Print this slip", id="admin.print_slip"),
        Binding("ctrl+s", "mark_printed", "Mark printed", id="admin.mark_printed"),
        Binding("f8", "clear_flag", "Decide flag", id="admin.clear_flag"),
        Binding("f12", "history", "History", id="admin.history"),
        Binding("f10", "slotting", "Slotting", id="admin.slotting"),  # #5
        Binding("escape", "back_to_scan", "Back to scan", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.status_filter: str = ALL
        self.search_text: str = ""
        self.rows: list[OrderSummary] = []
        self.current: OrderDetail | None = None
        self.selected_id: int | None = None  # the order the person last chose or scanned
        self.loads = 0  # how many times the list was (re)loaded; tests wait on it
        self.slips_waiting = 0  # orders whose packing slip F7 would print

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="admin-body"):
            with Vertical(id="admin-left"):
                yield Static("", id="slip-queue")
                with Horizontal(id="admin-filters"):
                    yield Select(
                        _filter_options(), value=ALL, allow_blank=False, id="status-filter"
                    )
                    yield Input(placeholder="Search: number, name, city, SKU…", id="search")
                yield Static("", id="counts")
                table: DataTable[Text] = SizedTable(
                    id="orders", cursor_type="row", zebra_stripes=True
                )
                yield table
            with VerticalScroll(id="admin-detail"):
                yield OrderPanel(hint="Pick an order with ↑/↓, or scan its packing slip.")

    def on_mount(self) -> None:
        table = self.query_one("#orders", DataTable)
        table.add_columns("Order", "Status", "Ordered", "Customer", "City", "Lines", "Method", "!")
        self.refresh_data()

    def ready_prompt(self) -> str:
        return "Scan a packing slip or parcel label to open it; ↑/↓ browse; Ctrl+F search."

    def next_step(self) -> str:
        waiting = self.slips_waiting
        if waiting:
            slips = "1 new order's packing slip" if waiting == 1 else f"{waiting} new orders' slips"
            return f"F7 prints the {slips}; scan a slip or ↑/↓ to open an order."
        return self.ready_prompt()

    # -- loading ----------------------------------------------------------------------------
    def refresh_data(self) -> None:
        self._load(self.status_filter, self.search_text)

    @work(thread=True, exclusive=True, group="admin-list", exit_on_error=False)
    def _load(self, status_filter: str, search: str) -> None:
        db = self.pb.db
        if status_filter == ALL:
            statuses = None
        elif status_filter == OPEN_WORK:
            statuses = _OPEN
        else:
            statuses = [status_filter]
        oldest_first = status_filter == OrderStatus.NEW.value
        rows = list_orders(db, statuses=statuses, search=search or None, oldest_first=oldest_first)
        counts = status_counts(db)
        queue = slip_queue(db, limit=1000)
        self.app.call_from_thread(
            latest_only, get_current_worker(), self._populate, rows, counts, queue
        )

    def _populate(
        self, rows: list[OrderSummary], counts: dict[str, int], queue: list[OrderSummary]
    ) -> None:
        table = self.query_one("#orders", DataTable)
        keep = self.selected_id
        table.clear()
        self.rows = rows
        for o in rows:
            marks = ("⚠" if o.flag else "") + ("✎" if o.has_note else "")
            # Cells as plain Text: a customer's name is the shop's, never markup or emoji codes.
            table.add_row(
                *cells(
                    o.number,
                    o.status_label,
                    o.created_at.astimezone().strftime("%d.%m %H:%M"),
                    o.customer,
                    o.city,
                    str(o.lines),
                    o.shipping_method,
                    marks,
                ),
                key=str(o.id),
            )
        if keep is not None and any(o.id == keep for o in rows):
            table.move_cursor(row=table.get_row_index(str(keep)))
        parts = [f"{OrderStatus(s).label}: {n}" for s, n in counts.items() if n]
        shown = f"{len(rows)} shown" + (f" for “{self.search_text}”" if self.search_text else "")
        self.query_one("#counts", Static).update(plain(" · ".join(parts) + f"   [{shown}]"))
        if queue:
            oldest = queue[0]
            age = oldest.created_at.astimezone().strftime("%d.%m %H:%M")
            text = (
                f"📄 Waiting for packing slips: {len(queue)} — oldest {oldest.number} "
                f"({age}). Ctrl+G shows the queue."
            )
        else:
            text = "📄 No orders waiting for packing slips."
        self.query_one("#slip-queue", Static).update(plain(text))
        self.slips_waiting = len(queue)
        self.show_next()
        if self.selected_id is not None:
            # The open order's detail follows the list: after F7 the list said "Slip printed"
            # while the detail still said "New".
            self._load_detail(self.selected_id)
        self.loads += 1

    @work(thread=True, exclusive=True, group="admin-detail", exit_on_error=False)
    def _load_detail(self, order_id: int) -> None:
        detail = order_detail(self.pb.db, order_id)
        self.app.call_from_thread(latest_only, get_current_worker(), self._show_detail, detail)

    def _show_detail(self, detail: OrderDetail | None) -> None:
        # A cancelled thread worker still finishes: show only the order last asked for.
        if detail is not None and detail.summary.id != self.selected_id:
            return
        self.current = detail
        self.query_one(OrderPanel).show(detail)

    # -- actions ----------------------------------------------------------------------------
    def open_order(self, order_id: int) -> None:
        self.selected_id = order_id
        table = self.query_one("#orders", DataTable)
        if str(order_id) in table.rows:
            table.move_cursor(row=table.get_row_index(str(order_id)))
        self._load_detail(order_id)

    @on(DataTable.RowHighlighted, "#orders")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Use where the cursor is now, not where the event says: a highlight message from an
        # earlier move can arrive after a scan already opened (and moved to) another order.
        table = event.data_table
        if table.row_count == 0:
            return
        row_key, _ = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0))
        if row_key.value is None:
            return
        order_id = int(row_key.value)
        if order_id != self.selected_id or self.current is None:
            self.selected_id = order_id
            self._load_detail(order_id)

    def action_cursor(self, direction: str) -> None:
        table = self.query_one("#orders", DataTable)
        if direction == "up":
            table.action_cursor_up()
        else:
            table.action_cursor_down()

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_focus_filter(self) -> None:
        self.query_one("#status-filter", Select).focus()

    def action_back_to_scan(self) -> None:
        self.scanbar.focus()

    def action_reload(self) -> None:
        self.refresh_data()

    def action_history(self) -> None:
        """The full audit trail of the chosen order (or ask for one)."""
        from packbench.screens.audit import AuditTrail

        self.app.push_screen(AuditTrail(order_id=self.selected_id))

    def action_slotting(self) -> None:
        """Slotting advice (#5): what to move where, measured on the order history."""
        from packbench.screens.slotting import SlottingView

        self.app.push_screen(SlottingView())

    def action_print_slips(self) -> None:
        """One key: every new order's packing slip, as one print job."""
        if not self.pb.actor.signed_in:
            self.pb.feedback("error", "Scan your badge first — printing is recorded by name.")
            return
        self.pb.feedback("info", "Printing packing slips…")
        self._print_slips()

    @work(thread=True, exclusive=True, group="admin-print", exit_on_error=False)
    def _print_slips(self) -> None:
        try:
            result = print_new_slips(self.pb.db, self.pb.actor, self.pb.settings)
        except Exception as exc:  # never "Printing packing slips…" for ever: say it failed
            log.exception("printing the new slips failed")
            message = f"Printing the slips failed: {exc} (details in the log)."
            self.app.call_from_thread(self.pb.feedback, "error", message)
            self.app.call_from_thread(self.refresh_data)
            return
        # Slips printed with an order left out still need the admin: an error, naming it.
        kind = "ok" if result.ok and not result.left_out else "error"
        self.app.call_from_thread(self.pb.feedback, kind, result.message)
        self.app.call_from_thread(self.refresh_data)

    def _chosen_order(self) -> tuple[int, str] | None:
        detail = self.current
        if detail is None or detail.summary.id != self.selected_id:
            self.pb.feedback("error", "Choose an order first (↑/↓ in the list, or scan its slip).")
            return None
        return detail.summary.id, detail.summary.number

    def action_print_slip(self) -> None:
        """The chosen order's slip, printed (or printed again) on this station's printer."""
        chosen = self._chosen_order()
        if chosen is None:
            return
        self.pb.feedback("info", f"Printing the slip of order {chosen[1]}…")
        self._print_one(chosen[0])

    @work(thread=True, exclusive=True, group="admin-print", exit_on_error=False)
    def _print_one(self, order_id: int) -> None:
        from packbench.operations.slips import print_order_slip

        try:
            result = print_order_slip(self.pb.db, self.pb.actor, self.pb.settings, order_id)
        except Exception as exc:  # never "Printing the slip…" for ever: say it failed
            log.exception("printing one slip failed")
            message = f"Printing the slip failed: {exc} (details in the log)."
            self.app.call_from_thread(self.pb.feedback, "error", message)
            return
        self.app.call_from_thread(self.pb.feedback, "ok" if result.ok else "error", result.message)
        self.app.call_from_thread(self.refresh_data)

    def action_mark_printed(self) -> None:
        """No printer works: a supervisor says the chosen order's slip exists, and why."""
        if not self.pb.actor.is_supervisor:
            self.pb.feedback(
                "error",
                "Only a supervisor marks a slip printed without a printer "
                "(their badge, then their PIN).",
            )
            return
        chosen = self._chosen_order()
        if chosen is None:
            return
        order_id, number = chosen

        def reason(text: str | None) -> None:
            if text:
                self._mark_printed(order_id, number, text)

        self.app.push_screen(
            AskReason(f"Order {number}: count its slip as printed without a printer. Why?"),
            reason,
        )

    @work(thread=True, group="admin-mark", exit_on_error=False)
    def _mark_printed(self, order_id: int, number: str, reason: str) -> None:
        from packbench.operations.slips import mark_slips_printed

        try:
            result = mark_slips_printed(self.pb.db, self.pb.actor, reason, order_numbers=[number])
        except Refused as exc:
            self.app.call_from_thread(self.pb.feedback, "error", exc.message)
            return
        self.app.call_from_thread(self.pb.feedback, "ok", result.message)
        self.app.call_from_thread(self.refresh_data)

    def action_clear_flag(self) -> None:
        """A supervisor decides about an order the shop changed or cancelled mid-work."""
        detail = self.current
        if detail is None or not detail.summary.flag:
            self.pb.feedback("error", "Open a flagged order first (⚠ in the list).")
            return
        if not self.pb.actor.is_supervisor:
            self.pb.feedback("error", "Only a supervisor decides about a flagged order.")
            return
        order_id, flag = detail.summary.id, detail.summary.flag

        def decided(decision: str | None) -> None:
            if decision:
                self._clear_flag(order_id, decision)

        self.app.push_screen(
            AskReason(f"Order {detail.summary.number}: {flag}. Decision?"), decided
        )

    @work(thread=True, group="admin-flag", exit_on_error=False)
    def _clear_flag(self, order_id: int, decision: str) -> None:
        try:
            clear_flag(self.pb.db, self.pb.actor, order_id, decision)
        except Refused as exc:
            self.app.call_from_thread(self.pb.feedback, "error", exc.message)
            return
        self.app.call_from_thread(self.pb.feedback, "ok", "Flag cleared; the decision is logged.")
        self.app.call_from_thread(self._load_detail, order_id)
        self.app.call_from_thread(self.refresh_data)

    def action_slip_queue(self) -> None:
        self.set_filter(OrderStatus.NEW.value)

    def set_filter(self, value: str) -> None:
        self.query_one("#status-filter", Select).value = value

    @on(Select.Changed, "#status-filter")
    def _filter_changed(self, event: Select.Changed) -> None:
        self.status_filter = str(event.value)
        self.refresh_data()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.search_text = event.value.strip()
        self.refresh_data()

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        """A slip scanned while the search box had focus still opens the order."""
        event.stop()
        scan = classify(event.value, self.pb.rules)
        if scan.kind in (CodeKind.ORDER, CodeKind.SSCC, CodeKind.TRACKING, CodeKind.BADGE):
            event.input.value = ""
            self.scanbar.focus()
            for ch in event.value:
                self.scanbar.feed(ch)
            self.scanbar.submit_current()
        else:
            self.scanbar.focus()

    def after_scan(self, outcome: ScanOutcome) -> None:
        super().after_scan(outcome)
        if outcome.ok and outcome.order_id is None:
            self.refresh_data()
