"""The handover manifest (A4): the parcels one carrier's driver takes from the post station.

One row per parcel with its barcode (Code 128 of the tracking number, or the SSCC as
GS1-128 when it has none) so the driver can scan the list instead of the parcels, the order
number, the recipient's city and the weight. The totals (parcels, weight) and the lines for
the driver's name, signature and the time of handover come once, at the end: the signed
last page is the shop's proof of what was handed over. A long list runs over pages, each
with the carrier, the handover time and "Side i av n".
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from packbench.core.codes import is_valid_sscc
from packbench.printing.common import (
    MM,
    Block,
    ShopInfo,
    check_code,
    clean,
    code128_width,
    draw_code128,
    draw_lines,
    draw_page,
    fit,
    fonts,
    format_datetime,
    format_weight,
    gs1_128,
    new_canvas,
    paginate,
    sscc_text,
)

__all__ = ["ManifestInput", "ManifestParcel", "render_manifest"]

PAGE_W, PAGE_H = A4
LEFT = RIGHT = 15 * MM
TOP, BOTTOM = 12 * MM, 14 * MM
WIDTH = PAGE_W - LEFT - RIGHT
BAR_H = 10 * MM
PAD = 4.0
HEAD_H = 16.0
BAND_H = 58.0


@dataclass(frozen=True)
class ManifestParcel:
    """One parcel on the list; it needs a tracking number or an SSCC to be scanned."""

    order_number: str
    city: str
    weight_g: int
    tracking_number: str | None = None
    sscc: str | None = None


@dataclass(frozen=True)
class ManifestInput:
    carrier: str
    handed_over_at: datetime
    parcels: Sequence[ManifestParcel]
    shop: ShopInfo
    company_prefix: str = ""  # the shop's GS1 company prefix, to group SSCC texts


_COLUMNS = (("Nr.", 10), ("Strekkode", 80), ("Ordre", 28), ("Sted", 40), ("Vekt", 22))
_X = [LEFT]
for _title, _w in _COLUMNS[:-1]:
    _X.append(_X[-1] + _w * MM)
_W = [w * MM for _, w in _COLUMNS]


def _code(parcel: ManifestParcel, company_prefix: str = "") -> tuple[str, str]:
    """The barcode data and its human-readable text: the tracking number the carrier scans,
    else the SSCC as GS1-128. A parcel with neither cannot be handed over against a list."""
    if parcel.tracking_number:
        number = check_code(parcel.tracking_number, "the tracking number")
        return number, number
    if parcel.sscc and is_valid_sscc(parcel.sscc):
        return gs1_128("00" + parcel.sscc), sscc_text(parcel.sscc, company_prefix)
    raise ValueError(
        f"a parcel of order {parcel.order_number!r} has neither a tracking number nor a "
        "valid SSCC; it cannot go on a handover manifest"
    )


def _table_head(canvas: Canvas, top: float) -> float:
    f = fonts()
    canvas.setFont(f.bold, 8)
    for i, ((title, _), x) in enumerate(zip(_COLUMNS, _X, strict=True)):
        if i == len(_COLUMNS) - 1:
            canvas.drawRightString(x + _W[i] - 1, top - 11, title)
        else:
            canvas.drawString(x + 1, top - 11, title)
    canvas.setLineWidth(1)
    canvas.line(LEFT, top - HEAD_H + 1, LEFT + WIDTH, top - HEAD_H + 1)
    return HEAD_H


def _row(no: int, parcel: ManifestParcel, company_prefix: str = "") -> Block:
    f = fonts()
    data, human = _code(parcel, company_prefix)
    if code128_width(data) > _W[1]:
        raise ValueError(f"the barcode {human!r} is too long for the manifest's column")
    height = PAD + BAR_H + 14 + PAD

    def draw(canvas: Canvas, top: float) -> None:
        inner = top - PAD
        draw_lines(canvas, [str(no)], _X[0] + 1, inner, f.bold, 10)
        bottom = inner - BAR_H
        first, last = draw_code128(canvas, data, _X[1], bottom, BAR_H)
        canvas.setFont(f.regular, 8.5)
        canvas.drawCentredString((first + last) / 2, bottom - 10, human)
        order, size = fit(clean(parcel.order_number, limit=40), f.bold, 10, _W[2] - 4, 6)
        draw_lines(canvas, [order], _X[2] + 1, inner, f.bold, size)
        city, size = fit(clean(parcel.city, limit=200), f.regular, 10, _W[3] - 4, 6)
        draw_lines(canvas, [city], _X[3] + 1, inner, f.regular, size)
        canvas.setFont(f.regular, 10)
        canvas.drawRightString(_X[4] + _W[4] - 1, inner - 10, format_weight(parcel.weight_g))
        canvas.setStrokeGray(0.7)
        canvas.setLineWidth(0.4)
        canvas.line(LEFT, top - height, LEFT + WIDTH, top - height)
        canvas.setStrokeGray(0)

    return Block(height, draw, row=True)


def _totals_and_signature(manifest: ManifestInput) -> Block:
    """Totals, then what the driver fills in by hand: kept together on the last page."""
    f = fonts()
    count = len(manifest.parcels)
    weight = sum(p.weight_g for p in manifest.parcels)
    fields = ("Sjåførens navn", "Signatur", "Dato og klokkeslett")

    def draw(canvas: Canvas, top: float) -> None:
        canvas.setLineWidth(1.5)
        canvas.line(LEFT, top - 4, LEFT + WIDTH, top - 4)
        y = draw_lines(canvas, [f"Antall kolli: {count}"], LEFT, top - 8, f.bold, 12)
        draw_lines(canvas, [f"Total vekt: {format_weight(weight)}"], LEFT, y, f.bold, 12)
        y = draw_lines(
            canvas,
            [f"Mottatt av {clean(manifest.carrier, limit=60)}:"],
            LEFT,
            top - 60,
            f.bold,
            10,
        )
        canvas.setLineWidth(0.8)
        for field in fields:
            y -= 34
            canvas.line(LEFT + 40 * MM, y, LEFT + WIDTH, y)
            canvas.setFont(f.regular, 10)
            canvas.drawString(LEFT, y + 2, field)

    return Block(60 + 14 + 3 * 34 + 12, draw)


def _band(canvas: Canvas, manifest: ManifestInput, page: int, pages: int) -> None:
    f = fonts()
    top = PAGE_H - TOP
    half = WIDTH / 2
    name, size = fit(clean(manifest.shop.name, limit=120), f.bold, 11, half, 7)
    y = draw_lines(canvas, [name], LEFT, top, f.bold, size)
    draw_lines(canvas, ["Overleveringsliste"], LEFT, y - 2, f.bold, 17)
    carrier, size = fit(clean(manifest.carrier, limit=60), f.bold, 17, half - 4 * MM, 9)
    canvas.setFont(f.bold, size)
    canvas.drawRightString(PAGE_W - RIGHT, top - size, carrier)
    when = format_datetime(manifest.handed_over_at)
    canvas.setFont(f.regular, 10)
    canvas.drawRightString(PAGE_W - RIGHT, top - size - 16, f"Overlevert {when}")
    canvas.setFont(f.regular, 8)
    canvas.setFillGray(0.45)
    canvas.drawString(LEFT, BOTTOM - 12, f"{carrier} · {when}")
    canvas.drawRightString(PAGE_W - RIGHT, BOTTOM - 12, f"Side {page} av {pages}")
    canvas.setFillGray(0)


def render_manifest(manifest: ManifestInput) -> bytes:
    """The handover manifest as one PDF; the totals and signature lines on its last page."""
    if not manifest.parcels:
        raise ValueError("a handover manifest needs at least one parcel")
    flow = [_row(i, p, manifest.company_prefix) for i, p in enumerate(manifest.parcels, start=1)]
    flow.append(_totals_and_signature(manifest))
    room = PAGE_H - TOP - BOTTOM - BAND_H
    pages = paginate(flow, room, room, HEAD_H)
    buffer = io.BytesIO()
    title = f"Overleveringsliste {clean(manifest.carrier, limit=60)}"
    canvas = new_canvas(buffer, A4, title)
    for i, blocks in enumerate(pages, start=1):
        _band(canvas, manifest, i, len(pages))
        draw_page(canvas, blocks, PAGE_H - TOP - BAND_H, _table_head)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
