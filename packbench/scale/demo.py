"""The demo scale: a bench scale's lines written into a pseudo-terminal.

``DemoScale()`` opens a pty pair; the pack station reads its other end (``path``, e.g.
``/dev/pts/7``) exactly as it reads a USB scale. ``put(grams)`` is a parcel put on the scale
(``put(0)`` lifting it off): a few unstable readings, then stable ones, sent every
``interval_s`` in the A&D shape ``ST,GS,   0.935kg``. ``packbench demo-scale`` runs one and
takes the weights from standard input; ``packbench demo`` runs one that :meth:`follows
<DemoScale.follow>` the bench: it weighs whatever the bench says a packer has put on it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import threading
import tty
from collections.abc import Callable, Hashable, Sequence

from packbench.core.scale import parse_line

log = logging.getLogger(__name__)


def line_for(grams: int, stable: bool) -> bytes:
    return f"{'ST' if stable else 'US'},GS,{grams / 1000:>9.3f}kg\r\n".encode("ascii")


class DemoScale:
    def __init__(self, *, interval_s: float = 0.1, unstable_readings: int = 3) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no CR→LF: the reader sees the bytes as sent
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        self.interval_s = interval_s
        self.unstable_readings = unstable_readings
        self._grams = 0
        self._moving = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._follower: threading.Thread | None = None

    def put(self, grams: int) -> None:
        """Something weighing ``grams`` is on the scale now (0: nothing)."""
        with self._lock:
            self._grams = max(0, grams)
            self._moving = self.unstable_readings

    def send(self, data: bytes) -> None:
        """Bytes as the scale would send them (a reader that is not reading loses them)."""
        with contextlib.suppress(BlockingIOError):
            os.write(self._master, data)

    def _next(self) -> bytes:
        with self._lock:
            if self._moving:
                self._moving -= 1
                wobble = 7 * self._moving  # settling towards the weight
                return line_for(self._grams + wobble, stable=False)
            return line_for(self._grams, stable=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.send(self._next())
            with contextlib.suppress(BlockingIOError, OSError):
                os.read(self._master, 512)  # a poll the reader sent: answered by the stream

    def follow(
        self, on_scale: Callable[[], tuple[Hashable, int] | None], *, every_s: float = 0.5
    ) -> DemoScale:
        """Weigh what ``on_scale`` says is on the scale, asked every ``every_s``: a placement
        (anything that tells one parcel on the scale from the next) and its grams, or None for
        an empty scale. A new placement, or the same one grown heavier, is put on afresh (a few
        unstable readings, then stable ones); None lifts it off."""

        def run() -> None:
            last: tuple[Hashable, int] | None = None
            while not self._stop.wait(every_s):
                try:
                    now = on_scale()
                except Exception:  # the bench's database busy or gone: ask again next time
                    log.warning("demo scale: could not ask what is on it", exc_info=True)
                    continue
                if now != last:
                    self.put(now[1] if now is not None else 0)
                    last = now

        self._follower = threading.Thread(target=run, name="demo-scale-follow", daemon=True)
        self._follower.start()
        return self

    def start(self) -> DemoScale:
        self._thread = threading.Thread(target=self._run, name="demo-scale", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        for thread in (self._thread, self._follower):
            if thread is not None:
                thread.join(timeout=2)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> DemoScale:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="packbench demo-scale",
        description=(
            "A demo bench scale on a pseudo-terminal: type a weight (935g, 0.935kg, 0) and "
            "Enter to put a parcel on it; the pack station reads it like a USB scale."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between readings")
    args = parser.parse_args(argv)
    with DemoScale(interval_s=args.interval) as scale:
        print(f'demo scale on {scale.path}: set [pack] scale = "{scale.path}"', flush=True)
        for text in sys.stdin:
            text = text.strip()
            if not text:
                continue
            reading = parse_line(text if not text.isdigit() else f"{text} g")
            if reading is None or reading.grams < 0:
                print(f"not a weight: {text!r} (e.g. 935g, 0.935kg, 0)", flush=True)
                continue
            scale.put(reading.grams)
            print(f"on the scale: {reading.grams} g", flush=True)
    return 0
