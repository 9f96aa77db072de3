"""Slips and labels from the demo database, through a real CUPS, read back by their barcodes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp

from packbench.core.codes import is_valid_sscc
from tests.packbench_process import run_packbench
from tests.printing.conftest import PDF_QUEUE, find_pdf

MM = 72 / 25.4


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_packbench(*args, timeout=120)


def barcodes(pdf_path: Path) -> list[list[tuple[str, str]]]:
    """Per page: (text, symbology identifier) of every barcode, rendered at 203 dpi."""
    pages = []
    for page in pdfium.PdfDocument(pdf_path):
        image = page.render(scale=203 / 72, grayscale=True).to_pil()
        pages.append([(r.text, r.symbology_identifier) for r in zxingcpp.read_barcodes(image)])
    return pages


@pytest.fixture
def demo_file(tmp_path: Path) -> Path:
    path = tmp_path / "demo.db"
    assert run("init", "--db", str(path), "--demo").returncode == 0
    return path


def orders(db: Path, status: str) -> list[dict]:
    return json.loads(run("orders", "--db", str(db), "--status", status, "--json").stdout)


def test_slips_print_as_one_job_and_open_their_orders(cups_ready, demo_file: Path) -> None:  # type: ignore[no-untyped-def]
    numbers = [o["number"] for o in orders(demo_file, "new")][:3]
    result = run("print", "slip", *numbers, "--db", str(demo_file), "--printer", PDF_QUEUE)
    assert result.returncode == 0, result.stderr
    assert f"Slip printed on {PDF_QUEUE} (3 orders), CUPS job " in result.stdout
    job = int(result.stdout.strip().rsplit(" ", 1)[1].rstrip("."))
    found = {text for page in barcodes(find_pdf(job)) for text, _ in page}
    assert {f"ORD-{n}" for n in numbers} <= found
    now = {o["number"]: o["status"] for o in orders(demo_file, "slip_printed")}
    assert all(now.get(n) == "slip_printed" for n in numbers)


def test_label_pdf_keeps_its_size_and_its_numbers(
    cups_ready, demo_file: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    shipped = orders(demo_file, "shipped")[0]
    parcel = shipped["parcels"][0]
    out = tmp_path / "label.pdf"
    result = run(
        "print",
        "label",
        parcel["sscc"],
        "--db",
        str(demo_file),
        "--format",
        "pdf",
        "--size",
        "100x190",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert "nothing was marked printed" in result.stdout
    page = pdfium.PdfDocument(out)[0]
    width, height = page.get_size()
    assert abs(width - 100 * MM) < 0.01 and abs(height - 190 * MM) < 0.01
    decoded = barcodes(out)[0]
    assert (parcel["tracking_number"], "]C0") in decoded
    gs1 = [t for t, sym in decoded if sym == "]C1"]
    assert len(gs1) == 1 and gs1[0].replace("(", "").replace(")", "").endswith(parcel["sscc"])
    assert is_valid_sscc(parcel["sscc"])

    printed = run(
        "print",
        "label",
        parcel["tracking_number"],
        "--db",
        str(demo_file),
        "--format",
        "pdf",
        "--printer",
        PDF_QUEUE,
    )
    assert printed.returncode == 0, printed.stderr


def test_unknown_parcel_is_one_clear_line(cups_ready, demo_file: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("print", "label", "RR999999999NO", "--db", str(demo_file), "--printer", PDF_QUEUE)
    assert result.returncode == 1
    assert result.stderr.strip() == "packbench: No parcel has the label “RR999999999NO”."


def test_a_missing_printer_marks_nothing(cups_ready, demo_file: Path) -> None:  # type: ignore[no-untyped-def]
    number = orders(demo_file, "new")[0]["number"]
    result = run("print", "slip", number, "--db", str(demo_file), "--printer", "GONE")
    assert result.returncode == 1 and "no printer queue called “GONE”" in result.stderr
    assert number in {o["number"] for o in orders(demo_file, "new")}
