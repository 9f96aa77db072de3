"""Stripe balance transactions of a payout → settlement lines.

``GET /v1/balance_transactions?payout=po_…&expand[]=data.source`` (README §4) answers
``{object: "list", data: [...], has_more}``, newest first, the payout's own row included. Each
row has ``amount`` (gross, signed), ``fee``, ``net`` = amount − fee, ``type``,
``reporting_category`` and ``source`` (an id, or the object when expanded). A row becomes its
own line (kind from the reporting category, then the type) and, when Stripe kept a fee, a fee
line beside it. ``partial_capture_reversal`` (the part of an authorisation never captured) is a
negative capture, not a refund: the customer was never charged it.

The order: the charge's ``metadata.order_id`` is the WooCommerce order **number**. A refund
carries the charge it refunds (``source.charge``), so it finds its order through the charge —
in this document, or, for a refund netted into a later payout, in the operations layer. Pure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
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
    parse_time,
    text_field,
)

__all__ = ["StripeParser"]

CATEGORIES = {
    "charge": "capture",
    "refund": "refund",
    "partial_capture_reversal": "capture",
    "refund_failure": "refund",
    "dispute": "chargeback",
    "dispute_reversal": "chargeback",
    "payout": "payout",
    "payout_reversal": "payout",
    "topup": "payout",
    "topup_reversal": "payout",
    "fee": "fee",
    "other_adjustment": "correction",
}
TYPES = {
    "charge": "capture",
    "payment": "capture",
    "refund": "refund",
    "payment_refund": "refund",
    "payment_failure_refund": "refund",
    "adjustment": "correction",
    "payout": "payout",
    "payout_cancel": "payout",
    "payout_failure": "payout",
    "stripe_fee": "fee",
    "application_fee": "fee",
    "tax_fee": "fee",
}


class StripeParser:
    provider = "stripe"

    def __init__(self, *, currency: str = "NOK") -> None:
        self.currency = currency

    def _pages(self, document: Any) -> Iterator[tuple[str, Any, str | None]]:
        if isinstance(document, Mapping) and isinstance(document.get("exchanges"), list):
            for n, exchange in enumerate(document["exchanges"], start=1):
                if not isinstance(exchange, Mapping):
                    raise SettlementError(f"exchange {n}: expected an object")
                response = exchange.get("response")
                if not isinstance(response, Mapping) or response.get("status") != 200:
                    continue
                request = exchange.get("request")
                query = request.get("query") if isinstance(request, Mapping) else None
                payout = query.get("payout") if isinstance(query, Mapping) else None
                yield f"page {n}", response.get("body"), payout if isinstance(payout, str) else None
            return
        if (
            isinstance(document, list)
            and document
            and all(isinstance(d, Mapping) and d.get("object") == "list" for d in document)
        ):
            for n, body in enumerate(document, start=1):
                yield f"page {n}", body, None
            return
        yield "page 1", document, None

    def parse(self, document: Any, *, payout_id: str | None = None) -> ParseResult:
        result = ParseResult(self.provider)
        rows: list[tuple[str, Any, str | None]] = []
        for where, body, payout in self._pages(document):
            if isinstance(body, Mapping) and isinstance(body.get("data"), list):
                data = body["data"]
            elif isinstance(body, list):
                data = body
            else:
                raise SettlementError(f"{where}: not a Stripe list of balance transactions")
            rows.extend((f"{where}, row {n}", row, payout) for n, row in enumerate(data, start=1))
        # Each page was asked for one payout (``?payout=``): its rows belong to that one. A
        # list without the question (a saved file) is one payout's: its own row names it.
        found = payout_id
        for _, row, _ in rows:
            if isinstance(row, Mapping) and row.get("type") == "payout":
                src = row.get("source")
                found = found or (src.get("id") if isinstance(src, Mapping) else src)
        seen: set[str] = set()
        for where, row, payout in rows:
            try:
                lines = self._row(row, payout_id or payout or found)
            except BadLine as exc:
                result.rejected.append(RejectedLine(where, str(exc)))
                continue
            if lines[0].key in seen:
                continue  # the same row on two pages (a list re-read from an older cursor)
            seen.add(lines[0].key)
            result.lines.extend(lines)
        # A refund names its charge; the charge (if here) names the order.
        orders = {ln.reference: ln.order_ref for ln in result.lines if ln.order_ref}
        result.lines = [
            replace(ln, order_ref=orders.get(ln.related or ""))
            if ln.order_ref is None and ln.related in orders
            else ln
            for ln in result.lines
        ]
        return result

    def _row(self, row: Any, payout_id: str | None) -> list[SettlementLine]:
        if not isinstance(row, Mapping):
            raise BadLine("expected a balance transaction object")
        txn = text_field(row, "id", limit=100)
        assert txn is not None
        if not txn.startswith("txn_"):
            raise BadLine(f"id: {txn!r} is not a balance transaction id (txn_…)")
        amount = as_int_ore(row.get("amount"), "amount")
        fee = as_int_ore(row.get("fee", 0), "fee")
        if "net" in row:
            net = as_int_ore(row.get("net"), "net")
            if amount - fee != net:
                raise BadLine(f"amount {amount} − fee {fee} ≠ net {net}")
        currency = currency_field(row, "currency", self.currency)
        created = parse_time(row.get("created"), "created")
        kind_type = text_field(row, "type", limit=64) or ""
        category = text_field(row, "reporting_category", required=False, limit=64) or ""
        kind = CATEGORIES.get(category) or TYPES.get(kind_type, "other")
        source = row.get("source")
        metadata: Mapping[str, Any] = {}
        related = None
        if isinstance(source, Mapping):
            src_id = text_field(source, "id", limit=100) or ""
            meta = source.get("metadata")
            metadata = meta if isinstance(meta, Mapping) else {}
            charge = source.get("charge")
            related = charge if isinstance(charge, str) else source.get("payment_intent")
            if related is not None and not isinstance(related, str):
                related = None
        elif isinstance(source, str):
            src_id = source
        else:
            src_id = ""
        number = metadata.get("order_id")
        order_ref = (
            OrderRef("number", str(number).strip())
            if isinstance(number, str | int) and not isinstance(number, bool) and str(number)
            else None
        )
        day = oslo_date(created)
        if kind == "payout" and isinstance(source, Mapping) and source.get("arrival_date"):
            day = oslo_date(parse_time(source["arrival_date"], "source.arrival_date"))
        payout = payout_id
        if kind == "payout" and src_id.startswith("po_"):
            payout = src_id
        label = f"{kind_type}/{category}" if category and category != kind_type else kind_type
        main = SettlementLine(
            provider=self.provider,
            key=txn,
            payout_id=payout,
            date=day,
            kind=kind,
            amount_ore=amount,
            currency=currency,
            provider_type=label,
            reference=src_id or txn,
            order_ref=order_ref,
            related=related,
            occurred_at=created,
        )
        lines = [main]
        if fee:
            lines.append(
                replace(
                    main,
                    key=f"{txn}:fee",
                    kind="fee",
                    amount_ore=-fee,
                    provider_type=f"{kind_type}/fee",
                )
            )
        return lines
