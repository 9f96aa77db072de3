"""The team's rhythm: the day's roster, who is where, and what each person has done today.

The seed asks the team to agree who does which station. The supervisor assigns (each assignment
is logged); packers sign in by badge at a station, and their last action today tells where they
are. Figures per person come from the event log, so they cannot disagree with the audit trail.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlmodel import Session, col, select

from packbench.config import STATIONS
from packbench.core.rhythm import local_day_bounds, median_minutes
from packbench.data.engine import Database
from packbench.data.models import Event, OrderLine, Packer, RosterEntry
from packbench.data.types import utcnow
from packbench.operations.common import (
    Actor,
    Refused,
    record_event,
    require_supervisor,
    transact_logged,
)

#: Event kinds that are a person's scan: the common handler's and the pick station's own.
SCAN_KINDS = frozenset({"scan", "pick"})

#: How long after their last action a person still counts as present at a station.
PRESENT_FOR = timedelta(minutes=30)


@dataclass(frozen=True)
class RosterRow:
    packer_id: int
    name: str
    role: str
    assigned: str | None  # the station the supervisor assigned for the day
    at_station: str | None  # where the person is now (signed in and active recently)
    last_seen: datetime | None
    orders: int  # distinct orders this person moved on today (picked, packed, shipped, handed
    # over): an order picked and then packed by the same person is one order, not two
    units: int  # units in the orders this person packed today
    scan_errors: int  # refused scans today
    scans: int  # all scans today
    median_order_min: float | None  # median minutes from opening an order to packing it

    @property
    def error_rate(self) -> float:
        return self.scan_errors / self.scans if self.scans else 0.0


def day_key(now: datetime, tz: tzinfo) -> str:
    return now.astimezone(tz).date().isoformat()


def assign_station(
    db: Database,
    actor: Actor,
    packer_id: int,
    station: str | None,
    *,
    tz: tzinfo,
    now: datetime | None = None,
) -> None:
    """Assign (or, with ``None``, unassign) a person to a station for today. Supervisors only."""
    now = now or utcnow()
    day = day_key(now, tz)

    def run(session: Session) -> None:
        require_supervisor(actor)
        if station is not None and station not in STATIONS:
            raise Refused(f"unknown station {station!r}; stations: {', '.join(STATIONS)}")
        packer = session.get(Packer, packer_id)
        if packer is None or not packer.active:
            raise Refused(f"no active person with id {packer_id}")
        entry = session.exec(
            select(RosterEntry).where(RosterEntry.day == day, RosterEntry.packer_id == packer_id)
        ).first()
        before = entry.station if entry else None
        if station is None:
            if entry is not None:
                session.delete(entry)
        elif entry is None:
            session.add(
                RosterEntry(
                    day=day,
                    packer_id=packer_id,
                    station=station,
                    assigned_by=actor.packer_id,
                    assigned_at=now,
                )
            )
        else:
            entry.station = station
            entry.assigned_by = actor.packer_id
            entry.assigned_at = now
            session.add(entry)
        record_event(
            session,
            actor,
            "roster",
            message=f"{packer.name}: {before or 'no station'} → {station or 'no station'} ({day})",
            data={"packer_id": packer_id, "day": day, "from": before, "to": station},
            at=now,
        )

    transact_logged(db, actor, run, kind="roster")


#: A status event into one of these counts as an order moved on by the person who did it.
_WORK_DONE = {"picked", "packed", "shipped", "handed_over"}


def roster(
    db: Database, *, tz: tzinfo, now: datetime | None = None, since: datetime | None = None
) -> list[RosterRow]:
    """Everyone active, with the day's assignment, whereabouts and figures, in name order.

    The figures count from ``since`` (default: the start of ``now``'s day) up to ``now``.
    """
    now = now or utcnow()
    start = since or local_day_bounds(now, tz)[0]
    day = day_key(now, tz)
    with db.read() as session:
        packers = session.exec(
            select(Packer).where(col(Packer.active).is_(True)).order_by(col(Packer.name))
        ).all()
        assigned = {
            e.packer_id: e.station
            for e in session.exec(select(RosterEntry).where(RosterEntry.day == day)).all()
        }
        events = session.exec(
            select(Event)
            .where(col(Event.at) >= start, col(Event.at) <= now, col(Event.packer_id).is_not(None))
            .order_by(col(Event.at), col(Event.id))
        ).all()
        last: dict[int, Event] = {}
        orders: dict[int, set[int]] = defaultdict(set)
        packed_orders: dict[int, list[int]] = defaultdict(list)
        scans: dict[int, int] = defaultdict(int)
        errors: dict[int, int] = defaultdict(int)
        opened: dict[tuple[int, int], datetime] = {}
        durations: dict[int, list[timedelta]] = defaultdict(list)
        for e in events:
            pid = e.packer_id
            assert pid is not None
            last[pid] = e
            if e.kind in SCAN_KINDS and e.code is not None:  # a key's event carries no code
                scans[pid] += 1
                if e.result == "refused":
                    errors[pid] += 1
            if e.order_id is not None and e.station == "pack" and e.result == "ok":
                opened.setdefault((pid, e.order_id), e.at)
            if e.kind == "status" and e.result == "ok" and e.data:
                to = json.loads(e.data).get("to")
                if to in _WORK_DONE and e.order_id is not None:
                    orders[pid].add(e.order_id)
                if to == "packed" and e.order_id is not None:
                    packed_orders[pid].append(e.order_id)
                    first = opened.get((pid, e.order_id))
                    if first is not None:
                        durations[pid].append(e.at - first)
        units: dict[int, int] = {}
        for pid, ids in packed_orders.items():
            units[pid] = sum(
                session.exec(
                    select(OrderLine.quantity).where(col(OrderLine.order_id).in_(ids))
                ).all()
            )
        rows = []
        for p in packers:
            assert p.id is not None
            ev = last.get(p.id)
            present = (
                ev is not None
                and ev.kind != "logout"
                and now - ev.at <= PRESENT_FOR
                and ev.station in STATIONS
            )
            rows.append(
                RosterRow(
                    packer_id=p.id,
                    name=p.name,
                    role=p.role,
                    assigned=assigned.get(p.id),
                    at_station=ev.station if present and ev is not None else None,
                    last_seen=ev.at if ev is not None else None,
                    orders=len(orders[p.id]),
                    units=units.get(p.id, 0),
                    scan_errors=errors[p.id],
                    scans=scans[p.id],
                    median_order_min=median_minutes(durations[p.id]),
                )
            )
        return rows
