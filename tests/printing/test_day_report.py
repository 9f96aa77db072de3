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
