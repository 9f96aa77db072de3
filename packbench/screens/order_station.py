"""The base of the stations that work on one order at a time (pick, pack, ship)."""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import get_current_worker

from packbench.operations.orders import order_detail
from packbench.operations.views import OrderDetail
from packbench.screens.base import NARROW_COLUMNS, StationScreen
from packbench.screens.latest import latest_only
from packbench.screens.widgets.order_panel import OrderPanel, render_order

#: Narrower than this, the order panel on the right is left out (the screen's ``narrow`` class).
SIDE_PANEL_MIN_COLUMNS = NARROW_COLUMNS


class OrderStationScreen(StationScreen):
    """A station that works on one order at a time: main panel left, the order right (on a
    terminal of ``SIDE_PANEL_MIN_COLUMNS`` or more: the ``narrow`` class, set by the base)."""

    HINT: ClassVar[str] = "Scan a packing slip to open an order."

    def __init__(self) -> None:
        super().__init__()
        self.current: OrderDetail | None = None
        self.wanted_id: int | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="station-body"):
            with VerticalScroll(classes="station-main"):
                yield self.main_widget()
            with VerticalScroll(classes="station-side"):
                yield OrderPanel(hint="No order open.")

    def main_widget(self) -> Widget:
        """The station's own view of the open order (``#main``), left of the order panel."""
        return Static(Text(self.HINT, style="dim"), id="main")

    def open_order(self, order_id: int) -> None:
        self.wanted_id = order_id
        self._load_order(order_id)

    def refresh_data(self) -> None:
        if self.current is not None:
            self._load_order(self.current.summary.id)

    @work(thread=True, exclusive=True, group="station-order", exit_on_error=False)
    def _load_order(self, order_id: int) -> None:
        detail = order_detail(self.pb.db, order_id)
        self.app.call_from_thread(latest_only, get_current_worker(), self._show, detail)

    def _show(self, detail: OrderDetail | None) -> None:
        # A cancelled thread worker still finishes: show only the order last asked for.
        if detail is not None and detail.summary.id != self.wanted_id:
            return
        self.current = detail
        # The station's own view has the lines and parcels; the side shows who and where to (a
        # second parcels table squeezed into the side cut every column to "S…").
        self.query_one(OrderPanel).show(detail, events=False, lines=False, parcels=False)
        main = self.query_one("#main", Static)
        main.update(self.render_main(detail) if detail else Text(self.HINT, style="dim"))

    def render_main(self, detail: OrderDetail) -> RenderableType:
        return render_order(detail, events=False)
