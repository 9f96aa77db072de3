"""Benchmark of printing: rendering slips and labels, and a burst of jobs through a real CUPS.

Run, from the repository root (the CUPS part needs root and Debian's CUPS; see
scripts/cups-setup, which this script runs first when it can):

    .venv/bin/python benchmarks/printing.py
    .venv/bin/python benchmarks/printing.py --no-cups      # rendering only

Options: --documents N (default 500) slips and labels of each kind, --jobs J (default 100)
jobs to the PDF queue, --orders K (default 72) demo orders the documents are made from.

1. Packing slips (A4 PDF), one document per order, from the demo database's orders (cycled).
2. Shipping labels 102×152 mm, as PDF and as ZPL, one document per parcel: the demo
   orders' shipping addresses with generated tracking numbers and SSCCs.
   For each: time per document, mean / median / worst, and the size of a document.
3. J packing slips submitted one after another to PACKBENCH-PDF (cups-pdf: each is turned
   into a PDF file by Ghostscript), then followed until CUPS reports every one completed:
   the time to submit them all, and to all completed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from time import perf_counter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _figures import emit

from packbench.core.codes import make_s10, make_sscc
from packbench.data.engine import create_database
from packbench.data.migrate import upgrade
from packbench.operations.demo import load_demo
from packbench.operations.orders import order_detail
from packbench.operations.printing import TRACKING_URLS
from packbench.printing.documents import LabelInput, ShopInfo, render_label, render_slip
from packbench.printing.zpl import render_zpl

SHOP = ShopInfo("Fjordhandel AS", ("Strandgata 12", "5013 Bergen"), "987 654 321")
PDF_QUEUE = "PACKBENCH-PDF"
SETUP = Path(__file__).resolve().parent.parent / "scripts" / "cups-setup"


def timed(make: Callable[[int], bytes], n: int) -> tuple[list[float], int]:
    times, size = [], 0
    for i in range(n):
        start = perf_counter()
        data = make(i)
        times.append((perf_counter() - start) * 1000)
        size = max(size, len(data))
    return times, size


def row(name: str, times: list[float], size: int) -> str:
    return (
        f"{name:<22}{len(times):>6}{statistics.mean(times):>10.2f}"
        f"{statistics.median(times):>10.2f}{max(times):>10.2f}{size / 1024:>10.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--orders", type=int, default=72)
    parser.add_argument("--no-cups", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = create_database(Path(tmp) / "bench.db")
        upgrade(db)
        load_demo(db, seed=1, orders=args.orders, terminal="bench")
        with db.read() as session:
            from sqlmodel import select

            from packbench.data.models import Order

            ids = [o.id for o in session.exec(select(Order).order_by(Order.id)).all()]
        details = [d for d in (order_detail(db, i) for i in ids) if d is not None]
        db.dispose()
    print(f"{len(details)} demo orders; {args.documents} documents of each kind\n")

    def label(i: int) -> LabelInput:
        d = details[i % len(details)]
        tracking = make_s10("RR", 10_000_000 + i, "NO")
        return LabelInput(
            sender=SHOP,
            recipient=d.shipping,
            carrier="Posten",
            service=d.summary.shipping_method,
            weight_g=850 + 37 * i % 9000,
            parcel_no=1,
            parcel_count=1,
            tracking_number=tracking,
            sscc=make_sscc(3, "7071234", 1 + i),
            tracking_url=TRACKING_URLS["Posten"],
            order_number=d.summary.number,
        )

    labels = [label(i) for i in range(args.documents)]
    # warm-up: fonts registered, reportlab's caches filled (a bench renders all day)
    render_slip(details[0], SHOP)
    render_label(labels[0])
    render_zpl(labels[0])

    print(f"{'document':<22}{'n':>6}{'mean ms':>10}{'median':>10}{'worst':>10}{'max KiB':>10}")
    print("-" * 68)
    runs = [
        ("packing slip, PDF", lambda i: render_slip(details[i % len(details)], SHOP)),
        ("label 102x152, PDF", lambda i: render_label(labels[i])),
        ("label 100x190, PDF", lambda i: render_label(labels[i], "100x190")),
        ("label 102x152, ZPL", lambda i: render_zpl(labels[i]).encode("ascii")),
        ("label 100x190, ZPL", lambda i: render_zpl(labels[i], "100x190").encode("ascii")),
    ]
    for name, make in runs:
        times, size = timed(make, args.documents)
        print(row(name, times, size))
        emit("printing", f"render {name}: median", statistics.median(times), "ms")
        emit("printing", f"render {name}: worst", max(times), "ms")

    if args.no_cups:
        return 0
    return cups_burst(args.jobs, details)


def cups_burst(n: int, details: list) -> int:  # type: ignore[type-arg]
    from packbench.printing.cups import CupsPrinter, PrintError

    if os.geteuid() == 0 and SETUP.exists():
        subprocess.run(["bash", str(SETUP)], check=True, capture_output=True)
    printer = CupsPrinter()
    try:
        printer.queue(PDF_QUEUE)
    except PrintError as exc:
        print(f"\nno CUPS burst: {exc}")
        return 1
    slips = [render_slip(details[i % len(details)], SHOP) for i in range(n)]
    print(f"\n{n} packing slips submitted to {PDF_QUEUE}, then followed to completion")
    start = perf_counter()
    submit_ms = []
    jobs = []
    for i, data in enumerate(slips):
        t = perf_counter()
        jobs.append(printer.submit(PDF_QUEUE, data, title=f"bench slip {i}"))
        submit_ms.append((perf_counter() - t) * 1000)
    submitted = perf_counter() - start
    pending = set(jobs)
    finished_at: dict[int, float] = {}
    failed = []
    deadline = time.monotonic() + 600
    while pending and time.monotonic() < deadline:
        for job in list(pending):
            status = printer.job_status(job)
            if status is not None and status.final:
                pending.discard(job)
                finished_at[job] = perf_counter() - start
                if status.state != "completed":
                    failed.append(status.describe())
        if pending:
            time.sleep(0.05)
    total = perf_counter() - start
    print(
        f"submit: {submitted:.2f} s for {n} (per job mean {statistics.mean(submit_ms):.1f} ms, "
        f"worst {max(submit_ms):.1f} ms)"
    )
    done = sorted(finished_at.values())
    print(
        f"all completed after {total:.2f} s ({n / total:.1f} jobs/s); first completed at "
        f"{done[0]:.2f} s, median job at {statistics.median(done):.2f} s"
    )
    emit("printing", f"{n} jobs to {PDF_QUEUE}: all submitted", submitted, "s")
    emit("printing", f"{n} jobs to {PDF_QUEUE}: all completed", total, "s")
    emit("printing", f"{n} jobs to {PDF_QUEUE}: not completed", len(pending) + len(failed))
    if pending or failed:
        print(f"problems: {len(pending)} never finished, {len(failed)} not completed: {failed[:3]}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
