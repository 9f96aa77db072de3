"""Choosing a pickup point at the ship station (#14).

When an order's shipping method is a carrier's pickup-point product (Bring 5800) and the order
carries no point from the checkout, the ship station does not book at once: it asks the
carrier's Pickup Point API for the nearest points to the recipient's postcode (outside any
transaction, in the scan worker) and offers them; the packer chooses with the arrow keys and
Enter, or types the number. :func:`choose_pickup_point` then stores the choice on the order in
one transaction with a ``pickup_point_chosen`` event (who, where), and the booking sends it.

This is ``[ship.carriers.X] pickup_point = "choose"`` (the default). ``"nearest"`` books the
nearest without asking, ``"carrier"`` leaves the choice to the carrier; a booking with nobody
to ask (``packbench ship``, pack-and-ship at the pack station) takes the nearest under
``"choose"`` too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session

from packbench.carriers import CarrierError, PickupPoint
from packbench.core.workflow import OrderStatus
from packbench.data.engine import Database
from packbench.data.models import Order
from packbench.operations.carrier_booking import CarrierFactory, is_api_carrier, make_carrier
from packbench.operations.common import Actor, Refused, record_event, transact_logged

if TYPE_CHECKING:
    from packbench.config import ShipSettings
    from packbench.operations.ship_views import ShipOutcome

__all__ = [
    "OFFERED",
    "ask_for_pickup_point",
    "choose_pickup_point",
    "needs_choice",
    "offer_pickup_points",
]

#: How many of the nearest points the packer is offered.
OFFERED = 5


def needs_choice(
    db: Database, ship: ShipSettings, order_id: int, *, factory: CarrierFactory = make_carrier
) -> bool:
    """The packer must choose: a packed order, a pickup-point product of a carrier's web API
    configured to ``choose``, and no point on the order yet."""
    with db.read() as session:
        order = session.get(Order, order_id)
        if order is None or order.status != OrderStatus.PACKED.value or order.pickup_point_id:
            return False
        method_id = order.shipping_method_id
    if not is_api_carrier(ship, method_id):
        return False
    method = ship.methods[method_id]
    if getattr(ship.carriers[method.carrier], "pickup_point", "carrier") != "choose":
        return False
    try:
        carrier = factory(ship, method.carrier)
    except Refused:
        return False  # the booking says what is missing (credentials), in its own words
    wanted = (method.product or method.service).strip().upper()
    return any(p.id.upper() == wanted and p.pickup_point for p in carrier.products())


def offer_pickup_points(
    db: Database,
    ship: ShipSettings,
    order_id: int,
    *,
    factory: CarrierFactory = make_carrier,
    limit: int = OFFERED,
) -> tuple[PickupPoint, ...]:
    """The nearest points to the order's recipient, nearest first (a network call: never
    inside a transaction). Refused with a line for the packer when the carrier cannot say."""
    with db.read() as session:
        order = session.get(Order, order_id)
        if order is None:
            raise Refused(f"There is no order {order_id}.")
        number, postcode = order.number, order.ship_postcode
        country, street = order.ship_country or "NO", order.ship_address1
        method = ship.methods[order.shipping_method_id]
    carrier = factory(ship, method.carrier)
    try:
        return carrier.pickup_points(postcode, country, street=street, limit=limit)
    except CarrierError as exc:
        raise Refused(
            f"Order {number}: {method.carrier} could not list pickup points near {postcode} "
            f"({exc.message}); nothing is booked. Scan the slip again to retry.",
            order_id=order_id,
        ) from None


def choose_pickup_point(
    db: Database, actor: Actor, order_id: int, point: PickupPoint, *, code: str = ""
) -> str:
    """Store the packer's choice on the order (one transaction, with its event); the line
    to show. Refused, changing nothing, for an order that is not packed or a bad point."""
    point_id = point.id.strip()
    name = point.describe().strip()

    def run(session: Session) -> str:
        order = session.get(Order, order_id)
        if order is None:
            raise Refused(f"There is no order {order_id}.")
        if not actor.signed_in:
            raise Refused("Sign in first: the choice is kept under your name.", order_id=order_id)
        if order.status != OrderStatus.PACKED.value:
            label = OrderStatus(order.status).label.lower()
            raise Refused(
                f"Order {order.number} is {label}: its pickup point is chosen before it ships.",
                order_id=order_id,
            )
        if not point_id or len(point_id) > 40 or not point_id.isprintable():
            raise Refused(f"Order {order.number}: {point_id[:60]!r} is not a pickup point id.",
                          order_id=order_id)  # fmt: skip
        before = order.pickup_point_id
        order.pickup_point_id = point_id
        order.pickup_point_name = name[:200]
        session.add(order)
        record_event(
            session, actor, "pickup_point_chosen", order_id=order_id, code=code,
            message=f"pickup point {point_id} chosen: {name}"[:1000],
            data={"id": point_id, "name": name, "before": before or None,
                  "distance_km": point.distance_km},
        )  # fmt: skip
        return f"Order {order.number} goes to {name}."

    return transact_logged(db, actor, run, kind="ship", code=code, order_id=order_id)


def ask_for_pickup_point(
    db: Database, ship: ShipSettings, order_id: int, code: str
) -> ShipOutcome | None:
    """At the ship station, before a packed order is booked: None when no choice is needed,
    else the outcome that offers the nearest points (or says why they cannot be had)."""
    from packbench.operations.ship_views import ShipOutcome, ship_view

    if not needs_choice(db, ship, order_id):
        return None
    try:
        points = offer_pickup_points(db, ship, order_id)
    except Refused as exc:
        return ShipOutcome(False, exc.message, code, order_id, ship_view(db, order_id),
                           kind="error")  # fmt: skip
    view = ship_view(db, order_id)
    assert view is not None
    if not points:  # nowhere to choose from: the carrier decides, as without a choice
        return None
    return ShipOutcome(
        True,
        f"Order {view.number} goes to a pickup point and carries none: choose one of the "
        f"{len(points)} nearest (↑/↓ and Enter, or its number and Enter; Esc books nothing).",
        code,
        order_id,
        view,
        kind="info",
        pickup_points=points,
    )
