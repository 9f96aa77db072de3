"""Station 2, the warehouse: pick a batch of orders onto a cart of totes, stop by stop.

The current stop fills the left at arm's-length size: where (location), how many, into which
tote, and what. The right shows the stops still to come and the totes. Everything the picker
does is a scan (items, location labels, slips, ``CMD-SHORT``, ``CMD-NEXT``) or a key that
sends the same command through the same scan queue, so keys and scans keep their order.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import ClassVar

from rich.box import SIMPLE_HEAD
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.renderables.digits import DIGITS, DIGITS3X3
from textual.widgets import Digits, Static
from textual.worker import get_current_worker

from packbench.core.codes import CodeKind, classify
from packbench.operations import messages as msg
from packbench.operations.pick_views import (
    PickListView,
    PickOutcome,
    PickRules,
    StopItem,
    current_batch,
    location_problems,
)
from packbench.operations.picking import pick_scan
from packbench.operations.scans import ScanOutcome
from packbench.screens.base import StationScreen
from packbench.screens.dialogs import AskReason
from packbench.screens.latest import latest_only
from packbench.screens.plain import cells, plain, shown
from packbench.screens.widgets.scanbar import Scanned

# A 3-line font for location codes, readable at arm's length: Textual's digits and minus, and
# letters drawn in the same style (Textual's own big font has only A-F).
_LETTERS = {
    "A": ("╭─╮", "├─┤", "╵ ╵"), "B": ("┌─╮", "├─┤", "└─╯"), "C": ("╭─╴", "│  ", "╰─╴"),
    "D": ("┌─╮", "│ │", "└─╯"), "E": ("╭─╴", "├─ ", "╰─╴"), "F": ("╭─╴", "├─ ", "╵  "),
    "G": ("╭─╴", "│╶╮", "╰─╯"), "H": ("╷ ╷", "├─┤", "╵ ╵"), "I": ("╶┬╴", " │ ", "╶┴╴"),
    "J": ("╶─┐", "  │", "╰─╯"), "K": ("╷╭╴", "├┤ ", "╵╰╴"), "L": ("╷  ", "│  ", "╰─╴"),
    "M": ("╭┬╮", "│││", "╵╵╵"), "N": ("╭─╮", "│ │", "╵ ╵"), "O": ("╭─╮", "│ │", "╰─╯"),
    "P": ("╭─╮", "├─╯", "╵  "), "Q": ("╭─╮", "│ │", "╰─┼"), "R": ("╭─╮", "├┬╯", "╵╰╴"),
    "S": ("╭─╴", "╰─╮", "╰─╯"), "T": ("╶┬╴", " │ ", " ╵ "), "U": ("╷ ╷", "│ │", "╰─╯"),
    "V": ("╷ ╷", "│ │", "╰┬╯"), "W": ("╷╷╷", "│││", "╰┴╯"), "X": ("╲ ╱", " ╳ ", "╱ ╲"),
    "Y": ("╷ ╷", "╰┬╯", " ╵ "), "Z": ("╶─╮", "╭─╯", "╰─╴"),
}  # fmt: skip


def _glyph(ch: str) -> tuple[str, str, str]:
    up = ch.upper()
    if up in _LETTERS:
        return _LETTERS[up]
    if up in DIGITS and up != " ":
        i = DIGITS.index(up) * 3
        rows = [row.ljust(3) for row in DIGITS3X3[i : i + 3]]
        return (rows[0], rows[1], rows[2])
    return (" " * 3, f" {ch} ", " " * 3)


def big_code(code: str) -> list[str]:
    """``code`` as three lines of box-drawing glyphs, one space between characters."""
    glyphs = [_glyph(ch) for ch in code]
    return [" ".join(g[row] for g in glyphs) for row in range(3)]


SHORT_CONFIRM_S = 10.0  # how long F7's "short pick?" waits for the second F7


class PickScreen(StationScreen):
    STATION = "pick"
    TITLE_TEXT = "② Warehouse — pick"
    HINT = "F9 takes the next batch of orders; or scan a packing slip to pick one order."

    BINDINGS: ClassVar = [
        *StationScreen.BINDINGS,
        Binding("f9", "next_batch", "Next batch", id="pick.next_batch"),
        Binding("f7", "short_pick", "Short pick", id="pick.short"),
        Binding("f8", "quantity", "Quantity", id="pick.quantity"),
    ]

    DEFAULT_CSS = """
    PickScreen #pick-main { width: 3fr; padding: 0 1; }
    PickScreen #pick-side { width: 2fr; border-left: solid $primary; padding: 0 1; }
    PickScreen #pick-where {
        height: 6; content-align: center middle; text-style: bold;
        background: $accent; color: $text; margin-top: 1;
    }
    PickScreen #pick-big { height: 5; margin-top: 1; }
    PickScreen #pick-big > Vertical { width: 1fr; height: 5; }
    PickScreen #pick-big Static { height: 1; text-style: bold; color: $text-muted; }
    PickScreen #pick-big Digits { width: auto; }
    PickScreen #pick-what { height: auto; margin-top: 1; }
    PickScreen #pick-progress { height: auto; margin-top: 1; }
    /* A short terminal (80×24): no spacing, the location and the big figures a line smaller,
       so the item's SKU and GTIN and the progress stay on screen under them. */
    PickScreen.short #pick-where { height: 4; margin-top: 0; }
    PickScreen.short #pick-big { height: 4; margin-top: 0; }
    PickScreen.short #pick-big > Vertical { height: 4; }
    PickScreen.short #pick-what, PickScreen.short #pick-progress { margin-top: 0; }
    /* Below 100 columns the stops to come keep a fixed share: 2/5 of 80 columns left their
       items' names 7 characters. */
    PickScreen.narrow #pick-main { width: 1fr; }
    PickScreen.narrow #pick-side { width: 36; scrollbar-size-vertical: 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.pick_list: PickListView | None = None
        self.pending_qty: int | None = None
        self.location_problems: list[str] = []
        self._shown_for: int | None = None  # whose batch is on show
        self.loads = 0  # how many times the batch was (re)loaded; tests wait on it
        self._short_asked: float | None = None  # when F7 asked "short pick?"

    @property
    def rules(self) -> PickRules:
        return PickRules.from_settings(self.pb.settings)

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="station-body"):
            with Vertical(id="pick-main"):
                yield Static(Text(self.HINT, style="dim"), id="pick-where")
                with Horizontal(id="pick-big"):
                    with Vertical():
                        yield Static("TAKE")
                        yield Digits("", id="pick-qty")
                    with Vertical():
                        yield Static("INTO TOTE")
                        yield Digits("", id="pick-tote")
                yield Static("", id="pick-what")
                yield Static("", id="pick-progress")
            with VerticalScroll(id="pick-side"):
                yield Static("", id="pick-next")
                yield Static("", id="pick-totes")

    def on_mount(self) -> None:
        self.refresh_data()

    def ready_prompt(self) -> str:
        return "Scan the item at the stop (5*code for five), or F9 for the next batch."

    def next_step(self) -> str:
        view = self.pick_list
        stop = view.current if view is not None else None
        if view is None or stop is None:
            return self.HINT
        if view.require_location_scan and not view.location_confirmed:
            return f"Scan the location label at {shown(stop.location)} first."
        item = next(i for i in stop.items if i.left > 0)
        pending = self._pending_text()
        return (
            f"Take {item.left} × {shown(item.sku)} from {shown(stop.location)} into tote "
            f"{item.tote}: scan each one (N* before a code for N of it)."
            + (f" {pending}" if pending else "")
        )

    # -- loading ----------------------------------------------------------------------------
    def refresh_data(self) -> None:
        self._load(self.pb.actor.packer_id)

    def refresh_header(self) -> None:
        super().refresh_header()
        # Signed out, or someone else signed in: never leave another picker's batch on show.
        if self.pick_list is not None and self._shown_for != self.pb.actor.packer_id:
            self.show_pick_list(None)
            self.refresh_data()

    @work(thread=True, exclusive=True, group="pick-load", exit_on_error=False)
    def _load(self, packer_id: int | None) -> None:
        actor = self.pb.actor
        view = current_batch(self.pb.db, actor, self.pb.layout, self.rules)
        problems = location_problems(self.pb.db, self.pb.layout)
        self.app.call_from_thread(
            latest_only, get_current_worker(), self._loaded, packer_id, view, problems
        )

    def _loaded(
        self, packer_id: int | None, view: PickListView | None, problems: list[str]
    ) -> None:
        # A cancelled thread worker still finishes: only the picker signed in now counts.
        if packer_id != self.pb.actor.packer_id:
            return
        self.location_problems = problems
        self.show_pick_list(view)
        self.loads += 1

    # -- scans ------------------------------------------------------------------------------
    def process_scan(self, scan: Scanned) -> PickOutcome | ScanOutcome:  # type: ignore[override]  # each station narrows the outcome it returns
        code = scan.code
        if not code.endswith("SHORT"):
            self._short_asked = None  # a scan answers "short pick?" with "no, go on"
        pending = self.pending_qty
        if pending is not None and classify(code, self.pb.rules).kind in (
            CodeKind.GTIN,
            CodeKind.SKU,
        ):
            self.pending_qty = None
            code = f"{pending}*{code.strip()}"
        outcome = pick_scan(
            self.pb.db, self.pb.actor, code, self.pb.rules, self.pb.layout, self.rules
        )
        if outcome is not None:
            if not outcome.ok and pending is not None and code != scan.code:
                self.pending_qty = pending  # a refused scan does not use the quantity up
            return outcome
        return super().process_scan(scan)

    def show_outcome(self, outcome: PickOutcome | ScanOutcome) -> None:
        if isinstance(outcome, PickOutcome):
            self.pb.feedback("ok" if outcome.ok else "error", outcome.message)
            if outcome.pick_list is not None:
                self.show_pick_list(None if outcome.finished else outcome.pick_list)
            return
        super().show_outcome(outcome)

    def after_scan(self, outcome: PickOutcome | ScanOutcome) -> None:
        if isinstance(outcome, ScanOutcome) and outcome.packer is not None:
            self.refresh_data()  # someone signed in: their open batch, if any

    def on_command(self, command: str) -> bool:
        return False  # SHORT and NEXT are handled as picking scans; others do nothing here

    def _send(self, command: str) -> None:
        """A key that means a command barcode goes through the scan queue, in order."""
        code = f"{self.pb.rules.command_prefix}{command}"
        self._queue_scan(Scanned(code, datetime.now(UTC), False, ()))

    def action_next_batch(self) -> None:
        self._send("NEXT")

    def action_short_pick(self) -> None:
        """F7 asks first, F7 again within ``SHORT_CONFIRM_S`` short-picks: a short pick puts
        the order on hold, and F7 means "next" or "complete" at the other stations. Any scan in
        between cancels the question (the ``CMD-SHORT`` card is deliberate and acts at once)."""
        now = time.monotonic()
        if self._short_asked is not None and now - self._short_asked <= SHORT_CONFIRM_S:
            self._short_asked = None
            self._send("SHORT")
            return
        stop = self.pick_list.current if self.pick_list is not None else None
        if stop is None:
            self._send("SHORT")  # nothing to short-pick: the operation says so, and logs it
            return
        self._short_asked = now
        self.pb.feedback(
            "info",
            f"Short pick at {stop.location}? {stop.picked} of {stop.quantity} found, "
            f"{stop.left} missing. Press F7 again to confirm; scan the item to go on picking.",
        )

    def action_quantity(self) -> None:
        def chosen(answer: str | None) -> None:
            if answer is None:
                return
            text = answer.strip()
            if not text.isdigit() or not 1 <= int(text) <= 999:
                self.pb.feedback("error", f"“{text}” is not a quantity (1–999).")
                return
            self.pending_qty = int(text)
            self.pb.feedback("info", f"The next item scan counts {text} units.")
            self.show_pick_list(self.pick_list)

        self.app.push_screen(AskReason("How many units does the next item scan count?"), chosen)

    # -- showing ----------------------------------------------------------------------------
    def show_pick_list(self, view: PickListView | None) -> None:
        self.pick_list = view
        self._shown_for = self.pb.actor.packer_id
        self.show_next()
        where = self.query_one("#pick-where", Static)
        qty = self.query_one("#pick-qty", Digits)
        tote = self.query_one("#pick-tote", Digits)
        what = self.query_one("#pick-what", Static)
        progress = self.query_one("#pick-progress", Static)
        side_next = self.query_one("#pick-next", Static)
        side_totes = self.query_one("#pick-totes", Static)
        stop = view.current if view else None
        if view is None or stop is None:
            where.update(Text(self.HINT, style="dim"))
            for digits in (qty, tote):
                digits.update("")
            what.update("")
            notes = Text(self._pending_text(), style="bold")
            if self.location_problems:
                problems = "; ".join(self.location_problems[:5])
                more = len(self.location_problems) - 5
                notes.append_text(
                    plain(
                        f"⚠ {len(self.location_problems)} products have a location the warehouse "
                        f"layout does not know — fix them at the shop: {problems}"
                        + (f" (and {more} more)" if more > 0 else ""),
                        style="bold yellow",
                    )
                )
            progress.update(notes)
            side_next.update("")
            side_totes.update("")
            return
        item = next(i for i in stop.items if i.left > 0)
        where.update(self._where(stop.location, view))
        qty.update(str(item.left))
        tote.update(str(item.tote))
        what.update(self._what(item, stop.items))
        progress.update(self._progress(view))
        side_next.update(self._next_table(view))
        side_totes.update(self._totes_table(view))

    @staticmethod
    def _where(location: str, view: PickListView) -> RenderableType:
        text = Text(justify="center")
        location = shown(location)
        text.append("\n".join(big_code(location)), style="bold")
        aisle, bay, level = [*location.split("-"), "", "", ""][:3]
        text.append(f"\n{location}: aisle {aisle} · bay {bay} · level {level}", style="bold")
        if view.require_location_scan:
            if view.location_confirmed:
                text.append("   ✓ location scanned", style="bold green")
            else:
                text.append("   scan the location label first", style="bold yellow")
        return text

    @staticmethod
    def _what(item: StopItem, items: tuple[StopItem, ...]) -> RenderableType:
        text = Text()
        text.append(shown(f"{item.name}\n"), style="bold")
        text.append(shown(f"SKU {item.sku}   GTIN {item.gtin or '—'}   order {item.order_number}"))
        others = [i for i in items if i.left > 0 and i is not item]
        if others:
            split = ", ".join(f"{i.left} × {i.sku} → tote {i.tote}" for i in others)
            text.append(shown(f"\nalso here: {split}"), style="cyan")
        return text

    def _progress(self, view: PickListView) -> RenderableType:
        done = len(view.stops) - view.stops_left
        units_done = view.units_total - view.units_left
        text = Text()
        text.append(f"Batch {view.batch_id}: stop {done + 1} of {len(view.stops)}")
        text.append(f"   units {units_done}/{view.units_total}")
        text.append(f"   {view.metres_left:.0f} m left of {view.distance_m:.0f} m")
        pending = self._pending_text()
        if pending:
            text.append(f"\n{pending}", style="bold yellow")
        return text

    def _pending_text(self) -> str:
        if self.pending_qty is None:
            return ""
        return f"The next item scan counts {self.pending_qty} units."

    @staticmethod
    def _next_table(view: PickListView) -> RenderableType:
        # No ruled borders and no stop number (the rows are in walking order): at 80 columns
        # the side panel is 30 wide, and a bordered five-column table left the item 1 column.
        table = Table(
            title="Then", title_justify="left", expand=True, box=SIMPLE_HEAD, show_edge=False,
            pad_edge=False, padding=(0, 1, 0, 0),
        )  # fmt: skip
        table.add_column("Where", no_wrap=True)
        table.add_column("Qty", no_wrap=True, justify="right")
        table.add_column("Item", no_wrap=True, overflow="ellipsis", ratio=1, min_width=10)
        table.add_column("Tote", no_wrap=True, justify="right")
        for stop in view.upcoming[:12]:
            for n, item in enumerate(i for i in stop.items if i.left > 0):
                table.add_row(
                    *cells(
                        stop.location if n == 0 else "",
                        str(item.left),
                        item.name,
                        str(item.tote),
                    )
                )
        more = len(view.upcoming) - 12
        if more > 0:
            return Group(table, Text(f"… and {msg.count(more, 'more stop')}", style="dim"))
        return table

    @staticmethod
    def _totes_table(view: PickListView) -> RenderableType:
        table = Table("Tote", "Order", "State", title="Cart", title_justify="left")
        for t in view.totes:
            table.add_row(*cells(str(t.tote), t.order_number, t.status.replace("_", " ")))
        return table
