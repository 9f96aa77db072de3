"""The CUPS adapter against a real scheduler: completed, stopped, missing, raw bytes — both
the pycups one and the command-line one (lp, lpstat, ipptool) used where pycups is missing."""

from __future__ import annotations

import subprocess

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from packbench.printing.cups import CupsPrinter, LpPrinter, PrintError, make_printer
from tests.printing import conftest
from tests.printing.conftest import PDF_QUEUE, RAW_QUEUE, find_pdf


def tiny_pdf(text: str) -> bytes:
    import io

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.drawString(100, 700, text)
    c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture(params=[CupsPrinter, LpPrinter], ids=["pycups", "lp"])
def adapter(request):  # type: ignore[no-untyped-def]
    return request.param


def test_queues_are_listed(cups_ready: None, adapter) -> None:  # type: ignore[no-untyped-def]
    names = {q.name: q for q in adapter().queues()}
    assert names[PDF_QUEUE].accepting and names[PDF_QUEUE].state in ("idle", "printing")
    assert names[RAW_QUEUE].device == f"socket://127.0.0.1:{conftest.RAW_PORT}"


def test_a_pdf_job_completes_and_lands_as_a_file(cups_ready: None, adapter) -> None:  # type: ignore[no-untyped-def]
    outcome = adapter().print(PDF_QUEUE, tiny_pdf("Bjørn Ødegård"), title="slip test")
    assert outcome.completed, outcome.message
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(find_pdf(outcome.job_id))
    assert "Bjørn Ødegård" in pdf[0].get_textpage().get_text_range()


def test_raw_bytes_reach_the_thermal_printer_unchanged(thermal, adapter) -> None:  # type: ignore[no-untyped-def]
    zpl = b"^XA^CI28^FO50,50^FH^FDBj_C3_B8rn^FS^XZ"
    outcome = adapter().print(RAW_QUEUE, zpl, title="label", raw=True)
    assert outcome.completed, outcome.message
    assert zpl in thermal.wait_for(1)


def test_a_stopped_printer_times_out_cancels_and_says_so(cups_ready: None, adapter) -> None:  # type: ignore[no-untyped-def]
    subprocess.run(["cupsdisable", PDF_QUEUE], check=True)
    try:
        outcome = adapter().print(PDF_QUEUE, tiny_pdf("x"), title="stopped", timeout_s=1.5)
    finally:
        subprocess.run(["cupsenable", PDF_QUEUE], check=True)
    assert not outcome.completed
    assert outcome.state == "timeout"
    assert f"printer “{PDF_QUEUE}” is stopped" in outcome.message
    assert "cancelled" in outcome.message


def test_an_unknown_queue_is_a_clear_error(cups_ready: None, adapter) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PrintError, match="no printer queue called “NOPE”"):
        adapter().print("NOPE", b"x", title="x")


def test_a_queue_that_rejects_jobs_is_refused(cups_ready: None, adapter) -> None:  # type: ignore[no-untyped-def]
    subprocess.run(["cupsreject", PDF_QUEUE], check=True)
    try:
        with pytest.raises(PrintError, match="not accepting jobs"):
            adapter().print(PDF_QUEUE, tiny_pdf("x"), title="rejected")
    finally:
        subprocess.run(["cupsaccept", PDF_QUEUE], check=True)


def test_printers_command_lists_queues_and_flags_missing_ones(cups_ready: None, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from tests.packbench_process import run_packbench

    listed = run_packbench("printers", "--json", timeout=60)
    assert listed.returncode == 0, listed.stderr
    names = {q["name"] for q in json.loads(listed.stdout)}
    assert {PDF_QUEUE, RAW_QUEUE} <= names
    cfg = tmp_path / "c.toml"
    cfg.write_text('[printers.stations.ship]\nlabel = "ZEBRA-GONE"\n', encoding="utf-8")
    table = run_packbench("printers", "--config", str(cfg), timeout=60)
    assert table.returncode == 1
    assert "configured but missing in CUPS: ZEBRA-GONE" in table.stderr


def test_the_command_line_adapter_tells_cancelled_from_completed(cups_ready: None) -> None:
    """lpstat lists cancelled jobs among the completed ones; ipptool's job-state does not."""
    lp = LpPrinter()
    subprocess.run(["cupsdisable", PDF_QUEUE], check=True)
    try:
        job = lp.submit(PDF_QUEUE, tiny_pdf("x"), title="to cancel")
        lp.cancel(job)
    finally:
        subprocess.run(["cupsenable", PDF_QUEUE], check=True)
    status = lp.job_status(job)
    assert (
        status is not None
        and status.state == "canceled"
        and not lp.wait(job, queue=PDF_QUEUE, timeout_s=5).completed
    )
    assert lp.job_status(99_999_999) is None


def test_make_printer_picks_pycups_when_it_is_there() -> None:
    assert type(make_printer().cups) is CupsPrinter  # pycups is installed for the tests


def test_without_pycups_the_command_line_adapter_is_used(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import sys

    monkeypatch.setitem(sys.modules, "cups", None)  # `import cups` fails, as without pycups
    printer = make_printer(server="printsrv:631")
    assert type(printer.cups) is LpPrinter and printer.server == "printsrv:631"


def test_a_dead_scheduler_is_a_clear_error(cups_ready: None, adapter) -> None:  # type: ignore[no-untyped-def]
    dead = adapter(server="127.0.0.1:1")  # nothing listens there
    with pytest.raises(PrintError, match="print server does not answer"):
        dead.print(PDF_QUEUE, tiny_pdf("x"), title="nobody home")
    # ...and the next adapter for the local scheduler is not led astray by it.
    assert adapter().print(PDF_QUEUE, tiny_pdf("y"), title="home again").completed
