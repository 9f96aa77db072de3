"""A slip scanned mid-batch joins the open batch when the cart has room (#16: "Finish batch 3
first" was the only answer); what was picked stays, the walk ahead is planned again."""

from __future__ import annotations

import pytest
from sqlmodel import select

from packbench.core.routing import route_length
from packbench.core.workflow import Action
from packbench.data.engine import Database
from packbench.data.models import Event, Location, Order, PickBatch, PickTask, Product
from packbench.operations.common import Actor, change_status
from packbench.operations.intake import receive_order
from packbench.operations.pick_views import PickRules, current_batch
from tests.operations.seed import order_in, seed
from tests.operations.test_picking import (
    KJ,
    LAYOUT,
    PICKER,
    TX,
    refusals,
    scan,
    snapshot,
    status,
)

LUE = "7071234000039"  # a third product, far down aisle H


@pytest.fixture
def bench(db: Database) -> Database:
    seed(db)
    system = Actor("admin", "seed")
    with db.write() as s:
        s.add(Location(code="H-15-1", aisle="H", bay=15, level=1))
    with db.write() as s:
        s.add(Product(sku="FJ-LU-0003", gtin=LUE, gtin14="0" + LUE, name="Lue", location="H-15-1"))
    with db.write() as s:
        receive_order(s, system, order_in(5004, ("FJ-LU-0003", 1), ("FJ-KJ-0001", 1), minutes=15))
        receive_order(s, system, order_in(5005, ("FJ-LU-0003", 2), minutes=20))

    def print_all(session) -> None:  # type: ignore[no-untyped-def]
        for order in session.exec(select(Order).where(Order.number != "5005")).all():
            change_status(session, order, Action.PRINT_SLIP, system)

    db.transact(print_all)
    return db


def stops(db: Database) -> list[tuple[int, str, int]]:
    """(stop, location, units left) of the open batch, in walking order."""
    view = current_batch(db, PICKER, LAYOUT, PickRules())
    assert view is not None
    return [(s.seq, s.location, s.left) for s in view.stops]


def test_a_slip_mid_batch_joins_the_begun_stop_stays_current(bench) -> None:  # type: ignore[no-untyped-def]
    assert scan(bench, "ORD-5001").ok  # 2 × KJ at A-01-1
    assert scan(bench, KJ).ok  # one picked: the stop is begun
    out = scan(bench, "ORD-5003")  # 3 × TX at C-07-2
    assert out.ok, out.message
    assert out.message == (
        "Order 5003 added to batch 1 in tote 2: 3 units, 1 more stop — 2 stops left."
    )
    assert [(t.tote, t.order_number) for t in out.pick_list.totes] == [(1, "5001"), (2, "5003")]
    assert out.pick_list.current.location == "A-01-1" and out.pick_list.current.picked == 1
    assert stops(bench) == [(1, "A-01-1", 1), (2, "C-07-2", 3)]
    assert status(bench, "5003") == "picking"
    with bench.read() as s:
        event = s.exec(select(Event).where(Event.kind == "pick").order_by(Event.id.desc())).first()
        assert event.message == "batch 1: order 5003 added in tote 2" and event.packer_id == 1
    # The batch is picked to the end as one walk, both orders with it.
    assert scan(bench, KJ).ok
    assert scan(bench, f"3*{TX}").finished
    assert status(bench, "5001") == "picked" and status(bench, "5003") == "picked"


def test_a_location_ahead_takes_the_new_units_and_a_new_one_goes_into_the_walk(bench) -> None:  # type: ignore[no-untyped-def]
    assert scan(bench, "ORD-5003").ok  # C-07-2
    out = scan(bench, "ORD-5004")  # H-15-1 and A-01-1 (nearer the depot than C-07-2)
    assert out.ok, out.message
    assert stops(bench) == [(1, "A-01-1", 1), (2, "C-07-2", 3), (3, "H-15-1", 1)]
    out = scan(bench, "ORD-5002")  # C-07-2 and A-01-1: both already on the walk
    assert out.ok and "0 more stops — 3 stops left" in out.message, out.message
    assert stops(bench) == [(1, "A-01-1", 2), (2, "C-07-2", 4), (3, "H-15-1", 1)]
    at_c = next(s for s in out.pick_list.stops if s.location == "C-07-2")
    assert sorted((i.tote, i.quantity) for i in at_c.items) == [(1, 3), (3, 1)]
    # The planned walk is the walk the stops now make, and the resumed view says the same.
    view = current_batch(bench, PICKER, LAYOUT, PickRules())
    assert view == out.pick_list
    assert view.distance_m == pytest.approx(route_length(LAYOUT, ["A-01-1", "C-07-2", "H-15-1"]))


def test_stops_done_keep_their_place_and_a_done_location_is_visited_again(bench) -> None:  # type: ignore[no-untyped-def]
    assert scan(bench, "ORD-5002").ok  # A-01-1 (1 KJ), then C-07-2 (1 TX)
    assert scan(bench, KJ).ok  # stop 1 done; the picker stands at A-01-1
    with bench.read() as s:
        done_before = s.exec(select(PickTask).where(PickTask.seq == 1)).all()
    out = scan(bench, "ORD-5001")  # 2 × KJ at A-01-1: back to the shelf just left
    assert out.ok, out.message
    assert stops(bench) == [(1, "A-01-1", 0), (2, "A-01-1", 2), (3, "C-07-2", 1)]
    with bench.read() as s:
        assert s.exec(select(PickTask).where(PickTask.seq == 1)).all() == done_before
    assert out.pick_list.current.seq == 2 and out.pick_list.metres_left >= 0


@pytest.mark.parametrize(
    ("rules", "number", "words"),
    [
        (
            PickRules(batch_size=1),
            "5003",
            "Order 5003 was not added: batch 1 is full (1 order, the most a batch holds). "
            "Finish batch 1 first (1 stop, 2 units left) — or short-pick what the shelves do "
            "not have.",
        ),
        (PickRules(), "5005", "Order 5005 is new; only an order with a printed slip is picked."),
        (PickRules(), "4711", "No order number 4711 on this bench."),
    ],
)
def test_a_slip_that_cannot_join_says_why_and_changes_nothing(bench, rules, number, words) -> None:  # type: ignore[no-untyped-def]
    assert scan(bench, "ORD-5001").ok
    before = snapshot(bench)
    out = scan(bench, f"ORD-{number}", rules=rules)
    assert not out.ok and out.message == words
    assert snapshot(bench) == before
    assert refusals(bench)[-1] == words


def test_an_order_in_another_pickers_batch_does_not_join(bench) -> None:  # type: ignore[no-untyped-def]
    other = Actor("pick", "term-2", 2, "Ola Sjef", "supervisor")
    assert scan(bench, "ORD-5003", actor=other).ok
    assert scan(bench, "ORD-5001").ok
    before = snapshot(bench)
    out = scan(bench, "ORD-5003")
    assert not out.ok and out.message == (
        "Order 5003 is being picked in batch 1 by Ola Sjef at terminal term-2."
    )
    assert snapshot(bench) == before
    with bench.read() as s:
        assert len(s.exec(select(PickBatch)).all()) == 2
