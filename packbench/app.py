"""The Textual app: one mode per station, the signed-in person, and the one feedback channel."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterable
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from packbench.config import Settings
from packbench.core.codes import CodeRules
from packbench.data.engine import Database
from packbench.operations.common import Actor
from packbench.operations.packers import PackerView, sign_out

log = logging.getLogger(__name__)

STATION_KEYS = (
    ("f1", "admin", "Admin"),
    ("f2", "pick", "Pick"),
    ("f3", "pack", "Pack"),
    ("f4", "ship", "Ship"),
    ("f5", "post", "Post"),
    ("f6", "dashboard", "Dashboard"),
)


def _station_factories() -> dict[str, Callable[[], Screen]]:
    from packbench.screens.admin import AdminScreen
    from packbench.screens.dashboard import DashboardScreen
    from packbench.screens.stations import PackScreen, PickScreen, PostScreen, ShipScreen

    return {
        "admin": AdminScreen,
        "pick": PickScreen,
        "pack": PackScreen,
        "ship": ShipScreen,
        "post": PostScreen,
        "dashboard": DashboardScreen,
    }


class PackbenchApp(App[None]):
    """packbench: the stations of a web shop's packing bench."""

    TITLE = "packbench"
    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar = [
        *(
            Binding(key, f"switch('{mode}')", label, id=f"station.{mode}", priority=True)
            for key, mode, label in STATION_KEYS
        ),
        Binding("ctrl+n", "choose_packer", "Sign in", id="sign_in"),
        Binding("ctrl+o", "sign_out", "Sign out", id="sign_out"),
        Binding("ctrl+t", "test_scan", "Test scan", id="test_scan"),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    ]

    def __init__(self, *, settings: Settings, db: Database, terminal: str | None = None) -> None:
        self.settings = settings
        self.db = db
        self.rules: CodeRules = settings.code_rules()
        self.actor = Actor(
            station=settings.bench.station,
            terminal=terminal or settings.bench.terminal or socket.gethostname(),
        )
        #: Every piece of feedback given, in order: (kind, message). Tests read it; so could
        #: a supervisor's "what did the screen say" question.
        self.feedback_log: list[tuple[str, str]] = []
        self.bells = 0
        self.MODES = _station_factories()
        super().__init__()

    def on_mount(self) -> None:
        station = self.settings.bench.station
        # The dashboard opens only for a supervisor: start at admin and go there on sign-in.
        self._dashboard_after_sign_in = station == "dashboard"
        if self._dashboard_after_sign_in:
            station = "admin"
            self.actor = self.actor.at_station(station)
        self.switch_mode(station)
        if self._dashboard_after_sign_in:
            message = "The dashboard opens when a supervisor scans their badge."
            self.call_after_refresh(self.feedback, "info", message)

    # -- who is here ------------------------------------------------------------------------
    def signed_in(self, packer: PackerView) -> None:
        self.actor = self.actor.as_packer(packer.id, packer.name, packer.role)
        self._refresh_header()
        if self._dashboard_after_sign_in and self.actor.is_supervisor:
            self._dashboard_after_sign_in = False
            self.action_switch("dashboard")

    def _refresh_header(self) -> None:
        from packbench.screens.base import StationScreen

        if isinstance(self.screen, StationScreen):
            self.screen.refresh_header()

    def action_sign_out(self) -> None:
        if not self.actor.signed_in:
            self.feedback("info", "Nobody is signed in.")
            return
        name = self.actor.packer_name
        actor = self.actor
        self.actor = Actor(station=actor.station, terminal=actor.terminal)
        self.run_worker(lambda: sign_out(self.db, actor), thread=True, group="auth")
        if self.current_mode == "dashboard":
            self.switch_mode("admin")
        self._refresh_header()
        self.feedback("info", f"{name} signed out. Scan a badge to sign in.")

    def action_choose_packer(self) -> None:
        from packbench.screens.dialogs import ChoosePacker

        self.push_screen(ChoosePacker())

    def action_test_scan(self) -> None:
        from packbench.screens.dialogs import TestScan

        self.push_screen(TestScan())

    # -- stations ---------------------------------------------------------------------------
    def action_switch(self, mode: str) -> None:
        if mode == "dashboard" and not self.actor.is_supervisor:
            self.feedback("error", "The dashboard is for supervisors: scan a supervisor's badge.")
            return
        if mode == self.current_mode:
            return
        self.actor = self.actor.at_station(mode)
        self.switch_mode(mode)

    def run_command(self, command: str) -> None:
        """A command barcode scanned at a station (the sheet hanging at the bench)."""
        if command == "SIGNOUT":
            self.action_sign_out()
        elif command == "TESTSCAN":
            self.action_test_scan()
        else:
            handler = getattr(self.screen, "on_command", None)
            if handler is None or not handler(command):
                self.feedback("error", f"Command {command} has nothing to do here.")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for key, mode, label in STATION_KEYS:
            yield SystemCommand(
                f"Go to the {label.lower()} station ({key.upper()})",
                f"Switch this terminal to the {label.lower()} station",
                lambda mode=mode: self.action_switch(mode),
            )
        yield SystemCommand("Sign in by name", "Choose who works here", self.action_choose_packer)
        yield SystemCommand("Sign out", "Sign the current person out", self.action_sign_out)
        yield SystemCommand(
            "Test scan", "See exactly which characters a scanner sends", self.action_test_scan
        )

    # -- feedback ---------------------------------------------------------------------------
    def feedback(self, kind: str, message: str) -> None:
        """The one way the bench tells a person something: colour, words and, for errors, bell.

        ``kind`` is ``ok``, ``info`` or ``error``. An error flashes the station red, rings the
        terminal bell and stays in the feedback line until the next scan.
        """
        self.feedback_log.append((kind, message))
        log.info("feedback %s: %s", kind, message)
        say = getattr(self.screen, "say", None)
        if say is not None:
            say(kind, message)
        if kind == "error":
            self.bells += 1
            self.bell()
            screen = self.screen
            screen.add_class("-flash")
            self.set_timer(0.6, lambda: screen.remove_class("-flash"))
            if say is None:
                self.notify(message, severity="error")
