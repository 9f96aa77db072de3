"""Station 5: post — parcels wait for their carrier, go into its cage, and are handed over.

Scanning a parcel label (SSCC or tracking number) puts the parcel in its carrier's cage; the
first parcel chooses the carrier the station handles, and a parcel of another carrier is refused
until that handover is closed (or F11 / ``CMD-NEXT`` lets go of the carrier). F7 (or
``CMD-COMPLETE``) closes the handover: parcels shipped but not scanned are listed and stay for
the next pickup once F8 (``CMD-CONFIRM``) confirms; the manifest prints on the station's
manifest printer, and F10 prints the last one again. The work is ``operations.handover``.

Consignments a close must transfer to the carrier (Cargonizer) are sent after the close; the
screen retries what is due every minute (``operations.carrier_transfer``) and shows what is
still waiting, with why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from rich.box import SIMPLE_HEAD
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static
from textual.worker import get_current_worker

from packbench.operations.carrier_transfer import (
    TransferView,
    needs_transfer,
    send_transfers,
    transfer_problems,
)
from packbench.operations.common import Refused
from packbench.screens.latest import latest_only

if TYPE_CHECKING:
    from packbench.operations.printing import Printer
from packbench.operations.handover import (
    CarrierGroup,
    PostOutcome,
    last_closed_handover,
    local_day,
    open_handover_here,
    post_scan,
    print_manifest,
    waiting_by_carrier,
)
from packbench.operations.scans import ScanOutcome, handle_scan
from packbench.screens.base import StationScreen
from packbench.screens.plain import cells, plain
from packbench.screens.widgets.scanbar import Scanned

#: How often the station sends the transfers still due (a failed one waits its back-off).
TRANSFER_RETRY_S = 60.0


class PostScreen(StationScreen):
    STATION = "post"
    TITLE_TEXT = "⑤ Post — parcels waiting for the carrier"

    BINDINGS: ClassVar = [
        *StationScreen.BINDINGS,
        Binding("f7", "command('COMPLETE')", "Close handover", id="post.close"),
        Binding("f8", "command('CONFIRM')", "Confirm", id="post.confirm"),
        Binding("f10", "manifest", "Manifest again", id="post.manifest"),
        Binding("f11", "command('NEXT')", "Other carrier", id="post.next"),
    ]

    def __init__(self) -> None:
        super().__init__()
        #: The carrier whose handover this station is handling (None: the next parcel decides).
        self.carrier: str | None = None
        #: A close that leaves parcels behind, waiting for CMD-CONFIRM, and those parcels.
        self.confirming: str | None = None
        self.confirm_missing: frozenset[int] | None = None
        self.groups: list[CarrierGroup] = []
        self.transfers: list[TransferView] = []

    def compose_body(self) -> ComposeResult:
        # What is in the cage and what to do with it is the pinned next-step line (next_step).
        with VerticalScroll(classes="station-main full-width"):
            yield Static("", id="waiting")

    def on_mount(self) -> None:
        self._resume()
        ship = self.pb.settings.ship
        if any(needs_transfer(ship, name) for name in ship.carriers):
            self.set_interval(TRANSFER_RETRY_S, self._send_transfers)
            self._send_transfers()

    @work(thread=True, exclusive=True, group="post-transfer", exit_on_error=False)
    def _send_transfers(self) -> None:
        """What a close (here or on a terminal that died) left to transfer, sent when due."""
        pb = self.pb
        report = send_transfers(pb.db, pb.actor, pb.settings.ship)
        if report.sent or report.found:
            self.app.call_from_thread(pb.feedback, "info", report.message[:1].upper()
                                      + report.message[1:] + ".")  # fmt: skip
        self.app.call_from_thread(self.refresh_data)

    @work(thread=True, group="post-list", exit_on_error=False)
    def _resume(self) -> None:
        """After a restart the cage this terminal was filling is still open: handle it again."""
        carrier = open_handover_here(self.pb.db, self.pb.actor.terminal)
        self.app.call_from_thread(self._resumed, carrier)

    def _resumed(self, carrier: str | None) -> None:
        if carrier is not None and self.carrier is None:
            self.carrier = carrier
        self.refresh_data()

    def ready_prompt(self) -> str:
        return "Scan a parcel label to put it in its carrier's cage."

    def next_step(self) -> RenderableType:
        if self.confirming is not None:
            return plain(
                f"Parcels of {self.confirming} are not scanned: scan them, or F8 (CMD-CONFIRM) "
                "to hand over without them.",
                style="bold yellow",
            )
        return render_cage(self.carrier, self.groups)

    def _printer(self) -> Printer:
        from packbench.printing.cups import make_printer

        return make_printer(server=self.pb.settings.printers.server or None)

    # -- scans (in the scan worker's thread) ---------------------------------------------------
    def process_scan(self, scan: Scanned) -> ScanOutcome | PostOutcome:  # type: ignore[override]  # each station narrows the outcome it returns
        pb = self.pb
        outcome = post_scan(
            pb.db,
            pb.actor,
            scan.code,
            pb.rules,
            carrier=self.carrier,
            day=local_day(pb.settings.day.timezone),
            settings=pb.settings,
            printer=self._printer(),
            confirming=self.confirming,
            confirm_missing=self.confirm_missing,
        )
        if outcome is not None:
            return outcome
        return handle_scan(pb.db, pb.actor, scan.code, pb.rules)

    def show_outcome(self, outcome: ScanOutcome | PostOutcome) -> None:
        if not isinstance(outcome, PostOutcome):
            super().show_outcome(outcome)
            return
        self.carrier = outcome.carrier
        self.confirming = outcome.confirm_close
        self.confirm_missing = outcome.confirm_missing
        self.pb.feedback(outcome.kind, outcome.message)
        self.show_next()

    def after_scan(self, outcome: ScanOutcome | PostOutcome) -> None:
        self.refresh_data()

    # -- keys -------------------------------------------------------------------------------
    def action_command(self, name: str) -> None:
        """A key standing for a command barcode: queued like the scan it stands for."""
        code = f"{self.pb.settings.codes.command_prefix}{name}"
        self._queue_scan(Scanned(code, datetime.now(UTC), False, ()))

    def action_manifest(self) -> None:
        self._manifest()

    @work(thread=True, group="post-act", exit_on_error=False)
    def _manifest(self) -> None:
        pb = self.pb
        handover_id = last_closed_handover(pb.db)
        if handover_id is None:
            self.app.call_from_thread(pb.feedback, "error", "No handover has been closed yet.")
            return
        try:
            result = print_manifest(pb.db, pb.actor, pb.settings, self._printer(), handover_id)
        except Refused as exc:
            self.app.call_from_thread(pb.feedback, "error", exc.message)
            return
        kind = "ok" if result.ok else "error"
        self.app.call_from_thread(pb.feedback, kind, manifest_words(result.message))

    # -- showing ----------------------------------------------------------------------------
    def refresh_data(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="post-list", exit_on_error=False)
    def _load(self) -> None:
        groups = waiting_by_carrier(self.pb.db)
        transfers = transfer_problems(self.pb.db)
        self.app.call_from_thread(latest_only, get_current_worker(), self._show, groups, transfers)

    def _show(
        self, groups: list[CarrierGroup], transfers: list[TransferView] | None = None
    ) -> None:
        self.groups = groups
        self.transfers = transfers or []
        self.show_next()
        waiting = render_waiting(groups, self.carrier)
        if self.transfers:  # consignments the carrier has not had yet: first, in red
            waiting = Group(render_transfers(self.transfers), waiting)
        self.query_one("#waiting", Static).update(waiting)


def manifest_words(message: str) -> str:
    """A print's message as said after F10: "Manifest printed on …" as it is (it said
    "Manifest: Manifest printed on …"); a failure names the manifest ("Manifest not printed")."""
    if message.lower().startswith("manifest"):
        return message
    return f"Manifest {message[:1].lower()}{message[1:]}"


def render_cage(carrier: str | None, groups: list[CarrierGroup]) -> RenderableType:
    if carrier is None:
        return Text(
            "No handover in hand: the next parcel scanned chooses the carrier.", "bold cyan"
        )
    group = next((g for g in groups if g.carrier == carrier), None)
    inside = group.in_cage if group else 0
    left = len(group.missing) if group else 0
    if inside and not left:
        return plain(
            f"Handling {carrier}: all {inside} in the cage. "
            "Scan CMD-COMPLETE (or F7) to hand them over; F11 another carrier.",
            style="bold",
        )
    return plain(
        f"Handling {carrier}: {inside} in the cage, {left} not scanned. "
        "F7 closes the handover, F11 another carrier.",
        style="bold cyan",
    )


def render_transfers(transfers: list[TransferView]) -> RenderableType:
    """Consignments handed over whose transfer to the carrier has not gone through yet."""
    by_carrier: dict[str, list[TransferView]] = {}
    for t in transfers:
        by_carrier.setdefault(t.carrier, []).append(t)
    lines = []
    for carrier, items in by_carrier.items():
        why = next((t.last_error for t in reversed(items) if t.last_error), None)
        numbers = ", ".join(f"{t.order_number} {t.consignment_number}" for t in items[:5])
        more = f" and {len(items) - 5} more" if len(items) > 5 else ""
        lines.append(
            f"{carrier}: {len(items)} consignment{'s' if len(items) != 1 else ''} handed over "
            f"but not transferred yet ({numbers}{more})"
            + (f" — {why}" if why else "")
            + "; retried automatically."
        )
    return plain("\n".join(lines), style="bold red" if any(t.last_error for t in transfers)
                 else "yellow")  # fmt: skip


def render_waiting(groups: list[CarrierGroup], carrier: str | None) -> RenderableType:
    if not groups:
        return Text("No parcels waiting.", style="dim")
    parts: list[RenderableType] = []
    for group in groups:
        # The SSCC and tracking number whole (they are compared with the label in the hand);
        # at 80 columns the ruled table cut both to "3707123400…".
        table = Table(
            title=plain(
                f"{group.carrier or 'no carrier'} — {len(group.parcels)} waiting, "
                f"{group.in_cage} in the cage" + ("  ◀" if group.carrier == carrier else "")
            ),
            title_justify="left",
            expand=True,
            box=SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            padding=(0, 1, 0, 0),
        )
        table.add_column("", no_wrap=True)
        table.add_column("Since", no_wrap=True, overflow="ellipsis")
        table.add_column("Order", no_wrap=True)
        table.add_column("#", no_wrap=True, justify="right")
        table.add_column("SSCC", no_wrap=True, min_width=18)
        table.add_column("Tracking", no_wrap=True, overflow="fold")
        table.add_column("To", no_wrap=True, overflow="ellipsis", ratio=1)
        for w in group.parcels:
            mark = Text("✔", "green") if w.in_cage else Text("·" if w.printed else "!", "dim")
            table.add_row(
                *cells(
                    mark,
                    w.since.astimezone().strftime("%d.%m %H:%M"),
                    w.order_number,
                    str(w.seq),
                    w.sscc or "—",
                    w.tracking_number or "—",
                    w.city,
                )
            )
        parts.append(table)
    return Group(*parts)
