"""One order, readable at arm's length: who, where to, what, and what happened to it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from packbench.operations.views import OrderDetail
from packbench.screens.plain import cells, plain

if TYPE_CHECKING:
    from packbench.operations.views import LineView


def _kr(ore: int) -> str:
    kroner, rest = divmod(ore, 100)
    return f"{kroner:,}".replace(",", " ") + f",{rest:02d} kr"


def _local(dt: datetime | None) -> str:
    return dt.astimezone().strftime("%d.%m %H:%M") if dt else "—"


WIDE_LINES = 72  # narrower than this, the lines are listed one under another, not as a table


def _line_name(ln: LineView) -> Text:
    name = plain(ln.name)
    if ln.fragile:
        name.append(" FRAGILE", style="bold red")
    if ln.keep_upright:
        name.append(" ↑UP", style="bold magenta")
    return name


def _lines_table(detail: OrderDetail) -> Table:
    table = Table(title="Lines", expand=True, title_justify="left")
    table.add_column("Loc", no_wrap=True)
    table.add_column("Qty", justify="right", no_wrap=True)
    table.add_column("Picked", justify="right", no_wrap=True)
    table.add_column("Packed", justify="right", no_wrap=True)
    table.add_column("SKU", no_wrap=True)
    table.add_column("Name", ratio=1)
    for ln in detail.lines:
        table.add_row(
            *cells(
                ln.location or "—",
                str(ln.quantity),
                str(ln.picked),
                str(ln.packed),
                ln.sku,
                _line_name(ln),
            )
        )
    return table


def _lines_list(detail: OrderDetail) -> Group:
    """The lines for a narrow pane: "2 × SKU  at C-07-2 · picked 1 · packed 0", the name under
    it. A table squeezed this narrow cut its headers to "Q…" and set names a letter a row."""
    rows: list[RenderableType] = [Text("Lines", style="italic")]
    for ln in detail.lines:
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(f"{ln.quantity} × ", style="bold")
        head.append_text(plain(ln.sku, style="bold"))
        head.append_text(plain(f"  at {ln.location or '—'}"))
        head.append(f" · picked {ln.picked} · packed {ln.packed}", style="dim")
        name = Text("  ")
        name.append_text(_line_name(ln))
        rows.extend((head, name))
    return Group(*rows)


class OrderLines:
    """The order's lines as a table where there is room, else as a list (chosen at draw time,
    from the width the pane really has)."""

    def __init__(self, detail: OrderDetail) -> None:
        self.detail = detail

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> Iterator[RenderableType]:
        if options.max_width >= WIDE_LINES:
            yield _lines_table(self.detail)
        else:
            yield _lines_list(self.detail)


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
        parts.append(OrderLines(detail))
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

    def __init__(self, hint: str = "Scan a packing slip to open an order.", **kw: Any) -> None:
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
