"""The ship station booking with Bring (the demo carrier over loopback) on a real database:
the request committed before the call, the answer recorded after; refusals that change nothing
but their record; the lost answer found by reference; an undecidable booking held for a
person; a process killed mid-booking; the carrier's label printed through CUPS and decoded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from packbench.config import Settings
from packbench.core.codes import is_valid_sscc
from packbench.core.workflow import Action
from packbench.data.engine import Database
from packbench.data.models import CarrierLabel, Event, Order, OutboxItem, Parcel, Shipment
from packbench.operations.carrier_booking import label_documents
from packbench.operations.common import Actor, Refused, change_status
from packbench.operations.printing import reprint_job
from packbench.operations.ship_complete import complete_transaction
from packbench.operations.ship_labels import print_labels
from packbench.operations.shipping import create_shipment
from tests.operations.carrier_bench import (
    SENDER,
    SHIPPER,
    bench_file,
    demo_carrier,
    kill_9_when,
    live_parcels,
    order_of,
    packed_pair,
    rows,
)
from tests.printing.conftest import PDF_QUEUE, cups_ready, find_pdf  # noqa: F401
from tests.printing.test_documents import pages

from packbench.carriers.demo_carrier import (  # isort: skip
    DEFAULT_KEY, DEFAULT_UID, DemoCarrierApp, create_app, run_in_thread,
)  # fmt: skip

SUPERVISOR = Actor("admin", "t-admin", 2, "Ola Sjef", "supervisor")


def ship_settings(
    url: str, *, trust: bool = True, product: str = "5800", pickup_point: str = "choose"
) -> Settings:
    return Settings(
        ship={
            "carriers": {
                "Bring": {
                    "kind": "bring",
                    "api_url": url,
                    "customer_number": "5",
                    "client_url": "https://butikken.example.no",
                    "trust_empty_lookup": trust,
                    "label_url_template": "/labels/consignment/{consignment}.pdf",
                    "timeout_s": 5,
                    "pickup_point": pickup_point,
                }
            },
            "methods": {
                "flat_rate:3": {"carrier": "Bring", "service": "Pakke", "product": product}
            },
            "sender": SENDER,
        },
        printers={"label": PDF_QUEUE, "timeout_s": 60},
    )


@pytest.fixture
def carrier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, DemoCarrierApp]]:
    with demo_carrier(
        tmp_path, monkeypatch, PACKBENCH_BRING_UID=DEFAULT_UID, PACKBENCH_BRING_KEY=DEFAULT_KEY
    ) as running:
        yield running


@pytest.fixture
def bench(db: Database) -> tuple[Database, dict[str, int]]:
    return db, packed_pair(db)


def test_a_packed_order_is_booked_and_gets_bring_s_numbers(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    view = create_shipment(db, SHIPPER, ship_settings(url).ship, ids["first"])
    assert view.status == "shipped" and view.carrier == "Bring"
    (booking,) = app.state.bookings()
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    assert shipment.booking_state == "booked"
    assert shipment.consignment_number == booking["consignmentNumber"]
    assert (
        shipment.tracking_url == f"https://sporing.bring.no/sporing/{booking['consignmentNumber']}"
    )
    assert shipment.booking_request and "bjorn@example.no" in shipment.booking_request
    assert DEFAULT_KEY not in shipment.booking_request
    assert shipment.booking_response and booking["consignmentNumber"] in shipment.booking_response
    parcels = live_parcels(db, ids["first"])
    assert [p.tracking_number for p in parcels] == [p["packageNumber"] for p in booking["packages"]]
    assert all(p.sscc == p.tracking_number and is_valid_sscc(p.sscc) for p in parcels)
    assert all(p.status == "labelled" and p.shipment_id == shipment.id for p in parcels)
    (label,) = rows(db, CarrierLabel, shipment_id=shipment.id)
    assert label.data and label.data.startswith(b"%PDF") and label.format == "pdf"
    assert (label.page_width_mm, label.page_height_mm) == (100.0, 190.0)
    kinds = [e.kind for e in rows(db, Event, order_id=ids["first"])]
    assert kinds.index("booking_requested") < kinds.index("ship")
    # What the carrier received is the order: recipient, parcels and their sizes.
    (post,) = [r for r in app.state.received if r["method"] == "POST"]
    c = post["body"]["consignments"][0]
    assert c["parties"]["recipient"]["postalCode"] == "7010"
    assert [p["weightInKg"] for p in c["packages"]] == [0.9, 1.4]
    assert c["packages"][0]["dimensions"] == {"heightInCm": 10, "widthInCm": 20, "lengthInCm": 30}
    assert c["parties"]["sender"]["reference"] == "5001"


def test_a_refusal_names_the_field_and_books_nothing(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    with db.write() as s:
        order = s.get(Order, ids["first"])
        assert order is not None
        order.ship_postcode = "0000"
        s.add(order)
    ship = ship_settings(url).ship
    with pytest.raises(Refused) as err:
        create_shipment(db, SHIPPER, ship, ids["first"])
    assert "recipient postcode '0000': Invalid postal Code" in err.value.message
    assert order_of(db, ids["first"]).status == "packed"
    assert all(
        p.status == "packed" and not p.tracking_number for p in live_parcels(db, ids["first"])
    )
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    assert (shipment.booking_state, shipment.status) == ("refused", "cancelled")
    assert app.state.bookings() == []
    # Put right, it books, once.
    with db.write() as s:
        order = s.get(Order, ids["first"])
        assert order is not None
        order.ship_postcode = "7010"
        s.add(order)
    create_shipment(db, SHIPPER, ship, ids["first"])
    assert len(app.state.bookings()) == 1


def test_missing_credentials_say_where_they_come_from(bench, carrier, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    monkeypatch.delenv("PACKBENCH_BRING_KEY")
    with pytest.raises(Refused) as err:
        create_shipment(db, SHIPPER, ship_settings(url).ship, ids["first"])
    assert "PACKBENCH_BRING_KEY" in err.value.message
    assert order_of(db, ids["first"]).status == "packed" and app.state.bookings() == []


def test_the_lost_answer_is_found_by_reference_one_booking(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    app.faults.update({"next": ["lose"]})
    create_shipment(
        db, SHIPPER, ship_settings(url, trust=False, pickup_point="carrier").ship, ids["first"]
    )
    (booking,) = app.state.bookings()
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    assert shipment.consignment_number == booking["consignmentNumber"]
    assert [p.sscc for p in live_parcels(db, ids["first"])] == [
        p["packageNumber"] for p in booking["packages"]
    ]
    (label,) = rows(db, CarrierLabel, shipment_id=shipment.id)
    assert label.data and "/labels/consignment/" in label.url
    assert any(e.message.endswith("(found by reference)") for e in rows(db, Event, kind="status"))


def test_an_undecidable_booking_holds_the_order_never_books_twice(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    ship = ship_settings(url, trust=False, pickup_point="carrier").ship
    app.faults.update({"next": ["drop"]})  # nothing booked, but the bench cannot know
    with pytest.raises(Refused) as err:
        create_shipment(db, SHIPPER, ship, ids["first"])
    assert "Order 5001 is on hold" in err.value.message and "finds none yet" in err.value.message
    order = order_of(db, ids["first"])
    assert order.status == "on_hold" and "Booking unclear" in (order.hold_reason or "")
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    assert shipment.booking_state == "held"
    # Scanning it again does not book: it is on hold.
    with pytest.raises(Refused):
        create_shipment(db, SHIPPER, ship, ids["first"])
    assert app.state.bookings() == []
    # A person checked with Bring and released it: looked up once more, then booked, once.
    with db.write() as s:
        held = s.get(Order, ids["first"])
        assert held is not None
        change_status(s, held, Action.RELEASE, SUPERVISOR)
    create_shipment(db, SHIPPER, ship, ids["first"])
    assert len(app.state.bookings()) == 1
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    assert shipment.booking_state == "booked"


def test_a_release_after_the_carrier_did_book_finds_that_booking(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    ship = ship_settings(url, trust=False, pickup_point="carrier").ship
    app.faults.update({"next": ["lose", "500", "500", "500", "500"]})  # booked; lookups fail
    with pytest.raises(Refused):
        create_shipment(db, SHIPPER, ship, ids["first"])
    assert order_of(db, ids["first"]).status == "on_hold"
    with db.write() as s:
        held = s.get(Order, ids["first"])
        assert held is not None
        change_status(s, held, Action.RELEASE, SUPERVISOR)
    create_shipment(db, SHIPPER, ship, ids["first"])
    (booking,) = app.state.bookings()
    assert (
        live_parcels(db, ids["first"])[0].tracking_number == booking["packages"][0]["packageNumber"]
    )


def test_the_completion_note_carries_bring_s_tracking_link(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    ship = ship_settings(url).ship
    create_shipment(db, SHIPPER, ship, ids["second"])
    with db.write() as s:
        for p in s.exec(select(Parcel).where(Parcel.order_id == ids["second"])).all():
            p.label_printed_at = p.created_at
            s.add(p)
    complete_transaction(db, SHIPPER, ids["second"])
    (booking,) = app.state.bookings()
    notes = [o.payload for o in rows(db, OutboxItem, order_id=ids["second"]) if o.kind == "note"]
    assert any(
        f"https://sporing.bring.no/sporing/{booking['consignmentNumber']}" in n for n in notes
    )


def test_the_carrier_label_prints_through_cups_and_its_barcodes_decode(
    bench,
    carrier,
    cups_ready,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    settings = ship_settings(url)
    create_shipment(db, SHIPPER, settings.ship, ids["first"])
    result = print_labels(db, SHIPPER, settings, _printer(), ids["first"])
    assert result.ok, result.message
    assert all(p.label_printed_at for p in live_parcels(db, ids["first"]))
    printed = pages(find_pdf(result.cups_job_id).read_bytes())
    numbers = [p.sscc for p in live_parcels(db, ids["first"])]
    decoded = [c.text for page in printed for c in page.codes() if c.symbology_identifier == "]C1"]
    assert decoded == [f"(00){n}" for n in numbers]
    # A reprint is made from the kept label: Bring is not asked again. (Through reprint_job on
    # SQLite only: its lookup of the job's record uses SQLite's json_extract.)
    asked = len(app.state.received)
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    (doc,) = label_documents(db, shipment.id)
    if db.is_sqlite:
        doc, _ = reprint_job(db, result.print_job_id or 0, settings)
    assert doc.data.startswith(b"%PDF") and len(app.state.received) == asked
    assert ("PageSize", "Custom.100x190mm") in doc.options
    assert doc.spec["kind"] == "carrier_label" and doc.spec["shipment"] == shipment.id


def _printer():  # type: ignore[no-untyped-def]
    from packbench.printing.cups import CupsPrinter

    return CupsPrinter()


# --------------------------------------------------------------------------- kill -9

_CHILD = """
import sys
from packbench.data.engine import create_database
from packbench.operations.shipping import create_shipment
from tests.operations.test_carrier_booking import SHIPPER, ship_settings
db = create_database(sys.argv[1])
print("booking", flush=True)
create_shipment(db, SHIPPER, ship_settings(sys.argv[2]).ship, int(sys.argv[3]))
print("booked", flush=True)
"""


@pytest.mark.sqlite_only
@pytest.mark.parametrize("when", ["before the carrier acts", "after the carrier booked"])
def test_kill_9_mid_booking_then_restart_books_exactly_once(
    tmp_path: Path, carrier, when: str
) -> None:  # type: ignore[no-untyped-def]
    url, app = carrier
    db, path = bench_file(tmp_path)
    ids = packed_pair(db, phone=False)
    key = "latency_ms" if when == "before the carrier acts" else "answer_latency_ms"
    app.faults.update({key: 3000})

    def requested() -> bool:  # the request is committed, the call under way (or carried out)
        if when == "after the carrier booked":
            under_way = bool(app.state.bookings())
        else:
            posted = any(r["method"] == "POST" for r in app.state.received)
            under_way = posted or bool(rows(db, Shipment, booking_state="requested"))
        if under_way:
            (shipment,) = rows(db, Shipment, order_id=ids["first"])
            assert shipment.booking_state == "requested"
        return under_way

    kill_9_when(_CHILD, [str(path), url, str(ids["first"])], requested)
    app.faults.update({key: 0})
    time.sleep(3.2)  # let a request the killed process sent reach the carrier, or not
    booked_before = len(app.state.bookings())
    # The restart: the packer scans the slip again.
    create_shipment(db, SHIPPER, ship_settings(url).ship, ids["first"])
    bookings = app.state.bookings()
    assert len(bookings) == 1, f"{len(bookings)} bookings (before the restart: {booked_before})"
    numbers = [p.tracking_number for p in live_parcels(db, ids["first"])]
    assert numbers == [p["packageNumber"] for p in bookings[0]["packages"]]
    (shipment,) = [s for s in rows(db, Shipment, order_id=ids["first"]) if s.status != "cancelled"]
    assert shipment.booking_state == "booked"
    assert shipment.consignment_number == bookings[0]["consignmentNumber"]
    with db.read() as s:
        resumed = s.exec(
            select(Event).where(Event.kind == "booking_resumed").order_by(col(Event.id))
        ).all()
    assert len(resumed) == 1


def test_the_demo_bench_books_its_home_deliveries_with_the_demo_carrier(
    demo_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``packbench demo`` sets up: the demo carrier, and Posten Norgespakke → Bring 5600."""
    from packbench.carriers.demo_carrier import configure_demo
    from packbench.config import load_settings

    # configure_demo sets the demo's credentials in this process; undone after the test.
    monkeypatch.setenv("PACKBENCH_BRING_UID", "placeholder")
    monkeypatch.setenv("PACKBENCH_BRING_KEY", "placeholder")
    app = create_app(tmp_path / "carrier.json")
    url, stop = run_in_thread(app)
    try:
        settings = configure_demo(load_settings(None, db="unused.db"), url)
        with demo_db.read() as s:
            packed = s.exec(
                select(Order.id, Order.shipping_method_id).where(Order.status == "packed")
            ).all()
        home = [oid for oid, method in packed if method == "flat_rate:3"]
        other = [oid for oid, method in packed if method == "flat_rate:4"]
        assert home, "the demo data has no packed home delivery"
        view = create_shipment(demo_db, SHIPPER, settings.ship, home[0])
        assert view.carrier == "Bring" and view.status == "shipped"
        (booking,) = app.state.bookings()
        assert booking["productId"] == "5600"
        assert [p.tracking_number for p in view.parcels] == [
            p["packageNumber"] for p in booking["packages"]
        ]
        if other:  # PostNord stays the built-in carrier: the bench's own S10 numbers
            assert create_shipment(demo_db, SHIPPER, settings.ship, other[0]).carrier == "PostNord"
            assert len(app.state.bookings()) == 1
    finally:
        stop()


def test_the_same_station_books_through_cargonizer(bench, carrier, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from packbench.carriers.demo_carrier import DEFAULT_CARGONIZER_KEY, DEFAULT_CARGONIZER_SENDER

    db, ids = bench
    url, app = carrier
    monkeypatch.setenv("PACKBENCH_CARGONIZER_KEY", DEFAULT_CARGONIZER_KEY)
    monkeypatch.setenv("PACKBENCH_CARGONIZER_SENDER", DEFAULT_CARGONIZER_SENDER)
    base = ship_settings(url)
    ship = base.ship.model_copy(
        update={
            "carriers": {
                "Cargonizer": base.ship.carriers["Bring"].model_copy(
                    update={
                        "kind": "cargonizer",
                        "api_url": url + "/cargonizer",
                        "transport_agreement": "1",
                    }
                )
            },
            "methods": {
                "flat_rate:3": base.ship.methods["flat_rate:3"].model_copy(
                    update={"carrier": "Cargonizer", "product": "bring2_home_delivery_parcel"}
                )
            },
        }
    )
    view = create_shipment(db, SHIPPER, ship, ids["first"])
    (booking,) = app.state.bookings()
    assert view.carrier == "Cargonizer" and view.consignment == booking["consignmentNumber"]
    assert booking["productId"] == "5600" and booking["reference"] == "5001"
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    (label,) = rows(db, CarrierLabel, shipment_id=shipment.id)
    assert label.data and label.data.startswith(b"%PDF")


def test_a_booking_whose_numbers_another_parcel_carries_is_held_not_lost(
    bench, carrier, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, _ = carrier
    ship = ship_settings(url).ship
    create_shipment(db, SHIPPER, ship, ids["second"])
    # A carrier that starts its numbers again (here: a fresh demo carrier) answers numbers a
    # parcel already carries: the booking is kept on the shipment and a person decides.
    fresh = create_app(tmp_path / "fresh.json")
    fresh_url, stop = run_in_thread(fresh)
    try:
        with pytest.raises(Refused) as err:
            create_shipment(db, SHIPPER, ship_settings(fresh_url).ship, ids["first"])
    finally:
        stop()
    assert "is on hold" in err.value.message and "already carries" in err.value.message
    order = order_of(db, ids["first"])
    assert order.status == "on_hold"
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    assert shipment.booking_state == "held"
    assert shipment.consignment_number == fresh.state.bookings()[0]["consignmentNumber"]
    assert all(not p.tracking_number for p in live_parcels(db, ids["first"]))


def test_a_pickup_point_product_goes_to_the_nearest_point_when_configured(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    base = ship_settings(url).ship
    base = base.model_copy(
        update={
            "carriers": {
                "Bring": base.carriers["Bring"].model_copy(update={"pickup_point": "carrier"})
            }
        }
    )
    # "carrier": the carrier chooses, no pickup point is sent.
    create_shipment(db, SHIPPER, base, ids["second"])
    (first,) = [r for r in app.state.received if r["method"] == "POST"]
    assert "pickupPoint" not in first["body"]["consignments"][0]["parties"]
    nearest = base.model_copy(
        update={
            "carriers": {
                "Bring": base.carriers["Bring"].model_copy(update={"pickup_point": "nearest"})
            }
        }
    )
    view = create_shipment(db, SHIPPER, nearest, ids["first"])
    _, second = [r for r in app.state.received if r["method"] == "POST"]
    assert second["body"]["consignments"][0]["parties"]["pickupPoint"] == {
        "id": "701001",
        "countryCode": "NO",
    }
    assert view.pickup_point == "Kiwi Trondheim sentrum, Storgata 2, TRONDHEIM (0.4 km)"
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    assert shipment.pickup_point_id == "701001" and '"pickup_point_id": "701001"' in (
        shipment.booking_request or ""
    )
    # packbench orders --json shows it.
    from packbench.operations.orders import order_detail

    detail = order_detail(db, ids["first"])
    assert detail is not None
    assert detail.to_json()["pickup_point"] == {
        "id": "701001",
        "name": "Kiwi Trondheim sentrum, Storgata 2, TRONDHEIM (0.4 km)",
    }


def test_the_customers_own_pickup_point_is_booked_and_beats_the_nearest(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    base = ship_settings(url).ship
    nearest = base.model_copy(
        update={
            "carriers": {
                "Bring": base.carriers["Bring"].model_copy(update={"pickup_point": "nearest"})
            }
        }
    )
    with db.write() as s:  # the point the customer chose at the checkout, pulled with the order
        order = s.get(Order, ids["first"])
        assert order is not None
        order.pickup_point_id = "121531"
        s.add(order)
    from packbench.operations.orders import order_detail

    before = order_detail(db, ids["first"])
    assert before is not None and before.to_json()["pickup_point"] == {"id": "121531", "name": ""}
    view = create_shipment(db, SHIPPER, nearest, ids["first"])
    (booking,) = [r for r in app.state.received if r["method"] == "POST"]
    assert booking["body"]["consignments"][0]["parties"]["pickupPoint"] == {
        "id": "121531",
        "countryCode": "NO",
    }
    assert not [r for r in app.state.received if "pickuppoint" in r.get("path", "").lower()]
    assert view.pickup_point == "the customer's choice, point 121531"
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    assert shipment.pickup_point_id == "121531"
