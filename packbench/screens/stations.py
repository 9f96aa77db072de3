"""Stations 2–5: pick, pack, ship and post, each with its own layout around the shared scan bar.

Each opens an order from its slip or parcel label and shows it the way that station works with
it. Their scan-driven workflows (confirming picks, ticking units, labels, handover) are built on
these screens by the station issues; until then a product or box scan here is refused with a
message saying what it is.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from packbench.operations.orders import order_detail, parcels_awaiting_handover
from packbench.operations.views import OrderDetail, WaitingParcel
from packbench.screens.base import StationScreen
from packbench.screens.widgets.order_panel import OrderPanel, render_order


class OrderStationScreen(StationScreen):
    """A station that works on one order at a time: main panel left, the order right."""

    HINT: ClassVar[str] = "Scan a packing slip to open an order."

    def __init__(self) -> None:
        super().__init__()
        self.current: OrderDetail | None = None
        self.wanted_id: int | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="station-body"):
            with VerticalScroll(classes="station-main"):
                yield Static(Text(self.HINT, style="dim"), id="main")
            with VerticalScroll(classes="station-side"):
                yield OrderPanel(hint="No order open.")

    def open_order(self, order_id: int) -> None:
        self.wanted_id = order_id
        self._load_order(order_id)

    def refresh_data(self) -> None:
        if self.current is not None:
            self._load_order(self.current.summary.id)

    @work(thread=True, exclusive=True, group="station-order", exit_on_error=False)
    def _load_order(self, order_id: int) -> None:
        detail = order_detail(self.pb.db, order_id)
        self.app.call_from_thread(self._show, detail)

    def _show(self, detail: OrderDetail | None) -> None:
        # A cancelled thread worker still finishes: show only the order last asked for.
        if detail is not None and detail.summary.id != self.wanted_id:
            return
        self.current = detail
        # The station's own view has the lines; the side shows who and where to.
        self.query_one(OrderPanel).show(detail, events=False, lines=False)
        main = self.query_one("#main", Static)
        main.update(self.render_main(detail) if detail else Text(self.HINT, style="dim"))

    def render_main(self, detail: OrderDetail) -> RenderableType:
        return render_order(detail, events=False)


class PickScreen(OrderStationScreen):
    STATION = "pick"
    TITLE_TEXT = "② Warehouse — pick"
    HINT = "Scan a packing slip to pick its order."

    def render_main(self, detail: OrderDetail) -> RenderableType:
        todo = sorted(
            (ln for ln in detail.lines if ln.picked < ln.quantity),
            key=lambda ln: ln.location or "~",
        )
        if not todo:
            return Panel(Text("Everything on this order is picked.", style="bold green"))
        stop = todo[0]
        big = Text()
        big.append(f"{stop.location or 'no location'}\n", style="bold reverse")
        big.append(f"{stop.quantity - stop.picked} × {stop.name}\n", style="bold")
        big.append(f"SKU {stop.sku}   GTIN {stop.gtin or '—'}")
        nxt = Table("Location", "Qty", "Product", title="Then", title_justify="left", expand=True)
        for ln in todo[1:]:
            nxt.add_row(ln.location or "—", str(ln.quantity - ln.picked), ln.name)
        units = sum(ln.quantity - ln.picked for ln in todo)
        progress = Text(f"{len(todo)} stops, {units} units left", style="dim")
        return Group(Panel(big, title="Current stop", border_style="cyan"), nxt, progress)


class PackScreen(OrderStationScreen):
    STATION = "pack"
    TITLE_TEXT = "③ Pack — scan every item"
    HINT = "Scan a packing slip to open the order and claim it."

    def render_main(self, detail: OrderDetail) -> RenderableType:
        parts: list[RenderableType] = []
        if detail.customer_note.strip():
            parts.append(
                Panel(
                    Text(detail.customer_note, style="bold"),
                    title="Customer note",
                    border_style="yellow",
                )
            )
        check = Table(
            "",
            "Qty",
            "Packed",
            "SKU",
            "Product",
            title="Checklist",
            title_justify="left",
            expand=True,
        )
        for ln in detail.lines:
            done = ln.packed >= ln.quantity
            name = Text(ln.name)
            if ln.fragile:
                name.append("  FRAGILE", style="bold white on red")
            if ln.keep_upright:
                name.append("  KEEP UPRIGHT", style="bold magenta")
            check.add_row("✔" if done else "☐", str(ln.quantity), str(ln.packed), ln.sku, name)
        parts.append(check)
        units = sum(ln.quantity for ln in detail.lines)
        packed = sum(min(ln.packed, ln.quantity) for ln in detail.lines)
        parts.append(Text(f"{packed} of {units} units scanned", style="bold"))
        return Group(*parts)


class ShipScreen(OrderStationScreen):
    STATION = "ship"
    TITLE_TEXT = "④ Ship — shipment, label, complete the transaction"
    HINT = "Scan a packed order's slip to create its shipment."

    def render_main(self, detail: OrderDetail) -> RenderableType:
        table = Table(
            "#",
            "Box",
            "Weight",
            "SSCC",
            "Tracking",
            "Status",
            title="Parcels",
            title_justify="left",
            expand=True,
        )
        for p in detail.parcels:
            table.add_row(
                str(p.seq),
                p.box_code or "—",
                f"{p.weight_g} g",
                p.sscc or "—",
                p.tracking_number or "—",
                p.status,
            )
        if detail.completed_at:
            done = Text(
                f"✔ Transaction completed; invoice {detail.invoice_number or '—'}",
                style="bold green",
            )
        else:
            done = Text("Transaction not completed yet.", style="yellow")
        return Group(Text("\n".join(detail.shipping.lines()), style="bold"), table, done)


class PostScreen(StationScreen):
    STATION = "post"
    TITLE_TEXT = "⑤ Post — parcels waiting for the carrier"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="station-main"):
            yield Static("", id="waiting")

    def on_mount(self) -> None:
        self.refresh_data()

    def ready_prompt(self) -> str:
        return "Scan a parcel label to put it in its carrier's cage."

    def refresh_data(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="post-list", exit_on_error=False)
    def _load(self) -> None:
        rows = parcels_awaiting_handover(self.pb.db)
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[WaitingParcel]) -> None:
        self.waiting = rows
        if not rows:
            self.query_one("#waiting", Static).update(Text("No parcels waiting.", style="dim"))
            return
        groups: dict[str, list[WaitingParcel]] = {}
        for row in rows:
            groups.setdefault(row.carrier or "no carrier", []).append(row)
        parts: list[RenderableType] = []
        for carrier, items in groups.items():
            table = Table(
                "Since",
                "Order",
                "Parcel",
                "SSCC",
                "Tracking",
                "To",
                title=f"{carrier} — {len(items)} parcels",
                title_justify="left",
                expand=True,
            )
            for w in items:
                table.add_row(
                    w.since.astimezone().strftime("%d.%m %H:%M"),
                    w.order_number,
                    f"{w.seq}",
                    w.sscc or "—",
                    w.tracking_number or "—",
                    w.city,
                )
            parts.append(table)
        self.query_one("#waiting", Static).update(Group(*parts))
