from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import col, select

from packbench.core.workflow import Action
from packbench.data.models import Event, Order, OrderLine
from packbench.operations.common import Actor, NotAllowed, Refused, change_status
from packbench.operations.intake import clear_flag, receive_order
from packbench.operations.orders import (
    export_orders,
    list_orders,
    order_detail,
    parcels_awaiting_handover,
    slip_queue,
    status_counts,
)
from tests.operations.seed import order_in, seed

SYSTEM = Actor(station="admin", terminal="sync")


@pytest.fixture
def bench(db):  # type: ignore[no-untyped-def]
    return db, seed(db)


def move(db, order_id: int, *actions: Action) -> None:  # type: ignore[no-untyped-def]
    def run(session):  # type: ignore[no-untyped-def]
        order = session.get(Order, order_id)
        for action in actions:
            change_status(session, order, action, SYSTEM)

    db.transact(run)


def test_overview_filters_and_search(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    move(db, ids["first"], Action.PRINT_SLIP)
    assert [o.number for o in list_orders(db)] == ["5003", "5002", "5001"]
    assert [o.number for o in list_orders(db, statuses=["new"])] == ["5003", "5002"]
    assert [o.number for o in list_orders(db, statuses=["slip_printed"])] == ["5001"]
    assert [o.number for o in list_orders(db, search="tromsø")] == ["5002"]
    assert [o.number for o in list_orders(db, search="Åse")] == ["5002"]
    assert [o.number for o in list_orders(db, search="FJ-TX")] == ["5003", "5002"]
    assert [o.number for o in list_orders(db, search="ullsokker")] == ["5003", "5002"]
    assert list_orders(db, search="nobody-here") == []
    second = next(o for o in list_orders(db) if o.number == "5002")
    assert (second.lines, second.units, second.has_note) == (2, 2, True)


def test_counts_and_the_slip_queue(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    move(db, ids["second"], Action.PRINT_SLIP)
    counts = status_counts(db)
    assert counts["new"] == 2 and counts["slip_printed"] == 1 and counts["packed"] == 0
    assert [o.number for o in slip_queue(db)] == ["5001", "5003"]  # oldest first


def test_detail_has_lines_locations_and_history(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    move(db, ids["second"], Action.PRINT_SLIP, Action.START_PICK)
    detail = order_detail(db, ids["second"])
    assert detail is not None
    assert detail.summary.status == "picking"
    assert [(ln.sku, ln.location, ln.fragile) for ln in detail.lines] == [
        ("FJ-TX-0002", "C-07-2", False),
        ("FJ-KJ-0001", "A-01-1", True),
    ]
    assert detail.customer_note == "Gaveinnpakning, takk!"
    kinds = [(e.kind, e.message) for e in detail.events]
    assert kinds[0] == ("status", "slip_printed → picking")  # newest first
    assert kinds[-1][0] == "intake"
    assert order_detail(db, 424242) is None


def test_illegal_move_is_refused_and_changes_nothing(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    with pytest.raises(Refused, match="Order 5001: an order that is new cannot be shipped"):
        move(db, ids["first"], Action.SHIP)
    with db.read() as s:
        assert s.get(Order, ids["first"]).status == "new"


def test_hold_remembers_where_and_release_goes_back(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    move(db, ids["first"], Action.PRINT_SLIP, Action.START_PICK)

    def hold(session):  # type: ignore[no-untyped-def]
        change_status(
            session,
            session.get(Order, ids["first"]),
            Action.HOLD,
            SYSTEM,
            reason="short pick: 1 of 2",
        )

    db.transact(hold)
    with db.read() as s:
        order = s.get(Order, ids["first"])
        assert (order.status, order.held_from, order.hold_reason) == (
            "on_hold",
            "picking",
            "short pick: 1 of 2",
        )
    move(db, ids["first"], Action.RELEASE)
    with db.read() as s:
        order = s.get(Order, ids["first"])
        assert (order.status, order.held_from, order.hold_reason) == ("picking", None, None)


def test_export_has_the_promised_shape(bench) -> None:  # type: ignore[no-untyped-def]
    db, _ = bench
    rows = export_orders(db)
    assert [r["number"] for r in rows] == ["5001", "5002", "5003"]
    row = rows[1]
    assert row["shop_order_id"] == 5002 and row["status"] == "new"
    assert row["shipping"]["name"] == "Åse Kværner"
    for key in ("name", "address1", "postcode", "city", "country"):
        assert key in row["shipping"]
    assert row["lines"][0] == {
        **row["lines"][0],
        "sku": "FJ-TX-0002",
        "quantity": 1,
        "name": "Ullsokker 3-pk",
    }
    assert rows[2]["parcels"][0]["carrier"] == "Posten"
    assert [r["number"] for r in export_orders(db, statuses=["new"])] == ["5001", "5002", "5003"]


def test_parcels_waiting_for_the_carrier(bench) -> None:  # type: ignore[no-untyped-def]
    db, _ = bench
    waiting = parcels_awaiting_handover(db)
    assert [(w.order_number, w.carrier) for w in waiting] == [("5003", "Posten")]


def test_intake_is_idempotent_and_ignores_stale_updates(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    with db.write() as s:
        again = receive_order(s, SYSTEM, order_in(5001, ("FJ-KJ-0001", 2)))
    assert (again.order_id, again.created, again.changed) == (ids["first"], False, False)


def test_intake_updates_an_untouched_order_in_place(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    newer = order_in(
        5001, ("FJ-KJ-0001", 1), ("FJ-TX-0002", 4), minutes=60, ship_address1="Nye gate 2"
    )
    with db.write() as s:
        res = receive_order(s, SYSTEM, newer)
    assert res.changed and res.flagged is None
    with db.read() as s:
        lines = s.exec(
            select(OrderLine)
            .where(OrderLine.order_id == ids["first"])
            .order_by(col(OrderLine.line_no))
        ).all()
        assert [(ln.sku, ln.quantity) for ln in lines] == [("FJ-KJ-0001", 1), ("FJ-TX-0002", 4)]
        assert s.get(Order, ids["first"]).ship_address1 == "Nye gate 2"


def test_intake_flags_changes_after_picking_started_and_keeps_the_work(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    move(db, ids["first"], Action.PRINT_SLIP, Action.START_PICK)
    with db.write() as s:
        line = s.exec(select(OrderLine).where(OrderLine.order_id == ids["first"])).one()
        line.picked_qty = 1
        s.add(line)
    with db.write() as s:
        res = receive_order(s, SYSTEM, order_in(5001, ("FJ-KJ-0001", 5), minutes=60))
    assert res.flagged == "lines changed in the shop after picking started"
    with db.read() as s:
        order = s.get(Order, ids["first"])
        line = s.exec(select(OrderLine).where(OrderLine.order_id == ids["first"])).one()
        assert order.status == "picking" and order.upstream_flag
        assert (line.quantity, line.picked_qty) == (2, 1)  # the bench's work is untouched
        last = s.exec(select(Event).order_by(col(Event.id).desc())).first()
        assert "flagged" in last.message


def test_a_cancellation_before_work_started_cancels(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    cancelled = replace(
        order_in(5002, ("FJ-TX-0002", 1), ("FJ-KJ-0001", 1), minutes=60), cancelled=True
    )
    with db.write() as s:
        res = receive_order(s, SYSTEM, cancelled)
    assert res.flagged is None
    with db.read() as s:
        assert s.get(Order, ids["second"]).status == "cancelled"


def test_a_cancellation_after_picking_started_is_flagged_for_a_person(bench) -> None:  # type: ignore[no-untyped-def]
    db, ids = bench
    move(db, ids["second"], Action.PRINT_SLIP, Action.START_PICK)
    cancelled = replace(
        order_in(5002, ("FJ-TX-0002", 1), ("FJ-KJ-0001", 1), minutes=60), cancelled=True
    )
    with db.write() as s:
        res = receive_order(s, SYSTEM, cancelled)
    assert res.flagged == "cancelled in the shop"
    with db.read() as s:
        assert s.get(Order, ids["second"]).status == "picking"
    packer = Actor("admin", "t", 1, "Kari Nordmann", "packer")
    with pytest.raises(NotAllowed):
        clear_flag(db, packer, ids["second"], "ship it")
    boss = Actor("admin", "t", 2, "Ola Sjef", "supervisor")
    with pytest.raises(Refused, match="Say what"):
        clear_flag(db, boss, ids["second"], "  ")
    clear_flag(db, boss, ids["second"], "customer wants it after all")
    detail = order_detail(db, ids["second"])
    assert detail is not None and detail.summary.flag is None
    assert "customer wants it after all" in detail.events[0].message
