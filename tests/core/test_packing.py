"""Box suggestion: every placement is checked, known fits are found, limits are kept."""

from __future__ import annotations

import copy
import math
import random
from collections import Counter
from dataclasses import replace
from itertools import permutations

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from packbench.core import packing as pk
from packbench.core import packing_bounds as pb
from packbench.core import packing_model as pm
from packbench.core import packing_search as ps
from packbench.core.packing import (
    BoxType,
    Item,
    PackingError,
    Parcel,
    Placement,
    Suggestion,
    fits,
    parse_request,
    suggest,
    suggestion_to_json,
    verify,
    verify_suggestion,
)

FAST = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


@pytest.fixture(autouse=True)
def _no_safety_net(monkeypatch):
    """Every search runs its steps however busy the machine is: the answers here are those of
    an idle machine, whatever else runs beside the tests (the budget is in steps, #20)."""
    monkeypatch.setattr(pk, "SAFETY_NET", math.inf)


def box(code: str, dims: tuple[int, int, int], cost: int, *, max_g=20_000, tare=100) -> BoxType:
    return BoxType(code, "box", dims, max_g, tare, cost)


def bag(code: str, flat: tuple[int, int], t: int, cost: int, *, max_g=3_000, tare=20) -> BoxType:
    return BoxType(code, "bag", (*flat, t), max_g, tare, cost)


EXAMPLE = {
    "boxes": [
        {
            "code": "BOX-S",
            "kind": "box",
            "inner_mm": [250, 180, 100],
            "max_weight_g": 10000,
            "tare_g": 150,
            "cost_ore": 900,
        },
        {
            "code": "BAG-M",
            "kind": "bag",
            "flat_mm": [300, 400],
            "max_thickness_mm": 80,
            "max_weight_g": 3000,
            "tare_g": 20,
            "cost_ore": 300,
        },
    ],
    "items": [
        {
            "sku": "ABC",
            "dims_mm": [120, 80, 40],
            "weight_g": 350,
            "quantity": 2,
            "keep_upright": False,
        }
    ],
}


def only_box(s: Suggestion) -> Parcel:
    assert len(s.parcels) == 1
    return s.parcels[0]


# --------------------------------------------------------------------------- JSON in and out


def test_example_request_round_trip():
    boxes, items = parse_request(EXAMPLE)
    assert boxes[1] == bag("BAG-M", (300, 400), 80, 300)
    assert items == [Item("ABC", (120, 80, 40), 350, 2, False)]
    s = suggest(boxes, items)
    verify_suggestion(s, boxes, items)
    doc = suggestion_to_json(s)
    (parcel,) = doc["parcels"]
    assert parcel["box"] == "BAG-M"  # cheaper than the box
    assert doc["alternatives"] == ["BOX-S"]
    assert parcel["weight_g"] == 2 * 350 + 20
    assert len(parcel["items"]) == 2  # one entry per unit
    assert set(parcel) == {"box", "inner_mm", "weight_g", "fill", "items"}
    for unit in parcel["items"]:
        assert unit["sku"] == "ABC"
        assert sorted(unit["size_mm"]) == [40, 80, 120]
        assert isinstance(unit["position_mm"], list)
    # A bag reports the box it was modelled as: flat size less the thickness.
    length, width, t = parcel["inner_mm"]
    assert (length, width) == (300 - t, 400 - t) and 40 <= t <= 80
    assert 0 < parcel["fill"] <= 1


def test_defaults_for_optional_fields():
    doc = copy.deepcopy(EXAMPLE)
    del doc["boxes"][0]["tare_g"]
    doc["items"] = [{"sku": "X", "dims_mm": [10, 10, 10], "weight_g": 5}]
    boxes, items = parse_request(doc)
    assert boxes[0].tare_g == 0
    assert items == [Item("X", (10, 10, 10), 5, 1, False)]


def _without(path):
    def edit(doc):
        *where, last = path
        node = doc
        for key in where:
            node = node[key]
        del node[last]

    return edit


def _set(path, value):
    def edit(doc):
        *where, last = path
        node = doc
        for key in where:
            node = node[key]
        node[last] = value

    return edit


BAD_REQUESTS = [
    (_without(["boxes"]), "request.boxes: missing"),
    (_set(["boxes"], []), "boxes: must be a non-empty list"),
    (_set(["items"], {}), "items: must be a non-empty list"),
    (_set(["extra"], 1), "request.extra: unknown field"),
    (_without(["boxes", 0, "inner_mm"]), "boxes[0].inner_mm: missing"),
    (_set(["boxes", 0, "inner_mm", 2], -100), "boxes[0].inner_mm[2]: must be positive"),
    (_set(["boxes", 0, "inner_mm"], [250, 180]), "boxes[0].inner_mm: must be a list of 3"),
    (_set(["boxes", 0, "inner_mm", 0], "250"), "boxes[0].inner_mm[0]: must be a whole number"),
    (_set(["boxes", 0, "kind"], "crate"), "boxes[0].kind: must be 'box' or 'bag'"),
    (_without(["boxes", 0, "kind"]), "boxes[0].kind: missing"),
    (_set(["boxes", 0, "code"], ""), "boxes[0].code: must be a non-empty string"),
    (_set(["boxes", 0, "max_weight_g"], 0), "boxes[0].max_weight_g: must be positive"),
    (_set(["boxes", 0, "tare_g"], -1), "boxes[0].tare_g: must be at least 0"),
    (_set(["boxes", 0, "cost_ore"], 9.5), "boxes[0].cost_ore: must be a whole number"),
    (_set(["boxes", 1, "code"], "BOX-S"), "boxes[1].code: 'BOX-S' is listed twice"),
    (_set(["boxes", 1, "inner_mm"], [1, 2, 3]), "boxes[1].inner_mm: unknown field"),
    (_without(["boxes", 1, "flat_mm"]), "boxes[1].flat_mm: missing"),
    (_set(["boxes", 1, "flat_mm"], [300, 400, 5]), "boxes[1].flat_mm: must be a list of 2"),
    (_set(["boxes", 1, "max_thickness_mm"], 300), "boxes[1].max_thickness_mm: 300 mm must be"),
    (_set(["boxes", 1, "max_thickness_mm"], -3), "boxes[1].max_thickness_mm: must be positive"),
    (_set(["boxes", 0], "BOX-S"), "boxes[0]: must be an object"),
    (_without(["items", 0, "sku"]), "items[0].sku: missing"),
    (_set(["items", 0, "sku"], 12), "items[0].sku: must be a non-empty string"),
    (_without(["items", 0, "dims_mm"]), "items[0].dims_mm: missing"),
    (_set(["items", 0, "dims_mm"], "120x80x40"), "items[0].dims_mm: must be a list of 3"),
    (_set(["items", 0, "dims_mm", 1], 0), "items[0].dims_mm[1]: must be positive"),
    (_set(["items", 0, "dims_mm", 1], 80.5), "items[0].dims_mm[1]: must be a whole number"),
    (_set(["items", 0, "weight_g"], -5), "items[0].weight_g: must be at least 0"),
    (_set(["items", 0, "weight_g"], None), "items[0].weight_g: must be a whole number"),
    (_set(["items", 0, "quantity"], 0), "items[0].quantity: must be positive"),
    (_set(["items", 0, "quantity"], True), "items[0].quantity: must be a whole number"),
    (_set(["items", 0, "keep_upright"], "yes"), "items[0].keep_upright: must be true or false"),
    (_set(["items", 0, "quantitiy"], 2), "items[0].quantitiy: unknown field"),
    (
        _set(["items", 1], {"sku": "ABC", "dims_mm": [1, 2, 3], "weight_g": 1}),
        "items[1].sku: 'ABC' is listed twice with different",
    ),
]


@pytest.mark.parametrize(("edit", "message"), BAD_REQUESTS)
def test_bad_request_names_the_field(edit, message):
    doc = copy.deepcopy(EXAMPLE)
    doc["items"].append({"sku": "OTHER", "dims_mm": [5, 5, 5], "weight_g": 1})
    edit(doc)
    with pytest.raises(PackingError) as err:
        parse_request(doc)
    assert message in str(err.value)


@pytest.mark.parametrize("doc", [None, [], "boxes"])
def test_request_must_be_an_object(doc):
    with pytest.raises(PackingError, match="request: must be an object"):
        parse_request(doc)


def test_same_sku_on_two_lines_is_merged():
    boxes = [box("B", (100, 100, 100), 100)]
    items = [Item("A", (50, 50, 50), 10), Item("A", (50, 50, 50), 10, quantity=2)]
    parcel = only_box(suggest(boxes, items))
    assert [p.sku for p in parcel.items] == ["A"] * 3
    verify(parcel, boxes[0], items)


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([Item("A", (10, -1, 10), 5)], r"items\[0\] \('A'\).dims_mm\[1\]: must be positive"),
        ([Item("A", (10, 10), 5)], r"items\[0\] \('A'\).dims_mm: must be a list of 3"),
        ([Item("", (10, 10, 10), 5)], r"items\[0\].sku"),
        ([Item("A", (10, 10, 10), 5, quantity=0)], r"\('A'\).quantity: must be positive"),
        ([], "items: the order has no items"),
    ],
)
def test_bad_objects_are_refused_by_suggest(items, message):
    with pytest.raises(PackingError, match=message):
        suggest([box("B", (100, 100, 100), 100)], items)


def test_too_many_units_are_refused():
    with pytest.raises(PackingError, match="items: 501 units, more than the 500"):
        suggest([box("B", (100, 100, 100), 100)], [Item("A", (1, 1, 1), 1, pk.MAX_UNITS + 1)])


def test_bad_box_objects_are_refused():
    with pytest.raises(PackingError, match=r"boxes\[0\] \('B'\).kind"):
        suggest([BoxType("B", "crate", (1, 1, 1), 1, 0, 0)], [Item("A", (1, 1, 1), 1)])
    with pytest.raises(PackingError, match="boxes: the catalogue is empty"):
        suggest([], [Item("A", (1, 1, 1), 1)])


# --------------------------------------------------------------------------- verify


@pytest.fixture
def packed() -> tuple[BoxType, list[Item], Parcel]:
    b = box("B", (100, 100, 100), 100, max_g=1000)
    items = [Item("A", (50, 50, 100), 200, 2, keep_upright=True), Item("C", (100, 40, 30), 100)]
    parcel = fits(b, items)
    assert parcel is not None
    verify(parcel, b, items)
    return b, items, parcel


def _edit_unit(parcel: Parcel, n: int, **changes) -> Parcel:
    units = list(parcel.items)
    units[n] = replace(units[n], **changes)
    return replace(parcel, items=tuple(units))


def test_verify_refuses_a_unit_sticking_out(packed):
    b, items, parcel = packed
    moved = _edit_unit(parcel, 0, position_mm=(60, 0, 0))
    with pytest.raises(PackingError, match=r"sticks out|overlap"):
        verify(moved, b, items)
    negative = _edit_unit(parcel, 0, position_mm=(-1, 0, 0))
    with pytest.raises(PackingError, match="sticks out"):
        verify(negative, b, items)


def test_verify_refuses_overlap(packed):
    b, items, parcel = packed
    first = parcel.items[0]
    same_spot = next(n for n, p in enumerate(parcel.items) if p.sku == "A" and p != first)
    stacked = _edit_unit(parcel, same_spot, position_mm=first.position_mm, size_mm=first.size_mm)
    with pytest.raises(PackingError, match="overlap"):
        verify(stacked, b, items)


def test_verify_refuses_illegal_rotation(packed):
    b, items, parcel = packed
    n = next(n for n, p in enumerate(parcel.items) if p.sku == "A")
    lying = _edit_unit(parcel, n, position_mm=(0, 0, 0), size_mm=(100, 50, 50))
    with pytest.raises(PackingError, match="not a rotation"):
        verify(lying, b, items)
    wrong = _edit_unit(parcel, n, size_mm=(50, 50, 99))
    with pytest.raises(PackingError, match="not a rotation"):
        verify(wrong, b, items)


def test_verify_refuses_wrong_units(packed):
    b, items, parcel = packed
    one_a_less = list(parcel.items)
    one_a_less.remove(next(p for p in parcel.items if p.sku == "A"))
    with pytest.raises(PackingError, match="holds 1 units of 'A', the order has 2"):
        verify(replace(parcel, items=tuple(one_a_less)), b, items)
    no_c = tuple(p for p in parcel.items if p.sku != "C")
    with pytest.raises(PackingError, match="holds 0 units of 'C', the order has 1"):
        verify(replace(parcel, items=no_c), b, items)
    extra = replace(parcel, items=(*parcel.items, Placement("Z", (0, 0, 0), (1, 1, 1))))
    with pytest.raises(PackingError, match="'Z', which is not in the order"):
        verify(extra, b, items)


def test_verify_refuses_overweight_and_wrong_weight(packed):
    b, items, parcel = packed
    with pytest.raises(PackingError, match="items weigh 500 g, the limit is 499 g"):
        verify(parcel, replace(b, max_weight_g=499), items)
    with pytest.raises(PackingError, match="weight_g"):
        verify(replace(parcel, weight_g=500), b, items)
    with pytest.raises(PackingError, match="fill"):
        verify(replace(parcel, fill=0.9), b, items)


def test_verify_refuses_another_box(packed):
    b, items, parcel = packed
    with pytest.raises(PackingError, match="the box is 'X'"):
        verify(parcel, replace(b, code="X"), items)
    with pytest.raises(PackingError, match="inner_mm"):
        verify(replace(parcel, inner_mm=(100, 100, 120)), b, items)


def test_verify_checks_a_bags_shape():
    g = bag("G", (300, 400), 60, 100)
    items = [Item("BOOK", (230, 150, 30), 400)]
    parcel = fits(g, items)
    assert parcel is not None and parcel.inner_mm == (270, 370, 30)
    verify(parcel, g, items)
    with pytest.raises(PackingError, match="not the bag"):
        verify(replace(parcel, inner_mm=(300, 400, 30)), g, items)
    with pytest.raises(PackingError, match="not the bag"):
        verify(replace(parcel, inner_mm=(230, 330, 70)), g, items)


# --------------------------------------------------------------------------- choosing the box


def test_cheapest_then_smallest():
    items = [Item("A", (100, 100, 100), 100)]
    small = box("SMALL", (200, 200, 200), 100)
    large = box("LARGE", (300, 300, 300), 100)
    huge_cheap = box("HUGE", (400, 400, 400), 50)
    tiny = box("TINY", (90, 300, 300), 10)  # cheapest, but the item does not fit
    s = suggest([large, tiny, huge_cheap, small], items)
    assert only_box(s).box == "HUGE"
    assert s.alternatives == ("SMALL", "LARGE")
    s = suggest([large, tiny, small], items)
    assert only_box(s).box == "SMALL" and s.alternatives == ("LARGE",)
    assert suggest([large, small], items, max_alternatives=0).alternatives == ()


def test_fill_ratio():
    parcel = only_box(suggest([box("B", (100, 100, 100), 1)], [Item("A", (50, 50, 100), 1, 2)]))
    assert parcel.fill == pytest.approx(0.5)


def test_weight_limit_picks_a_stronger_box():
    light = box("LIGHT", (300, 300, 300), 100, max_g=1000, tare=50)
    strong = box("STRONG", (400, 400, 400), 200, max_g=5000, tare=300)
    at_limit = [Item("A", (100, 100, 100), 500, 2)]
    parcel = only_box(suggest([light, strong], at_limit))
    assert parcel.box == "LIGHT" and parcel.weight_g == 1050  # the limit is for the items
    over = [Item("A", (100, 100, 100), 501, 2)]
    parcel = only_box(suggest([light, strong], over))
    assert parcel.box == "STRONG" and parcel.weight_g == 1302
    assert fits(light, over) is None


def test_keep_upright_refuses_a_box_it_only_fits_lying_in():
    flat = box("FLAT", (300, 300, 100), 100)
    tall = box("TALL", (300, 300, 300), 200)
    standing = [Item("VASE", (250, 50, 200), 500, keep_upright=True)]
    lying = [Item("VASE", (250, 50, 200), 500)]
    assert fits(flat, standing) is None
    assert fits(flat, lying) is not None
    parcel = only_box(suggest([flat, tall], standing))
    assert parcel.box == "TALL"
    assert parcel.items[0].size_mm[2] == 200
    assert only_box(suggest([flat, tall], lying)).box == "FLAT"
    with pytest.raises(PackingError, match=r"'VASE'.*kept upright"):
        suggest([flat], standing)


def test_keep_upright_may_turn_about_the_vertical():
    narrow = box("N", (60, 260, 210), 100)
    parcel = fits(narrow, [Item("VASE", (250, 50, 200), 500, keep_upright=True)])
    assert parcel is not None and parcel.items[0].size_mm == (50, 250, 200)


def test_bag_is_chosen_for_flat_items():
    g = bag("BAG", (300, 400), 60, 100)
    b = box("BOX", (300, 300, 200), 500)
    books = [Item("BOOK", (230, 150, 30), 400, 2)]
    s = suggest([b, g], books)
    parcel = only_box(s)
    assert parcel.box == "BAG" and s.alternatives == ("BOX",)
    length, width, t = parcel.inner_mm
    assert 30 <= t <= 60 and (length, width) == (300 - t, 400 - t)
    assert all(p.position_mm[2] + p.size_mm[2] <= t for p in parcel.items)
    verify(parcel, g, books)
    # Too thick for the bag, too heavy for it, or too long once it is filled.
    assert only_box(suggest([b, g], [Item("CUBE", (100, 100, 100), 10)])).box == "BOX"
    assert only_box(suggest([b, g], [Item("IRON", (100, 100, 20), 3001)])).box == "BOX"
    assert fits(g, [Item("RULER", (340, 30, 30), 10)]) is not None
    assert fits(g, [Item("RULER", (380, 30, 30), 10)]) is None


def test_bag_thickness_is_a_stack_of_units():
    # Fits only at t = 64 = 32 + 32 (two boards stacked), not at T = 70.
    g = bag("BAG", (350, 450), 70, 250)
    items = [
        Item("A", (156, 116, 21), 140),
        Item("B", (166, 80, 17), 74, 2),
        Item("C", (285, 220, 32), 182, 2),
    ]
    parcel = fits(g, items, time_budget_s=2.0)
    assert parcel is not None
    verify(parcel, g, items)
    assert parcel.inner_mm[2] <= 66


def test_keep_upright_in_a_bag_is_along_its_thickness():
    g = bag("BAG", (300, 400), 60, 100)
    assert fits(g, [Item("JAR", (50, 50, 70), 100, keep_upright=True)]) is None
    assert fits(g, [Item("JAR", (70, 50, 50), 100, keep_upright=True)]) is not None


def test_volume_that_would_fit_is_not_enough():
    b = box("B", (100, 100, 100), 100)
    bigger = box("BIGGER", (120, 100, 100), 200)
    cubes = [Item("CUBE", (60, 60, 60), 10, 2)]
    assert fits(b, cubes) is None
    assert only_box(suggest([b, bigger], cubes)).box == "BIGGER"


def test_exhaustive_search_proves_a_tight_misfit():
    # The volume says maybe; the exhaustive search says no, and (since #20) so do the
    # bounds without a search: the two big units fit beside nothing but each other.
    c = (280, 380, 70)
    kinds = pm._kinds(
        [
            Item("A", (156, 116, 21), 140),
            Item("B", (166, 80, 17), 74, 2),
            Item("C", (285, 220, 32), 182, 2),
        ]
    )
    assert sum(k.volume * k.count for k in kinds) < 280 * 380 * 70
    assert pb._quick_reject(c, kinds)
    assert pb._must_stack(pb._usable(c, kinds), kinds)
    rots = [tuple(r for r in k.rots if pb._fits_in(r, c)) for k in kinds]
    status, _ = ps._exact(c, kinds, rots, ps._Meter(), 10**8)
    assert status is False


def test_an_item_that_fits_nowhere_is_named():
    boxes = [box("B", (100, 100, 100), 100), bag("G", (300, 400), 30, 50)]
    items = [Item("OK", (10, 10, 10), 10), Item("POLE", (2000, 20, 20), 100)]
    with pytest.raises(PackingError, match=r"'POLE' .*fits in no box or bag"):
        suggest(boxes, items)
    heavy = [Item("ANVIL", (50, 50, 50), 50_000)]
    with pytest.raises(PackingError, match=r"'ANVIL' .*heavier than any box or bag"):
        suggest(boxes, heavy)


# --------------------------------------------------------------------------- splitting


def test_split_into_the_fewest_parcels():
    only = box("B", (100, 100, 100), 100)
    items = [Item("SLAB", (100, 100, 50), 100, 4)]
    s = suggest([only], items)
    assert [len(p.items) for p in s.parcels] == [2, 2]
    assert s.alternatives == ()
    verify_suggestion(s, [only], items)


def test_split_by_weight():
    only = box("B", (100, 100, 100), 100, max_g=5000)
    items = [Item("LEAD", (10, 10, 10), 2000, 3)]
    s = suggest([only], items)
    assert sorted(len(p.items) for p in s.parcels) == [1, 2]
    verify_suggestion(s, [only], items)


def test_split_parcels_each_get_their_cheapest_box():
    big = box("BIG", (100, 100, 100), 300)
    small = box("SMALL", (100, 100, 50), 100)
    items = [Item("SLAB", (100, 100, 50), 100, 3)]
    s = suggest([big, small], items)
    assert sorted(p.box for p in s.parcels) == ["BIG", "SMALL"]
    verify_suggestion(s, [big, small], items)


def test_verify_suggestion_catches_a_lost_unit():
    only = box("B", (100, 100, 100), 100)
    items = [Item("SLAB", (100, 100, 50), 100, 4)]
    s = suggest([only], items)
    with pytest.raises(PackingError, match="2 units of 'SLAB', not 4"):
        verify_suggestion(replace(s, parcels=s.parcels[:1]), [only], items)


def test_a_packing_that_fails_its_check_is_never_handed_out(monkeypatch):
    # Break the packer: every unit is put in the corner. Only one-unit parcels stay right.
    monkeypatch.setattr(pk, "_settle", lambda placed: [(k, (0, 0, 0), s) for k, _, s in placed])
    boxes = [box("B", (100, 100, 100), 100), box("C", (200, 200, 200), 200)]
    items = [Item("A", (50, 50, 50), 10, 3)]
    s = suggest(boxes, items)
    verify_suggestion(s, boxes, items)
    assert [len(p.items) for p in s.parcels] == [1, 1, 1]
    assert fits(boxes[1], items) is None


# --------------------------------------------------------------------------- random instances

dims3 = st.tuples(*[st.integers(5, 120)] * 3)


@st.composite
def catalogues(draw):
    boxes = [
        box(
            f"B{i}",
            draw(st.tuples(*[st.integers(40, 300)] * 3)),
            draw(st.integers(0, 9)) * 100,
            max_g=draw(st.integers(500, 10_000)),
            tare=draw(st.integers(0, 300)),
        )
        for i in range(draw(st.integers(1, 4)))
    ]
    for i in range(draw(st.integers(0, 1))):
        flat = draw(st.tuples(st.integers(100, 400), st.integers(100, 400)))
        t = draw(st.integers(5, min(flat) - 1))
        boxes.append(bag(f"G{i}", flat, min(t, 90), draw(st.integers(0, 9)) * 100))
    return boxes


@st.composite
def orders(draw):
    return [
        Item(
            f"S{i}",
            draw(dims3),
            draw(st.integers(0, 3000)),
            draw(st.integers(1, 3)),
            draw(st.booleans()),
        )
        for i in range(draw(st.integers(1, 4)))
    ]


def _fits_alone(item: Item, b: BoxType) -> bool:
    a, w, h = item.dims_mm
    rots = {(a, w, h), (w, a, h)} if item.keep_upright else set(permutations(item.dims_mm))
    if item.weight_g > b.max_weight_g:
        return False
    x, y, z = b.inner_mm
    if b.kind == "box":
        return any(r[0] <= x and r[1] <= y and r[2] <= z for r in rots)
    return any(r[2] <= z and r[0] + r[2] <= x and r[1] + r[2] <= y for r in rots)


@FAST
@given(catalogues(), orders())
def test_every_suggestion_is_a_correct_packing(boxes, items):
    unfit = [it for it in items if not any(_fits_alone(it, b) for b in boxes)]
    if unfit:
        event("an item fits nowhere")
        with pytest.raises(PackingError) as err:
            suggest(boxes, items, time_budget_s=0.02)
        assert any(repr(it.sku) in str(err.value) for it in unfit)
        return
    s = suggest(boxes, items, time_budget_s=0.02)
    verify_suggestion(s, boxes, items)
    codes = [p.box for p in s.parcels]
    event(f"{len(s.parcels)} parcel(s)")
    if len(s.parcels) == 1:
        assert codes[0] not in s.alternatives
        order = sorted(boxes, key=pm._order_key)
        rank = {b.code: i for i, b in enumerate(order)}
        assert all(rank[a] > rank[codes[0]] for a in s.alternatives)
        assert list(s.alternatives) == sorted(s.alternatives, key=rank.__getitem__)
    else:
        assert s.alternatives == ()
        # Had one parcel sufficed, a single box would have had to be found.
        assert sum(len(p.items) for p in s.parcels) == sum(it.quantity for it in items)


@st.composite
def guillotine(draw):
    """A box cut into 2-8 pieces by guillotine cuts; the pieces shuffled and turned."""
    whole = draw(st.tuples(*[st.integers(40, 300)] * 3))
    pieces = [whole]
    for _ in range(draw(st.integers(1, 7))):
        i = draw(st.integers(0, len(pieces) - 1))
        p = pieces[i]
        axes = [a for a in range(3) if p[a] >= 20]
        if not axes:
            continue
        a = draw(st.sampled_from(axes))
        cut = draw(st.integers(10, p[a] - 10))
        lo, hi = list(p), list(p)
        lo[a], hi[a] = cut, p[a] - cut
        pieces[i : i + 1] = [tuple(lo), tuple(hi)]
    rnd = random.Random(draw(st.integers(0, 2**32)))
    rnd.shuffle(pieces)
    items = []
    for n, p in enumerate(pieces):
        upright = rnd.random() < 0.3
        if upright:
            dims = (p[1], p[0], p[2]) if rnd.random() < 0.5 else p
        else:
            dims = rnd.choice(list(permutations(p)))
        items.append(Item(f"P{n}", dims, rnd.randint(1, 500), 1, upright))
    return whole, items


@settings(max_examples=40, deadline=None, derandomize=True)
@given(guillotine(), st.lists(st.tuples(*[st.integers(30, 320)] * 3), max_size=3))
def test_a_box_cut_into_pieces_is_found_again(cut, decoys):
    whole, items = cut
    target = box("TARGET", whole, 1000)
    assert fits(target, items, time_budget_s=5.0) is not None
    boxes = [target] + [box(f"D{i}", d, 500 + 500 * (i % 3)) for i, d in enumerate(decoys)]
    s = suggest(boxes, items, time_budget_s=0.5)
    verify_suggestion(s, boxes, items)
    chosen = only_box(s)
    event(f"{len(items)} pieces, {'target' if chosen.box == 'TARGET' else 'a decoy'}")
    assert next(b for b in boxes if b.code == chosen.box).cost_ore <= 1000


@settings(max_examples=60, deadline=None, derandomize=True)
@given(guillotine())
def test_usable_size_of_a_box_cut_into_pieces_is_the_whole_box(cut):
    # Along each axis a line through the box crosses pieces whose sizes add up to the box:
    # cutting the container down to the sums of unit sizes must never cut into it.
    whole, items = cut
    kinds = pm._kinds(items)
    assert pb._usable(whole, kinds) == whole
    assert not pb._quick_reject(whole, kinds)


def test_usable_size_cuts_a_box_down_to_sums_of_unit_sizes():
    # 3 units that only go in 70 mm along x (the section is 60 x 50): two fit in 205 mm,
    # three do not; turned, in a 60 x 70 section, 70 + 70 + 60 = 200 fits.
    kinds = pm._kinds([Item("A", (70, 60, 50), 10, 3)])
    assert pb._usable((205, 60, 50), kinds) == (140, 60, 50)
    assert pb._usable((205, 70, 70), kinds)[0] == 200
    # 2 cubes of 60 in a 110-wide, 60-high box: usable 60 across, so they cannot go side
    # by side, and the volume (2 x 60^3 <= 119 x 110 x 60) alone would have let them in.
    cubes = pm._kinds([Item("C", (60, 60, 60), 10, 2)])
    assert pb._usable((119, 110, 60), cubes) == (60, 60, 60)
    assert pb._quick_reject((119, 110, 60), cubes)


def test_big_order_the_heuristic_misses_is_found_by_the_corner_point_search():
    # 11 units of the #20 hard set (benchmarks/packing.py --hard, order 176): CP-SAT packs
    # them in BOX-L1; tens of thousands of heuristic passes do not, the corner-point search does.
    items = [
        Item("SHOES", (302, 206, 104), 1152),
        Item("MUG-A", (125, 91, 102), 374, 2, True),
        Item("MUG-B", (124, 98, 100), 344, 2, True),
        Item("SHIRT", (300, 211, 35), 238, 2),
        Item("BOOK", (249, 140, 27), 628, 4),
    ]
    l1 = BoxType("BOX-L1", "box", (400, 300, 200), 15000, 280, 900)
    l2 = BoxType("BOX-L2", "box", (450, 350, 250), 20000, 350, 1100)
    parcel = fits(l1, items, time_budget_s=2.0)
    assert parcel is not None
    verify(parcel, l1, items)
    s = suggest([l2, l1], items, time_budget_s=2.0)
    verify_suggestion(s, [l2, l1], items)
    assert only_box(s).box == "BOX-L1"


# --------------------------------------------------------------------------- bounds (#20)


def test_units_that_cannot_share_a_layer_must_stack():
    # #20 hard set, order 123 in BOX-L1: only 52 % full, yet no packing. The shirts only fit
    # lying flat (on edge they are 234 mm tall, the box 200 mm), and no two lie side by side
    # (309 + 309 > 400, 234 + 234 > 300); a mug stands 95 mm tall and fits beside no shirt
    # (309 + 94 > 400, 234 + 94 > 300). So 4 shirts and a mug lie one above the other:
    # 4 x 29 + 95 = 211 mm > 200 mm.
    c = (400, 300, 200)
    kinds = pm._kinds(
        [
            Item("BOOK", (202, 142, 31), 500),
            Item("MUG", (120, 94, 95), 350, 3, True),
            Item("SHIRT", (309, 234, 29), 200, 4),
        ]
    )
    assert pb._must_stack(pb._usable(c, kinds), kinds)
    assert pb._quick_reject(c, kinds)
    # One shirt fewer: 3 x 29 + 95 = 182 mm, and they do fit.
    fewer = [Item("MUG", (120, 94, 95), 350, 3, True), Item("SHIRT", (309, 234, 29), 200, 3)]
    assert not pb._quick_reject(c, pm._kinds(fewer))
    assert fits(BoxType("L1", "box", c, 15_000, 280, 900), fewer) is not None


def test_dual_feasible_functions_prove_a_misfit_the_volume_allows():
    # #20 hard set, order 182 in BOX-M2 (350 x 250 x 100), 87 % full: 6 books and 2 upright
    # mugs 100 mm tall, the box's whole height. Across the height a mug counts as 1 under
    # u(3) and each book (27 mm) as 1/3; across the floor the mugs and books take more than
    # the floor's area under u(4) x u(3) - CP-SAT also proves there is no packing.
    c = (350, 250, 100)
    kinds = pm._kinds(
        [Item("BOOK", (221, 149, 27), 500, 6), Item("MUG", (115, 99, 100), 350, 2, True)]
    )
    rots = [[r for r in k.rots if pb._fits_in(r, c)] for k in kinds]
    assert pb._dual_feasible(c, rots, [k.count for k in kinds])
    assert pb._quick_reject(c, kinds)
    # The volume alone says maybe.
    assert sum(k.volume * k.count for k in kinds) < 350 * 250 * 100


def test_dual_feasible_functions_of_a_full_row_add_up_to_one():
    # Units that exactly fill an axis: any dual feasible function keeps their sum at most 1.
    for size in (300, 301, 97):
        for n in (1, 2, 3, 4, 5, 6):
            parts = [size // n] * (n - 1) + [size - (size // n) * (n - 1)]
            for k in pb.DFF_K:
                assert sum(pb._dff(x, size, k) for x in parts) <= 1 + 1e-12


@st.composite
def packed_orders(draw):
    """Units packed by the extreme-point heuristic in a big box, and the box just around them
    (which therefore holds them): a feasible container the bounds must never refuse."""
    kinds = pm._kinds(
        [
            Item(
                f"S{i}",
                draw(st.tuples(*[st.integers(5, 150)] * 3)),
                1,
                draw(st.integers(1, 4)),
                draw(st.booleans()),
            )
            for i in range(draw(st.integers(1, 6)))
        ]
    )
    big = (400, 400, 400)
    rots = [tuple(r for r in k.rots if pb._fits_in(r, big)) for k in kinds]
    seq = [i for i, k in enumerate(kinds) for _ in range(k.count)]
    draw(st.randoms(use_true_random=False)).shuffle(seq)
    merit = draw(st.sampled_from([ps._MERIT_BOTTOM, ps._MERIT_CONTACT, ps._MERIT_ENVELOPE]))
    placed = ps._ep_pass(big, seq, rots, merit)
    assume(placed is not None)
    envelope = tuple(max(p[a] + s[a] for _, p, s in placed) for a in range(3))
    return envelope, kinds


@settings(max_examples=150, deadline=None, derandomize=True)
@given(packed_orders())
def test_the_bounds_never_refuse_a_box_that_holds_the_units(case):
    envelope, kinds = case
    assert not pb._quick_reject(envelope, kinds)
    usable = pb._usable(envelope, kinds)
    assert not pb._must_stack(usable, kinds)


# --------------------------------------------------------------------------- the step budget (#20)


HARD_CATALOGUE = [
    box("BOX-XS", (150, 100, 50), 350),
    box("BOX-S2", (250, 180, 100), 500),
    box("BOX-M1", (300, 200, 120), 600),
    box("BOX-M3", (300, 300, 200), 750),
    box("BOX-L1", (400, 300, 200), 900),
    box("BOX-L2", (450, 350, 250), 1100),
    box("BOX-XL", (600, 400, 400), 1800, max_g=25_000),
    bag("BAG-M", (350, 450), 70, 250),
]

# The #20 hard set's products: books, mugs kept upright, folded shirts, shoe boxes.
PRODUCTS = [
    ((200, 260), (130, 170), (15, 45), False),
    ((115, 125), (90, 100), (95, 105), True),
    ((280, 320), (200, 240), (20, 40), False),
    ((300, 340), (190, 220), (100, 130), False),
]


def big_order(seed: int) -> list[Item]:
    rng = random.Random(seed)
    units = rng.randint(8, 20)
    items = []
    while units > 0:
        (lx, wx, hx, upright) = rng.choice(PRODUCTS)
        q = min(units, rng.choice([1, 2, 3, 4, 6]))
        units -= q
        dims = (rng.randint(*lx), rng.randint(*wx), rng.randint(*hx))
        items.append(Item(f"P{len(items)}", dims, rng.randint(100, 900), q, upright))
    return items


def test_the_answer_does_not_depend_on_the_clock(monkeypatch):
    # The budget is counted in steps: a clock that stands still and one that races (but
    # never reaches the deadline) give the same boxes and the same placements.
    orders = [big_order(seed) for seed in range(6)]
    monkeypatch.setattr(pk, "perf_counter", lambda: 0.0)
    monkeypatch.setattr(ps, "perf_counter", lambda: 0.0)
    still = [suggest(HARD_CATALOGUE, items, time_budget_s=0.05) for items in orders]
    ticks = iter(range(10**12))
    monkeypatch.setattr(ps, "perf_counter", lambda: next(ticks) * 1e-12)
    racing = [suggest(HARD_CATALOGUE, items, time_budget_s=0.05) for items in orders]
    assert racing == still
    for s, items in zip(still, orders, strict=True):
        verify_suggestion(s, HARD_CATALOGUE, items)


def test_a_machine_too_slow_for_the_steps_still_gets_a_correct_suggestion(monkeypatch):
    # The safety net: the deadline passes at once; every container still gets its minimum
    # effort, and what comes back is checked like any other suggestion.
    meters: list[ps._Meter] = []

    class Meter(ps._Meter):
        def __init__(self, deadline: float = math.inf) -> None:
            super().__init__(deadline)
            meters.append(self)

    monkeypatch.setattr(pk, "_Meter", Meter)
    orders = [big_order(seed) for seed in (4, 7, 20)]  # orders that spend their steps
    for items in orders:  # an idle machine's steps
        suggest(HARD_CATALOGUE, items, time_budget_s=0.05)
    idle = [m.steps for m in meters]
    meters.clear()
    monkeypatch.setattr(pk, "SAFETY_NET", 1.0)
    monkeypatch.setattr(pk, "perf_counter", lambda: 0.0)  # the deadline is at 0.05 s
    clock = iter(range(10**9))
    monkeypatch.setattr(ps, "perf_counter", lambda: float(next(clock)))  # 1 s a reading
    for items in orders:
        s = suggest(HARD_CATALOGUE, items, time_budget_s=0.05)
        verify_suggestion(s, HARD_CATALOGUE, items)
    slow = [m.steps for m in meters]
    assert all(a < b / 2 for a, b in zip(slow, idle, strict=True)), (slow, idle)


def _check_by_hand(parcel: Parcel, items: list[Item], boxes: list[BoxType]) -> None:
    """The parcel checked without verify(): inside the container, no overlap, every unit a
    rotation of its item, upright ones with their height kept vertical."""
    by_sku = {it.sku: it for it in items}
    inner = parcel.inner_mm
    spec = next(b for b in boxes if b.code == parcel.box)
    if spec.kind == "box":
        assert inner == spec.inner_mm
    else:
        t = inner[2]
        assert t <= spec.inner_mm[2] and inner[:2] == (spec.inner_mm[0] - t, spec.inner_mm[1] - t)
    cells = []
    for u in parcel.items:
        it = by_sku[u.sku]
        assert sorted(u.size_mm) == sorted(it.dims_mm)
        if it.keep_upright:
            assert u.size_mm[2] == it.dims_mm[2]
        assert all(
            u.position_mm[a] >= 0 and u.position_mm[a] + u.size_mm[a] <= inner[a] for a in range(3)
        )
        cells.append((u.position_mm, u.size_mm))
    for i, (p, s) in enumerate(cells):
        for q, t in cells[i + 1 :]:
            assert any(p[a] + s[a] <= q[a] or q[a] + t[a] <= p[a] for a in range(3))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(0, 10**6))
def test_big_orders_get_correct_packings(seed):
    items = big_order(seed)
    s = suggest(HARD_CATALOGUE, items, time_budget_s=0.02)
    verify_suggestion(s, HARD_CATALOGUE, items)
    for parcel in s.parcels:
        _check_by_hand(parcel, items, HARD_CATALOGUE)
    units = Counter(u.sku for p in s.parcels for u in p.items)
    assert units == {it.sku: it.quantity for it in items}
