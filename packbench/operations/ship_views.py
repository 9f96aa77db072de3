"""What the ship station shows: one order's shipment, parcels and where its completion stands
in the shop (``ShipView``), what a scan or key did (``ShipOutcome``), and the reads behind them
and behind its queues (ready to ship, for the customer to collect, the next to ship).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from packbench.carriers import PickupPoint
from packbench.core.workflow import OrderStatus
from packbench.data.engine import Database
from packbench.data.models import Order, OutboxItem, Parcel, Shipment
from packbench.operations.outbox import sync_health
from packbench.operations.printing import PrintResult

if TYPE_CHECKING:
    from packbench.config import ShipSettings


@dataclass(frozen=True)
class ShipParcel:
    id: int
    seq: int
    box_code: str | None
    weight_g: int
    sscc: str | None
    tracking_number: str | None
    status: str
    label_printed_at: datetime | None


@dataclass(frozen=True)
class ShipView:
    """One order as the ship station shows it."""

    order_id: int
    number: str
    status: str
    flag: str | None
    shipping_method: str
    recipient: str
    shipment_id: int | None
    carrier: str | None
    service: str | None
    parcels: tuple[ShipParcel, ...]
    completed_at: datetime | None
    invoice_number: str | None
    payment_status: str
    #: Where the completion stands in the shop: none | queued | retrying | parked | done.
    shop_state: str
    shop_error: str | None
    #: A carrier's web API (#14): its product, the consignment, the booking's state and error.
    product: str = ""
    consignment: str | None = None
    booking_state: str = ""
    booking_error: str | None = None
    pickup_point: str | None = None  # where the customer collects it: "Kiwi …, Storgata 2 (0.4 km)"

    @property
    def labels_printed(self) -> bool:
        return bool(self.parcels) and all(p.label_printed_at for p in self.parcels)

    @property
    def unprinted(self) -> tuple[ShipParcel, ...]:
        return tuple(p for p in self.parcels if p.label_printed_at is None)

    def shop_answer(self) -> str:
        """One line on the completion: the shop's answer, or that it will come by itself."""
        if self.completed_at is None:
            return "Transaction not completed yet."
        if self.shop_state == "done":
            captured = (
                "payment captured"
                if self.payment_status == "captured"
                else (f"payment {self.payment_status}")
            )
            return f"Transaction completed: invoice {self.invoice_number or '—'}, {captured}."
        if self.shop_state == "parked":
            return (
                f"The shop refused the completion ({self.shop_error or 'no reason given'}); "
                "a supervisor must look at it in the outbox."
            )
        if self.shop_state == "retrying":
            return (
                "Completion queued — the shop did not answer "
                f"({self.shop_error}); it will complete by itself."
            )
        return "Completion queued — it will complete by itself when the shop has answered."


@dataclass(frozen=True)
class ShipOutcome:
    """What a ship station scan or key did. ``ok`` False: refused (or a print that failed)."""

    ok: bool
    message: str
    code: str
    order_id: int | None = None
    view: ShipView | None = None
    printed: PrintResult | None = None
    #: The screen should ask for a reason and then cancel (CMD-CANCEL was scanned).
    ask_cancel: bool = False
    kind: str = "ok"  # ok | error | info: how the feedback line shows it
    #: The packer chooses one of these before the order is booked (operations.pickup_points).
    pickup_points: tuple[PickupPoint, ...] = ()


def _active_shipment(session: Session, order_id: int) -> Shipment | None:
    return session.exec(
        select(Shipment)
        .where(Shipment.order_id == order_id, Shipment.status != "cancelled")
        .order_by(col(Shipment.id).desc())
    ).first()


def _live_parcels(session: Session, order_id: int) -> list[Parcel]:
    return list(
        session.exec(
            select(Parcel)
            .where(Parcel.order_id == order_id, Parcel.status != "void")
            .order_by(col(Parcel.seq))
        ).all()
    )


def _completion_item(session: Session, order_id: int) -> OutboxItem | None:
    return session.exec(
        select(OutboxItem).where(OutboxItem.idempotency_key == completion_key(order_id))
    ).first()


def completion_key(order_id: int) -> str:
    return f"complete-{order_id}"


def _view_in(session: Session, order: Order) -> ShipView:
    assert order.id is not None
    shipment = _active_shipment(session, order.id)
    parcels = tuple(
        ShipParcel(
            id=p.id or 0,
            seq=p.seq,
            box_code=p.box_code,
            weight_g=p.weight_g,
            sscc=p.sscc,
            tracking_number=p.tracking_number,
            status=p.status,
            label_printed_at=p.label_printed_at,
        )
        for p in _live_parcels(session, order.id)
    )
    item = _completion_item(session, order.id)
    state, error = "none", None
    if item is not None:
        error = item.last_error
        if item.status == "done":
            state = "done"
        elif item.status in ("parked", "discarded"):
            state = "parked"
        else:
            # The order's changes go to the shop in order: an earlier one (the tracking meta)
            # failing holds the completion back, so its error is the completion's news too.
            failing = session.exec(
                select(OutboxItem.last_error).where(
                    OutboxItem.order_id == order.id,
                    OutboxItem.status == "pending",
                    col(OutboxItem.last_error).is_not(None),
                )
            ).first()
            state, error = ("retrying", failing) if failing else ("queued", None)
    carrier = shipment.carrier if shipment else None
    if carrier is None:  # shipped before shipments were recorded (the demo data)
        carrier = next((p.carrier for p in _live_parcels(session, order.id) if p.carrier), None)
    return ShipView(
        order_id=order.id,
        number=order.number,
        status=order.status,
        flag=order.upstream_flag,
        shipping_method=order.shipping_method_title or order.shipping_method_id,
        recipient=", ".join(
            x for x in (order.ship_name, order.ship_postcode + " " + order.ship_city) if x.strip()
        ),
        shipment_id=shipment.id if shipment else None,
        carrier=carrier,
        service=shipment.service if shipment else None,
        parcels=parcels,
        completed_at=order.completed_at,
        invoice_number=order.invoice_number,
        payment_status=order.payment_status,
        shop_state=state,
        shop_error=error,
        product=shipment.product if shipment else "",
        consignment=shipment.consignment_number if shipment else None,
        booking_state=shipment.booking_state if shipment else "",
        booking_error=shipment.booking_error if shipment else None,
        pickup_point=shipment.pickup_point_name if shipment else None,
    )


def ship_view(db: Database, order_id: int) -> ShipView | None:
    with db.read() as session:
        order = session.get(Order, order_id)
        view = _view_in(session, order) if order is not None else None
    if view is not None and view.shop_state == "queued":
        # Nothing of this order tried yet: the sync may not get as far as pushing (the shop is
        # down for its pull too), which its health says.
        health = sync_health(db)
        if health.last_error and (
            health.last_ok_at is None
            or (health.last_error_at is not None and health.last_error_at >= health.last_ok_at)
        ):
            view = replace(view, shop_state="retrying", shop_error=health.last_error)
    return view


def ready_to_ship(db: Database, limit: int = 50) -> list[tuple[int, str]]:
    """Packed orders waiting for the ship station, oldest first: (id, number)."""
    with db.read() as session:
        return [
            (oid or 0, number)
            for oid, number in session.exec(
                select(Order.id, Order.number)
                .where(Order.status == OrderStatus.PACKED.value, col(Order.upstream_flag).is_(None))
                .order_by(col(Order.created_at), col(Order.id))
                .limit(limit)
            ).all()
        ]


def ready_queues(
    db: Database, ship: ShipSettings, limit: int = 50
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Packed orders, oldest first: (to ship with a carrier, for the customer to collect)."""
    with db.read() as session:
        rows = session.exec(
            select(Order.id, Order.number, Order.shipping_method_id)
            .where(Order.status == OrderStatus.PACKED.value, col(Order.upstream_flag).is_(None))
            .order_by(col(Order.created_at), col(Order.id))
        ).all()
    to_ship = [(oid or 0, n) for oid, n, m in rows if not ship.is_pickup(m)]
    pickup = [(oid or 0, n) for oid, n, m in rows if ship.is_pickup(m)]
    return to_ship[:limit], pickup[:limit]


def next_to_ship(db: Database, ship: ShipSettings) -> int | None:
    """The oldest packed order the station can ship (its method has a carrier), or None."""
    with db.read() as session:
        rows = session.exec(
            select(Order.id, Order.shipping_method_id, Order.created_at).where(
                Order.status == OrderStatus.PACKED.value, col(Order.upstream_flag).is_(None)
            )
        ).all()
    shippable = [(at, oid) for oid, method, at in rows if method in ship.methods]
    return min(shippable)[1] if shippable else None


def _method_of(db: Database, order_id: int) -> str | None:
    with db.read() as session:
        return session.exec(select(Order.shipping_method_id).where(Order.id == order_id)).first()
