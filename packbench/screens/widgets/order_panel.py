"""One order, readable at arm's length: who, where to, what, and what happened to it."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from packbench.operations.views import OrderDetail
from packbench.screens.plain import cells, plain


def _kr(ore: int) -> str:
    kroner, rest = divmod(ore, 100)
    return f"{kroner:,}".replace(",", " ") + f",{rest:02d} kr"


def _local(dt) -> str:  # type: ignore[no-untyped-def]
    return dt.astimezone().strftime("%d.%m %H:%M") if dt else "—"


def _lines_table(detail: OrderDetail) -> Table:
    table = Table(title="Lines", expand=True, title_justify="left")
    table.add_column("Loc", no_wrap=True)
    table.add_column("Qty", justify="right")
    table.add_column("Picked", justify="right")
    table.add_column("Packed", justify="right")
    table.add_column("SKU", no_wrap=True)
    table.add_column("Name")
    for ln in detail.lines:
        name = plain(ln.name)
        if ln.fragile:
            name.append(" FRAGILE", style="bold red")
        if ln.keep_upright:
            name.append(" ↑UP", style="bold magenta")
        table.add_row(
            *cells(
                ln.location or "—", str(ln.quantity), str(ln.picked), str(ln.packed), ln.sku, name
            )
        )
    return table


def render_order(
    detail: OrderDetail,
    *,
    events: bool = True,
    lines: bool = True,
    parcels: bool = True,
    max_events: int = 30,
) -> RenderableType:
    s = detail.summary
    head = Text()
    head.append_text(plain(f"Order {s.number}", style="bold"))
    head.append(f"  {s.status_label}", style="bold cyan")
    if s.completed:
        head.append("  ✔ transaction completed", style="green")
    parts: list[RenderableType] = [head]
    if s.flag:
        parts.append(plain(f"⚠ Flagged: {s.flag}", style="bold white on red"))
    if s.hold_reason:
        parts.append(plain(f"⏸ On hold: {s.hold_reason}", style="bold black on yellow"))
    info = Table.grid(padding=(0, 2))
    info.add_column(style="dim")
    info.add_column()
    # Every value here is the shop's: plain text, never read as markup.
    info.add_row(*cells("Ship to", "\n".join(detail.shipping.lines())))
    info.add_row(*cells("Ordered", _local(s.created_at)))
    info.add_row(*cells("Method", s.shipping_method or "—"))
    info.add_row(*cells("Payment", f"{detail.payment_method} ({detail.payment_status})"))
    info.add_row(*cells("Total", _kr(detail.total_ore)))
    if detail.invoice_number:
        info.add_row(*cells("Invoice", detail.invoice_number))
    parts.append(info)
    if detail.customer_note.strip():
        parts.append(
            Panel(plain(detail.customer_note), title="Customer note", border_style="yellow")
        )
    if lines:
        parts.append(_lines_table(detail))
    if parcels and detail.parcels:
        parcels_table = Table(title="Parcels", expand=True, title_justify="left")
        for col in ("#", "Box", "Weight", "SSCC", "Tracking", "Carrier", "Status"):
            parcels_table.add_column(col)
        # Live parcels first by number; a cancelled shipment's void ones after, struck through
        # (their numbers stay on record and are never used again).
        for p in sorted(detail.parcels, key=lambda p: (p.status == "void", abs(p.seq))):
            void = p.status == "void"
            parcels_table.add_row(
                *cells(
                    "void" if void else str(p.seq),
                    p.box_code or "—",
                    f"{p.weight_g} g",
                    plain(p.sscc or "—", style="strike dim" if void else ""),
                    plain(p.tracking_number or "—", style="strike dim" if void else ""),
                    p.carrier or "—",
                    p.status,
                )
            )
        parts.append(parcels_table)
    if events and detail.events:
        history = Table(title="History", expand=True, title_justify="left")
        for col in ("When", "Station", "Who", "What", "Scanned"):
            history.add_column(col)
        for e in detail.events[:max_events]:
            style = "red" if e.result == "refused" else ""
            history.add_row(
                *cells(
                    _local(e.at),
                    f"{e.station}@{e.terminal}",
                    e.packer or "—",
                    plain(e.message, style=style),
                    e.code or "",
                )
            )
        parts.append(history)
    return Group(*parts)


class OrderPanel(Static):
    """Shows one order; ``show(None)`` shows the hint instead."""

    DEFAULT_CSS = """
    OrderPanel { height: auto; padding: 0 1; }
    """

    def __init__(self, hint: str = "Scan a packing slip to open an order.", **kw) -> None:  # type: ignore[no-untyped-def]
        super().__init__(Text(hint, style="dim"), **kw)
        self.hint = hint
        self.detail: OrderDetail | None = None

    def show(
        self,
        detail: OrderDetail | None,
        *,
        events: bool = True,
        lines: bool = True,
        parcels: bool = True,
    ) -> None:
        self.detail = detail
        if detail is None:
            self.update(Text(self.hint, style="dim"))
        else:
            self.update(render_order(detail, events=events, lines=lines, parcels=parcels))
