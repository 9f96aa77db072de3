"""Shipping labels as ZPL II for 203 dpi thermal printers, with the content of the PDF label.

Same input as the PDF (:class:`~packbench.printing.labels.LabelInput`), same sections top to
bottom: sender and carrier, recipient, weight / parcel n of m / order, the tracking number as
Code 128 with its text, the SSCC as GS1-128 (FNC1, AI 00) beside a QR code of the tracking link.

**No text can add a command.** In ZPL a ``^`` inside field data starts a new command and a ``~``
command acts at once (darkness, cancel all, download graphics), so customer and shop text is
never written as it came: every text field is ``^FH^FD…^FS`` and every byte outside a small
safe set (letters, digits, space and harmless punctuation) is written as a ``_XX`` hex escape —
``^``, ``~``, the escape character ``_`` itself, ``\\``, control characters, and every
non-ASCII character as its UTF-8 bytes (``ø`` → ``_C3_B8``; ``^CI28`` makes the printer read
them as UTF-8). The output is pure ASCII. Barcode data are our own numbers and are checked
against a strict pattern rather than escaped. Text is cleaned and capped in length first
(:func:`~packbench.printing.common.clean`), and every label has the same fixed sequence of
fields whatever the text (an unused line is an empty field), so a test can compare command
sequences.

Bars are whole printer dots (``^BY3``: 3 dots = 0.375 mm) with ten-module quiet zones; a code
too long for that on the label is refused, never squeezed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from packbench.core.codes import is_valid_sscc
from packbench.printing.common import (
    MIN_BAR_DOTS,
    QUIET_MODULES,
    address_lines,
    clean,
    format_weight,
    sscc_text,
)
from packbench.printing.labels import LabelInput

__all__ = ["ZPL_SIZES", "ZplLabel", "escape_field", "render_zpl", "render_zpl_labels"]

# The ZPL label is the same thing as the PDF label: one input type for both formats.
ZplLabel = LabelInput

HEX = "_"  # the ^FH escape indicator (ZPL's default)
# Bytes written as themselves inside ^FD; everything else becomes _XX. Deliberately small:
# no ^ ~ _ \ < > (Code 128 invocation characters), no control bytes, nothing above 0x7e.
_SAFE = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,-/:()'&+#*!?@%=;"
)
_TRACKING = re.compile(r"[0-9A-Za-z]{1,35}")
DOTS_PER_MM = 203 / 25.4
# Font 0 (CG Triumvirate Bold Condensed, in every Zebra printer): measured on zplkit's strike,
# capitals average 0.555 of the font width, lower case 0.44; "W" is 0.81. We wrap on 0.56.
CHAR_WIDTH = 0.56


def escape_field(text: str) -> str:
    """Field data for ``^FH^FD``: safe bytes as they are, all others as ``_XX`` (UTF-8)."""
    return "".join(
        chr(b) if b in _SAFE else f"{HEX}{b:02X}" for b in text.encode("utf-8", "replace")
    )


@dataclass(frozen=True)
class _Layout:
    """Dots (1 dot = 0.125 mm) top to bottom; the SSCC section takes what is left."""

    width: int
    height: int
    header: int
    recipient: int
    info: int
    tracking: int
    tracking_bar: int
    name_h: int
    address_h: int
    city_h: int


ZPL_SIZES: dict[str, _Layout] = {
    # 4×6 in is 812 × 1218 dots; 100×190 mm is 799 × 1518 at 203 dpi.
    "102x152": _Layout(812, 1218, 144, 328, 80, 248, 152, 36, 30, 44),
    "100x190": _Layout(799, 1518, 176, 400, 96, 320, 216, 42, 34, 52),
}
MARGIN = 24  # 3 mm
CAPTION_H = 18
RULE = 2


def _layout(size: str) -> _Layout:
    try:
        return ZPL_SIZES[size]
    except KeyError:
        raise ValueError(f"unknown label size {size!r}; known: {', '.join(ZPL_SIZES)}") from None


def _fits(height: int, width: int) -> int:
    """How many characters of font 0 at ``height`` dots fit in ``width`` dots (estimated)."""
    return max(1, int(width / (CHAR_WIDTH * height)))


def _wrap(text: str, height: int, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap by estimated width; a cut last line ends with "..." (ASCII: not every
    printer font has "…")."""
    per_line = _fits(height, width)
    lines: list[str] = []
    words = text.split()
    line = ""
    while words and len(lines) < max_lines:
        word = words[0]
        candidate = f"{line} {word}" if line else word
        if len(candidate) <= per_line:
            line = candidate
            words.pop(0)
            continue
        if line:
            lines.append(line)
            line = ""
        else:  # a word longer than the line: break it
            lines.append(word[:per_line])
            words[0] = word[per_line:]
    if line and len(lines) < max_lines:
        lines.append(line)
    if words and lines:
        lines[-1] = lines[-1][: max(1, per_line - 3)].rstrip() + "..."
    return lines


class _Zpl:
    """Accumulates one label's commands."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def text(
        self, x: int, y: int, height: int, text: str, *, width: int = 0, align: str = "L"
    ) -> None:
        """One line of text. With ``width``, a one-line field block aligned L, C or R."""
        block = f"^FB{width},1,0,{align},0" if width else ""
        self.parts.append(f"^FO{x},{y}^A0N,{height},{height}{block}^FH^FD{escape_field(text)}^FS")

    def lines(self, x: int, y: int, height: int, lines: Sequence[str], slots: int) -> int:
        """``slots`` fields, the first ``len(lines)`` filled; returns the y below the text."""
        pitch = round(height * 1.2)
        for i in range(slots):
            value = lines[i] if i < len(lines) else ""
            self.text(x, y, height, value)
            if value:
                y += pitch
        return y

    def rule(self, y: int, width: int) -> None:
        self.parts.append(f"^FO{MARGIN},{y}^GB{width - 2 * MARGIN},{RULE},{RULE}^FS")

    def vrule(self, x: int, y: int, height: int) -> None:
        self.parts.append(f"^FO{x},{y}^GB{RULE},{height},{RULE}^FS")


def code128_modules(data: str) -> int:
    """Modules of our Code 128 symbol: subset C for an even run of digits, else subset B."""
    symbols = len(data) // 2 if data.isdigit() and len(data) % 2 == 0 else len(data)
    return 11 * (symbols + 2) + 13  # start, data, check character, stop (13 modules)


def _code128_field(data: str) -> str:
    """^FD data with an explicit start character: ``>;`` subset C, ``>:`` subset B."""
    return (">;" if data.isdigit() and len(data) % 2 == 0 else ">:") + data


# EC level M byte capacity by QR version; the printer picks the smallest version that holds it.
_QR_M_BYTES = (14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412)


def qr_modules(data: str) -> int:
    """Side of the QR symbol in modules (an upper bound: auto mode may need less)."""
    n = len(data.encode("utf-8"))
    for version, capacity in enumerate(_QR_M_BYTES, start=1):
        if n <= capacity:
            return 17 + 4 * version
    raise ValueError(f"the tracking link is too long for the label's QR code ({n} bytes)")


def _check(label: LabelInput, lay: _Layout) -> None:
    if not _TRACKING.fullmatch(label.tracking_number or ""):
        raise ValueError(
            f"the tracking number {label.tracking_number!r} cannot be printed as a ZPL Code 128"
        )
    if not is_valid_sscc(label.sscc):
        raise ValueError(f"{label.sscc!r} is not a valid 18-digit SSCC")
    if label.weight_g < 0:
        raise ValueError(f"the weight cannot be negative ({label.weight_g} g)")
    if not 1 <= label.parcel_no <= label.parcel_count:
        raise ValueError(f"parcel {label.parcel_no} of {label.parcel_count} does not exist")
    quiet = 2 * QUIET_MODULES * MIN_BAR_DOTS
    if code128_modules(label.tracking_number) * MIN_BAR_DOTS + quiet > lay.width:
        raise ValueError(
            f"the tracking number {label.tracking_number!r} is too long for a Code 128 with "
            f"{MIN_BAR_DOTS}-dot bars on a {lay.width}-dot wide label"
        )


def _header(z: _Zpl, label: LabelInput, lay: _Layout, top: int) -> None:
    inner = lay.width - 2 * MARGIN
    left_w, right_w = int(inner * 0.58), int(inner * 0.40)
    z.text(MARGIN, top + 4, CAPTION_H, "Fra / From")
    sender = [clean(line, limit=120) for line in address_lines(label.sender)]
    size = 22
    pitch = round(size * 1.2)
    budget = (lay.header - CAPTION_H - 12) // pitch
    lines: list[str] = []
    for i, line in enumerate(sender):
        room = budget - len(lines)
        if room <= 0:
            break
        lines += _wrap(line, size, left_w, min(2 if i == 0 else 1, room))
    z.lines(MARGIN, top + CAPTION_H + 10, size, lines, budget)
    right_x = lay.width - MARGIN - right_w
    carrier = clean(label.carrier, limit=60)
    carrier_h = 48 if len(carrier) <= _fits(48, right_w) else 32
    carrier_lines = _wrap(carrier, carrier_h, right_w, 1)
    z.text(
        right_x, top + 4, carrier_h, carrier_lines[0] if carrier_lines else "", width=right_w,
        align="R",
    )  # fmt: skip
    service = _wrap(clean(label.service, limit=120), 24, right_w, 2)
    y = top + 12 + carrier_h
    for i in range(2):
        z.text(right_x, y + i * 28, 24, service[i] if i < len(service) else "", width=right_w,
               align="R")  # fmt: skip


def _recipient(z: _Zpl, label: LabelInput, lay: _Layout, top: int) -> None:
    """Name, company, street lines, then postcode and city (always) and a foreign country.
    The postcode line and the country are reserved first: an overlong name is cut, never
    the postcode the carrier sorts on."""
    r = label.recipient
    x = MARGIN + 32
    inner = lay.width - x - MARGIN
    z.text(MARGIN, top + 4, CAPTION_H, "Til / To")
    country = next(
        (line for line in address_lines(r)[-1:] if r.country and line == r.country.upper()), ""
    )
    city_h = lay.city_h
    city = clean(f"{r.postcode} {r.city}", limit=120)
    while city_h > 26 and len(city) > _fits(city_h, inner):
        city_h -= 2
    city_lines = _wrap(city, city_h, inner, 1)
    reserved = round(city_h * 1.2) + (round(lay.address_h * 1.2) if country else 0)
    space = lay.recipient - CAPTION_H - 14 - reserved
    y = top + CAPTION_H + 10
    fields = [
        (clean(r.name, limit=160), lay.name_h, 2),
        (clean(r.company, limit=120), lay.address_h, 1),
        (clean(r.address1, limit=200), lay.address_h, 2),
        (clean(r.address2, limit=200), lay.address_h, 1),
    ]
    for text, height, slots in fields:
        pitch = round(height * 1.2)
        most = min(slots, max(0, space // pitch))
        lines = _wrap(text, height, inner, most) if text and most else []
        space -= len(lines) * pitch
        y = z.lines(x, y, height, lines, slots)
    y = z.lines(x, y, city_h, city_lines, 1)
    z.lines(x, y, lay.address_h, _wrap(clean(country, limit=60), lay.address_h, inner, 1), 1)


def _info(z: _Zpl, label: LabelInput, lay: _Layout, top: int) -> None:
    inner = lay.width - 2 * MARGIN
    cells = [
        ("Vekt / Weight", format_weight(label.weight_g)),
        ("Kolli / Parcel", f"{label.parcel_no} av {label.parcel_count}"),
        ("Ordre / Order", clean(label.order_number, limit=40)),
    ]
    cell_w = inner // len(cells)
    value_h = 30 if lay.info < 90 else 36
    for i, (caption, value) in enumerate(cells):
        x = MARGIN + i * cell_w
        if i:
            z.vrule(x - 8, top + 6, lay.info - 12)
        z.text(x, top + 6, CAPTION_H, caption)
        z.text(
            x,
            top + lay.info - value_h - 6,
            value_h,
            (_wrap(value, value_h, cell_w - 16, 1) or [""])[0],
        )


def _tracking(z: _Zpl, label: LabelInput, lay: _Layout, top: int) -> None:
    z.text(MARGIN, top + 6, CAPTION_H, "Sporingsnummer / Tracking number")
    data = label.tracking_number
    symbol = code128_modules(data) * MIN_BAR_DOTS
    x = (lay.width - symbol) // 2
    bar_top = top + CAPTION_H + 16
    z.parts.append(
        f"^FO{x},{bar_top}^BY{MIN_BAR_DOTS}^BCN,{lay.tracking_bar},N,N,N^FD{_code128_field(data)}^FS"
    )
    z.text(0, bar_top + lay.tracking_bar + 8, 30, data, width=lay.width, align="C")


def _sscc(z: _Zpl, label: LabelInput, lay: _Layout, top: int) -> None:
    """GS1-128 of AI (00) + SSCC on the left, the tracking link's QR code on the right."""
    z.text(MARGIN, top + 6, CAPTION_H, "SSCC")
    bottom = lay.height - MARGIN
    hri_h = 28
    bar_top = top + CAPTION_H + 14
    bar_h = bottom - hri_h - 10 - bar_top
    quiet = QUIET_MODULES * MIN_BAR_DOTS
    x = quiet + 2  # the quiet zone is the label's own left edge
    # Mode D: the printer adds FNC1 and reads "(00)" as the AI; 20 digits → subset C.
    symbol = (11 * (1 + 1 + 10 + 1) + 13) * MIN_BAR_DOTS
    z.parts.append(f"^FO{x},{bar_top}^BY{MIN_BAR_DOTS}^BCN,{bar_h},N,N,N,D^FD(00){label.sscc}^FS")
    z.text(
        x - 12,
        bottom - hri_h,
        hri_h,
        sscc_text(label.sscc, label.company_prefix),
        width=symbol + 24,
        align="C",
    )
    # The QR code: in the square right of the GS1-128's quiet zone, with its own 4-module zone.
    url = label.url()
    modules = qr_modules(url)
    left = x + symbol + quiet
    room = min(lay.width - left - 4, bottom - bar_top - 24)
    mag = min(8, room // (modules + 8))
    if mag < MIN_BAR_DOTS:
        raise ValueError("the tracking link is too long for a scannable QR code on this label")
    side = modules * mag
    qx = left + (room - side) // 2
    qy = bar_top + (bottom - 24 - bar_top - side) // 2
    # ^BQ puts a few dots above the symbol; the QR's own field is ^FH-escaped like any text.
    z.parts.append(f"^FO{qx},{qy}^BQN,2,{mag}^FH^FDMA,{escape_field(url)}^FS")
    z.text(left, qy + side + 14, 20, "Spor pakken", width=room, align="C")


def render_zpl(label: LabelInput, size: str = "102x152") -> str:
    """One parcel's label: one ``^XA … ^XZ`` format, pure ASCII."""
    lay = _layout(size)
    _check(label, lay)
    z = _Zpl()
    z.parts.append(f"^XA^CI28^PW{lay.width}^LL{lay.height}^LH0,0")
    top = MARGIN
    _header(z, label, lay, top)
    top += lay.header
    z.rule(top, lay.width)
    _recipient(z, label, lay, top)
    top += lay.recipient
    z.rule(top, lay.width)
    _info(z, label, lay, top)
    top += lay.info
    z.rule(top, lay.width)
    _tracking(z, label, lay, top)
    top += lay.tracking
    z.rule(top, lay.width)
    _sscc(z, label, lay, top)
    z.parts.append("^XZ\n")
    out = "".join(z.parts)
    assert out.isascii()
    return out


def render_zpl_labels(labels: Sequence[LabelInput], size: str = "102x152") -> bytes:
    """Several parcels' labels as one job: one ``^XA … ^XZ`` per parcel, in order."""
    if not labels:
        raise ValueError("no labels to render")
    return "".join(render_zpl(label, size) for label in labels).encode("ascii")
