"""What the carrier tests share: the shop's sender, two packed orders ready to book, the demo
carrier on loopback, reading rows back, and a bench process killed mid-call.

The tests of Bring (test_carrier_booking), the crash-left bookings (test_booking_recovery),
Cargonizer's transfer (test_carrier_transfer) and Shipmondo (test_shipmondo_booking) each set
up the same bench; this module is that set-up, once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from packbench.data.engine import Database
from packbench.data.models import Order, Parcel
from packbench.operations.common import Actor
from tests.operations.seed import seed
from tests.operations.test_shipping import make_packed

from packbench.carriers.demo_carrier import (  # isort: skip
    DemoCarrierApp, create_app, run_in_thread,
)  # fmt: skip

SHIPPER = Actor("ship", "t-ship", 1, "Kari Nordmann", "packer")
SENDER = {
    "name": "Fjordgarn Nettbutikk AS",
    "address": "Lagerveien 7",
    "postcode": "2013",
    "city": "Skjetten",
    "phone": "+4712345678",
}
ROOT = Path(__file__).resolve().parents[2]


def packed_pair(db: Database, *, phone: bool = True) -> dict[str, int]:
    """Orders 5001 (two parcels, BOX-S and BOX-M) and 5002 packed, with the e-mail (and phone)
    carriers notify and parcel dimensions; the seed's ids."""
    ids = seed(db)
    make_packed(db, ids["first"], (("BOX-S", 900), ("BOX-M", 1400)))
    make_packed(db, ids["second"])
    with db.write() as s:
        for oid in (ids["first"], ids["second"]):
            order = s.get(Order, oid)
            assert order is not None
            order.customer_email = "bjorn@example.no"
            if phone:
                order.customer_phone = "+4791234567"
            s.add(order)
        for p in s.exec(select(Parcel)).all():
            p.length_mm, p.width_mm, p.height_mm = 300, 200, 100
            s.add(p)
    return ids


@contextmanager
def demo_carrier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **credentials: str
) -> Iterator[tuple[str, DemoCarrierApp]]:
    """The demo carrier on a loopback port, its state in ``tmp_path``; ``credentials`` are set
    as environment variables (``PACKBENCH_BRING_UID=…``) for the test's duration."""
    for name, value in credentials.items():
        monkeypatch.setenv(name, value)
    app = create_app(tmp_path / "carrier.json")
    url, stop = run_in_thread(app)
    try:
        yield url, app
    finally:
        stop()


def rows(db: Database, model: Any, **where: Any) -> list[Any]:
    with db.read() as s:
        q = select(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return list(s.exec(q).all())


def order_of(db: Database, oid: int) -> Order:
    with db.read() as s:
        order = s.get(Order, oid)
        assert order is not None
        return order


def live_parcels(db: Database, oid: int) -> list[Parcel]:
    return sorted(
        (p for p in rows(db, Parcel, order_id=oid) if p.status != "void"), key=lambda p: p.seq
    )


def bench_file(tmp_path: Path) -> tuple[Database, Path]:
    """A bench database in a real file (a second process opens it), migrated."""
    from packbench.data.engine import create_database
    from packbench.data.migrate import upgrade

    path = tmp_path / "bench.db"
    db = create_database(str(path))
    upgrade(db)
    return db, path


def kill_9_when(script: str, args: list[str], ready: Callable[[], bool]) -> None:
    """Run ``script`` (Python source) in a child process with ``args``, wait (at most 30 s)
    until ``ready()``, then kill it with SIGKILL: the process dies mid-call, as in a crash."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not ready():
            if time.monotonic() > deadline or child.poll() is not None:
                out, err = child.communicate(timeout=10) if child.poll() is not None else ("", "")
                raise AssertionError(f"never ready to be killed (exit {child.poll()}): {err}{out}")
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
    assert child.returncode == -signal.SIGKILL
