"""Klarna (and Kustom) Settlements API v1 and Klarna's CSV report → settlement lines.

JSON (README §2): ``GET /payouts`` bodies ``{payouts: [...], pagination}`` or one payout
``{payment_reference, payout_date, totals{settlement_amount…}}``; ``GET /transactions`` bodies
``{transactions: [...], pagination}``. Whether the JSON ``amount`` is ever signed is not
documented, so the size is taken from it and the sign from the type (SALE +, FEE/RETURN −…);
a type whose sign we do not know keeps the sign it came with.

The CSV (``/reports/payout-with-transactions``) is laid out by each merchant's Report
Configurator: the delimiter is sniffed from the header, columns are found by name, amounts are
decimal kroner with "." or ",". It carries no payout line: its payout is the sum of its
transactions (``provider_type`` says so), and the payout's reference comes from a
``payment_reference`` column or must be given.

The order: ``merchant_reference1`` is the WooCommerce order **number**; ``order_id`` (Klarna's
UUID) is kept as ``related``. A JSON line and a CSV line for the same transaction get the same
key, so importing both changes nothing the second time. Pure: no network, no database.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
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
    kroner_to_ore,
    oslo_date,
    parse_time,
    text_field,
)

__all__ = ["KlarnaCsvParser", "KlarnaParser"]

# type → (our kind, sign). Sign 0: not documented; keep the amount's own sign.
TYPES: dict[str, tuple[str, int]] = {
    "SALE": ("capture", +1),
    "RETURN": ("refund", -1),
    "FEE": ("fee", -1),
    "FEE_REFUND": ("fee", +1),
    "FEE_CORRECTION": ("fee", +1),
    "REVERSAL": ("chargeback", -1),
    "REVERSAL_MERCHANT_PROTECTION": ("chargeback", 0),
    "CORRECTION": ("correction", 0),
    "COMMISSION": ("other", +1),
    "HOLDBACK": ("other", -1),
    "RELEASE": ("other", +1),
    "CREDIT": ("correction", +1),
    "CHARGE": ("fee", -1),
    "TAX": ("other", -1),
    "REPAY": ("other", -1),
}


class KlarnaParser:
    provider = "klarna"

    def __init__(self, *, currency: str = "NOK") -> None:
        self.currency = currency

    def _bodies(self, document: Any) -> Iterator[tuple[str, Any]]:
        if isinstance(document, Mapping) and isinstance(document.get("exchanges"), list):
            for n, exchange in enumerate(document["exchanges"], start=1):
                response = exchange.get("response") if isinstance(exchange, Mapping) else None
                if not isinstance(response, Mapping) or response.get("status") != 200:
                    continue  # an ErrorResponse: nothing settled
                yield f"exchange {n}", response.get("body")
            return
        if (
            isinstance(document, list)
            and document
            and all(
                isinstance(d, Mapping) and ("transactions" in d or "payouts" in d) for d in document
            )
        ):
            for n, body in enumerate(document, start=1):
                yield f"page {n}", body
            return
        yield "document", document

    def parse(self, document: Any, *, payout_id: str | None = None) -> ParseResult:
        result = ParseResult(self.provider)
        seen: dict[str, int] = {}
        payouts: dict[str, SettlementLine] = {}
        recognised = False
        for where, body in self._bodies(document):
            if isinstance(body, list) and all(
                isinstance(b, Mapping) and any(str(k).startswith("summary_") for k in b)
                for b in body
            ):
                recognised = True  # GET /payouts/summary: totals only, nothing per payout
                continue
            items: list[tuple[str, Any]] = []
            if isinstance(body, Mapping) and isinstance(body.get("transactions"), list):
                items = [("transaction", t) for t in body["transactions"]]
            elif isinstance(body, Mapping) and isinstance(body.get("payouts"), list):
                items = [("payout", p) for p in body["payouts"]]
            elif isinstance(body, Mapping) and "payment_reference" in body and "totals" in body:
                items = [("payout", body)]
            elif isinstance(body, list) and all(isinstance(t, Mapping) for t in body):
                items = [("transaction", t) for t in body]
            else:
                raise SettlementError(
                    f"{where}: not a Klarna settlements answer (expected transactions or payouts)"
                )
            recognised = True
            for n, (what, item) in enumerate(items, start=1):
                try:
                    if what == "payout":
                        line = self._payout(item)
                    else:
                        line = self._transaction(item, payout_id, seen)
                except BadLine as exc:
                    result.rejected.append(RejectedLine(f"{where}, {what} {n}", str(exc)))
                    continue
                if what == "payout" and line.key in payouts:
                    # The list and GET /payouts/{ref} describe the same payout: once is enough,
                    # but two different answers for one payout are not to be trusted.
                    if payouts[line.key] != line:
                        result.rejected.append(
                            RejectedLine(
                                f"{where}, {what} {n}",
                                f"payout {line.payout_id} appears twice with different totals",
                            )
                        )
                    continue
                if what == "payout":
                    payouts[line.key] = line
                result.lines.append(line)
        if not recognised:
            raise SettlementError("no Klarna settlement data in this document")
        return result

    def _payout(self, item: Any) -> SettlementLine:
        if not isinstance(item, Mapping):
            raise BadLine("expected a payout object")
        ref = text_field(item, "payment_reference", limit=64)
        assert ref is not None
        totals = item.get("totals")
        if not isinstance(totals, Mapping):
            raise BadLine("totals: missing")
        amount = as_int_ore(totals.get("settlement_amount"), "totals.settlement_amount")
        when = parse_time(item.get("payout_date"), "payout_date")
        currency = currency_field(item, "currency_code", self.currency)
        return SettlementLine(
            provider=self.provider,
            key=f"payout:{ref}",
            payout_id=ref,
            date=oslo_date(when),
            kind="payout",
            amount_ore=-amount,
            currency=currency,
            provider_type=f"PAYOUT/{item.get('merchant_settlement_type') or 'NET'}",
            reference=ref,
            occurred_at=when,
            account=text_field(item, "merchant_id", required=False, limit=64),
        )

    def _transaction(
        self, item: Any, payout_id: str | None, seen: dict[str, int], *, csv_row: bool = False
    ) -> SettlementLine:
        if not isinstance(item, Mapping):
            raise BadLine("expected a transaction object")
        kind_type = text_field(item, "type", limit=64)
        assert kind_type is not None
        detailed = text_field(item, "detailed_type", required=False, limit=64) or ""
        if csv_row:
            raw = item.get("amount")
            if not isinstance(raw, str):
                raise BadLine("amount: missing")
            given = kroner_to_ore(raw, "amount")
            # A report configured without the currency column is in the shop's currency.
            currency = (
                currency_field(item, "posting_currency", self.currency)
                if "posting_currency" in item
                else self.currency
            )
        else:
            given = as_int_ore(item.get("amount"), "amount")
            currency = currency_field(item, "currency_code", self.currency)
        kind, sign = TYPES.get(kind_type.upper(), ("other", 0))
        amount = sign * abs(given) if sign else given
        ref = text_field(item, "payment_reference", required=False, limit=64) or payout_id
        if ref is None:
            raise BadLine("payment_reference: missing (which payout is this line part of?)")
        stamp = item.get("capture_date") or item.get("sale_date")
        if not stamp:
            raise BadLine("capture_date: missing")
        # Klarna's times are UTC; a CSV report may be configured to leave the zone out.
        when = parse_time(stamp, "capture_date", assume_utc=csv_row)
        capture_id = text_field(item, "capture_id", required=False, limit=100)
        refund_id = text_field(item, "refund_id", required=False, limit=100)
        order_uuid = text_field(item, "order_id", required=False, limit=100)
        number = text_field(item, "merchant_reference1", required=False, limit=64)
        reference = capture_id or refund_id or order_uuid or ""
        base = ":".join(
            [ref, kind_type.upper(), detailed, reference, order_uuid or "", str(abs(given)),
             when.isoformat()]
        )  # fmt: skip
        seen[base] = seen.get(base, 0) + 1
        key = base if seen[base] == 1 else f"{base}#{seen[base]}"
        return SettlementLine(
            provider=self.provider,
            key=key,
            payout_id=ref,
            date=oslo_date(when),
            kind=kind,
            amount_ore=amount,
            currency=currency,
            provider_type=f"{kind_type}/{detailed}" if detailed else kind_type,
            reference=reference,
            order_ref=OrderRef("number", number) if number else None,
            related=order_uuid,
            occurred_at=when,
        )


class KlarnaCsvParser(KlarnaParser):
    """Klarna's payout-with-transactions CSV; the document is the file's text."""

    def parse(self, document: Any, *, payout_id: str | None = None) -> ParseResult:
        if isinstance(document, bytes):
            try:
                document = document.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise SettlementError("the CSV is not UTF-8 text") from None
        if not isinstance(document, str):
            raise SettlementError("a Klarna CSV report is text")
        text = document.lstrip("\ufeff")
        header = text.splitlines()[0] if text.strip() else ""
        delimiter = max((",", ";", "\t"), key=header.count)
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        try:
            columns = [c.strip().lower() for c in next(reader)]
        except StopIteration:
            raise SettlementError("the CSV is empty") from None
        missing = [c for c in ("type", "amount") if c not in columns]
        if missing:
            raise SettlementError(
                f"not a Klarna transactions report: no column {', '.join(missing)} in the header"
            )
        if "payment_reference" not in columns and not payout_id:
            raise SettlementError(
                "the CSV has no payment_reference column: give the payout's reference "
                "(--payout, as on the bank transfer)"
            )
        result = ParseResult(self.provider)
        seen: dict[str, int] = {}
        for n, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                result.rejected.append(
                    RejectedLine(f"line {n}", f"{len(row)} fields, the header has {len(columns)}")
                )
                continue
            item = dict(zip(columns, (cell.strip() for cell in row), strict=True))
            try:
                line = self._transaction(item, payout_id, seen, csv_row=True)
            except BadLine as exc:
                result.rejected.append(RejectedLine(f"line {n}", str(exc)))
                continue
            result.lines.append(line)
        if not result.lines and not result.rejected:
            raise SettlementError("the CSV has a header but no transactions")
        # The report is one payout's transactions: its payout is what they come to.
        sums: dict[str, int] = {}
        last: dict[str, SettlementLine] = {}
        for line in result.lines:
            assert line.payout_id is not None
            sums[line.payout_id] = sums.get(line.payout_id, 0) + line.amount_ore
            if line.payout_id not in last or line.date > last[line.payout_id].date:
                last[line.payout_id] = line
        for ref, total in sums.items():
            result.lines.append(
                SettlementLine(
                    provider=self.provider,
                    key=f"payout:{ref}",
                    payout_id=ref,
                    date=last[ref].date,
                    kind="payout",
                    amount_ore=-total,
                    currency=last[ref].currency,
                    provider_type="PAYOUT/sum of the CSV report's transactions",
                    reference=ref,
                )
            )
        return result
