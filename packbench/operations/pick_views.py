"""What the pick station shows: its rules (``[pick]``), the pick list of a batch (stops in
walking order, totes, the metres left), what a scan did (``PickOutcome``), the shortages the
dashboard lists; and the reads behind them (the picker's open batch, products the layout
cannot place).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import Session, col, select

from packbench.config import Settings
from packbench.core.routing import Layout, LocationError, parse_location, route_length
from packbench.core.workflow import OrderStatus
from packbench.data.engine import Database
from packbench.data.models import (
    Order,
    OrderLine,
    Packer,
    PickBatch,
    PickBatchOrder,
    PickTask,
    Product,
)
from packbench.operations.common import Actor

OPEN = "open"
DONE = "done"

ShortMode = Literal["hold", "partial"]


@dataclass(frozen=True)
class PickRules:
    """How strict the warehouse station is (``[pick]`` in the configuration)."""

    batch_size: int = 6
    require_location_scan: bool = False
    short_pick: ShortMode = "hold"

    @classmethod
    def from_settings(cls, settings: Settings) -> PickRules:
        p = settings.pick
        return cls(p.batch_size, p.require_location_scan, p.short_pick)


@dataclass(frozen=True)
class StopItem:
    """One order line's share of a stop: this many of this product into this tote."""

    tote: int
    order_id: int
    order_number: str
    sku: str
    gtin: str | None
    name: str
    quantity: int
    picked: int
    short: int

    @property
    def left(self) -> int:
        return self.quantity - self.picked - self.short


@dataclass(frozen=True)
class StopView:
    seq: int
    location: str
    items: tuple[StopItem, ...]

    @property
    def quantity(self) -> int:
        return sum(i.quantity for i in self.items)

    @property
    def picked(self) -> int:
        return sum(i.picked for i in self.items)

    @property
    def short(self) -> int:
        return sum(i.short for i in self.items)

    @property
    def left(self) -> int:
        return sum(i.left for i in self.items)

    @property
    def done(self) -> bool:
        return self.left == 0


@dataclass(frozen=True)
class ToteView:
    tote: int
    order_id: int
    order_number: str
    status: str


@dataclass(frozen=True)
class PickListView:
    """A batch as the pick screen shows it; ``current`` is the stop to work now."""

    batch_id: int
    status: str
    picker: str | None
    totes: tuple[ToteView, ...]
    stops: tuple[StopView, ...]
    distance_m: float
    metres_left: float
    at_location: str | None
    require_location_scan: bool

    @property
    def current(self) -> StopView | None:
        return next((s for s in self.stops if not s.done), None)

    @property
    def upcoming(self) -> tuple[StopView, ...]:
        return tuple(s for s in self.stops if not s.done)[1:]

    @property
    def stops_left(self) -> int:
        return sum(1 for s in self.stops if not s.done)

    @property
    def units_total(self) -> int:
        return sum(s.quantity for s in self.stops)

    @property
    def units_left(self) -> int:
        return sum(s.left for s in self.stops)

    @property
    def location_confirmed(self) -> bool:
        cur = self.current
        return cur is not None and self.at_location == cur.location


@dataclass(frozen=True)
class PickOutcome:
    """What a scan or key at the pick station did. ``pick_list`` is the batch afterwards."""

    ok: bool
    message: str
    code: str
    pick_list: PickListView | None = None
    finished: bool = False


@dataclass(frozen=True)
class ShortageView:
    order_id: int
    order_number: str
    status: str
    status_label: str
    sku: str
    name: str
    location: str | None
    quantity: int
    picked: int
    short: int
    updated_at: datetime


def _view(session: Session, batch: PickBatch, layout: Layout, rules: PickRules) -> PickListView:
    assert batch.id is not None
    members = session.exec(
        select(PickBatchOrder, Order)
        .join(Order, col(Order.id) == PickBatchOrder.order_id)
        .where(PickBatchOrder.batch_id == batch.id)
        .order_by(col(PickBatchOrder.tote))
    ).all()
    numbers = {o.id: o.number for _, o in members}
    totes = tuple(ToteView(m.tote, o.id or 0, o.number, o.status) for m, o in members)
    rows = session.exec(
        select(PickTask, OrderLine, Product)
        .join(OrderLine, col(OrderLine.id) == PickTask.order_line_id)
        .join(Product, col(Product.id) == PickTask.product_id, isouter=True)
        .where(PickTask.batch_id == batch.id)
        .order_by(col(PickTask.seq), col(PickTask.tote), col(PickTask.id))
    ).all()
    grouped: dict[int, list[StopItem]] = defaultdict(list)
    where: dict[int, str] = {}
    for task, line, product in rows:
        where[task.seq] = task.location
        grouped[task.seq].append(
            StopItem(
                tote=task.tote,
                order_id=task.order_id,
                order_number=numbers.get(task.order_id, "?"),
                sku=line.sku,
                gtin=product.gtin if product else None,
                name=line.name or (product.name if product else line.sku),
                quantity=task.quantity,
                picked=task.picked,
                short=task.short,
            )
        )
    stops = tuple(StopView(seq, where[seq], tuple(grouped[seq])) for seq in sorted(grouped))
    picker = None
    if batch.packer_id is not None:
        packer = session.get(Packer, batch.packer_id)
        picker = packer.name if packer else None
    return PickListView(
        batch_id=batch.id,
        status=batch.status,
        picker=picker,
        totes=totes,
        stops=stops,
        distance_m=batch.distance_m,
        metres_left=_metres_left(layout, stops, batch.distance_m, batch.at_location),
        at_location=batch.at_location,
        require_location_scan=rules.require_location_scan,
    )


def _metres_left(
    layout: Layout, stops: Sequence[StopView], total: float, at: str | None = None
) -> float:
    """The rest of the planned round trip from where the picker is: the last stop done, or the
    current one once something was picked there or its label scanned (stops go in order)."""
    done = [
        s.location
        for n, s in enumerate(stops)
        if s.done
        or (
            (n == 0 or stops[n - 1].done)
            and (s.picked + s.short > 0 or (at is not None and s.location == at))
        )
    ]
    if not done:
        return total
    if len(done) == len(stops):
        return 0.0
    try:
        walked = route_length(layout, done) - route_length(layout, done[-1:]) / 2
    except LocationError:  # the layout changed under an open batch: keep the plan's figure
        return total
    return max(0.0, total - walked)


def _open_batch(session: Session, actor: Actor, *, lock: bool = False) -> PickBatch | None:
    """The picker's open batch; ``lock`` (in write transactions) serialises every change to it
    on servers with row locks (PostgreSQL); SQLite's write transactions are serial anyway."""
    if actor.packer_id is None:
        return None
    query = (
        select(PickBatch)
        .where(PickBatch.status == OPEN, PickBatch.packer_id == actor.packer_id)
        .order_by(col(PickBatch.id).desc())
    )
    return session.exec(query.with_for_update() if lock else query).first()


def current_batch(
    db: Database, actor: Actor, layout: Layout, rules: PickRules
) -> PickListView | None:
    """The batch the signed-in picker has open (to resume after leaving or a crash)."""
    with db.read() as session:
        batch = _open_batch(session, actor)
        return _view(session, batch, layout, rules) if batch else None


def list_shortages(db: Database, *, limit: int = 200) -> list[ShortageView]:
    """Lines a short pick left missing, on orders not yet shipped or cancelled, oldest first."""
    gone = (OrderStatus.SHIPPED, OrderStatus.HANDED_OVER, OrderStatus.CANCELLED)
    with db.read() as session:
        rows = session.exec(
            select(OrderLine, Order, Product)
            .join(Order, col(Order.id) == OrderLine.order_id)
            .join(Product, col(Product.id) == OrderLine.product_id, isouter=True)
            .where(OrderLine.short_qty > 0, col(Order.status).not_in([s.value for s in gone]))
            .order_by(col(Order.updated_at), col(Order.id), col(OrderLine.line_no))
            .limit(limit)
        ).all()
        return [
            ShortageView(
                order_id=o.id or 0,
                order_number=o.number,
                status=o.status,
                status_label=OrderStatus(o.status).label,
                sku=line.sku,
                name=line.name or (p.name if p else line.sku),
                location=p.location if p else None,
                quantity=line.quantity,
                picked=line.picked_qty,
                short=line.short_qty,
                updated_at=o.updated_at,
            )
            for line, o, p in rows
        ]


def location_problems(db: Database, layout: Layout) -> list[str]:
    """Products whose shelf location the warehouse layout does not know (they cannot be
    routed, so orders holding them are refused at the pick station until fixed)."""
    with db.read() as session:
        rows = session.exec(
            select(Product.sku, Product.location)
            .where(col(Product.location).is_not(None))
            .order_by(col(Product.sku))
        ).all()
    out = []
    for sku, code in rows:
        try:
            parse_location(code or "", layout)
        except LocationError as exc:
            out.append(f"{sku}: {exc}")
    return out
