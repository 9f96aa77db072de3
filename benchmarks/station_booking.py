"""The ship station booking packed orders with the demo carrier, through the bench's database.

    .venv/bin/python benchmarks/station_booking.py [--orders 200] [--fault-rate 0.1]

Unlike ``carrier_booking.py`` this goes through ``operations.shipping.create_shipment`` on a
SQLite file: the request committed, the carrier called outside the transaction, the answer and
the label recorded. The demo carrier runs as its own process. Two rounds of ``--orders``
packed orders each (one or two parcels): without faults (time per order, client side: median
and p95), and with ``--fault-rate`` of the requests failing (half before anything is booked,
half booked with the answer lost). Then the carrier's books and the database are compared:
bookings per order must be 1.0, and every parcel must carry its booking's package number.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlmodel import select

sys.path.insert(0, str(Path(__file__).parent))
from _figures import emit
from carrier_booking import start

from packbench.carriers.demo_carrier import DEFAULT_KEY, DEFAULT_UID
from packbench.config import Settings
from packbench.core.workflow import Action
from packbench.data.engine import Database, create_database
from packbench.data.migrate import upgrade
from packbench.data.models import Order, Parcel, Product
from packbench.operations.common import Actor, Refused, change_status
from packbench.operations.intake import LineIn, OrderIn, receive_order
from packbench.operations.shipping import create_shipment

SHIPPER = Actor("ship", "bench-ship", None, "Benchmark", "packer")


def settings(url: str) -> Settings:
    return Settings(
        ship={
            "carriers": {
                "Bring": {
                    "kind": "bring",
                    "api_url": url,
                    "customer_number": "5",
                    "client_url": "https://bench.example",
                    "trust_empty_lookup": True,
                    "label_url_template": "/labels/consignment/{consignment}.pdf",
                },
            },
            "methods": {"flat_rate:3": {"carrier": "Bring", "product": "5600"}},
            "sender": {
                "name": "Fjordgarn",
                "address": "Lagerveien 7",
                "postcode": "2013",
                "city": "Skjetten",
                "phone": "+4712345678",
            },
        }
    )


def packed_orders(db: Database, n: int, first: int) -> list[int]:
    system = Actor("admin", "bench")
    ids = []
    with db.write() as s:
        if s.exec(select(Product).where(Product.sku == "SKU-1")).first() is None:
            s.add(Product(sku="SKU-1", gtin="7071234000015", gtin14="07071234000015",
                          name="Kopp", weight_g=350))  # fmt: skip
        for i in range(n):
            number = first + i
            order = OrderIn(
                shop_order_id=number, number=str(number), created_at=datetime.now(UTC),
                lines=(LineIn("SKU-1", "Kopp", 1),), ship_name="Åse Ødegård",
                ship_address1="Storgata 1", ship_postcode=f"{3000 + i % 900:04d}",
                ship_city="Drammen", shipping_method_id="flat_rate:3",
            )  # fmt: skip
            ids.append(receive_order(s, system, order).order_id)
        s.flush()
        for oid in ids:
            row = s.get(Order, oid)
            assert row is not None
            for action in (Action.PRINT_SLIP, Action.START_PICK, Action.FINISH_PICK,
                           Action.START_PACK, Action.FINISH_PACK):  # fmt: skip
                change_status(s, row, action, system)
            for seq in range(1, 2 + oid % 2):
                parcel = Parcel(
                    order_id=oid, seq=seq, box_code="BOX-S", weight_g=900,
                    length_mm=300, width_mm=200, height_mm=100, status="packed",
                )  # fmt: skip
                s.add(parcel)
    return ids


def round_(db: Database, url: str, ids: list[int]) -> tuple[list[float], int, int]:
    ship = settings(url).ship
    times, held, refused = [], 0, 0
    for oid in ids:
        t0 = time.perf_counter()
        try:
            create_shipment(db, SHIPPER, ship, oid)
        except Refused as exc:
            held += "on hold" in exc.message
            refused += "on hold" not in exc.message
            continue
        times.append((time.perf_counter() - t0) * 1000)
    return times, held, refused


def check(db: Database, url: str, ids: list[int]) -> tuple[float, int, int]:
    books = httpx.get(f"{url}/_demo/bookings").json()["bookings"]
    by_ref: dict[str, list[dict]] = {}
    for b in books:
        by_ref.setdefault(b["reference"], []).append(b)
    mismatched = 0
    with db.read() as s:
        for oid in ids:
            order = s.get(Order, oid)
            assert order is not None
            parcels = s.exec(
                select(Parcel).where(Parcel.order_id == oid, Parcel.status != "void")
            ).all()
            numbers = sorted(p.tracking_number or "" for p in parcels)
            mine = by_ref.get(order.number, [])
            if len(mine) == 1:
                mismatched += numbers != sorted(p["packageNumber"] for p in mine[0]["packages"])
    twice = sum(len(v) - 1 for v in by_ref.values())
    per_order = len(books) / len(by_ref) if by_ref else 0.0
    return per_order, twice, mismatched


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=200)
    ap.add_argument("--fault-rate", type=float, default=0.1)
    args = ap.parse_args()
    os.environ["PACKBENCH_BRING_UID"] = DEFAULT_UID
    os.environ["PACKBENCH_BRING_KEY"] = DEFAULT_KEY
    work = Path(tempfile.mkdtemp())
    db = create_database(str(work / "bench.db"))
    upgrade(db)

    proc, url = start(work / "clean.json")
    try:
        ids = packed_orders(db, args.orders, 10_000)
        create_shipment(db, SHIPPER, settings(url).ship, packed_orders(db, 1, 9_000)[0])  # warm
        times, held, refused = round_(db, url, ids)
        _, twice, mismatched = check(db, url, ids)
    finally:
        proc.terminate()
        proc.wait(10)
    times.sort()
    median = statistics.median(times)
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    print(f"{args.orders} orders shipped at the station without faults (booking recorded, label "
          "fetched and kept), client side:")  # fmt: skip
    print(f"  median {median:.1f} ms, p95 {p95:.1f} ms; held {held}, refused {refused}")

    half = args.fault_rate / 2
    # The same books (a carrier never gives a number twice), now misbehaving.
    proc, url = start(
        work / "clean.json", "--fail-rate", f"{half}", "--lose-answer-rate", f"{half / (1 - half)}"
    )
    try:
        ids = packed_orders(db, args.orders, 20_000)
        t0 = time.perf_counter()
        _, fheld, frefused = round_(db, url, ids)
        elapsed = time.perf_counter() - t0
        fper, ftwice, fmismatched = check(db, url, ids)
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"{args.orders} orders with {args.fault_rate:.0%} of requests failing (half of those "
          "booked with the answer lost):")  # fmt: skip
    print(f"  bookings per order {fper:.3f}, booked twice {ftwice}, parcels not matching their "
          f"booking {fmismatched}, held {fheld}, refused {frefused}, "
          f"{elapsed / args.orders * 1000:.1f} ms per order")  # fmt: skip
    emit("station", "ship with Bring, no faults: median", median, "ms")
    emit("station", "ship with Bring, no faults: p95", p95, "ms")
    emit("station", f"bookings per order, {args.fault_rate:.0%} faults", fper)
    emit("station", "orders booked twice", ftwice)
    ok = twice == 0 and ftwice == 0 and mismatched == 0 and fmismatched == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
