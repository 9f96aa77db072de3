"""Orders arriving at the bench: new ones are created, known ones updated without losing work.

The demo loader uses this today; the shop sync (pull) uses the same entry point, so an order
that came from the demo and one that came from a real shop are the same rows and events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import Session, select

from packbench.core.workflow import IN_PROGRESS, Action, OrderStatus
from packbench.data.engine import Database
from packbench.data.models import Order, OrderLine, Product, table_of
from packbench.data.types import utcnow
from packbench.operations.common import (
    Actor,
    Refused,
    change_status,
    record_event,
    require_supervisor,
)


@dataclass(frozen=True)
class LineIn:
    sku: str
    name: str
    quantity: int
    unit_price_ore: int = 0
    shop_line_id: int | None = None
    shop_product_id: int | None = None


@dataclass(frozen=True)
class OrderIn:
    """An order as the shop describes it, already validated and in our units."""

    shop_order_id: int
    number: str
    created_at: datetime
    lines: tuple[LineIn, ...]
    ship_name: str = ""
    ship_company: str = ""
    ship_address1: str = ""
    ship_address2: str = ""
    ship_postcode: str = ""
    ship_city: str = ""
    ship_country: str = "NO"
    bill_name: str = ""
    customer_email: str = ""
    customer_phone: str = ""
    shipping_method_id: str = ""
    shipping_method_title: str = ""
    payment_method: str = ""
    payment_method_title: str = ""
    payment_reference: str = ""  # the provider's reference (WooCommerce transaction_id)
    pickup_point_id: str = ""  # the customer's chosen pickup point, when the method has one
    payment_status: str = "authorized"
    currency: str = "NOK"
    shipping_ore: int = 0
    total_ore: int = 0
    customer_note: str = ""
    paid_at: datetime | None = None
    modified_at: datetime | None = None
    cancelled: bool = False
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProductIn:
    """A product as the shop describes it, validated and in our units (mm, g, øre)."""

    shop_product_id: int
    sku: str
    gtin: str | None  # as the shop has it (8–14 digits, check digit verified), not padded
    name: str
    length_mm: int
    width_mm: int
    height_mm: int
    weight_g: int
    location: str | None
    price_ore: int


@dataclass(frozen=True)
class IntakeResult:
    order_id: int
    created: bool
    changed: bool
    flagged: str | None
    #: Something a supervisor should know although the order was taken (its number was taken
    #: by another order, so it came in under its shop id).
    note: str | None = None


#: How far in the future a shop's date may be before it is treated as wrong (clocks differ).
FUTURE_SKEW = timedelta(minutes=10)


_LENGTHS: dict[type, dict[str, int]] = {}


def _check_lengths(model: type, values: dict[str, object], what: str) -> None:
    """Refuse text longer than its column, the same on every database (SQLite stores any
    length; PostgreSQL raises mid-transaction): a clear reason instead of a driver error."""
    lengths = _LENGTHS.get(model)
    if lengths is None:
        lengths = _LENGTHS[model] = {
            c.name: length
            for c in table_of(model).columns
            if (length := getattr(c.type, "length", None)) is not None
        }
    for name, value in values.items():
        length = lengths.get(name)
        if length is not None and isinstance(value, str) and len(value) > length:
            raise Refused(f"{what}{name} is {len(value)} characters, at most {length} fit")


_HEADER_FIELDS = (
    "ship_name",
    "ship_company",
    "ship_address1",
    "ship_address2",
    "ship_postcode",
    "ship_city",
    "ship_country",
    "bill_name",
    "customer_email",
    "customer_phone",
    "shipping_method_id",
    "shipping_method_title",
    "payment_method",
    "payment_method_title",
    "payment_reference",
    "pickup_point_id",
    "payment_status",
    "currency",
    "shipping_ore",
    "total_ore",
    "customer_note",
    "paid_at",
)


def _product_for(session: Session, line: LineIn) -> Product | None:
    with session.no_autoflush:  # a lookup; flushing the half-built order here costs a lot
        return _find_product(session, line)


def _find_product(session: Session, line: LineIn) -> Product | None:
    if line.sku:
        found = session.exec(select(Product).where(Product.sku == line.sku.upper())).first()
        # A line that names its shop product is never matched by SKU to another shop product:
        # two shop products whose SKUs differ only in case have the same SKU here, and the
        # second is refused (``operations.syncing``) — its lines must not become the first's.
        if found and (
            line.shop_product_id is None
            or found.shop_product_id is None
            or found.shop_product_id == line.shop_product_id
        ):
            return found
    if line.shop_product_id is not None:
        return session.exec(
            select(Product).where(Product.shop_product_id == line.shop_product_id)
        ).first()
    return None


def _add_lines(session: Session, order_id: int | None, lines: tuple[LineIn, ...]) -> None:
    assert order_id is not None  # the order was flushed before its lines
    for n, line in enumerate(lines, start=1):
        product = _product_for(session, line)
        session.add(
            OrderLine(
                order_id=order_id,
                line_no=n,
                shop_line_id=line.shop_line_id,
                shop_product_id=line.shop_product_id,
                product_id=product.id if product else None,
                sku=(product.sku if product else line.sku.upper()),
                name=line.name or (product.name if product else ""),
                quantity=line.quantity,
                unit_price_ore=line.unit_price_ore,
            )
        )


def same_lines(stored: list[tuple[str, int, int | None]], lines: tuple[LineIn, ...]) -> bool:
    """Whether the shop's lines are the ones the bench has (``stored``: SKU, quantity, shop
    product id). A line is the same product by the shop's product id when both sides have
    it — a product whose SKU changed in the shop, or a line the shop sent without SKU and
    the bench matched by id, is not a changed line — and by SKU otherwise."""
    if len(stored) != len(lines):
        return False
    left = list(stored)
    for line in lines:
        at = next((i for i, have in enumerate(left) if _same_line(have, line)), None)
        if at is None:
            return False
        del left[at]
    return True


def _same_line(have: tuple[str, int, int | None], line: LineIn) -> bool:
    sku, quantity, shop_product_id = have
    if quantity != line.quantity:
        return False
    if shop_product_id is not None and line.shop_product_id is not None:
        return shop_product_id == line.shop_product_id
    return sku == line.sku.upper()


def _number_for(session: Session, incoming: OrderIn) -> tuple[str, str | None]:
    """The bench's number for a new order, and a note when it cannot be the shop's.

    WooCommerce's id is the key; the number is what people read, and sequential-number
    plugins or an import can give two orders the same one. The bench needs one number per
    order (its slip's barcode is ``ORD-<number>``), so a second order with a number already
    taken comes in under its shop id — unique in the shop — and the supervisor is told, with
    both numbers, so nobody mixes the two up. Only when that is taken as well is it refused.
    """
    holder = session.exec(
        select(Order.id, Order.shop_order_id).where(Order.number == incoming.number)
    ).first()
    if holder is None:
        return incoming.number, None
    other = f"order id {holder[1]}'s" if holder[1] is not None else "a bench order's"
    alternative = str(incoming.shop_order_id)
    if session.exec(select(Order.id).where(Order.number == alternative)).first() is not None:
        raise Refused(
            f"its number {incoming.number} is also {other}, and its id {alternative} is "
            "another order's number"
        )
    return alternative, (
        f"order id {incoming.shop_order_id} from the shop has the number {incoming.number}, "
        f"which is also {other}: taken as order {alternative} (the shop's id); the customer "
        f"knows it as {incoming.number}"
    )


def receive_order(session: Session, actor: Actor, incoming: OrderIn) -> IntakeResult:
    """Create or update one order inside the caller's transaction.

    Raises :class:`Refused` for an order the bench cannot take (a field too long for its
    column, a number it cannot give); the caller refuses that order alone.
    """
    _check_lengths(Order, {f: getattr(incoming, f) for f in ("number", *_HEADER_FIELDS)}, "")
    for n, line in enumerate(incoming.lines, start=1):
        _check_lengths(OrderLine, {"sku": line.sku, "name": line.name}, f"line {n}: ")
    order = session.exec(select(Order).where(Order.shop_order_id == incoming.shop_order_id)).first()
    if order is None:
        number, note = _number_for(session, incoming)
        order = Order(
            shop_order_id=incoming.shop_order_id,
            number=number,
            status=OrderStatus.NEW.value,
            created_at=incoming.created_at,
            upstream_modified_at=incoming.modified_at,
            **{f: getattr(incoming, f) for f in _HEADER_FIELDS},
        )
        session.add(order)
        session.flush()
        _add_lines(session, order.id, incoming.lines)
        assert order.id is not None
        record_event(
            session,
            actor,
            "intake",
            order_id=order.id,
            message=f"order {order.number} received from the shop" + (f" ({note})" if note else ""),
        )
        return IntakeResult(order.id, created=True, changed=False, flagged=None, note=note)
    return _update(session, actor, order, incoming)


class _Modified(Protocol):
    @property
    def upstream_modified_at(self) -> datetime | None: ...


def is_unchanged(order: _Modified, incoming: OrderIn) -> bool:
    """The shop sends nothing newer than what the bench has (a re-read of the overlap)."""
    return (
        order.upstream_modified_at is not None
        and incoming.modified_at is not None
        and incoming.modified_at <= order.upstream_modified_at
        # A date in the future (a shop's clock or data gone wrong) is not believed: the next
        # real change must still come through.
        and order.upstream_modified_at <= utcnow() + FUTURE_SKEW
    )


def _update(session: Session, actor: Actor, order: Order, incoming: OrderIn) -> IntakeResult:
    assert order.id is not None
    if is_unchanged(order, incoming):
        return IntakeResult(order.id, created=False, changed=False, flagged=None)
    lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    lines_changed = not same_lines(
        [(ln.sku, ln.quantity, ln.shop_product_id) for ln in lines], incoming.lines
    )
    started = OrderStatus(order.status) not in (OrderStatus.NEW, OrderStatus.SLIP_PRINTED)
    flag = None
    cancel_now = False
    if incoming.cancelled and order.status != OrderStatus.CANCELLED:
        if not started:
            cancel_now = True  # nothing was done on the bench yet: follow the shop
        elif OrderStatus(order.status) in IN_PROGRESS or order.status == OrderStatus.ON_HOLD:
            flag = "cancelled in the shop"
    elif lines_changed and started:
        flag = "lines changed in the shop after picking started"
    # What the bench did (status, counts, parcels) is never overwritten from upstream.
    for name in _HEADER_FIELDS:
        setattr(order, name, getattr(incoming, name))
    order.upstream_modified_at = incoming.modified_at
    order.updated_at = utcnow()
    if lines_changed and not started and not incoming.cancelled:
        for ln in lines:
            session.delete(ln)
        session.flush()
        _add_lines(session, order.id, incoming.lines)
    if flag:
        order.upstream_flag = flag
    session.add(order)
    if cancel_now:
        change_status(
            session,
            order,
            Action.CANCEL,
            actor,
            reason="cancelled in the shop",
            message="cancelled in the shop before work started",
        )
    record_event(
        session,
        actor,
        "intake",
        order_id=order.id,
        result="info",
        message=f"order {order.number} updated from the shop"
        + (f"; flagged: {flag}" if flag else ""),
    )
    return IntakeResult(order.id, created=False, changed=True, flagged=flag)


def clear_flag(db: Database, actor: Actor, order_id: int, decision: str) -> None:
    """A supervisor decides about an order the shop changed or cancelled mid-work.

    The decision (e.g. "customer confirmed by phone: ship as picked") stays in the history.
    """
    require_supervisor(actor)
    if not decision.strip():
        raise Refused("Say what was decided.")

    def run(session: Session) -> None:
        order = session.get(Order, order_id)
        if order is None or not order.upstream_flag:
            raise Refused("That order is not flagged.")
        flag, order.upstream_flag = order.upstream_flag, None
        order.updated_at = utcnow()
        session.add(order)
        record_event(
            session,
            actor,
            "decision",
            order_id=order_id,
            message=f"flag “{flag}” cleared: {decision.strip()}",
        )

    db.transact(run)
