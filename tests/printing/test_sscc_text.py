"""The SSCC's human-readable line grouped by the shop's company prefix, on PDF and ZPL
labels and the manifest, and read back by the scanner's classifier."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import zxingcpp

from packbench.core.codes import CodeKind, classify, make_sscc
from packbench.printing.common import sscc_text
from packbench.printing.documents import ManifestInput, ManifestParcel, render_label
from packbench.printing.manifest import render_manifest
from packbench.printing.zpl import render_zpl
from tests.printing.test_documents import SHOP, by_format, one_line, pages
from tests.printing.test_documents import label as pdf_label
from tests.printing.test_zpl import field_texts

PREFIX9 = "707123456"
SSCC9 = make_sscc(3, PREFIX9, 1)


@pytest.mark.parametrize(
    ("prefix", "serial", "shown"),
    [
        ("7071234", 1, "(00) 3 7071234 000000001 6"),
        ("70712345", 1, "(00) 3 70712345 00000001 1"),
        (PREFIX9, 1, "(00) 3 707123456 0000001 5"),
        ("7071234567", 1, "(00) 3 7071234567 000001 4"),
    ],
)
def test_the_groups_follow_the_configured_prefix(prefix: str, serial: int, shown: str) -> None:
    sscc = make_sscc(3, prefix, serial)
    assert sscc_text(sscc, prefix) == shown
    scan = classify(shown)  # what a person types from the label is the same SSCC
    assert (scan.kind, scan.value) == (CodeKind.SSCC, sscc)


def test_without_the_shops_prefix_gs1s_prefix_table_or_seven_digits() -> None:
    assert sscc_text("106141412345678908") == "(00) 1 0614141 234567890 8"  # GS1 US range
    # A prefix that is not in the SSCC is not used to group it.
    assert sscc_text(SSCC9, "5901234") == sscc_text(SSCC9)
    with pytest.raises(ValueError, match="18 digits"):
        sscc_text("12345")


def test_a_pdf_label_with_a_nine_digit_prefix() -> None:
    (page,) = pages(render_label(pdf_label(sscc=SSCC9, company_prefix=PREFIX9), "102x152"))
    assert "(00) 3 707123456 0000001 5" in one_line(page.text)
    linear, _ = by_format(page)
    assert f"(00){SSCC9}" in [c.text for c in linear if c.symbology_identifier == "]C1"]


def test_a_zpl_label_with_a_nine_digit_prefix() -> None:
    from tests.printing.test_zpl import label as zpl_label

    zpl = render_zpl(zpl_label(sscc=SSCC9, company_prefix=PREFIX9), "102x152")
    assert "(00) 3 707123456 0000001 5" in field_texts(zpl)


def test_a_manifest_row_with_a_nine_digit_prefix() -> None:
    data = render_manifest(
        ManifestInput(
            carrier="Posten",
            handed_over_at=datetime(2026, 11, 20, 15, 0, tzinfo=UTC),
            parcels=[ManifestParcel(order_number="10234", city="Tromsø", weight_g=900, sscc=SSCC9)],
            shop=SHOP,
            company_prefix=PREFIX9,
        )
    )
    (page,) = pages(data)
    assert "(00) 3 707123456 0000001 5" in one_line(page.text)
    assert zxingcpp.read_barcodes(page.image)
