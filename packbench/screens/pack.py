"""Station 3: pack — scan every item against the order, box it, weigh it.

Everything a packer does here is a scan (slip, item, ``N*`` item, box code, weight such as
``1250g``, ``CMD-NEXT``, ``CMD-CONFIRM``, ``CMD-UNDO``) or a key that stands for one: F7 is
``CMD-NEXT``, F8 ``CMD-CONFIRM`` and Ctrl+Z ``CMD-UNDO``, queued like a scan so that keys and
scans are handled strictly in the order they came. Ctrl+R lets go of the order (a supervisor:
anyone's claim on it). The work itself is ``operations.packstation``; this screen shows what it
answered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import get_current_worker

from packbench.core.scale import band_text
from packbench.operations.common import Refused
from packbench.operations.orders import order_detail
from packbench.operations.pack_claims import claimed_order, open_for_packing, release_claim
from packbench.operations.pack_state import pack_view
from packbench.operations.pack_views import PackOutcome, PackRules, PackView, kg
from packbench.operations.packstation import pack_scan, record_weight
from packbench.operations.scans import ScanOutcome, handle_scan
from packbench.operations.views import OrderDetail
from packbench.screens.latest import latest_only
from packbench.screens.order_station import OrderStationScreen
from packbench.screens.pack_scale import ScaleFeed, ScaleRead, ScaleState, Weighed
from packbench.screens.plain import plain, shown
from packbench.screens.widgets.order_panel import OrderPanel
from packbench.screens.widgets.scanbar import Scanned
from packbench.screens.widgets.table_lines import TableLines


def _local(at: datetime | None) -> str:
    return at.astimezone().strftime("%H:%M") if at else "?"


class PackScreen(OrderStationScreen):
    STATION = "pack"
    TITLE_TEXT = "③ Pack — scan every item"
    HINT = "Scan a packing slip to open the order and claim it."

    BINDINGS: ClassVar = [
        *OrderStationScreen.BINDINGS,
        Binding("f7", "command('NEXT')", "Next parcel", id="pack.next"),
        Binding("f8", "command('CONFIRM')", "Confirm", id="pack.confirm"),
        Binding("ctrl+z", "command('UNDO')", "Undo last scan", id="pack.undo"),
        Binding("ctrl+r", "release", "Release order", id="pack.release"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view: PackView | None = None
        #: The order whose claim the person was offered to take over (CMD-CONFIRM takes it).
        self.takeover: int | None = None
        #: The bench scale, when ``[pack] scale`` names one.
        self.scale_feed: ScaleFeed | None = None
        #: ``[pack]`` as the operations take it, made once for the app's settings (every scan
        #: asks for it; it names the carrier products' limits, which take a while to build).
        self._rules: tuple[object, PackRules] | None = None

    def on_mount(self) -> None:
        from packbench.scale.base import ScaleError
        from packbench.scale.factory import make_scale

        try:
            port = make_scale(self.pb.settings.pack)
        except ScaleError as exc:
            self.pb.feedback("error", f"Scale: {exc}. Scan or type the weight.")
            return
        if port is not None:
            settle = self.pb.settings.pack.scale_settle
            self.scale_feed = ScaleFeed(self, port, settle=settle).start()

    def on_unmount(self) -> None:
        if self.scale_feed is not None:
            self.scale_feed.stop()

    def on_scale_read(self, message: ScaleRead) -> None:
        if self.scale_feed is not None:
            self.scale_feed.reading(message.reading)

    def on_scale_state(self, message: ScaleState) -> None:
        if self.scale_feed is not None:
            self.scale_feed.state(message.problem)

    @property
    def rules(self) -> PackRules:
        settings = self.pb.settings
        if self._rules is None or self._rules[0] is not settings:
            self._rules = (settings, PackRules.from_settings(settings))
        return self._rules[1]

    def ready_prompt(self) -> str:
        return "Scan a packing slip to open the order and claim it."

    # -- scans (in the scan worker's thread) ---------------------------------------------------
    def process_scan(self, scan: Scanned) -> ScanOutcome | PackOutcome:  # type: ignore[override]  # each station narrows the outcome it returns
        pb = self.pb
        order_id = self.view.order_id if self.view is not None else None
        outcome: PackOutcome | None
        if isinstance(scan, Weighed):  # the scale, not a scan
            if order_id is None:
                return PackOutcome(False, "The scale's weight came with no order open.", scan.code)
            grams = scan.grams
            outcome = record_weight(pb.db, pb.actor, self.rules, order_id, grams, raw=scan.code)
        else:
            outcome = pack_scan(
                pb.db,
                pb.actor,
                scan.code,
                pb.rules,
                self.rules,
                order_id=order_id,
                takeover=self.takeover,
            )
        if outcome is not None:
            if outcome.ok and outcome.finished and pb.settings.pack.ship_when_packed:
                return self._ship_here(outcome, scan.code)
            return outcome
        return handle_scan(pb.db, pb.actor, scan.code, pb.rules)

    def _ship_here(self, packed: PackOutcome, code: str) -> PackOutcome:
        """Pack and ship at one bench: the order just packed is shipped from here (its own
        transactions, after the packing committed), and the feedback says both."""
        from packbench.operations.shipping import ship_packed  # only a one-bench setup needs it
        from packbench.printing.cups import make_printer

        assert packed.view is not None
        pb = self.pb
        printer = make_printer(server=pb.settings.printers.server or None)
        try:
            shipped = ship_packed(pb.db, pb.actor, pb.settings, printer, packed.view.order_id, code)
        except Refused as exc:
            return replace(packed, ok=False, message=f"{packed.message} Not shipped: {exc.message}")
        return replace(packed, ok=shipped.ok, message=f"{packed.message} {shipped.message}")

    def show_outcome(self, outcome: ScanOutcome | PackOutcome) -> None:
        if not isinstance(outcome, PackOutcome):
            self.takeover = None  # an offer to take over lasts until the next scan
            super().show_outcome(outcome)
            return
        self.takeover = outcome.takeover
        self.pb.feedback("ok" if outcome.ok else "error", outcome.message)

    def _show_scan(self, outcome: ScanOutcome | PackOutcome) -> None:
        super()._show_scan(outcome)  # type: ignore[arg-type]  # handed on to the two above
        if self.scale_feed is not None:  # a weight on the scale the order may wait for now
            self.scale_feed.shown(outcome.code)

    def after_scan(self, outcome: ScanOutcome | PackOutcome) -> None:
        if isinstance(outcome, PackOutcome):
            if outcome.view is not None:
                # Shown at once, before the next queued scan is handled: that scan then goes to
                # this order, and the screen shows exactly what the operation committed.
                view = outcome.view
                shown = self.current.summary if self.current is not None else None
                self._apply_view(view)
                # The side panel (address, note, state) changes with the order or its state,
                # not with a unit scanned: reloading it on every scan doubled a scan's work.
                if shown is None or (shown.id, shown.status) != (view.order_id, view.status):
                    self._load_side(view.order_id)
            return
        if outcome.ok and outcome.packer is not None:
            self._resume_claimed()  # back after a restart: the order left open here
        elif outcome.ok and outcome.order_id is not None:
            self.open_order(outcome.order_id)

    # -- keys -------------------------------------------------------------------------------
    def action_command(self, name: str) -> None:
        """A key standing for a command barcode: queued like the scan it stands for."""
        code = f"{self.pb.settings.codes.command_prefix}{name}"
        self._queue_scan(Scanned(code, datetime.now(UTC), False, ()))

    def action_release(self) -> None:
        # The order just refused as someone else's (a supervisor releasing it), else the open one.
        target = self.takeover or (self.view.order_id if self.view is not None else None)
        if target is None:
            self.pb.feedback("error", "No order is open here to release.")
            return
        self._release(target)

    @work(thread=True, group="pack-act", exit_on_error=False)
    def _release(self, order_id: int) -> None:
        try:
            out = release_claim(self.pb.db, self.pb.actor, self.rules, order_id, code="Ctrl+R")
        except Refused as exc:
            self.app.call_from_thread(self.pb.feedback, "error", exc.message)
            return
        self.app.call_from_thread(self._released, out)

    def _released(self, out: PackOutcome) -> None:
        self.takeover = None
        self.pb.feedback("ok", out.message)
        self.wanted_id = None
        self.view = None
        self._show_pack(None, None)

    @work(thread=True, group="pack-act", exit_on_error=False)
    def _resume_claimed(self) -> None:
        actor = self.pb.actor
        order_id = claimed_order(self.pb.db, actor)
        if order_id is None:
            return
        try:
            out = open_for_packing(self.pb.db, actor, self.rules, order_id=order_id)
        except Refused:
            return
        self.app.call_from_thread(self.pb.feedback, "info", out.message)
        self.app.call_from_thread(self.open_order, order_id)

    # -- showing the order --------------------------------------------------------------------
    def open_order(self, order_id: int) -> None:
        self.wanted_id = order_id
        self._load_pack(order_id)

    def refresh_data(self) -> None:
        if self.wanted_id is not None:
            self._load_pack(self.wanted_id)

    @work(thread=True, exclusive=True, group="station-order", exit_on_error=False)
    def _load_pack(self, order_id: int) -> None:
        detail = order_detail(self.pb.db, order_id)
        view = pack_view(self.pb.db, self.pb.actor, self.rules, order_id)
        self.app.call_from_thread(latest_only, get_current_worker(), self._show_pack, detail, view)

    @work(thread=True, exclusive=True, group="pack-side", exit_on_error=False)
    def _load_side(self, order_id: int) -> None:
        detail = order_detail(self.pb.db, order_id)
        self.app.call_from_thread(latest_only, get_current_worker(), self._show_side, detail)

    def _show_side(self, detail: OrderDetail | None) -> None:
        if detail is not None and detail.summary.id != self.wanted_id:
            return  # a later order is open meanwhile
        self.current = detail
        # The parcels are in the main panel, kept up to date scan by scan; the side has the rest.
        self.query_one(OrderPanel).show(detail, events=False, lines=False, parcels=False)

    def main_widget(self) -> Widget:
        return PackPanel(self.HINT, id="main")

    def _apply_view(self, view: PackView | None) -> None:
        self.view = view
        if view is not None:
            self.wanted_id = view.order_id
        self.query_one(PackPanel).show(view)
        self.show_next()

    def next_step(self) -> str:
        return self.ready_prompt() if self.view is None else next_step(self.view)

    def _show_pack(self, detail: OrderDetail | None, view: PackView | None) -> None:
        # A cancelled thread worker still finishes: show only the order last asked for.
        if view is not None and view.order_id != self.wanted_id:
            return
        self._show_side(detail)
        self._apply_view(view)


# ----------------------------------------------------------------------------------- rendering


def next_step(view: PackView) -> str:
    """What the packer does next, in one line."""
    if not view.packable:
        if view.status == "packed":
            return "Packed. The ship station takes it from here — scan the next slip."
        if view.status == "packing" and not view.mine:
            return "Someone else has this order. Scan its slip again to see who."
        return "Nothing to pack here. Scan the next slip."
    current = view.current
    if view.pending_weight_g is not None:
        return "Weight warning: weigh again, or CMD-CONFIRM (F8) to accept it."
    if view.units_packed < view.units_total and (current is None or current.unit_count == 0):
        return "Scan each item as it goes in (N* before a code for N of it)."
    if current is None:
        return "Done."
    left = view.units_total - view.units_packed
    s = view.suggestion
    planned = (
        s.parcels[current.seq - 1] if s is not None and current.seq <= len(s.parcels) else None
    )
    suggested = f" — {planned.box} suggested" if planned is not None else ""
    if left and (planned is None or current.unit_count < sum(n for _, n in planned.units)):
        # This parcel is still being filled: the box may come now or later.
        if current.box_code is None:
            return (
                f"Scan the remaining items ({left} left); the box or bag for parcel "
                f"{current.seq} any time{suggested}."
            )
        return f"Scan the remaining items ({left} left), or F7 / CMD-NEXT to start the next parcel."
    if current.box_code is None:
        return f"Scan the box or bag code for parcel {current.seq}{suggested}."
    if current.weight_g == 0:
        # The band, not the expected weight: a figure to copy invites typing it unweighed.
        band = band_text(current.expected_weight_g, view.tolerance_pct)
        return f"Weigh parcel {current.seq}: {band} — on the scale, or scan or type it."
    if left:
        return "Scan the remaining items, or F7 / CMD-NEXT to start the next parcel."
    return "Done."


def _suggestion_panel(view: PackView) -> Panel:
    s = view.suggestion
    body = Text()
    if s is None:
        body.append("No suggestion yet.", style="dim")
    elif not s.parcels:
        body.append(f"No suggestion: {s.note or 'nothing to pack'}.", style="yellow")
    elif len(s.parcels) == 1:
        p = s.parcels[0]
        body.append(f"{p.box}", style="bold reverse")
        body.append(f"  {p.name or p.kind}  {p.fill:.0%} full\n")
        # What each weight is: the empty box's own, and the packed parcel's expected one.
        tare = f"{p.kind} {kg(p.tare_g)}, " if p.tare_g is not None else ""
        body.append(f"{tare}parcel ≈ {kg(p.weight_g)}\n")
        if s.learned:
            body.append("learned from the packers\n", style="bold magenta")
        if s.alternatives:
            body.append(f"runner-up: {', '.join(s.alternatives)}", style="dim")
    else:
        body.append(f"Nothing holds it all: {len(s.parcels)} parcels\n", style="bold yellow")
        for n, p in enumerate(s.parcels, start=1):
            units = ", ".join(f"{q}× {sku}" for sku, q in p.units)
            body.append(f"{n}. {p.box} ({p.fill:.0%} full): {units}\n")
    return Panel(body, title="Box", border_style="cyan")


def _head(view: PackView) -> Text:
    head = Text()
    head.append(f"Order {view.number}", style="bold")
    head.append(shown(f"  {view.customer}, {view.city}  ·  {view.shipping_method}  ·  "))
    if view.mine:
        head.append(f"yours since {_local(view.claimed_at)}", style="green")
    elif view.claimed_by:
        head.append(
            shown(f"claimed by {view.claimed_by} at {view.claim_terminal} since ")
            + _local(view.claimed_at),
            style="bold red",
        )
    else:
        head.append(view.status, style="yellow")
    return head


def _note(view: PackView) -> RenderableType | None:
    if not view.customer_note.strip():
        return None
    return Panel(
        plain(view.customer_note, style="bold"), title="Customer note", border_style="yellow"
    )


def _fragile(view: PackView) -> RenderableType | None:
    fragile = [ln for ln in view.lines if ln.fragile]
    if not fragile:
        return None
    names = ", ".join(ln.name for ln in fragile)
    return plain(f" FRAGILE: {names} — wrap before packing ", style="bold white on red")


def grid_lines(
    title: str, headers: tuple[str, ...], rows: list[tuple[list[Text], str]]
) -> list[Text]:
    """A table as aligned lines of text: title, header, one line per row, never wrapped.

    A Rich ``Table`` took 2–4 ms to draw for a few rows, the largest part of a scan's way to
    the screen; aligned text draws in a fraction of that, its height is its line count, and a
    scan that changes one row redraws that line only (:class:`TableLines`). ``rows`` are
    (cells, style of the whole row).
    """
    widths = [cell_len(h) for h in headers]
    for cells, _ in rows:
        for i, cell in enumerate(cells[:-1]):
            widths[i] = max(widths[i], cell.cell_len)
    out = [Text(title, style="bold underline", no_wrap=True, overflow="ellipsis", end="")]
    header = Text(no_wrap=True, overflow="ellipsis", end="")
    for i, name in enumerate(headers):
        last = i == len(headers) - 1
        header.append(name if last else name.ljust(widths[i]), style="bold dim")
        if not last:
            header.append("  ")
    out.append(header)
    for cells, style in rows:
        line = Text(style=style, no_wrap=True, overflow="ellipsis", end="")
        for i, cell in enumerate(cells):
            line.append_text(cell)
            if i < len(cells) - 1:
                line.append(" " * (widths[i] - cell.cell_len + 2))
        out.append(line)
    return out


def grid(title: str, headers: tuple[str, ...], rows: list[tuple[list[Text], str]]) -> Text:
    """:func:`grid_lines` as one text (for the whole order as one renderable)."""
    return Text("\n", no_wrap=True, overflow="ellipsis", end="").join(
        grid_lines(title, headers, rows)
    )


def _checklist(view: PackView) -> list[Text]:
    rows = []
    for ln in view.lines:
        name = plain(ln.name)
        if ln.fragile:
            name.append("  FRAGILE", style="bold white on red")
        if ln.keep_upright:
            name.append("  KEEP UPRIGHT", style="bold magenta")
        cells = [
            Text("✔" if ln.done else "☐"),
            Text(str(ln.quantity), justify="right"),
            Text(str(ln.packed)),
            plain(ln.sku),
            plain(ln.gtin or "—"),  # what the packer holds carries the GTIN, not the SKU
            name,
        ]
        rows.append((cells, "green" if ln.done else ""))
    return grid_lines("Checklist", ("", "Qty", "Packed", "SKU", "GTIN", "Product"), rows)


def _units(view: PackView) -> list[Text]:
    return [
        Text(
            f"{view.units_packed} of {view.units_total} units scanned",
            style="bold",
            no_wrap=True,
            overflow="ellipsis",
            end="",
        )
    ]


def _parcels(view: PackView) -> list[Text] | None:
    if not view.parcels:
        return None
    current = view.current
    rows = []
    for p in view.parcels:
        is_current = current is not None and p.seq == current.seq
        cells = [
            "▶" if is_current and view.packable else "",
            str(p.seq),
            p.box_code or "—",
            ", ".join(f"{q}× {sku}" for sku, q in p.units) or "—",
            # Nothing in it and no box yet: no weight to expect (it said 0.01 kg); until weighed,
            # the band it must fall in (a figure to copy invites typing it).
            "—"
            if not (p.units or p.box_code)
            else kg(p.expected_weight_g)
            if p.weight_g
            else band_text(p.expected_weight_g, view.tolerance_pct, short=True),
            kg(p.weight_g) if p.weight_g else "—",
            p.status,
        ]
        # The units go last: the one cell that may be long, cut short on a narrow screen.
        order = (0, 1, 2, 4, 5, 6, 3)
        rows.append(([plain(cells[i]) for i in order], "bold" if is_current else ""))
    return grid_lines("Parcels", ("", "#", "Box", "Expected", "Weighed", "Status", "Units"), rows)


def _warning(view: PackView) -> RenderableType | None:
    if view.pending_weight_g is None:
        return None
    return Text(
        f" Weight {kg(view.pending_weight_g)} for parcel {view.pending_weight_seq} is "
        f"off by more than {view.tolerance_pct:g} %: weigh again, or CMD-CONFIRM (F8). ",
        style="bold white on red",
    )


#: The sections of the open order, top to bottom: each is drawn from the part of the view it
#: shows (its key), so a scan redraws only the sections it changed. The next step is not one of
#: them: it is the station's pinned line above the scan bar (:meth:`PackScreen.next_step`).
SECTIONS: tuple[tuple[str, Callable[[PackView], object], Callable[[PackView], Any]], ...] = (
    (
        "head",
        lambda v: (
            v.number,
            v.customer,
            v.city,
            v.shipping_method,
            v.mine,
            v.claimed_by,
            v.claim_terminal,
            v.claimed_at,
            v.status,
        ),
        _head,
    ),
    ("note", lambda v: v.customer_note, _note),
    ("fragile", lambda v: tuple(ln.name for ln in v.lines if ln.fragile), _fragile),
    ("check", lambda v: v.lines, _checklist),
    ("units", lambda v: (v.units_packed, v.units_total), _units),
    # The parcels before the box advice: on a short terminal what is cut is the advice (the
    # next-step line names the suggested box), not the parcel being filled.
    ("parcels", lambda v: (v.parcels, v.current, v.packable), _parcels),
    ("warning", lambda v: (v.pending_weight_g, v.pending_weight_seq, v.tolerance_pct), _warning),
    ("box", lambda v: v.suggestion, _suggestion_panel),
)


def render_pack(view: PackView) -> RenderableType:
    """The whole open order as one renderable (what the sections show, top to bottom, then the
    next step)."""
    parts = [make(view) for _, _, make in SECTIONS] + [Text(next_step(view), style="bold cyan")]
    shown = [Text("\n", end="").join(p) if isinstance(p, list) else p for p in parts]
    return Group(*[p for p in shown if p is not None])


#: The sections drawn as table lines: a scan redraws the rows it changed, not the table.
TABLES = frozenset({"check", "units", "parcels"})


class PackPanel(Vertical):
    """The open order, one widget per section; a scan redraws only the sections it changed.

    Measured with ``benchmarks/volume.py`` (scan to screen): drawing the whole order as one
    renderable made every unit scan re-measure and re-draw the checklist, box and parcel
    tables, and re-lay-out the screen. Now a scan redraws the sections it changed, and the
    tables (:class:`TableLines`), whose rows never wrap, redraw the rows it changed: a unit
    ticked redraws its checklist row and its parcel's row, and needs no layout unless a row
    came or went.
    """

    DEFAULT_CSS = """
    PackPanel { height: auto; }
    PackPanel > Static { height: auto; }
    """

    def __init__(self, hint: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.hint = hint
        self._keys: dict[str, object] = {}
        self._view: PackView | None = None
        self._width = 0

    def compose(self) -> ComposeResult:
        yield Static(Text(self.hint, style="dim"), classes="pack-hint")
        for name, _, _ in SECTIONS:
            yield TableLines(id=f"pack-{name}") if name in TABLES else Static(id=f"pack-{name}")

    def on_mount(self) -> None:
        self._hint = self.query_one(".pack-hint", Static)
        self._sections = {name: self.query_one(f"#pack-{name}", Static) for name, _, _ in SECTIONS}
        for widget in self._sections.values():
            widget.display = False

    def show(self, view: PackView | None) -> None:
        self._view = view
        if self._hint.display != (view is None):
            self._hint.display = view is None
        for name, key_of, make in SECTIONS:
            widget = self._sections[name]
            key = None if view is None else (view.order_id, key_of(view))
            if name in self._keys and self._keys[name] == key:
                continue
            self._keys[name] = key
            content = None if view is None else make(view)
            if widget.display != (content is not None):
                widget.display = content is not None
            if content is None:
                continue
            if isinstance(widget, TableLines):
                widget.show_lines(content)  # its height is its line count
                continue
            widget.update(content, layout=False)
            height = self._measure(widget)
            if height is None:  # not laid out yet: Textual measures it
                widget.styles.height = "auto"
                widget.refresh(layout=True)
            elif widget.styles.height is None or widget.styles.height.value != height:
                widget.styles.height = height  # a new height: Textual lays out again

    def _measure(self, widget: Static) -> int | None:
        """The lines a section's new content takes at this panel's width, as Textual will draw
        them, or None before the first layout.

        Measured here, one section: a height left to Textual made every change of the
        next-step line (each unit that finishes or reopens an order) lay out the whole screen
        again, 8–16 ms measured by ``benchmarks/volume.py``.
        """
        width = self.content_size.width
        if width <= 0:
            return None
        size = Size(width, max(1, self.size.height))
        return widget.get_content_height(size, size, width)

    def on_resize(self) -> None:
        """A new width wraps the sections differently: measure them again (a new height,
        which each section that grows or shrinks brings, changes nothing here)."""
        if self.content_size.width != self._width:
            self._width = self.content_size.width
            self._keys.clear()
            self.show(self._view)

    @property
    def renderables(self) -> list[RenderableType]:
        """What is shown, top to bottom (for tests and the text of the screen)."""
        return [w.content for w in self.query(Static) if w.display]  # type: ignore[misc]  # a Static's content is a renderable
