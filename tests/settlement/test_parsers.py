"""The three providers' documented payloads → provider-neutral lines, and hostile variations.

The fixtures tell one week per provider (../shared/fixtures/settlement-examples/README.md);
every total of the README's table must come out exactly, in øre.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest

from packbench.settlement.base import (
    BadLine,
    OrderRef,
    SettlementError,
    kroner_to_ore,
    parse_time,
)
from packbench.settlement.factory import parse_file
from packbench.settlement.klarna import KlarnaCsvParser, KlarnaParser
from packbench.settlement.stripe import StripeParser
from packbench.settlement.vipps import VippsParser

# Copied from ../shared/fixtures/settlement-examples (its README and SOURCES.txt came along),
# so a clean clone tests the same payloads.
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "settlement-examples"


def load(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def totals(lines, payout=None):
    out: dict[str, int] = {}
    for line in lines:
        if payout is None or line.payout_id == payout:
            out[line.kind] = out.get(line.kind, 0) + line.amount_ore
    return out


# -- Vipps -------------------------------------------------------------------------------------
def vipps_week():
    parser = VippsParser()
    return parser.parse([load("vipps-report-funds.json"), load("vipps-report-fees.json")])


class TestVipps:
    def test_the_week_adds_up_to_the_readme(self):
        r = VippsParser().parse(load("vipps-report-funds.json"))
        r.extend(VippsParser().parse(load("vipps-report-fees.json")))
        assert r.rejected == []
        # parsed one file at a time, the fees only find their payout next to the funds
        assert {ln.payout_id for ln in r.lines if ln.kind == "fee"} == {None}

    def test_both_ledgers_together(self):
        parser = VippsParser()
        funds, fees = load("vipps-report-funds.json"), load("vipps-report-fees.json")
        result = parser.parse({"exchanges": funds["exchanges"] + fees["exchanges"]})
        assert result.rejected == []
        t = totals(result.lines, "302118-2000147")
        assert t == {
            "capture": 786600,
            "refund": -59900,
            "fee": -24220,
            "transfer": 0,  # fees-retained leaves funds and arrives on fees
            "payout": -702480,
        }
        assert sum(t.values()) == 0
        assert all(ln.payout_id == "302118-2000147" for ln in result.lines)
        assert sorted(result.pending) == ["fees 2026-03-09", "funds 2026-03-09"]
        # C 1570 = captures − refunds = 7 267,00; D 7770 242,20; D 1920 7 024,80
        assert t["capture"] + t["refund"] == 726700

    def test_order_ids_prefix_retry_suffix_and_partial_captures(self):
        r = VippsParser().parse(load("vipps-report-funds.json"))
        captures = [ln for ln in r.lines if ln.kind == "capture"]
        assert {ln.order_ref for ln in captures} == {
            OrderRef("id", v) for v in ("10231", "10233", "10236", "10242", "10238", "10240")
        }
        retry = next(ln for ln in captures if ln.related == "woo-fjllsprt-10238-1")
        assert retry.order_ref == OrderRef("id", "10238")
        assert sum(ln.amount_ore for ln in captures if ln.order_ref.value == "10240") == 198000

    def test_oslo_ledger_dates_around_midnight(self):
        r = VippsParser().parse([load("vipps-report-funds.json"), load("vipps-report-fees.json")])
        by = {(ln.reference, ln.kind): ln for ln in r.lines}
        # 22:58Z = 23:58 Oslo: the capture is on 03-03, its fee landed on the next ledger date
        assert by[("4215342977", "capture")].date == date(2026, 3, 3)
        assert by[("4215342977", "fee")].date == date(2026, 3, 4)
        # 23:20Z on 03-03 = 00:20 Oslo on 03-04
        assert by[("4215350016", "capture")].date == date(2026, 3, 4)

    def test_configurable_reference_pattern(self):
        doc = load("vipps-report-funds.json")
        for ex in doc["exchanges"]:
            for item in ex["response"]["body"].get("items", []):
                if item.get("reference"):
                    item["reference"] = item["reference"].replace("woo-fjllsprt-", "shop7-00")
        default = VippsParser().parse(doc)
        assert all(ln.order_ref is None for ln in default.lines)  # the plugin's shape only
        own = VippsParser(reference_pattern=r"^shop7-0*(?P<id>\d+)(?:-\d+)?$").parse(doc)
        assert {ln.order_ref.value for ln in own.lines if ln.kind == "capture"} == {
            "10231", "10233", "10236", "10242", "10238", "10240"
        }  # fmt: skip
        with pytest.raises(SettlementError, match="group named id"):
            VippsParser(reference_pattern=r"^x-(\d+)$")
        with pytest.raises(SettlementError, match="pattern"):
            VippsParser(reference_pattern=r"^x-(?P<id>\d+$")

    def test_offsets_in_the_doc_tables_read_the_same_as_utc(self):
        item = {
            "pspReference": "1", "time": "2026-03-04T01:20:00.1234567+0200",
            "ledgerDate": "2026-03-04", "entryType": "capture", "reference": "woo-x-42",
            "currency": "NOK", "amount": 100, "balanceBefore": 0, "balanceAfter": 100,
        }  # fmt: skip
        utc = dict(item, time="2026-03-03T23:20:00.123456Z")
        a, b = VippsParser().parse({"items": [item]}), VippsParser().parse({"items": [utc]})
        assert a.lines[0].occurred_at == b.lines[0].occurred_at
        assert a.lines[0].key == b.lines[0].key

    def test_unknown_entry_type_is_kept_and_booked_by_its_sign(self):
        items = [
            {"pspReference": "9", "time": "2026-03-05T10:00:00Z", "ledgerDate": "2026-03-05",
             "entryType": "loyalty-bonus", "currency": "NOK", "amount": -1234},
            {"pspReference": "10", "time": "2026-03-05T10:00:00Z", "ledgerDate": "2026-03-05",
             "entryType": "capture", "reference": "woo-x-7", "currency": "NOK", "amount": 5000},
        ]  # fmt: skip
        r = VippsParser().parse({"items": items})
        assert r.rejected == []
        other = next(ln for ln in r.lines if ln.provider_type.endswith("loyalty-bonus"))
        assert (other.kind, other.amount_ore) == ("other", -1234)

    def test_hostile_lines_are_refused_one_by_one(self):
        good = {
            "pspReference": "1", "time": "2026-03-05T10:00:00Z", "ledgerDate": "2026-03-05",
            "entryType": "capture", "reference": "woo-x-7", "currency": "NOK", "amount": 5000,
        }  # fmt: skip
        bad = [
            dict(good, amount=12.5),
            dict(good, amount="5000"),
            dict(good, amount=True),
            {k: v for k, v in good.items() if k != "pspReference"},
            dict(good, time="yesterday"),
            dict(good, time="2026-03-05T10:00:00"),
            dict(good, currency="EUR"),
            dict(good, ledgerDate="2026-02-30"),
            dict(good, reference="woo-x-7\x1b[2J"),
            "not an entry",
        ]
        r = VippsParser().parse({"items": [good, *bad, dict(good, pspReference="2")]})
        assert len(r.lines) == 2
        reasons = [str(x) for x in r.rejected]
        assert len(reasons) == len(bad)
        assert reasons[0].startswith("page 1, item 2: amount: expected an integer")
        assert "pspReference: missing" in reasons[3]
        assert "no time zone" in reasons[5]
        assert "EUR" in reasons[6]
        assert "not a calendar date" in reasons[7]
        assert "control characters" in reasons[8]

    def test_not_a_report(self):
        with pytest.raises(SettlementError):
            VippsParser().parse({"hello": 1})
        with pytest.raises(SettlementError):
            VippsParser().parse(42)


# -- Klarna ------------------------------------------------------------------------------------
class TestKlarna:
    def test_payout_and_transactions_add_up(self):
        r = KlarnaParser().parse(load("klarna-settlement-transactions.json"))
        r.extend(KlarnaParser().parse(load("klarna-settlement-payouts.json")))
        assert r.rejected == []
        t = totals(r.lines, "NO7Q2K9D")
        assert t == {"capture": 961500, "refund": -39900, "fee": -26042, "payout": -895558}
        assert sum(t.values()) == 0
        assert len([ln for ln in r.lines if ln.kind == "payout"]) == 1  # list and GET: one

    def test_order_numbers_partial_captures_and_utc_to_oslo(self):
        r = KlarnaParser().parse(load("klarna-settlement-transactions.json"))
        sales = [ln for ln in r.lines if ln.kind == "capture"]
        assert {ln.order_ref for ln in sales} == {
            OrderRef("number", n) for n in ("10232", "10234", "10237", "10239", "10241", "10243")
        }
        assert sum(ln.amount_ore for ln in sales if ln.order_ref.value == "10241") == 318000
        late = next(ln for ln in sales if ln.order_ref.value == "10243")
        assert late.date == date(2026, 3, 5)  # 23:40Z on 03-04 is 00:40 in Oslo
        ret = next(ln for ln in r.lines if ln.kind == "refund")
        assert ret.reference == "5c9e219d-47cb-45d9-a523-e10cfd9e20a9"  # refund_id: no capture
        assert ret.related == "ca810a3d-4826-40e2-a6b4-9a5055d46493"

    def test_csv_gives_the_same_lines_as_the_json(self):
        js = KlarnaParser().parse(load("klarna-settlement-transactions.json"))
        js.extend(KlarnaParser().parse(load("klarna-settlement-payouts.json")))
        cs = parse_file("klarna", FIXTURES / "klarna-settlement-report.csv", payout_id="NO7Q2K9D")
        assert cs.rejected == []
        assert {ln.key: ln.amount_ore for ln in cs.lines} == {
            ln.key: ln.amount_ore for ln in js.lines
        }
        assert {ln.key: ln.order_ref for ln in cs.lines} == {
            ln.key: ln.order_ref for ln in js.lines
        }

    def test_csv_needs_to_know_its_payout(self):
        with pytest.raises(SettlementError, match="payment_reference"):
            parse_file("klarna", FIXTURES / "klarna-settlement-report.csv")

    def test_csv_in_another_configuration_semicolons_and_decimal_commas(self):
        text = (FIXTURES / "klarna-settlement-report.csv").read_text()
        rows = [r.split(",") for r in text.strip().splitlines()]
        header = [*rows[0], "payment_reference"]
        body = [[*r[:10], r[10].replace(".", ","), *r[11:], "NO7Q2K9D"] for r in rows[1:]]
        other = "\n".join(";".join(r) for r in [header, *body])
        r = KlarnaCsvParser().parse(other)
        assert r.rejected == []
        assert totals(r.lines)["payout"] == -895558

    def test_csv_without_currency_column_or_zones_reads_as_utc(self):
        text = (FIXTURES / "klarna-settlement-report.csv").read_text()
        rows = [r.split(",") for r in text.strip().splitlines()]
        cut = rows[0].index("posting_currency")
        plain = [[c for i, c in enumerate(r) if i != cut] for r in rows]
        for r in plain[1:]:
            r[2] = r[2].replace("T", " ").removesuffix("Z")
        r = KlarnaCsvParser().parse("\n".join(",".join(r) for r in plain), payout_id="NO7Q2K9D")
        assert r.rejected == []
        same = KlarnaCsvParser().parse(text, payout_id="NO7Q2K9D")
        assert [ln.key for ln in r.lines] == [ln.key for ln in same.lines]
        assert next(ln for ln in r.lines if ln.order_ref.value == "10243").date == date(2026, 3, 5)
        with pytest.raises(BadLine, match="no time zone"):
            parse_time("2026-03-03 08:05:33")  # JSON and Vipps: a zone is required

    def test_hostile_csv_lines_are_named(self):
        text = (FIXTURES / "klarna-settlement-report.csv").read_text().splitlines()
        text[2] = text[2].replace(",42.31,", ",42.315,")
        text[3] = text[3] + ",extra"
        text[4] = text[4].replace("SALE,", ",", 1)
        text[5] = text[5].replace("2026-03-03T08:05:40Z", "03/03/2026", 1)
        r = KlarnaCsvParser().parse("\n".join(text), payout_id="NO7Q2K9D")
        reasons = [str(x) for x in r.rejected]
        assert reasons[0].startswith("line 3: amount: '42.315' is not an amount in kroner")
        assert reasons[1] == "line 4: 18 fields, the header has 17"
        assert reasons[2] == "line 5: type: missing"
        assert reasons[3].startswith("line 6: capture_date: '03/03/2026' is not an ISO 8601")
        assert len(r.lines) == 22 - 4 + 1  # the others, and their payout

    def test_signed_json_amounts_and_unknown_types(self):
        doc = load("klarna-settlement-transactions.json")
        body = doc["exchanges"][0]["response"]["body"]
        for t in body["transactions"]:
            if t["type"] == "FEE":
                t["amount"] = -t["amount"]  # if Klarna signs them after all
        odd = copy.deepcopy(body["transactions"][0])
        odd.update(type="LOYALTY_BONUS", detailed_type="", amount=-500)
        body["transactions"].append(odd)
        r = KlarnaParser().parse(doc)
        assert totals(r.lines)["fee"] < 0
        other = next(ln for ln in r.lines if ln.provider_type == "LOYALTY_BONUS")
        assert (other.kind, other.amount_ore) == ("other", -500)

    def test_error_answers_carry_no_lines(self):
        r = KlarnaParser().parse(load("klarna-settlement-payouts.json"))
        assert [ln.kind for ln in r.lines] == ["payout"]
        with pytest.raises(SettlementError):
            KlarnaParser().parse({"error_code": "NOT_FOUND"})


# -- Stripe ------------------------------------------------------------------------------------
class TestStripe:
    PO = "po_1T5LjyQ3QcJwVxhCQQUcuJUG"

    def test_payout_adds_up(self):
        r = StripeParser().parse(load("stripe-balance-transactions.json"))
        assert r.rejected == []
        t = totals(r.lines, self.PO)
        assert t == {"capture": 688600, "refund": -50000, "fee": -17728, "payout": -620872}
        assert sum(t.values()) == 0
        assert {ln.payout_id for ln in r.lines} == {self.PO}

    def test_partial_capture_and_refund_find_their_orders(self):
        r = StripeParser().parse(load("stripe-balance-transactions.json"))
        reversal = next(ln for ln in r.lines if "partial_capture_reversal" in ln.provider_type)
        assert (reversal.kind, reversal.amount_ore) == ("capture", -30000)
        assert reversal.order_ref == OrderRef("number", "10247")  # through its charge
        refund = next(ln for ln in r.lines if ln.kind == "refund")
        assert refund.order_ref == OrderRef("number", "10244")
        assert refund.related == "ch_3TYkx4BwIEtgtIgK5pYXeq9B"
        payout = next(ln for ln in r.lines if ln.kind == "payout")
        assert payout.date == date(2026, 3, 9)  # arrival date, not the day it was created

    def test_refund_whose_charge_is_in_another_payout(self):
        doc = load("stripe-balance-transactions.json")
        row = copy.deepcopy(doc["exchanges"][0]["response"]["body"]["data"][1])
        row["source"]["metadata"] = {}
        r = StripeParser().parse({"object": "list", "data": [row]}, payout_id="po_later")
        (line,) = r.lines
        assert line.order_ref is None and line.related == "ch_3TYkx4BwIEtgtIgK5pYXeq9B"
        assert line.payout_id == "po_later"

    def test_hostile_rows(self):
        doc = load("stripe-balance-transactions.json")
        data = doc["exchanges"][1]["response"]["body"]["data"]
        data[0]["net"] = data[0]["net"] + 1
        data[1]["amount"] = 459.0 + 0.5
        data[2]["id"] = "ch_not_a_txn"
        data[3]["created"] = "1772534412"
        r = StripeParser().parse(doc)
        reasons = [str(x) for x in r.rejected]
        assert reasons[0].startswith("page 2, row 1: amount 129900 − fee 3318 ≠ net 126583")
        assert reasons[1].startswith("page 2, row 2: amount: expected an integer")
        assert "not a balance transaction id" in reasons[2]
        assert "created" in reasons[3]


# -- small pieces ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "ore"),
    [("1699.00", 169900), ("1 699,00", 169900), ("-3,5", -350), ("0.07", 7), ("42", 4200),
     ("1.234.567", None), ("12.345", None), ("", None), ("1e3", None), ("NaN", None)],
)  # fmt: skip
def test_kroner_to_ore(text, ore):
    if ore is None:
        with pytest.raises(BadLine):
            kroner_to_ore(text)
    else:
        assert kroner_to_ore(text) == ore


def test_times():
    assert parse_time(1772770329).isoformat() == "2026-03-06T04:12:09+00:00"
    with pytest.raises(BadLine):
        parse_time("2026-03-03 10:00")
