"""What every station screen shares: the header line, the feedback line, the scan bar.

The way of one scan: the scan bar posts ``Scanned``; the screen queues it; one worker takes the
queue in order and runs the operation in a thread (the UI never waits on the database); the
result comes back as plain data and is shown through the app's one feedback method. A scan is
shown as done only after the operation committed.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import TYPE_CHECKING, ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.visual import VisualType
from textual.widgets import Input, Static

from packbench.operations.scans import ScanOutcome, handle_scan
from packbench.screens import collector
from packbench.screens.compositor import DirtyLinesCompositor
from packbench.screens.plain import plain
from packbench.screens.widgets.feedback import FeedbackLine
from packbench.screens.widgets.keybar import KeyBar
from packbench.screens.widgets.next_step import NextStep
from packbench.screens.widgets.scanbar import ScanBar, Scanned

if TYPE_CHECKING:
    from packbench.app import PackbenchApp

log = logging.getLogger(__name__)
#: The longest a scan's operation holds back painting, so its outcome comes out in the same frame.
HOLD_PAINT_S = 0.05
#: Narrower than this, a station is ``narrow``: the order panel on the right is left out (at 80
#: columns it took 40 % of the width from the lines and the next step) and tables drop their
#: least useful columns first.
NARROW_COLUMNS = 100
#: Lower than this, a station is ``short``: its own view packs tighter and the key bar keeps to
#: two lines, so that an 80×24 terminal shows what the person needs (tests/screens/test_sizes.py).
SHORT_ROWS = 30


def _freeze_startup_objects() -> None:
    """Keep what the app built to start (modules, the ORM's tables, the first station) out of
    Python's garbage collector, once per process.

    A full collection walked all of it, some 130 ms on this machine, and came in the middle of
    a scan now and then (``benchmarks/volume.py`` counts the collections in its scans); frozen,
    a full collection walks only what came after. Nothing is collected first: that would cost
    the same 130 ms at start.
    """
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


_frozen = False


class StationHeader(Static):
    """The top line: the station's name, who is signed in, the shop sync's state, the terminal.

    One widget drawing one line: as a row of four, an error's flash (which colours the header)
    and its end drew five widgets again, about 1.5 ms of a wrong scan's frame and of the next
    scan's (``benchmarks/volume.py``). On a narrow terminal who is signed in is cut short with
    "…" first, then the rest.
    """

    DEFAULT_CSS = """
    StationHeader { height: 1; background: $panel; }
    """

    def __init__(self, title: str) -> None:
        super().__init__("")
        self.title_text = title
        self.who = Text("")
        self.sync = ""
        self.terminal = ""

    def show(self, *, who: Text, sync: str, terminal: str) -> None:
        """Say who is signed in (as given: a ``Text``, never read as markup), the shop sync's
        state and the terminal (plain text)."""
        if (who, sync, terminal) != (self.who, self.sync, self.terminal):
            self.who, self.sync, self.terminal = who, sync, terminal
            self.refresh()

    @property
    def content(self) -> Text:
        """The line at full width (what the screen's text reads)."""
        return self._line(10_000)

    @content.setter
    def content(self, content: VisualType) -> None:  # as a Static's: the name shown, as text
        self.title_text = content.plain if isinstance(content, Text) else str(content)
        self.refresh()

    def render(self) -> Text:
        return self._line(self.size.width)

    def _line(self, width: int) -> Text:
        """The station's name whole, who is signed in next to it, the sync state and the
        terminal on the right.

        Where the line is too narrow, the right part is cut short first (with "…", from its
        end: the terminal, then the sync state's tail), down to ``RIGHT_AT_LEAST`` columns: the
        packer checks the name at every sign-in, and the sync's whole state is on the
        dashboard. Then who is signed in is cut short, and the right part with it; the
        station's name is the last thing cut.
        """
        line = Text(f" {self.title_text} ", style="bold", no_wrap=True, overflow="ellipsis", end="")
        right = Text(no_wrap=True, overflow="ellipsis", end="")
        for part in (self.sync, self.terminal):
            if part:
                right.append(f"  {part} ", style="dim")
        who = self.who.copy() if self.who.cell_len else None
        wanted = who.cell_len + 1 if who is not None else 0
        left_room = width - line.cell_len
        right_room = min(right.cell_len, max(left_room - wanted, RIGHT_AT_LEAST))
        if who is not None and left_room - right_room > 1:
            who.truncate(left_room - right_room - 1, overflow="ellipsis")
            line.append(" ")
            line.append_text(who)
        if right.cell_len > max(width - line.cell_len, 0):
            right.truncate(max(width - line.cell_len, 0), overflow="ellipsis")
        line.append(" " * max(width - line.cell_len - right.cell_len, 0))
        line.append_text(right)
        line.truncate(width, overflow="ellipsis")
        return line


#: The columns the header's right part (terminal, sync state) keeps when the line is too narrow
#: for everything: who is signed in gets the rest.
RIGHT_AT_LEAST = 20


class StationScreen(Screen[None]):
    """A station. Subclasses give ``STATION``, ``TITLE_TEXT`` and ``compose_body``."""

    STATION: ClassVar[str] = ""
    TITLE_TEXT: ClassVar[str] = ""

    BINDINGS: ClassVar = [
        Binding("up", "cursor('up')", "Up", show=False),
        Binding("down", "cursor('down')", "Down", show=False),
    ]

    DEFAULT_CSS = """
    StationScreen #bottom { dock: bottom; height: auto; }
    """

    def __init__(self) -> None:
        super().__init__(name=self.STATION)
        # The frame after a scan drawn from the lines it changed (screens/compositor.py).
        self._compositor = DirtyLinesCompositor()
        self._queue: asyncio.Queue[Scanned] = asyncio.Queue()
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def pb(self) -> PackbenchApp:
        return self.app  # type: ignore[return-value]  # Textual types self.app as App: here it is PackbenchApp

    # -- layout -----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield StationHeader(self.TITLE_TEXT)
        yield from self.compose_body()
        yield FeedbackLine(id="feedback")
        with Vertical(id="bottom"):  # the key bar grows a line on a narrow terminal
            # What to do now, just above where it is done: never scrolled out of sight.
            yield NextStep(id="next-step")
            yield ScanBar(max_key_gap_ms=self.pb.settings.scanner.max_key_gap_ms)
            yield KeyBar()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW_COLUMNS, "narrow")
        short = event.size.height < SHORT_ROWS
        self.set_class(short, "short")
        for bar in self.query(KeyBar):
            bar.max_lines = 2 if short else KeyBar.MAX_LINES

    def compose_body(self) -> ComposeResult:
        yield Static()

    def on_mount(self) -> None:
        self.run_worker(self._scan_loop(), group="scans", name=f"{self.STATION}-scans")
        self.call_after_refresh(_freeze_startup_objects)  # after the station's first frame
        self.refresh_header()
        early = getattr(self, "_early_say", None)
        if early is not None:  # else the feedback line waits for the first scan: the prompt
            self.say(*early)  # is the next-step line's (it said the same twice)
        self.show_next()

    def on_screen_resume(self) -> None:
        self.refresh_header()
        self.scanbar.focus()
        self.refresh_data()

    @property
    def scanbar(self) -> ScanBar:
        return self.query_one(ScanBar)

    def prompt(self) -> str:
        if not self.pb.actor.signed_in:
            return "Scan your badge to sign in (or Ctrl+N to choose your name)."
        return self.ready_prompt()

    def ready_prompt(self) -> str:
        return "Scan a packing slip or a parcel label."

    def next_step(self) -> RenderableType | str:
        """What the signed-in person does next at this station (the pinned line). Override."""
        return self.ready_prompt()

    def show_next(self) -> None:
        """Put the next step in the pinned line (signed out: how to sign in)."""
        try:
            line = self.query_one("#next-step", NextStep)
        except NoMatches:  # not composed yet: on_mount shows it
            return
        line.show(self.next_step() if self.pb.actor.signed_in else self.prompt())

    def refresh_header(self) -> None:
        actor = self.pb.actor
        try:
            header = self.query_one(StationHeader)
        except NoMatches:  # a station switched to but not composed yet: on_mount draws it
            return
        if actor.signed_in:
            role = " (supervisor)" if actor.is_supervisor else ""
            who = plain(f"👤 {actor.packer_name}{role}")
        else:
            who = Text("Not signed in")
        # The shop's words and the names are plain text, never markup.
        header.show(who=who, sync=self.pb.sync_text, terminal=f"terminal {actor.terminal}")
        self.show_next()  # signed in or out: the next step changes with it

    def refresh_data(self) -> None:
        """Reload what the station shows (after a scan, on resume). Override."""

    #: The widgets an error flashes: the header, the feedback line and the scan bar.
    FLASHED: ClassVar[tuple[str, ...]] = ("StationHeader", "#feedback", "ScanBar")

    def flash(self, on: bool) -> None:
        """Flash (or stop flashing) the header, feedback line and scan bar in the error colour.

        Inline styles, not a CSS class: a class change makes Textual re-apply the stylesheet to
        the widget and its children (about 13 ms a flash on the pack station, measured by the
        scan benchmark), an inline colour only repaints. Nothing here changes a widget's size,
        so no layout is needed either.
        """
        self._flashing = on
        error = self.app.current_theme.error
        flashed = getattr(self, "_flash_widgets", None)
        if flashed is None:  # the same widgets for the station's life: looked up once
            flashed = self._flash_widgets = [w for sel in self.FLASHED for w in self.query(sel)]
        for widget in flashed:
            styles = widget.styles
            if isinstance(widget, FeedbackLine):
                widget.flash(on)
            elif on and isinstance(widget, ScanBar):
                styles.border = ("tall", error or "red")
            elif on:
                styles.background = error
            else:
                for rule in list(styles.inline.get_rules()):
                    styles.inline.clear_rule(rule)
                widget.refresh()

    @property
    def flashing(self) -> bool:
        return getattr(self, "_flashing", False)

    def say(self, kind: str, message: str) -> None:
        """Show ``message`` in the feedback line as it is: it quotes scanned codes, names and
        the shop's words, so it is never read as markup."""
        feedback = getattr(self, "_feedback", None)
        if feedback is None:
            found = self.query("#feedback")
            if not found:  # not composed yet (a station opened a moment ago): show it on mount
                self._early_say = (kind, message)
                return
            feedback = self._feedback = found.first(FeedbackLine)
        feedback.show(kind, message)

    # -- scanner input ----------------------------------------------------------------------
    def on_key(self, event: events.Key) -> None:
        """A scan works without focusing anything: keys that reach the screen feed the scan bar.

        Focus is deliberately not moved: every key of a burst then takes the same route
        (focused widget → screen → scan bar), so a scan cannot be reordered halfway through.
        """
        if isinstance(self.focused, Input):
            return
        bar = self.scanbar
        if ScanBar.is_terminator(event):
            if bar.text:
                event.stop()
                event.prevent_default()
                bar.submit_current()
        elif ScanBar.is_group_separator(event):
            event.stop()
            event.prevent_default()
            bar.feed("\x1d", event.time)
        elif event.character and event.is_printable:
            event.stop()
            event.prevent_default()
            bar.feed(event.character, event.time)

    @on(Scanned)
    def _queue_scan(self, message: Scanned) -> None:
        message.stop()
        self._pending += 1
        self._idle.clear()
        self._queue.put_nowait(message)

    async def _scan_loop(self) -> None:
        while True:
            scan = await self._queue.get()
            try:
                await self._handle_scan(scan)
            except Exception as exc:  # a scan must never take the station down
                log.exception("scan failed: %r", scan.code)
                self.pb.feedback("error", f"That scan could not be handled: {exc}")
            finally:
                self._pending -= 1
                if self._pending == 0:
                    self._idle.set()

    async def _handle_scan(self, scan: Scanned) -> None:
        """The operation in a worker thread, then its outcome on screen.

        The screen is not repainted while a quick operation runs (up to ``HOLD_PAINT_S``): a
        frame painted meanwhile (the scan bar emptied) competed with the operation for the
        interpreter and pushed the frame showing the outcome back to the next tick, costing a
        scan 5–10 ms. The scan bar's text and the outcome now go out in one frame. A slow one
        (another terminal holding the database) does not freeze the screen: painting resumes
        after the hold.
        """
        job = asyncio.ensure_future(asyncio.to_thread(self.process_scan, scan))
        try:
            with self.app.batch_update():
                await asyncio.wait({job}, timeout=HOLD_PAINT_S)
                if job.done():
                    self._show_scan(job.result())
                    return
            self._show_scan(await job)
        finally:
            # The collections held off since the scan's first key run once its frame is out.
            self.call_after_refresh(collector.release)

    def _show_scan(self, outcome: ScanOutcome) -> None:
        self.show_outcome(outcome)
        self.after_scan(outcome)

    async def wait_idle(self) -> None:
        """For tests and for leaving a station: every queued scan has been handled."""
        await self._idle.wait()

    def process_scan(self, scan: Scanned) -> ScanOutcome:
        """Runs in a worker thread: the station's own operation, else the common one."""
        return handle_scan(self.pb.db, self.pb.actor, scan.code, self.pb.rules)

    def show_outcome(self, outcome: ScanOutcome) -> None:
        if not outcome.ok:
            self.pb.feedback("error", outcome.message)
            return
        if outcome.packer is not None:
            self.pb.signed_in(outcome.packer)
        if outcome.command is not None:
            self.pb.run_command(outcome.command)
            return
        note = " (scanner layout corrected)" if outcome.swapped else ""
        self.pb.feedback("ok", outcome.message + note)

    def after_scan(self, outcome: ScanOutcome) -> None:
        """Station-specific follow-up (open the order, refresh lists). Override."""
        if outcome.ok and outcome.order_id is not None:
            self.open_order(outcome.order_id)

    def open_order(self, order_id: int) -> None:
        """Show an order. Override."""

    def action_cursor(self, direction: str) -> None:
        """Up/down move the cursor of the station's main list while the scan bar has focus."""
