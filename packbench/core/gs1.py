"""GS1 element strings, Digital Link URIs, UPC-E and variable-measure (RCN) numbers.

The AI table and each element's own format check come from biip (the GS1 Application
Identifier list, dates, decimals, GTIN/SSCC/GLN parsing); packbench keeps its own splitter
around them, because on the bench it matters *where* a code is wrong and what to do about it:

- every refusal names the AI, the character position and the fix in plain words;
- an AI repeated with a different value is refused (GS1 General Specifications 4.14);
- an AI that neither biip nor we know does not spoil the scan when its length can be told
  from its first two digits (GS1's table of AI lengths): it is kept, marked unknown;
- a fixed-length AI that GS1 still wants an FNC1 after (``422`` country, ``7003`` expiry time)
  is cut at its length when a scanner left the separator out;
- the printed forms ``(01)…(10)…`` are read with spaces anywhere, as on labels
  (``(00) 3 7071234 000000001 6``);
- every AIM symbology identifier that announces GS1 data (``]C1 ]d2 ]Q3 ]e0 ]J1``) is accepted.

Pure logic: biip is itself pure (no network, no files but its bundled tables).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import string
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from types import SimpleNamespace
from urllib.parse import urlsplit

__all__ = [
    "GS",
    "GS1_SYMBOLOGY_IDS",
    "KEY_AIS",
    "RCN_REGIONS",
    "Element",
    "ElementString",
    "GS1CheckDigitError",
    "GS1Error",
    "VariableMeasure",
    "gs1_check_digit",
    "is_digital_link",
    "is_valid_gs1",
    "parse_digital_link",
    "parse_element_string",
    "parse_gs1",
    "preload",
    "read_variable_measure",
    "sscc_groups",
    "upc_e_check_digit",
    "upc_e_to_gtin12",
]

GS = "\x1d"  # ASCII group separator: how scanners transmit the GS1 FNC1 separator

#: AIM symbology identifiers whose data is a GS1 element string (GS1-128, GS1 DataMatrix,
#: GS1 QR Code, GS1 DataBar, GS1 DotCode); scanners may be set to prefix them.
GS1_SYMBOLOGY_IDS = ("]C1", "]d2", "]Q3", "]e0", "]J1")

#: The AIs that identify what was scanned: an SSCC (a logistic unit), a GTIN (a trade item),
#: the GTIN of a case's contents. A string holding one of these with a good check digit is
#: a GS1 code, whatever else it could also be.
KEY_AIS = ("00", "01", "02", "03")

#: Regions whose variable-measure rules packbench can read (biip's list; ISO 3166 alpha-2).
RCN_REGIONS = ("dk", "ee", "fi", "de", "gb", "lv", "lt", "no", "se")  # a test holds biip to it

# The GS1 "character set 82", the only characters allowed in alphanumeric AI values.
_CSET82 = frozenset(string.ascii_letters + string.digits + "!\"%&'()*+,-./:;<=>?_")

# GS1 General Specifications 3.2 (the AI's own length follows from its first two digits)
# and Figure 7.8.5-2 (the values whose length is predefined, so no FNC1 follows them).
_AI_LENGTH = {
    **{f"{p:02d}": 2 for p in (*range(0, 23), 30, 37, *range(90, 100))},
    **{p: 3 for p in ("23", "24", "25", "40", "41", "42", "71")},
    **{f"{p:02d}": 4 for p in (*range(31, 37), 39, 43, 70, 72, 80, 81, 82)},
}
_PREDEFINED = {
    "00": 18, "01": 14, "02": 14, "03": 14, "04": 16,
    **{f"{p:02d}": 6 for p in range(11, 20)},
    "20": 2, **{f"{p:02d}": 6 for p in range(31, 37)}, "41": 13,
}  # fmt: skip

# AIs whose value is a GS1 key ending in a mod-10 check digit.
_CHECKED = frozenset({"00", "01", "02", "03", *(f"41{k}" for k in range(8))})
# The YYMMDD dates of GS1 General Specifications 3.4 (DD may be 00: end of month).
_DATES = frozenset({"11", "12", "13", "15", "16", "17"})


@lru_cache(maxsize=1)
def _biip() -> SimpleNamespace:
    """biip, imported on first use: loading its tables takes 0.1-0.25 s here, which every app
    start would pay before the first GS1 scan needs them (see :func:`preload`)."""
    from biip import ParseConfig, ParseError
    from biip.gs1_application_identifiers import GS1ApplicationIdentifier
    from biip.gs1_digital_link_uris import GS1DigitalLinkURI
    from biip.gs1_element_strings import GS1ElementString
    from biip.gs1_prefixes import GS1CompanyPrefix
    from biip.gtin import Gtin
    from biip.rcn import Rcn
    from biip.upc import Upc

    return SimpleNamespace(
        ParseConfig=ParseConfig,
        ParseError=ParseError,
        AI=GS1ApplicationIdentifier,
        DigitalLink=GS1DigitalLinkURI,
        ElementString=GS1ElementString,
        CompanyPrefix=GS1CompanyPrefix,
        Gtin=Gtin,
        Rcn=Rcn,
        Upc=Upc,
        config=ParseConfig(separator_chars=(GS,)),
    )


def preload() -> None:
    """Load biip's tables now (e.g. in a thread at start) rather than at the first GS1 scan."""
    _biip()


class GS1Error(ValueError):
    """A GS1 element string that cannot be trusted; the message says what is wrong and where."""


class GS1CheckDigitError(GS1Error):
    """The string has the shape of a GS1 key but its check digit is wrong."""


# --------------------------------------------------------------------------- check digits


def _is_digits(text: str) -> bool:
    """ASCII digits only; ``str.isdigit`` also accepts '²' and Arabic-Indic digits."""
    return bool(text) and text.isascii() and text.isdigit()


def gs1_check_digit(body: str) -> int:
    """GS1 mod-10 check digit of ``body`` (the key without its check digit).

    Weights run 3, 1, 3, … from the right, so GTIN-8/12/13/14, SSCC and GLN share one rule.
    """
    if not isinstance(body, str) or not _is_digits(body):
        raise ValueError(f"a GS1 key body must be one or more digits 0-9, got {body!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_gs1(code: str) -> bool:
    """True for an all-digit code whose last digit is the GS1 check digit of the rest."""
    return (
        isinstance(code, str)
        and len(code) >= 2
        and _is_digits(code)
        and gs1_check_digit(code[:-1]) == int(code[-1])
    )


# --------------------------------------------------------------------------------- display


def _esc(ch: str) -> str:
    """One character as text a person can read (``\\x1d`` for GS, ``\\r`` for CR)."""
    if ch.isprintable():
        return ch
    special = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
    if ch in special:
        return special[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _show(text: str, limit: int = 60) -> str:
    """A code for a message: control characters escaped, very long input shortened."""
    shown = "".join(_esc(c) for c in text[:limit])
    return shown + "…" if len(text) > limit else shown


# ------------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class _Spec:
    ai: str
    title: str
    fixed: int | None  # the value's length when it is fixed
    longest: int | None  # the longest value allowed, when the format says
    numeric: bool
    known: bool
    format: str = ""


_PART = re.compile(r"([NXYZ])(\.\.)?(\d+)")


def _lengths(fmt: str) -> tuple[int | None, int | None, bool]:
    """(fixed length or None, maximum length or None, all numeric) from a format like
    ``N4+N..15`` or ``N4+N8[+N..4]`` (the first part is the AI itself)."""
    parts = fmt.split("+", 1)[1] if "+" in fmt else ""
    found = _PART.findall(parts)
    if not found:
        return None, None, False
    longest = sum(int(n) for _, _, n in found)
    numeric = all(kind == "N" for kind, _, _ in found)
    fixed = "[" not in parts and all(not dots for _, dots, _ in found)
    return (longest if fixed else None), longest, numeric


@lru_cache(maxsize=4096)
def _spec(head: str) -> _Spec | None:
    """The AI that ``head`` (up to four characters of data) starts with, or None."""
    try:
        ai = _biip().AI.extract(head)
    except _biip().ParseError:
        width = _AI_LENGTH.get(head[:2])
        if width is None or len(head) < width or not _is_digits(head[:width]):
            return None
        fixed = _PREDEFINED.get(head[:2])
        return _Spec(head[:width], "unknown AI", fixed, fixed, fixed is not None, known=False)
    fixed, longest, numeric = _lengths(ai.format)
    return _Spec(ai.ai, ai.data_title, fixed, longest, numeric, known=True, format=ai.format)


def _bracket_spec(ai: str) -> _Spec | None:
    """The spec of an AI written in brackets: it must be the whole of a known or
    well-formed AI, not just start with one."""
    spec = _spec(ai)
    return spec if spec is not None and spec.ai == ai else None


# --------------------------------------------------------------------------- the elements


@dataclass(frozen=True)
class Element:
    """One AI and its value, with what biip read from it."""

    ai: str
    value: str
    title: str
    known: bool = True
    date: dt.date | None = None
    decimal: Decimal | None = None


@dataclass(frozen=True)
class ElementString:
    """A parsed GS1 element string (or Digital Link URI), elements in the order scanned."""

    elements: tuple[Element, ...]

    @property
    def values(self) -> dict[str, str]:
        return {e.ai: e.value for e in self.elements}

    @property
    def unknown(self) -> tuple[str, ...]:
        """The AIs packbench does not know (kept as they came, not checked)."""
        return tuple(e.ai for e in self.elements if not e.known)

    def get(self, ai: str) -> Element | None:
        return next((e for e in self.elements if e.ai == ai), None)


def _label(spec: _Spec) -> str:
    return f"AI ({spec.ai}) {spec.title}"


def _check_date(spec: _Spec, value: str, at: int) -> None:
    yy, mm, dd = int(value[:2]), int(value[2:4]), int(value[4:6])
    # DD=00 means "end of month"; the century only matters for 29 Feb, and GS1's
    # sliding window puts every YY in the 2000s for years to come.
    if not 1 <= mm <= 12 or dd > calendar.monthrange(2000 + yy, mm)[1]:
        raise GS1Error(f"{_label(spec)} {value} at character {at + 1} is not a date (YYMMDD)")


def _element(spec: _Spec, value: str, at: int) -> Element:
    """Check one value; ``at`` is the 0-based offset of the value in the input."""
    label = _label(spec)
    if not value:
        raise GS1Error(f"{label} at character {at + 1} is empty")
    if spec.fixed is not None and len(value) != spec.fixed:
        raise GS1Error(
            f"{label} at character {at + 1} must be {spec.fixed} characters, "
            f"got {len(value)} (“{_show(value)}”)"
        )
    if spec.longest is not None and len(value) > spec.longest:
        raise GS1Error(
            f"{label} at character {at + 1} is {len(value)} characters long, at most "
            f"{spec.longest} are allowed (is a GS/FNC1 separator missing?)"
        )
    for i, ch in enumerate(value):
        if spec.numeric and not ("0" <= ch <= "9"):
            raise GS1Error(
                f"{label} must be digits, but has “{_esc(ch)}” at character {at + i + 1}"
            )
        if ch not in _CSET82:
            raise GS1Error(
                f"{label} has “{_esc(ch)}” at character {at + i + 1}, "
                "which GS1 does not allow in element strings"
            )
    if spec.ai in _CHECKED and not is_valid_gs1(value):
        raise GS1CheckDigitError(
            f"{label} {value} at character {at + 1} has a wrong check digit "
            f"(should be {gs1_check_digit(value[:-1])})"
        )
    if spec.ai in _DATES:
        _check_date(spec, value, at)
    if not spec.known:
        return Element(spec.ai, value, spec.title, known=False)
    try:
        parsed = _biip().ElementString.parse(spec.ai + value, config=_biip().config)
    except _biip().ParseError:
        raise GS1Error(
            f"{label} “{_show(value)}” at character {at + 1} does not have the form GS1 "
            f"sets for it ({spec.format})"
        ) from None
    return Element(spec.ai, value, spec.title, date=parsed.date, decimal=parsed.decimal)


class _Collector:
    def __init__(self) -> None:
        self.elements: list[Element] = []
        self.seen: dict[str, str] = {}

    def add(self, spec: _Spec, value: str, at: int) -> None:
        element = _element(spec, value, at)
        if spec.ai in self.seen:
            if self.seen[spec.ai] != value:
                raise GS1Error(
                    f"AI ({spec.ai}) appears twice with different values, "
                    f"again at character {at + 1}"
                )
            return
        self.seen[spec.ai] = value
        self.elements.append(element)

    def result(self) -> ElementString:
        return ElementString(tuple(self.elements))


def _parse_plain(data: str, pos: int) -> ElementString:
    out = _Collector()
    end_of_data = len(data)
    while pos < end_of_data:
        if data[pos] == GS:  # after a variable field, or a redundant FNC1
            pos += 1
            continue
        spec = _spec(data[pos : pos + 4])
        if spec is None:
            head = data[pos : pos + 4]
            if not _is_digits(head[:2]):
                raise GS1Error(
                    f"expected an application identifier (digits) at character {pos + 1}, "
                    f"found “{_show(head)}”"
                )
            raise GS1Error(f"unknown application identifier “{head}…” at character {pos + 1}")
        start = pos + len(spec.ai)
        if spec.fixed is not None:
            end = start + spec.fixed
            value = data[start:end]
            cut = value.find(GS)
            if cut != -1 or len(value) < spec.fixed:
                value = value[:cut] if cut != -1 else value
                raise GS1Error(
                    f"AI ({spec.ai}) {spec.title} at character {start + 1} needs {spec.fixed} "
                    f"characters but the data gives only {len(value)}"
                )
        else:
            end = data.find(GS, start)
            end = end_of_data if end == -1 else end
            value = data[start:end]
        out.add(spec, value, start)
        pos = end
    return out.result()


_BRACKET_AI = re.compile(r"\(([0-9]{2,4})\)")


def _next_bracket_ai(data: str, pos: int) -> re.Match[str] | None:
    """The next "(AI)" with a well-formed AI; "(" and ")" may also occur inside a batch."""
    match = _BRACKET_AI.search(data, pos)
    while match is not None and _bracket_spec(match.group(1)) is None:
        match = _BRACKET_AI.search(data, match.start() + 1)
    return match


def _parse_bracketed(data: str, pos: int) -> ElementString:
    out = _Collector()
    end_of_data = len(data)
    while pos < end_of_data:
        if data[pos] in " " + GS:
            pos += 1
            continue
        match = _BRACKET_AI.match(data, pos)
        if match is None:
            raise GS1Error(f"expected “(AI)” at character {pos + 1}, found “{_show(data[pos])}”")
        spec = _bracket_spec(match.group(1))
        if spec is None:
            raise GS1Error(
                f"unknown application identifier ({match.group(1)}) at character {pos + 1}"
            )
        start = match.end()
        following = _next_bracket_ai(data, start)
        end = following.start() if following else end_of_data
        value = data[start:end]
        # Printed HRI groups digits with spaces (packbench's own SSCC line does); no GS1 value
        # may hold a space, so every space is layout.
        stripped = value.lstrip(" ")
        out.add(spec, stripped.replace(" ", ""), start + len(value) - len(stripped))
        pos = end
    return out.result()


def parse_element_string(data: str) -> ElementString:
    """Parse a GS1 element string.

    Accepts what scanners send (optional AIM symbology identifier, FNC1 as ASCII 29 before
    the data and after variable-length values, or no separator at all where the variable
    field comes last) and the printed form ``(01)…(17)…(10)…`` with or without spaces.
    Raises :class:`GS1Error` with a message a packer can act on.
    """
    if not isinstance(data, str):
        raise GS1Error(f"a GS1 element string must be text, got {type(data).__name__}")
    pos = 0
    if data.startswith("]"):
        if data[:3] not in GS1_SYMBOLOGY_IDS:
            raise GS1Error(
                f"symbology identifier “{_show(data[:3])}” does not announce GS1 data "
                f"(expected one of {', '.join(GS1_SYMBOLOGY_IDS)})"
            )
        pos = 3
    while data[pos : pos + 1] == GS:
        pos += 1
    if pos >= len(data):
        raise GS1Error("the element string holds no data")
    if data[pos] == "(":
        return _parse_bracketed(data, pos)
    return _parse_plain(data, pos)


def parse_gs1(data: str) -> dict[str, str]:
    """Parse a GS1 element string into ``{AI: value}`` (see :func:`parse_element_string`)."""
    return parse_element_string(data).values


# --------------------------------------------------------------------------- Digital Link

_URI_START = re.compile(r"https?://", re.IGNORECASE)


def is_digital_link(text: str) -> bool:
    """A web address, which on packaging is a GS1 Digital Link (checked when parsed)."""
    return bool(_URI_START.match(text))


def parse_digital_link(uri: str) -> ElementString:
    """The element strings in a GS1 Digital Link URI, on ``id.gs1.org`` or any other domain
    (``https://brand.example/p/01/09506000134352/10/ABC?17=261231``).

    Its values are checked by the same rules as a scanned element string.
    """
    try:
        host = urlsplit(uri).netloc
    except ValueError as exc:  # "http://[" is no URL at all
        raise GS1Error(f"the web address is no GS1 Digital Link: {exc}") from None
    b = _biip()
    try:
        link = b.DigitalLink.parse(uri, config=b.ParseConfig(gs1_element_strings_verify_date=False))
    except (b.ParseError, ValueError) as exc:
        raise GS1Error(
            f"the web address on {host or 'no host'} is no GS1 Digital Link: {exc}"
        ) from None
    out = _Collector()
    for es in link.element_strings:
        spec = _bracket_spec(es.ai.ai)
        if spec is None:  # pragma: no cover - biip only returns AIs from its own table
            raise GS1Error(f"unknown application identifier ({es.ai.ai}) in the web address")
        try:
            out.add(spec, es.value, 0)
        except GS1Error as exc:
            # Positions mean nothing in a URI; say which AI instead.
            raise type(exc)(re.sub(r" at character \d+", " in the web address", str(exc))) from None
    return out.result()


# ---------------------------------------------------------------------------------- UPC-E


def upc_e_to_gtin12(code: str) -> str | None:
    """The GTIN-12 (UPC-A) an 8-digit UPC-E stands for, or None if ``code`` is no valid UPC-E
    (number system 0 or 1, check digit of the expanded number)."""
    if not (isinstance(code, str) and len(code) == 8 and _is_digits(code)):
        return None
    try:
        gtin: str = _biip().Upc.parse(code).as_gtin_12()
        return gtin
    except _biip().ParseError:
        return None


def upc_e_check_digit(code: str) -> int | None:
    """The check digit an 8-digit UPC-E with number system 0/1 should end in, else None."""
    if not (len(code) == 8 and _is_digits(code) and code[0] in "01"):
        return None
    return int(_biip().Upc.parse(code[:7]).as_upc_e()[-1])


# ---------------------------------------------------------------- variable measure (RCN)


@dataclass(frozen=True)
class VariableMeasure:
    """What a restricted-circulation GTIN-13 (prefix 20-29) carries under a region's rules.

    ``item_gtin14`` is the item's own number, the measure zeroed: what a catalogue lists.
    """

    item_gtin14: str
    weight_g: int | None = None
    price_minor: int | None = None
    count: int | None = None


def read_variable_measure(gtin: str, region: str | None) -> VariableMeasure | None:
    """The item and its weight/price/count when ``gtin`` is a variable-measure number that
    ``region``'s rules describe; None when it is an ordinary GTIN (or no region is set).

    Raises :class:`GS1Error` when the number's own price/weight check digit is wrong.
    """
    if region is None or not (_is_digits(gtin) and len(gtin) in (12, 13, 14)):
        return None
    as13 = gtin[-13:].zfill(13)
    if not as13.startswith(("2", "02")):  # GS1's geographic RCN prefixes: 02, 20-29
        return None
    try:
        b = _biip()
        parsed = b.Gtin.parse(gtin, config=b.ParseConfig(rcn_region=region))
    except _biip().ParseError as exc:
        raise GS1Error(f"“{gtin}” is a variable-measure number with a bad check: {exc}") from None
    if not isinstance(parsed, _biip().Rcn) or (
        parsed.weight is None and parsed.price is None and parsed.count is None
    ):
        return None
    item = parsed.without_variable_measure().as_gtin_14()
    weight = None if parsed.weight is None else int(parsed.weight * 1000)
    price = None if parsed.price is None else int(parsed.price * 100)
    return VariableMeasure(item, weight_g=weight, price_minor=price, count=parsed.count)


# ------------------------------------------------------------------------- SSCC groups


def sscc_groups(sscc: str, company_prefix: str = "") -> tuple[str, str, str, str]:
    """An SSCC as it is printed: extension digit, GS1 company prefix, serial reference,
    check digit (``3 7071234 000000001 6``).

    The prefix is ``company_prefix`` (the shop's own, from the configuration) when the SSCC
    carries it; otherwise GS1's table of prefix lengths for the range (as biip bundles it);
    otherwise 7 digits, the shortest prefix GS1 issues.
    """
    if not (isinstance(sscc, str) and len(sscc) == 18 and _is_digits(sscc)):
        raise ValueError(f"an SSCC is 18 digits, got {sscc!r}")
    body = sscc[1:17]
    if company_prefix and 7 <= len(company_prefix) <= 10 and body.startswith(company_prefix):
        width = len(company_prefix)
    else:
        found = _biip().CompanyPrefix.extract(body)
        width = len(found.value) if found is not None and 7 <= len(found.value) <= 10 else 7
    return sscc[0], body[:width], body[width:], sscc[17]
