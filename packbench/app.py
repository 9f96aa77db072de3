"""The Textual app: one mode per station, the signed-in person, and the one feedback channel."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Literal

# Textual paints on a fixed clock of TEXTUAL_FPS frames a second, so a scan's result waits for
# the next tick: up to 17 ms at Textual's 60, a large share of the bench's 25 ms from scan to
# screen (benchmarks/volume.py). 120 halves that wait; frames are only drawn when something
# changed, so an idle station costs nothing more. Set TEXTUAL_FPS to override.
os.environ.setdefault("TEXTUAL_FPS", "120")

from textual import events, work  # after TEXTUAL_FPS: Textual reads it on import
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer

from packbench.config import Settings, load_warehouse_layout
from packbench.core.codes import CodeRules
from packbench.core.gs1 import preload as preload_gs1
from packbench.core.routing import Layout
from packbench.operations.actor import Actor

# The database, the tables and the operations load after the first frame (#20): only their
# names here, for the annotations.
if TYPE_CHECKING:
    from packbench.data.engine import Database
    from packbench.operations.outbox import SyncHealth
    from packbench.operations.packers import PackerView
    from packbench.screens.boot import BootScreen

log = logging.getLogger(__name__)

SYNC_HEALTH_S = 5.0
#: How long an error flashes the station red (a new message ends it sooner).
FLASH_S = 0.6
DASHBOARD_WISH_S = 120.0  # F6 refused: a supervisor signing in this soon after goes there

STATION_KEYS = (
    ("f1", "admin", "Admin"),
    ("f2", "pick", "Pick"),
    ("f3", "pack", "Pack"),
    ("f4", "ship", "Ship"),
    ("f5", "post", "Post"),
    ("f6", "dashboard", "Dashboard"),
)


#: Where each station's screen lives: imported when the station first opens, so the app
#: starts without importing the five stations it does not show yet.
STATION_SCREENS: dict[str, tuple[str, str]] = {
    "admin": ("packbench.screens.admin", "AdminScreen"),
    "pick": ("packbench.screens.pick", "PickScreen"),
    "pack": ("packbench.screens.pack", "PackScreen"),
    "ship": ("packbench.screens.ship", "ShipScreen"),
    "post": ("packbench.screens.post", "PostScreen"),
    "dashboard": ("packbench.screens.dashboard", "DashboardScreen"),
}


def _station_factories() -> dict[str, str | Callable[[], Screen[object]]]:
    def factory(module: str, name: str) -> Callable[[], Screen[object]]:
        def make() -> Screen[object]:
            return getattr(importlib.import_module(module), name)()  # type: ignore[no-any-return]  # a station class named in the table above

        return make

    return {mode: factory(*where) for mode, where in STATION_SCREENS.items()}


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
        Binding("f9", "print_history", "Print history", id="print_history"),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    ]

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database | None = None,
        open_db: Callable[[], Database] | None = None,
        terminal: str | None = None,
    ) -> None:
        """``db`` is the open database; or ``open_db`` opens it, in a worker after the first
        frame (the command line's way: the app shows itself while SQLAlchemy, the tables and
        the station load, and keys typed meanwhile wait for the station)."""
        if (db is None) == (open_db is None):
            raise TypeError("give the database or a way to open it, not both")
        self.settings = settings
        self._db = db
        self._open_db = open_db
        #: What stopped the start (the database could not be opened): the command line
        #: reports it after the app has closed, as it would have before the first frame.
        self.boot_error: BaseException | None = None
        self._boot_screen: BootScreen | None = None
        self.rules: CodeRules = settings.code_rules()
        # The warehouse layout (#5), loaded once: a bad file stops the start with a clear error.
        self.layout: Layout = load_warehouse_layout(settings.warehouse.layout_path())
        self.actor = Actor(
            station=settings.bench.station,
            terminal=terminal or settings.bench.terminal or socket.gethostname(),
        )
        #: Every piece of feedback given, in order: (kind, message). Tests read it; so could
        #: a supervisor's "what did the screen say" question.
        self.feedback_log: list[tuple[str, str]] = []
        self.bells = 0
        #: Errors flashed on a station (a test reads it; the flash itself lasts 0.6 s).
        self.flashes = 0
        self._flashed: tuple[Timer, Callable[[], None]] | None = None
        self.sync_text = "⇅ offline"
        #: What the sync worker says about itself until a round has run (no shop, bad setup).
        self._sync_state = "offline"
        self._signals: list[tuple[asyncio.AbstractEventLoop, int]] = []
        self._sync_stop = threading.Event()
        self._sync_wake = threading.Event()
        self._orders_pulled_seen: int | None = None
        self.MODES = _station_factories()  # type: ignore[misc]  # per app: stations load lazily
        super().__init__()

    @property
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError("the database is not open yet")
        return self._db

    def get_default_screen(self) -> Screen[Any]:
        if self._open_db is None:
            return super().get_default_screen()
        from packbench.screens.boot import BootScreen

        # The first frame: the app's name, the station it opens and a line saying so; it takes
        # the keys a scanner sends until the station is there.
        self._boot_screen = BootScreen(self.settings.bench.station)
        return self._boot_screen

    def on_mount(self) -> None:
        if self._db is None:
            # Once the first frame is on the terminal: a worker importing SQLAlchemy beside its
            # painting would share the interpreter with it and delay it (#20).
            self.call_after_refresh(self._start_boot)
            return
        self._start()

    def _start_boot(self) -> None:
        self.run_worker(self._boot, thread=True, group="boot", exit_on_error=False)

    def _boot(self) -> None:
        """Open the database and load the first station, off the event loop."""
        assert self._open_db is not None
        try:
            db = self._open_db()
            module, _ = STATION_SCREENS[self._first_station()]
            importlib.import_module(module)  # the station, the operations, the ORM: here
        except BaseException as exc:  # shown by the command line once the app has closed
            self.boot_error = exc
            self._from_thread(self.exit, None, 1)
            return
        self._from_thread(self._booted, db)

    def _booted(self, db: Database) -> None:
        self._db = db
        self._start()
        # The command line started without collections (packbench.cli.main): everything loaded
        # so far lives as long as the app, so it is set aside from every later collection
        # (they scan only what the bench makes from now on) and collections resume.
        gc.freeze()
        gc.enable()
        if self._boot_screen is not None:
            scans, unfinished = self._boot_screen.typed()
            if scans or unfinished:
                self.call_after_refresh(self._replay, scans, unfinished)

    def _replay(self, scans: list[str], unfinished: str) -> None:
        """Scans typed while the station loaded, given to it in order (a scan still being
        typed goes into its scan bar, for the Enter still to come)."""
        from packbench.screens.base import StationScreen

        station = self.screen
        if not isinstance(station, StationScreen):
            return
        for scan in scans:
            for ch in scan:
                station.scanbar.feed(ch)
            station.scanbar.submit_current()
        for ch in unfinished:
            station.scanbar.feed(ch)

    def _first_station(self) -> str:
        station = self.settings.bench.station
        return "admin" if station == "dashboard" else station

    def _start(self) -> None:
        station = self.settings.bench.station
        # The dashboard opens only for a supervisor: start at admin and go there on sign-in.
        self._dashboard_after_sign_in = station == "dashboard"
        self._dashboard_wanted_at: float | None = None
        if self._dashboard_after_sign_in:
            station = "admin"
            self.actor = self.actor.at_station(station)
        self.switch_mode(station)
        self._catch_termination()
        if self._open_db is None:
            self._start_background()
        else:  # the command line's start: the station's first frame first (#20)
            self.call_after_refresh(self._start_background)
        if self._dashboard_after_sign_in:
            message = "The dashboard opens when a supervisor scans their badge."
            self.call_after_refresh(self.feedback, "info", message)

    def _start_background(self) -> None:
        """The workers beside the station: the sync, the GS1 tables, what a killed terminal
        left unsettled, the header's sync health. Their imports (the shop adapter, httpx,
        biip) would share the interpreter with the station's first frame."""
        self._start_sync()
        # biip's GS1 tables (0.1-0.25 s) load beside the station, not at the first GS1 scan.
        self.run_worker(preload_gs1, thread=True, group="gs1-preload", exit_on_error=False)
        self._settle_print_jobs()
        self._settle_crash_left_bookings()
        self.set_interval(SYNC_HEALTH_S, self._poll_sync_health)
        self._poll_sync_health()

    # -- the shop, in the background ------------------------------------------------------
    def _start_sync(self) -> None:
        # Built in the worker's thread: the shop adapter's imports (httpx and the WooCommerce
        # mapping) cost 0.2 s that the first frame does not wait for.
        self.run_worker(
            self._sync_loop, thread=True, group="sync", name="sync", exit_on_error=False
        )

    def _sync_loop(self) -> None:
        # Whatever happens here is logged and shown in the header: the worker never dies
        # silently (``SyncEngine.watch`` itself survives any failed round).
        from packbench.shop.factory import ShopNotConfigured, make_adapter
        from packbench.shop.sync import SyncEngine, SyncStopped

        try:
            adapter = make_adapter(self.settings)
        except ShopNotConfigured as exc:
            log.info("sync off: %s", exc)
            self._sync_off("offline — no shop configured")
            return
        except Exception as exc:
            log.exception("sync off: the shop adapter could not be made")
            self._sync_off(f"offline — {str(exc)[:80]}")
            return
        try:
            engine = SyncEngine(
                self.db,
                adapter,
                holder=f"{self.actor.terminal}-app",
                lease_ttl_s=self.settings.shop.lease_ttl_s,
                layout=self.layout,
            )
            engine.watch(self.settings.shop.sync_interval_s, self._sync_stop, wake=self._sync_wake)
        except SyncStopped as exc:
            log.error("sync stopped: %s", exc)
            self._sync_off(f"stopped — {str(exc)[:80]}")
            self._from_thread(self.feedback, "error", f"Sync with the shop stopped: {exc}")
        except Exception as exc:
            log.exception("sync worker failed")
            self._sync_off(f"stopped — {str(exc)[:80]}")
            self._from_thread(self.feedback, "error", f"Sync with the shop stopped: {exc}")
        finally:
            adapter.close()

    def _sync_off(self, state: str) -> None:
        self._sync_state = state
        self.sync_text = f"⇅ {state}"
        self._from_thread(self._refresh_header)

    def _catch_termination(self) -> None:
        """SIGTERM/SIGINT end the app cleanly: the sync round stops after its page and gives
        the lease back, so another terminal can sync at once."""
        import signal

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            # Not the main thread (a test's event loop, textual-serve's tabs) or no signals on
            # this platform: the app runs on without them, as before this handler existed.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._terminate)
                self._signals.append((loop, sig))

    def _terminate(self) -> None:
        log.info("terminated: stopping the sync and quitting")
        self._sync_stop.set()
        self._sync_wake.set()
        self.exit()

    def _from_thread(self, fn: Callable[..., object], *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # the app is closing
            self.call_from_thread(fn, *args)

    @work(thread=True, exclusive=True, group="sync-health", exit_on_error=False)
    def _poll_sync_health(self) -> None:
        from packbench.operations.outbox import sync_health
        from packbench.operations.syncing import count_problems

        health = sync_health(self.db)
        problems = count_problems(self.db)
        self._from_thread(self._show_sync_health, health, problems)

    def _show_sync_health(self, health: SyncHealth, problems: int = 0) -> None:
        # Built afresh from the health and the worker's own state every time: the header
        # never carries the last poll's text forward (it used to grow by "· 3 waiting" a poll).
        parts = ["⇅"]
        if health.last_error and (
            health.last_ok_at is None
            or (health.last_error_at and health.last_error_at > health.last_ok_at)
        ):
            parts.append(f"sync failed: {health.last_error[:60]}")
        elif health.last_ok_at is not None:
            parts.append(f"synced {health.last_ok_at.astimezone().strftime('%H:%M:%S')}")
        else:
            parts.append(self._sync_state)
        if health.orders_pulled:
            parts.append(f"· {health.orders_pulled} pulled")
        if health.waiting:
            parts.append(f"· {health.waiting} waiting")
        if health.parked:
            parts.append(f"· {health.parked} parked")
        if problems:
            parts.append(f"· {problems} sync problems")
        self.sync_text = " ".join(parts)
        self._refresh_header()
        # New or changed orders from the shop: the station's lists show them without a key.
        if health.orders_pulled != self._orders_pulled_seen:
            if self._orders_pulled_seen is not None:
                refresh = getattr(self.screen, "refresh_data", None)
                if refresh is not None:
                    refresh()
            self._orders_pulled_seen = health.orders_pulled

    def on_unmount(self) -> None:
        self._sync_stop.set()
        self._sync_wake.set()
        for loop, sig in self._signals:  # the loop may outlive the app (tests, serve)
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
        self._signals.clear()

    def sync_soon(self) -> None:
        """Start the next sync round now (a station just queued something the person awaits)."""
        self._sync_wake.set()

    # -- printing (issue #4) ---------------------------------------------------------------
    @work(thread=True, group="print-settle", exit_on_error=False)
    def _settle_print_jobs(self) -> None:
        """Print jobs this terminal left *submitted* when it was killed are settled from
        CUPS's record: completed ones count, the rest fail and say why."""
        from packbench.operations.printing import settle_unfinished_jobs

        try:
            report = settle_unfinished_jobs(self.db, self.actor, self.settings, own_terminal=True)
        except Exception as exc:  # never let this stop the bench from starting
            log.exception("settling unfinished print jobs")
            self._from_thread(self.feedback, "error", f"Unfinished print jobs: {exc}")
            return
        if report.message:
            kind = "error" if report.failed or report.problem else "info"
            self._from_thread(self.feedback, kind, report.message)

    @work(thread=True, group="booking-settle", exit_on_error=False)
    def _settle_crash_left_bookings(self) -> None:
        """Carrier bookings this terminal (or a bench gone quiet) left *requested* when it was
        killed are looked up by reference and recorded, or held for a person (#14)."""
        from packbench.operations.booking_recovery import resolve_crash_left

        if all(c.kind == "s10" for c in self.settings.ship.carriers.values()):
            return
        try:
            report = resolve_crash_left(self.db, self.actor, self.settings.ship, own_terminal=True)
        except Exception as exc:  # never let this stop the bench from starting
            log.exception("settling crash-left carrier bookings")
            self._from_thread(self.feedback, "error", f"Unfinished carrier bookings: {exc}")
            return
        if report.message:
            self._from_thread(self.feedback, "error" if report.held else "info", report.message)

    def action_print_history(self) -> None:
        from packbench.screens.print_history import PrintHistoryScreen

        if not isinstance(self.screen, PrintHistoryScreen):
            self.push_screen(PrintHistoryScreen())

    # -- who is here ------------------------------------------------------------------------
    def signed_in(self, packer: PackerView) -> None:
        self.actor = self.actor.as_packer(packer.id, packer.name, packer.role)
        self._refresh_header()
        if packer.pin_required:
            from packbench.screens.dialogs import AskPin

            def entered(pin: str | None) -> None:
                if pin:
                    self._confirm_pin(self.actor, pin)
                elif self._wants_dashboard():
                    self.feedback("info", f"{packer.name} works as a packer (no PIN given).")

            self.push_screen(AskPin(packer.name), entered)
            return
        if self._wants_dashboard() and self.actor.is_supervisor:
            self._dashboard_after_sign_in = False
            self.action_switch("dashboard")

    @work(thread=True, group="auth", exit_on_error=False)
    def _confirm_pin(self, actor: Actor, pin: str) -> None:
        from packbench.operations.common import Refused
        from packbench.operations.packers import confirm_pin

        try:
            view = confirm_pin(self.db, actor, pin)
        except Refused as exc:
            self._from_thread(self.feedback, "error", exc.message)
            return
        self._from_thread(self._elevated, actor, view)

    def _elevated(self, actor: Actor, view: PackerView) -> None:
        if self.actor.packer_id != actor.packer_id:  # signed out or someone else meanwhile
            return
        self.actor = self.actor.as_packer(view.id, view.name, view.role)
        self._refresh_header()
        self.feedback("ok", f"{view.name}: supervisor rights.")
        if self._wants_dashboard():
            self._dashboard_after_sign_in = False
            self.action_switch("dashboard")

    def _wants_dashboard(self) -> bool:
        """The app started for the dashboard, or F6 was refused a moment ago (then a
        supervisor's sign-in goes there without a second F6)."""
        wanted = self._dashboard_wanted_at
        recent = wanted is not None and time.monotonic() - wanted <= DASHBOARD_WISH_S
        return self._dashboard_after_sign_in or recent

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

        def sign_out_there() -> None:
            from packbench.operations.packers import sign_out

            sign_out(self.db, actor)

        self.run_worker(sign_out_there, thread=True, group="auth")
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
            # Asked for by someone about to sign in as supervisor: go there once they have.
            self._dashboard_wanted_at = time.monotonic()
            self.feedback(
                "error",
                "The dashboard is for supervisors: scan a supervisor's badge (and give the PIN); "
                "it opens then.",
            )
            return
        if mode == "dashboard":
            self._dashboard_wanted_at = None
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

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
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
        yield SystemCommand(
            "Print history (F9)",
            "Recent print jobs; reprint any of them",
            self.action_print_history,
        )
        day_report = getattr(screen, "action_day_report", None)
        if day_report is not None:
            yield SystemCommand(
                "Print the day report", "Today's figures on this station's A4 printer", day_report
            )

    # -- keys -------------------------------------------------------------------------------
    async def on_event(self, event: events.Event) -> None:
        if type(event) is events.Key and not event.is_forwarded and self._to_scanbar(event):
            return
        await super().on_event(event)

    def _to_scanbar(self, event: events.Key) -> bool:
        """A scan's key, bound to nothing, goes straight to the scan bar that has focus.

        Textual's own way builds the whole chain of bindings (each ancestor's, copied and
        filtered) for every key to look for a priority binding, then queues the key for the
        scan bar: about 0.07 ms a key, 1 ms of a 14-key scan (benchmarks/volume.py). A
        character or Enter that no binding on the way names has no binding to run: the scan bar
        takes it now (:meth:`ScanBar.take_key`), or, while keys wait in its queue, it is queued
        behind them, in order. Any other key, or any key while a keymap is set, goes Textual's
        way.
        """
        from packbench.screens.widgets.scanbar import ScanBar

        focused = self.focused
        if not isinstance(focused, ScanBar) or self._keymap:
            return False
        if not (event.is_printable and event.character) and not ScanBar.is_terminator(event):
            return False
        key = event.key
        # The scan bar's own bindings on these keys (Input's Enter) never run: it takes them.
        if any(b.priority for b in focused._bindings.key_to_bindings.get(key, ())):
            return False
        if any(key in node._bindings.key_to_bindings for node in focused.ancestors):
            return False
        if not self.app_focus:
            self.app_focus = True
        if not self._disable_tooltips:  # as Textual does (headless, there is no tooltip)
            self.screen._clear_tooltip()
        if not (focused.message_queue_size == 0 and focused.take_key(event)):
            focused._forward_event(event)
        return True

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
        else:
            # A dialog is on top: the station under it keeps the message in its feedback line
            # for when the dialog closes, and a notification shows it now. The message quotes
            # outside text: no markup.
            station = next((s for s in reversed(self.screen_stack) if hasattr(s, "say")), None)
            if station is not None:
                station.say(kind, message)
            severity: Literal["information", "error"] = (
                "error" if kind == "error" else "information"
            )
            self.notify(message, severity=severity, markup=False)
        self._end_flash(early=True)  # a new message ends the last error's flash at once
        if kind == "error":
            self.bells += 1
            self.bell()
            flash = getattr(self.screen, "flash", None)
            if flash is not None:
                self.flashes += 1
                flash(True)
                self._flashed = (self.set_timer(FLASH_S, self._end_flash), lambda: flash(False))

    def _end_flash(self, *, early: bool = False) -> None:
        """End the last error's flash: from its timer, or ``early`` (its timer then stopped)."""
        if self._flashed is not None:
            timer, off = self._flashed
            self._flashed = None
            if early:
                timer.stop()
            off()
