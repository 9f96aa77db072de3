"""Station 2, the warehouse: pick the goods."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from packbench.operations.views import OrderDetail
from packbench.screens.order_station import OrderStationScreen


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
