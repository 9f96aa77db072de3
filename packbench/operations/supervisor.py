"""The supervisor's view of the bench: what waits where, and for how long."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from packbench.config import DaySettings
from packbench.core.rhythm import (
    Advice,
    Pace,
    StationLoad,
    at_local,
    local_day_bounds,
    pace,
    per_hour,
    where_help_is_needed,
)
from packbench.core.workflow import IN_PROGRESS, Action, OrderStatus
from packbench.data.engine import Database
from packbench.data.models import (
    CarrierTransfer,
    Event,
    Order,
    OutboxItem,
    Packer,
    PrintJob,
    Shipment,
    SyncState,
)
from packbench.data.types import utcnow
from packbench.operations.common import (
    Actor,
    Refused,
    change_status,
    require_supervisor,
    transact_logged,
)
from packbench.operations.team import RosterRow, roster

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


def waiting_for(status: OrderStatus, *, pick_at_pack: bool = False) -> str | None:
    """The station an order in ``status`` waits for. With ``[pack] pick_at_pack`` (pick and
    pack in one pass) a printed slip is opened at the pack station: there is no pick station
    to wait for (an order a picker had started before still waits for pick)."""
    if pick_at_pack and status is OrderStatus.SLIP_PRINTED:
        return "pack"
    return WAITING_FOR.get(status)


@dataclass(frozen=True)
class StatusRow:
    status: str
    label: str
    count: int
    oldest_number: str | None
    oldest_at: datetime | None
    station: str | None


#: Statuses an order ends in: counted for today only (the history holds hundreds of thousands).
DONE_STATUSES = (OrderStatus.HANDED_OVER, OrderStatus.CANCELLED)


def overview(
    db: Database,
    *,
    since: datetime | None = None,
    moves: Sequence[tuple[datetime, str]] | None = None,
    pick_at_pack: bool = False,
) -> list[StatusRow]:
    """Orders per status with the oldest waiting order of each, and the station it waits for
    (``pick_at_pack``: printed slips wait for the pack station, see :func:`waiting_for`).

    Open statuses count every order in them; the end statuses (handed over, cancelled) count
    the orders that reached them since ``since`` (the start of today, for the dashboard) —
    read from today's status events, so the figure stays as quick with a year of history.
    ``moves``: those events (time, new status) when the caller has read them already.
    """
    open_values = [s.value for s in OrderStatus if s not in DONE_STATUSES]
    with db.read() as session:
        rows = session.exec(
            select(Order.status, func.count(), func.min(Order.created_at))
            .where(col(Order.status).in_(open_values))
            .group_by(Order.status)
        ).all()
        per = {status: n for status, n, _oldest in rows}
        done: dict[str, int] = {}
        if moves is None and since is not None:
            moves = _status_events_since(session, since)
        if moves is not None:
            for _at, to in moves:
                if to in (s.value for s in DONE_STATUSES):
                    done[to] = done.get(to, 0) + 1
        out = []
        for status in OrderStatus:
            if status in DONE_STATUSES:
                out.append(
                    StatusRow(
                        status=status.value,
                        label=f"{status.label} today",
                        count=done.get(status.value, 0),
                        oldest_number=None,
                        oldest_at=None,
                        station=None,
                    )
                )
                continue
            n = per.get(status.value, 0)
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
                    station=waiting_for(status, pick_at_pack=pick_at_pack),
                )
            )
        return out


# -- the whole bench at once (#8) ---------------------------------------------------------------
#: A status an order moves into when it leaves a station: counts as that station's output.
LEFT_STATION = {
    OrderStatus.SLIP_PRINTED.value: "admin",
    OrderStatus.PICKED.value: "pick",
    OrderStatus.PACKED.value: "pack",
    OrderStatus.SHIPPED.value: "ship",
    OrderStatus.HANDED_OVER.value: "post",
}

#: Orders in these statuses still have to ship.
NOT_SHIPPED = tuple(s.value for s in (*sorted(IN_PROGRESS), OrderStatus.ON_HOLD))

#: A claim at the pack station older than this is shown as stale.
STALE_CLAIM = timedelta(minutes=30)

#: A carrier transfer not through this long after its handover closed is shown, error or not
#: (the close sends it at once; a post station or ``packbench handovers`` sends it again).
TRANSFER_LATE = timedelta(minutes=5)


@dataclass(frozen=True)
class ExceptionRow:
    # hold | claim | parked | print | sync | shop (a sync problem; ref is its key) | transfer
    kind: str
    ref: str  # order number, outbox id, print job id
    since: datetime | None
    detail: str
    order_id: int | None = None
    item_id: int | None = None


@dataclass(frozen=True)
class BenchFigures:
    at: datetime
    states: list[StatusRow]
    completed_today: int
    pace: Pace
    cutoff: datetime
    shift_end: datetime
    per_hour: list[int]  # orders shipped in each local clock hour of today
    packed_per_hour: list[int]  # orders packed in each local clock hour of today (the chart)
    team: list[RosterRow]
    loads: list[StationLoad]
    advice: list[Advice]
    exceptions: list[ExceptionRow]


def _status_events_since(session: Session, since: datetime) -> list[tuple[datetime, str]]:
    rows = session.exec(
        select(Event.at, Event.data).where(
            Event.kind == "status", Event.result == "ok", col(Event.at) >= since
        )
    ).all()
    out = []
    for at, data in rows:
        to = json.loads(data).get("to") if data else None
        if to:
            out.append((at, to))
    return out


def exceptions(db: Database, *, now: datetime | None = None) -> list[ExceptionRow]:
    """What is stuck and needs a supervisor: holds, stale claims, parked pushes, failed prints."""
    failed = aliased(PrintJob)
    now = now or utcnow()
    with db.read() as session:
        out: list[ExceptionRow] = []
        for o in session.exec(
            select(Order)
            .where(Order.status == OrderStatus.ON_HOLD.value)
            .order_by(col(Order.updated_at))
        ).all():
            out.append(
                ExceptionRow("hold", o.number, o.updated_at, o.hold_reason or "on hold", o.id)
            )
        # A claim untouched too long; and an order left in *packing* that long whoever (if
        # anyone) holds it — twelve days in packing is stuck, claim or no claim.
        since = func.coalesce(col(Order.claimed_at), col(Order.updated_at))
        for o in session.exec(
            select(Order)
            .where(
                or_(
                    and_(
                        col(Order.claimed_at).is_not(None),
                        col(Order.claimed_at) < now - STALE_CLAIM,
                        col(Order.status) == OrderStatus.PICKED.value,
                    ),
                    and_(col(Order.status) == OrderStatus.PACKING.value, since < now - STALE_CLAIM),
                )
            )
            .order_by(since)
        ).all():
            who = session.get(Packer, o.claimed_by) if o.claimed_by else None
            holder = (
                f"claimed by {who.name if who else '?'} at {o.claim_terminal or '?'}"
                if o.claimed_at
                else "in packing, claimed by nobody"
            )
            out.append(ExceptionRow("claim", o.number, o.claimed_at or o.updated_at, holder, o.id))
        for item in session.exec(
            select(OutboxItem).where(OutboxItem.status == "parked").order_by(col(OutboxItem.id))
        ).all():
            number = None
            if item.order_id is not None:
                order = session.get(Order, item.order_id)
                number = order.number if order else None
            out.append(
                ExceptionRow(
                    "parked",
                    number or f"#{item.id}",
                    item.created_at,
                    f"{item.kind}: {item.last_error or 'parked'}",
                    item.order_id,
                    item.id,
                )
            )
        printed_later = (
            select(PrintJob.id)
            .where(
                # printed since, or a supervisor marked the same slips printed without a printer
                col(PrintJob.status).in_(("completed", "marked")),
                PrintJob.kind == failed.kind,
                PrintJob.ref == failed.ref,
                col(PrintJob.id) > col(failed.id),
            )
            .exists()
        )
        for job in session.exec(
            select(failed)
            .where(failed.status == "failed", col(failed.created_at) >= now - timedelta(days=1))
            .where(~printed_later)  # the same document printed fine since: nothing to do
            .order_by(col(failed.created_at))
        ).all():
            if job.kind == "slip" and not _still_waiting_for_slips(session, job):
                continue  # its orders got their slips since, in other jobs or marked by hand
            out.append(
                ExceptionRow(
                    "print",
                    f"{job.kind} {job.ref}"[:60],
                    job.created_at,
                    f"{job.printer}: {job.error or 'failed'}",
                    None,
                    job.id,
                )
            )
        out.extend(_transfer_rows(session, now))
        out.extend(_sync_rows(session))
        return out


def _transfer_rows(session: Session, now: datetime) -> list[ExceptionRow]:
    """Consignments handed over that the carrier has not had yet (Cargonizer's transfer): a
    failed one at once, one merely not sent yet once it is late (no post station running)."""
    rows = session.exec(
        select(CarrierTransfer, Shipment.consignment_number, Order.number, Order.id)
        .join(Shipment, col(Shipment.id) == col(CarrierTransfer.shipment_id))
        .join(Order, col(Order.id) == col(Shipment.order_id))
        .where(col(CarrierTransfer.status).in_(("pending", "sending")))
        .where(
            or_(
                col(CarrierTransfer.last_error).is_not(None),
                col(CarrierTransfer.created_at) < now - TRANSFER_LATE,
            )
        )
        .order_by(col(CarrierTransfer.id))
    ).all()
    out = []
    for t, consignment, number, order_id in rows:
        tries = f"{t.attempts} tr{'y' if t.attempts == 1 else 'ies'}" if t.attempts else "not sent"
        detail = f"{t.carrier} consignment {consignment or t.consignment_id} ({tries})"
        detail += f": {t.last_error}" if t.last_error else ": handed over, carrier not told yet"
        out.append(ExceptionRow("transfer", number, t.created_at, detail, order_id, t.id))
    return out


def _still_waiting_for_slips(session: Session, job: PrintJob) -> bool:
    """Does any order of the failed slip job ``job`` still wait for its slip?"""
    from packbench.operations.printing import job_order_numbers

    numbers = job_order_numbers(session, job)
    if not numbers:
        return True  # the job does not say: keep it listed
    waiting = session.exec(
        select(func.count()).where(
            col(Order.number).in_(numbers), Order.status == OrderStatus.NEW.value
        )
    ).one()
    return waiting > 0


def _sync_rows(session: Session) -> list[ExceptionRow]:
    """The sync's failed round (when the last one failed) and what it could not take."""
    from packbench.operations.syncing import list_problems

    rows: list[ExceptionRow] = []
    state = {
        r.key: r
        for r in session.exec(
            select(SyncState).where(
                col(SyncState.key).in_(["sync.last_error", "sync.last_error_at", "sync.last_ok_at"])
            )
        )
    }
    error = state.get("sync.last_error")
    if error is not None and error.value:
        failed_at = state.get("sync.last_error_at")
        ok_at = state.get("sync.last_ok_at")
        if ok_at is None or (failed_at is not None and failed_at.value > ok_at.value):
            rows.append(ExceptionRow("sync", "last round", error.updated_at, error.value))
    for problem in list_problems(session):
        rows.append(ExceptionRow("shop", problem.key, problem.since, problem.message))
    return rows


def bench_figures(
    db: Database, day: DaySettings, *, pick_at_pack: bool = False, now: datetime | None = None
) -> BenchFigures:
    """Every figure of the dashboard, from one consistent look at the database.

    ``pick_at_pack`` (``[pack] pick_at_pack``): pick and pack are one pass at the pack bench,
    so printed slips count as waiting for pack, and pick is left out of the stations unless
    an order a picker started before is still there."""
    now = now or utcnow()
    tz = day.tz()
    start, _end = local_day_bounds(now, tz)
    cutoff = at_local(now, tz, day.cutoff)
    shift_end = at_local(now, tz, day.shift_end)
    with db.read() as session:
        moves = _status_events_since(session, start)  # read once: the states and the pace
    states = overview(db, moves=moves, pick_at_pack=pick_at_pack)
    team = roster(db, tz=tz, now=now)
    with db.read() as session:
        must_ship = session.exec(
            select(func.count()).where(
                col(Order.status).in_(NOT_SHIPPED),
                func.coalesce(Order.paid_at, Order.created_at) < cutoff,
            )
        ).one()
        completed_today = session.exec(
            select(func.count()).where(col(Order.completed_at) >= start)
        ).one()
    shipped_at = [at for at, to in moves if to == OrderStatus.SHIPPED.value]
    the_pace = pace(
        now, must_ship=must_ship, shipped_at=shipped_at, shift_end=shift_end, day_start=start
    )
    hour_ago = now - timedelta(hours=1)
    done: dict[str, int] = {}
    for at, to in moves:
        station = LEFT_STATION.get(to)
        if station and at > hour_ago:
            done[station] = done.get(station, 0) + 1
    waiting: dict[str, int] = {}
    for row in states:
        if row.station:
            waiting[row.station] = waiting.get(row.station, 0) + row.count
    people: dict[str, int] = {}
    for member in team:
        if member.at_station:
            people[member.at_station] = people.get(member.at_station, 0) + 1
    stations = ["admin", "pick", "pack", "ship", "post"]
    if pick_at_pack and not waiting.get("pick") and not people.get("pick"):
        stations.remove("pick")  # one pass: no pick station (its picks are the pack bench's)
    loads = [StationLoad(s, waiting.get(s, 0), people.get(s, 0), done.get(s, 0)) for s in stations]
    return BenchFigures(
        at=now,
        states=states,
        completed_today=completed_today,
        pace=the_pace,
        cutoff=cutoff,
        shift_end=shift_end,
        per_hour=per_hour(shipped_at, tz, start),
        packed_per_hour=per_hour(
            [at for at, to in moves if to == OrderStatus.PACKED.value], tz, start
        ),
        team=team,
        loads=loads,
        advice=where_help_is_needed(loads),
        exceptions=exceptions(db, now=now),
    )


def release_hold(db: Database, actor: Actor, order_id: int, note: str) -> None:
    """A supervisor sends an order on hold back to where it was (logged with the note)."""

    def run(session: Session) -> None:
        require_supervisor(actor)
        order = session.get(Order, order_id)
        if order is None:
            raise Refused(f"no order with id {order_id}")
        change_status(session, order, Action.RELEASE, actor, reason=note)

    transact_logged(db, actor, run, kind="supervisor", order_id=order_id)
