"""The clearing account (1570) explained: what the payment providers owe the shop, order by order.

How the bench books it (README of the settlement fixtures, §5, with the invoice on 1570 as the
shop books it at completion):

- completing an order invoices it: **debit 1570** the order's total (``invoiced``);
- a refund the provider reports is the credit note: **credit 1570** (``refunded``);
- a payout credits 1570 with what it settles gross — captures less refunds, chargebacks and
  corrections (``paid_out``) — while the bank (1920) gets the net and the fees go to 7770.

So for each order ``open = invoiced − refunded − paid_out``, and the balance of 1570 is the sum
of the open items less whatever a payout settled that no order explains (``unmatched``). A
payout is *paid* when its payout lines send money to the bank (a Vipps payout that was
scheduled and then aborted is not). Reads only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from packbench.config import Settings
from packbench.data.engine import Database
from packbench.data.models import Order
from packbench.data.models import SettlementLine as LineRow
from packbench.operations.settlement import GROSS_KINDS
from packbench.settlement.base import OSLO

__all__ = ["Ledger", "OpenItem", "PayoutRow", "Unmatched", "clearing_ledger", "kr"]


def kr(ore: int) -> str:
    """12 345,67 kr — the way a Norwegian shop owner reads an amount."""
    sign = "−" if ore < 0 else ""
    whole, part = divmod(abs(ore), 100)
    return f"{sign}{whole:,}".replace(",", " ") + f",{part:02d} kr"


@dataclass(frozen=True)
class OpenItem:
    order: str
    order_id: int
    provider: str | None
    status: str
    invoiced_ore: int
    captured_ore: int
    refunded_ore: int
    fees_ore: int
    paid_out_ore: int
    open_ore: int
    age_days: int
    late: bool  # completed longer ago than a payout takes, and not paid out
    explanation: str


@dataclass(frozen=True)
class Unmatched:
    provider: str
    payout_id: str | None
    date: str
    kind: str  # the line's kind, or "payout" for a payout that does not add up
    amount_ore: int
    reference: str
    paid_out: bool
    explanation: str


@dataclass(frozen=True)
class PayoutRow:
    provider: str
    payout_id: str | None  # None: lines not in any payout yet
    date: str
    paid: bool
    captured_ore: int
    refunded_ore: int
    fees_ore: int
    chargebacks_ore: int
    other_ore: int
    to_bank_ore: int
    difference_ore: int  # ≠ 0: the payout does not add up from its lines
    explanation: str


@dataclass(frozen=True)
class Ledger:
    account: str
    balance_ore: int
    settled_orders: int
    open_items: tuple[OpenItem, ...]
    unmatched: tuple[Unmatched, ...]
    payouts: tuple[PayoutRow, ...]
    explanation: str
    paid_this_week_ore: int = 0  # to the bank, payouts dated Monday..today (Oslo)
    late_orders: int = 0  # completed longer ago than a payout takes, nothing paid out

    def as_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "balance_ore": self.balance_ore,
            "settled_orders": self.settled_orders,
            "open_items": [asdict(i) for i in self.open_items],
            "unmatched": [asdict(u) for u in self.unmatched],
            "payouts": [asdict(p) for p in self.payouts],
            "explanation": self.explanation,
            "paid_this_week_ore": self.paid_this_week_ore,
            "late_orders": self.late_orders,
        }

    def as_text(self, *, limit: int = 200) -> str:
        out = [f"Account {self.account}: balance {kr(self.balance_ore)}", self.explanation, ""]
        if self.payouts:
            out.append("Payouts")
            head: tuple[str, ...] = (
                "provider",
                "payout",
                "date",
                "captured",
                "refunds",
                "fees",
                "to bank",
            )
            rows = [
                (
                    p.provider,
                    p.payout_id or "(not yet)",
                    p.date,
                    kr(p.captured_ore),
                    kr(-p.refunded_ore),
                    kr(-p.fees_ore),
                    kr(p.to_bank_ore) if p.paid else "—",
                )
                for p in self.payouts
            ]
            out += _table(head, rows, right=(3, 4, 5, 6))
            out += [f"  {p.payout_id or p.provider}: {p.explanation}" for p in self.payouts]
            out.append("")
        if self.open_items:
            out.append("Open items (orders)")
            head = ("order", "provider", "invoiced", "captured", "refunded", "paid out", "open",
                    "days")  # fmt: skip
            items = [
                (
                    i.order,
                    i.provider or "—",
                    kr(i.invoiced_ore),
                    kr(i.captured_ore),
                    kr(i.refunded_ore),
                    kr(i.paid_out_ore),
                    kr(i.open_ore),
                    str(i.age_days) + (" late" if i.late else ""),
                )
                for i in self.open_items[:limit]
            ]
            out += _table(head, items, right=(2, 3, 4, 5, 6, 7))
            out += [f"  {i.order}: {i.explanation}" for i in self.open_items[:limit]]
            if len(self.open_items) > limit:
                out.append(f"  … and {len(self.open_items) - limit} more (--json lists all)")
            out.append("")
        if self.unmatched:
            out.append("Not explained by any order")
            out += [f"  {u.explanation}" for u in self.unmatched[:limit]]
            if len(self.unmatched) > limit:
                out.append(f"  … and {len(self.unmatched) - limit} more (--json lists all)")
        return "\n".join(out).rstrip() + "\n"


def _table(
    head: tuple[str, ...], rows: Sequence[tuple[str, ...]], right: tuple[int, ...]
) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]

    def fmt(cells: tuple[str, ...]) -> str:
        return (
            "  "
            + "  ".join(
                c.rjust(w) if i in right else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ).rstrip()
        )

    return [fmt(head), *(fmt(r) for r in rows)]


@dataclass
class _Sums:
    captured: int = 0
    refunded: int = 0  # positive: money back to the customer
    fees: int = 0  # positive: what the provider kept
    chargebacks: int = 0  # positive: taken back in a dispute
    other: int = 0  # corrections and unknown kinds, signed
    paid_out: int = 0  # gross lines in paid payouts, signed
    unpaid_refunds: int = 0
    unpaid_captures: int = 0
    provider: str | None = None
    first_day: str | None = None


def clearing_ledger(db: Database, settings: Settings, *, today: date | None = None) -> Ledger:
    account = str(settings.shop.clearing_account)
    cfg = settings.settlement
    today = today or datetime.now(OSLO).date()
    methods = sorted({m for ms in cfg.payment_methods.values() for m in ms})
    with db.read() as session:
        payouts, paid = payout_summaries(session)
        rows, balance, settled = _order_rows(session, methods)
        loose = session.exec(
            select(LineRow)
            .where(col(LineRow.order_id).is_(None), col(LineRow.kind).in_(GROSS_KINDS))
            .order_by(col(LineRow.day), col(LineRow.id))
        ).all()

    items: list[OpenItem] = []
    for order, s in rows:
        provider = s.provider or cfg.provider_of(order.payment_method)
        completed = order.completed_at is not None
        invoiced = order.total_ore if completed else 0
        credited = s.refunded if completed else 0
        open_ore = invoiced - credited - s.paid_out
        since = (
            order.completed_at.astimezone(OSLO).date()
            if order.completed_at
            else date.fromisoformat(s.first_day or today.isoformat())
        )
        age = (today - since).days
        late = completed and s.paid_out == 0 and age > cfg.unsettled_after_days
        items.append(
            OpenItem(
                order=order.number,
                order_id=order.id or 0,
                provider=provider,
                status=order.status,
                invoiced_ore=invoiced,
                captured_ore=s.captured,
                refunded_ore=s.refunded,
                fees_ore=s.fees,
                paid_out_ore=s.paid_out,
                open_ore=open_ore,
                age_days=age,
                late=bool(late),
                explanation=_explain(order, s, provider, invoiced, age, bool(late), cfg),
            )
        )
    items.sort(key=lambda i: (-i.age_days, i.order))

    unmatched: list[Unmatched] = []
    for line in loose:
        is_paid = (line.provider, line.payout_id) in paid
        if is_paid:
            balance -= line.amount_ore
        unmatched.append(_unmatched_line(line, is_paid))
    for p in payouts:
        if p.paid and p.difference_ore:
            unmatched.append(
                Unmatched(
                    provider=p.provider,
                    payout_id=p.payout_id,
                    date=p.date,
                    kind="payout",
                    amount_ore=p.difference_ore,
                    reference=p.payout_id or "",
                    paid_out=True,
                    explanation=(
                        f"{p.provider.capitalize()} payout {p.payout_id} on {p.date} does not add "
                        f"up: its lines come to {kr(p.difference_ore)} more than it paid "
                        "(a fee or funds report not imported yet?)"
                        if p.difference_ore > 0
                        else f"{p.provider.capitalize()} payout {p.payout_id} on {p.date} paid "
                        f"{kr(-p.difference_ore)} more than its lines explain"
                    ),
                )
            )
    monday = (today - timedelta(days=today.weekday())).isoformat()
    return Ledger(
        paid_this_week_ore=sum(
            p.to_bank_ore for p in payouts if p.paid and monday <= p.date <= today.isoformat()
        ),
        late_orders=sum(1 for i in items if i.late),
        account=account,
        balance_ore=balance,
        settled_orders=settled,
        open_items=tuple(items),
        unmatched=tuple(unmatched),
        payouts=tuple(payouts),
        explanation=_overall(account, balance, settled, items, unmatched),
    )


# A list: more columns than select's typed overloads take.
_PAYOUT_COLUMNS: list[Any] = [
    LineRow.provider,
    LineRow.payout_id,
    LineRow.kind,
    func.sum(LineRow.amount_ore),
    func.max(LineRow.day),
]


def payout_summaries(session: Session) -> tuple[list[PayoutRow], set[tuple[str, str | None]]]:
    rows = session.execute(
        sa_select(*_PAYOUT_COLUMNS).group_by(
            col(LineRow.provider), col(LineRow.payout_id), col(LineRow.kind)
        )
    ).all()
    by: dict[tuple[str, str | None], dict[str, int]] = defaultdict(dict)
    last: dict[tuple[str, str | None], str] = {}
    payout_day: dict[tuple[str, str | None], str] = {}
    for provider, pid, kind, total, day in rows:
        key = (provider, pid)
        by[key][kind] = int(total or 0)
        last[key] = max(day, last.get(key, day))
        if kind == "payout":
            payout_day[key] = day
    days = {key: payout_day.get(key, last[key]) for key in by}
    out: list[PayoutRow] = []
    paid: set[tuple[str, str | None]] = set()
    for (provider, pid), k in sorted(by.items(), key=lambda kv: (kv[0][0], days[kv[0]])):
        is_paid = pid is not None and k.get("payout", 0) < 0
        if is_paid:
            paid.add((provider, pid))
        captured, refunds, fees = k.get("capture", 0), -k.get("refund", 0), -k.get("fee", 0)
        chargebacks = -k.get("chargeback", 0)
        other = k.get("correction", 0) + k.get("other", 0)
        to_bank = -k.get("payout", 0)
        difference = sum(k.values()) if is_paid else 0
        name = provider.capitalize()
        parts = [f"captured {kr(captured)}"]
        if refunds:
            parts.append(f"refunds {kr(-refunds)}")
        if chargebacks:
            parts.append(f"taken back in disputes {kr(-chargebacks)}")
        if other:
            parts.append(f"corrections {kr(other)}")
        parts.append(f"fees {kr(-fees)}")
        if is_paid:
            text = f"{', '.join(parts)} → {kr(to_bank)} to the bank"
            if difference:
                text += f"; does not add up by {kr(difference)}"
        elif pid is None:
            text = f"{name} has not paid these out yet: {', '.join(parts)}"
        else:
            text = f"payout not made (yet): {', '.join(parts)}"
        out.append(
            PayoutRow(
                provider=provider,
                payout_id=pid,
                date=days[(provider, pid)],
                paid=is_paid,
                captured_ore=captured,
                refunded_ore=refunds,
                fees_ore=fees,
                chargebacks_ore=chargebacks,
                other_ore=other,
                to_bank_ore=to_bank,
                difference_ore=difference,
                explanation=text,
            )
        )
    return out, paid


@dataclass(frozen=True)
class _OrderRow:
    id: int
    number: str
    status: str
    payment_method: str
    total_ore: int
    completed_at: datetime | None


def _order_rows(
    session: Session, methods: list[str]
) -> tuple[list[tuple[_OrderRow, _Sums]], int, int]:
    """The orders on the account, summed in SQL: only the open ones come back as rows (a year of
    a busy shop is 200,000 settled orders), with the balance and the count of settled ones."""
    lines = LineRow.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__
    orders = Order.__table__  # type: ignore[attr-defined]  # SQLModel declares no __table__
    paid = (
        sa_select(lines.c.provider, lines.c.payout_id)
        .where(lines.c.kind == "payout", lines.c.payout_id.is_not(None))
        .group_by(lines.c.provider, lines.c.payout_id)
        .having(func.sum(lines.c.amount_ore) < 0)
        .subquery("paid")
    )
    is_paid = paid.c.payout_id.is_not(None)

    def total(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, lines.c.amount_ore), else_=0)), 0)

    sums = (
        sa_select(
            lines.c.order_id.label("order_id"),
            func.min(lines.c.provider).label("provider"),
            func.min(lines.c.day).label("first_day"),
            total(lines.c.kind == "capture").label("captured"),
            total(lines.c.kind == "refund").label("refund"),
            total(lines.c.kind == "fee").label("fee"),
            total(lines.c.kind == "chargeback").label("chargeback"),
            total(lines.c.kind.in_(("correction", "other"))).label("other"),
            total(and_(lines.c.kind.in_(GROSS_KINDS), is_paid)).label("paid_out"),
            total(and_(lines.c.kind == "capture", ~is_paid)).label("unpaid_captures"),
            total(and_(lines.c.kind == "refund", ~is_paid)).label("unpaid_refunds"),
        )
        .select_from(
            lines.outerjoin(
                paid,
                and_(paid.c.provider == lines.c.provider, paid.c.payout_id == lines.c.payout_id),
            )
        )
        .where(lines.c.order_id.is_not(None))
        .group_by(lines.c.order_id)
        .subquery("sums")
    )
    completed = orders.c.completed_at.is_not(None)
    captured = func.coalesce(sums.c.captured, 0)
    open_ore = (
        case((completed, orders.c.total_ore), else_=0)
        + case((completed, func.coalesce(sums.c.refund, 0)), else_=0)
        - func.coalesce(sums.c.paid_out, 0)
    )
    is_open = or_(open_ore != 0, and_(completed, captured != 0, captured != orders.c.total_ore))
    scope = or_(and_(completed, orders.c.payment_method.in_(methods)), sums.c.order_id.is_not(None))
    joined = orders.outerjoin(sums, sums.c.order_id == orders.c.id)
    balance, settled = session.execute(
        sa_select(
            func.coalesce(func.sum(open_ore), 0),
            func.coalesce(func.sum(case((is_open, 0), else_=1)), 0),
        )
        .select_from(joined)
        .where(scope)
    ).one()
    rows = session.execute(
        sa_select(
            orders.c.id,
            orders.c.number,
            orders.c.status,
            orders.c.payment_method,
            orders.c.total_ore,
            orders.c.completed_at,
            sums.c.provider,
            sums.c.first_day,
            sums.c.captured,
            sums.c.refund,
            sums.c.fee,
            sums.c.chargeback,
            sums.c.other,
            sums.c.paid_out,
            sums.c.unpaid_captures,
            sums.c.unpaid_refunds,
        )
        .select_from(joined)
        .where(scope, is_open)
        .order_by(orders.c.id)
    ).all()
    out = []
    for r in rows:
        order = _OrderRow(r.id, r.number, r.status, r.payment_method, r.total_ore, r.completed_at)
        sums_row = _Sums(
            captured=int(r.captured or 0),
            refunded=-int(r.refund or 0),
            fees=-int(r.fee or 0),
            chargebacks=-int(r.chargeback or 0),
            other=int(r.other or 0),
            paid_out=int(r.paid_out or 0),
            unpaid_refunds=-int(r.unpaid_refunds or 0),
            unpaid_captures=int(r.unpaid_captures or 0),
            provider=r.provider,
            first_day=r.first_day,
        )
        out.append((order, sums_row))
    return out, int(balance), int(settled)


def _explain(
    order: _OrderRow,
    s: _Sums,
    provider: str | None,
    invoiced: int,
    age: int,
    late: bool,
    cfg: Any,
) -> str:
    name = (provider or "the payment provider").capitalize()
    said: list[str] = []
    if order.completed_at is None:
        if s.paid_out:
            said.append(
                f"{name} paid out {kr(s.paid_out)} for it, but the order is not completed at "
                "the bench, so there is no invoice on the account yet"
            )
        else:
            said.append(f"{name} reported money for it, but it is not completed at the bench")
    elif not s.captured and not s.paid_out:
        text = f"completed {age} days ago; {name} has reported no capture yet"
        if late:
            text += f" — longer than the {cfg.unsettled_after_days} days a payout should take"
        said.append(text)
    if order.completed_at is not None and s.captured and s.captured != invoiced:
        diff = s.captured - invoiced
        said.append(
            f"captured {kr(s.captured)} but invoiced {kr(invoiced)}: "
            f"{kr(abs(diff))} {'more' if diff > 0 else 'less'} than the invoice"
        )
    if s.unpaid_captures:
        said.append(f"{kr(s.unpaid_captures)} captured, waiting for {name}'s next payout")
    if s.unpaid_refunds:
        said.append(
            f"a refund of {kr(s.unpaid_refunds)} will be deducted from {name}'s next payout"
        )
    if s.chargebacks:
        said.append(
            f"the customer disputed the payment: {name} took back {kr(s.chargebacks)}, "
            "so the customer owes it again"
        )
    if not said:
        said.append(f"open {kr(invoiced - s.refunded - s.paid_out)}")
    return "; ".join(said)


def _unmatched_line(line: LineRow, paid: bool) -> Unmatched:
    name = line.provider.capitalize()
    what = {
        "capture": "captured" if line.amount_ore >= 0 else "released (never captured)",
        "refund": "refunded",
        "chargeback": "took back in a dispute",
        "correction": "corrected",
    }.get(line.kind, f"booked ({line.provider_type})")
    amount = abs(line.amount_ore) if line.kind in ("capture", "refund", "chargeback") else None
    if line.order_value:
        whose = (
            f"order {'id' if line.order_by == 'id' else 'no.'} {line.order_value}, "
            "which is not an order here"
        )
    else:
        whose = f"{line.related or line.reference}, which names no order"
    state = f"paid out in {line.payout_id}" if paid else "not paid out yet"
    return Unmatched(
        provider=line.provider,
        payout_id=line.payout_id,
        date=line.day,
        kind=line.kind,
        amount_ore=line.amount_ore,
        reference=line.reference,
        paid_out=paid,
        explanation=(
            f"{name} {what} {kr(line.amount_ore if amount is None else amount)} on {line.day} "
            f"for {whose} ({state})"
        ),
    )


def _overall(
    account: str, balance: int, settled: int, items: list[OpenItem], unmatched: list[Unmatched]
) -> str:
    waiting = sum(i.open_ore for i in items)
    loose = sum(u.amount_ore for u in unmatched if u.paid_out and u.kind != "payout")
    text = f"{settled} completed orders are settled to the øre."
    if items:
        late = sum(1 for i in items if i.late)
        text += f" {len(items)} orders leave {kr(waiting)} open"
        text += f" ({late} of them late)." if late else "."
    if loose:
        text += f" Payouts settled {kr(loose)} that no order here explains."
    if not items and not unmatched:
        text += f" {account} is explained to the last øre."
    else:
        text += f" Balance {kr(balance)} = the open orders {kr(waiting)}"
        text += f" less the unexplained {kr(loose)}." if loose else "."
    return text
