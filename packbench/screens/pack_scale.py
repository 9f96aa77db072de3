"""The pack station's scale (#16): a stable reading is the parcel's weight, with no scan.

The port is read in a thread of its own (``scale.base.follow``); each reading comes to the
screen as a message, goes through ``core.scale.WeightGate`` (stable, each placement once) and,
when the open order waits for its current parcel's weight, is queued as a :class:`Weighed` scan:
in line with the scans before and after it, handled by the same operation as a typed weight,
and in the order's history as ``scale 935 g``. A weight that arrives while the order is not
waiting for one (items still going in) stays on hand until it is, or the scale changes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from textual.message import Message

from packbench.core.scale import Reading, WeightGate
from packbench.operations.pack_views import PackView
from packbench.scale.base import ScalePort, follow
from packbench.screens.widgets.scanbar import Scanned

if TYPE_CHECKING:
    from packbench.screens.pack import PackScreen


@dataclass
class Weighed(Scanned):
    """A weight the scale gave, queued like a scan."""

    grams: int = 0


class ScaleRead(Message):
    def __init__(self, reading: Reading) -> None:
        super().__init__()
        self.reading = reading


class ScaleState(Message):
    def __init__(self, problem: str | None) -> None:
        super().__init__()
        self.problem = problem


def awaits_weight(view: PackView | None) -> bool:
    """The open order's current parcel has its items and box and waits for its weight (or a
    weight warning waits for it to be weighed again)."""
    if view is None or not view.packable:
        return False
    current = view.current
    if current is None or current.unit_count == 0 or current.box_code is None:
        return False
    if view.pending_weight_g is not None:
        return view.pending_weight_seq == current.seq
    if current.weight_g:
        return False
    if view.units_packed >= view.units_total:
        return True
    s = view.suggestion
    if s is None or current.seq > len(s.parcels):
        return False
    planned = s.parcels[current.seq - 1]
    return current.unit_count >= sum(n for _, n in planned.units)


#: A queued weight whose outcome never showed (the scan failed outright) stops blocking after this.
STUCK_S = 10.0


class ScaleFeed:
    """One pack screen's scale: the reading thread, the gate, and what is queued."""

    def __init__(self, screen: PackScreen, port: ScalePort, *, settle: int = 2) -> None:
        self.screen = screen
        self.port = port
        self.gate = WeightGate(settle=settle)
        #: The Weighed scan queued and not handled yet (its code), and when it was queued.
        self.queued: str | None = None
        self._queued_at = 0.0
        self.problem: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=follow,
            args=(port, self._read, self._stop),
            kwargs={"on_state": self._state},
            name="pack-scale",
            daemon=True,
        )

    def start(self) -> ScaleFeed:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    # -- in the reading thread: to the screen as messages (post_message is thread-safe)
    def _read(self, reading: Reading) -> None:
        self.screen.post_message(ScaleRead(reading))

    def _state(self, problem: str | None) -> None:
        self.screen.post_message(ScaleState(problem))

    # -- on the screen
    def reading(self, reading: Reading) -> None:
        self.gate.feed(reading)
        self.offer()

    def state(self, problem: str | None) -> None:
        pb = self.screen.pb
        if problem is not None:
            pb.feedback("error", f"Scale: {problem}. Scan or type the weight meanwhile.")
        elif self.problem is not None:
            pb.feedback("info", f"Scale: {self.port.name} reads again.")
        self.problem = problem

    def offer(self) -> None:
        """Queue the weight on the scale if the open order waits for one."""
        # One weight at a time: a second one queued behind the first would reach an order the
        # first had finished (a scan that failed outright frees the way after STUCK_S).
        if self.queued is not None and time.monotonic() - self._queued_at < STUCK_S:
            return
        if self.gate.ready is None or not awaits_weight(self.screen.view):
            return
        grams = self.gate.take()
        if grams is None:
            return
        self.queued = f"scale {grams} g"
        self._queued_at = time.monotonic()
        self.screen._queue_scan(Weighed(self.queued, datetime.now(UTC), False, (), grams=grams))

    def shown(self, code: str) -> None:
        """A scan's outcome is on screen: the queued weight's, which frees the way for the next
        (a weight warning waits for the parcel to be weighed again: a new placement), or any
        other, after which the order may wait for the weight on the scale (its box scanned)."""
        if code == self.queued:
            self.queued = None
        self.offer()
