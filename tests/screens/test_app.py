"""The app as a packer meets it: every station opens, badges sign in, scans are answered."""

from __future__ import annotations

import pytest
from sqlmodel import select
from textual.color import Color
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import DataTable, Input, Select

from packbench.app import PackbenchApp
from packbench.config import load_settings
from packbench.data.models import Event
from packbench.operations.orders import order_detail
from packbench.screens.admin import AdminScreen
from packbench.screens.widgets.order_panel import OrderPanel
from packbench.screens.widgets.scanbar import ScanBar
from tests.operations.seed import SSCC, seed
from tests.screens.helpers import burst, scan, settle, sign_in_supervisor, text_of, typed

SIZE = (140, 42)


def make_app(db, station: str = "admin") -> PackbenchApp:  # type: ignore[no-untyped-def]
    settings = load_settings(None, db="unused.db", station=station)
    return PackbenchApp(settings=settings, db=db, terminal="term-1")


@pytest.fixture
def bench(db):  # type: ignore[no-untyped-def]
    seed(db)
    return db


def painted_background(widget: Widget) -> tuple[int, int, int] | None:
    """The background colour the terminal gets for a widget's middle line (its first cell)."""
    width, height = widget.region.size
    strip = widget.render_lines(Region(0, height // 2, width, 1))[0]
    style = next(iter(strip)).style
    if style is None or style.bgcolor is None:
        return None
    return tuple(style.bgcolor.get_truecolor())  # type: ignore[return-value]


def looks_like(painted: tuple[int, int, int] | None, color: str) -> bool:
    """Within two units a channel (Textual blends a colour with what is under it)."""
    return painted is not None and all(
        abs(a - b) <= 2 for a, b in zip(painted, Color.parse(color).rgb, strict=True)
    )


def last_feedback(app: PackbenchApp) -> tuple[str, str]:
    return app.feedback_log[-1]


# At the pick station a slip starts picking that order (tests/screens/test_pick.py); the ship
# station refuses the slip of an order that is not packed and the post station takes parcel
# labels, not slips (tests/screens/test_ship_post.py).
@pytest.mark.parametrize("station", ["admin", "pack"])
async def test_every_station_opens_and_takes_a_badge_then_a_slip(bench, station: str) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench, station)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.current_mode == station
        assert isinstance(app.focused, ScanBar)
        await scan(pilot, "BDG-1001")
        assert app.actor.packer_name == "Kari Nordmann"
        assert app.actor.station == station
        assert last_feedback(app) == ("ok", "Hello, Kari Nordmann.")
        await scan(pilot, "ORD-5002")
        kind, message = last_feedback(app)
        assert kind == "ok" and "Order 5002" in message
        if station != "post":
            panel = app.screen.query_one(OrderPanel)
            assert panel.detail is not None and panel.detail.summary.number == "5002"
        bells, flashes = app.bells, app.flashes
        await scan(pilot, "ORD-99999")
        assert last_feedback(app) == ("error", "No order number 99999 on this bench.")
        assert app.bells == bells + 1 and app.flashes == flashes + 1
        detail = order_detail(bench, 2)
        assert detail is not None
        assert any(
            e.code == "ORD-5002"
            and e.station == station
            and e.terminal == "term-1"
            and e.packer == "Kari Nordmann"
            for e in detail.events
        )


async def test_dashboard_station_waits_for_a_supervisor(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench, "dashboard")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.current_mode == "admin"
        await scan(pilot, "BDG-1001")
        assert app.current_mode == "admin"
        await sign_in_supervisor(pilot)
        await settle(pilot)
        assert app.current_mode == "dashboard"


async def test_a_bad_scan_is_red_rings_and_names_the_code(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench, "pack")
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "BDG-1001")
        bells, flashes = app.bells, app.flashes
        await scan(pilot, "7071234000016")
        kind, message = last_feedback(app)
        assert kind == "error" and "“7071234000016”" in message and "check digit" in message
        assert app.bells == bells + 1
        feedback = app.screen.query_one("#feedback")
        error = app.current_theme.error
        assert feedback.kind == "error" and looks_like(painted_background(feedback), error)
        assert app.flashes == flashes + 1  # the flash itself is over in 0.6 s
        await scan(pilot, "ORD-5001")
        assert feedback.kind == "ok" and not looks_like(painted_background(feedback), error)
        assert painted_background(feedback) != painted_background(app.screen.query_one(ScanBar))


async def test_scans_before_a_badge_are_refused(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "ORD-5001")
        assert last_feedback(app)[0] == "error"
        assert "Scan your badge first" in last_feedback(app)[1]


async def test_back_to_back_scans_are_handled_in_order(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for code in ["BDG-1001", "ORD-5001", "NOPE-1", "ORD-5002", SSCC]:
            burst(app, code)  # no waiting between scans
        await settle(pilot)
        kinds = [k for k, _ in app.feedback_log if k != "info"]
        assert kinds == ["ok", "ok", "error", "ok", "ok"]
        panel = app.screen.query_one(OrderPanel)
        assert panel.detail is not None and panel.detail.summary.number == "5003"


async def test_a_person_typing_works_too(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await typed(pilot, "bdg-1001")
        assert app.actor.packer_name == "Kari Nordmann"


async def test_scan_works_when_focus_is_elsewhere(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#orders", DataTable).focus()
        await pilot.pause()
        burst(app, "BDG-1001")
        burst(app, "ORD-5002")
        await settle(pilot)
        assert app.actor.signed_in, app.feedback_log
        assert app.feedback_log[-1] == ("ok", "Order 5002 — new."), app.feedback_log
        panel = app.screen.query_one(OrderPanel)
        assert panel.detail is not None and panel.detail.summary.number == "5002"


async def test_admin_overview_filters_and_search(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AdminScreen)
        assert [o.number for o in screen.rows] == ["5003", "5002", "5001"]
        assert screen.query_one("#orders", DataTable).row_count == 3
        assert "Waiting for packing slips: 3" in text_of(screen.query_one("#slip-queue"))
        await pilot.press("ctrl+f")
        assert isinstance(app.focused, Input) and app.focused.id == "search"
        await pilot.press(*"tromsø")
        await settle(pilot)
        assert [o.number for o in screen.rows] == ["5002"]
        await pilot.press("escape")
        assert isinstance(app.focused, ScanBar)
        app.screen.query_one("#search", Input).value = ""
        await settle(pilot)
        screen.set_filter("new")
        await settle(pilot)
        assert [o.number for o in screen.rows] == ["5001", "5002", "5003"]  # oldest first
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert screen.query_one("#status-filter", Select).value == "new"
        screen.set_filter("packed")
        await settle(pilot)
        assert screen.rows == []


async def test_admin_arrow_keys_browse_and_show_detail(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)
        panel = app.screen.query_one(OrderPanel)
        assert panel.detail is not None and panel.detail.summary.number == "5002"
        assert isinstance(app.focused, ScanBar)


async def test_slip_scanned_into_the_search_box_opens_the_order(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "BDG-1001")
        await pilot.press("ctrl+f")
        await typed(pilot, "ORD-5001")
        panel = app.screen.query_one(OrderPanel)
        assert panel.detail is not None and panel.detail.summary.number == "5001"


async def test_function_keys_switch_stations_and_the_dashboard_is_for_supervisors(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "BDG-1001")
        for key, mode in [
            ("f2", "pick"),
            ("f3", "pack"),
            ("f4", "ship"),
            ("f5", "post"),
            ("f1", "admin"),
        ]:
            await pilot.press(key)
            await settle(pilot)
            assert app.current_mode == mode
            assert app.actor.station == mode
        await pilot.press("f6")
        await settle(pilot)
        assert app.current_mode == "admin"
        assert last_feedback(app)[0] == "error" and "supervisors" in last_feedback(app)[1]
        await sign_in_supervisor(pilot)
        await pilot.press("f6")
        await settle(pilot)
        assert app.current_mode == "dashboard"
        rows = {r.status: r.count for r in app.screen.rows}
        assert rows["new"] == 3
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert not app.actor.signed_in and app.current_mode == "admin"


async def test_sign_in_by_name(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.actor.signed_in
        assert app.current_mode == "admin"


async def test_test_scan_view_shows_the_characters(bench, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PACKBENCH_SCANNER__LAYOUT", "no")  # a US scanner on a Norwegian host
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        burst(app, "ORD+5001")
        await settle(pilot)
        text = text_of(app.screen.query_one("#testscan-result"))
        assert "U+002B" in text  # the '+' that arrived is named
        assert "ORDER" in text and "'5001'" in text
        assert "corrected for the no layout" in text
        assert all(kind != "error" for kind, _ in app.feedback_log)  # nothing was refused
        await settle(pilot)
        with bench.read() as session:
            logged = session.exec(select(Event).where(Event.kind == "testscan")).all()
        assert [e.code for e in logged] == ["ORD+5001"]
        await pilot.press("escape")
        await settle(pilot)
        assert app.current_mode == "admin"


async def test_supervisor_retries_and_discards_parked_items(bench) -> None:  # type: ignore[no-untyped-def]
    from packbench.data.models import OutboxItem
    from packbench.operations.outbox import enqueue

    with bench.write() as session:
        for n, key in enumerate(("a", "b"), start=1):
            item = enqueue(session, n, "note", {"note": "x"}, key)
            item.status = "parked"
            item.last_error = "rest_invalid_param"
            session.add(item)
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in_supervisor(pilot)
        await pilot.press("f6")
        await settle(pilot)
        assert [(e.kind, e.item_id) for e in app.screen.exceptions] == [
            ("parked", 1),
            ("parked", 2),
        ]
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert last_feedback(app) == ("ok", "Outbox item 1 will be sent again.")
        await pilot.press("down", "ctrl+b")
        await settle(pilot)
        await pilot.press(*"duplicate", "enter")
        await settle(pilot)
        assert last_feedback(app) == ("ok", "Outbox item 2 discarded.")
    with bench.read() as session:
        states = {i.idempotency_key: i.status for i in session.exec(select(OutboxItem)).all()}
    assert states == {"a": "pending", "b": "discarded"}
    detail = order_detail(bench, 2)
    assert detail is not None
    assert any(
        "discarded: duplicate" in e.message and e.packer == "Ola Sjef" for e in detail.events
    )


async def test_a_packer_cannot_retry_parked_items(bench) -> None:  # type: ignore[no-untyped-def]
    from packbench.operations.common import Actor, NotAllowed
    from packbench.operations.outbox import retry_parked

    with pytest.raises(NotAllowed):
        retry_parked(bench, Actor("pack", "t", 1, "Kari Nordmann", "packer"), 1)


def test_no_binding_a_scan_could_trigger_or_the_scan_bar_would_swallow() -> None:
    """Scanner-first keys: no printable single keys, and none the focused scan bar consumes."""
    from textual.widgets import Input

    from packbench.screens.admin import AdminScreen
    from packbench.screens.audit import AuditTrail
    from packbench.screens.dashboard import DashboardScreen
    from packbench.screens.dialogs import AskPin, AskReason, AssignStation, ChoosePacker, TestScan
    from packbench.screens.pack import PackScreen
    from packbench.screens.pick import PickScreen
    from packbench.screens.post import PostScreen
    from packbench.screens.ship import ShipScreen

    swallowed = {k for b in Input.BINDINGS for k in b.key.split(",")}  # type: ignore[union-attr]
    owners = [
        PackbenchApp,
        AdminScreen,
        DashboardScreen,
        PickScreen,
        PackScreen,
        ShipScreen,
        PostScreen,
        ChoosePacker,
        TestScan,
        AskReason,
        AskPin,
        AssignStation,
        AuditTrail,
    ]
    for owner in owners:
        for binding in owner.BINDINGS:
            for key in binding.key.split(","):  # type: ignore[union-attr]
                assert len(key) > 1, f"{owner.__name__}: single-key binding {key!r}"
                if key not in ("up", "down", "escape"):
                    assert key not in swallowed, f"{owner.__name__}: {key} is the scan bar's"


async def test_a_supervisor_decides_about_a_flagged_order(bench) -> None:  # type: ignore[no-untyped-def]
    from packbench.data.models import Order

    with bench.write() as session:
        order = session.get(Order, 2)
        order.upstream_flag = "cancelled in the shop"
        session.add(order)
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5002")
        await pilot.press("f8")
        await settle(pilot)
        assert last_feedback(app) == ("error", "Only a supervisor decides about a flagged order.")
        await sign_in_supervisor(pilot)
        await scan(pilot, "ORD-5002")
        await pilot.press("f8")
        await settle(pilot)
        await pilot.press(*"refund sent", "enter")
        await settle(pilot)
        assert last_feedback(app) == ("ok", "Flag cleared; the decision is logged.")
    detail = order_detail(bench, 2)
    assert detail is not None and detail.summary.flag is None
    assert any("refund sent" in e.message and e.packer == "Ola Sjef" for e in detail.events)


async def test_a_supervisor_badge_without_the_pin_is_a_packers(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench, "dashboard")
    async with app.run_test(size=SIZE) as pilot:
        await scan(pilot, "BDG-1004")
        await pilot.press(*"1111", "enter")  # wrong
        await settle(pilot)
        assert last_feedback(app) == ("error", "Wrong PIN.")
        assert app.actor.signed_in and not app.actor.is_supervisor
        assert app.current_mode == "admin"
        await pilot.press("f6")
        await settle(pilot)
        assert app.current_mode == "admin"
        # Signing in again and leaving the PIN out (Esc) works with a packer's rights.
        await scan(pilot, "BDG-1004")
        await pilot.press("escape")
        await settle(pilot)
        assert app.actor.packer_name == "Ola Sjef" and not app.actor.is_supervisor
        await sign_in_supervisor(pilot)
        assert app.actor.is_supervisor and app.current_mode == "dashboard"


async def test_an_error_flashes_the_header_feedback_and_scan_bar_then_stops(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench, "pack")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        app.feedback("error", "a test error")  # synchronously: flashed at once
        error = app.current_theme.error
        header, feedback, bar = (
            screen.query_one(x) for x in ("StationHeader", "#feedback", "ScanBar")
        )
        assert screen.flashing
        assert header.styles.background == Color.parse(error)
        assert looks_like(painted_background(feedback), error)
        assert bar.styles.border_top == ("tall", Color.parse(error))
        assert "reverse" in str(feedback.styles.text_style)
        await pilot.pause(1.0)  # the flash is 0.6 s
        assert not screen.flashing
        assert header.styles.background != Color.parse(error)
        assert not any(w.styles.inline.get_rules() for w in (header, bar))
        # The feedback line goes back to the look of its kind: an error, red but not reversed.
        assert not feedback.flashing and "reverse" not in str(feedback.styles.text_style)
        assert looks_like(painted_background(feedback), error)


async def test_the_feedback_line_follows_a_change_of_theme(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench, "pack")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.feedback("error", "wrong item")
        feedback = app.screen.query_one("#feedback")
        assert looks_like(painted_background(feedback), app.current_theme.error)
        before = painted_background(feedback)
        app.theme = "nord"  # its error colour differs from the default theme's
        await settle(pilot)
        assert painted_background(feedback) != before
        assert looks_like(painted_background(feedback), app.current_theme.error)


async def test_the_next_message_ends_an_error_flash_at_once(bench) -> None:  # type: ignore[no-untyped-def]
    """A good scan right after a wrong one must not look wrong for the rest of the flash."""
    app = make_app(bench, "pack")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        header = screen.query_one("StationHeader")
        app.feedback("error", "wrong item")
        assert screen.flashing
        app.feedback("ok", "right item")  # at once, well within the 0.6 s flash
        assert not screen.flashing and not header.styles.inline.get_rules()
        app.feedback("error", "wrong again")  # a new error flashes anew
        assert screen.flashing
        app.feedback("error", "and again")
        assert screen.flashing
        await pilot.pause(1.0)  # and once only: the flash is over 0.6 s after the last error
        assert not screen.flashing and not header.styles.inline.get_rules()


async def test_feedback_while_a_dialog_is_open_is_shown_now_and_kept_for_after(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench, "admin")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        station = app.screen
        await pilot.press("ctrl+n")  # the sign-in dialog, which has no feedback line
        await settle(pilot)
        assert app.screen is not station
        app.feedback("ok", "Ola Sjef: pick today.")
        await settle(pilot)
        toasts = app.screen.query("Toast")
        assert len(toasts) == 1 and "Ola Sjef: pick today." in str(toasts.first().render())
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is station
        assert "Ola Sjef: pick today." in text_of(station.query_one("#feedback"))
