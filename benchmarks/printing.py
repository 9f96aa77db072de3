"""Benchmark of printing: rendering slips and labels, and a burst of jobs through a real CUPS.

Run, from the repository root (the CUPS part needs root and Debian's CUPS; see
scripts/cups-setup, which this script runs first when it can):

    .venv/bin/python benchmarks/printing.py
    .venv/bin/python benchmarks/printing.py --no-cups      # rendering only

Options: --documents N (default 500) slips and labels of each kind, --jobs J (default 100)
jobs to the PDF queue, --orders K (default 72) demo orders the documents are made from,
--baseline REF (e.g. fa30e75, the code before #20) to time the labels again with the
printing code of git commit REF in the same run, beside this code's, and to say whether
their ZPL is byte for byte the same.

1. Packing slips (A4 PDF), one document per order, from the demo database's orders (cycled).
2. Shipping labels 102×152 mm, as PDF and as ZPL, one document per parcel: the demo
   orders' shipping addresses with generated tracking numbers and SSCCs.
   For each: wall time per document, mean / median / worst, CPU time per document (the
   process's, over all N: steadier than the wall time on a shared machine), and the size
   of a document. The load average is printed before and after.
3. J packing slips submitted one after another to PACKBENCH-PDF (cups-pdf: each is turned
   into a PDF file by Ghostscript), then followed until CUPS reports every one completed:
   the time to submit them all, and to all completed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from time import perf_counter, process_time

# --baseline runs this script again with the old code's copy first on the path
sys.path.insert(
    0, os.environ.get("PACKBENCH_BENCH_CODE") or str(Path(__file__).resolve().parents[1])
)

from _figures import emit

from packbench.core.codes import make_s10, make_sscc
from packbench.data.engine import create_database
from packbench.data.migrate import upgrade
from packbench.operations.demo import load_demo
from packbench.operations.orders import order_detail
from packbench.operations.printing import TRACKING_URLS
from packbench.printing.documents import LabelInput, ShopInfo, render_label, render_slip
from packbench.printing.zpl import render_zpl

ROOT = Path(__file__).resolve().parents[1]
SHOP = ShopInfo("Fjordhandel AS", ("Strandgata 12", "5013 Bergen"), "987 654 321")
PDF_QUEUE = "PACKBENCH-PDF"
SETUP = Path(__file__).resolve().parent.parent / "scripts" / "cups-setup"


def timed(make: Callable[[int], bytes], n: int) -> tuple[list[float], float, int]:
    """Wall ms of each call, CPU ms per call over all of them, and the largest output."""
    times, size = [], 0
    cpu = process_time()
    for i in range(n):
        start = perf_counter()
        data = make(i)
        times.append((perf_counter() - start) * 1000)
        size = max(size, len(data))
    return times, (process_time() - cpu) * 1000 / n, size


HEADER = (
    f"{'document':<30}{'n':>6}{'mean ms':>10}{'median':>10}{'worst':>10}{'cpu ms':>10}"
    f"{'max KiB':>10}"
)


def row(name: str, times: list[float], cpu: float, size: int) -> str:
    return (
        f"{name:<30}{len(times):>6}{statistics.mean(times):>10.2f}"
        f"{statistics.median(times):>10.2f}{max(times):>10.2f}{cpu:>10.2f}{size / 1024:>10.1f}"
    )


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--orders", type=int, default=72)
    parser.add_argument("--no-cups", action="store_true")
    parser.add_argument("--baseline", metavar="REF", help="also time labels with git REF's code")
    parser.add_argument("--labels-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tag", default="", help=argparse.SUPPRESS)
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
    if not args.labels_only:
        print(f"{len(details)} demo orders; {args.documents} documents of each kind; {load()}\n")

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

    zpl = hashlib.sha256()
    for lab in labels:
        for dims in ("102x152", "100x190"):
            zpl.update(render_zpl(lab, dims).encode("ascii"))
    if args.labels_only:  # the baseline's run: its rows, then its ZPL's digest
        label_rows(labels, args.documents, args.tag)
        print(f"zpl {zpl.hexdigest()}")
        return 0

    print(HEADER)
    print("-" * len(HEADER))
    times, cpu, size = timed(lambda i: render_slip(details[i % len(details)], SHOP), args.documents)
    print(row("packing slip, PDF", times, cpu, size))
    emit("printing", "render packing slip, PDF: median", statistics.median(times), "ms")
    emit("printing", "render packing slip, PDF: worst", max(times), "ms")
    label_rows(labels, args.documents, "")
    same = baseline(args.baseline, args.documents, args.orders, zpl.hexdigest())
    if args.baseline and not same:
        return 1
    print(load())

    if args.no_cups:
        return 0
    return cups_burst(args.jobs, details)


def label_rows(labels: list[LabelInput], n: int, tag: str) -> None:
    runs = [
        ("label 102x152, PDF", lambda i: render_label(labels[i])),
        ("label 100x190, PDF", lambda i: render_label(labels[i], "100x190")),
        ("label 102x152, ZPL", lambda i: render_zpl(labels[i]).encode("ascii")),
        ("label 100x190, ZPL", lambda i: render_zpl(labels[i], "100x190").encode("ascii")),
    ]
    for name, make in runs:
        times, cpu, size = timed(make, n)
        name = f"{name} {tag}".rstrip()
        print(row(name, times, cpu, size), flush=True)
        emit("printing", f"render {name}: median", statistics.median(times), "ms")
        emit("printing", f"render {name}: worst", max(times), "ms")
        emit("printing", f"render {name}: CPU per label", cpu, "ms")


def baseline(ref: str | None, n: int, orders: int, zpl: str) -> bool:
    """The label rows again, with the printing code (all of packbench) of git commit ``ref``
    run by this interpreter, in a process of its own; then whether its ZPL is the same."""
    if not ref:
        return True
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", ref, "packbench"], capture_output=True
        )
        if archive.returncode != 0:
            print(f"no baseline: git archive {ref}: {archive.stderr.decode().strip()}")
            return False
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        run = subprocess.run(
            [sys.executable, __file__, "--labels-only", "--no-cups", "--documents", str(n),
             "--orders", str(orders), "--tag", f"({ref})"],
            env={**os.environ, "PACKBENCH_BENCH_CODE": tmp},
            capture_output=True,
            text=True,
            cwd=tmp,
        )  # fmt: skip
    if run.returncode != 0:
        print(f"the baseline {ref} failed:\n{run.stderr[-2000:]}")
        return False
    out = run.stdout.splitlines()
    print("\n".join(line for line in out if not line.startswith("zpl ")))
    theirs = next((line[4:] for line in out if line.startswith("zpl ")), "")
    same = theirs == zpl
    print(f"ZPL of all {n} labels at both sizes byte for byte the same as {ref}'s: "
          f"{'yes' if same else 'NO'}")  # fmt: skip
    emit("printing", f"label ZPL the same as {ref}'s", "yes" if same else "no")
    return same


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
