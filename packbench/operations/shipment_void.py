"""Voiding a carrier's booking at the bench (#14).

Bring has no cancel in its Booking API; Cargonizer's is not documented. Yet a label must be
taken back now and then (the wrong box, a customer who changes their mind before handover). A
**supervisor** voids it at the ship station — F10 (or ``CMD-CANCEL``), a reason, and a
confirmation — because a booking left at a carrier without a cancel API is something a person
must also cancel in the carrier's own portal; a packer is told to fetch one.

1. **Intent** (one transaction): the shipment becomes ``voiding`` with a ``void_requested``
   event (who, why, the consignment). Nothing else changes yet.
2. **Call** the carrier's cancel, outside any transaction, where the adapter has one. A carrier
   that refuses (it was transferred, the credentials are wrong) stops the void: the shipment is
   ``booked`` again and nothing is void. A carrier without a cancel (Bring: ``NotSupported``),
   one that did not answer, or no adapter at all does not stop it: the message says to cancel
   consignment N in the carrier's portal.
3. **Void** (one transaction, :func:`packbench.operations.ship_cancel.cancel_in`): the parcels'
   rows become *void* and keep their numbers (never issued again), fresh *packed* parcels take
   their place, the shipment is *cancelled* with ``booking_state = void``, the order is
   *packed* again.

After that:

- the kept carrier label of a void shipment is never printed again (``label_documents``
  refuses; the print history's reprint too); a scan of a void parcel label at the ship station
  says it is void;
- the next booking of the order is sent under a new reference, the order number with a suffix
  (``5001-2`` after one void, ``5001-3`` after two), so looking that booking up by reference
  can never find the void one; and a lookup that still answers with a voided consignment
  (``voided_consignments``) is never taken as the order's booking: it is held for a person.

A process killed between 1 and 3 leaves the shipment ``voiding``; the start-up settling
(``booking_recovery``) finishes the void with the reason recorded in step 1 and says that the
carrier may not have been told.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session, col, or_, select

from packbench.carriers import (
    AuthError,
    CarrierShipment,
    LabelledParcel,
    NotFound,
    NotSupported,
    Rejected,
)
from packbench.carriers.base import CarrierError
from packbench.core.workflow import Action, OrderStatus, allowed_actions
from packbench.data.engine import Database
from packbench.data.models import Order, Parcel, Shipment
from packbench.operations.carrier_booking import CarrierFactory, make_carrier
from packbench.operations.common import (
    Actor,
    Refused,
    record_event,
    transact_logged,
)
from packbench.redact import cut

if TYPE_CHECKING:
    from packbench.config import ShipSettings
    from packbench.operations.ship_views import ShipOutcome

__all__ = [
    "booked_with_api",
    "finish_void",
    "void_booking",
    "void_label_message",
    "void_refusal",
]


@dataclass(frozen=True)
class _Intent:
    shipment_id: int
    number: str
    carrier: str
    booked: CarrierShipment


def _booked_shipment(session: Session, order_id: int) -> Shipment | None:
    return session.exec(
        select(Shipment)
        .where(
            Shipment.order_id == order_id,
            Shipment.status != "cancelled",
            col(Shipment.booking_state).in_(("booked", "voiding")),
        )
        .order_by(col(Shipment.id).desc())
    ).first()


def booked_with_api(db: Database, order_id: int) -> bool:
    """The order's live shipment was booked with a carrier's web API (so it is voided here)."""
    with db.read() as session:
        return _booked_shipment(session, order_id) is not None


def void_refusal(db: Database, actor: Actor, order_id: int) -> str | None:
    """Why ``actor`` cannot void this order's booking (asked before the reason is), or None."""
    with db.read() as session:
        shipment = _booked_shipment(session, order_id)
        order = session.get(Order, order_id)
    if shipment is None or order is None:
        return None  # not a carrier's booking: the bench's own cancel applies
    if not actor.is_supervisor:
        return (
            f"Order {order.number} is booked with {shipment.carrier} (consignment "
            f"{shipment.consignment_number or '?'}): a supervisor voids a carrier's booking. "
            "Ask one to sign in here."
        )
    return None


def void_label_message(db: Database, code: str) -> str | None:
    """What to say when ``code`` is the label of a void parcel (None when it is not)."""
    with db.read() as session:
        row = session.exec(
            select(Parcel.status, Order.number)
            .join(Order, col(Order.id) == col(Parcel.order_id))
            .where(or_(col(Parcel.sscc) == code, col(Parcel.tracking_number) == code))
        ).first()
    if row is None or row[0] != "void":
        return None
    return (
        f"Label {code} is void (order {row[1]}'s shipment was cancelled): take it off the "
        "parcel and scan the order's packing slip."
    )


def _intent(db: Database, actor: Actor, order_id: int, reason: str, code: str) -> _Intent:
    def run(session: Session) -> _Intent:
        order = session.get(Order, order_id)
        if order is None:
            raise Refused(f"There is no order {order_id}.")
        if not reason:
            raise Refused("Say why the booking is voided.", order_id=order_id)
        shipment = _booked_shipment(session, order_id)
        if shipment is None or shipment.id is None:
            raise Refused(f"Order {order.number} has no carrier booking to void.",
                          order_id=order_id)  # fmt: skip
        if not actor.is_supervisor:
            raise Refused(
                f"Order {order.number}: a supervisor voids a carrier's booking.", order_id=order_id
            )
        parcels = session.exec(
            select(Parcel)
            .where(Parcel.shipment_id == shipment.id, Parcel.status != "void")
            .order_by(col(Parcel.seq))
        ).all()
        if any(p.status == "handed_over" for p in parcels) or order.status == "handed_over":
            raise Refused(
                f"Order {order.number} was handed over to {shipment.carrier}; its booking "
                "cannot be voided here.",
                order_id=order_id,
            )
        if Action.CANCEL_SHIPMENT not in allowed_actions(order.status):
            # Checked before the carrier is told: the void itself could not be done after.
            label = OrderStatus(order.status).label.lower()
            raise Refused(f"Order {order.number} is {label}: its booking is voided while it "
                          "is shipped.", order_id=order_id)  # fmt: skip
        shipment.booking_state = "voiding"
        session.add(shipment)
        record_event(
            session, actor, "void_requested", order_id=order_id, code=code,
            message=cut(f"shipment {shipment.id}: voiding {shipment.carrier} consignment "
                        f"{shipment.consignment_number}: {reason}", 1000),
            data={"shipment": shipment.id, "consignment": shipment.consignment_number,
                  "reason": reason},
        )  # fmt: skip
        booked = CarrierShipment(
            carrier=shipment.carrier,
            service=shipment.service,
            consignment_number=shipment.consignment_number or "",
            parcels=tuple(
                LabelledParcel(p.seq, p.tracking_number or "", sscc=p.sscc or "") for p in parcels
            ),
            raw=shipment.booking_response or "",
        )
        return _Intent(shipment.id, order.number, shipment.carrier, booked)

    return transact_logged(db, actor, run, kind="ship", code=code, order_id=order_id)


def _tell_carrier(ship: ShipSettings, intent: _Intent, factory: CarrierFactory) -> str:
    """The carrier's cancel; what to tell the person. Raises CarrierError when the carrier
    refused (the void must stop); a carrier that cannot or did not answer does not stop it."""
    consignment = intent.booked.consignment_number or "?"
    portal = f"cancel consignment {consignment} in {intent.carrier}'s own portal"
    if intent.carrier not in ship.carriers:
        return f"{intent.carrier} is no longer configured: {portal}."
    try:
        carrier = factory(ship, intent.carrier)
    except Refused as exc:
        return f"{intent.carrier} could not be asked ({exc.message}): {portal}."
    try:
        carrier.cancel_shipment(intent.booked)
    except NotSupported:
        return f"{intent.carrier} has no cancel in its API: {portal}."
    except NotFound:
        return f"{intent.carrier} holds no consignment {consignment}."
    except (Rejected, AuthError):
        raise
    except CarrierError as exc:
        return f"{intent.carrier} did not answer the cancel ({exc.message}): {portal}."
    return f"{intent.carrier} cancelled consignment {consignment}."


def void_booking(
    db: Database,
    actor: Actor,
    ship: ShipSettings,
    order_id: int,
    reason: str,
    *,
    code: str = "",
    factory: CarrierFactory = make_carrier,
) -> ShipOutcome:
    """Void the order's carrier booking (see the module docstring). Refused, changing
    nothing, for a packer, an empty reason, a handed-over order or a carrier that refuses."""
    reason = reason.strip()
    intent = _intent(db, actor, order_id, reason, code)
    try:
        said = _tell_carrier(ship, intent, factory)
    except CarrierError as exc:
        why = exc.message

        def undo(session: Session) -> None:
            shipment = session.get(Shipment, intent.shipment_id)
            assert shipment is not None
            shipment.booking_state = "booked"
            session.add(shipment)
            record_event(
                session, actor, "void_refused", order_id=order_id, code=code, result="refused",
                message=cut(f"{intent.carrier} refused to cancel: {why}", 1000),
                data={"shipment": intent.shipment_id},
            )  # fmt: skip

        db.transact(undo)
        raise Refused(
            f"Order {intent.number}: {intent.carrier} refused to cancel consignment "
            f"{intent.booked.consignment_number}: {exc.message}. Nothing is void.",
            order_id=order_id,
        ) from None
    return finish_void(db, actor, order_id, reason, code=code, said=said)


def finish_void(
    db: Database, actor: Actor, order_id: int, reason: str, *, code: str = "", said: str = ""
) -> ShipOutcome:
    """Step 3: the parcels void, the order packed again, the shipment remembered as void."""
    from dataclasses import replace

    from packbench.operations.ship_cancel import cancel_in

    out = transact_logged(
        db, actor, lambda s: cancel_in(s, actor, order_id, reason, code, said=said),
        kind="ship", code=code, order_id=order_id,
    )  # fmt: skip
    return replace(out, message=f"{out.message} {said}".strip())


def settle_voiding(
    db: Database, actor: Actor, *, terminal: str | None, stale_after_s: float
) -> list[str]:
    """Voids a crash left half done (``voiding``): finished with the recorded reason; the
    carrier may not have been told. Lines for the person, one per order."""
    from packbench.operations.booking_recovery import _abandoned, _last_event

    with db.read() as session:
        found = [
            (s.order_id, s.consignment_number or "?", s.carrier, s)
            for s in session.exec(
                select(Shipment).where(
                    Shipment.booking_state == "voiding", Shipment.status != "cancelled"
                )
            ).all()
        ]
        todo = []
        for order_id, consignment, carrier, shipment in found:
            last = _last_event(session, shipment, ("void_requested",))
            if last is None or not _abandoned(
                session, shipment, terminal, stale_after_s, kinds=("void_requested",)
            ):
                continue
            reason = json.loads(last.data or "{}").get("reason") or "voided before a crash"
            todo.append((order_id, consignment, carrier, reason))
    lines = []
    for order_id, consignment, carrier, reason in todo:
        said = (
            f"The void was left half done by a crash; {carrier} may not have been told: "
            f"check consignment {consignment} in its portal."
        )
        try:
            out = finish_void(db, actor, order_id, reason, code="startup-void", said=said)
        except Refused as exc:
            lines.append(exc.message)
            continue
        lines.append(out.message)
    return lines
