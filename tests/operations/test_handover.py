"""The post station's operations: the cage per carrier, refusals, closing with a manifest."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from packbench.config import Settings, load_settings
from packbench.data.engine import Database
from packbench.data.models import Event, Handover, HandoverParcel, Order, Parcel, PrintJob
from packbench.operations.common import Actor, Refused
from packbench.operations.handover import (
    close_handover,
    last_closed_handover,
    local_day,
    post_scan,
    print_manifest,
    recent_handovers,
    waiting_by_carrier,
)
from packbench.operations.intake import receive_order
from packbench.operations.ship_cancel import cancel_shipment
from packbench.operations.shipping import create_shipment
from packbench.printing.cups import CupsPrinter
from tests.operations.seed import order_in, seed
from tests.operations.test_shipping import make_packed, mark_printed
from tests.printing.conftest import PDF_QUEUE, cups_ready, find_pdf  # noqa: F401

POSTER = Actor("post", "t-post", 1, "Kari Nordmann", "packer")
DAY = "2026-11-27"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(None, db=str(tmp_path / "x.db"))


@pytest.fixture
def bench(db: Database, settings: Settings) -> tuple[Database, dict[str, int]]:
    """5001: two Posten parcels; 5002: one Posten parcel; 5004: one PostNord parcel; all
    shipped with printed labels. (5003 has the seed's own labelled parcel, carrier Posten.)"""
    ids = seed(db)
    with db.write() as s:
        ids["fourth"] = receive_order(
            s, Actor("admin", "seed"), order_in(5004, ("FJ-TX-0002", 1), minutes=15)
        ).order_id
    make_packed(db, ids["first"], (("BOX-S", 900), ("BOX-M", 1400)))
    make_packed(db, ids["second"])
    make_packed(db, ids["fourth"], method="flat_rate:4")
    for key in ("first", "second", "fourth"):
        create_shipment(db, POSTER, settings.ship, ids[key])
        mark_printed(db, ids[key])
    return db, ids


def numbers(db: Database, order_id: int) -> list[str]:
    with db.read() as s:
        return [
            p.tracking_number or ""
            for p in s.exec(select(Parcel).where(Parcel.order_id == order_id)).all()
            if p.status != "void"
        ]


def scan(db: Database, settings: Settings, code: str, carrier: str | None, **kw):  # type: ignore[no-untyped-def]
    out = post_scan(
        db, POSTER, code, settings.code_rules(), carrier=carrier, day=DAY, settings=settings, **kw
    )
    assert out is not None
    return out


def cage(db: Database) -> set[int]:
    with db.read() as s:
        return {hp.parcel_id for hp in s.exec(select(HandoverParcel)).all()}


def test_waiting_parcels_are_grouped_by_carrier_oldest_first(bench) -> None:  # type: ignore[no-untyped-def]
    db, _ = bench
    groups = waiting_by_carrier(db)
    assert [g.carrier for g in groups] == ["Posten", "PostNord"]  # the seed's parcel is oldest
    posten = groups[0]
    assert [r.order_number for r in posten.parcels] == ["5003", "5001", "5001", "5002"]
    assert all(a.since <= b.since for a, b in zip(posten.parcels, posten.parcels[1:], strict=False))
    assert posten.handover_id is None and posten.in_cage == 0
    assert [r.order_number for r in groups[1].parcels] == ["5004"]


def test_scans_fill_the_cage_and_refusals_change_nothing(bench, settings) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    first = numbers(db, ids["first"])
    with db.read() as s:
        sscc = s.exec(select(Parcel).where(Parcel.tracking_number == first[1])).one().sscc
    out = scan(db, settings, first[0], None)
    assert out.ok and out.carrier == "Posten" and "→ Posten cage (1 in the cage)" in out.message
    out = scan(db, settings, f"(00){sscc}", "Posten")  # the SSCC, as printed under its barcode
    assert out.ok and "(2 in the cage)" in out.message
    before = cage(db)

    refused = {
        numbers(db, ids["fourth"])[0]: "is for PostNord, not Posten",
        "RR999999995NO": "No parcel has the label",
        "ORD-5001": "is a packing slip",
        "CMD-COMPLETE": None,  # not refused: checked below
    }
    for code, words in refused.items():
        if words is None:
            continue
        out = scan(db, settings, code, "Posten")
        assert not out.ok and words in out.message, (code, out.message)
        assert out.carrier == "Posten"  # still handling Posten
    again = scan(db, settings, first[0], "Posten")
    assert again.ok and again.kind == "info" and "in the Posten cage already" in again.message
    assert cage(db) == before
    with db.read() as s:
        refusals = s.exec(select(Event).where(Event.result == "refused")).all()
    assert len(refusals) == 3
    # The cage is in the database: another terminal (or a restart) sees the same.
    posten = waiting_by_carrier(db)[0]
    assert posten.in_cage == 2 and posten.handover_id is not None
    # A product code is not the post station's: the common scan explains it.
    assert post_scan(db, POSTER, "FJ-KJ-0001", settings.code_rules(), carrier=None, day=DAY) is None


def test_unprinted_and_void_labels_are_refused(bench, settings) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    old = numbers(db, ids["second"])[0]
    scan(db, settings, old, None)  # in the cage …
    cancel_shipment(db, POSTER, ids["second"], "label smudged")  # … and then cancelled
    assert cage(db) == set()  # out of the cage again
    out = scan(db, settings, old, None)
    assert not out.ok and "void" in out.message and "label smudged" in out.message
    create_shipment(db, POSTER, settings.ship, ids["second"])  # new label, not printed yet
    fresh = numbers(db, ids["second"])[0]
    out = scan(db, settings, fresh, None)
    assert not out.ok and "never printed" in out.message


def test_close_lists_the_missing_parcels_and_needs_a_confirmation(bench, settings) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    first, second = numbers(db, ids["first"]), numbers(db, ids["second"])
    scan(db, settings, first[0], None)
    scan(db, settings, second[0], "Posten")
    out = scan(db, settings, "CMD-COMPLETE", "Posten")
    assert not out.ok and out.confirm_close == "Posten"
    assert out.closed is not None and not out.closed.closed
    missing = {r.tracking_number for r in out.closed.missing}
    assert first[1] in missing and len(missing) == 2  # 5001's 2nd parcel, the seed's 5003
    assert "2 Posten parcels were shipped but not scanned" in out.message
    with db.read() as s:
        assert all(p.status == "labelled" for p in s.exec(select(Parcel)).all())

    with pytest.raises(Refused, match="No parcels are in the PostNord cage"):
        close_handover(db, POSTER, "PostNord", day=DAY)

    done = scan(db, settings, "CMD-CONFIRM", None, confirming="Posten")
    assert done.closed is not None and done.closed.closed
    assert "2 parcels handed over to Posten. 2 stay for the next pickup." in done.message
    with db.read() as s:
        by_number = {p.tracking_number: p for p in s.exec(select(Parcel)).all()}
        assert by_number[first[0]].status == "handed_over"
        assert by_number[first[0]].handed_over_at == done.closed.at
        assert by_number[first[1]].status == "labelled"
        assert s.get(Order, ids["second"]).status == "handed_over"  # type: ignore[union-attr]
        assert s.get(Order, ids["first"]).status == "shipped"  # type: ignore[union-attr]
        handover = s.exec(select(Handover)).one()
        assert handover.status == "closed" and handover.day == DAY
    # Already handed over: refused at the next scan.
    out = scan(db, settings, first[0], None)
    assert not out.ok and "was handed over to Posten already" in out.message
    # Tomorrow's pickup: a new cage; the rest of 5001 completes its order.
    assert scan(db, settings, first[1], None).ok
    later = close_handover(db, POSTER, "Posten", day="2026-11-28", confirm=True)
    assert later.closed and len(later.handed_over) == 1
    with db.read() as s:
        assert s.get(Order, ids["first"]).status == "handed_over"  # type: ignore[union-attr]
    assert last_closed_handover(db, "Posten") == later.handover_id
    assert [(h.status, h.parcels, h.day) for h in recent_handovers(db)] == [
        ("closed", 1, "2026-11-28"),
        ("closed", 2, DAY),
    ]


def test_close_without_a_carrier_is_refused(bench, settings) -> None:  # type: ignore[no-untyped-def]
    db, _ = bench
    out = scan(db, settings, "CMD-COMPLETE", None)
    assert not out.ok and "Scan a parcel first" in out.message
    out = scan(db, settings, "CMD-CONFIRM", None)
    assert not out.ok and "Nothing is waiting for a confirmation" in out.message


def test_closing_prints_the_manifest(bench, settings, cups_ready) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    db, ids = bench
    code = numbers(db, ids["fourth"])[0]
    scan(db, settings, code, None)
    out = post_scan(
        db,
        POSTER,
        "CMD-COMPLETE",
        settings.code_rules(),
        carrier="PostNord",
        day=DAY,
        settings=settings,
        printer=CupsPrinter(),
    )
    assert out is not None and out.ok, out
    assert "1 parcel handed over to PostNord." in out.message and PDF_QUEUE in out.message
    assert out.closed is not None and out.closed.printed is not None
    pdf = find_pdf(out.closed.printed.cups_job_id or 0)
    assert pdf.stat().st_size > 0
    with db.read() as s:
        job = s.get(PrintJob, out.closed.printed.print_job_id)
        assert job is not None and job.kind == "manifest" and job.status == "completed"
    # Printed again on request (a lost manifest), and refused for a handover still open.
    assert print_manifest(db, POSTER, settings, CupsPrinter(), out.closed.handover_id or 0).ok
    with pytest.raises(Refused, match="not closed"):
        scan(db, settings, numbers(db, ids["first"])[0], None)
        with db.read() as s:
            open_id = s.exec(select(Handover.id).where(Handover.status == "open")).one()
        print_manifest(db, POSTER, settings, CupsPrinter(), open_id)


def test_local_day_uses_the_bench_time_zone() -> None:
    from datetime import UTC, datetime

    late = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
    assert local_day("Europe/Oslo", late) == "2026-11-28"
    assert local_day("UTC", late) == "2026-11-27"


@pytest.mark.sqlite_only
def test_the_handovers_command(bench, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``packbench handovers``: what waits per carrier, the handovers, a manifest again."""
    import json

    from tests.cli.test_cli import run

    db, ids = bench
    code = numbers(db, ids["fourth"])[0]
    scan(db, settings, code, None)
    closed = close_handover(db, POSTER, "PostNord", day=DAY)
    target = db.target.removeprefix("sqlite:///")
    out = run("handovers", "--db", target, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert sorted(data["waiting"]) == ["Posten"] and len(data["waiting"]["Posten"]) == 4
    assert data["handovers"][0]["carrier"] == "PostNord"
    assert data["handovers"][0]["parcels"] == 1 and data["handovers"][0]["status"] == "closed"
    pdf = tmp_path / "manifest.pdf"
    out = run("handovers", "--db", target, "--manifest", str(closed.handover_id), "--out", str(pdf))
    assert out.returncode == 0, out.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    out = run("handovers", "--db", target, "--manifest", "999", "--out", str(pdf))
    assert out.returncode == 2 and "Handover 999 is not closed" in out.stderr


def test_every_parcel_then_the_complete_card_closes_with_no_key(bench, settings) -> None:  # type: ignore[no-untyped-def]
    """Issue #16: a carrier's every parcel scanned, then the CMD-COMPLETE card: handed over."""
    db, ids = bench
    postnord = numbers(db, ids["fourth"])[0]
    out = scan(db, settings, postnord, None)
    assert out.ok and "every PostNord parcel is in: scan CMD-COMPLETE" in out.message
    done = scan(db, settings, "CMD-COMPLETE", "PostNord")
    assert done.ok and done.confirm_close is None, done.message
    assert done.closed is not None and done.closed.closed and not done.closed.missing
    assert "1 parcel handed over to PostNord." in done.message
    assert done.carrier is None  # the station is free for the next carrier
    with db.read() as s:
        assert s.get(Order, ids["fourth"]).status == "handed_over"  # type: ignore[union-attr]
    # Posten: one parcel in, the card says which are missing and hands nothing over.
    first = numbers(db, ids["first"])
    out = scan(db, settings, first[0], None)
    assert out.ok and "3 Posten not scanned yet" in out.message
    asked = scan(db, settings, "CMD-COMPLETE", "Posten")
    assert not asked.ok and asked.closed is not None and not asked.closed.closed
    assert first[1] in asked.message and "shipped but not scanned" in asked.message
    assert asked.confirm_missing == frozenset(r.parcel_id for r in asked.closed.missing)
    with db.read() as s:
        parcel = s.exec(select(Parcel).where(Parcel.tracking_number == first[0])).one()
        assert parcel.status == "labelled"


def test_a_confirmation_covers_only_the_parcels_it_listed(bench, settings) -> None:  # type: ignore[no-untyped-def]
    """A Posten parcel shipped (at another terminal) between the question and CMD-CONFIRM is
    not left behind unseen: the confirmation is asked again, naming it."""
    db, ids = bench
    first = numbers(db, ids["first"])
    scan(db, settings, first[0], None)
    asked = scan(db, settings, "CMD-COMPLETE", "Posten")
    assert asked.confirm_close == "Posten" and asked.confirm_missing
    with db.write() as s:
        late = receive_order(
            s, Actor("admin", "seed"), order_in(5005, ("FJ-TX-0002", 1), minutes=5)
        ).order_id
    make_packed(db, late)
    create_shipment(db, POSTER, settings.ship, late)
    mark_printed(db, late)
    fresh = numbers(db, late)[0]
    again = scan(
        db,
        settings,
        "CMD-CONFIRM",
        None,
        confirming="Posten",
        confirm_missing=asked.confirm_missing,
    )
    assert not again.ok and again.closed is not None and not again.closed.closed
    assert fresh in again.message
    assert cage(db)  # still in the cage: nothing was handed over
    done = scan(
        db,
        settings,
        "CMD-CONFIRM",
        None,
        confirming="Posten",
        confirm_missing=again.confirm_missing,
    )
    assert done.ok and done.closed is not None and done.closed.closed
    assert "1 parcel handed over to Posten. 4 stay for the next pickup." in done.message
