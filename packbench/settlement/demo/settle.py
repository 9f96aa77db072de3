"""The demo providers' side of the shop's captures: daily payouts with fees, in their shapes.

The demo shop captures an order's payment when the bench completes it. Here each capture is
given to the provider that settles its payment method and settled the way the providers do it
(``../shared/fixtures/settlement-examples/README.md``): every closed Oslo day is one payout of
that day's captures less the day's refunds and the fees (a percentage plus a fixed fee per
capture, as in the fixtures); a day whose balance is not positive pays nothing and carries
over into the next day's payout. Today is not closed: today's captures wait for tomorrow
(Vipps answers ``tryLater`` for the date).

Two things go wrong on purpose, so the bench has something to explain:

- **one refund**: the first capture (Vipps if there is one) has one item returned the day
  after, netted into that day's payout;
- **one capture never paid out**: the first Klarna capture (else the second capture) never
  reaches the provider's reports, so the bench sees an order it invoiced with nothing settled.

Both are chosen from the earliest captures, so they stay the same as new orders are captured.
Every id (pspReference, capture id, payout reference, Stripe ids) is derived from the order and
the date: the same captures always give the same reports, as a provider's immutable data should.
Pure: no network, no database.
"""

from __future__ import annotations

import hashlib
import uuid
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from packbench.settlement.base import OSLO
from packbench.settlement.demo.data import ProviderData

__all__ = [
    "DEMO_LEDGER",
    "DEMO_MERCHANT",
    "DEMO_MSN",
    "FEES",
    "Capture",
    "Fee",
    "Settled",
    "provider_of",
    "settle",
]

DEMO_MSN = "654321"  # the demo shop's Vipps merchant serial number (sales unit)
DEMO_LEDGER = "310001"
DEMO_MERCHANT = "K509876"  # the demo shop's Klarna merchant id
DEMO_SITE = "demobutk"  # the Vipps plugin's order prefix: woo-<site>-<order id>


@dataclass(frozen=True)
class Fee:
    """``basis_points`` of the captured amount (rounded half up to whole øre) + ``fixed_ore``."""

    basis_points: int
    fixed_ore: int

    def of(self, amount_ore: int) -> tuple[int, int]:
        """(percentage part, fixed part) in øre."""
        return (amount_ore * self.basis_points + 5000) // 10000, self.fixed_ore


#: The fixtures' (invented) rates: Vipps 2.99 % + 1 kr, Klarna 2.49 % + 3 kr, Stripe 2.4 % + 2 kr.
FEES: dict[str, Fee] = {
    "vipps": Fee(299, 100),
    "klarna": Fee(249, 300),
    "stripe": Fee(240, 200),
}

DEFAULT_METHODS: dict[str, str] = {
    "vipps": "vipps",
    "vipps_checkout": "vipps",
    "klarna": "klarna",
    "klarna_payments": "klarna",
    "kco": "klarna",
    "stripe": "stripe",
    "stripe_cc": "stripe",
}


@dataclass(frozen=True)
class Capture:
    """One capture as the shop made it, with what the provider knows of the order."""

    order_id: int
    number: str
    amount_ore: int
    at: datetime  # aware
    payment_method: str
    transaction_id: str = ""
    created_at: datetime | None = None
    return_ore: int = 0  # what one returned item costs (the demo's refund), 0: the whole amount
    customer: str = ""


@dataclass
class Settled:
    """What the demo providers did with the captures (for the demo's own checks and tests)."""

    data: ProviderData
    #: order id → (provider, captured, refunded, fees, paid out gross) in øre
    orders: dict[int, tuple[str, int, int, int, int]] = field(default_factory=dict)
    refunded_order: int | None = None
    never_paid_order: int | None = None
    payouts: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # → (id, net)


def provider_of(method: str, methods: Mapping[str, str] | None = None) -> str | None:
    return (methods or DEFAULT_METHODS).get(method)


def _digits(*parts: object, n: int = 10) -> str:
    text = hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()
    return str(int(text, 16))[:n]


def _token(*parts: object, n: int = 24) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    value = int(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest(), 16)
    out = []
    for _ in range(n):
        value, r = divmod(value, len(alphabet))
        out.append(alphabet[r])
    return "".join(out)


def _uuid(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "packbench-demo:" + ":".join(map(str, parts))))


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _z_seconds(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _oslo_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=OSLO).astimezone(UTC)


def _oslo_at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=OSLO).astimezone(UTC)


@dataclass(frozen=True)
class _Move:
    """A capture (with its fee) or a refund on one Oslo day."""

    kind: str  # "capture" | "refund"
    capture: Capture
    amount_ore: int  # positive
    at: datetime
    fee: tuple[int, int] = (0, 0)


def settle(
    captures: Iterable[Capture],
    *,
    today: date,
    methods: Mapping[str, str] | None = None,
    fees: Mapping[str, Fee] = FEES,
    currency: str = "NOK",
) -> Settled:
    """The providers' reports of ``captures`` as of ``today`` (an Oslo date; it is not closed)."""
    ordered = sorted(captures, key=lambda c: (c.at, c.order_id))
    by_provider: dict[str, list[Capture]] = defaultdict(list)
    for c in ordered:
        provider = provider_of(c.payment_method, methods)
        if provider is not None:
            by_provider[provider].append(c)
    known = [c for p in by_provider.values() for c in p]
    known.sort(key=lambda c: (c.at, c.order_id))
    refunded = next((c for c in by_provider.get("vipps", [])), known[0] if known else None)
    never = next(
        (c for c in by_provider.get("klarna", []) if c is not refunded),
        next((c for c in known if c is not refunded), None),
    )
    settled = Settled(
        ProviderData(vipps_closed_until=today - timedelta(days=1)),
        refunded_order=refunded.order_id if refunded else None,
        never_paid_order=never.order_id if never else None,
    )
    settled.data.vipps_ledgers.append(
        {
            "ledgerId": DEMO_LEDGER,
            "currency": currency,
            "payoutBankAccount": {"scheme": "BBAN:NO", "id": "12345678903"},
            "owner": {"scheme": "business:NO:ORG", "id": "999999999"},
            "settlesForRecipientHandles": [f"api:{DEMO_MSN}"],
            "salesUnits": [
                {
                    "name": "Packbench demobutikk",
                    "recipientHandle": f"api:{DEMO_MSN}",
                    "businessIdentifier": {"scheme": "business:NO:ORG", "id": "999999999"},
                }
            ],
        }
    )
    for provider, caps in by_provider.items():
        moves: dict[date, list[_Move]] = defaultdict(list)
        fee_rule = fees[provider]
        for c in caps:
            if c is never:  # the provider has no record of it: nothing to report, ever
                settled.orders[c.order_id] = (provider, 0, 0, 0, 0)
                continue
            day = c.at.astimezone(OSLO).date()
            moves[day].append(_Move("capture", c, c.amount_ore, c.at, fee_rule.of(c.amount_ore)))
            if c is refunded:
                back = c.return_ore if 0 < c.return_ore <= c.amount_ore else c.amount_ore
                when = _oslo_at(day + timedelta(days=1), 10, 30)
                moves[day + timedelta(days=1)].append(_Move("refund", c, back, when))
        writers: dict[str, Callable[[Settled, str], _Writer]] = {
            "vipps": _Vipps,
            "klarna": _Klarna,
            "stripe": _Stripe,
        }
        writer = writers[provider](settled, currency)
        _walk(provider, moves, today, writer, settled)
    return settled


def _walk(
    provider: str,
    moves: dict[date, list[_Move]],
    today: date,
    writer: _Writer,
    settled: Settled,
) -> None:
    """Day by day from the first movement to yesterday (the closed days): each closed day with
    a positive balance ends in a payout of everything that waited for one."""
    for m in (m for ms in moves.values() for m in ms):
        settled.orders.setdefault(m.capture.order_id, (provider, 0, 0, 0, 0))
    if not moves:
        return
    day = min(moves)
    waiting: list[_Move] = []
    balance = 0
    while day < today:
        todays = sorted(moves.get(day, []), key=lambda m: (m.at, m.capture.order_id, m.kind))
        for m in todays:
            writer.move(day, m)
            balance += _net(m)
        writer.end_of_day(day, todays)
        waiting += todays
        if balance > 0:
            pid = writer.payout(day, waiting, balance)
            settled.payouts.setdefault(provider, []).append((pid, balance))
            for m in waiting:
                _count(settled, m, paid=True)
            waiting, balance = [], 0
        day += timedelta(days=1)
    if provider == "vipps":  # closed ledger dates are reported, payout or not
        for m in waiting:
            _count(settled, m, paid=False)


def _net(m: _Move) -> int:
    return m.amount_ore - sum(m.fee) if m.kind == "capture" else -m.amount_ore


def _count(settled: Settled, m: _Move, *, paid: bool) -> None:
    """Sums per order as the bench sees them once it has imported what the providers report."""
    provider, cap, ref, fee, out = settled.orders[m.capture.order_id]
    if m.kind == "capture":
        cap += m.amount_ore
        fee += sum(m.fee)
        out += m.amount_ore if paid else 0
    else:
        ref += m.amount_ore
        out -= m.amount_ore if paid else 0
    settled.orders[m.capture.order_id] = (provider, cap, ref, fee, out)


class _Writer(ABC):
    """One provider's report being written; each provider writes its own payout."""

    def __init__(self, settled: Settled, currency: str) -> None:
        self.data = settled.data
        self.currency = currency

    def move(self, day: date, m: _Move) -> None:  # noqa: B027  # most providers: nothing
        """A capture, refund or fee of ``day``, as the provider reports it (if it does)."""

    def end_of_day(self, day: date, moves: list[_Move]) -> None:  # noqa: B027
        """What the provider writes when a day closes (if anything)."""

    @abstractmethod
    def payout(self, day: date, moves: list[_Move], net: int) -> str:
        """Write the day's payout in the provider's shape; its id."""


class _Vipps(_Writer):
    """The Report API's funds and fees ledgers: entries per ledger date, balances chained."""

    def __init__(self, settled: Settled, currency: str) -> None:
        super().__init__(settled, currency)
        self.funds = 0
        self.fees = 0

    def _entry(self, topic: str, day: date, **fields: Any) -> None:
        before = self.funds if topic == "funds" else self.fees
        after = before + fields["amount"]
        if topic == "funds":
            self.funds = after
        else:
            self.fees = after
        entry = {
            "pspReference": fields.pop("pspReference"),
            "time": fields.pop("time"),
            "ledgerDate": day.isoformat(),
            "entryType": fields.pop("entryType"),
            **({"reference": fields.pop("reference")} if "reference" in fields else {}),
            "currency": self.currency,
            "amount": fields.pop("amount"),
            "balanceBefore": before,
            "balanceAfter": after,
            **fields,
        }
        key = (DEMO_LEDGER, topic, day.isoformat())
        self.data.vipps_entries.setdefault(key, []).append(entry)

    def move(self, day: date, m: _Move) -> None:
        c = m.capture
        reference = vipps_reference(c)
        handle = f"api:{DEMO_MSN}"
        common = {"reference": reference, "recipientHandle": handle, "time": _z(m.at)}
        if m.kind == "capture":
            psp = "43" + _digits("vipps-capture", c.order_id, n=8)
            self._entry("funds", day, pspReference=psp, entryType="capture",
                        amount=m.amount_ore, **common)  # fmt: skip
            self._entry("fees", day, pspReference=psp, entryType="capture-fee",
                        amount=-sum(m.fee), **common)  # fmt: skip
        else:
            psp = "44" + _digits("vipps-refund", c.order_id, n=8)
            self._entry("funds", day, pspReference=psp, entryType="refund",
                        amount=-m.amount_ore, **common)  # fmt: skip

    def end_of_day(self, day: date, moves: list[_Move]) -> None:
        fees = sum(sum(m.fee) for m in moves)
        if fees:
            psp = "01" + _token("vipps-fees-retained", day, n=24).upper()
            end = _z(_oslo_midnight(day + timedelta(days=1)))
            self._entry("funds", day, pspReference=psp, time=end, entryType="fees-retained",
                        amount=-fees)  # fmt: skip
            self._entry("fees", day, pspReference=psp, time=end, entryType="fees-retained",
                        amount=fees)  # fmt: skip

    def payout(self, day: date, moves: list[_Move], net: int) -> str:
        number = f"2{day:%y%m%d}"
        pid = f"{DEMO_LEDGER}-{number}"
        end = _z(_oslo_midnight(day + timedelta(days=1)))
        self._entry("funds", day, pspReference=pid, time=end, entryType="payout-scheduled",
                    amount=-net)  # fmt: skip
        return pid


def vipps_reference(c: Capture) -> str:
    """The ePayment reference the WooCommerce plugin sent: the order's ``transaction_id`` when
    it is one, else ``woo-<site>-<order id>`` as the plugin makes it."""
    if c.transaction_id.startswith("woo-"):
        return c.transaction_id
    return f"woo-{DEMO_SITE}-{c.order_id}"


class _Klarna(_Writer):
    """Settlements API: one payout per day, its transactions (SALE, FEE ×2, RETURN)."""

    def _tx(self, m: _Move, ref: str, type_: str, detailed: str, amount: int) -> dict[str, Any]:
        c = m.capture
        order_uuid = c.transaction_id or _uuid("klarna-order", c.order_id)
        tx: dict[str, Any] = {
            "amount": amount,
            "capture_id": _uuid("klarna-capture", c.order_id) if m.kind == "capture" else "",
            "merchant_reference1": c.number,
            "sale_date": _z_seconds(c.created_at or c.at),
            "type": type_,
            "detailed_type": detailed,
            "capture_date": _z_seconds(m.at),
            "payment_reference": ref,
            "order_id": order_uuid,
            "payout": f"/settlements/v1/payouts/{ref}",
            "short_order_id": _token("klarna-short", c.order_id, n=7).upper(),
            "merchant_reference2": str(c.order_id),
            "currency_code": self.currency,
            "purchase_country": "NO",
            "shipping_country": "NO",
        }
        if type_ == "FEE":
            tx["vat_rate"] = 0
            tx["vat_amount"] = 0
        if type_ == "RETURN":
            tx["refund_id"] = _uuid("klarna-refund", c.order_id)
        if type_ == "SALE":
            tx["initial_payment_method_type"] = "invoice"
        return tx

    def payout(self, day: date, moves: list[_Move], net: int) -> str:
        ref = f"NO{_token('klarna-payout', day, n=6).upper()}"
        sale = sum(m.amount_ore for m in moves if m.kind == "capture")
        back = sum(m.amount_ore for m in moves if m.kind == "refund")
        fees = sum(sum(m.fee) for m in moves)
        for m in moves:
            if m.kind == "capture":
                pct, fixed = m.fee
                self.data.klarna_transactions += [
                    self._tx(m, ref, "SALE", "PURCHASE", m.amount_ore),
                    self._tx(m, ref, "FEE", "PURCHASE_FEE_PERCENTAGE", pct),
                    self._tx(m, ref, "FEE", "PURCHASE_FEE_FIXED", fixed),
                ]
            else:
                self.data.klarna_transactions.append(
                    self._tx(m, ref, "RETURN", "PURCHASE_RETURN", m.amount_ore)
                )
        zero = dict.fromkeys(
            ("commission_amount", "repay_amount", "holdback_amount", "tax_amount",
             "fee_correction_amount", "reversal_amount", "release_amount", "charge_amount",
             "credit_amount", "fee_refund_amount", "tax_refund_amount", "deposit_amount",
             "opening_debt_balance_amount", "closing_debt_balance_amount"),
            0,
        )  # fmt: skip
        self.data.klarna_payouts.append(
            {
                "totals": {
                    **zero,
                    "sale_amount": sale,
                    "return_amount": back,
                    "fee_amount": fees,
                    "settlement_amount": net,
                },
                "payment_reference": ref,
                "payout_date": _z_seconds(_oslo_at(day + timedelta(days=1), 7, 45)),
                "currency_code": self.currency,
                "currency_code_of_registration_country": self.currency,
                "merchant_settlement_type": "NET",
                "merchant_id": DEMO_MERCHANT,
                "transactions": f"/settlements/v1/transactions?payment_reference={ref}",
            }
        )
        return ref


class _Stripe(_Writer):
    """Balance transactions per payout (newest first, the payout's own row among them)."""

    def _charge_id(self, c: Capture) -> str:
        if c.transaction_id.startswith(("ch_", "py_")):
            return c.transaction_id
        return "ch_3" + _token("stripe-charge", c.order_id)

    def payout(self, day: date, moves: list[_Move], net: int) -> str:
        pid = "po_1" + _token("stripe-payout", day)
        arrival = int(datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC).timestamp())
        created = int(_oslo_midnight(day + timedelta(days=1)).timestamp())
        rows: list[dict[str, Any]] = []
        for m in moves:
            c = m.capture
            charge = self._charge_id(c)
            metadata = {"order_id": c.number, "customer_name": c.customer,
                        "site_url": "http://127.0.0.1"}  # fmt: skip
            stamp = int(m.at.timestamp())
            if m.kind == "capture":
                fee = sum(m.fee)
                txn = "txn_3" + _token("stripe-txn-charge", c.order_id)
                rows.append(
                    {
                        "id": txn, "object": "balance_transaction", "amount": m.amount_ore,
                        "available_on": arrival, "balance_type": "payments", "created": stamp,
                        "currency": self.currency.lower(),
                        "description": f"Demobutikk ordre {c.number}", "exchange_rate": None,
                        "fee": fee,
                        "fee_details": [{"amount": fee, "application": None,
                                         "currency": self.currency.lower(),
                                         "description": "Stripe processing fees",
                                         "type": "stripe_fee"}],
                        "net": m.amount_ore - fee, "reporting_category": "charge",
                        "source": {"id": charge, "object": "charge", "amount": m.amount_ore,
                                   "amount_captured": m.amount_ore, "amount_refunded": 0,
                                   "balance_transaction": txn, "captured": True,
                                   "created": stamp, "currency": self.currency.lower(),
                                   "metadata": metadata,
                                   "payment_intent": "pi_3" + _token("stripe-pi", c.order_id),
                                   "refunded": False},
                        "status": "available", "type": "charge",
                    }
                )  # fmt: skip
            else:
                txn = "txn_3" + _token("stripe-txn-refund", c.order_id)
                rows.append(
                    {
                        "id": txn, "object": "balance_transaction", "amount": -m.amount_ore,
                        "available_on": stamp, "balance_type": "payments", "created": stamp,
                        "currency": self.currency.lower(),
                        "description": f"REFUND FOR CHARGE (Demobutikk ordre {c.number})",
                        "exchange_rate": None, "fee": 0, "fee_details": [],
                        "net": -m.amount_ore, "reporting_category": "refund",
                        "source": {"id": "re_3" + _token("stripe-refund", c.order_id),
                                   "object": "refund", "amount": m.amount_ore,
                                   "balance_transaction": txn, "charge": charge,
                                   "created": stamp, "currency": self.currency.lower(),
                                   "metadata": {"order_id": c.number},
                                   "payment_intent": "pi_3" + _token("stripe-pi", c.order_id),
                                   "reason": "requested_by_customer", "status": "succeeded"},
                        "status": "available", "type": "refund",
                    }
                )  # fmt: skip
        payout_txn = "txn_1" + _token("stripe-txn-payout", day)
        source = {
            "id": pid, "object": "payout", "amount": net, "arrival_date": arrival,
            "automatic": True, "balance_transaction": payout_txn, "created": created,
            "currency": self.currency.lower(), "description": "STRIPE PAYOUT",
            "destination": "ba_demo", "method": "standard",
            "reconciliation_status": "completed", "statement_descriptor": None,
            "status": "paid", "type": "bank_account",
        }  # fmt: skip
        rows.append(
            {
                "id": payout_txn, "object": "balance_transaction", "amount": -net,
                "available_on": arrival, "balance_type": "payments", "created": created,
                "currency": self.currency.lower(), "description": "STRIPE PAYOUT",
                "exchange_rate": None, "fee": 0, "fee_details": [], "net": -net,
                "reporting_category": "payout", "source": source, "status": "available",
                "type": "payout",
            }
        )  # fmt: skip
        rows.sort(key=lambda r: (r["created"], r["id"]), reverse=True)
        self.data.stripe_transactions[pid] = rows
        self.data.stripe_payouts.insert(0, source)  # newest first
        return pid
