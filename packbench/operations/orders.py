"""Reading orders: the overview, the queues, one order in full. Reads only; no events."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from packbench.core.workflow import OrderStatus
from packbench.data.engine import Database
from packbench.data.models import Event, Order, OrderLine, Packer, Parcel, Product, Shipment
from packbench.operations.views import (
    Address,
    OrderDetail,
    OrderSummary,
    WaitingParcel,
    event_of,
    line_of,
    parcel_of,
    summary_of,
)

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

DEFAULT_LIMIT = 500


def _summaries(session: Session, orders: Sequence[Order]) -> list[OrderSummary]:
    if not orders:
        return []
    ids = [o.id for o in orders]
    rows = session.exec(
        select(OrderLine.order_id, func.count(), func.coalesce(func.sum(OrderLine.quantity), 0))
        .where(col(OrderLine.order_id).in_(ids))
        .group_by(col(OrderLine.order_id))
    ).all()
    per_order = {oid: (n, units) for oid, n, units in rows}
    return [summary_of(o, *per_order.get(o.id or 0, (0, 0))) for o in orders]


def _search_clause(text: str) -> ColumnElement[bool]:
    like = f"%{text.strip()}%"
    return or_(
        col(Order.number).ilike(like),
        col(Order.ship_name).ilike(like),
        col(Order.bill_name).ilike(like),
        col(Order.ship_city).ilike(like),
        col(Order.ship_postcode).ilike(like),
        col(Order.customer_email).ilike(like),
        col(Order.id).in_(
            select(OrderLine.order_id).where(
                or_(col(OrderLine.sku).ilike(like), col(OrderLine.name).ilike(like))
            )
        ),
    )


def list_orders(
    db: Database,
    *,
    statuses: Iterable[str] | None = None,
    search: str | None = None,
    oldest_first: bool = False,
    limit: int = DEFAULT_LIMIT,
) -> list[OrderSummary]:
    """The order overview: newest first, filtered by status and a free-text search."""
    with db.read() as session:
        query = select(Order)
        wanted = [OrderStatus(s).value for s in statuses] if statuses else []
        if wanted:
            query = query.where(col(Order.status).in_(wanted))
        if search and search.strip():
            query = query.where(_search_clause(search))
        order_by = col(Order.created_at).asc() if oldest_first else col(Order.created_at).desc()
        query = query.order_by(order_by, col(Order.id)).limit(limit)
        return _summaries(session, session.exec(query).all())


def status_counts(db: Database) -> dict[str, int]:
    with db.read() as session:
        rows = session.exec(select(Order.status, func.count()).group_by(Order.status)).all()
    counts = {s.value: 0 for s in OrderStatus}
    counts.update({status: n for status, n in rows})
    return counts


def slip_queue(db: Database, *, limit: int = DEFAULT_LIMIT) -> list[OrderSummary]:
    """Orders waiting for a packing slip, oldest first: the admin station's first job."""
    return list_orders(db, statuses=[OrderStatus.NEW], oldest_first=True, limit=limit)


def find_order_id(
    session: Session, *, number: str | None = None, code: str | None = None
) -> int | None:
    """The order with this number, or the order of the parcel with this SSCC/tracking number."""
    if number is not None:
        return session.exec(select(Order.id).where(Order.number == number)).first()
    if code is not None:
        return session.exec(
            select(Parcel.order_id).where(
                or_(col(Parcel.sscc) == code, col(Parcel.tracking_number) == code)
            )
        ).first()
    return None


def order_detail(db: Database, order_id: int, *, event_limit: int = 200) -> OrderDetail | None:
    with db.read() as session:
        return detail_in(session, order_id, event_limit=event_limit)


def detail_in(session: Session, order_id: int, *, event_limit: int = 200) -> OrderDetail | None:
    order = session.get(Order, order_id)
    if order is None:
        return None
    line_rows = session.exec(
        select(OrderLine, Product)
        .join(Product, col(OrderLine.product_id) == col(Product.id), isouter=True)
        .where(OrderLine.order_id == order_id)
        .order_by(col(OrderLine.line_no))
    ).all()
    lines = tuple(line_of(line, product) for line, product in line_rows)
    shipments = {
        s.id: s for s in session.exec(select(Shipment).where(Shipment.order_id == order_id)).all()
    }
    parcels = tuple(
        parcel_of(
            p, shipments[p.shipment_id].consignment_number if p.shipment_id in shipments else None
        )
        for p in session.exec(
            select(Parcel).where(Parcel.order_id == order_id).order_by(col(Parcel.seq))
        ).all()
    )
    booked_to = [
        s for s in shipments.values() if s.status != "cancelled" and s.pickup_point_id
    ]  # #14: the pickup point the order is booked to
    pickup_point = (
        {"id": booked_to[-1].pickup_point_id or "", "name": booked_to[-1].pickup_point_name or ""}
        if booked_to
        # the customer's choice (or the packer's), not booked yet
        else {"id": order.pickup_point_id, "name": order.pickup_point_name}
        if order.pickup_point_id
        else None
    )
    event_rows = session.exec(
        select(Event, Packer)
        .join(Packer, col(Event.packer_id) == col(Packer.id), isouter=True)
        .where(Event.order_id == order_id)
        .order_by(col(Event.at).desc(), col(Event.id).desc())
        .limit(event_limit)
    ).all()
    events = tuple(event_of(e, p) for e, p in event_rows)
    summary = summary_of(order, len(lines), sum(ln.quantity for ln in lines))
    return OrderDetail(
        summary=summary,
        shipping=Address(
            name=order.ship_name,
            company=order.ship_company,
            address1=order.ship_address1,
            address2=order.ship_address2,
            postcode=order.ship_postcode,
            city=order.ship_city,
            country=order.ship_country,
        ),
        email=order.customer_email,
        phone=order.customer_phone,
        payment_method=order.payment_method_title or order.payment_method,
        payment_status=order.payment_status,
        total_ore=order.total_ore,
        shipping_ore=order.shipping_ore,
        currency=order.currency,
        customer_note=order.customer_note,
        paid_at=order.paid_at,
        completed_at=order.completed_at,
        invoice_number=order.invoice_number,
        lines=lines,
        parcels=parcels,
        events=events,
        shipping_method_id=order.shipping_method_id,
        pickup_point=pickup_point,
        payment_reference=order.payment_reference,
    )


def export_orders(db: Database, *, statuses: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Every order (filtered by status) in full, for ``packbench orders --json``."""
    with db.read() as session:
        query = select(col(Order.id)).order_by(col(Order.created_at), col(Order.id))
        wanted = [OrderStatus(s).value for s in statuses] if statuses else []
        if wanted:
            query = query.where(col(Order.status).in_(wanted))
        out = []
        for order_id in session.exec(query).all():
            if order_id is None:  # a primary key: never, but the column is typed optional
                continue
            detail = detail_in(session, order_id, event_limit=0)
            assert detail is not None
            out.append(detail.to_json())
        return out


def parcels_awaiting_handover(db: Database) -> list[WaitingParcel]:
    """Labelled parcels not yet handed over, grouped by carrier, oldest first."""
    with db.read() as session:
        rows = session.exec(
            select(Parcel, Order.number, Order.ship_city)
            .join(Order, col(Parcel.order_id) == col(Order.id))
            .where(Parcel.status == "labelled")
            .order_by(col(Parcel.carrier), col(Parcel.label_printed_at), col(Parcel.id))
        ).all()
        return [
            WaitingParcel(
                order_number=number,
                seq=p.seq,
                carrier=p.carrier,
                sscc=p.sscc,
                tracking_number=p.tracking_number,
                city=city,
                since=p.label_printed_at or p.created_at,
            )
            for p, number, city in rows
        ]
