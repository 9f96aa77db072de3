"""The scan every station shares: badges, slips, parcel labels, commands and bad codes.

A station's own workflow (ticking units at the pack station, say) comes first in its own module;
whatever that module does not take lands here. Every scan, good or bad, leaves an event row.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, or_, select

from packbench.core.codes import CodeKind, CodeRules, Scan, classify
from packbench.core.workflow import OrderStatus
from packbench.data.engine import Database
from packbench.data.models import BoxType, Order, Parcel, Product
from packbench.operations import messages as msg
from packbench.operations.common import Actor, Refused, log_refusal, record_event, transact_logged
from packbench.operations.itemscan import find_by_gtin, prefer_catalogue_sku
from packbench.operations.packers import PackerView, sign_in_badge


@dataclass(frozen=True)
class ScanOutcome:
    """What a scan did, for the screen to show. ``ok`` is False only for refusals."""

    ok: bool
    kind: str
    code: str
    message: str
    order_id: int | None = None
    packer: PackerView | None = None
    command: str | None = None
    swapped: bool = False


def _refuse(db: Database, actor: Actor, code: str, message: str, kind: str) -> ScanOutcome:
    log_refusal(db, actor, "scan", code=code, message=message, data={"kind": kind})
    return ScanOutcome(ok=False, kind=kind, code=code, message=message)


def _order_for(session: Session, scan: Scan) -> Order:
    if scan.kind is CodeKind.ORDER:
        order = session.exec(select(Order).where(Order.number == scan.value)).first()
        if order is None:
            raise Refused(msg.unknown_order(scan.value))
        return order
    parcel = session.exec(
        select(Parcel).where(
            or_(col(Parcel.sscc) == scan.value, col(Parcel.tracking_number) == scan.value)
        )
    ).first()
    if parcel is None:
        raise Refused(msg.unknown_parcel(scan.value))
    order = session.get(Order, parcel.order_id)
    assert order is not None
    return order


def _explain(session: Session, scan: Scan, actor: Actor) -> str:
    """Why a product, location or box code does nothing here — naming what it is."""
    if scan.kind is CodeKind.GTIN:
        product = find_by_gtin(session, scan)
        if product is None:
            return msg.unknown_gtin(scan.value)
        return msg.product_not_here(product.name, scan.raw.strip(), actor.station)
    if scan.kind is CodeKind.SKU:
        product = session.exec(select(Product).where(Product.sku == scan.value)).first()
        if product is None:
            return msg.unknown_sku(scan.value)
        return msg.product_not_here(product.name, scan.raw.strip(), actor.station)
    if scan.kind is CodeKind.BOX:
        box = session.exec(select(BoxType).where(BoxType.code == scan.value)).first()
        if box is None:
            return msg.unknown_box(scan.value)
        return msg.not_here("box", scan.value, actor.station)
    return msg.not_here(scan.kind.value, scan.value, actor.station)


def handle_scan(db: Database, actor: Actor, raw: str, rules: CodeRules) -> ScanOutcome:
    """Classify ``raw`` and do what it means at a station whose own workflow did not take it."""
    scan = classify(raw, rules)
    if scan.sku is not None:
        scan = prefer_catalogue_sku(db, scan)
    kind = scan.kind.value
    if scan.kind in (CodeKind.INVALID, CodeKind.UNKNOWN):
        return _refuse(db, actor, raw, scan.reason, kind)
    if scan.kind is CodeKind.BADGE:
        try:
            packer = sign_in_badge(db, actor, scan.value)
        except Refused as exc:
            return ScanOutcome(ok=False, kind=kind, code=raw, message=exc.message)
        return ScanOutcome(
            ok=True,
            kind=kind,
            code=raw,
            message=f"Hello, {packer.name}.",
            packer=packer,
            swapped=scan.swapped,
        )
    if not actor.signed_in:
        return _refuse(db, actor, raw, msg.sign_in_first(raw.strip()), kind)
    if scan.kind is CodeKind.COMMAND:
        assert scan.command is not None
        db.transact(
            lambda s: record_event(
                s, actor, "scan", code=raw, message=f"command {scan.command}", data={"kind": kind}
            )
        )
        return ScanOutcome(
            ok=True,
            kind=kind,
            code=raw,
            message=f"Command {scan.command}.",
            command=str(scan.command),
            swapped=scan.swapped,
        )
    if scan.kind in (CodeKind.ORDER, CodeKind.SSCC, CodeKind.TRACKING):

        def open_order(session: Session) -> ScanOutcome:
            order = _order_for(session, scan)
            label = OrderStatus(order.status).label
            record_event(
                session,
                actor,
                "scan",
                order_id=order.id,
                code=raw,
                message=f"order {order.number} opened",
                data={"kind": kind},
            )
            return ScanOutcome(
                ok=True,
                kind=kind,
                code=raw,
                message=msg.order_opened(order.number, label),
                order_id=order.id,
                swapped=scan.swapped,
            )

        try:
            return transact_logged(db, actor, open_order, kind="scan", code=raw)
        except Refused as exc:
            return ScanOutcome(ok=False, kind=kind, code=raw, message=exc.message)
    with db.read() as session:
        reason = _explain(session, scan, actor)
    return _refuse(db, actor, raw, reason, kind)


def record_test_scan(db: Database, actor: Actor, raw: str, message: str) -> None:
    """A scan in the test-scan view: logged for the record, acted on never."""
    db.transact(
        lambda s: record_event(s, actor, "testscan", code=raw, result="info", message=message)
    )
