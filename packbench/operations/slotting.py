"""Slotting advice from the database: the history it needs, handed to ``core.slotting``.

The history is the last N days of orders the warehouse picked (at least one unit picked, not
cancelled). The pick lists walked are the finished pick batches (all SKUs of a batch are one
walk) and, for orders picked outside any batch, each order alone. Reads only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from packbench.core.routing import Layout
from packbench.core.slotting import SlottingAdvice, advise
from packbench.core.workflow import OrderStatus
from packbench.data.engine import Database
from packbench.data.models import Location, Order, OrderLine, PickBatch, PickTask, Product
from packbench.data.types import utcnow


@dataclass(frozen=True)
class SlottingReport:
    days: int
    since: datetime
    advice: SlottingAdvice

    def to_json(self) -> dict[str, Any]:
        return {"days": self.days, "since": self.since.isoformat(), **self.advice.to_json()}

    def as_text(self) -> str:
        a = self.advice
        out = [
            f"History: {a.orders} orders picked in the last {self.days} days, walked as "
            f"{a.pick_lists} pick lists: {a.walked_m:.0f} m with today's slots.",
            "",
            "Best sellers (picks = order lines):",
        ]
        for b in a.best_sellers:
            where = f"{b.location} ({b.depot_m:.1f} m from the depot)" if b.location else "—"
            out.append(f"  {b.sku:<16} {b.picks:>4} picks {b.units:>5} units   {where}")
        out += ["", "Often ordered together:"]
        if not a.pairs:
            out.append("  (no pair in two or more orders)")
        for p in a.pairs:
            apart = f"{p.apart_m:.1f} m apart" if p.apart_m is not None else "not slotted"
            out.append(f"  {p.sku_a} + {p.sku_b}: {p.together} orders ({p.share:.0%}), {apart}")
        out += ["", "Moves, measured by re-routing the history:"]
        if not a.moves:
            out.append("  (none would have saved walking)")
        for m in a.moves:
            out.append(
                f"  {m.text}: saves {m.saved_m:.1f} m over {m.lists} pick lists "
                f"({m.saved_share:.1%} of all walking)"
            )
        if a.unslotted:
            out += ["", f"Ordered but without a usable location: {', '.join(a.unslotted)}"]
        return "\n".join(out)


def slotting_report(
    db: Database, layout: Layout, *, days: int = 90, now: datetime | None = None
) -> SlottingReport:
    since = (now or utcnow()) - timedelta(days=days)
    skipped = (OrderStatus.NEW, OrderStatus.SLIP_PRINTED, OrderStatus.CANCELLED)
    with db.read() as session:
        slots = {p.sku: p.location for p in session.exec(select(Product)).all()}
        locations = [loc.code for loc in session.exec(select(Location)).all()]
        rows = session.exec(
            select(OrderLine.order_id, OrderLine.sku, OrderLine.quantity)
            .join(Order, col(Order.id) == OrderLine.order_id)
            .where(
                col(Order.created_at) >= since,
                col(Order.status).not_in([s.value for s in skipped]),
                col(Order.id).in_(select(OrderLine.order_id).where(OrderLine.picked_qty > 0)),
            )
            .order_by(col(OrderLine.order_id), col(OrderLine.line_no))
        ).all()
        orders: dict[int, dict[str, int]] = defaultdict(dict)
        for order_id, sku, qty in rows:
            orders[order_id][sku] = orders[order_id].get(sku, 0) + qty
        batches = session.exec(
            select(PickTask.batch_id, PickTask.order_id, OrderLine.sku)
            .join(PickBatch, col(PickBatch.id) == PickTask.batch_id)
            .join(OrderLine, col(OrderLine.id) == PickTask.order_line_id)
            .where(PickBatch.status == "done", col(PickBatch.finished_at) >= since)
        ).all()
    walks: dict[int, set[str]] = defaultdict(set)
    in_batch: set[int] = set()
    for batch_id, order_id, sku in batches:
        walks[batch_id].add(sku)
        in_batch.add(order_id)
    pick_lists = [walks[b] for b in sorted(walks)]
    pick_lists += [set(o) for oid, o in orders.items() if oid not in in_batch]
    advice = advise(layout, slots, list(orders.values()), pick_lists, locations=locations)
    return SlottingReport(days=days, since=since, advice=advice)
