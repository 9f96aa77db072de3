"""The pick station as a picker meets it: scanner bursts, keys, a restart on the same file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import select
from textual.widgets import Digits, Static

from packbench.app import PackbenchApp
from packbench.config import ConfigError, load_settings
from packbench.core.workflow import Action
from packbench.data.engine import Database, create_database
from packbench.data.models import Order, OrderLine
from packbench.operations.common import Actor, change_status
from packbench.operations.pick_views import PickListView, StopItem, StopView
from packbench.screens.pick import PickScreen
from tests.operations.seed import seed
from tests.screens.helpers import burst, scan, settle, text_of

SIZE = (140, 42)
KJ = "7071234000015"  # Kaffekopp, A-01-1: 2 for 5001 (tote 1), 1 for 5002 (tote 2)
TX = "7071234000022"  # Ullsokker, C-07-2: 1 for 5002 (tote 2), 3 for 5003 (tote 3)


def make_app(db: Database, **settings_kw) -> PackbenchApp:  # type: ignore[no-untyped-def]
    settings = load_settings(None, db="unused.db", station="pick")
    if settings_kw:
        settings = settings.model_copy(update=settings_kw)
    return PackbenchApp(settings=settings, db=db, terminal="term-1")


@pytest.fixture
def bench(db: Database) -> Database:
    seed(db)

    def print_all(session) -> None:  # type: ignore[no-untyped-def]
        for order in session.exec(select(Order).order_by(Order.id)).all():
            change_status(session, order, Action.PRINT_SLIP, Actor("admin", "seed"))

    db.transact(print_all)
    return db


def statuses(db: Database) -> dict[str, str]:
    with db.read() as s:
        return {o.number: o.status for o in s.exec(select(Order)).all()}


def picked(db: Database) -> list[int]:
    with db.read() as s:
        return [ln.picked_qty for ln in s.exec(select(OrderLine).order_by(OrderLine.id)).all()]


def shown(app: PackbenchApp) -> dict[str, str]:
    screen = app.screen
    assert isinstance(screen, PickScreen)
    return {
        "where": text_of(screen.query_one("#pick-where", Static)),
        "qty": screen.query_one("#pick-qty", Digits).value,
        "tote": screen.query_one("#pick-tote", Digits).value,
        "what": text_of(screen.query_one("#pick-what", Static)),
        "progress": text_of(screen.query_one("#pick-progress", Static)),
        "next": text_of(screen.query_one("#pick-next", Static)),
    }


async def test_a_full_batch_with_scanner_bursts(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await pilot.press("f9")
        await settle(pilot)
        kind, message = app.feedback_log[-1]
        assert kind == "ok" and message.startswith("Batch 1: 3 orders in totes 1–3, 2 stops")
        view = shown(app)
        assert "A-01-1: aisle A · bay 01 · level 1" in view["where"]
        assert (view["qty"], view["tote"]) == ("2", "1")
        assert (
            "Kaffekopp i steintøy" in view["what"]
            and "also here: 1 × FJ-KJ-0001 → tote 2" in (view["what"])
        )
        assert "stop 1 of 2" in view["progress"] and "units 0/7" in view["progress"]
        assert "C-07-2" in view["next"]
        # the whole batch as back-to-back bursts, no waiting between scans
        for code in (KJ, KJ, KJ, TX, "FJ-TX-0002", TX, TX):
            burst(app, code)
        await settle(pilot)
        assert [k for k, _ in app.feedback_log[-7:]] == ["ok"] * 7
        assert "Batch 1 done. Picked: 5001, 5002, 5003." in app.feedback_log[-1][1]
        assert statuses(bench) == {"5001": "picked", "5002": "picked", "5003": "picked"}
        assert picked(bench) == [2, 1, 1, 3]
        assert "F9 takes the next batch" in shown(app)["where"]


async def test_a_wrong_item_is_refused_with_error_feedback_and_changes_nothing(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await pilot.press("f9")
        await settle(pilot)
        bells, flashes = app.bells, app.flashes
        await scan(pilot, TX)  # the socks belong to the next stop
        kind, message = app.feedback_log[-1]
        assert kind == "error" and message.startswith("Wrong item: “7071234000022” is Ullsokker")
        assert app.bells == bells + 1 and app.flashes == flashes + 1
        assert picked(bench) == [0, 0, 0, 0]
        assert shown(app)["qty"] == "2"
        await scan(pilot, "C-07-2")
        assert app.feedback_log[-1] == (
            "error",
            "Wrong location: “C-07-2” scanned; this stop is A-01-1.",
        )
        await scan(pilot, f"4*{KJ}")
        kind, message = app.feedback_log[-1]
        assert kind == "error" and "only 3 still needed" in message
        assert picked(bench) == [0, 0, 0, 0]


async def test_a_short_pick_by_key_puts_the_order_on_hold(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await pilot.press("f9")
        await settle(pilot)
        await scan(pilot, f"3*{KJ}")
        await scan(pilot, TX)
        await scan(pilot, TX)
        view = shown(app)
        assert (view["qty"], view["tote"]) == ("2", "3")
        # F7 asks first; a scan in between answers "go on picking".
        await pilot.press("f7")
        await settle(pilot)
        kind, message = app.feedback_log[-1]
        assert kind == "info" and "Short pick at C-07-2? 2 of 4 found, 2 missing" in message
        assert "Press F7 again" in message
        assert statuses(bench)["5003"] != "on_hold"
        await scan(pilot, KJ)  # a wrong item: refused, and the question is gone
        await pilot.press("f7")
        await settle(pilot)
        assert app.feedback_log[-1][0] == "info" and statuses(bench)["5003"] != "on_hold"
        await pilot.press("f7")
        await settle(pilot)
        kind, message = app.feedback_log[-1]
        assert kind == "ok" and "Short at C-07-2: tote 3: found 1 of 3." in message
        assert "On hold: order 5003" in message
        assert statuses(bench) == {"5001": "picked", "5002": "picked", "5003": "on_hold"}


async def test_the_quantity_key_counts_the_next_scan_several_times(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5001")
        await pilot.press("f8")
        await pilot.pause()
        await pilot.press("2", "enter")
        await settle(pilot)
        assert "counts 2 units" in shown(app)["progress"]
        await scan(pilot, TX)  # the wrong item: refused, and the quantity is still waiting
        assert app.feedback_log[-1][0] == "error"
        assert app.screen.pending_qty == 2
        await scan(pilot, KJ)
        assert "Batch 1 done" in app.feedback_log[-1][1]
        assert statuses(bench)["5001"] == "picked"


async def test_resume_after_restarting_the_app_on_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "pick.db"
    from packbench.data.migrate import upgrade

    first_db = create_database(path)
    upgrade(first_db)
    seed(first_db)

    def print_all(session) -> None:  # type: ignore[no-untyped-def]
        for order in session.exec(select(Order)).all():
            change_status(session, order, Action.PRINT_SLIP, Actor("admin", "seed"))

    first_db.transact(print_all)
    app = make_app(first_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await pilot.press("f9")
        await settle(pilot)
        await scan(pilot, f"2*{KJ}")
        before = shown(app)
    first_db.dispose()

    second_db = create_database(path)
    try:
        app = make_app(second_db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert "F9 takes the next batch" in shown(app)["where"]  # nobody signed in yet
            await scan(pilot, "BDG-1001")
            await settle(pilot)
            after = shown(app)
            assert after == before
            assert (after["qty"], after["tote"]) == ("1", "2")
            assert "units 2/7" in after["progress"]
            await scan(pilot, KJ)
            assert "1 → tote 2" in app.feedback_log[-1][1]
            assert "C-07-2: aisle C" in shown(app)["where"]
    finally:
        second_db.dispose()


async def test_location_labels_first_when_configured(bench) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(None, db="unused.db", station="pick")
    pick = settings.pick.model_copy(update={"require_location_scan": True})
    app = make_app(bench, pick=pick)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5001")
        assert "scan the location label first" in shown(app)["where"]
        await scan(pilot, KJ)
        assert app.feedback_log[-1][0] == "error"
        assert "Scan the location label A-01-1 first" in app.feedback_log[-1][1]
        await scan(pilot, "A-01-1")
        assert "✓ location scanned" in shown(app)["where"]
        await scan(pilot, f"2*{KJ}")
        assert statuses(bench)["5001"] == "picked"


def test_a_bad_layout_file_stops_the_app_with_a_clear_error(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "layout.toml"
    bad.write_text("[warehouse]\naisles = []\n")
    settings = load_settings(None, db="unused.db")
    settings = settings.model_copy(
        update={"warehouse": settings.warehouse.model_copy(update={"layout": bad})}
    )
    with pytest.raises(ConfigError, match=r"warehouse.layout: .*toml: warehouse.bays: missing key"):
        PackbenchApp(settings=settings, db=db, terminal="t")


async def test_a_badge_then_a_slip_that_is_not_ready_to_pick(bench) -> None:  # type: ignore[no-untyped-def]
    with bench.write() as s:
        order = s.exec(select(Order).where(Order.number == "5002")).one()
        change_status(s, order, Action.HOLD, Actor("admin", "t"), reason="customer called")
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "ORD-5002")  # nobody signed in: the common answer
        assert app.feedback_log[-1] == (
            "error",
            "Scan your badge first — “ORD-5002” was not used.",
        )
        await scan(pilot, "BDG-1001")
        assert app.actor.station == "pick"
        await scan(pilot, "ORD-5002")
        assert app.feedback_log[-1] == (
            "error",
            "Order 5002 is on hold; only an order with a printed slip is picked.",
        )
        await scan(pilot, "ORD-99999")
        assert app.feedback_log[-1] == ("error", "No order number 99999 on this bench.")
        assert statuses(bench)["5002"] == "on_hold"


async def test_a_short_pick_shows_on_the_dashboard(bench) -> None:  # type: ignore[no-untyped-def]
    from tests.screens.helpers import sign_in_supervisor

    app = make_app(bench)
    async with app.run_test(size=(150, 60)) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5003")
        await scan(pilot, TX)
        await scan(pilot, "CMD-SHORT")
        assert "On hold: order 5003" in app.feedback_log[-1][1]
        await pilot.press("ctrl+o")
        await settle(pilot)
        await sign_in_supervisor(pilot)
        await pilot.press("f6")
        await settle(pilot)
        assert app.current_mode == "dashboard"
        panel = text_of(app.screen.query_one("#shortages", Static))
        assert "Shortages from short picks: 1" in panel
        assert "5003" in panel and "FJ-TX-0002" in panel and "C-07-2" in panel
        assert "1 of 3" in panel


async def test_the_admin_station_shows_slotting_advice(demo_db) -> None:  # type: ignore[no-untyped-def]
    from packbench.screens.slotting import SlottingView

    settings = load_settings(None, db="unused.db", station="admin")
    app = PackbenchApp(settings=settings, db=demo_db, terminal="office")
    async with app.run_test(size=(150, 50)) as pilot:
        await settle(pilot)
        await pilot.press("f10")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, SlottingView) and view.report is not None
        assert view.report.advice.moves
        title = text_of(view.query_one("#slotting-title", Static))
        assert "last 90 days" in title
        body = text_of(view.query_one("#slotting-body", Static))
        assert "Moves, measured" in body and "Best sellers" in body
        assert view.report.advice.moves[0].text[:30] in body
        await pilot.press("f10")
        await settle(pilot)
        assert view.report.days == 365
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, SlottingView)


async def test_products_outside_the_layout_are_named(bench) -> None:  # type: ignore[no-untyped-def]
    from packbench.data.models import Location, Product

    with bench.write() as s:
        s.add(Location(code="Z-01-1", aisle="Z", bay=1, level=1))
        s.flush()
        product = s.exec(select(Product).where(Product.sku == "FJ-KJ-0001")).one()
        product.location = "Z-01-1"
        s.add(product)
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        notes = shown(app)["progress"]
        assert "⚠ 1 products have a location the warehouse layout does not know" in notes
        assert "FJ-KJ-0001: location 'Z-01-1': unknown aisle 'Z'" in notes
        await scan(pilot, "ORD-5001")
        kind, message = app.feedback_log[-1]
        assert kind == "error" and message.startswith("Order 5001 cannot be picked: Kaffekopp")
        assert "unknown aisle 'Z'" in message


def test_the_big_location_font_draws_every_character_three_by_three() -> None:
    from packbench.screens.pick import big_code

    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
    rows = big_code(alphabet)
    assert len(rows) == 3
    assert all(len(r) == len(alphabet) * 4 - 1 for r in rows)
    glyphs = {tuple(r[i * 4 : i * 4 + 3] for r in rows) for i in range(len(alphabet))}
    assert len(glyphs) == len(alphabet) - 1  # only O and 0 share a glyph (aisle vs bay)
    assert big_code("c-07-2") == big_code("C-07-2")


async def test_signing_out_hides_the_batch_and_the_next_picker_sees_their_own(bench) -> None:  # type: ignore[no-untyped-def]
    app = make_app(bench)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await pilot.press("f9")
        await settle(pilot)
        assert shown(app)["qty"] == "2"
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert shown(app)["qty"] == "" and "F9 takes the next batch" in shown(app)["where"]
        await scan(pilot, "BDG-1001")
        assert shown(app)["qty"] == "2"  # back where it was


def test_the_stops_beyond_the_list_are_counted_in_words() -> None:
    """Twelve stops to come are listed; the rest are counted: "1 more stop", not "1 more stops"."""

    def stop(n: int) -> StopView:
        item = StopItem(1, 1, "5001", f"SKU-{n}", None, f"Item {n}", 1, 0, 0)
        return StopView(seq=n, location=f"A-{n:02d}-1", items=(item,))

    def then(stops: int) -> str:
        view = PickListView(
            batch_id=1, status="picking", picker=None, totes=(),
            stops=tuple(stop(n) for n in range(1, stops + 1)), distance_m=0.0, metres_left=0.0,
            at_location=None, require_location_scan=False,
        )  # fmt: skip
        console = Console(width=60, record=True, color_system=None, file=io.StringIO())
        console.print(PickScreen._next_table(view))
        return console.export_text()

    assert "… and 1 more stop\n" in then(14)  # the current stop, 12 listed, 1 more
    assert "… and 2 more stops" in then(15)
    assert "more stop" not in then(13)
