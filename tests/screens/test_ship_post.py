"""The ship and post stations as a packer meets them: scanner bursts, keys, refusals, CUPS."""

from __future__ import annotations

import pytest
from sqlmodel import select
from textual.widgets import Static

from packbench.app import PackbenchApp
from packbench.config import load_settings
from packbench.data.engine import Database
from packbench.data.models import Event, Order, OutboxItem, Parcel
from packbench.operations.common import Actor
from packbench.operations.shipping import create_shipment
from tests.operations.seed import seed
from tests.operations.test_shipping import make_packed, mark_printed
from tests.printing.conftest import PDF_QUEUE, cups_ready  # noqa: F401
from tests.screens.helpers import burst, scan, settle, text_of
from tests.shop.test_sync import shop  # noqa: F401

SIZE = (160, 50)


def make_app(db: Database, station: str) -> PackbenchApp:
    settings = load_settings(None, db="unused.db", station=station)
    return PackbenchApp(settings=settings, db=db, terminal="bench-4")


@pytest.fixture
def bench(db: Database) -> tuple[Database, dict[str, int]]:
    ids = seed(db)
    make_packed(db, ids["first"], (("BOX-S", 900), ("BOX-M", 1400)))
    make_packed(db, ids["second"])
    return db, ids


def main_text(app: PackbenchApp, widget: str = "#main") -> str:
    """What ``widget`` shows; the station's view (``#main``) with the next-step line pinned
    above the scan bar (``#next-step``)."""
    text = text_of(app.screen.query_one(widget, Static))
    if widget == "#main":
        text += text_of(app.screen.query_one("#next-step", Static))
    return text


def order(db: Database, order_id: int) -> Order:
    with db.read() as s:
        row = s.get(Order, order_id)
        assert row is not None
        return row


def tracking(db: Database, order_id: int) -> list[str]:
    with db.read() as s:
        return [
            p.tracking_number or ""
            for p in s.exec(select(Parcel).where(Parcel.order_id == order_id)).all()
            if p.status != "void"
        ]


async def test_ship_complete_with_scanner_bursts(bench, cups_ready) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    db, ids = bench
    app = make_app(db, "ship")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.current_mode == "ship"
        assert "Ready to ship (oldest first): 5001, 5002" in main_text(app)
        # Badge, slip and the completion card as one burst, the way a fast packer scans them.
        burst(app, "BDG-1001")
        burst(app, "ORD-5001")
        await settle(pilot)
        kind, message = app.feedback_log[-1]
        assert kind == "ok" and "Order 5001 shipped with Posten Norgespakke: 2 parcels" in message
        assert f"Label printed on {PDF_QUEUE}" in message
        text = main_text(app)
        numbers = tracking(db, ids["first"])
        assert all(n in text for n in numbers) and text.count("printed ") == 2
        assert "complete the transaction with F7" in text
        await scan(pilot, "CMD-COMPLETE")
        kind, message = app.feedback_log[-1]
        assert kind == "ok" and "transaction completed" in message
        assert "will complete by itself" in main_text(app)
        assert "scan the next packed order's slip" in main_text(app)
        # F7 again before the next slip: the done order takes no more commands, and nothing
        # lands in its history.
        with db.read() as s:
            events_before = len(s.exec(select(Event).where(Event.order_id == ids["first"])).all())
        await pilot.press("f7")
        await pilot.press("f10")
        await settle(pilot)
        kind, message = app.feedback_log[-1]
        assert kind == "error" and "Order 5001 is done" in message
        assert "Scan the next packed order's slip first" in message
        with db.read() as s:
            events_after = len(s.exec(select(Event).where(Event.order_id == ids["first"])).all())
        assert events_after == events_before
        # The next slip opens the next order, and F7 acts on that one.
        await scan(pilot, "ORD-5002")
        assert "Order 5002 shipped" in app.feedback_log[-1][1]
        await pilot.press("f7")
        await settle(pilot)
        kind, message = app.feedback_log[-1]
        assert kind == "ok" and "5002" in message and "transaction completed" in message
    with db.read() as s:
        keys = [x.kind for x in s.exec(select(OutboxItem)).all()]
    assert keys == ["meta", "note", "complete"] * 2
    assert order(db, ids["first"]).completed_at is not None


async def test_ship_refusals_a_failed_print_and_a_cancel(
    bench,
    monkeypatch,
    cups_ready,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PACKBENCH_PRINTERS__LABEL", "GONE")
    db, ids = bench
    app = make_app(db, "ship")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        before = app.bells
        for code in ("ORD-9999", "ORD-5003", "CMD-COMPLETE"):
            burst(app, code)
        await settle(pilot)
        errors = [m for k, m in app.feedback_log if k == "error"]
        assert any("No order number 9999" in m for m in errors)
        assert any("Order 5003 is new" in m for m in errors)
        assert any("Scan a packing slip first" in m for m in errors)
        assert app.bells == before + 3

        await scan(pilot, "ORD-5002")
        kind, message = app.feedback_log[-1]
        assert kind == "error" and "shipped with Posten" in message
        assert "Not printed on GONE" in message
        assert "NOT PRINTED — F8" in main_text(app)
        await pilot.press("f7")
        await settle(pilot)
        kind, message = app.feedback_log[-1]
        assert kind == "error" and "has not printed" in message
        assert order(db, ids["second"]).completed_at is None

        # Ctrl+L: the labels to another printer; that one prints them.
        await pilot.press("ctrl+l")
        await settle(pilot)
        await pilot.press(*("minus" if c == "-" else c for c in PDF_QUEUE), "enter")
        await settle(pilot)
        kind, message = app.feedback_log[-1]
        assert kind == "ok" and f"printed on {PDF_QUEUE}" in message, message

        old = tracking(db, ids["second"])
        await pilot.press("f10")  # cancel: asks why
        await settle(pilot)
        await pilot.press(*"smudged", "enter")
        await settle(pilot)
        kind, message = app.feedback_log[-1]
        assert kind == "ok" and "shipment cancelled (smudged)" in message
        assert order(db, ids["second"]).status == "packed"
        assert tracking(db, ids["second"]) == [""]
        assert old[0] in message


@pytest.fixture
def shipped(bench, cups_ready):  # type: ignore[no-untyped-def]  # noqa: F811
    db, ids = bench
    settings = load_settings(None, db="unused.db")
    actor = Actor("ship", "seed", 1, "Kari Nordmann", "packer")
    with db.write() as s:
        s.get(Order, ids["second"]).shipping_method_id = "flat_rate:4"  # type: ignore[union-attr]
    for key in ("first", "second"):
        create_shipment(db, actor, settings.ship, ids[key])
        mark_printed(db, ids[key])
    return db, ids


async def test_post_cage_refusals_and_handover(shipped) -> None:  # type: ignore[no-untyped-def]
    db, ids = shipped
    posten, postnord = tracking(db, ids["first"]), tracking(db, ids["second"])
    app = make_app(db, "post")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = main_text(app, "#waiting")
        assert "Posten — 3 waiting" in text and "PostNord — 1 waiting" in text
        burst(app, "BDG-1001")
        burst(app, posten[0])
        burst(app, postnord[0])  # another carrier's parcel, in the same burst
        burst(app, "RR999999995NO")  # nobody's
        burst(app, posten[0])  # twice
        await settle(pilot)
        log = app.feedback_log[-4:]
        assert log[0][0] == "ok" and "→ Posten cage (1 in the cage)" in log[0][1]
        assert log[1][0] == "error" and "is for PostNord, not Posten" in log[1][1]
        assert log[2][0] == "error" and "No parcel has the label" in log[2][1]
        assert log[3][0] == "info" and "in the Posten cage already" in log[3][1]
        assert "Handling Posten: 1 in the cage, 2 not scanned" in main_text(app, "#next-step")

        await pilot.press("f7")  # close: two Posten parcels were not scanned
        await settle(pilot)
        kind, message = app.feedback_log[-1]
        assert kind == "error" and "2 Posten parcels were shipped but not scanned" in message
        assert posten[1] in message
        assert "Parcels of Posten are not scanned: scan them, or F8" in main_text(app, "#next-step")
        await pilot.press("f8")  # confirmed: they stay for the next pickup
        await settle(pilot)
        kind, message = app.feedback_log[-1]
        assert "1 parcel handed over to Posten. 2 stay for the next pickup." in message
        assert kind == "ok" and "Manifest" in message and PDF_QUEUE in message
        assert "No handover in hand" in main_text(app, "#next-step")
        assert "Posten — 2 waiting" in main_text(app, "#waiting")
        await pilot.press("f10")  # the manifest again: said once, not "Manifest: Manifest …"
        await settle(pilot)
        kind, message = app.feedback_log[-1]
        assert kind == "ok" and message.startswith(f"Manifest printed on {PDF_QUEUE}"), message

        await scan(pilot, posten[0])  # handed over already
        kind, message = app.feedback_log[-1]
        assert kind == "error" and "was handed over to Posten already" in message
        await scan(pilot, postnord[0])  # now PostNord may be handled
        assert app.feedback_log[-1][0] == "ok"
    with db.read() as s:
        parcel = s.exec(select(Parcel).where(Parcel.tracking_number == posten[0])).one()
    assert parcel.status == "handed_over" and parcel.handed_over_at is not None


async def test_the_screen_shows_the_shops_answer_after_an_outage(  # type: ignore[no-untyped-def]
    db,
    shop,  # noqa: F811
    monkeypatch,
    cups_ready,  # noqa: F811
) -> None:
    """The app's own sync against the real demo shop: down when the packer completes (the
    screen says it will complete by itself), up again later (the invoice and the capture)."""
    from packbench.data.models import Packer
    from tests.shop.test_sync import KEY, SECRET, engine

    with db.write() as s:
        s.add(Packer(name="Kari Nordmann", badge="BDG-1001"))
    first = engine(db, shop)
    first.run_once(products=True)
    first.release()  # the app's sync takes over
    with db.read() as s:
        oid, number, shop_id = s.exec(
            select(Order.id, Order.number, Order.shop_order_id)
            .where(Order.shipping_method_id == "flat_rate:3")
            .order_by(Order.id)
        ).first()
    make_packed(db, oid, method=None)
    for name, value in {
        "PACKBENCH_SHOP__URL": shop.url,
        "PACKBENCH_SHOP_KEY": KEY,
        "PACKBENCH_SHOP_SECRET": SECRET,
        "PACKBENCH_SHOP__SYNC_INTERVAL_S": "0.2",
    }.items():
        monkeypatch.setenv(name, value)
    shop.faults(fail_rate=1.0, applied_share=0.0)  # the shop is down
    app = make_app(db, "ship")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await scan(pilot, f"ORD-{number}")
        assert app.feedback_log[-1][0] == "ok", app.feedback_log[-1]
        await scan(pilot, "CMD-COMPLETE")
        assert "will complete by itself" in app.feedback_log[-1][1]
        for _ in range(150):  # the sync tried and failed: the screen says so
            await pilot.pause(0.1)
            if "did not answer" in main_text(app):
                break
        assert "did not answer" in main_text(app) and "will complete by itself" in main_text(app)
        shop.faults()  # up again
        for _ in range(300):
            await pilot.pause(0.1)
            if "invoice" in main_text(app):
                break
        text = main_text(app)
        assert "Transaction completed: invoice" in text and "payment captured" in text
    invoice = order(db, oid).invoice_number
    assert invoice and invoice in text
    assert len([c for c in shop.captures() if c["order_id"] == shop_id]) == 1


async def test_post_station_resumes_its_open_cage_after_a_restart(shipped) -> None:  # type: ignore[no-untyped-def]
    db, ids = shipped
    posten = tracking(db, ids["first"])
    app = make_app(db, "post")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await scan(pilot, "BDG-1001")
        await scan(pilot, posten[0])
        assert "Handling Posten: 1 in the cage" in main_text(app, "#next-step")
    again = make_app(db, "post")  # the terminal restarted
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Scan your badge" in main_text(again, "#next-step")  # signed out: that first
        await scan(pilot, "BDG-1001")
        # 5001's second parcel and the seed's 5003 are still out of the cage.
        assert "Handling Posten: 1 in the cage, 2 not scanned" in main_text(again, "#next-step")
        await scan(pilot, posten[1])
        await pilot.press("f7")
        await settle(pilot)
        kind, message = again.feedback_log[-1]
        assert kind == "error" and "1 Posten parcel was shipped but not scanned" in message
        await pilot.press("f8")
        await settle(pilot)
        kind, message = again.feedback_log[-1]
        assert "2 parcels handed over to Posten. 1 stays" in message
    assert order(db, ids["first"]).status == "handed_over"


async def test_a_pickup_order_is_handed_to_the_customer_with_f7(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    with db.write() as s:
        row = s.get(Order, ids["second"])
        assert row is not None
        row.shipping_method_id = "local_pickup:1"
        s.add(row)
    app = make_app(db, "ship")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        idle = main_text(app)
        assert "Ready to ship (oldest first): 5001" in idle and "customer comes): 5002" in idle
        burst(app, "BDG-1001")
        burst(app, "ORD-5002")
        await settle(pilot)
        kind, message = app.feedback_log[-1]
        assert kind == "info" and "collected in the shop" in message
        assert "5002" in main_text(app)
        await pilot.press("f7")
        await settle(pilot)
        kind, message = app.feedback_log[-1]
        assert kind == "ok" and "collected by the customer" in message
    done = order(db, ids["second"])
    assert done.status == "handed_over" and done.completed_at is not None
