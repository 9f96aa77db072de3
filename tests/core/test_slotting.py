"""Slotting advice on small crafted histories whose best move is known."""

from __future__ import annotations

import pytest

from packbench.core.routing import Layout, route_length, shortest_route
from packbench.core.slotting import advise

LAYOUT = Layout(
    aisles=("A", "B", "C", "D", "E", "F", "G", "H"),
    bays=20,
    bay_width_m=1.0,
    aisle_pitch_m=3.0,
    depot="A",
)


def test_a_far_best_seller_swaps_with_a_slow_product_by_the_depot() -> None:
    slots = {"HOT": "H-20-1", "COLD": "A-01-1", "MID": "D-10-1"}
    orders = [{"HOT": 1}] * 10 + [{"MID": 2}] * 3 + [{"HOT": 1, "MID": 1}] * 2
    advice = advise(LAYOUT, slots, orders)
    assert [(b.sku, b.picks, b.units) for b in advice.best_sellers] == [
        ("HOT", 12, 12),
        ("MID", 5, 8),
    ]
    best = advice.moves[0]
    assert best.kind == "swap"
    assert set(best.changes) == {("HOT", "H-20-1", "A-01-1"), ("COLD", "A-01-1", "H-20-1")}
    # re-routing by hand: HOT alone was a 81 m round trip, at A-01-1 it is 1 m
    alone = route_length(LAYOUT, ["H-20-1"]) - route_length(LAYOUT, ["A-01-1"])
    assert alone == pytest.approx(80.0)
    with_mid = shortest_route(LAYOUT, ["H-20-1", "D-10-1"]).distance_m - (
        shortest_route(LAYOUT, ["A-01-1", "D-10-1"]).distance_m
    )
    assert best.saved_m == pytest.approx(10 * alone + 2 * with_mid)
    assert best.lists == 12
    total = (
        10 * 81.0
        + 3 * route_length(LAYOUT, ["D-10-1"])
        + 2 * (shortest_route(LAYOUT, ["H-20-1", "D-10-1"]).distance_m)
    )
    assert advice.walked_m == pytest.approx(total)
    assert best.saved_share == pytest.approx(best.saved_m / total)


def test_a_frequent_pair_is_put_side_by_side() -> None:
    # X and Y are always ordered together but stand at opposite ends of the back; the slot
    # next to X holds a product nobody orders. Both are already far from the depot's slots
    # (no slow product is nearer than they are), so the only improvement is the pair move.
    slots = {"X": "B-20-1", "Y": "H-20-1", "Z": "B-19-1"}
    orders = [{"X": 1, "Y": 1}] * 5
    advice = advise(LAYOUT, slots, orders)
    assert [(p.sku_a, p.sku_b, p.together, p.share) for p in advice.pairs] == [("X", "Y", 5, 1.0)]
    assert advice.pairs[0].apart_m == pytest.approx(18.0 + 0.5 + 0.5)
    pair_moves = [m for m in advice.moves if m.kind == "pair"]
    assert pair_moves, advice.moves
    best = advice.moves[0]
    before = shortest_route(LAYOUT, ["B-20-1", "H-20-1"]).distance_m
    after_y_moves = shortest_route(LAYOUT, ["B-20-1", "B-19-1"]).distance_m
    assert best.saved_m == pytest.approx(5 * (before - after_y_moves))
    assert ("Y", "H-20-1", "B-19-1") in best.changes and ("Z", "B-19-1", "H-20-1") in best.changes


def test_an_empty_neighbour_slot_is_used_when_known() -> None:
    slots = {"X": "B-20-1", "Y": "H-20-1"}
    orders = [{"X": 1, "Y": 1}] * 3
    without = advise(LAYOUT, slots, orders)
    assert not [m for m in without.moves if m.kind == "pair"]  # no slot known next to X
    advice = advise(LAYOUT, slots, orders, locations={"B-20-1", "H-20-1", "B-19-1"})
    move = next(m for m in advice.moves if m.kind == "pair")
    assert move.changes == (("Y", "H-20-1", "B-19-1"),) and "(empty)" in move.text


def test_batches_are_walked_as_one_pick_list() -> None:
    slots = {"HOT": "H-20-1", "COLD": "A-01-1"}
    orders = [{"HOT": 1}] * 4
    one_walk = advise(LAYOUT, slots, orders, pick_lists=[{"HOT"}])
    four_walks = advise(LAYOUT, slots, orders)
    assert one_walk.walked_m == pytest.approx(81.0)
    assert four_walks.walked_m == pytest.approx(4 * 81.0)
    assert one_walk.moves[0].saved_m == pytest.approx(80.0)


def test_moves_never_make_walking_longer_and_use_each_product_once() -> None:
    slots = {f"P{i}": f"{'ABCDEFGH'[i % 8]}-{(i * 7) % 20 + 1:02d}-1" for i in range(30)}
    orders = [{f"P{(i * 5) % 30}": 1, f"P{(i * 11) % 30}": 2} for i in range(60)]
    advice = advise(LAYOUT, slots, orders)
    assert advice.moves
    seen: set[str] = set()
    for move in advice.moves:
        assert move.saved_m > 0
        skus = {s for s, _, _ in move.changes}
        assert not skus & seen
        seen |= skus
    assert [m.saved_m for m in advice.moves] == sorted(
        (m.saved_m for m in advice.moves), reverse=True
    )


def test_products_without_a_usable_location_are_named_not_routed() -> None:
    slots = {"A1": "A-02-1", "NOWHERE": None, "BAD": "Z-01-1"}
    advice = advise(LAYOUT, slots, [{"A1": 1, "NOWHERE": 1}, {"BAD": 1}])
    assert advice.unslotted == ("BAD", "NOWHERE")
    assert advice.walked_m == pytest.approx(route_length(LAYOUT, ["A-02-1"]))
    assert advice.to_json()["unslotted"] == ["BAD", "NOWHERE"]


def test_empty_history() -> None:
    advice = advise(LAYOUT, {"A1": "A-02-1"}, [])
    assert (advice.orders, advice.walked_m, advice.moves, advice.best_sellers) == (0, 0.0, (), ())
