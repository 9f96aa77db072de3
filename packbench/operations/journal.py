"""The journal: one voucher per paid payout, as a Norwegian bookkeeper books it (README of the
settlement fixtures, §5), ready to import into the accounting system as CSV.

Voucher dated on the payout's date: **debit the bank** (``[settlement] bank_account``, 1920)
what reached it, **debit fees** (``fee_account``, 7770) what the provider kept, **credit the
clearing account** (``[shop] clearing_account``, 1570) what the payout settled gross — captures
less refunds, chargebacks and corrections (a chargeback so re-opens the claim on 1570; the
accountant moves it on to the customer). A payout whose lines do not add up cannot be booked:
the export refuses and names it. Reads only.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from packbench.config import Settings
from packbench.data.engine import Database
from packbench.operations.ledger import kr, payout_summaries

__all__ = ["JournalError", "Posting", "Voucher", "journal", "journal_csv"]


class JournalError(Exception):
    """The journal cannot be exported as it stands; the message names the payouts."""


@dataclass(frozen=True)
class Posting:
    account: int
    debit_ore: int
    credit_ore: int


@dataclass(frozen=True)
class Voucher:
    number: str  # the provider and its payout id: the same voucher every export
    date: str
    text: str
    postings: tuple[Posting, ...]
    difference_ore: int  # ≠ 0: the payout's lines do not add up; not bookable

    @property
    def balanced(self) -> bool:
        debit = sum(p.debit_ore for p in self.postings)
        return self.difference_ore == 0 and debit == sum(p.credit_ore for p in self.postings)


def _side(account: int, amount: int) -> Posting:
    """``amount`` > 0 is a debit, < 0 a credit."""
    return Posting(account, max(amount, 0), max(-amount, 0))


def journal(db: Database, settings: Settings) -> list[Voucher]:
    cfg = settings.settlement
    clearing = settings.shop.clearing_account
    with db.read() as session:
        payouts, _ = payout_summaries(session)
    out = []
    for p in payouts:
        if not p.paid:
            continue
        gross = p.captured_ore - p.refunded_ore - p.chargebacks_ore + p.other_ore
        postings = [
            _side(cfg.bank_account, p.to_bank_ore),
            _side(cfg.fee_account, p.fees_ore),
            _side(clearing, -gross),
        ]
        out.append(
            Voucher(
                number=f"{p.provider}-{p.payout_id}",
                date=p.date,
                text=f"Utbetaling {p.provider.capitalize()} {p.payout_id}",
                postings=tuple(x for x in postings if x.debit_ore or x.credit_ore),
                difference_ore=p.difference_ore,
            )
        )
    return out


def _amount(ore: int) -> str:
    return f"{ore // 100},{ore % 100:02d}" if ore else ""


def journal_csv(vouchers: list[Voucher]) -> str:
    """Semicolon-separated, decimal comma, one row per posting: ``Bilag;Dato;Konto;Debet;
    Kredit;Tekst`` — the columns Norwegian accounting systems' journal imports ask for."""
    bad = [v for v in vouchers if not v.balanced]
    if bad:
        listed = "; ".join(f"{v.number} ({kr(v.difference_ore)} unexplained)" for v in bad)
        raise JournalError(f"payouts that do not add up cannot be booked: {listed}")
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow(["Bilag", "Dato", "Konto", "Debet", "Kredit", "Tekst"])
    for v in vouchers:
        for p in v.postings:
            w.writerow(
                [v.number, v.date, p.account, _amount(p.debit_ore), _amount(p.credit_ore),
                 _safe(v.text)]
            )  # fmt: skip
    return out.getvalue()


def _safe(text: str) -> str:
    """No formula injection when the CSV is opened in a spreadsheet."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
