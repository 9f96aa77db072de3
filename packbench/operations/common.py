"""What every operation shares: who acts, how a refusal looks, and the event row.

Each public operation is one transaction that writes the new state and its event row together
(and, from the sync issue on, an outbox row). It returns plain dataclasses; nothing that leaves
this package is a live ORM object.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlmodel import Session

from packbench.core.workflow import Action, IllegalTransition, next_status
from packbench.data.engine import Database
from packbench.data.models import Event, Order, table_of
from packbench.data.types import utcnow
from packbench.operations.actor import Actor as Actor  # where every operation finds it

MAX_CODE_CHARS = 500

T = TypeVar("T")


class Refused(Exception):
    """The operation refused; nothing changed. The message is for the person at the station."""

    def __init__(
        self, message: str, *, code: str | None = None, order_id: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.order_id = order_id


class NotAllowed(Refused):
    """The actor's role does not allow this."""


def require_supervisor(actor: Actor) -> None:
    if not actor.is_supervisor:
        raise NotAllowed("only a supervisor can do that")


def clip_code(code: str | None) -> str | None:
    """Keep the log row bounded even when a scanner sends a 10,000-character burst."""
    if code is None or len(code) <= MAX_CODE_CHARS:
        return code
    return code[: MAX_CODE_CHARS - 20] + f"…(+{len(code) - MAX_CODE_CHARS + 20} chars)"


#: An event row inserted in SQLAlchemy Core (``event_row`` gives its values).
EVENT_INSERT = insert(table_of(Event))


def record_event(
    session: Session,
    actor: Actor,
    kind: str,
    *,
    order_id: int | None = None,
    code: str | None = None,
    result: str = "ok",
    message: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Event:
    event = Event(
        **event_row(
            actor,
            kind,
            order_id=order_id,
            code=code,
            result=result,
            message=message,
            data=data,
            at=at,
        )
    )
    session.add(event)
    return event


def event_row(
    actor: Actor,
    kind: str,
    *,
    order_id: int | None = None,
    code: str | None = None,
    result: str = "ok",
    message: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """An event row's values, as ``record_event`` adds it (and a statement in SQLAlchemy Core
    inserts it: ``pack_rows``)."""
    return {
        "at": at or utcnow(),
        "order_id": order_id,
        "packer_id": actor.packer_id,
        "station": actor.station,
        "terminal": actor.terminal,
        "kind": kind,
        "code": clip_code(code),
        "result": result,
        "message": message[:1000],
        "data": json.dumps(data, ensure_ascii=False, sort_keys=True) if data else None,
    }


def change_status(
    session: Session,
    order: Order,
    action: Action,
    actor: Actor,
    *,
    code: str | None = None,
    message: str = "",
    reason: str | None = None,
    at: datetime | None = None,
) -> None:
    """Move ``order`` by ``action`` and log it, or raise ``Refused`` with the rule's reason."""
    try:
        new = next_status(order.status, action, held_from=order.held_from)
    except IllegalTransition as exc:
        raise Refused(f"Order {order.number}: {exc}.") from None
    old = order.status
    if action is Action.HOLD:
        order.held_from = old
        order.hold_reason = reason
    elif action is Action.RELEASE:
        order.held_from = None
        order.hold_reason = None
    order.status = new.value
    order.updated_at = at or utcnow()
    session.add(order)
    record_event(
        session,
        actor,
        "status",
        order_id=order.id,
        code=code,
        message=message or f"{old} → {new.value}",
        data={"from": old, "to": new.value, "action": action.value, "reason": reason},
        at=at,
    )


def transact_logged(
    db: Database,
    actor: Actor,
    fn: Callable[[Session], T],
    *,
    kind: str,
    code: str | None = None,
    order_id: int | None = None,
) -> T:
    """Run ``fn`` in one transaction; if it refuses, undo its changes but log the refusal.

    The refusal row is committed before ``Refused`` reaches the caller, so every scan, good or
    bad, is in the event log, and a refused scan changes nothing else: its transaction is rolled
    back whole and the refusal logged in one of its own. (A savepoint around ``fn`` did the same
    in one transaction, at two statements more for every scan that was not refused.)
    """
    try:
        return db.transact(fn)
    except Refused as exc:
        refused = exc
    log_refusal(
        db,
        actor,
        kind,
        code=code,
        message=refused.message,
        order_id=refused.order_id if refused.order_id is not None else order_id,
    )
    raise refused


def log_refusal(
    db: Database,
    actor: Actor,
    kind: str,
    *,
    code: str | None,
    message: str,
    order_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Commit a refusal's event row in a transaction of its own: every scan, good or bad, is in
    the event log, and a refused one changes nothing else.

    One row, one statement, in SQLAlchemy Core: through an ORM session (its flush and commit)
    the row cost a refused scan at the bench more than deciding it was wrong (#20)."""
    row = event_row(
        actor, kind, order_id=order_id, code=code, result="refused", message=message, data=data
    )
    db.transact_core(lambda conn: conn.execute(EVENT_INSERT, row))
