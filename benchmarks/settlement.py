"""Import and match a year of a busy shop's payouts (#15): 200,000 captures in 250 payouts.

    .venv/bin/python benchmarks/settlement.py /tmp/settle.db --captures 200000 --payouts 250

Builds a database with one completed Stripe order per capture (bulk inserts, not timed), then
for each payout makes its balance transactions in Stripe's documented shape (charges with their
fee, 1 % refunds of orders paid out in an earlier payout, the payout row), parses them and
imports them through the operations layer, one payout per import as ``settlements import
--api`` does. Prints the time per payout (parse, import), the total, a second import of one
payout (idempotent: nothing new), the 1570 ledger over the whole year, and the peak memory.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._figures import emit
from packbench.config import Settings
from packbench.data.engine import create_database
from packbench.data.migrate import upgrade
from packbench.data.models import Order
from packbench.operations.common import Actor
from packbench.operations.ledger import clearing_ledger
from packbench.operations.settlement import import_settlement
from packbench.settlement.stripe import StripeParser

START = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)


def make_orders(db, n: int, rng: random.Random) -> list[int]:  # type: ignore[no-untyped-def]
    totals = [rng.randrange(9900, 400000, 100) for _ in range(n)]
    rows = [
        {
            "shop_order_id": 1_000_000 + i,
            "number": str(100_000 + i),
            "status": "handed_over",
            "payment_method": "stripe",
            "total_ore": totals[i],
            "created_at": START + timedelta(minutes=i * 2),
            "completed_at": START + timedelta(minutes=i * 2 + 60),
            "updated_at": START,
            "payment_status": "captured",
            "currency": "NOK",
        }
        for i in range(n)
    ]
    table = Order.__table__  # type: ignore[attr-defined]
    with db.engine.begin() as conn:
        for start in range(0, n, 10_000):
            conn.execute(table.insert(), rows[start : start + 10_000])
    return totals


def payout_body(p: int, orders: range, totals: list[int], refunds: list[int], rng) -> dict:  # type: ignore[no-untyped-def]
    rows = []
    net_total = 0
    for i in orders:
        amount = totals[i]
        fee = amount * 24 // 1000 + 200
        created = int((START + timedelta(minutes=i * 2 + 61)).timestamp())
        rows.append(
            {
                "id": f"txn_c{i}", "object": "balance_transaction", "amount": amount,
                "fee": fee, "net": amount - fee, "currency": "nok", "created": created,
                "type": "charge", "reporting_category": "charge",
                "source": {"id": f"ch_{i}", "object": "charge",
                           "metadata": {"order_id": str(100_000 + i)}},
            }
        )  # fmt: skip
        net_total += amount - fee
    for i in refunds:  # money back for an order paid out in an earlier payout
        amount = totals[i] // 2
        created = int((START + timedelta(minutes=orders[-1] * 2 + 62)).timestamp())
        rows.append(
            {
                "id": f"txn_r{i}", "object": "balance_transaction", "amount": -amount,
                "fee": 0, "net": -amount, "currency": "nok", "created": created,
                "type": "refund", "reporting_category": "refund",
                "source": {"id": f"re_{i}", "object": "refund", "charge": f"ch_{i}",
                           "metadata": {}},
            }
        )  # fmt: skip
        net_total -= amount
    arrival = int((START + timedelta(minutes=orders[-1] * 2 + 60 * 48)).timestamp())
    rows.append(
        {
            "id": f"txn_p{p}", "object": "balance_transaction", "amount": -net_total,
            "fee": 0, "net": -net_total, "currency": "nok", "created": arrival - 86400,
            "type": "payout", "reporting_category": "payout",
            "source": {"id": f"po_{p}", "object": "payout", "arrival_date": arrival},
        }
    )  # fmt: skip
    return {"object": "list", "data": rows[::-1], "has_more": False}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", type=Path)
    ap.add_argument("--captures", type=int, default=200_000)
    ap.add_argument("--payouts", type=int, default=250)
    ap.add_argument("--seed", type=int, default=15)
    args = ap.parse_args()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{args.db}{suffix}").unlink(missing_ok=True)
    rng = random.Random(args.seed)
    db = create_database(args.db)
    upgrade(db)
    t0 = time.perf_counter()
    totals = make_orders(db, args.captures, rng)
    print(f"{args.captures} completed orders inserted in {time.perf_counter() - t0:.1f} s")

    actor = Actor("admin", "bench")
    per = args.captures // args.payouts
    parse_s: list[float] = []
    import_s: list[float] = []
    refunded: list[int] = []
    taken: set[int] = set()
    peak_mb = 0.0
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for p in range(args.payouts):
        lo, hi = p * per, (p + 1) * per if p < args.payouts - 1 else args.captures
        refunds = []
        while lo and len(refunds) < per // 100:  # each order refunded at most once
            i = rng.randrange(0, lo)
            if i not in taken:
                taken.add(i)
                refunds.append(i)
        refunded += refunds
        body = payout_body(p, range(lo, hi), totals, refunds, rng)
        traced = p == args.payouts // 2  # Python's allocations, once: tracing slows it down
        if traced:
            tracemalloc.start()
        t = time.perf_counter()
        result = StripeParser().parse(body, payout_id=f"po_{p}")
        t_parse = time.perf_counter() - t
        assert result.ok, result.rejected[:3]
        t = time.perf_counter()
        report = import_settlement(db, actor, result, source=f"po_{p}")
        t_import = time.perf_counter() - t
        assert report.unmatched == 0, report
        if traced:
            peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        else:
            parse_s.append(t_parse)
            import_s.append(t_import)
        del body, result
    total = sum(parse_s) + sum(import_s)
    print(
        f"{args.payouts} payouts, {args.captures} captures, {len(refunded)} refunds in later "
        f"payouts: {total:.1f} s in all (parse {sum(parse_s):.1f} s, import {sum(import_s):.1f} s;"
        " one payout measured for memory instead is left out)"
    )
    q = statistics.quantiles(import_s, n=20)
    print(
        f"per payout (~{per} captures + fees): import median {statistics.median(import_s):.2f} s, "
        f"p95 {q[18]:.2f} s; parse median {statistics.median(parse_s) * 1000:.0f} ms"
    )
    print(f"peak Python allocations during one payout's parse + import (traced): {peak_mb:.1f} MB")
    t = time.perf_counter()
    body = payout_body(0, range(0, per), totals, [], rng)
    again = import_settlement(
        db, actor, StripeParser().parse(body, payout_id="po_0"), source="po_0 again"
    )
    again_s = time.perf_counter() - t
    assert again.new == 0
    print(f"the first payout imported again: {again.new} new lines, {again_s:.2f} s")
    t = time.perf_counter()
    ledger = clearing_ledger(db, Settings(), today=START.date() + timedelta(days=400))
    ledger_s = time.perf_counter() - t
    print(
        f"1570 ledger over the year: {ledger_s:.2f} s; balance {ledger.balance_ore} øre, "
        f"{len(ledger.open_items)} open items, {len(ledger.unmatched)} unmatched, "
        f"{ledger.settled_orders} orders settled"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS of the process: {rss / 1024:.0f} MB (before the imports {rss0 / 1024:.0f} MB)")
    emit("settlement", "import a year (200k captures) s", total, "s")
    emit("settlement", "import one payout p95 s", q[18], "s")
    emit("settlement", "1570 ledger over a year s", ledger_s, "s")
    emit("settlement", "peak RSS MB", rss / 1024, "MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
