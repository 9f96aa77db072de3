"""Completing the transaction at the ship station, once per order: allowed when the order is
shipped, unchanged upstream and every label printed; one transaction records it and queues, in
this order, the tracking numbers as order meta, a note for the customer and the completion
itself (keys per order and shipment, so nothing is queued twice). An order the customer
collects in the shop is handed over and completed in the same way, with a note instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlmodel import Session

from packbench.core.workflow import Action, OrderStatus, can_complete
from packbench.data.engine import Database
from packbench.data.models import Order, Parcel, Shipment
from packbench.data.types import utcnow
from packbench.operations.common import Actor, Refused, change_status, record_event, transact_logged
from packbench.operations.outbox import enqueue
from packbench.operations.ship_views import (
    ShipOutcome,
    _active_shipment,
    _live_parcels,
    _view_in,
    completion_key,
)

if TYPE_CHECKING:
    from packbench.config import ShipSettings

TRACKING_META = "_packbench_tracking"
CARRIER_META = "_packbench_carrier"
SERVICE_META = "_packbench_service"
SSCC_META = "_packbench_sscc"


def queue_tracking_if_completed(
    session: Session, order: Order, shipment: Shipment, parcels: Sequence[Parcel]
) -> None:
    if order.completed_at is not None:
        # Completed before (then cancelled and shipped again): the shop must get the new numbers.
        _queue_tracking(session, order, shipment, parcels)


def _tracking_payloads(
    order: Order, carrier: str, service: str, parcels: Sequence[Parcel], link: str | None = None
) -> tuple[dict[str, object], dict[str, object]]:
    numbers = [p.tracking_number or "" for p in parcels]
    meta = {
        TRACKING_META: ", ".join(numbers),
        CARRIER_META: carrier,
        SERVICE_META: service,
        SSCC_META: ", ".join(p.sscc or "" for p in parcels),
    }
    from packbench.carriers.s10 import DEFAULT_TRACKING_URL, TRACKING_URLS

    url = TRACKING_URLS.get(carrier, DEFAULT_TRACKING_URL)
    links = "; ".join(f"{n}: {url.format(tracking=n)}" for n in numbers)
    if link:  # the carrier's own tracking link for the consignment (#14)
        links = link
    what = f"{carrier} {service}".strip()
    note = f"Pakken er sendt med {what}. Sporing: {links}"
    return {"meta": meta}, {"note": note, "customer_note": True}


def _queue_tracking(
    session: Session, order: Order, shipment: Shipment | None, parcels: Sequence[Parcel]
) -> None:
    carrier = shipment.carrier if shipment else (parcels[0].carrier or "")
    service = shipment.service if shipment else order.shipping_method_title
    link = shipment.tracking_url if shipment else None
    meta, note = _tracking_payloads(order, carrier, service, parcels, link)
    ref = f"{order.id}-{shipment.id if shipment else 0}"
    enqueue(session, order.id, "meta", meta, f"ship-meta-{ref}")
    enqueue(session, order.id, "note", note, f"ship-note-{ref}")


def complete_transaction(
    db: Database,
    actor: Actor,
    order_id: int,
    *,
    code: str = "",
    ship: ShipSettings | None = None,
) -> ShipOutcome:
    """Record the completion and queue tracking + completion for the shop, once per order.

    A packed order the customer collects in the shop (``ship.is_pickup``) is handed to them and
    completed in the same transaction: no carrier, no label; the shop gets a note instead of
    tracking numbers.
    """

    def run(session: Session) -> ShipOutcome:
        order = session.get(Order, order_id)
        if order is None:
            raise Refused(f"There is no order {order_id}.")
        assert order.id is not None
        if (
            order.completed_at is None
            and order.status == OrderStatus.PACKED.value
            and ship is not None
            and ship.is_pickup(order.shipping_method_id)
        ):
            return _collected(session, actor, order, code)
        if order.completed_at is not None:
            view = _view_in(session, order)
            record_event(
                session,
                actor,
                "complete",
                order_id=order.id,
                code=code,
                result="info",
                message="already completed; nothing queued again",
            )
            return ShipOutcome(
                ok=True,
                kind="info",
                message=f"Order {order.number}: already completed. {view.shop_answer()}",
                code=code,
                order_id=order.id,
                view=view,
            )
        why = can_complete(order.status, completed=False, flagged=bool(order.upstream_flag))
        if why:
            raise Refused(f"Order {order.number} cannot be completed: {why}.", order_id=order.id)
        parcels = _live_parcels(session, order.id)
        if not parcels:
            raise Refused(f"Order {order.number} has no parcels.", order_id=order.id)
        unprinted = [p for p in parcels if p.label_printed_at is None]
        if unprinted:
            which = ", ".join(f"{p.seq} ({p.tracking_number or 'no number'})" for p in unprinted)
            raise Refused(
                f"Order {order.number} cannot be completed: the label of parcel {which} has not "
                "printed. F8 prints it again.",
                order_id=order.id,
            )
        _queue_tracking(session, order, _active_shipment(session, order.id), parcels)
        return _completed(
            session,
            actor,
            order,
            code,
            logged="transaction completed at the bench; queued for the shop",
            said="transaction completed.",
        )

    return transact_logged(db, actor, run, kind="complete", code=code, order_id=order_id)


def _completed(
    session: Session, actor: Actor, order: Order, code: str, *, logged: str, said: str
) -> ShipOutcome:
    """Mark the order completed and queue the completion (invoice and capture) for the shop."""
    assert order.id is not None
    now = utcnow()
    order.completed_at = now
    order.updated_at = now
    session.add(order)
    enqueue(session, order.id, "complete", {}, completion_key(order.id))
    record_event(session, actor, "complete", order_id=order.id, code=code, message=logged)
    session.flush()
    view = _view_in(session, order)
    return ShipOutcome(
        ok=True,
        message=f"Order {order.number}: {said} {view.shop_answer()}",
        code=code,
        order_id=order.id,
        view=view,
    )


def _collected(session: Session, actor: Actor, order: Order, code: str) -> ShipOutcome:
    """The customer collected the packed order in the shop: handed over and completed."""
    assert order.id is not None
    if order.upstream_flag:
        raise Refused(
            f"Order {order.number} cannot be completed: the order was changed or cancelled in "
            "the shop; a person must decide first.",
            order_id=order.id,
        )
    change_status(
        session, order, Action.COLLECT, actor, code=code, message="collected by the customer"
    )
    for parcel in _live_parcels(session, order.id):
        parcel.status = "handed_over"
        session.add(parcel)
    when = utcnow().astimezone().strftime("%d.%m.%Y %H:%M")
    enqueue(
        session,
        order.id,
        "note",
        {"note": f"Hentet i butikken {when}. Takk for handelen!", "customer_note": True},
        f"collected-note-{order.id}",
    )
    return _completed(
        session,
        actor,
        order,
        code,
        logged="collected in the shop; transaction completed, queued for the shop",
        said="collected by the customer; transaction completed.",
    )
