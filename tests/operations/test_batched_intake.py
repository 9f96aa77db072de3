"""The batched intake (a page in a few statements) writes exactly the rows the one-by-one
intake writes, refusals and duplicate numbers included (issue #18)."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, update
from sqlmodel import col, select

from packbench.data.demo_catalogue import generate
from packbench.data.engine import Database
from packbench.data.models import Event, Order, OrderLine, SyncState
from packbench.operations.common import Actor
from packbench.operations.demo import _order_in
from packbench.operations.intake import LineIn, OrderIn, ProductIn, receive_order
from packbench.operations.sync_products import apply_product_page
from packbench.operations.syncing import apply_order_page

ACTOR = Actor("sync", "t1")


def page() -> list[OrderIn]:
    data = generate(seed=3, n_orders=60)
    orders = [_order_in(o) for o in data.orders]
    first = orders[0]
    # Unusual but real: a line without SKU (matched by product id), a duplicate number, an
    # order whose number and id are both taken, a field too long for its column.
    by_id = dataclasses.replace(
        first.lines[0], sku="", shop_product_id=data.products[0].shop_product_id
    )
    orders[1] = dataclasses.replace(orders[1], lines=(by_id, LineIn("NO-SUCH", "Gift", 1)))
    orders[2] = dataclasses.replace(orders[2], number=first.number)
    orders[3] = dataclasses.replace(orders[3], number="999999")
    orders[4] = dataclasses.replace(orders[4], number=first.number, shop_order_id=999999)
    orders[5] = dataclasses.replace(orders[5], ship_city="x" * 500)
    return orders


def snapshot(db: Database) -> dict[str, Any]:
    def plain(row: Any, *skip: str) -> dict[str, Any]:
        return {k: v for k, v in row.model_dump().items() if k not in ("id", *skip)}

    with db.read() as s:
        shop_id = dict(s.exec(select(Order.id, Order.shop_order_id)).all())
        orders = sorted(
            (plain(o, "updated_at") for o in s.exec(select(Order))),
            key=lambda o: o["shop_order_id"],
        )
        lines = sorted(
            (
                {**plain(ln, "order_id"), "order": shop_id[ln.order_id]}
                for ln in s.exec(select(OrderLine))
            ),
            key=lambda ln: (ln["order"], ln["line_no"]),
        )
        events = sorted(
            (
                {**plain(e, "at"), "order_id": shop_id.get(e.order_id)}
                for e in s.exec(select(Event))
            ),
            key=lambda e: (str(e["order_id"]), e["message"]),
        )
        problems = sorted(
            (r.key, r.value) for r in s.exec(select(SyncState)) if r.key.startswith("problem.")
        )
    return {"orders": orders, "lines": lines, "events": events, "problems": problems}


def products() -> list[ProductIn]:
    data = generate(seed=3, n_orders=60)
    return [
        ProductIn(
            p.shop_product_id, p.sku, p.gtin, p.name, p.length_mm, p.width_mm, p.height_mm,
            p.weight_g, None, p.price_ore,
        )
        for p in data.products
    ]  # fmt: skip


#: Where the bench's work stands before the second page: (index in the page, status).
WORK = {1: "picking", 10: "picking", 11: "packed", 12: "slip_printed", 14: "picking"}


def second_page(orders: list[OrderIn]) -> list[OrderIn]:
    """The shop's next look at some of the orders: every kind of change the intake knows."""
    later = timedelta(hours=1)

    def changed(i: int, **kw: Any) -> OrderIn:
        o = orders[i]
        assert o.modified_at is not None
        return dataclasses.replace(o, modified_at=o.modified_at + later, **kw)

    def more(o: OrderIn) -> tuple[LineIn, ...]:
        return (dataclasses.replace(o.lines[0], quantity=o.lines[0].quantity + 1), *o.lines[1:])

    fresh = _order_in(generate(seed=5, n_orders=1).orders[0])
    return [
        changed(1),  # the line without SKU is the same line: no flag although picking started
        changed(6, ship_city="Tromsø"),  # the address only
        changed(7, lines=more(orders[7])),  # new: the lines follow the shop
        orders[8],  # re-read, not newer: nothing written
        changed(9),  # newer, nothing else: an update all the same
        changed(10, lines=more(orders[10])),  # picking: flagged, lines kept
        changed(11, cancelled=True),  # packed: flagged
        changed(12, cancelled=True),  # slip printed: cancelled through the state machine
        changed(14, cancelled=True),  # picking: flagged
        changed(15, ship_name="y" * 300),  # too long: refused, the order stays as it was
        dataclasses.replace(fresh, shop_order_id=777001, number="777001"),
    ]


def set_work(db: Database, orders: list[OrderIn]) -> None:
    with db.write() as s:
        for i, status in WORK.items():
            s.execute(
                update(Order)
                .where(col(Order.shop_order_id) == orders[i].shop_order_id)
                .values(status=status)
            )


def test_batched_and_one_by_one_give_the_same_rows(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Two pages — new orders with every oddity, then every kind of change — written by the
    page intake and, on an emptied database, by the old intake (``receive_order``, one
    savepoint an order): the same orders, lines, events and sync problems."""
    apply_product_page(db, ACTOR, products(), final=True)
    data = generate(seed=3, n_orders=60)
    orders = page()
    changes = second_page(orders)

    with caplog.at_level(logging.INFO, logger="packbench.operations.syncing"):
        result = apply_order_page(db, ACTOR, orders, cursor_key="c")
        assert (result.created, result.refused) == (len(orders) - 2, 2)
        set_work(db, orders)
        second = apply_order_page(db, ACTOR, changes, cursor_key="c")
    assert "order by order" not in caplog.text  # the page intake itself wrote both pages
    assert (second.created, second.changed, second.flagged, second.refused) == (1, 8, 3, 1)
    batched = snapshot(db)

    with db.write() as s:
        for table in (Event, OrderLine, Order):
            s.execute(delete(table))
        s.execute(delete(SyncState))
    refused = []
    for n, this in enumerate((orders, changes)):
        with db.write() as s:
            for incoming in this:
                try:
                    with s.begin_nested():
                        receive_order(s, ACTOR, incoming)
                except Exception:
                    refused.append(incoming.shop_order_id)
        if n == 0:
            set_work(db, orders)
    assert len(refused) == 3
    one_by_one = snapshot(db)
    assert batched["orders"] == one_by_one["orders"]
    assert batched["lines"] == one_by_one["lines"]
    assert [e for e in batched["events"] if e["kind"] != "sync"] == [
        e for e in one_by_one["events"] if e["kind"] != "sync"
    ]

    by_shop = {o["shop_order_id"]: o for o in batched["orders"]}
    assert by_shop[orders[6].shop_order_id]["ship_city"] == "Tromsø"
    assert by_shop[orders[1].shop_order_id]["upstream_flag"] is None
    assert by_shop[orders[10].shop_order_id]["upstream_flag"] == (
        "lines changed in the shop after picking started"
    )
    assert by_shop[orders[11].shop_order_id]["upstream_flag"] == "cancelled in the shop"
    assert by_shop[orders[11].shop_order_id]["status"] == "packed"
    assert by_shop[orders[12].shop_order_id]["status"] == "cancelled"
    assert by_shop[orders[15].shop_order_id]["ship_name"] == orders[15].ship_name
    # The line without SKU found its product by id; the unknown SKU has none.
    lines = [ln for ln in batched["lines"] if ln["order"] == orders[1].shop_order_id]
    assert lines[0]["product_id"] is not None and lines[0]["sku"] == data.products[0].sku
    assert lines[1]["product_id"] is None and lines[1]["sku"] == "NO-SUCH"
    relined = [ln for ln in batched["lines"] if ln["order"] == orders[7].shop_order_id]
    assert relined[0]["quantity"] == orders[7].lines[0].quantity + 1
    kept = [ln for ln in batched["lines"] if ln["order"] == orders[10].shop_order_id]
    assert kept[0]["quantity"] == orders[10].lines[0].quantity
    # Both pages again are a re-read: nothing written (the refused ones are refused again).
    for this in (orders, changes):
        again = apply_order_page(db, ACTOR, this, cursor_key="c")
        assert (again.created, again.changed, again.refused) == (0, 0, len(this) - again.pulled)
    after = snapshot(db)
    assert (after["orders"], after["lines"]) == (one_by_one["orders"], one_by_one["lines"])
    assert [e for e in after["events"] if e["kind"] != "sync"] == [
        e for e in one_by_one["events"] if e["kind"] != "sync"
    ]


def test_a_row_the_database_refuses_is_found_and_refused_alone(db: Database) -> None:
    """Whatever the checks before the batch miss (here a quantity of None, NOT NULL in the
    database), the page is written again order by order and only that order is refused."""
    orders = [_order_in(o) for o in generate(seed=4, n_orders=20).orders]
    broken = dataclasses.replace(orders[7].lines[0], quantity=None)  # type: ignore[arg-type]
    orders[7] = dataclasses.replace(orders[7], lines=(broken,))
    result = apply_order_page(db, ACTOR, orders, cursor_key="c")
    assert (result.created, result.refused) == (len(orders) - 1, 1)
    with db.read() as s:
        taken = set(s.exec(select(Order.shop_order_id)).all())
        problem = s.get(SyncState, f"problem.order.{orders[7].shop_order_id}")
    assert taken == {o.shop_order_id for o in orders} - {orders[7].shop_order_id}
    assert problem is not None and "could not be taken: the database refused it" in problem.value


def test_a_page_is_a_handful_of_statements_and_no_savepoint(db: Database) -> None:
    """However many orders a page has, the intake writes it in the same few statements
    (no statement an order, no savepoint): the cursor, the problems and the known orders
    read once, the numbers and the products looked up once, one insert a table."""
    apply_product_page(db, ACTOR, products(), final=True)
    orders = [_order_in(o) for o in generate(seed=3, n_orders=60).orders]
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        for part in (orders[:10], orders[10:]):
            statements.clear()
            result = apply_order_page(db, ACTOR, part, cursor_key="c")
            assert result.created == len(part)
            assert "SAVEPOINT" not in statements
            assert len(statements) <= 12, statements
        # The shop changed every order of the second part: one update, still no savepoint.
        later = [
            dataclasses.replace(o, modified_at=o.modified_at + timedelta(hours=1), ship_city="Bø")
            for o in orders[10:]
            if o.modified_at is not None
        ]
        statements.clear()
        result = apply_order_page(db, ACTOR, later, cursor_key="c")
        assert result.changed == len(later)
        assert "SAVEPOINT" not in statements and len(statements) <= 12, statements
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
