"""Slotting advice at the admin station (F10): best sellers, pairs, and measured moves."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from packbench.operations.slotting import SlottingReport, slotting_report
from packbench.screens.plain import cells, plain

if TYPE_CHECKING:
    from packbench.app import PackbenchApp

DAYS = (30, 90, 365)


class SlottingView(ModalScreen[None]):
    """Esc closes; F10 steps through 30, 90 and 365 days of history."""

    BINDINGS: ClassVar = [
        Binding("escape", "dismiss", "Close"),
        Binding("f10", "more_days", "Days: 30/90/365", id="slotting.days"),
    ]

    DEFAULT_CSS = """
    SlottingView { align: center middle; }
    SlottingView > Vertical {
        width: 95%; height: 90%; background: $surface; border: thick $primary; padding: 0 1;
    }
    SlottingView #slotting-title { height: auto; text-style: bold; }
    SlottingView VerticalScroll { height: 1fr; }
    """

    def __init__(self, days: int = 90) -> None:
        super().__init__()
        self.days = days
        self.report: SlottingReport | None = None

    @property
    def pb(self) -> PackbenchApp:
        return self.app  # type: ignore[return-value]  # Textual types self.app as App: here it is PackbenchApp

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Slotting advice — loading…", id="slotting-title")
            with VerticalScroll():
                yield Static("", id="slotting-body")

    def on_mount(self) -> None:
        self._load(self.days)

    def action_more_days(self) -> None:
        self.days = DAYS[(DAYS.index(self.days) + 1) % len(DAYS)] if self.days in DAYS else 90
        self.query_one("#slotting-title", Static).update(
            f"Slotting advice — loading {self.days} days…"
        )
        self._load(self.days)

    @work(thread=True, exclusive=True, group="slotting", exit_on_error=False)
    def _load(self, days: int) -> None:
        report = slotting_report(self.pb.db, self.pb.layout, days=days)
        self.app.call_from_thread(self._show, report)

    def _show(self, report: SlottingReport) -> None:
        if report.days != self.days:  # a cancelled worker still finishes
            return
        self.report = report
        a = report.advice
        self.query_one("#slotting-title", Static).update(
            f"Slotting advice — last {report.days} days: {a.orders} orders, "
            f"{a.pick_lists} pick lists, {a.walked_m:.0f} m walked with today's slots "
            "(F10: 30/90/365 days, Esc closes)"
        )
        self.query_one("#slotting-body", Static).update(render_report(report))


def render_report(report: SlottingReport) -> RenderableType:
    a = report.advice
    moves = Table(
        "Move", "Saves", "Pick lists", "Share", title="Moves, measured", title_justify="left"
    )
    for m in a.moves:
        moves.add_row(*cells(m.text, f"{m.saved_m:.1f} m", str(m.lists), f"{m.saved_share:.1%}"))
    if not a.moves:
        moves.add_row(Text("No move would have saved walking.", style="dim"), "", "", "")
    best = Table(
        "SKU",
        "Picks",
        "Units",
        "Location",
        "From depot",
        title="Best sellers",
        title_justify="left",
    )
    for b in a.best_sellers:
        depot = f"{b.depot_m:.1f} m" if b.depot_m is not None else "—"
        best.add_row(*cells(b.sku, str(b.picks), str(b.units), b.location or "—", depot))
    pairs = Table(
        "Pair", "Orders", "Share", "Apart", title="Ordered together", title_justify="left"
    )
    for p in a.pairs:
        apart = f"{p.apart_m:.1f} m" if p.apart_m is not None else "—"
        pairs.add_row(*cells(f"{p.sku_a} + {p.sku_b}", str(p.together), f"{p.share:.0%}", apart))
    if not a.pairs:
        pairs.add_row(Text("No pair in two or more orders.", style="dim"), "", "", "")
    parts: list[RenderableType] = [moves, best, pairs]
    if a.unslotted:
        parts.append(plain(f"Without a usable location: {', '.join(a.unslotted)}", style="yellow"))
    return Group(*parts)
