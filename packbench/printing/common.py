"""What every printed document shares: units, fonts, safe text, fitting text, barcodes.

The documents are drawn straight onto a reportlab canvas with ``drawString``, never through
``Paragraph``: customer text (names, addresses, notes) is drawn literally, so ``<b>`` or
``&amp;`` in a name can neither inject markup nor break the PDF. Before drawing, every string
goes through :func:`clean` (NFC, no control or format characters, bounded length, only
characters the font has) and is measured (:func:`wrap`, :func:`fit`) so that it never runs
past its box, however long it is.

Barcodes are sized for 203 dpi thermal printers (:data:`DOT`): every bar is a whole number of
printer dots (at least 3, which survived every print path on the bench; see
``shared/PRINTING.md``) and starts on the dot grid, with a quiet zone of ten modules.

Only reportlab and the standard library: no database, no CUPS, no Textual.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Protocol

from reportlab.graphics.barcode.code128 import Code128
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from packbench.core.code128 import code128_problem
from packbench.core.gs1 import sscc_groups
from packbench.printing.pdfops import fill_rects, text_ops
from packbench.printing.qr import qr_modules
from packbench.printing.subsets import CachedTTFont

__all__ = [
    "DOT",
    "MM",
    "AddressLike",
    "BarcodeError",
    "Block",
    "Fonts",
    "ShopInfo",
    "address_lines",
    "check_code",
    "clean",
    "clip",
    "code128_width",
    "draw_code128",
    "draw_lines",
    "draw_page",
    "draw_qr",
    "fit",
    "fonts",
    "format_datetime",
    "format_weight",
    "gs1_128",
    "new_canvas",
    "paginate",
    "snap",
    "sscc_text",
    "text_width",
    "wrap",
]

MM = 72 / 25.4  # points per millimetre
DOT = 72 / 203  # points per dot of a 203 dpi thermal printer (0.125 mm)
MIN_BAR_DOTS = 3  # narrower bars did not survive every print path (shared/PRINTING.md)
QUIET_MODULES = 10
ELLIPSIS = "…"
FNC1 = "\xf1"  # reportlab's Code128 FNC1: a leading FNC1 makes the symbol GS1-128


# --------------------------------------------------------------------------- inputs


class AddressLike(Protocol):
    """The fields of :class:`packbench.operations.views.Address` a document prints.

    A protocol rather than the class itself: ``operations.views`` imports the database
    models, and the printing package must stay importable without them.
    """

    @property
    def name(self) -> str: ...
    @property
    def company(self) -> str: ...
    @property
    def address1(self) -> str: ...
    @property
    def address2(self) -> str: ...
    @property
    def postcode(self) -> str: ...
    @property
    def city(self) -> str: ...
    @property
    def country(self) -> str: ...


@dataclass(frozen=True)
class ShopInfo:
    """The shop as it appears on slips, as the sender on labels and on manifests."""

    name: str
    address_lines: Sequence[str] = ()
    org_number: str | None = None

    def lines(self) -> list[str]:
        return [self.name, *self.address_lines]


HOME_COUNTRIES = frozenset({"", "NO", "NOR", "NORGE", "NORWAY"})


def address_lines(address: AddressLike | ShopInfo, *, home_country: bool = True) -> list[str]:
    """The printed lines of an address; the country only when it is not Norway, as for post
    inside Norway (``home_country=False`` prints it always)."""
    if isinstance(address, ShopInfo):
        return [line for line in address.lines() if line]
    out = [address.name, address.company, address.address1, address.address2]
    out.append(f"{address.postcode} {address.city}".strip())
    country = (address.country or "").strip()
    if not home_country or country.upper() not in HOME_COUNTRIES:
        out.append(country.upper())
    return [line for line in out if line and line.strip()]


# --------------------------------------------------------------------------- fonts


FONT_DIRS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/dejavu",  # Debian/Ubuntu fonts-dejavu-core
    "/usr/share/fonts/dejavu",  # Fedora
    "/usr/share/fonts/TTF",  # Arch
    "/usr/local/share/fonts",
)


@dataclass(frozen=True)
class Fonts:
    """The two faces documents use and which characters both of them can draw."""

    regular: str
    bold: str
    covers: Callable[[str], bool]
    embedded: bool


def _cp1252(ch: str) -> bool:
    """Helvetica in a PDF is WinAnsi (cp1252): Latin-1 and a few more, æ ø å included."""
    try:
        ch.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _has_glyph(codepoints: frozenset[int]) -> Callable[[str], bool]:
    # Only the Basic Multilingual Plane: reportlab writes a 16-bit ToUnicode map, so an
    # emoji DejaVu has would extract (and be searched for) as a different character.
    return lambda ch: ord(ch) <= 0xFFFF and ord(ch) in codepoints


@lru_cache(maxsize=1)
def fonts() -> Fonts:
    """DejaVu Sans (embedded, covers Polish, Czech, Greek, Cyrillic names too) when the system
    has it, otherwise the built-in Helvetica, which still has æ, ø and å."""
    for folder in FONT_DIRS:
        regular, bold = Path(folder, "DejaVuSans.ttf"), Path(folder, "DejaVuSans-Bold.ttf")
        if regular.is_file() and bold.is_file():
            try:
                faces = (
                    CachedTTFont("PackbenchSans", str(regular)),
                    CachedTTFont("PackbenchSans-Bold", str(bold)),
                )
            except Exception:  # a broken font file: fall back rather than fail every print
                continue
            for face in faces:
                pdfmetrics.registerFont(face)
            both = frozenset(faces[0].face.charToGlyph) & frozenset(faces[1].face.charToGlyph)
            return Fonts("PackbenchSans", "PackbenchSans-Bold", _has_glyph(both), True)
    return Fonts("Helvetica", "Helvetica-Bold", _cp1252, False)


# --------------------------------------------------------------------------- safe text

# Letters without a decomposition that a font without them can still show recognisably.
_FOLD = str.maketrans(
    {
        "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "Ŧ": "T",
        "ŧ": "t", "Ŋ": "N", "ŋ": "n", "ĸ": "k", "ſ": "s", "−": "-", "‐": "-", "‑": "-",
    }
)  # fmt: skip
_NEWLINES = re.compile(r"\r\n|[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_SPACES = re.compile(r"[ \t]+")


def _replacement(ch: str, covers: Callable[[str], bool]) -> str:
    """A character the font lacks: its base letters if the font has those, else '?'."""
    folded = unicodedata.normalize("NFKD", ch.translate(_FOLD))
    base = "".join(c for c in folded if not unicodedata.combining(c))
    if base and all(covers(c) and unicodedata.category(c)[0] != "C" for c in base):
        return base
    return "?"


def clean(text: object, *, limit: int = 300, multiline: bool = False) -> str:
    """Customer or shop text made safe to draw.

    NFC-normalised (a decomposed "ø" from a Mac keyboard must look and extract as "ø");
    control, format, private-use and unassigned characters dropped (a BEL, a bidi override
    or a lone surrogate from a web form has no business on a label); tabs and runs of spaces
    collapsed; line breaks kept only with ``multiline``; at most ``limit`` characters (the
    boxes wrap and clip anyway, this bounds the work); characters the font lacks replaced by
    their base letters or "?", never drawn as an empty box. ``None`` becomes "".
    """
    if text is None:
        return ""
    raw = text if isinstance(text, str) else str(text)
    raw = unicodedata.normalize("NFC", raw[: limit * 2 + 16])
    raw = _NEWLINES.sub("\n" if multiline else " ", raw)
    covers = fonts().covers
    out: list[str] = []
    for ch in raw:
        if ch == "\n" or ch == "\t":
            out.append(ch)
        elif unicodedata.category(ch)[0] == "C":
            continue
        elif unicodedata.category(ch)[0] == "Z":
            out.append(" ")
        elif covers(ch):
            out.append(ch)
        else:
            out.append(_replacement(ch, covers))
    lines = [_SPACES.sub(" ", line).strip() for line in "".join(out).split("\n")]
    result = "\n".join(lines).strip("\n") if multiline else lines[0]
    result = re.sub(r"\n{3,}", "\n\n", result)
    if len(result) > limit:
        result = result[: limit - 1].rstrip() + ELLIPSIS
    return result


# --------------------------------------------------------------------------- fitting text


def text_width(text: str, font: str, size: float) -> float:
    width: float = pdfmetrics.stringWidth(text, font, size)
    return width


def _longest_prefix(text: str, font: str, size: float, width: float, suffix: str = "") -> int:
    """How many leading characters of ``text`` (plus ``suffix``) fit in ``width``."""
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_width(text[:mid] + suffix, font, size) <= width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def clip(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut with an ellipsis so that it fits ``width``; whole when it fits."""
    if text_width(text, font, size) <= width:
        return text
    n = _longest_prefix(text, font, size, width, ELLIPSIS)
    if n == 0:
        return ELLIPSIS if text_width(ELLIPSIS, font, size) <= width else ""
    return text[:n].rstrip() + ELLIPSIS


def fit(text: str, font: str, size: float, width: float, min_size: float) -> tuple[str, float]:
    """One line: the font shrunk (down to ``min_size``, in half points) until ``text`` fits,
    then clipped if it still does not. Returns the text to draw and its size."""
    w = text_width(text, font, size)
    if w > width and w > 0:
        size = max(min_size, int(size * width / w * 2) / 2)
    return clip(text, font, size, width), size


def _lines(text: str, font: str, size: float, width: float) -> Iterator[str]:
    """Greedy word wrap, lazily: a 5,000-character address is only measured as far as drawn.
    A word wider than the box is broken where it has to be."""
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if text_width(candidate, font, size) <= width:
                line = candidate
                continue
            if line:
                yield line
            while word and text_width(word, font, size) > width:
                n = max(1, _longest_prefix(word, font, size, width))
                yield word[:n]
                word = word[n:]
            line = word
        if line:
            yield line


def wrap(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """``text`` wrapped to ``width`` in at most ``max_lines`` lines; when there is more, the
    last line ends with an ellipsis so the reader knows it was cut."""
    if max_lines <= 0:
        return []
    lines = list(islice(_lines(text, font, size, width), max_lines + 1))
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        n = _longest_prefix(last, font, size, width, ELLIPSIS)
        lines[-1] = last[:n].rstrip() + ELLIPSIS
    return lines


# --------------------------------------------------------------------------- formatting


def format_weight(weight_g: int) -> str:
    """Norwegian style: ``1,25 kg``; under a kilo in grams (``850 g``)."""
    if weight_g < 1000:
        return f"{weight_g} g"
    tens = (weight_g + 5) // 10  # whole 10 g, half up, in integers (no float rounding)
    kg = f"{tens // 100},{tens % 100:02d}".rstrip("0").rstrip(",")
    return kg + " kg"


def format_datetime(at: datetime, *, time: bool = True, tz: tzinfo | None = None) -> str:
    """``12.03.2025 14:05`` in the bench's local time (stored times are aware UTC)."""
    if at.tzinfo is not None:
        at = at.astimezone(tz)
    return at.strftime("%d.%m.%Y %H:%M" if time else "%d.%m.%Y")


def sscc_text(sscc: str, company_prefix: str = "") -> str:
    """The human-readable SSCC under a GS1-128: ``(00) 3 7071234 000000001 6``, the company
    prefix (the configured one, ``[ship] gs1_company_prefix``, 7-10 digits) as one group."""
    return "(00) " + " ".join(sscc_groups(sscc, company_prefix))


# --------------------------------------------------------------------------- drawing


def new_canvas(buffer: object, pagesize: tuple[float, float], title: str) -> Canvas:
    """A canvas whose output is the same for the same input (``invariant``): no timestamp or
    random document id, so a reprint is byte-identical and tests can compare."""
    canvas = Canvas(buffer, pagesize=pagesize, invariant=1, pageCompression=1)
    canvas.setTitle(title)
    canvas.setCreator("packbench")
    canvas.setAuthor("packbench")
    return canvas


def snap(value: float) -> float:
    """``value`` (points) moved to the nearest printer dot, so bars do not straddle dots."""
    return round(value / DOT) * DOT


_CODE128_CHARS = re.compile(r"[\x20-\x7e]{1,48}")
_INSET = 0.02 * DOT


@lru_cache(maxsize=64)
def _code128_bars(data: str) -> tuple[tuple[tuple[int, int], ...], int]:
    """The bars of ``data``'s Code 128 symbol as (first module, width in modules), and the
    symbol's width in modules without quiet zones. reportlab chooses the code sets (C for
    runs of digits) and the check character; its pattern string has a capital letter per
    bar and a small one per space, the letter's place in the alphabet being the width."""
    code = Code128(data, quiet=0, humanReadable=False)
    code.validate()
    code.encode()
    bars, at = [], 0
    for ch in code.decompose():
        width = ord(ch.lower()) - ord("a") + 1
        if ch.isupper():
            bars.append((at, width))
        at += width
    return tuple(bars), at


def _module(dots: int) -> float:
    if dots < MIN_BAR_DOTS:
        raise ValueError(f"bars narrower than {MIN_BAR_DOTS} printer dots do not scan reliably")
    return dots * DOT


class BarcodeError(ValueError):
    """A code that cannot be printed as a barcode; the message says which and why."""


def check_code(value: str, what: str) -> str:
    """A code we print as Code 128: printable ASCII, 1-48 characters. Codes are ours or the
    carrier's, and an order's number is checked when the shop sends it; anything else here
    is refused (:class:`BarcodeError`) rather than printed as bars that scan as something else."""
    if not isinstance(value, str) or not _CODE128_CHARS.fullmatch(value):
        why = code128_problem(value) if isinstance(value, str) else "it is not text"
        raise BarcodeError(f"{what} {value!r} cannot be printed as a Code 128 barcode: it {why}")
    return value


def gs1_128(element_string: str) -> str:
    """Code 128 data for a GS1 element string (AI + data, no brackets): FNC1 first."""
    return FNC1 + element_string


def code128_width(data: str, *, dots: int = MIN_BAR_DOTS) -> float:
    """Width in points of the symbol including both quiet zones."""
    module = _module(dots)
    return (_code128_bars(data)[1] + 2 * QUIET_MODULES) * module


def draw_code128(
    canvas: Canvas, data: str, x: float, y: float, height: float, *, dots: int = MIN_BAR_DOTS
) -> tuple[float, float]:
    """Draw a Code 128 (GS1-128 when ``data`` starts with FNC1) with its left quiet zone at
    ``x`` and the bars' bottom at ``y``, both snapped to the dot grid. Returns the x of the
    first and last bar edge (for centring the human-readable text).

    The bars are rectangles written straight into the page, each a fiftieth of a dot
    narrower on either side than its whole dots: a PDF stores coordinates as short decimals,
    so an edge meant to lie exactly on a dot boundary lands a hair to one side of it, and
    rasterisers (Ghostscript in CUPS, pdfium) blacken every dot a fill touches: each bar
    would grow by a whole dot, a third of a 3-dot module. Pulling the edges in keeps every
    bar its exact width in dots."""
    module = _module(dots)
    bars, modules = _code128_bars(data)
    x, y = snap(x), snap(y)
    first = x + QUIET_MODULES * module
    h = f"{max(snap(height), DOT):.4f}"
    y_s = f"{y:.4f}"
    fill_rects(
        canvas,
        [
            f"{first + at * module + _INSET:.4f} {y_s} {width * module - 2 * _INSET:.4f} {h} re"
            for at, width in bars
        ],
    )
    return first, first + modules * module


_DARK = re.compile(rb"\x01+")

#: The QR mask pattern every label uses. Any of the eight masks makes a valid symbol that
#: every decoder reads; choosing the "best" one means encoding the symbol eight times and
#: scoring each, which was 46 % of a label's rendering time. Mask 0 is what the label tests
#: decode (tests/printing), at every size the labels print.
QR_MASK = 0


def draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> float:
    """Draw a QR code (error correction M) centred in the ``size``-point square whose
    bottom-left is (``x``, ``y``), with modules of whole dots and its 4-module quiet zone
    included. Returns the side drawn (0 when it does not fit at 3 dots a module).

    The symbol is encoded once, with a fixed mask (:data:`QR_MASK`) by :mod:`.qr`, and drawn
    as a rectangle per run of dark modules in a row, written straight into the page
    (reportlab's widget encodes again when drawn and makes a shape object per module)."""
    count, cells = qr_modules(data, level="M", mask=QR_MASK)
    modules = count + 2 * 4
    dots = int(size / (modules * DOT))
    if dots < MIN_BAR_DOTS:
        return 0.0
    module = dots * DOT
    side: float = modules * module
    left = snap(x + (size - side) / 2) + 4 * module
    top = snap(y + (size - side) / 2) + side - 4 * module
    xs = [f"{left + col * module:.4f}" for col in range(count)]
    widths = [f"{n * module:.4f}" for n in range(count + 1)]
    height = f"{module:.4f}"
    runs: list[str] = []
    for row in range(count):
        y0 = f"{top - (row + 1) * module:.4f}"
        base = row * count
        for run in _DARK.finditer(cells, base, base + count):
            start, end = run.start() - base, run.end() - base
            runs.append(f"{xs[start]} {y0} {widths[end - start]} {height} re")
    # Each run is filled on its own (see fill_rects); a scale matrix's rounded factor would
    # move the far modules off the dot grid.
    fill_rects(canvas, runs)
    return side


def draw_lines(
    canvas: Canvas, lines: Sequence[str], x: float, top: float, font: str, size: float
) -> float:
    """Draw lines downwards from ``top`` (the top of the first line); return the y below.
    The canvas's font is left set to ``font`` at ``size``, as callers may draw on with it."""
    leading = size * 1.2
    canvas.setFont(font, size)
    y = top
    for line in lines:
        y -= leading
        text_ops(canvas, line, x, y + size * 0.22, font, size)
    return y


# --------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class Block:
    """A piece of an A4 document's flow: its height and how to draw it from a top y.
    ``row`` blocks are table rows: each page that has any gets the table heading first."""

    height: float
    draw: Callable[[Canvas, float], None]
    row: bool = False


def paginate(
    flow: Sequence[Block], first_room: float, next_room: float, head_height: float
) -> list[list[Block]]:
    """Blocks into pages, in order, none split. Laid out before drawing so that each page can
    say "Side i av n" and repeat what it must (the barcode, the table heading)."""
    pages: list[list[Block]] = [[]]
    room = first_room
    for block in flow:
        needs = block.height
        if block.row and not any(b.row for b in pages[-1]):
            needs += head_height
        if needs > room and pages[-1]:
            pages.append([])
            room = next_room
            needs = block.height + (head_height if block.row else 0)
        pages[-1].append(block)
        room -= needs
    return pages


def draw_page(
    canvas: Canvas, blocks: Sequence[Block], top: float, head: Callable[[Canvas, float], float]
) -> None:
    """Draw one page's blocks downwards from ``top``; ``head`` draws the table heading before
    the first row and returns its height."""
    headed = False
    for block in blocks:
        if block.row and not headed:
            top -= head(canvas, top)
            headed = True
        block.draw(canvas, top)
        top -= block.height
