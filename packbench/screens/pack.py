"""Station 3: pack — scan every item against the order."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from packbench.operations.views import OrderDetail
from packbench.screens.order_station import OrderStationScreen


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
