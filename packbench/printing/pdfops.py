"""Text, bars and QR modules written into a reportlab page as PDF operators.

reportlab's ``drawString`` builds a text object per call and its barcodes a drawing and a
rectangle call per bar: on a label, each string and bar cost more in Python than the PDF
they produce. These helpers write the same marks straight into the page's content stream
(``canvas._code``), each wrapped in ``q … Q`` so that nothing they set (font, colour) leaks
into what reportlab draws next.

Text is never written as a PDF literal string: every string is encoded to the font's codes
and written as hexadecimal (``<0041…>``), so no character a customer types — ``)``, ``\\``,
a line break, ``Tj ET`` — can end the string or add an operator. reportlab still owns the
fonts: ``splitString`` gives an embedded font's codes (and registers the subsets the
document must embed), ``getInternalFontName`` a built-in font's resource name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportlab.lib.rl_accel import fp_str
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

__all__ = ["fill_rects", "text_ops", "write"]


def write(canvas: Canvas, operators: str) -> None:
    """Append operators to the current page, as ``canvas._code`` lines are."""
    canvas._code.append(operators)


def _encoded(canvas: Canvas, text: str, font_name: str, size: float) -> str:
    """``text`` as font selections and hex strings shown one after the other."""
    font: Any = pdfmetrics.getFont(font_name)
    doc = canvas._doc
    size_s = fp_str(size)
    if getattr(font, "_dynamicFont", False):
        parts = []
        for subset, codes in font.splitString(text, doc):
            name = font.getSubsetInternalName(subset, doc)
            parts.append(f"{name} {size_s} Tf <{codes.hex()}> Tj")
        return " ".join(parts)
    name = doc.getInternalFontName(font_name)
    codes = text.encode(_codec(font), "replace")
    return f"{name} {size_s} Tf <{codes.hex()}> Tj"


def _codec(font: Any) -> str:
    """The Python codec of a built-in font's PDF encoding (Helvetica: WinAnsi, cp1252)."""
    name = getattr(getattr(font, "encoding", None), "name", "WinAnsiEncoding")
    return {"WinAnsiEncoding": "cp1252", "MacRomanEncoding": "mac_roman"}.get(name, "cp1252")


def text_ops(
    canvas: Canvas, text: str, x: float, y: float, font: str, size: float, align: str = "left"
) -> None:
    """Draw one line of ``text`` in black with its baseline at ``y``; ``x`` is its left end
    (``align="left"``), right end (``"right"``) or middle (``"centre"``)."""
    if not text:
        return
    if align != "left":
        width = pdfmetrics.stringWidth(text, font, size)
        x -= width if align == "right" else width / 2
    shown = _encoded(canvas, text, font, size)
    canvas._code.append(f"q 0 g BT {fp_str(x, y)} Td {shown} ET Q")


def fill_rects(canvas: Canvas, rects: Sequence[str]) -> None:
    """Fill rectangles given as ``"x y w h re"`` in black, each on its own, as reportlab drew
    them: pdfium fills a lone rectangle exactly the pixels it covers, but anti-aliases a path
    of many rectangles (grey edges, and grey seams where QR rows meet)."""
    if rects:
        canvas._code.append("q 0 g " + " f ".join(rects) + " f Q")
