# ruff: noqa: F811  (the fixtures bench and carrier come from test_carrier_booking)
"""Voiding a carrier's booking at the bench (the demo carrier over loopback, a real database):
the numbers void and kept, the label never printed again, the order packed and booked again
under a new reference that no lookup confuses with the void one; a carrier with a cancel is
called after the intent is committed, and one that refuses stops the void."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from sqlmodel import select

from packbench.carriers import CarrierShipment, Problem, Rejected
from packbench.data.models import Event, Parcel, Shipment
from packbench.operations.booking_recovery import resolve_crash_left
from packbench.operations.carrier_booking import label_documents, make_carrier
from packbench.operations.common import Actor, Refused
from packbench.operations.ship_cancel import cancel_shipment
from packbench.operations.shipment_void import _intent, void_booking, void_refusal
from packbench.operations.shipping import create_shipment, ship_scan
from tests.operations.test_carrier_booking import (  # noqa: F401
    SHIPPER,
    bench,
    carrier,
    live_parcels,
    order_of,
    rows,
    ship_settings,
)

BOSS = Actor("ship", "t-ship", 2, "Ola Sjef", "supervisor")


def settings_for(url: str, trust: bool = True):  # type: ignore[no-untyped-def]
    return ship_settings(url, trust=trust, pickup_point="carrier")


def booked(db, ship, order_id: int) -> Shipment:  # type: ignore[no-untyped-def]
    create_shipment(db, SHIPPER, ship, order_id)
    (shipment,) = [s for s in rows(db, Shipment, order_id=order_id) if s.status != "cancelled"]
    assert shipment.booking_state == "booked"
    return shipment


def references(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        r["body"]["consignments"][0]["parties"]["sender"]["reference"]
        for r in app.state.received
        if r["method"] == "POST"
    ]


def test_a_supervisor_voids_a_bring_booking_and_the_order_is_booked_again(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    settings = settings_for(url)
    first = booked(db, settings.ship, ids["first"])
    old = [(p.sscc, p.tracking_number) for p in live_parcels(db, ids["first"])]
    out = cancel_shipment(
        db, BOSS, ids["first"], "wrong box", code="CMD-CANCEL", ship=settings.ship
    )
    assert out.ok and "labels" in out.message and "are void" in out.message
    assert (
        f"Bring has no cancel in its API: cancel consignment {first.consignment_number} in "
        "Bring's own portal." in out.message
    )
    assert order_of(db, ids["first"]).status == "packed"
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    assert (shipment.status, shipment.booking_state) == ("cancelled", "void")
    void = [p for p in rows(db, Parcel, order_id=ids["first"]) if p.status == "void"]
    assert sorted((p.sscc, p.tracking_number) for p in void) == sorted(old)  # kept, never reused
    assert all(p.status == "packed" and not p.sscc for p in live_parcels(db, ids["first"]))
    kinds = [e.kind for e in rows(db, Event, order_id=ids["first"])]
    assert kinds.index("void_requested") < len(kinds) - 1
    (asked,) = rows(db, Event, order_id=ids["first"], kind="void_requested")
    assert asked.packer_id == 2 and json.loads(asked.data or "{}")["reason"] == "wrong box"
    # The void label is never printed again: not from the kept label, not by a scan.
    with pytest.raises(Refused) as err:
        label_documents(db, shipment.id)
    assert "was voided (wrong box); its labels are never printed again" in err.value.message
    rules = settings.code_rules()
    scanned = ship_scan(db, SHIPPER, old[0][0], rules, settings, None, order_id=None)  # type: ignore[arg-type]
    assert scanned is not None and not scanned.ok and "is void" in scanned.message
    assert app.state.bookings()[0]["consignmentNumber"] == first.consignment_number
    # Booked again under a new reference; voided again, the next is -3.
    again = booked(db, settings.ship, ids["first"])
    assert again.consignment_number != first.consignment_number
    cancel_shipment(db, BOSS, ids["first"], "customer changed", ship=settings.ship)
    booked(db, settings.ship, ids["first"])
    assert references(app) == ["5001", "5001-2", "5001-3"]
    assert len(app.state.bookings()) == 3


def test_a_lost_answer_after_a_void_finds_the_new_booking_not_the_void_one(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    settings = settings_for(url, trust=False)
    first = booked(db, settings.ship, ids["first"])
    cancel_shipment(db, BOSS, ids["first"], "wrong box", ship=settings.ship)
    app.faults.update({"next": ["lose"]})
    view = create_shipment(db, SHIPPER, settings.ship, ids["first"])
    _, new = app.state.bookings()
    assert view.consignment == new["consignmentNumber"] != first.consignment_number
    assert [p.tracking_number for p in live_parcels(db, ids["first"])] == [
        p["packageNumber"] for p in new["packages"]
    ]


def test_a_lookup_that_answers_the_void_consignment_holds_the_order(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    settings = settings_for(url, trust=False)
    first = booked(db, settings.ship, ids["first"])
    cancel_shipment(db, BOSS, ids["first"], "wrong box", ship=settings.ship)
    # A carrier whose search would answer the void consignment for the new reference.
    app.state.mark(lambda b: b["consignmentNumber"] == first.consignment_number,
                   reference="5001-2")  # fmt: skip
    app.faults.update({"next": ["drop"]})  # the new request is lost before it books
    with pytest.raises(Refused) as err:
        create_shipment(db, SHIPPER, settings.ship, ids["first"])
    assert "voided at the bench" in err.value.message
    assert order_of(db, ids["first"]).status == "on_hold"
    assert len(app.state.bookings()) == 1


def test_a_packer_is_told_to_fetch_a_supervisor_and_nothing_changes(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, _ = carrier
    settings = settings_for(url)
    booked(db, settings.ship, ids["first"])
    said = void_refusal(db, SHIPPER, ids["first"])
    assert said and "a supervisor voids a carrier's booking" in said
    assert void_refusal(db, BOSS, ids["first"]) is None
    for actor, reason in ((SHIPPER, "wrong box"), (BOSS, "  ")):
        with pytest.raises(Refused):
            cancel_shipment(db, actor, ids["first"], reason, ship=settings.ship)
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    assert shipment.booking_state == "booked" and order_of(db, ids["first"]).status == "shipped"
    assert all(p.status == "labelled" for p in live_parcels(db, ids["first"]))


@dataclass
class CancellingCarrier:
    """The demo carrier's Bring adapter, plus a cancel (as Cargonizer's or another carrier's
    would be): records what the database said when it was called."""

    inner: object
    db: object
    answer: Exception | None = None
    calls: list[tuple[str, str]] = field(default_factory=list)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)

    def cancel_shipment(self, shipment: CarrierShipment) -> None:
        with self.db.read() as s:  # type: ignore[attr-defined]
            state = s.exec(select(Shipment.booking_state)).all()
        self.calls.append((shipment.consignment_number, ",".join(state)))
        if self.answer is not None:
            raise self.answer


def test_a_carrier_with_a_cancel_is_called_after_the_intent_is_committed(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, _ = carrier
    settings = settings_for(url)
    first = booked(db, settings.ship, ids["first"])
    cancelling = CancellingCarrier(make_carrier(settings.ship, "Bring"), db)
    out = void_booking(db, BOSS, settings.ship, ids["first"], "wrong box",
                       factory=lambda ship, name: cancelling)  # type: ignore[arg-type,return-value]  # fmt: skip
    assert cancelling.calls == [(first.consignment_number, "voiding")]
    assert f"Bring cancelled consignment {first.consignment_number}." in out.message
    assert rows(db, Shipment, order_id=ids["first"])[0].booking_state == "void"


def test_a_carrier_that_refuses_the_cancel_stops_the_void(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, _ = carrier
    settings = settings_for(url)
    booked(db, settings.ship, ids["first"])
    cancelling = CancellingCarrier(
        make_carrier(settings.ship, "Bring"), db, Rejected([Problem("already transferred")])
    )
    with pytest.raises(Refused) as err:
        void_booking(db, BOSS, settings.ship, ids["first"], "wrong box",
                     factory=lambda ship, name: cancelling)  # type: ignore[arg-type,return-value]  # fmt: skip
    assert "refused to cancel" in err.value.message and "Nothing is void" in err.value.message
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    assert shipment.booking_state == "booked" and shipment.status != "cancelled"
    assert order_of(db, ids["first"]).status == "shipped"
    assert all(p.status == "labelled" for p in live_parcels(db, ids["first"]))
    assert rows(db, Event, order_id=ids["first"], kind="void_refused")


def test_a_void_left_half_done_by_a_crash_is_finished_at_start_up(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    settings = settings_for(url)
    first = booked(db, settings.ship, ids["first"])
    _intent(db, BOSS, ids["first"], "wrong box", "CMD-CANCEL")  # then the process dies
    assert rows(db, Shipment, order_id=ids["first"])[0].booking_state == "voiding"
    with pytest.raises(Refused):  # meanwhile its label is not printed
        label_documents(db, first.id)
    report = resolve_crash_left(db, Actor("ship", "t-ship"), settings.ship, own_terminal=True)
    assert report.voided and "may not have been told" in report.message
    assert "(wrong box)" in report.message
    (shipment,) = rows(db, Shipment, order_id=ids["first"])
    assert (shipment.status, shipment.booking_state) == ("cancelled", "void")
    assert order_of(db, ids["first"]).status == "packed"
    assert len(app.state.bookings()) == 1
