"""The database side of syncing with the shop: lease, cursors, pages, problems, outbox states.

The sync engine (``packbench.shop.sync``) does the talking to the shop; every change it makes
here goes through these functions, each one transaction, like every other operation. A page of
the shop's products, and the open orders' lines linked to them, is ``sync_products``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, func, select

from packbench.data.engine import Database
from packbench.data.models import Order, OutboxItem, SyncLease, SyncState, table_of
from packbench.data.types import utcnow
from packbench.operations.common import Actor, Refused, record_event, require_supervisor
from packbench.operations.intake import (
    FUTURE_SKEW,
    IntakeResult,
    OrderIn,
    is_unchanged,
    receive_order,
)
from packbench.operations.intake_batch import Known, known_orders, write_page
from packbench.redact import redact

log = logging.getLogger(__name__)

INVOICE_META = "_packbench_invoice_number"
CAPTURE_META = "_payment_captured_at"


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


def set_state(db: Database, key: str, value: str) -> None:
    db.transact(lambda session: _set_state(session, key, value))


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


def lease_holder(db: Database, name: str) -> tuple[str, datetime] | None:
    """Who holds the lease and until when, while it is alive."""
    with db.read() as session:
        lease = session.get(SyncLease, name)
        if lease is None or lease.expires_at <= utcnow():
            return None
        return lease.holder, lease.expires_at


def release_lease(db: Database, name: str, holder: str) -> None:
    def run(session: Session) -> None:
        lease = session.get(SyncLease, name)
        if lease is not None and lease.holder == holder:
            session.delete(lease)

    db.transact(run)


# -- what the sync could not take: kept for the supervisor until it is taken or dismissed -----
#: ``sync_state`` keys of the sync's open problems: ``problem.order.<shop id>``,
#: ``problem.product.<shop id>``, ``problem.number.<shop id>`` (taken under another number).
PROBLEM = "problem."


@dataclass(frozen=True)
class SyncProblem:
    key: str
    kind: str  # order | product (not taken) | number (taken under its shop id)
    message: str
    since: datetime


def _note_problem(session: Session, actor: Actor, key: str, message: str, *, known: bool) -> None:
    """Keep the problem for the dashboard; log it and write its event the first time only
    (a refused order comes again every round until the shop changes it)."""
    row = session.get(SyncState, key)
    if row is not None and json.loads(row.value or "{}").get("message") == message:
        return
    value = json.dumps({"message": message}, ensure_ascii=False)
    if row is None:
        row = SyncState(key=key, value=value)
    row.value, row.updated_at = value, utcnow()
    session.add(row)
    log.warning("%s", message)
    record_event(
        session, actor, "sync", result="info" if known else "refused", message=message[:1000]
    )


def _open_problems(session: Session, prefix: str) -> set[str]:
    return set(session.exec(select(SyncState.key).where(col(SyncState.key).startswith(prefix))))


def list_problems(session: Session) -> list[SyncProblem]:
    out = []
    for row in session.exec(
        select(SyncState)
        .where(col(SyncState.key).startswith(PROBLEM))
        .order_by(col(SyncState.updated_at))
    ):
        kind = row.key.removeprefix(PROBLEM).split(".", 1)[0]
        message = json.loads(row.value or "{}").get("message", "")
        out.append(SyncProblem(row.key, kind, message, row.updated_at))
    return out


def count_problems(db: Database) -> int:
    with db.read() as session:
        return session.exec(
            select(func.count()).where(col(SyncState.key).startswith(PROBLEM))
        ).one()


def dismiss_problem(db: Database, actor: Actor, key: str, reason: str) -> None:
    """A supervisor has seen a sync problem (and fixed it in the shop, or decided it is fine)."""
    require_supervisor(actor)
    if not key.startswith(PROBLEM):
        raise Refused("That is not a problem of the sync.")

    def run(session: Session) -> None:
        row = session.get(SyncState, key)
        if row is None:
            raise Refused("That problem was cleared already.")
        message = json.loads(row.value or "{}").get("message", "")
        session.delete(row)
        record_event(
            session, actor, "decision", message=f"sync problem “{message}” dismissed: {reason}"
        )

    db.transact(run)


def note_rejected(db: Database, actor: Actor, rejected: Iterable[tuple[str, str]]) -> None:
    """Items of a page the adapter could not read ("order 727", reason), kept like refusals."""
    items = list(rejected)
    if not items:
        return

    def run(session: Session) -> None:
        for ref, reason in items:
            kind, _, ident = ref.partition(" ")
            if kind in ("order", "product") and ident.isdigit():
                key = f"{PROBLEM}{kind}.{ident}"
                text = f"{ref} from the shop could not be taken: {reason}"
                _note_problem(session, actor, key, text[:1000], known=False)

    db.transact(run)


def _retry_whole(exc: BaseException) -> bool:
    """Errors that spoil the transaction rather than the one order: ``transact`` retries them."""
    if not isinstance(exc, DBAPIError):
        return False
    text = str(exc).lower()
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return "database is locked" in text or "database is busy" in text or code in _RETRY_WHOLE


_RETRY_WHOLE = {"40001", "40P01"}


def _reason(exc: BaseException) -> str:
    """One short line for a person; never the driver's SQL, parameters or links."""
    if isinstance(exc, Refused):
        return exc.message
    if isinstance(exc, DBAPIError):
        return redact(f"the database refused it ({_first_line(exc.orig)})")
    return redact(f"{type(exc).__name__}: {_first_line(exc)}")


def _first_line(exc: object) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else ""


# -- pull -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PageResult:
    pulled: int
    created: int
    changed: int
    flagged: int
    refused: int = 0
    future: int = 0


def apply_order_page(
    db: Database,
    actor: Actor,
    orders: Iterable[OrderIn],
    *,
    cursor_key: str,
    only_known: bool = False,
    now: datetime | None = None,
) -> PageResult:
    """One page of orders and the moved cursor, in one transaction: a crash resumes cleanly.

    The page is written in a handful of statements (``intake_batch.write_page``), with no
    savepoint: what the bench refuses for a length or a number is refused before anything
    is written. Should the database still refuse a row, the transaction is rolled back and
    the page written again order by order, each in its own savepoint: whatever is wrong with
    one — a number the bench cannot give, a field too long, a constraint — refuses that order
    with a line in the log and an item on the dashboard, never the page or the round. The
    cursor never moves past now (plus a little skew): an order dated in the future is taken
    but leaves the cursor where it was, or every later pull would ask for nothing.
    """
    orders = list(orders)

    def run(session: Session, careful: bool) -> PageResult:
        return _order_page(session, actor, orders, cursor_key, only_known, now, careful)

    try:
        return db.transact(lambda session: run(session, False))
    except _OneByOne as exc:
        log.info("page written order by order: %s", exc.reason)
        return db.transact(lambda session: run(session, True))


_STATE = table_of(SyncState).c
_CURSOR = select(_STATE.value).where(_STATE.key == bindparam("key"))
# Not a range of keys: PostgreSQL's collation may order "." and "/" otherwise than bytes do.
_ORDER_PROBLEMS = select(_STATE.key).where(
    _STATE.key.startswith(f"{PROBLEM}order.", autoescape=True)
)
_MOVE_CURSOR = (
    update(table_of(SyncState))
    .where(_STATE.key == bindparam("b_key"))
    .values(value=bindparam("b_value"), updated_at=bindparam("b_at"))
)


class _OneByOne(Exception):
    """The database refused a row of a page written in bulk: write it again one by one."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _order_page(
    session: Session,
    actor: Actor,
    orders: list[OrderIn],
    cursor_key: str,
    only_known: bool,
    now: datetime | None,
    careful: bool,
) -> PageResult:
    conn = session.connection()
    horizon = (now or utcnow()) + FUTURE_SKEW
    stored = conn.execute(_CURSOR, {"key": cursor_key}).scalar()
    newest = datetime.fromisoformat(stored) if stored else None
    if newest is not None and newest > horizon:
        newest = None  # a cursor from before this rule: forget it (see ``pull_since``)
    open_problems = set(conn.execute(_ORDER_PROBLEMS).scalars().all())  # few: a page's worth
    known = known_orders(conn, [o.shop_order_id for o in orders])
    result = _Tally()
    taken: list[tuple[OrderIn, str | None]] = []
    fresh: list[OrderIn] = []
    fresh_ids: set[int] = set()
    changed: list[tuple[Known, OrderIn]] = []
    again: list[OrderIn] = []  # the same order twice on a page: after the first is written
    written: list[OrderIn] = []  # in the page's order, for the careful way
    for incoming in orders:
        if incoming.modified_at and incoming.modified_at > horizon:
            result.future += 1
            log.warning(
                "order id %s is dated in the future (%s): taken, the pull cursor stays",
                incoming.shop_order_id,
                incoming.modified_at.isoformat(),
            )
        elif incoming.modified_at and (newest is None or incoming.modified_at > newest):
            newest = incoming.modified_at
        order = known.get(incoming.shop_order_id)
        if order is None:
            if only_known:
                continue
            if incoming.shop_order_id in fresh_ids:
                again.append(incoming)
            else:
                fresh.append(incoming)
                fresh_ids.add(incoming.shop_order_id)
            written.append(incoming)
        elif is_unchanged(order, incoming):
            result.pulled += 1  # re-read in the overlap: nothing to write
            taken.append((incoming, None))
        else:
            changed.append((order, incoming))
            written.append(incoming)
    if careful:
        for incoming in written:
            try:
                with session.begin_nested():
                    outcome = receive_order(session, actor, incoming)
            except Exception as exc:
                if _retry_whole(exc):
                    raise
                result.refused += 1
                _refused(session, actor, incoming, _reason(exc))
                continue
            result.add(outcome)
            taken.append((incoming, outcome.note))
    else:
        try:
            batch = write_page(session, actor, fresh, changed)
            outcomes = [*batch.taken]
            for incoming in [*batch.one_by_one, *again]:
                outcomes.append((incoming, receive_order(session, actor, incoming)))
        except Exception as exc:
            if _retry_whole(exc):
                raise
            raise _OneByOne(_reason(exc)) from exc
        for incoming, outcome in outcomes:
            result.add(outcome)
            taken.append((incoming, outcome.note))
        for incoming, reason in batch.refused:
            result.refused += 1
            _refused(session, actor, incoming, reason)
    _taken(session, actor, taken, open_problems)
    if newest is not None:
        value = newest.isoformat()
        if stored is None:
            _set_state(session, cursor_key, value)
        elif value != stored:
            conn.execute(_MOVE_CURSOR, {"b_key": cursor_key, "b_value": value, "b_at": utcnow()})
    return PageResult(
        result.pulled,
        result.created,
        result.changed,
        result.flagged,
        result.refused,
        result.future,
    )


@dataclass
class _Tally:
    pulled: int = 0
    created: int = 0
    changed: int = 0
    flagged: int = 0
    refused: int = 0
    future: int = 0

    def add(self, outcome: IntakeResult) -> None:
        self.pulled += 1
        self.created += outcome.created
        self.changed += outcome.changed
        self.flagged += outcome.flagged is not None


def _taken(
    session: Session,
    actor: Actor,
    taken: list[tuple[OrderIn, str | None]],
    open_problems: set[str],
) -> None:
    """Orders taken: their open problems (a refusal of an earlier round) are over, and an
    order taken under another number is told to the supervisor."""
    done = {f"{PROBLEM}order.{incoming.shop_order_id}" for incoming, _ in taken} & open_problems
    if done:
        session.execute(delete(SyncState).where(col(SyncState.key).in_(done)))
    for incoming, note in taken:
        if note:
            key = f"{PROBLEM}number.{incoming.shop_order_id}"
            _note_problem(session, actor, key, note, known=True)


def _refused(session: Session, actor: Actor, incoming: OrderIn, reason: str) -> None:
    text = (
        f"order id {incoming.shop_order_id} (number {incoming.number}) from the shop could "
        f"not be taken: {reason}"
    )
    _note_problem(
        session, actor, f"{PROBLEM}order.{incoming.shop_order_id}", text[:1000], known=False
    )


def pull_since(db: Database, cursor_key: str, *, now: datetime | None = None) -> datetime | None:
    """Where the next pull starts: the stored cursor, unless it lies in the future (written
    before the cursor was bounded, or by a clock gone wrong) — then from the start again."""
    text = get_state(db, cursor_key)
    if not text:
        return None
    cursor = datetime.fromisoformat(text)
    if cursor > (now or utcnow()) + FUTURE_SKEW:
        log.warning("pull cursor %s lies in the future: pulling from the start", text)
        return None
    return cursor


# -- push -------------------------------------------------------------------------------------
def due_outbox(db: Database, *, limit: int = 500) -> list[tuple[int, int | None, datetime | None]]:
    """Pending items in order: (id, order id, when due)."""
    with db.read() as session:
        rows = session.exec(
            select(OutboxItem.id, OutboxItem.order_id, OutboxItem.next_attempt_at)
            .where(OutboxItem.status == "pending")
            .order_by(col(OutboxItem.id))
            .limit(limit)
        ).all()
        return [(oid, order_id, due) for oid, order_id, due in rows if oid is not None]


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
