"""``[pack] pick_at_pack``: pick and pack in one pass at one bench (#16)."""

from __future__ import annotations

import json
from dataclasses import replace

from sqlmodel import col, select

from packbench.core.workflow import Action
from packbench.data.engine import Database
from packbench.data.models import Event, Order, OrderLine
from packbench.operations.common import Actor, change_status
from packbench.operations.pack_claims import open_for_packing
from packbench.operations.pack_views import PackRules
from tests.operations.seed import seed
from tests.operations.test_packstation import KARI, add_boxes

ONE_PASS = replace(PackRules(), pick_at_pack=True)


def slip_printed(db: Database, *order_ids: int) -> None:
    with db.write() as s:
        for oid in order_ids:
            change_status(s, s.get(Order, oid), Action.PRINT_SLIP, Actor("admin", "seed"))  # type: ignore[arg-type]


def status(db: Database, oid: int) -> str:
    with db.read() as s:
        return s.get(Order, oid).status  # type: ignore[union-attr]


def test_a_printed_slip_opens_at_the_pack_bench_only_in_one_pass_mode(db: Database) -> None:
    ids = seed(db)
    add_boxes(db)
    slip_printed(db, ids["first"], ids["second"])
    out = open_for_packing(db, KARI, PackRules(), number="5001", code="ORD-5001")
    assert "not picked yet" in out.message and status(db, ids["first"]) == "slip_printed"

    out = open_for_packing(db, KARI, ONE_PASS, number="5001", code="ORD-5001")
    assert out.ok and "Order 5001 claimed" in out.message, out.message
    assert out.view is not None and out.view.packable and out.view.units_packed == 0
    with db.read() as s:
        order = s.get(Order, ids["first"])
        assert order is not None and order.status == "packing" and order.claimed_by == 1
        lines = s.exec(select(OrderLine).where(OrderLine.order_id == ids["first"])).all()
        assert all(ln.picked_qty == ln.quantity for ln in lines)
        steps = [
            (json.loads(e.data or "{}").get("to"), e.station, e.message)
            for e in s.exec(
                select(Event)
                .where(Event.order_id == ids["first"], Event.kind == "status")
                .order_by(col(Event.id))
            )
        ]
    # The history keeps every step, each by the packer at the pack bench.
    assert [to for to, _, _ in steps[-3:]] == ["picking", "picked", "packing"], steps
    assert all(station == "pack" for _, station, _ in steps[-3:])
    assert "picked at the pack bench" in steps[-2][2]


def test_one_pass_takes_no_order_a_picker_or_the_shop_has(db: Database) -> None:
    ids = seed(db)
    add_boxes(db)
    slip_printed(db, ids["first"], ids["second"])
    with db.write() as s:  # a picker started it
        change_status(s, s.get(Order, ids["first"]), Action.START_PICK, Actor("pick", "p"))  # type: ignore[arg-type]
        s.get(Order, ids["second"]).upstream_flag = "cancelled in the shop"  # type: ignore[union-attr]
    out = open_for_packing(db, KARI, ONE_PASS, number="5001", code="ORD-5001")
    assert "not picked yet" in out.message and status(db, ids["first"]) == "picking"
    out = open_for_packing(db, KARI, ONE_PASS, number="5002", code="ORD-5002")
    assert not out.ok and "changed in the shop" in out.message
    assert status(db, ids["second"]) == "slip_printed"
