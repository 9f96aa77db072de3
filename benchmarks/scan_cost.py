"""What one pack scan costs the operations layer: SQL statements and CPU time, no screen.

Run: .venv/bin/python benchmarks/scan_cost.py HISTORY.db [--repeat 200]

Works on a copy of the file (benchmarks/history.py makes one; nothing is changed in it). A
packer opens a picked order and scans one unit of it, then undoes it, ``--repeat`` times; an
item of the catalogue not in the order is scanned in between (refused). For each kind of scan
it prints the SQL statements sent (counted at the cursor: BEGIN and SAVEPOINTs count, the
COMMIT, a call of the driver's, does not), the CPU time of the operation
(``time.process_time``: the interpreter's and SQLite's work, much less disturbed by a loaded
machine than the wall clock) and the wall-clock time. The statement count is deterministic;
``tests/operations/test_pack_statements.py`` guards it.

``--pause MS`` waits that long before each scan, as a packer's pace does (the app's own
benchmark, ``volume.py``, waits 20 ms and more). On this project's 2-core VM one and the same
unit scan cost 1.99 ms of CPU back to back, 3.63 ms after 20 ms and 8.23 ms after 100 ms
(medians of 40, 2026-12-06, Python's own allocator): what the scan needs of the interpreter,
SQLAlchemy and SQLite is no longer in the CPU's caches and address translations. A busy wait
instead of the sleep costs the same, so it is not the CPU's clock winding down. The app runs
its objects on huge pages for this (``packbench.heap``); so does this script (set
``PACKBENCH_HUGE_PAGES=0`` to measure without). Back to back unless a pause is given; the
bench itself always scans after a pause.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from _figures import emit
from sqlalchemy import event
from sqlmodel import col, select

from packbench.core.codes import CodeRules
from packbench.data.engine import create_database
from packbench.data.models import Order, OrderLine, Packer, Product
from packbench.heap import rerun_on_huge_pages
from packbench.operations.common import Actor
from packbench.operations.pack_views import PackRules
from packbench.operations.packstation import pack_scan


def _p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("history", type=Path)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument(
        "--pause", type=float, default=0.0, help="ms to wait before each scan (default 0)"
    )
    args = parser.parse_args()
    # Set up as the app's command sets itself up: its objects on huge pages, where the
    # machine has them (packbench.heap; PACKBENCH_HUGE_PAGES=0 measures without).
    rerun_on_huge_pages()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "bench.db"
        shutil.copyfile(args.history, copy)
        # The copy (and history.py's file before it, some 650 MB each) written out now, not
        # by the kernel in the middle of the timed scans.
        os.sync()
        db = create_database(copy)
        statements: list[str] = []
        event.listen(
            db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]), named=False
        )
        with db.read() as s:
            order = s.exec(select(Order).where(Order.status == "picked")).first()
            assert order is not None, "no picked order in the history file"
            line = s.exec(select(OrderLine).where(OrderLine.order_id == order.id)).first()
            assert line is not None
            packer = s.exec(select(Packer).where(Packer.role == "packer")).first()
            assert packer is not None
            product = s.exec(select(Product).where(Product.sku == line.sku)).first()
            in_order = select(OrderLine.product_id).where(OrderLine.order_id == order.id)
            stranger = s.exec(
                select(Product.gtin).where(
                    col(Product.gtin).is_not(None), col(Product.id).not_in(in_order)
                )
            ).first()
            assert stranger is not None, "every product with a GTIN is in the order"
        unit = (product.gtin if product is not None and product.gtin else None) or line.sku
        actor = Actor("pack", "bench-cost", packer.id, packer.name, packer.role)
        codes, rules = CodeRules(), PackRules()
        opened = pack_scan(db, actor, f"ORD-{order.number}", codes, rules, order_id=None)
        assert opened is not None and opened.ok, opened
        kinds = [("unit ticked", unit), ("undo", "CMD-UNDO"), ("wrong item", stranger)]
        figures: dict[str, dict[str, list[float]]] = {
            k: {"statements": [], "cpu": [], "wall": []} for k, _ in kinds
        }
        for round_ in range(args.repeat + 1):
            for kind, code in kinds:
                if args.pause:
                    time.sleep(args.pause / 1000)
                statements.clear()
                c0, w0 = time.process_time(), time.perf_counter()
                out = pack_scan(db, actor, code, codes, rules, order_id=order.id)
                cpu, wall = time.process_time() - c0, time.perf_counter() - w0
                assert out is not None and out.ok == (kind != "wrong item"), (kind, out)
                if round_:  # the first round warms caches
                    figures[kind]["statements"].append(len(statements))
                    figures[kind]["cpu"].append(cpu * 1000)
                    figures[kind]["wall"].append(wall * 1000)
        print(
            f"{'scan':<12} {'statements':>10} {'cpu median':>11} {'cpu p95':>8} "
            f"{'wall median':>12} {'wall p95':>9}"
        )
        for kind, f in figures.items():
            n = statistics.median(f["statements"])
            cpu_med, cpu_p95 = statistics.median(f["cpu"]), _p95(f["cpu"])
            wall_med, wall_p95 = statistics.median(f["wall"]), _p95(f["wall"])
            print(
                f"{kind:<12} {n:>10g} {cpu_med:>8.2f} ms {cpu_p95:>5.2f} ms "
                f"{wall_med:>9.2f} ms {wall_p95:>6.2f} ms"
            )
            pause = f" after {args.pause:g} ms" if args.pause else ""
            emit("scan_cost", f"{kind}: statements", n, "")
            emit("scan_cost", f"{kind}: cpu median{pause}", cpu_med, "ms")
            emit("scan_cost", f"{kind}: cpu p95{pause}", cpu_p95, "ms")
            emit("scan_cost", f"{kind}: wall median{pause}", wall_med, "ms")
            emit("scan_cost", f"{kind}: wall p95{pause}", wall_p95, "ms")
        statements.clear()
        pack_scan(db, actor, unit, codes, rules, order_id=order.id)
        print("\nthe statements of one unit scan:")
        for sql in statements:
            print("  " + " ".join(sql.split())[:150])
        db.dispose()


if __name__ == "__main__":
    main()
