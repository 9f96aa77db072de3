"""The outbox: changes the shop must hear about, written with the change that caused them.

An operation that changes something the shop cares about (a note for picked/packed, the
tracking number, the completed transaction) calls :func:`enqueue` inside its own transaction,
so the change and the promise to tell the shop commit together or not at all. The sync engine
drains the outbox in order per order; a supervisor can retry or discard what got parked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from packbench.data.engine import Database
from packbench.data.models import Order, OutboxItem, SyncState
from packbench.data.types import utcnow
from packbench.operations.common import Actor, Refused, record_event, require_supervisor

KINDS = ("note", "meta", "complete")


@dataclass(frozen=True)
class OutboxView:
    id: int
    order_number: str | None
    kind: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class SyncHealth:
    last_ok_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    orders_pulled: int
    waiting: int
    parked: int


def enqueue(
    session: Session, order_id: int | None, kind: str, payload: dict[str, Any], key: str
) -> OutboxItem:
    """Add one change for the shop, in the caller's transaction. The same key twice is one row."""
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}")
    existing = session.exec(select(OutboxItem).where(OutboxItem.idempotency_key == key)).first()
    if existing is not None:
        return existing
    item = OutboxItem(
        order_id=order_id,
        kind=kind,
        idempotency_key=key,
        payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
        status="pending",
        next_attempt_at=utcnow(),
    )
    session.add(item)
    session.flush()
    return item


def _view(item: OutboxItem, number: str | None) -> OutboxView:
    assert item.id is not None
    return OutboxView(
        id=item.id,
        order_number=number,
        kind=item.kind,
        status=item.status,
        attempts=item.attempts,
        last_error=item.last_error,
        created_at=item.created_at,
        next_attempt_at=item.next_attempt_at,
    )


def list_items(
    db: Database, *, statuses: tuple[str, ...] = ("pending", "parked")
) -> list[OutboxView]:
    with db.read() as session:
        rows = session.exec(
            select(OutboxItem, Order.number)
            .join(Order, col(OutboxItem.order_id) == col(Order.id), isouter=True)
            .where(col(OutboxItem.status).in_(statuses))
            .order_by(col(OutboxItem.id))
        ).all()
        return [_view(item, number) for item, number in rows]


def _settle_parked(db: Database, actor: Actor, item_id: int, status: str, what: str) -> None:
    """Move a parked item to ``status`` and say so in its order's history, in one transaction."""

    def run(session: Session) -> None:
        item = session.get(OutboxItem, item_id)
        if item is None or item.status != "parked":
            raise Refused(f"Outbox item {item_id} is not parked.")
        item.status = status
        if status == "pending":
            item.next_attempt_at = utcnow()
        else:
            item.done_at = utcnow()
        session.add(item)
        record_event(
            session,
            actor,
            "sync",
            order_id=item.order_id,
            message=f"parked {item.kind} {what}",
            data={"outbox": item_id},
        )

    db.transact(run)


def retry_parked(db: Database, actor: Actor, item_id: int) -> None:
    """A supervisor sends a parked item again (after fixing what made the shop refuse it)."""
    require_supervisor(actor)
    _settle_parked(db, actor, item_id, "pending", "sent again")


def discard_parked(db: Database, actor: Actor, item_id: int, reason: str) -> None:
    """A supervisor gives up on a parked item; the reason stays in the order's history."""
    require_supervisor(actor)
    if not reason.strip():
        raise Refused("Say why the item is discarded.")
    _settle_parked(db, actor, item_id, "discarded", f"discarded: {reason.strip()}")


def _state(session: Session, key: str) -> str | None:
    row = session.get(SyncState, key)
    return row.value if row else None


def sync_health(db: Database) -> SyncHealth:
    with db.read() as session:
        counts = dict(
            session.exec(
                select(OutboxItem.status, func.count())
                .where(col(OutboxItem.status).in_(("pending", "parked")))
                .group_by(OutboxItem.status)
            ).all()
        )
        ok = _state(session, "sync.last_ok_at")
        err_at = _state(session, "sync.last_error_at")
        return SyncHealth(
            last_ok_at=datetime.fromisoformat(ok) if ok else None,
            last_error=_state(session, "sync.last_error") or None,
            last_error_at=datetime.fromisoformat(err_at) if err_at else None,
            orders_pulled=int(_state(session, "sync.orders_pulled") or 0),
            waiting=counts.get("pending", 0),
            parked=counts.get("parked", 0),
        )
