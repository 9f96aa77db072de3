"""What a scan means: check digits, GS1 element strings, keyboard-layout repair, classification.

Everything the bench scans (badges, order slips, product barcodes, pallet labels, parcel
labels, shelf labels, box labels and command cards) arrives as a line of keyboard input. This
module turns that line into a :class:`Scan` the screens and the operations layer can act on,
and explains in plain words why a scan was refused.

Pure logic, standard library only: the screens, the operations layer and the tests share one
definition of a code without dragging in Textual, the database or the network.
"""

from __future__ import annotations

import calendar
import re
import string
import unicodedata
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache

__all__ = [
    "DEFAULT_RULES",
    "GS1_SYMBOLOGY_IDS",
    "LAYOUT_SWAPS",
    "CodeKind",
    "CodeRules",
    "Command",
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
    "parse_gs1",
    "s10_check_digit",
    "swap",
    "unswap",
]

GS = "\x1d"  # ASCII group separator: how scanners transmit the GS1 FNC1 separator

_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def _ascii_upper(text: str) -> str:
    """Upper-case ASCII letters only: ``"ß".upper()`` is ``"SS"``, which would hide a layout
    error (a German host turns the US '-' into 'ß') behind a plausible-looking SKU."""
    return text.translate(_UPPER)


def _is_digits(text: str) -> bool:
    """ASCII digits only; ``str.isdigit`` also accepts '²' and Arabic-Indic digits."""
    return bool(text) and text.isascii() and text.isdigit()


# --------------------------------------------------------------------------- check digits


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


# --------------------------------------------------------------------- GS1 element strings


class GS1Error(ValueError):
    """A GS1 element string that cannot be trusted; the message says what is wrong and where."""


#: AIM symbology identifiers whose data is a GS1 element string (GS1-128, GS1 DataMatrix,
#: GS1 QR Code, GS1 DataBar, GS1 DotCode); scanners may be set to prefix them.
GS1_SYMBOLOGY_IDS = ("]C1", "]d2", "]Q3", "]e0", "]J1")

# The GS1 "character set 82", the only characters allowed in alphanumeric AI values.
_CSET82 = frozenset(string.ascii_letters + string.digits + "!\"%&'()*+,-./:;<=>?_")


@dataclass(frozen=True)
class _AI:
    title: str
    length: int  # exact length when fixed, else the maximum
    fixed: bool
    numeric: bool
    check: bool = False  # the value is a GS1 key with a mod-10 check digit
    date: bool = False  # YYMMDD


def _ai_table() -> dict[str, _AI]:
    table = {
        "00": _AI("SSCC", 18, fixed=True, numeric=True, check=True),
        "01": _AI("GTIN", 14, fixed=True, numeric=True, check=True),
        "02": _AI("CONTENT", 14, fixed=True, numeric=True, check=True),
        "10": _AI("BATCH/LOT", 20, fixed=False, numeric=False),
        "11": _AI("PROD DATE", 6, fixed=True, numeric=True, date=True),
        "12": _AI("DUE DATE", 6, fixed=True, numeric=True, date=True),
        "13": _AI("PACK DATE", 6, fixed=True, numeric=True, date=True),
        "15": _AI("BEST BEFORE", 6, fixed=True, numeric=True, date=True),
        "16": _AI("SELL BY", 6, fixed=True, numeric=True, date=True),
        "17": _AI("USE BY/EXPIRY", 6, fixed=True, numeric=True, date=True),
        "20": _AI("VARIANT", 2, fixed=True, numeric=True),
        "21": _AI("SERIAL", 20, fixed=False, numeric=False),
        "22": _AI("CPV", 20, fixed=False, numeric=False),
        "30": _AI("VAR. COUNT", 8, fixed=False, numeric=True),
        "37": _AI("COUNT", 8, fixed=False, numeric=True),
        "240": _AI("ADDITIONAL ID", 30, fixed=False, numeric=False),
        "241": _AI("CUST. PART No.", 30, fixed=False, numeric=False),
        "400": _AI("ORDER NUMBER", 30, fixed=False, numeric=False),
        "90": _AI("INTERNAL", 30, fixed=False, numeric=False),
    }
    measures = ("NET WEIGHT (kg)", "LENGTH (m)", "WIDTH (m)", "HEIGHT (m)", "AREA (m²)")
    measures += ("NET VOLUME (l)", "NET VOLUME (m³)")
    for k, title in enumerate(measures):
        for decimals in range(6):
            table[f"31{k}{decimals}"] = _AI(title, 6, fixed=True, numeric=True)
    glns = ("SHIP TO LOC", "BILL TO", "PURCHASE FROM", "SHIP FOR LOC", "LOC No.", "PAY TO")
    for k, title in enumerate(glns):
        table[f"41{k}"] = _AI(title, 13, fixed=True, numeric=True, check=True)
    for k in range(91, 100):
        table[str(k)] = _AI("INTERNAL", 90, fixed=False, numeric=False)
    return table


_AIS = _ai_table()
_BRACKET_AI = re.compile(r"\(([0-9]{2,4})\)")


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


def _match_ai(data: str, pos: int) -> str | None:
    """The AI starting at ``pos``: the table is prefix-free, so the first hit is the only one."""
    for width in (2, 3, 4):
        candidate = data[pos : pos + width]
        if candidate in _AIS:
            return candidate
    return None


def _check_value(ai: str, value: str, at: int) -> None:
    """Validate one AI value; ``at`` is the 0-based offset of the value in the input."""
    spec = _AIS[ai]
    label = f"AI ({ai}) {spec.title}"
    if not value:
        raise GS1Error(f"{label} at character {at + 1} is empty")
    if spec.fixed and len(value) != spec.length:
        raise GS1Error(
            f"{label} at character {at + 1} must be {spec.length} characters, "
            f"got {len(value)} (“{_show(value)}”)"
        )
    if not spec.fixed and len(value) > spec.length:
        raise GS1Error(
            f"{label} at character {at + 1} is {len(value)} characters long, at most "
            f"{spec.length} are allowed (is a GS/FNC1 separator missing?)"
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
    if spec.check and not is_valid_gs1(value):
        raise GS1Error(
            f"{label} {value} at character {at + 1} has a wrong check digit "
            f"(should be {gs1_check_digit(value[:-1])})"
        )
    if spec.date:
        yy, mm, dd = int(value[:2]), int(value[2:4]), int(value[4:])
        # DD=00 means "end of month"; the century only matters for 29 Feb, and GS1's
        # sliding window puts every YY in the 2000s for years to come.
        if not 1 <= mm <= 12 or dd > calendar.monthrange(2000 + yy, mm)[1]:
            raise GS1Error(f"{label} {value} at character {at + 1} is not a date (YYMMDD)")


def _store(out: dict[str, str], ai: str, value: str, at: int) -> None:
    _check_value(ai, value, at)
    if ai in out and out[ai] != value:
        raise GS1Error(
            f"AI ({ai}) appears twice with different values, again at character {at + 1}"
        )
    out[ai] = value


def _parse_plain(data: str, pos: int) -> dict[str, str]:
    out: dict[str, str] = {}
    end_of_data = len(data)
    while pos < end_of_data:
        if data[pos] == GS:  # after a variable field, or a redundant FNC1
            pos += 1
            continue
        ai = _match_ai(data, pos)
        if ai is None:
            head = data[pos : pos + 4]
            if not _is_digits(head[:2]):
                raise GS1Error(
                    f"expected an application identifier (digits) at character {pos + 1}, "
                    f"found “{_show(head)}”"
                )
            raise GS1Error(f"unknown application identifier “{head}…” at character {pos + 1}")
        start = pos + len(ai)
        spec = _AIS[ai]
        if spec.fixed:
            end = start + spec.length
            value = data[start:end]
            cut = value.find(GS)
            if cut != -1 or len(value) < spec.length:
                value = value[:cut] if cut != -1 else value
                raise GS1Error(
                    f"AI ({ai}) {spec.title} at character {start + 1} needs {spec.length} "
                    f"characters but the data gives only {len(value)}"
                )
        else:
            end = data.find(GS, start)
            end = end_of_data if end == -1 else end
            value = data[start:end]
        _store(out, ai, value, start)
        pos = end
    return out


def _next_bracket_ai(data: str, pos: int) -> re.Match[str] | None:
    """The next "(AI)" with a known AI; "(" and ")" may also occur inside a batch."""
    match = _BRACKET_AI.search(data, pos)
    while match is not None and match.group(1) not in _AIS:
        match = _BRACKET_AI.search(data, match.start() + 1)
    return match


def _parse_bracketed(data: str, pos: int) -> dict[str, str]:
    out: dict[str, str] = {}
    end_of_data = len(data)
    while pos < end_of_data:
        if data[pos] == " ":
            pos += 1
            continue
        match = _BRACKET_AI.match(data, pos)
        if match is None:
            raise GS1Error(f"expected “(AI)” at character {pos + 1}, found “{_show(data[pos])}”")
        ai = match.group(1)
        if ai not in _AIS:
            raise GS1Error(f"unknown application identifier ({ai}) at character {pos + 1}")
        start = match.end()
        following = _next_bracket_ai(data, start)
        end = following.start() if following else end_of_data
        value = data[start:end]
        stripped = value.lstrip(" ")  # printed HRI often has spaces; GS1 values never do
        _store(out, ai, stripped.rstrip(" "), start + len(value) - len(stripped))
        pos = end
    return out


def parse_gs1(data: str) -> dict[str, str]:
    """Parse a GS1 element string into ``{AI: value}``.

    Accepts what scanners send (optional AIM symbology identifier, FNC1 as ASCII 29 before
    the data and after variable-length values) and the printed form ``(01)…(17)…(10)…``.
    Check digits of AIs 00, 01, 02 and 410-415 are verified.
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

    @property
    def ok(self) -> bool:
        """True unless the scan was refused (INVALID) or not understood (UNKNOWN)."""
        return self.kind not in (CodeKind.INVALID, CodeKind.UNKNOWN)


_WHITESPACE = "".join(
    c for c in map(chr, range(0x3001)) if c.isspace() and c not in "\x1c\x1d\x1e\x1f"
)
_COMMANDS = {c.value: c for c in Command}
_AIM_ID = re.compile(r"\][A-Za-z][0-9A-Za-z]")
_ID_TAIL = re.compile(r"[A-Z0-9][A-Z0-9._/-]{0,39}")
_GTIN_NAMES = {8: "GTIN-8", 12: "GTIN-12 (UPC-A)", 13: "GTIN-13", 14: "GTIN-14"}


def _invalid(raw: str, reason: str, value: str = "") -> Scan:
    return Scan(raw=raw, kind=CodeKind.INVALID, value=value, reason=reason)


def _unknown(raw: str, reason: str, value: str = "") -> Scan:
    return Scan(raw=raw, kind=CodeKind.UNKNOWN, value=value, reason=reason)


def _element_scan(raw: str, code: str, ai: dict[str, str]) -> Scan:
    """An element string names an SSCC (a logistic unit) before a GTIN (its content)."""
    gtin = ai.get("01") or ai.get("02")
    if "00" in ai:
        return Scan(raw, CodeKind.SSCC, ai["00"], gtin14=gtin, ai=ai)
    if gtin is not None:
        return Scan(raw, CodeKind.GTIN, gtin, gtin14=gtin, ai=ai)
    listed = ", ".join(f"({k})" for k in ai)
    return Scan(
        raw,
        CodeKind.UNKNOWN,
        "",
        reason=f"“{_show(code)}” is a GS1 element string with {listed} but no GTIN or SSCC",
        ai=ai,
    )


def _parse_element(raw: str, code: str) -> Scan:
    try:
        ai = parse_gs1(code)
    except GS1Error as exc:
        return _invalid(raw, f"“{_show(code)}” is not a valid GS1 element string: {exc}")
    return _element_scan(raw, code, ai)


def _classify_digits(raw: str, code: str) -> Scan | None:
    """GS1 keys without separators: SSCC (18), AI 00 + SSCC (20), GTIN (8/12/13/14)."""
    n = len(code)
    if n == 20 and code.startswith("00"):
        if is_valid_sscc(code[2:]):
            return Scan(raw, CodeKind.SSCC, code[2:], ai={"00": code[2:]})
        expected = gs1_check_digit(code[2:-1])
        return _invalid(
            raw,
            f"“{code}” looks like an SSCC with AI (00) but its check digit should be {expected}",
        )
    if n >= 16 and code.startswith(("01", "02")):
        try:
            return _element_scan(raw, code, parse_gs1(code))
        except GS1Error:
            pass  # not an element string after all (maybe an SSCC starting 01/02)
    if n == 18:
        if is_valid_sscc(code):
            return Scan(raw, CodeKind.SSCC, code)
        expected = gs1_check_digit(code[:-1])
        return _invalid(
            raw, f"“{code}” looks like an SSCC but its check digit should be {expected}"
        )
    if n in _GTIN_NAMES:
        if is_valid_gtin(code):
            return Scan(raw, CodeKind.GTIN, code, gtin14=code.zfill(14))
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
    if _AIM_ID.match(code):
        if code[:3] in GS1_SYMBOLOGY_IDS:
            return _parse_element(raw, code)
        if len(code) == 3:
            return _invalid(raw, f"“{_show(code)}” is a symbology identifier without data")
        code = code[3:]  # a non-GS1 symbology (EAN, Code 128, …): classify its data
    if GS in code or _BRACKET_AI.match(code):
        return _parse_element(raw, code)
    if _is_digits(code):
        found = _classify_digits(raw, code)
        if found is not None:
            return found
    upper = _ascii_upper(code)
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
