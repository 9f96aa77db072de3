"""Driving the app the way a packer does: key bursts from a scanner, then Enter."""

from __future__ import annotations

import asyncio

from textual import events
from textual.pilot import Pilot

from packbench.app import PackbenchApp

LONG_RUNNING = ("scans", "sync")  # workers that live as long as the app


def burst(app: PackbenchApp, code: str, terminator: str = "enter") -> None:
    """Post a scanner burst as raw key events, as the terminal driver does, without waiting."""
    target = app
    for ch in code:
        target.post_message(events.Key(ch if ch.isalnum() else _key_name(ch), ch))
    target.post_message(events.Key(terminator, "\r" if terminator == "enter" else "\n"))


def _key_name(ch: str) -> str:
    from textual.keys import _character_to_key

    return _character_to_key(ch)


async def settle(pilot: Pilot) -> None:
    """Wait until every queued scan and every worker has finished and the screen updated."""
    app: PackbenchApp = pilot.app  # type: ignore[assignment]
    for _ in range(3):
        await pilot.pause()
        wait_idle = getattr(app.screen, "wait_idle", None)
        if wait_idle is not None:
            await wait_idle()
        while any(w.group not in LONG_RUNNING and not w.is_finished for w in app.workers):
            await asyncio.sleep(0.01)
        await pilot.pause()


async def scan(pilot: Pilot, code: str) -> None:
    burst(pilot.app, code)  # type: ignore[arg-type]
    await settle(pilot)


async def typed(pilot: Pilot, code: str) -> None:
    """A person typing the code and pressing Enter, through the real key pipeline."""
    await pilot.press(*[_key_name(ch) if not ch.isalnum() else ch for ch in code], "enter")
    await settle(pilot)


def text_of(widget, width: int = 200) -> str:  # type: ignore[no-untyped-def]
    """What a Static shows, as plain text (renders its Rich content off-screen, ``width``
    columns wide; ``text_of(w, w.content_region.width)`` draws it as wide as it is on screen)."""
    import io

    from rich.console import Console

    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(widget.content)
    return console.export_text()


async def sign_in_supervisor(pilot: Pilot, badge: str = "BDG-1004", pin: str = "2468") -> None:
    """A supervisor's badge, then their PIN typed into the dialog it opens."""
    await scan(pilot, badge)
    await pilot.press(*pin, "enter")
    await settle(pilot)
