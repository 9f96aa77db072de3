"""Plain, frozen views of orders for screens and the command line (never ORM objects)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from packbench.core.workflow import OrderStatus
from packbench.data.models import Event, Order, OrderLine, Packer, Parcel, Product


@dataclass(frozen=True)
class OrderSummary:
    id: int
    number: str
    shop_order_id: int | None
    status: str
    status_label: str
    created_at: datetime
    customer: str
    city: str
    lines: int
    units: int
    shipping_method: str
    has_note: bool
    flag: str | None
    hold_reason: str | None
    completed: bool


@dataclass(frozen=True)
class LineView:
    line_no: int
    sku: str
    gtin: str | None
    name: str
    quantity: int
    picked: int
    packed: int
    location: str | None
    fragile: bool
    keep_upright: bool
    unit_price_ore: int


@dataclass(frozen=True)
class EventView:
    at: datetime
    kind: str
    station: str
    terminal: str
    packer: str | None
    code: str | None
    result: str
    message: str


@dataclass(frozen=True)
class ParcelView:
    seq: int
    box_code: str | None
    weight_g: int
    sscc: str | None
    tracking_number: str | None
    carrier: str | None
    status: str
    consignment: str | None = None  # #14: the carrier's consignment the parcel is booked in


@dataclass(frozen=True)
class Address:
    name: str
    company: str
    address1: str
    address2: str
    postcode: str
    city: str
    country: str

    def lines(self) -> list[str]:
        out = [self.name, self.company, self.address1, self.address2]
        out.append(f"{self.postcode} {self.city}".strip())
        out.append(self.country)
        return [line for line in out if line]


@dataclass(frozen=True)
class OrderDetail:
    summary: OrderSummary
    shipping: Address
    email: str
    phone: str
    payment_method: str
    payment_status: str
    total_ore: int
    shipping_ore: int
    currency: str
    customer_note: str
    paid_at: datetime | None
    completed_at: datetime | None
    invoice_number: str | None
    lines: tuple[LineView, ...]
    parcels: tuple[ParcelView, ...]
    events: tuple[EventView, ...]
    shipping_method_id: str = ""  # #14
    pickup_point: dict[str, str] | None = None  # #14: {"id", "name"} when booked to one
    payment_reference: str = ""  # #15: the provider's reference (WooCommerce transaction_id)

    def to_json(self) -> dict[str, Any]:
        s = self.summary
        return {
            "number": s.number,
            "shop_order_id": s.shop_order_id,
            "status": s.status,
            "created_at": s.created_at.isoformat(),
            "paid_at": self.paid_at.isoformat() if self.paid_at else None,
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
            "invoice_number": self.invoice_number,
            "flag": s.flag,
            "hold_reason": s.hold_reason,
            "shipping_method": s.shipping_method,
            "shipping_method_id": self.shipping_method_id,
            "pickup_point": self.pickup_point,
            "payment_method": self.payment_method,
            "payment_reference": self.payment_reference,
            "payment_status": self.payment_status,
            # What completing the order booked on the clearing account (#15): the order's total.
            "invoiced_ore": self.total_ore if self.completed_at is not None else None,
            "total_ore": self.total_ore,
            "currency": self.currency,
            "customer_note": self.customer_note,
            "email": self.email,
            "shipping": {
                "name": self.shipping.name,
                "company": self.shipping.company,
                "address1": self.shipping.address1,
                "address2": self.shipping.address2,
                "postcode": self.shipping.postcode,
                "city": self.shipping.city,
                "country": self.shipping.country,
            },
            "lines": [
                {
                    "sku": ln.sku,
                    "gtin": ln.gtin,
                    "name": ln.name,
                    "quantity": ln.quantity,
                    "picked": ln.picked,
                    "packed": ln.packed,
                    "location": ln.location,
                    "unit_price_ore": ln.unit_price_ore,
                }
                for ln in self.lines
            ],
            "parcels": [
                {
                    "seq": p.seq,
                    "sscc": p.sscc,
                    "tracking_number": p.tracking_number,
                    "carrier": p.carrier,
                    "status": p.status,
                    "box": p.box_code,
                    "weight_g": p.weight_g,
                    "consignment": p.consignment,
                }
                for p in self.parcels
            ],
        }


def summary_of(order: Order, line_count: int, units: int) -> OrderSummary:
    assert order.id is not None
    return OrderSummary(
        id=order.id,
        number=order.number,
        shop_order_id=order.shop_order_id,
        status=order.status,
        status_label=OrderStatus(order.status).label,
        created_at=order.created_at,
        customer=order.ship_name or order.bill_name,
        city=order.ship_city,
        lines=line_count,
        units=units,
        shipping_method=order.shipping_method_title,
        has_note=bool(order.customer_note.strip()),
        flag=order.upstream_flag,
        hold_reason=order.hold_reason,
        completed=order.completed_at is not None,
    )


def line_of(line: OrderLine, product: Product | None) -> LineView:
    return LineView(
        line_no=line.line_no,
        sku=line.sku,
        gtin=product.gtin if product else None,
        name=line.name,
        quantity=line.quantity,
        picked=line.picked_qty,
        packed=line.packed_qty,
        location=product.location if product else None,
        fragile=bool(product and product.fragile),
        keep_upright=bool(product and product.keep_upright),
        unit_price_ore=line.unit_price_ore,
    )


def event_of(event: Event, packer: Packer | None) -> EventView:
    return EventView(
        at=event.at,
        kind=event.kind,
        station=event.station,
        terminal=event.terminal,
        packer=packer.name if packer else None,
        code=event.code,
        result=event.result,
        message=event.message,
    )


def parcel_of(parcel: Parcel, consignment: str | None = None) -> ParcelView:
    return ParcelView(
        seq=parcel.seq,
        box_code=parcel.box_code,
        weight_g=parcel.weight_g,
        sscc=parcel.sscc,
        tracking_number=parcel.tracking_number,
        carrier=parcel.carrier,
        status=parcel.status,
        consignment=consignment,
    )


def event_data(event: Event) -> dict[str, Any]:
    return json.loads(event.data) if event.data else {}


@dataclass(frozen=True)
class WaitingParcel:
    """A labelled parcel at the post station, waiting for its carrier."""

    order_number: str
    seq: int
    carrier: str | None
    sscc: str | None
    tracking_number: str | None
    city: str
    since: datetime
