"""QR code symbols for labels: reportlab's encoder, with its slow parts done once or in bulk.

reportlab's ``QRCode`` chooses the segments and the version and draws the function patterns
(finders, timing, alignment, format and version information) correctly, but for every symbol
it rebuilds the Reed–Solomon generator polynomial from scratch, writes the data bit by bit,
and places each bit by walking the matrix: about a millisecond a label. Here:

- the segments and the version are still reportlab's (``addData``, ``calculate_version``);
- the data is written into one integer and the error correction bytes computed with
  log/antilog tables against a generator polynomial made once per block size;
- the matrix of a version with the fixed mask and all-zero data, and the order its data
  modules are filled in, are made once by reportlab's own ``makeImpl`` and kept; a symbol is
  that matrix with the modules of its 1-bits flipped (mask XOR data, as ``mapData`` does).

:func:`qr_matrix` returns the same modules as ``QRCode.makeImpl(False, mask)``; the tests
compare the two for many texts and every version a label can print.
"""

from __future__ import annotations

from functools import cache, lru_cache
from itertools import zip_longest
from typing import Any

from reportlab.graphics.barcode import qrencoder

__all__ = ["qr_matrix", "qr_modules"]

_EXP = [0] * 512
_LOG = [0] * 256
_x = 1
for _i in range(255):
    _EXP[_i] = _x
    _LOG[_x] = _i
    _x <<= 1
    if _x & 0x100:
        _x ^= 0x11D  # the QR code field: x^8 + x^4 + x^3 + x^2 + 1
for _i in range(255, 512):
    _EXP[_i] = _EXP[_i - 255]


@cache  # block sizes: at most 30 EC codewords
def _generator(degree: int) -> tuple[int, ...]:
    """The RS generator polynomial (x - a^0)…(x - a^(degree-1)), highest power first,
    without its leading 1, as the logs of its coefficients."""
    poly = [1]
    for i in range(degree):
        nxt = [0] * (len(poly) + 1)
        for j, c in enumerate(poly):
            nxt[j] ^= c
            if c:
                nxt[j + 1] ^= _EXP[_LOG[c] + i]
        poly = nxt
    return tuple(_LOG[c] for c in poly[1:])


def _ec_bytes(data: list[int], degree: int) -> list[int]:
    """The remainder of data·x^degree divided by the generator: the block's EC codewords."""
    gen = _generator(degree)
    rem = [0] * degree
    exp, log = _EXP, _LOG
    for byte in data:
        factor = byte ^ rem[0]
        del rem[0]
        rem.append(0)
        if factor:
            lf = log[factor]
            rem = [r ^ exp[lf + g] for r, g in zip(rem, gen, strict=True)]
    return rem


class _Bits:
    """QRBitBuffer's ``put``, into one integer."""

    def __init__(self) -> None:
        self.value = 0
        self.length = 0

    def put(self, num: int, length: int) -> None:
        self.value = (self.value << length) | (num & ((1 << length) - 1))
        self.length += length

    def putBit(self, bit: bool) -> None:  # reportlab's name
        self.put(1 if bit else 0, 1)

    def getLengthInBits(self) -> int:  # reportlab's name
        return self.length


def _codewords(qr: Any) -> list[int]:
    """What ``QRCode.createData`` returns: data and EC codewords, interleaved."""
    blocks = qrencoder.QRRSBlock.getRSBlocks(qr.version, qr.errorCorrectLevel)
    capacity = sum(block.dataCount for block in blocks) * 8
    bits = _Bits()
    for segment in qr.dataList:
        segment.write(bits, qr.version)
    if bits.length > capacity:
        raise ValueError(f"code length overflow. ({bits.length} > {capacity})")
    if bits.length + 4 <= capacity:
        bits.put(0, 4)  # terminator
    bits.put(0, -bits.length % 8)
    data = list(bits.value.to_bytes(bits.length // 8, "big")) if bits.length else []
    pad = (0xEC, 0x11)
    data += [pad[i % 2] for i in range(capacity // 8 - len(data))]
    dc, ec, offset = [], [], 0
    for block in blocks:
        chunk = data[offset : offset + block.dataCount]
        offset += block.dataCount
        dc.append(chunk)
        ec.append(_ec_bytes(chunk, block.totalCount - block.dataCount))
    interleaved = (c for group in (dc, ec) for column in zip_longest(*group) for c in column)
    return [c for c in interleaved if c is not None]


_Template = tuple[bytes, tuple[int, ...]]


@lru_cache(maxsize=16)  # the few versions a shop's links need
def _template(version: int, level: int, mask: int) -> _Template:
    """The matrix with all-zero data (function patterns, format info, the mask over the data
    area), flat and row by row, and the index in it of each data bit in order, from
    reportlab's own code."""
    qr = qrencoder.QRCode(version, level)
    blocks = qrencoder.QRRSBlock.getRSBlocks(version, level)
    qr.dataCache = [0] * sum(block.totalCount for block in blocks)
    qr.makeImpl(False, mask)
    count = qr.getModuleCount()
    order = tuple(row * count + col for col, row in qr.dataPosIterator())
    return bytes(cell for row in qr.modules for cell in row), order


def qr_modules(data: str, *, level: str = "M", mask: int = 0) -> tuple[int, bytes]:
    """The QR code of ``data`` (error correction ``level``, drawn with ``mask``): its side in
    modules and its modules row by row, top to bottom, 1 dark and 0 light."""
    qr = qrencoder.QRCode(None, getattr(qrencoder.QRErrorCorrectLevel, level))
    qr.addData(data)  # what QrCodeWidget(data) does: reportlab chooses the segments
    qr.version = qr.calculate_version()
    template, order = _template(qr.version, qr.errorCorrectLevel, mask)
    cells = bytearray(template)
    codewords = _codewords(qr)
    bits = f"{int.from_bytes(bytes(codewords), 'big'):0{len(codewords) * 8}b}"
    start = 0
    while (at := bits.find("1", start)) >= 0:  # flip the mask where the data bit is 1
        cells[order[at]] ^= 1
        start = at + 1
    return qr.version * 4 + 17, bytes(cells)


def qr_matrix(data: str, *, level: str = "M", mask: int = 0) -> list[list[bool]]:
    """The modules of the QR code of ``data`` (rows top to bottom, True is dark): what
    reportlab's ``QRCode.makeImpl(False, mask)`` makes, sooner."""
    count, cells = qr_modules(data, level=level, mask=mask)
    return [[bool(c) for c in cells[r * count : (r + 1) * count]] for r in range(count)]
