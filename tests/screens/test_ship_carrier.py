"""The ship station booking with Bring (the demo carrier on loopback): a scanned slip books,
the carrier's label prints, the screen shows the product and the consignment; a refusal is
one clear line naming the field."""

from __future__ import annotations

from packbench.app import PackbenchApp
from packbench.data.models import Order
from tests.operations.test_carrier_booking import bench, carrier, ship_settings  # noqa: F401
from tests.printing.conftest import cups_ready  # noqa: F401
from tests.screens.helpers import burst, settle
from tests.screens.test_ship_post import main_text

SIZE = (160, 50)


async def test_a_scanned_slip_books_with_bring_and_prints_its_label(
    bench,  # noqa: F811
    carrier,  # noqa: F811
    cups_ready,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    db, _ = bench
    url, demo = carrier
    settings = ship_settings(url, pickup_point="carrier").model_copy(
        update={
            "bench": ship_settings(url, pickup_point="carrier").bench.model_copy(
                update={"station": "ship"}
            )
        }
    )
    app = PackbenchApp(settings=settings, db=db, terminal="bench-4")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "BDG-1001")
        burst(app, "ORD-5001")
        await settle(pilot)
        for _ in range(40):  # the booking and the print run in a worker
            if app.feedback_log and "5001" in app.feedback_log[-1][1]:
                break
            await pilot.pause(0.1)
        kind, message = app.feedback_log[-1]
        (booking,) = demo.state.bookings()
        assert kind == "ok", message
        assert "Order 5001 shipped with Bring Pakke: 2 parcels" in message
        text = main_text(app)
        assert f"Product 5800, consignment {booking['consignmentNumber']}" in text
        assert all(p["packageNumber"] in text for p in booking["packages"])
        assert text.count("printed ") == 2


async def test_a_refused_booking_is_one_line_naming_the_field(bench, carrier) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    db, ids = bench
    url, demo = carrier
    with db.write() as s:
        order = s.get(Order, ids["first"])
        assert order is not None
        order.ship_postcode = "0000"
        s.add(order)
    settings = ship_settings(url, pickup_point="carrier").model_copy(
        update={
            "bench": ship_settings(url, pickup_point="carrier").bench.model_copy(
                update={"station": "ship"}
            )
        }
    )
    app = PackbenchApp(settings=settings, db=db, terminal="bench-4")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "BDG-1001")
        burst(app, "ORD-5001")
        await settle(pilot)
        for _ in range(40):
            if app.feedback_log and "5001" in app.feedback_log[-1][1]:
                break
            await pilot.pause(0.1)
        kind, message = app.feedback_log[-1]
        assert kind == "error"
        assert "recipient postcode '0000': Invalid postal Code" in message
        assert "Traceback" not in message and demo.state.bookings() == []
