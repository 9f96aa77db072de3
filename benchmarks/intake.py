"""The intake alone: pages of orders from the shop written to the database, no HTTP.

Run: .venv/bin/python benchmarks/intake.py [--orders 2000] [--page 100]

The orders are the demo shop's, already mapped (``OrderIn``), so this times only what the
bench does with a page: ``operations.syncing.apply_order_page`` (the known orders, the
duplicate-number and length checks, the product lookups, the event rows, the problems, the
cursor). Next to it, the same rows — orders, lines, one event an order — written with
``sqlite3.executemany`` in one transaction a page: the floor any ORM-based intake stands on.
Issue #18 asks for at most 3× that floor. Wall-clock and CPU time are both printed: on a
machine shared with other work the wall clock measures the neighbours too, while the CPU time
of this process (SQLite runs in it) does not.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _figures import emit

from packbench.data.demo_catalogue import generate
from packbench.data.engine import create_database
from packbench.data.migrate import upgrade
from packbench.operations.common import Actor
from packbench.operations.demo import _order_in
from packbench.operations.intake import _HEADER_FIELDS, OrderIn, ProductIn
from packbench.operations.syncing import apply_order_page

try:
    from packbench.operations.sync_products import apply_product_page
except ImportError:  # the code before issue #18, for a before/after figure
    from packbench.operations.sync_products import upsert_products

    def apply_product_page(db, actor, products, final):  # type: ignore[no-untyped-def]
        return upsert_products(db, products)


def pages(orders: list[OrderIn], size: int) -> list[list[OrderIn]]:
    return [orders[i : i + size] for i in range(0, len(orders), size)]


def fresh(path: Path, products: list[ProductIn]):  # type: ignore[no-untyped-def]
    db = create_database(path)
    upgrade(db)
    apply_product_page(db, Actor("sync", "bench"), products, final=True)
    return db


Times = tuple[float, float]  # wall-clock seconds, CPU seconds of this process


def run_intake(path: Path, products: list[ProductIn], orders: list[OrderIn], size: int) -> Times:
    db = fresh(path, products)
    actor = Actor("sync", "bench")
    started, cpu = time.perf_counter(), time.process_time()
    for page in pages(orders, size):
        apply_order_page(db, actor, page, cursor_key="pull.processing.modified_after")
    elapsed = time.perf_counter() - started, time.process_time() - cpu
    db.dispose()
    return elapsed


def run_raw(path: Path, products: list[ProductIn], orders: list[OrderIn], size: int) -> Times:
    fresh(path, products).dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    product_ids = dict(conn.execute("SELECT sku, id FROM product").fetchall())
    columns = ["shop_order_id", "number", "status", "created_at", "upstream_modified_at"]
    columns += [*_HEADER_FIELDS, "updated_at"]
    insert_order = (
        f"INSERT INTO orders ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    now = datetime.now(UTC).isoformat()
    started, cpu = time.perf_counter(), time.process_time()
    for page in pages(orders, size):
        conn.execute("BEGIN IMMEDIATE")
        rows = []
        for o in page:
            head = [o.shop_order_id, o.number, "new", o.created_at.isoformat()]
            head.append(o.modified_at.isoformat() if o.modified_at else None)
            for name in _HEADER_FIELDS:
                value = getattr(o, name)
                head.append(value.isoformat() if isinstance(value, datetime) else value)
            rows.append([*head, now])
        conn.executemany(insert_order, rows)
        ids = dict(
            conn.execute(
                "SELECT shop_order_id, id FROM orders WHERE shop_order_id IN "
                f"({', '.join(str(o.shop_order_id) for o in page)})"
            ).fetchall()
        )
        conn.executemany(
            "INSERT INTO order_line (order_id, line_no, sku, name, quantity, unit_price_ore, "
            "product_id, picked_qty, packed_qty, short_qty) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 0)",
            [
                (ids[o.shop_order_id], n, ln.sku, ln.name, ln.quantity, ln.unit_price_ore,
                 product_ids.get(ln.sku))
                for o in page
                for n, ln in enumerate(o.lines, start=1)
            ],
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO event (at, order_id, station, terminal, kind, result, message) "
            "VALUES (?, ?, 'sync', 'bench', 'intake', 'ok', ?)",
            [(now, ids[o.shop_order_id], f"order {o.number} received") for o in page],
        )
        conn.execute(
            "INSERT INTO sync_state (key, value, updated_at) VALUES ('cursor', ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (now, now),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started, time.process_time() - cpu
    conn.close()
    return elapsed


def main() -> None:
    logging.disable(logging.WARNING)  # the demo's shelves are not in an empty bench: no noise
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--page", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    args = parser.parse_args()
    data = generate(seed=1, n_orders=args.orders)
    products = [
        ProductIn(
            p.shop_product_id, p.sku, p.gtin, p.name, p.length_mm, p.width_mm, p.height_mm,
            p.weight_g, p.location, p.price_ore,
        )
        for p in data.products
    ]  # fmt: skip
    orders = [_order_in(o) for o in data.orders]
    lines = sum(len(o.lines) for o in orders)
    intake = raw = (float("inf"), float("inf"))
    for i in range(args.repeat):  # the machine may be busy: the best run of each counts
        with tempfile.TemporaryDirectory() as tmp:
            mine = run_intake(Path(tmp) / f"i{i}.db", products, orders, args.page)
            base = run_raw(Path(tmp) / f"r{i}.db", products, orders, args.page)
            intake = (min(intake[0], mine[0]), min(intake[1], mine[1]))
            raw = (min(raw[0], base[0]), min(raw[1], base[1]))
    n = len(orders)
    print(f"{n} orders ({lines} lines) in pages of {args.page}, best of {args.repeat}")
    print("                              wall s  ms an order   CPU s  ms an order")
    for name, (wall, cpu) in (
        ("intake (apply_order_page)", intake),
        ("raw sqlite3 executemany", raw),
    ):
        print(
            f"  {name:26} {wall:7.3f}  {wall / n * 1000:11.3f}  {cpu:6.3f}  {cpu / n * 1000:11.3f}"
        )
    print(
        f"  ratio:                     {intake[0] / raw[0]:6.1f}x               "
        f"{intake[1] / raw[1]:6.1f}x   (issue #18's target: <= 3x)"
    )
    emit("intake", f"{n} orders: ms an order", intake[0] / n * 1000, "ms")
    emit("intake", f"{n} orders: raw sqlite3 ms an order", raw[0] / n * 1000, "ms")
    emit("intake", f"{n} orders: ratio to raw sqlite3", intake[0] / raw[0], "x")
    emit("intake", f"{n} orders: ratio to raw sqlite3, CPU time", intake[1] / raw[1], "x")


if __name__ == "__main__":
    main()
