"""Printing into a folder: a bench without CUPS prints on (issue #16's dead end).

No CUPS is needed or used here: these tests run on any machine.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlmodel import select

from packbench.config import Settings
from packbench.data.engine import Database
from packbench.data.models import PrintJob
from packbench.operations.common import Actor
from packbench.operations.orders import status_counts
from packbench.operations.printing import print_new_slips, reconcile_print_jobs
from packbench.printing.cups import JobStatus, PrintError, make_printer
from packbench.printing.folder import FolderPrinter, Printers, folder_queue
from tests.operations.seed import seed
from tests.printing.test_documents import pages

ACTOR = Actor("admin", "t1", 1, "Kari Nordmann", "packer")


def _with_folder(settings: Settings, folder: Path) -> Settings:
    queue = folder_queue(folder)
    printers = settings.printers.model_copy(
        update={"slip": queue, "label": queue, "manifest": queue}
    )
    return settings.model_copy(update={"printers": printers})


def test_a_document_is_written_whole_and_private(tmp_path: Path) -> None:
    printer = FolderPrinter()
    queue = folder_queue(tmp_path)
    job = printer.submit(queue, b"%PDF-1.4 slip", title="Slips 5001, 5002 / ÆØÅ")
    assert job < 0  # told apart from CUPS' ids
    (written,) = tmp_path.iterdir()
    assert written.suffix == ".pdf" and written.read_bytes() == b"%PDF-1.4 slip"
    assert "/" not in written.name.removesuffix(".pdf").split("-", 2)[-1]
    assert stat.S_IMODE(written.stat().st_mode) == 0o600  # slips carry addresses
    assert printer.wait(job, queue=queue).completed
    zpl = printer.submit(queue, b"^XA^XZ", title="label", raw=True)
    assert any(p.suffix == ".zpl" for p in tmp_path.iterdir()) and zpl < 0
    assert printer.queue(queue).accepting


def test_a_folder_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    missing = folder_queue(tmp_path / "nowhere")
    printer = FolderPrinter()
    assert not printer.queue(missing).accepting
    with pytest.raises(PrintError, match="cannot write into"):
        printer.submit(missing, b"%PDF", title="x")
    with pytest.raises(PrintError, match="needs a folder"):
        printer.submit("folder:", b"%PDF", title="x")


class _NoCups:
    """A CUPS adapter that must not be asked anything for a folder queue."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"CUPS asked for {name}")


def test_folder_names_never_reach_cups(tmp_path: Path) -> None:
    printers = Printers(_NoCups())
    queue = folder_queue(tmp_path)
    outcome = printers.print(queue, b"%PDF", title="t")
    assert outcome.completed
    assert isinstance(printers.job_status(outcome.job_id), JobStatus)
    printers.cancel(outcome.job_id)  # a no-op, never CUPS
    assert isinstance(make_printer(), Printers)


def test_f7_without_cups_prints_the_slips_into_the_folder(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    seed(db)
    folder = tmp_path / "printed"
    folder.mkdir()
    result = print_new_slips(db, ACTOR, _with_folder(settings, folder))
    assert result.ok, result.message
    # Written into a folder: no CUPS job to name (it said "CUPS job -567926962").
    assert result.message == f"Slip printed on folder:{folder} (3 orders).", result.message
    counts = status_counts(db)
    assert counts["new"] == 0 and counts["slip_printed"] == 3
    (written,) = folder.iterdir()
    texts = [code.text for page in pages(written.read_bytes()) for code in page.codes()]
    assert {"ORD-5001", "ORD-5002", "ORD-5003"} <= set(texts)


def test_a_failed_folder_print_marks_nothing(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    seed(db)
    result = print_new_slips(db, ACTOR, _with_folder(settings, tmp_path / "gone"))
    assert not result.ok and "cannot write into" in result.message
    assert status_counts(db)["new"] == 3


def test_a_folder_job_left_submitted_by_a_crash_is_settled_as_printed(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    seed(db)
    folder = tmp_path / "printed"
    folder.mkdir()
    result = print_new_slips(db, ACTOR, _with_folder(settings, folder))
    assert result.ok
    with db.write() as s:  # as if the app died between the write and recording it
        job = s.exec(select(PrintJob)).one()
        job.status = "submitted"
        s.add(job)
    settled = reconcile_print_jobs(db, ACTOR, make_printer(), orphaned_after_s=3600)
    assert settled.completed == (job.id,)


def test_the_demo_on_a_machine_without_cups_prints_into_a_folder(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from packbench.cli import bench as cli_bench
    from packbench.printing import cups

    monkeypatch.setattr(cups, "cups_available", lambda: True)
    # With CUPS the demo prints as configured.
    assert cli_bench._demo_printers(settings, tmp_path / "demo.db") is settings
    monkeypatch.setattr(cups, "cups_available", lambda: False)
    changed = cli_bench._demo_printers(settings, tmp_path / "demo.db")
    folder = tmp_path / "demo-printed"
    for station in ("admin", "ship", "post"):
        choice = changed.printers.for_station(station)
        assert choice.slip == choice.label == choice.manifest == folder_queue(folder)
    assert folder.is_dir() and stat.S_IMODE(folder.stat().st_mode) == 0o700
