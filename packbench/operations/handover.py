"""The post station: parcels wait for their carrier, go into its cage, and are handed over.

- **Waiting**: every labelled parcel not yet handed over, grouped by carrier, oldest first.
- **Cage**: scanning a parcel's label (SSCC or tracking number) puts it in its carrier's open
  handover (one per carrier; opened by the first parcel, kept in the database, so a restart or
  another terminal sees the same cage). While the station handles one carrier, a parcel of
  another is refused: it belongs in another cage. An unknown code, a void label, a parcel whose
  label never printed, or one already handed over is refused; a parcel scanned twice is said to
  be in the cage already, and nothing changes.
- **Close**: the ``CMD-COMPLETE`` card (or F7) closes the handover of the carrier being handled:
  once every parcel of that carrier is in the cage it closes at once, no key needed. Otherwise
  it lists every parcel shipped with that carrier but not scanned and closes nothing until
  ``CMD-CONFIRM`` (F8) confirms leaving exactly those behind (for the next pickup); a parcel of
  that carrier shipped meanwhile is listed again rather than left behind unseen. The scanned
  parcels become *handed over* with the time, an order whose parcels are all handed over
  becomes *handed over*, and the manifest prints (``operations.printing``). For a carrier whose
  consignments are transferred at handover (Cargonizer), the transfer is recorded in the
  close's transaction and sent after it (``operations.carrier_transfer``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, or_, select

from packbench.core.codes import CodeKind, CodeRules, Command, classify
from packbench.core.workflow import Action, OrderStatus
from packbench.data.engine import Database
from packbench.data.models import Handover, HandoverParcel, Order, Parcel, Shipment
from packbench.data.types import utcnow
from packbench.operations import messages as msg
from packbench.operations.common import (
    Actor,
    Refused,
    change_status,
    log_refusal,
    record_event,
    transact_logged,
)
from packbench.operations.printing import Document, Printer, PrintResult, print_job

if TYPE_CHECKING:
    from packbench.config import Settings


@dataclass(frozen=True)
class WaitingRow:
    parcel_id: int
    order_number: str
    seq: int
    carrier: str
    sscc: str | None
    tracking_number: str | None
    city: str
    weight_g: int
    since: datetime
    printed: bool
    in_cage: bool


@dataclass(frozen=True)
class CarrierGroup:
    carrier: str
    handover_id: int | None  # the open handover (cage), if one is open
    parcels: tuple[WaitingRow, ...]  # oldest first

    @property
    def in_cage(self) -> int:
        return sum(1 for p in self.parcels if p.in_cage)

    @property
    def missing(self) -> tuple[WaitingRow, ...]:
        return tuple(p for p in self.parcels if not p.in_cage)


@dataclass(frozen=True)
class PostOutcome:
    ok: bool
    message: str
    code: str
    kind: str = "ok"  # ok | info | error
    carrier: str | None = None  # the carrier the station handles after this scan
    #: A close is waiting for CMD-CONFIRM (parcels would stay behind).
    confirm_close: str | None = None
    #: The parcels that close would leave behind (the confirmation covers these and no other).
    confirm_missing: frozenset[int] | None = None
    closed: HandoverResult | None = None


@dataclass(frozen=True)
class HandoverResult:
    carrier: str
    handover_id: int | None
    closed: bool
    handed_over: tuple[WaitingRow, ...]
    missing: tuple[WaitingRow, ...]
    at: datetime | None
    printed: PrintResult | None = None
    #: Consignments to transfer to the carrier (Cargonizer), recorded with the close.
    transfers: int = 0
    transferred: str = ""  # how sending them went, for the station


def local_day(tz: str, at: datetime | None = None) -> str:
    return (at or utcnow()).astimezone(ZoneInfo(tz)).date().isoformat()


# --------------------------------------------------------------------------- reads


def _open_handover(session: Session, carrier: str) -> Handover | None:
    return session.exec(
        select(Handover)
        .where(Handover.carrier == carrier, Handover.status == "open")
        .order_by(col(Handover.id))
    ).first()


# Parcel and what the post station lists beside it (a list: more columns than select's overloads).
_WAITING_COLUMNS: list[Any] = [
    Parcel,
    Order.number,
    Order.ship_city,
    HandoverParcel.handover_id,
    Handover.status,
]


def _waiting_rows(session: Session, carrier: str | None = None) -> list[WaitingRow]:
    query = (
        sa_select(*_WAITING_COLUMNS)
        .join(Order, col(Parcel.order_id) == col(Order.id))
        .join(HandoverParcel, col(HandoverParcel.parcel_id) == col(Parcel.id), isouter=True)
        .join(Handover, col(Handover.id) == col(HandoverParcel.handover_id), isouter=True)
        .where(col(Parcel.status) == "labelled")
        .order_by(
            col(Parcel.carrier),
            func.coalesce(col(Parcel.label_printed_at), col(Parcel.created_at)),
            col(Parcel.id),
        )
    )
    if carrier is not None:
        query = query.where(col(Parcel.carrier) == carrier)
    out = []
    for p, number, city, hid, hstatus in session.execute(query).all():
        out.append(
            WaitingRow(
                parcel_id=p.id or 0,
                order_number=number,
                seq=p.seq,
                carrier=p.carrier or "",
                sscc=p.sscc,
                tracking_number=p.tracking_number,
                city=city,
                weight_g=p.weight_g,
                since=p.label_printed_at or p.created_at,
                printed=p.label_printed_at is not None,
                in_cage=hid is not None and hstatus == "open",
            )
        )
    return out


def waiting_by_carrier(db: Database) -> list[CarrierGroup]:
    """The parcels waiting for pickup, grouped by carrier (oldest parcel's carrier first)."""
    with db.read() as session:
        rows = _waiting_rows(session)
        groups: dict[str, list[WaitingRow]] = {}
        for row in rows:
            groups.setdefault(row.carrier, []).append(row)
        out = []
        for carrier, items in groups.items():
            items.sort(key=lambda r: (r.since, r.parcel_id))
            handover = _open_handover(session, carrier)
            out.append(CarrierGroup(carrier, handover.id if handover else None, tuple(items)))
        out.sort(key=lambda g: g.parcels[0].since)
        return out


# --------------------------------------------------------------------------- scan into the cage


def _find_parcel(session: Session, value: str) -> Parcel | None:
    return session.exec(
        select(Parcel)
        .where(or_(col(Parcel.sscc) == value, col(Parcel.tracking_number) == value))
        .order_by(col(Parcel.id).desc())
    ).first()


def _cage_in(
    session: Session, actor: Actor, raw: str, value: str, carrier: str | None, day: str
) -> PostOutcome:
    parcel = _find_parcel(session, value)
    if parcel is None:
        raise Refused(msg.unknown_parcel(raw.strip()))
    order = session.get(Order, parcel.order_id)
    assert order is not None and parcel.id is not None
    what = f"Parcel {parcel.tracking_number or parcel.sscc} (order {order.number})"
    if parcel.status == "handed_over":
        when = (
            parcel.handed_over_at.astimezone().strftime("%d.%m %H:%M")
            if (parcel.handed_over_at)
            else "earlier"
        )
        raise Refused(
            f"{what} was handed over to {parcel.carrier} already ({when}).", order_id=order.id
        )
    if parcel.status == "void":
        shipment = session.get(Shipment, parcel.shipment_id) if parcel.shipment_id else None
        why = f" ({shipment.cancel_reason})" if shipment and shipment.cancel_reason else ""
        raise Refused(
            f"{what}: this label is void — the shipment was cancelled{why}. "
            "Take the parcel back to the shipping station for a new label.",
            order_id=order.id,
        )
    if parcel.status != "labelled":
        raise Refused(f"{what} is not shipped yet; it has no label.", order_id=order.id)
    if parcel.label_printed_at is None:
        raise Refused(
            f"{what}: its label never printed; print it at the shipping station first.",
            order_id=order.id,
        )
    own = parcel.carrier or ""
    if carrier is not None and own != carrier:
        raise Refused(
            f"{what} is for {own}, not {carrier}: put it aside for the {own} pickup.",
            order_id=order.id,
        )
    existing = session.exec(
        select(HandoverParcel).where(HandoverParcel.parcel_id == parcel.id)
    ).first()
    if existing is not None:
        record_event(
            session,
            actor,
            "handover",
            order_id=order.id,
            code=raw,
            result="info",
            message=f"scanned again; already in the {own} cage",
        )
        return PostOutcome(
            True, f"{what} is in the {own} cage already.", raw, kind="info", carrier=own
        )
    handover = _open_handover(session, own)
    if handover is None:
        handover = Handover(
            carrier=own, day=day, terminal=actor.terminal, opened_by=actor.packer_id
        )
        session.add(handover)
        session.flush()
    session.add(
        HandoverParcel(handover_id=handover.id or 0, parcel_id=parcel.id, packer_id=actor.packer_id)
    )
    session.flush()
    count = len(
        session.exec(
            select(HandoverParcel.id).where(HandoverParcel.handover_id == handover.id)
        ).all()
    )
    record_event(
        session,
        actor,
        "handover",
        order_id=order.id,
        code=raw,
        message=f"into the {own} cage (handover {handover.id})",
        data={"handover": handover.id, "parcel": parcel.id},
    )
    left = sum(1 for r in _waiting_rows(session, own) if not r.in_cage)
    text = f"{what} → {own} cage ({count} in the cage)"
    if left:
        text += f"; {left} {own} not scanned yet."
    else:
        text += f" — every {own} parcel is in: scan CMD-COMPLETE (F7) to hand them over."
    return PostOutcome(True, text, raw, carrier=own)


def cage_parcel(
    db: Database, actor: Actor, raw: str, value: str, *, carrier: str | None, day: str
) -> PostOutcome:
    return transact_logged(
        db,
        actor,
        lambda s: _cage_in(s, actor, raw, value, carrier, day),
        kind="handover",
        code=raw,
    )


def post_scan(
    db: Database,
    actor: Actor,
    raw: str,
    rules: CodeRules,
    *,
    carrier: str | None,
    day: str,
    settings: Settings | None = None,
    printer: Printer | None = None,
    confirming: str | None = None,
    confirm_missing: frozenset[int] | None = None,
) -> PostOutcome | None:
    """The post station's scans; ``None`` hands the scan to the common ``handle_scan``.

    ``carrier`` is the carrier the station is handling (None: the next parcel decides).
    ``CMD-COMPLETE`` closes that carrier's handover when every parcel of it is in the cage;
    ``CMD-CONFIRM`` confirms a close that leaves parcels behind (``confirming``: the carrier,
    ``confirm_missing``: the parcels the person was shown); ``CMD-NEXT`` lets go of the carrier.
    """
    if not actor.signed_in:
        return None
    scan = classify(raw, rules)
    if scan.kind in (CodeKind.SSCC, CodeKind.TRACKING):
        try:
            return cage_parcel(db, actor, raw, scan.value, carrier=carrier, day=day)
        except Refused as exc:
            return PostOutcome(False, exc.message, raw, kind="error", carrier=carrier)
    if scan.kind is CodeKind.COMMAND and scan.command in (Command.COMPLETE, Command.CONFIRM):
        target = carrier if scan.command is Command.COMPLETE else confirming
        if target is None:
            text = (
                "Scan a parcel first: no carrier's handover is being handled here."
                if scan.command is Command.COMPLETE
                else "Nothing is waiting for a confirmation."
            )
            log_refusal(db, actor, "handover", code=raw, message=text)
            return PostOutcome(False, text, raw, kind="error", carrier=carrier)
        confirm = scan.command is Command.CONFIRM
        from packbench.operations.carrier_transfer import needs_transfer

        transfer = needs_transfer(settings.ship if settings is not None else None, target)
        try:
            result = close_handover(
                db,
                actor,
                target,
                day=day,
                confirm=confirm,
                code=raw,
                transfer=transfer,
                shown_missing=confirm_missing if confirm else None,
            )
        except Refused as exc:
            return PostOutcome(False, exc.message, raw, kind="error", carrier=carrier)
        return _after_close(db, actor, raw, result, settings, printer)
    if scan.kind is CodeKind.COMMAND and scan.command is Command.NEXT:
        return PostOutcome(
            True, "Scan a parcel of the next carrier to handle.", raw, kind="info", carrier=None
        )
    if scan.kind is CodeKind.ORDER:
        text = (
            f"{msg.quote(raw.strip())} is a packing slip; the post station takes parcel labels "
            "(SSCC or tracking number)."
        )
        log_refusal(db, actor, "scan", code=raw, message=text)
        return PostOutcome(False, text, raw, kind="error", carrier=carrier)
    return None


def _after_close(
    db: Database,
    actor: Actor,
    raw: str,
    result: HandoverResult,
    settings: Settings | None,
    printer: Printer | None,
) -> PostOutcome:
    if not result.closed:
        lines = ", ".join(
            f"{r.order_number}/{r.seq} {r.tracking_number or r.sscc}" for r in result.missing
        )
        return PostOutcome(
            False,
            f"{msg.count(len(result.missing), f'{result.carrier} parcel')} "
            f"{'was' if len(result.missing) == 1 else 'were'} shipped but not scanned: "
            f"{lines}. Scan them, or CMD-CONFIRM (F8) to hand over without them — they stay "
            "for the next pickup.",
            raw,
            kind="error",
            carrier=result.carrier,
            confirm_close=result.carrier,
            confirm_missing=frozenset(r.parcel_id for r in result.missing),
            closed=result,
        )
    transferred = ""
    if result.transfers and settings is not None:
        # The close has committed: the carrier is called now, outside it; a failure is
        # retried later and never undoes the close.
        from packbench.operations.carrier_transfer import send_transfers

        transferred = send_transfers(db, actor, settings.ship).message
    printed = None
    if settings is not None and printer is not None and result.handover_id is not None:
        printed = print_manifest(db, actor, settings, printer, result.handover_id)
    stay = (
        f" {len(result.missing)} {'stays' if len(result.missing) == 1 else 'stay'} "
        "for the next pickup."
        if result.missing
        else ""
    )
    text = f"{msg.count(len(result.handed_over), 'parcel')} handed over to {result.carrier}.{stay}"
    if transferred:
        text += f" {transferred[:1].upper()}{transferred[1:]}."
    if printed is not None:
        text += (
            f" {printed.message}."
            if printed.ok
            else f" The manifest did not print ({printed.message}); F10 prints it again."
        )
    done = HandoverResult(**{**result.__dict__, "printed": printed, "transferred": transferred})
    ok = (printed is None or printed.ok) and "transfer failed" not in transferred
    return PostOutcome(
        ok,
        text,
        raw,
        kind="ok" if ok else "error",
        carrier=None,
        closed=done,
    )


# --------------------------------------------------------------------------- close


def close_handover(
    db: Database,
    actor: Actor,
    carrier: str,
    *,
    day: str,
    confirm: bool = False,
    code: str = "",
    transfer: bool = False,
    shown_missing: frozenset[int] | None = None,
) -> HandoverResult:
    """Hand the cage's parcels to ``carrier``. Parcels of that carrier that were shipped but not
    scanned are listed; then nothing changes unless ``confirm`` (they stay for the next pickup).

    ``transfer``: record, in the same transaction, the transfer of each handed-over parcel's
    consignment to the carrier (Cargonizer's EDI), sent after the commit
    (:mod:`packbench.operations.carrier_transfer`). ``shown_missing``: the parcels listed when
    the person was asked; a confirmation covers those only, so a parcel of the carrier shipped
    since (another terminal) is listed and asked again.
    """

    def run(session: Session) -> HandoverResult:
        handover = _open_handover(session, carrier)
        rows = _waiting_rows(session, carrier)
        caged = [r for r in rows if r.in_cage]
        missing = tuple(r for r in rows if not r.in_cage)
        if handover is None or not caged:
            raise Refused(f"No parcels are in the {carrier} cage; scan them first.")
        unseen = (
            [r for r in missing if r.parcel_id not in shown_missing]
            if shown_missing is not None
            else []
        )
        if missing and (not confirm or unseen):
            record_event(
                session,
                actor,
                "handover",
                code=code,
                result="info",
                message=(
                    f"{carrier}: {msg.count(len(missing), 'shipped parcel')} not scanned; "
                    "close asked"
                ),
                data={"missing": [r.parcel_id for r in missing]},
            )
            return HandoverResult(carrier, handover.id, False, tuple(caged), missing, None)
        now = utcnow()
        orders: set[int] = set()
        shipments: set[int] = set()
        for row in caged:
            parcel = session.get(Parcel, row.parcel_id)
            assert parcel is not None
            parcel.status = "handed_over"
            parcel.handed_over_at = now
            session.add(parcel)
            orders.add(parcel.order_id)
            if parcel.shipment_id is not None:
                shipments.add(parcel.shipment_id)
        session.flush()
        for order_id in sorted(orders):
            _order_handed_over(session, actor, order_id, carrier, now, code)
        handover.status = "closed"
        handover.closed_at = now
        handover.closed_by = actor.packer_id
        handover.day = day
        session.add(handover)
        transfers = 0
        if transfer:
            from packbench.operations.carrier_transfer import record_transfers

            assert handover.id is not None
            transfers = len(record_transfers(session, actor, handover.id, carrier, shipments))
        record_event(
            session,
            actor,
            "handover",
            code=code,
            message=(
                f"{msg.count(len(caged), 'parcel')} handed over to {carrier} "
                f"(handover {handover.id})" + (f"; {len(missing)} stay" if missing else "")
            ),
            data={
                "handover": handover.id,
                "parcels": [r.parcel_id for r in caged],
                "missing": [r.parcel_id for r in missing],
            },
        )
        return HandoverResult(
            carrier, handover.id, True, tuple(caged), missing, now, transfers=transfers
        )

    return transact_logged(db, actor, run, kind="handover", code=code)


def _order_handed_over(
    session: Session, actor: Actor, order_id: int, carrier: str, at: datetime, code: str
) -> None:
    order = session.get(Order, order_id)
    assert order is not None
    left = session.exec(
        select(Parcel.id).where(
            Parcel.order_id == order_id, col(Parcel.status).not_in(("void", "handed_over"))
        )
    ).all()
    if left or order.status != OrderStatus.SHIPPED.value:
        return  # parcels still waiting (or already moved on): the order stays where it is
    change_status(
        session,
        order,
        Action.HAND_OVER,
        actor,
        code=code,
        message=f"handed over to {carrier}",
        at=at,
    )
    for shipment in session.exec(
        select(Shipment).where(Shipment.order_id == order_id, Shipment.status == "created")
    ).all():
        shipment.status = "handed_over"
        session.add(shipment)


# --------------------------------------------------------------------------- manifest


def manifest_document(db: Database, settings: Settings, handover_id: int) -> Document:
    from packbench.printing.documents import ManifestInput, ManifestParcel, ShopInfo

    with db.read() as session:
        handover = session.get(Handover, handover_id)
        if handover is None or handover.status != "closed" or handover.closed_at is None:
            raise Refused(f"Handover {handover_id} is not closed; there is no manifest yet.")
        rows = session.exec(
            select(Parcel, Order.number, Order.ship_city)
            .join(HandoverParcel, col(HandoverParcel.parcel_id) == col(Parcel.id))
            .join(Order, col(Order.id) == col(Parcel.order_id))
            .where(HandoverParcel.handover_id == handover_id)
            .order_by(col(HandoverParcel.scanned_at), col(HandoverParcel.id))
        ).all()
        carrier, at = handover.carrier, handover.closed_at
    parcels = [
        ManifestParcel(
            order_number=number,
            city=city,
            weight_g=p.weight_g,
            tracking_number=p.tracking_number,
            sscc=p.sscc,
        )
        for p, number, city in rows
    ]
    from packbench.printing.documents import render_manifest

    shop = ShopInfo(name=settings.bench.shop_name, address_lines=tuple(settings.bench.shop_address))
    data = render_manifest(
        ManifestInput(
            carrier=carrier,
            handed_over_at=at,
            parcels=parcels,
            shop=shop,
            company_prefix=settings.ship.gs1_company_prefix,
        )
    )
    return Document(
        kind="manifest",
        data=data,
        title=f"manifest {carrier} {handover_id}",
        ref=f"{carrier} handover {handover_id}: {len(parcels)} parcels",
        spec={"kind": "manifest", "handover": handover_id},
    )


def print_manifest(
    db: Database,
    actor: Actor,
    settings: Settings,
    printer: Printer,
    handover_id: int,
    *,
    queue: str | None = None,
) -> PrintResult:
    """The handover's manifest on the station's manifest printer (again, whenever asked)."""
    doc = manifest_document(db, settings, handover_id)
    target = queue or settings.printers.for_station(actor.station).manifest
    return print_job(db, actor, printer, doc, queue=target, timeout_s=settings.printers.timeout_s)


def open_handover_here(db: Database, terminal: str) -> str | None:
    """The carrier whose cage this terminal was filling (after a restart, it goes on)."""
    with db.read() as session:
        return session.exec(
            select(Handover.carrier)
            .where(Handover.status == "open", Handover.terminal == terminal)
            .order_by(col(Handover.id).desc())
        ).first()


def last_closed_handover(db: Database, carrier: str | None = None) -> int | None:
    with db.read() as session:
        query = select(Handover.id).where(Handover.status == "closed")
        if carrier:
            query = query.where(Handover.carrier == carrier)
        return session.exec(query.order_by(col(Handover.id).desc())).first()


def handed_over_parcels(db: Database, handover_id: int) -> Sequence[str]:
    """The tracking numbers (or SSCCs) a closed handover gave the carrier, in scan order."""
    with db.read() as session:
        return [
            p.tracking_number or p.sscc or ""
            for p in session.exec(
                select(Parcel)
                .join(HandoverParcel, col(HandoverParcel.parcel_id) == col(Parcel.id))
                .where(HandoverParcel.handover_id == handover_id)
                .order_by(col(HandoverParcel.id))
            ).all()
        ]


@dataclass(frozen=True)
class HandoverView:
    id: int
    carrier: str
    day: str
    status: str
    parcels: int
    opened_at: datetime
    closed_at: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "carrier": self.carrier,
            "day": self.day,
            "status": self.status,
            "parcels": self.parcels,
            "opened_at": self.opened_at.isoformat(),
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
        }


def recent_handovers(db: Database, *, limit: int = 20) -> list[HandoverView]:
    """The open cages and the latest closed handovers, newest first."""
    with db.read() as session:
        rows = session.exec(
            select(Handover, func.count(col(HandoverParcel.id)))
            .join(HandoverParcel, col(HandoverParcel.handover_id) == col(Handover.id), isouter=True)
            .group_by(col(Handover.id))
            .order_by(col(Handover.id).desc())
            .limit(limit)
        ).all()
        return [
            HandoverView(
                id=h.id or 0,
                carrier=h.carrier,
                day=h.day,
                status=h.status,
                parcels=n,
                opened_at=h.opened_at,
                closed_at=h.closed_at,
            )
            for h, n in rows
        ]
