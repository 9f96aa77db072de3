"""Print history and reprint, through a real CUPS: the command line and the F9 modal.

A stopped queue of its own (PACKBENCH-STOPPED-…, a cups-pdf queue kept disabled) plays the broken
printer: the job fails there, and is reprinted on the PDF queue, where it completes.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from sqlmodel import select
from textual.widgets import DataTable, OptionList

from packbench.app import PackbenchApp
from packbench.config import load_settings
from packbench.data.engine import Database, create_database
from packbench.data.models import Order, PrintJob
from packbench.operations.common import Actor
from packbench.operations.printing import print_history, print_job, slip_job
from packbench.printing.cups import CupsPrinter
from packbench.screens.print_history import ChooseQueue, PrintHistoryScreen
from tests.packbench_process import run_packbench
from tests.printing.conftest import OWN_QUEUES, PDF_QUEUE, STOPPED_QUEUE, add_pdf_queue, find_pdf

STOPPED = STOPPED_QUEUE


@pytest.fixture(scope="module")
def stopped_queue(cups_ready: None) -> Iterator[str]:
    if OWN_QUEUES:  # the session made it with its other queues
        yield STOPPED
        subprocess.run(["cancel", "-a", STOPPED], check=False)
        return
    add_pdf_queue(STOPPED)
    subprocess.run(["cupsdisable", STOPPED], check=True)
    yield STOPPED
    subprocess.run(["cancel", "-a", STOPPED], check=False)
    subprocess.run(["lpadmin", "-x", STOPPED], check=True)


def run(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PACKBENCH_PRINTERS__TIMEOUT_S": "1", "COLUMNS": "250"}
    return run_packbench(*args, "--db", str(db), timeout=120, env=env)


@pytest.fixture
def bench(cli_demo_db: Path, stopped_queue: str) -> Iterator[tuple[Path, Database]]:
    path = cli_demo_db
    database = create_database(path)
    yield path, database
    database.dispose()


def new_orders(db: Database, n: int) -> list[str]:
    with db.read() as s:
        rows = s.exec(select(Order).where(Order.status == "new").order_by(Order.id)).all()
        return [o.number for o in rows[:n]]


def status_of(db: Database, number: str) -> str:
    with db.read() as s:
        return s.exec(select(Order).where(Order.number == number)).one().status


def history(path: Path) -> list[dict]:
    listed = run("print", "history", "--json", db=path)
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


def barcodes(pdf: Path) -> set[str]:
    out = set()
    for page in pdfium.PdfDocument(pdf):
        image = page.render(scale=203 / 72, grayscale=True).to_pil()
        out |= {r.text for r in zxingcpp.read_barcodes(image)}
    return out


def test_failed_on_a_stopped_queue_then_reprinted_on_the_pdf_queue(bench) -> None:  # type: ignore[no-untyped-def]
    path, db = bench
    numbers = new_orders(db, 2)
    failed = run("print", "slip", *numbers, "--printer", STOPPED, db=path)
    assert failed.returncode == 1 and f"printer “{STOPPED}” is stopped" in failed.stderr
    assert [status_of(db, n) for n in numbers] == ["new", "new"]

    (first,) = history(path)
    assert first["status"] == "failed" and first["printer"] == STOPPED
    assert first["ref"] == ", ".join(numbers) and "stopped" in first["error"]
    table = run("print", "history", db=path)
    assert table.returncode == 0 and "failed" in table.stdout and STOPPED in table.stdout

    again = run("print", "reprint", str(first["id"]), "--printer", PDF_QUEUE, db=path)
    assert again.returncode == 0, again.stderr
    assert f"reprint of job {first['id']}" in again.stdout
    newest, old = history(path)
    assert newest["status"] == "completed" and newest["printer"] == PDF_QUEUE
    assert newest["reprint_of"] == first["id"] and newest["ref"] == first["ref"]
    assert old == first  # the failed job's row is untouched
    assert [status_of(db, n) for n in numbers] == ["slip_printed", "slip_printed"]
    assert {f"ORD-{n}" for n in numbers} <= barcodes(find_pdf(newest["cups_job_id"]))

    # a reprint of the reprint, on the queue it went to: the same document again
    third = run("print", "reprint", str(newest["id"]), db=path)
    assert third.returncode == 0, third.stderr
    latest = history(path)[0]
    assert latest["status"] == "completed" and latest["printer"] == PDF_QUEUE
    assert {f"ORD-{n}" for n in numbers} <= barcodes(find_pdf(latest["cups_job_id"]))
    assert [status_of(db, n) for n in numbers] == ["slip_printed", "slip_printed"]


def test_a_label_reprint_makes_the_same_label(bench) -> None:  # type: ignore[no-untyped-def]
    path, _db = bench
    shipped = json.loads(run("orders", "--status", "shipped", "--json", db=path).stdout)
    parcel = shipped[0]["parcels"][0]
    printed = run(
        "print", "label", parcel["sscc"], "--format", "pdf", "--size", "100x190",
        "--printer", PDF_QUEUE, db=path,
    )  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    (job,) = history(path)
    assert job["ref"] == f"pdf 100x190: {parcel['tracking_number']}"
    again = run("print", "reprint", str(job["id"]), db=path)
    assert again.returncode == 0, again.stderr
    newest = history(path)[0]
    first_pdf, second_pdf = find_pdf(job["cups_job_id"]), find_pdf(newest["cups_job_id"])
    assert barcodes(first_pdf) == barcodes(second_pdf)
    assert parcel["tracking_number"] in barcodes(second_pdf)
    width, height = pdfium.PdfDocument(second_pdf)[0].get_size()
    assert round(width / 72 * 25.4) == 100 and round(height / 72 * 25.4) == 190


def test_bad_requests_are_one_clear_line_and_change_nothing(bench) -> None:  # type: ignore[no-untyped-def]
    path, db = bench
    missing = run("print", "reprint", "999", "--printer", PDF_QUEUE, db=path)
    assert missing.returncode == 1
    assert missing.stderr.strip() == "packbench: There is no print job 999."
    limit = run("print", "history", "--limit", "0", db=path)
    assert limit.returncode == 2 and "--limit must be at least 1" in limit.stderr
    with db.write() as s:  # a job from another kind of document: no way to make it again
        s.add(PrintJob(kind="report", ref="day report", printer=PDF_QUEUE, status="completed"))
    report = run("print", "reprint", "1", db=path)
    assert report.returncode == 1 and "cannot be made again from its record" in report.stderr
    assert len(history(path)) == 1


# --------------------------------------------------------------------------- the F9 modal


async def _until(pilot, check, what: str, tries: int = 400) -> None:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_f9_lists_jobs_and_reprints_here_and_elsewhere(bench) -> None:  # type: ignore[no-untyped-def]
    path, db = bench
    settings = load_settings(None, db=str(path), station="admin")
    number = new_orders(db, 1)[0]
    failed = print_job(
        db, Actor("admin", "t1"), CupsPrinter(), slip_job(db, [number], settings),
        queue=STOPPED, timeout_s=0.5,
    )  # fmt: skip
    assert not failed.ok and status_of(db, number) == "new"

    app = PackbenchApp(settings=settings, db=db, terminal="term-1")
    async with app.run_test(size=(150, 42)) as pilot:
        await pilot.press("f9")
        await _until(pilot, lambda: isinstance(app.screen, PrintHistoryScreen), "the modal")
        screen = app.screen
        assert isinstance(screen, PrintHistoryScreen)
        await _until(pilot, lambda: len(screen.jobs) == 1, "the history")
        table = screen.query_one(DataTable)
        state = table.get_row_at(0)[5]
        assert str(state) == "failed" and "red" in str(state.style)  # failed ones stand out

        # F8: reprint on another queue, chosen from CUPS's list
        await pilot.press("f8")
        await _until(pilot, lambda: isinstance(app.screen, ChooseQueue), "the queue list")
        options = app.screen.query_one(OptionList)
        await _until(pilot, lambda: options.option_count > 0, "the queues")
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        options.highlighted = ids.index(PDF_QUEUE)
        await pilot.press("enter")
        await _until(pilot, lambda: len(screen.results) == 1, "the reprint")
        assert screen.results[0].ok, screen.results[0].message
        assert app.feedback_log[-1][0] == "ok"
        await _until(pilot, lambda: len(screen.jobs) == 2, "the refreshed history")
        assert [j.status for j in screen.jobs] == ["completed", "failed"]
        assert screen.jobs[0].reprint_of == screen.jobs[1].id
        assert status_of(db, number) == "slip_printed"

        # Enter: the selected (newest) job again, on its own printer
        table.move_cursor(row=0)
        await pilot.press("enter")
        await _until(pilot, lambda: len(screen.results) == 2, "the second reprint")
        assert screen.results[1].ok and f"on {PDF_QUEUE}" in screen.results[1].message
        await pilot.press("escape")
        await _until(pilot, lambda: not isinstance(app.screen, PrintHistoryScreen), "closing")
    jobs = print_history(db)
    assert [(j.status, j.printer) for j in jobs] == [
        ("completed", PDF_QUEUE), ("completed", PDF_QUEUE), ("failed", STOPPED)
    ]  # fmt: skip
    assert jobs[0].reprint_of == jobs[1].id and jobs[1].reprint_of == jobs[2].id


def test_the_modal_keys_are_scanner_safe() -> None:
    from textual.widgets import Input

    swallowed = {k for b in Input.BINDINGS for k in b.key.split(",")}  # type: ignore[union-attr]
    for owner in (PrintHistoryScreen, ChooseQueue, PackbenchApp):
        for binding in owner.BINDINGS:
            for key in binding.key.split(","):  # type: ignore[union-attr]
                assert (len(key) > 1 and key not in swallowed) or key == "escape", key
    assert any(b.key == "f9" for b in PackbenchApp.BINDINGS)  # type: ignore[union-attr]


def test_a_manifest_reprint_lists_the_same_parcels(bench) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from packbench.data.models import Handover, HandoverParcel, Parcel
    from packbench.operations.handover import print_manifest
    from packbench.operations.printing import reprint

    path, db = bench
    settings = load_settings(None, db=str(path), station="post")
    with db.write() as s:
        parcels = s.exec(select(Parcel).where(Parcel.sscc.is_not(None))).all()[:3]  # type: ignore[union-attr]
        handover = Handover(carrier="Posten", day="2026-11-27", status="closed",
                            closed_at=datetime.now(UTC))  # fmt: skip
        s.add(handover)
        s.flush()
        for p in parcels:
            s.add(HandoverParcel(handover_id=handover.id, parcel_id=p.id))
        handover_id = handover.id
        codes = {p.tracking_number or f"(00){p.sscc}" for p in parcels}
    actor = Actor("post", "t1")
    first = print_manifest(db, actor, settings, CupsPrinter(), handover_id, queue=PDF_QUEUE)
    assert first.ok, first.message
    again = reprint(db, actor, CupsPrinter(), first.print_job_id or 0, settings)
    assert again.ok, again.message
    newest, old = print_history(db)
    assert newest.kind == "manifest" and newest.reprint_of == old.id and newest.ref == old.ref
    assert codes <= barcodes(find_pdf(again.cups_job_id or 0))
    assert barcodes(find_pdf(again.cups_job_id or 0)) == barcodes(find_pdf(first.cups_job_id or 0))
