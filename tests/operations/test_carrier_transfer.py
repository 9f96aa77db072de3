"""Cargonizer's transfer (EDI to the carrier) when the post station closes a handover, against
the demo carrier's ``/cargonizer`` face over loopback on a real database: the intent committed
with the close, the call after it; a failed call that never blocks the close and is retried;
a lost answer looked up, never sent twice; a process killed between close and transfer, and
killed mid-transfer — exactly one transfer per consignment at the carrier every time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from packbench.config import Settings
from packbench.data.engine import Database
from packbench.data.models import CarrierTransfer, Event, Handover, Parcel
from packbench.operations.carrier_transfer import send_transfers, transfer_problems
from packbench.operations.common import Actor, Refused
from packbench.operations.handover import post_scan
from packbench.operations.shipping import create_shipment
from tests.operations.carrier_bench import (
    SENDER,
    SHIPPER,
    bench_file,
    demo_carrier,
    kill_9_when,
    packed_pair,
)
from tests.operations.test_shipping import mark_printed

from packbench.carriers.demo_carrier import (  # isort: skip
    DEFAULT_CARGONIZER_KEY, DEFAULT_CARGONIZER_SENDER, DemoCarrierApp,
)  # fmt: skip

POSTER = Actor("post", "t-post", 1, "Kari Nordmann", "packer")
DAY = "2026-12-06"


def cargonizer_settings(url: str, **carrier: Any) -> Settings:
    return Settings(
        ship={
            "carriers": {
                "Cargonizer": {
                    "kind": "cargonizer",
                    "api_url": url + "/cargonizer",
                    "transport_agreement": "1",
                    "timeout_s": 5,
                    **carrier,
                }
            },
            "methods": {
                "flat_rate:3": {
                    "carrier": "Cargonizer",
                    "service": "Pakke levert hjem",
                    "product": "bring2_home_delivery_parcel",
                }
            },
            "sender": SENDER,
        }
    )


@pytest.fixture
def carrier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, DemoCarrierApp]]:
    with demo_carrier(
        tmp_path,
        monkeypatch,
        PACKBENCH_CARGONIZER_KEY=DEFAULT_CARGONIZER_KEY,
        PACKBENCH_CARGONIZER_SENDER=DEFAULT_CARGONIZER_SENDER,
    ) as running:
        yield running


def shipped(db: Database, settings: Settings) -> dict[str, int]:
    """Orders 5001 (two parcels) and 5002 booked through Cargonizer, labels printed."""
    ids = packed_pair(db, phone=False)
    for key in ("first", "second"):
        create_shipment(db, SHIPPER, settings.ship, ids[key])
        mark_printed(db, ids[key])
    return ids


def codes(db: Database, order_id: int) -> list[str]:
    with db.read() as s:
        return [
            p.tracking_number or ""
            for p in s.exec(select(Parcel).where(Parcel.order_id == order_id)).all()
        ]


def scan(db: Database, settings: Settings, code: str, carrier: str | None, **kw: Any):  # type: ignore[no-untyped-def]
    out = post_scan(
        db, POSTER, code, settings.code_rules(), carrier=carrier, day=DAY, settings=settings, **kw
    )
    assert out is not None
    return out


def cage_all(db: Database, settings: Settings, *orders: int) -> None:
    for oid in orders:
        for code in codes(db, oid):
            assert scan(db, settings, code, None).ok


def transfers_at_carrier(app: DemoCarrierApp) -> dict[str, int]:
    """Consignment number → how many transfer calls the carrier carried out for it."""
    return {
        b["consignmentNumber"]: int(b.get("transfers", 0))
        for b in app.state.bookings()
        if b.get("source") == "cargonizer"
    }


def transfer_rows(db: Database) -> list[CarrierTransfer]:
    with db.read() as s:
        return list(s.exec(select(CarrierTransfer).order_by(CarrierTransfer.id)).all())


def transfer_calls(app: DemoCarrierApp) -> int:
    return sum(1 for r in app.state.received if r["path"].endswith("/consignments/transfer"))


# --------------------------------------------------------------------------- the close


def test_closing_the_handover_transfers_each_consignment_once(db, carrier) -> None:  # type: ignore[no-untyped-def]
    url, app = carrier
    settings = cargonizer_settings(url)
    ids = shipped(db, settings)
    assert set(transfers_at_carrier(app).values()) == {0}, "booked without transfer"
    cage_all(db, settings, ids["first"], ids["second"])
    out = scan(db, settings, "CMD-COMPLETE", "Cargonizer")
    assert out.ok, out.message
    assert "3 parcels handed over to Cargonizer." in out.message
    assert "2 consignments transferred to the carrier" in out.message
    assert transfers_at_carrier(app) == dict.fromkeys(transfers_at_carrier(app), 1)
    assert len(transfers_at_carrier(app)) == 2
    assert transfer_calls(app) == 1, "one call for the whole handover"
    (call,) = [r for r in app.state.received if r["path"].endswith("/consignments/transfer")]
    assert call["method"] == "POST" and call["query"].count("consignment_ids%5B%5D=") == 2
    rows = transfer_rows(db)
    assert [r.status for r in rows] == ["done", "done"] and all(r.done_at for r in rows)
    with db.read() as s:
        (handover,) = s.exec(select(Handover)).all()
    assert {r.handover_id for r in rows} == {handover.id}
    # Nothing left to send: another round calls nobody.
    report = send_transfers(db, POSTER, settings.ship)
    assert (report.sent, report.found, report.waiting) == (0, 0, 0)
    assert transfer_calls(app) == 1 and transfer_problems(db) == []


def test_a_carrier_that_transfers_on_booking_is_not_transferred_again(db, carrier) -> None:  # type: ignore[no-untyped-def]
    url, app = carrier
    settings = cargonizer_settings(url, transfer_on_booking=True)
    ids = shipped(db, settings)
    assert all(b["transferred"] for b in app.state.bookings())
    cage_all(db, settings, ids["first"], ids["second"])
    assert scan(db, settings, "CMD-COMPLETE", "Cargonizer").ok
    assert transfer_rows(db) == [] and transfer_calls(app) == 0


def test_a_parcel_left_behind_does_not_transfer_its_consignment_twice(db, carrier) -> None:  # type: ignore[no-untyped-def]
    url, app = carrier
    settings = cargonizer_settings(url)
    ids = shipped(db, settings)
    first, second = codes(db, ids["first"])
    assert scan(db, settings, first, None).ok
    assert not scan(db, settings, "CMD-COMPLETE", "Cargonizer").ok  # parcels not scanned
    out = scan(db, settings, "CMD-CONFIRM", None, confirming="Cargonizer")
    assert out.ok, out.message
    assert list(transfers_at_carrier(app).values()).count(1) == 1
    # The next pickup takes the rest: only 5002's consignment is new.
    assert scan(db, settings, second, None).ok
    cage_all(db, settings, ids["second"])
    assert scan(db, settings, "CMD-COMPLETE", "Cargonizer").ok
    assert sorted(transfers_at_carrier(app).values()) == [1, 1]
    assert len(transfer_rows(db)) == 2


@pytest.mark.parametrize("fault", ["500", "drop", "lose", "429"])
def test_a_failed_transfer_never_blocks_the_close_and_is_retried_once(  # type: ignore[no-untyped-def]
    db, carrier, fault: str
) -> None:
    url, app = carrier
    settings = cargonizer_settings(url)
    ids = shipped(db, settings)
    cage_all(db, settings, ids["first"], ids["second"])
    app.faults.update({"next": [fault]})
    out = scan(db, settings, "CMD-COMPLETE", "Cargonizer")
    # The handover is closed and the parcels handed over, whatever the carrier did.
    assert "3 parcels handed over to Cargonizer." in out.message
    assert not out.ok and out.kind == "error"
    assert "Transfer failed" in out.message and "retried automatically" in out.message
    with db.read() as s:
        parcels = s.exec(select(Parcel).where(Parcel.carrier == "Cargonizer")).all()
        assert {p.status for p in parcels} == {"handed_over"}
    problems = transfer_problems(db)
    assert len(problems) == 2 and all(p.last_error for p in problems)
    assert {p.order_number for p in problems} == {"5001", "5002"}
    lost = fault == "lose"  # the carrier transferred, the answer never came
    assert set(transfers_at_carrier(app).values()) == ({1} if lost else {0})
    expected = "pending" if fault == "429" else "sending"  # 429: certainly not done
    assert {p.status for p in problems} == {expected}
    # Retried (the back-off is over): a call that may have reached the carrier is looked up
    # first, and only a consignment the carrier has not transferred is sent.
    with db.write() as s:
        for row in s.exec(select(CarrierTransfer)).all():
            row.next_attempt_at = None
            s.add(row)
    calls = transfer_calls(app)
    report = send_transfers(db, POSTER, settings.ship)
    assert report.failed == () and report.waiting == 0
    assert (report.sent, report.found) == ((0, 2) if lost else (2, 0))
    assert transfer_calls(app) == calls + (0 if lost else 1)
    assert sorted(transfers_at_carrier(app).values()) == [1, 1]
    assert [r.status for r in transfer_rows(db)] == ["done", "done"]
    with db.read() as s:
        said = [e.message for e in s.exec(select(Event).where(Event.kind == "transfer")).all()]
    assert any("found so by reference" in m for m in said) == lost


def test_a_transfer_not_due_or_under_way_elsewhere_is_left_alone(db, carrier) -> None:  # type: ignore[no-untyped-def]
    url, app = carrier
    settings = cargonizer_settings(url)
    ids = shipped(db, settings)
    cage_all(db, settings, ids["first"], ids["second"])
    app.faults.update({"next": ["500"]})
    scan(db, settings, "CMD-COMPLETE", "Cargonizer")
    calls = transfer_calls(app)
    # In its back-off: nothing is sent.
    assert send_transfers(db, POSTER, settings.ship).waiting == 2
    assert transfer_calls(app) == calls
    from packbench.data.types import utcnow

    with db.write() as s:  # another terminal's call, begun just now
        for row in s.exec(select(CarrierTransfer)).all():
            row.next_attempt_at, row.sent_at = None, utcnow()
            s.add(row)
    assert send_transfers(db, POSTER, settings.ship).waiting == 2
    assert transfer_calls(app) == calls and sum(transfers_at_carrier(app).values()) == 0
    # Once stale (that process died), each is looked up and sent: one transfer each.
    report = send_transfers(db, POSTER, settings.ship, stale_after_s=0)
    assert report.sent == 2 and sorted(transfers_at_carrier(app).values()) == [1, 1]


def test_a_consignment_the_search_does_not_find_waits_for_a_person(db, carrier) -> None:  # type: ignore[no-untyped-def]
    url, app = carrier
    settings = cargonizer_settings(url)
    ids = shipped(db, settings)
    cage_all(db, settings, ids["first"], ids["second"])
    app.faults.update({"next": ["drop"]})
    scan(db, settings, "CMD-COMPLETE", "Cargonizer")
    with db.write() as s:
        for row in s.exec(select(CarrierTransfer)).all():
            row.next_attempt_at = None
            if row.reference == "5002":
                row.reference = "no-such-order"
            s.add(row)
    report = send_transfers(db, POSTER, settings.ship)
    assert report.sent == 1 and "does not find consignment" in report.failed[0]
    assert "check it in Cargonizer" in report.message
    assert sorted(transfers_at_carrier(app).values()) == [0, 1]
    (problem,) = transfer_problems(db)
    assert problem.order_number == "5002"
    assert problem.status == "sending" and problem.attempts == 2


# --------------------------------------------------------------------------- kill -9

_CHILD = """
import sys, time
from packbench.data.engine import create_database
from packbench.operations.handover import close_handover
from packbench.operations.carrier_transfer import send_transfers
from tests.operations.test_carrier_transfer import POSTER, DAY, cargonizer_settings
db = create_database(sys.argv[1])
settings = cargonizer_settings(sys.argv[2])
close_handover(db, POSTER, "Cargonizer", day=DAY, transfer=True)
print("closed", flush=True)
if sys.argv[3] == "between":
    time.sleep(60)  # killed here: the close committed, the transfer not sent
send_transfers(db, POSTER, settings.ship)
print("transferred", flush=True)
"""


@pytest.mark.sqlite_only
@pytest.mark.parametrize("when", ["between", "mid-transfer"])
def test_kill_9_between_close_and_transfer_then_restart_transfers_exactly_once(
    tmp_path: Path, carrier, when: str
) -> None:  # type: ignore[no-untyped-def]
    url, app = carrier
    db, path = bench_file(tmp_path)
    settings = cargonizer_settings(url)
    ids = shipped(db, settings)
    cage_all(db, settings, ids["first"], ids["second"])
    if when == "mid-transfer":  # the carrier transfers, the answer is slow: killed meanwhile
        app.faults.update({"answer_latency_ms": 3000})

    def ready() -> bool:
        if when == "mid-transfer":  # both transfers carried out, their answers not yet back
            return sum(transfers_at_carrier(app).values()) == 2
        return len(transfer_rows(db)) == 2  # the close (with its transfers) committed

    kill_9_when(_CHILD, [str(path), url, when], ready)
    app.faults.update({"answer_latency_ms": 0})
    rows = transfer_rows(db)
    assert len(rows) == 2
    assert {r.status for r in rows} == ({"pending"} if when == "between" else {"sending"})
    # The restart: the post station's timer sends what is due (a call of a process that died
    # is stale at once here; two minutes by default).
    report = send_transfers(db, POSTER, settings.ship, stale_after_s=0)
    assert report.waiting == 0 and report.failed == ()
    assert (report.sent, report.found) == ((2, 0) if when == "between" else (0, 2))
    counts = transfers_at_carrier(app)
    assert len(counts) == 2 and set(counts.values()) == {1}, counts
    assert transfer_calls(app) == 1


@pytest.mark.sqlite_only
def test_the_handovers_command_lists_and_sends_waiting_transfers(tmp_path: Path, carrier) -> None:  # type: ignore[no-untyped-def]
    """``packbench handovers --transfer``: what a close left is sent; what still fails is
    listed with why, and the exit status says so."""
    import json

    from packbench.data.engine import create_database
    from packbench.data.migrate import upgrade
    from tests.cli.test_cli import run

    url, app = carrier
    path = tmp_path / "bench.db"
    db = create_database(str(path))
    upgrade(db)
    settings = cargonizer_settings(url)
    ids = shipped(db, settings)
    cage_all(db, settings, ids["first"], ids["second"])
    app.faults.update({"next": ["drop"]})
    scan(db, settings, "CMD-COMPLETE", "Cargonizer")
    config = tmp_path / "packbench.toml"
    config.write_text(
        f"""
[ship.carriers.Cargonizer]
kind = "cargonizer"
api_url = "{url}/cargonizer"
transport_agreement = "1"
[ship.methods."flat_rate:3"]
carrier = "Cargonizer"
product = "bring2_home_delivery_parcel"
"""
    )
    env = {
        "PACKBENCH_CONFIG": str(config),
        "PACKBENCH_CARGONIZER_KEY": DEFAULT_CARGONIZER_KEY,
        "PACKBENCH_CARGONIZER_SENDER": DEFAULT_CARGONIZER_SENDER,
    }
    out = run("handovers", "--db", str(path), "--json", env=env)
    assert out.returncode == 0, out.stderr
    waiting = json.loads(out.stdout)["transfers_waiting"]
    assert [(t["order"], t["status"]) for t in waiting] == [
        ("5001", "sending"),
        ("5002", "sending"),
    ]
    assert all("Cargonizer" in t["error"] for t in waiting)
    out = run("handovers", "--db", str(path), "--transfer", env=env)
    assert out.returncode == 1 and "not transferred yet" in out.stdout  # in its back-off
    with db.write() as s:
        for row in s.exec(select(CarrierTransfer)).all():
            row.next_attempt_at = None
            s.add(row)
    out = run("handovers", "--db", str(path), "--transfer", env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 consignments transferred to the carrier" in out.stdout
    assert "not transferred" not in out.stdout
    assert sorted(transfers_at_carrier(app).values()) == [1, 1]


# --------------------------------------------------------------------------- the dashboard

SUPERVISOR = Actor("dashboard", "office", 2, "Ola Sjef", "supervisor")


def test_the_dashboard_lists_transfers_not_through_and_a_supervisor_sends_one_now(  # type: ignore[no-untyped-def]
    db, carrier
) -> None:
    from datetime import timedelta

    from packbench.data.types import utcnow
    from packbench.operations.carrier_transfer import retry_transfer
    from packbench.operations.common import NotAllowed
    from packbench.operations.supervisor import exceptions

    def listed() -> list[tuple[str, str]]:
        return [(e.ref, e.detail) for e in exceptions(db) if e.kind == "transfer"]

    url, app = carrier
    settings = cargonizer_settings(url)
    ids = shipped(db, settings)
    cage_all(db, settings, ids["first"], ids["second"])
    app.faults.update({"next": ["429"]})  # refused: certainly not done, back to pending
    assert not scan(db, settings, "CMD-COMPLETE", "Cargonizer").ok
    rows = listed()  # failed: on the list at once, with why
    assert [ref for ref, _ in rows] == ["5001", "5002"], rows
    assert all(d.startswith("Cargonizer consignment ") and "(1 try): " in d for _, d in rows)
    # In its back-off nothing is sent; a packer cannot hurry it, a supervisor can.
    first = transfer_rows(db)[0]
    assert first.next_attempt_at is not None and first.next_attempt_at > utcnow()
    with pytest.raises(NotAllowed):
        retry_transfer(db, POSTER, first.id or 0)
    retry_transfer(db, SUPERVISOR, first.id or 0)
    report = send_transfers(db, SUPERVISOR, settings.ship)
    assert (report.sent, report.waiting) == (1, 1)
    assert [ref for ref, _ in listed()] == ["5002"]
    assert sorted(transfers_at_carrier(app).values()) == [0, 1]
    with pytest.raises(Refused, match="transferred already"):
        retry_transfer(db, SUPERVISOR, first.id or 0)
    with db.read() as s:
        said = [e.message for e in s.exec(select(Event).where(Event.kind == "transfer")).all()]
    assert any(m.endswith("to be sent again now (a supervisor's word)") for m in said)
    # A transfer merely not sent yet (no error: the close's call has not happened) is not
    # listed at first, and is once it is late: nobody is sending it.
    with db.write() as s:
        row = s.exec(select(CarrierTransfer).where(CarrierTransfer.status != "done")).one()
        row.last_error, row.attempts, row.created_at = None, 0, utcnow()
        s.add(row)
    assert listed() == []
    later = utcnow() + timedelta(minutes=6)
    late = exceptions(db, now=later)
    ((ref, detail),) = [(e.ref, e.detail) for e in late if e.kind == "transfer"]
    assert ref == "5002" and detail.endswith("(not sent): handed over, carrier not told yet")
