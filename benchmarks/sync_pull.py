"""Pull N orders from the demo shop into an empty database: time, peak memory, no-change sync.

Run: .venv/bin/python benchmarks/sync_pull.py [--orders 10000] [--also 2000] [--concurrent-pages 4]

The pull is one ``sync --once`` of a new bench: the orders, the products they name (by id,
before their lines), then the catalogue. Next to each wall-clock figure the CPU seconds of the
bench process (all its threads) and of the demo shop's process are printed: on a machine shared
with other work the wall clock measures the neighbours too, the CPU time does not.

The demo shop runs as its own process (a real HTTP server on loopback), so the memory figure is
the bench's alone: peak Python allocations (tracemalloc, in a second pull of its own: the timed
pull runs without it, which would slow it down) and the process's peak RSS. Running a smaller
pull too (--also) shows whether memory grows with the number of orders (it should not: one
page of 100 is held at a time).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from _figures import emit

from packbench.config import BUNDLED_LAYOUT, load_warehouse_layout
from packbench.data.engine import create_database
from packbench.data.migrate import upgrade
from packbench.shop.sync import SyncEngine
from packbench.shop.woocommerce import WooCommerceAdapter

KEY, SECRET = "ck_bench", "cs_bench"


def start_shop(state: Path, orders: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "packbench.shop.demo_shop",
            "--port",
            "0",
            "--state",
            str(state),
            "--orders",
            str(orders),
            "--key",
            KEY,
            "--secret",
            SECRET,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("demo shop on "):
        raise SystemExit(f"the demo shop did not start: {line!r}")
    return proc, line.split()[3]


def shop_cpu(proc: subprocess.Popen[str]) -> float:
    """CPU seconds the demo shop's process has used (Linux; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pull(orders: int, workdir: Path, concurrent_pages: int) -> dict[str, float]:
    t0 = time.perf_counter()
    proc, url = start_shop(workdir / f"shop-{orders}.json", orders)
    shop_start = time.perf_counter() - t0
    layout = load_warehouse_layout(BUNDLED_LAYOUT)

    def fresh(name: str):  # type: ignore[no-untyped-def]
        db = create_database(workdir / f"bench-{orders}-{name}.db")
        upgrade(db)
        adapter = WooCommerceAdapter(url, KEY, SECRET, timeout=60, concurrency=concurrent_pages)
        return db, adapter, SyncEngine(db, adapter, holder=name, layout=layout)

    try:
        # Timed without tracemalloc (it slows Python down about 2.7 times) ...
        db, adapter, engine = fresh("timed")
        c1, s1, t1 = time.process_time(), shop_cpu(proc), time.perf_counter()
        report = engine.run_once()
        full = time.perf_counter() - t1
        full_cpu, full_shop = time.process_time() - c1, shop_cpu(proc) - s1
        assert report.error is None, report.error
        c2, s2, t2 = time.process_time(), shop_cpu(proc), time.perf_counter()
        again = engine.run_once()
        incremental = time.perf_counter() - t2
        again_cpu, again_shop = time.process_time() - c2, shop_cpu(proc) - s2
        assert again.created == 0 and again.changed == 0
        adapter.close()
        db.dispose()
        # ... and the peak allocations in a second pull of its own.
        db, adapter, engine = fresh("traced")
        tracemalloc.start()
        engine.run_once()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        adapter.close()
        db.dispose()
        return {
            "orders": orders,
            "pulled": report.created,
            "shop_start_s": shop_start,
            "full_pull_s": full,
            "full_cpu_s": full_cpu,
            "full_shop_cpu_s": full_shop,
            "incremental_cpu_s": again_cpu,
            "incremental_shop_cpu_s": again_shop,
            "orders_per_s": report.created / full,
            "peak_alloc_mb": peak / 2**20,
            "incremental_s": incremental,
            "incremental_reread": again.pulled,
        }
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--also", type=int, default=2_000, help="a smaller pull to compare")
    parser.add_argument("--concurrent-pages", type=int, default=4, help="order pages at once")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            pull(n, Path(tmp), args.concurrent_pages)
            for n in sorted({args.also, args.orders})
            if n > 0
        ]
    print(
        f"{'orders':>7} {'pulled':>7} {'pull s':>7} {'(cpu':>6} {'shop)':>6} {'orders/s':>9} "
        f"{'peak MB':>8} {'no-change s':>12} {'(cpu':>6} {'shop)':>6} {'re-read':>8}"
    )
    for r in rows:
        print(
            f"{r['orders']:>7} {r['pulled']:>7} {r['full_pull_s']:>7.2f} "
            f"{r['full_cpu_s']:>6.2f} {r['full_shop_cpu_s']:>6.2f} "
            f"{r['orders_per_s']:>9.0f} {r['peak_alloc_mb']:>8.1f} "
            f"{r['incremental_s']:>12.3f} {r['incremental_cpu_s']:>6.3f} "
            f"{r['incremental_shop_cpu_s']:>6.3f} {r['incremental_reread']:>8}"
        )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at the end: {load:.1f} on {os.cpu_count()} CPUs")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the bench process over all runs: {rss:.0f} MB")
    for r in rows:
        shop = f"{r['orders']}-order shop"
        emit("sync", f"{shop}: pulled", r["pulled"], "orders")
        emit("sync", f"{shop}: full pull", r["full_pull_s"], "s")
        emit("sync", f"{shop}: full pull, bench CPU", r["full_cpu_s"], "s")
        emit("sync", f"{shop}: pull rate", r["orders_per_s"], "orders/s")
        emit("sync", f"{shop}: peak allocations", r["peak_alloc_mb"], "MB")
        emit("sync", f"{shop}: sync with nothing changed", r["incremental_s"], "s")
        emit("sync", f"{shop}: sync with nothing changed, bench CPU", r["incremental_cpu_s"], "s")
    emit("sync", "peak RSS of the bench process", rss, "MB")


if __name__ == "__main__":
    main()
