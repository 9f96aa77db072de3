"""Vipps MobilePay Report API v2: the funds and fees ledgers → settlement lines.

Shapes (see ``../shared/fixtures/settlement-examples/README.md`` §1): a report page is
``{cursor?, hasMore, tryLater, items[]}``; each item has ``pspReference, time, ledgerDate,
entryType, reference?, currency, amount, balanceBefore, balanceAfter, recipientHandle?``,
amounts signed øre. There is no payout id on the entries: a payout (``payout-scheduled``, its
``pspReference`` = ``<ledgerId>-<payoutNumber>``) is the last entry of its ledger date and
covers every ledger date since the previous one, so each line is given the first payout on or
after its ledger date (the fees ledger has no payout entries: its lines find theirs the same
way, here or, when the funds come in a later import, in the operations layer).

The shop's order is in ``reference``: the WooCommerce plugin sends a prefix (``woo-`` + up to 8
characters of the site's domain + ``-``), the order **id** (zero-padded when short) and ``-N``
on a payment retry. The pattern is configurable (``[settlement] vipps_reference_pattern``, a
regular expression with a group named ``id``).

Accepted documents: one page body, a list of page bodies, a bare list of entries, or the
fixtures' ``{"exchanges": [{request, response}]}`` (the request URL then says funds or fees
and which ledger). Pure: no network, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from packbench.settlement.base import (
    BadLine,
    OrderRef,
    ParseResult,
    RejectedLine,
    SettlementError,
    SettlementLine,
    as_int_ore,
    currency_field,
    oslo_date,
    parse_date,
    parse_time,
    text_field,
)

__all__ = ["DEFAULT_REFERENCE_PATTERN", "VippsParser", "assign_payouts"]

#: ``woo-`` + the site's short name + ``-`` + the order id (zero-padded) + an optional retry.
DEFAULT_REFERENCE_PATTERN = r"^woo-[A-Za-z0-9]*-0*(?P<id>[1-9]\d*)(?:-(?P<retry>\d+))?$"

# entryType → our kind. Anything else is kept as "other" and booked by its sign.
FUNDS_KINDS = {
    "capture": "capture",
    "refund": "refund",
    "fees-retained": "transfer",
    "payout-scheduled": "payout",
    "payout-aborted": "payout",
    "top-up": "payout",  # the shop paid a negative balance in: money from the bank
    "retained-disputed-capture": "chargeback",
    "returned-disputed-capture": "chargeback",
    "correction": "correction",
    "credit-note": "correction",
}
FEES_KINDS = {
    "capture-fee": "fee",
    "service-fee": "fee",
    "credit-note": "fee",
    "fees-retained": "transfer",
    "fees-invoiced": "transfer",  # gross settlement: the fees go to a monthly invoice instead
    "correction": "correction",
}
_FEES_ONLY = {"capture-fee", "service-fee", "fees-invoiced"}
_FUNDS_ONLY = {
    "capture",
    "refund",
    "payout-scheduled",
    "payout-aborted",
    "top-up",
    "retained-disputed-capture",
    "returned-disputed-capture",
}

_URL = re.compile(
    r"/ledgers/(?P<ledger>[^/]+)/(?P<topic>funds|fees)/(?:dates/(?P<date>[^/?]+)|feed)"
)


@dataclass
class _Page:
    where: str
    topic: str | None
    ledger: str | None
    items: list[Any]
    try_later: bool
    date: str | None


class VippsParser:
    provider = "vipps"

    def __init__(
        self, *, reference_pattern: str = DEFAULT_REFERENCE_PATTERN, currency: str = "NOK"
    ) -> None:
        try:
            self.pattern = re.compile(reference_pattern)
        except re.error as exc:
            raise SettlementError(f"vipps reference pattern: {exc}") from None
        if "id" not in self.pattern.groupindex:
            raise SettlementError("vipps reference pattern: needs a group named id: (?P<id>…)")
        self.currency = currency

    # -- documents → pages ----------------------------------------------------------------------
    def _pages(self, document: Any) -> Iterator[_Page]:
        if isinstance(document, Mapping) and isinstance(document.get("exchanges"), list):
            for n, exchange in enumerate(document["exchanges"], start=1):
                if not isinstance(exchange, Mapping):
                    raise SettlementError(f"exchange {n}: expected an object")
                request = exchange.get("request") or {}
                response = exchange.get("response") or {}
                if not isinstance(response, Mapping) or response.get("status") != 200:
                    continue  # an error answer: no data
                url = str(request.get("url", "")) if isinstance(request, Mapping) else ""
                m = _URL.search(url)
                body = response.get("body")
                if m is None:
                    if isinstance(body, Mapping) and _is_ledger_list(body):
                        continue  # GET /settlement/v1/ledgers: which ledgers, no money
                    raise SettlementError(f"exchange {n}: {url or 'no URL'} is not a report page")
                where = f"{m['topic']} {m['date'] or 'feed'} (exchange {n})"
                yield self._page(body, where, m["topic"], m["ledger"], m["date"])
            return
        if isinstance(document, Mapping):
            yield self._page(document, "page 1", None, None, None)
            return
        if isinstance(document, list):
            if document and all(isinstance(d, Mapping) and "exchanges" in d for d in document):
                for doc in document:  # several recorded files read as one
                    yield from self._pages(doc)
                return
            if all(isinstance(d, Mapping) and "items" in d for d in document) and document:
                for n, body in enumerate(document, start=1):
                    yield self._page(body, f"page {n}", None, None, None)
                return
            yield _Page("entries", None, None, list(document), False, None)
            return
        raise SettlementError("a Vipps report is a JSON object with items (or a list of them)")

    def _page(
        self, body: Any, where: str, topic: str | None, ledger: str | None, day: str | None
    ) -> _Page:
        if not isinstance(body, Mapping) or not isinstance(body.get("items"), list):
            if isinstance(body, Mapping) and _is_ledger_list(body):
                return _Page(where, topic, ledger, [], False, day)
            raise SettlementError(f"{where}: expected a report page {{items: [...]}}")
        try_later = body.get("tryLater") is True
        return _Page(where, topic, ledger, list(body["items"]), try_later, day)

    # -- pages → lines ----------------------------------------------------------------------------
    def parse(self, document: Any, *, payout_id: str | None = None) -> ParseResult:
        result = ParseResult(self.provider)
        for page in self._pages(document):
            if page.try_later:
                result.pending.append(f"{page.topic or 'report'} {page.date or page.where}")
            topic = page.topic or _guess_topic(page.items)
            for n, item in enumerate(page.items, start=1):
                where = f"{page.where}, item {n}"
                try:
                    result.lines.append(self._line(item, topic, page.ledger))
                except BadLine as exc:
                    result.rejected.append(RejectedLine(where, str(exc)))
        result.lines = assign_payouts(result.lines)
        return result

    def _line(self, item: Any, topic: str | None, ledger: str | None) -> SettlementLine:
        if not isinstance(item, Mapping):
            raise BadLine(f"expected an entry object, got {type(item).__name__}")
        psp = text_field(item, "pspReference", limit=100)
        entry_type = text_field(item, "entryType", limit=64)
        assert psp is not None and entry_type is not None
        amount = as_int_ore(item.get("amount"), "amount")
        moment = parse_time(item.get("time"), "time")
        day: date = (
            parse_date(item["ledgerDate"], "ledgerDate")
            if item.get("ledgerDate") is not None
            else oslo_date(moment)
        )
        currency = currency_field(item, "currency", self.currency)
        if topic is None:
            topic = _topic_of(entry_type, amount)
        kinds = FEES_KINDS if topic == "fees" else FUNDS_KINDS
        kind = kinds.get(entry_type, "other")
        reference = text_field(item, "reference", required=False, limit=100)
        order_ref = None
        if reference is not None:
            m = self.pattern.match(reference)
            if m and m["id"]:
                order_ref = OrderRef("id", str(int(m["id"])) if m["id"].isdigit() else m["id"])
        before = item.get("balanceBefore")
        account = ledger
        payout = None
        if kind == "payout":
            payout = psp
            if account is None and re.fullmatch(r"\d+-\d+", psp):
                account = psp.split("-", 1)[0]
        key = ":".join([topic, entry_type, psp, moment.isoformat(), str(amount), str(before or "")])
        return SettlementLine(
            provider=self.provider,
            key=key,
            payout_id=payout,
            date=day,
            kind=kind,
            amount_ore=amount,
            currency=currency,
            provider_type=f"{topic}/{entry_type}",
            reference=psp,
            order_ref=order_ref,
            related=reference,
            occurred_at=moment,
            account=account,
        )


def assign_payouts(lines: list[SettlementLine]) -> list[SettlementLine]:
    """Give each line without a payout the first payout of its ledger on or after its date.

    A Vipps payout is scheduled at the end of a ledger date and covers every date since the
    previous one; a line after the last payout in sight stays without one (not paid out yet).
    """
    payouts = sorted(
        (line.date, line.payout_id, line.account)
        for line in lines
        if line.kind == "payout" and line.payout_id and line.amount_ore < 0
    )
    if not payouts:
        return lines
    out = []
    for line in lines:
        if line.payout_id is None:
            for day, pid, account in payouts:
                same = account is None or line.account is None or account == line.account
                if day >= line.date and same:
                    line = replace(line, payout_id=pid, account=line.account or account)
                    break
        out.append(line)
    return out


def _is_ledger_list(body: Mapping[str, Any]) -> bool:
    items = body.get("items")
    return isinstance(items, list) and all(
        isinstance(i, Mapping) and "ledgerId" in i for i in items
    )


def _guess_topic(items: list[Any]) -> str | None:
    types = {i.get("entryType") for i in items if isinstance(i, Mapping)}
    if types & _FEES_ONLY:
        return "fees"
    if types & _FUNDS_ONLY:
        return "funds"
    return None


def _topic_of(entry_type: str, amount: int) -> str:
    """A lone entry (no page to tell): fee types are fees; ``fees-retained`` arrives on the fees
    ledger (+) as it leaves the funds ledger (−)."""
    if entry_type in _FEES_ONLY:
        return "fees"
    if entry_type == "fees-retained":
        return "fees" if amount > 0 else "funds"
    return "funds"
