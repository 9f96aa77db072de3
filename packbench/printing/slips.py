"""Packing slips (A4): what the packer needs to pick and pack one order, and its barcode.

A slip starts with the shop, the order barcode (Code 128 of ``ORD-<number>``: scanning it at
the pack and ship stations opens the order), the delivery address, the shipping method and
the customer's note in a box that cannot be overlooked. Then the lines in walking order with
shelf location, quantity (boxed when more than one), SKU, GTIN, name and the handling marks
(fragile, keep upright). A long order runs over several pages; every page repeats the order
barcode and the table heading and says "Side i av n", so a loose page still opens its order.

A batch of slips is one PDF, one print job: each order starts on a new page and counts its
own pages. The headings are Norwegian: the bench is in Norway.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from packbench.printing.common import (
    MM,
    Block,
    ShopInfo,
    address_lines,
    check_code,
    clean,
    clip,
    code128_width,
    draw_code128,
    draw_lines,
    draw_page,
    fit,
    fonts,
    format_datetime,
    new_canvas,
    paginate,
    wrap,
)

if TYPE_CHECKING:  # operations.views imports the database models; printing must not
    from packbench.operations.views import LineView, OrderDetail

__all__ = ["SlipInput", "location_key", "render_slip", "render_slips"]

PAGE_W, PAGE_H = A4
LEFT = RIGHT = 15 * MM
TOP, BOTTOM = 12 * MM, 14 * MM
WIDTH = PAGE_W - LEFT - RIGHT
BAR_H = 12 * MM
NOTE_LINES = 18  # a longer note is cut with an ellipsis rather than push the lines off
GREY = 0.45


@dataclass(frozen=True)
class SlipInput:
    """One order's slip. ``lines`` in walking order as the caller planned the route; when
    ``None``, the order's lines sorted by shelf location (see :func:`location_key`)."""

    detail: OrderDetail
    lines: Sequence[LineView] | None = None


def location_key(location: str | None) -> tuple[int, tuple[tuple[int, int | str], ...]]:
    """Natural order of shelf locations (``A-2-1`` before ``A-10-1``); no location last."""
    if not location:
        return (1, ())
    parts = re.split(r"(\d+)", location.strip().upper())
    return (0, tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p))


# --------------------------------------------------------------------------- columns

_COLUMNS = (("", 7), ("Plass", 24), ("Antall", 15), ("SKU", 32), ("GTIN", 29), ("Varenavn", 73))
_X = [LEFT]
for _title, _w in _COLUMNS[:-1]:
    _X.append(_X[-1] + _w * MM)
_W = [w * MM for _, w in _COLUMNS]
HEAD_H = 16.0
PAD = 3.0


def _table_head(canvas: Canvas, top: float) -> float:
    f = fonts()
    canvas.setFont(f.bold, 8)
    for (title, _), x in zip(_COLUMNS, _X, strict=True):
        canvas.drawString(x + 1, top - 11, title)
    canvas.setLineWidth(1)
    canvas.line(LEFT, top - HEAD_H + 1, LEFT + WIDTH, top - HEAD_H + 1)
    return HEAD_H


def _marks(line: LineView) -> list[str]:
    marks = []
    if line.fragile:
        marks.append("SKJØR")
    if line.keep_upright:
        marks.append("MÅ STÅ OPPREIST")
    return marks


def _row(line: LineView) -> Block:
    f = fonts()
    name = wrap(clean(line.name, limit=400), f.regular, 9.5, _W[5] - 4, 3) or ["–"]
    sku = wrap(clean(line.sku, limit=80), f.regular, 9, _W[3] - 4, 2) or ["–"]
    marks = _marks(line)
    height = max(14.0, len(name) * 9.5 * 1.2 + (12 if marks else 0), len(sku) * 10.8) + 2 * PAD

    def draw(canvas: Canvas, top: float) -> None:
        inner = top - PAD
        canvas.setLineWidth(0.8)
        canvas.rect(_X[0] + 1.5 * MM, inner - 3.8 * MM, 3.5 * MM, 3.5 * MM)
        location, size = fit(clean(line.location or "–", limit=40), f.bold, 10.5, _W[1] - 4, 6)
        draw_lines(canvas, [location], _X[1] + 1, inner, f.bold, size)
        qty = str(line.quantity)
        qty_size = 12.0
        canvas.setFont(f.bold, qty_size)
        canvas.drawString(_X[2] + 4, inner - qty_size + 0.5, qty)
        if line.quantity != 1:  # a quantity of more than one is what packers miss
            canvas.setLineWidth(1.2)
            w = canvas.stringWidth(qty, f.bold, qty_size)
            canvas.rect(_X[2] + 1.5, inner - qty_size - 2.5, w + 5, qty_size + 3.5)
        draw_lines(canvas, sku, _X[3] + 1, inner, f.regular, 9)
        gtin = clip(clean(line.gtin or "", limit=20), f.regular, 9, _W[4] - 4)
        draw_lines(canvas, [gtin], _X[4] + 1, inner, f.regular, 9)
        y = draw_lines(canvas, name, _X[5] + 1, inner, f.regular, 9.5)
        x = _X[5] + 1
        for mark in marks:  # white on black: seen from across the bench
            w = canvas.stringWidth(mark, f.bold, 7.5) + 6
            canvas.setFillGray(0)
            canvas.rect(x, y - 10.5, w, 10, stroke=0, fill=1)
            canvas.setFillGray(1)
            canvas.setFont(f.bold, 7.5)
            canvas.drawString(x + 3, y - 8, mark)
            canvas.setFillGray(0)
            x += w + 4
        canvas.setStrokeGray(0.7)
        canvas.setLineWidth(0.4)
        canvas.line(LEFT, top - height, LEFT + WIDTH, top - height)
        canvas.setStrokeGray(0)

    return Block(height, draw, row=True)


# --------------------------------------------------------------------------- first page


def _caption(canvas: Canvas, text: str, x: float, top: float) -> float:
    canvas.setFillGray(GREY)
    y = draw_lines(canvas, [text], x, top, fonts().regular, 7.5)
    canvas.setFillGray(0)
    return y


def _intro(detail: OrderDetail, lines: Sequence[LineView]) -> Block:
    """Title, delivery address on the left; date, shipping method and counts on the right."""
    f = fonts()
    col = WIDTH / 2 - 4 * MM
    number = clean(detail.summary.number, limit=40)
    address: list[tuple[str, float, str]] = []
    for i, text in enumerate(address_lines(detail.shipping)):
        font, size = (f.bold, 10.5) if i == 0 else (f.regular, 10)
        for part in wrap(clean(text, limit=400), font, size, col, 2):
            address.append((font, size, part))
    address = address[:9]
    units = sum(line.quantity for line in lines)
    facts = [
        ("Ordredato", [format_datetime(detail.summary.created_at, time=False)]),
        ("Frakt", wrap(clean(detail.summary.shipping_method, limit=200), f.bold, 10, col, 2)),
        ("Varer", [f"{units} stk på {len(lines)} linje{'r' if len(lines) != 1 else ''}"]),
    ]
    left_h = 9 + sum(size * 1.2 for _, size, _ in address)
    right_h = sum(9 + 12 * max(1, len(v)) + 4 for _, v in facts)
    height = 30 + max(left_h, right_h) + 8

    def draw(canvas: Canvas, top: float) -> None:
        title, size = fit(f"Pakkseddel – ordre {number}", f.bold, 17, WIDTH, 10)
        draw_lines(canvas, [title], LEFT, top - 2, f.bold, size)
        y = _caption(canvas, "Leveringsadresse", LEFT, top - 30)
        for font, size, text in address:
            y = draw_lines(canvas, [text], LEFT, y, font, size)
        x = LEFT + WIDTH / 2
        y = top - 30
        for caption, values in facts:
            y = _caption(canvas, caption, x, y)
            y = draw_lines(canvas, values or ["–"], x, y - 1, f.bold, 10) - 4

    return Block(height, draw)


def _note(text: str) -> Block | None:
    """The customer's note, framed and shaded: the one thing on a slip that is different
    every time, and the one a packer must not miss."""
    f = fonts()
    note = clean(text, limit=4000, multiline=True)
    if not note:
        return None
    lines = wrap(note, f.regular, 10, WIDTH - 8 * MM, NOTE_LINES)
    height = 8 + 12 + len(lines) * 12 + 8 + 6

    def draw(canvas: Canvas, top: float) -> None:
        canvas.setFillGray(0.9)
        canvas.setLineWidth(2)
        canvas.rect(LEFT, top - height + 6, WIDTH, height - 6, stroke=1, fill=1)
        canvas.setFillGray(0)
        y = draw_lines(canvas, ["KUNDENS MERKNAD"], LEFT + 4 * MM, top - 6, f.bold, 9)
        draw_lines(canvas, lines, LEFT + 4 * MM, y, f.regular, 10)

    return Block(height, draw)


def _total(lines: Sequence[LineView]) -> Block:
    f = fonts()
    units = sum(line.quantity for line in lines)

    def draw(canvas: Canvas, top: float) -> None:
        canvas.setLineWidth(1)
        canvas.line(LEFT, top - 2, LEFT + WIDTH, top - 2)
        text = f"Totalt {units} stk på {len(lines)} linje{'r' if len(lines) != 1 else ''}"
        draw_lines(canvas, [text], LEFT, top - 4, f.bold, 10)

    return Block(20, draw)


def _no_lines(canvas: Canvas, top: float) -> None:
    draw_lines(canvas, ["(ingen varelinjer)"], LEFT, top, fonts().regular, 10)


# --------------------------------------------------------------------------- pages


def _band(
    canvas: Canvas, shop: ShopInfo, code: str, number: str, first: bool, page: int, pages: int
) -> None:
    """What every page of a slip has: the shop, the order barcode and the page number."""
    f = fonts()
    top = PAGE_H - TOP
    symbol = code128_width(code)
    bar_w = WIDTH - symbol + 2 * 3.75 * MM  # room left of the barcode for the shop
    name, size = fit(clean(shop.name, limit=120), f.bold, 13 if first else 10, bar_w - 6 * MM, 8)
    y = draw_lines(canvas, [name], LEFT, top, f.bold, size)
    if first:
        info = [clean(line, limit=200) for line in shop.address_lines][:4]
        if shop.org_number:
            info.append(f"Org.nr. {clean(shop.org_number, limit=40)}")
        info = [clip(line, f.regular, 8.5, bar_w - 6 * MM) for line in info]
        draw_lines(canvas, info, LEFT, y, f.regular, 8.5)
    else:
        draw_lines(canvas, [f"Pakkseddel – ordre {number} (forts.)"], LEFT, y, f.regular, 9)
    # The barcode's right quiet zone ends at the right margin.
    bottom = top - BAR_H
    first_bar, last_bar = draw_code128(canvas, code, PAGE_W - RIGHT - symbol, bottom, BAR_H)
    canvas.setFont(f.bold, 9)
    canvas.drawCentredString((first_bar + last_bar) / 2, bottom - 11, code)
    canvas.setFont(f.regular, 8)
    canvas.setFillGray(GREY)
    canvas.drawString(LEFT, BOTTOM - 12, f"Ordre {number}")
    canvas.drawRightString(PAGE_W - RIGHT, BOTTOM - 12, f"Side {page} av {pages}")
    canvas.setFillGray(0)


def _band_height(first: bool) -> float:
    return BAR_H + 20 if not first else BAR_H + 34


def _draw_order(canvas: Canvas, order: SlipInput, shop: ShopInfo, prefix: str) -> None:
    detail = order.detail
    number = clean(detail.summary.number, limit=40)
    code = check_code(f"{prefix}{detail.summary.number}", "the order code")
    if order.lines is not None:
        lines = list(order.lines)
    else:
        lines = sorted(detail.lines, key=lambda ln: (location_key(ln.location), ln.line_no))
    flow = [_intro(detail, lines)]
    note = _note(detail.customer_note)
    if note:
        flow.append(note)
    flow += [_row(line) for line in lines]
    if not lines:
        flow.append(Block(20, _no_lines))
    else:
        flow.append(_total(lines))
    room = PAGE_H - TOP - BOTTOM
    pages = paginate(flow, room - _band_height(True), room - _band_height(False), HEAD_H)
    for i, blocks in enumerate(pages, start=1):
        _band(canvas, shop, code, number, i == 1, i, len(pages))
        draw_page(canvas, blocks, PAGE_H - TOP - _band_height(i == 1), _table_head)
        canvas.showPage()


def render_slips(
    orders: Sequence[OrderDetail | SlipInput], shop: ShopInfo, *, order_prefix: str = "ORD-"
) -> bytes:
    """A batch of packing slips as one PDF (one print job), in the order given.

    ``order_prefix`` is the prefix the bench's scanner rules expect (``codes.order_prefix``
    in the settings), so the barcode opens the order wherever it is scanned.
    """
    if not orders:
        raise ValueError("no orders to print slips for")
    items = [o if isinstance(o, SlipInput) else SlipInput(o) for o in orders]
    first = items[0].detail.summary.number
    title = f"Pakkseddel {first}" + (f" +{len(items) - 1}" if len(items) > 1 else "")
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, A4, clean(title, limit=80))
    for item in items:
        _draw_order(canvas, item, shop, order_prefix)
    canvas.save()
    return buffer.getvalue()


def render_slip(
    order: OrderDetail | SlipInput, shop: ShopInfo, *, order_prefix: str = "ORD-"
) -> bytes:
    """One order's packing slip."""
    return render_slips([order], shop, order_prefix=order_prefix)
