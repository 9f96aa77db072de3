"""The garbage collector is held off from a scan's first key until its outcome is on screen,
and only a hold switches it back on."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest
from textual import events

from packbench.screens import collector
from tests.screens.helpers import settle
from tests.screens.test_pack import bench, make_app  # noqa: F401  # the fixture and the app

SIZE = (150, 50)


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    """Each test starts with the collector on and no hold, and leaves it so."""
    collector.release()
    gc.enable()
    yield
    collector.release()
    gc.enable()


def test_a_hold_switches_the_collector_off_until_released() -> None:
    collector.hold()
    assert not gc.isenabled() and collector.is_held()
    collector.hold()  # the next key of the same scan: still one hold
    collector.release()
    assert gc.isenabled() and not collector.is_held()
    collector.release()  # a second release changes nothing
    assert gc.isenabled()


def test_a_collector_switched_off_by_someone_else_stays_off() -> None:
    gc.disable()  # as the command line does until the app has booted
    collector.hold()
    assert not collector.is_held()
    collector.release()
    assert not gc.isenabled()


async def test_a_hold_nobody_releases_lets_go_by_itself(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(collector, "LONGEST_HOLD_S", 0.05)
    collector.hold()  # keys typed by hand, and no Enter
    assert not gc.isenabled()
    await asyncio.sleep(0.2)
    assert gc.isenabled() and not collector.is_held()


async def test_held_from_the_first_key_to_the_frame_that_shows_the_outcome(bench) -> None:  # type: ignore[no-untyped-def]  # noqa: F811  # the fixture imported above
    app = make_app(bench[0])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert gc.isenabled()
        for ch in "BDG-100":  # a scanner's burst, its Enter still to come
            app.post_message(events.Key(ch if ch.isalnum() else "minus", ch))
        await pilot.pause()
        assert not gc.isenabled(), "the keys of a scan came in with the collector on"
        app.post_message(events.Key("1", "1"))
        app.post_message(events.Key("enter", "\r"))
        await settle(pilot)
        assert app.feedback_log[-1][0] == "ok", app.feedback_log[-1]
        assert gc.isenabled(), "the collector stayed off after the scan was shown"
        # A refused scan is released just the same.
        for ch in "7071234999990":
            app.post_message(events.Key(ch, ch))
        app.post_message(events.Key("enter", "\r"))
        await settle(pilot)
        assert app.feedback_log[-1][0] == "error", app.feedback_log[-1]
        assert gc.isenabled()
