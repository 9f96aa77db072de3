# ruff: noqa: F811  (the fixtures bench and carrier come from test_carrier_booking)
"""The ship station's bench side of a carrier's web API (the demo carrier on loopback, the
real app through Textual's pilot): a booking a crash left is settled when the app starts,
before anyone scans; a pickup point is chosen from the nearest by keyboard; a supervisor voids
a booking with F10, a reason and a confirmation."""

from __future__ import annotations

from packbench.app import PackbenchApp
from packbench.config import Settings
from packbench.data.models import Event, Shipment
from tests.operations.test_booking_recovery import crash_after_sending
from tests.operations.test_carrier_booking import (  # noqa: F401
    bench,
    carrier,
    order_of,
    rows,
    ship_settings,
)
from tests.screens.helpers import scan, settle, text_of

SIZE = (160, 50)


def at_ship(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"bench": settings.bench.model_copy(update={"station": "ship"})}
    )


async def wait_for(pilot, app, text: str, tries: int = 60) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        hits = [f for f in app.feedback_log if text in f[1]]
        if hits:
            return hits[-1]
        await pilot.pause(0.1)
    raise AssertionError(f"no feedback with {text!r}: {app.feedback_log}")


async def test_a_booking_left_by_a_crash_is_settled_when_the_app_starts(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, demo = carrier
    settings = at_ship(ship_settings(url, trust=False))
    demo.faults.update({"next": ["lose"]})
    crash_after_sending(db, settings.ship, ids["first"])  # on terminal t-ship
    assert order_of(db, ids["first"]).status == "packed"
    app = PackbenchApp(settings=settings, db=db, terminal="t-ship")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)  # the first frame is there before the lookup is done
        kind, message = await wait_for(pilot, app, "Bookings left by a crash")
        assert kind == "info"
        assert "Order 5001: found booked with Bring" in message
    (booking,) = demo.state.bookings()
    assert order_of(db, ids["first"]).status == "shipped"
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    assert shipment.consignment_number == booking["consignmentNumber"]


async def open_chooser(pilot, app):  # type: ignore[no-untyped-def]
    from packbench.screens.ship_dialogs import ChoosePickupPoint

    await scan(pilot, "BDG-1001")
    await scan(pilot, "ORD-5001")
    for _ in range(60):
        if isinstance(app.screen, ChoosePickupPoint):
            return app.screen
        await pilot.pause(0.1)
    raise AssertionError(f"no pickup point chooser: {app.feedback_log}")


async def test_the_packer_chooses_a_pickup_point_with_the_arrow_keys(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, demo = carrier
    settings = at_ship(ship_settings(url, trust=True))
    app = PackbenchApp(settings=settings, db=db, terminal="bench-4")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dialog = await open_chooser(pilot, app)
        assert "choose one of the 5 nearest" in app.feedback_log[-1][1]
        assert demo.state.bookings() == []  # nothing booked while the packer chooses
        text = "\n".join(
            str(dialog.query_one("#points").get_option_at_index(i).prompt) for i in range(5)
        )
        assert text.startswith("1. Kiwi Trondheim sentrum") and "(0.4 km)" in text
        # A scan landing in the box by mistake chooses nothing.
        await pilot.press(*"ORD-5002", "enter")
        assert app.screen is dialog and "is not one of 1–5" in text_of(
            dialog.query_one("#choice-error")
        )
        await pilot.press("down", "down", "up", "enter")  # the second
        await settle(pilot)
        _, message = await wait_for(pilot, app, "shipped with Bring")
    (booking,) = demo.state.bookings()
    assert booking["pickupPoint"] == "701002"
    assert message.startswith("Order 5001 goes to ") and "(1.1 km)" in message
    order = order_of(db, ids["first"])
    assert (order.status, order.pickup_point_id) == ("shipped", "701002")
    (event,) = rows(db, Event, order_id=ids["first"], kind="pickup_point_chosen")
    assert (event.station, event.terminal) == ("ship", "bench-4")


async def test_a_pickup_point_by_its_number_and_esc_books_nothing(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, demo = carrier
    settings = at_ship(ship_settings(url, trust=True))
    app = PackbenchApp(settings=settings, db=db, terminal="bench-4")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_chooser(pilot, app)
        await pilot.press("escape")
        await settle(pilot)
        assert "was not booked: it waits, packed" in app.feedback_log[-1][1]
        assert demo.state.bookings() == [] and order_of(db, ids["first"]).status == "packed"
        await open_chooser(pilot, app)
        await pilot.press("4", "enter")
        await settle(pilot)
        await wait_for(pilot, app, "shipped with Bring")
    (booking,) = demo.state.bookings()
    assert booking["pickupPoint"] == "701004"


async def test_a_supervisor_voids_a_booking_with_f10_a_reason_and_void(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    from packbench.operations.shipping import create_shipment
    from packbench.screens.ship_dialogs import ConfirmVoid
    from tests.operations.test_carrier_booking import SHIPPER
    from tests.screens.helpers import sign_in_supervisor

    db, ids = bench
    url, demo = carrier
    settings = at_ship(ship_settings(url, pickup_point="carrier"))
    create_shipment(db, SHIPPER, settings.ship, ids["first"])
    (booking,) = demo.state.bookings()
    app = PackbenchApp(settings=settings, db=db, terminal="bench-4")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # A packer's F10 on a carrier's booking: told to fetch a supervisor, nothing asked.
        await scan(pilot, "BDG-1001")
        await scan(pilot, "ORD-5001")
        await pilot.press("f10")
        await settle(pilot)
        assert "a supervisor voids a carrier's booking" in app.feedback_log[-1][1]
        assert not isinstance(app.screen, ConfirmVoid)
        await sign_in_supervisor(pilot)
        await scan(pilot, "ORD-5001")
        await pilot.press("f10")
        await settle(pilot)
        await pilot.press(*"wrong box", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmVoid)
        await pilot.press("enter")  # a stray Enter confirms nothing
        assert isinstance(app.screen, ConfirmVoid)
        await pilot.press("escape")
        await settle(pilot)
        assert "not voided" in app.feedback_log[-1][1]
        assert order_of(db, ids["first"]).status == "shipped"
        await pilot.press("f10")
        await settle(pilot)
        await pilot.press(*"wrong box", "enter")
        await settle(pilot)
        await pilot.press(*"VOID", "enter")
        await settle(pilot)
        kind, message = await wait_for(pilot, app, "shipment cancelled (wrong box)")
    assert kind == "ok" and f"cancel consignment {booking['consignmentNumber']}" in message
    assert order_of(db, ids["first"]).status == "packed"
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    assert shipment.booking_state == "void"
