"""Units into the current parcel and out again: the product a scan names (the order's own
first), refused when it is not in the order (or belongs to another open order), one too many,
expired or a serial counted before; what a GS1 code said about the unit kept with the scan;
``CMD-UNDO`` taking the last item scan back out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from packbench.core.codes import CodeKind, Scan
from packbench.core.workflow import OrderStatus
from packbench.data.models import Event, Order, OrderLine, Product
from packbench.operations import messages as msg
from packbench.operations.common import Actor, Refused
from packbench.operations.itemscan import find_by_gtin, is_case
from packbench.operations.pack_parcels import _after_change
from packbench.operations.pack_state import (
    KIND,
    _add_units,
    _clear_weight,
    _current,
    _drop_item,
    _item,
    _lines,
    _mine,
    _products,
    _record_scan,
    _view,
)
from packbench.operations.pack_views import PackOutcome, PackRules, ProductRow
from packbench.operations.pack_views import needed as _needed


def _product_by_sku(session: Session, order_id: int, sku: str) -> Product | None:
    mine = [p for p in _products(session, order_id).values() if p.sku == sku]
    return mine[0] if mine else session.exec(select(Product).where(Product.sku == sku)).first()


def _product_for(session: Session, order_id: int, scan: Scan, raw: str) -> Product:
    """The product a scan names; the order's own products are looked at first (no query)."""
    if scan.kind is CodeKind.GTIN or is_case(scan):
        product = find_by_gtin(session, scan, _products(session, order_id).values())
        if product is None:
            raise Refused(
                msg.unknown_gtin(scan.value if scan.kind is CodeKind.GTIN else scan.gtin14 or "")
                + " Nothing counted."
            )
        return product
    product = _product_by_sku(session, order_id, scan.value)
    if product is None:
        raise Refused(f"{msg.quote(raw.strip())} is no product on this bench; nothing counted.")
    return product


#: The orders a wrong item may belong to, as a list SQLite looks up by ``ix_orders_status_created``.
_OPEN = aliased(Order, name="open_order")
_OPEN_IDS = select(col(_OPEN.id)).where(
    col(_OPEN.status).in_(
        [OrderStatus.PICKED.value, OrderStatus.PACKING.value, OrderStatus.PICKING.value]
    )
)

#: The other open orders with a line of a product (both bound parameters), oldest first, with
#: what is left to pack of the line. In SQLAlchemy Core: the ORM path and ``pack_rows`` share it.
#: The open orders' ids come first: by the status in the join itself, SQLite (which has no
#: statistics on the columns) went by the product's lines, every one the history has of it —
#: 9 ms of a wrong item's refusal on a 200,000-order history, 0.3 ms this way.
OTHER_OPEN = (
    core_select(
        col(Order.number),
        col(Order.status),
        col(OrderLine.quantity),
        col(OrderLine.short_qty),
        col(OrderLine.packed_qty),
    )
    .join(OrderLine, col(OrderLine.order_id) == col(Order.id))
    .where(
        col(OrderLine.product_id) == bindparam("product_id"),
        col(Order.id) != bindparam("order_id"),
        col(Order.id).in_(_OPEN_IDS),
    )
    .order_by(col(Order.created_at), col(Order.id))
)


def other_open_order(rows: Iterable[Any]) -> tuple[str, str] | None:
    """The number and status of the first of ``OTHER_OPEN``'s orders still missing units of
    the product."""
    for number, status, quantity, short, packed in rows:
        if packed < max(0, quantity - short):
            return str(number), str(status)
    return None


def wrong_product(shown: str, name: str, number: str, other: tuple[str, str] | None) -> str:
    """A product scanned into an order that has none of it (``other``: an open order that
    does)."""
    if other is not None:
        theirs, status = other
        return (
            f"Wrong order: {shown} is {name}, which belongs to order {theirs} "
            f"({OrderStatus(status).label.lower()}), not {number}. "
            f"Put it back with order {theirs}; nothing counted."
        )
    return f"Not in this order: {shown} is {name}; order {number} has none. Nothing counted."


def too_many(shown: str, name: str, qty: int, needed: int, left: int) -> str:
    """``qty`` units scanned with ``left`` of ``needed`` still to pack (``qty > left``)."""
    if left <= 0:
        return f"One too many: {shown} {name} — all {needed} are packed already. Nothing counted."
    return f"Too many: {qty} × {name} scanned but only {left} still to pack. Nothing counted."


def _pack_units(
    session: Session, actor: Actor, rules: PackRules, order_id: int, scan: Scan, raw: str, qty: int
) -> PackOutcome:
    order = _mine(session, actor, order_id, raw)
    product = _product_for(session, order_id, scan, raw)
    shown = msg.quote(raw.strip())
    expired = _expired(rules, scan, product, shown, order)
    serial = scan.ai.get("21")
    if serial and any(
        d.get("serial") == serial and d.get("gtin") == scan.gtin14
        for d in _unit_scans(session, order)
    ):
        raise Refused(
            f"Already packed: {shown} is {product.name} with serial {serial}, counted in this "
            "order before — the same unit scanned twice. Nothing counted.",
            order_id=order.id,
        )
    lines = [ln for ln in _lines(session, order_id) if ln.product_id == product.id]
    if not lines:
        found = session.execute(OTHER_OPEN, {"product_id": product.id, "order_id": order.id})
        other = other_open_order(found)
        raise Refused(wrong_product(shown, product.name, order.number, other), order_id=order.id)
    needed = sum(_needed(ln) for ln in lines)
    packed = sum(ln.packed_qty for ln in lines)
    left = needed - packed
    if qty > left and is_case(scan) and left > 0:
        raise Refused(
            f"A case of {qty} × {product.name}, but only {left} still to pack: open it and "
            "scan the units one by one. Nothing counted.",
            order_id=order.id,
        )
    if qty > left:
        raise Refused(too_many(shown, product.name, qty, needed, left), order_id=order.id)
    parcel = _current(session, order)
    remaining = qty
    for line in lines:
        take = min(remaining, _needed(line) - line.packed_qty)
        if take <= 0:
            continue
        line.packed_qty += take
        session.add(line)
        _add_units(session, parcel, line, take)
        remaining -= take
        if remaining == 0:
            break
    _clear_weight(session, order, parcel)
    message, data = packed_note(product.sku, qty, parcel.seq, scan)
    _record_scan(session, actor, order, raw, message=message, data=data)
    session.flush()
    text = packed_text(product, packed + qty, needed, parcel.seq) + f"{expired}."
    return _after_change(session, actor, rules, order, raw, text)


def packed_note(sku: str, qty: int, seq: int, scan: Scan) -> tuple[str, dict[str, Any]]:
    """The event's message and data for ``qty`` units of ``sku`` packed into parcel ``seq``."""
    return (
        f"packed {qty} × {sku} into parcel {seq}",
        {"sku": sku, "qty": qty, "parcel": seq, **_traced(scan)},
    )


def packed_text(product: ProductRow, packed: int, needed: int, seq: int) -> str:
    """What the packer reads after a unit scan (without its full stop: a warning may follow)."""
    fragile = " — FRAGILE, wrap it" if product.fragile else ""
    return f"{product.name}: {packed} of {needed} in parcel {seq}{fragile}"


def _expired(rules: PackRules, scan: Scan, product: Product, shown: str, order: Order) -> str:
    """Refuse an item whose GS1 expiry (AI 17) has passed, or return the warning to show."""
    if scan.expiry is None or scan.expiry >= date.today():
        return ""
    when = scan.expiry.strftime("%d.%m.%Y")
    if rules.expired_items == "warn":
        return f" — EXPIRED {when}, check it"
    raise Refused(
        f"Expired: {shown} {product.name} was to be used by {when}. Put it aside and take "
        "another; nothing counted.",
        order_id=order.id,
    )


def _traced(scan: Scan) -> dict[str, Any]:
    """What a GS1 code said about the unit (batch, expiry, case, weight), for the history."""
    facts = {
        "gtin": scan.gtin14 if scan.ai or scan.weight_g or scan.price_minor else None,
        "batch": scan.batch,
        "serial": scan.ai.get("21"),
        "expiry": scan.expiry.isoformat() if scan.expiry else None,
        "case_of": scan.count if is_case(scan) else None,
        "weight_g": scan.weight_g,
        "price_minor": scan.price_minor,
    }
    return {k: v for k, v in facts.items() if v is not None}


#: The data of an order's accepted pack scans, oldest first (the order a bound parameter).
UNIT_SCANS = (
    select(Event.data)
    .where(
        col(Event.order_id) == bindparam("order_id"),
        Event.kind == KIND,
        Event.station == "pack",
        Event.result == "ok",
        col(Event.data).is_not(None),
    )
    .order_by(col(Event.id))
)


def _unit_scans(session: Session, order: Order) -> list[dict[str, Any]]:
    """The unit scans of an order still standing, oldest first (undone ones taken away)."""
    return scan_stack(session.execute(UNIT_SCANS, {"order_id": order.id}).scalars())


def scan_stack(rows: Iterable[str | None]) -> list[dict[str, Any]]:
    """The unit scans still standing among an order's scan events' data (``UNIT_SCANS``),
    oldest first: an undo takes the last one away."""
    stack: list[dict[str, Any]] = []
    for raw in rows:
        data = json.loads(raw or "{}")
        if "sku" not in data or "qty" not in data:
            continue
        if data.get("undo"):
            if stack:
                stack.pop()
        else:
            stack.append(data)
    return stack


def _undo(session: Session, actor: Actor, rules: PackRules, order_id: int, raw: str) -> PackOutcome:
    order = _mine(session, actor, order_id, raw)
    stack = _unit_scans(session, order)
    if not stack:
        raise Refused(f"Order {order.number}: no item scan to undo.", order_id=order.id)
    last = stack[-1]
    parcel = _current(session, order)
    if last["parcel"] != parcel.seq:
        raise Refused(
            f"The last item scan went into parcel {last['parcel']}, which is closed; "
            "nothing undone.",
            order_id=order.id,
        )
    product = _product_by_sku(session, order.id or 0, last["sku"])
    left = int(last["qty"])
    lines = [ln for ln in _lines(session, order_id) if product and ln.product_id == product.id]
    for line in reversed(lines):
        item = _item(session, parcel, line)
        take = min(left, line.packed_qty, item.quantity if item else 0)
        if take <= 0 or item is None:
            continue
        line.packed_qty -= take
        item.quantity -= take
        session.add(line)
        if item.quantity == 0:
            _drop_item(session, order.id or 0, item)
        else:
            session.add(item)
        left -= take
        if left == 0:
            break
    if left:  # the records disagree; refuse rather than take out what is not there
        raise Refused(
            f"Cannot undo {last['qty']} × {last['sku']}: parcel {parcel.seq} does not hold them.",
            order_id=order.id,
        )
    _clear_weight(session, order, parcel)
    message, data = undone_note(last, parcel.seq)
    _record_scan(session, actor, order, raw, message=message, data=data)
    session.flush()
    text = undone_text(last, product.name if product else last["sku"], parcel.seq)
    return PackOutcome(True, text, raw, _view(session, order, actor, rules))


def undone_note(last: dict[str, Any], seq: int) -> tuple[str, dict[str, Any]]:
    """The event's message and data for the unit scan ``last`` taken out of parcel ``seq``."""
    return (
        f"undone: {last['qty']} × {last['sku']} taken out of parcel {seq}",
        {"sku": last["sku"], "qty": last["qty"], "parcel": seq, "undo": True},
    )


def undone_text(last: dict[str, Any], name: str, seq: int) -> str:
    return f"Undone: take {last['qty']} × {name} back out of parcel {seq}."
