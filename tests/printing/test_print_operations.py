"""Printing changes order state only when CUPS completes the job (real CUPS, real database)."""

from __future__ import annotations

import subprocess

import pytest
from sqlmodel import col, select

from packbench.data.models import Event, Order, PrintJob
from packbench.operations.common import Actor, Refused
from packbench.operations.printing import (
    orders_waiting_for_slips,
    print_history,
    print_slips,
)
from packbench.operations.views import OrderDetail
from packbench.printing.cups import CupsPrinter
from tests.operations.seed import seed
from tests.printing.conftest import PDF_QUEUE, find_pdf
from tests.printing.test_cups import tiny_pdf

ACTOR = Actor("admin", "t1", 1, "Kari Nordmann", "packer")


def simple_render(details: list[OrderDetail]) -> bytes:
    return tiny_pdf(" ".join(d.summary.number for d in details))


@pytest.fixture
def bench(db, cups_ready):  # type: ignore[no-untyped-def]
    seed(db)
    return db


def statuses(db) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with db.read() as s:
        return {o.number: o.status for o in s.exec(select(Order)).all()}


def test_completed_job_marks_new_orders_slip_printed(bench) -> None:  # type: ignore[no-untyped-def]
    waiting = orders_waiting_for_slips(bench)
    assert waiting == ["5001", "5002", "5003"]
    result = print_slips(
        bench, ACTOR, CupsPrinter(), waiting, queue=PDF_QUEUE, render=simple_render
    )
    assert result.ok, result.message
    assert set(statuses(bench).values()) == {"slip_printed"}
    assert find_pdf(result.cups_job_id or 0).stat().st_size > 0
    history = print_history(bench)
    assert history[0].status == "completed" and history[0].ref == "5001, 5002, 5003"
    with bench.read() as s:
        printed = s.exec(select(Event).where(Event.kind == "print")).all()
    assert len(printed) == 3 and all(e.packer_id == 1 for e in printed)


def test_a_stopped_printer_marks_nothing(bench) -> None:  # type: ignore[no-untyped-def]
    subprocess.run(["cupsdisable", PDF_QUEUE], check=True)
    try:
        result = print_slips(
            bench,
            ACTOR,
            CupsPrinter(),
            ["5001"],
            queue=PDF_QUEUE,
            render=simple_render,
            timeout_s=1.0,
        )
    finally:
        subprocess.run(["cupsenable", PDF_QUEUE], check=True)
    assert not result.ok and "is stopped" in result.message
    assert statuses(bench)["5001"] == "new"
    with bench.read() as s:
        job = s.exec(select(PrintJob).order_by(col(PrintJob.id).desc())).first()
    assert job is not None and job.status == "failed" and "stopped" in (job.error or "")
    assert "the job was cancelled" in (job.error or "")


def test_a_missing_queue_marks_nothing_and_can_go_elsewhere(bench) -> None:  # type: ignore[no-untyped-def]
    result = print_slips(bench, ACTOR, CupsPrinter(), ["5001"], queue="GONE", render=simple_render)
    assert not result.ok and "no printer queue called “GONE”" in result.message
    assert statuses(bench)["5001"] == "new"
    again = print_slips(
        bench, ACTOR, CupsPrinter(), ["5001"], queue=PDF_QUEUE, render=simple_render
    )
    assert again.ok and statuses(bench)["5001"] == "slip_printed"
    assert [j.status for j in print_history(bench)] == ["completed", "failed"]


def test_a_reprint_does_not_move_an_order_further(bench) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):
        assert print_slips(
            bench, ACTOR, CupsPrinter(), ["5002"], queue=PDF_QUEUE, render=simple_render
        ).ok
    assert statuses(bench)["5002"] == "slip_printed"


def test_unknown_orders_are_refused_before_anything_prints(bench) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused, match="No order number 999"):
        print_slips(
            bench, ACTOR, CupsPrinter(), ["5001", "999"], queue=PDF_QUEUE, render=simple_render
        )
    assert print_history(bench) == []
