"""Cancelling a shipment before handover, with a reason: the parcels' rows become *void* and
keep their numbers (never issued again), fresh *packed* parcels take their place with the same
box, size, weight and contents, and the order goes back to *packed*. A booking with a carrier's
web API is voided through ``operations.shipment_void``, which calls ``cancel_in`` for the last
step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from packbench.core.workflow import Action, OrderStatus
from packbench.data.engine import Database
from packbench.data.models import HandoverParcel, Order, Parcel, ParcelItem
from packbench.data.types import utcnow
from packbench.operations.common import Actor, Refused, change_status, record_event, transact_logged
from packbench.operations.outbox import enqueue
from packbench.operations.ship_views import ShipOutcome, _active_shipment, _live_parcels, _view_in
from packbench.operations.shipment_void import booked_with_api, void_booking

if TYPE_CHECKING:
    from packbench.config import ShipSettings


def cancel_shipment(
    db: Database,
    actor: Actor,
    order_id: int,
    reason: str,
    *,
    code: str = "",
    ship: ShipSettings | None = None,
) -> ShipOutcome:
    """Cancel the order's shipment before handover: numbers voided (never reused), parcels back
    to packed as fresh rows, the order back to packed. A booking with a carrier's web API is
    voided through ``operations.shipment_void`` (the carrier told, or the void remembered)."""
    reason = reason.strip()
    if ship is not None and booked_with_api(db, order_id):
        return void_booking(db, actor, ship, order_id, reason, code=code)
    return transact_logged(
        db,
        actor,
        lambda session: cancel_in(session, actor, order_id, reason, code),
        kind="ship",
        code=code,
        order_id=order_id,
    )


def cancel_in(
    session: Session, actor: Actor, order_id: int, reason: str, code: str, *, said: str = ""
) -> ShipOutcome:
    """The cancel itself, inside the caller's transaction (``said``: what the carrier said)."""
    order = session.get(Order, order_id)
    if order is None:
        raise Refused(f"There is no order {order_id}.")
    assert order.id is not None
    if not reason:
        raise Refused("Say why the shipment is cancelled.", order_id=order.id)
    shipment = _active_shipment(session, order.id)
    parcels = [p for p in _live_parcels(session, order.id) if p.tracking_number]
    if shipment is None and not parcels:
        raise Refused(f"Order {order.number} has no shipment to cancel.", order_id=order.id)
    gone = [p for p in parcels if p.status == "handed_over"]
    if gone or order.status == OrderStatus.HANDED_OVER.value:
        raise Refused(
            f"Order {order.number} was handed over to the carrier; its shipment cannot be "
            "cancelled here.",
            order_id=order.id,
        )
    voided: list[dict[str, Any]] = []
    for parcel in parcels:
        assert parcel.id is not None
        for hp in session.exec(
            select(HandoverParcel).where(HandoverParcel.parcel_id == parcel.id)
        ).all():
            session.delete(hp)  # out of the carrier's cage again
        seq = parcel.seq
        parcel.status = "void"
        parcel.seq = -parcel.id  # its place n-of-m goes to the parcel that replaces it
        session.add(parcel)
        session.flush()
        fresh = Parcel(
            order_id=order.id,
            seq=seq,
            box_code=parcel.box_code,
            length_mm=parcel.length_mm,
            width_mm=parcel.width_mm,
            height_mm=parcel.height_mm,
            weight_g=parcel.weight_g,
            status="packed",
        )
        session.add(fresh)
        session.flush()
        for item in session.exec(select(ParcelItem).where(ParcelItem.parcel_id == parcel.id)).all():
            item.parcel_id = fresh.id or 0
            session.add(item)
        voided.append({"seq": seq, "sscc": parcel.sscc, "tracking": parcel.tracking_number})
    if shipment is not None:
        shipment.status = "cancelled"
        shipment.cancelled_at = utcnow()
        shipment.cancel_reason = reason[:500]
        if shipment.booking_state in ("booked", "voiding"):
            shipment.booking_state = "void"  # remembered: a lookup never brings it back
        session.add(shipment)
    change_status(
        session,
        order,
        Action.CANCEL_SHIPMENT,
        actor,
        code=code,
        reason=reason,
        message=f"shipment cancelled: {reason}",
    )
    numbers = ", ".join(v["tracking"] or "" for v in voided)
    record_event(
        session,
        actor,
        "ship",
        order_id=order.id,
        code=code,
        message=f"shipment cancelled ({reason}); void: {numbers}" + (f"; {said}" if said else ""),
        data={
            "shipment": shipment.id if shipment else None,
            "void": voided,
            "consignment": shipment.consignment_number if shipment else None,
        },
    )
    if order.completed_at is not None:
        enqueue(
            session,
            order.id,
            "note",
            {"note": f"Sendingen ble kansellert ({reason}); {numbers} gjelder ikke."},
            f"ship-cancel-{order.id}-{shipment.id if shipment else 0}",
        )
    session.flush()
    return ShipOutcome(
        ok=True,
        message=(
            f"Order {order.number}: shipment cancelled ({reason}); labels {numbers} are void "
            "and never used again. The order is packed again."
        ),
        code=code,
        order_id=order.id,
        view=_view_in(session, order),
    )
