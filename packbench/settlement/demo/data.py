"""What the demo providers have to tell: Vipps ledger entries, Klarna payouts and transactions,
Stripe payouts and balance transactions, in the providers' documented shapes.

``ProviderData.from_fixtures`` reads the recorded week of ``../shared/fixtures/
settlement-examples`` (the response bodies only); the server then pages it its own way, so the
clients' paging is exercised for real rather than replayed. Pure: no network.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

__all__ = ["ProviderData"]

_URL = re.compile(
    r"/ledgers/(?P<ledger>[^/]+)/(?P<topic>funds|fees)/dates/(?P<date>\d{4}-\d{2}-\d{2})"
)


@dataclass
class ProviderData:
    #: Vipps: the ledgers (GET /settlement/v1/ledgers items) and each (ledger, topic, date)'s
    #: entries; dates in ``vipps_open`` (or after ``vipps_closed_until``) answer tryLater.
    vipps_ledgers: list[dict[str, Any]] = field(default_factory=list)
    vipps_entries: dict[tuple[str, str, str], list[dict[str, Any]]] = field(default_factory=dict)
    vipps_open: set[str] = field(default_factory=set)
    vipps_closed_until: date | None = None
    klarna_payouts: list[dict[str, Any]] = field(default_factory=list)
    klarna_transactions: list[dict[str, Any]] = field(default_factory=list)
    stripe_payouts: list[dict[str, Any]] = field(default_factory=list)  # newest first
    stripe_transactions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def vipps_is_open(self, day: str) -> bool:
        if day in self.vipps_open:
            return True
        return self.vipps_closed_until is not None and day > self.vipps_closed_until.isoformat()

    @classmethod
    def from_fixtures(cls, folder: Path) -> ProviderData:
        data = cls()

        def exchanges(name: str) -> list[dict[str, Any]]:
            doc = json.loads((folder / name).read_text(encoding="utf-8"))
            return [e for e in doc["exchanges"] if e["response"]["status"] == 200]

        for ex in exchanges("vipps-report-ledgers.json"):
            data.vipps_ledgers.extend(ex["response"]["body"]["items"])
        for name in ("vipps-report-funds.json", "vipps-report-fees.json"):
            for ex in exchanges(name):
                m = _URL.search(ex["request"]["url"])
                assert m is not None, ex["request"]["url"]
                body = ex["response"]["body"]
                key = (m["ledger"], m["topic"], m["date"])
                data.vipps_entries.setdefault(key, []).extend(body.get("items", []))
                if body.get("tryLater"):
                    data.vipps_open.add(m["date"])
        for ex in exchanges("klarna-settlement-payouts.json"):
            body = ex["response"]["body"]
            if isinstance(body, dict) and isinstance(body.get("payouts"), list):
                data.klarna_payouts.extend(body["payouts"])
        for ex in exchanges("klarna-settlement-transactions.json"):
            data.klarna_transactions.extend(ex["response"]["body"]["transactions"])
        for ex in exchanges("stripe-balance-transactions.json"):
            payout_id = ex["request"]["query"]["payout"]
            rows = ex["response"]["body"]["data"]
            data.stripe_transactions.setdefault(payout_id, []).extend(rows)
            for row in rows:
                if row.get("type") == "payout" and isinstance(row.get("source"), dict):
                    data.stripe_payouts.append(row["source"])
        return data
