"""Importing a provider's settlement lines and matching them to the shop's orders.

One import is one transaction: the new lines, what they changed on lines already known, the
matches, and one ``settlement`` event row. A line already imported (same provider, same key) is
left as it is, so importing the same payout twice changes nothing; a line that comes back with
another amount or kind is a conflict and the whole import is refused (the provider's data is
immutable: something is wrong with the file). A report with any malformed line imports nothing
either, and says which lines and why.

Matching: a line's order reference (Vipps: the WooCommerce order id; Klarna, Stripe: the order
number) finds the order; a line without one (a Stripe refund in a later payout) finds it through
the line it refers to (``related`` = that line's ``reference``). Lines whose order arrives later
are matched at the next import. Vipps lines get their payout from the payout on or after their
ledger date, also across imports (funds and fees may come separately).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_
from sqlmodel import Session, col, select

from packbench.data.engine import Database
from packbench.data.models import Order
from packbench.data.models import SettlementLine as LineRow
from packbench.data.types import utcnow
from packbench.operations import messages as msg
from packbench.operations.common import Actor, Refused, record_event, transact_logged
from packbench.settlement.base import ParseResult, SettlementLine

__all__ = ["ImportRefused", "ImportReport", "import_settlement"]

CHUNK = 500
#: Kinds that move the clearing account (fees go to the fee account, transfers nowhere).
GROSS_KINDS = ("capture", "refund", "chargeback", "correction", "other")


class ImportRefused(Refused):
    """Nothing was imported; ``problems`` lists every line that stopped it."""

    def __init__(self, message: str, problems: Sequence[str]) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


@dataclass(frozen=True)
class ImportReport:
    provider: str
    source: str
    new: int
    known: int
    updated: int  # known lines that learned their payout or order
    matched: int  # lines of this provider newly matched to an order (new or old)
    unmatched: int  # lines of this provider moving 1570 with no order, after the import
    payouts: tuple[tuple[str, int], ...]  # payout id, amount to the bank (øre, positive)
    pending: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        name = self.provider.capitalize()
        text = f"{name}: {self.new} new lines, {self.known} already imported"
        if self.updated:
            text += f", {self.updated} completed"
        text += f"; {self.matched} matched to orders"
        if self.unmatched:
            text += f", {self.unmatched} with no order"
        if self.payouts:
            listed = ", ".join(f"{pid} ({_kr(amount)})" for pid, amount in self.payouts)
            text += f"; payouts: {listed}"
        if self.pending:
            text += f"; not closed by the provider yet: {', '.join(self.pending)}"
        return text


def _kr(ore: int) -> str:
    sign = "-" if ore < 0 else ""
    whole, part = divmod(abs(ore), 100)
    return f"{sign}{whole:,}".replace(",", " ") + f",{part:02d} kr"


def _chunks(items: Sequence[str], size: int = CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _order_ids(session: Session, refs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """(by, value) → orders.id for the refs that name an order we have."""
    out: dict[tuple[str, str], int] = {}
    ids = sorted({int(v) for by, v in refs if by == "id" and v.isdigit() and len(v) < 12})
    numbers = sorted({v for by, v in refs if by == "number"})
    for chunk in _chunks([str(i) for i in ids]):
        rows = session.exec(
            select(Order.id, Order.shop_order_id).where(
                col(Order.shop_order_id).in_([int(i) for i in chunk])
            )
        ).all()
        out.update({("id", str(shop_id)): oid for oid, shop_id in rows if oid is not None})
    for chunk in _chunks(numbers):
        named = session.exec(
            select(Order.id, Order.number).where(col(Order.number).in_(list(chunk)))
        ).all()
        out.update({("number", number): oid for oid, number in named if oid is not None})
    return out


def _row(line: SettlementLine, order_id: int | None, now: datetime) -> dict[str, Any]:
    return {
        "provider": line.provider,
        "line_key": line.key,
        "payout_id": line.payout_id,
        "day": line.date.isoformat(),
        "kind": line.kind,
        "amount_ore": line.amount_ore,
        "currency": line.currency,
        "provider_type": line.provider_type[:100],
        "reference": line.reference[:200],
        "order_by": line.order_ref.by if line.order_ref else None,
        "order_value": line.order_ref.value if line.order_ref else None,
        "related": line.related[:200] if line.related else None,
        "account": line.account,
        "order_id": order_id,
        "occurred_at": line.occurred_at,
        "imported_at": now,
    }


def import_settlement(
    db: Database, actor: Actor, result: ParseResult, *, source: str
) -> ImportReport:
    """Store ``result``'s lines (idempotent), match them, log one event; or refuse it whole."""
    provider = result.provider
    if result.rejected:
        problems = [str(r) for r in result.rejected]
        _log_refusal(db, actor, provider, source, problems)
        raise ImportRefused(
            f"{source}: {msg.count(len(problems), 'line')} cannot be read; nothing was imported",
            problems,
        )
    lines: dict[str, SettlementLine] = {}
    clashes: list[str] = []
    for line in result.lines:
        seen = lines.get(line.key)
        if seen is not None and seen != line:
            clashes.append(f"{line.key}: given twice with different contents")
        lines.setdefault(line.key, line)
    if clashes:
        _log_refusal(db, actor, provider, source, clashes)
        raise ImportRefused(f"{source}: the report contradicts itself; nothing imported", clashes)

    def run(session: Session) -> ImportReport:
        existing: dict[str, LineRow] = {}
        for chunk in _chunks(list(lines)):
            rows = session.exec(
                select(LineRow).where(
                    LineRow.provider == provider, col(LineRow.line_key).in_(list(chunk))
                )
            ).all()
            existing.update({r.line_key: r for r in rows})
        conflicts: list[str] = []
        updated = 0
        for key, line in lines.items():
            row = existing.get(key)
            if row is None:
                continue
            if row.kind != line.kind or row.amount_ore != line.amount_ore:
                conflicts.append(
                    f"{line.provider_type} {line.reference} ({line.date}): imported before as "
                    f"{row.kind} {_kr(row.amount_ore)}, now {line.kind} {_kr(line.amount_ore)}"
                )
                continue
            changed = False
            if row.payout_id is None and line.payout_id is not None:
                row.payout_id, changed = line.payout_id, True
            if row.order_value is None and line.order_ref is not None:
                row.order_by, row.order_value = line.order_ref.by, line.order_ref.value
                changed = True
            if changed:
                updated += 1
                session.add(row)
        if conflicts:
            raise ImportRefused(
                f"{source}: {msg.count(len(conflicts), 'line')} "
                f"{'differs' if len(conflicts) == 1 else 'differ'} from what was imported before; "
                "nothing imported",
                conflicts,
            )
        new = [line for key, line in lines.items() if key not in existing]
        refs = {(ln.order_ref.by, ln.order_ref.value) for ln in new if ln.order_ref}
        orders = _order_ids(session, refs)
        matched = 0
        values: list[dict[str, Any]] = []
        now = utcnow()
        for line in new:
            oid = orders.get((line.order_ref.by, line.order_ref.value)) if line.order_ref else None
            matched += oid is not None
            values.append(_row(line, oid, now))
        session.flush()  # the known lines' changes first
        table = LineRow.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__
        for start in range(0, len(values), CHUNK):
            # one multi-row statement per chunk: the ORM's unit of work took ~1 ms a line
            session.execute(insert(table), values[start : start + CHUNK])
        matched += _rematch(session, provider)
        if provider == "vipps":
            updated += _assign_vipps_payouts(session)
        unmatched = session.exec(
            select(func.count())
            .select_from(LineRow)
            .where(
                LineRow.provider == provider,
                col(LineRow.order_id).is_(None),
                col(LineRow.kind).in_(GROSS_KINDS),
            )
        ).one()
        payouts = tuple(
            sorted(
                (ln.payout_id or "", -ln.amount_ore)
                for ln in new
                if ln.kind == "payout" and ln.amount_ore < 0
            )
        )
        report = ImportReport(
            provider=provider,
            source=source,
            new=len(new),
            known=len(lines) - len(new),
            updated=updated,
            matched=matched,
            unmatched=unmatched,
            payouts=payouts,
            pending=tuple(result.pending),
        )
        record_event(
            session,
            actor,
            "settlement",
            code=source[:500],
            message=report.summary(),
            data={
                "provider": provider,
                "source": source,
                "new": report.new,
                "known": report.known,
                "updated": report.updated,
                "matched": report.matched,
                "payouts": [list(p) for p in payouts],
                "pending": list(result.pending),
            },
        )
        return report

    return transact_logged(db, actor, run, kind="settlement", code=source[:500])


def _log_refusal(
    db: Database, actor: Actor, provider: str, source: str, problems: list[str]
) -> None:
    def run(session: Session) -> None:
        record_event(
            session,
            actor,
            "settlement",
            code=source[:500],
            result="refused",
            message=f"{provider}: nothing imported from {source}; {problems[0]}"[:1000],
            data={"provider": provider, "source": source, "problems": problems[:50]},
        )

    db.transact(run)


def _rematch(session: Session, provider: str) -> int:
    """Lines still without an order: by their own reference, then through the line they name."""
    rows = session.exec(
        select(LineRow).where(
            LineRow.provider == provider,
            col(LineRow.order_id).is_(None),
            or_(col(LineRow.order_value).is_not(None), col(LineRow.related).is_not(None)),
        )
    ).all()
    if not rows:
        return 0
    matched = 0
    refs = {(r.order_by, r.order_value) for r in rows if r.order_by and r.order_value}
    orders = _order_ids(session, refs)
    waiting = []
    for r in rows:
        oid = orders.get((r.order_by or "", r.order_value or ""))
        if oid is not None:
            r.order_id = oid
            session.add(r)
            matched += 1
        elif r.related:
            waiting.append(r)
    if waiting:
        related = sorted({r.related for r in waiting if r.related})
        owners: dict[str, LineRow] = {}
        for chunk in _chunks(related):
            found = session.exec(
                select(LineRow).where(
                    LineRow.provider == provider,
                    col(LineRow.reference).in_(list(chunk)),
                    col(LineRow.order_id).is_not(None),
                )
            ).all()
            owners.update({f.reference: f for f in found})
        for r in waiting:
            owner = owners.get(r.related or "")
            if owner is not None:
                r.order_id = owner.order_id
                r.order_by, r.order_value = owner.order_by, owner.order_value
                session.add(r)
                matched += 1
    return matched


def _assign_vipps_payouts(session: Session) -> int:
    """A Vipps payout covers every ledger date since the one before it: lines stored without a
    payout (a fees ledger imported before its funds) get the first payout on or after their
    date, of the same ledger when both are known."""
    loose = session.exec(
        select(LineRow).where(
            LineRow.provider == "vipps",
            col(LineRow.payout_id).is_(None),
            LineRow.kind != "payout",
        )
    ).all()
    if not loose:
        return 0
    payouts = session.exec(
        select(LineRow.day, LineRow.payout_id, LineRow.account)
        .where(LineRow.provider == "vipps", LineRow.kind == "payout", LineRow.amount_ore < 0)
        .order_by(LineRow.day)
    ).all()
    changed = 0
    for row in loose:
        for day, pid, account in payouts:
            same = account is None or row.account is None or account == row.account
            if day >= row.day and same:
                row.payout_id = pid
                row.account = row.account or account
                session.add(row)
                changed += 1
                break
    return changed
