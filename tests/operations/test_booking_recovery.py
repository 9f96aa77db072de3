# ruff: noqa: F811  (the fixtures bench and carrier come from test_carrier_booking)
"""Bookings a crash left *requested* are looked up by reference when the bench starts (the
demo carrier over loopback, a real database): found → recorded once; certainly not booked →
the order packed again; undecidable → held for a person. Never a second booking."""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from packbench.carriers import CarrierError
from packbench.data.models import CarrierLabel, Event, Shipment
from packbench.data.types import utcnow
from packbench.operations.booking_recovery import crash_left_bookings, resolve_crash_left
from packbench.operations.carrier_booking import _begin, make_carrier
from packbench.operations.common import Actor
from packbench.operations.shipping import create_shipment
from tests.operations.carrier_bench import (
    SHIPPER,
    bench_file,
    kill_9_when,
    live_parcels,
    order_of,
    packed_pair,
    rows,
)
from tests.operations.test_carrier_booking import bench, carrier, ship_settings  # noqa: F401

STARTUP = Actor("ship", SHIPPER.terminal)  # the app starting on the terminal: nobody signed in
OTHER = Actor("ship", "t-other")


def crash_after_sending(db, ship, order_id: int) -> None:  # type: ignore[no-untyped-def]
    """What a process killed mid-booking leaves: the request committed, the request sent
    (the carrier may act on it), the answer never recorded."""
    pending = _begin(db, SHIPPER, ship, order_id, "ORD")
    adapter = make_carrier(ship, pending.carrier)
    with contextlib.suppress(CarrierError):  # the answer was lost: the process "dies" here
        adapter.create_shipment(pending.request, None)  # type: ignore[arg-type]


def test_a_lost_answer_is_found_at_start_up_and_recorded_once(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    ship = ship_settings(url, trust=False).ship
    app.faults.update({"next": ["lose"]})  # booked at the carrier, the answer lost
    crash_after_sending(db, ship, ids["first"])
    (booking,) = app.state.bookings()
    assert order_of(db, ids["first"]).status == "packed"
    assert crash_left_bookings(db, SHIPPER.terminal) != []
    report = resolve_crash_left(db, STARTUP, ship, own_terminal=True)
    assert report.booked == ["5001"] and not report.held and not report.not_booked
    assert "found booked with Bring" in report.message
    assert order_of(db, ids["first"]).status == "shipped"
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    assert shipment.booking_state == "booked"
    assert shipment.consignment_number == booking["consignmentNumber"]
    assert [p.tracking_number for p in live_parcels(db, ids["first"])] == [
        p["packageNumber"] for p in booking["packages"]
    ]
    (label,) = rows(db, CarrierLabel, shipment_id=shipment.id)
    assert label.data and label.data.startswith(b"%PDF")
    # Only lookups were sent: one POST (the killed process's), then GETs.
    posts = [r for r in app.state.received if r["method"] == "POST"]
    assert len(posts) == 1 and len(app.state.bookings()) == 1
    # Settled: a second start finds nothing, and scanning the slip opens it, books nothing.
    assert crash_left_bookings(db, SHIPPER.terminal) == []
    assert resolve_crash_left(db, STARTUP, ship, own_terminal=True).message == ""
    assert len(app.state.bookings()) == 1


def test_a_request_never_reaching_a_trusted_carrier_leaves_the_order_packed(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    ship = ship_settings(url, trust=True).ship
    app.faults.update({"next": ["500"]})  # refused before booking; the process then dies
    crash_after_sending(db, ship, ids["first"])
    assert app.state.bookings() == []
    report = resolve_crash_left(db, STARTUP, ship, own_terminal=True)
    assert report.not_booked == ["5001"] and "scan it to book it" in report.message
    assert order_of(db, ids["first"]).status == "packed"
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    assert (shipment.booking_state, shipment.status) == ("refused", "cancelled")
    assert app.state.bookings() == []
    # The next scan books it, once.
    create_shipment(db, SHIPPER, ship, ids["first"])
    assert len(app.state.bookings()) == 1 and order_of(db, ids["first"]).status == "shipped"


def test_an_undecidable_lookup_holds_the_order_with_the_reason(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    ship = ship_settings(url, trust=False).ship
    app.faults.update({"next": ["drop"]})  # nothing booked, but nobody can know
    crash_after_sending(db, ship, ids["first"])
    report = resolve_crash_left(db, STARTUP, ship, own_terminal=True)
    assert report.held == ["5001"]
    order = order_of(db, ids["first"])
    assert order.status == "on_hold"
    assert "Booking unclear" in (order.hold_reason or "") and "finds none yet" in (
        order.hold_reason or ""
    )
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    assert shipment.booking_state == "held"
    assert app.state.bookings() == []


def test_a_lookup_that_fails_holds_the_order_never_books(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    ship = ship_settings(url, trust=True).ship
    app.faults.update({"next": ["lose"]})
    crash_after_sending(db, ship, ids["first"])
    app.faults.update({"next": ["500"] * 4})  # every lookup attempt fails
    report = resolve_crash_left(db, STARTUP, ship, own_terminal=True)
    assert report.held == ["5001"] and "looking it up" in report.message
    assert order_of(db, ids["first"]).status == "on_hold"
    assert len(app.state.bookings()) == 1  # the lost one; nothing more


def test_another_terminals_booking_is_left_alone_until_it_is_stale(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    ship = ship_settings(url).ship
    app.faults.update({"next": ["lose"]})
    crash_after_sending(db, ship, ids["first"])  # SHIPPER's terminal, t-ship
    # Another bench starting now: t-ship may still be waiting for that answer.
    assert resolve_crash_left(db, OTHER, ship, own_terminal=True).message == ""
    assert rows(db, Shipment, order_id=ids["first"])[0].booking_state == "requested"
    with db.write() as s:  # ten minutes pass without a word from t-ship
        for e in s.exec(select(Event).where(Event.order_id == ids["first"])).all():
            e.at = utcnow() - timedelta(minutes=11)
            s.add(e)
    report = resolve_crash_left(db, OTHER, ship)  # packbench ship / sync: stale ones only
    assert report.booked == ["5001"] and len(app.state.bookings()) == 1
    (event,) = [e for e in rows(db, Event, order_id=ids["first"], kind="booking_resumed")]
    assert event.terminal == "t-other"


# --------------------------------------------------------------------------- kill -9

_CHILD = """
import sys
from packbench.data.engine import create_database
from packbench.operations.shipping import create_shipment
from tests.operations.test_carrier_booking import SHIPPER, ship_settings
db = create_database(sys.argv[1])
create_shipment(db, SHIPPER, ship_settings(sys.argv[2], trust=False).ship, int(sys.argv[3]))
"""


@pytest.mark.sqlite_only
@pytest.mark.parametrize("when", ["before the carrier acts", "after the carrier booked"])
def test_kill_9_between_intent_and_answer_is_settled_at_the_next_start(
    tmp_path: Path, carrier, when: str
) -> None:  # type: ignore[no-untyped-def]
    url, app = carrier
    db, path = bench_file(tmp_path)
    ids = packed_pair(db, phone=False)
    key = "latency_ms" if when == "before the carrier acts" else "answer_latency_ms"
    app.faults.update({key: 3000})

    def requested() -> bool:
        if when == "after the carrier booked" and not app.state.bookings():
            return False
        return bool(rows(db, Shipment, booking_state="requested"))

    kill_9_when(_CHILD, [str(path), url, str(ids["first"])], requested)
    app.faults.update({key: 0})
    time.sleep(3.2)  # a request the killed process sent reaches the carrier, or not
    booked_before = len(app.state.bookings())
    # The bench starts again on the same terminal, before anyone scans anything.
    report = resolve_crash_left(db, STARTUP, ship_settings(url, trust=False).ship,
                                own_terminal=True)  # fmt: skip
    assert len(app.state.bookings()) == booked_before  # lookups only
    if booked_before:
        (booking,) = app.state.bookings()
        assert report.booked == ["5001"]
        assert [p.tracking_number for p in live_parcels(db, ids["first"])] == [
            p["packageNumber"] for p in booking["packages"]
        ]
        assert order_of(db, ids["first"]).status == "shipped"
    else:  # Bring's search may lag: a person decides, nothing is booked behind their back
        assert report.held == ["5001"] and order_of(db, ids["first"]).status == "on_hold"


def test_an_answer_arriving_after_a_start_up_closed_the_request_is_still_recorded(
    bench, carrier
) -> None:  # type: ignore[no-untyped-def]
    """Two processes on one terminal name (an app starting while ``packbench ship`` books):
    the lookup found nothing yet and closed the request, then the carrier's answer arrives.
    The booking is real: it is recorded, the shipment live again, the order shipped."""
    from packbench.operations.carrier_booking import _record_booked

    db, ids = bench
    url, app = carrier
    ship = ship_settings(url, trust=True, pickup_point="carrier").ship
    pending = _begin(db, SHIPPER, ship, ids["first"], "ORD")
    report = resolve_crash_left(db, STARTUP, ship, own_terminal=True)
    assert report.not_booked == ["5001"]
    answer = make_carrier(ship, "Bring").create_shipment(pending.request, None)  # type: ignore[arg-type]
    _record_booked(db, SHIPPER, ship, ids["first"], pending.shipment_id, answer, "ORD")
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    assert (shipment.status, shipment.booking_state) == ("created", "booked")
    assert order_of(db, ids["first"]).status == "shipped"
    assert len(app.state.bookings()) == 1
