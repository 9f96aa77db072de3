"""Shipping labels as PDF: one page per parcel, the page exactly the label's size.

The page is the label (102×152 mm, the 4×6 inch roll, or 100×190 mm, the "10×19" roll) so
that nothing between here and the printer has a reason to scale it: a scaled barcode no
longer has bars of whole printer dots. From top to bottom: sender and carrier, recipient,
weight / parcel n of m / order, the tracking number as Code 128, then the SSCC as GS1-128
(FNC1, AI 00) beside a QR code of the tracking link.

Every box has a fixed height decided here, and text is fitted into it (shrunk, wrapped,
clipped with an ellipsis), so a 5,000-character street name cannot push the barcodes off
the label. Postcode and city always get their line: the carrier sorts on them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from reportlab.lib.rl_accel import fp_str
from reportlab.pdfgen.canvas import Canvas

from packbench.core.codes import is_valid_sscc
from packbench.printing.common import (
    MM,
    AddressLike,
    ShopInfo,
    address_lines,
    check_code,
    clean,
    code128_width,
    draw_code128,
    draw_lines,
    draw_qr,
    fit,
    fonts,
    format_weight,
    gs1_128,
    new_canvas,
    snap,
    sscc_text,
    text_width,
    wrap,
)
from packbench.printing.pdfops import text_ops, write

__all__ = ["LABEL_SIZES", "LabelInput", "LabelSize", "render_label", "render_labels"]

LabelSize = Literal["102x152", "100x190"]


@dataclass(frozen=True)
class LabelInput:
    """Everything one parcel's label shows.

    ``tracking_url`` is the link for the QR code; a template with ``{tracking}`` (as in the
    carrier settings, ``https://sporing.posten.no/sporing/{tracking}``) is filled in here.
    ``sender`` is the shop (:class:`ShopInfo`) or any address.
    """

    sender: ShopInfo | AddressLike
    recipient: AddressLike
    carrier: str
    service: str
    weight_g: int
    parcel_no: int
    parcel_count: int
    tracking_number: str
    sscc: str
    tracking_url: str
    order_number: str
    #: The shop's GS1 company prefix, to group the SSCC's text; see ``sscc_text``.
    company_prefix: str = ""

    def url(self) -> str:
        # replace, not str.format: a stray "{" in a configured URL must not raise
        return self.tracking_url.replace("{tracking}", self.tracking_number)


@dataclass(frozen=True)
class _Layout:
    """Heights in millimetres, top to bottom; the SSCC section takes what is left."""

    width_mm: float
    height_mm: float
    header_mm: float
    recipient_mm: float
    info_mm: float
    tracking_mm: float
    tracking_bar_mm: float
    name_pt: float
    address_pt: float
    city_pt: float


LABEL_SIZES: dict[str, _Layout] = {
    "102x152": _Layout(102, 152, 18, 41, 10, 31, 19, 13, 11, 16),
    "100x190": _Layout(100, 190, 22, 50, 12, 40, 27, 15, 12.5, 19),
}
MARGIN = 3 * MM
RULE = 1.0  # points; black only: thermal printers dither grey


def _check(label: LabelInput) -> None:
    """Our own numbers must be right: a label with a wrong SSCC is worse than no label."""
    check_code(label.tracking_number, "the tracking number")
    if not is_valid_sscc(label.sscc):
        raise ValueError(f"{label.sscc!r} is not a valid 18-digit SSCC")
    if label.weight_g < 0:
        raise ValueError(f"the weight cannot be negative ({label.weight_g} g)")
    if not 1 <= label.parcel_no <= label.parcel_count:
        raise ValueError(f"parcel {label.parcel_no} of {label.parcel_count} does not exist")


def _rule(canvas: Canvas, y: float, width: float) -> None:
    _line(canvas, RULE, MARGIN, y, width - MARGIN, y)


def _line(canvas: Canvas, width: float, x1: float, y1: float, x2: float, y2: float) -> None:
    write(canvas, f"q {fp_str(width)} w {fp_str(x1, y1)} m {fp_str(x2, y2)} l S Q")


def _small(canvas: Canvas, text: str, x: float, y: float) -> None:
    """A field caption ("Til", "Vekt"): small, so the values stand out."""
    text_ops(canvas, text, x, y, fonts().regular, 6.5)


def _header(canvas: Canvas, label: LabelInput, lay: _Layout, top: float, width: float) -> None:
    f = fonts()
    inner = width - 2 * MARGIN
    left_w, right_w = inner * 0.58, inner * 0.40
    _small(canvas, "Fra / From", MARGIN, top - 7)
    sender = [clean(line, limit=200) for line in address_lines(label.sender)]
    size = 7.5
    budget = int((lay.header_mm * MM - 10) // (size * 1.2))
    lines: list[tuple[str, str]] = []
    for i, line in enumerate(sender):
        room = budget - len(lines)
        if room <= 0:
            break
        font = f.bold if i == 0 else f.regular
        most = min(2 if i == 0 else 1, room)
        lines += [(font, text) for text in wrap(line, font, size, left_w, most)]
    y = top - 8
    for font, text in lines:
        y = draw_lines(canvas, [text], MARGIN, y, font, size)
    carrier, csize = fit(clean(label.carrier, limit=60), f.bold, 16, right_w, 9)
    text_ops(canvas, carrier, width - MARGIN, top - 4 - csize, f.bold, csize, "right")
    service = wrap(clean(label.service, limit=120), f.regular, 8.5, right_w, 2)
    y = top - 8 - csize
    for line in service:
        y -= 10
        text_ops(canvas, line, width - MARGIN, y, f.regular, 8.5, "right")


def _recipient(canvas: Canvas, r: AddressLike, lay: _Layout, top: float, width: float) -> None:
    """Name, company, street lines, then postcode and city (always) and a foreign country.

    Lines are given out top to bottom with the postcode line and the country reserved first,
    so an overlong name or street is cut short, never the postcode.
    """
    f = fonts()
    inner = width - 2 * MARGIN - 4 * MM
    x = MARGIN + 4 * MM
    _small(canvas, "Til / To", MARGIN, top - 7)
    name_pt, addr_pt, city_pt = lay.name_pt, lay.address_pt, lay.city_pt
    country = next(
        (line for line in address_lines(r)[-1:] if r.country and line == r.country.upper()), ""
    )
    city_line, city_pt = fit(clean(f"{r.postcode} {r.city}", limit=200), f.bold, city_pt, inner, 9)
    reserved = city_pt * 1.2 + (addr_pt * 1.2 if country else 0)
    space = lay.recipient_mm * MM - 9 - reserved
    fields = [
        (clean(r.name, limit=300), f.bold, name_pt, 2),
        (clean(r.company, limit=300), f.regular, addr_pt, 1),
        (clean(r.address1, limit=400), f.regular, addr_pt, 2),
        (clean(r.address2, limit=400), f.regular, addr_pt, 1),
    ]
    y = top - 8
    for text, font, size, most in fields:
        if not text:
            continue
        fits = int(space // (size * 1.2))
        lines = wrap(text, font, size, inner, min(most, fits))
        if not lines:
            continue
        space -= len(lines) * size * 1.2
        y = draw_lines(canvas, lines, x, y, font, size)
    y = draw_lines(canvas, [city_line], x, y, f.bold, city_pt)
    if country:
        text, size = fit(clean(country, limit=60), f.regular, addr_pt, inner, 7)
        draw_lines(canvas, [text], x, y, f.regular, size)


def _info(canvas: Canvas, label: LabelInput, lay: _Layout, top: float, width: float) -> None:
    f = fonts()
    inner = width - 2 * MARGIN
    cells = [
        ("Vekt / Weight", format_weight(label.weight_g)),
        ("Kolli / Parcel", f"{label.parcel_no} av {label.parcel_count}"),
        ("Ordre / Order", clean(label.order_number, limit=40)),
    ]
    cell_w = inner / len(cells)
    for i, (caption, value) in enumerate(cells):
        x = MARGIN + i * cell_w
        _small(canvas, caption, x, top - 7)
        text, size = fit(value, f.bold, 11 if lay.info_mm < 11 else 13, cell_w - 2 * MM, 7)
        text_ops(canvas, text, x, top - lay.info_mm * MM + 2.5, f.bold, size)
        if i:
            _line(canvas, 0.5, x - 1.5 * MM, top - 1.5, x - 1.5 * MM, top - lay.info_mm * MM + 1.5)


def _tracking(canvas: Canvas, label: LabelInput, lay: _Layout, top: float, width: float) -> None:
    f = fonts()
    _small(canvas, "Sporingsnummer / Tracking number", MARGIN, top - 7)
    symbol = code128_width(label.tracking_number)
    if symbol > width:
        raise ValueError(
            f"the tracking number {label.tracking_number!r} is too long for a Code 128 with "
            f"3-dot bars on a {lay.width_mm:g} mm wide label"
        )
    bar_h = lay.tracking_bar_mm * MM
    bottom = top - 9 - bar_h
    first, last = draw_code128(canvas, label.tracking_number, (width - symbol) / 2, bottom, bar_h)
    text, size = fit(label.tracking_number, f.bold, 11, width - 2 * MARGIN, 7)
    text_ops(canvas, text, (first + last) / 2, snap(bottom) - size - 1, f.bold, size, "centre")


def _sscc(canvas: Canvas, label: LabelInput, top: float, width: float) -> None:
    """GS1-128 of AI (00) + SSCC on the left, the tracking link's QR code on the right."""
    f = fonts()
    data = gs1_128("00" + label.sscc)
    symbol = code128_width(data)
    avail_h = top - MARGIN
    _small(canvas, "SSCC", MARGIN, top - 7)
    hri = 10.0
    bar_h = avail_h - 9 - hri * 1.4
    bottom = MARGIN + hri * 1.4
    first, last = draw_code128(canvas, data, MARGIN - 2 * MM, bottom, bar_h)
    text = sscc_text(label.sscc, label.company_prefix)
    if text_width(text, f.bold, hri) > last - first + 6 * MM:
        text, _ = fit(text, f.bold, hri, last - first + 6 * MM, 7)
    text_ops(canvas, text, (first + last) / 2, MARGIN + 1, f.bold, hri, "centre")
    # The QR code takes the square right of the GS1-128's quiet zone, centred in it.
    room = min(width - 1 * MM - (MARGIN - 2 * MM + symbol), avail_h - 8)
    left, bottom = width - 1 * MM - room, MARGIN + (avail_h - room) / 2
    side = draw_qr(canvas, label.url(), left, bottom, room)
    if side:
        below = bottom + (room - side) / 2 - 5
        text_ops(canvas, "Spor pakken", left + room / 2, below, f.regular, 6, "centre")


def _draw_label(canvas: Canvas, label: LabelInput, lay: _Layout) -> None:
    width, height = lay.width_mm * MM, lay.height_mm * MM
    top = height - MARGIN
    _header(canvas, label, lay, top, width)
    top -= lay.header_mm * MM
    _rule(canvas, top, width)
    _recipient(canvas, label.recipient, lay, top, width)
    top -= lay.recipient_mm * MM
    _rule(canvas, top, width)
    _info(canvas, label, lay, top, width)
    top -= lay.info_mm * MM
    _rule(canvas, top, width)
    _tracking(canvas, label, lay, top, width)
    top -= lay.tracking_mm * MM
    _rule(canvas, top, width)
    _sscc(canvas, label, top, width)


def _layout(size: str) -> _Layout:
    try:
        return LABEL_SIZES[size]
    except KeyError:
        raise ValueError(f"unknown label size {size!r}; known: {', '.join(LABEL_SIZES)}") from None


def render_labels(labels: Sequence[LabelInput], size: LabelSize | str = "102x152") -> bytes:
    """Several parcels' labels as one PDF (one print job), one label per page, in order."""
    if not labels:
        raise ValueError("no labels to render")
    lay = _layout(size)
    for label in labels:
        _check(label)
    buffer = io.BytesIO()
    first = labels[0]
    title = f"Etikett {first.tracking_number}" + (f" +{len(labels) - 1}" if len(labels) > 1 else "")
    canvas = new_canvas(buffer, (lay.width_mm * MM, lay.height_mm * MM), title)
    for label in labels:
        _draw_label(canvas, label, lay)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_label(label: LabelInput, size: LabelSize | str = "102x152") -> bytes:
    """One parcel's label as a one-page PDF of exactly the label's size."""
    return render_labels([label], size)
