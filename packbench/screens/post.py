"""Station 5: post — parcels wait for the carrier and are handed over."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from packbench.operations.orders import parcels_awaiting_handover
from packbench.operations.views import WaitingParcel
from packbench.screens.base import StationScreen


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
