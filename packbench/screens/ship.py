"""Station 4: ship — shipment, labels, complete the transaction.

Scanning a packed order's slip (or a parcel label of it) creates the shipment and prints the
labels on the station's label printer. F7 (or ``CMD-COMPLETE``) completes the transaction;
F8 prints the labels again (the unprinted ones, or all when every one printed), Ctrl+L sends
them to another printer, F10 (or ``CMD-CANCEL``) cancels the shipment with a reason — a
carrier's booking is voided by a supervisor, after typing VOID to confirm
(``operations.shipment_void``). Keys that stand for a command barcode go through the scan
queue, so keys and scans keep their order. The
work itself is ``operations.shipping``; this screen shows what it answered, and while a
completion waits for the shop it looks again every few seconds until the shop has answered.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from rich.box import SIMPLE_HEAD
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.widgets import Static
from textual.worker import get_current_worker

from packbench.carriers import PickupPoint
from packbench.operations.common import Refused
from packbench.screens.latest import latest_only

if TYPE_CHECKING:
    from packbench.operations.printing import Printer
from packbench.operations.orders import order_detail
from packbench.operations.pickup_points import choose_pickup_point
from packbench.operations.printing import PrintResult
from packbench.operations.scans import ScanOutcome, handle_scan
from packbench.operations.ship_cancel import cancel_shipment
from packbench.operations.ship_labels import print_labels
from packbench.operations.ship_views import ShipOutcome, ShipView, ready_queues, ship_view
from packbench.operations.shipment_void import void_refusal
from packbench.operations.shipping import ship_packed, ship_scan
from packbench.operations.views import OrderDetail
from packbench.screens.dialogs import AskReason
from packbench.screens.order_station import OrderStationScreen
from packbench.screens.plain import cells, plain
from packbench.screens.widgets.scanbar import Scanned

POLL_S = 2.0  # how often a completion waiting for the shop is looked at again


class ShipScreen(OrderStationScreen):
    STATION = "ship"
    TITLE_TEXT = "④ Ship — shipment, label, complete the transaction"
    HINT = "Scan a packed order's slip to create its shipment."

    BINDINGS: ClassVar = [
        *OrderStationScreen.BINDINGS,
        Binding("f7", "command('COMPLETE')", "Complete", id="ship.complete"),
        Binding("f8", "labels", "Print labels", id="ship.labels"),
        Binding("ctrl+l", "labels_elsewhere", "Labels elsewhere", id="ship.labels_elsewhere"),
        Binding("f10", "command('CANCEL')", "Cancel/void shipment", id="ship.cancel"),
        Binding("f11", "command('NEXT')", "Next ready", id="ship.next"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view: ShipView | None = None
        # The order on screen whose transaction is complete: still shown (the shop's answer),
        # but F7/F10 and their cards no longer act on it — a key pressed before the next slip
        # must not land on the last order.
        self.done: tuple[int, str] | None = None
        self.ready: list[tuple[int, str]] = []
        self.pickup: list[tuple[int, str]] = []

    def on_mount(self) -> None:
        self.set_interval(POLL_S, self._poll)
        self._load_ready()

    def ready_prompt(self) -> str:
        return "Scan a packed order's slip to create its shipment and print its labels."

    def next_step(self) -> str:
        view = self.view if self.current is not None else None
        return self.ready_prompt() if view is None else ship_next_step(view)

    def _printer(self) -> Printer:
        from packbench.printing.cups import make_printer

        return make_printer(server=self.pb.settings.printers.server or None)

    # -- scans (in the scan worker's thread) ---------------------------------------------------
    def process_scan(self, scan: Scanned) -> ScanOutcome | ShipOutcome:  # type: ignore[override]  # each station narrows the outcome it returns
        pb = self.pb
        done = self.done if self.done is not None and self.done[0] == self.wanted_id else None
        outcome = ship_scan(
            pb.db,
            pb.actor,
            scan.code,
            pb.rules,
            pb.settings,
            self._printer(),
            order_id=None if done else self.wanted_id,
            done_number=done[1] if done else None,
        )
        if outcome is not None and outcome.ask_cancel and outcome.order_id is not None:
            # A carrier's booking is voided by a supervisor: say so before asking why.
            refusal = void_refusal(pb.db, pb.actor, outcome.order_id)
            if refusal:
                return ShipOutcome(False, refusal, scan.code, outcome.order_id, kind="error")
        if outcome is not None:
            return outcome
        return handle_scan(pb.db, pb.actor, scan.code, pb.rules)

    def show_outcome(self, outcome: ScanOutcome | ShipOutcome) -> None:
        if not isinstance(outcome, ShipOutcome):
            super().show_outcome(outcome)
            return
        self.pb.feedback(outcome.kind, outcome.message)
        if outcome.ask_cancel and outcome.order_id is not None:
            self._ask_cancel(outcome.order_id)
        if outcome.pickup_points and outcome.order_id is not None and outcome.view is not None:
            self._ask_pickup_point(outcome)
        view = outcome.view
        if outcome.ok and view is not None and view.completed_at and view.shop_state != "done":
            self.pb.sync_soon()  # the person waits for the shop's answer: ask it now

    def after_scan(self, outcome: ScanOutcome | ShipOutcome) -> None:
        if isinstance(outcome, ShipOutcome):
            # A refused scan changes nothing here either: the open order stays open. A shipment
            # whose labels did not print is shown (its view comes back with the outcome).
            if outcome.order_id is not None and (outcome.ok or outcome.view is not None):
                self._note_done(outcome.view)
                self.open_order(outcome.order_id)
            self._load_ready()
            return
        super().after_scan(outcome)

    # -- keys -------------------------------------------------------------------------------
    def action_command(self, name: str) -> None:
        """A key standing for a command barcode: queued like the scan it stands for."""
        code = f"{self.pb.settings.codes.command_prefix}{name}"
        self._queue_scan(Scanned(code, datetime.now(UTC), False, ()))

    def action_labels(self) -> None:
        if self.wanted_id is None:
            self.pb.feedback("error", "No order is open here: scan its packing slip first.")
            return
        again = self.view is not None and self.view.labels_printed
        self._print(self.wanted_id, None, again)

    def action_labels_elsewhere(self) -> None:
        if self.wanted_id is None:
            self.pb.feedback("error", "No order is open here: scan its packing slip first.")
            return
        order_id = self.wanted_id
        again = self.view is not None and self.view.labels_printed

        def chosen(queue: str | None) -> None:
            if queue:
                self._print(order_id, queue, again)

        self.app.push_screen(
            AskReason("Print the labels on which printer (CUPS queue)?", "Queue name, then Enter"),
            chosen,
        )

    @work(thread=True, group="ship-act", exit_on_error=False)
    def _print(self, order_id: int, queue: str | None, again: bool) -> None:
        pb = self.pb
        try:
            result = print_labels(
                pb.db, pb.actor, pb.settings, self._printer(), order_id, queue=queue, again=again
            )
        except Refused as exc:
            self.app.call_from_thread(pb.feedback, "error", exc.message)
            return
        self.app.call_from_thread(self._printed, order_id, result)

    def _printed(self, order_id: int, result: PrintResult) -> None:
        if result.ok:
            self.pb.feedback("ok", result.message)
        else:
            self.pb.feedback(
                "error", f"{result.message} — F8 tries again, Ctrl+L sends them elsewhere."
            )
        self.open_order(order_id)

    def _ask_pickup_point(self, outcome: ShipOutcome) -> None:
        from packbench.screens.ship_dialogs import ChoosePickupPoint

        assert outcome.view is not None and outcome.order_id is not None
        order_id, number = outcome.order_id, outcome.view.number
        postcode = outcome.view.recipient.rsplit(", ", 1)[-1].split(" ")[0]

        def chosen(point: PickupPoint | None) -> None:
            if point is not None:
                self._book_to(order_id, point)
            else:
                self.pb.feedback(
                    "info", f"Order {number} was not booked: it waits, packed. Scan its slip to "
                    "choose a pickup point."
                )  # fmt: skip

        self.app.push_screen(ChoosePickupPoint(number, postcode, outcome.pickup_points), chosen)

    @work(thread=True, group="ship-act", exit_on_error=False)
    def _book_to(self, order_id: int, point: PickupPoint) -> None:
        """The packer's choice stored on the order (with its event), then booked and printed
        as the slip scan would have."""
        pb = self.pb
        try:
            said = choose_pickup_point(pb.db, pb.actor, order_id, point, code="pickup-point")
            out = ship_packed(pb.db, pb.actor, pb.settings, self._printer(), order_id,
                              "pickup-point")  # fmt: skip
        except Refused as exc:
            self.app.call_from_thread(pb.feedback, "error", exc.message)
            self.app.call_from_thread(self.open_order, order_id)
            return
        out = replace(out, message=f"{said} {out.message}")
        self.app.call_from_thread(self.show_outcome, out)
        self.app.call_from_thread(self.after_scan, out)

    def _ask_cancel(self, order_id: int) -> None:
        view = self.view if self.view is not None and self.view.order_id == order_id else None
        booked = view is not None and view.booking_state == "booked" and view.consignment

        def confirmed(yes: bool | None, reason: str) -> None:
            if yes:
                self._cancel(order_id, reason)
            else:
                self.pb.feedback("info", "The booking was not voided.")

        def chosen(reason: str | None) -> None:
            if reason and booked and view is not None:
                from packbench.screens.ship_dialogs import ConfirmVoid

                question = (
                    f"Void {view.carrier} consignment {view.consignment} of order {view.number} "
                    f"({reason})? Its labels become void and are never printed again; the order "
                    "goes back to packed, to be booked again. Where the carrier has no cancel, "
                    "cancel it in its portal too."
                )
                self.app.push_screen(ConfirmVoid(question), lambda yes: confirmed(yes, reason))
            elif reason:
                self._cancel(order_id, reason)
            else:
                self.pb.feedback("info", "The shipment was not cancelled.")

        self.app.push_screen(
            AskReason("Why is the shipment cancelled? (kept in the history)", "Reason, then Enter"),
            chosen,
        )

    @work(thread=True, group="ship-act", exit_on_error=False)
    def _cancel(self, order_id: int, reason: str) -> None:
        pb = self.pb
        try:
            out = cancel_shipment(
                pb.db, pb.actor, order_id, reason, code="CMD-CANCEL", ship=pb.settings.ship
            )
        except Refused as exc:
            self.app.call_from_thread(pb.feedback, "error", exc.message)
            return
        self.app.call_from_thread(pb.feedback, "ok", out.message)
        self.app.call_from_thread(self.open_order, order_id)
        self.app.call_from_thread(self._load_ready)

    # -- showing ----------------------------------------------------------------------------
    def _poll(self) -> None:
        view = self.view
        if view is not None and view.completed_at and view.shop_state not in ("done", "parked"):
            self.refresh_data()

    @work(thread=True, exclusive=True, group="station-order", exit_on_error=False)
    def _load_order(self, order_id: int) -> None:
        detail = order_detail(self.pb.db, order_id)
        view = ship_view(self.pb.db, order_id)
        self.app.call_from_thread(latest_only, get_current_worker(), self._show_ship, detail, view)

    def _show_ship(self, detail: OrderDetail | None, view: ShipView | None) -> None:
        if view is not None and view.order_id != self.wanted_id:
            return  # a cancelled worker finished late: show only what was last asked for
        self.view = view
        self._note_done(view)
        self._show(detail)
        self.show_next()

    def _note_done(self, view: ShipView | None) -> None:
        if view is not None and view.completed_at is not None:
            self.done = (view.order_id, view.number)

    @work(thread=True, exclusive=True, group="ship-ready", exit_on_error=False)
    def _load_ready(self) -> None:
        rows, pickup = ready_queues(self.pb.db, self.pb.settings.ship, limit=15)
        self.app.call_from_thread(latest_only, get_current_worker(), self._show_ready, rows, pickup)

    def _show_ready(self, rows: list[tuple[int, str]], pickup: list[tuple[int, str]]) -> None:
        self.ready = rows
        self.pickup = pickup
        if self.current is None:
            self.query_one("#main", Static).update(self.render_idle())

    def render_idle(self) -> RenderableType:
        hint = Text(self.HINT, style="dim")
        if not self.ready and not self.pickup:
            return Group(hint, Text("No packed orders are waiting.", style="dim"))
        parts: list[RenderableType] = [hint]
        if self.ready:
            numbers = ", ".join(number for _, number in self.ready)
            parts.append(plain(f"Ready to ship (oldest first): {numbers}"))
        if self.pickup:
            numbers = ", ".join(number for _, number in self.pickup)
            parts.append(
                plain(f"Collected in the shop (scan the slip when the customer comes): {numbers}")
            )
        return Group(*parts)

    def render_main(self, detail: OrderDetail) -> RenderableType:
        view = self.view
        if view is None:
            return Text(self.HINT, style="dim")
        return render_ship(view)


def render_ship(view: ShipView) -> RenderableType:
    status = view.status.replace("_", " ")
    head = plain(f"Order {view.number} — {status}", style="bold")
    parts: list[RenderableType] = [head, plain(f"To: {view.recipient}")]
    if view.flag:
        parts.append(plain(f"⚠ Changed in the shop: {view.flag}", style="bold red"))
    if view.carrier:
        parts.append(plain(f"{view.carrier} {view.service or ''}".rstrip(), style="bold"))
        if view.consignment or view.product:  # #14: booked with the carrier's web API
            what = f"product {view.product}" if view.product else ""
            if view.consignment:
                what += f"{', ' if what else ''}consignment {view.consignment}"
            parts.append(plain(what.capitalize()))
        if view.pickup_point:
            parts.append(plain(f"Pickup point: {view.pickup_point}", style="bold"))
        if view.booking_state in ("held", "requested") and view.booking_error:
            parts.append(plain(f"Booking: {view.booking_error}", style="bold red"))
    else:
        parts.append(plain(f"Shipping method: {view.shipping_method}"))
    parts.append(parcels_table(view))
    if view.completed_at is not None:  # the shop's answer, in its own words
        style = {"done": "bold green", "parked": "bold red"}.get(view.shop_state or "", "yellow")
        parts.append(plain(view.shop_answer(), style=style))
    return Group(*parts)


def ship_next_step(view: ShipView) -> str:
    """What the person at the ship station does next with the order on screen."""
    if view.completed_at is not None:
        return "This order is done: scan the next packed order's slip."
    if view.flag:
        return "Changed in the shop: a supervisor decides first (admin station, F8)."
    if view.status == "packed":
        return "Not shipped: scan its slip to create the shipment and print its labels."
    if view.status not in ("shipped", "handed_over"):
        return "Transaction not completed yet."
    if not view.labels_printed:
        return "The labels did not print: F8 prints them again, Ctrl+L on another printer."
    return "Labels printed: complete the transaction with F7 or CMD-COMPLETE."


def parcels_table(view: ShipView) -> Table:
    """The parcels, SSCC and tracking number always whole: they are read off and compared with
    the label. On a narrow terminal the box, weight and label columns give way first."""
    table = Table(
        title="Parcels", title_justify="left", expand=True, box=SIMPLE_HEAD, show_edge=False,
        pad_edge=False, padding=(0, 1, 0, 0),
    )  # fmt: skip
    table.add_column("#", no_wrap=True, justify="right")
    table.add_column("Box", overflow="ellipsis", no_wrap=True, max_width=12)
    table.add_column("Weight", no_wrap=True, justify="right")
    table.add_column("SSCC", no_wrap=True, min_width=18)
    table.add_column("Tracking", no_wrap=True, overflow="fold")
    table.add_column("Label", overflow="ellipsis", no_wrap=True, ratio=1)
    for p in view.parcels:
        if p.label_printed_at:
            label = Text("printed " + p.label_printed_at.astimezone().strftime("%H:%M"), "green")
        elif p.tracking_number:
            label = Text("NOT PRINTED — F8", style="bold red")
        else:
            label = plain(p.status, style="dim")
        table.add_row(
            *cells(
                str(p.seq),
                p.box_code or "—",
                f"{p.weight_g} g",
                p.sscc or "—",
                p.tracking_number or "—",
                label,
            )
        )
    return table
