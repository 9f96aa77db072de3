"""Printing as the bench sees it: a job in the history, and state that changes only when printed.

A print is three steps: the job is written to the history as *submitted* (so a crash leaves a
trace), the document goes to CUPS and is followed until it ends, and then — only for a job CUPS
reports *completed* — the orders move (a new order's slip printed → ``slip_printed``) with the
job, in one transaction. A failed, cancelled or timed-out job changes no order, and says why.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlmodel import Session, col, select

from packbench.carriers.s10 import DEFAULT_TRACKING_URL, TRACKING_URLS
from packbench.config import Settings
from packbench.core.workflow import Action, OrderStatus
from packbench.data.engine import Database
from packbench.data.models import Event, Order, Parcel, PrintJob, Shipment
from packbench.data.types import JsonInt, utcnow
from packbench.operations.common import Actor, Refused, change_status, record_event
from packbench.operations.orders import detail_in
from packbench.operations.slipbatch import left_out_text as left_out_text
from packbench.operations.slipbatch import render_batch
from packbench.operations.views import Address, OrderDetail

if TYPE_CHECKING:
    from packbench.printing.documents import ShopInfo


class Outcome(Protocol):
    @property
    def job_id(self) -> int: ...
    @property
    def state(self) -> str: ...
    @property
    def message(self) -> str: ...

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
    #: Orders of a slip batch whose slip could not be made, each "order N: why" — the rest
    #: of the batch printed without them (an error for the admin, though the job went through).
    left_out: tuple[str, ...] = ()


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
    cups_job_id: int | None = None
    reprint_of: int | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "ref": self.ref,
            "printer": self.printer,
            "status": self.status,
            "error": self.error,
            "cups_job_id": self.cups_job_id,
            "reprint_of": self.reprint_of,
            "created_at": self.created_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


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


REF_LIMIT = 200  # PrintJob.ref


def ref_text(items: Sequence[str], prefix: str = "") -> str:
    """What a job printed, for the history: whole items only, and it says when it is cut."""
    full = prefix + ", ".join(items)
    if len(full) <= REF_LIMIT:
        return full
    kept: list[str] = []
    for item in items:
        rest = len(items) - len(kept) - 1
        if len(prefix + ", ".join([*kept, item]) + f" … +{rest} more") > REF_LIMIT:
            break
        kept.append(item)
    return prefix + ", ".join(kept) + f" … +{len(items) - len(kept)} more"


def _begin(db: Database, actor: Actor, doc: Document, printer: str) -> int:
    """The job in the history as *submitted*, and an event that says exactly what it holds
    (``spec``: how to make the document again; what completing it must mark), so that a job
    whose follower died can be settled and any job reprinted."""

    def run(session: Session) -> int:
        ref = doc.ref or ", ".join(doc.order_numbers) or doc.title
        job = PrintJob(kind=doc.kind, ref=ref[:REF_LIMIT], printer=printer, status="submitted")
        session.add(job)
        session.flush()
        assert job.id is not None
        record_event(
            session,
            actor,
            PRINT_SUBMITTED,
            result="info",
            message=f"{doc.kind} sent to {printer}: {job.ref}",
            data={
                "print_job": job.id,
                "spec": dict(doc.spec),
                "orders": list(doc.order_numbers),
                "parcels": list(doc.parcel_ids),
                "mark_slips": doc.mark_slips,
            },
        )
        return job.id

    return db.transact(run)


PRINT_SUBMITTED = "print_submitted"


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
    doc: Document,
) -> str:
    """Close the job; only a completed one moves new orders to slip_printed or marks labels.
    Returns the job's final status (that of whoever settled it first)."""

    def run(session: Session) -> str:
        job = session.get(PrintJob, print_job_id)
        assert job is not None
        if job.status != "submitted":
            # Settled already (by reconciliation while this terminal was still following it):
            # whoever settles first decides, nothing is marked twice.
            return job.status
        job.status = status
        job.error = error[:1000] if error else None
        job.finished_at = utcnow()
        session.add(job)
        done = status == "completed"
        for number in doc.order_numbers:
            order = session.exec(select(Order).where(Order.number == number)).first()
            if order is None:
                continue
            what = f"{job.kind} {'printed' if done else 'not printed'}"
            record_event(
                session,
                actor,
                "print",
                order_id=order.id,
                result="ok" if done else "refused",
                message=f"{what} on {job.printer}" + (f": {error}" if error else ""),
                data={"print_job": print_job_id},
            )
            if done and doc.mark_slips and order.status == OrderStatus.NEW:
                change_status(
                    session, order, Action.PRINT_SLIP, actor, message="packing slip printed"
                )
        if done:
            for parcel_id in doc.parcel_ids:
                parcel = session.get(Parcel, parcel_id)
                if parcel is not None:
                    parcel.label_printed_at = job.finished_at
                    session.add(parcel)
        return status

    return db.transact(run)


@dataclass(frozen=True)
class Document:
    """A rendered document and what printing it means for the bench."""

    kind: str  # slip | label | manifest | report
    data: bytes
    title: str
    order_numbers: tuple[str, ...] = ()
    parcel_ids: tuple[int, ...] = ()
    raw: bool = False
    options: tuple[tuple[str, str], ...] = ()
    mark_slips: bool = False
    ref: str = ""  # for the history; default: the order numbers
    left_out: tuple[str, ...] = ()  # a slip batch's orders left out, each "order N: why"
    # How to make this document again (a reprint, or settling a job after a crash).
    spec: Mapping[str, Any] = field(default_factory=dict, compare=False)


def print_job(
    db: Database,
    actor: Actor,
    printer: Printer,
    doc: Document,
    *,
    queue: str,
    timeout_s: float = 30.0,
) -> PrintResult:
    """Print one document and record how it ended. Never marks anything that did not print."""
    from packbench.printing.cups import PrintError

    print_job_id = _begin(db, actor, doc, queue)
    cups_job_id = None
    try:
        cups_job_id = printer.submit(
            queue, doc.data, title=doc.title, raw=doc.raw, options=dict(doc.options)
        )
        _set_cups_id(db, print_job_id, cups_job_id)
        outcome = printer.wait(cups_job_id, queue=queue, timeout_s=timeout_s)
        # Every way of not printing is "failed" (the history, the dashboard and a reprint treat
        # them alike); what happened — timeout, cancelled, aborted — is in the message.
        status = "completed" if outcome.completed else "failed"
        error = None
        if not outcome.completed:
            error = outcome.message  # a timeout's message says why and that it was cancelled
            if outcome.state != "timeout":
                error = f"CUPS {outcome.state} the job" + (f": {error}" if error else "")
    except PrintError as exc:
        status, error = "failed", str(exc)
    settled = _finish(db, actor, print_job_id, status=status, error=error, doc=doc)
    if settled != status:
        status, error = settled, f"the job was settled elsewhere as {settled}"
    n = len(doc.order_numbers)
    left_out = left_out_text(doc.left_out)
    if status == "completed":
        message = f"{doc.kind.capitalize()} printed on {queue}"
        if n:
            message += f" ({n} order{'s' if n != 1 else ''})"
        # A folder queue's job has a number of its own (negative), not a CUPS job's.
        job = f", CUPS job {cups_job_id}" if cups_job_id is not None and cups_job_id > 0 else ""
        message += f"{job}." + (f" {left_out}" if left_out else "")
        return PrintResult(
            True, message, print_job_id, cups_job_id, doc.order_numbers, doc.left_out
        )
    message = f"Not printed on {queue}: {error}" + (f" {left_out}" if left_out else "")
    return PrintResult(False, message, print_job_id, cups_job_id, doc.order_numbers, doc.left_out)


def slip_document(
    db: Database,
    order_numbers: Sequence[str],
    render: Callable[[list[OrderDetail]], bytes],
    *,
    prefix: str = "ORD-",
) -> Document:
    """One PDF for a batch of slips. An order whose slip cannot be made — its number cannot
    be the slip's barcode (``prefix`` + number as Code 128), or drawing it fails — is left out
    by name (``Document.left_out``) and the others print; with none left, it is refused."""
    if not order_numbers:
        raise Refused("No orders are waiting for packing slips.")
    details = slip_details(db, order_numbers)
    data, printed, left_out = render_batch(details, render, prefix=prefix)
    if data is None:
        raise Refused(left_out_text(left_out))
    numbers = [d.summary.number for d in printed]
    first, more = numbers[0], len(numbers) - 1
    return Document(
        kind="slip",
        data=data,
        title=f"slips {first}" + (f"+{more}" if more else ""),
        order_numbers=tuple(numbers),
        mark_slips=True,
        spec={"kind": "slip", "orders": numbers},
        left_out=tuple(left_out),
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
    doc = slip_document(db, order_numbers, render)
    return print_job(db, actor, printer, doc, queue=queue, timeout_s=timeout_s)


def export_file(path: Path, data: bytes) -> None:
    """Write a document to a file (``--out``): exported, not printed, so no order moves.

    The file is 0600, like the database: slips, labels, manifests and reports carry customers'
    names and addresses. Written to a private temporary file in the same directory, then
    renamed over ``path``, so a reader never sees half a document and an old file's wider mode
    is not inherited.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:  # mkstemp makes it 0600
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def print_history(db: Database, *, limit: int = 100) -> list[PrintJobView]:
    """The most recent jobs first, each with its state and, for a reprint, the job it repeats."""
    with db.read() as session:
        rows = session.exec(select(PrintJob).order_by(col(PrintJob.id).desc()).limit(limit)).all()
        ids = [j.id for j in rows]
        reprints: dict[int, int] = {}
        if ids:
            for event in session.exec(
                select(Event).where(
                    Event.kind == PRINT_SUBMITTED,
                    JsonInt(Event.data, "print_job").in_(ids),
                )
            ).all():
                data = json.loads(event.data or "{}")
                of = (data.get("spec") or {}).get("reprint_of")
                if of is not None:
                    reprints[int(data["print_job"])] = int(of)
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
                cups_job_id=j.cups_job_id,
                reprint_of=reprints.get(j.id or 0),
            )
            for j in rows
        ]


def _shop_info(settings: Settings) -> ShopInfo:
    from packbench.printing.documents import ShopInfo

    return ShopInfo(name=settings.bench.shop_name, address_lines=tuple(settings.bench.shop_address))


def print_new_slips(db: Database, actor: Actor, settings: Settings) -> PrintResult:
    """The admin station's one key: every new order's slip, one job, on the station's printer."""
    from packbench.printing.cups import make_printer

    numbers = orders_waiting_for_slips(db)
    if not numbers:
        return PrintResult(False, "No orders are waiting for packing slips.", None, None, ())
    printers = settings.printers
    try:
        doc = slip_job(db, numbers, settings)
    except Refused as exc:  # not one slip of the batch could be made: say which and why
        return PrintResult(False, exc.message, None, None, ())
    return print_job(
        db,
        actor,
        make_printer(server=printers.server or None),
        doc,
        queue=printers.for_station(actor.station).slip,
        timeout_s=printers.timeout_s,
    )


def slip_job(db: Database, order_numbers: Sequence[str], settings: Settings) -> Document:
    from packbench.printing.documents import render_slips

    shop = _shop_info(settings)
    prefix = settings.codes.order_prefix
    return slip_document(
        db,
        order_numbers,
        lambda details: render_slips(details, shop, order_prefix=prefix),
        prefix=prefix,
    )


@dataclass(frozen=True)
class LabelData:
    """Everything a shipping label shows for one parcel, from the database."""

    parcel_id: int
    order_number: str
    recipient: Address
    carrier: str
    service: str
    weight_g: int
    parcel_no: int
    parcel_count: int
    tracking_number: str
    sscc: str
    tracking_url: str


def label_data(db: Database, codes: Sequence[str]) -> list[LabelData]:
    """The parcels behind SSCCs or tracking numbers; a parcel without numbers is refused."""
    out = []
    with db.read() as session:
        for raw in codes:
            code = raw.strip().upper()
            if code.startswith("(00)"):
                code = code[4:].replace(" ", "")
            elif len(code) == 20 and code.startswith("00"):
                code = code[2:]
            parcel = session.exec(
                select(Parcel).where(
                    (col(Parcel.sscc) == code) | (col(Parcel.tracking_number) == code)
                )
            ).first()
            if parcel is None:
                raise Refused(f"No parcel has the label “{raw}”.")
            if not parcel.sscc or not parcel.tracking_number or parcel.status == "void":
                raise Refused(f"Parcel “{raw}” has no shipment numbers to print.")
            detail = detail_in(session, parcel.order_id, event_limit=0)
            assert detail is not None and parcel.id is not None
            count = len([p for p in detail.parcels if p.status != "void"])
            carrier = parcel.carrier or "Posten"
            shipment = session.get(Shipment, parcel.shipment_id) if parcel.shipment_id else None
            # The service the carrier booked, else what the customer chose in the shop.
            service = (shipment.service if shipment else "") or detail.summary.shipping_method
            out.append(
                LabelData(
                    parcel_id=parcel.id,
                    order_number=detail.summary.number,
                    recipient=detail.shipping,
                    carrier=carrier,
                    service=service,
                    weight_g=parcel.weight_g,
                    parcel_no=parcel.seq,
                    parcel_count=max(count, parcel.seq),
                    tracking_number=parcel.tracking_number,
                    sscc=parcel.sscc,
                    tracking_url=TRACKING_URLS.get(carrier, DEFAULT_TRACKING_URL).format(
                        tracking=parcel.tracking_number
                    ),
                )
            )
    return out


def label_job(
    db: Database, codes: Sequence[str], settings: Settings, *, fmt: str, size: str
) -> Document:
    """Labels for parcels (by SSCC or tracking number), one job, PDF or ZPL."""
    data = label_data(db, codes)
    if not data:
        raise Refused("Name at least one parcel.")
    shop = _shop_info(settings)
    from packbench.printing.documents import LabelInput, render_labels

    labels = [
        LabelInput(
            sender=shop,
            recipient=d.recipient,
            carrier=d.carrier,
            service=d.service,
            weight_g=d.weight_g,
            parcel_no=d.parcel_no,
            parcel_count=d.parcel_count,
            tracking_number=d.tracking_number,
            sscc=d.sscc,
            tracking_url=d.tracking_url,
            order_number=d.order_number,
            company_prefix=settings.ship.gs1_company_prefix,
        )
        for d in data
    ]
    options: tuple[tuple[str, str], ...]
    try:
        if fmt == "zpl":
            from packbench.printing.zpl import render_zpl_labels

            # Raw: CUPS hands the bytes to the printer untouched (no filter, no scaling).
            body, raw, options = render_zpl_labels(labels, size), True, ()
        elif fmt == "pdf":
            body = render_labels(labels, size)
            # Never let the queue scale a label to its default page: print at its own size.
            raw, options = False, (("PageSize", f"Custom.{size}mm"), ("fit-to-page", "false"))
        else:
            raise Refused(f"Unknown label format “{fmt}”; use pdf or zpl.")
    except ValueError as exc:  # a number that must not be printed (the renderers say which)
        raise Refused(f"Cannot print the label: {exc}.") from None
    return Document(
        kind="label",
        data=body,
        title=f"labels {data[0].tracking_number}" + (f"+{len(data) - 1}" if len(data) > 1 else ""),
        order_numbers=tuple(dict.fromkeys(d.order_number for d in data)),
        parcel_ids=tuple(d.parcel_id for d in data),
        raw=raw,
        options=options,
        ref=ref_text([d.tracking_number for d in data], f"{fmt} {size}: "),
        spec={
            "kind": "label",
            "parcels": [d.tracking_number for d in data],
            "format": fmt,
            "size": size,
        },
    )


# --------------------------------------------------------------------------- after a crash


class JobLookup(Protocol):
    """What settling orphaned jobs needs of CUPS (``printing.cups.CupsPrinter`` is one)."""

    def job_status(self, job_id: int) -> Any: ...  # JobStatus | None; PrintError if no CUPS
    def cancel(self, job_id: int) -> None: ...


@dataclass(frozen=True)
class Reconciled:
    """What settling the jobs left *submitted* did; ``message`` is one line for a person."""

    completed: tuple[int, ...] = ()
    failed: tuple[int, ...] = ()
    left: tuple[int, ...] = ()  # still followed by someone, or CUPS did not answer
    problem: str | None = None

    @property
    def message(self) -> str:
        parts = []
        if self.completed:
            parts.append(f"{len(self.completed)} printed after all")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        if self.left:
            parts.append(f"{len(self.left)} still open")
        text = "Unfinished print jobs: " + ", ".join(parts) + "." if parts else ""
        if self.problem:
            text = f"{text} {self.problem}".strip()
        return text


def _submitted_spec(session: Session, print_job_id: int) -> tuple[dict[str, Any], str] | None:
    """The submit event's details and the terminal that submitted the job."""
    event = session.exec(
        select(Event).where(
            Event.kind == PRINT_SUBMITTED,
            JsonInt(Event.data, "print_job") == print_job_id,
        )
    ).first()
    if event is None or not event.data:
        return None
    return json.loads(event.data), event.terminal


def job_order_numbers(session: Session, job: PrintJob) -> tuple[str, ...]:
    """The orders ``job`` held, as recorded when it was submitted."""
    recorded = _submitted_spec(session, job.id or 0)
    return _document_for(job, recorded[0] if recorded else None).order_numbers


def _document_for(job: PrintJob, details: dict[str, Any] | None) -> Document:
    """What completing ``job`` must mark, as it was recorded when it was submitted. A job from
    before that record: a slip batch's orders are its ref; anything else marks nothing."""
    if details is not None:
        return Document(
            kind=job.kind,
            data=b"",
            title=job.ref,
            order_numbers=tuple(details.get("orders", ())),
            parcel_ids=tuple(int(p) for p in details.get("parcels", ())),
            mark_slips=bool(details.get("mark_slips", False)),
        )
    if job.kind == "slip" and "more" not in job.ref:
        numbers = tuple(n.strip() for n in job.ref.split(",") if n.strip())
        return Document(job.kind, b"", job.ref, order_numbers=numbers, mark_slips=True)
    return Document(job.kind, b"", job.ref)


def reconcile_print_jobs(
    db: Database,
    actor: Actor,
    cups: JobLookup,
    *,
    orphaned_after_s: float,
    own_terminal: bool = False,
    now: datetime | None = None,
) -> Reconciled:
    """Settle the jobs left *submitted* by a terminal that stopped following them.

    CUPS decides: a job it completed is completed (and marks what printing it would have
    marked), a cancelled or aborted one failed with CUPS's reason. A job still pending or
    printing is only taken over when nobody can be following it any more — it is older than
    ``orphaned_after_s`` (longer than any follower waits), or ``own_terminal`` is set and this
    terminal submitted it (the app starting again on a terminal that was killed) — and then it
    is cancelled in CUPS and failed, so it cannot print later behind the bench's back. Nothing
    is ever marked printed that CUPS did not complete.
    """
    now = now or utcnow()
    with db.read() as session:
        jobs = [
            (j.id or 0, j.cups_job_id, j.created_at, _submitted_spec(session, j.id or 0))
            for j in session.exec(
                select(PrintJob).where(PrintJob.status == "submitted").order_by(col(PrintJob.id))
            ).all()
        ]
    from packbench.printing.cups import PrintError

    completed: list[int] = []
    failed: list[int] = []
    left: list[int] = []
    problem = None
    for index, (job_id, cups_id, created_at, recorded) in enumerate(jobs):
        details, terminal = recorded if recorded else (None, "")
        orphaned = now - created_at > timedelta(seconds=orphaned_after_s) or (
            own_terminal and terminal == actor.terminal
        )
        status, error = None, None
        if cups_id is None:
            if orphaned:
                status = "failed"
                error = "the app stopped before CUPS confirmed the job; reprint if nothing came out"
        else:
            try:
                state = cups.job_status(cups_id)
            except PrintError as exc:
                left.extend(j[0] for j in jobs[index:])
                problem = f"Could not ask CUPS about them: {exc}"
                break
            if state is None:
                if orphaned:
                    status, error = "failed", f"CUPS has no record of job {cups_id} any more"
            elif state.state == "completed":
                status = "completed"
            elif state.final:
                status, error = "failed", state.describe()
            elif orphaned:
                cups.cancel(cups_id)
                status = "failed"
                error = f"{state.describe()} when the app following it stopped; it was cancelled"
        if status is None:
            left.append(job_id)
            continue

        with db.read() as session:
            job = session.get(PrintJob, job_id)
            assert job is not None
            doc = _document_for(job, details)
        settled = _finish(db, actor, job_id, status=status, error=error, doc=doc)
        (completed if settled == "completed" else failed).append(job_id)
    return Reconciled(tuple(completed), tuple(failed), tuple(left), problem)


ORPHAN_GRACE_S = 30.0  # beyond the follow timeout: no follower can still be waiting


def settle_unfinished_jobs(
    db: Database, actor: Actor, settings: Settings, *, own_terminal: bool = False
) -> Reconciled:
    """:func:`reconcile_print_jobs` against the configured CUPS (app start, ``printers``)."""
    from packbench.printing.cups import make_printer

    printers = settings.printers
    return reconcile_print_jobs(
        db,
        actor,
        make_printer(server=printers.server or None),
        orphaned_after_s=printers.timeout_s + ORPHAN_GRACE_S,
        own_terminal=own_terminal,
    )


# --------------------------------------------------------------------------- reprint


def reprint_job(db: Database, print_job_id: int, settings: Settings) -> tuple[Document, str]:
    """The document job ``print_job_id`` printed, made again from today's data, and the queue it
    went to. The old job's row is left as it is; printing this makes a new row."""
    with db.read() as session:
        job = session.get(PrintJob, print_job_id)
        if job is None:
            raise Refused(f"There is no print job {print_job_id}.")
        recorded = _submitted_spec(session, print_job_id)
        kind, ref, printer = job.kind, job.ref, job.printer
    spec = dict(recorded[0].get("spec") or {}) if recorded else {}
    if not spec and kind == "slip" and "more" not in ref:  # a job from before specs were kept
        spec = {"kind": "slip", "orders": [n.strip() for n in ref.split(",") if n.strip()]}
    if spec.get("kind") == "slip" and spec.get("orders"):
        doc = slip_job(db, list(spec["orders"]), settings)
    elif spec.get("kind") == "label" and spec.get("parcels"):
        doc = label_job(
            db,
            list(spec["parcels"]),
            settings,
            fmt=str(spec.get("format", "pdf")),
            size=str(spec.get("size", "102x152")),
        )
    elif spec.get("kind") == "manifest" and spec.get("handover") is not None:
        from packbench.operations.handover import manifest_document

        doc = manifest_document(db, settings, int(spec["handover"]))
    elif spec.get("kind") == "report" and spec.get("day"):
        from packbench.operations.report import day_report_document

        doc = day_report_document(db, settings, date.fromisoformat(str(spec["day"])))
    elif spec.get("kind") == "carrier_label" and spec.get("shipment") is not None:  # #14
        from packbench.operations.carrier_booking import label_documents

        # The carrier's label as kept since the booking: never asks the carrier again.
        doc = label_documents(db, int(spec["shipment"]))[0]
    else:
        raise Refused(
            f"Print job {print_job_id} ({kind} {ref}) cannot be made again from its record; "
            "print the document afresh."
        )
    spec = {**doc.spec, "reprint_of": print_job_id}
    return replace(doc, spec=spec), printer


def reprint(
    db: Database,
    actor: Actor,
    printer: Printer,
    print_job_id: int,
    settings: Settings,
    *,
    queue: str | None = None,
) -> PrintResult:
    """Print job ``print_job_id``'s document again, on its own queue or on ``queue``."""
    doc, original = reprint_job(db, print_job_id, settings)
    return print_job(
        db, actor, printer, doc, queue=queue or original, timeout_s=settings.printers.timeout_s
    )
