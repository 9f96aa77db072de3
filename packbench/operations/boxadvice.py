"""The standard-box advisor's reads: the packed and shipped history and today's catalogue.

The choosing is pure (``core.boxadvice``); this module only gathers what it needs.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from packbench.core import packing
from packbench.core.boxadvice import Advice, HistoryOrder, advise
from packbench.core.workflow import OrderStatus
from packbench.data.engine import Database
from packbench.data.models import Order, OrderLine, Product
from packbench.operations.common import Refused
from packbench.operations.pack_plan import to_packing_box
from packbench.operations.pack_state import catalogue

HISTORY_STATUSES = (OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.HANDED_OVER)
DEFAULT_HISTORY = 1000


def load_history(db: Database, *, limit: int = DEFAULT_HISTORY) -> list[HistoryOrder]:
    """The newest ``limit`` packed, shipped or handed-over orders whose items all have sizes."""
    with db.read() as session:
        orders = session.exec(
            select(Order.id, Order.number)
            .where(col(Order.status).in_([s.value for s in HISTORY_STATUSES]))
            .order_by(col(Order.updated_at).desc(), col(Order.id).desc())
            .limit(limit)
        ).all()
        ids = [oid for oid, _ in orders if oid is not None]
        rows = session.exec(
            select(OrderLine, Product)
            .join(Product, col(OrderLine.product_id) == col(Product.id), isouter=True)
            .where(col(OrderLine.order_id).in_(ids))
        ).all()
    per_order: dict[int, dict[str, packing.Item] | None] = {oid: {} for oid in ids}
    for line, product in rows:
        items = per_order[line.order_id]
        n = line.quantity - line.short_qty
        if items is None or n <= 0:
            continue
        dims = (product.length_mm, product.width_mm, product.height_mm) if product else (0, 0, 0)
        if product is None or min(dims) <= 0:
            per_order[line.order_id] = None  # an item of unknown size: the order cannot count
            continue
        old = items.get(product.sku)
        items[product.sku] = packing.Item(
            product.sku,
            dims,
            product.weight_g,
            n + (old.quantity if old else 0),
            product.keep_upright,
        )
    return [
        HistoryOrder(number, tuple(items.values()))
        for oid, number in orders
        if oid is not None and (items := per_order[oid])
    ]


def advise_boxes(db: Database, count: int, *, limit: int = DEFAULT_HISTORY) -> Advice:
    """The ``count`` standard boxes for this bench's history; ``Refused`` says why not."""
    if not 1 <= count <= 20:
        raise Refused(f"count must be 1–20, got {count}")
    history = load_history(db, limit=limit)
    with db.read() as session:
        boxes = [to_packing_box(b) for b in catalogue(session)]
    try:
        return advise(history, boxes, count)
    except packing.PackingError as exc:
        raise Refused(str(exc)) from None


def advice_json(a: Advice) -> dict[str, Any]:
    return {
        "boxes": [
            {
                "code": b.code,
                "label": b.label,
                "kind": b.kind,
                "inner_mm": list(b.inner_mm),
                "orders": b.orders,
                "share": round(b.share, 4),
                "empty_litres": round(b.empty_mm3 / 1e6, 2),
            }
            for b in a.boxes
        ],
        "orders": a.orders,
        "compared": a.compared,
        "uncovered": list(a.uncovered),
        "too_big": list(a.too_big),
        "empty_litres": round(a.empty_mm3 / 1e6, 2),
        "baseline_empty_litres": round(a.baseline_empty_mm3 / 1e6, 2),
        "saved_litres": round(a.saved_mm3 / 1e6, 2),
        "saved_pct": round(a.saved_pct, 1),
    }
