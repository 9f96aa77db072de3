"""The floor under "scan → screen": a minimal Textual app taking the same scanner bursts.

Run: .venv/bin/python benchmarks/scan_floor.py [--repeat 30]

The baseline beside `benchmarks/volume.py`'s pack scan → screen figure (issue #20: p95 ≤ 12 ms
on the 200,000-order history). A minimal Textual app, 140×45 like the benchmark's pack station,
with a scan line docked at the bottom, twelve order lines (one Static each) and a feedback
line. The app takes the keys itself (the least a Textual app can do: no Input widget, whose
per-key work packbench's scan bar avoids by buffering a burst). Each burst (the same keys the
pack benchmark posts: a GTIN, the undo command, a wrong code, then Enter) rewrites one order
line and the feedback line, with no database and no worker. Timed exactly as volume.py times
the station: from posting the first key to the first screen update after the feedback changed,
turned into the terminal's bytes. What the station takes above this is packbench's own.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _figures import emit
from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Static

from packbench.heap import rerun_on_huge_pages

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class Floor(App[None]):
    CSS = """
    #feedback { height: 1; }
    #scan { dock: bottom; height: 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.feedback_log: list[str] = []
        self.counts = [0] * 12
        self._typed = ""

    def compose(self) -> ComposeResult:
        for i in range(12):
            yield Static(f"SKU-{i:04}  Product {i}  A-{i:02}-1  0 / 2", id=f"line{i}")
        yield Static("", id="feedback")
        yield Static("Scan", id="scan")

    def on_key(self, event: events.Key) -> None:
        event.stop()
        if event.key != "enter":
            self._typed += event.character or ""
            return
        code, self._typed = self._typed, ""
        row = len(self.feedback_log) % 12
        self.counts[row] = (self.counts[row] + 1) % 3
        line = self.query_one(f"#line{row}", Static)
        line.update(f"SKU-{row:04}  Product {row}  A-{row:02}-1  {self.counts[row]} / 2")
        self.query_one("#feedback", Static).update(f"Scanned {code}")
        self.feedback_log.append(code)


def burst(app: App[None], code: str) -> None:
    """Raw key events as the terminal driver posts them (as tests/screens/helpers.burst)."""
    from textual.keys import _character_to_key

    for ch in code:
        app.post_message(events.Key(ch if ch.isalnum() else _character_to_key(ch), ch))
    app.post_message(events.Key("enter", "\r"))


async def measure(repeat: int) -> list[float]:
    app = Floor()
    display = app._display
    waiting: dict[str, Any] = {}

    def to_terminal(screen, update) -> None:  # type: ignore[no-untyped-def]
        display(screen, update)
        if update is not None and hasattr(update, "render_segments"):
            update.render_segments(app.console)
        shown = waiting.get("shown")
        if shown is not None and not shown.done() and len(app.feedback_log) > waiting["seen"]:
            shown.set_result(time.perf_counter())

    app._display = to_terminal  # type: ignore[method-assign]
    times: list[float] = []
    codes = ["7071234000017", "CMD-UNDO", "7071234999990"]
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        for round_ in range(repeat):
            for code in codes:
                await pilot.pause()
                await asyncio.sleep(0.02)  # a packer's pace, as volume.py waits
                waiting.update(
                    seen=len(app.feedback_log), shown=asyncio.get_running_loop().create_future()
                )
                t0 = time.perf_counter()
                burst(app, code)
                shown = await asyncio.wait_for(waiting["shown"], 10)
                if round_ or repeat == 1:  # the first round warms caches, as in volume.py
                    times.append((shown - t0) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    # Set up as the app's command sets itself up: its objects on huge pages, where the
    # machine has them (packbench.heap; PACKBENCH_HUGE_PAGES=0 measures without).
    rerun_on_huge_pages()
    times = sorted(asyncio.run(measure(args.repeat)))
    median = statistics.median(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(f"minimal Textual app, burst → frame: median {median:.1f} ms, p95 {p95:.1f} ms "
          f"(n={len(times)})")  # fmt: skip
    emit("scan_floor", "minimal Textual app, burst → frame: median", median, "ms")
    emit("scan_floor", "minimal Textual app, burst → frame: p95", p95, "ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
