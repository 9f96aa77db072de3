"""The supervisor's dashboard: the whole bench at once, refreshed without piling up.

Every figure comes from ``operations.supervisor.bench_figures`` in a thread worker; the next
refresh is scheduled only after the last one was shown, and a hidden dashboard does not poll.
What needs the supervisor is at the top: the exceptions table lists what is stuck (holds, stale
claims, parked pushes, failed prints, consignments the carrier has not had), then the queue
alerts and the shortages; the pace chart, the states and the team follow, a ↓ past the last
exception or a PageDown away. F7 resolves the selected exception, each resolution logged;
Ctrl+S marks a failed slip job printed. F8 assigns a person to a station for the day.
Scanning an order's slip (or F12) opens its full history.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import ClassVar

from rich import box
from rich.cells import cell_len
from rich.console import Group
from rich.table import Column, Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from packbench.core.rhythm import chart_hours
from packbench.operations.common import Refused
from packbench.operations.outbox import discard_parked, retry_parked
from packbench.operations.pick_views import ShortageView, list_shortages
from packbench.operations.supervisor import (
    BenchFigures,
    ExceptionRow,
    StatusRow,
    bench_figures,
    release_hold,
)
from packbench.operations.team import RosterRow
from packbench.screens.base import StationScreen
from packbench.screens.dialogs import AskReason
from packbench.screens.latest import latest_only
from packbench.screens.plain import cells, plain
from packbench.screens.widgets.pace_chart import pace_chart
from packbench.screens.widgets.table import SizedTable

REFRESH_S = 2.0
NEEDS_KEYS = "↑/↓ choose · F7 resolve · Ctrl+S mark printed · Ctrl+Y retry · Ctrl+B discard"
#: Below 100 columns: one line (the key bar at the bottom names the rest).
NEEDS_KEYS_SHORT = "↑/↓ choose · F7 resolve"
SHORTAGES_SHOWN = 8  # the rest are counted, so the sections under them stay in reach


def _age(then: datetime | None, now: datetime) -> str:
    if then is None:
        return ""
    minutes = int((now - then).total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes // (24 * 60)} days"


def _ref(row: ExceptionRow) -> str:
    """The order or item a row is about; a sync problem's key as the shop's ids say it."""
    if row.kind == "shop":
        kind, _, ident = row.ref.removeprefix("problem.").partition(".")
        return f"{'product' if kind == 'product' else 'order id'} {ident}"
    return row.ref


def _orders(n: int) -> str:
    return f"{n} order" if n == 1 else f"{n} orders"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _local(t: datetime, tz: tzinfo) -> str:
    """A time on the bench's clock ([day] timezone), not the terminal machine's."""
    return t.astimezone(tz).strftime("%H:%M")


class DashboardScreen(StationScreen):
    STATION = "dashboard"
    TITLE_TEXT = "Supervisor dashboard"

    BINDINGS: ClassVar = [
        *StationScreen.BINDINGS,
        Binding("f7", "resolve", "Resolve selected", id="dashboard.resolve"),
        Binding("ctrl+s", "mark_printed", "Mark printed", id="dashboard.mark_printed"),
        Binding("ctrl+y", "retry_parked", "Retry parked", id="dashboard.retry"),
        Binding("ctrl+b", "discard_parked", "Discard parked", id="dashboard.discard"),
        Binding("f8", "assign", "Assign station", id="dashboard.assign"),
        Binding("f12", "history", "Order history", id="dashboard.history"),
        Binding("f10", "box_advisor", "Box advisor", id="dashboard.box_advisor"),  # #6
        Binding("f11", "settlement", "Settlement", id="dashboard.settlement"),  # #15
        Binding("pagedown", "page('down')", "Page down", show=False),
        Binding("pageup", "page('up')", "Page up", show=False),
    ]

    DEFAULT_CSS = """
    DashboardScreen #needs-title { text-style: bold; }
    DashboardScreen #exceptions { height: auto; max-height: 12; }
    DashboardScreen #exception-detail { padding: 0 1; }
    DashboardScreen #alerts, DashboardScreen #shortages, DashboardScreen #pace,
    DashboardScreen #states { margin-bottom: 1; }
    """

    def compose_body(self) -> ComposeResult:
        # What needs the supervisor comes first: the exceptions, the queue alerts and the
        # shortages fill the top of the screen; the pace, the states and the team follow and
        # scroll (↓ past the last exception, PageDown).
        with VerticalScroll(id="dash-scroll", classes="station-main full-width"):
            yield Static("Needs a supervisor", id="needs-title")
            table: DataTable[str | Text] = SizedTable(
                id="exceptions", cursor_type="row", zebra_stripes=True
            )
            table.can_focus = False  # ↑/↓ reach it through the screen, keys stay with the scan
            yield table
            # The chosen exception in full: on a narrow terminal the table cuts its details.
            yield Static("", id="exception-detail")
            yield Static("", id="alerts")  # queues, and where help is needed
            yield Static("", id="shortages")  # #5: what short picks left missing
            yield Static("", id="pace")
            yield Static("", id="states")
            yield Static("", id="team")

    def on_mount(self) -> None:
        self.rows: list[StatusRow] = []
        self.figures: BenchFigures | None = None
        self.exceptions: list[ExceptionRow] = []
        self._next: Timer | None = None
        self.query_one("#exceptions", DataTable).add_columns(
            "What", "Order / item", "Since", "Details"
        )

    def on_screen_resume(self) -> None:
        self._poll()

    def on_screen_suspend(self) -> None:
        if self._next is not None:
            self._next.stop()
            self._next = None

    def ready_prompt(self) -> str:
        return "Scan an order's slip or a parcel label to see its whole history."

    def refresh_data(self) -> None:
        self._poll()

    @work(thread=True, exclusive=True, group="dashboard", exit_on_error=False)
    def _poll(self) -> None:
        settings = self.pb.settings
        figures = bench_figures(self.pb.db, settings.day, pick_at_pack=settings.pack.pick_at_pack)
        shortages = list_shortages(self.pb.db)  # #5
        self.app.call_from_thread(
            latest_only, get_current_worker(), self._show_polled, figures, shortages
        )

    def _show_polled(self, figures: BenchFigures, shortages: list[ShortageView]) -> None:
        self._show_shortages(shortages)
        self._show(figures)

    def _show_shortages(self, rows: list[ShortageView]) -> None:
        """#5: lines a short pick left missing, on orders not yet shipped."""
        widget = self.query_one("#shortages", Static)
        if not rows:
            widget.update(Text("Shortages: none — every pick found what it needed.", style="dim"))
            return
        table = Table(
            "Order", "State", "SKU", "Item", "Location", "Missing", "Found",
            title=f"Shortages from short picks: {len(rows)}", title_justify="left",
            title_style="bold", expand=True, box=box.SIMPLE_HEAD, show_edge=False,
        )  # fmt: skip
        for r in rows[:SHORTAGES_SHOWN]:
            table.add_row(*cells(
                r.order_number, r.status_label, r.sku, r.name[:30], r.location or "—",
                Text(str(r.short), style="bold red"), f"{r.picked} of {r.quantity}",
            ))  # fmt: skip
        more = len(rows) - SHORTAGES_SHOWN
        if more > 0:
            widget.update(Group(table, Text(f"… and {more} more", "dim")))
        else:
            widget.update(table)

    # -- showing ------------------------------------------------------------------------------
    def _show(self, f: BenchFigures) -> None:
        self.figures = f
        self.rows = f.states
        self._show_exceptions(f.exceptions)
        self.query_one("#alerts", Static).update(self._alerts(f))
        self.query_one("#pace", Static).update(self._pace_panel(f))
        self.query_one("#states", Static).update(self._states_table(f))
        self.query_one("#team", Static).update(self._team_panel(f.team, f))
        # The next poll is scheduled only after this one has been shown, and only one chain
        # of polls exists: refreshes never pile up, and a hidden dashboard does not poll.
        if self._next is not None:
            self._next.stop()
        self._next = self.set_timer(REFRESH_S, self._poll) if self.is_current else None

    def _states_table(self, f: BenchFigures) -> Table:
        table = Table(
            "State", "Orders", "Oldest", "Waiting", "For station",
            expand=True, title=f"Orders per state — completed today: {f.completed_today}",
            title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, show_edge=False,
        )  # fmt: skip
        for r in f.states:
            style = "bold" if r.count else "dim"
            table.add_row(
                *cells(
                    Text(r.label, style=style),
                    str(r.count),
                    r.oldest_number or "",
                    _age(r.oldest_at, f.at),
                    r.station or "",
                )
            )
        return table

    def _pace_panel(self, f: BenchFigures) -> Group:
        p = f.pace
        if p.must_ship == 0:
            verdict = Text("✔ Everything paid before the cut-off has shipped.", style="bold green")
        elif p.on_pace:
            verdict = Text(
                f"✔ On pace: shipping {p.rate_per_hour:.0f}/h, {p.needed_per_hour:.1f}/h needed.",
                style="bold green",
            )
        elif p.hours_left <= 0:
            verdict = Text(
                f"✘ The shift is over with {_orders(p.must_ship)} not shipped.",
                style="bold white on red",
            )
        else:
            verdict = Text(
                f"✘ Behind: shipping {p.rate_per_hour:.0f}/h, {p.needed_per_hour:.1f}/h needed "
                f"— about {p.projected_missed} will miss today's shipping.",
                style="bold white on red",
            )
        head = Text()
        tz = self.pb.settings.day.tz()
        head.append(f"Cut-off {_local(f.cutoff, tz)}: ", style="bold")
        head.append(f"{_orders(p.must_ship)} must still ship today; ")
        head.append(f"{p.shipped_today} shipped so far; shift ends {_local(f.shift_end, tz)}.")
        now_hour = f.at.astimezone(tz).hour
        end = f.shift_end.astimezone(tz)
        hours = chart_hours(f.packed_per_hour, now_hour, end.hour + (1 if end.minute else 0))
        needed = p.needed_per_hour if p.must_ship and p.hours_left > 0 else None
        title = Text("Orders packed per hour", style="bold")
        if needed is not None:
            title.append("  ┄ the pace the cut-off needs now", style="yellow")
        chart = pace_chart(
            f.packed_per_hour,
            hours,
            now_hour,
            needed,
            needed_label=f"{needed:.0f}/h needed" if needed is not None else "",
        )
        return Group(head, verdict, title, chart)

    def _alerts(self, f: BenchFigures) -> Group:
        """The queues and where help is needed: what a supervisor acts on next."""
        loads = Text("Waiting (people there): ", style="bold")
        for n, load in enumerate(f.loads):
            loads.append(" · " if n else "")
            loads.append(f"{load.station} ", style="bold")
            loads.append(f"{load.waiting} ({load.people})")
        parts: list[Text] = [loads]
        for a in f.advice:
            style = "bold yellow" if a.severity == "warn" else "cyan"
            parts.append(plain(("⚠ " if a.severity == "warn" else "→ ") + a.message, style=style))
        if not f.advice:
            parts.append(Text("Every station keeps up.", style="green"))
        return Group(*parts)

    def _team_panel(self, team: list[RosterRow], f: BenchFigures) -> Table:
        # Ruled like the shortages, one space between columns: at 80 columns every figure
        # and every name shows whole (boxed, "Kari Nordmann" was cut to "Nordma…").
        table = Table(
            Column("Who", no_wrap=True), "Assigned", "Now at", "Orders", "Units", "Scan errors",
            "Min/order", "Last seen",
            expand=True, title="The team today", title_justify="left", title_style="bold",
            box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True, pad_edge=False,
        )  # fmt: skip
        for m in team:
            errors = f"{m.scan_errors} ({m.error_rate:.0%})" if m.scans else "0"
            table.add_row(
                *cells(
                    plain(m.name + (" ★" if m.role == "supervisor" else ""), style="bold"),
                    m.assigned or "—",
                    plain(m.at_station or "away", style="" if m.at_station else "dim"),
                    str(m.orders),
                    str(m.units),
                    Text(errors, style="red" if m.scan_errors else ""),
                    f"{m.median_order_min:g}" if m.median_order_min is not None else "—",
                    _age(m.last_seen, f.at) if m.last_seen else "—",
                )
            )
        return table

    def _show_exceptions(self, rows: list[ExceptionRow]) -> None:
        table = self.query_one("#exceptions", DataTable)
        chosen = self._chosen()
        self.exceptions = rows
        table.clear()
        title = self.query_one("#needs-title", Static)
        table.display = bool(rows)
        width = self.query_one("#dash-scroll").size.width
        if rows:
            keys = NEEDS_KEYS if width >= 100 else NEEDS_KEYS_SHORT
            title.update(
                Text.assemble(
                    (f"Needs a supervisor: {len(rows)}", "bold red"), (f"  {keys}", "dim")
                )
            )
        else:
            title.update(Text("✔ Nothing needs a supervisor.", style="bold green"))
        names = {
            "hold": "On hold",
            "claim": "Stale claim",
            "parked": "Parked",
            "print": "Print",
            "sync": "Sync failed",
            "shop": "From the shop",
            "transfer": "Not transferred",
        }
        at = self.figures.at if self.figures else datetime.now().astimezone()
        shown = [
            (
                names.get(row.kind, row.kind),
                _cut(_ref(row), 28 if width >= 100 else 24),
                _age(row.since, at) if row.since else "",
            )
            for row in rows
        ]
        # The details take what the other columns leave (each column is as wide as its widest
        # cell, plus a space either side; two more for the table's own scroll bar): a long
        # reason or path must not push the table wider than the screen (it grew a sideways
        # scroll bar at 80 columns). The chosen row's details are shown whole under the table.
        used = sum(
            max([cell_len(header), *(cell_len(cols[n]) for cols in shown)]) + 2
            for n, header in enumerate(("What", "Order / item", "Since"))
        )
        room = max(12, width - used - 2 - 2)
        for i, (row, (what, ref, since)) in enumerate(zip(rows, shown, strict=True)):
            table.add_row(
                *cells(
                    plain(what, style="bold red"),
                    ref,
                    since,
                    _cut(row.detail, room),  # the shop's error, a person's reason: plain text
                ),
                key=str(i),
            )
        if chosen is not None:
            for i, row in enumerate(rows):
                if (row.kind, row.ref) == (chosen.kind, chosen.ref):
                    table.move_cursor(row=i)
                    break
        self._show_detail()

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        """The chosen exception's details in full, wrapped, under the table."""
        row = self._chosen()
        widget = self.query_one("#exception-detail", Static)
        widget.display = row is not None
        if row is not None:
            widget.update(plain(f"▶ {_ref(row)}: {row.detail}", style="dim"))

    def _chosen(self) -> ExceptionRow | None:
        table = self.query_one("#exceptions", DataTable)
        if table.row_count == 0 or not self.exceptions:
            return None
        row = table.cursor_row
        return self.exceptions[row] if 0 <= row < len(self.exceptions) else None

    def action_cursor(self, direction: str) -> None:
        """↑/↓ choose among the exceptions at the top; ↓ past the last one scrolls the rest
        of the dashboard into view, ↑ scrolls back to the top before choosing again."""
        scroll = self.query_one("#dash-scroll", VerticalScroll)
        table = self.query_one("#exceptions", DataTable)
        rows = table.row_count if table.display else 0
        at_top = scroll.scroll_y <= 0
        if direction == "up":
            if not at_top:
                scroll.scroll_up(animate=False, immediate=True)
            elif rows:
                table.action_cursor_up()
        elif at_top and rows and table.cursor_row < rows - 1:
            table.action_cursor_down()
        else:
            scroll.scroll_down(animate=False, immediate=True)

    def action_page(self, direction: str) -> None:
        scroll = self.query_one("#dash-scroll", VerticalScroll)
        if direction == "up":
            scroll.scroll_page_up(animate=False)
        else:
            scroll.scroll_page_down(animate=False)

    # -- acting -------------------------------------------------------------------------------
    def action_resolve(self) -> None:
        row = self._chosen()
        if row is None:
            self.pb.feedback("info", "Nothing needs a supervisor right now.")
            return
        if row.kind == "parked":
            self.action_retry_parked()
        elif row.kind == "hold" and row.order_id is not None:
            order_id = row.order_id

            def done(note: str | None) -> None:
                if note:
                    self._release(order_id, row.ref, note)

            self.app.push_screen(AskReason(f"Release order {row.ref} from hold: why?"), done)
        elif row.kind == "print":
            self.pb.action_print_history()  # reprint there, on its queue or another
        elif row.kind == "claim" and row.order_id is not None:
            self._release_claim(row.order_id, row.ref)
        elif row.kind == "shop":
            key = row.ref

            def seen(note: str | None) -> None:
                if note:
                    self._dismiss_problem(key, note)

            self.app.push_screen(AskReason(f"{row.detail[:120]} — done what about it?"), seen)
        elif row.kind == "sync":
            self.pb.feedback("info", f"The last sync round failed: {row.detail[:120]}")
        elif row.kind == "transfer" and row.item_id is not None:
            self.pb.feedback("info", f"Sending order {row.ref}'s consignment to the carrier…")
            self._send_transfer(row.item_id)

    @work(thread=True, group="dashboard-act", exit_on_error=False)
    def _send_transfer(self, transfer_id: int) -> None:
        """A waiting carrier transfer sent now, not after its back-off (with what else is due)."""
        from packbench.operations.carrier_transfer import retry_transfer, send_transfers

        pb = self.pb
        try:
            retry_transfer(pb.db, pb.actor, transfer_id)
        except Refused as exc:
            self.app.call_from_thread(pb.feedback, "error", exc.message)
            return
        report = send_transfers(pb.db, pb.actor, pb.settings.ship)
        said = report.message or "Nothing was sent: it is being sent elsewhere."
        said = said[:1].upper() + said[1:] + "."
        self.app.call_from_thread(pb.feedback, "error" if report.failed else "ok", said)
        self.app.call_from_thread(self._poll)

    def action_mark_printed(self) -> None:
        """No printer works: the chosen failed slip job's slips count as printed, with a
        reason kept in the audit trail (the supervisor's PIN opened the dashboard)."""
        row = self._chosen()
        if row is None or row.kind != "print" or row.item_id is None:
            self.pb.feedback("error", "Choose a failed slip print first (↑/↓), then Ctrl+S.")
            return
        if not row.ref.startswith("slip "):
            self.pb.feedback("error", f"{row.ref} is no slip; only slips are marked printed.")
            return
        job_id = row.item_id

        def done(reason: str | None) -> None:
            if reason:
                self._mark_printed(job_id, reason)

        self.app.push_screen(
            AskReason(f"Job {job_id} ({row.ref}) did not print. Count its slips as printed: why?"),
            done,
        )

    @work(thread=True, group="dashboard-act", exit_on_error=False)
    def _mark_printed(self, job_id: int, reason: str) -> None:
        from packbench.operations.slips import mark_slips_printed

        try:
            result = mark_slips_printed(self.pb.db, self.pb.actor, reason, print_job_id=job_id)
        except Refused as exc:
            self.app.call_from_thread(self.pb.feedback, "error", exc.message)
            return
        self.app.call_from_thread(self.pb.feedback, "ok", result.message)
        self.app.call_from_thread(self._poll)

    @work(thread=True, group="dashboard-act", exit_on_error=False)
    def _dismiss_problem(self, key: str, note: str) -> None:
        from packbench.operations.syncing import dismiss_problem

        try:
            dismiss_problem(self.pb.db, self.pb.actor, key, note)
        except Refused as exc:
            self.app.call_from_thread(self.pb.feedback, "error", exc.message)
            return
        self.app.call_from_thread(self.pb.feedback, "ok", "Sync problem dismissed.")
        self.app.call_from_thread(self._poll)

    @work(thread=True, group="dashboard-act", exit_on_error=False)
    def _release_claim(self, order_id: int, number: str) -> None:
        """A stale claim let go: the order can be opened at any pack terminal, progress kept."""
        from packbench.operations.pack_claims import release_claim
        from packbench.operations.pack_views import PackRules

        rules = PackRules.from_settings(self.pb.settings)
        out = release_claim(self.pb.db, self.pb.actor, rules, order_id, code=f"ORD-{number}")
        self.app.call_from_thread(self.pb.feedback, "ok" if out.ok else "error", out.message)
        self.app.call_from_thread(self._poll)

    @work(thread=True, group="dashboard-act", exit_on_error=False)
    def _release(self, order_id: int, number: str, note: str) -> None:
        try:
            release_hold(self.pb.db, self.pb.actor, order_id, note)
        except Refused as exc:
            self.app.call_from_thread(self.pb.feedback, "error", exc.message)
            return
        self.app.call_from_thread(self.pb.feedback, "ok", f"Order {number} released from hold.")
        self.app.call_from_thread(self._poll)

    def _chosen_parked(self) -> int | None:
        row = self._chosen()
        if row is None or row.kind != "parked" or row.item_id is None:
            return None
        return row.item_id

    def action_retry_parked(self) -> None:
        item = self._chosen_parked()
        if item is None:
            self.pb.feedback("error", "Choose a parked change first (↑/↓).")
            return
        self._act(item, None)

    def action_discard_parked(self) -> None:
        item = self._chosen_parked()
        if item is None:
            self.pb.feedback("error", "Choose a parked change first (↑/↓).")
            return

        def done(reason: str | None) -> None:
            if reason:
                self._act(item, reason)

        self.app.push_screen(AskReason(f"Why discard outbox item {item}?"), done)

    @work(thread=True, group="dashboard-act", exit_on_error=False)
    def _act(self, item_id: int, discard_reason: str | None) -> None:
        try:
            if discard_reason is None:
                retry_parked(self.pb.db, self.pb.actor, item_id)
                message = f"Outbox item {item_id} will be sent again."
            else:
                discard_parked(self.pb.db, self.pb.actor, item_id, discard_reason)
                message = f"Outbox item {item_id} discarded."
        except Refused as exc:
            self.app.call_from_thread(self.pb.feedback, "error", exc.message)
            return
        self.app.call_from_thread(self.pb.feedback, "ok", message)
        self.app.call_from_thread(self._poll)

    def action_assign(self) -> None:
        from packbench.screens.dialogs import AssignStation

        self.app.push_screen(AssignStation(), self._after_assign)

    def _after_assign(self, _: object) -> None:
        self._poll()

    def action_day_report(self) -> None:
        """Print today's day report on this station's A4 printer (command palette)."""
        self.pb.feedback("info", "Printing today's day report…")
        self._print_report()

    @work(thread=True, exclusive=True, group="dashboard-report", exit_on_error=False)
    def _print_report(self) -> None:
        from packbench.data.types import utcnow
        from packbench.operations.report import print_day_report

        day = utcnow().astimezone(self.pb.settings.day.tz()).date()
        result = print_day_report(self.pb.db, self.pb.actor, self.pb.settings, day)
        self.app.call_from_thread(self.pb.feedback, "ok" if result.ok else "error", result.message)

    def action_history(self) -> None:
        from packbench.screens.audit import AuditTrail

        self.app.push_screen(AuditTrail())

    def action_box_advisor(self) -> None:  # #6: the standard-box advisor
        from packbench.screens.box_advice import BoxAdvisorScreen

        self.app.push_screen(BoxAdvisorScreen())

    def action_settlement(self) -> None:  # #15: payouts and the clearing account
        from packbench.screens.settlement import SettlementView

        self.app.push_screen(SettlementView())

    def open_order(self, order_id: int) -> None:
        """A scanned slip or label at the dashboard opens the order's whole history."""
        from packbench.screens.audit import AuditTrail

        self.app.push_screen(AuditTrail(order_id=order_id))
