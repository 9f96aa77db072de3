"""The database side of syncing with the shop: lease, cursors, pages, products, outbox states.

The sync engine (``packbench.shop.sync``) does the talking to the shop; every change it makes
here goes through these functions, each one transaction, like every other operation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from packbench.data.engine import Database
from packbench.data.models import Location, Order, OutboxItem, Product, SyncLease, SyncState
from packbench.data.types import utcnow
from packbench.operations.common import Actor, record_event
from packbench.operations.intake import OrderIn, ProductIn, receive_order

INVOICE_META = "_packbench_invoice_number"
CAPTURE_META = "_payment_captured_at"


@dataclass(frozen=True)
class PageResult:
    pulled: int
    created: int
    changed: int
    flagged: int


@dataclass(frozen=True)
class PushJob:
    """One outbox item taken for sending; ``maybe_sent`` when an earlier attempt may have landed."""

    item_id: int
    key: str
    order_id: int | None
    shop_order_id: int | None
    kind: str
    payload: dict[str, Any]
    maybe_sent: bool
    attempts: int


def _set_state(session: Session, key: str, value: str) -> None:
    row = session.get(SyncState, key) or SyncState(key=key, value=value)
    row.value = value
    row.updated_at = utcnow()
    session.add(row)


def get_state(db: Database, key: str) -> str | None:
    with db.read() as session:
        row = session.get(SyncState, key)
        return row.value if row else None


# -- lease ------------------------------------------------------------------------------------
def acquire_lease(db: Database, name: str, holder: str, ttl: timedelta) -> bool:
    """Take or renew the lease; False while another living holder has it."""

    def run(session: Session) -> bool:
        now = utcnow()
        lease = session.get(SyncLease, name)
        if lease is not None and lease.holder != holder and lease.expires_at > now:
            return False
        lease = lease or SyncLease(name=name, holder=holder, expires_at=now)
        lease.holder = holder
        lease.expires_at = now + ttl
        session.add(lease)
        return True

    return db.transact(run)


def release_lease(db: Database, name: str, holder: str) -> None:
    def run(session: Session) -> None:
        lease = session.get(SyncLease, name)
        if lease is not None and lease.holder == holder:
            session.delete(lease)

    db.transact(run)


# -- pull -------------------------------------------------------------------------------------
def apply_order_page(
    db: Database,
    actor: Actor,
    orders: Iterable[OrderIn],
    *,
    cursor_key: str,
    only_known: bool = False,
) -> PageResult:
    """One page of orders and the moved cursor, in one transaction: a crash resumes cleanly."""

    def run(session: Session) -> PageResult:
        row = session.get(SyncState, cursor_key)
        newest = datetime.fromisoformat(row.value) if row and row.value else None
        pulled = created = changed = flagged = 0
        for incoming in orders:
            if incoming.modified_at and (newest is None or incoming.modified_at > newest):
                newest = incoming.modified_at
            if only_known:
                known = session.exec(
                    select(Order.id).where(Order.shop_order_id == incoming.shop_order_id)
                ).first()
                if known is None:
                    continue
            outcome = receive_order(session, actor, incoming)
            pulled += 1
            created += outcome.created
            changed += outcome.changed
            flagged += outcome.flagged is not None
        if newest is not None:
            _set_state(session, cursor_key, newest.isoformat())
        return PageResult(pulled, created, changed, flagged)

    return db.transact(run)


def upsert_products(db: Database, products: Iterable[ProductIn]) -> int:
    """Create or update products from the shop (matched by shop id, then SKU)."""

    def run(session: Session) -> int:
        n = 0
        for p in products:
            row = (
                session.exec(
                    select(Product).where(Product.shop_product_id == p.shop_product_id)
                ).first()
                or session.exec(select(Product).where(Product.sku == p.sku)).first()
            )
            row = row or Product(sku=p.sku, name=p.name)
            row.sku, row.name, row.gtin = p.sku, p.name, p.gtin
            row.gtin14 = p.gtin.zfill(14) if p.gtin else None
            row.length_mm, row.width_mm, row.height_mm = p.length_mm, p.width_mm, p.height_mm
            row.weight_g, row.price_ore = p.weight_g, p.price_ore
            row.shop_product_id = p.shop_product_id
            # A shelf the layout does not know leaves the product where it was.
            if p.location and session.get(Location, p.location) is not None:
                row.location = p.location
            row.updated_at = utcnow()
            session.add(row)
            n += 1
        return n

    return db.transact(run)


# -- push -------------------------------------------------------------------------------------
def due_outbox(db: Database, *, limit: int = 500) -> list[tuple[int, int | None, datetime | None]]:
    """Pending items in order: (id, order id, when due)."""
    with db.read() as session:
        return list(
            session.exec(
                select(OutboxItem.id, OutboxItem.order_id, OutboxItem.next_attempt_at)
                .where(OutboxItem.status == "pending")
                .order_by(col(OutboxItem.id))
                .limit(limit)
            ).all()
        )


def begin_push(db: Database, item_id: int, backoff: Callable[[int], timedelta]) -> PushJob | None:
    """Record the attempt before the request, so a crash leaves "maybe sent" behind."""

    def run(session: Session) -> PushJob | None:
        item = session.get(OutboxItem, item_id)
        if item is None or item.status != "pending":
            return None
        order = session.get(Order, item.order_id) if item.order_id else None
        before = item.attempts
        item.attempts += 1
        item.next_attempt_at = utcnow() + backoff(item.attempts)
        session.add(item)
        assert item.id is not None
        return PushJob(
            item_id=item.id,
            key=item.idempotency_key,
            order_id=item.order_id,
            shop_order_id=order.shop_order_id if order else None,
            kind=item.kind,
            payload=json.loads(item.payload or "{}"),
            maybe_sent=before > 0,
            attempts=item.attempts,
        )

    return db.transact(run)


def push_retry_later(db: Database, item_id: int, message: str, delay: timedelta) -> None:
    def run(session: Session) -> None:
        item = session.get(OutboxItem, item_id)
        assert item is not None
        item.last_error = message[:1000]
        item.next_attempt_at = utcnow() + delay
        session.add(item)

    db.transact(run)


def push_parked(db: Database, actor: Actor, item_id: int, reason: str) -> None:
    def run(session: Session) -> None:
        item = session.get(OutboxItem, item_id)
        assert item is not None
        item.status = "parked"
        item.last_error = reason[:1000]
        session.add(item)
        record_event(
            session,
            actor,
            "sync",
            order_id=item.order_id,
            result="refused",
            message=f"the shop refused {item.kind}: {reason}",
            data={"outbox": item_id},
        )

    db.transact(run)


def push_done(db: Database, actor: Actor, item_id: int, meta: dict[str, str]) -> None:
    """The shop has the change; for a completion, keep the invoice number and the capture."""

    def run(session: Session) -> None:
        item = session.get(OutboxItem, item_id)
        assert item is not None
        item.status = "done"
        item.done_at = utcnow()
        item.last_error = None
        session.add(item)
        message = f"{item.kind} sent to the shop"
        order = session.get(Order, item.order_id) if item.order_id else None
        if item.kind == "complete" and order is not None:
            order.invoice_number = meta.get(INVOICE_META) or order.invoice_number
            if meta.get(CAPTURE_META):
                order.payment_status = "captured"
            session.add(order)
            message = (
                f"transaction completed in the shop: invoice {order.invoice_number or '—'}, "
                f"payment {order.payment_status}"
            )
        record_event(
            session,
            actor,
            "sync",
            order_id=item.order_id,
            message=message,
            data={"outbox": item_id},
        )

    db.transact(run)


def record_sync_result(db: Database, *, pulled: int, error: str | None) -> None:
    def run(session: Session) -> None:
        now = utcnow().isoformat()
        if error is None:
            _set_state(session, "sync.last_ok_at", now)
            _set_state(session, "sync.last_error", "")
        else:
            _set_state(session, "sync.last_error", error)
            _set_state(session, "sync.last_error_at", now)
        row = session.get(SyncState, "sync.orders_pulled")
        total = int(row.value) if row and row.value else 0
        _set_state(session, "sync.orders_pulled", str(total + pulled))

    db.transact(run)
