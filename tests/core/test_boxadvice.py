"""The standard-box advisor on crafted histories where the right answer is known."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from packbench.core import packing
from packbench.core.boxadvice import HistoryOrder, advise

S = packing.BoxType("BOX-S", "box", (250, 200, 100), 10000, 140, 600)
L = packing.BoxType("BOX-L", "box", (600, 400, 400), 20000, 480, 1400)
BAG = packing.BoxType("BAG-M", "bag", (450, 350, 80), 5000, 25, 250)

FLAT = packing.Item("FLAT", (240, 190, 90), 500)
CUBE = packing.Item("CUBE", (300, 300, 300), 2000)


def history(*spec: tuple[packing.Item, int]) -> list[HistoryOrder]:
    out = []
    for item, n in spec:
        out += [HistoryOrder(f"{item.sku}-{i}", (item,)) for i in range(n)]
    return out


def vol(dims) -> int:  # type: ignore[no-untyped-def]
    return math.prod(dims)


def test_two_sizes_fitted_to_two_kinds_of_order_leave_no_air() -> None:
    h = history((FLAT, 10), (CUBE, 5))
    a = advise(h, [S, L], 2)
    assert [(b.code, b.inner_mm, b.orders) for b in a.boxes] == [
        (None, (240, 190, 90), 10),
        (None, (300, 300, 300), 5),
    ]
    assert [round(b.share, 3) for b in a.boxes] == [round(10 / 15, 3), round(5 / 15, 3)]
    assert a.empty_mm3 == 0 and a.uncovered == () and a.too_big == ()
    baseline = 10 * (vol(S.inner_mm) - vol(FLAT.dims_mm)) + 5 * (
        vol(L.inner_mm) - vol(CUBE.dims_mm)
    )
    assert a.baseline_empty_mm3 == baseline and a.saved_mm3 == baseline
    assert a.saved_pct == pytest.approx(100.0)
    assert a.boxes[0].label == "NEW 240×190×90"


def test_one_box_must_hold_every_order() -> None:
    a = advise(history((FLAT, 10), (CUBE, 5)), [S, L], 1)
    # The 300 mm cube box holds both kinds (the flat item lies inside it) with less air than L.
    assert [(b.code, b.inner_mm, b.orders) for b in a.boxes] == [(None, (300, 300, 300), 15)]
    assert a.uncovered == ()
    assert a.empty_mm3 == 10 * (vol((300, 300, 300)) - vol(FLAT.dims_mm))


def test_a_catalogue_box_is_kept_when_it_is_the_best() -> None:
    exact = packing.Item("EXACT", (250, 200, 100), 400)
    a = advise(history((exact, 4)), [S, L], 1)
    assert [(b.code, b.orders, b.empty_mm3) for b in a.boxes] == [("BOX-S", 4, 0)]
    assert a.saved_mm3 == 0


def test_orders_the_catalogue_cannot_hold_are_left_out_and_named() -> None:
    huge = packing.Item("HUGE", (900, 900, 900), 1000)
    a = advise(history((FLAT, 3), (huge, 1)), [S, L], 1)
    assert a.too_big == ("HUGE-0",) and a.orders == 4 and a.compared == 3


def test_weight_counts() -> None:
    heavy = packing.Item("HEAVY", (100, 100, 100), 12000)  # over BOX-S's 10 kg
    # New sizes are as strong as the strongest box (20 kg): a 100 mm cube takes it.
    a = advise(history((heavy, 2)), [S, L], 1)
    assert [(b.code, b.inner_mm) for b in a.boxes] == [(None, (100, 100, 100))]
    # New sizes limited to 10 kg: only BOX-L is strong enough, though BOX-S is roomy enough.
    a = advise(history((heavy, 2)), [S, L], 1, new_max_weight_g=10000)
    assert [(b.code, b.orders) for b in a.boxes] == [("BOX-L", 2)]


def test_bad_requests_are_refused() -> None:
    with pytest.raises(packing.PackingError, match="at least 1"):
        advise(history((FLAT, 1)), [S], 0)
    with pytest.raises(packing.PackingError, match="no packed or shipped orders"):
        advise([], [S], 2)
    with pytest.raises(packing.PackingError, match="catalogue is empty"):
        advise(history((FLAT, 1)), [], 2)


ITEMS = [
    packing.Item("CUP", (100, 90, 95), 350),
    packing.Item("SOCK", (200, 120, 40), 180),
    packing.Item("BOOK", (240, 170, 30), 600),
    packing.Item("LAMP", (300, 200, 200), 1500, keep_upright=True),
    packing.Item("TUBE", (500, 80, 80), 400),
]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), k=st.integers(1, 4))
def test_every_assignment_is_a_verified_fit_and_the_sums_add_up(seed: int, k: int) -> None:
    rng = random.Random(seed)
    h = []
    for n in range(rng.randint(3, 12)):
        chosen = rng.sample(ITEMS, rng.randint(1, 3))
        items = tuple(
            packing.Item(i.sku, i.dims_mm, i.weight_g, rng.randint(1, 2), i.keep_upright)
            for i in chosen
        )
        h.append(HistoryOrder(str(n), items))
    catalogue = [S, L, BAG]
    a = advise(h, catalogue, k)
    by_ref = {o.ref: o for o in h}
    assert len(a.boxes) <= k
    placed = dict(a.placed)
    assert len(placed) + len(a.uncovered) + len(a.too_big) == len(h)
    assert sum(b.orders for b in a.boxes) == len(placed)
    if placed:
        assert sum(b.share for b in a.boxes) == pytest.approx(1.0)
    air = 0
    for ref, i in a.placed:
        b = a.boxes[i]
        box = packing.BoxType(b.code or "NEW", b.kind, b.inner_mm, 25000, 0, 0)
        if b.code is not None:
            box = next(c for c in catalogue if c.code == b.code)
        parcel = packing.fits(box, by_ref[ref].items, time_budget_s=0.5)
        assert parcel is not None, (ref, b)
        packing.verify(parcel, box, by_ref[ref].items)
        if b.kind == "box":  # a box's air is fixed (a bag's depends on the thickness found)
            air += vol(b.inner_mm) - sum(vol(i.dims_mm) * i.quantity for i in by_ref[ref].items)
    assert air == sum(x.empty_mm3 for x in a.boxes if x.kind == "box")
    assert sum(x.empty_mm3 for x in a.boxes) == a.empty_mm3
    if k >= len(catalogue):
        assert a.empty_mm3 <= a.baseline_empty_mm3


def test_without_new_sizes_the_choice_is_from_the_catalogue() -> None:
    h = history((FLAT, 10), (CUBE, 5))
    a = advise(h, [S, L], 2, max_new=0)
    assert [(b.code, b.orders) for b in a.boxes] == [("BOX-S", 10), ("BOX-L", 5)]
    assert a.saved_mm3 == 0
    a = advise(h, [S, L], 1, max_new=0)
    assert [(b.code, b.orders) for b in a.boxes] == [("BOX-L", 15)]
    assert a.saved_mm3 == -10 * (vol(L.inner_mm) - vol(S.inner_mm))
    a = advise(h, [S, L], 2, max_new=1)  # one proposed size at most
    assert sum(b.code is None for b in a.boxes) <= 1 and a.uncovered == ()
