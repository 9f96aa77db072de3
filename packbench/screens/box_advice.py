"""The standard-box advisor for the supervisor (F10 on the dashboard).

Which K boxes — from the catalogue or new inner sizes — would have shipped the packed and
shipped history with the least air; F7/F8 ask for fewer or more. The search runs in a thread
worker; only the answer for the count last asked for is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import get_current_worker

from packbench.core.boxadvice import Advice
from packbench.operations.boxadvice import advise_boxes
from packbench.operations.common import Refused
from packbench.screens.latest import latest_only
from packbench.screens.plain import cells, plain

if TYPE_CHECKING:
    from packbench.app import PackbenchApp

MIN_K, MAX_K = 1, 8


def render_advice(a: Advice, k: int) -> Group:
    table = Table("Box", "Inner size (mm)", "Kind", "Orders", "Share", "Air (l)", expand=True)
    for b in a.boxes:
        table.add_row(
            *cells(
                plain(b.label, style="bold" if b.code is None else ""),
                "×".join(map(str, b.inner_mm)),
                b.kind,
                str(b.orders),
                f"{b.share:.0%}",
                f"{b.empty_mm3 / 1e6:.1f}",
            )
        )
    saved = a.saved_mm3 / 1e6
    style = "bold green" if saved > 0 else "bold yellow"
    lines: list[RenderableType] = [
        Text(
            f"{k} standard boxes for {a.orders} packed/shipped orders "
            f"({a.compared} fit one parcel of today's catalogue). NEW = a size to order.",
        ),
        table,
        Text(
            f"Empty volume: {a.empty_mm3 / 1e6:.1f} l with these, "
            f"{a.baseline_empty_mm3 / 1e6:.1f} l with today's catalogue — "
            f"{saved:.1f} l ({a.saved_pct:.0f} %) saved.",
            style=style,
        ),
    ]
    if a.uncovered:
        lines.append(plain(f"Not held by these {k}: {', '.join(a.uncovered[:20])}", style="yellow"))
    if a.too_big:
        lines.append(plain(f"Too big for one box today: {', '.join(a.too_big[:20])}", style="dim"))
    return Group(*lines)


class BoxAdvisorScreen(ModalScreen[None]):
    BINDINGS: ClassVar = [
        Binding("escape", "dismiss(None)", "Back"),
        Binding("f7", "count(-1)", "Fewer boxes", id="boxadvice.fewer"),
        Binding("f8", "count(1)", "More boxes", id="boxadvice.more"),
    ]

    def __init__(self, k: int = 3) -> None:
        super().__init__()
        self.k = k

    @property
    def pb(self) -> PackbenchApp:
        return self.app  # type: ignore[return-value]  # Textual types self.app as App: here it is PackbenchApp

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static("Standard boxes — F7 fewer, F8 more, Esc back", classes="dialog-title")
            yield Static("Working it out…", id="advice")

    def on_mount(self) -> None:
        self._load(self.k)

    def action_count(self, step: int) -> None:
        self.k = max(MIN_K, min(MAX_K, self.k + step))
        self.query_one("#advice", Static).update(f"Working out {self.k} boxes…")
        self._load(self.k)

    @work(thread=True, exclusive=True, group="box-advice", exit_on_error=False)
    def _load(self, k: int) -> None:
        try:
            advice = advise_boxes(self.pb.db, k)
        except Refused as exc:
            self.app.call_from_thread(
                latest_only, get_current_worker(), self._show_error, k, exc.message
            )
            return
        self.app.call_from_thread(latest_only, get_current_worker(), self._show, k, advice)

    def _show(self, k: int, advice: Advice) -> None:
        if k != self.k:  # an older answer that finished late
            return
        self.query_one("#advice", Static).update(render_advice(advice, k))

    def _show_error(self, k: int, message: str) -> None:
        if k == self.k:
            self.query_one("#advice", Static).update(plain(message, style="bold red"))
            self.pb.feedback("error", f"Box advisor: {message}")
