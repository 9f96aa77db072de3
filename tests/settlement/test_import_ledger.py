"""Importing the providers' weeks into a real database, matching them to completed orders, and
the clearing account 1570 explained from them (the fixtures' week: 1570 comes to zero)."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import func, select

from packbench.config import Settings
from packbench.data.models import Event, Order
from packbench.data.models import SettlementLine as LineRow
from packbench.operations.common import Actor
from packbench.operations.ledger import clearing_ledger
from packbench.operations.settlement import ImportRefused, import_settlement
from packbench.settlement.base import OrderRef, ParseResult, SettlementLine
from packbench.settlement.factory import parse_file
from packbench.settlement.klarna import KlarnaParser
from packbench.settlement.stripe import StripeParser
from packbench.settlement.vipps import VippsParser

from .test_parsers import FIXTURES, load

ACTOR = Actor(station="admin", terminal="test-term")
TODAY = date(2026, 3, 10)
DONE = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)

# The fixtures' orders: Vipps names the order id (numbers differ: a sequential-number plugin),
# Klarna and Stripe the order number.
VIPPS = {10231: 124900, 10233: 59900, 10236: 289000, 10242: 79900, 10238: 34900, 10240: 198000}
KLARNA = {10232: 169900, 10234: 79800, 10237: 249000, 10239: 54900, 10241: 318000, 10243: 89900}
STRIPE = {10235: 99900, 10244: 219000, 10245: 45900, 10246: 129900, 10247: 129000, 10248: 64900}


def add_order(db, *, shop_id, number, total, method, completed=DONE, status="handed_over"):
    with db.write() as s:
        s.add(
            Order(
                shop_order_id=shop_id,
                number=number,
                status=status,
                payment_method=method,
                total_ore=total,
                completed_at=completed,
                created_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
            )
        )


def shop(db, *, skip=(), totals=None):
    totals = totals or {}
    for oid, total in VIPPS.items():
        if oid not in skip:
            add_order(db, shop_id=oid, number=f"2026-{oid}", total=totals.get(oid, total),
                      method="vipps")  # fmt: skip
    for n, (number, total) in enumerate({**KLARNA}.items()):
        if number not in skip:
            add_order(db, shop_id=50000 + n, number=str(number), total=total, method="klarna")
    for n, (number, total) in enumerate(STRIPE.items()):
        if number not in skip:
            add_order(db, shop_id=60000 + n, number=str(number), total=total, method="stripe")


def import_week(db, *, vipps_fees_first=True):
    funds = VippsParser().parse(load("vipps-report-funds.json"))
    fees = VippsParser().parse(load("vipps-report-fees.json"))
    reports = []
    for r in [fees, funds] if vipps_fees_first else [funds, fees]:
        reports.append(import_settlement(db, ACTOR, r, source="vipps"))
    k = KlarnaParser().parse(load("klarna-settlement-transactions.json"))
    k.extend(KlarnaParser().parse(load("klarna-settlement-payouts.json")))
    reports.append(import_settlement(db, ACTOR, k, source="klarna"))
    st = StripeParser().parse(load("stripe-balance-transactions.json"))
    reports.append(import_settlement(db, ACTOR, st, source="stripe"))
    return reports


def count(db, model=LineRow):
    with db.read() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_the_fixture_week_leaves_1570_at_zero(db):
    shop(db)
    reports = import_week(db)
    assert [r.new for r in reports] == [9, 11, 23, 15]
    assert all(r.unmatched == 0 for r in reports)
    ledger = clearing_ledger(db, Settings(), today=TODAY)
    assert ledger.balance_ore == 0
    assert ledger.open_items == () and ledger.unmatched == ()
    assert ledger.settled_orders == 18
    paid = {(p.provider, p.payout_id): p for p in ledger.payouts}
    vipps = paid[("vipps", "302118-2000147")]
    assert (vipps.captured_ore, vipps.refunded_ore, vipps.fees_ore, vipps.to_bank_ore) == (
        786600, 59900, 24220, 702480
    )  # fmt: skip
    klarna = paid[("klarna", "NO7Q2K9D")]
    assert (klarna.captured_ore, klarna.refunded_ore, klarna.fees_ore, klarna.to_bank_ore) == (
        961500, 39900, 26042, 895558
    )  # fmt: skip
    stripe = paid[("stripe", "po_1T5LjyQ3QcJwVxhCQQUcuJUG")]
    assert (stripe.captured_ore, stripe.refunded_ore, stripe.fees_ore, stripe.to_bank_ore) == (
        688600, 50000, 17728, 620872
    )  # fmt: skip
    assert all(p.paid and p.difference_ore == 0 for p in ledger.payouts)
    assert "explained to the last øre" in ledger.explanation
    # the fees ledger came first: its lines found their payout when the funds arrived
    with db.read() as s:
        assert s.exec(select(LineRow).where(LineRow.payout_id.is_(None))).all() == []


def test_importing_the_same_week_twice_changes_nothing(db):
    shop(db)
    import_week(db, vipps_fees_first=False)
    before = count(db)
    with db.read() as s:
        rows_before = sorted((r.line_key, r.order_id, r.payout_id) for r in s.exec(select(LineRow)))
    again = import_week(db)
    assert [r.new for r in again] == [0, 0, 0, 0]
    assert [r.known for r in again] == [9, 11, 23, 15]
    assert count(db) == before
    # Klarna's CSV of the same payout is the same lines
    csv = parse_file("klarna", FIXTURES / "klarna-settlement-report.csv", payout_id="NO7Q2K9D")
    assert import_settlement(db, ACTOR, csv, source="csv").new == 0
    with db.read() as s:
        rows_after = sorted((r.line_key, r.order_id, r.payout_id) for r in s.exec(select(LineRow)))
    assert rows_after == rows_before
    assert clearing_ledger(db, Settings(), today=TODAY).balance_ore == 0


def test_a_refund_netted_into_a_later_payout_finds_its_order(db):
    shop(db, skip={*VIPPS, *KLARNA})
    add_order(db, shop_id=70000, number="10249", total=100000, method="stripe")
    doc = load("stripe-balance-transactions.json")
    first = doc["exchanges"][0]["response"]["body"]["data"]
    refund = first.pop(1)  # the 500 kr refund of 10244 leaves this payout…
    first[0]["amount"] = first[0]["net"] = -670872
    import_settlement(db, ACTOR, StripeParser().parse(doc), source="week 10")
    ledger = clearing_ledger(db, Settings(), today=TODAY)
    assert ledger.balance_ore == 100000  # only 10249, completed, not captured yet
    (item,) = ledger.open_items
    assert item.order == "10249" and "no capture yet" in item.explanation

    # …and arrives in the next one, without the order in its metadata: found through the charge
    refund["source"]["metadata"] = {}
    charge = copy.deepcopy(first[2])
    charge.update(id="txn_next_charge", amount=100000, fee=2600, net=97400, created=1773100000)
    charge["source"].update(id="ch_next", metadata={"order_id": "10249"})
    payout = copy.deepcopy(first[0])
    payout.update(id="txn_next_payout", amount=-47400, net=-47400, created=1773200000)
    payout["source"].update(id="po_next", arrival_date=1773273600)
    later = {"object": "list", "data": [payout, refund, charge], "has_more": False}
    report = import_settlement(db, ACTOR, StripeParser().parse(later), source="week 11")
    assert report.unmatched == 0
    with db.read() as s:
        line = s.exec(select(LineRow).where(LineRow.kind == "refund")).one()
        order = s.get(Order, line.order_id)
    assert order.number == "10244" and line.payout_id == "po_next"
    ledger = clearing_ledger(db, Settings(), today=TODAY)
    assert ledger.balance_ore == 0 and ledger.open_items == ()


def test_a_refund_not_paid_out_yet_and_a_late_fee(db):
    shop(db)
    import_week(db)
    refund = {
        "pspReference": "4215999999", "time": "2026-03-09T08:00:00Z", "ledgerDate": "2026-03-09",
        "entryType": "refund", "reference": "woo-fjllsprt-10231", "currency": "NOK",
        "amount": -12490, "balanceBefore": 0, "balanceAfter": -12490,
    }  # fmt: skip
    late_fee = {
        "pspReference": "4215093742", "time": "2026-03-09T08:00:01Z", "ledgerDate": "2026-03-09",
        "entryType": "capture-fee", "reference": "woo-fjllsprt-10231", "currency": "NOK",
        "amount": -100, "balanceBefore": 0, "balanceAfter": -100,
    }  # fmt: skip
    import_settlement(db, ACTOR, VippsParser().parse({"items": [refund]}), source="funds 03-09")
    import_settlement(db, ACTOR, VippsParser().parse({"items": [late_fee]}), source="fees 03-09")
    ledger = clearing_ledger(db, Settings(), today=TODAY)
    (item,) = ledger.open_items
    assert item.order == "2026-10231"
    assert (item.refunded_ore, item.open_ore, item.fees_ore) == (12490, -12490, 3935)
    assert "a refund of 124,90 kr will be deducted from Vipps's next payout" in item.explanation
    assert ledger.balance_ore == -12490
    waiting = next(p for p in ledger.payouts if p.payout_id is None)
    assert (waiting.refunded_ore, waiting.fees_ore, waiting.paid) == (12490, 100, False)


def test_unmatched_lines_late_orders_and_mismatches_in_words(db):
    shop(db, skip={10248}, totals={10240: 200000})
    add_order(db, shop_id=10299, number="2026-10299", total=45000, method="vipps",
              completed=datetime(2026, 2, 20, 12, 0, tzinfo=UTC))  # fmt: skip
    import_week(db)
    ledger = clearing_ledger(db, Settings(), today=TODAY)
    items = {i.order: i for i in ledger.open_items}
    assert set(items) == {"2026-10299", "2026-10240"}
    late = items["2026-10299"]
    assert late.late and late.age_days == 18 and late.open_ore == 45000
    assert "longer than the 7 days a payout should take" in late.explanation
    short = items["2026-10240"]
    assert short.open_ore == 2000
    assert "captured 1 980,00 kr but invoiced 2 000,00 kr: 20,00 kr less" in short.explanation
    (loose,) = ledger.unmatched
    assert (loose.kind, loose.amount_ore, loose.paid_out) == ("capture", 64900, True)
    assert "order no. 10248, which is not an order here" in loose.explanation
    assert ledger.balance_ore == 45000 + 2000 - 64900
    assert "Payouts settled 649,00 kr that no order here explains" in ledger.explanation
    text = ledger.as_text()
    assert "2026-10299" in text and "18 late" in text

    # the order arrives from the shop; the next import matches the old line
    add_order(db, shop_id=60005, number="10248", total=64900, method="stripe")
    again = import_settlement(
        db, ACTOR, StripeParser().parse(load("stripe-balance-transactions.json")), source="again"
    )
    assert (again.new, again.matched) == (0, 2)  # the capture and its fee
    assert clearing_ledger(db, Settings(), today=TODAY).balance_ore == 45000 + 2000


def test_a_payout_that_does_not_add_up_is_listed(db):
    shop(db, skip={*VIPPS, *STRIPE})
    doc = load("klarna-settlement-transactions.json")
    doc["exchanges"][0]["response"]["body"]["transactions"].pop(2)  # a 3 kr fixed fee missing
    k = KlarnaParser().parse(doc)
    k.extend(KlarnaParser().parse(load("klarna-settlement-payouts.json")))
    import_settlement(db, ACTOR, k, source="klarna")
    ledger = clearing_ledger(db, Settings(), today=TODAY)
    (gap,) = [u for u in ledger.unmatched if u.kind == "payout"]
    assert gap.amount_ore == 300 and gap.payout_id == "NO7Q2K9D"
    assert "does not add up" in gap.explanation


def test_a_bad_report_imports_nothing_and_says_which_lines(db):
    shop(db)
    doc = load("vipps-report-funds.json")
    items = doc["exchanges"][1]["response"]["body"]["items"]
    items[1]["amount"] = "599"
    items[2]["time"] = "2026-03-03 22:58"
    with pytest.raises(ImportRefused) as caught:
        import_settlement(db, ACTOR, VippsParser().parse(doc), source="funds.json")
    assert "2 lines cannot be read; nothing was imported" in caught.value.message
    assert caught.value.problems[0].startswith("funds 2026-03-03 (exchange 2), item 2: amount")
    assert count(db) == 0
    with db.read() as s:
        event = s.exec(select(Event).where(Event.kind == "settlement")).one()
    assert event.result == "refused"


def test_data_that_changed_since_the_last_import_is_refused_whole(db):
    shop(db)
    import_settlement(
        db, ACTOR, StripeParser().parse(load("stripe-balance-transactions.json")), source="a"
    )
    before = count(db)
    doc = load("stripe-balance-transactions.json")
    row = doc["exchanges"][1]["response"]["body"]["data"][0]
    row["amount"] += 100
    row["net"] += 100
    extra = copy.deepcopy(row)
    extra.update(id="txn_brand_new")
    doc["exchanges"][1]["response"]["body"]["data"].append(extra)
    with pytest.raises(ImportRefused, match="1 line differs from what was imported before"):
        import_settlement(db, ACTOR, StripeParser().parse(doc), source="b")
    assert count(db) == before


def test_one_key_twice_with_different_contents_is_refused(db):
    line = SettlementLine(
        provider="vipps", key="k", payout_id=None, date=date(2026, 3, 3), kind="capture",
        amount_ore=100, currency="NOK", provider_type="x", reference="r",
        order_ref=OrderRef("id", "1"),
    )  # fmt: skip
    twice = ParseResult("vipps", [line, dataclasses.replace(line, amount_ore=200)])
    with pytest.raises(ImportRefused, match="contradicts itself"):
        import_settlement(db, ACTOR, twice, source="x")
    assert count(db) == 0


def test_a_fixture_file_path_is_what_the_cli_reads():
    data = json.loads(Path(FIXTURES / "vipps-report-ledgers.json").read_text())
    assert VippsParser().parse(data).lines == []


def test_the_orders_history_shows_its_capture_fee_and_payout(db):
    from packbench.operations.audit import history_of

    shop(db)
    import_week(db)
    with db.read() as s:
        order = s.exec(select(Order).where(Order.number == "10241")).one()
    history = history_of(db, order.id)
    money = [e.message for e in history.entries if e.kind == "settlement"]
    assert money == [
        "Klarna capture 1 990,00 kr (paid out in NO7Q2K9D on 2026-03-06)",
        "Klarna fee −49,55 kr (paid out in NO7Q2K9D on 2026-03-06)",
        "Klarna fee −3,00 kr (paid out in NO7Q2K9D on 2026-03-06)",
        "Klarna capture 1 190,00 kr (paid out in NO7Q2K9D on 2026-03-06)",
        "Klarna fee −29,63 kr (paid out in NO7Q2K9D on 2026-03-06)",
        "Klarna fee −3,00 kr (paid out in NO7Q2K9D on 2026-03-06)",
    ]


def test_two_terminals_importing_the_same_payout_at_once_store_it_once(db):
    import threading

    from packbench.data.engine import create_database

    shop(db, skip={*VIPPS, *KLARNA})
    other = create_database(db.target)  # another terminal: its own engine, same database
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def run(database) -> None:  # type: ignore[no-untyped-def]
        result = StripeParser().parse(load("stripe-balance-transactions.json"))
        try:
            barrier.wait()
            reports.append(import_settlement(database, ACTOR, result, source="race"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(d,)) for d in (db, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    other.dispose()
    assert not errors, errors
    assert sorted(r.new for r in reports) == [0, 15]
    assert count(db) == 15
    assert clearing_ledger(db, Settings(), today=TODAY).balance_ore == 0


def test_the_journal_books_each_payout_as_the_readme_does(db):
    from packbench.operations.journal import journal, journal_csv

    shop(db)
    import_week(db)
    vouchers = {v.number: v for v in journal(db, Settings())}
    assert {
        n: [(p.account, p.debit_ore, p.credit_ore) for p in v.postings] for n, v in vouchers.items()
    } == {
        "vipps-302118-2000147": [(1920, 702480, 0), (7770, 24220, 0), (1570, 0, 726700)],
        "klarna-NO7Q2K9D": [(1920, 895558, 0), (7770, 26042, 0), (1570, 0, 921600)],
        "stripe-po_1T5LjyQ3QcJwVxhCQQUcuJUG": [
            (1920, 620872, 0),
            (7770, 17728, 0),
            (1570, 0, 638600),
        ],
    }
    assert all(v.balanced for v in vouchers.values())
    text = journal_csv(list(vouchers.values()))
    assert text.splitlines()[0] == "Bilag;Dato;Konto;Debet;Kredit;Tekst"
    assert "klarna-NO7Q2K9D;2026-03-06;1570;;9216,00;Utbetaling Klarna NO7Q2K9D" in text
    assert "vipps-302118-2000147;2026-03-08;1920;7024,80;;" in text
    other = Settings(settlement={"bank_account": 1921, "fee_account": 7790})
    assert {p.account for v in journal(db, other) for p in v.postings} == {1921, 7790, 1570}


def test_a_payout_that_does_not_add_up_is_not_booked(db):
    from packbench.operations.journal import JournalError, journal, journal_csv

    doc = load("klarna-settlement-transactions.json")
    doc["exchanges"][0]["response"]["body"]["transactions"].pop(2)
    k = KlarnaParser().parse(doc)
    k.extend(KlarnaParser().parse(load("klarna-settlement-payouts.json")))
    import_settlement(db, ACTOR, k, source="klarna")
    with pytest.raises(JournalError, match="klarna-NO7Q2K9D"):
        journal_csv(journal(db, Settings()))


SAFT_XSD = (
    FIXTURES.parent / "saf-t" / "SAF-T_Financial_1.3_Norwegian_SAF-T_Financial_Schema_v_1.30.xsd"
)


def test_the_saft_file_validates_against_skatteetatens_schema(db):
    import xml.etree.ElementTree as ET

    import xmlschema

    from packbench.operations.journal import JournalError, journal
    from packbench.operations.saft import NS, Company, saft_xml

    shop(db)
    import_week(db)
    accounts = {"clearing": 1570, "bank": 1920, "fee": 7770}
    data = saft_xml(
        journal(db, Settings()), Company("918627456", "Fjellsport Nettbutikk AS & Co"),
        accounts=accounts, start=date(2026, 3, 1), end=date(2026, 3, 31),
        created=date(2026, 3, 10),
    )  # fmt: skip
    xmlschema.XMLSchema(str(SAFT_XSD)).validate(data.decode("utf-8"))
    root = ET.fromstring(data)
    q = {"s": NS}
    assert root.find("s:GeneralLedgerEntries/s:NumberOfEntries", q).text == "3"
    total_debit = root.find("s:GeneralLedgerEntries/s:TotalDebit", q).text
    assert total_debit == root.find("s:GeneralLedgerEntries/s:TotalCredit", q).text == "22869.00"
    closing = {
        a.find("s:AccountID", q).text: (
            a.find("s:ClosingDebitBalance", q).text
            if a.find("s:ClosingDebitBalance", q) is not None
            else "-" + a.find("s:ClosingCreditBalance", q).text
        )
        for a in root.iter(f"{{{NS}}}Account")
    }
    assert closing == {"1570": "-22869.00", "1920": "22189.10", "7770": "679.90"}
    with pytest.raises(JournalError, match="organisation number"):
        saft_xml([], Company("12345", "X"), accounts=accounts, start=date(2026, 3, 1),
                 end=date(2026, 3, 31), created=date(2026, 3, 10))  # fmt: skip
