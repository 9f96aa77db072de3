"""The ship station's operations on a real database, printing through the real CUPS."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlmodel import col, func, select

from packbench.config import Settings, load_settings
from packbench.core.codes import is_valid_s10, is_valid_sscc
from packbench.core.workflow import Action
from packbench.data.engine import Database, create_database
from packbench.data.models import (
    Event,
    NumberSeries,
    Order,
    OrderLine,
    OutboxItem,
    Packer,
    Parcel,
    ParcelItem,
    Shipment,
)
from packbench.operations.common import Actor, Refused, change_status
from packbench.operations.intake import receive_order
from packbench.operations.ship_cancel import cancel_shipment
from packbench.operations.ship_complete import complete_transaction
from packbench.operations.ship_labels import print_labels
from packbench.operations.ship_views import ready_to_ship, ship_view
from packbench.operations.shipping import create_shipment, ship_scan
from packbench.printing.cups import CupsPrinter
from tests.operations.seed import SSCC, TRACKING, order_in, seed
from tests.printing.conftest import PDF_QUEUE, cups_ready  # noqa: F401
from tests.shop.test_sync import drain, engine, shop  # noqa: F401

SHIPPER = Actor("ship", "t-ship", 1, "Kari Nordmann", "packer")


def make_packed(
    db: Database,
    order_id: int,
    parcels: tuple[tuple[str, int], ...] = (("BOX-S", 900),),
    method: str | None = "flat_rate:3",
) -> None:
    """An order as the pack station leaves it: packed, with packed parcels holding its units."""
    system = Actor("pack", "seed")
    with db.write() as s:
        order = s.get(Order, order_id)
        assert order is not None
        order.shipping_method_id = method or order.shipping_method_id
        for action in (
            Action.PRINT_SLIP,
            Action.START_PICK,
            Action.FINISH_PICK,
            Action.START_PACK,
            Action.FINISH_PACK,
        ):
            change_status(s, order, action, system)
        lines = s.exec(select(OrderLine).where(OrderLine.order_id == order_id)).all()
        for line in lines:
            line.picked_qty = line.packed_qty = line.quantity
            s.add(line)
        rows = []
        for seq, (box, weight) in enumerate(parcels, start=1):
            parcel = Parcel(
                order_id=order_id, seq=seq, box_code=box, weight_g=weight, status="packed"
            )
            s.add(parcel)
            s.flush()
            rows.append(parcel)
        for line in lines:  # every unit in the first parcel: enough to follow them around
            s.add(ParcelItem(parcel_id=rows[0].id, order_line_id=line.id, quantity=line.quantity))


@pytest.fixture
def bench(db: Database) -> tuple[Database, dict[str, int]]:
    ids = seed(db)
    make_packed(db, ids["first"], (("BOX-S", 900), ("BOX-M", 1400)))
    make_packed(db, ids["second"])
    return db, ids


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(None, db=str(tmp_path / "x.db"))


def order_row(db: Database, order_id: int) -> Order:
    with db.read() as s:
        order = s.get(Order, order_id)
        assert order is not None
        return order


def parcels(db: Database, order_id: int, *, void: bool = False) -> list[Parcel]:
    with db.read() as s:
        rows = s.exec(select(Parcel).where(Parcel.order_id == order_id).order_by(col(Parcel.id)))
        return [p for p in rows.all() if (p.status == "void") == void]


def snapshot(db: Database) -> tuple[object, ...]:
    """Everything a ship operation could change, except the event log."""
    with db.read() as s:
        return (
            [(o.id, o.status, o.completed_at) for o in s.exec(select(Order)).all()],
            [
                (p.id, p.seq, p.status, p.sscc, p.tracking_number, p.label_printed_at)
                for p in s.exec(select(Parcel)).all()
            ],
            [(x.id, x.status) for x in s.exec(select(Shipment)).all()],
            [(n.name, n.next_value) for n in s.exec(select(NumberSeries)).all()],
            [x.idempotency_key for x in s.exec(select(OutboxItem)).all()],
        )


def refusals(db: Database) -> list[str]:
    with db.read() as s:
        return [e.message for e in s.exec(select(Event).where(Event.result == "refused")).all()]


# --------------------------------------------------------------------------- ship


def test_shipping_gives_every_parcel_an_sscc_and_a_tracking_number(bench, settings) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    assert [n for _, n in ready_to_ship(db)] == ["5001", "5002"]
    view = create_shipment(db, SHIPPER, settings.ship, ids["first"], code="ORD-5001")
    assert view.status == "shipped" and (view.carrier, view.service) == ("Posten", "Norgespakke")
    rows = parcels(db, ids["first"])
    assert [p.status for p in rows] == ["labelled", "labelled"]
    assert all(is_valid_sscc(p.sscc or "") and (p.sscc or "").startswith("37071234") for p in rows)
    assert all(is_valid_s10(p.tracking_number or "") for p in rows)
    # The configured range: RR 70000000.. NO, in order, the seed's SSCC serial 42 never reused.
    assert [p.tracking_number[2:10] for p in rows] == ["70000000", "70000001"]  # type: ignore[index]
    assert SSCC not in {p.sscc for p in rows}
    assert all(p.label_printed_at is None and p.carrier == "Posten" for p in rows)
    assert order_row(db, ids["first"]).status == "shipped"
    assert [n for _, n in ready_to_ship(db)] == ["5002"]
    # The next order continues the series.
    create_shipment(db, SHIPPER, settings.ship, ids["second"])
    assert parcels(db, ids["second"])[0].tracking_number[2:10] == "70000002"  # type: ignore[index]


def test_postnord_orders_get_postnords_range(bench, settings) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    with db.write() as s:
        s.get(Order, ids["second"]).shipping_method_id = "flat_rate:4"  # type: ignore[union-attr]
    view = create_shipment(db, SHIPPER, settings.ship, ids["second"])
    assert view.carrier == "PostNord"
    assert view.parcels[0].tracking_number == "CP800000002NO"


def test_what_cannot_ship_is_refused_and_changes_nothing(bench, settings) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    before = snapshot(db)
    with pytest.raises(Refused, match=r"“local_pickup:1”.* has no carrier"):
        with db.write() as s:
            s.get(Order, ids["second"]).shipping_method_id = "local_pickup:1"  # type: ignore[union-attr]
        create_shipment(db, SHIPPER, settings.ship, ids["second"])
    with db.write() as s:
        s.get(Order, ids["second"]).shipping_method_id = "flat_rate:3"  # type: ignore[union-attr]
    with pytest.raises(Refused, match="Order 5003 is new; the shipping station ships packed"):
        create_shipment(db, SHIPPER, settings.ship, ids["third"])
    with db.write() as s:
        s.get(Order, ids["first"]).upstream_flag = "cancelled in the shop"  # type: ignore[union-attr]
    with pytest.raises(Refused, match="changed or cancelled in the shop"):
        create_shipment(db, SHIPPER, settings.ship, ids["first"])
    with db.write() as s:
        s.get(Order, ids["first"]).upstream_flag = None  # type: ignore[union-attr]
    create_shipment(db, SHIPPER, settings.ship, ids["first"])
    with pytest.raises(Refused, match="is shipped; the shipping station ships packed"):
        create_shipment(db, SHIPPER, settings.ship, ids["first"])  # twice: one shipment only
    with db.read() as s:
        assert s.exec(select(func.count()).select_from(Shipment)).one() == 1
    assert len(refusals(db)) == 4
    assert snapshot(db)[0] != before[0]  # only the last, good one changed anything


def test_ship_scan_refuses_unknown_and_unready_codes(bench, settings) -> None:  # type: ignore[no-untyped-def]
    db, _ = bench
    rules = settings.code_rules()
    before = snapshot(db)
    printer = CupsPrinter()
    for code, words in [
        ("ORD-9999", "No order number 9999"),
        ("ORD-5003", "Order 5003 is new; the shipping station takes packed orders"),
        ("RR999999995NO", "No parcel has the label"),
        ("CMD-COMPLETE", "Scan a packing slip first"),
    ]:
        out = ship_scan(db, SHIPPER, code, rules, settings, printer, order_id=None)
        assert out is not None and not out.ok and words in out.message, (code, out)
    # A product code is not the ship station's: the common scan explains it.
    assert ship_scan(db, SHIPPER, "FJ-KJ-0001", rules, settings, printer, order_id=None) is None
    assert snapshot(db) == before
    assert len(refusals(db)) == 4
    # The seed's third order's parcel label opens it and says why it cannot ship.
    out = ship_scan(db, SHIPPER, TRACKING, rules, settings, printer, order_id=None)
    assert out is not None and not out.ok and "Order 5003 is new" in out.message


# --------------------------------------------------------------------------- labels (CUPS)


def test_scan_ships_prints_and_only_a_completed_print_marks_labels(
    bench,
    settings,
    cups_ready,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    out = ship_scan(
        db, SHIPPER, "ORD-5001", settings.code_rules(), settings, CupsPrinter(), order_id=None
    )
    assert out is not None and out.ok, out
    assert "Order 5001 shipped with Posten Norgespakke: 2 parcels" in out.message
    assert f"printed on {PDF_QUEUE}" in out.message
    assert out.view is not None and out.view.labels_printed
    assert all(p.label_printed_at for p in parcels(db, ids["first"]))


def test_a_failed_label_print_is_shown_and_can_go_elsewhere(bench, settings, cups_ready) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    db, ids = bench
    gone = settings.model_copy(
        update={"printers": settings.printers.model_copy(update={"label": "GONE"})}
    )
    out = ship_scan(db, SHIPPER, "ORD-5002", gone.code_rules(), gone, CupsPrinter(), order_id=None)
    assert out is not None and not out.ok
    assert "shipped with Posten" in out.message and "Not printed on GONE" in out.message
    assert "F8 prints again" in out.message
    assert order_row(db, ids["second"]).status == "shipped"
    assert parcels(db, ids["second"])[0].label_printed_at is None
    with pytest.raises(Refused, match="has not printed"):
        complete_transaction(db, SHIPPER, ids["second"])
    assert order_row(db, ids["second"]).completed_at is None
    # Sent to another printer: now it counts.
    result = print_labels(db, SHIPPER, gone, CupsPrinter(), ids["second"], queue=PDF_QUEUE)
    assert result.ok, result.message
    assert parcels(db, ids["second"])[0].label_printed_at is not None
    with pytest.raises(Refused, match="Every label of order 5002 has printed"):
        print_labels(db, SHIPPER, settings, CupsPrinter(), ids["second"])
    assert print_labels(db, SHIPPER, settings, CupsPrinter(), ids["second"], again=True).ok
    assert complete_transaction(db, SHIPPER, ids["second"]).ok


# --------------------------------------------------------------------------- complete


def mark_printed(db: Database, order_id: int) -> None:
    """For the tests that are not about printing: what a completed CUPS job writes."""
    from packbench.data.types import utcnow

    with db.write() as s:
        for p in s.exec(select(Parcel).where(Parcel.order_id == order_id)).all():
            if p.status == "labelled":
                p.label_printed_at = utcnow()
                s.add(p)


def outbox(db: Database, order_id: int) -> list[tuple[str, str]]:
    with db.read() as s:
        rows = s.exec(
            select(OutboxItem).where(OutboxItem.order_id == order_id).order_by(col(OutboxItem.id))
        ).all()
        return [(x.kind, x.idempotency_key) for x in rows]


def test_complete_queues_tracking_then_completion_once(bench, settings) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    oid = ids["first"]
    with pytest.raises(Refused, match="only a shipped order can be completed"):
        complete_transaction(db, SHIPPER, oid)  # still packed
    view = create_shipment(db, SHIPPER, settings.ship, oid)
    with pytest.raises(Refused, match=r"parcel 1 .*, 2 .* has not printed"):
        complete_transaction(db, SHIPPER, oid)
    mark_printed(db, oid)
    with db.write() as s:
        s.get(Order, oid).upstream_flag = "edited in the shop"  # type: ignore[union-attr]
    with pytest.raises(Refused, match="changed or cancelled in the shop"):
        complete_transaction(db, SHIPPER, oid)
    with db.write() as s:
        s.get(Order, oid).upstream_flag = None  # type: ignore[union-attr]
    assert outbox(db, oid) == []

    out = complete_transaction(db, SHIPPER, oid, code="CMD-COMPLETE")
    assert out.ok and "transaction completed" in out.message
    assert "will complete by itself" in out.message
    ref = f"{oid}-{view.shipment_id}"
    assert outbox(db, oid) == [
        ("meta", f"ship-meta-{ref}"),
        ("note", f"ship-note-{ref}"),
        ("complete", f"complete-{oid}"),
    ]
    with db.read() as s:
        meta = s.exec(select(OutboxItem).where(OutboxItem.kind == "meta")).one().payload
    numbers = [p.tracking_number for p in parcels(db, oid)]
    assert all(n in meta for n in numbers) and "Posten" in meta

    again = complete_transaction(db, SHIPPER, oid, code="CMD-COMPLETE")
    assert again.ok and again.kind == "info" and "already completed" in again.message
    assert len(outbox(db, oid)) == 3


def test_a_crash_inside_completion_leaves_nothing_half_done(bench, settings) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    oid = ids["second"]
    create_shipment(db, SHIPPER, settings.ship, oid)
    mark_printed(db, oid)
    import packbench.operations.ship_complete as ship_complete

    real = ship_complete.enqueue
    calls = 0

    def dies_on_the_completion(session, order_id, kind, payload, key):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if kind == "complete":
            raise OSError("power cut")
        return real(session, order_id, kind, payload, key)

    ship_complete.enqueue = dies_on_the_completion  # type: ignore[assignment]
    try:
        with pytest.raises(OSError):
            complete_transaction(db, SHIPPER, oid)
    finally:
        ship_complete.enqueue = real  # type: ignore[assignment]
    assert calls == 3
    assert order_row(db, oid).completed_at is None and outbox(db, oid) == []
    assert complete_transaction(db, SHIPPER, oid).ok
    assert [k for k, _ in outbox(db, oid)] == ["meta", "note", "complete"]


# --------------------------------------------------------------------------- cancel


def test_cancel_voids_numbers_and_the_order_is_packed_again(bench, settings) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    oid = ids["first"]
    with pytest.raises(Refused, match="no shipment to cancel"):
        cancel_shipment(db, SHIPPER, oid, "wrong box")
    first = create_shipment(db, SHIPPER, settings.ship, oid)
    old = {(p.sscc, p.tracking_number) for p in parcels(db, oid)}
    with pytest.raises(Refused, match="Say why"):
        cancel_shipment(db, SHIPPER, oid, "   ")
    out = cancel_shipment(db, SHIPPER, oid, "wrong address on the label", ship=settings.ship)
    assert out.ok and "void" in out.message
    assert order_row(db, oid).status == "packed"
    void = parcels(db, oid, void=True)
    assert {(p.sscc, p.tracking_number) for p in void} == old
    live = parcels(db, oid)
    assert [(p.seq, p.status, p.sscc, p.box_code) for p in live] == [
        (1, "packed", None, "BOX-S"),
        (2, "packed", None, "BOX-M"),
    ]
    with db.read() as s:
        items = s.exec(select(ParcelItem)).all()
        assert {i.parcel_id for i in items if i.parcel_id in {p.id for p in void}} == set()
        shipment = s.get(Shipment, first.shipment_id)
        assert shipment.status == "cancelled" and shipment.cancel_reason  # type: ignore[union-attr]
    # Shipped again: new numbers, never the void ones.
    again = create_shipment(db, SHIPPER, settings.ship, oid)
    new = {(p.sscc, p.tracking_number) for p in parcels(db, oid)}
    assert not {x for pair in new for x in pair} & {x for pair in old for x in pair}
    assert again.shipment_id != first.shipment_id and [p.seq for p in again.parcels] == [1, 2]
    assert ship_view(db, oid).carrier == "Posten"  # type: ignore[union-attr]


def test_a_handed_over_shipment_cannot_be_cancelled(bench, settings) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    oid = ids["second"]
    create_shipment(db, SHIPPER, settings.ship, oid)
    with db.write() as s:
        order = s.get(Order, oid)
        change_status(s, order, Action.HAND_OVER, SHIPPER)  # type: ignore[arg-type]
        for p in s.exec(select(Parcel).where(Parcel.order_id == oid)).all():
            p.status = "handed_over"
            s.add(p)
    before = snapshot(db)
    with pytest.raises(Refused, match="was handed over"):
        cancel_shipment(db, SHIPPER, oid, "too late")
    assert snapshot(db) == before


# --------------------------------------------------------------------------- crash


CRASH_SCRIPT = """
import os, signal, sys
from packbench.config import load_settings
from packbench.data.engine import create_database
from packbench.operations.common import Actor
from packbench.operations.shipping import create_shipment
db = create_database(sys.argv[1])
view = create_shipment(db, Actor("ship", "crash", 1, "K", "packer"), load_settings(None).ship,
                       int(sys.argv[2]))
print(",".join(p.tracking_number + "/" + p.sscc for p in view.parcels), flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no clean shutdown, no checkpoint
"""


@pytest.mark.sqlite_only
def test_numbers_continue_after_a_killed_process(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bench.db"
    db = create_database(path)
    from packbench.data.migrate import upgrade

    upgrade(db)
    ids = seed(db)
    make_packed(db, ids["first"], (("BOX-S", 900), ("BOX-M", 1400)))
    make_packed(db, ids["second"])
    db.dispose()
    proc = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, str(path), str(ids["first"])],
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    issued = proc.stdout.strip().split(",")
    assert len(issued) == 2

    reopened = create_database(path)
    try:
        assert order_row(reopened, ids["first"]).status == "shipped"  # it had committed
        view = create_shipment(reopened, SHIPPER, settings.ship, ids["second"])
        codes = {c for pair in issued for c in pair.split("/")}
        assert view.parcels[0].tracking_number not in codes
        assert view.parcels[0].sscc not in codes
        assert view.parcels[0].tracking_number[2:10] == "70000002"  # type: ignore[index]
    finally:
        reopened.dispose()


def test_a_refused_shipment_takes_no_number(bench, settings) -> None:  # type: ignore[no-untyped-def]
    """A shipment that fails half-way (here: a carrier range used up after the first parcel)
    rolls back its numbers with it — nothing was issued, so nothing is skipped or repeated."""
    db, ids = bench
    tight = settings.ship.model_copy(
        update={
            "carriers": {
                **settings.ship.carriers,
                "Posten": settings.ship.carriers["Posten"].model_copy(
                    update={"s10_first": 10, "s10_last": 11}
                ),
            }
        }
    )
    create_shipment(db, SHIPPER, tight, ids["second"])  # takes serial 10
    before = snapshot(db)
    with pytest.raises(Refused, match="used up"):
        create_shipment(db, SHIPPER, tight, ids["first"])  # needs 2, only 11 is left
    assert snapshot(db) == before
    assert any("used up" in m for m in refusals(db))


# --------------------------------------------------------------------------- the real demo shop


def test_completion_reaches_the_shop_once_through_faults_and_an_outage(db, settings, shop) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Shop down when the packer completes; a double press; writes that fail after being
    applied; then the shop recovers: every order completed, captured and booked exactly once."""
    with db.write() as s:
        s.add(Packer(name="Kari Nordmann", badge="BDG-1001"))  # SHIPPER
    sync = engine(db, shop)
    sync.run_once(products=True)
    with db.read() as s:
        chosen = s.exec(
            select(Order.id, Order.shop_order_id)
            .where(col(Order.shipping_method_id).in_(("flat_rate:3", "flat_rate:4")))
            .order_by(col(Order.id))
            .limit(4)
        ).all()
    assert len(chosen) == 4
    for oid, _ in chosen:
        make_packed(db, oid, method=None)
        create_shipment(db, SHIPPER, settings.ship, oid)
        mark_printed(db, oid)

    shop.faults(fail_rate=1.0, applied_share=0.0)  # every request fails: the shop is down
    for oid, _ in chosen:
        out = complete_transaction(db, SHIPPER, oid, code="CMD-COMPLETE")
        assert out.ok and "will complete by itself" in out.message
    for _ in range(3):
        sync.run_once()
    view = ship_view(db, chosen[0][0])
    assert view is not None and view.shop_state in ("queued", "retrying")
    assert "will complete by itself" in view.shop_answer()
    ours = {shop_id for _, shop_id in chosen}
    assert [c for c in shop.captures() if c["order_id"] in ours] == []
    again = complete_transaction(db, SHIPPER, chosen[0][0], code="CMD-COMPLETE")  # pressed twice
    assert again.kind == "info" and "already completed" in again.message

    shop.faults(fail_rate=0.4, applied_share=1.0)  # failures that still land: the nasty case
    for _ in range(10):
        sync.run_once()
    shop.faults()
    drain(db, sync)

    captures = shop.captures()
    ledger = shop.ledger()
    for oid, shop_id in chosen:
        record = shop.http.get(f"/wp-json/wc/v3/orders/{shop_id}").json()
        assert record["status"] == "completed"
        meta = {m["key"]: m["value"] for m in record["meta_data"]}
        assert meta["_packbench_tracking"] == ", ".join(numbers_of(db, oid))
        assert int(meta["_capture_count"]) == 1
        assert len([c for c in captures if c["order_id"] == shop_id]) == 1
        entries = [e for e in ledger if e["order_id"] == shop_id]
        assert len(entries) == 1
        accounts = {line["account"]: line for line in entries[0]["lines"]}
        assert set(accounts) == {"1570", "3000", "2700"}
        assert accounts["1570"]["debit_ore"] == (
            accounts["3000"]["credit_ore"] + accounts["2700"]["credit_ore"]
        )
        notes = [n["note"] for n in shop.state.notes(shop_id) if "Pakken er sendt" in n["note"]]
        assert len(notes) == 1
        view = ship_view(db, oid)
        assert view is not None and view.shop_state == "done"
        assert view.invoice_number == entries[0]["invoice_number"]
        assert view.shop_answer() == (
            f"Transaction completed: invoice {view.invoice_number}, payment captured."
        )


def numbers_of(db: Database, order_id: int) -> list[str]:
    return [p.tracking_number or "" for p in parcels(db, order_id)]


# --------------------------------------------------------------------------- the demo data


def test_the_demo_bench_ships_without_reusing_its_numbers(demo_db, settings) -> None:  # type: ignore[no-untyped-def]
    """The demo's shipped parcels got numbers from its own counters; the series skips them."""
    db = demo_db
    with db.read() as s:
        used = {
            code
            for p in s.exec(select(Parcel)).all()
            for code in (p.sscc, p.tracking_number)
            if code
        }
        packed = s.exec(
            select(Order.id)
            .where(Order.status == "packed", col(Order.shipping_method_id).like("flat_rate:%"))
            .order_by(col(Order.id))
        ).all()
        shipped = s.exec(
            select(Order.id)
            .where(Order.status == "shipped", col(Order.completed_at).is_(None))
            .order_by(col(Order.id))
        ).all()
        packer = s.exec(select(Packer).where(Packer.role == "packer")).first()
    assert used and packed and shipped and packer is not None
    actor = Actor("ship", "demo", packer.id, packer.name, packer.role)
    issued: list[str] = []
    for oid in packed[:3]:
        view = create_shipment(db, actor, settings.ship, oid)
        issued += [c for p in view.parcels for c in (p.sscc or "", p.tracking_number or "")]
    assert len(issued) == len(set(issued)) and not set(issued) & used
    assert all(is_valid_sscc(c) or is_valid_s10(c) for c in issued)

    # A demo order shipped before shipments were recorded completes from its parcels.
    oid = shipped[0]
    out = complete_transaction(db, actor, oid)
    assert out.ok, out.message
    kinds = outbox(db, oid)
    assert [k for k, _ in kinds] == ["meta", "note", "complete"]
    assert kinds[0][1] == f"ship-meta-{oid}-0"
    with db.read() as s:
        meta = s.exec(
            select(OutboxItem).where(OutboxItem.order_id == oid, OutboxItem.kind == "meta")
        ).one()
    assert all(n in meta.payload for n in numbers_of(db, oid))


# --------------------------------------------------------------------------- never twice


def _many_packed(db: Database, n: int) -> list[int]:
    seed(db)
    ids = []
    with db.write() as s:
        for k in range(n):
            ids.append(
                receive_order(
                    s, Actor("admin", "seed"), order_in(6000 + k, ("FJ-TX-0002", 1), minutes=k)
                ).order_id
            )
    for oid in ids:
        make_packed(db, oid)
    return ids


def all_numbers(db: Database) -> list[str]:
    with db.read() as s:
        return [
            code
            for p in s.exec(select(Parcel)).all()
            for code in (p.sscc, p.tracking_number)
            if code
        ]


def test_two_terminals_shipping_at_once_never_share_a_number(db, settings) -> None:  # type: ignore[no-untyped-def]
    ids = _many_packed(db, 16)
    other = create_database(db.target)  # a second terminal: its own engine, same database
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def ship(database: Database, mine: list[int], terminal: str) -> None:
        actor = Actor("ship", terminal, 1, "Kari Nordmann", "packer")
        try:
            barrier.wait()
            for oid in mine:
                create_shipment(database, actor, settings.ship, oid)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=ship, args=(db, ids[0::2], "t1")),
        threading.Thread(target=ship, args=(other, ids[1::2], "t2")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    other.dispose()
    assert not errors, errors
    codes = all_numbers(db)
    assert len(codes) == 2 * 16 + 2  # and the seed's own parcel
    assert len(set(codes)) == len(codes)
    with db.read() as s:
        series = {n.name: n.next_value for n in s.exec(select(NumberSeries)).all()}
    assert series["s10:RRNO"] == 70_000_016


@hsettings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.sampled_from(["ship", "cancel"]), st.integers(0, 2)), max_size=14))
def test_ship_and_cancel_in_any_order_never_reuse_a_number(  # type: ignore[no-untyped-def]
    tmp_path_factory, _empty_template, steps
) -> None:
    import shutil

    path = tmp_path_factory.mktemp("h") / "bench.db"
    shutil.copyfile(_empty_template, path)  # a migrated database, as the db fixture's
    db = create_database(path)
    ship = load_settings(None).ship
    try:
        ids = _many_packed(db, 3)
        issued: list[str] = []
        for action, k in steps:
            try:
                if action == "ship":
                    view = create_shipment(db, SHIPPER, ship, ids[k])
                    issued += [c for p in view.parcels for c in (p.sscc, p.tracking_number) if c]
                else:
                    cancel_shipment(db, SHIPPER, ids[k], "test", ship=ship)
            except Refused:
                pass  # shipping a shipped order, cancelling an unshipped one: refused, no change
            assert len(issued) == len(set(issued))
        assert sorted(all_numbers(db)) == sorted([SSCC, TRACKING, *issued])
        live = [p for p in parcels(db, ids[0])] + [p for p in parcels(db, ids[1])]
        assert all(p.seq >= 1 for p in live)
    finally:
        db.dispose()


def test_two_terminals_completing_at_once_complete_once(bench, settings) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    oid = ids["first"]
    create_shipment(db, SHIPPER, settings.ship, oid)
    mark_printed(db, oid)
    other = create_database(db.target)
    barrier = threading.Barrier(2)
    answers: list[str] = []

    def complete(database: Database, terminal: str) -> None:
        actor = Actor("ship", terminal, 1, "Kari Nordmann", "packer")
        barrier.wait()
        answers.append(complete_transaction(database, actor, oid).kind)

    threads = [
        threading.Thread(target=complete, args=(db, "t1")),
        threading.Thread(target=complete, args=(other, "t2")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    other.dispose()
    assert sorted(answers) == ["info", "ok"]
    assert [k for k, _ in outbox(db, oid)] == ["meta", "note", "complete"]


def test_the_label_names_the_service_the_carrier_booked(bench, settings) -> None:  # type: ignore[no-untyped-def]
    from packbench.operations.printing import label_data

    db, ids = bench
    create_shipment(db, SHIPPER, settings.ship, ids["first"], code="ORD-5001")
    rows = parcels(db, ids["first"])
    labels = label_data(db, [p.tracking_number or "" for p in rows])
    assert [(x.carrier, x.service) for x in labels] == [("Posten", "Norgespakke")] * 2
    assert all(x.tracking_url.endswith(x.tracking_number) for x in labels)


def collected_in_the_shop(
    db: Database, oid: int, method: str = "local_pickup:1", flag: str | None = None
) -> None:
    """Make a packed order one the customer collects in the shop (and flag it, if asked)."""
    with db.write() as s:
        order = s.get(Order, oid)
        order.shipping_method_id = method  # type: ignore[union-attr]
        order.upstream_flag = flag  # type: ignore[union-attr]
        s.add(order)


def test_cmd_next_ships_the_oldest_shippable_order(bench, settings, cups_ready) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    db, ids = bench
    collected_in_the_shop(db, ids["first"])  # the older one: no carrier, set aside
    rules = settings.code_rules()
    out = ship_scan(db, SHIPPER, "CMD-NEXT", rules, settings, CupsPrinter(), order_id=None)
    assert out is not None and out.ok, out
    assert out.order_id == ids["second"] and "Order 5002 shipped" in out.message
    again = ship_scan(db, SHIPPER, "CMD-NEXT", rules, settings, CupsPrinter(), order_id=None)
    assert again is not None and not again.ok
    assert again.message == "Nothing packed is waiting to ship."
    assert order_row(db, ids["first"]).status == "packed"


# --------------------------------------------------------------------------- pickup in the shop


def test_an_order_collected_in_the_shop_is_handed_over_and_completed_once(bench, settings) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    oid = ids["second"]
    collected_in_the_shop(db, oid)
    rules = settings.code_rules()
    # No printer is touched: a pickup has no label (a printer that fails proves it).
    printer = CupsPrinter(server="127.0.0.1:9")
    opened = ship_scan(db, SHIPPER, "ORD-5002", rules, settings, printer, order_id=None)
    assert opened is not None and opened.ok and opened.kind == "info"
    assert "collected in the shop" in opened.message and "F7" in opened.message
    assert order_row(db, oid).status == "packed" and outbox(db, oid) == []
    assert parcels(db, oid)[0].tracking_number is None

    done = ship_scan(db, SHIPPER, "CMD-COMPLETE", rules, settings, printer, order_id=oid)
    assert done is not None and done.ok and "collected by the customer" in done.message
    row = order_row(db, oid)
    assert row.status == "handed_over" and row.completed_at is not None
    assert outbox(db, oid) == [("note", f"collected-note-{oid}"), ("complete", f"complete-{oid}")]
    assert {p.status for p in parcels(db, oid)} == {"handed_over"}

    again = ship_scan(db, SHIPPER, "CMD-COMPLETE", rules, settings, printer, order_id=oid)
    assert again is not None and again.ok and again.kind == "info"
    assert "already completed" in again.message and len(outbox(db, oid)) == 2


def test_a_pickup_changed_in_the_shop_is_not_completed(bench, settings) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    oid = ids["second"]
    collected_in_the_shop(db, oid, "local_pickup", flag="cancelled in the shop")
    with pytest.raises(Refused, match="changed or cancelled in the shop"):
        complete_transaction(db, SHIPPER, oid, ship=settings.ship)
    assert order_row(db, oid).status == "packed" and outbox(db, oid) == []


def test_a_mapped_method_is_never_taken_for_a_pickup(settings) -> None:  # type: ignore[no-untyped-def]
    ship = settings.ship
    assert ship.is_pickup("local_pickup") and ship.is_pickup("local_pickup:7")
    assert not ship.is_pickup("flat_rate:3") and not ship.is_pickup(None)
    mapped = ship.model_copy(
        update={"methods": {**ship.methods, "local_pickup:2": ship.methods["flat_rate:3"]}}
    )
    assert not mapped.is_pickup("local_pickup:2") and mapped.is_pickup("local_pickup:1")


def test_complete_on_label_completes_with_the_slip_scan_once_the_labels_printed(
    bench, settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from packbench.printing.cups import make_printer
    from packbench.printing.folder import folder_queue

    db, ids = bench
    folder = tmp_path / "labels"
    folder.mkdir()
    printers = settings.printers.model_copy(update={"label": folder_queue(folder)})
    ship = settings.ship.model_copy(update={"complete_on_label": True})
    one_scan = settings.model_copy(update={"printers": printers, "ship": ship})
    rules = settings.code_rules()
    out = ship_scan(db, SHIPPER, "ORD-5001", rules, one_scan, make_printer(), order_id=None)
    assert out is not None and out.ok, out
    assert "Order 5001 shipped" in out.message and "transaction completed" in out.message
    assert order_row(db, ids["first"]).completed_at is not None
    with db.read() as s:
        kinds = [x.kind for x in s.exec(select(OutboxItem)).all()]
    assert kinds == ["meta", "note", "complete"]
    # A label that did not print leaves the completion to F7, as without the setting.
    gone = printers.model_copy(update={"label": folder_queue(tmp_path / "gone")})
    failing = one_scan.model_copy(update={"printers": gone})
    out = ship_scan(db, SHIPPER, "ORD-5002", rules, failing, make_printer(), order_id=None)
    assert out is not None and not out.ok and "cannot write into" in out.message
    assert order_row(db, ids["second"]).completed_at is None
