"""A case label at the pick station: its count is how many units it brings, when the stop
still needs that many."""

# ruff: noqa: F811 - the tests take the imported `bench` fixture by name
from __future__ import annotations

from packbench.operations.pick_start import next_batch
from packbench.operations.pick_views import PickRules
from tests.operations.test_picking import (  # noqa: F401 - the fixture
    KJ,
    LAYOUT,
    PICKER,
    TX,
    bench,
    scan,
    snapshot,
)

SOCKS14 = "0" + TX


def test_a_case_brings_its_units_when_the_stop_needs_them(bench) -> None:  # type: ignore[no-untyped-def]
    next_batch(bench, PICKER, LAYOUT, PickRules())
    assert scan(bench, f"3*{KJ}").ok  # A-01-1 done; C-07-2 needs 1 + 3 socks
    before = snapshot(bench)
    too_many = scan(bench, f"(02){SOCKS14}(37)6")
    assert not too_many.ok
    assert "A case of 6 × Ullsokker 3-pk, but only 4 still needed at C-07-2" in too_many.message
    assert snapshot(bench) == before
    last = scan(bench, f"02{SOCKS14}374")
    assert last.ok and last.finished, last.message
