# ruff: noqa: F811  (the fixtures bench and carrier come from test_carrier_booking)
"""Choosing a pickup point at the ship station (the demo carrier's Pickup Point API over
loopback, a real database): an order of a pickup-point product without a point is offered the
nearest and not booked until one is chosen; the choice is stored on the order with its event
and booked; bad choices change nothing."""

from __future__ import annotations

import pytest

from packbench.carriers import PickupPoint
from packbench.config import Settings
from packbench.data.models import Event, Order, Shipment
from packbench.operations.common import Actor, Refused
from packbench.operations.orders import order_detail
from packbench.operations.pickup_points import (
    choose_pickup_point,
    needs_choice,
    offer_pickup_points,
)
from packbench.operations.shipping import create_shipment, ship_scan
from tests.operations.test_carrier_booking import (  # noqa: F401
    SHIPPER,
    bench,
    carrier,
    order_of,
    rows,
    ship_settings,
)


def with_mode(settings: Settings, mode: str | None, product: str = "5800") -> Settings:
    ship = settings.ship
    bring = ship.carriers["Bring"]
    if mode is not None:
        bring = bring.model_copy(update={"pickup_point": mode})
    method = ship.methods["flat_rate:3"].model_copy(update={"product": product})
    return settings.model_copy(
        update={
            "ship": ship.model_copy(
                update={"carriers": {"Bring": bring}, "methods": {"flat_rate:3": method}}
            )
        }
    )


def posts(app) -> list:  # type: ignore[no-untyped-def]
    return [r for r in app.state.received if r["method"] == "POST"]


def test_who_must_choose(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, _ = carrier
    base = ship_settings(url)
    assert base.ship.carriers["Bring"].pickup_point == "choose"  # the default
    assert needs_choice(db, base.ship, ids["first"])
    assert not needs_choice(db, with_mode(base, "nearest").ship, ids["first"])
    assert not needs_choice(db, with_mode(base, "carrier").ship, ids["first"])
    assert not needs_choice(db, with_mode(base, None, "5600").ship, ids["first"])  # home
    with db.write() as s:  # the customer chose at the checkout
        order = s.get(Order, ids["first"])
        assert order is not None
        order.pickup_point_id = "121531"
        s.add(order)
    assert not needs_choice(db, base.ship, ids["first"])


def test_a_slip_scan_offers_the_nearest_and_books_nothing_until_chosen(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    settings = ship_settings(url)
    out = ship_scan(db, SHIPPER, "ORD-5001", settings.code_rules(), settings, None,  # type: ignore[arg-type]
                    order_id=None)  # fmt: skip
    assert out is not None and out.ok and out.kind == "info"
    assert "choose one of the 5 nearest" in out.message
    assert [p.id for p in out.pickup_points] == [f"7010{i:02d}" for i in range(1, 6)]
    assert [p.distance_km for p in out.pickup_points] == [0.4, 1.1, 1.8, 2.5, 3.2]
    assert posts(app) == [] and order_of(db, ids["first"]).status == "packed"
    assert rows(db, Shipment, order_id=ids["first"]) == []
    # The packer takes the second; it is kept on the order with who chose it, then booked.
    second = out.pickup_points[1]
    said = choose_pickup_point(db, SHIPPER, ids["first"], second, code="pickup-point")
    assert said == f"Order 5001 goes to {second.describe()}."
    order = order_of(db, ids["first"])
    assert (order.pickup_point_id, order.pickup_point_name) == ("701002", second.describe())
    (event,) = rows(db, Event, order_id=ids["first"], kind="pickup_point_chosen")
    assert (event.packer_id, event.station, event.terminal) == (1, "ship", "t-ship")
    assert '"id": "701002"' in (event.data or "")
    assert not needs_choice(db, settings.ship, ids["first"])  # a second scan books at once
    view = create_shipment(db, SHIPPER, settings.ship, ids["first"])
    (booking,) = posts(app)
    assert booking["body"]["consignments"][0]["parties"]["pickupPoint"] == {
        "id": "701002",
        "countryCode": "NO",
    }
    assert view.status == "shipped" and view.pickup_point == second.describe()
    detail = order_detail(db, ids["first"])
    assert detail is not None
    assert detail.to_json()["pickup_point"] == {"id": "701002", "name": second.describe()}


def test_without_a_person_to_ask_the_nearest_is_booked(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    view = create_shipment(db, SHIPPER, ship_settings(url).ship, ids["first"])  # packbench ship
    (booking,) = posts(app)
    assert booking["body"]["consignments"][0]["parties"]["pickupPoint"]["id"] == "701001"
    assert view.pickup_point and view.pickup_point.startswith("Kiwi")


def test_bad_choices_change_nothing(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, _ = carrier
    settings = ship_settings(url)
    point = offer_pickup_points(db, settings.ship, ids["first"])[0]
    for actor, pid, words in [
        (Actor("ship", "t-ship"), point.id, "Sign in first"),
        (SHIPPER, "", "is not a pickup point id"),
        (SHIPPER, "x" * 41, "is not a pickup point id"),
    ]:
        with pytest.raises(Refused) as err:
            choose_pickup_point(db, actor, ids["first"], PickupPoint(pid, "Somewhere"))
        assert words in err.value.message
    assert order_of(db, ids["first"]).pickup_point_id == ""
    create_shipment(db, SHIPPER, with_mode(settings, "carrier").ship, ids["second"])
    with pytest.raises(Refused) as err:  # shipped: too late to choose
        choose_pickup_point(db, SHIPPER, ids["second"], point)
    assert "is shipped" in err.value.message
    assert order_of(db, ids["second"]).pickup_point_id == ""
    assert rows(db, Event, kind="pickup_point_chosen") == []


def test_a_carrier_that_cannot_list_points_says_so_and_books_nothing(bench, carrier) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    url, app = carrier
    settings = ship_settings(url)
    app.faults.update({"next": ["500"] * 4})  # every attempt, with back-off (3.5 s)
    out = ship_scan(db, SHIPPER, "ORD-5001", settings.code_rules(), settings, None,  # type: ignore[arg-type]
                    order_id=None)  # fmt: skip
    assert out is not None and not out.ok and out.kind == "error"
    assert "could not list pickup points near 7010" in out.message
    assert "nothing is booked" in out.message
    assert posts(app) == [] and order_of(db, ids["first"]).status == "packed"
