"""The supervisor's view of the bench: what waits where, and for how long."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, func, select

from packbench.core.workflow import OrderStatus
from packbench.data.engine import Database
from packbench.data.models import Order

#: Which station an order in each status is waiting for.
WAITING_FOR = {
    OrderStatus.NEW: "admin",
    OrderStatus.SLIP_PRINTED: "pick",
    OrderStatus.PICKING: "pick",
    OrderStatus.PICKED: "pack",
    OrderStatus.PACKING: "pack",
    OrderStatus.PACKED: "ship",
    OrderStatus.SHIPPED: "post",
    OrderStatus.ON_HOLD: "admin",
}


@dataclass(frozen=True)
class StatusRow:
    status: str
    label: str
    count: int
    oldest_number: str | None
    oldest_at: datetime | None
    station: str | None


def overview(db: Database) -> list[StatusRow]:
    """Orders per status with the oldest waiting order of each."""
    with db.read() as session:
        rows = session.exec(
            select(Order.status, func.count(), func.min(Order.created_at)).group_by(Order.status)
        ).all()
        per = {status: (n, oldest) for status, n, oldest in rows}
        out = []
        for status in OrderStatus:
            n, _ = per.get(status.value, (0, None))
            oldest = None
            if n:
                oldest = session.exec(
                    select(Order)
                    .where(Order.status == status.value)
                    .order_by(col(Order.created_at), col(Order.id))
                    .limit(1)
                ).first()
            out.append(
                StatusRow(
                    status=status.value,
                    label=status.label,
                    count=n,
                    oldest_number=oldest.number if oldest else None,
                    oldest_at=oldest.created_at if oldest else None,
                    station=WAITING_FOR.get(status),
                )
            )
        return out
