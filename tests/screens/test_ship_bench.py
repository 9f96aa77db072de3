# ruff: noqa: F811  (the fixtures bench and carrier come from test_carrier_booking)
"""The ship station's bench side of a carrier's web API (the demo carrier on loopback, the
real app through Textual's pilot): a booking a crash left is settled when the app starts,
before anyone scans; a pickup point is chosen from the nearest by keyboard; a supervisor voids
a booking with F10, a reason and a confirmation."""

from __future__ import annotations

from packbench.app import PackbenchApp
from packbench.config import Settings
from packbench.data.models import Shipment
from tests.operations.test_booking_recovery import crash_after_sending
from tests.operations.test_carrier_booking import (  # noqa: F401
    bench,
    carrier,
    order_of,
    rows,
    ship_settings,
)
from tests.screens.helpers import settle

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
