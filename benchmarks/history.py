"""Make a bench database with a long history: N shipped orders and about a million events.

Run: .venv/bin/python benchmarks/history.py OUT.db [--orders 200000] [--seed 1]

It starts from the demo database (catalogue, layout, people, boxes, today's open orders) and
adds ``--orders`` historical orders over the year before, each handed over with its parcel and
the events a real pass leaves (slip printed, picked, packed, shipped, handed over, plus the item
scans) — about five events per order. Bulk inserts through SQLAlchemy Core, so 200,000 orders
take a minute or two, not an hour. The other volume benchmarks use the file it writes.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from packbench.core.codes import make_s10, make_sscc
from packbench.data.demo_catalogue import REFERENCE_NOW
from packbench.data.engine import Database, create_database
from packbench.data.migrate import upgrade
from packbench.data.models import Event, Order, OrderLine, Packer, Parcel, Product
from packbench.operations.demo import load_demo

CHUNK = 5000
FLOW = (
    ("new", "slip_printed", "print_slip", "admin"),
    ("slip_printed", "picking", "start_pick", "pick"),
    ("picking", "picked", "finish_pick", "pick"),
    ("picked", "packing", "start_pack", "pack"),
    ("packing", "packed", "finish_pack", "pack"),
    ("packed", "shipped", "ship", "ship"),
    ("shipped", "handed_over", "hand_over", "post"),
)


def make_history(path: Path, *, orders: int, seed: int = 1) -> dict[str, float]:
    rng = random.Random(seed)
    path.unlink(missing_ok=True)
    db = create_database(path)
    upgrade(db)
    load_demo(db, seed=seed, terminal="history")
    with db.read() as s:
        products = s.exec(select(Product.id, Product.sku, Product.name, Product.price_ore)).all()
        packers = [row[0] for row in s.exec(select(Packer.id)).all()]
        next_order = (s.exec(select(func.max(Order.id))).one()[0] or 0) + 1
    t0 = time.perf_counter()
    n_events = n_lines = 0
    start = REFERENCE_NOW - timedelta(days=365)
    with db.engine.begin() as conn:
        for base in range(0, orders, CHUNK):
            o_rows, l_rows, p_rows, e_rows = [], [], [], []
            for i in range(base, min(orders, base + CHUNK)):
                oid = next_order + i
                created = start + timedelta(seconds=rng.randrange(0, 364 * 86400))
                number = f"H{100000 + i}"
                o_rows.append(
                    {
                        "id": oid,
                        "number": number,
                        "status": "handed_over",
                        "created_at": created,
                        "paid_at": created,
                        "updated_at": created + timedelta(hours=6),
                        "ship_name": "Kunde " + str(i),
                        "ship_city": rng.choice(["Oslo", "Bergen", "Trondheim", "Tromsø"]),
                        "ship_country": "NO",
                        "shipping_method_id": "flat_rate:3",
                        "currency": "NOK",
                        "payment_status": "captured",
                        "completed_at": created + timedelta(hours=5),
                        "invoice_number": f"INV-{i}",
                        "shipping_ore": 9900,
                        "total_ore": 0,
                    }
                )
                chosen = rng.sample(products, rng.choice((1, 1, 2, 2, 3, 4)))
                for n, (pid, sku, name, price) in enumerate(chosen, start=1):
                    qty = rng.choice((1, 1, 1, 2, 3))
                    l_rows.append(
                        {
                            "order_id": oid,
                            "line_no": n,
                            "product_id": pid,
                            "sku": sku,
                            "name": name,
                            "quantity": qty,
                            "picked_qty": qty,
                            "packed_qty": qty,
                            "unit_price_ore": price,
                        }
                    )
                n_lines += len(chosen)
                p_rows.append(
                    {
                        "order_id": oid,
                        "seq": 1,
                        "box_code": "BOX-M",
                        "weight_g": 900,
                        "sscc": make_sscc(9, "7071234", 1_000_000 + i),
                        "tracking_number": make_s10("KH", 10_000_000 + i, "NO"),
                        "carrier": "Posten",
                        "status": "handed_over",
                        "created_at": created,
                        "handed_over_at": created + timedelta(hours=6),
                    }
                )
                who = rng.choice(packers)
                at = created
                for old, new, action, station in FLOW:
                    at += timedelta(minutes=rng.randrange(5, 50))
                    e_rows.append(
                        {
                            "at": at,
                            "order_id": oid,
                            "packer_id": who,
                            "station": station,
                            "terminal": f"bench-{who}",
                            "kind": "status",
                            "result": "ok",
                            "message": f"{old} → {new}",
                            "data": json.dumps({"action": action, "from": old, "to": new}),
                        }
                    )
                    if new in ("picked", "packed"):  # the item scans of that station
                        for _pid, sku, _name, _price in chosen:
                            e_rows.append(
                                {
                                    "at": at - timedelta(seconds=30),
                                    "order_id": oid,
                                    "packer_id": who,
                                    "station": station,
                                    "terminal": f"bench-{who}",
                                    "kind": "scan",
                                    "code": sku,
                                    "result": "ok" if rng.random() > 0.02 else "refused",
                                    "message": "",
                                    "data": None,
                                }
                            )
            conn.execute(insert(Order.__table__), o_rows)
            conn.execute(insert(OrderLine.__table__), l_rows)
            conn.execute(insert(Parcel.__table__), p_rows)
            conn.execute(insert(Event.__table__), e_rows)
            n_events += len(e_rows)
            print(f"  {min(orders, base + CHUNK):>7} orders, {n_events:>8} events", file=sys.stderr)
    if db.is_sqlite:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return {
        "orders": orders,
        "lines": n_lines,
        "events": n_events,
        "seconds": round(time.perf_counter() - t0, 1),
        "size_mb": round(path.stat().st_size / 1e6, 1),
    }


def open_history(path: Path) -> Database:
    return create_database(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    figures = make_history(args.out, orders=args.orders, seed=args.seed)
    print(" ".join(f"{k}={v}" for k, v in figures.items()))
    from _figures import emit

    emit("volume", "history: orders", figures["orders"])
    emit("volume", "history: events", figures["events"])
    emit("volume", "history: time to write", figures["seconds"], "s")


if __name__ == "__main__":
    main()
