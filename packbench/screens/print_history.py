"""Print history: the recent jobs and how each ended; reprint one here or on another printer.

Opened app-wide with F9 (and from the command palette). Enter reprints the selected job's
document on the queue it went to; F8 first asks which CUPS queue to use instead. A reprint is a
new job in the history, the old row stays as it was. The database and CUPS are only touched
in thread workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from packbench.operations.common import Refused
from packbench.operations.printing import PrintJobView, PrintResult, print_history, reprint
from packbench.screens.dialogs import AskReason
from packbench.screens.latest import latest_only
from packbench.screens.plain import cells, plain
from packbench.screens.widgets.table import SizedTable

if TYPE_CHECKING:
    from packbench.app import PackbenchApp
    from packbench.printing.cups import QueueInfo

HISTORY_LIMIT = 200
_STATE_STYLE = {"completed": "green", "submitted": "yellow", "marked": "cyan"}  # marked: no printer


class ChooseQueue(ModalScreen[str | None]):
    """The CUPS queues with their state; Enter picks one, Esc goes back."""

    BINDINGS: ClassVar = [Binding("escape", "dismiss(None)", "Back")]

    def __init__(self, job: PrintJobView) -> None:
        super().__init__()
        self.job = job

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                plain(
                    f"Reprint job {self.job.id} ({self.job.kind} {self.job.ref}) on which "
                    "printer? (↑/↓, Enter; Esc goes back)"
                ),
                classes="dialog-title",
            )
            yield Static("Asking CUPS for its printers…", id="queue-status")
            yield OptionList(id="queues")

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exit_on_error=False)
    def _load(self) -> None:
        from packbench.printing.cups import PrintError, make_printer

        app: PackbenchApp = self.app  # type: ignore[assignment]  # Textual types self.app as App: here it is PackbenchApp
        try:
            queues = make_printer(server=app.settings.printers.server or None).queues()
        except PrintError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self._fill, queues)

    def _failed(self, message: str) -> None:
        self.query_one("#queue-status", Static).update(plain(message, style="bold red"))

    def _fill(self, queues: list[QueueInfo]) -> None:
        options = self.query_one(OptionList)
        for q in queues:
            usable = q.accepting and q.state != "stopped"
            label = plain(q.name, style="" if usable else "dim")
            label.append_text(plain(f"  {q.state}{'' if q.accepting else ', not accepting jobs'}"))
            if q.name == self.job.printer:
                label.append("  (where it went)", style="italic")
            options.add_option(Option(label, id=q.name))
        self.query_one("#queue-status", Static).update(f"{len(queues)} printers")
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)


class PrintHistoryScreen(ModalScreen[None]):
    """Recent print jobs, newest first; failed ones in red. Enter reprints, F8 elsewhere."""

    BINDINGS: ClassVar = [
        Binding("escape", "dismiss", "Close"),
        Binding("f8", "reprint_elsewhere", "Reprint on…", id="print_history.elsewhere"),
        Binding("ctrl+s", "mark_printed", "Mark printed", id="print_history.mark_printed"),
        Binding("ctrl+r", "refresh", "Refresh", id="print_history.refresh"),
    ]

    DEFAULT_CSS = """
    PrintHistoryScreen { align: center middle; }
    PrintHistoryScreen > Vertical { width: 95%; height: 90%; background: $surface;
                                    border: thick $primary; }
    PrintHistoryScreen #ph-title { height: auto; padding: 0 1; text-style: bold; }
    PrintHistoryScreen #ph-status { height: auto; padding: 0 1; }
    PrintHistoryScreen DataTable { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[PrintJobView] = []
        self.busy = False
        #: Every reprint's outcome, in order (tests read it).
        self.results: list[PrintResult] = []

    @property
    def pb(self) -> PackbenchApp:
        return self.app  # type: ignore[return-value]  # Textual types self.app as App: here it is PackbenchApp

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                "Print history — Enter reprints on the same printer, F8 on another; "
                "Ctrl+S marks a failed slip job printed (supervisor); Ctrl+R refreshes; Esc closes",
                id="ph-title",
            )
            yield Static("Loading…", id="ph-status")
            yield SizedTable(id="ph-jobs", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Job", "When", "Kind", "What", "Printer", "State", "Why")
        table.focus()
        self.action_refresh()

    # -- the list -----------------------------------------------------------------------------
    def action_refresh(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="print-history", exit_on_error=False)
    def _load(self) -> None:
        jobs = print_history(self.pb.db, limit=HISTORY_LIMIT)
        self.app.call_from_thread(latest_only, get_current_worker(), self._show, jobs)

    def _show(self, jobs: list[PrintJobView]) -> None:
        table = self.query_one(DataTable)
        keep = self.selected.id if self.selected else None
        self.jobs = jobs
        table.clear()
        for j in jobs:
            failed = j.status not in _STATE_STYLE
            state = plain(j.status, style=_STATE_STYLE.get(j.status, "bold red"))
            if j.reprint_of:
                state.append(f" (reprint of {j.reprint_of})", style="dim")
            table.add_row(
                *cells(
                    str(j.id),
                    j.created_at.astimezone().strftime("%d.%m %H:%M:%S"),
                    j.kind,
                    j.ref[:60],
                    j.printer,
                    state,
                    plain(j.error or "", style="red" if failed else ""),  # CUPS's words
                ),
                key=str(j.id),
            )
        if keep is not None and str(keep) in table.rows:
            table.move_cursor(row=table.get_row_index(str(keep)))
        failed_count = sum(1 for j in jobs if j.status not in _STATE_STYLE)
        status = f"{len(jobs)} jobs" + (f", {failed_count} not printed" if failed_count else "")
        if not self.busy:
            self._status(status)

    @property
    def selected(self) -> PrintJobView | None:
        table = self.query_one(DataTable)
        if not self.jobs or table.row_count == 0:
            return None
        row = table.cursor_row
        return self.jobs[row] if 0 <= row < len(self.jobs) else None

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#ph-status", Static).update(plain(text, style=style))

    # -- reprint ------------------------------------------------------------------------------
    @on(DataTable.RowSelected)
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_reprint()

    def action_reprint(self) -> None:
        job = self.selected
        if job is not None:
            self._start(job, None)

    def action_reprint_elsewhere(self) -> None:
        job = self.selected
        if job is None:
            return

        def chosen(queue: str | None) -> None:
            if queue:
                self._start(job, queue)

        self.app.push_screen(ChooseQueue(job), chosen)

    def _start(self, job: PrintJobView, queue: str | None) -> None:
        if self.busy:
            self.pb.feedback("error", "A reprint is already on its way; wait for it to finish.")
            return
        self.busy = True
        self._status(f"Reprinting job {job.id} on {queue or job.printer}…", "bold")
        self._reprint(job.id, queue)

    # -- no printer works: a supervisor's word instead -----------------------------------------
    def action_mark_printed(self) -> None:
        job = self.selected
        if not self.pb.actor.is_supervisor:
            self.pb.feedback(
                "error",
                "Only a supervisor marks slips printed without a printer "
                "(their badge, then their PIN).",
            )
            return
        if job is None or job.kind != "slip" or job.status != "failed":
            self.pb.feedback("error", "Choose a slip job that did not print (↑/↓), then Ctrl+S.")
            return

        def reason(text: str | None) -> None:
            if text:
                self._mark(job.id, text)

        self.app.push_screen(
            AskReason(f"Job {job.id} (slip {job.ref}) did not print. Count it as printed: why?"),
            reason,
        )

    @work(thread=True, group="print-mark", exit_on_error=False)
    def _mark(self, job_id: int, reason: str) -> None:
        from packbench.operations.slips import mark_slips_printed

        try:
            message = mark_slips_printed(
                self.pb.db, self.pb.actor, reason, print_job_id=job_id
            ).message
            kind = "ok"
        except Refused as exc:
            kind, message = "error", exc.message
        self.app.call_from_thread(self._status, message, "green" if kind == "ok" else "bold red")
        self.app.call_from_thread(self.pb.feedback, kind, message)
        self.app.call_from_thread(self.action_refresh)

    @work(thread=True, group="print-reprint", exit_on_error=False)
    def _reprint(self, job_id: int, queue: str | None) -> None:
        from packbench.printing.cups import make_printer

        app = self.pb
        try:
            result = reprint(
                app.db,
                app.actor,
                make_printer(server=app.settings.printers.server or None),
                job_id,
                app.settings,
                queue=queue,
            )
        except Refused as exc:
            result = PrintResult(False, exc.message, None, None, ())
        self.app.call_from_thread(self._done, job_id, result)

    def _done(self, job_id: int, result: PrintResult) -> None:
        self.busy = False
        self.results.append(result)
        message = result.message
        if result.print_job_id is not None:
            message += f" (job {result.print_job_id}, reprint of job {job_id})"
        self._status(message, "green" if result.ok else "bold red")
        self.pb.feedback("ok" if result.ok else "error", message)
        self.action_refresh()
