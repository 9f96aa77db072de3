"""What a scan means: check digits, GS1 element strings, keyboard-layout repair, classification.

Everything the bench scans (badges, order slips, product barcodes, pallet labels, parcel
labels, shelf labels, box labels and command cards) arrives as a line of keyboard input. This
module turns that line into a :class:`Scan` the screens and the operations layer can act on,
and explains in plain words why a scan was refused.

GS1 element strings, Digital Link, UPC-E and variable-measure numbers are read by
:mod:`packbench.core.gs1` (biip's AI table behind our own messages); their names are
re-exported here, so ``packbench.core.codes`` stays the one import for the rest of the app.

Pure logic: the screens, the operations layer and the tests share one definition of a code
without dragging in Textual, the database or the network.
"""

from __future__ import annotations

import datetime as dt
import re
import string
import unicodedata
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache

from packbench.core.gs1 import (
    GS,
    GS1_SYMBOLOGY_IDS,
    KEY_AIS,
    RCN_REGIONS,
    ElementString,
    GS1CheckDigitError,
    GS1Error,
    _esc,
    _show,
    gs1_check_digit,
    is_digital_link,
    is_valid_gs1,
    parse_digital_link,
    parse_element_string,
    parse_gs1,
    read_variable_measure,
    upc_e_check_digit,
    upc_e_to_gtin12,
)

__all__ = [
    "DEFAULT_RULES",
    "GS1_SYMBOLOGY_IDS",
    "KEY_AIS",
    "LAYOUT_SWAPS",
    "CodeKind",
    "CodeRules",
    "Command",
    "GS1CheckDigitError",
    "GS1Error",
    "Scan",
    "classify",
    "describe_chars",
    "gs1_check_digit",
    "is_valid_gs1",
    "is_valid_gtin",
    "is_valid_s10",
    "is_valid_sscc",
    "make_s10",
    "make_sscc",
    "normalize_gtin",
    "parse_element_string",
    "parse_gs1",
    "s10_check_digit",
    "swap",
    "unswap",
    "upc_e_to_gtin12",
]

_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def _ascii_upper(text: str) -> str:
    """Upper-case ASCII letters only: ``"ß".upper()`` is ``"SS"``, which would hide a layout
    error (a German host turns the US '-' into 'ß') behind a plausible-looking SKU."""
    return text.translate(_UPPER)


def _is_digits(text: str) -> bool:
    """ASCII digits only; ``str.isdigit`` also accepts '²' and Arabic-Indic digits."""
    return bool(text) and text.isascii() and text.isdigit()


# --------------------------------------------------------------------------- check digits


def is_valid_gtin(code: str) -> bool:
    """GTIN-8, -12 (UPC-A), -13 (EAN) or -14 with a correct check digit."""
    return isinstance(code, str) and len(code) in (8, 12, 13, 14) and is_valid_gs1(code)


def is_valid_sscc(code: str) -> bool:
    """An 18-digit Serial Shipping Container Code with a correct check digit."""
    return isinstance(code, str) and len(code) == 18 and is_valid_gs1(code)


def normalize_gtin(code: str) -> str:
    """The GTIN zero-padded to 14 digits, the form to store and compare product codes in."""
    if not is_valid_gtin(code):
        raise ValueError(f"{code!r} is not a valid GTIN-8/12/13/14")
    return code.zfill(14)


def _plain_int(value: object, what: str) -> int:
    """Reject bools and non-ints with ValueError, as the callers promise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an int, got {value!r}")
    return value


def make_sscc(extension: int, company_prefix: str, serial: int) -> str:
    """Build an SSCC: extension digit + company prefix + zero-padded serial + check digit."""
    extension = _plain_int(extension, "extension digit")
    serial = _plain_int(serial, "serial reference")
    if not 0 <= extension <= 9:
        raise ValueError(f"the extension digit must be 0-9, got {extension}")
    if not isinstance(company_prefix, str) or not (
        _is_digits(company_prefix) and 7 <= len(company_prefix) <= 10
    ):
        raise ValueError(f"the GS1 company prefix must be 7-10 digits, got {company_prefix!r}")
    width = 16 - len(company_prefix)
    if not 0 <= serial < 10**width:
        raise ValueError(
            f"serial reference {serial} does not fit the {width} digits left by a "
            f"{len(company_prefix)}-digit company prefix"
        )
    body = f"{extension}{company_prefix}{serial:0{width}d}"
    return body + str(gs1_check_digit(body))


_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
_S10_RE = re.compile(r"[A-Z]{2}[0-9]{8}[0-9][A-Z]{2}")
_LETTERS2_RE = re.compile(r"[A-Z]{2}")


def s10_check_digit(serial8: str) -> int:
    """UPU S10 check digit over the 8 serial digits (weights 8,6,4,2,3,5,9,7; mod 11).

    Note: 11 - r maps both r=0 and r=6 to 5, so S10 misses some single-digit errors.
    """
    if not isinstance(serial8, str) or len(serial8) != 8 or not _is_digits(serial8):
        raise ValueError(f"an S10 serial number is exactly 8 digits, got {serial8!r}")
    check = 11 - sum(int(d) * w for d, w in zip(serial8, _S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(check, check)


def is_valid_s10(code: str) -> bool:
    """True for a UPU S10 item id such as ``RR123456785NO`` with a correct check digit."""
    return (
        isinstance(code, str)
        and _S10_RE.fullmatch(code) is not None
        and s10_check_digit(code[2:10]) == int(code[10])
    )


def make_s10(prefix2: str, serial: int, country2: str) -> str:
    """Build a UPU S10 item id: service indicator + 8-digit serial + check digit + country."""
    serial = _plain_int(serial, "serial number")
    prefix = _ascii_upper(prefix2) if isinstance(prefix2, str) else ""
    country = _ascii_upper(country2) if isinstance(country2, str) else ""
    if not _LETTERS2_RE.fullmatch(prefix):
        raise ValueError(f"the S10 service indicator must be two letters A-Z, got {prefix2!r}")
    if not _LETTERS2_RE.fullmatch(country):
        raise ValueError(f"the S10 country code must be two letters A-Z, got {country2!r}")
    if not 0 <= serial <= 99_999_999:
        raise ValueError(f"an S10 serial number is 0-99999999, got {serial}")
    digits = f"{serial:08d}"
    return f"{prefix}{digits}{s10_check_digit(digits)}{country}"


# --------------------------------------------------------------------- keyboard layouts

# What a scanner set to a US keyboard produces on a host with another layout: for each US
# character (a key position plus shift), the character the host turns it into. Letters and
# digits not listed are unchanged. Taken from the standard PC layouts (xkeyboard-config
# "no", "de" and "fr" basic; Windows agrees except that French Shift+² types nothing where
# xkb types '~'). Dead keys are shown as their spacing accent; a dead key followed by a
# letter composes (see _DEAD_KEYS).
_US_TO_HOST: dict[str, tuple[str, str]] = {
    "us": ("", ""),
    "no": (
        "`~@$^&*()-_=+[{]}\\|;:'\"<>/?",
        "|§\"¤&/()=+?\\`åÅ¨^'*øØæÆ;:-_",
    ),
    "de": (
        "`~@#^&*()-_=+[{]}\\|;:'\"<>/?yYzZ",
        "^°\"§&/()=ß?´`üÜ+*#'öÖäÄ;:-_zZyY",
    ),
    "fr": (
        "`1!2@3#4$5%6^7&8*9(0)-_qQwW[{]}aA;:'\"\\|zZmM,<.>/?",
        "²&1é2\"3'4(5-6è7_8ç9à0)°aAzZ^¨$£qQmMù%*µwW,?;.:/!§",
    ),
}

# Dead keys per layout: US character -> combining mark it adds to the next letter.
_DEAD_KEYS: dict[str, dict[str, str]] = {
    "us": {},
    "no": {"]": "\u0308", "}": "\u0302", "+": "\u0300"},
    "de": {"`": "\u0302", "=": "\u0301", "+": "\u0300"},
    "fr": {"[": "\u0302", "{": "\u0308"},
}

_FORWARD: dict[str, dict[str, str]] = {
    name: dict(zip(us, host, strict=True)) for name, (us, host) in _US_TO_HOST.items()
}

#: Per host layout, {received character: character the US-configured scanner meant}.
LAYOUT_SWAPS: dict[str, dict[str, str]] = {
    name: {host: us for us, host in table.items() if host != us} for name, table in _FORWARD.items()
}
_MARK_TO_DEAD: dict[str, dict[str, str]] = {
    name: {mark: us for us, mark in dead.items()} for name, dead in _DEAD_KEYS.items()
}


def _layout(layout: str) -> str:
    key = layout.lower() if isinstance(layout, str) else layout
    if key not in LAYOUT_SWAPS:
        raise ValueError(f"unknown keyboard layout {layout!r}; known: {', '.join(LAYOUT_SWAPS)}")
    return key


def swap(code: str, layout: str) -> str:
    """What a US-configured scanner reading ``code`` types into a host using ``layout``."""
    name = _layout(layout)
    forward, dead, inverse = _FORWARD[name], _DEAD_KEYS[name], LAYOUT_SWAPS[name]
    out: list[str] = []
    i = 0
    while i < len(code):
        ch = code[i]
        if ch in dead and i + 1 < len(code):
            base = forward.get(code[i + 1], code[i + 1])
            composed = unicodedata.normalize("NFC", base + dead[ch])
            if base in string.ascii_letters and len(composed) == 1 and composed not in inverse:
                out.append(composed)
                i += 2
                continue
        out.append(forward.get(ch, ch))
        i += 1
    return "".join(out)


def unswap(code: str, layout: str) -> str:
    """Undo :func:`swap`: recover what a US-configured scanner read from what the host typed."""
    name = _layout(layout)
    inverse, marks = LAYOUT_SWAPS[name], _MARK_TO_DEAD[name]
    out: list[str] = []
    for ch in code:
        if ch in inverse:
            out.append(inverse[ch])
            continue
        parts = unicodedata.normalize("NFD", ch) if marks and not ch.isascii() else ch
        if len(parts) == 2 and parts[0] in string.ascii_letters and parts[1] in marks:
            out.append(marks[parts[1]] + inverse.get(parts[0], parts[0]))
        else:
            out.append(ch)
    return "".join(out)


# ------------------------------------------------------------------------ classification


class CodeKind(StrEnum):
    BADGE = "badge"
    ORDER = "order"
    GTIN = "gtin"
    SSCC = "sscc"
    TRACKING = "tracking"
    LOCATION = "location"
    BOX = "box"
    COMMAND = "command"
    SKU = "sku"
    INVALID = "invalid"
    UNKNOWN = "unknown"


class Command(StrEnum):
    CONFIRM = "CONFIRM"
    CANCEL = "CANCEL"
    NEXT = "NEXT"
    COMPLETE = "COMPLETE"
    SHORT = "SHORT"
    SIGN_OUT = "SIGNOUT"
    TEST_SCAN = "TESTSCAN"
    UNDO = "UNDO"


@lru_cache(maxsize=64)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)


@dataclass(frozen=True)
class CodeRules:
    """The shop-specific part of classification (prefixes, patterns, the host layout)."""

    badge_prefix: str = "BDG-"
    order_prefix: str = "ORD-"
    command_prefix: str = "CMD-"
    box_prefixes: tuple[str, ...] = ("BOX-", "BAG-")
    location_pattern: str = r"[A-Z]{1,2}-\d{2}-\d"  # AISLE-BAY-LEVEL, e.g. C-07-2
    sku_pattern: str = r"[A-Z0-9][A-Z0-9._/-]{1,39}"
    layout: str = "us"  # the host layout a US-configured scanner types into; see LAYOUT_SWAPS
    max_length: int = 200
    #: Whose rules read weight/price out of restricted-circulation GTINs (prefix 20-29):
    #: a region in RCN_REGIONS ("no", "se", "dk", …), or None to take them as plain GTINs.
    rcn_region: str | None = None

    def __post_init__(self) -> None:
        # Fail when the settings are loaded, not on the first scan at the bench.
        _layout(self.layout)
        for name in ("location_pattern", "sku_pattern"):
            try:
                _compile(getattr(self, name))
            except re.error as exc:
                raise ValueError(f"{name} is not a valid regular expression: {exc}") from exc
        if self.max_length < 1:
            raise ValueError(f"max_length must be positive, got {self.max_length}")
        if self.rcn_region is not None and self.rcn_region not in RCN_REGIONS:
            raise ValueError(
                f"rcn_region must be one of {', '.join(RCN_REGIONS)} (or unset), "
                f"got {self.rcn_region!r}"
            )


DEFAULT_RULES = CodeRules()


@dataclass(frozen=True)
class Scan:
    """One classified scan; ``value`` is the normalised code the rest of the app works with."""

    raw: str
    kind: CodeKind
    value: str
    reason: str = ""
    gtin14: str | None = None
    ai: dict[str, str] = field(default_factory=dict)
    swapped: bool = False
    command: Command | None = None
    #: How many units of ``gtin14`` the code stands for: AI (37) beside (02), the contents
    #: of a case or pallet. None for a single item.
    count: int | None = None
    #: True when ``gtin14`` came from AI (02): the GTIN of what a case holds, not of the case.
    content: bool = False
    expiry: dt.date | None = None  # AI (17), its day-00 already the month's last day
    batch: str | None = None  # AI (10)
    #: A variable-measure item's weight or price: from a restricted-circulation GTIN read
    #: under ``CodeRules.rcn_region``, or from AI (310n) / (392n).
    weight_g: int | None = None
    price_minor: int | None = None
    #: Other GTIN-14s the same digits could be (an 8-digit code valid as EAN-8 and as
    #: UPC-E); whoever looks the product up should try them after ``gtin14``.
    alternatives: tuple[str, ...] = ()
    #: The SKU this code would be if it were not a GS1 element string; the operations layer
    #: takes that reading when the catalogue has a product with this SKU.
    sku: str | None = None
    unknown_ais: tuple[str, ...] = ()  # AIs kept as scanned but unknown to packbench

    @property
    def ok(self) -> bool:
        """True unless the scan was refused (INVALID) or not understood (UNKNOWN)."""
        return self.kind not in (CodeKind.INVALID, CodeKind.UNKNOWN)

    @property
    def gtins(self) -> tuple[str, ...]:
        """Every GTIN-14 this scan may name, the likeliest first."""
        return ((self.gtin14,) if self.gtin14 else ()) + self.alternatives

    def details(self) -> str:
        """What a GS1 code said beyond its kind and value, in one line (the test-scan view)."""
        parts = []
        if self.gtin14 and self.gtin14 != self.value:
            parts.append(f"{'contents ' if self.content else ''}GTIN {self.gtin14}")
        parts += [f"or GTIN {g}" for g in self.alternatives]
        if self.count is not None:
            parts.append(f"{self.count} units")
        if self.batch:
            parts.append(f"batch {self.batch}")
        if self.expiry:
            parts.append(f"expiry {self.expiry:%d.%m.%Y}")
        if self.weight_g is not None:
            parts.append(f"{self.weight_g} g")
        if self.price_minor is not None:
            parts.append(f"price {self.price_minor / 100:.2f}")
        if self.ai:
            parts.append("AIs " + "".join(f"({k})" for k in self.ai))
        if self.unknown_ais:
            parts.append("unknown to packbench: " + "".join(f"({k})" for k in self.unknown_ais))
        if self.sku:
            parts.append(f"a product with SKU {self.sku} would take precedence")
        return " · ".join(parts)

    def as_sku(self) -> Scan:
        """The same scan read as the SKU it also looks like (see ``sku``)."""
        if self.sku is None:
            raise ValueError(f"{self.raw!r} has no SKU reading")
        return Scan(self.raw, CodeKind.SKU, self.sku, swapped=self.swapped)


_WHITESPACE = "".join(
    c for c in map(chr, range(0x3001)) if c.isspace() and c not in "\x1c\x1d\x1e\x1f"
)
_COMMANDS = {c.value: c for c in Command}
_AIM_ID = re.compile(r"\][A-Za-z][0-9A-Za-z]")
_BRACKET_AI = re.compile(r"\(([0-9]{2,4})\)")
_ID_TAIL = re.compile(r"[A-Z0-9][A-Z0-9._/-]{0,39}")
_GTIN_NAMES = {8: "GTIN-8", 12: "GTIN-12 (UPC-A)", 13: "GTIN-13", 14: "GTIN-14"}


def _invalid(raw: str, reason: str, value: str = "") -> Scan:
    return Scan(raw=raw, kind=CodeKind.INVALID, value=value, reason=reason)


def _unknown(raw: str, reason: str, value: str = "") -> Scan:
    return Scan(raw=raw, kind=CodeKind.UNKNOWN, value=value, reason=reason)


def _element_scan(
    raw: str, code: str, es: ElementString, rules: CodeRules, *, sku: str | None = None
) -> Scan:
    """An element string names an SSCC (a logistic unit) before a GTIN (its content)."""
    ai = es.values
    gtin = ai.get("01") or ai.get("02") or ai.get("03")
    content = "01" not in ai and "02" in ai
    expiry = es.get("17")
    weight = next((e for e in es.elements if e.ai[:3] == "310" and e.decimal is not None), None)
    price = next((e for e in es.elements if e.ai[:3] == "392" and e.decimal is not None), None)
    facts: dict[str, object] = {
        "ai": ai,
        "gtin14": gtin,
        "content": content,
        # GS1: (37) counts the trade items of (02) in a logistic unit; beside (01) it is
        # not allowed, and a count taken from it would be a guess.
        "count": int(ai["37"]) if content and "37" in ai else None,
        "expiry": expiry.date if expiry is not None else None,
        "batch": ai.get("10"),
        "weight_g": int(weight.decimal * 1000) if weight and weight.decimal else None,
        "price_minor": int(price.decimal * 100) if price and price.decimal else None,
        "unknown_ais": es.unknown,
        "sku": sku,
    }
    if "00" in ai:
        return Scan(raw, CodeKind.SSCC, ai["00"], **facts)  # type: ignore[arg-type]  # facts holds exactly Scan's optional fields, typed above
    if gtin is not None:
        scan = Scan(raw, CodeKind.GTIN, gtin, **facts)  # type: ignore[arg-type]  # facts holds exactly Scan's optional fields, typed above
        return _with_measure(scan, gtin, rules)
    listed = ", ".join(f"({k})" for k in ai)
    return Scan(
        raw,
        CodeKind.UNKNOWN,
        "",
        reason=f"“{_show(code)}” is a GS1 element string with {listed} but no GTIN or SSCC",
        ai=ai,
        unknown_ais=es.unknown,
        sku=sku,
    )


def _with_measure(scan: Scan, gtin: str, rules: CodeRules) -> Scan:
    """A restricted-circulation GTIN read under the configured region: the item (its
    measure zeroed, as a catalogue lists it) and the weight or price printed into it."""
    try:
        measure = read_variable_measure(gtin, rules.rcn_region)
    except GS1Error as exc:
        return _invalid(scan.raw, str(exc), gtin)
    if measure is None:
        return scan
    return replace(
        scan,
        gtin14=measure.item_gtin14,
        weight_g=measure.weight_g if measure.weight_g is not None else scan.weight_g,
        price_minor=measure.price_minor if measure.price_minor is not None else scan.price_minor,
        count=measure.count if measure.count is not None else scan.count,
        alternatives=(gtin.zfill(14),),
    )


def _parse_element(raw: str, code: str, rules: CodeRules) -> Scan:
    try:
        es = parse_element_string(code)
    except GS1Error as exc:
        return _invalid(raw, f"“{_show(code)}” is not a valid GS1 element string: {exc}")
    return _element_scan(raw, code, es, rules)


def _digital_link(raw: str, code: str, rules: CodeRules) -> Scan:
    try:
        es = parse_digital_link(code)
    except GS1Error as exc:
        if "no GS1 Digital Link" in str(exc):
            return _unknown(raw, f"“{_show(code)}”: {exc}")
        return _invalid(raw, f"“{_show(code)}” is a GS1 Digital Link with a fault: {exc}")
    return _element_scan(raw, code, es, rules)


def _plain_element(raw: str, code: str, rules: CodeRules, upper: str) -> Scan | None:
    """A code with no separator, brackets or symbology identifier that still reads as a GS1
    element string with a key (SSCC, GTIN): `01` + GTIN + `17` + date + `10` + batch is
    how GS1 DataMatrix and GS1-128 on food and medicine arrive when the batch comes last.

    The key need not come first (``17`` + date + ``01`` + GTIN is as good), but it must be
    there. None when the code does not read so; one that starts with a key and is a good
    element string but for that key's check digit, or whose key checks out but a later part
    does not, is refused (with the SKU reading kept for the catalogue to claim).
    """
    if not _is_digits(code[:2]):
        return None
    sku = upper if rules.sku_pattern and _compile(rules.sku_pattern).fullmatch(upper) else None
    try:
        es = parse_element_string(code)
    except GS1CheckDigitError as exc:
        if code[:2] not in KEY_AIS or not _parses_with_key_fixed(code):
            return None
        return replace(
            _invalid(raw, f"“{_show(code)}” reads as a GS1 element string, but {exc}"), sku=sku
        )
    except GS1Error as exc:
        if not _key_ok(code):
            return None
        return replace(
            _invalid(raw, f"“{_show(code)}” reads as a GS1 element string, but {exc}"), sku=sku
        )
    if not any(key in es.values for key in KEY_AIS):
        return None
    return _element_scan(raw, code, es, rules, sku=sku)


def _parses_with_key_fixed(code: str) -> bool:
    """Whether the code would be a good element string but for its key's check digit."""
    width = 18 if code.startswith("00") else 14
    key = code[2 : 2 + width]
    if len(key) != width or not _is_digits(key):
        return False
    fixed = code[:2] + key[:-1] + str(gs1_check_digit(key[:-1])) + code[2 + width :]
    try:
        parse_element_string(fixed)
    except GS1Error:
        return False
    return True


def _key_ok(code: str) -> bool:
    """The code starts with a key AI whose value has a right check digit: from there on it
    is taken for a GS1 element string, and a later fault is a refusal, not another kind."""
    width = 18 if code.startswith("00") else 14
    key = code[2 : 2 + width]
    return code[:2] in KEY_AIS and len(key) == width and is_valid_gs1(key)


def _eight_digits(raw: str, code: str, aim: str) -> Scan:
    """EAN-8 or UPC-E. Scanners say which only with a symbology identifier (``]E4`` EAN-8,
    ``]E0`` UPC-E); without one, whichever check digit fits. When both fit, a code starting
    with 0 is read as UPC-E first (an EAN-8 starting 0 is a shop's own restricted number,
    rarely on goods a web shop sells) and one starting with 1 as EAN-8 (GS1 US hands out
    EAN-8s there; UPC-E with number system 1 is rare); the other reading goes in
    ``alternatives`` so a product listed under either is found."""
    ean8 = code.zfill(14) if is_valid_gtin(code) and aim != "]E0" else None
    upc_a = upc_e_to_gtin12(code) if aim != "]E4" else None
    upc = upc_a.zfill(14) if upc_a else None
    if ean8 and upc:
        first, other = (upc, ean8) if code[0] == "0" else (ean8, upc)
        return Scan(raw, CodeKind.GTIN, code, gtin14=first, alternatives=(other,))
    if ean8 or upc:
        return Scan(raw, CodeKind.GTIN, code, gtin14=ean8 or upc)
    expected_upc = upc_e_check_digit(code) if aim != "]E4" else None
    expected_ean = gs1_check_digit(code[:-1])
    if aim == "]E0" and expected_upc is None:
        return _invalid(raw, f"“{code}” was read as a UPC-E, whose number system is 0 or 1")
    if expected_upc is None:
        return _invalid(
            raw, f"“{code}” looks like a GTIN-8 but its check digit should be {expected_ean}"
        )
    if aim == "]E0":
        return _invalid(
            raw, f"“{code}” looks like a UPC-E but its check digit should be {expected_upc}"
        )
    return _invalid(
        raw,
        f"“{code}” is neither a GTIN-8 (its check digit should be {expected_ean}) nor a "
        f"UPC-E (its check digit should be {expected_upc})",
    )


def _classify_digits(raw: str, code: str, rules: CodeRules, aim: str) -> Scan | None:
    """GS1 keys without separators: SSCC (18), AI 00 + SSCC (20, or more with other AIs
    behind it), GTIN (8/12/13/14; UPC-E), element strings starting with a key AI."""
    n = len(code)
    if n == 20 and code.startswith("00"):
        if is_valid_sscc(code[2:]):
            return Scan(raw, CodeKind.SSCC, code[2:], ai={"00": code[2:]})
        expected = gs1_check_digit(code[2:-1])
        return _invalid(
            raw,
            f"“{code}” looks like an SSCC with AI (00) but its check digit should be {expected}",
        )
    if n > 20 and code.startswith("00"):
        # An SSCC followed by more AIs: (02)+(37) contents, (3302) weight, (410) ship-to.
        return _parse_element(raw, code, rules)
    if n >= 16 and code.startswith(("01", "02", "03")):
        try:
            return _element_scan(raw, code, parse_element_string(code), rules)
        except GS1Error as exc:
            # Not an element string after all (maybe an SSCC starting 01/02), unless its key
            # checked out: then it is one with a fault.
            if _key_ok(code) and not (n == 18 and is_valid_sscc(code)):
                return _invalid(raw, f"“{code}” is not a valid GS1 element string: {exc}")
    if n == 18:
        if is_valid_sscc(code):
            return Scan(raw, CodeKind.SSCC, code)
        expected = gs1_check_digit(code[:-1])
        return _invalid(
            raw, f"“{code}” looks like an SSCC but its check digit should be {expected}"
        )
    if n == 8:
        return _eight_digits(raw, code, aim)
    if n in _GTIN_NAMES:
        if is_valid_gtin(code):
            return _with_measure(Scan(raw, CodeKind.GTIN, code, gtin14=code.zfill(14)), code, rules)
        expected = gs1_check_digit(code[:-1])
        return _invalid(
            raw, f"“{code}” looks like a {_GTIN_NAMES[n]} but its check digit should be {expected}"
        )
    return None


def _classify_prefixed(raw: str, code: str, upper: str, rules: CodeRules) -> Scan | None:
    def starts(prefix: str) -> bool:
        return bool(prefix) and upper.startswith(_ascii_upper(prefix))

    shown = _show(code)
    if starts(rules.badge_prefix):
        if _ID_TAIL.fullmatch(upper[len(rules.badge_prefix) :]):
            return Scan(raw, CodeKind.BADGE, upper)
        return _invalid(raw, f"“{shown}” has the badge prefix {rules.badge_prefix} but no badge id")
    if starts(rules.order_prefix):
        number = upper[len(rules.order_prefix) :]
        if _is_digits(number) and len(number) <= 12:
            return Scan(raw, CodeKind.ORDER, number)
        return _invalid(
            raw,
            f"“{shown}” has the order prefix {rules.order_prefix} but the order number "
            "must be 1-12 digits",
        )
    if starts(rules.command_prefix):
        name = re.sub(r"[-_ ]", "", upper[len(rules.command_prefix) :])
        command = _COMMANDS.get(name)
        if command is not None:
            return Scan(raw, CodeKind.COMMAND, command.value, command=command)
        known = ", ".join(c.value for c in Command)
        return _invalid(raw, f"“{shown}” is an unknown command; known commands: {known}")
    for prefix in rules.box_prefixes:
        if starts(prefix):
            if _ID_TAIL.fullmatch(upper[len(prefix) :]):
                return Scan(raw, CodeKind.BOX, upper)
            return _invalid(raw, f"“{shown}” has the box prefix {prefix} but no box size or id")
    return None


def _classify_code(raw: str, code: str, rules: CodeRules) -> Scan:
    """Classify a stripped code without any layout repair."""
    aim = ""
    if _AIM_ID.match(code):
        if len(code) == 3:
            return _invalid(raw, f"“{_show(code)}” is a symbology identifier without data")
        if code[:3] in GS1_SYMBOLOGY_IDS:
            if is_digital_link(code[3:]):
                return _digital_link(raw, code[3:], rules)
            return _parse_element(raw, code, rules)
        aim, code = code[:3], code[3:]  # a non-GS1 symbology (EAN, Code 128, …): its data
    if is_digital_link(code):
        return _digital_link(raw, code, rules)
    if GS in code or _BRACKET_AI.match(code.lstrip(" ")):
        return _parse_element(raw, code, rules)
    if _is_digits(code):
        found = _classify_digits(raw, code, rules, aim)
        if found is not None:
            return found
    upper = _ascii_upper(code)
    found = _plain_element(raw, code, rules, upper)
    if found is not None:
        return found
    if _S10_RE.fullmatch(upper):
        if is_valid_s10(upper):
            return Scan(raw, CodeKind.TRACKING, upper)
        expected = s10_check_digit(upper[2:10])
        return _invalid(
            raw,
            f"“{_show(code)}” looks like a tracking number (UPU S10) but its check digit "
            f"should be {expected}",
        )
    found = _classify_prefixed(raw, code, upper, rules)
    if found is not None:
        return found
    if rules.location_pattern and _compile(rules.location_pattern).fullmatch(upper):
        return Scan(raw, CodeKind.LOCATION, upper)
    if _is_digits(code):
        return _unknown(
            raw,
            f"“{_show(code)}” is a {len(code)}-digit number, which is no GTIN (8, 12, 13 or "
            "14 digits), SSCC (18) or other code packbench knows",
        )
    if rules.sku_pattern and _compile(rules.sku_pattern).fullmatch(upper):
        return Scan(raw, CodeKind.SKU, upper)
    return _unknown(
        raw,
        f"“{_show(code)}” is not a code packbench knows: no known prefix, and not a GTIN, "
        "SSCC, tracking number, location or SKU",
    )


def classify(raw: str, rules: CodeRules = DEFAULT_RULES) -> Scan:
    """Say what a scanned line is. Never raises for any text; refusals carry a reason.

    A code that only makes sense after undoing the host keyboard layout (``rules.layout``)
    is returned with ``swapped=True``; a code valid as typed is never re-read, and a code
    refused as typed is never turned into a SKU by the repair.
    """
    if not isinstance(raw, str):
        return _invalid(str(raw), f"the scan is a {type(raw).__name__}, not text")
    code = raw.strip(_WHITESPACE)
    if not code:
        return _invalid(raw, "the scan was empty")
    if len(code) > rules.max_length:
        return _invalid(
            raw,
            f"“{_show(code, 20)}” is {len(code)} characters long; "
            f"no code is longer than {rules.max_length}",
        )
    for pos, ch in enumerate(code):
        if ch != GS and unicodedata.category(ch) == "Cc":
            return _invalid(
                raw,
                f"“{_show(code)}” contains the control character {_esc(ch)} "
                f"({_char_name(ch)}) at position {pos + 1}; check the scanner's "
                "prefix/suffix settings",
            )
    scan = _classify_code(raw, code, rules)
    layout = _layout(rules.layout)
    if scan.ok or layout == "us":
        return scan
    repaired = unswap(code, layout)
    if repaired == code:
        return scan
    other = _classify_code(raw, repaired, rules)
    # A refused code (INVALID) was recognised as something; a repair may only replace it with
    # a code of a definite kind, not with the catch-all SKU ("ORD-AB" must not become the
    # SKU "ORD/AB" on a Norwegian host).
    if other.ok and (scan.kind is CodeKind.UNKNOWN or other.kind is not CodeKind.SKU):
        return replace(other, swapped=True)
    if scan.kind is CodeKind.UNKNOWN and other.kind is CodeKind.INVALID:
        # Read with the layout it is a known kind of code, only a broken one: say that.
        note = f" (read through the “{layout}” keyboard layout from “{_show(code)}”)"
        return replace(other, swapped=True, reason=other.reason + note)
    return scan


# ------------------------------------------------------------------------ test-scan view

_C0_NAMES = (
    "NULL", "START OF HEADING", "START OF TEXT", "END OF TEXT", "END OF TRANSMISSION",
    "ENQUIRY", "ACKNOWLEDGE", "BELL", "BACKSPACE", "CHARACTER TABULATION", "LINE FEED",
    "LINE TABULATION", "FORM FEED", "CARRIAGE RETURN", "SHIFT OUT", "SHIFT IN",
    "DATA LINK ESCAPE", "DEVICE CONTROL ONE", "DEVICE CONTROL TWO", "DEVICE CONTROL THREE",
    "DEVICE CONTROL FOUR", "NEGATIVE ACKNOWLEDGE", "SYNCHRONOUS IDLE",
    "END OF TRANSMISSION BLOCK", "CANCEL", "END OF MEDIUM", "SUBSTITUTE", "ESCAPE",
    "FS (file separator)", "GS (FNC1 separator)", "RS (record separator)",
    "US (unit separator)",
)  # fmt: skip
_FALLBACK_NAMES = {"Cc": "<control>", "Cs": "<surrogate>", "Co": "<private use>"}


def _char_name(ch: str) -> str:
    code = ord(ch)
    if code < 0x20:
        return _C0_NAMES[code]
    if code == 0x7F:
        return "DELETE"
    name = unicodedata.name(ch, "")
    return name or _FALLBACK_NAMES.get(unicodedata.category(ch), "<unassigned>")


def describe_chars(raw: str) -> list[tuple[str, str]]:
    """Each character with a display form and its Unicode name, to debug scanner settings."""
    return [(_esc(ch), f"U+{ord(ch):04X} {_char_name(ch)}") for ch in raw]
