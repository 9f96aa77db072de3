"""The scan bar: one ``Scanned`` per scan, in order, with the exact characters.

Keys are delivered the way the terminal driver delivers them: ``App.post_message`` for every key
of a burst in one synchronous loop, without yielding to the event loop between keys. The app
forwards each key to the focused widget, exactly as with a real scanner. ``pilot.press`` waits
for idle after *every* key, so it never reproduces the race of Textual issue 6605; it is used
only where a person is typing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Button, Input

from packbench.screens.widgets.scanbar import GS, ScanBar, Scanned

SIZE = (100, 30)


# -- helpers ------------------------------------------------------------------------------------
class ScanApp(App[None]):
    """A ScanBar (focused) and a button; every Scanned is kept in ``scans``."""

    BINDINGS = [("enter", "app_enter", "App-level Enter")]  # must never fire from the scan bar

    def __init__(self, **bar_kw: object) -> None:
        super().__init__()
        self.bar_kw = bar_kw
        self.scans: list[Scanned] = []
        self.app_enter_count = 0

    def compose(self) -> ComposeResult:
        yield Button("elsewhere", id="elsewhere")
        yield ScanBar(**self.bar_kw)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.query_one(ScanBar).focus()

    def on_scanned(self, message: Scanned) -> None:
        self.scans.append(message)

    def action_app_enter(self) -> None:
        self.app_enter_count += 1


class StockInputApp(App[None]):
    """The obvious way with a stock Input: read the value on Submitted, then clear it."""

    def __init__(self) -> None:
        super().__init__()
        self.submitted: list[str] = []

    def compose(self) -> ComposeResult:
        yield Input(id="stock")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.submitted.append(event.value)
        event.input.clear()


def key_for(char: str) -> events.Key:
    """The key event a legacy-mode terminal produces for one character a scanner sends."""
    if char == "\r":
        return events.Key("enter", "\r")
    if char == "\n":
        return events.Key("ctrl+j", "\n")
    if char == GS:
        return events.Key("ctrl+right_square_bracket", GS)
    if char.isalnum():
        return events.Key(char, char)
    return events.Key(unicodedata.name(char).lower().replace(" ", "_").replace("-", "_"), char)


def scan_keys(code: str, *, start: float = 0.0, gap_ms: float = 3.0, end: str = "\r"):
    """Key events for ``code`` + terminator; with ``start`` set, ``.time`` is stamped explicitly."""
    keys = [key_for(char) for char in code + end]
    if start:
        for index, key in enumerate(keys):
            key.time = start + index * gap_ms / 1000.0
    return keys


def post_burst(app: App[None], keys: Iterable[events.Key]) -> None:
    """Queue every key on the app at once, like the driver does for a burst of input."""
    for key in keys:
        key.set_sender(app)
        app.post_message(key)


async def settle(pilot: Pilot[None], done: Callable[[], bool], rounds: int = 60) -> None:
    """Let the app work until ``done()``, or give up after ``rounds`` idle waits."""
    for _ in range(rounds):
        await pilot.pause()
        if done():
            return
    await pilot.pause()


def codes(scans: list[Scanned]) -> list[str]:
    return [scan.code for scan in scans]


def hundred_codes() -> list[str]:
    return [f"PB-{n:04d}-{(n * 7919) % 100000:05d}" for n in range(100)]


# -- 1. one scan ----------------------------------------------------------------------------------
async def test_single_typed_scan_posts_one_message() -> None:
    app = ScanApp()
    async with app.run_test(size=SIZE) as pilot:
        before = datetime.now(UTC)
        await pilot.press(*"A12B", "enter")
        await settle(pilot, lambda: len(app.scans) >= 1)
        assert codes(app.scans) == ["A12B"]
        scan = app.scans[0]
        assert scan.received_at.tzinfo is UTC
        assert before <= scan.received_at <= datetime.now(UTC)
        assert app.query_one(ScanBar).value == ""
        assert app.app_enter_count == 0  # the app's own Enter binding never saw the key


async def test_code_is_not_stripped() -> None:
    app = ScanApp()
    async with app.run_test(size=SIZE) as pilot:
        post_burst(app, scan_keys(" 12 34 "))
        await settle(pilot, lambda: len(app.scans) >= 1)
        assert codes(app.scans) == [" 12 34 "]


# -- 2. back-to-back scans (textual issue 6605) ---------------------------------------------------
async def test_hundred_back_to_back_scans_arrive_in_order() -> None:
    expected = hundred_codes()
    app = ScanApp()
    async with app.run_test(size=SIZE) as pilot:
        post_burst(app, [key for code in expected for key in scan_keys(code)])
        await settle(pilot, lambda: len(app.scans) >= len(expected))
        assert codes(app.scans) == expected
        assert app.query_one(ScanBar).value == ""
        assert app.app_enter_count == 0


async def test_stock_input_loses_back_to_back_scans() -> None:
    """Why ScanBar exists: the same burst through a stock Input does not give the scans.

    If this ever fails, Textual has fixed issue 6605 for ``Input``; ScanBar's own Enter
    handling is then belt and braces, not a necessity.
    """
    expected = hundred_codes()
    app = StockInputApp()
    async with app.run_test(size=SIZE) as pilot:
        post_burst(app, [key for code in expected for key in scan_keys(code)])
        await settle(pilot, lambda: len(app.submitted) >= len(expected))
        assert app.submitted != expected
        assert app.submitted[0] != expected[0]  # characters of later scans overtook the Enter


# -- 3. terminators -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "terminator",
    [
        events.Key("enter", "\r"),  # "\r" from a legacy terminal
        events.Key("ctrl+j", "\n"),  # "\n" from a legacy terminal
        events.Key("ctrl+j", None),  # Ctrl+J under the kitty keyboard protocol
        events.Key("ctrl+m", None),  # Ctrl+M under the kitty keyboard protocol
    ],
    ids=["enter", "ctrl+j", "ctrl+j-kitty", "ctrl+m-kitty"],
)
async def test_terminators(terminator: events.Key) -> None:
    app = ScanApp()
    async with app.run_test(size=SIZE) as pilot:
        post_burst(app, [*scan_keys("X-42", end=""), terminator])
        await settle(pilot, lambda: len(app.scans) >= 1)
        assert codes(app.scans) == ["X-42"]
        assert app.app_enter_count == 0


async def test_typed_ctrl_j_and_empty_enter() -> None:
    app = ScanApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "ctrl+j")  # nothing typed: nothing posted
        await pilot.press(*"ab", "ctrl+j", "enter", "enter", *"cd", "enter")
        await pilot.pause()
        assert codes(app.scans) == ["ab", "cd"]
        assert app.app_enter_count == 0


async def test_tab_is_not_a_terminator() -> None:
    app = ScanApp()
    async with app.run_test(size=SIZE) as pilot:
        post_burst(app, [*scan_keys("AB", end=""), events.Key("tab", "\t")])
        await pilot.pause()
        assert app.scans == []
        assert app.query_one(ScanBar).value == "AB"


async def test_a_person_editing_what_they_typed() -> None:
    """Characters are shown in batches; backspace and the cursor keys still see all of them."""
    app = ScanApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"ABC", "backspace", "left", "x", "end", "d")
        await pilot.pause()
        bar = app.query_one(ScanBar)
        assert bar.value == bar.text == "AxBd"
        assert app.scans == []
        await pilot.press("enter")
        await pilot.pause()
        assert codes(app.scans) == ["AxBd"]


# -- 4. burst detection ---------------------------------------------------------------------------
async def test_scanner_burst_is_detected() -> None:
    app = ScanApp()
    async with app.run_test(size=SIZE) as pilot:
        post_burst(app, scan_keys("4006381333931", start=1000.0, gap_ms=4.0))
        await settle(pilot, lambda: len(app.scans) >= 1)
        (scan,) = app.scans
        assert scan.burst is True
        assert len(scan.key_gaps_ms) == len(scan.code) - 1
        assert scan.key_gaps_ms == pytest.approx([4.0] * 12)


async def test_person_typing_is_not_a_burst() -> None:
    app = ScanApp()
    async with app.run_test(size=SIZE) as pilot:
        post_burst(app, scan_keys("4006381333931", start=2000.0, gap_ms=200.0))
        await settle(pilot, lambda: len(app.scans) >= 1)
        (scan,) = app.scans
        assert scan.burst is False
        assert len(scan.key_gaps_ms) == len(scan.code) - 1
        assert scan.key_gaps_ms == pytest.approx([200.0] * 12)


async def test_burst_needs_four_characters_and_respects_the_limit() -> None:
    app = ScanApp(max_key_gap_ms=10.0)
    async with app.run_test(size=SIZE) as pilot:
        post_burst(app, scan_keys("123", start=3000.0, gap_ms=1.0))  # fast but short
        post_burst(app, scan_keys("1234", start=3001.0, gap_ms=10.0))  # at the limit
        post_burst(app, scan_keys("5678", start=3002.0, gap_ms=11.0))  # just over
        await settle(pilot, lambda: len(app.scans) >= 3)
        assert [(s.code, s.burst) for s in app.scans] == [
            ("123", False),
            ("1234", True),
            ("5678", False),
        ]


async def test_key_times_reset_after_deleting_everything() -> None:
    app = ScanApp()
    async with app.run_test(size=SIZE) as pilot:
        # A person types and deletes (at human speed: Backspace is an Input *binding* and
        # would be overtaken by a burst just like Enter on a stock Input), then a scan.
        await pilot.press("Z", "Z", "backspace", "backspace")
        post_burst(app, scan_keys("ABCD", start=4002.0, gap_ms=5.0))
        await settle(pilot, lambda: len(app.scans) >= 1)
        (scan,) = app.scans
        assert scan.code == "ABCD"
        assert scan.key_gaps_ms == pytest.approx([5.0] * 3)
        assert scan.burst is True


# -- 5. GS1 group separator -----------------------------------------------------------------------
async def test_group_separator_survives() -> None:
    code = "0109501101530003\x1d10AB12"
    app = ScanApp()
    async with app.run_test(size=SIZE) as pilot:
        post_burst(app, scan_keys(code))
        # The same scanner under the kitty keyboard protocol: Ctrl+] without a character.
        kitty = [key_for(c) for c in "0109501101530003"]
        kitty += [events.Key("ctrl+right_square_bracket", None)]
        kitty += [key_for(c) for c in "10AB12\r"]
        post_burst(app, kitty)
        await settle(pilot, lambda: len(app.scans) >= 2)
        assert codes(app.scans) == [code, code]
        assert len(app.scans[0].key_gaps_ms) == len(code) - 1


async def test_stock_input_drops_the_group_separator() -> None:
    """Why ScanBar inserts GS itself: Input only inserts printable characters."""
    app = StockInputApp()
    async with app.run_test(size=SIZE) as pilot:
        post_burst(app, scan_keys("01\x1d10", end=""))
        await pilot.pause()
        assert app.query_one(Input).value == "0110"


# -- 6. keys forwarded from elsewhere -------------------------------------------------------------
async def test_feed_and_submit_current() -> None:
    app = ScanApp()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#elsewhere", Button).focus()
        await pilot.pause()
        bar = app.query_one(ScanBar)
        assert not bar.has_focus
        for index, char in enumerate("SLIP-0042"):
            bar.feed(char, 500.0 + index * 0.002)
        bar.cursor_position = 0  # feed appends wherever the cursor is
        bar.feed(GS, 500.0 + 9 * 0.002)
        assert bar.text == "SLIP-0042\x1d"  # at once; shown in the input a moment later
        await pilot.pause()
        assert bar.value == "SLIP-0042\x1d" and bar.cursor_position == len(bar.value)
        message = bar.submit_current()
        assert message is not None
        assert bar.value == bar.text == ""
        assert bar.submit_current() is None  # empty: nothing posted
        bar.feed("ab\rcd\n")  # terminators inside feed end the scan; no time: now
        await settle(pilot, lambda: len(app.scans) >= 3)
        assert codes(app.scans) == ["SLIP-0042\x1d", "ab", "cd"]
        assert app.scans[0] is message
        assert app.scans[0].burst is True
        assert app.scans[0].key_gaps_ms == pytest.approx([2.0] * 9)


async def test_focusing_after_feed_does_not_select_and_replace() -> None:
    """A screen feeds the first key, then focuses the bar; later keys must append."""
    app = ScanApp()
    async with app.run_test(size=SIZE) as pilot:
        app.query_one("#elsewhere", Button).focus()
        await pilot.pause()
        bar = app.query_one(ScanBar)
        bar.feed("A")
        bar.focus()
        await pilot.pause()
        await pilot.press("B", "C", "enter")
        await settle(pilot, lambda: len(app.scans) >= 1)
        assert codes(app.scans) == ["ABC"]


# -- 7. non-ASCII ---------------------------------------------------------------------------------
async def test_non_ascii_characters_arrive_intact() -> None:
    app = ScanApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"æøå", "enter")
        post_burst(app, scan_keys("Blåbær-ÆØÅ-Straße"))
        await settle(pilot, lambda: len(app.scans) >= 2)
        assert codes(app.scans) == ["æøå", "Blåbær-ÆØÅ-Straße"]


def test_max_key_gap_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ScanBar(max_key_gap_ms=0)
