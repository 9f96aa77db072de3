"""The built-in carrier and the number series: published examples, ranges, never twice."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packbench.carriers import (
    CarrierError,
    ParcelRequest,
    S10Carrier,
    SeriesExhausted,
    ShipmentRequest,
    carrier_for,
)
from packbench.config import CarrierSettings, ShipSettings
from packbench.core.codes import is_valid_s10, is_valid_sscc, make_s10, make_sscc
from packbench.operations.ship_numbers import sscc_series


class MemoryNumbers:
    """A number source kept in a dict, with the same contract as the database's series."""

    def __init__(self, taken: set[str] | None = None) -> None:
        self.next: dict[str, int] = {}
        self.taken = taken or set()

    def take(self, series: str, first: int, last: int, render: Callable[[int], str]) -> str:
        value = max(self.next.get(series, first), first)
        while True:
            if value > last:
                raise SeriesExhausted(f"{series} used up")
            code = render(value)
            value += 1
            if code not in self.taken:
                break
        self.next[series] = value
        self.taken.add(code)
        return code


def request(n: int, number: str = "5001") -> ShipmentRequest:
    return ShipmentRequest(
        order_number=number,
        service="Norgespakke",
        recipient_name="Bjørn Ødegård",
        postcode="7010",
        city="Trondheim",
        country="NO",
        parcels=tuple(ParcelRequest(seq, 500 * seq) for seq in range(1, n + 1)),
    )


def test_the_upu_example_number_comes_out_of_its_range() -> None:
    # UPU S10's worked example: serial 47312482 has the check digit 9.
    carrier = S10Carrier("Posten", "RR", "NO", first=47_312_482, last=47_312_490)
    booked = carrier.create_shipment(request(2), MemoryNumbers())
    assert [p.tracking_number for p in booked.parcels] == ["RR473124829NO", "RR473124832NO"]
    assert all(is_valid_s10(p.tracking_number) for p in booked.parcels)
    assert [p.seq for p in booked.parcels] == [1, 2]
    assert booked.carrier == "Posten" and booked.service == "Norgespakke"
    assert carrier.tracking_url("RR473124829NO").endswith("/RR473124829NO")


def test_the_gs1_example_sscc_from_the_series() -> None:
    # GS1's example SSCC 0 9528765 432101234 6 (also in tests/core).
    ship = ShipSettings(gs1_company_prefix="9528765", sscc_extension=0)
    series, first, last, render = sscc_series(ship)
    assert (series, first, last) == ("sscc:09528765", 1, 999_999_999)
    numbers = MemoryNumbers()
    numbers.next[series] = 432_101_234
    assert numbers.take(series, first, last, render) == "095287654321012346"


def test_a_used_up_range_is_refused_and_numbers_never_wrap() -> None:
    carrier = S10Carrier("Posten", "RR", "NO", first=10, last=12)
    numbers = MemoryNumbers()
    carrier.create_shipment(request(3), numbers)
    with pytest.raises(SeriesExhausted):
        carrier.create_shipment(request(1), numbers)


def test_numbers_a_parcel_already_has_are_skipped() -> None:
    carrier = S10Carrier("Posten", "RR", "NO", first=1, last=10)
    numbers = MemoryNumbers(taken={"RR000000028NO"})  # serial 2, from imported data
    booked = carrier.create_shipment(request(2), numbers)
    assert [p.tracking_number[2:10] for p in booked.parcels] == ["00000001", "00000003"]


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        S10Carrier("X", "R1", "NO")
    with pytest.raises(ValueError):
        S10Carrier("X", "RR", "NO", first=5, last=4)
    with pytest.raises(ValueError, match="below"):
        CarrierSettings(s10_first=9, s10_last=8)
    with pytest.raises(ValueError, match="not under"):
        ShipSettings(methods={"flat_rate:9": {"carrier": "DHL"}})  # type: ignore[dict-item]
    with pytest.raises(CarrierError):
        S10Carrier("Posten").create_shipment(request(0), MemoryNumbers())


def test_carrier_for_builds_the_configured_range() -> None:
    carrier = carrier_for("PostNord", ShipSettings().carriers["PostNord"])
    assert isinstance(carrier, S10Carrier)
    assert (carrier.prefix, carrier.country, carrier.first) == ("CP", "NO", 80_000_000)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 99_999_000),
    st.integers(1, 400),
    st.lists(st.integers(1, 8), min_size=1, max_size=12),
    st.sets(st.integers(0, 60), max_size=10),
)
def test_every_number_is_valid_in_range_and_unique(
    first: int, span: int, shipments: list[int], pre_taken: set[int]
) -> None:
    last = min(first + span, 99_999_999)
    carrier = S10Carrier("Posten", "RR", "NO", first=first, last=last)
    # Numbers some parcel already carries (imported data, the demo): never issued again.
    taken = {make_s10("RR", first + k, "NO") for k in pre_taken if first + k <= last}
    numbers = MemoryNumbers(taken=set(taken))
    issued: list[str] = []
    for n in shipments:
        try:
            booked = carrier.create_shipment(request(n), numbers)
        except SeriesExhausted:
            break
        issued += [p.tracking_number for p in booked.parcels]
    assert len(issued) == len(set(issued))
    assert not set(issued) & taken
    for code in issued:
        assert is_valid_s10(code) and first <= int(code[2:10]) <= last
    assert issued == sorted(issued, key=lambda c: int(c[2:10]))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 9), st.text("0123456789", min_size=7, max_size=10), st.integers(1, 50))
def test_sscc_series_gives_valid_unique_codes(ext: int, prefix: str, n: int) -> None:
    ship = ShipSettings(gs1_company_prefix=prefix, sscc_extension=ext)
    series, first, last, render = sscc_series(ship)
    numbers = MemoryNumbers()
    codes = [numbers.take(series, first, last, render) for _ in range(n)]
    assert len(set(codes)) == n
    assert all(is_valid_sscc(c) and c.startswith(f"{ext}{prefix}") for c in codes)
    assert codes[0] == make_sscc(ext, prefix, 1)
