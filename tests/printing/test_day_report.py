"""The day report printed through the real CUPS PDF queue and read back."""

from __future__ import annotations

import pypdfium2 as pdfium

from packbench.config import load_settings
from packbench.data.engine import Database
from packbench.operations.common import Actor
from packbench.operations.report import print_day_report
from tests.operations.test_team_dashboard import DAY, bench  # noqa: F401  (the fixture)
from tests.printing.conftest import find_pdf


def test_day_report_prints_through_cups(cups_ready, db: Database, bench) -> None:  # noqa: F811
    from datetime import date

    settings = load_settings(None, db="unused.db").model_copy(update={"day": DAY})
    actor = Actor("dashboard", "office", 2, "Ola Sjef", "supervisor")
    result = print_day_report(db, actor, settings, date(2026, 11, 20))
    assert result.ok, result.message
    pdf = pdfium.PdfDocument(find_pdf(result.cups_job_id).read_bytes())
    text = pdf[0].get_textpage().get_text_range()
    assert "dagsrapport 20.11.2026" in text and "Kari Nordmann" in text


def test_a_printed_day_report_can_be_reprinted(cups_ready, db: Database, bench) -> None:  # noqa: F811
    from datetime import date

    from packbench.operations.printing import reprint
    from packbench.printing.cups import CupsPrinter

    settings = load_settings(None, db="unused.db").model_copy(update={"day": DAY})
    actor = Actor("dashboard", "office", 2, "Ola Sjef", "supervisor")
    first = print_day_report(db, actor, settings, date(2026, 11, 20))
    assert first.ok and first.print_job_id is not None
    again = reprint(db, actor, CupsPrinter(), first.print_job_id, settings)
    assert again.ok, again.message
    assert again.print_job_id != first.print_job_id
    pdf = pdfium.PdfDocument(find_pdf(again.cups_job_id).read_bytes())
    assert "dagsrapport 20.11.2026" in pdf[0].get_textpage().get_text_range()
