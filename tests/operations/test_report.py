"""The day report's totals against the seeded bench of the dashboard tests."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
from sqlmodel import select

from packbench.data.engine import Database
from packbench.data.models import Order, Packer, Parcel
from packbench.operations.report import day_report, report_csv, report_pdf
from packbench.printing.common import format_weight
from tests.operations.test_team_dashboard import DAY, bench  # noqa: F401  (the fixture)
from tests.packbench_process import run_packbench

D = date(2026, 11, 20)


def _ship_parcel(db: Database) -> None:
    with db.write() as s:
        second = s.exec(select(Order).where(Order.number == "5002")).one()
        s.add(Parcel(order_id=second.id, seq=1, carrier="Bring", weight_g=800, status="labelled"))


def test_the_day_in_figures(db: Database, bench) -> None:  # noqa: F811
    _ship_parcel(db)
    r = day_report(db, D, DAY)
    assert (r.orders_shipped, r.units_shipped, r.parcels_shipped) == (1, 2, 1)
    assert [(c.carrier, c.orders, c.parcels, c.weight_g) for c in r.carriers] == [
        ("Bring", 1, 1, 800)
    ]
    people = {p.name: p for p in r.people}
    # Two orders (picked both, packed one of them), not three steps.
    assert (people["Kari Nordmann"].orders, people["Kari Nordmann"].units) == (2, 2)
    assert people["Ola Sjef"].orders == 1
    assert (r.scans, r.scan_errors) == (2, 1) and r.scan_error_rate == 0.5
    assert r.short_picks == ("5003: short pick: 1 of 3",)
    assert r.missed_cutoff == ("5001", "5003")
    # Another day has nothing of this one.
    other = day_report(db, date(2026, 11, 21), DAY)
    assert (other.orders_shipped, other.scans, other.short_picks) == (0, 0, ())
    assert other.missed_cutoff == ("5001", "5003")  # still not shipped the next day


def test_csv_and_pdf(db: Database, bench) -> None:  # noqa: F811
    _ship_parcel(db)
    with db.write() as s:  # a hostile name: no formula in the spreadsheet, plain text in the PDF
        kari = s.exec(select(Packer).where(Packer.badge == "BDG-1001")).one()
        kari.name = '=HYPERLINK("http://x")<b>Kari</b>'
        s.add(kari)
    r = day_report(db, D, DAY)
    rows = list(csv.reader(io.StringIO(report_csv(r))))
    assert rows[0][0] == "section"
    assert rows[1][:5] == ["day", "2026-11-20", "1", "2", "1"]
    person = next(row for row in rows if row[0] == "person" and "Kari" in row[1])
    assert person[1].startswith("'=")  # shown as text, never run as a formula
    assert rows[-2][:2] == ["missed_cutoff", "5001"]
    pdf = pdfium.PdfDocument(report_pdf(r, "Fjordhandel AS"))
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "dagsrapport 20.11.2026" in text
    assert "Bring" in text and format_weight(800) in text
    assert "<b>Kari</b>" in text  # drawn as itself, not as markup
    assert "5003: short pick: 1 of 3" in text


def test_report_cli(tmp_path: Path, db: Database, bench) -> None:  # noqa: F811
    _ship_parcel(db)
    path = db.target
    run = ["report", "--db", path, "--date", "2026-11-20"]
    out = run_packbench(*run, "--json", timeout=60)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["orders_shipped"] == 1 and doc["missed_cutoff"] == ["5001", "5003"]
    # Without --json: the day in lines a person reads, not the JSON again.
    text = run_packbench(*run, timeout=60)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("The day 2026-11-20 (")
    assert "Shipped: 1 order, 2 units, 1 parcel" in text.stdout
    assert "Kari Nordmann: 2 orders" in text.stdout
    assert "Paid before the cut-off, not shipped: 5001, 5003" in text.stdout
    assert not text.stdout.lstrip().startswith("{")
    pdf = tmp_path / "day.pdf"
    out = run_packbench(*run, "--pdf", str(pdf), "--csv", "-")
    assert out.returncode == 0, out.stderr
    assert pdf.read_bytes().startswith(b"%PDF") and out.stdout.startswith("section,")
    bad = run_packbench(*run[:-2], "--date", "27/11")
    assert bad.returncode == 2 and "not a date" in bad.stderr
