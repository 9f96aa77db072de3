"""The audit trail of one order: every scan, action, print and sync, oldest first.

Opened from the admin station and the dashboard; the order is found by scanning its slip or a
parcel label, or by typing its number, into the field at the top.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static
from textual.worker import get_current_worker

from packbench.operations.audit import AuditEntry, OrderHistory, history_of, order_history
from packbench.screens.latest import latest_only
from packbench.screens.plain import cells, plain
from packbench.screens.widgets.table import SizedTable

if TYPE_CHECKING:
    from packbench.app import PackbenchApp

_SKIP = {"kind", "from", "action"}


def _detail_text(entry: AuditEntry) -> str:
    parts = [entry.message]
    for key, value in sorted(entry.details.items()):
        if key in _SKIP or value in (None, "", [], {}):
            continue
        parts.append(f"{key}={value}")
    return "  ".join(p for p in parts if p)


class AuditTrail(ModalScreen[None]):
    """An order's full history. Esc closes; scan or type another order to switch."""

    BINDINGS: ClassVar = [Binding("escape", "dismiss", "Close")]

    DEFAULT_CSS = """
    AuditTrail > Vertical { width: 95%; height: 90%; background: $surface; border: thick $primary; }
    AuditTrail #audit-title { height: auto; padding: 0 1; text-style: bold; }
    AuditTrail #audit-ref { margin: 0 1; }
    AuditTrail DataTable { height: 1fr; }
    """

    def __init__(self, ref: str | None = None, *, order_id: int | None = None) -> None:
        super().__init__()
        self.ref = ref if ref is not None else (f"#{order_id}" if order_id is not None else None)
        self.order_id = order_id
        self.history: OrderHistory | None = None
        self._wanted: str | None = None

    @property
    def pb(self) -> PackbenchApp:
        return self.app  # type: ignore[return-value]  # Textual types self.app as App: here it is PackbenchApp

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                "Order history — scan a slip or parcel label, or type the number", id="audit-title"
            )
            yield Input(placeholder="order number, slip or parcel code, then Enter", id="audit-ref")
            table: DataTable[str | Text] = SizedTable(
                id="audit", cursor_type="row", zebra_stripes=True
            )
            yield table

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(
            "When", "Who", "Station", "Terminal", "What", "Code", "Result", "Details"
        )
        self.query_one("#audit-ref", Input).focus()
        if self.ref:
            self.load(self.ref)

    @on(Input.Submitted, "#audit-ref")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.load(event.value.strip())
            event.input.value = ""

    def load(self, ref: str) -> None:
        self._wanted = ref
        self._load(ref)

    @work(thread=True, exclusive=True, group="audit", exit_on_error=False)
    def _load(self, ref: str) -> None:
        if self.order_id is not None and ref == f"#{self.order_id}":
            history = history_of(self.pb.db, self.order_id)
        else:
            history = order_history(self.pb.db, ref, self.pb.rules)
        self.app.call_from_thread(latest_only, get_current_worker(), self._show, ref, history)

    def _show(self, ref: str, history: OrderHistory | None) -> None:
        if ref != self._wanted:  # a cancelled worker still finishes: show the last asked for
            return
        title = self.query_one("#audit-title", Static)
        table = self.query_one(DataTable)
        if history is None:
            self.pb.feedback("error", f"No order matches “{ref}”.")
            title.update(plain(f"No order matches “{ref}”.", style="bold red"))
            return
        self.history = history
        title.update(
            plain(
                f"Order {history.number} — {history.status_label} — {len(history.entries)} "
                f"event{'' if len(history.entries) == 1 else 's'} "
                "(oldest first; Esc closes)"
            )
        )
        table.clear()
        for e in history.entries:
            style = "bold red" if e.result == "refused" else ""
            # Names, codes as scanned and the shop's words: plain text, never markup.
            table.add_row(
                *cells(
                    e.at.astimezone().strftime("%d.%m %H:%M:%S"),
                    e.packer or "—",
                    e.station,
                    e.terminal,
                    e.kind,
                    (e.code or "")[:40],
                    plain(e.result, style=style),
                    _detail_text(e)[:160],
                )
            )
        if table.row_count:
            table.move_cursor(row=table.row_count - 1)
