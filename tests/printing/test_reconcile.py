"""A terminal killed while following a print job: the job is settled from CUPS's own record.

Real crashes: ``packbench print slip`` runs as a process and is SIGKILLed while it follows its
job; the queue is stopped so that the job is still pending then.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import select

from packbench.config import Settings
from packbench.data.engine import Database, create_database
from packbench.data.models import Event, Order, PrintJob
from packbench.operations.common import Actor
from packbench.operations.printing import reconcile_print_jobs, settle_unfinished_jobs
from packbench.printing.cups import CupsPrinter
from tests.packbench_process import run_packbench
from tests.printing.conftest import PDF_QUEUE, find_pdf

TERMINAL = "test-term"  # what tests/conftest.py sets for every process of the test


def run(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return run_packbench(*args, "--db", str(db), timeout=120)


@pytest.fixture
def bench(cli_demo_db: Path, cups_ready: None):  # type: ignore[no-untyped-def]
    path = cli_demo_db
    database = create_database(path)
    yield path, database
    database.dispose()
    subprocess.run(["cupsenable", PDF_QUEUE], check=True)


def new_order(db: Database) -> str:
    with db.read() as s:
        order = s.exec(select(Order).where(Order.status == "new").order_by(Order.id)).first()
        assert order is not None
        return order.number


def status_of(db: Database, number: str) -> str:
    with db.read() as s:
        order = s.exec(select(Order).where(Order.number == number)).one()
        return order.status


def the_job(db: Database) -> PrintJob:
    with db.read() as s:
        job = s.exec(select(PrintJob).order_by(PrintJob.id.desc())).first()  # type: ignore[union-attr]
        assert job is not None
        return job


def killed_while_following(path: Path, db: Database, number: str) -> PrintJob:
    """Print a slip on the stopped PDF queue, kill the process once CUPS has the job."""
    subprocess.run(["cupsdisable", PDF_QUEUE], check=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "packbench", "print", "slip", number, "--printer", PDF_QUEUE,
         "--db", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with db.read() as s:
                job = s.exec(select(PrintJob)).first()
            if job is not None and job.cups_job_id is not None:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the print process never handed the job to CUPS")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    job = the_job(db)
    assert job.status == "submitted" and job.cups_job_id is not None
    return job


def test_a_job_cups_completed_after_the_crash_counts_and_marks_the_order(bench) -> None:  # type: ignore[no-untyped-def]
    path, db = bench
    number = new_order(db)
    job = killed_while_following(path, db, number)
    subprocess.run(["cupsenable", PDF_QUEUE], check=True)
    assert find_pdf(job.cups_job_id or 0).stat().st_size > 0  # it did print
    deadline = time.monotonic() + 20
    while CupsPrinter().job_status(job.cups_job_id or 0).state != "completed":  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert status_of(db, number) == "new"  # nobody has told the bench yet

    listed = run("printers", "--json", db=path)
    assert listed.returncode == 0, listed.stderr
    json.loads(listed.stdout)  # the queue list stays clean JSON; the report is on stderr
    assert "Unfinished print jobs: 1 printed after all." in listed.stderr
    after = the_job(db)
    assert after.status == "completed" and after.error is None and after.finished_at
    assert status_of(db, number) == "slip_printed"
    with db.read() as s:
        printed = s.exec(select(Event).where(Event.kind == "print")).all()
    assert len(printed) == 1 and f"slip printed on {PDF_QUEUE}" in printed[0].message

    again = run("printers", "--json", db=path)  # settled once, never twice
    assert "Unfinished" not in again.stderr
    with db.read() as s:
        assert len(s.exec(select(Event).where(Event.kind == "print")).all()) == 1


def test_a_pending_job_is_left_to_its_follower_then_cancelled_when_orphaned(bench) -> None:  # type: ignore[no-untyped-def]
    path, db = bench
    number = new_order(db)
    job = killed_while_following(path, db, number)
    cups_id = job.cups_job_id or 0

    # Young, and maybe still followed by the terminal that sent it: `printers` leaves it.
    listed = run("printers", db=path)
    assert "Unfinished print jobs: 1 still open." in listed.stderr
    assert the_job(db).status == "submitted"
    assert CupsPrinter().job_status(cups_id).state == "pending"  # type: ignore[union-attr]

    # The app starting again on the killed terminal knows nobody follows it.
    report = settle_unfinished_jobs(db, Actor("admin", TERMINAL), Settings(), own_terminal=True)
    assert report.failed == (job.id,) and not report.completed
    after = the_job(db)
    assert after.status == "failed"
    assert f"CUPS job {cups_id} is pending" in (after.error or "")
    assert "cancelled" in (after.error or "")
    assert CupsPrinter().job_status(cups_id).state == "canceled"  # type: ignore[union-attr]
    assert status_of(db, number) == "new"  # never marked printed


def test_another_terminals_young_job_is_not_taken_over(bench) -> None:  # type: ignore[no-untyped-def]
    path, db = bench
    job = killed_while_following(path, db, new_order(db))
    report = settle_unfinished_jobs(db, Actor("admin", "other-term"), Settings(), own_terminal=True)
    assert report.left == (job.id,) and the_job(db).status == "submitted"
    # …but once older than any follower waits, it is.
    report = reconcile_print_jobs(
        db, Actor("admin", "other-term"), CupsPrinter(), orphaned_after_s=0.0
    )
    assert report.failed == (job.id,)


def test_a_job_cancelled_in_cups_fails_with_the_reason(bench) -> None:  # type: ignore[no-untyped-def]
    path, db = bench
    number = new_order(db)
    job = killed_while_following(path, db, number)
    subprocess.run(["cancel", str(job.cups_job_id)], check=True)
    report = run("printers", db=path)
    assert "Unfinished print jobs: 1 failed." in report.stderr
    after = the_job(db)
    assert after.status == "failed" and f"CUPS job {job.cups_job_id} is canceled" in (
        after.error or ""
    )
    assert status_of(db, number) == "new"


def test_a_job_cups_never_got_fails_without_asking(db) -> None:  # type: ignore[no-untyped-def]
    """Killed between writing the job and handing it to CUPS: no CUPS id to ask about."""
    from tests.operations.seed import seed

    seed(db)
    with db.write() as s:
        s.add(PrintJob(kind="slip", ref="5001", printer=PDF_QUEUE, status="submitted"))

    class NoCups:
        def job_status(self, job_id: int) -> None:
            raise AssertionError("must not ask")

        def cancel(self, job_id: int) -> None:
            raise AssertionError("must not cancel")

    young = reconcile_print_jobs(db, Actor("admin", TERMINAL), NoCups(), orphaned_after_s=60)
    assert young.left and the_job(db).status == "submitted"
    old = reconcile_print_jobs(db, Actor("admin", TERMINAL), NoCups(), orphaned_after_s=0)
    assert old.failed and the_job(db).status == "failed"
    assert "before CUPS confirmed" in (the_job(db).error or "")
    assert status_of(db, "5001") == "new"


async def test_the_app_starting_again_on_the_killed_terminal_settles_its_job(bench) -> None:  # type: ignore[no-untyped-def]
    from packbench.app import PackbenchApp
    from packbench.config import load_settings

    path, db = bench
    number = new_order(db)
    job = killed_while_following(path, db, number)
    app = PackbenchApp(
        settings=load_settings(None, db=str(path), station="admin"), db=db, terminal=TERMINAL
    )
    async with app.run_test(size=(140, 42)) as pilot:
        for _ in range(300):
            if any("Unfinished" in text for _, text in app.feedback_log):
                break
            await pilot.pause(0.05)
        assert ("error", "Unfinished print jobs: 1 failed.") in app.feedback_log
    assert the_job(db).status == "failed"
    assert CupsPrinter().job_status(job.cups_job_id or 0).state == "canceled"  # type: ignore[union-attr]
    assert status_of(db, number) == "new"
