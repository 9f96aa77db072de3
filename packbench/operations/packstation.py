"""Station 3, pack: claim the order, scan every unit into its parcel, box it, weigh it.

The way of one order at the pack station:

* scanning its packing slip **claims** it for this packer at this terminal (a picked order moves
  to ``packing``); someone else scanning the slip is told who has it and since when. A claim
  whose terminal went quiet for ``[pack] stale_claim_minutes``, or the same packer's claim from
  another terminal, can be taken over after confirmation; a supervisor can take over or release
  any claim;
* the box suggestion is made when the order is first opened and kept (``pack_plan``): the
  cheapest box or bag the packing logic fits everything into, how full it will be and the
  runner-up — or, when the packers chose another box for the same items ``[pack] learn_after``
  times, that box, marked as learned from the packers; when nothing holds the whole order, the
  suggestion is several parcels;
* each scan of a GTIN or SKU puts one unit into the current parcel (``N*CODE``: N units); an item
  not in the order, one too many, or an item of another open order is refused and changes
  nothing;
* scanning a box or bag code chooses the current parcel's box; a typed or scanned weight
  (``1250g``, ``1.25 kg``) is checked against items + tare, and one off by more than
  ``[pack] weight_tolerance_pct`` waits for a confirmation (``CMD-CONFIRM``);
* ``CMD-UNDO`` takes the last item scan back out of the current parcel;
* ``CMD-NEXT`` closes the current parcel (it must have its box and weight) and starts the next;
* when every unit is in a parcel and each parcel has its box and weight the order is ``packed``
  with its parcels ``packed`` (box, dimensions, weight): what the ship station starts from. If
  the order went in another box than suggested, that is recorded as an override.

Every scan is its own transaction with its event row; refusals go through ``transact_logged``
and change nothing else. The state lives in the database only, so a reopened order resumes
exactly where it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from packbench.core.codes import CodeKind, CodeRules, Command, Scan, classify
from packbench.core.workflow import OrderStatus
from packbench.data.engine import Database
from packbench.data.models import Event, Order, OrderLine, Product
from packbench.operations import messages as msg
from packbench.operations.common import Actor, Refused, record_event
from packbench.operations.common import transact_logged as _transact_logged
from packbench.operations.itemscan import find_by_gtin, is_case, prefer_catalogue_sku
from packbench.operations.pack_claims import open_for_packing
from packbench.operations.pack_parcels import (
    _after_change,
    _choose_box,
    _confirm_weight,
    _next_parcel,
    _weigh,
    parse_weight,
)
from packbench.operations.pack_state import (
    KIND,
    _add_units,
    _clear_weight,
    _current,
    _drop_item,
    _item,
    _lines,
    _mine,
    _needed,
    _products,
    _view,
    catalogue,
)
from packbench.operations.pack_views import Claimed, PackOutcome, PackRules

MAX_TYPED_QUANTITY = 999

_QUANTITY = re.compile(r"\s*([0-9]{1,4})\s*\*\s*(\S.*)")


# ----------------------------------------------------------------------------------- packing


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


def _other_open_order(session: Session, order: Order, product: Product) -> Order | None:
    # The open orders' ids come first: by the status in the join itself, SQLite (which has no
    # statistics on the columns) went by the product's lines, every one the history has of it —
    # 9 ms of a wrong item's refusal on a 200,000-order history, 0.3 ms this way.
    rows = session.exec(
        select(Order, OrderLine)
        .join(OrderLine, col(OrderLine.order_id) == col(Order.id))
        .where(
            OrderLine.product_id == product.id,
            Order.id != order.id,
            col(Order.id).in_(_OPEN_IDS),
        )
        .order_by(col(Order.created_at), col(Order.id))
    ).all()
    for other, line in rows:
        if line.packed_qty < _needed(line):
            return other
    return None


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
        other = _other_open_order(session, order, product)
        if other is not None:
            raise Refused(
                f"Wrong order: {shown} is {product.name}, which belongs to order {other.number} "
                f"({OrderStatus(other.status).label.lower()}), not {order.number}. "
                f"Put it back with order {other.number}; nothing counted.",
                order_id=order.id,
            )
        raise Refused(
            f"Not in this order: {shown} is {product.name}; order {order.number} has none. "
            "Nothing counted.",
            order_id=order.id,
        )
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
        if left <= 0:
            raise Refused(
                f"One too many: {shown} {product.name} — all {needed} are packed already. "
                "Nothing counted.",
                order_id=order.id,
            )
        raise Refused(
            f"Too many: {qty} × {product.name} scanned but only {left} still to pack. "
            "Nothing counted.",
            order_id=order.id,
        )
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
    record_event(
        session,
        actor,
        KIND,
        order_id=order.id,
        code=raw,
        message=f"packed {qty} × {product.sku} into parcel {parcel.seq}",
        data={"sku": product.sku, "qty": qty, "parcel": parcel.seq, **_traced(scan)},
    )
    session.flush()
    fragile = " — FRAGILE, wrap it" if product.fragile else ""
    text = f"{product.name}: {packed + qty} of {needed} in parcel {parcel.seq}{fragile}{expired}."
    return _after_change(session, actor, rules, order, raw, text)


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


def _unit_scans(session: Session, order: Order) -> list[dict[str, Any]]:
    """The unit scans of an order still standing, oldest first (undone ones taken away)."""
    rows = session.exec(
        select(Event.data)
        .where(
            Event.order_id == order.id,
            Event.kind == KIND,
            Event.station == "pack",
            Event.result == "ok",
            col(Event.data).is_not(None),
        )
        .order_by(col(Event.id))
    ).all()
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
    record_event(
        session,
        actor,
        KIND,
        order_id=order.id,
        code=raw,
        message=f"undone: {last['qty']} × {last['sku']} taken out of parcel {parcel.seq}",
        data={"sku": last["sku"], "qty": last["qty"], "parcel": parcel.seq, "undo": True},
    )
    session.flush()
    name = product.name if product else last["sku"]
    text = f"Undone: take {last['qty']} × {name} back out of parcel {parcel.seq}."
    return PackOutcome(True, text, raw, _view(session, order, actor, rules))


# ----------------------------------------------------------------------------------- entry points


def _run(
    db: Database, actor: Actor, raw: str, order_id: int | None, fn: Callable[[Session], PackOutcome]
) -> PackOutcome:
    try:
        return _transact_logged(db, actor, fn, kind=KIND, code=raw, order_id=order_id)
    except Refused as exc:
        return PackOutcome(False, exc.message, raw)


def pack_item(
    db: Database, actor: Actor, rules: PackRules, order_id: int, raw: str, code_rules: CodeRules
) -> PackOutcome:
    """A product scan (``N*`` before it for N units) into the current parcel."""
    qty, text = 1, raw
    typed = _QUANTITY.fullmatch(raw)
    if typed:
        qty, text = int(typed.group(1)), typed.group(2)
    scan = prefer_catalogue_sku(db, classify(text, code_rules))
    if is_case(scan):
        if typed:
            return _refuse(db, actor, raw, msg.case_alone(text), order_id)
        if scan.count is None:
            return _refuse(db, actor, raw, msg.case_without_count(raw), order_id)
        qty = scan.count
    elif scan.kind not in (CodeKind.GTIN, CodeKind.SKU):
        reason = f" ({scan.reason})" if scan.kind is CodeKind.INVALID else ""
        return _refuse(db, actor, raw, f"{msg.quote(raw)} is no product code{reason}.", order_id)
    elif not 1 <= qty <= MAX_TYPED_QUANTITY:
        return _refuse(
            db, actor, raw, f"{msg.quote(raw)}: a quantity is 1–{MAX_TYPED_QUANTITY}.", order_id
        )
    return _run(
        db, actor, raw, order_id, lambda s: _pack_units(s, actor, rules, order_id, scan, raw, qty)
    )


def choose_box(
    db: Database,
    actor: Actor,
    rules: PackRules,
    order_id: int,
    code: str,
    *,
    raw: str | None = None,
) -> PackOutcome:
    return _run(
        db,
        actor,
        raw or code,
        order_id,
        lambda s: _choose_box(s, actor, rules, order_id, code.upper(), raw or code),
    )


def record_weight(
    db: Database,
    actor: Actor,
    rules: PackRules,
    order_id: int,
    grams: int,
    *,
    raw: str | None = None,
) -> PackOutcome:
    shown = raw or f"{grams}g"
    return _run(
        db, actor, shown, order_id, lambda s: _weigh(s, actor, rules, order_id, grams, shown)
    )


def confirm_weight(
    db: Database, actor: Actor, rules: PackRules, order_id: int, *, raw: str = "CMD-CONFIRM"
) -> PackOutcome:
    return _run(db, actor, raw, order_id, lambda s: _confirm_weight(s, actor, rules, order_id, raw))


def next_parcel(
    db: Database, actor: Actor, rules: PackRules, order_id: int, *, raw: str = "CMD-NEXT"
) -> PackOutcome:
    return _run(db, actor, raw, order_id, lambda s: _next_parcel(s, actor, rules, order_id, raw))


def undo_scan(
    db: Database, actor: Actor, rules: PackRules, order_id: int, *, raw: str = "CMD-UNDO"
) -> PackOutcome:
    """Take the last item scan (all its units) back out of the current parcel."""
    return _run(db, actor, raw, order_id, lambda s: _undo(s, actor, rules, order_id, raw))


def open_slip(
    db: Database, actor: Actor, rules: PackRules, number: str, raw: str, *, take_over: bool = False
) -> PackOutcome:
    """A packing slip scanned at the pack station; refusals come back as outcomes."""
    try:
        return open_for_packing(db, actor, rules, number=number, code=raw, take_over=take_over)
    except Claimed as exc:
        return PackOutcome(
            False, exc.message, raw, takeover=exc.order_id if exc.can_take_over else None
        )
    except Refused as exc:
        return PackOutcome(False, exc.message, raw)


def take_over(
    db: Database, actor: Actor, rules: PackRules, order_id: int, *, raw: str = "CMD-CONFIRM"
) -> PackOutcome:
    try:
        return open_for_packing(db, actor, rules, order_id=order_id, code=raw, take_over=True)
    except Refused as exc:
        return PackOutcome(False, exc.message, raw)


def _refuse(
    db: Database, actor: Actor, raw: str, message: str, order_id: int | None
) -> PackOutcome:
    db.transact(
        lambda s: record_event(
            s, actor, KIND, order_id=order_id, code=raw, result="refused", message=message
        )
    )
    return PackOutcome(False, message, raw)


def _is_sku(db: Database, code: str) -> bool:
    """A product's SKU that happens to read like a weight (coffee sold as ``500G``) is the
    product, not a weighing."""
    with db.read() as session:
        return session.exec(select(Product.id).where(Product.sku == code)).first() is not None


def pack_scan(
    db: Database,
    actor: Actor,
    raw: str,
    code_rules: CodeRules,
    rules: PackRules,
    *,
    order_id: int | None,
    takeover: int | None = None,
) -> PackOutcome | None:
    """A scan at the pack station. ``None``: not a packing scan, let the common handler have it.

    ``order_id`` is the order open on this screen; ``takeover`` an order whose claim the person
    was offered to take over (``CMD-CONFIRM`` then takes it).
    """
    if not actor.signed_in:
        return None
    if (
        order_id is not None
        and (grams := parse_weight(raw)) is not None
        and not _is_sku(db, raw.strip())
    ):
        return record_weight(db, actor, rules, order_id, grams, raw=raw)
    typed = _QUANTITY.fullmatch(raw)
    scan = classify(typed.group(2) if typed else raw, code_rules)
    if scan.sku is not None:
        scan = prefer_catalogue_sku(db, scan)
    if scan.kind is CodeKind.ORDER and not typed:
        return open_slip(db, actor, rules, scan.value, raw)
    if scan.kind is CodeKind.COMMAND and scan.command is Command.CONFIRM:
        if takeover is not None:
            return take_over(db, actor, rules, takeover, raw=raw)
        if order_id is not None:
            return confirm_weight(db, actor, rules, order_id, raw=raw)
        return _refuse(db, actor, raw, "Nothing waits for a confirmation here.", None)
    if order_id is None:
        return None
    if scan.kind in (CodeKind.GTIN, CodeKind.SKU) or is_case(scan):
        return pack_item(db, actor, rules, order_id, raw, code_rules)
    if typed:
        return _refuse(
            db, actor, raw, f"A quantity goes before an item: {msg.quote(raw)}.", order_id
        )
    if scan.kind is CodeKind.BOX:
        return choose_box(db, actor, rules, order_id, scan.value, raw=raw)
    if scan.kind is CodeKind.COMMAND and scan.command is Command.NEXT:
        return next_parcel(db, actor, rules, order_id, raw=raw)
    if scan.kind is CodeKind.COMMAND and scan.command is Command.UNDO:
        return undo_scan(db, actor, rules, order_id, raw=raw)
    return None


def box_rows(db: Database, *, active_only: bool = False) -> list[dict[str, Any]]:
    """The box and bag catalogue as plain rows (for ``packbench boxes list`` and the sheet)."""
    with db.read() as session:
        return [
            {
                "code": b.code,
                "kind": b.kind,
                "name": b.name,
                "inner_mm": [b.inner_l_mm, b.inner_w_mm, b.inner_h_mm],
                "max_weight_g": b.max_weight_g,
                "tare_g": b.tare_g,
                "cost_ore": b.cost_ore,
                "standard": b.standard,
                "active": b.active,
            }
            for b in catalogue(session, active_only=active_only)
        ]
