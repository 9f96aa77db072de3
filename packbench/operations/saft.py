"""The payout journal as a Norwegian SAF-T Financial file (schema v1.30), for the accountant.

It holds what the bench books and nothing else: the accounts the payouts touch (clearing 1570,
bank 1920, fees 7770; opening balances 0, closing balances the period's movements) and one
transaction per paid payout in one journal. It is not the company's whole SAF-T export (the
accounting system makes that); it is a file that system, or the accountant, can read.

Grouping: ``GroupingCategory`` ``KA`` with the account's two-digit standard account group is our
choice (the codelists are Skatteetaten's; let the accountant confirm the mapping).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from packbench import __version__
from packbench.operations.journal import JournalError, Voucher

__all__ = ["Company", "saft_xml"]

NS = "urn:StandardAuditFile-Taxation-Financial:NO"
NAMES = {"clearing": "Oppgjørskonto betalingsformidler", "bank": "Bankinnskudd",
         "fee": "Bank- og kortgebyr"}  # fmt: skip


@dataclass(frozen=True)
class Company:
    registration_number: str  # organisasjonsnummer, 9 digits
    name: str
    city: str = ""
    postal_code: str = ""
    contact_first_name: str = "Regnskap"
    contact_last_name: str = "Ansvarlig"


def _amount(ore: int) -> str:
    return f"{ore // 100}.{ore % 100:02d}"


def _el(tag: str, text: object) -> str:
    return f"<{tag}>{escape(str(text))}</{tag}>"


def saft_xml(
    vouchers: list[Voucher],
    company: Company,
    *,
    accounts: dict[str, int],
    start: date,
    end: date,
    created: date,
) -> bytes:
    """``accounts``: ``{"clearing": 1570, "bank": 1920, "fee": 7770}``. Only balanced vouchers
    dated ``start``..``end`` go in; an unbalanced one in the period refuses the whole file."""
    if not (company.registration_number.isdigit() and len(company.registration_number) == 9):
        raise JournalError("SAF-T needs the company's 9-digit organisation number")
    if not company.name.strip():
        raise JournalError("SAF-T needs the company's name")
    chosen = [v for v in vouchers if start.isoformat() <= v.date <= end.isoformat()]
    bad = [v.number for v in chosen if not v.balanced]
    if bad:
        raise JournalError(f"payouts that do not add up cannot be booked: {', '.join(bad)}")
    movement: dict[int, int] = defaultdict(int)
    for v in chosen:
        for p in v.postings:
            movement[p.account] += p.debit_ore - p.credit_ore
    debit = sum(p.debit_ore for v in chosen for p in v.postings)
    credit = sum(p.credit_ore for v in chosen for p in v.postings)

    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<AuditFile xmlns="{NS}">', "<Header>"]
    out += [
        _el("AuditFileVersion", "1.30"),
        _el("AuditFileCountry", "NO"),
        _el("AuditFileDateCreated", created.isoformat()),
        _el("SoftwareCompanyName", "packbench"),
        _el("SoftwareID", "packbench"),
        _el("SoftwareVersion", __version__),
        "<Company>",
        _el("RegistrationNumber", company.registration_number),
        _el("Name", company.name),
        "<Address>",
        *([_el("City", company.city)] if company.city else []),
        *([_el("PostalCode", company.postal_code)] if company.postal_code else []),
        _el("Country", "NO"),
        "</Address>",
        "<Contact><ContactPerson>",
        _el("FirstName", company.contact_first_name),
        _el("LastName", company.contact_last_name),
        "</ContactPerson></Contact>",
        "</Company>",
        _el("DefaultCurrencyCode", "NOK"),
        "<SelectionCriteria>",
        _el("SelectionStartDate", start.isoformat()),
        _el("SelectionEndDate", end.isoformat()),
        "</SelectionCriteria>",
        _el("HeaderComment", "Utbetalinger fra betalingsformidlere (packbench)"),
        _el("TaxAccountingBasis", "A"),
        "</Header>",
        "<MasterFiles><GeneralLedgerAccounts>",
    ]
    for role, number in accounts.items():
        net = movement.get(number, 0)
        out += [
            "<Account>",
            _el("AccountID", number),
            _el("AccountDescription", NAMES.get(role, role)),
            _el("GroupingCategory", "KA"),
            _el("GroupingCode", str(number)[:2]),
            _el("AccountType", "GL"),
            _el("OpeningDebitBalance", "0.00"),
            _el("ClosingDebitBalance", _amount(net))
            if net >= 0
            else _el("ClosingCreditBalance", _amount(-net)),
            "</Account>",
        ]
    out += [
        "</GeneralLedgerAccounts></MasterFiles>",
        "<GeneralLedgerEntries>",
        _el("NumberOfEntries", len(chosen)),
        _el("TotalDebit", _amount(debit)),
        _el("TotalCredit", _amount(credit)),
        "<Journal>",
        _el("JournalID", "UTB"),
        _el("Description", "Utbetalinger fra betalingsformidlere"),
        _el("Type", "UTB"),
    ]
    record = 0
    for v in chosen:
        day = date.fromisoformat(v.date)
        out += [
            "<Transaction>",
            _el("TransactionID", v.number),
            _el("Period", day.month),
            _el("PeriodYear", day.year),
            _el("TransactionDate", v.date),
            _el("Description", v.text),
            _el("SystemEntryDate", created.isoformat()),
            _el("GLPostingDate", v.date),
        ]
        for p in v.postings:
            side = "DebitAmount" if p.debit_ore else "CreditAmount"
            record += 1  # at most 18 characters: a running number, unique in the file
            out += [
                "<Line>",
                _el("RecordID", record),
                _el("AccountID", p.account),
                _el("Description", v.text),
                f"<{side}>{_el('Amount', _amount(p.debit_ore or p.credit_ore))}</{side}>",
                "</Line>",
            ]
        out.append("</Transaction>")
    out += ["</Journal>", "</GeneralLedgerEntries>", "</AuditFile>"]
    return ("\n".join(out) + "\n").encode("utf-8")
