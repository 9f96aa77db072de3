"""Book orders with the demo carrier over loopback, with faults: never twice, and how long.

    .venv/bin/python benchmarks/carrier_booking.py [--orders 200] [--fault-rate 0.1]

The demo carrier runs as its own process (``packbench demo-carrier``). Two rounds:

1. without faults: the client-side time per order (booking + label fetched), median and p95;
2. with ``--fault-rate`` of the booking requests failing — half of them a 500 or a dropped
   connection before anything is booked, half of them booked with the answer lost — every
   order booked through :func:`packbench.carriers.booking.book` (look up by reference before
   booking again). Then the carrier's books are counted: bookings per order must be 1.0.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from packbench.carriers import ParcelRequest, RetryPolicy, ShipmentRequest, book
from packbench.carriers.bring import BringCarrier
from packbench.carriers.demo_carrier import DEFAULT_KEY, DEFAULT_UID
from packbench.carriers.factory import bring_config

sys.path.insert(0, str(Path(__file__).parent))
from _figures import emit

SENDER = {
    "name": "Fjordgarn Nettbutikk AS",
    "address": "Lagerveien 7",
    "postcode": "2013",
    "city": "Skjetten",
    "phone": "+4712345678",
}
PRODUCTS = ("5800", "5600", "3584")


def order(i: int, prefix: str) -> ShipmentRequest:
    product = PRODUCTS[i % 3]
    parcels = (
        (ParcelRequest(1, 800, 300, 200, 40),)
        if product == "3584"
        else tuple(ParcelRequest(s, 700 * s, 350, 250, 120) for s in range(1, 1 + i % 2 + 1))
    )
    return ShipmentRequest(
        order_number=f"{prefix}{i:05d}",
        service="",
        product=product,
        recipient_name="Åse Ødegård",
        address1="Storgata 1",
        postcode=f"{3000 + i % 900:04d}",
        city="Drammen",
        country="NO",
        email="ase@example.no",
        phone="+4791234567",
        pickup_point_id=f"{3000 + i % 900:04d}01" if product == "5800" else "",
        parcels=parcels,
    )


def start(state: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "packbench.carriers.demo_carrier", "--port", "0",
         "--state", str(state), "--fault-seed", "7", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("demo carrier on "):
        proc.kill()
        raise SystemExit(f"the demo carrier did not start: {line!r}")
    return proc, line.split()[3]


def carrier(url: str) -> BringCarrier:
    config = bring_config(
        "Bring",
        {"api_url": url, "customer_number": "5", "client_url": "https://bench.example"},
        sender=SENDER,
    )
    return BringCarrier(config, DEFAULT_UID, DEFAULT_KEY)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=200)
    ap.add_argument("--fault-rate", type=float, default=0.1)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp())

    proc, url = start(work / "clean.json")
    try:
        c = carrier(url)
        book(c, order(99999, "W"), None)  # warm up: connection, imports
        times = []
        for i in range(args.orders):
            t0 = time.perf_counter()
            booked = book(c, order(i, "A"), None)
            c.fetch_label(booked.labels[0])
            times.append((time.perf_counter() - t0) * 1000)
        c.close()
    finally:
        proc.terminate()
        proc.wait(10)
    times.sort()
    median = statistics.median(times)
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    print(f"{args.orders} orders without faults (booking + label fetched), client side:")
    print(f"  median {median:.1f} ms, p95 {p95:.1f} ms, max {times[-1]:.1f} ms")

    half = args.fault_rate / 2
    proc, url = start(
        work / "faults.json",
        "--fail-rate", f"{half}", "--lose-answer-rate", f"{half / (1 - half)}",
    )  # fmt: skip
    try:
        c = carrier(url)
        policy = RetryPolicy(attempts=6, backoff_s=0.01, max_backoff_s=0.05,
                             trust_empty_lookup=True)  # fmt: skip
        recovered = undecided = failed = 0
        t0 = time.perf_counter()
        for i in range(args.orders):
            try:
                booked = book(c, order(i, "F"), None, policy=policy)
                recovered += booked.recovered
            except Exception as exc:  # counted, not hidden
                name = type(exc).__name__
                undecided += name == "BookingUndecided"
                failed += name != "BookingUndecided"
        elapsed = time.perf_counter() - t0
        books = httpx.get(f"{url}/_demo/bookings").json()["bookings"]
        c.close()
    finally:
        proc.terminate()
        proc.wait(10)
    refs = [b["reference"] for b in books]
    per_order = len(books) / len({*refs}) if refs else 0.0
    twice = len(refs) - len(set(refs))
    print(f"{args.orders} orders with {args.fault_rate:.0%} of requests failing "
          f"(half of those booked with the answer lost):")  # fmt: skip
    print(f"  bookings at the carrier {len(books)}, orders booked {len(set(refs))}, "
          f"booked twice {twice}, bookings per order {per_order:.3f}")  # fmt: skip
    print(f"  found by lookup after a lost answer {recovered}, undecided {undecided}, "
          f"failed {failed}, {elapsed / args.orders * 1000:.1f} ms per order")  # fmt: skip
    emit("carrier", "booking without faults: median", median, "ms")
    emit("carrier", "booking without faults: p95", p95, "ms")
    emit("carrier", f"bookings per order, {args.fault_rate:.0%} faults", per_order)
    emit("carrier", "orders booked twice", twice)
    return 0 if twice == 0 and failed == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
