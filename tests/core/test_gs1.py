"""GS1 as it arrives from real packaging: element strings with and without separators, the
whole AI table, Digital Link, UPC-E, variable-measure numbers and logistic units.

Examples are built from the GS1 General Specifications (the GTIN 09506000134352 and SSCC
376130321109103420 are GS1's own); each states what the bench must read or refuse.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from decimal import Decimal

import pytest
from biip.gs1_application_identifiers import _GS1_APPLICATION_IDENTIFIERS
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from packbench.core import gs1
from packbench.core.codes import (
    GS1_SYMBOLOGY_IDS,
    CodeKind,
    CodeRules,
    GS1CheckDigitError,
    GS1Error,
    classify,
    gs1_check_digit,
    parse_element_string,
    parse_gs1,
    swap,
    upc_e_to_gtin12,
)
from packbench.core.gs1 import parse_digital_link, read_variable_measure

GTIN = "09506000134352"
SSCC = "376130321109103420"
CONTENT = "00614141123452"
NO = CodeRules(rcn_region="no")


# ------------------------------------------------------------------------ the table of cases

# (scanned, kind, value, the facts expected on the Scan)
CASES = [
    # The most common GS1 DataMatrix content: batch last, no separator, no symbology id.
    (f"01{GTIN}17261231" + "10ABC123", CodeKind.GTIN, GTIN,
     {"expiry": dt.date(2026, 12, 31), "batch": "ABC123"}),
    (f"01{GTIN}1726120010AB-12", CodeKind.GTIN, GTIN, {"expiry": dt.date(2026, 12, 31)}),
    (f"01{GTIN}10abc\x1d17260228", CodeKind.GTIN, GTIN,
     {"batch": "abc", "expiry": dt.date(2026, 2, 28)}),
    (f"(01){GTIN}(17)240200(10)X1", CodeKind.GTIN, GTIN, {"expiry": dt.date(2024, 2, 29)}),
    (f"(01) {GTIN} (10) X1", CodeKind.GTIN, GTIN, {"batch": "X1"}),
    # Logistic units: an SSCC and what rides with it.
    (f"00{SSCC}02{CONTENT}3712", CodeKind.SSCC, SSCC,
     {"gtin14": CONTENT, "count": 12, "content": True}),
    (f"00{SSCC}3302001234", CodeKind.SSCC, SSCC, {"ai": {"00": SSCC, "3302": "001234"}}),
    (f"00{SSCC}4100614141000418", CodeKind.SSCC, SSCC, {}),
    ("(00) 3 7071234 000000001 6", CodeKind.SSCC, "370712340000000016", {}),
    ("(00) 3 707123456 0000001 5", CodeKind.SSCC, "370712345600000015", {}),
    # A case: the GTIN of its contents and how many.
    (f"02{CONTENT}3724", CodeKind.GTIN, CONTENT, {"count": 24, "content": True}),
    (f"(02){CONTENT}(37)6", CodeKind.GTIN, CONTENT, {"count": 6}),
    (f"01{GTIN}3724", CodeKind.GTIN, GTIN, {"count": None, "content": False}),
    # The key need not come first.
    ("17261231" + f"01{GTIN}10ABC", CodeKind.GTIN, GTIN, {"batch": "ABC"}),
    ("17261231" + f"01{GTIN}", CodeKind.GTIN, GTIN, {"expiry": dt.date(2026, 12, 31)}),
    ("10ABC", CodeKind.SKU, "10ABC", {}),  # an element string, but with no key: a SKU
    # AIs the old table lacked: known to the whole table now.
    (f"01{GTIN}3922995\x1d4225787003261231235980081012311230", CodeKind.GTIN, GTIN,
     {"price_minor": 995}),
    (f"01{GTIN}3103001250", CodeKind.GTIN, GTIN, {"weight_g": 1250}),
    # An AI no table knows yet, its length told by its first two digits: kept, not fatal.
    (f"01{GTIN}7299XYZ", CodeKind.GTIN, GTIN, {"unknown_ais": ("7299",)}),
    (f"(01){GTIN}(7299)XYZ", CodeKind.GTIN, GTIN, {"unknown_ais": ("7299",)}),
    # Digital Link, on GS1's resolver and on a brand's own domain.
    (f"https://id.gs1.org/01/{GTIN}/10/ABC?17=261231", CodeKind.GTIN, GTIN,
     {"batch": "ABC", "expiry": dt.date(2026, 12, 31)}),
    (f"HTTPS://shop.example.no/produkt/01/{GTIN}/21/SN9?utm=x", CodeKind.GTIN, GTIN, {}),
    (f"https://id.gs1.org/00/{SSCC}?02={CONTENT}&37=25", CodeKind.SSCC, SSCC, {"count": 25}),
    (f"]Q1https://id.gs1.org/01/{GTIN}", CodeKind.GTIN, GTIN, {}),
    # UPC-E expanded; EAN-8; both readings where both check digits fit.
    ("04252614", CodeKind.GTIN, "04252614", {"gtin14": "00042100005264", "alternatives": ()}),
    ("]E004252614", CodeKind.GTIN, "04252614", {"gtin14": "00042100005264"}),
    ("96385074", CodeKind.GTIN, "96385074", {"gtin14": "00000096385074"}),
    ("01234565", CodeKind.GTIN, "01234565",
     {"gtin14": "00012345000065", "alternatives": ("00000001234565",)}),
    ("]E401234565", CodeKind.GTIN, "01234565", {"gtin14": "00000001234565", "alternatives": ()}),
    # Plain codes are unchanged.
    ("5901234123457", CodeKind.GTIN, "5901234123457", {"gtin14": "05901234123457"}),
    (SSCC, CodeKind.SSCC, SSCC, {}),
    ("SKU-123", CodeKind.SKU, "SKU-123", {}),
    # Starts like one but the GTIN's check digit is wrong: no element string, a SKU.
    (f"01{GTIN[:-1]}" + "3ABC", CodeKind.SKU, f"01{GTIN[:-1]}3ABC", {}),
]  # fmt: skip


@pytest.mark.parametrize(("scanned", "kind", "value", "facts"), CASES)
def test_what_real_packaging_reads_as(
    scanned: str, kind: CodeKind, value: str, facts: dict[str, object]
) -> None:
    scan = classify(scanned)
    assert (scan.kind, scan.value) == (kind, value), scan.reason
    for name, expected in facts.items():
        assert getattr(scan, name) == expected, name


REFUSALS = [
    (f"01{GTIN[:-1]}3" + "10ABC", "check digit (should be 2)"),
    (f"00{SSCC}02{CONTENT[:-1]}0" + "3712", "AI (02) CONTENT"),
    (f"00{SSCC[:-1]}1" + "3302001234", "should be 0"),
    (f"01{GTIN}17261332" + "10A", "is not a date (YYMMDD)"),
    (f"01{GTIN}17250229", "is not a date"),  # 2025 is no leap year
    (f"(01){GTIN}(10)A(10)B", "appears twice with different values"),
    (f"01{GTIN}\x1d10{'A' * 21}", "at most 20 are allowed (is a GS/FNC1 separator missing?)"),
    (f"01{GTIN}\x1d3103", "needs 6 characters but the data gives only 0"),
    (f"01{GTIN}\x1d10A B", "does not allow"),
    (f"01{GTIN}\x1d4229", "AI (422) ORIGIN at character 21 needs 3 characters"),
    (f"01{GTIN}\x1d800810123125", "does not have the form GS1 sets for it (N4+N8[+N..4])"),
    (f"01{GTIN}\x1d6012", "unknown application identifier “6012…” at character 18"),
    ("]C1", "without data"),
    (
        f"https://id.gs1.org/01/{GTIN[:-1]}1",
        "in the web address has a wrong check digit (should be 2)",
    ),
    ("04252615", "neither a GTIN-8 (its check digit should be 0) nor a UPC-E"),
    ("]E004252615", "looks like a UPC-E but its check digit should be 4"),
    ("]E096385070", "number system is 0 or 1"),
    ("96385070", "GTIN-8 but its check digit should be 4"),
]


@pytest.mark.parametrize(("scanned", "fragment"), REFUSALS)
def test_what_is_refused_and_why(scanned: str, fragment: str) -> None:
    scan = classify(scanned)
    assert scan.kind is CodeKind.INVALID
    assert fragment in scan.reason


def test_a_web_address_that_is_no_digital_link_is_not_understood() -> None:
    scan = classify("https://shop.example.no/om-oss")
    assert scan.kind is CodeKind.UNKNOWN
    assert "no GS1 Digital Link" in scan.reason


def test_a_sku_shaped_like_an_element_string_keeps_its_sku_reading() -> None:
    code = f"01{GTIN}10ABC"
    scan = classify(code)
    assert scan.kind is CodeKind.GTIN and scan.sku == code
    assert scan.as_sku().kind is CodeKind.SKU and scan.as_sku().value == code
    # Separated or bracketed forms can be nothing else: no SKU reading.
    assert classify(f"01{GTIN}\x1d10ABC").sku is None
    assert classify(f"(01){GTIN}(10)ABC").sku is None
    # A bad check digit is refused, and the SKU reading stays for the catalogue.
    bad = classify(f"01{GTIN[:-1]}7" + "10ABC")
    assert bad.kind is CodeKind.INVALID and bad.sku == f"01{GTIN[:-1]}710ABC"
    # A good GTIN followed by what is no AI (a letter O for the batch's 10): refused as a
    # broken element string; the catalogue may still claim it as a SKU.
    odd = classify(f"01{GTIN}172612311OABC")
    assert odd.kind is CodeKind.INVALID and "character 25" in odd.reason
    assert odd.sku == f"01{GTIN}172612311OABC"
    with pytest.raises(ValueError, match="no SKU reading"):
        classify("5901234123457").as_sku()


def test_gs1_symbology_ids_announce_element_strings_with_or_without_separators() -> None:
    for sid in GS1_SYMBOLOGY_IDS:
        scan = classify(f"{sid}01{GTIN}10ABC\x1d17261231")
        assert (scan.kind, scan.batch, scan.expiry) == (
            CodeKind.GTIN,
            "ABC",
            dt.date(2026, 12, 31),
        )
        assert classify(f"{sid}01{GTIN}17261231" + "10ABC").batch == "ABC"


# ---------------------------------------------------------------------- variable measure


def test_variable_measure_weight_and_price_under_norwegian_rules() -> None:
    weighed = classify("2302148210869", NO)
    assert weighed.kind is CodeKind.GTIN
    assert (weighed.gtin14, weighed.weight_g) == ("02302148200006", 1086)
    assert weighed.alternatives == ("02302148210869",)
    priced = classify("2012345619906", NO)
    assert (priced.gtin14, priced.price_minor, priced.weight_g) == ("02012345600003", 1990, None)
    # Without a region the same digits are an ordinary GTIN.
    plain = classify("2302148210869")
    assert (plain.gtin14, plain.weight_g) == ("02302148210869", None)
    # A GTIN outside 20-29 is never a variable-measure number.
    assert classify("5901234123457", NO).gtin14 == "05901234123457"


def test_variable_measure_in_an_element_string() -> None:
    scan = classify("01023021482108693103001086", NO)
    assert (scan.gtin14, scan.weight_g) == ("02302148200006", 1086)


def test_rcn_region_is_checked_when_the_rules_are_made() -> None:
    with pytest.raises(ValueError, match="rcn_region must be one of"):
        CodeRules(rcn_region="xx")
    assert read_variable_measure("2302148210869", None) is None
    with pytest.raises(GS1Error, match="variable-measure"):
        read_variable_measure("2812345012344", "de")  # the price check digit is wrong


# ------------------------------------------------------------------------------- the table


def test_our_ai_length_tables_agree_with_biips_ai_list() -> None:
    for ai, entry in _GS1_APPLICATION_IDENTIFIERS.items():
        assert gs1._AI_LENGTH[ai[:2]] == len(ai), ai
        if not entry.separator_required:
            fixed, _, _ = gs1._lengths(entry.format)
            assert gs1._PREDEFINED[ai[:2]] == fixed, ai


def test_every_known_ai_has_a_spec() -> None:
    for ai in _GS1_APPLICATION_IDENTIFIERS:
        spec = gs1._spec(ai)
        assert spec is not None and spec.ai == ai and spec.known


# ------------------------------------------------------------------------------ hypothesis

_DATE_AIS = {"11", "12", "13", "15", "16", "17"}
_CHECKED = gs1._CHECKED


def _fix(ai: str, value: str) -> str:
    if ai in _CHECKED:
        return value[:-1] + str(gs1_check_digit(value[:-1]))
    return value


@st.composite
def elements(draw: st.DrawFn) -> tuple[str, str]:
    ai = draw(st.sampled_from(sorted(_GS1_APPLICATION_IDENTIFIERS)))
    entry = _GS1_APPLICATION_IDENTIFIERS[ai]
    pattern = re.compile(entry.pattern, re.ASCII)
    whole = draw(st.from_regex(pattern, fullmatch=True))
    value = whole[len(ai) :]
    if ai in _DATE_AIS:
        day = draw(st.dates(dt.date(2000, 1, 1), dt.date(2049, 12, 31)))
        value = day.strftime("%y%m%d")
    value = _fix(ai, value)
    try:
        gs1._element(gs1._bracket_spec(ai), value, 0)  # type: ignore[arg-type]
    except GS1Error:
        assume(False)  # dates and times inside other AIs' patterns: only the valid ones
    return ai, value


def _serialize(items: list[tuple[str, str]], how: str, sid: str, lead: bool) -> str:
    if how == "brackets":
        return "".join(f"({ai}){value}" for ai, value in items)
    parts = []
    for i, (ai, value) in enumerate(items):
        last = i == len(items) - 1
        needs_gs = _GS1_APPLICATION_IDENTIFIERS[ai].separator_required
        parts.append(ai + value + ("" if last or (how == "minimal" and not needs_gs) else "\x1d"))
    return sid + ("\x1d" if lead else "") + "".join(parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    st.lists(elements(), min_size=1, max_size=6, unique_by=lambda e: e[0]),
    st.sampled_from(["minimal", "every", "brackets"]),
    st.sampled_from(("", *GS1_SYMBOLOGY_IDS)),
    st.booleans(),
)
def test_any_valid_element_string_parses_back_however_it_is_sent(
    items: list[tuple[str, str]], how: str, sid: str, lead: bool
) -> None:
    if how == "brackets":
        # Printed HRI cannot tell "(" + AI + ")" inside a value from the next AI.
        assume(not any("(" in value for _, value in items))
    data = _serialize(items, how, sid, lead)
    assert parse_gs1(data) == dict(items)
    if how == "brackets":  # as printed under a label: digits grouped by spaces, anywhere
        spaced = "".join(f"({ai}) {' '.join(value[i : i + 4] for i in range(0, len(value), 4))} "
                         for ai, value in items)  # fmt: skip
        assert parse_gs1(spaced) == dict(items)
    if any(key in dict(items) for key in ("00", "01", "02", "03")) and len(data) <= 200:
        # A key anywhere makes the scan that SSCC or GTIN, however it was sent.
        scan = classify(data)
        assert scan.ai == dict(items), scan.reason
        assert scan.kind is (CodeKind.SSCC if "00" in dict(items) else CodeKind.GTIN)


@settings(max_examples=100, deadline=None)
@given(
    st.text(string.digits, min_size=13, max_size=13),
    st.text(string.ascii_letters + string.digits + "-._", min_size=1, max_size=20),
    st.dates(dt.date(2000, 1, 1), dt.date(2049, 12, 31)),
    st.sampled_from(["id.gs1.org", "brand.example.com/p", "x.no/a/b"]),
)
def test_digital_link_and_element_string_agree(
    body: str, batch: str, day: dt.date, where: str
) -> None:
    gtin = body + str(gs1_check_digit(body))
    expiry = day.strftime("%y%m%d")
    uri = f"https://{where}/01/{gtin}/10/{batch}?17={expiry}"
    from_link = parse_digital_link(uri).values
    from_string = parse_gs1(f"01{gtin}17{expiry}10{batch}")
    assert from_link == from_string == {"01": gtin, "10": batch, "17": expiry}


def _expand_upc_e(code: str) -> str:
    """UPC-E to UPC-A by the GS1 rules, written out independently of biip."""
    ns, d, check = code[0], code[1:7], code[7]
    last = d[5]
    if last in "012":
        body = d[0:2] + last + "0000" + d[2:5]
    elif last == "3":
        body = d[0:3] + "00000" + d[3:5]
    elif last == "4":
        body = d[0:4] + "00000" + d[4]
    else:
        body = d[0:5] + "0000" + last
    return ns + body + check


@settings(max_examples=300, deadline=None)
@given(st.sampled_from("01"), st.text(string.digits, min_size=6, max_size=6))
def test_upc_e_expands_to_the_gtin_12_whose_check_digit_it_carries(ns: str, six: str) -> None:
    upc_a_body = _expand_upc_e(ns + six + "0")[:-1]
    code = ns + six + str(gs1_check_digit(upc_a_body))
    assert upc_e_to_gtin12(code) == upc_a_body + code[-1]
    scan = classify(code)
    assert scan.kind is CodeKind.GTIN
    assert upc_a_body + code[-1] in (g[2:] for g in scan.gtins)
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert upc_e_to_gtin12(wrong) is None


@settings(max_examples=200, deadline=None)
@given(st.text(string.digits, min_size=17, max_size=17), st.integers(1, 99_999_999))
def test_sscc_with_contents_and_count_round_trips(body: str, count: int) -> None:
    sscc = body + str(gs1_check_digit(body))
    scan = classify(f"00{sscc}02{CONTENT}37{count}")
    assert (scan.kind, scan.value, scan.gtin14, scan.count) == (
        CodeKind.SSCC,
        sscc,
        CONTENT,
        count,
    )


def test_element_details_from_biip() -> None:
    es = parse_element_string(f"01{GTIN}3103001250\x1d3922995\x1d17260200")
    assert es.get("3103").decimal == Decimal("1.250")  # type: ignore[union-attr]
    assert es.get("3922").decimal == Decimal("9.95")  # type: ignore[union-attr]
    assert es.get("17").date == dt.date(2026, 2, 28)  # type: ignore[union-attr]
    assert es.unknown == ()


def test_check_digit_errors_have_their_own_type() -> None:
    with pytest.raises(GS1CheckDigitError, match="should be 2"):
        parse_gs1(f"01{GTIN[:-1]}0")


@pytest.mark.parametrize("layout", ["no", "de", "fr"])
def test_a_digital_link_typed_through_another_keyboard_layout_is_repaired(layout: str) -> None:
    uri = f"https://id.gs1.org/01/{GTIN}/10/ABC?17=261231"
    scan = classify(swap(uri, layout), CodeRules(layout=layout))
    assert (scan.kind, scan.value, scan.batch, scan.swapped) == (CodeKind.GTIN, GTIN, "ABC", True)


def test_the_regions_we_list_are_biips() -> None:
    from biip.rcn import RcnRegion

    assert sorted(gs1.RCN_REGIONS) == sorted(region.value for region in RcnRegion)


def test_biip_is_loaded_only_when_a_gs1_code_needs_it() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from packbench.core.codes import classify; "
        "classify('5901234123457'); classify('BDG-1'); a = 'biip' in sys.modules; "
        "classify('04252614'); print(a, 'biip' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


_FUZZ_PARTS = st.sampled_from(
    ["https://", "http://[", "id.gs1.org", "/01/", "/00/", "/10/", "/21/", "?", "&", "=", "17=",
     "%", "%2F", "01", "00", "02", "37", "10", "17", "3103", "3922", "8008", "7003", "422",
     "\x1d", "(", ")", "(01)", "(00)", " ", "]C1", "]d2", "]E0", "]E4", "]Q1", "A", "x", "-",
     GTIN, SSCC, CONTENT, "2302148210869", "04252614", "0", "9", "99", "261231", "000000"]
)  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(_FUZZ_PARTS, min_size=1, max_size=12).map("".join),
    st.sampled_from([CodeRules(), NO, CodeRules(rcn_region="de", layout="no")]),
)
def test_classify_never_raises_on_gs1_shaped_input(raw: str, rules: CodeRules) -> None:
    scan = classify(raw, rules)
    if scan.ok:
        assert scan.value
    else:
        assert scan.reason.strip()


def test_the_details_line_names_what_the_code_said() -> None:
    pallet = classify(f"00{SSCC}02{CONTENT}3712")
    assert pallet.details() == f"contents GTIN {CONTENT} · 12 units · AIs (00)(02)(37)"
    item = classify(f"01{GTIN}17261231" + "10ABC")
    assert item.details() == (
        "batch ABC · expiry 31.12.2026 · AIs (01)(17)(10) · "
        f"a product with SKU 01{GTIN}1726123110ABC would take precedence"
    )
    assert classify("2302148210869", NO).details() == (
        "GTIN 02302148200006 · or GTIN 02302148210869 · 1086 g"
    )
    assert classify("5901234123457").details() == "GTIN 05901234123457"
    assert classify("SKU-1").details() == ""
