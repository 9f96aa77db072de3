"""What a payment provider's settlement says, in one shape whoever the provider is.

Every importer turns the provider's report into :class:`SettlementLine` rows: one line per
movement of money on the provider's side (a capture, a refund, a fee, a payout…), signed from
the shop's point of view (+ = the provider owes the shop more), in integer øre, dated on the
Oslo calendar. Nothing here talks to a database or the network: parsing is pure, so the same
code reads a file, an API page and a test's hostile variation.

A malformed line is refused on its own (:class:`RejectedLine`, with the place and the reason),
the rest of the report is still read; the operations layer decides that a report with any
refused line imports nothing. A line of a kind we do not know is kept (kind ``other``) and
booked by the sign of its amount — never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

__all__ = [
    "KINDS",
    "OSLO",
    "PROVIDERS",
    "BadLine",
    "Kind",
    "OrderRef",
    "ParseResult",
    "RejectedLine",
    "SettlementError",
    "SettlementLine",
    "SettlementParser",
    "as_int_ore",
    "kroner_to_ore",
    "oslo_date",
    "parse_time",
]

OSLO = ZoneInfo("Europe/Oslo")

PROVIDERS = ("vipps", "klarna", "stripe")

Kind = Literal[
    "capture", "refund", "fee", "chargeback", "correction", "payout", "transfer", "other"
]
#: ``transfer`` is money moved between two of the provider's own ledgers for the same shop
#: (Vipps' ``fees-retained``: the day's fees leave the funds ledger and arrive on the fees
#: ledger). Its two halves cancel out; it is kept for the record and never booked.
KINDS: tuple[str, ...] = (
    "capture",
    "refund",
    "fee",
    "chargeback",
    "correction",
    "payout",
    "transfer",
    "other",
)


class SettlementError(ValueError):
    """A report that cannot be read at all (not JSON, not the provider's shape); the message
    says what was expected."""


class BadLine(ValueError):
    """Raised inside a parser for one line; becomes a :class:`RejectedLine`."""


@dataclass(frozen=True)
class OrderRef:
    """How a line names the shop's order: by WooCommerce order **id** (Vipps, with the plugin's
    prefix and retry suffix taken off) or by order **number** (Klarna, Stripe)."""

    by: Literal["id", "number"]
    value: str

    def __str__(self) -> str:
        return f"order {'id' if self.by == 'id' else 'no.'} {self.value}"


@dataclass(frozen=True)
class SettlementLine:
    provider: str
    #: Unique for this provider and stable across re-imports of the same data: the provider's
    #: own id where it has one, else the fields that make the line what it is.
    key: str
    payout_id: str | None  # None: not (yet) part of a payout
    date: date  # Europe/Oslo calendar date of the movement (Vipps: its ledger date)
    kind: str  # one of KINDS
    amount_ore: int  # signed: + = the provider owes the shop more
    currency: str
    provider_type: str  # the provider's own word for it: "capture-fee", "FEE/PURCHASE_FEE_FIXED"
    reference: str  # the provider's reference for the movement (pspReference, capture id, txn…)
    order_ref: OrderRef | None = None
    #: A second handle: the Stripe charge a refund belongs to, Klarna's order UUID, the Vipps
    #: ePayment reference as sent. Lets a refund in a later payout find its order.
    related: str | None = None
    occurred_at: datetime | None = None  # aware UTC, when the provider says it happened
    account: str | None = None  # Vipps ledger id, Klarna merchant id: one shop may have several

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")
        if type(self.amount_ore) is not int:
            raise TypeError("amounts are integer øre")


@dataclass(frozen=True)
class RejectedLine:
    where: str  # "funds 2026-03-04 page 2, item 3", "line 7"
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass
class ParseResult:
    provider: str
    lines: list[SettlementLine] = field(default_factory=list)
    rejected: list[RejectedLine] = field(default_factory=list)
    #: Ledger dates/pages the provider has not closed yet (Vipps ``tryLater``): nothing wrong,
    #: but they must be fetched again later.
    pending: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def extend(self, other: ParseResult) -> None:
        self.lines.extend(other.lines)
        self.rejected.extend(other.rejected)
        self.pending.extend(other.pending)

    def payouts(self) -> dict[str, int]:
        """Payout id → the sum of its payout lines (negative: money sent to the bank)."""
        out: dict[str, int] = {}
        for line in self.lines:
            if line.kind == "payout" and line.payout_id:
                out[line.payout_id] = out.get(line.payout_id, 0) + line.amount_ore
        return out

    def total(self, kind: str, payout_id: str | None = None) -> int:
        return sum(
            line.amount_ore
            for line in self.lines
            if line.kind == kind and (payout_id is None or line.payout_id == payout_id)
        )


class SettlementParser(Protocol):
    """One provider's report format(s) → lines. ``parse`` takes what ``json.load`` or a CSV
    file gave and never raises for one bad line; :class:`SettlementError` only when the whole
    document is not what this provider sends."""

    provider: str

    def parse(self, document: Any, *, payout_id: str | None = None) -> ParseResult: ...


# -- the small pieces every parser needs ----------------------------------------------------------
def as_int_ore(value: Any, what: str = "amount") -> int:
    """An amount that must already be integer øre (JSON numbers). ``True``, ``12.5`` and
    ``"12"`` are refused: a float is never money here."""
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        raise BadLine(f"{what}: expected an integer amount in øre, got {value!r}")
    if abs(value) > 10**13:
        raise BadLine(f"{what}: {value} øre is not a believable amount")
    return value


_KRONER = re.compile(r"^(?P<sign>[-+−])?(?P<int>\d{1,3}(?:[ \u00a0\u202f'](?:\d{3}))*|\d+)"
                     r"(?:[.,](?P<frac>\d{1,2}))?$")  # fmt: skip


def kroner_to_ore(text: str, what: str = "amount") -> int:
    """ "1699.00", "1 699,00", "-3,5" → øre, exactly (no floats). Anything else is refused."""
    raw = text.strip()
    m = _KRONER.match(raw)
    if not m:
        raise BadLine(f"{what}: {text!r} is not an amount in kroner (like 1699.00)")
    whole = int(re.sub(r"\D", "", m["int"]))
    frac = (m["frac"] or "").ljust(2, "0")
    ore = whole * 100 + int(frac or 0)
    if ore > 10**13:
        raise BadLine(f"{what}: {text!r} is not a believable amount")
    return -ore if m["sign"] in ("-", "−") else ore


def parse_time(value: Any, what: str = "time", *, assume_utc: bool = False) -> datetime:
    """An ISO 8601 time with a zone (``…Z`` or ``+0200``/``+02:00``), or epoch seconds → aware
    UTC. A time without a zone is refused (whose midnight would it be?) unless the source says
    its times are UTC (``assume_utc``: Klarna's configurable CSV report)."""
    if isinstance(value, bool):
        raise BadLine(f"{what}: expected a time, got {value!r}")
    if isinstance(value, int):
        if not 0 < value < 4_102_444_800:  # 2100-01-01
            raise BadLine(f"{what}: {value} is not a believable epoch time")
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str) or not value.strip():
        raise BadLine(f"{what}: expected an ISO 8601 time, got {value!r}")
    text = value.strip()
    # Python before 3.11 rejected "Z" and "+0200"; be explicit so every form reads the same.
    text = re.sub(r"[zZ]$", "+00:00", text)
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    # More than 6 digits of fractions (some APIs send 7) is cut to microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadLine(f"{what}: {value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        if not assume_utc:
            raise BadLine(f"{what}: {value!r} has no time zone (expected …Z or an offset)")
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def oslo_date(moment: datetime) -> date:
    return moment.astimezone(OSLO).date()


def parse_date(value: Any, what: str = "date") -> date:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise BadLine(f"{what}: expected YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise BadLine(f"{what}: {value!r} is not a calendar date") from None


def text_field(
    item: Mapping[str, Any], name: str, *, required: bool = True, limit: int = 200
) -> str | None:
    value = item.get(name)
    if value is None or value == "":
        if required:
            raise BadLine(f"{name}: missing")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadLine(f"{name}: expected text, got {type(value).__name__}")
    text = str(value).strip()
    if len(text) > limit:
        raise BadLine(f"{name}: longer than {limit} characters")
    if any(ord(c) < 32 for c in text):
        raise BadLine(f"{name}: contains control characters")
    return text


def currency_field(item: Mapping[str, Any], name: str, expected: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value.strip()):
        raise BadLine(f"{name}: expected a currency code like NOK, got {value!r}")
    code = value.strip().upper()
    if code != expected:
        raise BadLine(f"{name}: {code}, but this shop settles in {expected}")
    return code


def merge(results: list[ParseResult]) -> ParseResult:
    """Several files of one provider read as one report."""
    if not results:
        raise SettlementError("nothing to read")
    out = ParseResult(results[0].provider)
    for r in results:
        if r.provider != out.provider:
            raise SettlementError(f"cannot merge {r.provider} into {out.provider}")
        out.extend(r)
    return out


def since(result: ParseResult, day: date) -> ParseResult:
    """Only payouts dated ``day`` or later, with all their lines (a payout is kept whole, or
    it would not add up), and lines in no payout yet dated ``day`` or later."""
    payout_days: dict[str, date] = {}
    for line in result.lines:
        if line.kind == "payout" and line.payout_id:
            payout_days[line.payout_id] = max(line.date, payout_days.get(line.payout_id, line.date))
    kept = [
        line
        for line in result.lines
        if (
            payout_days[line.payout_id] >= day
            if line.payout_id in payout_days
            else line.date >= day
        )
    ]
    return ParseResult(result.provider, kept, list(result.rejected), list(result.pending))
