"""Station 4: ship — shipment, label, complete the transaction."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from packbench.operations.views import OrderDetail
from packbench.screens.order_station import OrderStationScreen


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
