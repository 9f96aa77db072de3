"""The dashboard at 120×40 as a supervisor meets it (#16): what needs them first, the rest a
↓ or PageDown away, the day's pace as a chart, and a failed slip print marked printed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta, tzinfo
from pathlib import Path

import pytest
from sqlmodel import select

from packbench.app import PackbenchApp
from packbench.config import load_settings
from packbench.core.workflow import Action
from packbench.data.engine import Database
from packbench.data.models import Event, Order
from packbench.operations.common import Actor, change_status
from packbench.operations.pick_start import start_from_slip
from packbench.operations.pick_views import PickRules
from packbench.operations.picking import short_pick
from packbench.operations.printing import print_new_slips
from packbench.screens.dashboard import DashboardScreen
from tests.operations.seed import seed
from tests.printing.test_folder_printer import _with_folder
from tests.screens.helpers import settle, sign_in_supervisor

SIZE = (120, 40)
KARI = Actor("pick", "t9", 1, "Kari Nordmann", "packer")


def visible(app: PackbenchApp) -> str:
    """The characters on the terminal now, line by line (what a person sees, scrolled as it is)."""
    update = app.screen._compositor.render_full_update()
    return "\n".join("".join(seg.text for strip in line for seg in strip) for line in update.strips)


@pytest.fixture
def bench(db: Database, tmp_path: Path) -> Database:
    """Holds, a short pick, a failed slip print, and orders packed in the last hours."""
    from packbench.config import BUNDLED_LAYOUT
    from packbench.core.routing import load_layout

    seed(db)
    with db.write() as s:
        third = s.exec(select(Order).where(Order.number == "5003")).one()
        change_status(s, third, Action.PRINT_SLIP, KARI)
    layout = load_layout(BUNDLED_LAYOUT)
    start_from_slip(db, KARI, layout, PickRules(), "5003", "ORD-5003")
    short_pick(db, KARI, layout, PickRules())  # nothing found: 5003 on hold, 3 missing
    settings = load_settings(None, db="unused.db")
    failed = print_new_slips(db, KARI, _with_folder(settings, tmp_path / "no-such-folder"))
    assert not failed.ok  # the slips of 5001 and 5002 did not print
    with db.write() as s:  # orders packed in the last three clock hours of today
        for at in packed_times(settings.day.tz()):
            s.add(_packed(at))
    return db


PACKED = (4, 9, 6)  # two hours ago, an hour ago, this hour so far


def packed_times(tz: tzinfo) -> list[datetime]:
    """Times today, up to now, spread over the last three clock hours (fewer just after
    midnight): the chart's counts whatever the clock says when the test runs."""
    now = datetime.now(UTC)
    hour_start = now.astimezone(tz).replace(minute=0, second=0, microsecond=0)
    out = []
    for back, n in zip((2, 1, 0), PACKED, strict=True):
        start = hour_start - timedelta(hours=back)
        if start.date() != hour_start.date():
            continue  # yesterday
        span = (now - start) if back == 0 else timedelta(hours=1)
        out += [start + span * i / (n + 1) for i in range(1, n + 1)]
    return out


def _packed(at: datetime) -> Event:
    data = json.dumps({"from": "packing", "to": "packed", "action": "finish_pack"})
    return Event(at=at, station="pack", terminal="b1", kind="status", result="ok", data=data)


def make_app(db: Database) -> PackbenchApp:
    settings = load_settings(None, db="unused.db", station="dashboard")
    # A shift that lasts to midnight: the needed pace is on the chart whatever the hour.
    day = settings.day.model_copy(update={"cutoff": time(23, 58), "shift_end": time(23, 59)})
    settings = settings.model_copy(update={"day": day})
    return PackbenchApp(settings=settings, db=db, terminal="office")


async def test_what_needs_a_supervisor_is_on_the_first_screen(bench: Database) -> None:
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_supervisor(pilot)
        assert isinstance(app.screen, DashboardScreen)
        kinds = [(e.kind, e.ref) for e in app.screen.exceptions]
        assert ("hold", "5003") in kinds and ("print", "slip 5001, 5002") in kinds
        shown = visible(app)
        lines = shown.splitlines()
        first = next(i for i, line in enumerate(lines) if "Needs a supervisor: 2" in line)
        assert first <= 2, shown  # straight under the header
        assert "short pick: 3 × Ullsokker 3-pk" in shown  # the hold, with its reason
        assert "slip 5001, 5002" in shown  # the failed print
        assert "⚠ pick: " in shown or "⚠ admin: " in shown  # the queue alerts
        assert "Shortages from short picks: 1" in shown and "FJ-TX-0002" in shown
        assert "Waiting (people there):" in shown
        # The team is further down: not on the first screen.
        assert "The team today" not in shown


async def test_down_past_the_last_exception_and_pagedown_scroll_the_rest(bench: Database) -> None:
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_supervisor(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        table = screen.query_one("#exceptions")
        scroll = screen.query_one("#dash-scroll")
        assert app.focused is screen.scanbar  # keys stay with the scanner
        await pilot.press("down")
        assert table.cursor_row == 1 and scroll.scroll_y == 0  # the second exception
        await pilot.press("down", "down", "down")
        await settle(pilot)
        assert table.cursor_row == 1 and scroll.scroll_y == 3  # past the last: the page moves
        await pilot.press("up", "up", "up")
        assert scroll.scroll_y == 0 and table.cursor_row == 1
        await pilot.press("up")
        assert table.cursor_row == 0  # at the top, ↑ chooses again
        await pilot.press("pagedown")
        await settle(pilot)
        assert scroll.scroll_y > 10
        shown = visible(app)
        assert "The team today" in shown and "Needs a supervisor" not in shown
        await pilot.press("pageup", "pageup", "pageup")
        await settle(pilot)
        assert scroll.scroll_y == 0 and "Needs a supervisor" in visible(app)


async def test_the_pace_chart_draws_packed_orders_per_hour_against_the_needed_pace(
    bench: Database,
) -> None:
    app = make_app(bench)
    async with app.run_test(size=(120, 60)) as pilot:
        await sign_in_supervisor(pilot)
        figures = app.screen.figures
        assert figures is not None
        tz = app.settings.day.tz()
        now_hour = figures.at.astimezone(tz).hour
        assert sum(figures.packed_per_hour) == len(packed_times(tz))
        shown = visible(app)
        lines = shown.splitlines()
        hours_row = next(line for line in lines if line.rstrip().endswith("hour"))
        counts_row = lines[lines.index(hours_row) + 1]
        assert f"{now_hour:02d}" in hours_row
        # Each hour's count sits under its hour label.
        for hour in range(max(0, now_hour - 2), now_hour + 1):
            at = hours_row.index(f"{hour:02d}")
            assert counts_row[at : at + 2].strip() == str(figures.packed_per_hour[hour])
        # Bars in block characters, and the needed pace as a dashed line with its figure.
        chart = lines[lines.index(hours_row) - 8 : lines.index(hours_row)]
        assert any(set(line) & set("▁▂▃▄▅▆▇█") for line in chart), "\n".join(chart)
        pace = figures.pace
        assert pace.must_ship and pace.hours_left > 0
        (line,) = [row for row in chart if "┼" in row]
        assert f"{pace.needed_per_hour:.0f}/h needed" in line


async def test_a_failed_slip_print_is_marked_printed_with_a_reason(bench: Database) -> None:
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_supervisor(pilot)
        screen = app.screen
        rows = [(e.kind, e.ref) for e in screen.exceptions]
        await pilot.press("ctrl+s")  # on the hold: not a print
        assert app.feedback_log[-1] == (
            "error",
            "Choose a failed slip print first (↑/↓), then Ctrl+S.",
        )
        await pilot.press(*["down"] * rows.index(("print", "slip 5001, 5002")), "ctrl+s")
        await settle(pilot)
        await pilot.press(*"no printer on this machine", "enter")
        await settle(pilot)
        assert app.feedback_log[-1] == ("ok", "2 slips marked printed (5001, 5002).")
        assert ("print", "slip 5001, 5002") not in [(e.kind, e.ref) for e in screen.exceptions]
    with bench.read() as s:
        orders = {o.number: o.status for o in s.exec(select(Order)).all()}
        marked = s.exec(select(Event).where(Event.kind == "print_marked")).one()
    assert orders["5001"] == orders["5002"] == "slip_printed"
    assert (marked.packer_id, marked.station, marked.terminal) == (2, "dashboard", "office")
    assert json.loads(marked.data or "{}")["reason"] == "no printer on this machine"


async def test_a_poll_that_read_before_an_action_does_not_put_back_what_it_changed(
    bench: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A timer's poll reads the bench, a supervisor's action changes it and polls again: the
    first poll, finishing last, must not show what it read before the action."""
    import asyncio
    import threading

    import packbench.screens.dashboard as dashboard

    real = dashboard.bench_figures
    read, go, hold = threading.Event(), threading.Event(), threading.Event()

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        figures = real(*args, **kwargs)
        if hold.is_set():  # the first poll below: read, then wait to be let go
            hold.clear()
            read.set()
            go.wait(30)
        return figures

    monkeypatch.setattr(dashboard, "bench_figures", slow)
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_supervisor(pilot)
        screen = app.screen
        rows = [(e.kind, e.ref) for e in screen.exceptions]
        hold.set()
        screen.refresh_data()  # a poll reads the bench as it is: the failed print still there
        while not read.is_set():
            await asyncio.sleep(0.01)
        await pilot.press(*["down"] * rows.index(("print", "slip 5001, 5002")), "ctrl+s")
        await pilot.pause()
        await pilot.press(*"no printer on this machine", "enter")
        for _ in range(500):  # the action's own poll shows the print gone
            if ("print", "slip 5001, 5002") not in [(e.kind, e.ref) for e in screen.exceptions]:
                break
            await asyncio.sleep(0.01)
        assert app.feedback_log[-1] == ("ok", "2 slips marked printed (5001, 5002).")
        go.set()  # the first poll ends now, with what it read before the action
        await settle(pilot)
        assert ("print", "slip 5001, 5002") not in [(e.kind, e.ref) for e in screen.exceptions]


async def test_an_orders_history_title_says_its_state_in_words(bench: Database) -> None:
    """#16: the history title showed the raw "handed_over"."""
    from packbench.screens.audit import AuditTrail
    from tests.screens.helpers import scan, text_of

    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_supervisor(pilot)
        await scan(pilot, "ORD-5003")
        assert isinstance(app.screen, AuditTrail)
        title = text_of(app.screen.query_one("#audit-title"))
        assert title.startswith("Order 5003 — On hold — ") and "on_hold" not in title, title
