"""What made labels cheap must not change what is printed (#20).

The QR symbols come from table-driven Reed-Solomon on a per-version template
(``printing.qr``): they must be the very modules reportlab's own encoder makes. The embedded
fonts' subsets come from a cache (``printing.subsets``): a document must be byte for byte
the same whether its subsets were made for it or found in the cache, and text outside the
cached alphabet must still print and extract.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import replace

import pypdfium2 as pdfium
import pytest
from reportlab.graphics.barcode.qr import QrCodeWidget

from packbench.operations.views import Address
from packbench.printing import common
from packbench.printing.qr import qr_matrix
from packbench.printing.subsets import SEED, CachedTTFont
from tests.printing.test_documents import by_format, label, one_line, pages


def _reportlab(text: str, level: str, mask: int) -> list[list[bool]]:
    qr = QrCodeWidget(text, barLevel=level).qr
    qr.version = qr.calculate_version()
    qr.makeImpl(False, mask)
    modules: list[list[bool]] = qr.modules
    return modules


def _texts() -> list[str]:
    rng = random.Random(20)
    texts = ["a", "HELLO WORLD", "0123456789", "https://sporing.posten.no/sporing/RR123456785NO",
             "Åse Ødegård 中文 ^FS\\)(", "https://t.no/" + "x" * 300]  # fmt: skip
    for n in (1, 9, 17, 40, 77, 120, 250, 600):
        texts.append("".join(rng.choice(string.printable[:94]) for _ in range(n)))
        texts.append("".join(rng.choice(string.digits) for _ in range(n)))
        texts.append("".join(rng.choice(string.ascii_uppercase + " $%*+-./:") for _ in range(n)))
    return texts


@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
def test_qr_matrix_is_reportlabs_symbol(level: str) -> None:
    versions = set()
    for text in _texts():
        for mask in range(8):
            expected = _reportlab(text, level, mask)
            assert qr_matrix(text, level=level, mask=mask) == expected, (text[:30], mask)
        versions.add((len(expected) - 17) // 4)
    assert len(versions) >= 10, versions  # small and large versions (7+ carry version info)
    assert max(versions) >= 7


def test_qr_matrix_refuses_what_reportlab_refuses() -> None:
    with pytest.raises(ValueError):
        qr_matrix("x" * 5000)


def test_the_seed_fits_the_first_subset() -> None:
    """Every seeded character gets a code in subset 0, so a label in the seeded alphabet
    embeds one subset per face (one font object, one cache entry)."""
    face = common.fonts()
    if not face.embedded:
        pytest.skip("DejaVu is not installed: the labels use Helvetica")
    data = render(label())
    assert len(set(re.findall(rb"/BaseFont /(\w+)\+DejaVuSans\b", data))) == 1, "one subset"
    font = CachedTTFont("SeedProbe", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    drawable = [c for c in SEED if ord(c) in font.face.charToGlyph]
    assert len(drawable) >= 150
    state = font._seed  # the seeded state is what this test is about
    assert all(state.assignments[ord(c)] < 256 for c in drawable)


def render(lab: object, size: str = "102x152") -> bytes:
    from packbench.printing.labels import render_label

    return render_label(lab, size)  # type: ignore[arg-type]


FOREIGN = Address("Ελένη Παπαδοπούλου", "ООО Ромашка", "Łódź (ul. \\Piotrkowska) 1", "",
                  "0150", "Oslo", "NO")  # fmt: skip


@pytest.mark.parametrize("recipient", [label().recipient, FOREIGN], ids=["seeded", "foreign"])
def test_a_label_is_the_same_bytes_from_a_cold_or_a_warm_cache(recipient: Address) -> None:
    face = common.fonts()
    lab = label(recipient=recipient)
    for font_name in (face.regular, face.bold):
        font = common.pdfmetrics.getFont(font_name)
        if isinstance(font, CachedTTFont):
            font._subsets.clear()  # a cold cache is what this test needs
    cold = render(lab)
    warm = render(lab)
    other = render(replace(lab, order_number="99999"))  # the cache serves another label too
    assert cold == warm
    assert render(lab) == cold
    (page,) = pages(cold)
    text = one_line(page.text)
    for shown in (recipient.name, recipient.address1, "Fjordhandel AS", "Pakke i postkassen"):
        assert shown in text
    linear, qr = by_format(page)
    assert len(linear) == 2 and len(qr) == 1
    (other_page,) = pages(other)
    assert "99999" in other_page.text and recipient.name in one_line(other_page.text)


def test_a_foreign_name_embeds_a_second_subset_that_extracts() -> None:
    if not common.fonts().embedded:
        pytest.skip("DejaVu is not installed: the labels use Helvetica")
    data = render(label(recipient=FOREIGN), "100x190")
    names = set(re.findall(rb"/BaseFont /(\w+)\+DejaVuSans-Bold\b", data))
    assert len(names) == 2, names  # Greek and Cyrillic did not fit the seeded subset
    (page,) = pages(data)
    text = page.text
    assert "Ελένη Παπαδοπούλου" in one_line(text) and "ООО Ромашка" in one_line(text)


# --------------------------------------------------------------------------- text as operators

HOSTILE_FIELDS = {
    "name": "Ola (Nordmann)) Tj ET 0 0 612 792 re f BT (",
    "company": "Back\\slash \\) \\\\ AS <00ff> [arr] %comment",
    "address1": "Gate 1\nET Q 0 0 m 300 300 l S q BT\r\nnew line",
    "city": "Łódź Ελλάδα 東京 \U0001f4e6",
}


def _content(data: bytes) -> str:
    """The label page's content stream, decoded (ASCII85 + Flate, as reportlab writes it)."""
    import zlib

    from reportlab.pdfbase.pdfdoc import asciiBase85Decode

    start = data.index(b"stream\n", data.index(b"/ASCII85Decode")) + 7
    end = data.index(b"endstream", start)
    return zlib.decompress(asciiBase85Decode(data[start:end].strip())).decode("latin-1")


def _object_types(data: bytes) -> list[int]:
    pdf = pdfium.PdfDocument(data)
    try:
        page = pdf[0]
        types = sorted(obj.type for obj in page.get_objects())
        page.close()
    finally:
        pdf.close()
    return types


@pytest.mark.parametrize("helvetica", [False, True], ids=["dejavu", "helvetica"])
def test_hostile_text_cannot_add_pdf_operators(
    helvetica: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parentheses, backslashes, operator names, line breaks and characters outside Latin-1
    in every customer field: the label shows them (cleaned) as text and nothing else — the
    same page objects as a plain label, every string shown as hex, both barcodes and the
    QR code still read."""
    if helvetica:
        monkeypatch.setattr(common, "FONT_DIRS", ())
    common.fonts.cache_clear()
    try:
        plain = Address("Kari Nordmann", "Firma AS", "Gate 1 new line", "", "0150",
                        "Oslo Hellas Tokyo", "NO")  # fmt: skip
        hostile = replace(plain, **HOSTILE_FIELDS)
        lab = label(recipient=hostile, sender=hostile, service=HOSTILE_FIELDS["company"],
                    carrier=HOSTILE_FIELDS["name"], order_number="(1)\\")  # fmt: skip
        data = render(lab)
        baseline = render(label(recipient=plain, sender=plain, service="Back", carrier="Ola",
                                order_number="11"))  # fmt: skip
        assert _object_types(data).count(2) == _object_types(baseline).count(2)  # paths
        content = _content(data)
        shown = re.findall(r"(\S+) Tj", content)
        assert shown and all(re.fullmatch(r"<[0-9a-f]*>", s) for s in shown), shown[:5]
        assert not re.search(r"\(.*\) Tj", content)
        (page,) = pages(data)
        text = one_line(page.text)
        for field in ("name", "company"):
            assert common.clean(HOSTILE_FIELDS[field]) in text
        assert "Gate 1 ET Q 0 0 m 300 300 l S q BT new line" in text
        # DejaVu has Greek but no Han or emoji; Helvetica (WinAnsi) has ó, folds Ł and ź
        assert ("0150 Lódz ?????? ?? ?" if helvetica else "0150 Łódź Ελλάδα ?? ?") in text
        linear, qr = by_format(page)
        assert sorted(c.text for c in linear) == sorted([lab.tracking_number, f"(00){lab.sscc}"])
        assert len(qr) == 1
    finally:
        common.fonts.cache_clear()
