"""The scan bar: one line of keyboard input that turns every scan into exactly one ``Scanned``.

Barcode scanners at the bench are keyboards: a scan is a burst of key events, a few ms apart,
followed by Enter (``"\\r"``, key ``enter``) or a line feed (``"\\n"``, key ``ctrl+j``).

Why Enter is handled here and not by ``Input``'s ``enter`` binding (Textual issue 6605):
a stock ``Input`` inserts characters in its own ``_on_key`` handler, in its own message queue,
but Enter is not a printable key, so it bubbles up (widget → screen → app) and only when it
reaches the app is the ``enter → submit`` binding run — and ``action_submit`` reads
``self.value`` *then*. Scans that arrive back to back are already sitting in the widget's queue,
so the characters of the next scan overtake the previous scan's submit: with Textual 8.2.8 four
back-to-back scans submitted the concatenation of all four, four times. ``ScanBar`` handles the
terminator in its own key handler, in queue order with the characters before it: it stops the
event, takes and clears the value and posts one ``Scanned``. The binding never runs.

Other things a plain ``Input`` gets wrong for scanners:

* The GS1 FNC1 separator arrives as ASCII 29 (GS): as a key event ``ctrl+right_square_bracket``
  with character ``"\\x1d"`` in a legacy terminal, or with character ``None`` when the terminal
  speaks the kitty keyboard protocol (which Textual 8.2.8 turns on). ``Input`` only inserts
  *printable* characters, so it would silently drop the separator; ``ScanBar`` inserts ``"\\x1d"``.
* Key events carry a monotonic ``.time``; the gaps between keys tell a scanner (a few ms per key)
  from a person typing, reported as ``Scanned.burst`` and ``Scanned.key_gaps_ms``.

Screens that keep focus elsewhere forward keys with :meth:`ScanBar.feed` and
:meth:`ScanBar.submit_current`; both act synchronously, so forwarded keys keep their order.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from statistics import median
from typing import Any

from textual import events
from textual.message import Message
from textual.widgets import Input

from packbench.screens import collector

__all__ = ["GS", "TERMINATOR_KEYS", "ScanBar", "Scanned"]

GS = "\x1d"
"""ASCII group separator: how scanners transmit the GS1 FNC1 separator inside a code."""

TERMINATOR_KEYS = frozenset({"enter", "ctrl+m", "ctrl+j", "newline"})
"""Key names that end a scan. ``ctrl+m`` is only distinct from ``enter`` under the kitty
keyboard protocol; ``newline`` is Textual's alias of ``ctrl+j``. Tab is *not* a terminator."""

_TERMINATOR_CHARACTERS = frozenset({"\r", "\n"})
_GS_KEYS = frozenset({"ctrl+right_square_bracket"})

MIN_BURST_LENGTH = 4
"""A code shorter than this is never called a scanner burst."""

# The clock Textual stamps on events (``Message.time``): monotonic, perf_counter on Windows.
_clock = time.perf_counter if sys.platform == "win32" else time.monotonic


@dataclass
class Scanned(Message):
    """One scan (or one typed code) ended by Enter. Bubbles from the :class:`ScanBar`."""

    code: str
    """Exactly the characters that arrived, without the terminator; not stripped otherwise."""
    received_at: datetime
    """Timezone-aware UTC wall time at which the terminator was handled."""
    burst: bool
    """True when it looked like a scanner: >= 4 characters and median key gap <= the limit."""
    key_gaps_ms: tuple[float, ...]
    """Gaps in ms between consecutive keys that inserted characters (for the test-scan view)."""


_Scanned = Scanned  # the message's name where the class attribute of that name hides it


class ScanBar(Input):
    """The scan line at the bottom of every station."""

    Scanned = Scanned

    def __init__(
        self,
        *,
        max_key_gap_ms: float = 35.0,
        placeholder: str = "Scan or type a code, then Enter",
        id: str | None = "scanbar",
        **kw: Any,
    ) -> None:
        if max_key_gap_ms <= 0:
            raise ValueError(f"max_key_gap_ms must be positive, got {max_key_gap_ms!r}")
        # Input selects everything on focus; the next key would then replace what a screen
        # has already fed in (e.g. the first characters of a scan that arrived while another
        # widget had focus). A scan bar only ever appends.
        kw.setdefault("select_on_focus", False)
        super().__init__(placeholder=placeholder, id=id, **kw)
        self.max_key_gap_ms = float(max_key_gap_ms)
        self._key_times: list[float] = []
        #: Characters of a burst not yet put into ``value`` (see :meth:`_buffer`).
        self._pending = ""

    # -- key handling ---------------------------------------------------------------------------
    @staticmethod
    def is_terminator(event: events.Key) -> bool:
        """Enter, Ctrl+M or Ctrl+J / "\\n" (never Tab)."""
        return event.key in TERMINATOR_KEYS or event.character in _TERMINATOR_CHARACTERS

    @staticmethod
    def is_group_separator(event: events.Key) -> bool:
        """The GS1 separator, whether or not the terminal reported its character."""
        return event.character == GS or (event.character is None and event.key in _GS_KEYS)

    def check_consume_key(self, key: str, character: str | None) -> bool:
        """Also claim the terminators and GS, so ancestor bindings on them do not look active."""
        return (
            super().check_consume_key(key, character)
            or key in TERMINATOR_KEYS
            or key in _GS_KEYS
            or character == GS
        )

    async def _on_key(self, event: events.Key) -> None:
        # Runs before Input._on_key (Textual dispatches down the MRO until prevent_default()).
        if self.is_terminator(event):
            event.stop()
            event.prevent_default()
            self.submit_current()
        elif self.is_group_separator(event):
            event.stop()
            event.prevent_default()
            self._restart_blink()
            self._record_key(event.time)
            if self._appending():
                self._buffer(GS)
            else:
                self._insert_at_cursor(GS)
        elif event.is_printable and event.character and self._appending():
            event.stop()
            event.prevent_default()
            self._record_key(event.time)
            self._buffer(event.character)
        else:
            # Editing keys (backspace, arrows, a character typed into the middle) see the real
            # value; Input._on_key inserts a printable character right after this.
            self._flush()
            if event.is_printable:
                self._record_key(event.time)

    def _on_paste(self, event: events.Paste) -> None:
        self._flush()
        super()._on_paste(event)

    def take_key(self, event: events.Key) -> bool:
        """Handle a scan's key at once, as :meth:`_on_key` would from this bar's queue: Enter
        (or another terminator) submits, a character is added at the end.

        For the app, which hands a scan's keys over directly while this bar's queue is empty
        (the key cannot overtake one queued here). Returns False, doing nothing, for any other
        key or a character typed into the middle of the text: that one is queued as usual.
        """
        if self.is_terminator(event):
            self.submit_current()
            return True
        if event.is_printable and event.character and self._appending():
            self._record_key(event.time)
            self._buffer(event.character, direct=True)
            return True
        return False

    # -- API for screens ------------------------------------------------------------------------
    def feed(self, character: str, time: float | None = None) -> None:
        """Append ``character`` as if it had been typed here (for keys caught elsewhere).

        ``time`` is the key event's ``.time`` (defaults to now on Textual's clock). A ``"\\r"``
        or ``"\\n"`` ends the scan like Enter. Synchronous: call it from the app's event loop.
        """
        when = _clock() if time is None else time
        for char in character:
            if char in _TERMINATOR_CHARACTERS:
                self.submit_current()
                continue
            self._record_key(when, at_cursor=False)
            self._buffer(char)

    @property
    def text(self) -> str:
        """What has been scanned or typed so far (``value`` plus characters not shown yet)."""
        return self.value + self._pending

    def clear(self) -> None:
        self._pending = ""
        super().clear()

    def submit_current(self) -> _Scanned | None:
        """Do what Enter does: take and clear the value, post one ``Scanned``.

        Returns the message posted, or ``None`` when the value was empty (nothing is posted).
        """
        code = self.text
        key_times, self._key_times = self._key_times, []
        if not code:
            return None
        self.clear()
        gaps = tuple(round((b - a) * 1000.0, 3) for a, b in pairwise(key_times))
        message = Scanned(
            code=code,
            received_at=datetime.now(UTC),
            burst=self.looks_like_burst(code, gaps),
            key_gaps_ms=gaps,
        )
        self.post_message(message)
        return message

    def looks_like_burst(self, code: str, gaps: tuple[float, ...]) -> bool:
        """A scanner, not a person: long enough and keys arriving faster than the limit."""
        return len(code) >= MIN_BURST_LENGTH and bool(gaps) and median(gaps) <= self.max_key_gap_ms

    # -- internals ------------------------------------------------------------------------------
    def _record_key(self, when: float, *, at_cursor: bool = True) -> None:
        """Note the time of a key that is about to insert a character (and hold the garbage
        collector off until the scan's outcome is on screen: :mod:`packbench.screens.collector`)."""
        collector.hold()
        start, end = sorted(self.selection)
        replaces_all = at_cursor and not self._pending and start == 0 and end == len(self.value)
        if not self.text or replaces_all:
            # A new code starts (empty, or everything is selected and about to be replaced):
            # forget the keys of anything typed and deleted before.
            self._key_times.clear()
        self._key_times.append(when)

    def _appending(self) -> bool:
        """A key now would add to the end of the text (as every key of a scan does)."""
        if self._pending:
            return True
        return self.selection.is_empty and self.cursor_position == len(self.value)

    def _buffer(self, text: str, *, direct: bool = False) -> None:
        """Add characters at the end, shown once the keys queued behind them are handled.

        Putting each character into ``value`` as it arrives costs Textual about 0.75 ms (the
        reactive, its watchers and a ``Changed`` message per key): 10 ms of a 13-digit scan
        before the bench can even look the code up. A burst's keys are already queued, so one
        callback queued behind them shows the whole burst at once; a person typing sees each
        key in the next frame as before. The keys are queued in the app's queue when the app
        hands them over directly (``direct``), else in this bar's.
        """
        if not self._pending:
            (self.app if direct else self).call_later(self._flush)
        self._pending += text

    def _flush(self) -> None:
        if self._pending:
            text, self._pending = self._pending, ""
            self.insert(text, len(self.value))
            self.cursor_position = len(self.value)

    def _insert_at_cursor(self, text: str) -> None:
        selection = self.selection
        if selection.is_empty:
            self.insert_text_at_cursor(text)
        else:
            self.replace(text, *selection)
