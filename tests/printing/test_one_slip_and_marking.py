"""One order's slip printed or printed again, and a supervisor's "mark printed" when no printer
works (#16's dead ends). Printing goes into a real folder queue: no CUPS needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import col, select

from packbench.config import Settings
from packbench.core.workflow import Action
from packbench.data.engine import Database
from packbench.data.models import Event, Order, PrintJob
from packbench.operations.common import Actor, NotAllowed, Refused, change_status
from packbench.operations.printing import print_history, print_new_slips
from packbench.operations.slips import mark_slips_printed, print_order_slip
from packbench.operations.supervisor import exceptions
from tests.operations.seed import seed
from tests.printing.test_documents import pages
from tests.printing.test_folder_printer import _with_folder

PACKER = Actor("admin", "t1", 1, "Kari Nordmann", "packer")
BOSS = Actor("dashboard", "office", 2, "Ola Sjef", "supervisor")


@pytest.fixture
def bench(db: Database) -> Database:
    seed(db)
    return db


def order(db: Database, number: str) -> Order:
    with db.read() as s:
        return s.exec(select(Order).where(Order.number == number)).one()


def statuses(db: Database) -> dict[str, str]:
    with db.read() as s:
        return {o.number: o.status for o in s.exec(select(Order)).all()}


def events(db: Database, kind: str) -> list[Event]:
    with db.read() as s:
        return list(s.exec(select(Event).where(Event.kind == kind).order_by(col(Event.id))).all())


# -- one order's slip ---------------------------------------------------------------------------
def test_one_orders_slip_prints_and_only_that_order_moves(
    bench: Database, settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "printed"
    folder.mkdir()
    result = print_order_slip(
        bench, PACKER, _with_folder(settings, folder), order(bench, "5002").id
    )
    assert result.ok and result.message.startswith("Slip of order 5002 printed: "), result.message
    assert result.orders == ("5002",)
    assert statuses(bench) == {"5001": "new", "5002": "slip_printed", "5003": "new"}
    (written,) = folder.iterdir()
    assert [c.text for p in pages(written.read_bytes()) for c in p.codes()] == ["ORD-5002"]
    assert print_history(bench)[0].ref == "5002"


def test_a_slip_is_printed_again_and_the_order_stays_where_it_is(
    bench: Database, settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "printed"
    folder.mkdir()
    with bench.write() as s:
        first = s.exec(select(Order).where(Order.number == "5001")).one()
        change_status(s, first, Action.PRINT_SLIP, PACKER)
        change_status(s, first, Action.START_PICK, PACKER)
    result = print_order_slip(
        bench, PACKER, _with_folder(settings, folder), order(bench, "5001").id
    )
    assert result.ok and result.message.startswith(
        "Slip of order 5001 printed again (the order is picking): Slip printed on folder:"
    ), result.message
    assert statuses(bench)["5001"] == "picking"
    assert len(list(folder.iterdir())) == 1


def test_one_slip_refused_changes_nothing(
    bench: Database, settings: Settings, tmp_path: Path
) -> None:
    settings = _with_folder(settings, tmp_path / "gone")  # a folder that is not there: fails
    third = order(bench, "5003").id
    nobody = Actor("admin", "t1")
    assert print_order_slip(bench, nobody, settings, third).message == (
        "Scan your badge first — printing is recorded by name."
    )
    with bench.write() as s:
        o = s.get(Order, third)
        change_status(s, o, Action.CANCEL, PACKER)
    cancelled = print_order_slip(bench, PACKER, settings, third)
    assert (
        not cancelled.ok
        and cancelled.message == "Order 5003 is cancelled; its slip is not printed."
    )
    failed = print_order_slip(bench, PACKER, settings, order(bench, "5001").id)
    assert not failed.ok and "cannot write into" in failed.message
    assert statuses(bench)["5001"] == "new"
    refused = [e.message for e in events(bench, "print") if e.result == "refused"]
    assert refused[:2] == [
        "Scan your badge first — printing is recorded by name.",
        "Order 5003 is cancelled; its slip is not printed.",
    ]


# -- a supervisor marks slips printed -----------------------------------------------------------
def test_a_supervisor_marks_a_slip_printed_with_a_reason_in_the_audit_trail(
    bench: Database,
) -> None:
    result = mark_slips_printed(
        bench, BOSS, "  printer jammed;  slip written by hand ", order_numbers=["5001"]
    )
    assert result.marked == ("5001",) and result.skipped == ()
    assert result.message == "1 slip marked printed (5001)."
    assert statuses(bench) == {"5001": "slip_printed", "5002": "new", "5003": "new"}
    job = print_history(bench)[0]
    assert (job.id, job.kind, job.ref, job.status) == (
        result.print_job_id,
        "slip",
        "5001",
        "marked",
    )
    assert job.printer == "(no printer)"
    assert job.error == "marked printed by Ola Sjef: printer jammed; slip written by hand"
    first = order(bench, "5001").id
    (status_event,) = [e for e in events(bench, "status") if e.order_id == first]
    data = json.loads(status_event.data or "{}")
    assert data["to"] == "slip_printed" and data["reason"] == "printer jammed; slip written by hand"
    # who, when, where, why — on the order's own history
    for event in [status_event, *[e for e in events(bench, "print") if e.order_id == first]]:
        assert (event.packer_id, event.station, event.terminal) == (2, "dashboard", "office")
        assert event.at is not None
    (marked,) = events(bench, "print_marked")
    assert json.loads(marked.data or "{}")["orders"] == ["5001"]


def test_marking_is_for_supervisors_needs_a_reason_and_known_orders(bench: Database) -> None:
    with pytest.raises(NotAllowed):
        mark_slips_printed(bench, PACKER, "no printer", order_numbers=["5001"])
    with pytest.raises(Refused, match="Say why"):
        mark_slips_printed(bench, BOSS, "   ", order_numbers=["5001"])
    with pytest.raises(Refused, match="No order number 4711 on this bench; nothing was marked"):
        mark_slips_printed(bench, BOSS, "no printer", order_numbers=["5001", "4711"])
    with pytest.raises(Refused, match="Name the orders"):
        mark_slips_printed(bench, BOSS, "no printer", order_numbers=[" "])
    assert set(statuses(bench).values()) == {"new"}  # nothing changed, not even 5001
    with bench.read() as s:
        assert s.exec(select(PrintJob)).all() == []
    refused = [e for e in events(bench, "print_marked") if e.result == "refused"]
    assert len(refused) == 4 and refused[0].packer_id == 1  # every attempt is in the log


def test_orders_past_new_are_named_and_left_alone(bench: Database) -> None:
    mark_slips_printed(bench, BOSS, "hand-written", order_numbers=["5002"])
    result = mark_slips_printed(bench, BOSS, "hand-written", order_numbers=["5001", "5002"])
    assert result.marked == ("5001",) and result.skipped == ("5002 (slip printed)",)
    assert result.message == "1 slip marked printed (5001); left alone: 5002 (slip printed)."
    with pytest.raises(Refused, match=r"Nothing to mark: order 5002 \(slip printed\) is past"):
        mark_slips_printed(bench, BOSS, "again", order_numbers=["5002"])


def test_a_failed_slip_job_marked_printed_leaves_the_dashboard(
    bench: Database, settings: Settings, tmp_path: Path
) -> None:
    failed = print_new_slips(bench, PACKER, _with_folder(settings, tmp_path / "gone"))
    assert not failed.ok and failed.print_job_id is not None
    rows = [e for e in exceptions(bench) if e.kind == "print"]
    assert [(e.ref, e.item_id) for e in rows] == [("slip 5001, 5002, 5003", failed.print_job_id)]
    result = mark_slips_printed(bench, BOSS, "no CUPS here", print_job_id=failed.print_job_id)
    assert result.marked == ("5001", "5002", "5003")
    assert set(statuses(bench).values()) == {"slip_printed"}
    assert [e for e in exceptions(bench) if e.kind == "print"] == []
    assert json.loads(events(bench, "print_marked")[-1].data or "{}")["instead_of"] == (
        failed.print_job_id
    )
    with pytest.raises(Refused, match="is marked already"):
        mark_slips_printed(bench, BOSS, "twice", print_job_id=result.print_job_id)


def test_a_failed_slip_job_leaves_the_dashboard_once_its_orders_have_slips(
    bench: Database, settings: Settings, tmp_path: Path
) -> None:
    failed = print_new_slips(bench, PACKER, _with_folder(settings, tmp_path / "gone"))
    assert failed.print_job_id is not None
    folder = tmp_path / "printed"
    folder.mkdir()
    good = _with_folder(settings, folder)
    for number in ("5001", "5002"):  # printed one at a time since, not as the same batch
        assert print_order_slip(bench, PACKER, good, order(bench, number).id).ok
    assert [e.ref for e in exceptions(bench) if e.kind == "print"] == ["slip 5001, 5002, 5003"]
    mark_slips_printed(bench, BOSS, "slip written by hand", order_numbers=["5003"])
    assert [e for e in exceptions(bench) if e.kind == "print"] == []
