"""The demo providers' settlement of the shop's captures: daily payouts with fees, a refund
netted into a later payout, a day that pays nothing and carries over, a capture never paid out,
the same reports whatever is captured later — read back through the real clients and parsers
over loopback."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

from packbench.config import Settings
from packbench.redact import clear_secrets
from packbench.settlement.base import ParseResult
from packbench.settlement.clients import fetch
from packbench.settlement.demo import DemoCredentials, DemoProviders, run_in_thread
from packbench.settlement.demo.settle import DEMO_MSN, FEES, Capture, Fee, Settled, settle

C = DemoCredentials()
DAY1 = date(2026, 11, 30)
TODAY = date(2026, 12, 4)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """``hour`` o'clock UTC on ``day``."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def cap(oid: int, amount: int, when: datetime, method: str, **kw) -> Capture:  # type: ignore[no-untyped-def]
    return Capture(order_id=oid, number=f"N{oid}", amount_ore=amount, at=when,
                   payment_method=method, **kw)  # fmt: skip


CAPTURES = [
    cap(101, 49900, at(DAY1, 9), "vipps", return_ore=19900),  # refunded 199 kr on day 2
    cap(102, 12345, at(DAY1, 22, 58), "vipps"),  # 23:58 Oslo: still day 1
    cap(103, 25000, at(DAY1, 23, 20), "vipps"),  # 00:20 Oslo: day 2's ledger date
    cap(201, 30000, at(DAY1, 10), "klarna"),  # never reported by Klarna
    cap(202, 80000, at(DAY1, 11), "klarna"),
    cap(203, 15050, at(DAY1 + timedelta(days=2), 12), "kco"),
    cap(301, 64900, at(DAY1, 8), "stripe_cc", transaction_id="ch_3given"),
    cap(302, 10000, at(DAY1 + timedelta(days=1), 8), "stripe"),
    cap(401, 5000, at(DAY1, 8), "cod"),  # no provider settles cash on delivery
    cap(104, 99900, at(TODAY, 9), "vipps"),  # today: not closed, in no report yet
]


@pytest.fixture
def settled() -> Settled:
    return settle(CAPTURES, today=TODAY)


def serve(settled: Settled, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    providers = DemoProviders(source=lambda: settled.data, page_size=2)
    url, stop = run_in_thread(providers)
    env = {
        "PACKBENCH_VIPPS_CLIENT_ID": C.vipps_client_id,
        "PACKBENCH_VIPPS_CLIENT_SECRET": C.vipps_client_secret,
        "PACKBENCH_VIPPS_SUBSCRIPTION_KEY": C.vipps_subscription_key,
        "PACKBENCH_KLARNA_USERNAME": C.klarna_username,
        "PACKBENCH_KLARNA_PASSWORD": C.klarna_password,
        "PACKBENCH_STRIPE_SECRET_KEY": C.stripe_secret_key,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings(
        settlement={
            "vipps_url": url + "/vipps",
            "vipps_msn": DEMO_MSN,
            "klarna_url": url + "/klarna/settlements/v1",
            "stripe_url": url + "/stripe",
        }
    )
    return settings, stop


def fetched(settled: Settled, monkeypatch: pytest.MonkeyPatch) -> dict[str, ParseResult]:
    settings, stop = serve(settled, monkeypatch)
    try:
        return {
            p: fetch(p, settings, since=DAY1 - timedelta(days=1), until=TODAY + timedelta(days=1))
            for p in ("vipps", "klarna", "stripe")
        }
    finally:
        stop()
        clear_secrets()


def sums(result: ParseResult) -> dict[str | None, dict[str, int]]:
    out: dict[str | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for line in result.lines:
        out[line.payout_id][line.kind] += line.amount_ore
    return out


def fee(provider: str, amount: int) -> int:
    return sum(FEES[provider].of(amount))


def test_fees_are_a_percentage_rounded_half_up_plus_a_fixed_fee() -> None:
    assert Fee(299, 100).of(12345) == (369, 100)  # 369.1155
    assert Fee(250, 0).of(10020) == (251, 0)  # 250.5 → 251
    assert Fee(249, 300).of(0) == (0, 300)


def test_every_payout_adds_up_through_the_real_clients_and_parsers(
    settled: Settled, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = fetched(settled, monkeypatch)
    for provider, result in results.items():
        assert result.rejected == [], provider
        by_payout = sums(result)
        assert None not in by_payout, provider  # every reported line is in a payout
        nets = dict(settled.payouts[provider])
        assert {pid: -k["payout"] for pid, k in by_payout.items()} == nets, provider
        for pid, kinds in by_payout.items():
            assert sum(kinds.values()) == 0, (provider, pid)  # gross − refunds − fees = net
    # Vipps: day 1 = 101 + 102; day 2 = 103 (00:20 Oslo) less 101's refund; today is tryLater
    vipps = sums(results["vipps"])
    day1, day2 = (f"310001-2{d:%y%m%d}" for d in (DAY1, DAY1 + timedelta(days=1)))
    assert vipps[day1]["capture"] == 49900 + 12345
    assert vipps[day1]["fee"] == -(fee("vipps", 49900) + fee("vipps", 12345))
    assert vipps[day2]["capture"] == 25000 and vipps[day2]["refund"] == -19900
    assert sorted(results["vipps"].pending) == [f"fees {TODAY}", f"funds {TODAY}"]
    # Klarna: 201 is never reported; 202 and 203 are, with both their fee lines.
    klarna = results["klarna"]
    orders = {ln.order_ref.value for ln in klarna.lines if ln.order_ref}
    assert orders == {"N202", "N203"}
    assert sum(ln.amount_ore for ln in klarna.lines if ln.kind == "fee") == -(
        fee("klarna", 80000) + fee("klarna", 15050)
    )
    # Stripe: the shop's charge id is the charge's, the order number is in its metadata.
    stripe = results["stripe"]
    charges = {ln.reference: ln for ln in stripe.lines if ln.kind == "capture"}
    assert {ln.order_ref.value for ln in charges.values() if ln.order_ref} == {"N301", "N302"}
    assert any("ch_3given" in ln.reference or ln.related == "ch_3given" for ln in stripe.lines)
    assert sum(ln.amount_ore for ln in stripe.lines if ln.kind == "fee") == -(
        fee("stripe", 64900) + fee("stripe", 10000)
    )


def test_what_the_providers_did_per_order(settled: Settled) -> None:
    assert settled.refunded_order == 101 and settled.never_paid_order == 201
    assert settled.orders[101] == ("vipps", 49900, 19900, fee("vipps", 49900), 30000)
    assert settled.orders[201] == ("klarna", 0, 0, 0, 0)
    assert settled.orders[104] == ("vipps", 0, 0, 0, 0)  # today's: nothing reported yet
    assert 401 not in settled.orders  # cash on delivery: no provider


def test_a_day_that_does_not_come_out_positive_pays_nothing_and_carries_over() -> None:
    day2 = DAY1 + timedelta(days=1)
    caps = [
        cap(1, 10000, at(DAY1, 9), "vipps", return_ore=10000),  # all of it back on day 2
        cap(2, 20000, at(DAY1 + timedelta(days=2), 9), "vipps"),
        cap(3, 5000, at(DAY1, 9), "klarna"),  # the one never paid out
    ]
    result = settle(caps, today=TODAY)
    (first, second) = result.payouts["vipps"]
    assert first == (f"310001-2{DAY1:%y%m%d}", 10000 - fee("vipps", 10000))
    # day 2 is the refund alone (−100 kr): no payout; day 3 pays its capture less the refund
    assert second == (
        f"310001-2{DAY1 + timedelta(days=2):%y%m%d}",
        20000 - fee("vipps", 20000) - 10000,
    )
    entries = result.data.vipps_entries[("310001", "funds", day2.isoformat())]
    assert [e["entryType"] for e in entries] == ["refund"]


def test_later_captures_do_not_change_what_was_reported() -> None:
    before = settle(CAPTURES, today=TODAY)
    later = [
        *CAPTURES,
        cap(105, 1000, at(TODAY, 10), "vipps"),
        cap(204, 1000, at(TODAY, 10), "klarna"),
        cap(303, 1000, at(TODAY, 10), "stripe"),
    ]
    after = settle(later, today=TODAY)
    assert after.data.vipps_entries == before.data.vipps_entries
    assert after.data.klarna_payouts == before.data.klarna_payouts
    assert after.data.klarna_transactions == before.data.klarna_transactions
    assert after.data.stripe_transactions == before.data.stripe_transactions
    assert after.refunded_order == before.refunded_order
    assert after.never_paid_order == before.never_paid_order
    # and a day later they are paid out, the old payouts unchanged
    next_day = settle(later, today=TODAY + timedelta(days=1))
    assert next_day.payouts["vipps"][:-1] == before.payouts["vipps"]
    assert len(next_day.payouts["stripe"]) == len(before.payouts["stripe"]) + 1


def test_a_shop_the_providers_cannot_read_is_a_provider_outage_not_an_empty_report() -> None:
    """The demo providers behind a demo shop that is not there answer 503 (the clients retry,
    then say so), never an empty report that would look like "nothing was paid out"."""
    from packbench.settlement.clients import ClientError, KlarnaClient
    from packbench.settlement.demo.shop_feed import ShopFeed

    feed = ShopFeed("http://127.0.0.1:9", "ck", "cs")  # the discard port: nobody listens
    providers = DemoProviders(source=feed)
    url, stop = run_in_thread(providers)
    client = KlarnaClient(url + "/klarna/settlements/v1", username=C.klarna_username,
                          password=C.klarna_password, sleep=lambda s: None)  # fmt: skip
    try:
        with pytest.raises(ClientError, match=r"HTTP 503 .*reports unavailable"):
            client.fetch(DAY1, TODAY)
        assert providers.requests.count("GET /klarna/settlements/v1/payouts") == 4  # retried
    finally:
        client.close()
        stop()
        feed.close()
        clear_secrets()
