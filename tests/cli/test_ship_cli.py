"""``packbench ship``: packed orders booked as the ship station books them (here with Bring, the
demo carrier on loopback), labels saved, and the shipments as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from packbench.carriers.demo_carrier import DEFAULT_KEY, DEFAULT_UID, create_app, run_in_thread
from packbench.data.engine import create_database
from packbench.data.migrate import upgrade
from packbench.data.models import Order
from tests.cli.test_cli import run
from tests.operations.seed import seed
from tests.operations.test_shipping import make_packed
from tests.printing.test_documents import pages

CONFIG = """
[ship.carriers.Bring]
kind = "bring"
api_url = "{url}"
customer_number = "5"
client_url = "https://butikken.example.no"
[ship.carriers.Posten]
kind = "s10"
[ship.methods."flat_rate:3"]
carrier = "Bring"
product = "5600"
[ship.methods."flat_rate:4"]
carrier = "Posten"
service = "Norgespakke"
[ship.sender]
name = "Fjordgarn Nettbutikk AS"
address = "Lagerveien 7"
postcode = "2013"
city = "Skjetten"
phone = "+4712345678"
"""


def test_ship_books_saves_the_labels_and_prints_json(tmp_path: Path) -> None:
    path = tmp_path / "bench.db"
    db = create_database(str(path))
    upgrade(db)
    ids = seed(db)
    make_packed(db, ids["first"], (("BOX-S", 900), ("BOX-M", 1400)))
    make_packed(db, ids["second"], method="flat_rate:4")
    db.dispose()
    app = create_app(tmp_path / "carrier.json")
    url, stop = run_in_thread(app)
    try:
        config = tmp_path / "config.toml"
        config.write_text(CONFIG.format(url=url), encoding="utf-8")
        env = {"PACKBENCH_BRING_UID": DEFAULT_UID, "PACKBENCH_BRING_KEY": DEFAULT_KEY}
        out = tmp_path / "labels"
        result = run("ship", "--config", str(config), "ORD-5001", "5002", "9999", "--db",
                     str(path), "--out", str(out), "--json", env=env)  # fmt: skip
    finally:
        stop()
    assert result.returncode == 1, result.stderr  # order 9999 does not exist
    orders = json.loads(result.stdout)["orders"]
    bring, posten, missing = orders
    (booking,) = app.state.bookings()
    assert bring["carrier"] == "Bring" and bring["consignment"] == booking["consignmentNumber"]
    assert [(p["sscc"], p["tracking_number"], p["label_format"]) for p in bring["parcels"]] == [
        (p["packageNumber"], p["packageNumber"], "pdf") for p in booking["packages"]
    ]
    assert posten["carrier"] == "Posten" and posten["consignment"] is None
    assert posten["parcels"][0]["tracking_number"].endswith("NO")
    assert missing == {"number": "9999", "error": "There is no order 9999."}
    decoded = [
        c.text
        for page in pages((out / "5001-1.pdf").read_bytes())
        for c in page.codes()
        if c.symbology_identifier == "]C1"
    ]
    assert decoded == [f"(00){p['sscc']}" for p in bring["parcels"]]
    assert (out / "5002-1.pdf").read_bytes().startswith(b"%PDF")
    db = create_database(str(path))
    with db.read() as s:
        statuses = {o.number: o.status for o in s.exec(select(Order)).all()}
    assert statuses["5001"] == statuses["5002"] == "shipped"
    # packbench orders --json: the method id, and each parcel's consignment.
    listed = run("orders", "--db", str(path), "--json")
    assert listed.returncode == 0, listed.stderr
    by_number = {o["number"]: o for o in json.loads(listed.stdout)}
    assert by_number["5001"]["shipping_method_id"] == "flat_rate:3"
    assert by_number["5001"]["pickup_point"] is None  # 5600: home delivery
    consignments = [p["consignment"] for p in by_number["5001"]["parcels"]]
    assert consignments == [booking["consignmentNumber"]] * 2
    assert [p["consignment"] for p in by_number["5002"]["parcels"]] == [None]


@pytest.mark.parametrize("command", ["ship", "sync"])
def test_ship_and_sync_first_settle_a_booking_a_crash_left_unanswered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """A bench killed after Bring booked order 5001 but before the answer was recorded, ten
    minutes ago: ``packbench ship 5002`` (or ``sync``, here without a shop) looks 5001 up first
    and records it (no new booking)."""
    from datetime import timedelta

    from packbench.config import load_settings
    from packbench.data.models import Event, Shipment
    from packbench.data.types import utcnow
    from tests.operations.test_booking_recovery import crash_after_sending

    path = tmp_path / "bench.db"
    db = create_database(str(path))
    upgrade(db)
    ids = seed(db)
    make_packed(db, ids["first"])
    make_packed(db, ids["second"], method="flat_rate:4")
    app = create_app(tmp_path / "carrier.json")
    url, stop = run_in_thread(app)
    try:
        config = tmp_path / "config.toml"
        config.write_text(CONFIG.format(url=url), encoding="utf-8")
        env = {"PACKBENCH_BRING_UID": DEFAULT_UID, "PACKBENCH_BRING_KEY": DEFAULT_KEY}
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        app.faults.update({"next": ["lose"]})
        crash_after_sending(db, load_settings(config, db=str(path)).ship, ids["first"])
        with db.write() as s:
            for e in s.exec(select(Event).where(Event.order_id == ids["first"])).all():
                e.at = utcnow() - timedelta(minutes=11)
                s.add(e)
        if command == "ship":
            result = run("ship", "--config", str(config), "5002", "--db", str(path),
                         "--out", str(tmp_path / "labels"), "--json", env=env)  # fmt: skip
        else:
            result = run("sync", "--config", str(config), "--db", str(path), "--once", env=env)
    finally:
        stop()
    if command == "ship":
        assert result.returncode == 0, result.stderr
    else:  # no shop configured: said after the bookings were settled
        assert result.returncode == 2 and "shop" in result.stderr.splitlines()[-1].lower()
    assert "Bookings left by a crash: 1 found at the carrier" in result.stderr
    (booking,) = app.state.bookings()
    with db.read() as s:
        order = s.get(Order, ids["first"])
        shipment = s.exec(select(Shipment).where(Shipment.order_id == ids["first"])).one()
    assert order is not None and order.status == "shipped"
    assert shipment.consignment_number == booking["consignmentNumber"]
    db.dispose()
