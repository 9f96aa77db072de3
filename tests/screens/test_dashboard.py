"""The dashboard as a supervisor uses it: figures, resolving holds, the roster, the history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from packbench.app import PackbenchApp
from packbench.config import load_settings
from packbench.core.workflow import Action
from packbench.data.models import Event, Order
from packbench.operations.common import Actor, change_status, record_event
from packbench.operations.team import roster
from packbench.screens.audit import AuditTrail
from tests.operations.seed import seed
from tests.screens.helpers import scan, settle, sign_in_supervisor, text_of

SIZE = (150, 60)


@pytest.fixture
def bench(db):  # type: ignore[no-untyped-def]
    seed(db)
    kari = Actor("pick", "t9", 1, "Kari Nordmann", "packer")
    with db.write() as s:
        third = s.exec(select(Order).where(Order.number == "5003")).one()
        change_status(s, third, Action.HOLD, kari, reason="short pick: 2 of 3 FJ-TX-0002")
        first = s.exec(select(Order).where(Order.number == "5001")).one()
        record_event(s, kari, "scan", order_id=first.id, code="ORD-5001")
        record_event(s, kari, "scan", code="0000000", result="refused", message="bad code")
    return db


def make_app(db) -> PackbenchApp:  # type: ignore[no-untyped-def]
    settings = load_settings(None, db="unused.db", station="dashboard")
    return PackbenchApp(settings=settings, db=db, terminal="office")


async def test_the_dashboard_shows_the_bench(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_supervisor(pilot)
        assert app.current_mode == "dashboard"
        screen = app.screen
        states = text_of(screen.query_one("#states"))
        assert "On hold" in states and "5003" in states
        team = text_of(screen.query_one("#team"))
        assert "Kari Nordmann" in team and "1 (50%)" in team  # one of two scans refused
        assert "pick" in team  # where Kari is now
        pace = text_of(screen.query_one("#pace"))
        assert "must still ship today" in pace
        # On the bench's clock (Europe/Oslo by default), whatever the terminal machine's zone.
        assert "Cut-off 14:00" in pace and "shift ends 16:00" in pace
        assert [(e.kind, e.ref) for e in screen.exceptions] == [("hold", "5003")]


async def test_a_supervisor_releases_a_hold_with_a_note(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_supervisor(pilot)
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press(*"restocked", "enter")
        await settle(pilot)
        assert app.feedback_log[-1] == ("ok", "Order 5003 released from hold.")
        assert app.screen.exceptions == []
    with bench.read() as s:
        assert s.exec(select(Order).where(Order.number == "5003")).one().status == "new"
        ev = s.exec(select(Event).where(Event.kind == "status").order_by(Event.id.desc())).first()
        assert ev.packer_id == 2 and "restocked" in (ev.data or "")


async def test_assigning_a_station_for_the_day(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_supervisor(pilot)
        await pilot.press("f8")
        await settle(pilot)
        await pilot.press("enter")  # the first person: Kari Nordmann
        await settle(pilot)
        await pilot.press("down", "down", "enter")  # admin, pick, pack
        await settle(pilot)
        assert app.feedback_log[-1] == ("ok", "Kari Nordmann: pack today.")
        await settle(pilot)
        assert "pack" in text_of(app.screen.query_one("#team"))
    rows = {r.name: r for r in roster(bench, tz=app.settings.day.tz())}
    assert rows["Kari Nordmann"].assigned == "pack"


async def test_scanning_a_slip_shows_the_whole_history(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_supervisor(pilot)
        await scan(pilot, "ORD-5003")
        assert isinstance(app.screen, AuditTrail)
        history = app.screen.history
        assert history is not None and history.number == "5003"
        kinds = [e.kind for e in history.entries]
        assert kinds[0] == "order" or "status" in kinds
        assert any(e.packer == "Kari Nordmann" and e.kind == "status" for e in history.entries)
        assert history.entries == tuple(sorted(history.entries, key=lambda e: (e.at, e.id)))
        # Typing another number in the field switches orders; an unknown one says so.
        await pilot.press(*"5001", "enter")
        await settle(pilot)
        assert app.screen.history.number == "5001"
        await pilot.press(*"4711", "enter")
        await settle(pilot)
        assert app.feedback_log[-1] == ("error", "No order matches “4711”.")
        await pilot.press("escape")
        await settle(pilot)
        assert app.current_mode == "dashboard" and not isinstance(app.screen, AuditTrail)


async def test_a_packer_never_sees_the_dashboard(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "BDG-1001")
        await pilot.press("f6")
        await settle(pilot)
        assert app.current_mode == "admin"
        assert app.feedback_log[-1][0] == "error"


async def test_f6_refused_then_a_supervisors_pin_opens_the_dashboard(bench) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(None, db="unused.db", station="pack")
    app = PackbenchApp(settings=settings, db=bench, terminal="bench-2")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await pilot.press("f6")
        await settle(pilot)
        assert app.current_mode == "pack"
        kind, message = app.feedback_log[-1]
        assert kind == "error" and "it opens then" in message
        await pilot.press("ctrl+o")  # the packer steps aside
        await sign_in_supervisor(pilot)  # no second F6
        assert app.current_mode == "dashboard"
        # Once there, the wish is spent: signing out and in again stays at admin.
        await pilot.press("ctrl+o")
        await settle(pilot)
        await sign_in_supervisor(pilot)
        assert app.current_mode == "admin"


async def test_refreshes_do_not_pile_up(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_supervisor(pilot)
        for _ in range(5):
            app.screen.refresh_data()
        await settle(pilot)
        running = [w for w in app.workers if w.group == "dashboard" and not w.is_finished]
        assert len(running) <= 1
        dashboard = app.screen
        assert dashboard._next is not None  # one chain of polls
        await pilot.press("f1")
        await settle(pilot)
        assert app.current_mode == "admin"
        assert dashboard._next is None  # a hidden dashboard does not poll


async def test_a_stale_claim_is_released_from_the_dashboard(bench) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    with bench.write() as s:
        first = s.exec(select(Order).where(Order.number == "5001")).one()
        first.status = "packing"
        first.claimed_by, first.claim_terminal = 1, "bench-9"
        first.claimed_at = datetime.now(UTC) - timedelta(hours=2)
        s.add(first)
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_supervisor(pilot)
        kinds = [(e.kind, e.ref) for e in app.screen.exceptions]
        assert ("claim", "5001") in kinds
        await pilot.press(*["down"] * kinds.index(("claim", "5001")), "f7")
        await settle(pilot)
        kind, message = app.feedback_log[-1]
        assert kind == "ok", message
        assert ("claim", "5001") not in [(e.kind, e.ref) for e in app.screen.exceptions]
    with bench.read() as s:
        first = s.exec(select(Order).where(Order.number == "5001")).one()
        assert first.claimed_by is None
        released = s.exec(
            select(Event).where(Event.order_id == first.id).order_by(Event.id.desc())
        ).first()
        assert released is not None and released.packer_id == 2  # the supervisor, logged


async def test_sync_problems_are_shown_and_dismissed(bench) -> None:  # type: ignore[no-untyped-def]
    """An order the shop sync could not take is on the dashboard until a supervisor acts."""
    from packbench.operations.intake import OrderIn
    from packbench.operations.syncing import apply_order_page, list_problems

    now = datetime.now(UTC)
    sync = Actor("sync", "t1")
    taken = OrderIn(shop_order_id=5001, number="5001", created_at=now, lines=())
    refused = OrderIn(shop_order_id=5001_01, number="5001", created_at=now, lines=())
    with bench.write() as s:  # the refused one's number is 5001's, its id 5002's new number
        s.exec(select(Order).where(Order.number == "5002")).one().number = "500101"
    apply_order_page(bench, sync, [taken, refused], cursor_key="pull.test")
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_supervisor(pilot)
        rows = [(e.kind, e.ref) for e in app.screen.exceptions]
        assert ("shop", "problem.order.500101") in rows, rows
        assert "sync problems" in app.sync_text
        await pilot.press(*["down"] * rows.index(("shop", "problem.order.500101")), "f7")
        await settle(pilot)
        await pilot.press(*"renumbered in the shop", "enter")
        await settle(pilot)
        assert app.feedback_log[-1] == ("ok", "Sync problem dismissed."), app.feedback_log[-3:]
        keys = [p.key for p in _problems(bench, list_problems)]
        assert "problem.order.500101" not in keys


def _problems(db, list_problems):  # type: ignore[no-untyped-def]
    with db.read() as s:
        return list_problems(s)


async def test_the_sync_text_in_the_header_does_not_grow(bench) -> None:  # type: ignore[no-untyped-def]
    """Issue #16: every poll put the last text back in ("· 3 waiting · 3 waiting · …")."""
    from packbench.operations.outbox import sync_health

    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        texts = []
        for _ in range(4):
            app._show_sync_health(sync_health(bench), 2)
            texts.append(app.sync_text)
        assert len(set(texts)) == 1, texts
        assert texts[0].count("·") <= 3 and "2 sync problems" in texts[0]
