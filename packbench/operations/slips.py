"""One order's slip: printed or printed again at admin, or marked printed by a supervisor.

``print_order_slip`` prints the slip of the order chosen in the admin list, whatever its state
(a lost slip, a slip torn at the pick station): a new order becomes *slip printed* once the
printer says it printed, any other order stays where it is.

``mark_slips_printed`` is a supervisor's word instead of a printer. With no printer that works
(no CUPS, a jammed printer, a queue that refuses everything) the bench would stop at the first
station: only a printed slip lets an order be picked. A supervisor can say the slips exist
anyway (written by hand, printed on another machine from the exported PDF) and the orders go
on. It is never silent: one transaction moves the new orders to *slip printed*, writes a print
job row with status ``marked`` (so the print history and the dashboard show that no printer
printed it) and an event per order naming who, when, at which station and terminal, and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlmodel import Session, select

from packbench.config import Settings
from packbench.core.workflow import Action, OrderStatus
from packbench.data.engine import Database
from packbench.data.models import Order, PrintJob
from packbench.data.types import utcnow
from packbench.operations.common import (
    Actor,
    Refused,
    change_status,
    record_event,
    require_supervisor,
    transact_logged,
)
from packbench.operations.printing import (
    REF_LIMIT,
    PrintResult,
    job_order_numbers,
    print_job,
    ref_text,
    slip_job,
)

#: A print job's status when a supervisor marked its slips printed without a printer.
MARKED = "marked"
PRINT_MARKED = "print_marked"
MAX_REASON = 300
MAX_ORDERS = 500


@dataclass(frozen=True)
class MarkResult:
    marked: tuple[str, ...]  # orders moved from new to slip printed
    skipped: tuple[str, ...]  # "5002 (picked)": past new already, left as they were
    print_job_id: int
    message: str


def print_order_slip(
    db: Database, actor: Actor, settings: Settings, order_id: int, *, printer: Any = None
) -> PrintResult:
    """Print (or print again) one order's packing slip on the station's slip printer.

    Refused, with nothing changed, when nobody is signed in or the order is cancelled; a new
    order becomes *slip printed* only when the job completed (``printing.print_job``).
    ``printer``: the printer to use (default: the configured CUPS and folder queues).
    """

    def check(session: Session) -> tuple[str, str]:
        if not actor.signed_in:
            raise Refused("Scan your badge first — printing is recorded by name.")
        order = session.get(Order, order_id)
        if order is None:
            raise Refused(f"There is no order with id {order_id}.")
        if order.status == OrderStatus.CANCELLED:
            raise Refused(
                f"Order {order.number} is cancelled; its slip is not printed.", order_id=order.id
            )
        return order.number, order.status

    try:
        number, status = transact_logged(db, actor, check, kind="print", order_id=order_id)
        doc = slip_job(db, [number], settings)
    except Refused as exc:
        return PrintResult(False, exc.message, None, None, ())
    if printer is None:
        from packbench.printing.cups import make_printer

        printer = make_printer(server=settings.printers.server or None)
    printers = settings.printers
    result = print_job(
        db,
        actor,
        printer,
        doc,
        queue=printers.for_station(actor.station).slip,
        timeout_s=printers.timeout_s,
    )
    if not result.ok:
        return replace(result, message=f"Order {number}: {result.message}")
    said = f"Slip of order {number} printed"
    if status != OrderStatus.NEW:
        said += f" again (the order is {OrderStatus(status).label.lower()})"
    return replace(result, message=f"{said}: {result.message}")


def _clean_reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise Refused("Say why the slips count as printed without a printer (a reason is kept).")
    if len(text) > MAX_REASON:
        raise Refused(f"The reason is {len(text)} characters; keep it under {MAX_REASON}.")
    return text


def mark_slips_printed(
    db: Database,
    actor: Actor,
    reason: str,
    *,
    order_numbers: Sequence[str] = (),
    print_job_id: int | None = None,
) -> MarkResult:
    """Mark the slips of ``order_numbers`` (or of the failed job ``print_job_id``) printed.

    Supervisors only. New orders become *slip printed*; orders already past *new* are named
    and left alone; an unknown number, a blank reason or nothing left to mark refuses the whole
    request and changes nothing (the refusal is in the event log).
    """

    def run(session: Session) -> MarkResult:
        require_supervisor(actor)
        why = _clean_reason(reason)
        numbers, ref = _what(session, order_numbers, print_job_id)
        orders: list[Order] = []
        for number in numbers:
            order = session.exec(select(Order).where(Order.number == number)).first()
            if order is None:
                raise Refused(f"No order number {number} on this bench; nothing was marked.")
            orders.append(order)
        new = [o for o in orders if o.status == OrderStatus.NEW]
        skipped = tuple(
            f"{o.number} ({OrderStatus(o.status).label.lower()})"
            for o in orders
            if o.status != OrderStatus.NEW
        )
        if not new:
            one = len(orders) == 1
            raise Refused(
                f"Nothing to mark: {'order' if one else 'orders'} {', '.join(skipped)} "
                f"{'is' if one else 'are'} past waiting for a slip.",
                order_id=orders[0].id if one else None,
            )
        now = utcnow()
        job = PrintJob(
            kind="slip",
            ref=ref or ref_text([o.number for o in new]),
            printer="(no printer)",
            status=MARKED,
            error=f"marked printed by {actor.packer_name or '?'}: {why}"[:1000],
            created_at=now,
            finished_at=now,
        )
        session.add(job)
        session.flush()
        assert job.id is not None
        record_event(
            session,
            actor,
            PRINT_MARKED,
            message=f"slips marked printed without a printer: {why}",
            data={
                "print_job": job.id,
                "orders": [o.number for o in new],
                "skipped": list(skipped),
                "instead_of": print_job_id,
                "reason": why,
            },
            at=now,
        )
        for order in new:
            record_event(
                session,
                actor,
                "print",
                order_id=order.id,
                message=f"slip marked printed by a supervisor, no printer: {why}",
                data={"print_job": job.id, "marked": True, "reason": why},
                at=now,
            )
            change_status(
                session,
                order,
                Action.PRINT_SLIP,
                actor,
                message="packing slip marked printed (no printer)",
                reason=why,
                at=now,
            )
        n = len(new)
        text = f"{n} slip{'s' if n != 1 else ''} marked printed"
        text += f" ({ref_text([o.number for o in new])})"
        text += f"; left alone: {', '.join(skipped)}." if skipped else "."
        return MarkResult(tuple(o.number for o in new), skipped, job.id, text)

    return transact_logged(db, actor, run, kind=PRINT_MARKED)


def _what(
    session: Session, order_numbers: Sequence[str], print_job_id: int | None
) -> tuple[list[str], str | None]:
    """The order numbers to mark and, for a job, the job's own ref (so the dashboard sees the
    same document settled)."""
    if print_job_id is not None:
        job = session.get(PrintJob, print_job_id)
        if job is None:
            raise Refused(f"There is no print job {print_job_id}.")
        if job.kind != "slip":
            raise Refused(f"Job {print_job_id} is a {job.kind}; only slips are marked printed.")
        if job.status == "submitted":
            raise Refused(f"Job {print_job_id} is still being followed; wait for how it ends.")
        if job.status in ("completed", MARKED):
            raise Refused(f"Job {print_job_id} is {job.status} already; nothing to mark.")
        numbers = list(job_order_numbers(session, job))
        if not numbers:
            raise Refused(f"Job {print_job_id} does not say which orders it held.")
        return numbers, job.ref[:REF_LIMIT]
    numbers = list(dict.fromkeys(n.strip() for n in order_numbers if n and n.strip()))
    if not numbers:
        raise Refused("Name the orders whose slips count as printed.")
    if len(numbers) > MAX_ORDERS:
        raise Refused(f"{len(numbers)} orders at once; mark at most {MAX_ORDERS}.")
    return numbers, None
