"""Printing as the bench sees it: a job in the history, and state that changes only when printed.

A print is three steps: the job is written to the history as *submitted* (so a crash leaves a
trace), the document goes to CUPS and is followed until it ends, and then — only for a job CUPS
reports *completed* — the orders move (a new order's slip printed → ``slip_printed``) with the
job, in one transaction. A failed, cancelled or timed-out job changes no order, and says why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlmodel import Session, col, select

from packbench.core.workflow import Action, OrderStatus
from packbench.data.engine import Database
from packbench.data.models import Order, PrintJob
from packbench.data.types import utcnow
from packbench.operations.common import Actor, Refused, change_status, record_event
from packbench.operations.orders import detail_in
from packbench.operations.views import OrderDetail


class Outcome(Protocol):
    job_id: int
    state: str
    message: str

    @property
    def completed(self) -> bool: ...


class Printer(Protocol):
    """What an operation needs of a printer (``printing.cups.CupsPrinter`` is one)."""

    def submit(
        self,
        queue: str,
        data: bytes,
        *,
        title: str,
        raw: bool = False,
        options: dict[str, str] | None = None,
    ) -> int: ...

    def wait(self, job_id: int, *, queue: str, timeout_s: float = 30.0) -> Outcome: ...


@dataclass(frozen=True)
class PrintResult:
    ok: bool
    message: str
    print_job_id: int | None
    cups_job_id: int | None
    orders: tuple[str, ...]


@dataclass(frozen=True)
class PrintJobView:
    id: int
    kind: str
    ref: str
    printer: str
    status: str
    error: str | None
    created_at: datetime
    finished_at: datetime | None


def slip_details(db: Database, order_numbers: Sequence[str]) -> list[OrderDetail]:
    """The orders for a batch of slips, in the order asked; an unknown number is refused."""
    with db.read() as session:
        out = []
        for number in order_numbers:
            order_id = session.exec(select(Order.id).where(Order.number == number)).first()
            if order_id is None:
                raise Refused(f"No order number {number} on this bench.")
            detail = detail_in(session, order_id, event_limit=0)
            assert detail is not None
            out.append(detail)
        return out


def orders_waiting_for_slips(db: Database, limit: int = 200) -> list[str]:
    with db.read() as session:
        return list(
            session.exec(
                select(Order.number)
                .where(Order.status == OrderStatus.NEW.value)
                .order_by(col(Order.created_at), col(Order.id))
                .limit(limit)
            ).all()
        )


def _begin(db: Database, kind: str, ref: str, printer: str) -> int:
    def run(session: Session) -> int:
        job = PrintJob(kind=kind, ref=ref[:200], printer=printer, status="submitted")
        session.add(job)
        session.flush()
        assert job.id is not None
        return job.id

    return db.transact(run)


def _set_cups_id(db: Database, print_job_id: int, cups_job_id: int) -> None:
    def run(session: Session) -> None:
        job = session.get(PrintJob, print_job_id)
        assert job is not None
        job.cups_job_id = cups_job_id
        session.add(job)

    db.transact(run)


def _finish(
    db: Database,
    actor: Actor,
    print_job_id: int,
    *,
    status: str,
    error: str | None,
    order_numbers: Sequence[str],
    mark_slips: bool,
) -> None:
    """Close the job; for a completed slip job, move new orders to slip_printed."""

    def run(session: Session) -> None:
        job = session.get(PrintJob, print_job_id)
        assert job is not None
        job.status = status
        job.error = error[:1000] if error else None
        job.finished_at = utcnow()
        session.add(job)
        for number in order_numbers:
            order = session.exec(select(Order).where(Order.number == number)).first()
            if order is None:
                continue
            what = f"{job.kind} {'printed' if status == 'completed' else 'not printed'}"
            record_event(
                session,
                actor,
                "print",
                order_id=order.id,
                result="ok" if status == "completed" else "refused",
                message=f"{what} on {job.printer}" + (f": {error}" if error else ""),
                data={"print_job": print_job_id},
            )
            if status == "completed" and mark_slips and order.status == OrderStatus.NEW:
                change_status(
                    session, order, Action.PRINT_SLIP, actor, message="packing slip printed"
                )

    db.transact(run)


def print_document(
    db: Database,
    actor: Actor,
    printer: Printer,
    *,
    kind: str,
    queue: str,
    data: bytes,
    order_numbers: Sequence[str],
    title: str,
    raw: bool = False,
    options: dict[str, str] | None = None,
    timeout_s: float = 30.0,
    mark_slips: bool = False,
) -> PrintResult:
    """Print one document and record how it ended. Never marks anything that did not print."""
    from packbench.printing.cups import PrintError

    ref = ", ".join(order_numbers) or title
    print_job_id = _begin(db, kind, ref, queue)
    cups_job_id = None
    try:
        cups_job_id = printer.submit(queue, data, title=title, raw=raw, options=options)
        _set_cups_id(db, print_job_id, cups_job_id)
        outcome = printer.wait(cups_job_id, queue=queue, timeout_s=timeout_s)
        status = "completed" if outcome.completed else outcome.state
        error = None if outcome.completed else outcome.message
    except PrintError as exc:
        status, error = "failed", str(exc)
    _finish(
        db,
        actor,
        print_job_id,
        status=status,
        error=error,
        order_numbers=order_numbers,
        mark_slips=mark_slips,
    )
    if status == "completed":
        message = f"{kind.capitalize()} printed on {queue}"
        if order_numbers:
            message += f" ({len(order_numbers)} order{'s' if len(order_numbers) != 1 else ''})"
        return PrintResult(True, message + ".", print_job_id, cups_job_id, tuple(order_numbers))
    return PrintResult(
        False, f"Not printed on {queue}: {error}", print_job_id, cups_job_id, tuple(order_numbers)
    )


def print_slips(
    db: Database,
    actor: Actor,
    printer: Printer,
    order_numbers: Sequence[str],
    *,
    queue: str,
    render: Callable[[list[OrderDetail]], bytes],
    timeout_s: float = 30.0,
) -> PrintResult:
    """One job for a batch of slips; new orders become slip_printed when CUPS completes it."""
    if not order_numbers:
        raise Refused("No orders are waiting for packing slips.")
    details = slip_details(db, order_numbers)
    data = render(details)
    title = f"slips {order_numbers[0]}" + (
        f"+{len(order_numbers) - 1}" if len(order_numbers) > 1 else ""
    )
    return print_document(
        db,
        actor,
        printer,
        kind="slip",
        queue=queue,
        data=data,
        order_numbers=[d.summary.number for d in details],
        title=title,
        timeout_s=timeout_s,
        mark_slips=True,
    )


def export_file(path: Path, data: bytes) -> None:
    """Write a document to a file (``--out``): exported, not printed, so no order moves."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def print_history(db: Database, *, limit: int = 100) -> list[PrintJobView]:
    with db.read() as session:
        rows = session.exec(select(PrintJob).order_by(col(PrintJob.id).desc()).limit(limit)).all()
        return [
            PrintJobView(
                id=j.id or 0,
                kind=j.kind,
                ref=j.ref,
                printer=j.printer,
                status=j.status,
                error=j.error,
                created_at=j.created_at,
                finished_at=j.finished_at,
            )
            for j in rows
        ]
