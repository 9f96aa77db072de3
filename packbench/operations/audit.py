"""The audit trail: an order's whole history — every scan, action, print and sync — in order.

It answers "the customer says an item was missing": which unit was scanned, into which parcel,
by whom, at which terminal and when. Everything comes from the event log, which every
operation writes in the same transaction as the change it describes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from packbench.core.codes import DEFAULT_RULES, CodeKind, CodeRules, classify
from packbench.core.workflow import OrderStatus
from packbench.data.engine import Database
from packbench.data.models import Event, Order, Packer
from packbench.operations.orders import find_order_id

if TYPE_CHECKING:
    from sqlmodel import Session


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    kind: str
    station: str
    terminal: str
    packer: str | None
    code: str | None
    result: str
    message: str
    details: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "kind": self.kind,
            "station": self.station,
            "terminal": self.terminal,
            "who": self.packer,
            "code": self.code,
            "result": self.result,
            "message": self.message,
            "details": self.details,
        }


@dataclass(frozen=True)
class OrderHistory:
    order_id: int
    number: str
    status: str
    entries: tuple[AuditEntry, ...]

    @property
    def status_label(self) -> str:
        """The status as people read it ("Handed over", not "handed_over")."""
        try:
            return OrderStatus(self.status).label
        except ValueError:
            return self.status.replace("_", " ")

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "status": self.status,
            "events": [e.to_json() for e in self.entries],
        }


def _details(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {"raw": raw}
    return value if isinstance(value, dict) else {"value": value}


def order_history(db: Database, ref: str, rules: CodeRules = DEFAULT_RULES) -> OrderHistory | None:
    """The whole history of the order a slip code, order number, SSCC or tracking number names.

    Oldest first; nothing is cut off. ``None`` when no order matches.
    """
    text = ref.strip()
    scan = classify(text, rules)
    with db.read() as session:
        if scan.kind is CodeKind.ORDER:
            order_id = find_order_id(session, number=scan.value)
        elif scan.kind in (CodeKind.SSCC, CodeKind.TRACKING):
            order_id = find_order_id(session, code=scan.value)
        else:  # a typed order number, or anything else: try it as the number
            order_id = find_order_id(session, number=text)
    if order_id is None:
        return None
    return history_of(db, order_id)


def history_of(db: Database, order_id: int) -> OrderHistory | None:
    with db.read() as session:
        order = session.get(Order, order_id)
        if order is None:
            return None
        rows = session.exec(
            select(Event, Packer)
            .join(Packer, col(Event.packer_id) == col(Packer.id), isouter=True)
            .where(Event.order_id == order_id)
            .order_by(col(Event.at), col(Event.id))
        ).all()
        entries = tuple(
            AuditEntry(
                id=e.id or 0,
                at=e.at,
                kind=e.kind,
                station=e.station,
                terminal=e.terminal,
                packer=p.name if p else None,
                code=e.code,
                result=e.result,
                message=e.message,
                details=_details(e.data),
            )
            for e, p in rows
        )
        money = _settlement_entries(session, order_id)  # #15
        if money:
            entries = tuple(sorted(entries + money, key=lambda e: (e.at, abs(e.id))))
        return OrderHistory(order_id, order.number, order.status, entries)


def _settlement_entries(session: Session, order_id: int) -> tuple[AuditEntry, ...]:
    """The payment provider's lines for the order (capture, fee, refund…) and the payout each
    went out in, shown in the history as they happened (#15). Ids are negative: not events."""
    from packbench.data.models import SettlementLine
    from packbench.operations.ledger import kr

    lines = session.exec(select(SettlementLine).where(SettlementLine.order_id == order_id)).all()
    if not lines:
        return ()
    payouts = {
        (r.provider, r.payout_id): r.day
        for r in session.exec(
            select(SettlementLine).where(
                SettlementLine.kind == "payout",
                col(SettlementLine.payout_id).in_({ln.payout_id for ln in lines if ln.payout_id}),
            )
        ).all()
        if r.amount_ore < 0
    }
    out = []
    for ln in lines:
        paid = payouts.get((ln.provider, ln.payout_id))
        where = (
            f"paid out in {ln.payout_id} on {paid}"
            if paid
            else (f"in payout {ln.payout_id}, not paid yet" if ln.payout_id else "not paid out yet")
        )
        out.append(
            AuditEntry(
                id=-(ln.id or 0),
                at=ln.occurred_at or ln.imported_at,
                kind="settlement",
                station="",
                terminal="",
                packer=None,
                code=ln.reference,
                result="info",
                message=f"{ln.provider.capitalize()} {ln.kind} {kr(ln.amount_ore)} ({where})",
                details={"provider_type": ln.provider_type, "day": ln.day},
            )
        )
    return tuple(out)
