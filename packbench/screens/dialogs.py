"""Dialogs: sign in by name, and the test-scan view that shows exactly what a scanner sent."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from packbench.core.codes import CodeKind, classify, describe_chars
from packbench.operations.common import Refused
from packbench.operations.packers import PackerView, list_packers, sign_in_id
from packbench.operations.scans import record_test_scan
from packbench.screens.plain import cells, plain
from packbench.screens.widgets.scanbar import ScanBar, Scanned

if TYPE_CHECKING:
    from packbench.app import PackbenchApp


class ChoosePacker(ModalScreen[None]):
    """Sign in by choosing a name, for a person whose badge is not to hand."""

    BINDINGS: ClassVar = [Binding("escape", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Who is working here? (↑/↓, Enter; Esc closes)", classes="dialog-title")
            yield OptionList(id="packers")

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exit_on_error=False)
    def _load(self) -> None:
        app: PackbenchApp = self.app  # type: ignore[assignment]  # Textual types self.app as App: here it is PackbenchApp
        packers = list_packers(app.db)
        self.app.call_from_thread(self._fill, packers)

    def _fill(self, packers: list[PackerView]) -> None:
        options = self.query_one(OptionList)
        for p in packers:
            role = " (supervisor)" if p.role == "supervisor" else ""
            options.add_option(Option(plain(f"{p.name}{role}"), id=str(p.id)))
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        assert event.option.id is not None
        self._sign_in(int(event.option.id))

    @work(thread=True, exit_on_error=False)
    def _sign_in(self, packer_id: int) -> None:
        app: PackbenchApp = self.app  # type: ignore[assignment]  # Textual types self.app as App: here it is PackbenchApp
        try:
            packer = sign_in_id(app.db, app.actor, packer_id)
        except Refused as exc:
            self.app.call_from_thread(app.feedback, "error", exc.message)
            return
        self.app.call_from_thread(self._done, packer)

    def _done(self, packer: PackerView) -> None:
        app: PackbenchApp = self.app  # type: ignore[assignment]  # Textual types self.app as App: here it is PackbenchApp
        self.dismiss()
        app.signed_in(packer)
        app.feedback("ok", f"Hello, {packer.name}.")


class TestScan(ModalScreen[None]):
    """Shows every character of each scan, the gaps between keys, and what the bench makes of it.

    For setting up a scanner: a wrong keyboard layout, a missing Enter suffix or a scanner that
    drops the GS1 separator are all visible here. Scans here change nothing.
    """

    BINDINGS: ClassVar = [Binding("escape", "dismiss", "Close")]

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Scanned] = []

    def compose(self) -> ComposeResult:
        app: PackbenchApp = self.app  # type: ignore[assignment]  # Textual types self.app as App: here it is PackbenchApp
        with Vertical(classes="dialog wide"):
            yield Static(
                plain(
                    f"Test scan — scan anything; nothing is changed. Layout: "
                    f"{app.settings.scanner.layout}. Esc closes."
                ),
                classes="dialog-title",
            )
            with VerticalScroll():
                yield Static(Text("Waiting for a scan…", style="dim"), id="testscan-result")
            yield ScanBar(max_key_gap_ms=app.settings.scanner.max_key_gap_ms, id="testscan-bar")

    def on_mount(self) -> None:
        self.query_one(ScanBar).focus()

    @on(Scanned)
    def _scanned(self, message: Scanned) -> None:
        message.stop()
        self.seen.append(message)
        app: PackbenchApp = self.app  # type: ignore[assignment]  # Textual types self.app as App: here it is PackbenchApp
        scan = classify(message.code, app.rules)
        chars = Table(
            "#",
            "Char",
            "Code point and name",
            title="Characters as they arrived",
            title_justify="left",
        )
        for n, (shown, name) in enumerate(describe_chars(message.code), start=1):
            chars.add_row(*cells(str(n), shown, name))
        gaps = message.key_gaps_ms
        timing = "typed by a person"
        if message.burst:
            timing = "scanner burst"
        if gaps:
            timing += f" — key gaps {min(gaps):.0f}–{max(gaps):.0f} ms"
        verdict = Text()
        ok = scan.kind not in (CodeKind.INVALID, CodeKind.UNKNOWN)
        verdict.append(f"{scan.kind.value.upper()}", style="bold green" if ok else "bold red")
        verdict.append(f"  value {scan.value!r}" if ok else f"  {scan.reason}")
        if scan.swapped:
            verdict.append(f"  (corrected for the {app.settings.scanner.layout} layout)")
        if scan.details():
            verdict.append(f"\n{scan.details()}")
        self.query_one("#testscan-result", Static).update(
            Group(verdict, Text(f"{len(message.code)} characters, {timing}"), chars)
        )
        self._log(message.code, scan.kind.value, timing)

    @work(thread=True, exit_on_error=False, group="testscan-log")
    def _log(self, code: str, kind: str, timing: str) -> None:
        """Every scan is in the event log, test scans too (marked as such; nothing changes)."""
        app: PackbenchApp = self.app  # type: ignore[assignment]  # Textual types self.app as App: here it is PackbenchApp
        record_test_scan(app.db, app.actor, code, f"test scan: {kind}, {timing}")


class AskReason(ModalScreen[str | None]):
    """Ask for one line (a reason kept in the audit trail, a printer queue). Enter confirms,
    Esc cancels."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, placeholder: str = "Reason, then Enter") -> None:
        super().__init__()
        self.question = question
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(plain(self.question), classes="dialog-title")  # may quote a name
            yield Input(placeholder=self.placeholder, id="reason")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted, "#reason")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class AskPin(ModalScreen[str | None]):
    """A supervisor's PIN, typed hidden. Enter confirms, Esc goes on with a packer's rights."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, name: str) -> None:
        super().__init__()
        self.person = name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                plain(f"{self.person}: your PIN for supervisor rights (Esc: work as a packer)"),
                classes="dialog-title",
            )
            yield Input(placeholder="PIN, then Enter", password=True, id="pin", max_length=12)

    def on_mount(self) -> None:
        self.query_one("#pin", Input).focus()

    @on(Input.Submitted, "#pin")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value:
            self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class AssignStation(ModalScreen[bool]):
    """The supervisor puts a person on a station for today: choose who, then where."""

    BINDINGS: ClassVar = [Binding("escape", "cancel", "Close")]

    STATIONS: ClassVar = ("admin", "pick", "pack", "ship", "post", "")

    def __init__(self) -> None:
        super().__init__()
        self.person: int | None = None
        self.person_name = ""
        self.names: dict[int, str] = {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                "Assign whom? (↑/↓, Enter; Esc closes)", id="assign-title", classes="dialog-title"
            )
            yield OptionList(id="assign-people")
            yield OptionList(id="assign-stations")

    def on_mount(self) -> None:
        self.query_one("#assign-stations", OptionList).display = False
        self._load()

    @work(thread=True, exit_on_error=False)
    def _load(self) -> None:
        app: PackbenchApp = self.app  # type: ignore[assignment]  # Textual types self.app as App: here it is PackbenchApp
        packers = list_packers(app.db)
        self.app.call_from_thread(self._fill, packers)

    def _fill(self, packers: list[PackerView]) -> None:
        options = self.query_one("#assign-people", OptionList)
        for p in packers:
            options.add_option(Option(plain(p.name), id=str(p.id)))
            self.names[p.id] = p.name
        options.highlighted = 0 if packers else None
        options.focus()

    @on(OptionList.OptionSelected, "#assign-people")
    def _person(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        assert event.option.id is not None
        self.person = int(event.option.id)
        self.person_name = self.names.get(self.person, "")
        self.query_one("#assign-people", OptionList).display = False
        stations = self.query_one("#assign-stations", OptionList)
        for s in self.STATIONS:
            stations.add_option(Option(s or "no station today", id=s or "-"))
        stations.display = True
        stations.highlighted = 0
        stations.focus()
        self.query_one("#assign-title", Static).update(plain(f"{self.person_name} works at…"))

    @on(OptionList.OptionSelected, "#assign-stations")
    def _station(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        assert event.option.id is not None and self.person is not None
        self._assign(self.person, None if event.option.id == "-" else event.option.id)

    @work(thread=True, exit_on_error=False)
    def _assign(self, person: int, station: str | None) -> None:
        from packbench.operations.team import assign_station

        app: PackbenchApp = self.app  # type: ignore[assignment]  # Textual types self.app as App: here it is PackbenchApp
        try:
            assign_station(app.db, app.actor, person, station, tz=app.settings.day.tz())
        except Refused as exc:
            self.app.call_from_thread(app.feedback, "error", exc.message)
            self.app.call_from_thread(self.dismiss, False)
            return
        where = station or "no station"
        self.app.call_from_thread(app.feedback, "ok", f"{self.person_name}: {where} today.")
        self.app.call_from_thread(self.dismiss, True)

    def action_cancel(self) -> None:
        self.dismiss(False)
