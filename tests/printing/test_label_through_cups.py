"""Labels as printed: through CUPS' PDF queue (Ghostscript re-renders them), read back.

The label PDF is written with cached font subsets, hex-string text and hand-written PDF
operators (#20): what a printer's path does with it is what counts. Each label is sent as
the bench sends it (its own page size, no fitting), and the file cups-pdf writes is rendered
at 203 dpi and its codes decoded.

Only ASCII text is asserted on the printed file: Ghostscript keeps the embedded glyphs (the
letters print right) but not what they extract as outside ASCII — "Åse" extracts as "Ñse"
now and as "se" with the code before #20; a PDF reader is not the printer.
"""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest
import zxingcpp

from packbench.operations.views import Address
from packbench.printing.cups import CupsPrinter
from packbench.printing.labels import render_label
from tests.printing.conftest import PDF_QUEUE, find_pdf
from tests.printing.test_documents import MM, SSCC, TRACKING, label, one_line, render_203

FOREIGN = Address("Ελένη (Łódź) \\ Tj ET", "ООО Ромашка", "ul. Piotrkowska 1", "", "0150",
                  "Oslo", "PL")  # fmt: skip


@pytest.mark.parametrize(
    ("size", "recipient"),
    [("102x152", None), ("100x190", FOREIGN)],
    ids=["102x152", "100x190-foreign"],
)
def test_a_label_through_the_pdf_queue_still_reads(
    cups_ready: None, size: str, recipient: Address | None
) -> None:
    lab = label() if recipient is None else label(recipient=recipient)
    data = render_label(lab, size)
    options = {"PageSize": f"Custom.{size}mm", "fit-to-page": "false"}
    outcome = CupsPrinter().print(PDF_QUEUE, data, title=f"label {size}", options=options)
    assert outcome.completed, outcome.message
    printed = find_pdf(outcome.job_id).read_bytes()
    pdf = pdfium.PdfDocument(printed)
    try:
        page = pdf[0]
        width, height = page.get_size()
        image = render_203(page)
        textpage = page.get_textpage()
        text = one_line(textpage.get_text_range())
        textpage.close()
        page.close()
    finally:
        pdf.close()
    w_mm, h_mm = (int(v) for v in size.split("x"))
    assert abs(width - w_mm * MM) < 1 and abs(height - h_mm * MM) < 1
    codes = {(c.text, c.symbology_identifier) for c in zxingcpp.read_barcodes(image)}
    assert (TRACKING, "]C0") in codes
    assert (f"(00){SSCC}", "]C1") in codes
    assert (f"https://sporing.posten.no/sporing/{TRACKING}", "]Q1") in codes
    assert "Fjordhandel AS" in text and lab.recipient.address1 in text
    if recipient is not None:
        assert ") \\ Tj ET" in text  # the name's operator-like end was drawn as text
