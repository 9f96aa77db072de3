"""Tests for packbench.core.codes: check digits, GS1 parsing, layout repair, classification."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packbench.core import codes
from packbench.core.codes import (
    GS1_SYMBOLOGY_IDS,
    LAYOUT_SWAPS,
    CodeKind,
    CodeRules,
    Command,
    GS1Error,
    Scan,
    classify,
    describe_chars,
    gs1_check_digit,
    is_valid_gs1,
    is_valid_gtin,
    is_valid_s10,
    is_valid_sscc,
    make_s10,
    make_sscc,
    normalize_gtin,
    parse_gs1,
    s10_check_digit,
    swap,
    unswap,
)

FAST = settings(max_examples=60, deadline=None)
digits = st.text(alphabet=string.digits, min_size=1, max_size=20)
printable_ascii = st.text(alphabet=[chr(i) for i in range(32, 127)], max_size=30)
LAYOUTS = sorted(LAYOUT_SWAPS)
NO, DE, FR = CodeRules(layout="no"), CodeRules(layout="de"), CodeRules(layout="fr")

# ------------------------------------------------------------------------- check digits

VALID_GS1 = ["4006381333931", "5901234123457", "036000241457"]
VALID_SSCC = ["095287654321012346", "376130321109103420"]


@pytest.mark.parametrize("code", VALID_GS1 + VALID_SSCC)
def test_verified_gs1_examples(code: str) -> None:
    assert is_valid_gs1(code)
    assert gs1_check_digit(code[:-1]) == int(code[-1])


def test_gtin_and_sscc_lengths() -> None:
    assert all(is_valid_gtin(c) for c in VALID_GS1)
    assert all(is_valid_sscc(c) for c in VALID_SSCC)
    assert not is_valid_gtin(VALID_SSCC[0])
    assert not is_valid_sscc(VALID_GS1[0])
    assert not is_valid_gtin("4006381333932")
    assert is_valid_gtin("96385074")  # GTIN-8
    assert normalize_gtin("036000241457") == "00036000241457"
    with pytest.raises(ValueError):
        normalize_gtin("4006381333932")


@pytest.mark.parametrize("body", ["", "12a4", "١٢٣", "²"])
def test_gs1_check_digit_rejects_non_digits(body: str) -> None:
    with pytest.raises(ValueError):
        gs1_check_digit(body)
    assert not is_valid_gs1(body + "0")


@FAST
@given(digits)
def test_check_digit_makes_any_body_valid(body: str) -> None:
    assert is_valid_gs1(body + str(gs1_check_digit(body)))


@FAST
@given(
    st.sampled_from([7, 11, 12, 13, 17]).flatmap(
        lambda n: st.text(alphabet=string.digits, min_size=n, max_size=n)
    ),
    st.data(),
)
def test_single_digit_errors_are_caught(body: str, data: st.DataObject) -> None:
    code = body + str(gs1_check_digit(body))
    pos = data.draw(st.integers(0, len(code) - 1))
    new = data.draw(st.sampled_from([d for d in string.digits if d != code[pos]]))
    assert not is_valid_gs1(code[:pos] + new + code[pos + 1 :])


@FAST
@given(st.text(alphabet=string.digits, min_size=12, max_size=17), st.data())
def test_adjacent_transpositions_are_caught(body: str, data: st.DataObject) -> None:
    code = body + str(gs1_check_digit(body))
    pos = data.draw(st.integers(0, len(code) - 2))
    a, b = code[pos], code[pos + 1]
    swapped = code[:pos] + b + a + code[pos + 2 :]
    if abs(int(a) - int(b)) in (0, 5):
        return  # equal digits change nothing; a difference of 5 is mod 10's blind spot
    assert not is_valid_gs1(swapped)


@FAST
@given(
    st.integers(0, 9),
    st.integers(7, 10).flatmap(lambda n: st.text(string.digits, min_size=n, max_size=n)),
    st.integers(0, 999_999),
)
def test_make_sscc_round_trips(extension: int, prefix: str, serial: int) -> None:
    sscc = make_sscc(extension, prefix, serial)
    assert len(sscc) == 18 and is_valid_sscc(sscc)
    assert sscc.startswith(f"{extension}{prefix}")
    scan = classify(sscc)
    assert (scan.kind, scan.value) == (CodeKind.SSCC, sscc)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((10, "5287654", 1), "extension"),
        ((0, "123456", 1), "company prefix"),
        ((0, "12345678901", 1), "company prefix"),
        ((0, "528765432", 10_000_000), "does not fit"),
        ((0, "5287654", -1), "does not fit"),
        ((True, "5287654", 1), "int"),
    ],
)
def test_make_sscc_rejects_bad_input(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_sscc(*args)


def test_make_sscc_known_value() -> None:
    assert make_sscc(0, "9528765", 432101234) == "095287654321012346"


def test_s10_verified_examples() -> None:
    assert is_valid_s10("RR123456785NO")
    assert is_valid_s10("RI476394652CH")
    assert s10_check_digit("47312482") == 9
    assert make_s10("rr", 12345678, "no") == "RR123456785NO"
    assert not is_valid_s10("RR123456784NO")
    assert not is_valid_s10("rr123456785no")  # the validator is strict; classify upper-cases
    with pytest.raises(ValueError):
        s10_check_digit("1234567")
    with pytest.raises(ValueError):
        make_s10("R1", 1, "NO")


def test_s10_mod11_blind_spot() -> None:
    """11 - r gives 5 for r = 0 and r = 6, so some single-digit errors pass (by design of S10)."""
    assert is_valid_s10("RR323456785NO")


@FAST
@given(
    st.text(string.ascii_uppercase, min_size=2, max_size=2),
    st.integers(0, 99_999_999),
    st.text(string.ascii_uppercase, min_size=2, max_size=2),
    st.data(),
)
def test_s10_round_trip_and_single_digit_errors(
    prefix: str, serial: int, country: str, data: st.DataObject
) -> None:
    code = make_s10(prefix, serial, country)
    assert is_valid_s10(code)
    scan = classify(code)
    assert (scan.kind, scan.value) == (CodeKind.TRACKING, code)
    pos = data.draw(st.integers(2, 10))
    new = data.draw(st.sampled_from([d for d in string.digits if d != code[pos]]))
    wrong = code[:pos] + new + code[pos + 1 :]

    def remainder(serial8: str) -> int:
        return sum(int(d) * w for d, w in zip(serial8, (8, 6, 4, 2, 3, 5, 9, 7), strict=True)) % 11

    if pos < 10 and {remainder(code[2:10]), remainder(wrong[2:10])} == {0, 6}:
        assert is_valid_s10(wrong)  # the documented blind spot
    else:
        assert not is_valid_s10(wrong)
        assert classify(wrong).kind is CodeKind.INVALID


# ---------------------------------------------------------------------------- GS1 parsing

GTIN14 = "09501101530003"


@pytest.mark.parametrize(
    "data",
    [
        f"]C101{GTIN14}17251231" + "10AB-12",
        f"]d201{GTIN14}10AB-12\x1d17251231",
        f"]Q3\x1d01{GTIN14}17251231" + "10AB-12\x1d",
        f"\x1d01{GTIN14}17251231" + "10AB-12",
        f"01{GTIN14}17251231" + "10AB-12",
        f"(01){GTIN14}(17)251231(10)AB-12",
        f"(01) {GTIN14} (17) 251231 (10) AB-12",
    ],
)
def test_parse_gs1_forms(data: str) -> None:
    assert parse_gs1(data) == {"01": GTIN14, "17": "251231", "10": "AB-12"}


def test_parse_gs1_more_ais() -> None:
    sscc = VALID_SSCC[0]
    assert parse_gs1(f"]C100{sscc}02{GTIN14}37120\x1d" + "3103001250" + "4004711") == {
        "00": sscc,
        "02": GTIN14,
        "37": "120",
        "3103": "001250",
        "400": "4711",
    }
    assert parse_gs1(f"(01){GTIN14}(21)A(1)B")["21"] == "A(1)B"  # "(1)" is no AI
    assert parse_gs1("(410)4006381333931(15)240200") == {"410": "4006381333931", "15": "240200"}


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (f"01{GTIN14}99", "AI (99)"),  # AI 99 known, but empty
        (f"01{GTIN14}88123", "unknown application identifier “8812…” at character 17"),
        ("(88)123", "unknown application identifier (88)"),
        ("0109501101530004", "should be 3"),
        ("(00)12345", "must be 18"),
        ("0012345", "needs 18"),
        ("01095011015300", "needs 14"),
        (f"01{GTIN14}17251232", "not a date"),
        (f"01{GTIN14}17251301", "not a date"),
        (f"01{GTIN14}10AB 12", "at character 21"),
        (f"01{GTIN14}10" + "A" * 21, "at most 20"),
        (f"01{GTIN14}30ABC", "must be digits"),
        (f"01{GTIN14}10A\x1d\x1d10B", "twice"),
        ("]C0" + f"01{GTIN14}", "symbology identifier"),
        ("]C1", "no data"),
        ("01ABCDEFGHIJKLMN", "must be digits"),
        ("X1", "expected an application identifier"),
        (f"(01){GTIN14}x", "must be 14"),
    ],
)
def test_parse_gs1_errors(data: str, fragment: str) -> None:
    with pytest.raises(GS1Error) as info:
        parse_gs1(data)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_ai_table_is_prefix_free() -> None:
    from biip.gs1_application_identifiers import _GS1_APPLICATION_IDENTIFIERS

    ais = list(_GS1_APPLICATION_IDENTIFIERS)
    assert not [(a, b) for a in ais for b in ais if a != b and b.startswith(a)]


@pytest.mark.parametrize("sid", GS1_SYMBOLOGY_IDS)
def test_classify_element_string_with_symbology_id(sid: str) -> None:
    scan = classify(f"{sid}01{GTIN14}17251231" + "10LOT7\x1d21SN1\r\n")
    assert scan.kind is CodeKind.GTIN
    assert scan.value == scan.gtin14 == GTIN14
    assert scan.ai == {"01": GTIN14, "17": "251231", "10": "LOT7", "21": "SN1"}


def test_classify_element_strings() -> None:
    assert classify(f"(01){GTIN14}(17)251231(10)AB-12").ai["10"] == "AB-12"
    assert classify(f"\x1d01{GTIN14}").kind is CodeKind.GTIN
    pallet = classify(f"]C100{VALID_SSCC[0]}02{GTIN14}37120")
    assert (pallet.kind, pallet.value, pallet.gtin14) == (CodeKind.SSCC, VALID_SSCC[0], GTIN14)
    assert classify(f"00{VALID_SSCC[1]}").value == VALID_SSCC[1]
    assert classify(f"01{GTIN14}").kind is CodeKind.GTIN  # 16 digits, no FNC1
    only_batch = classify("(10)ABC")
    assert only_batch.kind is CodeKind.UNKNOWN and only_batch.ai == {"10": "ABC"}
    bad = classify(f"]C101{GTIN14}99")
    assert bad.kind is CodeKind.INVALID and "GS1" in bad.reason
    assert classify("]E04006381333931").kind is CodeKind.GTIN  # non-GS1 AIM id is stripped
    assert classify("]E0").kind is CodeKind.INVALID


# ------------------------------------------------------------------------ keyboard layouts


def test_layout_tables() -> None:
    assert set(LAYOUT_SWAPS) == {"us", "no", "de", "fr"}
    assert LAYOUT_SWAPS["us"] == {}
    no = LAYOUT_SWAPS["no"]
    assert (no["+"], no["-"], no["\\"], no["_"], no["("], no["="], no["'"], no["*"]) == tuple(
        "-/=?*)\\|"
    )
    assert (no["æ"], no["ø"], no["å"], no["|"], no['"'], no[";"], no[":"]) == tuple("';[`@<>")
    de = LAYOUT_SWAPS["de"]
    assert (de["ß"], de["-"], de["z"], de["Y"], de["#"], de["+"], de["ö"]) == tuple("-/yZ\\];")
    fr = LAYOUT_SWAPS["fr"]
    assert "".join(fr[c] for c in "&é\"'(-è_çà") == "1234567890"
    assert (fr["a"], fr["q"], fr["z"], fr["w"], fr["m"], fr[","], fr[")"]) == tuple("qawz;m-")
    for table in LAYOUT_SWAPS.values():
        assert all(k != v for k, v in table.items())


@pytest.mark.parametrize(
    ("layout", "us", "received"),
    [
        ("no", "ORD-10023", "ORD+10023"),
        ("no", "SKU/12", "SKU-12"),
        ("no", "A=B", "A\\B"),
        ("de", "BOX-Y", "BOXßZ"),
        ("de", "ABC/1", "ABC-1"),
        ("fr", "ORD-10023", 'ORD)&ààé"'),
        ("fr", "AQ-ZW", "QA)WZ"),
        ("fr", "M;1", "?m&"),
        ("no", "]a", "ä"),  # dead diaeresis composes
        ("fr", "[e", "ê"),
        ("de", "=e", "é"),
    ],
)
def test_swap_examples(layout: str, us: str, received: str) -> None:
    assert swap(us, layout) == received
    assert unswap(received, layout) == us


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(LAYOUTS), printable_ascii)
def test_unswap_inverts_swap(layout: str, code: str) -> None:
    assert unswap(swap(code, layout), layout) == code


def test_unknown_layout() -> None:
    with pytest.raises(ValueError, match="unknown keyboard layout"):
        unswap("x", "xx")
    with pytest.raises(ValueError):
        swap("x", "dvorak")
    with pytest.raises(ValueError):
        CodeRules(layout="xx")
    assert unswap("ORD+1", "NO") == "ORD-1"


@pytest.mark.parametrize(
    ("rules", "us_code", "kind", "value"),
    [
        (NO, "ORD-10023", CodeKind.ORDER, "10023"),
        (NO, "C-07-2", CodeKind.LOCATION, "C-07-2"),
        (NO, "CMD-SIGN_OUT", CodeKind.COMMAND, "SIGNOUT"),
        (DE, "BDG-1001", CodeKind.BADGE, "BDG-1001"),
        (DE, "BOX-Y", CodeKind.BOX, "BOX-Y"),
        (FR, "4006381333931", CodeKind.GTIN, "4006381333931"),
        (FR, "RR123456785NO", CodeKind.TRACKING, "RR123456785NO"),
        (FR, f"]C101{GTIN14}10AB-1", CodeKind.GTIN, GTIN14),
        (FR, "ORD-10023", CodeKind.ORDER, "10023"),
    ],
)
def test_classify_repairs_layout(rules: CodeRules, us_code: str, kind: CodeKind, value: str):
    received = swap(us_code, rules.layout)
    assert received != us_code
    scan = classify(received, rules)
    assert (scan.kind, scan.value, scan.swapped) == (kind, value, True)
    assert scan.raw == received
    assert classify(received).kind in (CodeKind.INVALID, CodeKind.UNKNOWN)  # "us" never swaps


def test_classify_prefers_the_code_as_typed() -> None:
    assert classify("ORD-10023", NO).swapped is False
    assert classify("4006381333931", FR).swapped is False  # a person typed digits with Shift
    # On "fr" the unshifted digit row is what the scanner sends; a broken GTIN is named.
    scan = classify(swap("4006381333932", "fr"), FR)
    assert scan.kind is CodeKind.INVALID and scan.swapped and "should be 1" in scan.reason
    # A refused code is not "repaired" into a SKU: on "no" ORD-AB would read as ORD/AB.
    for rules in (NO, DE, FR):
        assert classify("ORD-AB", rules).kind is CodeKind.INVALID
        assert classify("BDG-", rules).swapped is False
    assert classify("XZYß1", DE).value == "XYZ-1"  # an unknown code may become a SKU


# -------------------------------------------------------------------------- classification


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("bdg-1001", CodeKind.BADGE, "BDG-1001"),
        ("ORD-10023\r\n", CodeKind.ORDER, "10023"),
        ("  ord-7\t", CodeKind.ORDER, "7"),
        ("4006381333931", CodeKind.GTIN, "4006381333931"),
        ("036000241457", CodeKind.GTIN, "036000241457"),
        ("96385074", CodeKind.GTIN, "96385074"),
        ("095287654321012346", CodeKind.SSCC, "095287654321012346"),
        ("rr123456785no", CodeKind.TRACKING, "RR123456785NO"),
        ("c-07-2", CodeKind.LOCATION, "C-07-2"),
        ("AB-12-3", CodeKind.LOCATION, "AB-12-3"),
        ("box-s", CodeKind.BOX, "BOX-S"),
        ("BAG-M", CodeKind.BOX, "BAG-M"),
        ("CMD-CONFIRM", CodeKind.COMMAND, "CONFIRM"),
        ("cmd-test-scan", CodeKind.COMMAND, "TESTSCAN"),
        ("tshirt-red.xl", CodeKind.SKU, "TSHIRT-RED.XL"),
        ("ORD-ABC", CodeKind.INVALID, ""),
        ("ORD-1234567890123", CodeKind.INVALID, ""),
        ("CMD-DANCE", CodeKind.INVALID, ""),
        ("BDG-", CodeKind.INVALID, ""),
        ("BOX-", CodeKind.INVALID, ""),
        ("4006381333932", CodeKind.INVALID, ""),
        ("095287654321012345", CodeKind.INVALID, ""),
        ("00095287654321012345", CodeKind.INVALID, ""),
        ("RR123456784NO", CodeKind.INVALID, ""),
        ("", CodeKind.INVALID, ""),
        ("12345", CodeKind.UNKNOWN, ""),
        ("hello world", CodeKind.UNKNOWN, ""),
        ("straße", CodeKind.UNKNOWN, ""),  # never upper-cased into "STRASSE"
    ],
)
def test_classify_table(raw: str, kind: CodeKind, value: str) -> None:
    scan = classify(raw)
    assert (scan.kind, scan.value) == (kind, value), scan.reason
    assert scan.raw == raw
    assert bool(scan.reason) == (kind in (CodeKind.INVALID, CodeKind.UNKNOWN))


def test_every_kind_is_reachable() -> None:
    samples = [
        "BDG-1",
        "ORD-1",
        "5901234123457",
        "376130321109103420",
        "RI476394652CH",
        "C-07-2",
        "BOX-S",
        "CMD-UNDO",
        "SKU-1",
        "ORD-X",
        "1234",
    ]
    assert {classify(s).kind for s in samples} == set(CodeKind)


def test_scan_details() -> None:
    gtin = classify("4006381333931")
    assert gtin.gtin14 == "04006381333931" and gtin.ai == {} and gtin.ok
    command = classify("CMD-SIGNOUT")
    assert command.command is Command.SIGN_OUT and command.value == "SIGNOUT"
    assert classify("4006381333932").reason == (
        "“4006381333932” looks like a GTIN-13 but its check digit should be 1"
    )
    assert "unknown command" in classify("CMD-DANCE").reason
    assert "1-12 digits" in classify("ORD-12a").reason
    assert str(CodeKind.BADGE) == "badge" and Command.TEST_SCAN == "TESTSCAN"


def test_rules_are_configurable() -> None:
    rules = CodeRules(badge_prefix="EMP", box_prefixes=("CTN-",), location_pattern=r"R\d{3}")
    assert classify("emp42", rules).value == "EMP42"
    assert classify("CTN-2", rules).kind is CodeKind.BOX
    assert classify("BOX-S", rules).kind is CodeKind.SKU
    assert classify("r101", rules).kind is CodeKind.LOCATION
    with pytest.raises(ValueError, match="location_pattern"):
        CodeRules(location_pattern="[")


def test_control_characters_and_length() -> None:
    bell = classify("AB\x07C")
    assert bell.kind is CodeKind.INVALID and "\\x07" in bell.reason and "BELL" in bell.reason
    long = classify("A" * 10_000)
    assert long.kind is CodeKind.INVALID
    assert "is 10000 characters long; no code is longer than 200" in long.reason
    assert len(long.reason) < 200
    assert classify("\r\n \t").kind is CodeKind.INVALID  # whitespace only is empty
    # Leading GS is FNC1, not whitespace to strip (str.strip would eat it).
    assert classify(f" \x1d01{GTIN14}\n").kind is CodeKind.GTIN


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.text(max_size=20).map(lambda s: s * 500),
        st.text(alphabet="0123456789()]C1dQe\x1dABDGORS-+ß&é\"'à\r\n", max_size=60),
    ),
    st.sampled_from([codes.DEFAULT_RULES, NO, DE, FR]),
)
def test_classify_never_raises(raw: str, rules: CodeRules) -> None:
    scan = classify(raw, rules)
    assert isinstance(scan, Scan) and scan.raw == raw
    if scan.kind in (CodeKind.INVALID, CodeKind.UNKNOWN):
        assert scan.reason.strip()
    else:
        assert scan.value


def test_describe_chars() -> None:
    assert describe_chars("A\x1d\r") == [
        ("A", "U+0041 LATIN CAPITAL LETTER A"),
        ("\\x1d", "U+001D GS (FNC1 separator)"),
        ("\\r", "U+000D CARRIAGE RETURN"),
    ]
    assert describe_chars("\x7f\x85\u200b") == [
        ("\\x7f", "U+007F DELETE"),
        ("\\x85", "U+0085 <control>"),
        ("\\u200b", "U+200B ZERO WIDTH SPACE"),
    ]
    assert describe_chars("") == []
    assert describe_chars("\ud800") == [("\\ud800", "U+D800 <surrogate>")]
    assert classify("A\ud800").kind is CodeKind.UNKNOWN
