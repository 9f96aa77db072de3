"""A bench scale's lines and which reading becomes a parcel's weight (core.scale)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packbench.core.scale import (
    Reading,
    WeightGate,
    band_text,
    parse_line,
    tolerance_band,
)


@pytest.mark.parametrize(
    ("line", "grams", "stable"),
    [
        ("ST,GS,  0.935kg\r\n", 935, True),
        ("US,GS,  0.935kg", 935, False),
        ("ST,NT,+0000.935 kg", 935, True),
        ("ST,GS,+  935 g", 935, True),
        ("ST,GS,0,935,kg", 935, True),  # a decimal comma between comma separators
        ("S S     100.00 g", 100, True),  # MT-SICS
        ("S D     100.00 g", 100, False),
        ("  0.935 kg", 935, None),  # no mark: a print-key or stable-only scale
        ("+2.06 lb", 934, None),
        ("ST,GS,   2.06lb", 934, True),
        ("ST,GS,  33.0 oz", 936, True),
        ("\x02ST,GS,  1.250kg\x03", 1250, True),  # STX/ETX framing
        ("ST,GS,- 0.012kg", -12, True),  # below zero (tare taken with a box on)
        ("1,25 KG", 1250, None),
    ],
)
def test_the_common_line_shapes(line: str, grams: int, stable: bool | None) -> None:
    reading = parse_line(line)
    assert reading is not None, line
    assert (reading.grams, reading.stable) == (grams, stable)


@pytest.mark.parametrize(
    "line",
    [
        "",
        "\r\n",
        "OL,GS,+9999.999 kg",  # overload
        "ST,TR,  0.120kg",  # a tare line is no parcel
        "S +",
        "S -",
        "S I",
        "ES",
        "ST,GS,  0.935",  # no unit: not guessed
        "ST,GS,  0.935 kN",
        "weight please",
        "9" * 90 + " kg",
        "ST,GS,99999999 kg",  # beyond any parcel and any bench scale
    ],
)
def test_lines_that_are_no_reading(line: str) -> None:
    assert parse_line(line) is None


@given(
    grams=st.integers(min_value=0, max_value=99_999),
    mark=st.sampled_from(["ST", "US", None]),
    kind=st.sampled_from(["GS", "NT"]),
    pad=st.integers(min_value=0, max_value=6),
    unit=st.sampled_from(["kg", "g", " kg", " g", "KG"]),
)
def test_a_formatted_weight_reads_back(
    grams: int, mark: str | None, kind: str, pad: int, unit: str
) -> None:
    number = f"{grams / 1000:.3f}" if unit.strip().lower() == "kg" else str(grams)
    head = f"{mark},{kind}," if mark else ""
    reading = parse_line(f"{head}{' ' * pad}{number}{unit}\r\n")
    assert reading is not None
    assert reading.grams == grams
    assert reading.stable == {"ST": True, "US": False, None: None}[mark]


@given(st.text(max_size=120))
def test_any_line_is_a_reading_or_none_never_an_error(line: str) -> None:
    reading = parse_line(line)
    assert reading is None or abs(reading.grams) <= 1_000_000


# ------------------------------------------------------------------------------ the gate

readings = st.builds(
    Reading,
    grams=st.integers(min_value=-50, max_value=5000),
    stable=st.sampled_from([True, False, None]),
    unit=st.just("g"),
)


def test_a_placement_is_taken_once() -> None:
    gate = WeightGate()
    gate.feed(parse_line("US,GS,  0.410kg"))
    gate.feed(parse_line("US,GS,  0.934kg"))
    assert gate.ready is None  # still moving
    gate.feed(parse_line("ST,GS,  0.935kg"))
    assert gate.take() == 935
    for _ in range(5):  # the scale goes on sending the same parcel
        gate.feed(parse_line("ST,GS,  0.935kg"))
    assert gate.take() is None
    gate.feed(parse_line("ST,GS,  0.000kg"))  # lifted off
    gate.feed(parse_line("ST,GS,  0.935kg"))  # the next parcel weighs the same
    assert gate.take() == 935


def test_a_stable_only_scale_and_an_unmarked_one() -> None:
    gate = WeightGate()
    gate.feed(parse_line("ST,GS,  0.935kg"))
    assert gate.take() == 935
    gate.feed(parse_line("ST,GS,  1.020kg"))  # another weight, no unstable line between
    assert gate.take() == 1020
    plain = WeightGate(settle=2)
    plain.feed(parse_line("0.900 kg"))
    assert plain.ready is None  # once is not settled
    plain.feed(parse_line("0.935 kg"))
    assert plain.ready is None
    plain.feed(parse_line("0.935 kg"))
    assert plain.take() == 935
    plain.feed(parse_line("0.935 kg"))
    assert plain.take() is None


@given(st.lists(readings, max_size=40))
def test_the_gate_takes_only_stable_weights_and_each_once(stream: list[Reading]) -> None:
    gate = WeightGate(settle=2)
    taken: list[tuple[int, int]] = []
    for i, reading in enumerate(stream):
        gate.feed(reading)
        grams = gate.take()
        if grams is not None:
            taken.append((i, grams))
            assert grams == reading.grams and grams > gate.zero_g
            if reading.stable is None:  # unmarked: settled means the same reading twice
                assert i >= 1 and stream[i - 1].grams == grams
            else:
                assert reading.stable is True
    for (a, grams), (b, again) in itertools.pairwise(taken):
        if grams == again:  # the same weight twice: something else was on the scale between
            between = stream[a + 1 : b]
            assert any(r.stable is False or r.grams != grams for r in between)


# ------------------------------------------------------------------------------ the band


def test_the_band_hint() -> None:
    assert tolerance_band(935, 10) == (842, 1028)
    assert band_text(935, 10) == "between 0.85 and 1.02 kg"
    assert band_text(935, 4) == "between 0.90 and 0.97 kg"
    assert band_text(50, 10) == "between 45 and 55 g"
    assert band_text(935, 10, short=True) == "0.85–1.02 kg"
    assert band_text(0, 10) == "no expected weight to check it against"


@given(
    expected=st.integers(min_value=1, max_value=60_000),
    pct=st.floats(min_value=0.5, max_value=50, allow_nan=False),
)
def test_every_weight_in_the_band_is_accepted_and_its_ends_are_tight(
    expected: int, pct: float
) -> None:
    lo, hi = tolerance_band(expected, pct)

    def accepted(g: int) -> bool:  # the pack station's rule
        return abs(g - expected) / expected * 100 <= pct

    assert (accepted(lo) and accepted(hi)) or lo > hi
    assert not accepted(lo - 1) or lo == 1
    assert not accepted(hi + 1)
