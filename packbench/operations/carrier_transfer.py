"""Transferring consignments to the carrier when the post station closes a handover (#14).

Cargonizer books a consignment *open*: the carrier has no EDI until it is transferred. The
transfer belongs to the moment the parcels leave: the post station's close.

1. **Intent** (in the close's own transaction, :func:`record_transfers`): one
   ``carrier_transfer`` row per shipment of a carrier that needs it, ``pending``. A shipment
   has at most one row, so a consignment is transferred once, whichever handover (a parcel
   left behind goes with a later one) closes first.
2. **Send** (:func:`send_transfers`, after the close committed, outside any transaction): the
   due rows are claimed (``sending``, with the time the call began) in one transaction, then
   sent in one call per carrier, then the answer recorded: ``done``; or ``pending`` again with
   the error and a back-off when the call certainly did nothing (refused connection, 429, a
   refusal); or left ``sending`` when it may have reached the carrier (timeout, dropped
   connection, 5xx, an answer that cannot be read).
3. A row left ``sending`` (the call's answer was lost: ``sent_at`` empty; or the process
   died mid-call: ``sent_at`` long past) is **looked up before it is sent again**
   (Cargonizer's transfer is not documented as idempotent): the search by reference says
   whether the consignment is transferred already; only a "no" sends it. A row another
   process is sending right now (its call began less than ``stale_after_s`` ago) is left
   alone.

A failed transfer never undoes or blocks the close: the parcels are handed over, the manifest
printed; the post station says the transfer failed and will be retried
(:func:`transfer_problems`), and retries it (:func:`send_transfers` on a timer).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from sqlalchemy import update
from sqlmodel import Session, col, select

from packbench.carriers import (
    AuthError,
    CarrierError,
    NotFound,
    RateLimited,
    Rejected,
    TransientError,
)
from packbench.carriers.cargonizer_payloads import consignment_id_of
from packbench.data.engine import Database
from packbench.data.models import CarrierLabel, CarrierTransfer, Order, Shipment
from packbench.data.types import utcnow
from packbench.operations.common import (
    Actor,
    Refused,
    record_event,
    require_supervisor,
    transact_logged,
)
from packbench.redact import cut

if TYPE_CHECKING:
    from packbench.config import ShipSettings
    from packbench.operations.carrier_booking import CarrierFactory

__all__ = [
    "TransferReport",
    "TransferView",
    "Transfers",
    "needs_transfer",
    "record_transfers",
    "retry_transfer",
    "send_transfers",
    "transfer_problems",
]

#: A call that began longer ago than this and has no answer recorded died with its process.
STALE_AFTER_S = 120.0
FIRST_BACKOFF_S = 30.0
MAX_BACKOFF_S = 1800.0


@runtime_checkable
class Transfers(Protocol):
    """A carrier whose consignments are sent to the carrier by a separate call (Cargonizer)."""

    name: str

    def transfer(self, consignment_ids: list[str]) -> None: ...

    def transfer_state(self, consignment_id: str, reference: str) -> bool | None: ...


def needs_transfer(ship: ShipSettings | None, carrier: str) -> bool:
    """Whether ``carrier``'s consignments are transferred when its handover closes."""
    settings = ship.carriers.get(carrier) if ship is not None else None
    return (
        settings is not None and settings.kind == "cargonizer" and not settings.transfer_on_booking
    )


# --------------------------------------------------------------------------- 1. intent


def _consignment_id(session: Session, shipment: Shipment) -> str | None:
    found = consignment_id_of(shipment.booking_response or "")
    if found:
        return found
    for url in session.exec(
        select(CarrierLabel.url).where(CarrierLabel.shipment_id == shipment.id)
    ).all():
        cid = url.removeprefix("cargonizer:")
        if url.startswith("cargonizer:") and cid.isdigit():
            return cid
    return None


def record_transfers(
    session: Session, actor: Actor, handover_id: int, carrier: str, shipment_ids: Iterable[int]
) -> list[int]:
    """In the close's transaction: a ``pending`` transfer for each booked shipment that has
    none yet → the new rows' ids. A shipment without the carrier's id is said in the history
    (a person transfers it in Cargonizer), never silently skipped."""
    made = []
    now = utcnow()
    for sid in sorted(set(shipment_ids)):
        shipment = session.get(Shipment, sid)
        if shipment is None or shipment.booking_state != "booked":
            continue
        taken = select(CarrierTransfer.id).where(CarrierTransfer.shipment_id == sid)
        if session.exec(taken).first() is not None:
            continue
        cid = _consignment_id(session, shipment)
        if cid is None:
            record_event(
                session, actor, "transfer", order_id=shipment.order_id, result="refused",
                message=f"{carrier} consignment {shipment.consignment_number}: its id is not "
                "known here; transfer it in Cargonizer",
                data={"shipment": sid, "handover": handover_id},
            )  # fmt: skip
            continue
        order = session.get(Order, shipment.order_id)
        reference = order.number if order is not None else ""
        row = CarrierTransfer(
            shipment_id=sid, handover_id=handover_id, carrier=carrier, consignment_id=cid,
            reference=reference[:100], status="pending", next_attempt_at=now,
        )  # fmt: skip
        session.add(row)
        session.flush()
        assert row.id is not None
        made.append(row.id)
    if made:
        record_event(
            session, actor, "transfer", message=f"{len(made)} {carrier} consignment"
            f"{'s' if len(made) != 1 else ''} to transfer (handover {handover_id})",
            data={"handover": handover_id, "transfers": made},
        )  # fmt: skip
    return made


# --------------------------------------------------------------------------- 2. send


@dataclass(frozen=True)
class TransferReport:
    sent: int = 0  # transferred by a call made now
    found: int = 0  # found transferred already (a lost answer)
    failed: tuple[str, ...] = ()  # what went wrong, one line per carrier or consignment
    waiting: int = 0  # rows still to transfer after this round

    @property
    def message(self) -> str:
        parts = []
        if self.sent or self.found:
            n = self.sent + self.found
            parts.append(f"{n} consignment{'s' if n != 1 else ''} transferred to the carrier")
        if self.failed:
            parts.append(
                f"transfer failed ({self.failed[0]}); {self.waiting} waiting, retried automatically"
            )
        return "; ".join(parts)


@dataclass
class _Claimed:
    id: int
    carrier: str
    consignment_id: str
    reference: str
    order_id: int | None
    uncertain: bool  # a call may have reached the carrier before
    errors: list[str] = field(default_factory=list)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(FIRST_BACKOFF_S * 2 ** max(0, attempts - 1), MAX_BACKOFF_S))


def _claim(db: Database, now: datetime, stale_after_s: float, limit: int) -> list[_Claimed]:
    """Take the due rows: ``pending`` ones, and ``sending`` ones whose call is stale. Each is
    taken by a compare-and-set on its status and call time, so two terminals never both send."""

    def run(session: Session) -> list[_Claimed]:
        stale = now - timedelta(seconds=stale_after_s)
        rows = session.exec(
            select(CarrierTransfer, Shipment.order_id)
            .join(Shipment, col(Shipment.id) == col(CarrierTransfer.shipment_id))
            .where(col(CarrierTransfer.status).in_(("pending", "sending")))
            .order_by(col(CarrierTransfer.id))
            .limit(limit)
        ).all()
        out = []
        for row, order_id in rows:
            if row.next_attempt_at is not None and row.next_attempt_at > now:
                continue
            if row.status == "sending" and row.sent_at is not None and row.sent_at > stale:
                continue  # another process's call, under way
            was, attempts = row.status, row.attempts  # (the update below refreshes ``row``)
            # ``attempts`` is the row's version: only one claimant moves it on.
            taken = session.execute(
                update(CarrierTransfer)
                .where(
                    col(CarrierTransfer.id) == row.id,
                    col(CarrierTransfer.status) == was,
                    col(CarrierTransfer.attempts) == attempts,
                )
                .values(status="sending", sent_at=now, attempts=attempts + 1)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult, which has it
                continue
            assert row.id is not None
            out.append(
                _Claimed(
                    row.id,
                    row.carrier,
                    row.consignment_id,
                    row.reference,
                    order_id,
                    uncertain=was == "sending",
                )
            )
        return out

    return db.transact(run)


def _settle(
    db: Database, actor: Actor, claimed: list[_Claimed], status: str, *, found: bool = False
) -> None:
    """Record the answer for ``claimed``: ``done``, back to ``pending`` or left ``sending``
    (each with its error and a back-off)."""

    def run(session: Session) -> None:
        now = utcnow()
        for c in claimed:
            row = session.get(CarrierTransfer, c.id)
            assert row is not None
            row.status = status
            if status == "done":
                row.done_at = now
                row.last_error = None
                record_event(
                    session, actor, "transfer", order_id=c.order_id,
                    message=f"{c.carrier} consignment {c.consignment_id} transferred"
                    + (" (found so by reference)" if found else ""),
                    data={"transfer": c.id, "consignment": c.consignment_id},
                )  # fmt: skip
            else:
                row.last_error = cut("; ".join(c.errors), 1000) or None
                row.next_attempt_at = now + _backoff(row.attempts)
                if status == "sending":
                    # The call is over, its outcome unknown: no longer under way (``sent_at``
                    # empty), looked up at the next attempt.
                    row.sent_at = None
                record_event(
                    session, actor, "transfer", order_id=c.order_id, result="refused",
                    message=cut(f"{c.carrier} consignment {c.consignment_id}: "
                                f"{'; '.join(c.errors)}", 500),
                    data={"transfer": c.id, "status": status},
                )  # fmt: skip
            session.add(row)

    if claimed:
        db.transact(run)


def send_transfers(
    db: Database,
    actor: Actor,
    ship: ShipSettings,
    *,
    factory: CarrierFactory | None = None,
    stale_after_s: float = STALE_AFTER_S,
    limit: int = 200,
) -> TransferReport:
    """Send every due transfer (outside any transaction) and record the answers."""
    from packbench.operations.carrier_booking import make_carrier

    factory = factory or make_carrier
    claimed = _claim(db, utcnow(), stale_after_s, limit)
    sent = found = 0
    failed: list[str] = []
    by_carrier: dict[str, list[_Claimed]] = {}
    for c in claimed:
        by_carrier.setdefault(c.carrier, []).append(c)
    for name, rows in by_carrier.items():
        try:
            if name not in ship.carriers:
                raise Refused(f"carrier {name} is no longer configured")
            carrier = factory(ship, name)
            if not isinstance(carrier, Transfers):
                raise Refused(f"{name} has no transfer call")
        except Refused as exc:
            for c in rows:
                c.errors.append(exc.message)
            failed.append(exc.message)
            _settle(db, actor, rows, "pending")
            continue
        # A row whose earlier call may have reached the carrier is looked up first.
        to_send: list[_Claimed] = []
        for c in rows:
            if not c.uncertain:
                to_send.append(c)
                continue
            try:
                state = carrier.transfer_state(c.consignment_id, c.reference)
            except CarrierError as exc:
                c.errors.append(f"could not check whether it was transferred: {exc.message}")
                failed.append(c.errors[-1])
                _settle(db, actor, [c], "sending")
                continue
            if state:
                found += 1
                _settle(db, actor, [c], "done", found=True)
            elif state is None:
                c.errors.append(
                    f"{name} does not find consignment {c.consignment_id} by reference "
                    f"{c.reference!r}; check it in {name}"
                )
                failed.append(c.errors[-1])
                _settle(db, actor, [c], "sending")
            else:
                to_send.append(c)
        if not to_send:
            continue
        try:
            carrier.transfer([c.consignment_id for c in to_send])
        except (RateLimited, Rejected, AuthError, NotFound) as exc:  # refused: nothing done
            _fail(to_send, exc, failed)
            _settle(db, actor, to_send, "pending")
        except TransientError as exc:
            _fail(to_send, exc, failed)
            _settle(db, actor, to_send, "sending" if exc.sent else "pending")
        except CarrierError as exc:  # an answer we cannot read: it may have been done
            _fail(to_send, exc, failed)
            _settle(db, actor, to_send, "sending")
        else:
            sent += len(to_send)
            _settle(db, actor, to_send, "done")
    with db.read() as session:
        waiting = len(
            session.exec(
                select(CarrierTransfer.id).where(col(CarrierTransfer.status) != "done")
            ).all()
        )
    return TransferReport(sent, found, tuple(failed), waiting)


def _fail(rows: list[_Claimed], exc: CarrierError, failed: list[str]) -> None:
    for c in rows:
        c.errors.append(exc.message)
    failed.append(exc.message)


def retry_transfer(db: Database, actor: Actor, transfer_id: int) -> None:
    """A supervisor's word that a waiting transfer is sent at the next round, not after its
    back-off (logged). A row whose call may have reached the carrier is still looked up before
    it is sent again; one another process is sending right now is refused."""

    def run(session: Session) -> None:
        require_supervisor(actor)
        row = session.get(CarrierTransfer, transfer_id)
        if row is None:
            raise Refused(f"no carrier transfer {transfer_id}")
        shipment = session.get(Shipment, row.shipment_id)
        order_id = shipment.order_id if shipment is not None else None
        what = f"{row.carrier} consignment {row.consignment_id}"
        if row.status == "done":
            raise Refused(f"{what} is transferred already", order_id=order_id)
        now = utcnow()
        if (
            row.status == "sending"
            and row.sent_at is not None
            and row.sent_at > now - timedelta(seconds=STALE_AFTER_S)
        ):
            raise Refused(f"{what} is being sent right now", order_id=order_id)
        row.next_attempt_at = now
        session.add(row)
        record_event(
            session, actor, "transfer", order_id=order_id,
            message=f"{what}: to be sent again now (a supervisor's word)",
            data={"transfer": row.id},
        )  # fmt: skip

    transact_logged(db, actor, run, kind="transfer")


# --------------------------------------------------------------------------- 3. show


@dataclass(frozen=True)
class TransferView:
    id: int
    carrier: str
    order_number: str
    consignment_number: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None


def transfer_problems(db: Database) -> list[TransferView]:
    """Transfers not done yet, oldest first (with why, once a call failed)."""
    with db.read() as session:
        rows = session.exec(
            select(CarrierTransfer, Shipment.consignment_number, Order.number)
            .join(Shipment, col(Shipment.id) == col(CarrierTransfer.shipment_id))
            .join(Order, col(Order.id) == col(Shipment.order_id))
            .where(col(CarrierTransfer.status) != "done")
            .order_by(col(CarrierTransfer.id))
        ).all()
        return [
            TransferView(
                id=t.id or 0,
                carrier=t.carrier,
                order_number=number,
                consignment_number=consignment or t.consignment_id,
                status=t.status,
                attempts=t.attempts,
                last_error=t.last_error,
                next_attempt_at=t.next_attempt_at,
            )
            for t, consignment, number in rows
        ]
